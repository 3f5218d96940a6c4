"""The θ correction's reductions (partition orbits, the unrelated founder's draws taken last)
against the plain sum over every set partition, and against the brute-force reference."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from reunite.kinship import (
    CODIS_CORE_LOCI,
    LocusFrequencies,
    MutationModel,
    Pedigree,
    Person,
    frequencies_for,
    load_table,
)
from reunite.kinship.likelihood import (
    UNRELATED_ID,
    _likelihoods,
    _orbits,
    _partitions,
    genotype_index,
    locus_data,
)
from reunite.kinship.mutation import MutationSpec
from reunite.kinship.plan import genotype_tables
from reunite.kinship.profiles import Genotype, Profile
from tests.unit.kinship.reference import brute_force_likelihood

THETAS = (0.01, 0.05, 0.2)
MODELS = [
    None,
    MutationModel("equal", 0.05),
    MutationModel("proportional", 0.03),
    MutationModel("stepwise", 0.02, 0.001, 0.3),
    MutationModel("stepwise", 0.002, 1e-6, 0.1),
]
ALLELES = ("12", "13", "14", "15.2", "16", "17")
SIBLINGS = Pedigree(
    (
        Person("FA", "M"),
        Person("MO", "F"),
        Person("S1", "M", "MO", "FA"),
        Person("S2", "F", "MO", "FA"),
        Person("X", "M", "MO", "FA"),
    )
)
HALF_SIBLINGS = Pedigree(
    (
        Person("F", "M"),
        Person("M1", "F"),
        Person("M2", "F"),
        Person("A", "M", "M1", "F"),
        Person("X", "F", "M2", "F"),
    )
)
LOOP = Pedigree(
    (
        Person("F", "M"),
        Person("M1", "F"),
        Person("M2", "F"),
        Person("A", "M", "M1", "F"),
        Person("B", "F", "M2", "F"),
        Person("X", "M", "B", "A"),
    )
)
GENERATIONS = Pedigree(
    (
        Person("GF", "M"),
        Person("GM", "F"),
        Person("FA", "M", "GM", "GF"),
        Person("UN", "M", "GM", "GF"),
        Person("MO", "F"),
        Person("X", "M", "MO", "FA"),
    )
)
PEDIGREES = {
    "siblings": SIBLINGS,
    "half-siblings": HALF_SIBLINGS,
    "loop": LOOP,
    "generations": GENERATIONS,
}


def _freqs(rng: random.Random, count: int) -> LocusFrequencies:
    alleles = ALLELES[:count]
    values = np.array([rng.random() + 0.05 for _ in alleles])
    return LocusFrequencies("D3S1358", alleles, values / values.sum(), "test")


def _genotype(rng: random.Random, alleles: tuple[str, ...]) -> Genotype:
    a, b = sorted((rng.choice(alleles), rng.choice(alleles)), key=float)
    return Genotype(a, b)


def _batch(
    rng: random.Random, typed: list[str], model: MutationModel | None
) -> list[tuple[LocusFrequencies, dict[str, Genotype]]]:
    """Loci of different sizes (so the batch is padded) with the same typed persons."""
    loci = []
    for _ in range(3):
        freqs = _freqs(rng, rng.randint(2, 5))
        loci.append((freqs, {person: _genotype(rng, freqs.alleles) for person in typed}))
    return loci


def _both(
    pedigree: Pedigree,
    loci: list[tuple[LocusFrequencies, dict[str, Genotype]]],
    model: MutationModel | None,
    theta: float,
    free: tuple[str, ...],
) -> tuple[np.ndarray, np.ndarray]:
    batch = [locus_data(freqs, genotypes, model, lump=False) for freqs, genotypes in loci]
    fast = _likelihoods(pedigree, batch, theta, free)
    every = _likelihoods(pedigree, batch, theta, free, exhaustive=True)
    return fast, every


def _untyped(pedigree: Pedigree, typed: list[str]) -> list[str]:
    return [person for person in pedigree.ids if person not in typed and person != "X"]


@pytest.mark.parametrize("theta", THETAS)
@pytest.mark.parametrize("seed", range(10))
def test_reductions_equal_every_partition(seed: int, theta: float) -> None:
    """H1 (the missing person free), H2 (an unrelated founder free, with or without another
    free person, in either order) and plain likelihoods agree with the sum over every set
    partition to 1e-12, for every mutation model."""
    rng = random.Random(seed * 7 + round(theta * 1000))
    for name, pedigree in PEDIGREES.items():
        ids = [person for person in pedigree.ids if person != "X"]
        while True:  # at most two untyped family founders: Bell(6) partitions for the check
            typed = rng.sample(ids, rng.randint(1, min(3, len(ids) - 1)))
            if sum(f not in typed for f in pedigree.founders()) <= 2:
                break
        model = rng.choice(MODELS)
        loci = _batch(rng, typed, model)
        unrelated = pedigree.with_founder(UNRELATED_ID)
        spare = rng.choice(_untyped(pedigree, typed))
        cases = [
            (pedigree, ()),
            (pedigree, ("X",)),
            (unrelated, (UNRELATED_ID,)),
            (unrelated, (spare, UNRELATED_ID)),
            (unrelated, (UNRELATED_ID, "X")),
        ]
        for graph, free in cases:
            fast, every = _both(graph, loci, model, theta, free)
            assert fast.shape == every.shape, (name, free)
            np.testing.assert_allclose(fast, every, rtol=1e-12, atol=0.0, err_msg=f"{name} {free}")


@pytest.mark.parametrize("theta", THETAS)
def test_two_unrelated_founders_free(theta: float) -> None:
    """Two free founders without descendants: one is taken last, the other stays a draw."""
    rng = random.Random(round(theta * 1000))
    pedigree = SIBLINGS.with_founder(UNRELATED_ID).with_founder("V", "F")
    for model in MODELS:
        loci = _batch(rng, ["FA", "S1", "S2"], model)
        for free in ((UNRELATED_ID, "V"), ("V", UNRELATED_ID), ("V", "X", UNRELATED_ID)):
            fast, every = _both(pedigree, loci, model, theta, free)
            np.testing.assert_allclose(fast, every, rtol=1e-12, atol=0.0, err_msg=str(free))


@pytest.mark.parametrize("theta", THETAS)
def test_the_unrelated_founder_alone(theta: float) -> None:
    """Every family founder typed: the unrelated founder's draws are the only untyped ones."""
    rng = random.Random(3)
    pedigree = SIBLINGS.with_founder(UNRELATED_ID)
    for model in MODELS:
        loci = _batch(rng, ["FA", "MO", "S1"], model)
        fast, every = _both(pedigree, loci, model, theta, (UNRELATED_ID,))
        np.testing.assert_allclose(fast, every, rtol=1e-12, atol=0.0)


