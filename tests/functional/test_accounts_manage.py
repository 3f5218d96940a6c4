"""Account administration over HTTP: who may open it, CSRF, and the unit pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from reunite.accounts.models import Organisation, OrganisationKind, Role, User
from reunite.audit.models import AuditAction, AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

BEIJING, CHAOYANG, HAIDIAN, SHANGHAI_HUANGPU = "110000", "110105", "110108", "310101"
STRONG = "Plum-blossom-river-42"
XSS = "<script>alert('x')</script>"


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    """The administrator of Beijing (a province-level municipality)."""
    return make_user(Role.ADMINISTRATOR, BEIJING)


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    url: Callable[[User, Organisation], str]
    data: Callable[[User, Organisation], dict[str, Any]] = lambda _u, _o: {}


ENDPOINTS = [
    Endpoint("unit list", "get", lambda _u, _o: reverse("accounts:organisation_list")),
    Endpoint("unit form", "get", lambda _u, _o: reverse("accounts:organisation_create")),
    Endpoint(
        "unit create",
        "post",
        lambda _u, _o: reverse("accounts:organisation_create"),
        lambda _u, _o: {"name": "新单位", "kind": "public_security", "division": CHAOYANG},
    ),
    Endpoint(
        "unit detail", "get", lambda _u, o: reverse("accounts:organisation_detail", args=[o.pk])
    ),
    Endpoint(
        "unit rename",
        "post",
        lambda _u, o: reverse("accounts:organisation_detail", args=[o.pk]),
        lambda _u, _o: {"name": "新名"},
    ),
    Endpoint("user list", "get", lambda _u, _o: reverse("accounts:user_list")),
    Endpoint("user form", "get", lambda _u, _o: reverse("accounts:user_create")),
    Endpoint(
        "user create",
        "post",
        lambda _u, _o: reverse("accounts:user_create"),
        lambda _u, o: {
            "username": "newcomer",
            "role": "investigator",
            "organisation": str(o.pk),
            "password1": STRONG,
            "password2": STRONG,
        },
    ),
    Endpoint("user detail", "get", lambda u, _o: reverse("accounts:user_detail", args=[u.pk])),
    Endpoint(
        "user assignment",
        "post",
        lambda u, _o: reverse("accounts:user_assignment", args=[u.pk]),
        lambda _u, o: {"role": "supervisor", "organisation": str(o.pk)},
    ),
    Endpoint(
        "user deactivate",
        "post",
        lambda u, _o: reverse("accounts:user_active", args=[u.pk]),
        lambda _u, _o: {"active": "0"},
    ),
    Endpoint(
        "user password",
        "post",
        lambda u, _o: reverse("accounts:user_password", args=[u.pk]),
        lambda _u, _o: {"password1": STRONG, "password2": STRONG},
    ),
]
POSTS = [e for e in ENDPOINTS if e.method == "post"]


def call(client: Client, endpoint: Endpoint, target: User) -> Any:
    unit = target.organisation
    assert unit is not None
    url = endpoint.url(target, unit)
    if endpoint.method == "get":
        return client.get(url)
    return client.post(url, endpoint.data(target, unit))


def assert_untouched(target: User, unit_name: str, users_before: int) -> None:
    target.refresh_from_db()
    assert target.is_active and target.role == Role.INVESTIGATOR
    assert target.check_password(PASSWORD)
    assert Organisation.objects.get(pk=target.organisation_id).name == unit_name
    assert User.objects.count() == users_before
    assert not Organisation.objects.filter(name="新单位").exists()


# --------------------------------------------------------------------------- access


def test_navigation_shows_accounts_to_administrators_only(client, admin, investigator) -> None:
    client.force_login(admin)
    html = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("accounts:user_list")}"' in html and ">Accounts</a>" in html
    page = client.get(reverse("accounts:user_list")).content.decode()
    assert f'href="{reverse("accounts:user_list")}" aria-current="page">Accounts' in page
    client.force_login(investigator)
    assert reverse("accounts:user_list") not in client.get(reverse("home")).content.decode()


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_signed_out_visitors_are_sent_to_sign_in(client, investigator, endpoint) -> None:
    response = call(client, endpoint, investigator)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")
    assert_untouched(investigator, investigator.organisation.name, User.objects.count())


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_non_administrators_get_403_and_an_audited_denial(client, make_user, endpoint) -> None:
    target = make_user(Role.INVESTIGATOR, CHAOYANG)
    supervisor = make_user(Role.SUPERVISOR, "CN")  # the ministry, but not an administrator
    users_before = User.objects.count()
    client.force_login(supervisor)
    response = call(client, endpoint, target)
    assert response.status_code == 403
    assert "You may not open this page" in response.content.decode()
    denied = AuditEntry.objects.get(action=AuditAction.DENIED)
    assert denied.actor_id == supervisor.pk
    assert denied.details["wanted"] == "manage_accounts"
    assert denied.object_type == ("organisation" if endpoint.name.startswith("unit") else "user")
    assert_untouched(target, target.organisation.name, users_before)


@pytest.mark.parametrize("endpoint", POSTS, ids=lambda e: e.name)
def test_every_change_needs_the_csrf_token(admin, make_user, endpoint) -> None:
    target = make_user(Role.INVESTIGATOR, CHAOYANG)
    users_before = User.objects.count()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin)
    response = call(strict, endpoint, target)
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    assert_untouched(target, target.organisation.name, users_before)
    # The same request with the token from the page goes through.
    page = strict.get(reverse("accounts:user_list"))
    token = page.cookies["csrftoken"].value
    unit = target.organisation
    accepted = strict.post(
        endpoint.url(target, unit),
        {**endpoint.data(target, unit), "csrfmiddlewaretoken": token},
    )
    assert accepted.status_code == 302


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/manage/units/abc/",
        "/accounts/manage/units/-1/",
        "/accounts/manage/units/987654321/",
        f"/accounts/manage/units/{2**63}/",
        f"/accounts/manage/units/{10**30}/",
        "/accounts/manage/users/987654321/",
        f"/accounts/manage/users/{2**63}/",
        f"/accounts/manage/users/{10**30}/role/",
        "/accounts/manage/users/1.5/",
    ],
)
def test_unknown_ids_are_not_found(client, admin, path) -> None:
    client.force_login(admin)
    response = client.post(path, {"name": "x"}) if path.endswith("role/") else client.get(path)
    assert response.status_code == 404


# --------------------------------------------------------------------------- units


def test_unit_list_is_scoped_to_the_jurisdiction(
    client, admin, make_org, make_user, django_assert_max_num_queries
) -> None:
    chaoyang = make_org(CHAOYANG, OrganisationKind.PUBLIC_SECURITY, name="朝阳分局")
    make_org(SHANGHAI_HUANGPU, OrganisationKind.PUBLIC_SECURITY, name="黄浦分局")
    client.force_login(admin)
    with django_assert_max_num_queries(8) as few:
        response = client.get(reverse("accounts:organisation_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "朝阳分局" in html and "黄浦分局" not in html
    assert reverse("accounts:organisation_detail", args=[chaoyang.pk]) in html
    assert {u.name for u in response.context["page"].object_list} == {
        "朝阳分局",
        admin.organisation.name,
    }
    for code in ("110101", "110102", "110106", "110107"):
        make_user(Role.INVESTIGATOR, code)
    with django_assert_max_num_queries(8) as many:
        assert client.get(reverse("accounts:organisation_list")).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_create_unit_through_the_form(client, admin) -> None:
    client.force_login(admin)
    form = client.get(reverse("accounts:organisation_create")).content.decode()
    assert '<label for="id_division">' in form and 'name="kind"' in form
    response = client.post(
        reverse("accounts:organisation_create"),
        {"name": "海淀区救助站", "kind": "rescue_station", "division": HAIDIAN},
    )
    unit = Organisation.objects.get(name="海淀区救助站")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:organisation_detail", args=[unit.pk])
    assert unit.kind == OrganisationKind.RESCUE_STATION and unit.division.code == HAIDIAN
    page = client.get(response["Location"]).content.decode()
    assert "The unit was created." in page and "北京市 海淀区" in page


def test_create_unit_in_another_province_is_refused(client, admin) -> None:
    client.force_login(admin)
    response = client.post(
        reverse("accounts:organisation_create"),
        {"name": "黄浦分局", "kind": "public_security", "division": SHANGHAI_HUANGPU},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "This division lies outside your jurisdiction." in html
    assert 'value="黄浦分局"' in html  # what was typed is kept
    assert not Organisation.objects.filter(name="黄浦分局").exists()
    assert AuditEntry.objects.filter(action=AuditAction.DENIED, actor=admin).count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "X", "kind": "public_security", "division": "999999"}, "no division"),
        ({"name": "X", "kind": "public_security", "division": "' OR 1=1 --"}, "no division"),
        ({"name": "X", "kind": "public_security", "division": "1" * 40}, "at most 24"),
        ({"name": "X", "kind": "police", "division": CHAOYANG}, "Choose the kind of unit from"),
        ({"name": "", "kind": "public_security", "division": CHAOYANG}, "required"),
        ({"name": "  ", "kind": "public_security", "division": CHAOYANG}, "required"),
        ({}, "required"),
    ],
)
def test_bad_unit_input_is_an_error_not_a_crash(client, admin, data, message) -> None:
    client.force_login(admin)
    before = Organisation.objects.count()
    response = client.post(reverse("accounts:organisation_create"), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    assert 'role="alert"' in html and 'aria-invalid="true"' in html
    assert Organisation.objects.count() == before


def test_duplicate_unit_name_is_a_clear_error(client, admin, make_org) -> None:
    make_org(CHAOYANG, OrganisationKind.PUBLIC_SECURITY, name="朝阳分局")
    client.force_login(admin)
    response = client.post(
        reverse("accounts:organisation_create"),
        {"name": "朝阳分局", "kind": "forensic_lab", "division": CHAOYANG},
    )
    assert response.status_code == 422
    assert "A unit with this name already exists in 朝阳区." in response.content.decode()
    assert Organisation.objects.filter(name="朝阳分局").count() == 1


def test_rename_unit_through_the_form(client, admin, make_org) -> None:
    unit = make_org(CHAOYANG, OrganisationKind.PUBLIC_SECURITY, name="朝阳分局")
    make_org(CHAOYANG, OrganisationKind.FORENSIC_LAB, name="朝阳实验室")
    client.force_login(admin)
    url = reverse("accounts:organisation_detail", args=[unit.pk])
    assert 'value="朝阳分局"' in client.get(url).content.decode()
    clash = client.post(url, {"name": "朝阳实验室"})
    assert clash.status_code == 422
    assert "already exists" in clash.content.decode()
    response = client.post(url, {"name": "朝阳公安分局"})
    assert response.status_code == 302 and response["Location"] == url
    unit.refresh_from_db()
    assert unit.name == "朝阳公安分局"
    assert "The unit was renamed." in client.get(url).content.decode()


def test_unit_of_another_province_is_refused(client, admin, make_org) -> None:
    far = make_org(SHANGHAI_HUANGPU, OrganisationKind.PUBLIC_SECURITY, name="黄浦分局")
    client.force_login(admin)
    url = reverse("accounts:organisation_detail", args=[far.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "改名"}).status_code == 403
    far.refresh_from_db()
    assert far.name == "黄浦分局"
    denied = AuditEntry.objects.filter(action=AuditAction.DENIED, actor=admin)
    assert [d.object_id for d in denied] == [str(far.pk), str(far.pk)]


def test_unit_names_are_shown_escaped(client, admin) -> None:
    client.force_login(admin)
    response = client.post(
        reverse("accounts:organisation_create"),
        {"name": XSS, "kind": "health", "division": CHAOYANG},
    )
    assert response.status_code == 302
    for url in (response["Location"], reverse("accounts:organisation_list")):
        html = client.get(url).content.decode()
        assert XSS not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    bad = client.post(
        reverse("accounts:organisation_create"),
        {"name": "ok", "kind": XSS, "division": XSS},
    )
    assert bad.status_code == 422 and XSS not in bad.content.decode()
