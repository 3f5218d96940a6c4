"""Rapid-search alert dispatch: ring selection, delivery throughput, and a worker crash.

    .venv/bin/python benchmarks/alerts.py --subscribers N --notifications M --json PATH

1. Builds N subscribers in bulk (scattered around every county seat of China, σ ≈ 10 km) and
   times the selection of the subscribers within 100/200/300/500 km of a populated centre
   (Chengdu) — the query a ring broadcast runs (``notify.services.count_in_circle``) — checking
   each count against a numpy brute force.
2. Registers M webhook recipients (partners at 20 endpoints of a loopback sink), then times
   ``broadcast_in_circle`` (enqueue) plus delivery by 2 worker processes (``reunite notify
   worker``), on the database queue and on Redis.  The sink is a real HTTP/1.1 server in a
   subprocess that checks every HMAC signature and records every idempotency key.
3. Crash test, per backend: a new message to the same M recipients; one of the two workers is
   killed with SIGKILL mid-dispatch and restarted.  At the sink, ``lost`` counts keys never
   received; ``duplicates`` counts messages the receiving application processed twice, i.e.
   repeats that got past the receiver's idempotency-key check (the documented receiver
   contract); ``resent_on_wire`` counts the raw repeats the sink dropped by key.

The database is ``DATABASE_URL`` (default: a SQLite file under ``--var-dir``); the JSON says
which.  Redis is ``--redis-url`` (keys under a per-run prefix, deleted afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CENTRE = (30.6598, 104.0633)  # Chengdu, Sichuan
RINGS_KM = (100, 200, 300, 500)
SECRET = "benchmark-shared-secret-0123456789"  # noqa: S105 (a loopback test sink)
ENDPOINTS = 20
KEYED = hmac.new(SECRET.encode(), digestmod=hashlib.sha256)
RECIPIENT_CENTRE = (43.8256, 87.6168)  # Ürümqi: far from the rings timed above
CRASH_CENTRE = (29.6520, 91.1721)  # Lhasa: the crash test's own recipients


# =========================================================================== the sink


class SinkProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and pipelining; answers 200 to every well-signed POST."""

    keys: dict[str, int] = {}
    stats = {"requests": 0, "bad_signatures": 0, "processed": 0}

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        out = []
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = self.buf[:end].decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _sep, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buf) < end + 4 + length:
                break
            body = self.buf[end + 4 : end + 4 + length]
            self.buf = self.buf[end + 4 + length :]
            method, path = head[0].split(" ")[:2]
            if method == "GET" and path == "/stats":
                payload = json.dumps(self.summary()).encode()
                out.append(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(payload)).encode()
                    + b"\r\n\r\n"
                    + payload
                )
                continue
            if method == "GET" and path == "/keys":
                payload = json.dumps(list(self.keys)).encode()
                out.append(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(payload)).encode()
                    + b"\r\n\r\n"
                    + payload
                )
                continue
            if method == "POST" and path == "/reset":
                SinkProtocol.keys = {}
                SinkProtocol.stats = {"requests": 0, "bad_signatures": 0, "processed": 0}
                out.append(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                continue
            self.stats["requests"] += 1
            stamp = headers.get("x-reunite-timestamp", "")
            mac = KEYED.copy()
            mac.update(stamp.encode() + b"." + body)
            if not hmac.compare_digest(
                "sha256=" + mac.hexdigest(), headers.get("x-reunite-signature", "")
            ):
                self.stats["bad_signatures"] += 1
                out.append(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
                continue
            key = headers.get("idempotency-key", "")
            # The receiver contract: process a key once; answer 200 to repeats as well.
            seen = self.keys.get(key, 0)
            self.keys[key] = seen + 1
            if not seen:
                self.stats["processed"] += 1
            out.append(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        if out:
            self.transport.write(b"".join(out))

    @classmethod
    def summary(cls) -> dict[str, Any]:
        return {
            **cls.stats,
            "unique": len(cls.keys),
            "resent_on_wire": sum(n - 1 for n in cls.keys.values()),
        }


def run_sink(port_file: str) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(SinkProtocol, "127.0.0.1", 0, backlog=512)
        port = server.sockets[0].getsockname()[1]
        Path(port_file).write_text(str(port))
        await server.serve_forever()

    asyncio.run(main())


def sink_call(port: int, method: str, path: str) -> dict[str, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=None)
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
        text = response.read()
    return json.loads(text) if text else {}


def sink_keys(port: int) -> set[str]:
    """Every idempotency key the sink received."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/keys")
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (loopback)
        return set(json.loads(response.read()))


# =========================================================================== setup


def django_setup(args: argparse.Namespace) -> None:
    os.environ["REUNITE_VAR_DIR"] = str(args.var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reunite.settings")
    os.environ["NOTIFY_WEBHOOK_ALLOW_LOOPBACK"] = "1"
    os.environ["REUNITE_NOTIFY_REDIS_PREFIX"] = args.redis_prefix
    os.environ["REUNITE_REDIS_URL"] = args.redis_url
    os.environ["REUNITE_NOTIFY_BACKEND"] = "db"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from reunite.accounts.models import Division

    if not Division.objects.filter(level=3).exists():
        call_command("load_divisions", verbosity=0)


def reset_tables(keep_people: bool) -> None:
    """Empty the notify tables (all but the people, with ``keep_people``)."""
    from django.db import connection

    people = "1 = 0" if keep_people else "kind = 'person'"
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM notify_delivery")
        cursor.execute("DELETE FROM notify_message")
        cursor.execute(f"DELETE FROM notify_subscriber WHERE kind <> 'person' OR {people}")  # noqa: S608
        cursor.execute("DELETE FROM notify_webhookendpoint")


def county_seats() -> tuple[Any, Any, list[str], list[int]]:
    import numpy as np

    from reunite.accounts.models import Division

    rows = list(
        Division.objects.filter(level__gte=3, latitude__isnull=False).values_list(
            "latitude", "longitude", "path", "pk"
        )
    )
    lat = np.array([r[0] for r in rows])
    lon = np.array([r[1] for r in rows])
    return lat, lon, [r[2] for r in rows], [r[3] for r in rows]


SUBSCRIBER_COLUMNS = (
    "public_id",
    "kind",
    "status",
    "active",
    "language",
    "email",
    "phone",
    "email_index",
    "confirm_nonce",
    "phone_index",
    "endpoint_id",
    "latitude",
    "longitude",
    "h3_cell",
    "x",
    "y",
    "z",
    "division_id",
    "division_path",
    "created_at",
    "confirmed_at",
)


def _points(n: int, rng: Any) -> tuple[Any, Any, Any]:
    import numpy as np

    seat_lat, seat_lon, _paths, _pks = county_seats()
    which = rng.integers(0, len(seat_lat), n)
    lat = np.clip(seat_lat[which] + rng.normal(0, 0.09, n), -89.9, 89.9)
    lon = seat_lon[which] + rng.normal(0, 0.09, n) / np.cos(np.radians(lat))
    return lat, lon, which


def bulk_subscribers(
    lat: Any, lon: Any, which: Any, *, kind: str, endpoint_ids: list[int] | None = None
) -> float:
    """Insert subscribers fast (COPY on PostgreSQL, executemany on SQLite); seconds taken."""
    import sqlite3

    import numpy as np
    from django.db import connection, transaction
    from django.utils import timezone
    from h3.api import basic_int

    _seat_lat, _seat_lon, paths, pks = county_seats()
    started = time.perf_counter()
    now = timezone.now()
    p, q = np.radians(lat), np.radians(lon)
    x, y, z = np.cos(p) * np.cos(q), np.cos(p) * np.sin(q), np.sin(p)
    chunk = 200_000
    variable = ("public_id", "endpoint_id", "latitude", "longitude", "h3_cell", "x", "y", "z")
    variable += ("division_id", "division_path")
    constant = {
        "kind": kind,
        "status": "active",
        "language": "zh-hans",
        "email": "",
        "phone": "",
        "email_index": "",
        "confirm_nonce": "",
        "phone_index": "",
    }
    for start in range(0, len(lat), chunk):
        end = min(len(lat), start + chunk)
        n = end - start
        la, lo = lat[start:end].tolist(), lon[start:end].tolist()
        cells = [basic_int.latlng_to_cell(a, b, 7) for a, b in zip(la, lo, strict=True)]
        xs, ys, zs = x[start:end].tolist(), y[start:end].tolist(), z[start:end].tolist()
        ws = which[start:end].tolist()
        hexes = os.urandom(16 * n).hex()  # UUIDs as 32 hex digits (SQLite's form; PG reads it)
        eps = (
            [endpoint_ids[(start + i) % len(endpoint_ids)] for i in range(n)]
            if endpoint_ids
            else [None] * n
        )
        if connection.vendor == "postgresql":
            stamp = now.isoformat()
            head = f"{kind}\tactive\tt\tzh-hans\t\t\t\t\t\t"
            lines = "".join(
                f"{hexes[32 * i : 32 * i + 32]}\t{head}{eps[i] if eps[i] else chr(92) + 'N'}\t"
                f"{la[i]!r}\t{lo[i]!r}\t{cells[i]}\t{xs[i]!r}\t{ys[i]!r}\t{zs[i]!r}\t"
                f"{pks[ws[i]]}\t{paths[ws[i]]}\t{stamp}\t{stamp}\n"
                for i in range(n)
            )
            cols = ", ".join(SUBSCRIBER_COLUMNS)
            sql = f"COPY notify_subscriber ({cols}) FROM STDIN"
            with (
                transaction.atomic(),
                connection.cursor() as cursor,
                cursor.cursor.copy(sql) as copy,
            ):
                copy.write(lines.encode())
        else:
            rows = zip(
                (hexes[32 * i : 32 * i + 32] for i in range(n)),
                eps,
                la,
                lo,
                cells,
                xs,
                ys,
                zs,
                (pks[w] for w in ws),
                (paths[w] for w in ws),
                strict=False,
            )
            iso = now.isoformat(sep=" ")
            cols = ", ".join((*variable, *constant, "active", "created_at", "confirmed_at"))
            marks = ", ".join(["?"] * (len(variable) + len(constant)) + ["1", "?", "?"])
            with transaction.atomic(), connection.cursor() as cursor:
                sqlite3.Cursor.executemany(
                    cursor.cursor,
                    f"INSERT INTO notify_subscriber ({cols}) VALUES ({marks})",  # noqa: S608
                    (r + tuple(constant.values()) + (iso, iso) for r in rows),
                )
    return time.perf_counter() - started


def with_indexes_dropped(build: Any) -> float:
    """Run ``build`` with the subscriber table's secondary indexes (and, on PostgreSQL, its
    unique and foreign-key constraints) dropped, then rebuild them: a bulk load into a table
    of millions is many times faster this way.  Returns the seconds the rebuild took."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = 'notify_subscriber'::regclass AND contype IN ('u', 'f')"
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'notify_subscriber'"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint"
                " WHERE conrelid = 'notify_subscriber'::regclass)"
            )
            indexes = cursor.fetchall()
            for name, _definition in constraints:
                cursor.execute(f'ALTER TABLE notify_subscriber DROP CONSTRAINT "{name}"')
        else:
            constraints = []
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                " AND tbl_name = 'notify_subscriber' AND sql IS NOT NULL"
            )
            indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    build()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE notify_subscriber ADD CONSTRAINT "{name}" {definition}')
        # As autovacuum would after a bulk load (PostgreSQL also sets its visibility map).
        vacuum = "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
        cursor.execute(f"{vacuum} notify_subscriber")
    return time.perf_counter() - started


