"""Status changes of registry records: the two lifecycles, notes, the case that follows, audit."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from reunite.accounts.models import OrganisationKind, Role, User
from reunite.audit.models import AuditAction, AuditEntry
from reunite.audit.services import verify
from reunite.cases import services as case_services
from reunite.cases.models import Case, CaseEvent, CaseEventKind, CaseStatus
from reunite.core.errors import AccessDenied, NotFound, ValidationFailed
from reunite.people.models import FoundPerson, FoundStatus, MissingPersonReport, MissingStatus
from reunite.people.services import (
    FOUND_TRANSITIONS,
    MISSING_TRANSITIONS,
    FoundPersonData,
    MissingReportData,
    change_found_status,
    change_missing_status,
    create_found_person,
    create_missing_report,
    next_found_statuses,
    next_missing_statuses,
)
from tests.conftest import days_ago, division

pytestmark = pytest.mark.django_db

MISSING_ALLOWED = [
    ("missing", "found_alive"),
    ("missing", "found_deceased"),
    ("missing", "withdrawn"),
    ("found_alive", "missing"),
    ("found_deceased", "missing"),
    ("withdrawn", "missing"),
]
MISSING_REFUSED = [
    (old, new)
    for old in MissingStatus.values
    for new in MissingStatus.values
    if (old, new) not in MISSING_ALLOWED
]
FOUND_ALLOWED = [
    ("unidentified", "identified"),
    ("identified", "returned_home"),
    ("identified", "resettled"),
    ("identified", "unidentified"),
]
FOUND_REFUSED = [
    (old, new)
    for old in FoundStatus.values
    for new in FoundStatus.values
    if (old, new) not in FOUND_ALLOWED
]
# A note that names people and gives a telephone number: it must never reach the audit log.
NOTE = "李芳 saw her at Beijing West station; call 13800000000"


def new_report(user: User, code: str = "110105", status: str = "missing") -> MissingPersonReport:
    report = create_missing_report(
        acting_user=user,
        data=MissingReportData(
            full_name="王小红",
            sex="F",
            last_seen_at=days_ago(2),
            last_seen_division=division(code),
            age_at_disappearance=12,
        ),
        confirm_not_duplicate=True,
    )
    MissingPersonReport.objects.filter(pk=report.pk).update(status=status)
    return report


def new_person(user: User, code: str = "110105", status: str = "unidentified") -> FoundPerson:
    person = create_found_person(
        acting_user=user,
        data=FoundPersonData(
            category="street_begging",
            sex="M",
            found_on=days_ago(3).date(),
            found_division=division(code),
            age_min=8,
            age_max=10,
        ),
        confirm_not_duplicate=True,
    )
    FoundPerson.objects.filter(pk=person.pk).update(status=status)
    return person


def set_case(report: MissingPersonReport, status: str) -> Case:
    Case.objects.filter(missing_report=report).update(status=status)
    return Case.objects.get(missing_report=report)


def updates(object_type: str) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(action=AuditAction.UPDATE, object_type=object_type).order_by("pk")
    )


def status_events(case: Case) -> list[str]:
    return list(
        CaseEvent.objects.filter(case=case, kind=CaseEventKind.STATUS)
        .order_by("at", "pk")
        .values_list("summary", flat=True)
    )


def note_for(new: str) -> str:
    return NOTE if new in ("missing", "unidentified") else ""


# --------------------------------------------------------------------------- the tables


def test_the_tables_are_exactly_the_lifecycles() -> None:
    def pairs(table: dict[str, frozenset[str]]) -> set[tuple[str, str]]:
        return {(old, new) for old, targets in table.items() for new in targets}

    assert pairs(MISSING_TRANSITIONS) == set(MISSING_ALLOWED)
    assert pairs(FOUND_TRANSITIONS) == set(FOUND_ALLOWED)
    assert next_missing_statuses("missing") == ["found_alive", "found_deceased", "withdrawn"]
    assert next_missing_statuses("withdrawn") == ["missing"]
    assert next_found_statuses("identified") == ["unidentified", "returned_home", "resettled"]
    assert next_found_statuses("resettled") == []
    assert next_found_statuses("nonsense") == []


# --------------------------------------------------------------------------- missing reports


@pytest.mark.parametrize(("old", "new"), MISSING_ALLOWED)
def test_allowed_missing_transition(investigator: User, old: str, new: str) -> None:
    report = new_report(investigator, status=old)
    case = Case.objects.get(missing_report=report)
    note = note_for(new)
    changed = change_missing_status(
        acting_user=investigator, report_id=report.pk, status=new, note=note
    )
    assert changed.status == new
    report.refresh_from_db()
    assert report.status == new
    [entry] = updates("missing_report")
    assert entry.object_id == str(report.pk) and entry.actor_id == investigator.pk
    assert entry.details == {"status": [old, new], "note": bool(note)}
    [event] = CaseEvent.objects.filter(
        case=case, kind=CaseEventKind.STATUS, summary__startswith="MP"
    )
    expected = f"MP-{report.pk}: {old} → {new}"
    assert event.summary == (f"{expected}\n{note}" if note else expected)
    assert event.actor_id == investigator.pk
    assert verify().ok


@pytest.mark.parametrize(("old", "new"), MISSING_REFUSED)
def test_refused_missing_transition_changes_nothing(investigator: User, old: str, new: str) -> None:
    report = new_report(investigator, status=old)
    case = Case.objects.get(missing_report=report)
    with pytest.raises(ValidationFailed) as err:
        change_missing_status(acting_user=investigator, report_id=report.pk, status=new, note=NOTE)
    [message] = err.value.field_errors["status"]
    assert "cannot become" in message
    assert f"“{MissingStatus(old).label}” cannot become “{MissingStatus(new).label}”" in message
    report.refresh_from_db()
    assert report.status == old
    assert status_events(case) == []
    assert updates("missing_report") == []
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN


@pytest.mark.parametrize("outcome", ["found_alive", "found_deceased", "withdrawn"])
@pytest.mark.parametrize("note", ["", "   \n "])
def test_reopening_a_report_needs_a_note(investigator: User, outcome: str, note: str) -> None:
    report = new_report(investigator, status=outcome)
    with pytest.raises(ValidationFailed) as err:
        change_missing_status(
            acting_user=investigator, report_id=report.pk, status="missing", note=note
        )
    assert err.value.field_errors == {"note": ["Say why the record is reopened."]}
    report.refresh_from_db()
    assert report.status == outcome
    assert updates("missing_report") == []


def test_a_note_is_optional_for_an_outcome_and_kept_on_the_case(investigator: User) -> None:
    report = new_report(investigator)
    change_missing_status(
        acting_user=investigator, report_id=report.pk, status="found_alive", note=f"  {NOTE}  "
    )
    case = Case.objects.get(missing_report=report)
    assert status_events(case) == [
        f"MP-{report.pk}: missing → found_alive\n{NOTE}",
        "open → solved",
    ]
    assert updates("missing_report")[0].details == {
        "status": ["missing", "found_alive"],
        "note": True,
    }


# --------------------------------------------------------------------------- the case follows


@pytest.mark.parametrize(
    ("case_before", "new", "case_after"),
    [
        ("investigating", "found_alive", "solved"),
        ("investigating", "found_deceased", "solved"),
        ("investigating", "withdrawn", "closed"),
        ("open", "withdrawn", "closed"),
        ("open", "found_alive", "solved"),
        ("open", "found_deceased", "solved"),
        ("solved", "withdrawn", "closed"),
        # The case lifecycle does not allow this move, so the case stays where it is.
        ("closed", "found_alive", "closed"),
    ],
)
def test_the_case_follows_an_outcome_where_it_may(
    investigator: User, case_before: str, new: str, case_after: str
) -> None:
    report = new_report(investigator)
    case = set_case(report, case_before)
    changed = change_missing_status(acting_user=investigator, report_id=report.pk, status=new)
    case.refresh_from_db()
    assert case.status == case_after
    assert changed.case.status == case_after
    moved = case_before != case_after
    expected = [f"MP-{report.pk}: missing → {new}"]
    if moved:
        expected.append(f"{case_before} → {case_after}")
    assert status_events(case) == expected
    case_updates = updates("case")
    assert [e.details for e in case_updates] == (
        [{"changed": ["status"], "from": case_before, "to": case_after}] if moved else []
    )
    if moved:
        assert (case.closed_at is not None) == (case_after == CaseStatus.CLOSED)


@pytest.mark.parametrize(
    ("case_before", "case_after"),
    [
        ("open", "investigating"),
        ("investigating", "investigating"),
        ("solved", "investigating"),
        ("closed", "investigating"),
    ],
)
def test_reopening_moves_the_case_back_to_investigation_where_it_may(
    investigator: User, case_before: str, case_after: str
) -> None:
    report = new_report(investigator, status="found_alive")
    case = set_case(report, case_before)
    change_missing_status(
        acting_user=investigator, report_id=report.pk, status="missing", note=NOTE
    )
    case.refresh_from_db()
    assert case.status == case_after
    assert CaseEvent.objects.filter(
        case=case, kind=CaseEventKind.STATUS, summary=f"{case_before} → {case_after}"
    ).exists() == (case_before != case_after)


def test_found_then_reopened_walks_the_case_through_its_lifecycle(investigator: User) -> None:
    report = new_report(investigator)
    case = set_case(report, "open")
    change_missing_status(acting_user=investigator, report_id=report.pk, status="withdrawn")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CLOSED
    change_missing_status(
        acting_user=investigator, report_id=report.pk, status="missing", note=NOTE
    )
    assert MissingPersonReport.objects.get(pk=report.pk).status == MissingStatus.MISSING
    assert Case.objects.get(pk=case.pk).status == CaseStatus.INVESTIGATING
    assert [e.details["status"] for e in updates("missing_report")] == [
        ["missing", "withdrawn"],
        ["withdrawn", "missing"],
    ]


def test_report_and_case_change_in_one_transaction(
    investigator: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = new_report(investigator)
    case = set_case(report, "investigating")

    def broken(**kwargs: Any) -> Case:
        raise RuntimeError("the case could not be saved")

    monkeypatch.setattr(case_services, "change_case_status", broken)
    with pytest.raises(RuntimeError):
        change_missing_status(acting_user=investigator, report_id=report.pk, status="found_alive")
    assert MissingPersonReport.objects.get(pk=report.pk).status == MissingStatus.MISSING
    assert Case.objects.get(pk=case.pk).status == CaseStatus.INVESTIGATING
    assert status_events(case) == []
    assert updates("missing_report") == []


def test_a_report_without_a_case_changes_alone(investigator: User) -> None:
    report = new_report(investigator)
    Case.objects.filter(missing_report=report).delete()
    changed = change_missing_status(
        acting_user=investigator, report_id=report.pk, status="found_alive"
    )
    assert changed.status == MissingStatus.FOUND_ALIVE
    assert [e.details for e in updates("missing_report")] == [
        {"status": ["missing", "found_alive"], "note": False}
    ]


# --------------------------------------------------------------------------- found persons


@pytest.mark.parametrize(("old", "new"), FOUND_ALLOWED)
def test_allowed_found_transition(investigator: User, old: str, new: str) -> None:
    person = new_person(investigator, status=old)
    note = note_for(new)
    changed = change_found_status(
        acting_user=investigator, person_id=person.pk, status=new, note=note
    )
    assert changed.status == new
    person.refresh_from_db()
    assert person.status == new
    [entry] = updates("found_person")
    assert entry.object_id == str(person.pk) and entry.actor_id == investigator.pk
    assert entry.details == {"status": [old, new], "note": bool(note)}
    assert verify().ok


@pytest.mark.parametrize(("old", "new"), FOUND_REFUSED)
def test_refused_found_transition_changes_nothing(investigator: User, old: str, new: str) -> None:
    person = new_person(investigator, status=old)
    with pytest.raises(ValidationFailed) as err:
        change_found_status(acting_user=investigator, person_id=person.pk, status=new, note=NOTE)
    assert "cannot become" in err.value.field_errors["status"][0]
    person.refresh_from_db()
    assert person.status == old
    assert updates("found_person") == []


def test_taking_back_an_identification_needs_a_note(investigator: User) -> None:
    person = new_person(investigator, status="identified")
    with pytest.raises(ValidationFailed) as err:
        change_found_status(acting_user=investigator, person_id=person.pk, status="unidentified")
    assert err.value.field_errors == {"note": ["Say why the record is reopened."]}
    assert FoundPerson.objects.get(pk=person.pk).status == FoundStatus.IDENTIFIED
    assert updates("found_person") == []


def test_a_partner_agency_changes_the_status_of_its_found_person(
    make_user: Callable[..., User],
) -> None:
    partner = make_user(Role.PARTNER_WELFARE, "110105", OrganisationKind.WELFARE_INSTITUTION)
    person = new_person(partner)
    change_found_status(acting_user=partner, person_id=person.pk, status="identified")
    assert FoundPerson.objects.get(pk=person.pk).status == FoundStatus.IDENTIFIED


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("status", "note", "field"),
    [
        ("lost", "", "status"),
        ("", "", "status"),
        ("MISSING", "", "status"),
        ("found_alive", "x" * 2001, "note"),
        ("found_alive", "a\x00b", "note"),
        ("found_alive", "\ud800", "note"),
    ],
)
def test_bad_input_is_refused(investigator: User, status: str, note: str, field: str) -> None:
    report = new_report(investigator)
    person = new_person(investigator)
    with pytest.raises(ValidationFailed) as err:
        change_missing_status(
            acting_user=investigator, report_id=report.pk, status=status, note=note
        )
    assert field in err.value.field_errors
    found_status = "identified" if status == "found_alive" else status
    with pytest.raises(ValidationFailed) as err:
        change_found_status(
            acting_user=investigator, person_id=person.pk, status=found_status, note=note
        )
    assert field in err.value.field_errors
    assert updates("missing_report") == updates("found_person") == []


def test_a_note_of_the_maximum_length_is_accepted(investigator: User) -> None:
    report = new_report(investigator)
    note = "备" * 2000
    change_missing_status(
        acting_user=investigator, report_id=report.pk, status="withdrawn", note=note
    )
    assert status_events(Case.objects.get(missing_report=report))[0].endswith("\n" + note)


def test_unknown_records_are_not_found(investigator: User) -> None:
    with pytest.raises(NotFound):
        change_missing_status(acting_user=investigator, report_id=424242, status="withdrawn")
    with pytest.raises(NotFound):
        change_found_status(acting_user=investigator, person_id=424242, status="identified")


# --------------------------------------------------------------------------- who may


def test_other_jurisdiction_is_refused_and_the_refusal_kept(
    make_user: Callable[..., User],
) -> None:
    owner = make_user(Role.INVESTIGATOR, "110108")
    report = new_report(owner, "110108")
    person = new_person(owner, "110108")
    outsider = make_user(Role.INVESTIGATOR, "110105")
    with pytest.raises(AccessDenied):
        change_missing_status(acting_user=outsider, report_id=report.pk, status="withdrawn")
    with pytest.raises(AccessDenied):
        change_found_status(acting_user=outsider, person_id=person.pk, status="identified")
    assert MissingPersonReport.objects.get(pk=report.pk).status == MissingStatus.MISSING
    assert FoundPerson.objects.get(pk=person.pk).status == FoundStatus.UNIDENTIFIED
    denied = AuditEntry.objects.filter(action=AuditAction.DENIED, actor=outsider).order_by("pk")
    assert [(e.object_type, e.object_id, e.details) for e in denied] == [
        ("missing_report", str(report.pk), {"wanted": "edit_missing", "division": "110108"}),
        ("found_person", str(person.pk), {"wanted": "edit_found", "division": "110108"}),
    ]
    assert updates("missing_report") == updates("found_person") == []


def test_a_province_investigator_may_change_a_county_record(
    make_user: Callable[..., User],
) -> None:
    report = new_report(make_user(Role.INVESTIGATOR, "110108"), "110108")
    province = make_user(Role.INVESTIGATOR, "110000")
    change_missing_status(acting_user=province, report_id=report.pk, status="found_alive")
    assert MissingPersonReport.objects.get(pk=report.pk).status == MissingStatus.FOUND_ALIVE


@pytest.mark.parametrize(
    ("role", "kind"),
    [
        (Role.PARTNER_WELFARE, OrganisationKind.WELFARE_INSTITUTION),
        (Role.PARTNER_CIVIL_AFFAIRS, OrganisationKind.CIVIL_AFFAIRS),
        (Role.SUPERVISOR, OrganisationKind.PUBLIC_SECURITY),
        (Role.DNA_TECHNICIAN, OrganisationKind.PUBLIC_SECURITY),
    ],
)
def test_roles_that_may_not_edit_reports_are_refused(
    investigator: User, make_user: Callable[..., User], role: str, kind: str
) -> None:
    report = new_report(investigator)
    user = make_user(role, "110105", kind)
    with pytest.raises(AccessDenied):
        change_missing_status(acting_user=user, report_id=report.pk, status="withdrawn")
    assert MissingPersonReport.objects.get(pk=report.pk).status == MissingStatus.MISSING
    assert AuditEntry.objects.filter(
        action=AuditAction.DENIED, actor=user, object_id=str(report.pk)
    ).exists()


def test_notes_never_reach_the_audit_log(investigator: User) -> None:
    report = new_report(investigator)
    person = new_person(investigator, status="identified")
    change_missing_status(
        acting_user=investigator, report_id=report.pk, status="found_alive", note=NOTE
    )
    change_missing_status(
        acting_user=investigator, report_id=report.pk, status="missing", note=NOTE
    )
    change_found_status(
        acting_user=investigator, person_id=person.pk, status="unidentified", note=NOTE
    )
    assert len(updates("missing_report")) == 2 and len(updates("found_person")) == 1
    for entry in AuditEntry.objects.all():
        text = json.dumps(entry.details, ensure_ascii=False)
        assert "李芳" not in text and "13800000000" not in text and "station" not in text
