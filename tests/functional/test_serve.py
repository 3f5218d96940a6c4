"""`reunite serve` and `reunite demo` as an operator runs them: real processes, real HTTP."""

from __future__ import annotations

import http.client
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch

from reunite.accounts.management.commands.serve import is_loopback

CLI = [sys.executable, "-m", "reunite"]
STARTUP_S = 90


def _env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "REUNITE_VAR_DIR": str(var_dir), "DEBUG": "0", **extra}
    env.pop("DATABASE_URL", None)  # its own embedded SQLite file, on either test leg
    env.pop("REUNITE_ENV", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A child process whose output is collected line by line while it runs."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            args,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = STARTUP_S) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.output.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(f"no line matching {pattern!r}; output:\n{''.join(self.output)}")

    def stop(self) -> str:
        """SIGTERM, then the rest of the output."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.pump.join(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return "".join(self.output)


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def running(var_dir: Path) -> Iterator[tuple[Server, int]]:
    env = _env(var_dir)
    migrate = subprocess.run(
        [*CLI, "migrate", "-v0"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert migrate.returncode == 0, migrate.stderr
    port = _free_port()
    server = Server([*CLI, "serve", "--port", str(port), "--threads", "4"], env)
    try:
        yield server, port
    finally:
        server.stop()


def get(port: int, path: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        conn.close()


def test_serve_answers_pages_static_files_and_the_api_with_debug_off(
    running: tuple[Server, int],
) -> None:
    server, port = running
    server.wait_for(rf"Reunite is serving at http://127\.0\.0\.1:{port}/")

    status, ctype, body = get(port, "/static/vendor/pico/pico.min.css")
    assert (status, ctype.split(";")[0]) == (200, "text/css")
    assert len(body) > 10_000
    status, ctype, body = get(port, "/static/vendor/htmx/htmx.min.js")
    assert status == 200
    assert ctype.split(";")[0] in {"text/javascript", "application/javascript"}
    assert b"htmx" in body
    status, ctype, body = get(port, "/api/docs")
    assert (status, ctype.split(";")[0]) == (200, "text/html")
    assert b"openapi.json" in body
    status, _ctype, _body = get(port, "/static/no-such-file.css")
    assert status == 404

    try:
        login_path = resolve_url(settings.LOGIN_URL)
    except NoReverseMatch:
        login_path = ""
    if login_path:  # the sign-in page (once the accounts pages exist) and what it links to
        status, ctype, body = get(port, login_path)
        assert (status, ctype.split(";")[0]) == (200, "text/html")
        assets = re.findall(rb'(?:href|src)="(/static/[^"]+)"', body)
        assert b"/static/vendor/pico/pico.min.css" in assets
        for asset in assets:
            assert get(port, asset.decode())[0] == 200, asset

    log = server.stop()
    assert server.proc.returncode == 0, log
    assert "Stopped." in log
    assert "Traceback" not in log


def test_serve_refuses_a_network_address_while_debug_is_on(var_dir: Path) -> None:
    result = subprocess.run(
        [*CLI, "serve", "--host", "0.0.0.0", "--port", str(_free_port())],  # noqa: S104
        env=_env(var_dir, DEBUG="1"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Refusing to listen on 0.0.0.0 with DEBUG on" in result.stderr


def test_demo_seeds_then_serves_and_prints_the_logins(var_dir: Path) -> None:
    server = Server([*CLI, "demo", "--missing", "5", "--found", "5", "--port", "0"], _env(var_dir))
    try:
        found = server.wait_for(r"Reunite is serving at http://127\.0\.0\.1:(\d+)/")
        port = int(found.group(1))
        server.wait_for(r"Open http://127\.0\.0\.1:\d+/ and sign in\.")
        status, ctype, _body = get(port, "/static/reunite.css")
        assert (status, ctype.split(";")[0]) == (200, "text/css")
    finally:
        log = server.stop()
    assert "5 missing reports (5 new" in log
    assert "Reunite-demo-2026" in log
    for username in ("demo-investigator", "demo-administrator", "demo-ministry-supervisor"):
        assert username in log


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),  # noqa: S104
        ("192.168.1.20", False),
        ("::", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
