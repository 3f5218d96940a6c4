"""`reunite demo` (small sizes, no server): units, accounts, valid records, cases, idempotence."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from reunite.accounts.models import Division, Organisation, OrganisationKind, Role, User
from reunite.accounts.services import division_contains_point
from reunite.audit.models import AuditEntry
from reunite.cases.models import Case, CaseEvent, CaseEventKind, CaseStatus, CaseType
from reunite.core.names import has_han, to_pinyin
from reunite.people import demo
from reunite.people.models import (
    FoundCategory,
    FoundPerson,
    MissingPersonReport,
    ReportingRelative,
)
from reunite.people.services import (
    HOLDING_KINDS,
    FoundPersonData,
    MissingFilters,
    MissingReportData,
    _index,
    birth_year_of,
    find_duplicate_found,
    find_duplicate_reports,
    search_missing,
)

pytestmark = pytest.mark.django_db

SMALL = ("--missing", "40", "--found", "60", "--no-serve")


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    # Nine accounts per run: Argon2's deliberate slowness would dominate these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded() -> str:
    return run_demo(*SMALL)


def demo_missing() -> list[MissingPersonReport]:
    return list(
        MissingPersonReport.objects.filter(created_by__username=demo.SEED_USERNAME).select_related(
            "division", "last_seen_division", "owning_unit__division"
        )
    )


def demo_found() -> list[FoundPerson]:
    return list(
        FoundPerson.objects.filter(created_by__username=demo.SEED_USERNAME).select_related(
            "division", "found_division", "owning_unit__division", "institution__division"
        )
    )


def counts() -> dict[str, int]:
    return {
        "units": Organisation.objects.count(),
        "users": User.objects.count(),
        "missing": MissingPersonReport.objects.count(),
        "relatives": ReportingRelative.objects.count(),
        "found": FoundPerson.objects.count(),
        "cases": Case.objects.count(),
        "events": CaseEvent.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def test_load_divisions_command_prints_the_count() -> None:
    out = io.StringIO()
    call_command("load_divisions", stdout=out)
    assert out.getvalue().strip() == f"{Division.objects.count()} divisions loaded."
    assert Division.objects.count() > 3000


def test_creates_the_requested_records_and_prints_logins(seeded: str) -> None:
    assert len(demo_missing()) == 40
    assert len(demo_found()) == 60
    assert demo.DEMO_PASSWORD in seeded
    assert "demo-investigator" in seeded
    assert "40 missing reports (40 new" in seeded


def test_one_demo_account_per_role_at_a_matching_unit(seeded: str) -> None:
    expected_kind = {
        Role.INVESTIGATOR: OrganisationKind.PUBLIC_SECURITY,
        Role.DNA_TECHNICIAN: OrganisationKind.FORENSIC_LAB,
        Role.SUPERVISOR: OrganisationKind.PUBLIC_SECURITY,
        Role.PARTNER_CIVIL_AFFAIRS: OrganisationKind.CIVIL_AFFAIRS,
        Role.PARTNER_HEALTH: OrganisationKind.HEALTH,
        Role.PARTNER_WOMENS_FEDERATION: OrganisationKind.WOMENS_FEDERATION,
        Role.PARTNER_WELFARE: OrganisationKind.WELFARE_INSTITUTION,
        Role.ADMINISTRATOR: OrganisationKind.PUBLIC_SECURITY,
    }
    users = User.objects.filter(username__startswith="demo-", is_active=True).select_related(
        "organisation__division"
    )
    by_role: dict[str, list[User]] = {}
    for user in users:
        by_role.setdefault(user.role, []).append(user)
        assert user.check_password(demo.DEMO_PASSWORD), user.username
        assert user.organisation is not None
        assert user.organisation.kind == expected_kind[Role(user.role)], user.username
    assert set(by_role) == set(Role.values)
    for role, members in by_role.items():
        assert len(members) == (2 if role == Role.SUPERVISOR else 1), role
    level = {u.username: u.organisation.division.level for u in users}  # type: ignore[union-attr]
    assert level["demo-investigator"] == 3  # a county bureau
    assert level["demo-dna-technician"] == 1  # a provincial laboratory
    assert level["demo-supervisor"] == 1
    assert level["demo-ministry-supervisor"] == 0
    assert level["demo-administrator"] == 0
    seed_user = User.objects.get(username=demo.SEED_USERNAME)
    assert not seed_user.is_active
    assert not seed_user.has_usable_password()


def test_units_carry_real_names_on_the_real_tree(seeded: str) -> None:
    def unit(code: str, name: str) -> Organisation:
        return Organisation.objects.get(division__code=code, name=name)

    assert unit("CN", "公安部刑事侦查局").kind == OrganisationKind.PUBLIC_SECURITY
    assert unit("510000", "四川省公安厅").kind == OrganisationKind.PUBLIC_SECURITY
    assert unit("510000", "四川省公安厅物证鉴定中心").kind == OrganisationKind.FORENSIC_LAB
    assert unit("510100", "成都市公安局").kind == OrganisationKind.PUBLIC_SECURITY
    assert unit("510106", "金牛区公安分局").kind == OrganisationKind.PUBLIC_SECURITY
    assert unit("510121", "金堂县公安局").kind == OrganisationKind.PUBLIC_SECURITY
    assert unit("510100", "成都市儿童福利院").kind == OrganisationKind.WELFARE_INSTITUTION
    assert unit("510100", "成都市救助管理站").kind == OrganisationKind.RESCUE_STATION
    assert unit("450000", "广西壮族自治区公安厅").kind == OrganisationKind.PUBLIC_SECURITY
    assert unit("110000", "北京市公安局").kind == OrganisationKind.PUBLIC_SECURITY
    assert unit("110105", "朝阳区公安分局").kind == OrganisationKind.PUBLIC_SECURITY
    for code in ("440000", "510000", "530000", "520000", "410000", "430000", "450000", "350000"):
        province = Division.objects.get(code=code)
        assert Organisation.objects.filter(
            division=province, kind=OrganisationKind.FORENSIC_LAB
        ).exists()
        cities = Organisation.objects.filter(
            division__parent=province, kind=OrganisationKind.PUBLIC_SECURITY
        )
        assert cities.count() >= 3, code
        counties = Organisation.objects.filter(
            division__path__startswith=province.path,
            division__level=3,
            kind=OrganisationKind.PUBLIC_SECURITY,
        )
        assert counties.count() >= 9, code
    for kind in (OrganisationKind.CIVIL_AFFAIRS, OrganisationKind.HEALTH):
        assert Organisation.objects.filter(kind=kind, division__level=2).count() >= 20


def test_missing_reports_lie_in_their_owner_jurisdiction(seeded: str) -> None:
    reports = demo_missing()
    for r in reports:
        owner = r.owning_unit
        assert owner.kind == OrganisationKind.PUBLIC_SECURITY
        assert r.division == owner.division
        assert owner.division.contains(r.last_seen_division)
        assert r.last_seen_division.level == 3
        assert r.last_seen_latitude is not None and r.last_seen_longitude is not None
        assert division_contains_point(
            r.last_seen_division, r.last_seen_latitude, r.last_seen_longitude
        )
        assert r.last_seen_place.startswith(r.last_seen_division.name)
    # County bureaus own most of them.
    assert sum(r.owning_unit.division.level == 3 for r in reports) > len(reports) // 2


def test_found_persons_lie_in_their_owner_jurisdiction(seeded: str) -> None:
    people = demo_found()
    for p in people:
        assert p.division == p.owning_unit.division
        assert p.owning_unit.division.contains(p.found_division)
        assert p.found_latitude is not None and p.found_longitude is not None
        assert division_contains_point(p.found_division, p.found_latitude, p.found_longitude)
        if p.institution is not None:
            assert p.institution.kind in HOLDING_KINDS
            assert p.institution.division.contains(p.found_division)
            assert p.held_place == ""
        else:
            assert p.held_place
        assert 0 <= p.age_min <= p.age_max <= 120
        assert p.category in FoundCategory.values


def test_derived_fields_are_set_as_the_services_set_them(seeded: str) -> None:
    for r in demo_missing():
        assert r.name_pinyin == to_pinyin(r.full_name)
        assert r.name_index == _index(r.full_name, r.name_pinyin, r.other_names)
        assert r.birth_year == birth_year_of(
            r.date_of_birth, r.age_at_disappearance, r.last_seen_at
        )
    named = 0
    for p in demo_found():
        expected_pinyin = to_pinyin(p.given_name) if has_han(p.given_name) else ""
        assert p.given_name_pinyin == expected_pinyin
        assert p.name_index == _index(p.given_name, p.given_name_pinyin)
        named += bool(p.given_name)
    assert named > 0


def test_records_look_like_real_cases(seeded: str) -> None:
    today = timezone.localdate()
    reports = demo_missing()
    for r in reports:
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", r.full_name), r.pk
        seen = timezone.localtime(r.last_seen_at).date()
        assert dt.date(1990, 1, 1) <= seen < today
        assert r.age_at_disappearance is not None and 0 <= r.age_at_disappearance <= 90
        if r.date_of_birth is not None:
            years = seen.year - r.date_of_birth.year
            years -= (seen.month, seen.day) < (r.date_of_birth.month, r.date_of_birth.day)
            assert years == r.age_at_disappearance
        assert r.circumstances
        relatives = list(r.relatives.all())
        assert 1 <= len(relatives) <= 2
        assert sum(rel.is_reporter for rel in relatives) == 1
        for rel in relatives:
            assert re.fullmatch(r"100-\d{4}-\d{4}", rel.contact)
            assert has_han(rel.name)
    assert any(r.age_at_disappearance is not None and r.age_at_disappearance < 18 for r in reports)
    assert sum(r.status == "missing" for r in reports) > len(reports) // 2
    for p in demo_found():
        assert dt.date(1995, 1, 1) <= p.found_on <= today
        assert p.description


def test_each_missing_report_opens_one_case(seeded: str) -> None:
    reports = demo_missing()
    cases = {c.missing_report_id: c for c in Case.objects.filter(missing_report__in=reports)}
    assert len(cases) == len(reports)
    seed_user = User.objects.get(username=demo.SEED_USERNAME)
    for r in reports:
        case = cases[r.pk]
        assert case.case_type == CaseType.MISSING_PERSON
        assert case.status == CaseStatus.OPEN
        assert case.owning_unit_id == r.owning_unit_id
        assert case.division_id == r.division_id
        assert case.number == f"{r.division.code[:6]}-{case.opened_at:%Y}-{case.pk:07d}"
        events = list(case.events.all())
        assert [(e.kind, e.summary, e.actor_id) for e in events] == [
            (CaseEventKind.OPENED, f"MP-{r.pk}", seed_user.pk)
        ]
        assert not case.investigators.exists()


def test_no_record_is_a_probable_duplicate_of_another(seeded: str) -> None:
    for r in demo_missing():
        data = MissingReportData(
            full_name=r.full_name,
            sex=r.sex,
            last_seen_at=r.last_seen_at,
            last_seen_division=r.last_seen_division,
            date_of_birth=r.date_of_birth,
            age_at_disappearance=r.age_at_disappearance,
        )
        assert find_duplicate_reports(data, exclude_id=r.pk) == [], r.pk
    for p in demo_found():
        found = FoundPersonData(
            category=p.category,
            sex=p.sex,
            found_on=p.found_on,
            found_division=p.found_division,
            age_min=p.age_min,
            age_max=p.age_max,
            given_name=p.given_name,
        )
        assert find_duplicate_found(found, exclude_id=p.pk) == [], p.pk


def test_names_are_searchable_by_pinyin(seeded: str) -> None:
    supervisor = User.objects.get(username="demo-ministry-supervisor")
    for r in demo_missing()[:10]:
        for text in (r.name_pinyin, r.name_pinyin.replace(" ", ""), r.full_name):
            hits = search_missing(acting_user=supervisor, filters=MissingFilters(text=text))
            assert r.pk in set(hits.values_list("pk", flat=True)), text


def test_running_twice_creates_nothing_new_and_the_audit_chain_holds(seeded: str) -> None:
    before = counts()
    again = run_demo(*SMALL)
    assert counts() == before
    assert "none added" in again
    call_command("audit", "verify", stdout=io.StringIO())
    entries = AuditEntry.objects.filter(object_type=demo.SEED_OBJECT_TYPE)
    assert entries.count() == 1
    details = entries.get().details
    assert details["missing_reports"] == 40
    assert details["found_persons"] == 60
    assert details["cases"] == 40
    assert set(details) == {"seed", "units", "users", "missing_reports", "found_persons", "cases"}


def test_a_larger_size_tops_up_only_the_difference(seeded: str) -> None:
    run_demo("--missing", "45", "--found", "60", "--no-serve")
    assert len(demo_missing()) == 45
    assert len(demo_found()) == 60
    assert (
        Case.objects.filter(missing_report__created_by__username=demo.SEED_USERNAME).count() == 45
    )
    assert AuditEntry.objects.filter(object_type=demo.SEED_OBJECT_TYPE).count() == 2
    call_command("audit", "verify", stdout=io.StringIO())


def test_the_same_seed_draws_the_same_records(seeded: str) -> None:
    units, created = demo.ensure_units()
    assert created == 0
    today = timezone.localdate()
    first = demo._draw_missing(demo._rng(7, "missing", 3, 0), units.counties, today)
    second = demo._draw_missing(demo._rng(7, "missing", 3, 0), units.counties, today)
    other = demo._draw_missing(demo._rng(8, "missing", 3, 0), units.counties, today)
    assert first.data == second.data
    assert first.data != other.data
