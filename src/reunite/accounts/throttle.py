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


def count_in_window(key: str, window_s: int) -> int:
    """Add one to the counter ``key`` in the shared cache and return it; the window opens with
    the first count and lasts ``window_s`` seconds. Atomic on Redis, so every worker counts
    together. Also used by other rate limits (alert sightings)."""
    cache.add(key, 0, timeout=window_s)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window_s)
        return 1


def is_blocked(ip: str | None) -> bool:
    """Whether sign-ins from ``ip`` are refused right now."""
    return bool(cache.get(_blocked_key(ip)))


def note_failure(ip: str | None) -> int:
    """Count one failed sign-in from ``ip``; block the address once the limit is reached.

    Returns the number of failures in the current window.
    """
    key = _failures_key(ip)
    failures = count_in_window(key, window_s())
    if failures >= limit():
        cache.set(_blocked_key(ip), True, timeout=window_s())
        cache.delete(key)
    return failures
