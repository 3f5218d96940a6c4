"""The alert map, drawn as inline SVG: no tile server, no script from elsewhere.

A local equirectangular projection centred on the last-seen point is exact enough for circles of
a few hundred kilometres: the rings are drawn as circles, sightings as dots, with a scale bar.
``MapView`` carries everything a template needs; the projection constants are also written into
the SVG (``data-*``) so that a click on the map can be turned back into coordinates in the browser.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

KM_PER_DEGREE_LAT = 110.574
KM_PER_DEGREE_LON_EQUATOR = 111.320
SIZE_PX = 480
MARGIN = 1.12  # the widest ring fills the map with a little room around it
NICE_KM = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000)


@dataclass(frozen=True)
class RingShape:
    radius_px: float
    radius_km: float
    label: str
    issued: bool
    label_y: float  # where the label sits: just inside the top of the circle


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str
    inside: bool  # within the map's frame


@dataclass(frozen=True)
class MapView:
    size: int
    centre_x: float
    centre_y: float
    latitude: float
    longitude: float
    km_per_px: float
    km_per_degree_lon: float
    rings: tuple[RingShape, ...]
    dots: tuple[Dot, ...]
    scale_px: float
    scale_km: float


def km_per_degree_lon(latitude: float) -> float:
    return KM_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(latitude))


def _nice_scale(max_km: float) -> float:
    """The largest round distance not longer than ``max_km``."""
    best = NICE_KM[0]
    for km in NICE_KM:
        if km <= max_km:
            best = km
    return float(best)


def map_view(
    *,
    latitude: float,
    longitude: float,
    rings: Sequence[tuple[float, str, bool]],
    points: Sequence[tuple[float, float, str]] = (),
    size: int = SIZE_PX,
) -> MapView:
    """The map of ``rings`` ((radius_km, label, issued) …) and ``points`` ((lat, lon, label) …)
    around (``latitude``, ``longitude``)."""
    widest = max((r[0] for r in rings), default=10.0)
    half = size / 2
    km_per_px = widest * MARGIN / half
    lon_km = max(km_per_degree_lon(latitude), 1e-6)
    dots = []
    for lat, lon, label in points:
        x = half + (lon - longitude) * lon_km / km_per_px
        y = half - (lat - latitude) * KM_PER_DEGREE_LAT / km_per_px
        inside = 0 <= x <= size and 0 <= y <= size
        dots.append(
            Dot(x=min(max(x, 0.0), size), y=min(max(y, 0.0), size), label=label, inside=inside)
        )
    scale_km = _nice_scale(km_per_px * size / 4)
    return MapView(
        size=size,
        centre_x=half,
        centre_y=half,
        latitude=latitude,
        longitude=longitude,
        km_per_px=km_per_px,
        km_per_degree_lon=lon_km,
        rings=tuple(
            RingShape(
                radius_px=km / km_per_px,
                radius_km=km,
                label=label,
                issued=issued,
                label_y=max(14.0, half - km / km_per_px + 14),
            )
            for km, label, issued in sorted(rings, reverse=True)
        ),
        dots=tuple(dots),
        scale_px=scale_km / km_per_px,
        scale_km=scale_km,
    )


def point_at(view: MapView, x: float, y: float) -> tuple[float, float]:
    """The (latitude, longitude) drawn at pixel (x, y): the inverse of the projection."""
    lat = view.latitude + (view.centre_y - y) * view.km_per_px / KM_PER_DEGREE_LAT
    lon = view.longitude + (x - view.centre_x) * view.km_per_px / view.km_per_degree_lon
    return lat, lon
