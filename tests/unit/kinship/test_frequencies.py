"""Allele frequency tables: shipped data, case-supplied frequencies and their use in a case."""

from __future__ import annotations

import json
import math
from importlib import resources

import numpy as np
import pytest

from reunite.kinship import (
    CODIS_CORE_LOCI,
    FrequencyTable,
    KinshipInputError,
    LocusFrequencies,
    Profile,
    frequencies_for,
    frequencies_from_mapping,
    list_tables,
    load_table,
    parse_profile,
)

TABLE_IDS = ("east_asia_norstr", "han_chinese", "nist_us_caucasian", "norway_norstr")
# (loci, allele rows, largest |sum - 1| stated in data/frequencies/README.md)
TABLE_FACTS = {
    "nist_us_caucasian": (24, 300, 5e-9),
    "norway_norstr": (50, 800, 1e-12),
    "east_asia_norstr": (40, 574, 1e-12),
    "han_chinese": (70, 557, 0.003),
}
HAN_CODIS_N = {"CSF1PO": 42, "D7S820": 40, "D16S539": 42, "D18S51": 41, "D21S11": 42, "FGA": 39}


def fsum(values: np.ndarray) -> float:
    return math.fsum(values.tolist())


def test_list_tables() -> None:
    infos = list_tables()
    assert tuple(info.id for info in infos) == TABLE_IDS
    for info in infos:
        assert info.population and info.source and info.licence and info.citation


@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in TABLE_IDS])
def test_every_shipped_table_loads_and_sums_to_one(name: str) -> None:
    table = load_table(name)
    loci, rows, tolerance = TABLE_FACTS[name]
    assert table.name == name
    assert len(table.loci) == loci
    assert sum(len(frequencies) for frequencies in table.loci.values()) == rows
    assert set(CODIS_CORE_LOCI) <= set(table.locus_names)
    for locus, frequencies in table.loci.items():
        assert frequencies.locus == locus
        assert frequencies.frequencies.dtype == np.float64
        assert frequencies.frequencies.shape == (len(frequencies.alleles),)
        assert not frequencies.frequencies.flags.writeable
        assert np.all(frequencies.frequencies > 0)
        assert abs(fsum(frequencies.frequencies) - 1.0) <= tolerance + 1e-12, locus
        values = [float(allele) for allele in frequencies.alleles]
        assert values == sorted(values)


def test_han_raw_sums_are_rounded_but_within_one_percent() -> None:
    table = load_table("han_chinese")
    deviations = [abs(lf.total - 1.0) for lf in table.loci.values()]
    assert max(deviations) <= 0.01
    assert max(deviations) > 0.002  # not normalised as shipped: renormalisation matters
    assert max(abs(table.loci[locus].total - 1.0) for locus in CODIS_CORE_LOCI) <= 0.002 + 1e-12


def test_load_table_is_cached() -> None:
    assert load_table("nist_us_caucasian") is load_table("nist_us_caucasian")


def test_unknown_table_lists_the_available_ones() -> None:
    with pytest.raises(KinshipInputError) as caught:
        load_table("han")
    assert str(caught.value) == (
        "unknown frequency table 'han'; available: "
        "east_asia_norstr, han_chinese, nist_us_caucasian, norway_norstr"
    )


def test_sample_sizes() -> None:
    nist = {info.id: info for info in list_tables()}["nist_us_caucasian"]
    assert nist.sample_size == 361
    assert load_table("nist_us_caucasian").locus("TH01").sample_size == 361
    for name in ("norway_norstr", "east_asia_norstr"):
        frequencies = load_table(name).locus("D3S1358")
        assert frequencies.sample_size is None
        assert frequencies.min_frequency == 0.001
        assert frequencies.missing_allele_frequency == 0.001
    han = load_table("han_chinese")
    for locus in CODIS_CORE_LOCI:
        assert han.locus(locus).sample_size == HAN_CODIS_N.get(locus, 43), locus


def test_nist_frequencies_are_multiples_of_one_over_722() -> None:
    for frequencies in load_table("nist_us_caucasian").loci.values():
        counts = frequencies.frequencies * 722
        assert np.allclose(counts, np.round(counts), atol=1e-5)
        assert int(np.round(counts).sum()) == 722


