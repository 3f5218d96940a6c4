"""The public sign-up, confirmation and opt-out pages, and the administrators' pages, over HTTP.

Mail goes through a real SMTP server (aiosmtpd); links are followed from the mail received.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from reunite.accounts.models import Role
from reunite.audit.models import AuditEntry
from reunite.notify import services
from reunite.notify.models import Delivery, Subscriber, SubscriberStatus
from tests.integration.test_notify_broadcast import CHENGDU, broadcast, person
from tests.notify_receivers import SmtpReceiver, http_receiver, smtp_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _setup(settings: Any) -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    settings.NOTIFY_PUBLIC_BASE_URL = "http://testserver"
    # Users are made per test: a fast hasher keeps the suite quick (sign-in is not tested here).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpReceiver]:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with smtp_receiver() as receiver:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", receiver.port
        yield receiver


def link_in(mail: Any, kind: str) -> str:
    body = mail.get_payload(decode=True).decode()
    match = re.search(rf"http://testserver(/notify/{kind}/[^/\s]+/)", body)
    assert match, body
    return match.group(1)


def test_subscribe_confirm_and_opt_out(smtp: SmtpReceiver) -> None:
    client = Client()
    page = client.get("/notify/subscribe/")
    assert page.status_code == 200 and b'name="email"' in page.content
    response = client.post(
        "/notify/subscribe/", {"email": "Parent@Example.CN", "division": "510106"}
    )
    assert response.status_code == 302 and response["Location"] == "/notify/subscribe/sent/"
    sub = Subscriber.objects.get()
    assert sub.status == SubscriberStatus.PENDING and not sub.active
    assert sub.email == "parent@example.cn" and sub.division_path.endswith("/510106/")
    # Pending subscribers get no alerts.
    assert services.broadcast_in_circle(broadcast("m0"), sub.latitude, sub.longitude, 10) == 0
    (mail,) = smtp.messages
    confirm = link_in(mail, "confirm")
    assert client.get(confirm).status_code == 200  # a GET only asks
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING
    assert client.post(confirm).status_code == 200
    sub.refresh_from_db()
    assert sub.status == SubscriberStatus.ACTIVE and sub.active
    assert services.broadcast_in_circle(broadcast("m1"), sub.latitude, sub.longitude, 10) == 1
    optout = "".join(mail["List-Unsubscribe"].split()).strip("<>").removeprefix("http://testserver")
    assert client.get(optout).status_code == 200
    assert Subscriber.objects.get().active
    # One-click unsubscribe (RFC 8058) posts without a CSRF token.
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(optout, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    sub.refresh_from_db()
    assert sub.status == SubscriberStatus.OPTED_OUT and sub.email == "" and sub.email_index == ""
    assert Delivery.objects.get().status == "dead"
    # The old confirmation link cannot bring the subscription back.
    assert client.post(confirm).status_code == 400
    assert Subscriber.objects.get().status == SubscriberStatus.OPTED_OUT


def test_signing_up_again_does_not_duplicate_or_reveal(smtp: SmtpReceiver) -> None:
    client = Client()
    for _ in range(2):
        response = client.post(
            "/notify/subscribe/", {"email": "p@example.cn", "latitude": "30.6", "longitude": "104"}
        )
        assert response.status_code == 302
    assert Subscriber.objects.count() == 1
    assert len(smtp.messages) == 2
    first = link_in(smtp.messages[0], "confirm")
    assert client.post(first).status_code == 400  # superseded by the second link
    assert client.post(link_in(smtp.messages[1], "confirm")).status_code == 200


def test_sms_only_sign_up_confirms_through_the_gateway(settings: Any) -> None:
    with http_receiver() as gateway:
        settings.NOTIFY_SMS_GATEWAY_URL = gateway.url + "/send"
        response = Client().post(
            "/notify/subscribe/", {"phone": "+86 138 0000 0000", "division": "510106"}
        )
        assert response.status_code == 302
    (request,) = gateway.requests
    assert b"/notify/confirm/" in request.body and b"+8613800000000" in request.body
    assert Subscriber.objects.get().phone == "+8613800000000"


def test_a_failed_confirmation_mail_keeps_the_sign_up(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    response = Client().post("/notify/subscribe/", {"email": "p@example.cn", "division": "510106"})
    assert response.status_code == 422
    assert "could not send the confirmation" in response.content.decode()
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"division": "510106"}, "e-mail address, a mobile number, or both"),
        ({"email": "not-an-address", "division": "510106"}, "valid email"),
        ({"phone": "call me", "division": "510106"}, "mobile number of 6 to 16 digits"),
        ({"email": "p@example.cn"}, "home area"),
        ({"email": "p@example.cn", "latitude": "95", "longitude": "104"}, "less than or equal"),
        ({"email": "p@example.cn", "latitude": "nan", "longitude": "104"}, ""),
        ({"email": "p@example.cn", "latitude": "30"}, "both latitude and longitude"),
        ({"email": "p@example.cn", "latitude": "0", "longitude": "-30"}, "outside every division"),
        ({"email": "p@example.cn", "division": "999999"}, "Unknown division"),
        ({"email": "p" * 300 + "@example.cn", "division": "510106"}, "at most 254"),
        ({"email": "p@example.cn", "division": "x" * 5000}, "unknown division"),
    ],
)
def test_hostile_sign_ups_are_refused_clearly(
    smtp: SmtpReceiver, data: dict[str, str], message: str
) -> None:
    response = Client().post("/notify/subscribe/", data)
    assert response.status_code == 422
    assert message.lower() in response.content.decode().lower()
    assert Subscriber.objects.count() == 0
    assert smtp.messages == []


def test_sign_ups_from_one_address_are_rate_limited(smtp: SmtpReceiver) -> None:
    client = Client()
    statuses = [
        client.post(
            "/notify/subscribe/", {"email": f"p{i}@example.cn", "division": "510106"}
        ).status_code
        for i in range(12)
    ]
    assert statuses[:10] == [302] * 10 and statuses[10:] == [429, 429]
    assert "Too many sign-ups" in client.post("/notify/subscribe/", {}).content.decode()


@pytest.mark.parametrize("token", ["garbage", "a" * 300, "x:y:z"])
def test_forged_links_are_refused(db: None, token: str) -> None:
    client = Client()
    assert client.post(f"/notify/confirm/{token}/").status_code == 400
    assert client.get(f"/notify/optout/{token}/").status_code == 404
    assert client.post(f"/notify/optout/{token}/").status_code == 404


def test_public_pages_are_translated(smtp: SmtpReceiver) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = client.get("/notify/subscribe/")
    assert page.status_code == 200
    assert page.headers["Content-Language"] == "zh-hans"


def test_public_division_picker(db: None) -> None:
    response = Client().get("/notify/divisions/", {"q": "金牛"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"510106" in response.content


# --------------------------------------------------------------------------- administrators


@pytest.fixture
def admin_client(make_user: Any) -> Client:
    client = Client()
    client.force_login(make_user(Role.ADMINISTRATOR, "CN"))
    return client


def test_administrator_registers_pauses_and_resumes_a_partner(
    admin_client: Client, settings: Any
) -> None:
    settings.NOTIFY_WEBHOOK_ALLOW_LOOPBACK = True
    with http_receiver() as receiver:
        response = admin_client.post(
            "/notify/partners/new/",
            {
                "name": "Ride-hailing app",
                "kind": "partner",
                "webhook_url": receiver.url + "/reunite",
                "webhook_secret": "s" * 32,
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    sub = Subscriber.objects.get()
    assert sub.active and sub.endpoint is not None and sub.h3_cell is None  # nationwide
    (ping,) = receiver.requests
    assert ping.headers["x-reunite-signature"].startswith("sha256=")
    detail = admin_client.get(response["Location"])
    assert "Ride-hailing app" in detail.content.decode()
    admin_client.post(response["Location"], {"enabled": "0"})
    sub.refresh_from_db()
    assert not sub.active and sub.endpoint is not None and not sub.endpoint.enabled
    listing = admin_client.get("/notify/partners/")
    assert "Ride-hailing app" in listing.content.decode()
    assert AuditEntry.objects.filter(object_type="notify.subscriber", action="update").exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://partner.example/hook", "must use https"),
        ("https://10.0.0.8/hook", "private, loopback or link-local"),
        ("https://169.254.169.254/latest/", "private, loopback or link-local"),
        ("https://user:pw@partner.example/", "user name or password"),
        ("ftp://partner.example/", "https://"),
    ],
)
def test_unsafe_webhooks_are_refused_on_the_page(
    admin_client: Client, url: str, message: str
) -> None:
    response = admin_client.post(
        "/notify/partners/new/",
        {"name": "P", "kind": "partner", "webhook_url": url, "webhook_secret": "s" * 32},
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Subscriber.objects.count() == 0


def test_dead_letter_page_lists_and_requeues(admin_client: Client) -> None:
    sub = person(*CHENGDU, email="p@example.cn")
    services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 50)
    Delivery.objects.update(status="dead", attempts=8, last_error="SMTPServerDisconnected")
    page = admin_client.get("/notify/dead-letters/")
    assert "SMTPServerDisconnected" in page.content.decode()
    assert "p@example.cn" not in page.content.decode()  # contact data stays out of the list
    row = Delivery.objects.get(subscriber=sub)
    response = admin_client.post("/notify/dead-letters/", {"ids": [str(row.pk)]})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == "queued" and row.attempts == 0


def test_only_administrators_reach_the_admin_pages(make_user: Any) -> None:
    client = Client()
    client.force_login(make_user(Role.INVESTIGATOR, "510106"))
    for url in ("/notify/partners/", "/notify/partners/new/", "/notify/dead-letters/"):
        assert client.get(url).status_code == 403
    assert Client().get("/notify/partners/").status_code == 302  # to sign-in
    assert AuditEntry.objects.filter(action="denied", object_type="notify.subscriber").exists()


def test_navigation_links(make_user: Any, admin_client: Client) -> None:
    assert "/notify/subscribe/" in Client().get("/notify/subscribe/").content.decode()
    assert "/notify/partners/" in admin_client.get("/notify/partners/").content.decode()
    investigator = Client()
    investigator.force_login(make_user(Role.INVESTIGATOR, "510106"))
    page = investigator.get("/").content.decode()
    assert "/notify/partners/" not in page and "/notify/subscribe/" not in page
