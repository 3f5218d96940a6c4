"""The real division tree of China and the point-in-division check."""

from __future__ import annotations

import pytest

from reunite.accounts.models import Division, DivisionLevel
from reunite.accounts.services import division_contains_point, haversine_km, load_divisions
from tests.conftest import division


@pytest.mark.django_db
def test_tree_has_real_provinces_cities_and_counties() -> None:
    counts = {
        level: Division.objects.filter(level=level).count()
        for level in (DivisionLevel.PROVINCE, DivisionLevel.CITY, DivisionLevel.COUNTY)
    }
    assert counts[DivisionLevel.PROVINCE] == 34
    assert counts[DivisionLevel.CITY] > 330
    assert counts[DivisionLevel.COUNTY] > 2800
    chengdu_jinniu = division("510106")
    assert chengdu_jinniu.name == "金牛区"
    assert chengdu_jinniu.path == "/CN/510000/510100/510106/"
    assert chengdu_jinniu.full_name == "四川省 成都市 金牛区"
    assert division("110105").full_name == "北京市 朝阳区"
    # County-level cities administered by the province hang under the province.
    assert division("429004").parent.code == "420000"
    assert division("510106").name_latin == "JinNiuQu"


@pytest.mark.django_db
def test_loading_twice_changes_nothing() -> None:
    before = Division.objects.count()
    assert load_divisions() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "lat", "lon", "inside"),
    [
        pytest.param("110105", 39.92, 116.44, True, id="chaoyang-centre"),
        pytest.param("110000", 39.92, 116.44, True, id="beijing-contains-chaoyang-point"),
        pytest.param("CN", 39.92, 116.44, True, id="nation"),
        pytest.param("110105", 23.13, 113.26, False, id="guangzhou-point-in-chaoyang"),
        pytest.param("440000", 39.92, 116.44, False, id="beijing-point-in-guangdong"),
        pytest.param("510106", 30.69, 104.05, True, id="chengdu-jinniu"),
        pytest.param("CN", 35.0, 140.0, False, id="pacific-ocean"),
        pytest.param("CN", 91.0, 100.0, False, id="latitude-out-of-range"),
    ],
)
def test_point_in_division(code: str, lat: float, lon: float, inside: bool) -> None:
    assert division_contains_point(division(code), lat, lon) is inside


def test_haversine_beijing_shanghai() -> None:
    # Published great-circle distance ≈ 1,067 km.
    assert haversine_km(39.9042, 116.4074, 31.2304, 121.4737) == pytest.approx(1067, abs=5)
