"""Dispatch on the database queue: real webhook, SMTP and SMS-gateway receivers on loopback."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from reunite.notify import channels, services
from reunite.notify.models import Delivery, DeliveryStatus, Subscriber, WebhookEndpoint
from reunite.notify.queue import DbQueue, backoff_seconds
from reunite.notify.worker import Worker
from tests.integration.test_notify_broadcast import CHENGDU, broadcast, partner, person
from tests.notify_receivers import http_receiver, smtp_receiver

SECRET = "a-shared-secret-of-some-length"


@pytest.fixture(autouse=True)
def _loopback(settings: Any) -> None:
    settings.NOTIFY_WEBHOOK_ALLOW_LOOPBACK = True
    settings.NOTIFY_QUEUE_BACKEND = "db"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.NOTIFY_BACKOFF_BASE_SECONDS = 60.0
    settings.NOTIFY_THROTTLE_PER_SECOND = {"webhook": 0, "email": 0, "sms": 0}


def hook(url: str) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(name="Partner", url=url + "/hook", secret=SECRET)


def drain(worker: Worker, owner: str = "test-worker", rounds: int = 10) -> None:
    """Run the worker's loop body in this thread (it shares the test's transaction)."""
    queue = DbQueue(lease_s=worker.lease_s)
    try:
        for _ in range(rounds):
            if not worker.run_once(queue, owner):
                return
    finally:
        worker.dispatcher.http.close()


def test_webhooks_are_signed_cap_posts_with_idempotency_keys(db: None) -> None:
    with http_receiver() as receiver:
        endpoint = hook(receiver.url)
        subs = [partner(endpoint, CHENGDU) for _ in range(5)]
        b = broadcast("m1")
        assert services.broadcast_in_circle(b, *CHENGDU, 50) == 5
        drain(Worker("db"))
    assert len(receiver.requests) == 5
    keys = set(Delivery.objects.values_list("idempotency_key", flat=True))
    assert set(receiver.keys()) == keys
    for request in receiver.requests:
        assert request.path == "/hook"
        assert request.body == b.cap_xml.encode()
        assert request.headers["content-type"].startswith("application/cap+xml")
        assert channels.verify_signature(
            SECRET,
            request.headers["x-reunite-timestamp"],
            request.body,
            request.headers["x-reunite-signature"],
        )
        assert not channels.verify_signature(
            "wrong" * 5,
            request.headers["x-reunite-timestamp"],
            request.body,
            request.headers["x-reunite-signature"],
        )
    assert all(
        d.status == DeliveryStatus.DELIVERED and d.attempts == 1 for d in Delivery.objects.all()
    )
    assert services.delivery_stats("alert:1") == {
        "100km": {"queued": 0, "delivered": len(subs), "failed": 0, "dead": 0}
    }


def test_a_dead_workers_claim_is_taken_over_with_the_same_keys(db: None) -> None:
    with http_receiver() as receiver:
        endpoint = hook(receiver.url)
        for _ in range(6):
            partner(endpoint, CHENGDU)
        services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 50)
        dead = DbQueue(lease_s=30)
        claimed = dead.claim("dead-worker", 4)  # claims, then "dies" without sending
        assert len(claimed) == 4
        survivor = Worker("db", lease_s=30)
        drain(survivor, "survivor")
        assert len(receiver.requests) == 2  # the dead worker's rows are still leased
        Delivery.objects.filter(lease_owner="dead-worker").update(
            lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
        queue = DbQueue(lease_s=30)
        queue._swept = 0.0
        drain(survivor, "survivor")
    assert sorted(receiver.keys()) == sorted(
        Delivery.objects.values_list("idempotency_key", flat=True)
    )
    assert len(receiver.keys()) == len(set(receiver.keys())) == 6
    taken_over = Delivery.objects.filter(pk__in=[j.delivery_id for j in claimed])
    assert {d.attempts for d in taken_over} == {2}
    assert {d.status for d in Delivery.objects.all()} == {DeliveryStatus.DELIVERED}


def test_failures_back_off_then_die_and_can_be_requeued(
    db: None, settings: Any, make_user: Any
) -> None:
    settings.NOTIFY_MAX_ATTEMPTS = 3
    settings.NOTIFY_BACKOFF_BASE_SECONDS = 60.0
    with http_receiver(status=500) as receiver:
        partner(hook(receiver.url), CHENGDU)
        services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 50)
        worker = Worker("db")
        for attempt in (1, 2, 3):
            drain(worker)
            row = Delivery.objects.get()
            assert row.attempts == attempt
            assert row.last_error == "HTTP 500"
            assert row.next_attempt_at > timezone.now() + dt.timedelta(seconds=30 * attempt)
            Delivery.objects.update(next_attempt_at=timezone.now())
        assert row.status == DeliveryStatus.DEAD
        assert len(receiver.requests) == 3
        assert len(set(receiver.keys())) == 1  # every retry carries the same key
        admin = make_user("administrator", "CN")
        assert list(services.dead_letters(admin)) == [row]
        receiver.status = 200
        assert services.requeue_dead(acting_user=admin) == 1
        drain(worker)
    row.refresh_from_db()
    assert row.status == DeliveryStatus.DELIVERED
    assert len(set(receiver.keys())) == 1


def test_backoff_grows_exponentially(settings: Any) -> None:
    settings.NOTIFY_BACKOFF_BASE_SECONDS = 10.0
    settings.NOTIFY_BACKOFF_MAX_SECONDS = 1000.0
    assert 8 <= backoff_seconds(1) <= 12
    assert 32 <= backoff_seconds(3) <= 48
    assert backoff_seconds(30) <= 1200


@pytest.mark.parametrize(("status", "error"), [(302, "redirect refused"), (410, "gone")])
def test_redirects_are_not_followed_and_gone_is_final(db: None, status: int, error: str) -> None:
    with http_receiver() as target, http_receiver(status=status, location=target.url) as receiver:
        partner(hook(receiver.url), CHENGDU)
        services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 50)
        drain(Worker("db"))
    assert target.requests == []
    row = Delivery.objects.get()
    assert error in row.last_error
    assert row.status == (DeliveryStatus.DEAD if status == 410 else DeliveryStatus.FAILED)


def test_an_endpoint_that_became_unsafe_is_not_contacted(db: None, settings: Any) -> None:
    with http_receiver() as receiver:
        partner(hook(receiver.url), CHENGDU)
        services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 50)
        settings.NOTIFY_WEBHOOK_ALLOW_LOOPBACK = False
        drain(Worker("db"))
    assert receiver.requests == []
    assert "unsafe endpoint" in Delivery.objects.get().last_error


def test_email_goes_through_a_real_smtp_server(db: None, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with smtp_receiver() as smtp:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
        sub = person(*CHENGDU, email="reader@example.cn")
        services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 50)
        drain(Worker("db"))
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == "reader@example.cn"
    assert mail["Subject"] == "Missing child"
    key = Delivery.objects.get().idempotency_key
    assert mail["Message-ID"] == f"<{key}@reunite.notify>"
    optout = services.optout_url(sub)
    assert "".join(mail["List-Unsubscribe"].split()) == f"<{optout}>"
    body = mail.get_payload(decode=True).decode()
    assert "People's Park" in body and optout in body


def test_smtp_refusal_is_a_failed_attempt(db: None, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with smtp_receiver() as smtp:
        port = smtp.port
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    person(*CHENGDU, email="reader@example.cn")
    services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 50)
    drain(Worker("db"))
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.FAILED and "Connection" in row.last_error
    assert "reader@example.cn" not in row.last_error  # no contact data in the clear


def test_sms_goes_to_the_gateway_as_json(db: None, settings: Any) -> None:
    with http_receiver() as gateway:
        settings.NOTIFY_SMS_GATEWAY_URL = gateway.url + "/send"
        settings.NOTIFY_SMS_GATEWAY_TOKEN = "gateway-token"
        person(*CHENGDU, phone="+8613800000000")
        services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 50)
        drain(Worker("db"))
    (request,) = gateway.requests
    import json

    payload = json.loads(request.body)
    assert payload["to"] == "+8613800000000"
    assert payload["text"].startswith("A girl of six") and payload["text"].endswith("/alerts/1/")
    assert payload["idempotency_key"] == Delivery.objects.get().idempotency_key
    assert request.headers["authorization"] == "Bearer gateway-token"
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_throttle_spaces_messages(db: None) -> None:
    import time

    throttle = channels.Throttle(20.0)
    started = time.monotonic()
    for _ in range(30):
        throttle.take()
    assert time.monotonic() - started >= 0.4


def test_opted_out_subscribers_queued_messages_are_withdrawn(db: None) -> None:
    sub = person(*CHENGDU, email="reader@example.cn")
    services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 50)
    services.opt_out(services.optout_token(sub))
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.DEAD and row.last_error == "opted out"
    sub.refresh_from_db()
    assert sub.email == "" and not sub.active
    assert Subscriber.objects.filter(email_index="").count() == 1
