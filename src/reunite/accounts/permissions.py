"""Role × jurisdiction: the one place that says who may do what, where.

A user acts for one organisation placed at one division.  The user may act on a record when the
role grants the action *and* the record's jurisdiction lies in the organisation's subtree: a
county unit sees its own county, a province unit its whole province, the ministry the nation.
"""

from __future__ import annotations

import enum

from django.db.models import Q

from reunite.accounts.models import Division, Role, User


class Action(enum.StrEnum):
    VIEW_MISSING = "view_missing"
    EDIT_MISSING = "edit_missing"
    VIEW_FOUND = "view_found"
    EDIT_FOUND = "edit_found"
    VIEW_CASE = "view_case"
    EDIT_CASE = "edit_case"
    VIEW_AUDIT = "view_audit"
    VIEW_STATISTICS = "view_statistics"
    MANAGE_ACCOUNTS = "manage_accounts"
    # alerts (reunite.alerts): rapid-search alerts
    VIEW_ALERT = "view_alert"
    DRAFT_ALERT = "draft_alert"
    RELEASE_ALERT = "release_alert"
    APPROVE_NATIONAL_ALERT = "approve_national_alert"
    # notify (reunite.notify): partner webhook endpoints, media, dead letters
    MANAGE_NOTIFY = "manage_notify"
    # dna (reunite.dna): samples, consent, custody, profiles, imports
    VIEW_DNA = "view_dna"
    COLLECT_DNA = "collect_dna"
    EDIT_DNA = "edit_dna"
    VIEW_GENOTYPES = "view_genotypes"
    # dna matching (reunite.dna): candidates, reviews, comparison runs, match reports
    VIEW_MATCHES = "view_matches"
    REVIEW_MATCHES = "review_matches"
    RUN_COMPARISON = "run_comparison"
    VIEW_MATCH_REPORT = "view_match_report"


_PARTNER = frozenset({Action.VIEW_FOUND, Action.EDIT_FOUND, Action.VIEW_STATISTICS})

ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.INVESTIGATOR: frozenset(
        {
            Action.VIEW_MISSING,
            Action.EDIT_MISSING,
            Action.VIEW_FOUND,
            Action.EDIT_FOUND,
            Action.VIEW_CASE,
            Action.EDIT_CASE,
            Action.VIEW_STATISTICS,
        }
    ),
    Role.DNA_TECHNICIAN: frozenset(
        {Action.VIEW_MISSING, Action.VIEW_FOUND, Action.VIEW_CASE, Action.VIEW_STATISTICS}
    ),
    Role.SUPERVISOR: frozenset(
        {
            Action.VIEW_MISSING,
            Action.VIEW_FOUND,
            Action.VIEW_CASE,
            Action.EDIT_CASE,
            Action.VIEW_AUDIT,
            Action.VIEW_STATISTICS,
        }
    ),
    Role.PARTNER_CIVIL_AFFAIRS: _PARTNER,
    Role.PARTNER_HEALTH: _PARTNER,
    Role.PARTNER_WOMENS_FEDERATION: _PARTNER,
    Role.PARTNER_WELFARE: _PARTNER,
    Role.ADMINISTRATOR: frozenset(
        {Action.MANAGE_ACCOUNTS, Action.VIEW_AUDIT, Action.VIEW_STATISTICS}
    ),
}


# alerts (reunite.alerts): investigators see and draft alerts; supervisors are the duty officers
# who release them (from a unit at county level or above, checked in alerts.services) and give
# the second approval a national alert needs (province level or above).
ROLE_ACTIONS[Role.INVESTIGATOR] |= {Action.VIEW_ALERT, Action.DRAFT_ALERT}
ROLE_ACTIONS[Role.SUPERVISOR] |= {
    Action.VIEW_ALERT,
    Action.DRAFT_ALERT,
    Action.RELEASE_ALERT,
    Action.APPROVE_NATIONAL_ALERT,
}


# notify (reunite.notify): administrators register partners and media and handle dead letters.
ROLE_ACTIONS[Role.ADMINISTRATOR] |= {Action.MANAGE_NOTIFY}


# dna (reunite.dna): VIEW_DNA shows samples, consent, custody and profile metadata (never
# alleles); COLLECT_DNA registers family members and samples, hands samples over and records or
# withdraws consent; EDIT_DNA is laboratory work (receive, store, type, destroy, import, QC);
# VIEW_GENOTYPES reads a profile's alleles (audited).  Investigators collect and follow samples
# of their jurisdiction but never read genotypes; supervisors read them, they do no lab work.
ROLE_ACTIONS[Role.INVESTIGATOR] |= {Action.VIEW_DNA, Action.COLLECT_DNA}
ROLE_ACTIONS[Role.DNA_TECHNICIAN] |= {
    Action.VIEW_DNA,
    Action.COLLECT_DNA,
    Action.EDIT_DNA,
    Action.VIEW_GENOTYPES,
}
ROLE_ACTIONS[Role.SUPERVISOR] |= {Action.VIEW_DNA, Action.VIEW_GENOTYPES}


# dna matching (reunite.dna): DNA technicians and supervisors see the candidates of their
# jurisdiction (the family's or the unidentified person's), review them (two different analysts
# confirm) and read match reports (the one place reference genotypes are shown); supervisors
# start a comparison battle over the whole database.
ROLE_ACTIONS[Role.DNA_TECHNICIAN] |= {
    Action.VIEW_MATCHES,
    Action.REVIEW_MATCHES,
    Action.VIEW_MATCH_REPORT,
}
ROLE_ACTIONS[Role.SUPERVISOR] |= {
    Action.VIEW_MATCHES,
    Action.REVIEW_MATCHES,
    Action.RUN_COMPARISON,
    Action.VIEW_MATCH_REPORT,
}


def role_allows(user: User, action: Action) -> bool:
    """Whether the user's role grants ``action`` somewhere (jurisdiction not yet considered)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return action in ROLE_ACTIONS.get(user.role, frozenset())


def can(user: User, action: Action, division: Division | None = None) -> bool:
    """Whether ``user`` may perform ``action`` on a record held in ``division``.

    With ``division=None`` the question is whether the role grants the action at all.
    """
    if not role_allows(user, action):
        return False
    home = user.jurisdiction
    if home is None:
        return False
    return division is None or division.path.startswith(home.path)


def scope_q(user: User, action: Action, *, field: str = "division") -> Q:
    """A filter limiting a queryset to the records ``user`` may ``action``.

    ``field`` names the record's jurisdiction foreign key to a ``Division``.
    """
    home = user.jurisdiction
    if not role_allows(user, action) or home is None:
        return Q(pk__in=[])
    return Q(**{f"{field}__path__startswith": home.path})
