"""The stored form of genotypes, plausibility against population data, digests (no database)."""

from __future__ import annotations

import json

import pytest

from reunite.dna.genotypes import (
    allele_ranges,
    canonical_genotypes,
    canonical_json,
    discordant_loci,
    genotype_digest,
    implausible_alleles,
    is_extension,
)
from reunite.dna.reasons import MESSAGES, describe
from reunite.kinship import KinshipInputError
from reunite.kinship.loci import locus_sort_key


def test_names_alleles_order_and_homozygotes_are_canonical() -> None:
    result = canonical_genotypes(
        {
            "vwa": ["18", "17"],
            "TH01": ["9.30"],
            "penta_e": [12, "12"],
            "D3S1358": ["09", 16],
            "Amelogenin": "X, Y",
            "FGA": [],
            "CSF1PO": None,
        }
    )
    assert result.genotypes == {
        "TH01": ["9.3", "9.3"],
        "vWA": ["17", "18"],
        "D3S1358": ["9", "16"],
        "Penta E": ["12", "12"],
    }
    assert list(result.genotypes) == sorted(result.genotypes, key=locus_sort_key)
    assert result.amelogenin == "XY"
    assert result.locus_count == 4


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param({"D3S1358": ["14", "15", "16"]}, "mixture", id="mixture"),
        pytest.param({"NOTALOCUS": ["1", "2"]}, "unknown locus", id="unknown-locus"),
        pytest.param({"TH01": ["9.12"]}, "microvariant", id="bad-microvariant"),
        pytest.param({"TH01": ["OL"]}, "malformed allele", id="off-ladder"),
        pytest.param({"vWA": ["17"], "VWA": ["18"]}, "given twice", id="locus-twice"),
        pytest.param({"AMEL": "Y"}, "amelogenin", id="amelogenin-without-x"),
    ],
)
def test_what_cannot_be_stored_is_refused_with_a_message_naming_it(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(KinshipInputError) as error:
        canonical_genotypes(data, label="S-1")
    assert message in str(error.value)


def test_population_ranges_cover_every_table() -> None:
    ranges = allele_ranges()
    assert ranges["TH01"][0] <= 5 and ranges["TH01"][1] >= 10
    assert ranges["FGA"][1] >= 44  # the NIST table's 44.2
    assert "AMEL" not in ranges


def test_alleles_far_outside_population_data_are_implausible() -> None:
    low, high = allele_ranges()["TH01"]
    found = implausible_alleles(
        {"TH01": [f"{low - 4:g}", f"{high + 1:g}"], "FGA": ["21", "24"]}, margin=3
    )
    assert [(f.locus, f.allele) for f in found] == [("TH01", f"{low - 4:g}")]
    assert implausible_alleles({"TH01": ["99", "99"]}, margin=3)[0].allele == "99"
    # Loci that no table covers, and loci typed in bases, are not judged.
    assert implausible_alleles({"D11S554": ["900", "900"]}, margin=3) == []


def test_discordance_and_extension() -> None:
    stored = {"TH01": ["6", "7"], "FGA": ["21", "22"]}
    assert discordant_loci(stored, {"TH01": ["6", "7"], "vWA": ["17", "17"]}) == []
    assert discordant_loci(stored, {"TH01": ["6", "8"], "FGA": ["21", "22"]}) == ["TH01"]
    assert is_extension(stored, {"TH01": ["6", "7"], "vWA": ["17", "17"]})
    assert not is_extension(stored, {"TH01": ["6", "7"]})
    assert not is_extension(stored, {"TH01": ["6", "8"], "vWA": ["17", "17"]})


def test_the_digest_is_keyed_and_equal_only_for_equal_genotypes(settings: object) -> None:
    a = {"TH01": ["6", "7"], "FGA": ["21", "22"]}
    b = {"TH01": ["6", "7"], "FGA": ["21", "23"]}
    assert genotype_digest(a) == genotype_digest(dict(a))
    assert genotype_digest(a) != genotype_digest(b)
    assert json.loads(canonical_json(a)) == a
    first = genotype_digest(a)
    settings.FIELD_ENCRYPTION_KEYS = ["another-key", *settings.FIELD_ENCRYPTION_KEYS]  # type: ignore[attr-defined]
    assert genotype_digest(a) != first  # without the key, the digest says nothing


def test_every_reason_has_a_message_and_unknown_codes_show_as_is() -> None:
    assert describe("mixture", {"locus": "TH01", "count": 3}).startswith("3 different alleles")
    assert describe("discordant", {"profile": "P-1", "loci": ["TH01", "FGA"]}).endswith(
        "TH01, FGA."
    )
    assert describe("amelogenin_sex", {"sex": "M"}).endswith("(Male).")
    assert describe("not_received", {"status": "in_transit"}).find("Handed over") > 0
    assert describe("no-such-code") == "no-such-code"
    assert describe("saved", {}) == str(MESSAGES["saved"])  # missing params: the template