def test_han_sample_size_per_locus_recovers_integral_counts() -> None:
    """Every N in index.json makes freq × 2N near-integral, and the counts sum to 2N."""
    for frequencies in load_table("han_chinese").loci.values():
        n = frequencies.sample_size
        assert n is not None and 38 <= n <= 43, frequencies.locus
        counts = frequencies.frequencies * 2 * n
        assert np.max(np.abs(counts - np.round(counts))) <= 0.05, frequencies.locus
        assert int(np.round(counts).sum()) == 2 * n, frequencies.locus


def test_han_quirk_d2s1776_allele_71_is_kept_and_documented() -> None:
    table = load_table("han_chinese")
    d2s1776 = table.locus("D2S1776")
    assert "71" in d2s1776
    assert d2s1776.frequency("71") == 0.013
    assert d2s1776.sample_size == 40  # 0.013 = 1/80
    assert table.info is not None
    assert any("D2S1776" in caveat and "71" in caveat for caveat in table.info.caveats)
    profile = parse_profile("Q", {"D2S1776": ["71", "10"]})
    result = frequencies_for([profile], table)
    assert result.loci["D2S1776"].alleles == d2s1776.alleles  # no allele had to be added
    assert result.notes == ()  # D2S1776 sums to 1.000 as shipped


def test_index_json_agrees_with_the_shipped_files() -> None:
    folder = resources.files("reunite.kinship.data.frequencies")
    index = json.loads(folder.joinpath("index.json").read_text("utf-8"))
    files = {entry["file"] for entry in index["tables"]}
    shipped = {item.name for item in folder.iterdir() if item.name.endswith(".csv")}
    assert files == shipped
    readme = folder.joinpath("README.md").read_text("utf-8")
    for entry in index["tables"]:
        assert f"`{entry['id']}`" in readme


def test_microvariants_in_tables() -> None:
    th01 = load_table("nist_us_caucasian").locus("th01")
    assert "9.3" in th01
    assert th01.alleles.index("9.3") == th01.alleles.index("9") + 1
    assert th01.index("9.3") == th01.alleles.index("9.3")


def test_table_locus_lookup() -> None:
    nist = load_table("nist_us_caucasian")
    assert nist.locus("penta_e") is nist.locus("Penta E")
    assert "PentaE" in nist
    assert "Q" not in nist
    assert 7 not in nist
    with pytest.raises(KinshipInputError, match=r"^locus D2S1360 is not in frequency table "):
        nist.locus("D2S1360")
    with pytest.raises(KinshipInputError, match=r"^unknown locus 'D99'$"):
        nist.locus("D99")
    with pytest.raises(KinshipInputError, match=r"^allele 99 not in nist_us_caucasian at TH01$"):
        nist.locus("TH01").index("99")


# --------------------------------------------------------------------------- use in a case

MISSING_ALLELE_NOTES = [
    pytest.param(
        "han_chinese", "D3S1358", 43,
        "allele 99 not in table han_chinese at D3S1358: given 5/(2N) = 0.0581395 (N = 43); "
        "locus renormalised",
        id="han-codis-n43",
    ),
    pytest.param(
        "han_chinese", "FGA", 39,
        "allele 99 not in table han_chinese at FGA: given 5/(2N) = 0.0641026 (N = 39); "
        "locus renormalised",
        id="han-fga-n39",
    ),
    pytest.param(
        "nist_us_caucasian", "D3S1358", 361,
        "allele 99 not in table nist_us_caucasian at D3S1358: given 5/(2N) = 0.00692521 "
        "(N = 361); locus renormalised",
        id="nist",
    ),
    pytest.param(
        "norway_norstr", "D3S1358", None,
        "allele 99 not in table norway_norstr at D3S1358: given the table's minimum frequency "
        "0.001; locus renormalised",
        id="norstr-floor",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "locus", "n", "note"), MISSING_ALLELE_NOTES)
def test_absent_allele_gets_the_minimum_frequency(
    name: str, locus: str, n: int | None, note: str
) -> None:
    raw = load_table(name).locus(locus)
    result = frequencies_for([parse_profile("U", {locus: ["99", raw.alleles[0]]})], name)
    assert note in result.notes
    completed = result.loci[locus]
    assert completed.alleles == (*raw.alleles, "99")
    fill = 5 / (2 * n) if n is not None else 0.001
    total = raw.total + fill
    assert completed.frequency("99") == pytest.approx(fill / total, rel=1e-15)
    for allele in raw.alleles:  # renormalised: proportions kept exactly
        assert completed.frequency(allele) == pytest.approx(
            raw.frequency(allele) / total, rel=1e-15
        )
    assert abs(fsum(completed.frequencies) - 1.0) <= 1e-12