# =========================================================================== measurements


def measure_rings(lat: Any, lon: Any) -> dict[str, Any]:
    import numpy as np

    from reunite.notify import geo, services

    p1, q1 = np.radians(CENTRE[0]), np.radians(CENTRE[1])
    p2, q2 = np.radians(lat), np.radians(lon)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((q2 - q1) / 2) ** 2
    dist = 2 * geo.EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    exact = True
    for radius in RINGS_KM:
        timings = []
        for _try in range(3):
            started = time.perf_counter()
            count = services.count_in_circle(CENTRE[0], CENTRE[1], radius)
            timings.append(time.perf_counter() - started)
        seconds[str(radius)] = round(timings[0], 4)
        seconds[f"{radius}_warm"] = round(min(timings), 4)
        counts[str(radius)] = count
        # Points within a metre of the edge may fall either way in floating point.
        truth_lo = int(np.sum(dist <= radius - 0.001))
        truth_hi = int(np.sum(dist <= radius + 0.001))
        exact = exact and truth_lo <= count <= truth_hi
    seconds["max"] = max(v for k, v in seconds.items() if "_" not in k)
    return {"ring_selection_seconds": seconds, "ring_counts": counts, "ring_counts_exact": exact}


class Workers:
    """``reunite notify worker`` subprocesses."""

    def __init__(self, args: argparse.Namespace, backend: str) -> None:
        self.args = args
        self.backend = backend
        self.procs: list[subprocess.Popen[bytes]] = []
        self.env = {
            **os.environ,
            "REUNITE_NOTIFY_BACKEND": backend,
            "PYTHONUNBUFFERED": "1",
        }

    def start(self) -> subprocess.Popen[bytes]:
        log = open(Path(self.args.var_dir) / f"worker-{self.backend}-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reunite",
                "notify",
                "worker",
                "--backend",
                self.backend,
                "--concurrency",
                "1",
                "--lease-seconds",
                str(self.args.lease_seconds),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(ROOT),
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_ready(workers: Workers, seconds: float = 60) -> None:
    """Until every worker printed its start line (Django loaded, queue connected)."""
    deadline = time.time() + seconds
    for i in range(len(workers.procs)):
        path = Path(workers.args.var_dir) / f"worker-{workers.backend}-{i}.log"
        while time.time() < deadline:
            if path.exists() and b"notify worker" in path.read_bytes():
                break
            time.sleep(0.1)


def wait_delivered(timeout: float) -> float:
    """Until no delivery is waiting or being sent (as the workers' own idle check counts)."""
    from reunite.notify.queue import pending_rows

    deadline = time.time() + timeout
    while time.time() < deadline:
        left = pending_rows()
        if left == 0:
            return time.perf_counter()
        # Counting a big backlog costs the database time: look less often while it is big.
        time.sleep(0.05 if left < 20_000 else 0.5)
    raise TimeoutError(f"deliveries still pending after {timeout} s")


def broadcast(centre: tuple[float, float], key: str) -> tuple[int, float]:
    """One message to every recipient placed around ``centre`` (all within 80 km)."""
    from reunite.notify import services

    b = services.Broadcast(
        topic="alert:bench",
        message_key=key,
        ring="100km",
        subject="Missing child",
        text="A 6-year-old girl went missing near the People's Park at 14:20. Call 110.",
        url="https://reunite.example/alerts/1/",
        cap_xml=f"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>{key}"
        "</identifier>" + "<info>" + "x" * 1500 + "</info></alert>",
    )
    started = time.perf_counter()
    count = services.broadcast_in_circle(b, *centre, 80.0, only_new=False)
    return count, time.perf_counter() - started


def throughput(args: argparse.Namespace, backend: str, port: int, key: str) -> dict[str, Any]:
    sink_call(port, "POST", "/reset")
    workers = Workers(args, backend)
    for _i in range(args.workers):
        workers.start()
    wait_ready(workers)
    started = time.perf_counter()
    from django.conf import settings

    settings.NOTIFY_QUEUE_BACKEND = backend
    try:
        count, enqueue_s = broadcast(RECIPIENT_CENTRE, key)
        done = wait_delivered(args.timeout)
    finally:
        workers.stop()
        settings.NOTIFY_QUEUE_BACKEND = "db"
    total = done - started
    sink = sink_call(port, "GET", "/stats")
    return {
        "messages": count,
        "enqueue_seconds": round(enqueue_s, 3),
        "total_seconds": round(total, 3),
        "messages_per_second": round(count / total, 1),
        "deliver_only_per_second": round(count / max(1e-9, total - enqueue_s), 1),
        "sink": sink,
    }


def crash(args: argparse.Namespace, backend: str, port: int, key: str) -> dict[str, Any]:
    """Kill -9 one worker mid-dispatch, restart it, then count at the sink."""
    from django.conf import settings

    from reunite.notify.models import Delivery

    sink_call(port, "POST", "/reset")
    workers = Workers(args, backend)
    victim = workers.start()
    for _i in range(args.workers - 1):
        workers.start()
    wait_ready(workers)
    settings.NOTIFY_QUEUE_BACKEND = backend
    killed_at = None
    try:
        count, _enqueue = broadcast(CRASH_CENTRE, key)
        expected = set(
            Delivery.objects.filter(message__message_key=key).values_list(
                "idempotency_key", flat=True
            )
        )
        while sink_call(port, "GET", "/stats")["unique"] < count * 0.3:
            time.sleep(0.01)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        killed_at = sink_call(port, "GET", "/stats")["unique"]
        workers.start()
        deadline = time.time() + args.timeout
        while time.time() < deadline:
            if not Delivery.objects.filter(message__message_key=key).exclude(
                status="delivered"
            ).exists() and sink_call(port, "GET", "/stats")["unique"] >= len(expected):
                break
            time.sleep(0.1)
    finally:
        workers.stop()
        settings.NOTIFY_QUEUE_BACKEND = "db"
    sink = sink_call(port, "GET", "/stats")
    received = sink_keys(port)
    return {
        "messages": count,
        "received_when_killed": killed_at,
        "lost": len(expected - received),
        # Messages the receiving application processed more than once (past its key check).
        "duplicates": sink["processed"] - len(received),
        # Requests repeated on the wire (a chunk in flight when the worker died), dropped by key.
        "resent_on_wire": sink["resent_on_wire"],
        "unexpected_keys": len(received - expected),
        "bad_signatures": sink["bad_signatures"],
        "undelivered_rows": Delivery.objects.filter(message__message_key=key)
        .exclude(status="delivered")
        .count(),
    }


# =========================================================================== main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--crash-notifications", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lease-seconds", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--skip-redis", action="store_true")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the subscribers a previous run built (same count and seed) instead of "
        "building them again",
    )
    parser.add_argument("--var-dir", default=str(ROOT / "var" / "bench-alerts"))
    parser.add_argument("--json", dest="json_path", default=None)
    parser.add_argument("--sink", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(args.sink)
        return
    args.crash_notifications = args.crash_notifications or args.notifications
    args.redis_prefix = f"reunite:bench:{os.getpid()}"
    Path(args.var_dir).mkdir(parents=True, exist_ok=True)
    django_setup(args)
    import numpy as np
    from django.db import connection

    result: dict[str, Any] = {
        "subscribers": args.subscribers,
        "notifications": args.notifications,
        "workers": args.workers,
        "database": connection.vendor,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
    }
    from reunite.notify.models import Subscriber

    people = Subscriber.objects.filter(kind="person")
    reuse = args.reuse and people.count() == args.subscribers
    reset_tables(keep_people=reuse)
    rng = np.random.default_rng(20260501)
    lat, lon, which = _points(args.subscribers, rng)  # the same points on every run
    if reuse:
        result["build_seconds"] = result["index_seconds"] = None
        print(f"reusing the {args.subscribers} subscribers already built")
    else:
        built = {}

        def build() -> None:
            built["seconds"] = bulk_subscribers(lat, lon, which, kind="person")

        index_s = with_indexes_dropped(build)
        result["build_seconds"] = round(built["seconds"], 1)
        result["index_seconds"] = round(index_s, 1)
        print(f"built {args.subscribers} subscribers in {built['seconds']:.1f} s (+ {index_s:.1f})")
    result.update(measure_rings(lat, lon))
    print("ring selection (s):", result["ring_selection_seconds"], "counts:", result["ring_counts"])

    # Webhook recipients for the dispatch tests.
    from reunite.notify.models import WebhookEndpoint

    port_file = Path(tempfile.mkdtemp()) / "port"
    sink = subprocess.Popen([sys.executable, __file__, "--sink", str(port_file)])
    try:
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)
        port = int(port_file.read_text())
        endpoints = [
            WebhookEndpoint.objects.create(
                name=f"bench {i}", url=f"http://127.0.0.1:{port}/hook/{i}", secret=SECRET
            ).pk
            for i in range(ENDPOINTS)
        ]
        for centre, m in (
            (RECIPIENT_CENTRE, args.notifications),
            (CRASH_CENTRE, args.crash_notifications),
        ):
            rlat = centre[0] + rng.uniform(-0.4, 0.4, m)
            rlon = centre[1] + rng.uniform(-0.4, 0.4, m)
            bulk_subscribers(
                rlat, rlon, np.zeros(m, dtype=int), kind="partner", endpoint_ids=endpoints
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE notify_subscriber")  # as autovacuum would after the load
        backends = ["db"] if args.skip_redis else ["db", "redis"]
        for backend in backends:
            run = throughput(args, backend, port, f"bench-{backend}")
            result[f"dispatch_{backend}"] = run
            result[f"messages_per_second_{backend}"] = run["messages_per_second"]
            print(backend, run)
        if args.skip_redis:
            result["messages_per_second_redis"] = None
        duplicates = lost = 0
        for backend in backends:
            run = crash(args, backend, port, f"crash-{backend}")
            result[f"crash_{backend}"] = run
            duplicates += run["duplicates"]
            lost += run["lost"]
            print("crash", backend, run)
        result["duplicates"] = duplicates
        result["lost"] = lost
    finally:
        sink.terminate()
        sink.wait()
        if not args.skip_redis:
            from reunite.notify.queue import redis_client

            client = redis_client(args.redis_url)
            batch: list[bytes] = []
            for name in client.scan_iter(f"{args.redis_prefix}:*", count=10_000):
                batch.append(name)
                if len(batch) >= 5_000:
                    client.unlink(*batch)
                    batch = []
            if batch:
                client.unlink(*batch)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json_path:
        Path(args.json_path).write_text(text + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    socket.setdefaulttimeout(60)
    main()
