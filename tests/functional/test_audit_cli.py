"""`reunite audit verify` as an operator runs it: a real process over a real database file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

SEED = """
import django
django.setup()
from reunite.audit.services import record
for i in range(4):
    record(actor=None, action="read", object_type="missing_report", object_id=i)
"""


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="exercises the embedded SQLite file the operator would tamper with",
)
def test_reunite_audit_verify_catches_a_tampered_row(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "REUNITE_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "reunite.settings",
    }
    env.pop("DATABASE_URL", None)
    cli = [sys.executable, "-m", "reunite"]
    assert _run([*cli, "migrate", "-v0"], env).returncode == 0
    assert _run([sys.executable, "-c", SEED], env).returncode == 0
    ok = _run([*cli, "audit", "verify"], env)
    assert ok.returncode == 0, ok.stderr
    assert "audit chain intact: 4 entries" in ok.stdout

    db = sqlite3.connect(tmp_path / "reunite.sqlite3")
    db.execute("DROP TRIGGER audit_entry_no_update")
    db.execute("UPDATE audit_auditentry SET action = 'create' WHERE seq = 2")
    db.commit()
    db.close()

    bad = _run([*cli, "audit", "verify"], env)
    assert bad.returncode == 1
    assert "TAMPERED: entry 2 was altered" in bad.stderr
