"""Ring geometry: points as H3 cells and unit vectors, circles as ranges of H3 cell integers.

No Django here.  A subscriber's home point is stored as its H3 cell at ``H3_RESOLUTION`` (an
integer) and as a unit vector.  Every cell at that resolution below a coarser cell ``c`` lies in
one integer range (same base cell and leading digits; the resolution field is the same for all
of them), so a circle becomes a short list of ``BETWEEN lo AND hi`` ranges on an index; the
exact great-circle test at the edge is a dot product with the centre's unit vector.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import h3  # type: ignore[import-untyped]

H3_RESOLUTION = 7
EARTH_RADIUS_KM = 6371.0088
MAX_RADIUS_KM = 3000.0
_RES_SHIFT = 52
_RES_MASK = 0xF << _RES_SHIFT
_DIGIT_BITS = 3
MAX_RANGES = 250


def unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    """The point on the unit sphere for (lat, lon) in degrees."""
    p, q = math.radians(lat), math.radians(lon)
    return (math.cos(p) * math.cos(q), math.cos(p) * math.sin(q), math.sin(p))


def cell_of(lat: float, lon: float, resolution: int = H3_RESOLUTION) -> int:
    """The H3 cell (as a signed-64-bit-safe integer: H3 indexes use 63 bits) holding the point."""
    return int(h3.str_to_int(h3.latlng_to_cell(lat, lon, resolution)))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def min_dot(radius_km: float) -> float:
    """A point is within ``radius_km`` of the centre iff dot(point, centre) ≥ this."""
    return math.cos(min(radius_km, math.pi * EARTH_RADIUS_KM) / EARTH_RADIUS_KM)


def descendant_range(cell: int, resolution: int = H3_RESOLUTION) -> tuple[int, int]:
    """The integer range holding every descendant of ``cell`` at ``resolution``.

    Digits below the cell's own resolution run from 0 (lowest child) to 6 (highest); digits
    past ``resolution`` stay 7 ("unused"), as in every index at that resolution.
    """
    own = (cell & _RES_MASK) >> _RES_SHIFT
    base = (cell & ~_RES_MASK) | (resolution << _RES_SHIFT)
    lo = hi = base
    for digit in range(own + 1, resolution + 1):
        shift = _DIGIT_BITS * (15 - digit)
        lo &= ~(0b111 << shift)
        hi = (hi & ~(0b111 << shift)) | (0b110 << shift)
    return lo, hi


@dataclass(frozen=True)
class Ring:
    """The parts of one circle a query needs: centre vector, threshold, cell ranges."""

    centre: tuple[float, float, float]
    min_dot: float
    ranges: tuple[tuple[int, int], ...]


def _coarse_resolution(radius_km: float) -> int:
    for res in range(H3_RESOLUTION, -1, -1):
        if h3.average_hexagon_edge_length(res, "km") >= radius_km / 6:
            return res
    return 0


def _circumradius_km(cell: str) -> float:
    lat, lon = h3.cell_to_latlng(cell)
    return max(haversine_km(lat, lon, a, b) for a, b in h3.cell_to_boundary(cell))


def ring_cover(lat: float, lon: float, radius_km: float) -> Ring:
    """Cells covering the circle of ``radius_km`` around (lat, lon), as merged integer ranges.

    The cover is a superset (cells overlapping the edge are included whole, refined twice to keep
    the excess small); the dot-product test then makes the selection exact.
    """
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not 0 < radius_km <= MAX_RADIUS_KM:
        raise ValueError("centre or radius out of range")
    res = _coarse_resolution(radius_km)
    edge = h3.average_hexagon_edge_length(res, "km")
    k = math.ceil(radius_km / (edge * 1.5)) + 2
    todo = h3.grid_disk(h3.latlng_to_cell(lat, lon, res), k)
    chosen: list[str] = []
    for depth in range(3):
        edges: list[str] = []
        for cell in todo:
            clat, clon = h3.cell_to_latlng(cell)
            d = haversine_km(lat, lon, clat, clon)
            r = _circumradius_km(cell) * 1.02
            if d - r > radius_km:
                continue
            if d + r <= radius_km or depth == 2 or h3.get_resolution(cell) >= H3_RESOLUTION:
                chosen.append(cell)
            else:
                edges.append(cell)
        todo = [child for cell in edges for child in h3.cell_to_children(cell)]
    ranges = sorted(descendant_range(int(h3.str_to_int(c))) for c in chosen)
    return Ring(unit_vector(lat, lon), min_dot(radius_km), tuple(merge_ranges(ranges)))


def merge_ranges(ranges: list[tuple[int, int]], limit: int = MAX_RANGES) -> list[tuple[int, int]]:
    """Sorted ranges merged where they touch, then across the smallest gaps until ``limit``.

    Merging across a gap only widens the scan (the dot test stays exact), never the result.
    """
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    if len(merged) > limit:
        gaps = sorted(range(len(merged) - 1), key=lambda i: merged[i + 1][0] - merged[i][1])[
            : len(merged) - limit
        ]
        join = set(gaps)
        out: list[list[int]] = []
        for i, pair in enumerate(merged):
            if out and (i - 1) in join:
                out[-1][1] = pair[1]
            else:
                out.append(list(pair))
        merged = out
    return [(lo, hi) for lo, hi in merged]
