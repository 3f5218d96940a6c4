"""The durable delivery queue: the database (embedded default) or Redis streams.

Both backends hand out ``Job``s under a lease and take back outcomes; the ``Delivery`` row stays
the record of every delivery (status, attempts, last error) in both.

**Database.** A claim is one ``UPDATE … RETURNING`` of up to a batch of due rows (PostgreSQL:
``FOR UPDATE SKIP LOCKED``; SQLite serialises writers), setting ``sending``, the lease owner and
the lease expiry.  Rows whose lease ran out (a worker died) are put back to ``queued`` by the
next sweep and claimed again with the same idempotency key.

**Redis.** A broadcast's rows are published after commit as stream entries of up to
``ENTRY_JOBS`` jobs; workers read them through one consumer group, and take over a dead
worker's pending entries with ``XAUTOCLAIM`` once idle for the lease.  Before sending a job a
worker sets ``lock:<key>`` (``NX``, expiring with the lease) and skips keys already in
``done:<key>``, so that a taken-over or republished entry resends only what was not delivered.
Retries wait in a sorted set until due.  Delivered and failed rows are written back to the
database in batches.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from reunite.notify import conf
from reunite.notify.models import Delivery, DeliveryStatus

ENTRY_JOBS = 100
MAX_ENTRIES = 200_000  # stream length kept (approximately); the database keeps the rest
DONE_TTL_S = 14 * 24 * 3600
GROUP = "workers"


@dataclass(frozen=True)
class Job:
    """One delivery to attempt; ``attempts`` counts this attempt too."""

    delivery_id: int
    message_id: int
    subscriber_id: int
    endpoint_id: int | None
    channel: str
    key: str
    attempts: int


@dataclass(frozen=True)
class Failure:
    job: Job
    error: str
    permanent: bool = False


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: base · 2^(attempts-1), capped, ±20 %."""
    base = float(conf.get("NOTIFY_BACKOFF_BASE_SECONDS"))
    cap = float(conf.get("NOTIFY_BACKOFF_MAX_SECONDS"))
    return min(cap, base * 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2)


class Queue(Protocol):
    def claim(self, owner: str, limit: int) -> list[Job]: ...
    def done(self, owner: str, jobs: Sequence[Job]) -> None: ...
    def fail(self, owner: str, failures: Sequence[Failure]) -> None: ...
    def release(self, owner: str, jobs: Sequence[Job]) -> None: ...
    def finish_batch(self, owner: str) -> None: ...
    def pending(self) -> int: ...


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _record_failures(failures: Sequence[Failure], owner_guard: str | None) -> None:
    """Write failed attempts back: retry later with backoff, or dead after the last attempt."""
    if not failures:
        return
    max_attempts = int(conf.get("NOTIFY_MAX_ATTEMPTS"))
    now = timezone.now()
    with transaction.atomic():
        for failure in failures:
            job = failure.job
            dead = failure.permanent or job.attempts >= max_attempts
            rows = Delivery.objects.filter(pk=job.delivery_id).exclude(
                status=DeliveryStatus.DELIVERED
            )
            if owner_guard is not None:
                rows = rows.filter(status=DeliveryStatus.SENDING, lease_owner=owner_guard)
            rows.update(
                status=DeliveryStatus.DEAD if dead else DeliveryStatus.FAILED,
                attempts=job.attempts,
                next_attempt_at=now + dt.timedelta(seconds=backoff_seconds(job.attempts)),
                last_error=failure.error[:300],
                lease_owner="",
                lease_expires_at=None,
            )


def _record_delivered(ids: Sequence[int]) -> None:
    now = timezone.now()
    for chunk in _chunks(list(ids), 900):
        Delivery.objects.filter(pk__in=chunk).exclude(status=DeliveryStatus.DELIVERED).update(
            status=DeliveryStatus.DELIVERED, delivered_at=now, lease_owner="", lease_expires_at=None
        )


# =========================================================================== database


