"""A production environment passes Django's deployment checklist; missing secrets are refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet


def _check(env_extra: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DEBUG"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "reunite.settings",
            "REUNITE_VAR_DIR": str(tmp_path),
            **env_extra,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_environment_passes_check_deploy(tmp_path: Path) -> None:
    result = _check(
        {
            "REUNITE_ENV": "production",
            "SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-entropy-0123456789",
            "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "reunite.example.org",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_production_without_secrets_refuses_to_start(tmp_path: Path) -> None:
    result = _check({"REUNITE_ENV": "production", "ALLOWED_HOSTS": "reunite.example.org"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set in the environment in production" in result.stderr


def test_embedded_mode_generates_secrets_once_private(tmp_path: Path) -> None:
    assert _check({}, tmp_path).returncode in (0, 1)  # embedded mode warns about HTTPS: that's fine
    key = tmp_path / "field_encryption_key"
    assert key.exists() and (key.stat().st_mode & 0o077) == 0
    first = key.read_text()
    _check({}, tmp_path)
    assert key.read_text() == first
