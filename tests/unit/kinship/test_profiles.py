"""Alleles, genotypes and profiles: the named edge-case corpus of raw input."""

from __future__ import annotations

import math

import pytest

from reunite.kinship import (
    Genotype,
    KinshipInputError,
    Profile,
    allele_value,
    parse_allele,
    parse_genotype,
    parse_profile,
    parse_profiles,
)
from reunite.kinship.profiles import alleles_by_locus, parse_amelogenin

ALLELES = [
    pytest.param("15", "15", id="integer"),
    pytest.param("9.3", "9.3", id="microvariant-9.3"),
    pytest.param("15.2", "15.2", id="microvariant-15.2"),
    pytest.param("09", "9", id="leading-zero"),
    pytest.param("009.3", "9.3", id="leading-zeros-microvariant"),
    pytest.param("9.30", "9.3", id="trailing-zero"),
    pytest.param("15.0", "15", id="point-zero"),
    pytest.param("15.00", "15", id="point-zeros"),
    pytest.param(" 16 ", "16", id="surrounding-spaces"),
    pytest.param(15, "15", id="json-integer"),
    pytest.param(9.3, "9.3", id="json-float"),
    pytest.param(15.0, "15", id="json-float-whole"),
    pytest.param("1", "1", id="smallest"),
    pytest.param("100", "100", id="largest"),
    pytest.param("2.2", "2.2", id="small-microvariant"),
]


@pytest.mark.parametrize(("raw", "canonical"), ALLELES)
def test_parse_allele(raw: object, canonical: str) -> None:
    assert parse_allele(raw) == canonical


MALFORMED = [
    pytest.param("X", "malformed allele 'X'", id="letter"),
    pytest.param("OL", "malformed allele 'OL'", id="off-ladder"),
    pytest.param("<8", "malformed allele '<8'", id="below-ladder"),
    pytest.param("", "empty allele", id="empty"),
    pytest.param("   ", "empty allele", id="blank"),
    pytest.param("1e3", "malformed allele '1e3'", id="exponent"),
    pytest.param("-1", "malformed allele '-1'", id="negative"),
    pytest.param("+15", "malformed allele '+15'", id="plus-sign"),
    pytest.param("15,2", "malformed allele '15,2'", id="decimal-comma"),
    pytest.param("9.", "malformed allele '9.'", id="trailing-point"),
    pytest.param(".3", "malformed allele '.3'", id="leading-point"),
    pytest.param("9.3.1", "malformed allele '9.3.1'", id="two-points"),
    pytest.param(
        "9.12", "malformed allele '9.12': a microvariant has one digit", id="two-digit-mv"
    ),
    pytest.param("15 16", "malformed allele '15 16'", id="two-in-one"),
    pytest.param("101", "allele '101' is out of range", id="above-100"),
    pytest.param("100.1", "allele '100.1' is out of range", id="just-above-100"),
    pytest.param("0", "allele '0' is out of range", id="zero"),
    pytest.param("0.3", "allele '0.3' is out of range", id="below-one"),
    pytest.param(-1, "malformed allele -1", id="negative-int"),
    pytest.param(True, "malformed allele True", id="bool"),
    pytest.param(None, "malformed allele None", id="none"),
    pytest.param(math.nan, "malformed allele nan: not a number", id="nan"),
    pytest.param(math.inf, "malformed allele inf: not a number", id="inf"),
    pytest.param(9.299999, "malformed allele 9.299999", id="float-noise"),
    pytest.param(["15"], "malformed allele ['15']", id="list"),
]


@pytest.mark.parametrize(("raw", "start"), MALFORMED)
def test_malformed_allele_is_a_clear_error(raw: object, start: str) -> None:
    with pytest.raises(KinshipInputError) as caught:
        parse_allele(raw)
    assert str(caught.value).startswith(start)
    assert "\n" not in str(caught.value)


def test_allele_error_names_the_locus() -> None:
    with pytest.raises(KinshipInputError, match=r"^malformed allele 'X' at vWA: expected"):
        parse_allele("X", locus="vwa")


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        pytest.param("212", "212", id="fragment-length"),
        pytest.param("441", "441", id="longest-in-tables"),
        pytest.param("0212", "212", id="leading-zero"),
    ],
)
def test_fragment_length_loci_take_lengths(raw: str, canonical: str) -> None:
    assert parse_allele(raw, locus="D11S554") == canonical


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param("212.2", "alleles here are whole fragment lengths", id="fraction"),
        pytest.param("1001", "from 1 to 1000", id="too-long"),
    ],
)
def test_fragment_length_loci_reject(raw: str, message: str) -> None:
    with pytest.raises(KinshipInputError, match=message):
        parse_allele(raw, locus="APOAI1")


def test_repeat_loci_reject_fragment_lengths() -> None:
    with pytest.raises(KinshipInputError, match="from 1 to 100"):
        parse_allele("212", locus="D3S1358")


def test_amelogenin_is_not_an_str_locus_for_alleles() -> None:
    with pytest.raises(KinshipInputError, match="amelogenin sex marker"):
        parse_allele("X", locus="AMEL")


