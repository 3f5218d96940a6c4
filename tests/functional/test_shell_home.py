"""The home dashboard: live counts within the user's jurisdiction, who the user is, quick links."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from reunite.accounts.models import Division, OrganisationKind, Role
from reunite.people.models import FoundCategory
from reunite.people.services import (
    FoundPersonData,
    MissingReportData,
    create_found_person,
    create_missing_report,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _static_root(settings) -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def report_in(user, code: str, name: str):
    return create_missing_report(
        acting_user=user,
        data=MissingReportData(
            full_name=name,
            sex="F",
            last_seen_at=timezone.now() - dt.timedelta(days=3),
            last_seen_division=Division.objects.get(code=code),
            age_at_disappearance=9,
        ),
        confirm_not_duplicate=True,
    )


def found_in(user, code: str):
    return create_found_person(
        acting_user=user,
        data=FoundPersonData(
            category=FoundCategory.STREET_BEGGING,
            sex="M",
            found_on=timezone.localdate() - dt.timedelta(days=2),
            found_division=Division.objects.get(code=code),
            age_min=10,
            age_max=14,
        ),
        confirm_not_duplicate=True,
    )


def figures(response) -> dict[str, int]:
    return {f.key: f.value for f in response.context["figures"]}


def test_counts_are_scoped_to_the_jurisdiction(client, make_user) -> None:
    chaoyang = make_user(Role.INVESTIGATOR, "110105")
    haidian = make_user(Role.INVESTIGATOR, "110108")
    report_in(chaoyang, "110105", "王小红")
    report_in(haidian, "110108", "李明")
    report_in(haidian, "110108", "张伟")
    found_in(haidian, "110108")

    client.force_login(chaoyang)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    mine = figures(response)
    assert mine["missing_open"] == 1
    assert mine["missing_recent"] == 1
    assert mine["found_unidentified"] == 0
    assert mine["cases_open"] == 1

    client.force_login(make_user(Role.SUPERVISOR, "110000"))  # Beijing, the whole municipality
    province = figures(client.get(reverse("home")))
    assert province["missing_open"] == 3
    assert province["found_unidentified"] == 1
    assert province["cases_open"] == 3


def test_counts_link_to_filtered_lists(client, investigator) -> None:
    report_in(investigator, "110105", "王小红")
    client.force_login(investigator)
    html = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("people:missing_list")}?status=missing"' in html
    assert f'href="{reverse("people:found_list")}?status=unidentified"' in html
    assert f'href="{reverse("cases:list")}?status=active"' in html
    # The filtered case list shows exactly the counted cases.
    listed = client.get(reverse("cases:list"), {"status": "active"})
    assert listed.context["page"].paginator.count == 1


def test_only_the_keys_a_role_has_are_shown(client, make_user) -> None:
    partner = make_user(Role.PARTNER_WELFARE, "110105", OrganisationKind.WELFARE_INSTITUTION)
    client.force_login(partner)
    response = client.get(reverse("home"))
    assert set(figures(response)) == {"found_unidentified", "found_identified"}
    html = response.content.decode()
    assert reverse("people:found_create") in html
    assert reverse("people:missing_create") not in html
    assert reverse("cases:list") not in html


def test_who_am_i_and_quick_links(client, investigator) -> None:
    client.force_login(investigator)
    html = client.get(reverse("home")).content.decode()
    assert "Investigator" in html
    assert investigator.organisation.name in html
    assert "北京市 朝阳区" in html  # Division.full_name, the municipality said once
    assert reverse("people:missing_create") in html
    assert reverse("people:found_create") in html


def test_supervisor_gets_no_registration_links(client, make_user) -> None:
    client.force_login(make_user(Role.SUPERVISOR, "110000"))
    html = client.get(reverse("home")).content.decode()
    assert reverse("people:missing_create") not in html
    assert reverse("people:found_create") not in html


def test_counts_partial_refreshes_with_htmx(client, investigator) -> None:
    client.force_login(investigator)
    html = client.get(reverse("home")).content.decode()
    assert f'hx-get="{reverse("home_counts")}"' in html
    assert 'hx-trigger="every 60s"' in html
    before = client.get(reverse("home_counts"), HTTP_HX_REQUEST="true")
    assert before.status_code == 200
    assert "<html" not in before.content.decode()
    assert figures(before)["missing_open"] == 0
    report_in(investigator, "110105", "王小红")
    after = client.get(reverse("home_counts"), HTTP_HX_REQUEST="true")
    assert figures(after)["missing_open"] == 1


def test_counts_partial_sends_a_signed_out_browser_to_sign_in(client, db) -> None:
    response = client.get(reverse("home_counts"), HTTP_HX_REQUEST="true")
    assert response.status_code == 401
    assert response["HX-Redirect"] == f"{reverse('accounts:login')}?next=/"
    assert response.content == b""