def test_two_absent_alleles_and_a_microvariant() -> None:
    profile = parse_profile("U", {"TH01": ["9.3", "13.3"], "vWA": ["10", "11"]})
    result = frequencies_for([profile], "nist_us_caucasian")
    th01 = result.loci["TH01"]
    assert th01.alleles.index("13.3") == len(th01.alleles) - 1
    assert [note.split(":")[0] for note in result.notes] == [
        "allele 13.3 not in table nist_us_caucasian at TH01",
        "allele 10 not in table nist_us_caucasian at vWA",
        "allele 11 not in table nist_us_caucasian at vWA",
    ]
    assert result.loci["vWA"].frequency("10") == result.loci["vWA"].frequency("11")


@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in TABLE_IDS])
def test_renormalisation_is_exact_on_every_locus_of_every_table(name: str) -> None:
    table = load_table(name)
    typed: dict[str, object] = {}
    for locus, frequencies in table.loci.items():
        unit_is_length = locus in ("D11S554", "APOAI1", "D17S906")
        unseen = "999" if unit_is_length else "99.1"
        typed[locus] = [frequencies.alleles[-1], unseen]
    result = frequencies_for([parse_profile("ALL", typed)], table)
    assert tuple(result.loci) == table.locus_names
    for locus, frequencies in result.loci.items():
        assert abs(fsum(frequencies.frequencies) - 1.0) <= 1e-12, locus
        assert len(frequencies) == len(table.loci[locus]) + 1


def test_han_used_gives_a_renormalisation_note() -> None:
    profile = parse_profile("U", {"D18S51": ["14", "15"], "D3S1358": ["15", "16"]})
    result = frequencies_for([profile], "han_chinese")
    assert result.notes == (
        "frequencies at D18S51 in table han_chinese sum to 0.998; renormalised",
    )
    assert abs(fsum(result.loci["D18S51"].frequencies) - 1.0) <= 1e-12
    raw = load_table("han_chinese").locus("D18S51")
    assert result.loci["D18S51"].frequency("14") == pytest.approx(raw.frequency("14") / 0.998)


def test_nist_rounding_is_renormalised_silently() -> None:
    profile = parse_profile("U", {locus: ["12"] for locus in ("D5S818", "D7S820", "TPOX")})
    result = frequencies_for([profile], "nist_us_caucasian")
    assert result.notes == ()
    for frequencies in result.loci.values():
        assert abs(fsum(frequencies.frequencies) - 1.0) <= 1e-12


def test_typed_locus_missing_from_table_is_left_out_with_a_note() -> None:
    profile = parse_profile("U", {"D3S1358": ["15", "16"], "D2S1360": ["20", "21"]})
    result = frequencies_for([profile], "nist_us_caucasian")
    assert tuple(result.loci) == ("D3S1358",)
    assert result.notes == (
        "locus D2S1360 is typed but not in table nist_us_caucasian: left out (LR 1)",
    )
    with pytest.raises(KinshipInputError, match=r"^locus D2S1360 is not in frequency table"):
        frequencies_for([profile], "nist_us_caucasian", strict_loci=True)


def test_untyped_loci_and_profiles_mapping() -> None:
    profiles = {
        "A": parse_profile("A", {"D3S1358": ["15", "16"], "FGA": []}),
        "B": parse_profile("B", {"D3S1358": ["15"], "AMEL": "XY"}),
    }
    result = frequencies_for(profiles, "norway_norstr")
    assert tuple(result.loci) == ("D3S1358",)
    assert result.table == "norway_norstr"
    assert frequencies_for([], "norway_norstr").loci == {}


def test_frequencies_for_checks_profiles() -> None:
    with pytest.raises(KinshipInputError, match="expected Profile objects, got dict"):
        frequencies_for([{"D3S1358": ["15"]}], "han_chinese")  # type: ignore[list-item]


# --------------------------------------------------------------------------- case frequencies


def case_locus(**frequencies: float) -> dict[str, dict[str, float]]:
    return {"D3S1358": {allele.lstrip("a"): value for allele, value in frequencies.items()}}


