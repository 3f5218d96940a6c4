"""Error pages: our own templates, translated strings, no stack traces, safe without a user."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views.defaults import bad_request, server_error

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _static_root(settings) -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def test_unknown_address_uses_our_404(client, investigator) -> None:
    client.force_login(investigator)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert f'href="{reverse("home")}"' in html
    assert 'class="skip-link"' in html  # the site's own layout, not Django's bare page


def test_404_when_signed_out_shows_no_registry_navigation(client, db) -> None:
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert reverse("cases:list") not in response.content.decode()


def test_500_page_renders_without_a_request_context(db) -> None:
    request = RequestFactory().get("/")
    response = server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert "Traceback" not in html


def test_400_page(db) -> None:
    request = RequestFactory().get("/")
    response = bad_request(request, Exception("bad"))
    assert response.status_code == 400
    assert "The request could not be understood" in response.content.decode()


def test_error_pages_follow_the_active_language(client, investigator) -> None:
    client.force_login(investigator)
    with translation.override("zh-hans"):
        response = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 404
    assert '<html lang="zh-hans"' in response.content.decode()


def test_bad_host_header_gets_our_400_not_a_500(client, db) -> None:
    # DisallowedHost is raised before the authentication middleware has set request.user.
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "The request could not be understood" in response.content.decode()
