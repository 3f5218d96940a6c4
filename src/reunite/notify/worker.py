"""Workers: claim jobs from the queue, send them on their channel, record the outcome.

A worker process runs ``concurrency`` threads, each with its own queue handle and database
connection, sharing keep-alive HTTP connections and per-channel throttles.  Outcomes are
written back after every pipelined chunk (a few dozen messages), so that a worker killed
mid-batch leaves only that chunk to be sent again — with the same idempotency keys.  Jobs
claimed but not attempted before the lease nears its end, or at shutdown, are handed back.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import translation
from django.utils.translation import gettext as _

from reunite.notify import channels, conf
from reunite.notify.models import Channel, Message, Subscriber, WebhookEndpoint
from reunite.notify.queue import Failure, Job, Queue, make_queue
from reunite.notify.services import optout_url

log = logging.getLogger(__name__)
ENDPOINT_CACHE_S = 30.0


@dataclass
class Counters:
    delivered: int = 0
    failed: int = 0
    released: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, delivered: int = 0, failed: int = 0, released: int = 0) -> None:
        with self.lock:
            self.delivered += delivered
            self.failed += failed
            self.released += released


@dataclass(frozen=True)
class _Payload:
    topic: str
    ring: str
    subject: str
    text: str
    url: str
    body: bytes


class Dispatcher:
    """Sends jobs; shared by a worker's threads (caches and connections are thread-safe)."""

    def __init__(self) -> None:
        self.http = channels.HttpClient()
        rates = dict(conf.get("NOTIFY_THROTTLE_PER_SECOND"))
        self.throttles = {c.value: channels.Throttle(rates.get(c.value, 0)) for c in Channel}
        self.commit_every = max(1, int(conf.get("NOTIFY_COMMIT_EVERY")))
        self._messages: dict[int, _Payload] = {}
        self._endpoints: dict[int, tuple[float, channels.Target | str, str]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lookups

    def _payloads(self, ids: set[int]) -> dict[int, _Payload]:
        missing = ids - self._messages.keys()
        if missing:
            for m in Message.objects.filter(pk__in=missing):
                payload = _Payload(
                    m.topic, m.ring, m.subject, m.text, m.url, m.cap_xml.encode("utf-8")
                )
                with self._lock:
                    if len(self._messages) > 1000:
                        self._messages.clear()
                    self._messages[m.pk] = payload
        return {i: self._messages[i] for i in ids if i in self._messages}

    def _endpoint(self, endpoint_id: int) -> tuple[channels.Target | str, str]:
        """(target or the reason it may not be used, secret), cached for a few seconds."""
        cached = self._endpoints.get(endpoint_id)
        if cached and time.monotonic() - cached[0] < ENDPOINT_CACHE_S:
            return cached[1], cached[2]
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
        target: channels.Target | str
        secret = ""
        if endpoint is None:
            target = "endpoint removed"
        elif not endpoint.enabled:
            target = "endpoint disabled"
        else:
            secret = endpoint.secret
            try:
                target = channels.check_webhook_url(endpoint.url)
            except channels.UnsafeEndpoint as exc:
                target = f"unsafe endpoint: {exc.reason}"
        with self._lock:
            self._endpoints[endpoint_id] = (time.monotonic(), target, secret)
        return target, secret

    # ------------------------------------------------------------------ sending

    def send(self, queue: Queue, owner: str, jobs: Sequence[Job], deadline: float) -> Counters:
        """Attempt every job (until ``deadline``), recording outcomes chunk by chunk."""
        counters = Counters()
        payloads = self._payloads({j.message_id for j in jobs})
        groups: dict[tuple[str, int | None], list[Job]] = defaultdict(list)
        for job in jobs:
            groups[
                (job.channel, job.endpoint_id if job.channel == Channel.WEBHOOK else None)
            ].append(job)
        settled: set[int] = set()
        delivered: list[Job] = []
        for (channel, endpoint_id), group in groups.items():
            if time.monotonic() > deadline:
                break
            sendable = [j for j in group if j.message_id in payloads]
            gone = [
                Failure(j, "message removed", permanent=True)
                for j in group
                if j.message_id not in payloads
            ]
            if gone:
                queue.fail(owner, gone)
                counters.add(failed=len(gone))
                settled |= {f.job.delivery_id for f in gone}
            for done, failed in self._send_group(
                channel, endpoint_id, sendable, payloads, deadline
            ):
                delivered += done
                if len(delivered) >= self.commit_every:
                    queue.done(owner, delivered)
                    delivered = []
                if failed:
                    queue.fail(owner, failed)
                counters.add(delivered=len(done), failed=len(failed))
                settled |= {j.delivery_id for j in done} | {f.job.delivery_id for f in failed}
        if delivered:
            queue.done(owner, delivered)
        unsent = [j for j in jobs if j.delivery_id not in settled]
        if unsent:
            queue.release(owner, unsent)
            counters.add(released=len(unsent))
        return counters

    def _send_group(
        self,
        channel: str,
        endpoint_id: int | None,
        jobs: list[Job],
        payloads: dict[int, _Payload],
        deadline: float,
    ) -> Any:
        """Yield (delivered, failures) per chunk; stop (leaving the rest) past the deadline."""
        if channel == Channel.WEBHOOK:
            yield from self._webhooks(endpoint_id, jobs, payloads, deadline)
        elif channel == Channel.EMAIL:
            yield from self._emails(jobs, payloads, deadline)
        elif channel == Channel.SMS:
            yield from self._sms(jobs, payloads, deadline)
        else:
            yield [], [Failure(j, f"unknown channel {channel}", permanent=True) for j in jobs]

    @staticmethod
    def _settle(
        jobs: Sequence[Job], results: Sequence[int | str]
    ) -> tuple[list[Job], list[Failure]]:
        done: list[Job] = []
        failed: list[Failure] = []
        for job, result in zip(jobs, results, strict=True):
            if isinstance(result, int) and 200 <= result < 300:
                done.append(job)
            elif isinstance(result, int) and 300 <= result < 400:
                failed.append(Failure(job, f"HTTP {result}: redirect refused"))
            elif result == 410:
                failed.append(Failure(job, "HTTP 410: gone", permanent=True))
            else:
                failed.append(Failure(job, f"HTTP {result}" if isinstance(result, int) else result))
        return done, failed

    def _webhooks(
        self,
        endpoint_id: int | None,
        jobs: list[Job],
        payloads: dict[int, _Payload],
        deadline: float,
    ) -> Any:
        target, secret = self._endpoint(endpoint_id or 0)
        if isinstance(target, str):
            yield [], [Failure(j, target) for j in jobs]
            return
        step = self.http.pipeline
        built: dict[int, channels.WebhookMessage] = {}
        for start in range(0, len(jobs), step):
            if time.monotonic() > deadline:
                return
            chunk = jobs[start : start + step]
            self.throttles[Channel.WEBHOOK].take(len(chunk))
            raws = []
            for job in chunk:
                message = built.get(job.message_id)
                if message is None:
                    p = payloads[job.message_id]
                    message = channels.WebhookMessage(
                        target, secret, p.body, topic=p.topic, ring=p.ring
                    )
                    built[job.message_id] = message
                raws.append(message.request(job.key))
            for results in self.http.post_many(target, raws):
                yield self._settle(chunk, results)

    def _subscribers(self, jobs: Sequence[Job]) -> dict[int, Subscriber]:
        ids = {j.subscriber_id for j in jobs}
        return {s.pk: s for s in Subscriber.objects.filter(pk__in=ids, active=True)}

    def _emails(self, jobs: list[Job], payloads: dict[int, _Payload], deadline: float) -> Any:
        from django.core.mail import get_connection

        subscribers = self._subscribers(jobs)
        mailer = get_connection(fail_silently=False)
        try:
            for job in jobs:
                if time.monotonic() > deadline:
                    return
                sub = subscribers.get(job.subscriber_id)
                if sub is None or not sub.email:
                    yield (
                        [],
                        [Failure(job, "subscriber inactive or without e-mail", permanent=True)],
                    )
                    continue
                p = payloads[job.message_id]
                optout = optout_url(sub)
                with translation.override(sub.language or "zh-hans"):
                    text = f"{p.text}\n\n{p.url}\n\n" + _("To stop these alerts: %(link)s") % {
                        "link": optout
                    }
                message = channels.email_message(
                    sub.email, p.subject, text, optout=optout, key=job.key
                )
                self.throttles[Channel.EMAIL].take()
                try:
                    mailer.send_messages([message])
                except Exception as exc:  # any SMTP or socket failure is a failed attempt
                    mailer.close()
                    yield [], [Failure(job, _mail_error(exc))]
                else:
                    yield [job], []
        finally:
            mailer.close()

    def _sms(self, jobs: list[Job], payloads: dict[int, _Payload], deadline: float) -> Any:
        try:
            target = channels.gateway_target()
        except channels.SendError as exc:
            yield [], [Failure(j, str(exc)) for j in jobs]
            return
        subscribers = self._subscribers(jobs)
        step = self.http.pipeline
        for start in range(0, len(jobs), step):
            if time.monotonic() > deadline:
                return
            chunk = jobs[start : start + step]
            sendable = []
            failed = []
            for job in chunk:
                sub = subscribers.get(job.subscriber_id)
                if sub is None or not sub.phone:
                    failed.append(
                        Failure(job, "subscriber inactive or without mobile", permanent=True)
                    )
                else:
                    sendable.append((job, sub))
            if failed:
                yield [], failed
            if not sendable:
                continue
            self.throttles[Channel.SMS].take(len(sendable))
            raws = [
                channels.sms_request(target, sub.phone, f"{p.text} {p.url}", job.key)
                for job, sub in sendable
                for p in [payloads[job.message_id]]
            ]
            for results in self.http.post_many(target, raws):
                yield self._settle([j for j, _s in sendable], results)


class Worker:
    """One worker process: ``concurrency`` threads claiming and sending."""

    def __init__(
        self,
        backend: str | None = None,
        concurrency: int = 1,
        *,
        batch_size: int | None = None,
        lease_s: float | None = None,
        queue_options: dict[str, Any] | None = None,
    ) -> None:
        self.backend = backend or str(conf.get("NOTIFY_QUEUE_BACKEND"))
        self.concurrency = max(1, concurrency)
        self.batch_size = int(batch_size or conf.get("NOTIFY_BATCH_SIZE"))
        self.lease_s = float(lease_s or conf.get("NOTIFY_LEASE_SECONDS"))
        self.queue_options = dict(queue_options or {})
        self.stop = threading.Event()
        self.dispatcher = Dispatcher()
        self.counters = Counters()
        self.name = f"{socket.gethostname()}-{os.getpid()}"

    def _queue(self) -> Queue:
        return make_queue(self.backend, lease_s=self.lease_s, **self.queue_options)

    def run_once(self, queue: Queue, owner: str) -> int:
        """Claim one batch and send it; the number of jobs claimed."""
        jobs = queue.claim(owner, self.batch_size)
        if jobs:
            deadline = time.monotonic() + self.lease_s * 0.8
            counters = self.dispatcher.send(queue, owner, jobs, deadline)
            self.counters.add(counters.delivered, counters.failed, counters.released)
        queue.finish_batch(owner)
        return len(jobs)

    def _loop(self, index: int, until_idle: bool) -> None:
        owner = f"{self.name}-{index}"
        idle_since: float | None = None
        try:
            queue = self._queue()
            while not self.stop.is_set():
                try:
                    claimed = self.run_once(queue, owner)
                except Exception:
                    log.exception("notify worker %s: batch failed; retrying", owner)
                    # A broken database connection is opened afresh on the next query.
                    connection.close()
                    self.stop.wait(1.0)
                    continue
                if claimed:
                    idle_since = None
                    continue
                if until_idle:
                    idle_since = idle_since or time.monotonic()
                    if time.monotonic() - idle_since > 0.5 and queue.pending() == 0:
                        return
                self.stop.wait(0.05 if self.backend == "redis" else 0.2)
        finally:
            connection.close()

    def run(self, *, until_idle: bool = False) -> Counters:
        """Run until ``stop`` is set (or, with ``until_idle``, until nothing is left)."""
        threads = [
            threading.Thread(target=self._loop, args=(i, until_idle), name=f"notify-{i}")
            for i in range(self.concurrency)
        ]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.5)
        finally:
            self.stop.set()
            self.dispatcher.http.close()
        return self.counters


def _mail_error(exc: Exception) -> str:
    """What is kept of a failed send: the error's kind and SMTP code, never its text, which can
    quote the recipient's address (contact data is stored encrypted, never in the clear)."""
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__}" + (f" (SMTP {code})" if code is not None else "")
