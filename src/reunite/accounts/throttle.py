"""Sign-in throttle: too many failed sign-ins from one address lock that address out for a while.

Counts live in Django's cache (Redis in production, so every worker shares them).  The window
opens with the first failure from an address; the ``SIGNIN_THROTTLE_LIMIT``-th failure inside it
blocks the address for ``SIGNIN_THROTTLE_WINDOW_S`` seconds.  Increments are atomic on Redis.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

DEFAULT_LIMIT = 10
DEFAULT_WINDOW_S = 15 * 60


def limit() -> int:
    return int(getattr(settings, "SIGNIN_THROTTLE_LIMIT", DEFAULT_LIMIT))


def window_s() -> int:
    return int(getattr(settings, "SIGNIN_THROTTLE_WINDOW_S", DEFAULT_WINDOW_S))


def _address(ip: str | None) -> str:
    return ip or "unknown"


def _failures_key(ip: str | None) -> str:
    return f"reunite:signin:failures:{_address(ip)}"


def _blocked_key(ip: str | None) -> str:
    return f"reunite:signin:blocked:{_address(ip)}"


def is_blocked(ip: str | None) -> bool:
    """Whether sign-ins from ``ip`` are refused right now."""
    return bool(cache.get(_blocked_key(ip)))


def note_failure(ip: str | None) -> int:
    """Count one failed sign-in from ``ip``; block the address once the limit is reached.

    Returns the number of failures in the current window.
    """
    key = _failures_key(ip)
    cache.add(key, 0, timeout=window_s())
    try:
        failures = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window_s())
        failures = 1
    if failures >= limit():
        cache.set(_blocked_key(ip), True, timeout=window_s())
        cache.delete(key)
    return failures
