"""User administration over HTTP: creating, listing, reassigning, deactivating, new passwords."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from reunite.accounts.models import OrganisationKind, Role, User
from reunite.audit.models import AuditAction, AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

BEIJING, CHAOYANG, HAIDIAN, SHANGHAI_HUANGPU = "110000", "110105", "110108", "310101"
STRONG = "Plum-blossom-river-42"
XSS = "<script>alert('x')</script>"
XSS_ESCAPED = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    """The administrator of Beijing (a province-level municipality)."""
    return make_user(Role.ADMINISTRATOR, BEIJING)


@pytest.fixture
def admin_client(client: Client, admin: User) -> Client:
    client.force_login(admin)
    return client


def user_form(unit_id: object, **overrides: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "username": "wang.fang",
        "full_name": "王芳",
        "email": "wang.fang@example.org",
        "role": "investigator",
        "organisation": str(unit_id),
        "password1": STRONG,
        "password2": STRONG,
    }
    data.update(overrides)
    return data


def create(client: Client, data: dict[str, Any]) -> Any:
    return client.post(reverse("accounts:user_create"), data)


# --------------------------------------------------------------------------- creating


def test_create_user_who_can_then_sign_in(admin_client, make_org) -> None:
    unit = make_org(CHAOYANG)
    form = admin_client.get(reverse("accounts:user_create")).content.decode()
    assert f'<option value="{unit.pk}">' in form
    assert 'autocomplete="new-password"' in form
    assert "Partner staff: welfare institution: Welfare institution or Rescue" in form
    response = create(admin_client, user_form(unit.pk))
    created = User.objects.get(username="wang.fang")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:user_detail", args=[created.pk])
    page = admin_client.get(response["Location"]).content.decode()
    assert "The user was created." in page and "王芳" in page and "北京市 朝阳区" in page
    fresh = Client()
    assert fresh.login(username="wang.fang", password=STRONG)
    assert fresh.get(reverse("home")).status_code == 200
    assert STRONG not in str(list(AuditEntry.objects.values_list("details", flat=True)))


def test_create_form_preselects_the_unit_it_came_from(admin_client, make_org) -> None:
    unit = make_org(HAIDIAN)
    far = make_org(SHANGHAI_HUANGPU)
    html = admin_client.get(reverse("accounts:user_create"), {"unit": unit.pk}).content.decode()
    assert f'<option value="{unit.pk}" selected>' in html
    outside = admin_client.get(reverse("accounts:user_create"), {"unit": far.pk})
    assert f'value="{far.pk}"' not in outside.content.decode()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Zq9.k", "This password is too short."),
        ("password123", "This password is too common."),
        ("73920184653", "This password is entirely numeric."),
        ("wang.fang.01", "The password is too similar to the username."),
    ],
)
def test_weak_password_shows_on_the_field_and_saves_nothing(
    admin_client, admin, password, message
) -> None:
    response = create(
        admin_client, user_form(admin.organisation_id, password1=password, password2=password)
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    assert '<ul class="errorlist" id="id_password1_error">' in html
    assert 'aria-invalid="true" aria-describedby="id_password1_helptext id_password1_error"' in html
    assert 'value="wang.fang"' in html  # the rest of the form is kept
    assert password not in html  # passwords are never sent back
    assert not User.objects.filter(username="wang.fang").exists()
    assert not AuditEntry.objects.filter(action=AuditAction.CREATE).exists()


def test_passwords_must_match(admin_client, admin) -> None:
    response = create(admin_client, user_form(admin.organisation_id, password2=STRONG + "x"))
    assert response.status_code == 422
    assert "The two passwords differ." in response.content.decode()
    assert not User.objects.filter(username="wang.fang").exists()


@pytest.mark.parametrize("username", ["wang.fang", "WANG.FANG", "Wang.Fang", " wang.fang "])
def test_duplicate_usernames_regardless_of_case(admin_client, admin, username) -> None:
    assert create(admin_client, user_form(admin.organisation_id)).status_code == 302
    response = create(admin_client, user_form(admin.organisation_id, username=username))
    assert response.status_code == 422
    assert "is already taken" in response.content.decode()
    assert User.objects.filter(username__iexact="wang.fang").count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"role": "superuser"}, "Choose a role from the list."),
        ({"role": XSS}, "Choose a role from the list."),
        ({"role": ""}, "This field is required."),
        ({"organisation": "987654321"}, "There is no such unit."),
        ({"organisation": str(2**63)}, "There is no such unit."),
        ({"organisation": "9" * 40}, "There is no such unit."),
        ({"organisation": "abc"}, "Choose a unit from the list."),
        ({"organisation": "-1"}, "Choose a unit from the list."),
        ({"organisation": "١٢"}, "Choose a unit from the list."),  # non-ASCII digits
        ({"username": "wang fang"}, "Enter a valid username."),
        ({"username": XSS}, "Enter a valid username."),
        ({"email": "nobody"}, "Give a valid e-mail address, or leave it empty."),
    ],
)
def test_bad_user_input_is_an_error_not_a_crash(admin_client, admin, overrides, message) -> None:
    before = User.objects.count()
    response = create(admin_client, user_form(admin.organisation_id, **overrides))
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    assert XSS not in html
    assert User.objects.count() == before


def test_role_must_suit_the_kind_of_unit(admin_client, make_org) -> None:
    clinic = make_org(CHAOYANG, OrganisationKind.HEALTH, name="朝阳医院")
    response = create(admin_client, user_form(clinic.pk, role="investigator"))
    assert response.status_code == 422
    html = response.content.decode()
    assert "朝阳医院 is a unit of kind “Health”, which does not suit the role." in html
    assert "Investigator: Public security bureau." in html
    assert not User.objects.filter(username="wang.fang").exists()
    ok = create(admin_client, user_form(clinic.pk, role="partner_health"))
    assert ok.status_code == 302
    assert User.objects.get(username="wang.fang").organisation_id == clinic.pk


def test_user_in_another_province_is_refused(admin_client, admin, make_org) -> None:
    far = make_org(SHANGHAI_HUANGPU)
    response = create(admin_client, user_form(far.pk))
    assert response.status_code == 422
    assert "This unit lies outside your jurisdiction." in response.content.decode()
    assert not User.objects.filter(username="wang.fang").exists()
    denied = AuditEntry.objects.get(action=AuditAction.DENIED)
    assert denied.actor_id == admin.pk and denied.details["reason"] == "unit_outside_jurisdiction"


def test_names_and_emails_are_shown_escaped(admin_client, admin) -> None:
    response = create(
        admin_client,
        user_form(admin.organisation_id, full_name=XSS, email="a+<b>@example.org"),
    )
    # The address is refused (and shown escaped); the name is accepted and shown escaped.
    assert response.status_code == 422
    assert "<b>" not in response.content.decode()
    response = create(admin_client, user_form(admin.organisation_id, full_name=XSS))
    assert response.status_code == 302
    for url in (response["Location"], reverse("accounts:user_list")):
        html = admin_client.get(url).content.decode()
        assert XSS not in html and XSS_ESCAPED in html


# --------------------------------------------------------------------------- listing


def test_user_list_filters_and_scope(admin_client, admin, make_user) -> None:
    chaoyang = make_user(Role.INVESTIGATOR, CHAOYANG)
    lab = make_user(Role.DNA_TECHNICIAN, HAIDIAN, OrganisationKind.FORENSIC_LAB)
    lab.is_active = False
    lab.save()
    far = make_user(Role.INVESTIGATOR, SHANGHAI_HUANGPU)
    url = reverse("accounts:user_list")

    def listed(**params: Any) -> set[str]:
        response = admin_client.get(url, params)
        assert response.status_code == 200
        return {u.username for u in response.context["page"].object_list}

    assert listed() == {admin.username, chaoyang.username, lab.username}
    assert listed(role="dna_technician") == {lab.username}
    assert listed(active="no") == {lab.username}
    assert listed(active="yes") == {admin.username, chaoyang.username}
    assert listed(unit=chaoyang.organisation_id) == {chaoyang.username}
    assert listed(unit=far.organisation_id) == set()
    assert listed(unit="9" * 40) == set()  # no such unit (and far beyond any id)
    assert far.username not in admin_client.get(url).content.decode()
    html = admin_client.get(url, {"active": "no", "role": "dna_technician"}).content.decode()
    assert '<option value="no" selected>' in html
    assert '<option value="dna_technician" selected>' in html
    assert f'href="{reverse("accounts:user_detail", args=[lab.pk])}"' in html


@pytest.mark.parametrize(
    "params",
    [
        {"role": "bogus"},
        {"role": XSS},
        {"unit": "abc"},
        {"unit": "-3"},
        {"active": "maybe"},
        {"page": "abc"},
        {"page": "999999999999999999999999"},
    ],
)
def test_user_list_shrugs_off_hostile_parameters(admin_client, admin, params) -> None:
    response = admin_client.get(reverse("accounts:user_list"), params)
    assert response.status_code == 200
    assert [u.pk for u in response.context["page"].object_list] == [admin.pk]
    assert XSS not in response.content.decode()


def test_user_list_query_count_does_not_grow(
    admin_client, make_user, django_assert_max_num_queries
) -> None:
    make_user(Role.INVESTIGATOR, CHAOYANG)
    with django_assert_max_num_queries(16) as few:
        assert admin_client.get(reverse("accounts:user_list")).status_code == 200
    for code in ("110101", "110102", "110106", "110107", "110109"):
        make_user(Role.INVESTIGATOR, code)
    with django_assert_max_num_queries(16) as many:
        response = admin_client.get(reverse("accounts:user_list"))
    assert len(response.context["page"].object_list) == 7
    assert len(many.captured_queries) == len(few.captured_queries)


# --------------------------------------------------------------------------- changing


def test_change_role_and_unit(admin_client, make_user, make_org) -> None:
    target = make_user(Role.INVESTIGATOR, CHAOYANG)
    lab = make_org(HAIDIAN, OrganisationKind.FORENSIC_LAB)
    url = reverse("accounts:user_assignment", args=[target.pk])
    no_unit = admin_client.post(url, {"role": "dna_technician", "organisation": ""})
    assert no_unit.status_code == 422
    assert 'id="assignment-errors"' in no_unit.content.decode()
    mismatch = admin_client.post(
        url, {"role": "dna_technician", "organisation": str(target.organisation_id)}
    )
    assert mismatch.status_code == 422
    assert "does not suit the role" in mismatch.content.decode()
    target.refresh_from_db()
    assert target.role == Role.INVESTIGATOR
    response = admin_client.post(url, {"role": "dna_technician", "organisation": str(lab.pk)})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role == Role.DNA_TECHNICIAN and target.organisation_id == lab.pk
    assert (
        "The role and unit were saved." in admin_client.get(response["Location"]).content.decode()
    )


def test_an_administrator_cannot_touch_their_own_account_here(admin_client, admin) -> None:
    page = admin_client.get(reverse("accounts:user_detail", args=[admin.pk])).content.decode()
    assert "This is your own account." in page
    assert reverse("accounts:user_active", args=[admin.pk]) not in page
    response = admin_client.post(reverse("accounts:user_active", args=[admin.pk]), {"active": "0"})
    assert response.status_code == 422
    assert "You cannot deactivate your own account." in response.content.decode()
    demote = admin_client.post(
        reverse("accounts:user_assignment", args=[admin.pk]),
        {"role": "investigator", "organisation": str(admin.organisation_id)},
    )
    assert demote.status_code == 422
    assert "You cannot change your own role or unit" in demote.content.decode()
    reset = admin_client.post(
        reverse("accounts:user_password", args=[admin.pk]),
        {"password1": STRONG, "password2": STRONG},
    )
    assert reset.status_code == 422
    assert "Change your own password on your account page." in reset.content.decode()
    admin.refresh_from_db()
    assert admin.is_active and admin.role == Role.ADMINISTRATOR and admin.check_password(PASSWORD)


def test_deactivation_signs_the_user_out_and_reactivation_lets_them_back(
    admin_client, make_user
) -> None:
    target = make_user(Role.INVESTIGATOR, CHAOYANG)
    theirs = Client()
    theirs.force_login(target)
    assert theirs.get(reverse("home")).status_code == 200
    url = reverse("accounts:user_active", args=[target.pk])
    response = admin_client.post(url, {"active": "0"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert not target.is_active
    assert "The account was deactivated." in admin_client.get(response["Location"]).content.decode()
    assert theirs.get(reverse("home")).status_code == 302  # their session no longer counts
    assert not Client().login(username=target.username, password=PASSWORD)
    assert admin_client.post(url, {"active": "1"}).status_code == 302
    assert Client().login(username=target.username, password=PASSWORD)
    bogus = admin_client.post(url, {"active": XSS})
    assert bogus.status_code == 422 and XSS not in bogus.content.decode()
    assert "Choose whether the account is active." in bogus.content.decode()


def test_password_reset_ends_the_users_sessions(admin_client, make_user) -> None:
    target = make_user(Role.INVESTIGATOR, CHAOYANG)
    theirs = Client()
    assert theirs.login(username=target.username, password=PASSWORD)
    url = reverse("accounts:user_password", args=[target.pk])
    weak = admin_client.post(url, {"password1": "1234567890", "password2": "1234567890"})
    assert weak.status_code == 422
    assert "This password is entirely numeric." in weak.content.decode()
    target.refresh_from_db()
    assert target.check_password(PASSWORD)
    response = admin_client.post(url, {"password1": STRONG, "password2": STRONG})
    assert response.status_code == 302
    assert "The new password was set." in admin_client.get(response["Location"]).content.decode()
    assert theirs.get(reverse("home")).status_code == 302
    assert Client().login(username=target.username, password=STRONG)
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, object_type="user")
    assert entry.details == {"fields": ["password"], "reset_by_administrator": True}


def test_users_of_another_province_are_refused(admin_client, admin, make_user) -> None:
    far = make_user(Role.INVESTIGATOR, SHANGHAI_HUANGPU)
    assert admin_client.get(reverse("accounts:user_detail", args=[far.pk])).status_code == 403
    for name, data in [
        ("accounts:user_active", {"active": "0"}),
        ("accounts:user_password", {"password1": STRONG, "password2": STRONG}),
        ("accounts:user_assignment", {"role": "supervisor", "organisation": ""}),
    ]:
        assert admin_client.post(reverse(name, args=[far.pk]), data).status_code == 403, name
    far.refresh_from_db()
    assert far.is_active and far.check_password(PASSWORD) and far.role == Role.INVESTIGATOR
    assert AuditEntry.objects.filter(action=AuditAction.DENIED, actor=admin).count() == 4
