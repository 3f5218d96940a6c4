"""Review of candidates to a confirmed identification.

Lifecycle (one arm per transition, :data:`TRANSITIONS`)::

    candidate ──confirm (analyst 1)──▶ under_review ──confirm (analyst 2 ≠ 1)──▶ confirmed
        │                                   │
        └───────────reject──────────────────┴──▶ rejected

Two *different* analysts (DNA technicians or supervisors with ``REVIEW_MATCHES`` over the
family's or the unidentified person's jurisdiction) must confirm; the same analyst a second time
is refused (and a database constraint backs the rule).  One reasoned rejection settles a
candidate.  Confirmation opens the reunion step on the missing report's case (a timeline event)
and, after commit, e-mails the investigators of the case and of its owning unit — no names, no
DNA, only record ids and a link.

Jurisdiction of a candidate: the family's division *or* the unidentified person's (a child
missing in one province is often found in another; both sides' laboratories work on it).
Every read of the queue and of a candidate is audited.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from reunite.accounts.models import Division, Role, User
from reunite.accounts.permissions import Action, can, role_allows
from reunite.audit.models import AuditAction
from reunite.audit.services import record
from reunite.core.errors import AccessDenied, DomainError, NotFound, ValidationFailed
from reunite.dna.models import (
    Candidate,
    CandidateReview,
    CandidateStatus,
    FamilyMember,
    HypothesisKind,
    KinRelationship,
    Profile,
    ReviewDecision,
)

log = logging.getLogger(__name__)

CANDIDATE_TYPE = "dna_candidate"
MAX_NOTE = 2000
CONFIRMATIONS_NEEDED = 2
#: Statuses still waiting for a decision (the queue's default).
OPEN_STATUSES = (CandidateStatus.CANDIDATE, CandidateStatus.UNDER_REVIEW)

#: (status now, decision) → status after; anything else is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (CandidateStatus.CANDIDATE, ReviewDecision.CONFIRM): CandidateStatus.UNDER_REVIEW,
    (CandidateStatus.UNDER_REVIEW, ReviewDecision.CONFIRM): CandidateStatus.CONFIRMED,
    (CandidateStatus.CANDIDATE, ReviewDecision.REJECT): CandidateStatus.REJECTED,
    (CandidateStatus.UNDER_REVIEW, ReviewDecision.REJECT): CandidateStatus.REJECTED,
}


class SameAnalyst(DomainError):
    """The second confirmation came from the analyst who gave the first."""

    status_code = 409


class CandidateClosed(DomainError):
    """The candidate is already confirmed or rejected."""

    status_code = 409


# --------------------------------------------------------------------------- access


def deny(acting_user: User, action: Action, candidate_id: object = "") -> AccessDenied:
    """Audit a refusal of ``action`` and return the error to raise."""
    record(
        actor=acting_user,
        action=AuditAction.DENIED,
        object_type=CANDIDATE_TYPE,
        object_id=candidate_id,
        details={"wanted": str(action)},
    )
    return AccessDenied(_("You may not do this for this jurisdiction."))


def may_act_on(user: User, action: Action, candidate: Candidate) -> bool:
    """``action`` allowed over the family's or the unidentified person's jurisdiction."""
    return can(user, action, candidate.family_division) or can(
        user, action, candidate.unidentified_division
    )


def scope(user: User, action: Action) -> Q:
    """Candidates whose family or unidentified person lies in the user's jurisdiction."""
    home = user.jurisdiction
    if not role_allows(user, action) or home is None:
        return Q(pk__in=[])
    return Q(family_division__path__startswith=home.path) | Q(
        unidentified_division__path__startswith=home.path
    )


def _queryset() -> QuerySet[Candidate]:
    return Candidate.objects.select_related(
        "report__division",
        "profile__sample__division",
        "profile__sample__found_person",
        "family_division",
        "unidentified_division",
        "run",
    )


