"""The deployment's alert policy: criteria thresholds, the rings and when each is due, expiry.

Read from ``settings.ALERTS`` (see ``settings.py``; every value can be set from the environment)
and checked once, so that a mistyped ring list stops the server at start rather than an alert
in the middle of a search.  The default is the one the Ministry of Public Security's Tuanyuan
platform publicised: 100 km within the first hour after the person was last seen, 200 km within
two hours, 300 km within three, 500 km after that; then the province, or on a second approval the
nation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from reunite.accounts.models import DivisionLevel

DEFAULTS: dict[str, Any] = {
    "RINGS": "0:100,1:200,2:300,3:500",
    "REGION_AFTER_HOURS": 4.0,
    "EXPIRE_AFTER_HOURS": 72.0,
    "RECENT_WINDOW_HOURS": 72.0,
    "MINOR_UNDER_AGE": 18,
    "MIN_DESCRIPTION_CHARS": 20,
    "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    "CAP_SENDER": "alerts@reunite.invalid",
    "SIGHTINGS_PER_ADDRESS": 5,
    "SIGHTINGS_WINDOW_S": 600,
}

#: The public text of one message, in each language: what Wireless Emergency Alerts carry.
MAX_PUBLIC_TEXT = 360
#: The deepest unit level that may release an alert (county bureaus and above).
RELEASE_MAX_LEVEL = DivisionLevel.COUNTY
#: The deepest unit level that may give the second approval for the nation (provinces and above).
NATIONAL_APPROVAL_MAX_LEVEL = DivisionLevel.PROVINCE


@dataclass(frozen=True)
class Ring:
    """A circle of ``radius_km`` around the last-seen point, due ``after`` the person was last
    seen."""

    after: dt.timedelta
    radius_km: float

    @property
    def label(self) -> str:
        return f"{self.radius_km:g}km"


@dataclass(frozen=True)
class Policy:
    rings: tuple[Ring, ...]
    region_after: dt.timedelta
    expire_after: dt.timedelta
    recent_window: dt.timedelta
    minor_under_age: int
    min_description_chars: int
    public_base_url: str
    cap_sender: str
    sightings_per_address: int
    sightings_window_s: int


def parse_rings(text: str) -> tuple[Ring, ...]:
    """``"0:100,1:200"`` → rings due at 0 h (100 km) and 1 h (200 km).

    Times must start at 0 and rise, radii must rise: each ring is wider than the one before.
    """
    rings: list[Ring] = []
    for part in text.split(","):
        hours_text, sep, radius_text = part.strip().partition(":")
        try:
            hours, radius = float(hours_text), float(radius_text)
        except ValueError:
            raise ImproperlyConfigured(
                f"ALERTS RINGS: {part.strip()!r} is not 'hours:radius_km'"
            ) from None
        if not sep or not 0 <= hours < 10_000 or not 0 < radius <= 5_000:
            raise ImproperlyConfigured(f"ALERTS RINGS: {part.strip()!r} is out of range")
        if rings and (
            hours <= rings[-1].after.total_seconds() / 3600 or radius <= rings[-1].radius_km
        ):
            raise ImproperlyConfigured("ALERTS RINGS: times and radii must both increase")
        rings.append(Ring(after=dt.timedelta(hours=hours), radius_km=radius))
    if not rings or rings[0].after:
        raise ImproperlyConfigured("ALERTS RINGS: the first ring must be due at 0 hours")
    return tuple(rings)


def _hours(config: dict[str, Any], key: str) -> dt.timedelta:
    value = float(config[key])
    if not 0 < value < 10_000:
        raise ImproperlyConfigured(f"ALERTS {key} must be a positive number of hours")
    return dt.timedelta(hours=value)


def current() -> Policy:
    """The policy of this deployment (``settings.ALERTS`` over the defaults), checked."""
    config = {**DEFAULTS, **getattr(settings, "ALERTS", {})}
    rings = parse_rings(str(config["RINGS"]))
    region_after = _hours(config, "REGION_AFTER_HOURS")
    if region_after < rings[-1].after:
        raise ImproperlyConfigured("ALERTS REGION_AFTER_HOURS must not come before the last ring")
    base_url = str(config["PUBLIC_BASE_URL"]).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ImproperlyConfigured("ALERTS PUBLIC_BASE_URL must be an absolute http(s) URL")
    sender = str(config["CAP_SENDER"])
    if not sender or any(c in sender for c in " ,<&"):
        raise ImproperlyConfigured("ALERTS CAP_SENDER may hold no spaces, commas, < or &")
    return Policy(
        rings=rings,
        region_after=region_after,
        expire_after=_hours(config, "EXPIRE_AFTER_HOURS"),
        recent_window=_hours(config, "RECENT_WINDOW_HOURS"),
        minor_under_age=int(config["MINOR_UNDER_AGE"]),
        min_description_chars=int(config["MIN_DESCRIPTION_CHARS"]),
        public_base_url=base_url,
        cap_sender=sender,
        sightings_per_address=max(1, int(config["SIGHTINGS_PER_ADDRESS"])),
        sightings_window_s=max(1, int(config["SIGHTINGS_WINDOW_S"])),
    )


def ring_due(policy: Policy, elapsed: dt.timedelta) -> Ring:
    """The widest ring due ``elapsed`` after the person was last seen."""
    due = policy.rings[0]
    for ring in policy.rings:
        if ring.after <= elapsed:
            due = ring
    return due
