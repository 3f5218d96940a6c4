"""Channels: signed webhooks, e-mail over SMTP, and an SMS gateway over HTTP.

Webhooks are POSTed with the CAP XML as the body and these headers:

- ``Idempotency-Key``: the same on every attempt at one delivery; receivers drop repeats.
- ``X-Reunite-Timestamp``: Unix seconds when the request was signed.
- ``X-Reunite-Signature``: ``sha256=`` + hex HMAC-SHA256 under the shared secret of
  ``timestamp + "." + body`` (see ``verify_signature``; receivers should also refuse old stamps).

Addresses must be https and resolve only to public addresses (checked again before every
connection, which goes to the checked address so that DNS cannot be switched in between);
plain-http loopback receivers are allowed only with ``NOTIFY_WEBHOOK_ALLOW_LOOPBACK`` (tests,
benchmarks).  Redirects are never followed: a 3xx answer is a failed attempt.

The client keeps one connection per receiver open (HTTP/1.1 keep-alive) and writes up to
``NOTIFY_WEBHOOK_PIPELINE`` requests before reading their answers in order (pipelining).  A
request whose answer never came is retried with the same key; receivers de-duplicate.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.translation import gettext as _

from reunite.notify import conf

USER_AGENT = "Reunite-Notify/1"
MAX_RESPONSE_BYTES = 1 << 20
MAX_HEADER_LINES = 100


class SendError(Exception):
    """A message could not be handed over; the attempt counts as failed."""


class UnsafeEndpoint(Exception):
    """A webhook address that may not be used; ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- signing


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str, timestamp: str, body: bytes, signature: str, *, tolerance_s: int = 300
) -> bool:
    """What a receiver checks: a fresh timestamp and a matching HMAC (constant-time)."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - stamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), signature)


# --------------------------------------------------------------------------- addresses


@dataclass(frozen=True)
class Target:
    """A checked receiver: where to connect (``address``) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def origin(self) -> tuple[str, str, int, str]:
        return (self.scheme, self.host, self.port, self.address)


def _allowed_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if ip.is_loopback:
        return bool(conf.get("NOTIFY_WEBHOOK_ALLOW_LOOPBACK"))
    return ip.is_global and not ip.is_multicast