def get_candidate(
    *,
    acting_user: User,
    candidate_id: int,
    action: Action = Action.VIEW_MATCHES,
    audit: bool = True,
) -> Candidate:
    """One candidate (audited read); ``NotFound`` / ``AccessDenied`` (audited)."""
    candidate = _queryset().filter(pk=candidate_id).first()
    if candidate is None:
        raise NotFound(_("No such candidate."))
    if not may_act_on(acting_user, action, candidate):
        raise deny(acting_user, action, candidate_id)
    if audit:
        record(
            actor=acting_user,
            action=AuditAction.READ,
            object_type=CANDIDATE_TYPE,
            object_id=candidate.pk,
        )
    return candidate


@dataclass(frozen=True)
class ReferenceView:
    """A typed relative of the family: pedigree code, relationship (translated), pseudonym."""

    code: str
    relationship: str
    pseudonym: str | None


@dataclass(frozen=True)
class CandidateView:
    """What a reader of one candidate sees besides its own fields (never an allele): the
    family's typed relatives, the reviews so far, whether the unidentified profile is still
    searchable, and what the reader may do with it."""

    candidate: Candidate
    references: list[ReferenceView]
    reviews: list[CandidateReview]
    searchable: bool
    may_review: bool
    already_reviewed: bool
    may_report: bool


def candidate_view(*, acting_user: User, candidate: Candidate) -> CandidateView:
    """The view of ``candidate`` (read through :func:`get_candidate`, which audits it) for
    ``acting_user``."""
    refs = {str(code): int(pk) for code, pk in candidate.references.items()}
    pseudonyms = dict(Profile.objects.filter(pk__in=refs.values()).values_list("pk", "pseudonym"))
    members = {
        m.code: str(KinRelationship(m.relationship).label)
        for m in FamilyMember.objects.filter(report_id=candidate.report_id)
    }
    reviews = list(candidate.reviews.select_related("analyst__organisation").order_by("at", "pk"))
    already = any(r.analyst_id == acting_user.pk for r in reviews)
    return CandidateView(
        candidate=candidate,
        references=[
            ReferenceView(
                code=code, relationship=members.get(code, code), pseudonym=pseudonyms.get(pk)
            )
            for code, pk in sorted(refs.items())
        ],
        reviews=reviews,
        searchable=Profile.objects.searchable().filter(pk=candidate.profile_id).exists(),
        may_review=candidate.status in OPEN_STATUSES
        and not already
        and may_act_on(acting_user, Action.REVIEW_MATCHES, candidate),
        already_reviewed=already,
        may_report=candidate.status == CandidateStatus.CONFIRMED
        and may_act_on(acting_user, Action.VIEW_MATCH_REPORT, candidate),
    )


# --------------------------------------------------------------------------- the queue


@dataclass
class CandidateFilters:
    """``status``, ``kind`` (:class:`HypothesisKind`), ``division`` (a division code: either
    side in it), ``min_lr`` (LR, not log10); empty means any."""

    status: str = ""
    kind: str = ""
    division: str = ""
    min_lr: float | None = None