def _tables_by_brute_force(
    pedigree: Pedigree,
    refs: dict[str, Genotype],
    freqs: LocusFrequencies,
    theta: float,
    model: MutationModel | None,
) -> tuple[np.ndarray, np.ndarray]:
    matrix = None if model is None else model.matrix(freqs.alleles, freqs.frequencies)
    p = freqs.frequencies.tolist()
    n = len(freqs.alleles)
    h1 = np.zeros(n * (n + 1) // 2)
    h2 = np.zeros_like(h1)
    unrelated = pedigree.with_founder(UNRELATED_ID)
    for i in range(n):
        for j in range(i, n):
            g = Genotype(freqs.alleles[i], freqs.alleles[j])
            h1[genotype_index(i, j)] = brute_force_likelihood(
                pedigree, {**refs, "X": g}, freqs.alleles, p, theta, matrix
            )
            h2[genotype_index(i, j)] = brute_force_likelihood(
                unrelated, {**refs, UNRELATED_ID: g}, freqs.alleles, p, theta, matrix
            )
    return h1, h2


@pytest.mark.parametrize("theta", THETAS)
@pytest.mark.parametrize("name", ["siblings", "half-siblings"])
def test_genotype_tables_equal_brute_force(name: str, theta: float) -> None:
    """The H1 and H2 tables of every genotype of the missing person, with θ and mutation, equal
    plain enumeration over every allele assignment."""
    rng = random.Random(len(name) + round(theta * 100))
    pedigree = PEDIGREES[name]
    typed = ["S1", "S2"] if name == "siblings" else ["A"]
    for model in (None, MutationModel("stepwise", 0.02, 0.001, 0.3)):
        freqs = _freqs(rng, 3)
        refs = {person: _genotype(rng, freqs.alleles) for person in typed}
        spec = MutationSpec(default=model) if model is not None else None
        tables = genotype_tables(
            pedigree,
            "X",
            {person: Profile(person, {"D3S1358": g}) for person, g in refs.items()},
            {"D3S1358": freqs},
            theta,
            spec,
        )
        h1, h2 = _tables_by_brute_force(pedigree, refs, freqs, theta, model)
        np.testing.assert_allclose(tables["D3S1358"].h1, h1, rtol=1e-11, atol=1e-300)
        np.testing.assert_allclose(tables["D3S1358"].h2, h2, rtol=1e-11, atol=1e-300)


def test_two_sibling_families_on_real_frequencies() -> None:
    """The benchmark's family (two typed full siblings, 20 CODIS loci, stepwise mutation) gives
    the same tables with and without the reductions."""
    table = load_table("han_chinese")
    loci = [locus for locus in CODIS_CORE_LOCI if locus in table.loci]
    model = MutationModel("stepwise", 0.002, 1e-6, 0.1)
    rng = np.random.default_rng(11)
    unrelated = SIBLINGS.with_founder(UNRELATED_ID)
    for theta in (0.01, 0.05):
        drawn: dict[str, dict[str, Genotype]] = {"S1": {}, "S2": {}}
        for locus in loci:
            shipped = table.loci[locus]
            weights = shipped.frequencies / shipped.frequencies.sum()
            for person in drawn:
                a, b = sorted(rng.choice(len(shipped.alleles), 2, p=weights))
                drawn[person][locus] = Genotype(shipped.alleles[a], shipped.alleles[b])
        case = frequencies_for([Profile(person, g) for person, g in drawn.items()], table)
        batch = [
            locus_data(case.loci[locus], {p: drawn[p][locus] for p in drawn}, model, lump=False)
            for locus in loci
        ]
        for pedigree, free in ((SIBLINGS, ("X",)), (unrelated, (UNRELATED_ID,))):
            fast = _likelihoods(pedigree, batch, theta, free)
            every = _likelihoods(pedigree, batch, theta, free, exhaustive=True)
            np.testing.assert_allclose(fast, every, rtol=1e-12, atol=0.0)


@pytest.mark.parametrize("k", range(7))
def test_orbits_cover_every_partition_once(k: int) -> None:
    bell = len(_partitions(k))
    assert bell == [1, 1, 2, 5, 15, 52, 203][k]
    assert [orbit.blocks for orbit in _orbits(k, ())] == list(_partitions(k))
    swaps = tuple((2 * i, 2 * i + 1) for i in range(k // 2))
    orbits = _orbits(k, swaps)
    assert sum(orbit.size for orbit in orbits) == bell
    for orbit in orbits:
        blocks = len(orbit.blocks)
        assert sum(count for _, count in orbit.block_orbits) == blocks
        assert sum(count for _, count in orbit.pair_orbits) == math.comb(blocks, 2)
        if blocks >= 2:
            members = {b for pair, _ in orbit.pair_orbits for b in pair}
            assert all(member in members for member, _ in orbit.block_orbits)
