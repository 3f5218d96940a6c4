"""Ring geometry: H3 descendant ranges and circle covers checked against plain computation."""

from __future__ import annotations

import math
import random

import h3
import pytest

from reunite.notify import geo


@pytest.mark.parametrize("res", [2, 3, 5, 7])
def test_descendant_range_spans_exactly_the_children(res: int) -> None:
    cell = h3.latlng_to_cell(30.66, 104.06, res)
    lo, hi = geo.descendant_range(int(h3.str_to_int(cell)))
    children = [int(h3.str_to_int(c)) for c in h3.cell_to_children(cell, geo.H3_RESOLUTION)]
    assert (lo, hi) == (min(children), max(children))
    # No cell of a neighbour falls inside the range.
    for neighbour in h3.grid_ring(cell, 1):
        for child in h3.cell_to_children(neighbour, geo.H3_RESOLUTION)[:50]:
            assert not lo <= int(h3.str_to_int(child)) <= hi


def test_descendant_range_of_a_pentagon() -> None:
    pentagon = h3.get_pentagons(3)[0]
    lo, hi = geo.descendant_range(int(h3.str_to_int(pentagon)))
    children = [int(h3.str_to_int(c)) for c in h3.cell_to_children(pentagon, 7)]
    assert lo <= min(children) and max(children) <= hi


def _selected(ring: geo.Ring, lat: float, lon: float) -> bool:
    cell = geo.cell_of(lat, lon)
    vector = geo.unit_vector(lat, lon)
    dot = sum(a * b for a, b in zip(vector, ring.centre, strict=True))
    return any(lo <= cell <= hi for lo, hi in ring.ranges) and dot >= ring.min_dot


@pytest.mark.parametrize(
    ("lat", "lon", "radius"),
    [(30.66, 104.06, 100), (30.66, 104.06, 500), (53.3, 122.5, 300), (18.25, 109.5, 200)],
)
def test_ring_cover_selects_exactly_the_points_within_the_radius(
    lat: float, lon: float, radius: float
) -> None:
    ring = geo.ring_cover(lat, lon, radius)
    assert 0 < len(ring.ranges) <= geo.MAX_RANGES
    rng = random.Random(7)
    span = radius / 111.0 * 1.6
    wrong = []
    for _ in range(3000):
        plat = lat + rng.uniform(-span, span)
        plon = lon + rng.uniform(-span, span) / math.cos(math.radians(lat))
        distance = geo.haversine_km(lat, lon, plat, plon)
        if abs(distance - radius) < 0.01:
            continue
        if _selected(ring, plat, plon) != (distance <= radius):
            wrong.append((plat, plon, distance))
    assert wrong == []


def test_merge_ranges_joins_touching_and_then_smallest_gaps() -> None:
    assert geo.merge_ranges([(5, 9), (1, 4), (20, 30)]) == [(1, 9), (20, 30)]
    merged = geo.merge_ranges([(0, 1), (3, 4), (100, 101), (103, 104)], limit=2)
    assert merged == [(0, 4), (100, 104)]


@pytest.mark.parametrize(
    ("lat", "lon", "radius"),
    [(91, 0, 10), (0, 181, 10), (0, 0, 0), (0, 0, -5), (0, 0, geo.MAX_RADIUS_KM + 1)],
)
def test_ring_cover_refuses_impossible_circles(lat: float, lon: float, radius: float) -> None:
    with pytest.raises(ValueError):
        geo.ring_cover(lat, lon, radius)


def test_min_dot_matches_haversine() -> None:
    a, b = geo.unit_vector(30.0, 104.0), geo.unit_vector(31.0, 105.0)
    distance = geo.haversine_km(30.0, 104.0, 31.0, 105.0)
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    assert dot >= geo.min_dot(distance + 0.01)
    assert dot < geo.min_dot(distance - 0.01)
