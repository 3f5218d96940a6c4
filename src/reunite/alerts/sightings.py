"""Sightings: what the public reports back about an active alert, and the police's tip queue.

A sighting needs no account.  It is placed on the map by a click, typed coordinates, or an
address naming a division (then the division's seat stands for it, marked approximate); its
distance and time are measured from the alert's last-seen point and time.  One address may send
only ``SIGHTINGS_PER_ADDRESS`` sightings per ``SIGHTINGS_WINDOW_S``: the next ones are refused
with a clear message (429) and nothing is stored, never dropped silently.  Contacts are
encrypted; photos go through ``people.photos.clean_photo`` into private storage.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NoReturn

from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from reunite.accounts.models import Division, DivisionLevel, User
from reunite.accounts.permissions import Action
from reunite.accounts.services import division_contains_point, haversine_km, valid_coordinates
from reunite.accounts.throttle import count_in_window
from reunite.alerts import policy
from reunite.alerts.models import Alert, AlertStatus, LocationSource, Sighting, SightingStatus
from reunite.alerts.services import (
    SIGHTING_OBJECT,
    alert_or_404,
    case_note,
    check_text,
    nation_division,
    province_of,
    public_alert,
    require,
)
from reunite.audit.models import AuditAction
from reunite.audit.services import record
from reunite.core.errors import DomainError, FieldErrors, NotFound, ValidationFailed
from reunite.people.photos import CleanPhoto, clean_photo

MAX_SIGHTING_TEXT = 2000
MAX_WHERE = 300
MAX_CONTACT = 200
# A sighting may be reported a little "in the future" of the server's clock (phones drift).
CLOCK_SKEW = dt.timedelta(minutes=5)
_COORDINATES = re.compile(r"^\s*([-+]?\d{1,3}(?:\.\d+)?)\s*[,，\s]\s*([-+]?\d{1,3}(?:\.\d+)?)\s*$")


class SightingRateLimited(DomainError):
    """Too many sightings from one address in a short time; nothing was stored."""

    status_code = 429

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass
class SightingData:
    """A sighting as the public reports it: where (map point, typed coordinates or an address),
    when, what was seen, optionally a contact and a photo."""

    seen_at: dt.datetime
    description: str
    where: str = ""
    latitude: float | None = None
    longitude: float | None = None
    contact: str = ""
    photo: UploadedFile | None = None


@lru_cache(maxsize=1)
def _named_places() -> tuple[tuple[str, int, str, float, float], ...]:
    """(name, level, path, latitude, longitude) of every division with a seat, longest first."""
    rows = Division.objects.filter(
        level__gte=DivisionLevel.PROVINCE, latitude__isnull=False, longitude__isnull=False
    ).values_list("name", "level", "path", "latitude", "longitude")
    return tuple(
        sorted(
            (
                (n, lv, p, la, lo)
                for n, lv, p, la, lo in rows
                if len(n) >= 2 and la is not None and lo is not None
            ),
            key=lambda r: -len(r[0]),
        )
    )


def locate_address(text: str, *, near: Division) -> tuple[float, float] | None:
    """The seat of the deepest division named in ``text`` (preferring ones in the same province
    as ``near``): an approximate place for an address typed without coordinates."""
    province = province_of(near)
    home = province.path if province is not None else near.path
    hits = [row for row in _named_places() if row[0] in text]
    if not hits:
        return None
    best = max(hits, key=lambda r: (r[2].startswith(home), r[1], len(r[0])))
    return best[3], best[4]


def _sighting_key(source_ip: str) -> str:
    return f"reunite:alerts:sightings:{source_ip}"


def _take_sighting_slot(source_ip: str, rules: policy.Policy) -> int:
    """Count one sighting from ``source_ip`` in the current window; returns the count."""
    return count_in_window(_sighting_key(source_ip), rules.sightings_window_s)


def _sightings_from(source_ip: str) -> int:
    """How many sightings ``source_ip`` sent in the current window."""
    return int(cache.get(_sighting_key(source_ip)) or 0)


def _refuse_flood(alert: Alert, source_ip: str, rules: policy.Policy) -> NoReturn:
    """Refuse one sighting of a flood, loudly; the first refusal of a window is audited."""
    if cache.add(f"{_sighting_key(source_ip)}:refused", True, timeout=rules.sightings_window_s):
        record(
            actor=None,
            action=AuditAction.DENIED,
            object_type=SIGHTING_OBJECT,
            details={"alert": alert.pk, "reason": "rate_limited"},
        )
    minutes = max(1, math.ceil(rules.sightings_window_s / 60))
    raise SightingRateLimited(
        _(
            "Too many sightings were sent from your address in a short time, so this one "
            "was NOT sent. Please try again in %(minutes)d minutes, or call 110 now."
        )
        % {"minutes": minutes},
        retry_after_s=rules.sightings_window_s,
    )


def _sighting_place(
    errors: FieldErrors, data: SightingData, alert: Alert
) -> tuple[float | None, float | None, str]:
    """(latitude, longitude, source) of a sighting: the map point, typed coordinates, or the
    seat of a division the address names."""
    lat, lon, source = data.latitude, data.longitude, LocationSource.MAP
    where = data.where.strip()
    if lat is None and lon is None and where:
        match = _COORDINATES.match(where)
        if match:
            lat, lon, source = float(match[1]), float(match[2]), LocationSource.COORDINATES
    if (lat is None) != (lon is None):
        errors.add("where", _("Give both latitude and longitude, or neither."))
        return None, None, LocationSource.TEXT
    if lat is not None and lon is not None:
        if not (math.isfinite(lat) and math.isfinite(lon)) or not valid_coordinates(lat, lon):
            errors.add("where", _("Latitude must be within ±90 and longitude within ±180."))
            return None, None, source
        nation = nation_division()
        if nation is not None and not division_contains_point(nation, lat, lon):
            errors.add("where", _("This point lies outside every division (at sea or abroad)."))
        return lat, lon, source
    if not where:
        errors.add("where", _("Say where: click the map, or type an address or coordinates."))
        return None, None, LocationSource.TEXT
    found = locate_address(where, near=alert.report.last_seen_division)
    if found is None:
        return None, None, LocationSource.TEXT
    return found[0], found[1], LocationSource.ADDRESS


def _validate_sighting(
    data: SightingData, alert: Alert, now: dt.datetime
) -> tuple[float | None, float | None, str, CleanPhoto | None]:
    errors = FieldErrors()
    check_text(errors, "description", data.description, MAX_SIGHTING_TEXT, required=True)
    check_text(errors, "where", data.where, MAX_WHERE)
    check_text(errors, "contact", data.contact, MAX_CONTACT)
    if data.seen_at > now + CLOCK_SKEW:
        errors.add("seen_at", _("This time is in the future."))
    elif data.seen_at < alert.last_seen_at - CLOCK_SKEW:
        errors.add("seen_at", _("This is before the person was last seen."))
    lat, lon, source = _sighting_place(errors, data, alert)
    photo = None
    if data.photo is not None:
        try:
            photo = clean_photo(data.photo, field="photo")
        except ValidationFailed as exc:
            for name, messages in exc.field_errors.items():
                for message in messages:
                    errors.add(name, message)
    errors.raise_if_any()
    return lat, lon, source, photo


def report_sighting(
    *, alert_id: int, data: SightingData, source_ip: str | None, now: dt.datetime | None = None
) -> Sighting:
    """A sighting from the public (anonymous allowed): it lands in the case's tip queue.

    ``source_ip`` is the sender's address, which the flood limit counts; web requests always
    give one (``"unknown"`` when the server cannot tell).  ``None`` is for trusted callers that
    are not the public (the demo, an import by the police) and are not limited.

    Raises ``NotFound`` (no such public alert), ``ValidationFailed`` (per field, the alert being
    closed included) or ``SightingRateLimited`` when one address sends too many in a short time —
    in every case nothing is stored and the caller shows the reason, so nothing is lost silently.
    """
    alert = public_alert(alert_id=alert_id)
    if alert.status != AlertStatus.ACTIVE:
        msg = _("This alert is closed. If you still have information, call 110.")
        raise ValidationFailed(msg, field_errors={"alert": [msg]})
    now = now or timezone.now()
    rules = policy.current()
    if source_ip is not None and _sightings_from(source_ip) >= rules.sightings_per_address:
        _refuse_flood(alert, source_ip, rules)  # before the costly checks (a photo to decode)
    lat, lon, source, photo = _validate_sighting(data, alert, now)
    if source_ip is not None and _take_sighting_slot(source_ip, rules) > (
        rules.sightings_per_address
    ):
        _refuse_flood(alert, source_ip, rules)
    distance = (
        haversine_km(alert.latitude, alert.longitude, lat, lon)
        if lat is not None and lon is not None
        else None
    )
    hours = (data.seen_at - alert.last_seen_at).total_seconds() / 3600
    sighting = Sighting(
        alert=alert,
        case=alert.case,
        seen_at=data.seen_at,
        where=data.where.strip(),
        latitude=lat,
        longitude=lon,
        location_source=source,
        description=data.description.strip(),
        contact=data.contact.strip(),
        distance_km=round(distance, 2) if distance is not None else None,
        hours_after=round(hours, 2),
    )
    try:
        with transaction.atomic():
            if photo is not None:
                sighting.photo_content_type = photo.content_type
                sighting.photo_extension = photo.extension
                sighting.photo.save("photo", photo.content, save=False)
            sighting.save()
            record(
                actor=None,
                action=AuditAction.CREATE,
                object_type=SIGHTING_OBJECT,
                object_id=sighting.pk,
                details={"alert": alert.pk, "photo": photo is not None, "location": source},
            )
            distance_text = f"{sighting.distance_km:g} km" if distance is not None else "?"
            case_note(
                alert,
                None,
                f"{sighting} on {alert}: {distance_text}, {sighting.hours_after:g} h "
                "after last seen",
            )
    except Exception:
        if sighting.photo:
            sighting.photo.delete(save=False)
        raise
    return sighting


def list_sightings(*, acting_user: User, alert_id: int) -> list[Sighting]:
    """The sightings of an alert, newest first, with the reporters' contacts (audited)."""
    alert = alert_or_404(alert_id)
    require(
        acting_user,
        Action.VIEW_ALERT,
        alert.division,
        object_type=SIGHTING_OBJECT,
        object_id=f"alert:{alert.pk}",
    )
    found = list(alert.sightings.order_by("-seen_at", "-pk"))
    record(
        actor=acting_user,
        action=AuditAction.READ,
        object_type=SIGHTING_OBJECT,
        object_id=f"alert:{alert.pk}",
        details={"count": len(found)},
    )
    return found


