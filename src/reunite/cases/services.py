"""Opening cases and writing their timelines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from reunite.accounts.models import User
from reunite.accounts.permissions import Action, can, role_allows, scope_q
from reunite.audit.models import AuditAction
from reunite.audit.services import record
from reunite.cases.models import Case, CaseEvent, CaseEventKind, CaseStatus, CaseType
from reunite.core.errors import AccessDenied, NotFound, ValidationFailed
from reunite.people.models import MissingPersonReport


def open_case_for_report(*, report: MissingPersonReport, acting_user: User) -> Case:
    """Every missing report opens exactly one case, owned by the report's unit."""
    with transaction.atomic():
        now = timezone.now()
        case = Case.objects.create(
            number=f"tmp-{report.public_id.hex[:24]}",
            case_type=CaseType.MISSING_PERSON,
            status=CaseStatus.OPEN,
            owning_unit=report.owning_unit,
            division=report.division,
            missing_report=report,
            opened_at=now,
        )
        case.number = f"{report.division.code[:6]}-{now:%Y}-{case.pk:07d}"
        case.save(update_fields=["number"])
        if acting_user.role == "investigator":
            case.investigators.add(acting_user)
        CaseEvent.objects.create(
            case=case,
            at=now,
            kind=CaseEventKind.OPENED,
            actor=acting_user,
            summary=f"MP-{report.pk}",
        )
        record(actor=acting_user, action=AuditAction.CREATE, object_type="case", object_id=case.pk)
    return case


def add_event(
    *, case: Case, kind: CaseEventKind, acting_user: User | None, summary: str
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, at=timezone.now(), kind=kind, actor=acting_user, summary=summary
    )


def visible_cases(*, acting_user: User) -> QuerySet[Case]:
    return Case.objects.filter(scope_q(acting_user, Action.VIEW_CASE))


def get_case(*, acting_user: User, case_id: int) -> Case:
    case = Case.objects.select_related("division", "owning_unit").filter(pk=case_id).first()
    if case is None:
        raise NotFound("No such case.")
    if not can(acting_user, Action.VIEW_CASE, case.division):
        record(actor=acting_user, action=AuditAction.DENIED, object_type="case", object_id=case_id)
        raise AccessDenied("This case lies outside your jurisdiction or role.")
    record(actor=acting_user, action=AuditAction.READ, object_type="case", object_id=case.pk)
    return case


# --------------------------------------------------------------------------- listing


# Not a stored status: "open or under investigation", what the dashboard counts as open.
ACTIVE = "active"
ACTIVE_STATUSES = (CaseStatus.OPEN, CaseStatus.INVESTIGATING)


@dataclass
class CaseFilters:
    """``status`` is a ``CaseStatus`` value or ``ACTIVE``; empty strings mean "any"."""

    status: str = ""
    case_type: str = ""


def list_cases(*, acting_user: User, filters: CaseFilters) -> QuerySet[Case]:
    """Cases the user may see, matching ``filters``, newest first.

    A role without the right to see cases at all is refused (and the refusal audited).
    """
    if not role_allows(acting_user, Action.VIEW_CASE):
        record(
            actor=acting_user,
            action=AuditAction.DENIED,
            object_type="case",
            details={"wanted": str(Action.VIEW_CASE)},
        )
        raise AccessDenied(_("Your role may not see cases."))
    qs = visible_cases(acting_user=acting_user).select_related("owning_unit")
    if filters.status == ACTIVE:
        qs = qs.filter(status__in=ACTIVE_STATUSES)
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.case_type:
        qs = qs.filter(case_type=filters.case_type)
    return qs.order_by("-opened_at", "-pk")


# --------------------------------------------------------------------------- status changes


# The case lifecycle: from each status, the statuses it may move to.
# A person may be found before anyone investigates (open → solved); a solved or closed case is
# reopened when the person goes missing again or a backlog (cold) case is taken up anew.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.INVESTIGATING, CaseStatus.SOLVED, CaseStatus.CLOSED}),
    CaseStatus.INVESTIGATING: frozenset({CaseStatus.SOLVED, CaseStatus.CLOSED}),
    CaseStatus.SOLVED: frozenset({CaseStatus.CLOSED, CaseStatus.INVESTIGATING}),
    CaseStatus.CLOSED: frozenset({CaseStatus.INVESTIGATING}),
}


def allowed_next_statuses(status: str) -> list[str]:
    """The statuses a case in ``status`` may move to, in lifecycle order."""
    allowed = ALLOWED_TRANSITIONS.get(status, frozenset())
    return [s for s in CaseStatus.values if s in allowed]


def can_edit_case(*, acting_user: User, case: Case) -> bool:
    return can(acting_user, Action.EDIT_CASE, case.division)