def check_webhook_url(url: str) -> Target:
    """The target of ``url``, or ``UnsafeEndpoint`` saying why it may not be used."""
    if len(url) > 500:
        raise UnsafeEndpoint(_("The address is too long."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeEndpoint(_("This is not a valid address.")) from exc
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise UnsafeEndpoint(_("Enter an https:// address."))
    if parts.username or parts.password:
        raise UnsafeEndpoint(_("The address may not contain a user name or password."))
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise UnsafeEndpoint(_("This is not a valid address."))
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        literal: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    loopback_name = host == "localhost" or (literal is not None and literal.is_loopback)
    if parts.scheme == "http" and not (loopback_name and conf.get("NOTIFY_WEBHOOK_ALLOW_LOOPBACK")):
        raise UnsafeEndpoint(_("Webhooks must use https."))
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise UnsafeEndpoint(_("The host name could not be resolved.")) from exc
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses or not all(_allowed_address(ip) for ip in addresses):
        raise UnsafeEndpoint(
            _("The address resolves to a private, loopback or link-local network.")
        )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, str(addresses[0]))


# --------------------------------------------------------------------------- HTTP/1.1 client


class _Connection:
    """One keep-alive connection; requests may be pipelined.

    Answers are parsed from one receive buffer (a pipelined batch arrives in a few segments),
    which is much cheaper than a buffered file read line by line.
    """

    def __init__(self, target: Target, timeout: float) -> None:
        sock = socket.create_connection((target.address, target.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if target.scheme == "https":
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=target.host)
        self.sock = sock
        self.buf = b""
        self.pos = 0
        self.closed = False

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.close()

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed")
        self.buf = self.buf[self.pos :] + data
        self.pos = 0
        if len(self.buf) > 4 * MAX_RESPONSE_BYTES:
            raise ConnectionError("response too large")

    def _until(self, marker: bytes, limit: int) -> bytes:
        """Bytes up to and without ``marker`` (consumed), reading more as needed."""
        while True:
            end = self.buf.find(marker, self.pos)
            if end >= 0:
                chunk = self.buf[self.pos : end]
                self.pos = end + len(marker)
                return chunk
            if len(self.buf) - self.pos > limit:
                raise ConnectionError("header too long")
            self._fill()

    def _take(self, n: int) -> None:
        while len(self.buf) - self.pos < n:
            self._fill()
        self.pos += n

    def _read_response(self) -> tuple[int, bool]:
        """(status, server closes) of the next response; its body is read and dropped."""
        while True:
            head = self._until(b"\r\n\r\n", 65536)
            lines = head.split(b"\r\n")
            parts = lines[0].split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
                raise ConnectionError("not an HTTP response")
            if len(lines) > MAX_HEADER_LINES:
                raise ConnectionError("too many header lines")
            status = int(parts[1])
            headers: dict[bytes, bytes] = {}
            for line in lines[1:]:
                name, _sep, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            if 100 <= status < 200:
                continue
            close = headers.get(b"connection", b"").lower() == b"close" or parts[0] == b"HTTP/1.0"
            if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
                self._skip_chunked()
            elif b"content-length" in headers:
                length = int(headers[b"content-length"])
                if not 0 <= length <= MAX_RESPONSE_BYTES:
                    raise ConnectionError("response too large")
                self._take(length)
            else:
                close = True  # the body runs to the end of the connection
            return status, close

    def _skip_chunked(self) -> None:
        total = 0
        while True:
            size = int(self._until(b"\r\n", 1024).split(b";")[0].strip() or b"0", 16)
            total += size
            if total > MAX_RESPONSE_BYTES:
                raise ConnectionError("response too large")
            if size == 0:
                while self._until(b"\r\n", 8192):
                    pass
                return
            self._take(size + 2)

    def exchange(self, requests: list[bytes]) -> list[int]:
        """Send every request, then read answers in order; fewer statuses if the server
        closed early (the rest had no answer)."""
        self.sock.sendall(b"".join(requests))
        statuses: list[int] = []
        for _request in requests:
            status, close = self._read_response()
            statuses.append(status)
            if close:
                self.close()
                break
        return statuses


class HttpClient:
    """Keep-alive connections per origin, shared by the threads of one worker."""

    def __init__(self, timeout: float | None = None, pipeline: int | None = None) -> None:
        self.timeout = float(timeout or conf.get("NOTIFY_WEBHOOK_TIMEOUT_SECONDS"))
        self.pipeline = max(1, int(pipeline or conf.get("NOTIFY_WEBHOOK_PIPELINE")))
        self._idle: dict[tuple[str, str, int, str], list[_Connection]] = {}
        self._lock = threading.Lock()

    def _take(self, target: Target) -> _Connection:
        with self._lock:
            pool = self._idle.get(target.origin) or []
            while pool:
                conn = pool.pop()
                if not conn.closed:
                    return conn
        return _Connection(target, self.timeout)

    def _give(self, target: Target, conn: _Connection) -> None:
        if not conn.closed:
            with self._lock:
                self._idle.setdefault(target.origin, []).append(conn)

    def post_many(self, target: Target, raws: list[bytes]) -> Iterable[list[int | str]]:
        """Yield, chunk by chunk, each request's status (int) or error (str), in order.

        ``raws`` are complete requests to ``target``.  A request left unanswered on a closed
        connection is tried again once on a fresh one.
        """
        for start in range(0, len(raws), self.pipeline):
            pending = raws[start : start + self.pipeline]
            results: list[int | str] = []
            for attempt in range(2):
                if not pending:
                    break
                try:
                    conn = self._take(target)
                except OSError as exc:
                    results += [f"connect: {exc}"[:200]] * len(pending)
                    pending = []
                    break
                try:
                    statuses = conn.exchange(pending)
                except (OSError, ConnectionError, ValueError) as exc:
                    conn.close()
                    statuses, error = [], f"{type(exc).__name__}: {exc}"[:200]
                    if attempt == 1:
                        results += [error] * len(pending)
                        pending = []
                        break
                self._give(target, conn)
                results += statuses
                pending = pending[len(statuses) :]
            results += ["no answer"] * len(pending)
            yield results

    def close(self) -> None:
        with self._lock:
            for pool in self._idle.values():
                for conn in pool:
                    conn.close()
            self._idle.clear()


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port in (80, 443) else f"{host}:{target.port}"


def _header_value(value: str) -> str:
    return "".join(c for c in value if 32 <= ord(c) < 127)[:100]


class WebhookMessage:
    """The requests of one message to one endpoint: the fixed part is built once, and the
    signature once a second (it covers the timestamp and the body, not the key)."""

    def __init__(
        self, target: Target, secret: str, body: bytes, *, topic: str = "", ring: str = ""
    ) -> None:
        lines = [
            f"POST {target.path} HTTP/1.1",
            f"Host: {_host_header(target)}",
            f"User-Agent: {USER_AGENT}",
            "Content-Type: application/cap+xml; charset=utf-8",
            f"Content-Length: {len(body)}",
        ]
        for name, value in (("X-Reunite-Topic", topic), ("X-Reunite-Ring", ring)):
            if _header_value(value):
                lines.append(f"{name}: {_header_value(value)}")
        self.head = ("\r\n".join(lines) + "\r\n").encode("latin-1")
        self.body = body
        self._mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
        self._stamp = -1
        self._signed = b""

    def request(self, key: str) -> bytes:
        """The request carrying ``key`` (an idempotency key made by the queue: ASCII)."""
        stamp = int(time.time())
        if stamp != self._stamp:
            mac = self._mac.copy()
            mac.update(str(stamp).encode() + b"." + self.body)
            self._signed = (
                f"X-Reunite-Timestamp: {stamp}\r\nX-Reunite-Signature: sha256={mac.hexdigest()}"
                "\r\n\r\n"
            ).encode()
            self._stamp = stamp
        return (
            b"".join(
                (
                    self.head,
                    b"Idempotency-Key: ",
                    key.encode("ascii"),
                    b"\r\n",
                    self._signed,
                )
            )
            + self.body
        )


PING_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<ping xmlns="urn:reunite:notify">Reunite checks that this endpoint answers.</ping>\n'
)


def ping_endpoint(url: str, secret: str) -> None:
    """POST a signed ping; anything but a 2xx answer (a redirect too) is ``UnsafeEndpoint``."""
    target = check_webhook_url(url)
    client = HttpClient(timeout=5.0, pipeline=1)
    try:
        message = WebhookMessage(target, secret, PING_BODY, topic="ping")
        raw = message.request(f"ping-{int(time.time() * 1000)}")
        (result,) = next(iter(client.post_many(target, [raw])))
    finally:
        client.close()
    if isinstance(result, str):
        raise UnsafeEndpoint(_("The endpoint did not answer: %(error)s") % {"error": result})
    if 300 <= result < 400:
        raise UnsafeEndpoint(_("The endpoint answered with a redirect; redirects are refused."))
    if not 200 <= result < 300:
        raise UnsafeEndpoint(_("The endpoint answered HTTP %(status)s.") % {"status": result})


# --------------------------------------------------------------------------- throttle


class Throttle:
    """A token bucket: at most ``rate`` messages a second (0 = no limit), bursts of one second."""

    def __init__(self, rate: float) -> None:
        self.rate = float(rate)
        self.tokens = max(self.rate, 1.0)
        self.stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self, n: int = 1) -> None:
        if self.rate <= 0:
            return
        while True:
            with self._lock:
                now = time.monotonic()
                self.tokens = min(max(self.rate, n), self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= n:
                    self.tokens -= n
                    return
                wait = (n - self.tokens) / self.rate
            time.sleep(min(wait, 1.0))


# --------------------------------------------------------------------------- e-mail, SMS


def email_message(
    to: str, subject: str, text: str, *, optout: str = "", key: str = ""
) -> EmailMessage:
    headers: dict[str, Any] = {}
    if optout:
        headers["List-Unsubscribe"] = f"<{optout}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if key:
        # One Message-ID per delivery: a resent copy is recognised as the same message.
        headers["Message-ID"] = f"<{key}@reunite.notify>"
        headers["Idempotency-Key"] = key
    return EmailMessage(subject, text, settings.DEFAULT_FROM_EMAIL, [to], headers=headers)


def send_plain_email(to: str, subject: str, text: str, *, optout: str = "") -> None:
    try:
        get_connection(fail_silently=False).send_messages(
            [email_message(to, subject, text, optout=optout)]
        )
    except (OSError, Exception) as exc:
        raise SendError(f"{type(exc).__name__}: {exc}"[:200]) from exc


def gateway_target() -> Target:
    url = str(conf.get("NOTIFY_SMS_GATEWAY_URL"))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SendError("NOTIFY_SMS_GATEWAY_URL is not set")
    try:
        address = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)[0][
            4
        ][0]
    except OSError as exc:
        raise SendError(f"SMS gateway: {exc}") from exc
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Target(parts.scheme, parts.hostname, port, path, str(address))


def sms_request(target: Target, to: str, text: str, key: str) -> bytes:
    """The gateway adapter: ``POST {"to", "text", "idempotency_key"}`` as JSON."""
    body = json.dumps({"to": to, "text": text, "idempotency_key": key}).encode()
    lines = [
        f"POST {target.path} HTTP/1.1",
        f"Host: {_host_header(target)}",
        f"User-Agent: {USER_AGENT}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        f"Idempotency-Key: {_header_value(key)}",
    ]
    token = _header_value(str(conf.get("NOTIFY_SMS_GATEWAY_TOKEN")))
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def send_plain_sms(to: str, text: str, *, key: str) -> None:
    client = HttpClient(pipeline=1)
    try:
        target = gateway_target()
        (result,) = next(iter(client.post_many(target, [sms_request(target, to, text, key)])))
    finally:
        client.close()
    if isinstance(result, str) or not 200 <= result < 300:
        raise SendError(f"SMS gateway answered {result}")
