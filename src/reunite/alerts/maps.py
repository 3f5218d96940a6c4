"""The map of one alert: the rings it sent (and the next one due), its region, and sightings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from reunite.alerts import policy
from reunite.alerts.geo import MapView, map_view
from reunite.alerts.models import Alert, AlertMessage, ReachKind, Sighting
from reunite.alerts.services import due_steps, province_of, reach_of


@dataclass(frozen=True)
class AlertMap:
    view: MapView
    regions: tuple[str, ...]  # regions reached beyond the rings, in words


def alert_map(
    alert: Alert, sent: Sequence[AlertMessage], sightings: Sequence[Sighting] = ()
) -> AlertMap:
    """Rings sent (solid), the next ring due while the alert is open (dashed), and the sightings
    that have a place (dots labelled with their number)."""
    rules = policy.current()
    rings: list[tuple[float, str, bool]] = [
        (m.radius_km, m.label, True)
        for m in sent
        if m.kind == ReachKind.CIRCLE and m.radius_km is not None
    ]
    reach = reach_of(sent)
    if alert.is_open:
        widest = reach.widest_km or 0.0
        later = [r for r in rules.rings if r.radius_km > widest]
        now = timezone.now()
        due = [s for s in due_steps(alert, reach, now=now, rules=rules) if s.radius_km]
        planned = due[0].radius_km if due else (later[0].radius_km if later else None)
        if planned is not None:
            rings.append((planned, f"{planned:g}km", False))
    regions: list[str] = []
    if reach.province:
        province = province_of(alert.report.last_seen_division)
        if province is not None:
            regions.append(_("the whole of %(province)s") % {"province": province.name})
    if reach.nation:
        regions.append(_("the whole nation"))
    points = [
        (s.latitude, s.longitude, str(s))
        for s in sightings
        if s.latitude is not None and s.longitude is not None
    ]
    view = map_view(latitude=alert.latitude, longitude=alert.longitude, rings=rings, points=points)
    return AlertMap(view=view, regions=tuple(regions))
