"""Locus names: canonical spellings, aliases and unknown names."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from reunite.kinship import KinshipInputError
from reunite.kinship.loci import (
    AMELOGENIN,
    CODIS_CORE_LOCI,
    KNOWN_LOCI,
    LOCUS_TABLE,
    STR_LOCI,
    fold_locus_name,
    locus_info,
    locus_sort_key,
    normalise_locus,
)

SPELLINGS = [
    pytest.param("vWA", "vWA", id="vWA"),
    pytest.param("VWA", "vWA", id="VWA"),
    pytest.param("vwa", "vWA", id="vwa"),
    pytest.param("HUMVWA31A", "vWA", id="vwa-gdb-name"),
    pytest.param("Penta E", "Penta E", id="penta-e-canonical"),
    pytest.param("Penta_E", "Penta E", id="penta-e-underscore"),
    pytest.param("PentaE", "Penta E", id="penta-e-joined"),
    pytest.param("PENTA E", "Penta E", id="penta-e-upper"),
    pytest.param("penta-e", "Penta E", id="penta-e-hyphen"),
    pytest.param("Penta_D", "Penta D", id="penta-d-han-spelling"),
    pytest.param("TH01", "TH01", id="th01"),
    pytest.param("THO1", "TH01", id="th01-letter-o"),
    pytest.param("th01", "TH01", id="th01-lower"),
    pytest.param("FGA", "FGA", id="fga"),
    pytest.param("fga", "FGA", id="fga-lower"),
    pytest.param("FIBRA", "FGA", id="fga-fibra"),
    pytest.param("D22GATA198B05", "D22GATA198B05", id="d22gata"),
    pytest.param("d22-gata198b05", "D22GATA198B05", id="d22gata-hyphen"),
    pytest.param("AMEL", "AMEL", id="amel"),
    pytest.param("Amelogenin", "AMEL", id="amelogenin"),
    pytest.param("amelogenin", "AMEL", id="amelogenin-lower"),
    pytest.param("  D3S1358 ", "D3S1358", id="surrounding-spaces"),
    pytest.param("d3s1358", "D3S1358", id="lower-d-number"),
    pytest.param("D3_S1358", "D3S1358", id="inner-underscore"),
    pytest.param("ACTBP2", "SE33", id="se33-actbp2"),
    pytest.param("se33", "SE33", id="se33-lower"),
    pytest.param("D6S1043", "D6S1043", id="d6s1043"),
    pytest.param("FES/FPS", "FESFPS", id="fesfps-slash"),
    pytest.param("APOA1", "APOAI1", id="apoai1-alias"),
]


@pytest.mark.parametrize(("spelling", "canonical"), SPELLINGS)
def test_normalise_locus(spelling: str, canonical: str) -> None:
    assert normalise_locus(spelling) == canonical


UNKNOWN = [
    pytest.param("X", "unknown locus 'X'", id="single-letter"),
    pytest.param("D3S1359", "unknown locus 'D3S1359'", id="near-miss"),
    pytest.param("Penta F", "unknown locus 'Penta F'", id="penta-f"),
    pytest.param("DYS19", "unknown locus 'DYS19'", id="y-str"),
    pytest.param("", "empty locus name", id="empty"),
    pytest.param("  _ ", "empty locus name", id="only-separators"),
    pytest.param(3358, "locus name must be a string, got int", id="not-a-string"),
    pytest.param(None, "locus name must be a string, got NoneType", id="none"),
]


@pytest.mark.parametrize(("name", "message"), UNKNOWN)
def test_unknown_locus_is_a_clear_error(name: object, message: str) -> None:
    with pytest.raises(KinshipInputError) as caught:
        normalise_locus(name)  # type: ignore[arg-type]
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_a_very_long_unknown_name_is_shortened_in_the_message() -> None:
    with pytest.raises(KinshipInputError) as caught:
        normalise_locus("Q" * 5000)
    assert len(str(caught.value)) < 80
    assert "\n" not in str(caught.value)


def test_codis_core_is_the_twenty_loci() -> None:
    assert CODIS_CORE_LOCI == (
        "CSF1PO", "FGA", "TH01", "TPOX", "vWA", "D3S1358", "D5S818", "D7S820", "D8S1179",
        "D13S317", "D16S539", "D18S51", "D21S11", "D1S1656", "D2S441", "D2S1338", "D10S1248",
        "D12S391", "D19S433", "D22S1045",
    )  # fmt: skip


def test_no_two_spellings_fold_alike() -> None:
    owners: dict[str, str] = {}
    for info in LOCUS_TABLE:
        for spelling in (info.name, *info.aliases):
            key = fold_locus_name(spelling)
            assert owners.setdefault(key, info.name) == info.name, spelling


def test_every_canonical_name_and_alias_maps_to_its_locus() -> None:
    for info in LOCUS_TABLE:
        assert normalise_locus(info.name) == info.name
        for alias in info.aliases:
            assert normalise_locus(alias) == info.name


def test_canonical_names_are_unique_and_ordered() -> None:
    assert len(set(KNOWN_LOCI)) == len(KNOWN_LOCI)
    assert KNOWN_LOCI[-1] == AMELOGENIN
    assert AMELOGENIN not in STR_LOCI
    assert [locus_sort_key(name) for name in KNOWN_LOCI] == list(range(len(KNOWN_LOCI)))


def test_every_locus_of_every_shipped_table_is_known() -> None:
    folder = resources.files("reunite.kinship.data.frequencies")
    names: set[str] = set()
    for item in folder.iterdir():
        if item.name.endswith(".csv"):
            with item.open("r", encoding="utf-8") as handle:
                names.update(row["locus"] for row in csv.DictReader(handle))
    assert len(names) == 85
    canonical = {normalise_locus(name) for name in names}
    assert set(CODIS_CORE_LOCI) <= canonical
    assert {"SE33", "Penta D", "Penta E", "D6S1043", "D22GATA198B05"} <= canonical


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        pytest.param("D3S1358", "repeats", id="repeats"),
        pytest.param("D11S554", "bases", id="d11s554-by-length"),
        pytest.param("APOAI1", "bases", id="apoai1-by-length"),
        pytest.param("D17S906", "bases", id="d17s906-by-length"),
        pytest.param("Amelogenin", "sex", id="amelogenin"),
    ],
)
def test_allele_unit(name: str, unit: str) -> None:
    assert locus_info(name).allele_unit == unit
