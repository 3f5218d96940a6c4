"""Signing in and out through the real login page: audit entries and the address throttle."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.urls import reverse

from reunite.accounts.models import Role
from reunite.audit.models import AuditAction, AuditEntry
from reunite.audit.services import verify
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _static_root(settings) -> None:
    # WhiteNoise warns (an error under our warning filter) when STATIC_ROOT does not exist yet.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _sign_in(client, username: str, password: str, ip: str = "203.0.113.7"):
    return client.post(
        reverse("accounts:login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def test_login_page_is_accessible(client) -> None:
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username"' in html
    assert '<label for="id_password"' in html
    assert 'autocomplete="username"' in html
    assert 'autocomplete="current-password"' in html
    # Not signed in: no registry links in the navigation.
    assert reverse("cases:list") not in html


def test_pages_need_a_signed_in_user(client) -> None:
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next=/"


def test_sign_in_succeeds_and_is_audited(client, investigator) -> None:
    response = _sign_in(client, investigator.username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(investigator.pk)
    entry = AuditEntry.objects.get(action=AuditAction.LOGIN)
    assert entry.actor_id == investigator.pk
    assert entry.actor_username == investigator.username
    assert entry.source_ip == "203.0.113.7"
    assert verify().ok


def test_sign_in_honours_a_local_next_address(client, investigator) -> None:
    response = client.post(
        reverse("accounts:login"),
        {"username": investigator.username, "password": PASSWORD, "next": reverse("cases:list")},
    )
    assert response["Location"] == reverse("cases:list")


def test_failed_sign_in_is_announced_and_audited_without_the_username(client, investigator) -> None:
    response = _sign_in(client, investigator.username, "not-the-password")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "correct username and password" in html
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.get(action=AuditAction.LOGIN_FAILED)
    assert entry.actor_id is None
    assert entry.actor_username == ""
    assert entry.details == {}
    assert entry.source_ip == "203.0.113.7"
    stored = json.dumps(
        [entry.object_type, entry.object_id, entry.user_agent, entry.details], ensure_ascii=False
    )
    assert investigator.username not in stored


def test_unknown_username_is_audited_the_same_way(client, db) -> None:
    _sign_in(client, "nobody-such", "whatever-it-is")
    entry = AuditEntry.objects.get(action=AuditAction.LOGIN_FAILED)
    assert entry.actor_id is None and entry.details == {}
    assert "nobody-such" not in json.dumps([entry.object_id, entry.details])


def test_empty_form_shows_field_errors(client, db) -> None:
    response = _sign_in(client, "", "")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_username_error"' in html
    assert 'id="id_username_error"' in html


def test_throttle_after_ten_failures_from_one_address(client, investigator) -> None:
    for _ in range(10):
        assert _sign_in(client, investigator.username, "wrong-password").status_code == 200
    # The eleventh attempt is refused even with the right password.
    response = _sign_in(client, investigator.username, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    failures = AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED).order_by("seq")
    assert failures.count() == 11
    assert failures.last().details == {"throttled": True}
    assert not AuditEntry.objects.filter(action=AuditAction.LOGIN).exists()
    # Another address is not affected.
    other = _sign_in(client, investigator.username, PASSWORD, ip="198.51.100.20")
    assert other.status_code == 302


def test_nine_failures_do_not_block(client, investigator) -> None:
    for _ in range(9):
        _sign_in(client, investigator.username, "wrong-password")
    assert _sign_in(client, investigator.username, PASSWORD).status_code == 302


def test_throttle_lifts_after_the_window(client, investigator, settings) -> None:
    settings.SIGNIN_THROTTLE_LIMIT = 2
    settings.SIGNIN_THROTTLE_WINDOW_S = 1
    _sign_in(client, investigator.username, "wrong-password")
    _sign_in(client, investigator.username, "wrong-password")
    assert _sign_in(client, investigator.username, PASSWORD).status_code == 429
    time.sleep(1.2)
    assert _sign_in(client, investigator.username, PASSWORD).status_code == 302


def test_sign_out_needs_post_and_returns_to_the_login_page(client, make_user) -> None:
    user = make_user(Role.SUPERVISOR, "110000")
    client.force_login(user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session


def test_signed_in_user_visiting_login_goes_home(client, investigator) -> None:
    client.force_login(investigator)
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_sign_in_refuses_an_outside_next_address(client, investigator) -> None:
    response = client.post(
        reverse("accounts:login"),
        {"username": investigator.username, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
