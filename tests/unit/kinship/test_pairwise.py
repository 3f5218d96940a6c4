"""Pairwise LRs from κ with θ (reunite.kinship.pairwise) against the brute-force reference.

The reference (tests/unit/kinship/reference.py) enumerates every allele assignment of the smallest
pedigree of each relationship, with all founder alleles drawn jointly by Balding–Nichols; its
untyped persons sum out. It is slow, so the allele set shrinks as the pedigree grows: four alleles
for parent–child, full siblings and unrelated (at most 5 persons under H2), three for half
siblings and grandparent (6 persons), two for avuncular (7) and first cousins (9), plus one
three-allele avuncular case (a/b vs a/c) that needs three alleles.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence

import numpy as np
import pytest

from reunite.kinship import (
    RELATIONSHIPS,
    Genotype,
    KinshipInputError,
    LocusFrequencies,
    Profile,
    frequencies_for,
    load_table,
    relationship_pedigree,
)
from reunite.kinship.pairwise import KAPPA, PairwiseResult, kappa_of, locus_lr, pairwise_lr
from tests.unit.kinship.reference import brute_force_lr

THETAS = (0.0, 0.01, 0.05)


def close(value: float, expected: float, rel: float = 1e-12) -> bool:
    return value == pytest.approx(expected, rel=rel, abs=0.0)


def locus(alleles: Sequence[str], freqs: Sequence[float]) -> LocusFrequencies:
    return LocusFrequencies("D3S1358", tuple(alleles), np.array(freqs), "test")


A4, P4 = ("10", "11", "12", "13"), (0.1, 0.2, 0.3, 0.4)
A3, P3 = ("10", "11", "12"), (0.15, 0.35, 0.5)
A2, P2 = ("10", "11"), (0.35, 0.65)


def g(text: str) -> Genotype:
    first, second = text.split("/")
    return Genotype(first, second)


# Homozygotes and heterozygotes sharing 0, 1 or 2 alleles (a = 10, b = 11, c = 12, d = 13).
CORPUS4 = [
    ("10/11", "10/11"),
    ("10/10", "10/10"),
    ("10/11", "10/12"),
    ("10/10", "10/11"),
    ("10/11", "10/10"),
    ("12/13", "11/13"),
    ("10/11", "12/13"),
    ("10/11", "12/12"),
    ("10/10", "11/11"),
    ("13/13", "11/12"),
]
CORPUS3 = [
    ("10/11", "10/11"),
    ("10/10", "10/10"),
    ("10/11", "10/12"),
    ("10/10", "10/11"),
    ("11/12", "12/12"),
    ("10/11", "12/12"),
    ("10/10", "11/12"),
    ("10/10", "11/11"),
]
CORPUS2 = [(x, y) for x in ("10/10", "10/11", "11/11") for y in ("10/10", "10/11", "11/11")]

CASES = (
    [
        (rel, A4, P4, pair)
        for rel in ("parent-child", "full-siblings", "unrelated")
        for pair in CORPUS4
    ]
    + [(rel, A3, P3, pair) for rel in ("half-siblings", "grandparent") for pair in CORPUS3]
    + [(rel, A2, P2, pair) for rel in ("avuncular", "first-cousins") for pair in CORPUS2]
    + [("avuncular", A3, P3, ("10/11", "10/12"))]
)


def test_the_corpus_covers_every_relationship() -> None:
    assert {case[0] for case in CASES} == set(RELATIONSHIPS) == set(KAPPA)


@pytest.mark.parametrize("theta", THETAS)
@pytest.mark.parametrize(("relationship", "alleles", "freqs", "pair"), CASES)
def test_locus_lr_equals_the_brute_force_pedigree_enumeration(
    relationship: str,
    alleles: Sequence[str],
    freqs: Sequence[float],
    pair: tuple[str, str],
    theta: float,
) -> None:
    ped, a, b = relationship_pedigree(relationship)
    genotype_a, genotype_b = g(pair[0]), g(pair[1])
    expected = brute_force_lr(ped, b, {a: genotype_a}, genotype_b, alleles, freqs, theta)
    value = locus_lr(genotype_a, genotype_b, locus(alleles, freqs), relationship, theta)
    if expected == 0.0:
        assert value == 0.0
    else:
        assert close(value, expected)


# -- textbook closed forms ---------------------------------------------------------------------

pa, pb, pc, pd = P4
F4 = locus(A4, P4)


def test_paternity_indices() -> None:
    # Child a/b, alleged parent a/c: 1/(4 p_a); a/a with a/a: 1/p_a; parent a/b, child a/a:
    # 1/(2 p_a); a/b with a/b: (p_a + p_b)/(4 p_a p_b); nothing shared: an exclusion.
    assert close(locus_lr(g("10/12"), g("10/11"), F4, "parent-child"), 1 / (4 * pa))
    assert close(locus_lr(g("10/10"), g("10/10"), F4, "parent-child"), 1 / pa)
    assert close(locus_lr(g("10/11"), g("10/10"), F4, "parent-child"), 1 / (2 * pa))
    assert close(locus_lr(g("10/11"), g("10/11"), F4, "parent-child"), (pa + pb) / (4 * pa * pb))
    assert locus_lr(g("10/11"), g("12/13"), F4, "parent-child") == 0.0


def test_full_siblings() -> None:
    # κ = (1/4, 1/2, 1/4): LR = 1/4 + 1/2 · P(B | A, IBD1)/P(B) + 1/4 · [B = A]/P(B).
    assert close(
        locus_lr(g("10/11"), g("10/11"), F4, "full-siblings"),
        0.25 + 0.5 * (pa + pb) / (4 * pa * pb) + 0.25 / (2 * pa * pb),
    )
    assert close(
        locus_lr(g("10/10"), g("10/10"), F4, "full-siblings"),
        0.25 + 0.5 / pa + 0.25 / (pa * pa),
    )
    assert close(locus_lr(g("10/11"), g("10/12"), F4, "full-siblings"), 0.25 + 0.5 / (4 * pa))
    assert close(locus_lr(g("10/11"), g("12/13"), F4, "full-siblings"), 0.25)


@pytest.mark.parametrize("theta", THETAS)
def test_theta_corrected_parent_child(theta: float) -> None:
    # Balding–Nichols paternity indices: parent and child a/a: (1 + 2θ) / (3θ + (1 - θ) p_a);
    # parent a/c, child a/b: (1 + 2θ) / (4 [θ + (1 - θ) p_a]); parent a/b, child a/a:
    # (1 + 2θ) / (2 [2θ + (1 - θ) p_a]).
    t = theta
    assert close(
        locus_lr(g("10/10"), g("10/10"), F4, "parent-child", t),
        (1 + 2 * t) / (3 * t + (1 - t) * pa),
    )
    assert close(
        locus_lr(g("10/12"), g("10/11"), F4, "parent-child", t),
        (1 + 2 * t) / (4 * (t + (1 - t) * pa)),
    )
    assert close(
        locus_lr(g("10/11"), g("10/10"), F4, "parent-child", t),
        (1 + 2 * t) / (2 * (2 * t + (1 - t) * pa)),
    )


@pytest.mark.parametrize("theta", THETAS)
def test_unrelated_is_one(theta: float) -> None:
    for x, y in itertools.product(itertools.combinations_with_replacement(A4, 2), repeat=2):
        assert locus_lr(Genotype(*x), Genotype(*y), F4, "unrelated", theta) == 1.0
        assert locus_lr(Genotype(*x), Genotype(*y), F4, {"kappa": [1, 0, 0]}, theta) == 1.0


# -- properties --------------------------------------------------------------------------------


@pytest.mark.parametrize("theta", THETAS)
@pytest.mark.parametrize(
    "kappa", [*KAPPA.values(), (0.1, 0.6, 0.3), (0.0, 0.0, 1.0), (0.36, 0.48, 0.16)]
)
def test_lr_is_symmetric(kappa: tuple[float, float, float], theta: float) -> None:
    genotypes = [Genotype(*pair) for pair in itertools.combinations_with_replacement(A4, 2)]
    for first, second in itertools.product(genotypes, repeat=2):
        forward = locus_lr(first, second, F4, kappa, theta)
        backward = locus_lr(second, first, F4, kappa, theta)
        assert close(forward, backward)


def test_a_named_relationship_equals_its_kappa() -> None:
    for name, kappa in KAPPA.items():
        spec = {"kappa": list(kappa)}
        assert kappa_of(spec) == kappa_of(name) == kappa
        assert locus_lr(g("10/11"), g("10/12"), F4, spec, 0.03) == locus_lr(
            g("10/11"), g("10/12"), F4, name, 0.03
        )


def test_untyped_locus_gives_one() -> None:
    assert locus_lr(None, g("10/11"), F4, "full-siblings", 0.01) == 1.0
    assert locus_lr(g("10/11"), None, F4, "parent-child") == 1.0


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("cousins", "unknown relationship"),
        ({"kappa": [0.5, 0.5]}, "three numbers"),
        ({"kappa": "0.5,0.5,0"}, "three numbers"),
        ({"kappa": [0.5, True, 0]}, "three numbers"),
        ({"kappa": [1.2, -0.2, 0.0]}, "must lie in [0, 1]"),
        ({"kappa": [float("nan"), 0.5, 0.5]}, "must lie in [0, 1]"),
        ({"kappa": [0.5, 0.5, 0.1]}, "must sum to 1"),
        ({"kappa": [0.5, 0.0, 0.5]}, "IBD triangle"),
        ({"kappa": [0.3, 0.3, 0.4]}, "IBD triangle"),
        ({"kappa": [1, 0, 0], "theta": 0}, "must be {'kappa'"),
        ({"kapa": [1, 0, 0]}, "must be {'kappa'"),
        (42, "three numbers"),
    ],
)
def test_invalid_kappa(spec: object, message: str) -> None:
    with pytest.raises(KinshipInputError, match=message.replace("[", r"\[").replace("(", r"\(")):
        kappa_of(spec)
    with pytest.raises(KinshipInputError):
        locus_lr(g("10/11"), g("10/11"), F4, spec, 0.0)  # type: ignore[arg-type]


def test_kappa_on_the_triangle_boundary_is_accepted() -> None:
    assert kappa_of({"kappa": [0.36, 0.48, 0.16]}) == (0.36, 0.48, 0.16)
    assert kappa_of({"kappa": [0, 0, 1]}) == (0.0, 0.0, 1.0)


@pytest.mark.parametrize("theta", [-0.01, 0.25, 0.3, float("nan"), float("inf"), "0.01", True])
def test_invalid_theta(theta: object) -> None:
    with pytest.raises(KinshipInputError, match="theta"):
        locus_lr(g("10/11"), g("10/11"), F4, "full-siblings", theta)  # type: ignore[arg-type]
    with pytest.raises(KinshipInputError, match="theta"):
        pairwise_lr(Profile("A"), Profile("B"), {}, "full-siblings", theta)  # type: ignore[arg-type]


def test_allele_without_frequency() -> None:
    with pytest.raises(KinshipInputError, match="frequencies_for, which adds missing alleles"):
        locus_lr(g("10/11"), g("10/14"), F4, "full-siblings")


# -- whole profiles ----------------------------------------------------------------------------


def random_profile(
    person: str, rng: random.Random, table_loci: dict[str, LocusFrequencies]
) -> Profile:
    genotypes = {}
    for name, freqs in table_loci.items():
        weights = freqs.frequencies.tolist()
        first, second = rng.choices(freqs.alleles, weights=weights, k=2)
        genotypes[name] = Genotype(first, second)
    return Profile(person, genotypes, "XY")


def twenty_loci() -> dict[str, LocusFrequencies]:
    table = load_table("east_asia_norstr")
    names = sorted(table.loci)[:20]
    return {name: table.loci[name] for name in names}


@pytest.mark.parametrize("relationship", ["full-siblings", "half-siblings", "first-cousins"])
@pytest.mark.parametrize("theta", [0.0, 0.03])
def test_twenty_loci_from_a_shipped_table(relationship: str, theta: float) -> None:
    loci = twenty_loci()
    assert len(loci) == 20
    rng = random.Random(20240607)
    one = random_profile("REF", rng, loci)
    # A sibling-like second profile: one allele taken from the first at each locus.
    genotypes = {}
    for name, genotype in one.genotypes.items():
        freqs = loci[name]
        other = rng.choices(freqs.alleles, weights=freqs.frequencies.tolist(), k=1)[0]
        genotypes[name] = Genotype(rng.choice(genotype.alleles), other)
    two = Profile("UNKNOWN", genotypes, "XX")
    case = frequencies_for([one, two], "east_asia_norstr")
    result = pairwise_lr(one, two, case, relationship, theta)
    assert isinstance(result, PairwiseResult)
    assert list(result.per_locus) == [name for name in one.genotypes if name in case.loci]
    assert len(result.per_locus) == 20
    assert math.isfinite(result.lr) and result.lr > 0
    product = math.prod(result.per_locus.values())
    assert close(result.lr, product, rel=1e-9)
    assert result.log10_lr is not None
    assert result.log10_lr == pytest.approx(math.log10(result.lr), rel=1e-12, abs=1e-12)
    assert result.notes == []
    for name, value in result.per_locus.items():
        expected = locus_lr(
            one.genotypes[name], two.genotypes[name], case.loci[name], relationship, theta
        )
        # The compiled kernel adds the same terms in another order: equal to the last bits.
        assert value == pytest.approx(expected, rel=1e-14)
    # The same with the plain mapping, and with the persons swapped.
    assert pairwise_lr(one, two, dict(case.loci), relationship, theta).lr == result.lr
    assert close(pairwise_lr(two, one, case, relationship, theta).lr, result.lr, rel=1e-9)


def test_exclusion_gives_zero_and_no_log10() -> None:
    parent = Profile("P", {"D3S1358": g("10/11"), "vWA": g("10/12")})
    child = Profile("C", {"D3S1358": g("12/13"), "vWA": g("10/10")})
    freqs = {"D3S1358": F4, "VWA": locus(A4, P4)}
    result = pairwise_lr(parent, child, freqs, "parent-child", 0.01)
    assert result.lr == 0.0
    assert result.log10_lr is None
    assert result.per_locus["D3S1358"] == 0.0
    assert result.per_locus["vWA"] > 0
    assert any("D3S1358" in note and "LR 0" in note for note in result.notes)
    # Siblings sharing nothing are merely less likely: κ0 at that locus.
    siblings = pairwise_lr(parent, child, freqs, "full-siblings")
    assert siblings.per_locus["D3S1358"] == 0.25
    assert siblings.log10_lr is not None


def test_loci_typed_in_one_profile_or_without_frequencies() -> None:
    one = Profile("A", {"D3S1358": g("10/11"), "vWA": g("10/12"), "FGA": g("20/21")})
    two = Profile("B", {"D3S1358": g("10/11"), "TH01": g("6/7"), "FGA": g("20/20")})
    result = pairwise_lr(one, two, {"D3S1358": F4}, "full-siblings")
    assert list(result.per_locus) == ["D3S1358"]
    assert result.notes == [
        "locus FGA is typed in both profiles but has no frequencies: left out (LR 1)"
    ]
    assert close(result.lr, locus_lr(g("10/11"), g("10/11"), F4, "full-siblings"))


def test_unrelated_profiles_give_exactly_one() -> None:
    loci = twenty_loci()
    rng = random.Random(7)
    one, two = random_profile("A", rng, loci), random_profile("B", rng, loci)
    result = pairwise_lr(
        one, two, frequencies_for([one, two], "east_asia_norstr"), "unrelated", 0.02
    )
    assert result.lr == 1.0
    assert result.log10_lr == 0.0
    assert set(result.per_locus.values()) == {1.0}


def test_pairwise_refuses_non_profiles() -> None:
    with pytest.raises(KinshipInputError, match="Profile"):
        pairwise_lr({"D3S1358": ["10"]}, Profile("B"), {}, "unrelated")  # type: ignore[arg-type]
    with pytest.raises(KinshipInputError, match="unknown relationship"):
        pairwise_lr(Profile("A"), Profile("B"), {}, "siblings")
