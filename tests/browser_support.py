"""A seeded ``reunite serve`` subprocess for the browser tests (not a test module)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def demo_server(var: Path, *, missing: int, found: int, ready_path: str) -> Iterator[str]:
    """Seed an embedded demo database in ``var`` and serve it; yields the base URL once
    ``ready_path`` answers. The server is stopped on exit."""
    env = {**os.environ, "REUNITE_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "reunite.settings"}
    env.pop("DATABASE_URL", None)
    cli = [sys.executable, "-m", "reunite"]
    seeded = subprocess.run(
        [*cli, "demo", "--missing", str(missing), "--found", str(found), "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    port = free_port()
    log = open(var / "serve.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [*cli, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}{ready_path}", timeout=2)  # noqa: S310 (loopback)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError((var / "serve.log").read_text()) from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