def candidate_queue(*, acting_user: User, filters: CandidateFilters) -> QuerySet[Candidate]:
    """Candidates of the user's jurisdiction, highest LR first (the search is audited)."""
    if not role_allows(acting_user, Action.VIEW_MATCHES):
        raise deny(acting_user, Action.VIEW_MATCHES)
    errors: dict[str, list[str]] = {}
    if filters.status and filters.status not in CandidateStatus.values:
        errors["status"] = [_("Not a valid choice.")]
    if filters.kind and filters.kind not in HypothesisKind.values:
        errors["kind"] = [_("Not a valid choice.")]
    division: Division | None = None
    if filters.division:
        division = Division.objects.filter(code=filters.division).first()
        if division is None:
            errors["division"] = [_("No such division.")]
    if filters.min_lr is not None and (
        not math.isfinite(filters.min_lr) or filters.min_lr <= 0 or filters.min_lr > 1e300
    ):
        errors["min_lr"] = [_("Enter a positive number.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), field_errors=errors)
    qs = _queryset().filter(scope(acting_user, Action.VIEW_MATCHES))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(hypothesis_kind=filters.kind)
    if division is not None:
        qs = qs.filter(
            Q(family_division__path__startswith=division.path)
            | Q(unidentified_division__path__startswith=division.path)
        )
    if filters.min_lr is not None:
        qs = qs.filter(log10_lr__gte=math.log10(filters.min_lr))
    record(
        actor=acting_user,
        action=AuditAction.SEARCH,
        object_type=CANDIDATE_TYPE,
        details={"filters": sorted(k for k, v in vars(filters).items() if v not in ("", None))},
    )
    return qs.order_by("-log10_lr", "pk")


# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class ReviewOutcome:
    candidate: Candidate
    review: CandidateReview
    confirmed: bool


def _check_note(note: str) -> str:
    text = note.strip()
    if not text:
        msg = _("Say why: a note is required.")
        raise ValidationFailed(msg, field_errors={"note": [msg]})
    if len(text) > MAX_NOTE or "\x00" in text:
        msg = _("At most %(n)d characters, no NUL characters.") % {"n": MAX_NOTE}
        raise ValidationFailed(msg, field_errors={"note": [msg]})
    return text


def review_candidate(
    *, acting_user: User, candidate_id: int, decision: str, note: str
) -> ReviewOutcome:
    """Record one analyst's decision (validate, then act in one transaction; audited).

    Raises ``ValidationFailed`` (bad decision or note; the unidentified profile no longer
    searchable), :class:`SameAnalyst` (this analyst already decided on it),
    :class:`CandidateClosed` (already confirmed or rejected), ``AccessDenied``/``NotFound``.
    """
    found = get_candidate(
        acting_user=acting_user,
        candidate_id=candidate_id,
        action=Action.REVIEW_MATCHES,
        audit=False,
    )
    if decision not in ReviewDecision.values:
        msg = _("Not a valid choice.")
        raise ValidationFailed(msg, field_errors={"decision": [msg]})
    text = _check_note(note)
    with transaction.atomic():
        candidate = Candidate.objects.select_for_update().get(pk=found.pk)
        after = TRANSITIONS.get((candidate.status, decision))
        if after is None:
            raise CandidateClosed(
                _("This candidate is already %(status)s; nothing more can be decided.")
                % {"status": CandidateStatus(candidate.status).label}
            )
        if candidate.reviews.filter(analyst=acting_user).exists():
            raise SameAnalyst(
                _(
                    "You have already reviewed this candidate. The second confirmation must "
                    "come from a different analyst."
                )
            )
        if decision == ReviewDecision.CONFIRM and not (
            Profile.objects.searchable().filter(pk=candidate.profile_id).exists()
        ):
            msg = _(
                "The unidentified profile is no longer searchable (consent withdrawn, sample "
                "destroyed or QC changed): it cannot be confirmed."
            )
            raise ValidationFailed(msg, field_errors={"decision": [msg]})
        now = timezone.now()
        try:
            with transaction.atomic():
                review = CandidateReview.objects.create(
                    candidate=candidate, analyst=acting_user, decision=decision, note=text, at=now
                )
        except IntegrityError:  # pragma: no cover - the row lock above serialises reviewers
            raise SameAnalyst(_("You have already reviewed this candidate.")) from None
        previous = candidate.status
        candidate.status = after
        fields = ["status"]
        if after in (CandidateStatus.CONFIRMED, CandidateStatus.REJECTED):
            candidate.decided_at = now
            fields.append("decided_at")
        confirmed = after == CandidateStatus.CONFIRMED
        if confirmed:
            _open_reunion(candidate, acting_user, now)
            fields.append("reunion_opened_at")
        candidate.save(update_fields=fields)
        record(
            actor=acting_user,
            action=AuditAction.UPDATE,
            object_type=CANDIDATE_TYPE,
            object_id=candidate.pk,
            details={"decision": decision, "from": previous, "to": after, "note": True},
        )
        if confirmed:
            pk = candidate.pk
            transaction.on_commit(lambda: notify_investigators(pk))
    return ReviewOutcome(candidate=candidate, review=review, confirmed=confirmed)


def confirmations(candidate: Candidate) -> list[CandidateReview]:
    return list(
        candidate.reviews.filter(decision=ReviewDecision.CONFIRM)
        .select_related("analyst__organisation")
        .order_by("at", "pk")
    )


# --------------------------------------------------------------------------- reunion


def _open_reunion(candidate: Candidate, acting_user: User, now: dt.datetime) -> None:
    """The reunion step on the report's case: an "identified by DNA" timeline event naming the
    identification (record ids and the LR only)."""
    from reunite.cases.models import Case, CaseEventKind
    from reunite.cases.services import add_event

    candidate.reunion_opened_at = now
    case = Case.objects.filter(missing_report_id=candidate.report_id).first()
    if case is None:
        return
    found = candidate.profile.sample.found_person_id
    add_event(
        case=case,
        kind=CaseEventKind.IDENTIFIED,
        acting_user=acting_user,
        summary=_(
            "DNA identification confirmed by two analysts (candidate C-%(candidate)s, "
            "UP-%(found)s, LR %(lr).3g): reunion step opened — verify the identity, hear the "
            "person's own wish, plan resettlement and care."
        )
        % {"candidate": candidate.pk, "found": found, "lr": candidate.lr},
    )


def _recipients(candidate: Candidate) -> list[User]:
    from reunite.cases.models import Case

    case = Case.objects.filter(missing_report_id=candidate.report_id).first()
    users: dict[int, User] = {}
    if case is not None:
        for user in case.investigators.filter(is_active=True):
            users[user.pk] = user
        for user in User.objects.filter(
            organisation_id=case.owning_unit_id, role=Role.INVESTIGATOR, is_active=True
        ):
            users[user.pk] = user
    return [u for u in users.values() if u.email]


def notify_investigators(candidate_id: int) -> int:
    """E-mail the investigators of the case (and of its owning unit) that the identification is
    confirmed: record ids and a link only.  Returns how many were sent; a failure is logged and
    audited, never raised (the confirmation stands)."""
    candidate = Candidate.objects.select_related("report").filter(pk=candidate_id).first()
    if candidate is None:  # pragma: no cover - deleted in between
        return 0
    recipients = _recipients(candidate)
    base = str(getattr(settings, "NOTIFY_PUBLIC_BASE_URL", "")).rstrip("/")
    link = base + reverse("dna:candidate_detail", args=[candidate.pk])
    subject = _("DNA identification confirmed for missing report MP-%(report)s") % {
        "report": candidate.report_id
    }
    body = _(
        "Two analysts confirmed a DNA identification for missing report MP-%(report)s "
        "(candidate C-%(candidate)s). The reunion step is open on the case.\n\n%(link)s\n"
    ) % {"report": candidate.report_id, "candidate": candidate.pk, "link": link}
    sent = 0
    try:
        with get_connection() as mail:
            for user in recipients:
                message = EmailMessage(
                    subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], connection=mail
                )
                sent += message.send()
    except Exception as exc:  # the mail server is down: logged and audited
        log.warning("candidate %s: notification failed (%s)", candidate_id, type(exc).__name__)
        record(
            actor=None,
            action=AuditAction.UPDATE,
            object_type=CANDIDATE_TYPE,
            object_id=candidate_id,
            details={"notified": sent, "error": type(exc).__name__},
        )
    else:
        record(
            actor=None,
            action=AuditAction.UPDATE,
            object_type=CANDIDATE_TYPE,
            object_id=candidate_id,
            details={"notified": sent},
        )
    Candidate.objects.filter(pk=candidate_id).update(notified=sent)
    return sent
