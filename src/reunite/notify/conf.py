"""Settings of the notify app, with their defaults (``settings.NOTIFY_*`` override them)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # "db" (the embedded queue) or "redis" (streams; needs NOTIFY_REDIS_URL).
    "NOTIFY_QUEUE_BACKEND": "db",
    "NOTIFY_REDIS_URL": "",
    "NOTIFY_REDIS_PREFIX": "reunite:notify",
    # Absolute base of links in messages (confirmation, opt-out).
    "NOTIFY_PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    # Messages per second per channel and worker process; 0 = unlimited.
    "NOTIFY_THROTTLE_PER_SECOND": {"webhook": 0, "email": 50, "sms": 20},
    "NOTIFY_MAX_ATTEMPTS": 8,
    "NOTIFY_BACKOFF_BASE_SECONDS": 5.0,
    "NOTIFY_BACKOFF_MAX_SECONDS": 3600.0,
    "NOTIFY_LEASE_SECONDS": 60.0,
    "NOTIFY_BATCH_SIZE": 1000,
    # Delivered messages are recorded in groups of this many (and at the end of every batch):
    # larger is faster; a worker killed mid-batch resends at most this many (same keys).
    "NOTIFY_COMMIT_EVERY": 128,
    # Requests written before their answers are read, on one keep-alive connection.
    "NOTIFY_WEBHOOK_PIPELINE": 32,
    "NOTIFY_WEBHOOK_TIMEOUT_SECONDS": 10.0,
    # Plain-HTTP loopback receivers (tests, benchmarks, the demo); never in production.
    "NOTIFY_WEBHOOK_ALLOW_LOOPBACK": False,
    # Registration POSTs a signed ping and requires a 2xx answer (no redirect).
    "NOTIFY_WEBHOOK_VERIFY": True,
    "NOTIFY_SMS_GATEWAY_URL": "",
    "NOTIFY_SMS_GATEWAY_TOKEN": "",
    "NOTIFY_CONFIRM_MAX_AGE_SECONDS": 7 * 24 * 3600,
}


def get(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
