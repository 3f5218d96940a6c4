"""Services the registry's web pages rely on: edit reads, duplicate candidates, division picker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from reunite.accounts.models import Division, DivisionLevel, OrganisationKind, Role, User
from reunite.accounts.permissions import Action
from reunite.audit.models import AuditAction, AuditEntry
from reunite.core.errors import AccessDenied, NotFound, ProbableDuplicate
from reunite.people.models import FoundPerson, MissingPersonReport
from reunite.people.services import (
    DIVISION_SEARCH_LIMIT,
    FoundPersonData,
    MissingReportData,
    create_found_person,
    create_missing_report,
    describe_found_candidates,
    describe_missing_candidates,
    division_full_names,
    ensure_role,
    get_found_person_for_edit,
    get_missing_report_for_edit,
    search_divisions,
)
from tests.conftest import days_ago, division


def _report(user: User, name: str = "张小伟", **extra: object) -> MissingPersonReport:
    data = MissingReportData(
        full_name=name,
        sex="M",
        last_seen_at=days_ago(3),
        last_seen_division=division("110105"),
        age_at_disappearance=9,
        last_seen_place="Chaoyang Park",
    )
    return create_missing_report(acting_user=user, data=data, **extra)  # type: ignore[arg-type]


def _found(user: User, **extra: object) -> FoundPerson:
    data = FoundPersonData(
        category="street_begging",
        sex="F",
        found_on=dt.date(2024, 6, 1),
        found_division=division("110105"),
        age_min=8,
        age_max=12,
        given_name="小红",
    )
    return create_found_person(acting_user=user, data=data, **extra)  # type: ignore[arg-type]


def _entries(user: User, action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(actor=user, action=action).order_by("seq"))


# --------------------------------------------------------------------------- ensure_role


@pytest.mark.django_db
def test_ensure_role_refuses_and_audits_only_roles_without_the_action(
    investigator: User, make_user: Callable[..., User]
) -> None:
    ensure_role(acting_user=investigator, action=Action.EDIT_MISSING, object_type="missing_report")
    assert _entries(investigator, AuditAction.DENIED) == []

    partner = make_user(Role.PARTNER_WELFARE, "110105", OrganisationKind.WELFARE_INSTITUTION)
    ensure_role(acting_user=partner, action=Action.EDIT_FOUND, object_type="found_person")
    with pytest.raises(AccessDenied):
        ensure_role(acting_user=partner, action=Action.VIEW_MISSING, object_type="missing_report")
    [denied] = _entries(partner, AuditAction.DENIED)
    assert denied.object_type == "missing_report"
    assert denied.details == {"wanted": "view_missing", "division": None}


# --------------------------------------------------------------------------- reads for editing


@pytest.mark.django_db
def test_get_missing_report_for_edit_needs_the_edit_right(
    investigator: User, make_user: Callable[..., User]
) -> None:
    report = _report(investigator)
    got = get_missing_report_for_edit(acting_user=investigator, report_id=report.pk)
    assert got.pk == report.pk and got.full_name == "张小伟"
    read = _entries(investigator, AuditAction.READ)[-1]
    assert (read.object_type, read.object_id, read.details) == (
        "missing_report",
        str(report.pk),
        {"purpose": "edit"},
    )

    supervisor = make_user(Role.SUPERVISOR, "110000")  # may read, may not edit
    with pytest.raises(AccessDenied):
        get_missing_report_for_edit(acting_user=supervisor, report_id=report.pk)
    assert [e.object_id for e in _entries(supervisor, AuditAction.DENIED)] == [str(report.pk)]
    assert _entries(supervisor, AuditAction.READ) == []

    haidian = make_user(Role.INVESTIGATOR, "110108")
    with pytest.raises(AccessDenied):
        get_missing_report_for_edit(acting_user=haidian, report_id=report.pk)
    with pytest.raises(NotFound):
        get_missing_report_for_edit(acting_user=investigator, report_id=report.pk + 1000)


@pytest.mark.django_db
def test_get_found_person_for_edit_needs_the_edit_right(
    investigator: User, make_user: Callable[..., User]
) -> None:
    person = _found(investigator)
    assert get_found_person_for_edit(acting_user=investigator, person_id=person.pk) == person
    assert _entries(investigator, AuditAction.READ)[-1].details == {"purpose": "edit"}
    lab = make_user(Role.DNA_TECHNICIAN, "110105", OrganisationKind.FORENSIC_LAB)
    with pytest.raises(AccessDenied):
        get_found_person_for_edit(acting_user=lab, person_id=person.pk)
    with pytest.raises(NotFound):
        get_found_person_for_edit(acting_user=investigator, person_id=person.pk + 1000)


# --------------------------------------------------------------------------- duplicate candidates


@pytest.mark.django_db
def test_missing_candidates_are_described_and_each_read_is_audited(
    investigator: User, make_user: Callable[..., User]
) -> None:
    first = _report(investigator)
    # The same person reported in Haidian: found as a candidate although outside Chaoyang.
    haidian_user = make_user(Role.INVESTIGATOR, "110108")
    other = create_missing_report(
        acting_user=haidian_user,
        data=MissingReportData(
            full_name="张小伟",
            sex="M",
            last_seen_at=days_ago(1),
            last_seen_division=division("110108"),
            age_at_disappearance=9,
        ),
        confirm_not_duplicate=True,
    )
    with pytest.raises(ProbableDuplicate) as raised:
        _report(investigator)
    assert set(raised.value.candidates) == {first.pk, other.pk}

    before = AuditEntry.objects.count()
    described = describe_missing_candidates(
        acting_user=investigator, candidate_ids=raised.value.candidates
    )
    assert [r.pk for r in described] == [other.pk, first.pk]  # most recently seen first
    assert described[1].case.number
    reads = list(AuditEntry.objects.order_by("seq")[before:])
    assert [(e.action, e.object_type, e.object_id) for e in reads] == [
        (AuditAction.READ, "missing_report", str(other.pk)),
        (AuditAction.READ, "missing_report", str(first.pk)),
    ]
    assert all(e.details == {"purpose": "duplicate_check"} for e in reads)


@pytest.mark.django_db
def test_found_candidates_are_described_and_audited(investigator: User) -> None:
    first = _found(investigator)
    with pytest.raises(ProbableDuplicate) as raised:
        _found(investigator)
    assert raised.value.candidates == [first.pk]
    [described] = describe_found_candidates(acting_user=investigator, candidate_ids=[first.pk])
    assert described.pk == first.pk and described.found_division.code == "110105"
    last = AuditEntry.objects.order_by("-seq").first()
    assert last is not None
    assert (last.action, last.object_type, last.details) == (
        AuditAction.READ,
        "found_person",
        {"purpose": "duplicate_check"},
    )
    assert describe_found_candidates(acting_user=investigator, candidate_ids=[]) == []


# --------------------------------------------------------------------------- division picker


@pytest.mark.django_db
def test_division_full_names_agree_with_the_model_property() -> None:
    samples = list(
        Division.objects.filter(code__in=["CN", "110000", "110105", "440106", "469001", "429004"])
    )
    assert len(samples) == 6
    assert division_full_names(samples) == {d.code: d.full_name for d in samples}
    assert division_full_names([division("110105")]) == {"110105": "北京市 朝阳区"}


@pytest.mark.django_db
def test_search_divisions_by_han_latin_and_code_prefix() -> None:
    by_han = search_divisions(query="朝阳")
    assert "110105" in {h.code for h in by_han}
    assert [h.level for h in by_han] == sorted(h.level for h in by_han)
    chaoyang = next(h for h in by_han if h.code == "110105")
    assert (chaoyang.name, chaoyang.full_name, chaoyang.level) == (
        "朝阳区",
        "北京市 朝阳区",
        DivisionLevel.COUNTY,
    )
    for latin in ("chaoyang", "Chao Yang", "CHAOYANGQU"):
        assert "110105" in {h.code for h in search_divisions(query=latin)}, latin

    beijing = search_divisions(query="北京")
    assert beijing[0].code == "110000"  # the province comes before its districts

    prefix = search_divisions(query="4401")
    assert prefix and all(h.code.startswith("4401") for h in prefix)
    assert {h.code for h in search_divisions(query="110105")} == {"110105"}

    assert len(search_divisions(query="1")) == DIVISION_SEARCH_LIMIT
    assert len(search_divisions(query="1", limit=5)) == 5
    assert search_divisions(query="") == [] and search_divisions(query="   ") == []
    assert search_divisions(query="no such place anywhere") == []
