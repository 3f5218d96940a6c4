"""Role × jurisdiction: a county sees its county, a province its subtree, the ministry all."""

from __future__ import annotations

import pytest

from reunite.accounts.models import OrganisationKind, Role
from reunite.accounts.permissions import ROLE_ACTIONS, Action, can, scope_q
from reunite.people.models import MissingPersonReport
from reunite.people.services import MissingReportData, create_missing_report
from tests.conftest import days_ago, division

CHAOYANG, HAIDIAN, BEIJING_CITY, BEIJING, GUANGZHOU_TIANHE = (
    "110105",
    "110108",
    "110100",
    "110000",
    "440106",
)


def _report_in(user, code: str, name: str) -> MissingPersonReport:
    data = MissingReportData(
        full_name=name,
        sex="M",
        last_seen_at=days_ago(2),
        last_seen_division=division(code),
        age_at_disappearance=8,
    )
    return create_missing_report(acting_user=user, data=data)


@pytest.mark.django_db
def test_county_sees_own_county_province_sees_subtree_ministry_all(make_user) -> None:
    chaoyang = make_user(Role.INVESTIGATOR, CHAOYANG)
    haidian = make_user(Role.INVESTIGATOR, HAIDIAN)
    tianhe = make_user(Role.INVESTIGATOR, GUANGZHOU_TIANHE)
    r1 = _report_in(chaoyang, CHAOYANG, "甲一")
    r2 = _report_in(haidian, HAIDIAN, "乙二")
    r3 = _report_in(tianhe, GUANGZHOU_TIANHE, "丙三")

    def visible(user) -> set[int]:
        return set(
            MissingPersonReport.objects.filter(scope_q(user, Action.VIEW_MISSING)).values_list(
                "pk", flat=True
            )
        )

    assert visible(chaoyang) == {r1.pk}
    assert visible(haidian) == {r2.pk}
    assert visible(make_user(Role.SUPERVISOR, BEIJING)) == {r1.pk, r2.pk}
    assert visible(make_user(Role.SUPERVISOR, BEIJING_CITY)) == {r1.pk, r2.pk}
    assert visible(make_user(Role.SUPERVISOR, "440000")) == {r3.pk}
    ministry = make_user(Role.SUPERVISOR, "CN")
    assert visible(ministry) == {r1.pk, r2.pk, r3.pk}


@pytest.mark.django_db
def test_role_decides_what_jurisdiction_allows(make_user) -> None:
    chaoyang = division(CHAOYANG)
    welfare = make_user(Role.PARTNER_WELFARE, CHAOYANG, OrganisationKind.WELFARE_INSTITUTION)
    lab = make_user(Role.DNA_TECHNICIAN, BEIJING, OrganisationKind.FORENSIC_LAB)
    admin = make_user(Role.ADMINISTRATOR, "CN")
    assert can(welfare, Action.EDIT_FOUND, chaoyang)
    assert not can(welfare, Action.VIEW_MISSING, chaoyang)
    assert can(lab, Action.VIEW_MISSING, chaoyang)
    assert not can(lab, Action.EDIT_MISSING, chaoyang)
    assert not can(admin, Action.VIEW_MISSING, chaoyang)
    assert can(admin, Action.MANAGE_ACCOUNTS)


@pytest.mark.django_db
def test_inactive_users_and_users_without_unit_may_do_nothing(make_user) -> None:
    user = make_user(Role.INVESTIGATOR, CHAOYANG)
    user.is_active = False
    assert not can(user, Action.VIEW_MISSING, division(CHAOYANG))
    user.is_active = True
    user.organisation = None
    assert not can(user, Action.VIEW_MISSING, division(CHAOYANG))
    assert not MissingPersonReport.objects.filter(scope_q(user, Action.VIEW_MISSING)).exists()


def test_every_role_has_an_entry() -> None:
    assert set(ROLE_ACTIONS) == set(Role.values)
