"""The exact pedigree engine against the brute-force reference, and its properties."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from reunite.kinship import (
    KinshipInputError,
    LocusFrequencies,
    MutationModel,
    Pedigree,
    Person,
    frequencies_for,
    load_table,
    parse_mutation,
    parse_profile,
    relationship_pedigree,
)
from reunite.kinship.likelihood import (
    MAX_JOINT_FOUNDERS,
    genotype_index,
    likelihoods,
    locus_data,
    locus_likelihood,
    pedigree_lr,
    unordered,
)
from reunite.kinship.pairwise import pairwise_lr
from reunite.kinship.plan import genotype_tables
from reunite.kinship.profiles import Genotype, Profile
from tests.unit.kinship.reference import brute_force_likelihood, brute_force_lr

ALLELES = ("12", "13", "14", "15.2")
MODELS = [
    None,
    MutationModel("equal", 0.05),
    MutationModel("proportional", 0.03),
    MutationModel("stepwise", 0.02, 0.001, 0.3),
    MutationModel("stepwise", 0.05, 0.0, 0.5),
]
LOOP = Pedigree(
    (
        Person("F", "M"),
        Person("M1", "F"),
        Person("M2", "F"),
        Person("A", "M", "M1", "F"),
        Person("B", "F", "M2", "F"),
        Person("C", "M", "B", "A"),
    )
)
PEDIGREES = [
    *(relationship_pedigree(name)[0] for name in ("parent-child", "full-siblings", "grandparent")),
    relationship_pedigree("half-siblings")[0],
    Pedigree(
        (
            Person("FA", "M"),
            Person("MO", "F"),
            Person("C", "M", "MO", "FA"),
            Person("D", "F", "MO", "FA"),
        )
    ),
    LOOP,
]


def _alleles(pedigree: Pedigree) -> tuple[str, ...]:
    """Few enough alleles for the brute force (16^4, 9^5 and 4^6 assignments)."""
    return ALLELES[: {4: 4, 5: 3}.get(len(pedigree), 2 if len(pedigree) > 5 else 4)]


def _freqs(rng: random.Random, alleles: tuple[str, ...] = ALLELES) -> LocusFrequencies:
    values = np.array([rng.random() + 0.1 for _ in alleles])
    return LocusFrequencies("D3S1358", alleles, values / values.sum(), "test")


def _genotype(rng: random.Random, alleles: tuple[str, ...] = ALLELES) -> Genotype:
    a, b = sorted((rng.choice(alleles), rng.choice(alleles)), key=float)
    return Genotype(a, b)


def _matrix(model: MutationModel | None, freqs: LocusFrequencies) -> np.ndarray | None:
    return None if model is None else model.matrix(freqs.alleles, freqs.frequencies)


@pytest.mark.parametrize("seed", range(30))
def test_likelihood_equals_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(4):
        pedigree = rng.choice(PEDIGREES)
        alleles = _alleles(pedigree)
        ids = list(pedigree.ids)
        typed = rng.sample(ids, rng.randint(1, min(3, len(ids))))
        genotypes = {person: _genotype(rng, alleles) for person in typed}
        freqs = _freqs(rng, alleles)
        theta = rng.choice([0.0, 0.02, 0.1])
        model = rng.choice(MODELS)
        expected = brute_force_likelihood(
            pedigree, genotypes, alleles, freqs.frequencies.tolist(), theta, _matrix(model, freqs)
        )
        for lump in (True, False):
            got = locus_likelihood(pedigree, genotypes, freqs, theta, model, lump=lump)
            assert got == pytest.approx(expected, rel=1e-11, abs=1e-300)


@pytest.mark.parametrize("seed", range(12))
def test_free_persons_tabulate_every_genotype(seed: int) -> None:
    rng = random.Random(100 + seed)
    pedigree = rng.choice(PEDIGREES[:3])
    ids = list(pedigree.ids)
    free = rng.sample(ids, rng.randint(1, 2))
    rest = [person for person in ids if person not in free]
    typed = rng.sample(rest, rng.randint(1, min(2, len(rest))))
    genotypes = {person: _genotype(rng) for person in typed}
    freqs = _freqs(rng)
    theta = rng.choice([0.0, 0.05])
    model = rng.choice(MODELS)
    table = likelihoods(
        pedigree, [locus_data(freqs, genotypes, model, lump=False)], theta, free=free
    )[0]
    for axis in range(len(free)):
        table = unordered(table, axis)
    for _ in range(4):
        extra = {person: _genotype(rng) for person in free}
        expected = brute_force_likelihood(
            pedigree,
            {**genotypes, **extra},
            ALLELES,
            freqs.frequencies.tolist(),
            theta,
            _matrix(model, freqs),
        )
        index = tuple(
            genotype_index(*(ALLELES.index(a) for a in extra[person].alleles)) for person in free
        )
        assert table[index] == pytest.approx(expected, rel=1e-11, abs=1e-300)


@pytest.mark.parametrize("seed", range(10))
def test_lr_equals_brute_force_lr(seed: int) -> None:
    rng = random.Random(200 + seed)
    pedigree, relative, missing = relationship_pedigree(
        rng.choice(["parent-child", "full-siblings", "grandparent"])
    )
    alleles = _alleles(pedigree.with_founder("X"))
    freqs = _freqs(rng, alleles)
    theta = rng.choice([0.0, 0.03])
    model = rng.choice(MODELS)
    reference, unknown = _genotype(rng, alleles), _genotype(rng, alleles)
    expected = brute_force_lr(
        pedigree,
        missing,
        {relative: reference},
        unknown,
        alleles,
        freqs.frequencies.tolist(),
        theta,
        _matrix(model, freqs),
    )
    spec = parse_mutation(None if model is None else {**model.as_dict(), "range": model.range_})
    result = pedigree_lr(
        pedigree,
        missing,
        {relative: Profile("R", {"D3S1358": reference})},
        Profile("U", {"D3S1358": unknown}),
        {"D3S1358": freqs},
        theta,
        spec,
    )
    assert result.per_locus["D3S1358"] == pytest.approx(expected, rel=1e-11)


# --------------------------------------------------------------------------- with real tables


def _family(seed: int) -> tuple[dict[str, Profile], object]:
    table = load_table("nist_us_caucasian")
    rng = np.random.default_rng(seed)
    loci = list(table.loci)[:15]

    def founder() -> dict[str, list[str]]:
        out = {}
        for locus in loci:
            f = table.loci[locus]
            out[locus] = list(rng.choice(f.alleles, 2, p=f.frequencies / f.frequencies.sum()))
        return out

    mother, father = founder(), founder()
    child = {locus: [mother[locus][rng.integers(2)], father[locus][1]] for locus in loci}
    profiles = {
        "MO": parse_profile("MO", mother),
        "FA": parse_profile("FA", father),
        "U": parse_profile("U", child),
    }
    return profiles, frequencies_for(profiles.values(), table)


TRIO = Pedigree.from_spec(
    [
        {"id": "MO", "sex": "F"},
        {"id": "FA", "sex": "M"},
        {"id": "MP", "sex": "M", "mother": "MO", "father": "FA"},
    ]
)


@pytest.mark.parametrize("relationship", ["parent-child", "full-siblings", "half-siblings"])
@pytest.mark.parametrize("theta", [0.0, 0.05])
def test_one_typed_relative_equals_the_pairwise_lr(relationship: str, theta: float) -> None:
    profiles, freqs = _family(7)
    pedigree, a, b = relationship_pedigree(relationship)
    by_pedigree = pedigree_lr(pedigree, b, {a: profiles["FA"]}, profiles["U"], freqs, theta)
    by_kappa = pairwise_lr(profiles["FA"], profiles["U"], freqs, relationship, theta)
    assert by_pedigree.per_locus.keys() == by_kappa.per_locus.keys()
    for locus, value in by_kappa.per_locus.items():
        assert by_pedigree.per_locus[locus] == pytest.approx(value, rel=1e-12)
    assert by_pedigree.log10_lr == pytest.approx(by_kappa.log10_lr, rel=1e-12)


def test_a_zero_mutation_rate_is_no_mutation() -> None:
    profiles, freqs = _family(8)
    refs = {"MO": profiles["MO"], "FA": profiles["FA"]}
    plain = pedigree_lr(TRIO, "MP", refs, profiles["U"], freqs, 0.02)
    zero = pedigree_lr(
        TRIO,
        "MP",
        refs,
        profiles["U"],
        freqs,
        0.02,
        parse_mutation({"model": "stepwise", "rate": 0.0, "rate2": 0.0, "range": 0.1}),
    )
    assert zero.lr == pytest.approx(plain.lr, rel=1e-12)


def test_untyped_descendants_and_strangers_change_nothing() -> None:
    profiles, freqs = _family(9)
    refs = {"MO": profiles["MO"], "FA": profiles["FA"]}
    mutation = parse_mutation({"model": "stepwise", "rate": 0.002, "rate2": 1e-6, "range": 0.1})
    base = pedigree_lr(TRIO, "MP", refs, profiles["U"], freqs, 0.03, mutation)
    bigger = Pedigree(
        (
            *TRIO.persons,
            Person("SP", "F"),
            Person("GC", "M", "SP", "MP"),
            Person("SIB", "F", "MO", "FA"),
            Person("STRANGER", "M"),
        )
    )
    more = pedigree_lr(bigger, "MP", refs, profiles["U"], freqs, 0.03, mutation)
    assert more.lr == pytest.approx(base.lr, rel=1e-12)


def test_untyped_ancestors_change_nothing_without_mutation() -> None:
    profiles, freqs = _family(10)
    refs = {"FA": profiles["FA"]}
    base = pedigree_lr(TRIO, "MP", refs, profiles["U"], freqs, 0.03)
    with_grandparents = Pedigree(
        (
            Person("GF", "M"),
            Person("GM", "F"),
            Person("MO", "F"),
            Person("FA", "M", "GM", "GF"),
            Person("MP", "M", "MO", "FA"),
        )
    )
    more = pedigree_lr(with_grandparents, "MP", refs, profiles["U"], freqs, 0.03)
    assert more.lr == pytest.approx(base.lr, rel=1e-12)


@pytest.mark.parametrize("theta", [0.0, 0.04])
def test_the_mean_lr_of_unrelated_persons_is_one(theta: float) -> None:
    """E[LR | H2] = Σ_g P(g | H2) · LR(g) = 1 exactly, over every genotype of every locus."""
    profiles, freqs = _family(11)
    mutation = parse_mutation({"model": "stepwise", "rate": 0.005, "rate2": 1e-5, "range": 0.2})
    tables = genotype_tables(TRIO, "MP", {"MO": profiles["MO"]}, freqs, theta, mutation)
    assert len(tables) == 15
    for table in tables.values():
        p2 = table.h2 / table.h2.sum()
        mean = float(np.sum(p2 * table.h1 / table.h2))
        assert mean == pytest.approx(1.0, rel=1e-12)


def test_an_exclusion_without_mutation_and_its_lift_with_mutation() -> None:
    freqs = {"vWA": LocusFrequencies("vWA", ("14", "15", "16", "17"), [0.1, 0.2, 0.3, 0.4], "t")}
    father = Profile("FA", {"vWA": Genotype("14", "15")})
    child = Profile("U", {"vWA": Genotype("16", "17")})
    pedigree, a, b = relationship_pedigree("parent-child")
    excluded = pedigree_lr(pedigree, b, {a: father}, child, freqs)
    assert excluded.lr == 0.0 and excluded.log10_lr is None
    assert any("LR 0" in note for note in excluded.notes)
    lifted = pedigree_lr(
        pedigree,
        b,
        {a: father},
        child,
        freqs,
        0.0,
        parse_mutation({"model": "equal", "rate": 0.01}),
    )
    assert 0.0 < lifted.lr < 1.0


# --------------------------------------------------------------------------- bad input


def test_bad_input_is_a_clear_error() -> None:
    profiles, freqs = _family(12)
    refs = {"MO": profiles["MO"]}
    with pytest.raises(KinshipInputError, match="missing person 'NOBODY' is not in the pedigree"):
        pedigree_lr(TRIO, "NOBODY", refs, profiles["U"], freqs)
    with pytest.raises(KinshipInputError, match="cannot also have a reference profile"):
        pedigree_lr(TRIO, "MP", {"MP": profiles["MO"]}, profiles["U"], freqs)
    with pytest.raises(KinshipInputError, match="belongs to nobody in the pedigree"):
        pedigree_lr(TRIO, "MP", {"AUNT": profiles["MO"]}, profiles["U"], freqs)
    with pytest.raises(KinshipInputError, match=r"theta = 0.3 must lie in \[0, 0.25\)"):
        pedigree_lr(TRIO, "MP", refs, profiles["U"], freqs, 0.3)
    male_mother = Profile("MO", dict(profiles["MO"].genotypes), "XY")
    with pytest.raises(KinshipInputError, match="sex conflict"):
        pedigree_lr(TRIO, "MP", {"MO": male_mother}, profiles["U"], freqs)


def test_the_unknown_persons_amelogenin_is_a_note() -> None:
    profiles, freqs = _family(13)
    female = Profile("U", dict(profiles["U"].genotypes), "XX")
    result = pedigree_lr(TRIO, "MP", {"MO": profiles["MO"]}, female, freqs)
    assert any("amelogenin" in note for note in result.notes)


def test_impossible_references_are_refused() -> None:
    freqs = {"vWA": LocusFrequencies("vWA", ("14", "15", "16", "17"), [0.1, 0.2, 0.3, 0.4], "t")}
    refs = {
        "MO": Profile("MO", {"vWA": Genotype("14", "14")}),
        "SIB": Profile("SIB", {"vWA": Genotype("16", "17")}),
    }
    pedigree = Pedigree((*TRIO.persons, Person("SIB", "F", "MO", "FA")))
    with pytest.raises(KinshipInputError, match="impossible in this pedigree"):
        pedigree_lr(pedigree, "MP", refs, Profile("U", {"vWA": Genotype("14", "15")}), freqs)


def test_too_many_untyped_founders_under_theta_is_refused() -> None:
    count = MAX_JOINT_FOUNDERS + 1
    persons = [Person(f"F{i}", "M") for i in range(count)]
    persons += [Person(f"M{i}", "F") for i in range(count)]
    persons += [Person(f"C{i}", "M", f"M{i}", f"F{i}") for i in range(count)]
    pedigree = Pedigree(tuple(persons))
    freqs = LocusFrequencies("vWA", ("14", "15"), [0.4, 0.6], "t")
    genotypes = {f"C{i}": Genotype("14", "15") for i in range(count)}
    with pytest.raises(KinshipInputError, match="beyond the exact engine"):
        locus_likelihood(pedigree, genotypes, freqs, 0.01)
    # θ = 0 has no joint draws, so the same pedigree is fine.
    assert math.isclose(
        locus_likelihood(pedigree, genotypes, freqs, 0.0), (2 * 0.4 * 0.6) ** count, rel_tol=1e-12
    )