def change_case_status(*, acting_user: User, case_id: int, status: str) -> Case:
    """Move a case along its lifecycle; writes a timeline event and an audit entry.

    Raises ``NotFound``, ``AccessDenied`` (audited) or ``ValidationFailed`` (``status`` field)
    when the move is not in ``ALLOWED_TRANSITIONS``.
    """
    # Authorise first, outside the transaction, so that the audited refusal is not rolled back.
    found = Case.objects.select_related("division").filter(pk=case_id).first()
    if found is None:
        raise NotFound(_("No such case."))
    if not can(acting_user, Action.EDIT_CASE, found.division):
        record(
            actor=acting_user,
            action=AuditAction.DENIED,
            object_type="case",
            object_id=case_id,
            details={"wanted": str(Action.EDIT_CASE)},
        )
        raise AccessDenied(_("You may not change cases in this jurisdiction."))
    if status not in CaseStatus.values:
        msg = _("Not a valid status.")
        raise ValidationFailed(msg, field_errors={"status": [msg]})
    with transaction.atomic():
        # Re-read under a row lock: two people changing the same case see each other's change.
        case = Case.objects.select_for_update().get(pk=found.pk)
        previous = case.status
        if status not in ALLOWED_TRANSITIONS.get(previous, frozenset()):
            msg = _("A case that is “%(old)s” cannot become “%(new)s”.") % {
                "old": CaseStatus(previous).label,
                "new": CaseStatus(status).label,
            }
            raise ValidationFailed(msg, field_errors={"status": [msg]})
        now = timezone.now()
        case.status = status
        case.closed_at = now if status == CaseStatus.CLOSED else None
        case.save(update_fields=["status", "closed_at"])
        CaseEvent.objects.create(
            case=case,
            at=now,
            kind=CaseEventKind.STATUS,
            actor=acting_user,
            summary=f"{previous} → {status}",
        )
        record(
            actor=acting_user,
            action=AuditAction.UPDATE,
            object_type="case",
            object_id=case.pk,
            details={"changed": ["status"], "from": previous, "to": status},
        )
    return case


def follow_report(*, acting_user: User, case_id: int, status: str) -> Case:
    """Move the case of a missing report whose status changed to ``status``, if it may move.

    The case moves only when ``ALLOWED_TRANSITIONS`` allows it from where it stands and the user
    may change cases there (through ``change_case_status``: timeline event and audit entry);
    otherwise it is left as it is.  Returns the case as it is now.
    """
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",)).select_related("division").get(pk=case_id)
        )
        if status in ALLOWED_TRANSITIONS.get(case.status, frozenset()) and can_edit_case(
            acting_user=acting_user, case=case
        ):
            return change_case_status(acting_user=acting_user, case_id=case.pk, status=status)
    return case


def open_cases_for_reports(
    *, reports: Sequence[MissingPersonReport], acting_user: User, batch_size: int = 500
) -> list[Case]:
    """Bulk ``open_case_for_report`` for saved reports (demo seeding, bulk imports).

    Sets every field exactly as the single-report function does — type, status, owning unit,
    jurisdiction, number ``<division code>-<year>-<case id>``, the acting investigator, one OPENED
    event — but writes no audit entry per case: the caller records one entry for the whole batch.
    Needs a backend that returns primary keys from bulk inserts (SQLite ≥ 3.35, PostgreSQL).
    """
    with transaction.atomic():
        now = timezone.now()
        cases = Case.objects.bulk_create(
            [
                Case(
                    number=f"tmp-{report.public_id.hex[:24]}",
                    case_type=CaseType.MISSING_PERSON,
                    status=CaseStatus.OPEN,
                    owning_unit=report.owning_unit,
                    division=report.division,
                    missing_report=report,
                    opened_at=now,
                )
                for report in reports
            ],
            batch_size=batch_size,
        )
        for case, report in zip(cases, reports, strict=True):
            case.number = f"{report.division.code[:6]}-{now:%Y}-{case.pk:07d}"
        Case.objects.bulk_update(cases, ["number"], batch_size=batch_size)
        if acting_user.role == "investigator":
            through = Case.investigators.through
            through.objects.bulk_create(
                [through(case_id=case.pk, user_id=acting_user.pk) for case in cases],
                batch_size=batch_size,
            )
        CaseEvent.objects.bulk_create(
            [
                CaseEvent(
                    case=case,
                    at=now,
                    kind=CaseEventKind.OPENED,
                    actor=acting_user,
                    summary=f"MP-{report.pk}",
                )
                for case, report in zip(cases, reports, strict=True)
            ],
            batch_size=batch_size,
        )
    return cases