def test_allele_value_orders_microvariants_between_integers() -> None:
    alleles = ["10", "9.3", "9", "15.2", "15"]
    assert sorted(alleles, key=allele_value) == ["9", "9.3", "10", "15", "15.2"]
    assert allele_value("9.3") == 9.3


GENOTYPES = [
    pytest.param(["15", "16"], Genotype("15", "16"), id="heterozygote"),
    pytest.param(["16", "15"], Genotype("15", "16"), id="order-independent"),
    pytest.param(["15"], Genotype("15", "15"), id="homozygote-one-listed"),
    pytest.param(["15", "15"], Genotype("15", "15"), id="homozygote-two-listed"),
    pytest.param(["15", "015"], Genotype("15", "15"), id="homozygote-two-spellings"),
    pytest.param(["9.3", "10"], Genotype("9.3", "10"), id="microvariant-9.3"),
    pytest.param(["15.2", "15"], Genotype("15", "15.2"), id="microvariant-15.2"),
    pytest.param(("14", "17"), Genotype("14", "17"), id="tuple"),
    pytest.param([14, 17], Genotype("14", "17"), id="json-integers"),
    pytest.param([], None, id="untyped-empty-list"),
    pytest.param(None, None, id="untyped-none"),
]


@pytest.mark.parametrize(("raw", "expected"), GENOTYPES)
def test_parse_genotype(raw: object, expected: Genotype | None) -> None:
    assert parse_genotype(raw, locus="D3S1358") == expected


BAD_GENOTYPES = [
    pytest.param(["15", "16", "17"], "mixture at locus D3S1358: 3 distinct alleles (15, 16, 17)",
                 id="three-alleles"),
    pytest.param(["17", "15", "16", "14"],
                 "mixture at locus D3S1358: 4 distinct alleles (14, 15, 16, 17)", id="four"),
    pytest.param(["15", "15", "16"], "more than two alleles listed at locus D3S1358",
                 id="three-listed-two-distinct"),
    pytest.param("15,16", "alleles at D3S1358 must be a list", id="string"),
    pytest.param({"a": "15"}, "alleles at D3S1358 must be a list", id="object"),
    pytest.param(["15", "X"], "malformed allele 'X' at D3S1358", id="malformed-inside"),
    pytest.param(["15", ""], "empty allele at D3S1358", id="empty-inside"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "start"), BAD_GENOTYPES)
def test_bad_genotype_is_a_clear_error(raw: object, start: str) -> None:
    with pytest.raises(KinshipInputError) as caught:
        parse_genotype(raw, locus="D3S1358")
    assert str(caught.value).startswith(start)


def test_genotype_is_order_independent_and_knows_homozygosity() -> None:
    assert Genotype("16", "15") == Genotype("15", "16")
    assert Genotype("16", "15").alleles == ("15", "16")
    assert hash(Genotype("16", "15")) == hash(Genotype("15", "16"))
    assert Genotype("15", "15").is_homozygous
    assert not Genotype("15", "16").is_homozygous
    assert "16" in Genotype("15", "16")
    assert str(Genotype("10", "9.3")) == "9.3/10"


def test_genotype_constructor_wants_canonical_alleles() -> None:
    with pytest.raises(KinshipInputError, match="not in canonical form"):
        Genotype("09", "10")


CLI_PROFILE = {
    "D3S1358": ["15", "16"],
    "vwa": ["17"],
    "TH01": ["9.3", "6"],
    "Penta_E": [],
    "FGA": None,
    "AMEL": ["X", "Y"],
}


def test_parse_profile_from_the_cli_shape() -> None:
    profile = parse_profile("UNKNOWN", CLI_PROFILE)
    assert profile.id == "UNKNOWN"
    assert dict(profile.genotypes) == {
        "TH01": Genotype("6", "9.3"),
        "vWA": Genotype("17", "17"),
        "D3S1358": Genotype("15", "16"),
    }
    assert profile.typed_loci == ("TH01", "vWA", "D3S1358")  # canonical (CODIS) order
    assert profile.genotype("Penta E") is None
    assert profile.genotype("FGA") is None
    assert profile.genotype("VWA") == Genotype("17", "17")
    assert profile.amelogenin == "XY"
    assert profile.sex_from_amelogenin() == "M"


def test_profile_is_read_only() -> None:
    profile = parse_profile("A", {"D3S1358": ["15", "16"]})
    with pytest.raises(TypeError):
        profile.genotypes["FGA"] = Genotype("20", "21")  # type: ignore[index]
    assert profile == parse_profile("A", {"d3s1358": ["16", "15"]})
    assert hash(profile) == hash(parse_profile("A", {"d3s1358": ["16", "15"]}))


