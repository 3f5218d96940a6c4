"""The durable delivery queue: the database (embedded default) or Redis streams.

Both backends hand out ``Job``s under a lease and take back outcomes; the ``Delivery`` row stays
the record of every delivery (status, attempts, last error) in both.

**Database.** A claim is one ``UPDATE … RETURNING`` of up to a batch of due rows (PostgreSQL:
``FOR UPDATE SKIP LOCKED``; SQLite serialises writers), setting ``sending``, the lease owner and
the lease expiry.  Rows whose lease ran out (a worker died) are put back to ``queued`` by the
next sweep and claimed again with the same idempotency key.

**Redis.** A broadcast's rows are published after commit as stream entries of up to
``ENTRY_JOBS`` jobs; workers read them through one consumer group, and take over a dead
worker's pending entries with ``XAUTOCLAIM`` once idle for the lease.  Each delivery has one
state key, ``key:<idempotency key>``: before sending a job a worker sets it to its own name
(``NX``, expiring with the lease), and a key already marked delivered is skipped, so that a
taken-over or republished entry resends only what was not delivered.
Retries wait in a sorted set until due.  Delivered and failed rows are written back to the
database in batches.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
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
PUBLISH_ROWS = 5_000  # jobs read from the database and published at a time


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


def _values(job: Job) -> list[Any]:
    """A job as the list of its fields (how the stream and the retry set hold it)."""
    return [
        job.delivery_id,
        job.message_id,
        job.subscriber_id,
        job.endpoint_id,
        job.channel,
        job.key,
        job.attempts,
    ]


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


def _id_batches(ids: Sequence[int]) -> list[Sequence[int]]:
    """Ids in statement-sized groups: PostgreSQL takes one array parameter however long (so a
    whole batch is one statement); SQLite takes at most a few hundred parameters."""
    ids = list(ids)
    return _chunks(ids, 20_000 if connection.vendor == "postgresql" else 900)


def _ids_sql(ids: Sequence[int]) -> tuple[str, list[Any]]:
    """``id = ANY(%s)`` with one array parameter on PostgreSQL (an index scan on the primary
    key whatever the count; ``IN`` lists are re-planned for every length), ``IN (…)`` on SQLite."""
    if connection.vendor == "postgresql":
        return "id = ANY(%s)", [list(ids)]
    return f"id IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _record_delivered(ids: Sequence[int]) -> None:
    """Mark rows delivered, one statement per group of ids, whoever holds their lease now (the
    message went out; a worker that claimed it again after the lease ran out sends the same
    key).  Rows delivered before keep their first ``delivered_at``."""
    now = timezone.now()
    for chunk in _id_batches(ids):
        where, params = _ids_sql(chunk)
        sql = (
            "UPDATE notify_delivery SET status = %s, delivered_at = %s, lease_owner = '',"  # noqa: S608
            f" lease_expires_at = NULL WHERE {where} AND status <> %s"
        )
        delivered = DeliveryStatus.DELIVERED.value
        with connection.cursor() as cursor:
            cursor.execute(sql, [delivered, now, *params, delivered])


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
        due = (
            "SELECT id FROM notify_delivery WHERE status IN ('queued', 'failed')"
            " AND next_attempt_at <= %s ORDER BY next_attempt_at LIMIT %s"
        )
        if connection.vendor == "postgresql":
            # ``= ANY(ARRAY(…))``: the due ids are fetched first (skipping rows another worker
            # is claiming), then updated through the primary key.  With ``IN (…)`` the planner
            # hashes the ids and scans the whole table, which grows with every delivery ever
            # made (the claim of 1,000 rows took 160 ms at a million rows).
            chosen = f"id = ANY(ARRAY({due} FOR UPDATE SKIP LOCKED))"
        else:
            chosen = f"id IN ({due})"  # SQLite: one writer at a time; rowid lookups
        sql = (
            "UPDATE notify_delivery SET status = %s, lease_owner = %s, lease_expires_at = %s,"  # noqa: S608
            f" attempts = attempts + 1 WHERE {chosen}"
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


# One key per delivery, ``<prefix>:key:<idempotency key>``: "1" once delivered (kept
# ``DONE_TTL_S``), else the name of the worker sending it (expiring with its lease), else absent.
# One command per job to claim and one to finish, where a pair of keys took two each.
DONE = "1"
# KEYS: one per job; ARGV: owner, lease in ms.  Per job: 1 delivered before, 2 locked for this
# worker, 0 locked by another.
_CLAIM_LUA = """
local out = {}
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[1], 'NX', 'PX', ARGV[2]) then
    out[i] = 2
  elseif redis.call('GET', KEYS[i]) == '1' then
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""
# KEYS: one per job; ARGV: how long to remember a delivery (s).
_DONE_LUA = """
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], '1', 'EX', ARGV[1])
end
return #KEYS
"""
# KEYS: one per job; ARGV: owner.  Drops this worker's locks, never a delivered mark or another
# worker's lock (taken after this one's lease ran out).
_UNLOCK_LUA = """
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
    n = n + 1
  end
end
return n
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
        self._unlock_script = self.r.register_script(_UNLOCK_LUA)
        self.ensure_group()

    def ensure_group(self) -> None:
        import redis

        try:
            self.r.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _state(self, key: str) -> str:
        """The key holding a delivery's state: ``DONE``, or the owner of its lock."""
        return f"{self.prefix}:key:{key}"

    # Where a delivery is marked delivered, and where it is locked: the same key (see above).
    _done = _state
    _lock = _state

    # ------------------------------------------------------------------ publishing

    def publish(self, jobs: Sequence[Job]) -> None:
        self.publish_rows([_values(j) for j in jobs])

    def publish_rows(self, rows: Sequence[Sequence[Any]]) -> None:
        """Publish jobs given as rows in ``Job`` field order (as the database returns them),
        ``ENTRY_JOBS`` to a stream entry, pipelined in groups small enough that workers start
        on the first jobs of a big broadcast while the rest is being published."""
        pipe = self.r.pipeline(transaction=False)
        for chunk in _chunks(rows, ENTRY_JOBS):
            pipe.xadd(
                self.stream,
                {"j": json.dumps(chunk if isinstance(chunk, list) else list(chunk))},
                maxlen=MAX_ENTRIES,
                approximate=True,
            )
            if len(pipe) >= 50:
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
        keys = [self._state(job.key) for job in jobs]
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
            pipe.zadd(self.retry, {json.dumps(_values(j)): due for j in busy})
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
        self._done_script(keys=[self._state(job.key) for job in jobs], args=[DONE_TTL_S])
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
                pipe.zadd(self.retry, {json.dumps(_values(job)): due})
        pipe.execute()
        if failures:
            self._unlock_script(keys=[self._state(f.job.key) for f in failures], args=[owner])

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
        if jobs:
            self._unlock_script(keys=[self._state(j.key) for j in jobs], args=[owner])
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
    rows = Delivery.objects.filter(
        message_id=message_id, status=DeliveryStatus.QUEUED, attempts=0
    ).values_list(*_JOB_FIELDS)
    target = RedisQueue()
    chunk: list[Any] = []
    # A server-side cursor on PostgreSQL: the first jobs go out while the rest are still read,
    # and a broadcast of millions is never held in memory at once.
    for row in rows.iterator(chunk_size=PUBLISH_ROWS):
        chunk.append(row)
        if len(chunk) >= PUBLISH_ROWS:
            target.publish_rows(chunk)
            chunk = []
    if chunk:
        target.publish_rows(chunk)


def publish_ids(ids: Sequence[int]) -> None:
    """Called after dead letters are requeued: on Redis, publish them again."""
    if backend() != "redis":
        return
    rows = Delivery.objects.filter(pk__in=list(ids)).values_list(*_JOB_FIELDS)
    RedisQueue().publish_rows(list(rows))


def make_queue(name: str | None = None, **kwargs: Any) -> Queue:
    name = name or backend()
    if name == "redis":
        return RedisQueue(**kwargs)
    if name == "db":
        return DbQueue(lease_s=kwargs.get("lease_s"))
    raise ValueError(f"unknown queue backend {name!r}")