SUMS = [
    pytest.param(1.0099, "sum to 1.0099; renormalised", id="just-within-above"),
    pytest.param(0.9901, "sum to 0.9901; renormalised", id="just-within-below"),
    pytest.param(1.0, None, id="exact"),
]


@pytest.mark.parametrize(("total", "note"), SUMS)
def test_case_sum_within_one_percent_is_renormalised(total: float, note: str | None) -> None:
    mapping = case_locus(a15=0.5, a16=total - 0.5)
    profile = parse_profile("U", {"D3S1358": ["15", "16"]})
    result = frequencies_for([profile], mapping)
    assert result.table == "case"
    if note is None:
        assert result.notes == ()
    else:
        assert result.notes == (f"frequencies at D3S1358 in table case {note}",)
    frequencies = result.loci["D3S1358"]
    assert abs(fsum(frequencies.frequencies) - 1.0) <= 1e-12
    assert frequencies.frequency("15") == pytest.approx(0.5 / total, rel=1e-14)


@pytest.mark.parametrize(
    ("total", "shown"),
    [
        pytest.param(1.0101, "1.0101", id="just-beyond-above"),
        pytest.param(0.9899, "0.9899", id="just-beyond-below"),
        pytest.param(0.38, "0.38", id="partial-table"),
        pytest.param(2.0, "2", id="double"),
    ],
)
def test_case_sum_beyond_one_percent_is_an_error(total: float, shown: str) -> None:
    with pytest.raises(KinshipInputError) as caught:
        frequencies_from_mapping(case_locus(a15=0.25, a16=total - 0.25))
    assert str(caught.value) == (
        f"frequencies at D3S1358 in case sum to {shown}, more than 1% away from 1"
    )


BAD_FREQUENCIES = [
    pytest.param(-0.1, "must be finite and at least 1e-09, got -0.1", id="negative"),
    pytest.param(0, "must be finite and at least 1e-09, got 0", id="zero"),
    pytest.param(0.0, "must be finite and at least 1e-09, got 0.0", id="zero-float"),
    pytest.param(math.nan, "must be finite and at least 1e-09, got nan", id="nan"),
    pytest.param(math.inf, "must be finite and at least 1e-09, got inf", id="inf"),
    pytest.param(1e-10, "must be finite and at least 1e-09, got 1e-10", id="below-floor"),
    pytest.param("0.5", "must be a number, got str", id="string"),
    pytest.param(True, "must be a number, got bool", id="bool"),
    pytest.param(None, "must be a number, got NoneType", id="none"),
]


@pytest.mark.parametrize(("value", "message"), BAD_FREQUENCIES)
def test_bad_frequency_value(value: object, message: str) -> None:
    mapping = {"vWA": {"15": 0.5, "16": value}}
    with pytest.raises(KinshipInputError) as caught:
        frequencies_from_mapping(mapping)
    assert str(caught.value) == f"frequency of allele 16 at vWA {message}"


BAD_MAPPINGS = [
    pytest.param({"D99": {"15": 1.0}}, "unknown locus 'D99'", id="unknown-locus"),
    pytest.param({"vWA": {"15": 1.0}, "VWA": {"15": 1.0}}, "frequencies give locus vWA twice",
                 id="locus-twice"),
    pytest.param({"vWA": {"09": 0.5, "9": 0.5}}, "frequencies give allele 9 twice at vWA",
                 id="allele-twice"),
    pytest.param({"vWA": {"X": 1.0}}, "malformed allele 'X' at vWA", id="malformed-allele"),
    pytest.param({"AMEL": {"X": 1.0}}, "amelogenin has no allele frequencies", id="amelogenin"),
    pytest.param({"vWA": {}}, "frequencies at vWA must be a non-empty", id="empty-locus"),
    pytest.param({"vWA": [0.5, 0.5]}, "frequencies at vWA must be a non-empty", id="list-locus"),
    pytest.param({}, "frequencies are empty", id="empty"),
    pytest.param([], "frequencies must map loci", id="not-a-mapping"),
]  # fmt: skip


@pytest.mark.parametrize(("mapping", "start"), BAD_MAPPINGS)
def test_bad_case_mapping(mapping: object, start: str) -> None:
    with pytest.raises(KinshipInputError) as caught:
        frequencies_from_mapping(mapping)  # type: ignore[arg-type]
    assert str(caught.value).startswith(start)