@pytest.mark.parametrize(
    ("raw", "canonical", "sex"),
    [
        pytest.param(["X", "Y"], "XY", "M", id="list-xy"),
        pytest.param(["Y", "X"], "XY", "M", id="list-yx"),
        pytest.param("XY", "XY", "M", id="string-xy"),
        pytest.param("x,y", "XY", "M", id="string-comma"),
        pytest.param(["X"], "XX", "F", id="list-x"),
        pytest.param(["X", "X"], "XX", "F", id="list-xx"),
        pytest.param("X", "XX", "F", id="string-x"),
        pytest.param("XX", "XX", "F", id="string-xx"),
        pytest.param([], None, None, id="untyped-list"),
        pytest.param(None, None, None, id="untyped-none"),
    ],
)
def test_amelogenin(raw: object, canonical: str | None, sex: str | None) -> None:
    assert parse_amelogenin(raw) == canonical
    profile = parse_profile("P", {"Amelogenin": raw, "D3S1358": ["15"]})
    assert profile.amelogenin == canonical
    assert profile.sex_from_amelogenin() == sex


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("Y", id="y-only"),
        pytest.param(["X", "Y", "Y"], id="three"),
        pytest.param("XZ", id="other-letter"),
        pytest.param(["15", "16"], id="numbers"),
        pytest.param(12, id="integer"),
    ],
)
def test_bad_amelogenin(raw: object) -> None:
    with pytest.raises(KinshipInputError, match="expected X, XX or XY"):
        parse_amelogenin(raw)


PROFILE_ERRORS = [
    pytest.param({"D3S1358": ["15", "16", "17"]},
                 "mixture at locus D3S1358: 3 distinct alleles (15, 16, 17); "
                 "a reference profile has at most two (profile 'P1')", id="mixture"),
    pytest.param({"D99S1": ["15"]}, "unknown locus 'D99S1' (profile 'P1')", id="unknown-locus"),
    pytest.param({"vWA": ["15"], "VWA": ["16"]},
                 "locus vWA given twice (as 'vWA' and 'VWA') (profile 'P1')", id="locus-twice"),
    pytest.param({"D3S1358": ["X"]},
                 "malformed allele 'X' at D3S1358: expected a repeat number such as '15' or "
                 "'9.3' (profile 'P1')", id="malformed"),
    pytest.param({"AMEL": ["Y"]},
                 "malformed amelogenin ['Y']: expected X, XX or XY (profile 'P1')", id="amel"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "message"), PROFILE_ERRORS)
def test_profile_errors_name_the_profile(data: dict[str, object], message: str) -> None:
    with pytest.raises(KinshipInputError) as caught:
        parse_profile("P1", data)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("profile_id", "data", "message"),
    [
        pytest.param("", {}, "a profile id must be a non-empty string", id="empty-id"),
        pytest.param(7, {}, "a profile id must be a non-empty string", id="int-id"),
        pytest.param("P", ["15"], "profile 'P' must map locus names to alleles, got list",
                     id="not-a-mapping"),
    ],
)  # fmt: skip
def test_profile_shape_errors(profile_id: object, data: object, message: str) -> None:
    with pytest.raises(KinshipInputError) as caught:
        parse_profile(profile_id, data)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_an_empty_profile_is_allowed_and_typed_nowhere() -> None:
    profile = parse_profile("EMPTY", {})
    assert profile.typed_loci == ()
    assert profile.sex_from_amelogenin() is None


def test_profile_constructor_normalises_and_checks() -> None:
    profile = Profile("A", {"vwa": Genotype("15", "16")}, "XY")
    assert profile.typed_loci == ("vWA",)
    with pytest.raises(KinshipInputError, match="gives locus vWA twice"):
        Profile("A", {"vwa": Genotype("15", "16"), "VWA": Genotype("15", "16")})
    with pytest.raises(KinshipInputError, match="give amelogenin as 'amelogenin'"):
        Profile("A", {"AMEL": Genotype("1", "2")})


def test_parse_profiles_keeps_input_order() -> None:
    profiles = parse_profiles(
        {"ALLEGED": {"D3S1358": ["15", "16"]}, "UNKNOWN": {"D3S1358": ["15", "15"]}}
    )
    assert list(profiles) == ["ALLEGED", "UNKNOWN"]
    assert profiles["UNKNOWN"].genotype("D3S1358") == Genotype("15", "15")
    with pytest.raises(KinshipInputError, match="profiles must map profile ids"):
        parse_profiles([])  # type: ignore[arg-type]


def test_alleles_by_locus_collects_every_allele_seen() -> None:
    profiles = [
        parse_profile("A", {"D3S1358": ["15", "16"], "TH01": ["9.3"]}),
        parse_profile("B", {"D3S1358": ["14", "16"], "TH01": ["10", "6"]}),
    ]
    assert alleles_by_locus(profiles) == {
        "TH01": ["6", "9.3", "10"],
        "D3S1358": ["14", "15", "16"],
    }


def test_fragment_length_locus_in_a_profile() -> None:
    profile = parse_profile("P", {"D11S554": ["212", "0334"], "APOAI1": [267]})
    assert profile.genotype("D11S554") == Genotype("212", "334")
    assert profile.genotype("apoa1") == Genotype("267", "267")


def test_error_messages_are_one_line() -> None:
    error = KinshipInputError("first line\nsecond   line")
    assert str(error) == "first line second line"
    assert isinstance(error, ValueError)