def _get_sighting(acting_user: User, sighting_id: int, action: Action) -> Sighting:
    sighting = Sighting.objects.select_related("alert__division").filter(pk=sighting_id).first()
    if sighting is None:
        raise NotFound(_("No such sighting."))
    require(
        acting_user,
        action,
        sighting.alert.division,
        object_type=SIGHTING_OBJECT,
        object_id=sighting.pk,
    )
    return sighting


def get_sighting_photo(*, acting_user: User, sighting_id: int) -> Sighting:
    """A sighting whose photo the user may see (audited)."""
    sighting = _get_sighting(acting_user, sighting_id, Action.VIEW_ALERT)
    if not sighting.photo:
        raise NotFound(_("No such photo."))
    record(
        actor=acting_user,
        action=AuditAction.READ,
        object_type=SIGHTING_OBJECT,
        object_id=sighting.pk,
        details={"purpose": "photo"},
    )
    return sighting


def sighting_for_triage(*, acting_user: User, sighting_id: int) -> Sighting:
    """A sighting the user may triage (refusals audited)."""
    return _get_sighting(acting_user, sighting_id, Action.DRAFT_ALERT)


def set_sighting_status(*, acting_user: User, sighting_id: int, status: str) -> Sighting:
    """Triage a sighting: credible or dismissed (or back to new)."""
    sighting = _get_sighting(acting_user, sighting_id, Action.DRAFT_ALERT)
    if status not in SightingStatus.values:
        msg = _("Not a valid status.")
        raise ValidationFailed(msg, field_errors={"status": [msg]})
    old = sighting.status
    with transaction.atomic():
        sighting.status = status
        sighting.save(update_fields=["status"])
        record(
            actor=acting_user,
            action=AuditAction.UPDATE,
            object_type=SIGHTING_OBJECT,
            object_id=sighting.pk,
            details={"status": [old, status]},
        )
    return sighting