class DbQueue:
    """The embedded queue in the ``notify_delivery`` table."""

    SWEEP_EVERY_S = 2.0

    def __init__(self, lease_s: float | None = None) -> None:
        self.lease_s = float(lease_s or conf.get("NOTIFY_LEASE_SECONDS"))
        self._swept = 0.0

    def sweep(self) -> int:
        """Put rows whose lease ran out (their worker died) back in the queue."""
        return Delivery.objects.filter(
            status=DeliveryStatus.SENDING, lease_expires_at__lt=timezone.now()
        ).update(status=DeliveryStatus.QUEUED, lease_owner="", lease_expires_at=None)

    def claim(self, owner: str, limit: int) -> list[Job]:
        if time.monotonic() - self._swept > self.SWEEP_EVERY_S:
            self._swept = time.monotonic()
            self.sweep()
        now = timezone.now()
        lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
        sql = (
            "UPDATE notify_delivery SET status = %s, lease_owner = %s, lease_expires_at = %s,"  # noqa: S608
            " attempts = attempts + 1 WHERE id IN (SELECT id FROM notify_delivery"
            " WHERE status IN ('queued', 'failed') AND next_attempt_at <= %s"
            f" ORDER BY next_attempt_at LIMIT %s{lock})"
            " RETURNING id, message_id, subscriber_id, endpoint_id, channel, idempotency_key,"
            " attempts"
        )
        params = (
            DeliveryStatus.SENDING.value,
            owner,
            now + dt.timedelta(seconds=self.lease_s),
            now,
            int(limit),
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return sorted((Job(*row) for row in rows), key=lambda j: j.delivery_id)

    def done(self, owner: str, jobs: Sequence[Job]) -> None:
        _record_delivered([j.delivery_id for j in jobs])

    def fail(self, owner: str, failures: Sequence[Failure]) -> None:
        _record_failures(failures, owner_guard=owner)

    def release(self, owner: str, jobs: Sequence[Job]) -> None:
        """Hand back jobs claimed but not attempted (shutdown, lease nearly out)."""
        for chunk in _chunks([j.delivery_id for j in jobs], 900):
            Delivery.objects.filter(
                pk__in=chunk, status=DeliveryStatus.SENDING, lease_owner=owner
            ).update(
                status=DeliveryStatus.QUEUED,
                lease_owner="",
                lease_expires_at=None,
                attempts=F("attempts") - 1,
            )

    def finish_batch(self, owner: str) -> None:
        return None

    def pending(self) -> int:
        return pending_rows()


def pending_rows() -> int:
    """Rows waiting or being sent (two counts, each over one small partial index)."""
    waiting = Delivery.objects.filter(status__in=["queued", "failed"]).count()
    return waiting + Delivery.objects.filter(status=DeliveryStatus.SENDING).count()


# =========================================================================== redis


def redis_client(url: str | None = None) -> Any:
    import redis

    return redis.Redis.from_url(url or str(conf.get("NOTIFY_REDIS_URL")))


# KEYS: done-1, lock-1, done-2, lock-2, …; ARGV: owner, lease in ms.  Per job: 1 delivered
# before, 2 locked for this worker, 0 locked by another.
_CLAIM_LUA = """
local out = {}
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    out[#out + 1] = 1
  elseif redis.call('SET', KEYS[i + 1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    out[#out + 1] = 2
  else
    out[#out + 1] = 0
  end
end
return out
"""
# KEYS: done-1, lock-1, …; ARGV: how long to remember a delivery (s).
_DONE_LUA = """
for i = 1, #KEYS, 2 do
  redis.call('SET', KEYS[i], '1', 'EX', ARGV[1])
  redis.call('DEL', KEYS[i + 1])
end
return #KEYS / 2
"""


class RedisQueue:
    """Redis streams with one consumer group; see the module docstring.

    The per-key scripts touch keys of many hash slots: a single Redis (or a primary with
    replicas), not Redis Cluster.
    """

    CLAIM_EVERY_S = 1.0

    def __init__(
        self, client: Any = None, prefix: str | None = None, lease_s: float | None = None
    ) -> None:
        self.r = client or redis_client()
        self.prefix = prefix or str(conf.get("NOTIFY_REDIS_PREFIX"))
        self.stream = f"{self.prefix}:stream"
        self.retry = f"{self.prefix}:retry"
        self.lease_s = float(lease_s or conf.get("NOTIFY_LEASE_SECONDS"))
        self._claimed = 0.0
        self._entries: list[bytes] = []
        self._delivered: list[int] = []
        self._claim_script = self.r.register_script(_CLAIM_LUA)
        self._done_script = self.r.register_script(_DONE_LUA)
        self.ensure_group()

    def ensure_group(self) -> None:
        import redis

        try:
            self.r.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _done(self, key: str) -> str:
        return f"{self.prefix}:done:{key}"

    def _lock(self, key: str) -> str:
        return f"{self.prefix}:lock:{key}"

    # ------------------------------------------------------------------ publishing

    def publish(self, jobs: Sequence[Job]) -> None:
        pipe = self.r.pipeline(transaction=False)
        for chunk in _chunks(list(jobs), ENTRY_JOBS):
            pipe.xadd(
                self.stream,
                {"j": json.dumps([list(asdict(j).values()) for j in chunk])},
                maxlen=MAX_ENTRIES,
                approximate=True,
            )
            if len(pipe) >= 500:
                pipe.execute()
        pipe.execute()

    # ------------------------------------------------------------------ claiming

    def _due_retries(self) -> None:
        now = time.time()
        members = self.r.zrangebyscore(self.retry, "-inf", now, start=0, num=ENTRY_JOBS * 10)
        if not members:
            return
        pipe = self.r.pipeline(transaction=False)
        for member in members:
            pipe.zrem(self.retry, member)
        removed = pipe.execute()
        jobs = [Job(*json.loads(m)) for m, gone in zip(members, removed, strict=True) if gone]
        if jobs:
            self.publish(jobs)

    def claim(self, owner: str, limit: int) -> list[Job]:
        entries: list[tuple[bytes, dict[bytes, bytes]]] = []
        if time.monotonic() - self._claimed > self.CLAIM_EVERY_S:
            self._claimed = time.monotonic()
            self._due_retries()
            # A dead worker's entries, idle longer than the lease.
            reply = self.r.xautoclaim(
                self.stream, GROUP, owner, int(self.lease_s * 1000), "0-0", count=10
            )
            entries += [e for e in reply[1] if e[1]]
        count = max(1, limit // ENTRY_JOBS - len(entries))
        reply = self.r.xreadgroup(GROUP, owner, {self.stream: ">"}, count=count, block=200)
        for _stream, items in reply or []:
            entries += items
        jobs: list[Job] = []
        for entry_id, fields in entries:
            self._entries.append(entry_id)
            jobs += [Job(*values) for values in json.loads(fields[b"j"])]
        if not jobs:
            return []
        # Skip what is delivered; lock the rest so no one else sends it meanwhile (one script
        # call for the whole batch: per-key commands would cost more than the sending).
        keys = [k for job in jobs for k in (self._done(job.key), self._lock(job.key))]
        flags = self._claim_script(keys=keys, args=[owner, int(self.lease_s * 1000)])
        pipe = self.r.pipeline(transaction=False)
        mine: list[Job] = []
        busy: list[Job] = []
        already: list[int] = []
        for job, flag in zip(jobs, flags, strict=True):
            if flag == 1:
                # Delivered before; the worker may have died before the database heard of it.
                already.append(job.delivery_id)
            elif flag == 2:
                mine.append(job)
            else:
                busy.append(job)
        if busy:
            # Someone holds them right now: look again after a lease.
            due = time.time() + self.lease_s
            pipe.zadd(self.retry, {json.dumps(list(asdict(j).values())): due for j in busy})
        pipe.execute()
        if already:
            _record_delivered(already)
        if not mine:
            self.finish_batch(owner)
        return [
            Job(
                j.delivery_id,
                j.message_id,
                j.subscriber_id,
                j.endpoint_id,
                j.channel,
                j.key,
                j.attempts + 1,
            )
            for j in mine
        ]

    # ------------------------------------------------------------------ outcomes

    def done(self, owner: str, jobs: Sequence[Job]) -> None:
        keys = [k for job in jobs for k in (self._done(job.key), self._lock(job.key))]
        self._done_script(keys=keys, args=[DONE_TTL_S])
        # Written to the database with the batch's acknowledgement (``finish_batch``): if the
        # worker dies first, the entries are taken over and the done keys reconcile the rows.
        self._delivered += [j.delivery_id for j in jobs]

    def fail(self, owner: str, failures: Sequence[Failure]) -> None:
        _record_failures(failures, owner_guard=None)
        max_attempts = int(conf.get("NOTIFY_MAX_ATTEMPTS"))
        pipe = self.r.pipeline(transaction=False)
        for failure in failures:
            job = failure.job
            if not failure.permanent and job.attempts < max_attempts:
                due = time.time() + backoff_seconds(job.attempts)
                pipe.zadd(self.retry, {json.dumps(list(asdict(job).values())): due})
            pipe.delete(self._lock(job.key))
        pipe.execute()

    def release(self, owner: str, jobs: Sequence[Job]) -> None:
        undo = [
            Job(
                j.delivery_id,
                j.message_id,
                j.subscriber_id,
                j.endpoint_id,
                j.channel,
                j.key,
                j.attempts - 1,
            )
            for j in jobs
        ]
        pipe = self.r.pipeline(transaction=False)
        for job in jobs:
            pipe.delete(self._lock(job.key))
        pipe.execute()
        self.publish(undo)

    def finish_batch(self, owner: str) -> None:
        """Record the batch's deliveries, then acknowledge its entries (all jobs settled)."""
        if self._delivered:
            _record_delivered(self._delivered)
            self._delivered = []
        if self._entries:
            self.r.xack(self.stream, GROUP, *self._entries)
            self._entries = []

    def pending(self) -> int:
        info = self.r.xinfo_groups(self.stream)
        waiting = sum(int(g.get("lag") or 0) + int(g.get("pending") or 0) for g in info)
        return waiting + int(self.r.zcard(self.retry))

    def republish_stale(self, older_than_s: float) -> int:
        """Publish again the rows the database still has as waiting (e.g. Redis lost them);
        already delivered keys are skipped by the workers."""
        cutoff = timezone.now() - dt.timedelta(seconds=older_than_s)
        rows = Delivery.objects.filter(
            Q(status=DeliveryStatus.QUEUED, created_at__lt=cutoff)
            | Q(status=DeliveryStatus.FAILED, next_attempt_at__lt=cutoff)
        ).values_list(*_JOB_FIELDS)
        jobs = [Job(*row) for row in rows.iterator(chunk_size=5000)]
        self.publish(jobs)
        return len(jobs)


_JOB_FIELDS = (
    "id",
    "message_id",
    "subscriber_id",
    "endpoint_id",
    "channel",
    "idempotency_key",
    "attempts",
)


# =========================================================================== after a broadcast


def backend() -> str:
    return str(conf.get("NOTIFY_QUEUE_BACKEND"))


def published(message_id: int) -> None:
    """Called after a broadcast commits: on Redis, publish its new deliveries."""
    if backend() != "redis":
        return
    sql = (
        f"SELECT {', '.join(_JOB_FIELDS)} FROM notify_delivery"  # noqa: S608 (fixed names)
        " WHERE message_id = %s AND status = %s AND attempts = 0"
    )
    target = RedisQueue()
    with connection.cursor() as cursor:
        cursor.execute(sql, (message_id, DeliveryStatus.QUEUED.value))
        while rows := cursor.fetchmany(20_000):
            target.publish([Job(*row) for row in rows])


def publish_ids(ids: Sequence[int]) -> None:
    """Called after dead letters are requeued: on Redis, publish them again."""
    if backend() != "redis":
        return
    rows = Delivery.objects.filter(pk__in=list(ids)).values_list(*_JOB_FIELDS)
    RedisQueue().publish([Job(*row) for row in rows])


def make_queue(name: str | None = None, **kwargs: Any) -> Queue:
    name = name or backend()
    if name == "redis":
        return RedisQueue(**kwargs)
    if name == "db":
        return DbQueue(lease_s=kwargs.get("lease_s"))
    raise ValueError(f"unknown queue backend {name!r}")