def test_case_mapping_normalises_names_and_alleles() -> None:
    table = frequencies_from_mapping({"vwa": {"09": 0.25, "9.30": 0.25, 16: 0.5}})
    assert isinstance(table, FrequencyTable)
    assert table.locus_names == ("vWA",)
    assert table.locus("VWA").as_dict() == {"9": 0.25, "9.3": 0.25, "16": 0.5}
    assert table.info is None


def test_case_allele_absent_without_n_or_floor_is_an_error() -> None:
    profile = parse_profile("U", {"D3S1358": ["15", "17"]})
    with pytest.raises(KinshipInputError) as caught:
        frequencies_for([profile], case_locus(a15=0.5, a16=0.5))
    assert str(caught.value) == (
        "allele 17 at D3S1358 is not in the case frequencies, which give no sample size or "
        "minimum frequency to fill it in"
    )


def test_case_allele_absent_with_sample_size_or_floor() -> None:
    profile = parse_profile("U", {"D3S1358": ["15", "17"]})
    by_n = frequencies_for(
        [profile], frequencies_from_mapping(case_locus(a15=0.5, a16=0.5), sample_size=100)
    )
    assert by_n.loci["D3S1358"].frequency("17") == pytest.approx(0.025 / 1.025, rel=1e-15)
    by_floor = frequencies_for(
        [profile],
        frequencies_from_mapping(case_locus(a15=0.5, a16=0.5), name="lab", min_frequency=0.01),
    )
    assert by_floor.notes == (
        "allele 17 not in table lab at D3S1358: given the table's minimum frequency 0.01; "
        "locus renormalised",
    )
    assert by_floor.loci["D3S1358"].frequency("17") == pytest.approx(0.01 / 1.01, rel=1e-15)


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        pytest.param({"sample_size": 0}, "sample size must be a positive integer", id="n-zero"),
        pytest.param({"sample_size": 4.5}, "sample size must be a positive integer", id="n-float"),
        pytest.param({"min_frequency": 0.0}, "minimum frequency must lie in (0, 1)", id="floor-0"),
        pytest.param(
            {"min_frequency": 1.5}, "minimum frequency must lie in (0, 1)", id="floor-big"
        ),
    ],
)
def test_case_mapping_options_are_checked(keywords: dict[str, float], message: str) -> None:
    with pytest.raises(KinshipInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        frequencies_from_mapping(case_locus(a15=0.5, a16=0.5), **keywords)  # type: ignore[arg-type]


def test_locus_frequencies_constructor_validates() -> None:
    good = LocusFrequencies("vwa", ("16", "15"), np.array([0.4, 0.6]), source="x")
    assert good.locus == "vWA"
    assert good.alleles == ("15", "16")
    assert good.frequencies.tolist() == [0.6, 0.4]
    with pytest.raises(ValueError):
        good.frequencies[0] = 0.5
    with pytest.raises(KinshipInputError, match="shape"):
        LocusFrequencies("vWA", ("15", "16"), np.array([1.0]), source="x")
    with pytest.raises(KinshipInputError, match="not in canonical form"):
        LocusFrequencies("vWA", ("015",), np.array([1.0]), source="x")
    with pytest.raises(KinshipInputError, match="listed twice"):
        LocusFrequencies("vWA", ("15", "15"), np.array([0.5, 0.5]), source="x")


def test_frequencies_for_accepts_a_table_name_a_table_or_a_mapping() -> None:
    profile: Profile = parse_profile("U", {"TPOX": ["8", "11"]})
    by_name = frequencies_for([profile], "nist_us_caucasian")
    by_table = frequencies_for([profile], load_table("nist_us_caucasian"))
    by_mapping = frequencies_for(
        [profile], {"TPOX": load_table("nist_us_caucasian").locus("TPOX").as_dict()}
    )
    expected = by_name.loci["TPOX"].frequencies
    np.testing.assert_array_equal(by_table.loci["TPOX"].frequencies, expected)
    np.testing.assert_allclose(by_mapping.loci["TPOX"].frequencies, expected, rtol=1e-15)
    with pytest.raises(KinshipInputError, match=r"^unknown frequency table 'nope'"):
        frequencies_for([profile], "nope")
