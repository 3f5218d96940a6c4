"""Batches on both queues: concurrent claiming, and a worker that dies half-way through a batch.

Real receivers on loopback, the real database and the real Redis at 127.0.0.1:6379.  The
concurrent-claim test needs committed rows (each worker thread has its own connection), so it
runs on a transactional database, restored afterwards like the incremental DNA search tests.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from reunite.notify import services
from reunite.notify.models import (
    Delivery,
    DeliveryStatus,
    Subscriber,
    SubscriberKind,
    SubscriberStatus,
    WebhookEndpoint,
)
from reunite.notify.queue import DbQueue, Failure, Job, _values
from reunite.notify.worker import Dispatcher, Worker
from tests.integration.test_dnamatch_incremental import (  # noqa: F401 (fixtures)
    _emptiable,
    _session_data_back,
    committed,
)
from tests.integration.test_notify_broadcast import broadcast
from tests.integration.test_notify_dispatch import drain, hook
from tests.integration.test_notify_redis import make_queue, prefix, queued  # noqa: F401
from tests.notify_receivers import http_receiver

T = TypeVar("T")


@pytest.fixture(autouse=True)
def _loopback(settings: Any) -> None:
    settings.NOTIFY_WEBHOOK_ALLOW_LOOPBACK = True
    settings.NOTIFY_BACKOFF_BASE_SECONDS = 60.0
    settings.NOTIFY_THROTTLE_PER_SECOND = {"webhook": 0, "email": 0, "sms": 0}


@pytest.fixture
def dispatcher() -> Iterator[Dispatcher]:
    """A dispatcher whose keep-alive connections are closed afterwards."""
    sender = Dispatcher()
    yield sender
    sender.http.close()


def nationwide_partners(endpoint: WebhookEndpoint, n: int) -> None:
    """``n`` partners without a home point: every broadcast reaches each of them."""
    Subscriber.objects.bulk_create(
        Subscriber(
            kind=SubscriberKind.PARTNER,
            status=SubscriberStatus.ACTIVE,
            active=True,
            endpoint=endpoint,
        )
        for _ in range(n)
    )


def patiently(call: Callable[[], T]) -> T:
    """``call()``, tried again while SQLite's shared-cache test database reports a table lock.

    The in-memory test database answers a second writer at once with "table is locked" where
    the file database of a deployment waits for the lock (busy timeout); either way SQLite runs
    one claim at a time.  PostgreSQL claims concurrently (``SKIP LOCKED``), never retried here.
    """
    for _ in range(500):
        try:
            return call()
        except OperationalError as exc:
            if connection.vendor != "sqlite" or "locked" not in str(exc):
                raise
            time.sleep(0.01)
    return call()


def test_two_workers_claiming_at_once_never_get_the_same_delivery(
    committed: None,  # noqa: F811 (the imported fixture)
    settings: Any,
) -> None:
    settings.NOTIFY_QUEUE_BACKEND = "db"
    endpoint = WebhookEndpoint.objects.create(
        name="Partner", url="https://partner.example/hook", secret="s" * 20
    )
    nationwide_partners(endpoint, 300)
    assert services.broadcast_in_region(broadcast("m1"), None) == 300
    claimed: dict[str, list[int]] = {"w1": [], "w2": []}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(owner: str) -> None:
        queue = DbQueue(lease_s=60)
        try:
            start.wait()
            while jobs := patiently(lambda: queue.claim(owner, 25)):
                claimed[owner] += [j.delivery_id for j in jobs]
                patiently(lambda: queue.done(owner, jobs))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(owner,)) for owner in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    both = Counter(claimed["w1"] + claimed["w2"])
    assert both and max(both.values()) == 1  # no delivery handed to both, nor twice to one
    assert set(both) == set(Delivery.objects.values_list("pk", flat=True))
    assert set(Delivery.objects.values_list("status", "attempts")) == {
        (DeliveryStatus.DELIVERED, 1)
    }


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_nothing(
    db: None, dispatcher: Dispatcher
) -> None:
    with http_receiver() as receiver:
        nationwide_partners(hook(receiver.url), 10)
        services.broadcast_in_region(broadcast("m1"), None)
        dead = DbQueue(lease_s=30)
        jobs = dead.claim("dead-worker", 10)
        assert len(jobs) == 10
        # Sends the first four and records them, then dies holding the other six.
        sent = dispatcher.send(dead, "dead-worker", jobs[:4], time.monotonic() + 30)
        assert sent.delivered == 4 and len(receiver.requests) == 4
        Delivery.objects.filter(lease_owner="dead-worker").update(
            lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
        survivor = Worker("db", lease_s=30)
        drain(survivor, "survivor")
    keys = Counter(receiver.keys())
    assert set(keys) == set(Delivery.objects.values_list("idempotency_key", flat=True))
    assert set(keys.values()) == {1}  # each message reached the receiver exactly once
    first = {j.delivery_id for j in jobs[:4]}
    rows = Delivery.objects.all()
    assert {r.status for r in rows} == {DeliveryStatus.DELIVERED}
    assert {r.attempts for r in rows if r.pk in first} == {1}
    assert {r.attempts for r in rows if r.pk not in first} == {2}  # taken over, same key


def test_a_redis_worker_killed_mid_batch_loses_nothing_and_repeats_nothing(
    queued: Any,  # noqa: F811 (the imported fixture)
    prefix: str,  # noqa: F811
    dispatcher: Dispatcher,
) -> None:
    dead = make_queue(prefix, lease_s=0.3)
    jobs = dead.claim("dead", 500)
    assert len(jobs) == 4
    # Two sent and marked delivered in Redis; the database is not told and the stream entry
    # is not acknowledged (that happens at the end of the batch, which never comes).
    dispatcher.send(dead, "dead", jobs[:2], time.monotonic() + 30)
    assert len(queued.requests) == 2
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 0
    time.sleep(0.4)
    alive = make_queue(prefix, lease_s=0.3)
    alive._claimed = 0.0
    rest = alive.claim("alive", 500)
    assert sorted(j.key for j in rest) == sorted(j.key for j in jobs[2:])
    # The two sent before the crash are recorded, not sent again.
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 2
    dispatcher.send(alive, "alive", rest, time.monotonic() + 30)
    alive.finish_batch("alive")
    keys = Counter(queued.keys())
    assert set(keys) == set(Delivery.objects.values_list("idempotency_key", flat=True))
    assert set(keys.values()) == {1}
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert alive.pending() == 0
    dead.r.close()
    alive.r.close()


def test_a_late_failure_keeps_a_delivery_made_by_the_worker_that_took_over(
    queued: Any,  # noqa: F811 (the imported fixture)
    prefix: str,  # noqa: F811
) -> None:
    slow = make_queue(prefix, lease_s=0.2)
    jobs = slow.claim("slow", 500)
    time.sleep(0.3)  # its lease ran out: the entry and the keys go to another worker
    other = make_queue(prefix, lease_s=0.2)
    other._claimed = 0.0
    taken = other.claim("other", 500)
    assert sorted(j.key for j in taken) == sorted(j.key for j in jobs)
    other.done("other", taken)
    other.finish_batch("other")
    # The slow worker's attempt now fails (say a time-out): that must neither undo the
    # delivery in Redis nor in the database.
    slow.fail("slow", [Failure(j, "timed out") for j in jobs])
    assert {slow.r.get(slow._state(j.key)) for j in jobs} == {b"1"}
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    # Published again (a retry, or Redis restored from a backup): nothing is sent twice.
    slow.r.delete(slow.retry)
    slow.publish([Job(*_values(j)[:-1], 0) for j in jobs])
    slow._claimed = 0.0
    assert slow.claim("slow", 500) == []
    slow.r.close()
    other.r.close()
