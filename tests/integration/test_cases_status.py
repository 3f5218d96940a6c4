"""The case lifecycle service: allowed and refused transitions, timeline, audit, jurisdiction."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from reunite.accounts.models import Division, Role
from reunite.audit.models import AuditAction, AuditEntry
from reunite.audit.services import verify
from reunite.cases.models import Case, CaseEvent, CaseEventKind, CaseStatus
from reunite.cases.services import (
    ACTIVE,
    ALLOWED_TRANSITIONS,
    CaseFilters,
    allowed_next_statuses,
    change_case_status,
    list_cases,
)
from reunite.core.errors import AccessDenied, NotFound, ValidationFailed
from reunite.people.services import MissingReportData, create_missing_report

pytestmark = pytest.mark.django_db

ALLOWED = [
    ("open", "investigating"),
    ("investigating", "solved"),
    ("solved", "closed"),
    ("open", "solved"),
    ("open", "closed"),
    ("investigating", "closed"),
    ("solved", "investigating"),
    ("closed", "investigating"),
]


def new_case(user, code: str = "110105") -> Case:
    report = create_missing_report(
        acting_user=user,
        data=MissingReportData(
            full_name="王小红",
            sex="F",
            last_seen_at=timezone.now() - dt.timedelta(days=1),
            last_seen_division=Division.objects.get(code=code),
            age_at_disappearance=12,
        ),
        confirm_not_duplicate=True,
    )
    return report.case


def test_the_table_is_exactly_the_lifecycle() -> None:
    pairs = {(old, new) for old, targets in ALLOWED_TRANSITIONS.items() for new in targets}
    assert pairs == set(ALLOWED)
    assert allowed_next_statuses("open") == ["investigating", "solved", "closed"]
    assert allowed_next_statuses("closed") == ["investigating"]
    assert allowed_next_statuses("nonsense") == []


@pytest.mark.parametrize(("old", "new"), ALLOWED)
def test_allowed_transition(investigator, old, new) -> None:
    case = new_case(investigator)
    Case.objects.filter(pk=case.pk).update(status=old)
    changed = change_case_status(acting_user=investigator, case_id=case.pk, status=new)
    assert changed.status == new
    case.refresh_from_db()
    assert case.status == new
    assert (case.closed_at is not None) == (new == CaseStatus.CLOSED)
    event = CaseEvent.objects.get(case=case, kind=CaseEventKind.STATUS)
    assert event.summary == f"{old} → {new}" and event.actor_id == investigator.pk
    entry = AuditEntry.objects.filter(action=AuditAction.UPDATE, object_type="case").get()
    assert entry.object_id == str(case.pk) and entry.actor_id == investigator.pk
    assert entry.details == {"changed": ["status"], "from": old, "to": new}
    assert verify().ok


REFUSED = [
    (old, new)
    for old in CaseStatus.values
    for new in CaseStatus.values
    if (old, new) not in ALLOWED
]


@pytest.mark.parametrize(("old", "new"), REFUSED)
def test_refused_transition_changes_nothing(investigator, old, new) -> None:
    case = new_case(investigator)
    Case.objects.filter(pk=case.pk).update(status=old)
    updates_before = AuditEntry.objects.filter(action=AuditAction.UPDATE).count()
    with pytest.raises(ValidationFailed) as err:
        change_case_status(acting_user=investigator, case_id=case.pk, status=new)
    assert "cannot become" in err.value.field_errors["status"][0]
    case.refresh_from_db()
    assert case.status == old
    assert not CaseEvent.objects.filter(case=case, kind=CaseEventKind.STATUS).exists()
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE).count() == updates_before


def test_unknown_status_is_a_validation_error(investigator) -> None:
    case = new_case(investigator)
    with pytest.raises(ValidationFailed) as err:
        change_case_status(acting_user=investigator, case_id=case.pk, status="reopened")
    assert err.value.field_errors["status"] == ["Not a valid status."]


def test_missing_case_is_not_found(investigator) -> None:
    with pytest.raises(NotFound):
        change_case_status(acting_user=investigator, case_id=424242, status="closed")


def test_other_jurisdiction_is_refused_and_the_refusal_kept(make_user) -> None:
    owner = make_user(Role.INVESTIGATOR, "110108")
    case = new_case(owner, "110108")
    outsider = make_user(Role.INVESTIGATOR, "110105")
    with pytest.raises(AccessDenied):
        change_case_status(acting_user=outsider, case_id=case.pk, status="closed")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    denied = AuditEntry.objects.get(action=AuditAction.DENIED, actor=outsider)
    assert denied.object_id == str(case.pk)
    assert denied.details == {"wanted": "edit_case"}


def test_a_province_supervisor_may_change_a_county_case(make_user) -> None:
    owner = make_user(Role.INVESTIGATOR, "110108")
    case = new_case(owner, "110108")
    chief = make_user(Role.SUPERVISOR, "110000")
    assert change_case_status(acting_user=chief, case_id=case.pk, status="closed").status == (
        CaseStatus.CLOSED
    )


def test_a_role_without_edit_right_is_refused(make_user) -> None:
    case = new_case(make_user(Role.INVESTIGATOR, "110105"))
    technician = make_user(Role.DNA_TECHNICIAN, "110105")
    with pytest.raises(AccessDenied):
        change_case_status(acting_user=technician, case_id=case.pk, status="investigating")


def test_list_cases_filters_and_scope(make_user) -> None:
    chaoyang = make_user(Role.INVESTIGATOR, "110105")
    a, b = new_case(chaoyang), new_case(chaoyang)
    new_case(make_user(Role.INVESTIGATOR, "110108"), "110108")
    change_case_status(acting_user=chaoyang, case_id=b.pk, status="investigating")
    change_case_status(acting_user=chaoyang, case_id=b.pk, status="solved")
    every = list_cases(acting_user=chaoyang, filters=CaseFilters())
    assert [c.pk for c in every] == [b.pk, a.pk]
    active = list_cases(acting_user=chaoyang, filters=CaseFilters(status=ACTIVE))
    assert [c.pk for c in active] == [a.pk]
    solved = list_cases(acting_user=chaoyang, filters=CaseFilters(status="solved"))
    assert [c.pk for c in solved] == [b.pk]


def test_list_cases_refuses_a_role_without_cases(make_user) -> None:
    partner = make_user(Role.PARTNER_CIVIL_AFFAIRS, "110105")
    with pytest.raises(AccessDenied):
        list_cases(acting_user=partner, filters=CaseFilters())
    assert AuditEntry.objects.filter(action=AuditAction.DENIED, actor=partner).exists()
