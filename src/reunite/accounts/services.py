"""Jurisdiction tree: loading real divisions, and whether a point lies in a division.

No boundary polygons ship with the registry data, only the seat coordinates of every province,
city and county.  A point is taken to lie in a division when one of its three nearest county seats
belongs to that division (a Voronoi approximation of the borders, tolerant by one neighbour) and
the nearest seat is within ``MAX_SEAT_DISTANCE_KM`` (which rules out the sea and other countries).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from django.db import transaction
from pypinyin import lazy_pinyin

from reunite.accounts.models import Division, DivisionLevel

NATION_CODE = "CN"
NEAREST_SEATS = 3
MAX_SEAT_DISTANCE_KM = 250.0
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class DivisionRow:
    code: str
    name: str
    level: DivisionLevel
    parent_code: str
    latitude: float | None
    longitude: float | None


def read_china_divisions() -> list[DivisionRow]:
    """Rows of the shipped registry (``accounts/data/divisions_cn.csv``), parents before children.

    Codes are the six-digit GB/T 2260 administrative codes.  County-level units administered
    directly by a province (``xx90xx``) hang under the province.  Units without coordinates borrow
    their parent's seat.
    """
    text = resources.files("reunite.accounts").joinpath("data/divisions_cn.csv").read_text("utf-8")
    raw = list(csv.DictReader(text.splitlines()))
    by_code = {r["adcode"][:6]: r for r in raw if not r["adcode"].startswith("99")}

    def parent_of(code: str) -> tuple[DivisionLevel, str]:
        if code[2:] == "0000":
            return DivisionLevel.PROVINCE, NATION_CODE
        if code[4:] == "00":
            return DivisionLevel.CITY, code[:2] + "0000"
        city = code[:4] + "00"
        return DivisionLevel.COUNTY, city if city in by_code else code[:2] + "0000"

    rows: list[DivisionRow] = []
    for code in sorted(by_code, key=lambda c: (parent_of(c)[0], c)):
        level, parent = parent_of(code)
        r = by_code[code]
        rows.append(
            DivisionRow(
                code=code,
                name=r["name"],
                level=level,
                parent_code=parent,
                latitude=float(r["latitude"]) if r["latitude"] else None,
                longitude=float(r["longitude"]) if r["longitude"] else None,
            )
        )
    return rows


def _latin(name: str) -> str:
    return " ".join(lazy_pinyin(name)).title().replace(" ", "")


@transaction.atomic
def load_divisions(rows: Iterable[DivisionRow] | None = None) -> int:
    """Create or update the tree from ``rows`` (default: China).  Idempotent; returns the count."""
    rows = list(rows if rows is not None else read_china_divisions())
    nation, _created = Division.objects.update_or_create(
        code=NATION_CODE,
        defaults={
            "name": "中华人民共和国",
            "name_latin": "People's Republic of China",
            "level": DivisionLevel.NATION,
            "parent": None,
            "path": f"/{NATION_CODE}/",
            "latitude": 39.9042,
            "longitude": 116.4074,
        },
    )
    existing = {d.code: d for d in Division.objects.all()}
    made: dict[str, Division] = {NATION_CODE: nation}
    to_create: list[Division] = []
    for row in rows:
        parent = made[row.parent_code]
        lat = row.latitude if row.latitude is not None else parent.latitude
        lon = row.longitude if row.longitude is not None else parent.longitude
        values = {
            "name": row.name,
            "name_latin": _latin(row.name),
            "level": row.level,
            "parent": parent,
            "path": f"{parent.path}{row.code}/",
            "latitude": lat,
            "longitude": lon,
        }
        division = existing.get(row.code)
        if division is None:
            division = Division(code=row.code, **values)
            to_create.append(division)
            # Children need the parent's primary key: flush each level as it completes.
            if row.level != DivisionLevel.COUNTY:
                division.save()
                to_create.pop()
        else:
            changed = [k for k, v in values.items() if getattr(division, k) != v]
            if changed:
                for k in changed:
                    setattr(division, k, values[k])
                division.save(update_fields=changed)
        made[row.code] = division
    Division.objects.bulk_create(to_create, batch_size=500)
    _seats.cache_clear()
    return Division.objects.count()


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@lru_cache(maxsize=1)
def _seats() -> tuple[tuple[float, float, str], ...]:
    """(lat, lon, path) of every county-level (or lower) division with a seat."""
    return tuple(
        (lat, lon, path)
        for lat, lon, path in Division.objects.filter(
            level__gte=DivisionLevel.COUNTY, latitude__isnull=False, longitude__isnull=False
        ).values_list("latitude", "longitude", "path")
        if lat is not None and lon is not None
    )


def valid_coordinates(latitude: float, longitude: float) -> bool:
    return -90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0


def division_contains_point(division: Division, latitude: float, longitude: float) -> bool:
    """Whether (latitude, longitude) plausibly lies inside ``division`` (see module docstring)."""
    if not valid_coordinates(latitude, longitude):
        return False
    seats = _seats()
    if not seats:
        # No county seats loaded (a bare tree): only a distance check against the division's seat.
        if division.latitude is None or division.longitude is None:
            return True
        return haversine_km(latitude, longitude, division.latitude, division.longitude) <= (
            MAX_SEAT_DISTANCE_KM
        )
    # Cheap equirectangular distance to rank candidates, exact distance for the nearest.
    coslat = math.cos(math.radians(latitude))
    ranked = sorted(
        seats,
        key=lambda s: (s[0] - latitude) ** 2 + ((s[1] - longitude) * coslat) ** 2,
    )[:NEAREST_SEATS]
    if haversine_km(latitude, longitude, ranked[0][0], ranked[0][1]) > MAX_SEAT_DISTANCE_KM:
        return False
    return any(path.startswith(division.path) for _lat, _lon, path in ranked)
