"""Every user's own account page and password change."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from reunite.accounts.models import OrganisationKind, Role
from reunite.audit.models import AuditAction, AuditEntry
from reunite.audit.services import verify
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "Plum-blossom-river-42"


def change(client: Client, old: str, new1: str, new2: str | None = None):
    return client.post(
        reverse("accounts:password_change"),
        {"old_password": old, "new_password1": new1, "new_password2": new2 or new1},
    )


@pytest.mark.parametrize(
    ("role", "code", "kind", "role_label", "place"),
    [
        (
            Role.INVESTIGATOR,
            "110105",
            OrganisationKind.PUBLIC_SECURITY,
            "Investigator",
            "北京市 朝阳区",
        ),
        (
            Role.PARTNER_WELFARE,
            "440106",
            OrganisationKind.RESCUE_STATION,
            "Partner staff: welfare institution",
            "广东省 广州市 天河区",
        ),
        (
            Role.ADMINISTRATOR,
            "CN",
            OrganisationKind.PUBLIC_SECURITY,
            "Administrator",
            "中华人民共和国",
        ),
    ],
)
def test_my_account_shows_role_unit_and_jurisdiction(
    client, make_user, role, code, kind, role_label, place
) -> None:
    user = make_user(role, code, kind)
    client.force_login(user)
    response = client.get(reverse("accounts:my_account"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<dd>{role_label}</dd>" in html
    assert f"<dd>{user.organisation.name}</dd>" in html
    assert f"<dd>{place}</dd>" in html
    assert f'href="{reverse("accounts:password_change")}"' in html
    assert (reverse("accounts:user_list") in html) == (role == Role.ADMINISTRATOR)


def test_my_account_without_a_unit(client, django_user_model) -> None:
    loose = django_user_model.objects.create_user(username="loose", password=PASSWORD)
    client.force_login(loose)
    html = client.get(reverse("accounts:my_account")).content.decode()
    assert "No role assigned" in html and "No unit assigned" in html


@pytest.mark.parametrize("name", ["accounts:my_account", "accounts:password_change"])
def test_account_pages_need_sign_in(client, name) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_change_own_password(client, investigator) -> None:
    client.force_login(investigator)
    form = client.get(reverse("accounts:password_change")).content.decode()
    assert 'autocomplete="current-password"' in form and 'autocomplete="new-password"' in form
    response = change(client, PASSWORD, NEW)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:my_account")
    page = client.get(response["Location"])
    assert page.status_code == 200  # still signed in
    assert "Your password was changed." in page.content.decode()
    investigator.refresh_from_db()
    assert investigator.check_password(NEW)
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, object_type="user")
    assert entry.actor_id == investigator.pk and entry.object_id == str(investigator.pk)
    assert entry.details == {"fields": ["password"]}
    assert NEW not in str(list(AuditEntry.objects.values_list("details", flat=True)))
    assert verify().ok
    assert Client().login(username=investigator.username, password=NEW)


@pytest.mark.parametrize(
    ("old", "new1", "new2", "message"),
    [
        ("wrong-password-1", NEW, NEW, "Your old password was entered incorrectly."),
        (PASSWORD, "Zq9.k", "Zq9.k", "This password is too short."),
        (PASSWORD, "password123", "password123", "This password is too common."),
        (PASSWORD, "83920174652", "83920174652", "This password is entirely numeric."),
        (PASSWORD, NEW, NEW + "x", "The two password fields didn’t match."),
    ],
)
def test_bad_password_changes_save_nothing(client, investigator, old, new1, new2, message) -> None:
    client.force_login(investigator)
    response = change(client, old, new1, new2)
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    assert 'role="alert"' in html and 'aria-invalid="true"' in html
    investigator.refresh_from_db()
    assert investigator.check_password(PASSWORD)
    assert not AuditEntry.objects.filter(action=AuditAction.UPDATE).exists()


def test_password_change_needs_csrf(investigator) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(investigator)
    response = change(strict, PASSWORD, NEW)
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    investigator.refresh_from_db()
    assert investigator.check_password(PASSWORD)
