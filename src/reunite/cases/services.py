"""Opening cases and writing their timelines."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from reunite.accounts.models import User
from reunite.accounts.permissions import Action, can, scope_q
from reunite.audit.models import AuditAction
from reunite.audit.services import record
from reunite.cases.models import Case, CaseEvent, CaseEventKind, CaseStatus, CaseType
from reunite.core.errors import AccessDenied, NotFound
from reunite.people.models import MissingPersonReport


def open_case_for_report(*, report: MissingPersonReport, acting_user: User) -> Case:
    """Every missing report opens exactly one case, owned by the report's unit."""
    with transaction.atomic():
        now = timezone.now()
        case = Case.objects.create(
            number=f"tmp-{report.public_id.hex}",
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
