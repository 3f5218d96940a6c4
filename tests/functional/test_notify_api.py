"""The notify JSON API (/api/notify): partner registration by administrators, dead letters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from reunite.accounts.models import Role
from reunite.notify import services
from reunite.notify.models import Delivery, Subscriber
from tests.integration.test_notify_broadcast import CHENGDU, broadcast, person
from tests.notify_receivers import http_receiver

pytestmark = pytest.mark.django_db
URL = "/api/notify/partners"


@pytest.fixture(autouse=True)
def _setup(settings: Any) -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    settings.NOTIFY_WEBHOOK_ALLOW_LOOPBACK = True
    # Users are made per test: a fast hasher keeps the suite quick (sign-in is not tested here).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin(make_user: Any) -> Client:
    client = Client()
    client.force_login(make_user(Role.ADMINISTRATOR, "CN"))
    return client


def post(client: Client, url: str, body: Any) -> Any:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data=raw, content_type="application/json")


def test_register_read_list_and_pause(admin: Client) -> None:
    with http_receiver() as receiver:
        response = post(
            admin,
            URL,
            {
                "name": "City news",
                "kind": "media",
                "webhook_url": receiver.url + "/in",
                "webhook_secret": "m" * 24,
                "division_code": "510100",
            },
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "media" and body["channels"] == ["webhook"]
    assert body["division"] == "510100" and body["webhook_url"].endswith("/in")
    assert "secret" not in json.dumps(body)
    assert len(receiver.requests) == 1  # the signed ping
    pk = body["id"]
    assert admin.get(f"{URL}/{pk}").json()["name"] == "City news"
    assert admin.get(URL).json()["count"] == 1
    paused = post(admin, f"{URL}/{pk}/enabled", {"enabled": False})
    assert paused.json()["status"] == "disabled"
    assert post(admin, f"{URL}/{pk}/enabled", {"enabled": "no"}).status_code == 422


@pytest.mark.parametrize(
    ("changes", "status", "field", "message"),
    [
        ({"webhook_url": "http://partner.example/"}, 422, "webhook_url", "must use https"),
        ({"webhook_url": "https://192.168.1.10/"}, 422, "webhook_url", "private"),
        ({"webhook_url": "https://[fd00::1]/"}, 422, "webhook_url", "private"),
        ({"webhook_url": "https://0.0.0.0/"}, 422, "webhook_url", "private"),
        ({"webhook_url": "https://x.example/\r\nHost: evil"}, 422, "webhook_url", "not a valid"),
        ({"webhook_url": "https://x/" + "a" * 600}, 422, "webhook_url", "At most 500"),
        ({"webhook_secret": "short"}, 422, "webhook_secret", "at least 16"),
        ({"latitude": 95.0, "longitude": 104.0}, 422, "latitude", "at most 90"),
        ({"latitude": 0.0, "longitude": -30.0}, 422, "latitude", "outside every division"),
        ({"latitude": 30.0}, 422, "latitude", "both latitude and longitude"),
        ({"division_code": "99999999"}, 422, "division", "Choose a division"),
        ({"kind": "person"}, 422, "kind", "Not a valid choice"),
        ({"name": ""}, 422, "name", "Required"),
        ({"name": "n" * 201}, 422, "name", "At most 200"),
        ({"admin": True}, 422, "admin", "Unknown field"),
    ],
)
def test_hostile_registrations_are_refused(
    admin: Client, changes: dict[str, Any], status: int, field: str, message: str
) -> None:
    body = {"name": "P", "webhook_url": "https://partner.example/", "webhook_secret": "s" * 20}
    response = post(admin, URL, {**body, **changes})
    assert response.status_code == status, response.content
    errors = response.json()["errors"]
    assert field in errors, errors
    assert message.lower() in " ".join(errors[field]).lower()
    assert Subscriber.objects.count() == 0


@pytest.mark.parametrize(("status", "message"), [(302, "redirect"), (500, "HTTP 500")])
def test_endpoints_that_redirect_or_fail_the_ping_are_refused(
    admin: Client, status: int, message: str
) -> None:
    with http_receiver() as target, http_receiver(status=status, location=target.url) as receiver:
        response = post(
            admin,
            URL,
            {"name": "P", "webhook_url": receiver.url + "/", "webhook_secret": "s" * 20},
        )
    assert response.status_code == 422
    assert message in " ".join(response.json()["errors"]["webhook_url"])
    assert target.requests == []  # the redirect was not followed
    assert Subscriber.objects.count() == 0


def test_unreachable_endpoint_is_refused(admin: Client) -> None:
    with http_receiver() as receiver:
        url = receiver.url
    response = post(admin, URL, {"name": "P", "webhook_url": url, "webhook_secret": "s" * 20})
    assert response.status_code == 422
    assert "did not answer" in " ".join(response.json()["errors"]["webhook_url"])


@pytest.mark.parametrize(
    "raw", ["{", "[]", '{"name": NaN}', "x" * 10, json.dumps({"name": "a" * 100_000})]
)
def test_malformed_bodies(admin: Client, raw: str) -> None:
    assert post(admin, URL, raw).status_code == 422


def test_loopback_endpoints_need_the_setting(admin: Client, settings: Any) -> None:
    settings.NOTIFY_WEBHOOK_ALLOW_LOOPBACK = False
    response = post(
        admin, URL, {"name": "P", "webhook_url": "https://127.0.0.1/", "webhook_secret": "s" * 20}
    )
    assert response.status_code == 422
    assert "loopback" in " ".join(response.json()["errors"]["webhook_url"])


def test_nationwide_recipients_need_a_nation_level_administrator(make_user: Any) -> None:
    client = Client()
    client.force_login(make_user(Role.ADMINISTRATOR, "510000"))
    with http_receiver() as receiver:
        body = {"name": "P", "webhook_url": receiver.url, "webhook_secret": "s" * 20}
        assert post(client, URL, body).status_code == 403
        assert post(client, URL, {**body, "division_code": "510106"}).status_code == 201
        assert post(client, URL, {**body, "division_code": "110105"}).status_code == 403


def test_others_are_refused(make_user: Any) -> None:
    assert Client().get(URL).status_code == 401
    client = Client()
    client.force_login(make_user(Role.SUPERVISOR, "CN"))
    assert client.get(URL).status_code == 403
    assert post(client, URL, {"name": "P", "email": "a@b.cn"}).status_code == 403
    assert client.get("/api/notify/dead-letters").status_code == 403


def test_dead_letters_and_stats(admin: Client) -> None:
    person(*CHENGDU, email="p@example.cn")
    services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 50)
    Delivery.objects.update(status="dead", last_error="HTTP 500")
    page = admin.get("/api/notify/dead-letters").json()
    assert page["count"] == 1 and page["items"][0]["last_error"] == "HTTP 500"
    assert admin.get("/api/notify/dead-letters?limit=0").status_code == 422
    assert admin.get("/api/notify/dead-letters?bogus=1").status_code == 422
    assert admin.get("/api/notify/stats/alert:1").json() == {
        "100km": {"queued": 0, "delivered": 0, "failed": 0, "dead": 1}
    }
    assert admin.get("/api/notify/stats/" + "a" * 200).status_code == 422
    bad = post(admin, "/api/notify/dead-letters/requeue", {"ids": ["1"]})
    assert bad.status_code == 422
    done = post(admin, "/api/notify/dead-letters/requeue", {"ids": None})
    assert done.json() == {"requeued": 1}
    assert Delivery.objects.get().status == "queued"
