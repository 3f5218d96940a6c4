"""The Redis queue against the real Redis at 127.0.0.1:6379 (a fresh key prefix per test)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from reunite.notify import queue as queues
from reunite.notify import services
from reunite.notify.models import Delivery, DeliveryStatus
from reunite.notify.queue import Failure, RedisQueue
from reunite.notify.worker import Worker
from tests.integration.test_notify_broadcast import CHENGDU, broadcast, partner
from tests.integration.test_notify_dispatch import hook
from tests.notify_receivers import http_receiver

REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def prefix(settings: Any) -> Iterator[str]:
    name = f"reunite:test:{uuid.uuid4().hex}"
    settings.NOTIFY_REDIS_URL = REDIS_URL
    settings.NOTIFY_REDIS_PREFIX = name
    settings.NOTIFY_QUEUE_BACKEND = "redis"
    settings.NOTIFY_WEBHOOK_ALLOW_LOOPBACK = True
    settings.NOTIFY_BACKOFF_BASE_SECONDS = 60.0
    client = redis.Redis.from_url(REDIS_URL)
    yield name
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)
    client.close()


def make_queue(prefix: str, lease_s: float = 30.0) -> RedisQueue:
    return RedisQueue(prefix=prefix, lease_s=lease_s)


@pytest.fixture
def queued(db: None, prefix: str, django_capture_on_commit_callbacks: Any) -> Iterator[Any]:
    """Four webhook deliveries, published to the stream by the broadcast's on-commit hook."""
    with http_receiver() as receiver:
        endpoint = hook(receiver.url)
        for _ in range(4):
            partner(endpoint, CHENGDU)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 50) == 4
        yield receiver


def test_a_broadcast_is_published_and_delivered_once(queued: Any, prefix: str) -> None:
    q = make_queue(prefix)
    jobs = q.claim("w1", 500)
    assert len(jobs) == 4 and {j.attempts for j in jobs} == {1}
    q.done("w1", jobs)
    q.finish_batch("w1")
    assert q.pending() == 0
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    # Published again (say Redis was restored from a backup): nothing is sent twice.
    q.publish(jobs)
    assert q.claim("w1", 500) == []
    q.r.close()


def test_a_worker_delivers_through_the_stream(queued: Any, prefix: str) -> None:
    worker = Worker("redis", lease_s=30, queue_options={"prefix": prefix})
    q = make_queue(prefix)
    try:
        while worker.run_once(q, "w1"):
            pass
    finally:
        worker.dispatcher.http.close()
    keys = set(Delivery.objects.values_list("idempotency_key", flat=True))
    assert sorted(queued.keys()) == sorted(keys)
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_a_dead_consumers_entries_are_taken_over(queued: Any, prefix: str) -> None:
    dead = make_queue(prefix, lease_s=0.3)
    taken = dead.claim("dead", 500)  # read, locked, never finished
    assert len(taken) == 4
    alive = make_queue(prefix, lease_s=0.3)
    assert alive.claim("alive", 500) == []  # nothing new, the entry is not idle long enough
    time.sleep(0.4)
    alive._claimed = 0.0
    again = alive.claim("alive", 500)
    assert sorted(j.key for j in again) == sorted(j.key for j in taken)
    assert {j.attempts for j in again} == {1}  # the stream kept the attempt count
    alive.done("alive", again)
    alive.finish_batch("alive")
    assert alive.pending() == 0
    dead.r.close()
    alive.r.close()


def test_delivered_before_the_database_heard_is_reconciled(queued: Any, prefix: str) -> None:
    q = make_queue(prefix)
    row = Delivery.objects.first()
    assert row is not None
    q.r.set(q._done(row.idempotency_key), 1)  # a worker died right after sending
    jobs = q.claim("w1", 500)
    assert row.pk not in {j.delivery_id for j in jobs} and len(jobs) == 3
    row.refresh_from_db()
    assert row.status == DeliveryStatus.DELIVERED
    q.r.close()


def test_a_key_locked_by_another_worker_waits_instead_of_being_sent(
    queued: Any, prefix: str
) -> None:
    q = make_queue(prefix, lease_s=0.2)
    row = Delivery.objects.first()
    assert row is not None
    q.r.set(q._lock(row.idempotency_key), "other", px=150)
    first = q.claim("w1", 500)
    assert len(first) == 3
    assert q.r.zcard(q.retry) == 1
    q.done("w1", first)
    q.finish_batch("w1")
    time.sleep(0.3)
    q._claimed = 0.0
    (job,) = q.claim("w1", 500)
    assert job.delivery_id == row.pk
    q.r.close()


def test_failures_wait_in_the_retry_set_then_die(queued: Any, prefix: str, settings: Any) -> None:
    settings.NOTIFY_MAX_ATTEMPTS = 2
    q = make_queue(prefix)
    jobs = q.claim("w1", 500)
    q.fail("w1", [Failure(j, "HTTP 503") for j in jobs])
    q.finish_batch("w1")
    assert q.r.zcard(q.retry) == 4
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.FAILED}
    q.r.zadd(q.retry, {m: 0 for m in q.r.zrange(q.retry, 0, -1)})  # make them due now
    q._claimed = 0.0
    retried = q.claim("w1", 500)
    assert {j.attempts for j in retried} == {2}
    q.fail("w1", [Failure(j, "HTTP 503") for j in retried])
    assert q.r.zcard(q.retry) == 0
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DEAD}
    q.r.close()


def test_republish_finds_what_redis_lost(queued: Any, prefix: str) -> None:
    q = make_queue(prefix)
    q.r.delete(q.stream)
    q.ensure_group()
    Delivery.objects.update(created_at=Delivery.objects.first().created_at.replace(year=2020))  # type: ignore[union-attr]
    assert q.republish_stale(60) == 4
    assert len(q.claim("w1", 500)) == 4
    q.r.close()


def test_backend_setting_selects_the_queue(settings: Any, prefix: str) -> None:
    assert isinstance(queues.make_queue("redis", prefix=prefix), RedisQueue)
    assert isinstance(queues.make_queue("db"), queues.DbQueue)
    with pytest.raises(ValueError):
        queues.make_queue("kafka")
