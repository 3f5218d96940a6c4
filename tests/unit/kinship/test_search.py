"""The database search: closed forms against the engine, the screen against exhaustive exact
scores, exactness at the threshold, untyped loci, rare alleles, θ and mutation, Dask, bad input."""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pytest

from reunite.kinship import (
    KinshipInputError,
    Pedigree,
    Person,
    frequencies_from_mapping,
    load_table,
    parse_mutation,
)
from reunite.kinship.likelihood import genotype_pairs, pedigree_lr
from reunite.kinship.plan import genotype_tables
from reunite.kinship.profiles import Genotype, Profile
from reunite.kinship.search import (
    HYPOTHESES,
    UNTYPED,
    Family,
    FamilyMatrix,
    Panel,
    ProfileMatrix,
    SearchClusterError,
    encode_families,
    exact_log10_lr,
    expected_false_candidates,
    make_panel,
    search,
    search_dask,
    simulate_unrelated,
)
from reunite.kinship.search_tables import (
    PAIRWISE,
    canonical_pedigree,
    descent_matrix,
    engine_matrix,
    kappa_matrix,
    mutation_for,
    pairwise_matrix,
    parent_child_lr,
    trio_lr,
)

LOCI = ("D3S1358", "vWA", "FGA", "TH01", "TPOX")
ALLELES = ("12", "13", "14", "15", "15.2")
SMALL = frequencies_from_mapping(
    {locus: dict(zip(ALLELES, (0.3, 0.25, 0.2, 0.15, 0.1), strict=True)) for locus in LOCI},
    name="small",
    sample_size=50,
)
STEPWISE = {"model": "stepwise", "rate": 0.01, "rate2": 0.001, "range": 0.2}
#: Hypotheses whose pedigrees have three untyped founders: with θ the engine draws six alleles
#: jointly (~0.1 s a pair), so the exhaustive engine check samples their pairs.
SLOW_WITH_THETA = ("avuncular", "nephew-niece", "half-siblings", "grandchild")
REL = 1e-9


def _close(a: float, b: float) -> bool:
    return a == b or abs(a - b) <= REL * max(abs(a), abs(b))


def _draw(rng: np.random.Generator, pid: str, alleles: tuple[str, ...] = ALLELES) -> Profile:
    p = np.array([0.3, 0.25, 0.2, 0.15, 0.1])[: len(alleles)]
    genotypes = {}
    for locus in LOCI:
        a, b = rng.choice(len(alleles), 2, p=p / p.sum())
        genotypes[locus] = Genotype(*sorted((alleles[a], alleles[b]), key=float))
    return Profile(pid, genotypes)


def _child(rng: np.random.Generator, pid: str, mother: Profile, father: Profile) -> Profile:
    genotypes = {}
    for locus in LOCI:
        a = mother.genotypes[locus].alleles[rng.integers(2)]
        b = father.genotypes[locus].alleles[rng.integers(2)]
        genotypes[locus] = Genotype(*sorted((a, b), key=float))
    return Profile(pid, genotypes)


def _without(profile: Profile, *loci: str) -> Profile:
    return Profile(profile.id, {k: v for k, v in profile.genotypes.items() if k not in loci})


def _engine(panel: Panel, family: Family, unknown: Profile) -> float:
    return pedigree_lr(
        family.pedigree,
        family.missing,
        family.references,
        unknown,
        panel.frequencies,
        panel.theta,
        panel.mutation,
    ).lr


# -- closed forms against the engine ---------------------------------------------------------


@pytest.mark.parametrize(
    ("theta", "mutation"), [(0.0, None), (0.03, None), (0.0, STEPWISE), (0.02, STEPWISE)]
)
@pytest.mark.parametrize("relationship", [*PAIRWISE, "trio"])
def test_every_closed_form_equals_the_engine(
    relationship: str, theta: float, mutation: dict | None
) -> None:
    """Each cell of each table equals pedigree_lr on the canonical pedigree to 1e-9. (First
    cousins with θ > 0 take the engine minutes — eight founder alleles drawn jointly — and are
    checked against the κ sum instead, below.)"""
    if relationship == "first-cousins" and theta > 0.0:
        return
    rng = np.random.default_rng(hash((relationship, theta, mutation is None)) % 2**32)
    panel = make_panel(SMALL, loci=["vWA"], theta=theta, mutation=mutation)
    freqs = panel.frequencies["vWA"]
    p = np.asarray(freqs.frequencies)
    matrix = mutation_for(freqs, panel.mutation.for_locus("vWA"))
    lo, hi = genotype_pairs(len(freqs))
    pedigree, missing, typed = canonical_pedigree(relationship)

    def profile(pid: str, g: int) -> Profile:
        return Profile(pid, {"vWA": Genotype(freqs.alleles[lo[g]], freqs.alleles[hi[g]])})

    if relationship == "trio":
        for _ in range(6):
            m, f, u = (int(x) for x in rng.integers(len(lo), size=3))
            table = trio_lr(p, matrix, theta, (lo[[m]], hi[[m]]), (lo[[f]], hi[[f]]))
            want = pedigree_lr(
                pedigree,
                missing,
                {"MO": profile("MO", m), "FA": profile("FA", f)},
                profile("U", u),
                panel.frequencies,
                theta,
                panel.mutation,
            ).lr
            assert _close(float(table[0, u]), want)
        return
    full = pairwise_matrix(freqs, panel.mutation.for_locus("vWA"), theta, relationship)
    for r, u in rng.integers(len(lo), size=(6, 2)).tolist():
        want = pedigree_lr(
            pedigree,
            missing,
            {typed[0]: profile("R", r)},
            profile("U", u),
            panel.frequencies,
            theta,
            panel.mutation,
        ).lr
        assert _close(float(full[r, u]), want), (r, u)


def test_the_closed_forms_agree_with_each_other_and_the_batched_engine() -> None:
    """Three independent routes to the same matrices: the κ sum, the gene-descent sum and the
    engine batched over reference genotypes; and the parent–child form in both directions."""
    freqs = make_panel(SMALL, loci=["FGA"]).frequencies["FGA"]
    p = np.asarray(freqs.frequencies)
    model = parse_mutation(STEPWISE).for_locus("FGA")
    lo, hi = genotype_pairs(len(freqs))
    for relationship in (
        "full-siblings",
        "half-siblings",
        "grandparent",
        "avuncular",
        "first-cousins",
    ):
        for theta in (0.0, 0.05):
            kappa = kappa_matrix(p, relationship, theta)
            descent = descent_matrix(p, np.eye(len(p)), theta, relationship)
            np.testing.assert_allclose(descent, kappa, rtol=1e-12)
        mutated = descent_matrix(p, mutation_for(freqs, model), 0.0, relationship)
        np.testing.assert_allclose(
            mutated, engine_matrix(freqs, model, 0.0, relationship), rtol=1e-12
        )
    direct = parent_child_lr(p, mutation_for(freqs, model), 0.02, lo, hi)
    np.testing.assert_allclose(
        direct, descent_matrix(p, mutation_for(freqs, model), 0.02, "parent-child"), rtol=1e-12
    )
    # without mutation the parent–child LR is symmetric in the two persons
    plain = parent_child_lr(p, np.eye(len(p)), 0.0, lo, hi)
    np.testing.assert_allclose(plain, plain.T, rtol=1e-12)


# -- families and their shapes ----------------------------------------------------------------


def test_families_are_recognised_whatever_the_ids_and_extra_persons() -> None:
    rng = np.random.default_rng(1)
    mother, father, sib = _draw(rng, "m"), _draw(rng, "f"), _draw(rng, "s")
    assert Family.relative("a", "parent-child", mother).hypothesis == "parent-child"
    assert Family.trio("b", mother, father).hypothesis == "trio"
    # a parent–child family drawn by a user: other ids, an untyped sibling and an unrelated
    # spouse of the reference, none of which changes the LR
    drawn = Pedigree(
        (
            Person("Mum", "F"),
            Person("Dad", "M"),
            Person("Kid", "F", "Mum", "Dad"),
            Person("OtherKid", "M", "Mum", "Dad"),
            Person("Stranger", "M"),
        )
    )
    family = Family("c", drawn, "Kid", {"Mum": Profile("Mum", mother.genotypes, "XX")})
    assert family.hypothesis == "parent-child" and family.slots == ("Mum",)
    sibling = Family("d", drawn, "Kid", {"OtherKid": sib})
    assert sibling.hypothesis == "full-siblings"
    assert Family("e", drawn, "Kid", {"Mum": mother, "Dad": father}).hypothesis == "trio"
    # two typed siblings, or a typed parent with typed parents of its own: the general engine
    both = Family("f", drawn, "Kid", {"OtherKid": sib, "Mum": Profile("Mum", mother.genotypes)})
    assert both.hypothesis == "pedigree"
    deeper = Pedigree(
        (
            Person("GM", "F"),
            Person("GF", "M"),
            Person("Mum", "F", "GM", "GF"),
            Person("Dad", "M"),
            Person("Kid", "F", "Mum", "Dad"),
        )
    )
    assert Family("g", deeper, "Kid", {"Mum": mother, "GM": father}).hypothesis == "pedigree"
    assert Family.relative("h", "avuncular", sib).hypothesis == "avuncular"
    with pytest.raises(KinshipInputError, match="sex conflict"):
        Family.trio("i", Profile("m", mother.genotypes, "XY"), father)
    with pytest.raises(KinshipInputError, match="unknown relationship"):
        Family.relative("j", "cousin", sib)
    with pytest.raises(KinshipInputError, match="at least one typed reference"):
        Family("k", drawn, "Kid", {})


# -- the search against exhaustive exact scores ------------------------------------------------


def _database(
    seed: int, theta: float, mutation: dict | None, strangers: int = 30
) -> tuple[Panel, list[Family], list[Profile]]:
    """Families of every shape (partly typed references, a trio with a parent untyped at a
    locus, two pedigree families) and unknowns with planted relatives and untyped loci."""
    rng = np.random.default_rng(seed)
    families: list[Family] = []
    unknowns: list[Profile] = []
    for i in range(24):
        mother, father = _draw(rng, f"mo{i}"), _draw(rng, f"fa{i}")
        child = _child(rng, f"c{i}", mother, father)
        shape = [*PAIRWISE, "trio"][i % (len(PAIRWISE) + 1)]
        if shape == "first-cousins" and theta > 0.0:
            shape = "grandparent"  # the engine takes minutes for cousins with θ (see above)
        if shape == "trio":
            families.append(Family.trio(f"F{i}", _without(mother, "TPOX"), father))
        elif shape == "parent-child":
            families.append(Family.relative(f"F{i}", shape, _without(mother, "TH01")))
        elif shape == "full-siblings":
            families.append(Family.relative(f"F{i}", shape, _child(rng, "s", mother, father)))
        else:
            families.append(Family.relative(f"F{i}", shape, _draw(rng, "r")))
        unknowns.append(_without(child, "FGA") if i % 3 == 0 else child)
    sibs = Pedigree(
        (Person("P1", "M"), Person("P2", "F"), *(Person(x, "M", "P2", "P1") for x in "ABX"))
    )
    mother, father = _draw(rng, "p2"), _draw(rng, "p1")
    a, b, x = (_child(rng, n, mother, father) for n in "ABX")
    families.append(Family("S1", sibs, "X", {"A": a, "B": b}))
    families.append(Family("S2", sibs, "X", {"A": _without(a, "vWA"), "P2": mother}))
    unknowns.append(x)
    unknowns.extend(_draw(rng, f"u{i}") for i in range(strangers))
    everyone = [*unknowns, *(p for f in families for p in f.references.values())]
    panel = make_panel(SMALL, everyone, loci=LOCI, theta=theta, mutation=mutation)
    return panel, families, unknowns


@pytest.mark.parametrize(("theta", "mutation"), [(0.0, None), (0.02, STEPWISE)])
def test_the_search_finds_exactly_the_pairs_at_or_above_the_threshold(
    theta: float, mutation: dict | None
) -> None:
    panel, family_list, unknown_list = _database(7, theta, mutation, strangers=6)
    families = encode_families(panel, family_list)
    unknowns = panel.encode(unknown_list)
    assert set(families.hypotheses()) | {"first-cousins"} == set(HYPOTHESES)
    # every pair by the single-case engine, the independent reference (one unknown in three
    # for SLOW_WITH_THETA, whose tables are also checked cell by cell above)
    tables = exact_log10_lr(panel, families, unknowns)
    engine = 10.0**tables
    for i, family in enumerate(family_list):
        slow = theta > 0.0 and family.hypothesis in SLOW_WITH_THETA
        for j, unknown in enumerate(unknown_list):
            if not slow or j % 3 == 0:
                engine[i, j] = _engine(panel, family, unknown)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(tables, np.log10(engine), rtol=0, atol=1e-12)
    for threshold in (2.0, 30.0, 1000.0):
        result = search(panel, families, unknowns, threshold, chunk_size=5)
        due = {(f, u) for f, u in zip(*np.nonzero(engine >= threshold), strict=True)}
        got = {(c.family_index, c.unknown_index) for c in result}
        assert got == due and len(result) == len(due)
        for candidate in result:
            want = engine[candidate.family_index, candidate.unknown_index]
            assert _close(candidate.lr, want)
            family = family_list[candidate.family_index]
            assert candidate.family_id == family.id and candidate.hypothesis == family.hypothesis
            assert math.isclose(math.prod(candidate.per_locus.values()), want, rel_tol=1e-9)
        assert list(result.log10_lr) == sorted(result.log10_lr, reverse=True)
    assert (
        search(panel, families, unknowns, 2.0, parallel=False).keys()
        == search(panel, families, unknowns, 2.0).keys()
    )


def test_a_pair_exactly_at_the_threshold_is_kept_and_one_just_below_is_not() -> None:
    panel, family_list, unknown_list = _database(11, 0.0, STEPWISE)
    families = encode_families(panel, family_list)
    unknowns = panel.encode(unknown_list)
    scores = exact_log10_lr(panel, families, unknowns)
    f, u = np.unravel_index(np.argmax(np.where(scores < 6, scores, -np.inf)), scores.shape)
    lr = 10.0 ** scores[f, u]
    at = search(panel, families, unknowns, lr * (1 - 1e-12))
    assert (int(f), int(u)) in {(c.family_index, c.unknown_index) for c in at}
    above = search(panel, families, unknowns, lr * (1 + 1e-9))
    assert (int(f), int(u)) not in {(c.family_index, c.unknown_index) for c in above}


def test_untyped_loci_count_for_nothing() -> None:
    rng = np.random.default_rng(3)
    mother, father = _draw(rng, "m"), _draw(rng, "f")
    child = _child(rng, "c", mother, father)
    family = Family.relative("F", "parent-child", _without(mother, "vWA"))
    panel = make_panel(SMALL, [mother, child], loci=LOCI)
    for unknown in (child, _without(child, "FGA", "TH01"), Profile("empty")):
        result = search(panel, encode_families(panel, [family]), panel.encode([unknown]), 1.0000001)
        expected = pedigree_lr(
            family.pedigree, family.missing, family.references, unknown, panel.frequencies
        )
        typed = set(unknown.genotypes) - {"vWA"}
        if expected.lr >= 1.0000001:
            (candidate,) = result
            assert set(candidate.per_locus) == typed
            assert _close(candidate.lr, expected.lr)
        else:
            assert len(result) == 0
    assert panel.encode([Profile("empty")]).genotypes.tolist() == [[UNTYPED] * len(LOCI)]


def test_a_parent_child_pair_with_a_mutation_is_found_only_with_a_mutation_model() -> None:
    table = load_table("nist_us_caucasian")
    loci = list(table.loci)[:15]
    rng = np.random.default_rng(5)

    def person(pid: str) -> Profile:
        genotypes = {}
        for locus in loci:
            f = table.loci[locus]
            a, b = rng.choice(f.alleles, 2, p=f.frequencies / f.frequencies.sum())
            genotypes[locus] = Genotype(*sorted((a, b), key=float))
        return Profile(pid, genotypes)

    parent, other = person("P"), person("O")
    genotypes = {
        locus: Genotype(
            *sorted((parent.genotypes[locus].first, other.genotypes[locus].second), key=float)
        )
        for locus in loci
    }
    # one step mutation of the transmitted allele at a locus where the child then shares no
    # allele with the parent
    for first in loci:
        shown = parent.genotypes[first]
        stepped = str(int(float(shown.first)) + 1)
        kept = other.genotypes[first].second
        if stepped in table.loci[first] and stepped not in shown and kept not in shown:
            break
    else:  # pragma: no cover - the seed provides one
        raise AssertionError("no locus for a mutation")
    genotypes[first] = Genotype(*sorted((stepped, kept), key=float))
    child = Profile("C", genotypes)
    family = Family.relative("F", "parent-child", parent)
    with_mutation = make_panel(table, [parent, child], loci=loci, mutation=STEPWISE)
    without = make_panel(table, [parent, child], loci=loci)
    found = search(
        with_mutation,
        encode_families(with_mutation, [family]),
        with_mutation.encode([child]),
        100.0,
    )
    (candidate,) = found
    assert candidate.per_locus[first] < 0.1  # the mutated locus costs, without excluding
    assert _close(candidate.lr, _engine(with_mutation, family, child))
    assert (
        len(search(without, encode_families(without, [family]), without.encode([child]), 100.0))
        == 0
    )


# -- alleles outside the table -------------------------------------------------------------------


def test_rare_and_off_table_alleles_get_5_over_2n_and_are_never_dropped() -> None:
    rng = np.random.default_rng(9)
    mother = _draw(rng, "m")
    inherited = mother.genotypes["TH01"].first
    child = Profile("c", {**mother.genotypes, "TH01": Genotype(inherited, "17")})  # 17: off table
    panel = make_panel(SMALL, [mother, child], loci=LOCI)
    assert "17" in panel.frequencies["TH01"].alleles
    assert any("allele 17 not in table small at TH01" in note for note in panel.notes)
    assert panel.extra_alleles() == {"TH01": ("17",)}
    family = Family.relative("F", "parent-child", mother)
    (candidate,) = search(panel, encode_families(panel, [family]), panel.encode([child]), 1.5) or [
        None
    ]
    assert candidate is not None and _close(candidate.lr, _engine(panel, family, child))
    # a profile with an allele the panel lacks: a clear error, or the extended panel
    stranger = Profile("s", {"FGA": Genotype("12", "19")})
    with pytest.raises(KinshipInputError, match=r"allele 19 at FGA of profile 's'.*Panel.extended"):
        panel.encode([stranger])
    skipped = panel.encode([stranger, child], skip_invalid=True)
    assert skipped.ids == ("c",) and skipped.rejected[0][0] == "s"
    wider = panel.extended([stranger])
    assert wider.key != panel.key and wider.extra_alleles() == {"FGA": ("19",), "TH01": ("17",)}
    assert panel.extended([child]) is panel
    assert wider.encode([stranger, child]).genotypes.shape == (2, len(LOCI))


# -- Dask, chunks and resuming ---------------------------------------------------------------


def test_dask_and_resumed_runs_give_identical_candidates() -> None:
    panel, family_list, unknown_list = _database(13, 0.01, STEPWISE)
    families = encode_families(panel, family_list)
    unknowns = panel.encode(unknown_list)
    local = search(panel, families, unknowns, 5.0, chunk_size=4)
    seen: list[int] = []
    distributed = search_dask(
        panel,
        families,
        unknowns,
        5.0,
        scheduler="local",
        workers=2,
        processes=False,
        chunk_size=4,
        on_chunk=lambda part: seen.append(part.index),
    )
    assert distributed.keys() == local.keys() and len(local) > 0
    np.testing.assert_array_equal(distributed.per_locus, local.per_locus)
    assert sorted(seen) == list(range(math.ceil(len(families) / 4)))
    # a run interrupted after two chunks resumes without repeating or losing work
    done: list = []
    progress: list[tuple[int, int]] = []
    search(
        panel, families, unknowns, 5.0, chunk_size=4, skip_chunks=range(2, 99), on_chunk=done.append
    )
    rest = search(
        panel,
        families,
        unknowns,
        5.0,
        chunk_size=4,
        skip_chunks=[part.index for part in done],
        progress=lambda a, b: progress.append((a, b)),
    )
    assert progress[0][0] > 8 and progress[-1] == (len(families), len(families))
    merged = sorted(
        [
            *(
                (int(f), int(u))
                for p in done
                for f, u in zip(p.family_index, p.unknown_index, strict=True)
            ),
            *zip(rest.family_index.tolist(), rest.unknown_index.tolist(), strict=True),
        ]
    )
    assert merged == sorted(
        zip(local.family_index.tolist(), local.unknown_index.tolist(), strict=True)
    )


def test_an_unreachable_scheduler_is_a_clear_error() -> None:
    panel, family_list, unknown_list = _database(17, 0.0, None)
    families, unknowns = encode_families(panel, family_list[:3]), panel.encode(unknown_list[:3])
    with pytest.raises(
        SearchClusterError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"
    ):
        search_dask(
            panel, families, unknowns, 100.0, scheduler="tcp://127.0.0.1:9", connect_timeout=1.0
        )
    with pytest.raises(KinshipInputError, match="scheduler must be 'local' or an address"):
        search_dask(panel, families, unknowns, 100.0, scheduler="localhost:8786")


# -- false candidates ------------------------------------------------------------------------


def test_expected_false_candidates_by_simulation_and_the_bound() -> None:
    panel, family_list, _ = _database(19, 0.0, None)
    families = encode_families(panel, family_list)
    estimate = expected_false_candidates(panel, families, 10.0, unknowns=5000, simulations=400)
    assert estimate.bound == len(families) * 5000 / 10.0
    assert estimate.pairs == len(families) * 400 and estimate.hits > 0
    assert 0.0 < estimate.simulated < estimate.bound
    assert math.isclose(sum(estimate.per_hypothesis.values()), estimate.simulated)
    for name, per_query in estimate.per_query.items():
        assert math.isclose(per_query * 5000, estimate.per_hypothesis[name])
    # the simulated rate is what a search of simulated strangers shows
    strangers = simulate_unrelated(panel, 400, seed=1)
    assert len(search(panel, families, strangers, 10.0)) == estimate.hits
    assert expected_false_candidates(panel, families, 1e9, unknowns=10, simulations=50).hits == 0


# -- bad input -------------------------------------------------------------------------------


def test_bad_input_is_refused_with_a_clear_message() -> None:
    panel, family_list, unknown_list = _database(23, 0.0, None)
    families, unknowns = encode_families(panel, family_list), panel.encode(unknown_list)
    for threshold, message in [
        (0.0, "above 1"),
        (-5, "above 1"),
        (1.0, "above 1"),
        (math.nan, "above 1"),
        (True, "must be a number"),
        ("1e4", "must be a number"),
    ]:
        with pytest.raises(KinshipInputError, match=message):
            search(panel, families, unknowns, threshold)
    with pytest.raises(KinshipInputError, match="unknown locus"):
        make_panel(SMALL, loci=["D3S1358", "NOT_A_LOCUS"])
    with pytest.raises(KinshipInputError, match="locus SE33 is not in frequency table small"):
        make_panel(SMALL, loci=["SE33"])
    with pytest.raises(KinshipInputError, match="listed twice"):
        make_panel(SMALL, loci=["vWA", "VWA"])
    with pytest.raises(KinshipInputError, match="theta"):
        make_panel(SMALL, loci=LOCI, theta=0.5)
    other = make_panel(SMALL, loci=LOCI, theta=0.01)
    with pytest.raises(KinshipInputError, match="encoded for another panel"):
        search(other, families, other.encode(unknown_list), 100.0)
    with pytest.raises(KinshipInputError, match="encoded for another panel"):
        search(other, encode_families(other, family_list), unknowns, 100.0)
    with pytest.raises(KinshipInputError, match="expected a ProfileMatrix"):
        search(panel, families, unknown_list, 100.0)  # type: ignore[arg-type]
    with pytest.raises(KinshipInputError, match="given twice"):
        panel.encode([unknown_list[0], unknown_list[0]])
    with pytest.raises(KinshipInputError, match="given twice"):
        encode_families(panel, [family_list[0], family_list[0]])
    with pytest.raises(KinshipInputError, match="outside the panel"):
        ProfileMatrix.from_arrays(panel, ["a"], np.full((1, len(LOCI)), 999, dtype=np.uint16))
    with pytest.raises(KinshipInputError, match="uint16"):
        ProfileMatrix.from_arrays(panel, ["a"], np.zeros((1, len(LOCI)), dtype=np.int64))
    with pytest.raises(KinshipInputError, match="has 3 loci, the panel 5"):
        ProfileMatrix.from_arrays(panel, ["a"], np.zeros((1, 3), dtype=np.uint16))
    refs = np.full((2, 2, len(LOCI)), UNTYPED, dtype=np.uint16)
    with pytest.raises(KinshipInputError, match="unknown hypothesis 'cousins'"):
        FamilyMatrix.from_arrays(panel, ["a", "b"], ["trio", "cousins"], refs)
    refs[0, 1, 0] = 0
    with pytest.raises(KinshipInputError, match="only a trio has a second reference"):
        FamilyMatrix.from_arrays(panel, ["a", "b"], ["parent-child", "trio"], refs)
    with pytest.raises(KinshipInputError, match="raise the threshold"):
        search(panel, families, unknowns, 1.01, max_candidates=3)
    with pytest.raises(KinshipInputError, match="chunk_size"):
        search(panel, families, unknowns, 100.0, chunk_size=0)


def test_an_impossible_family_is_refused_or_skipped() -> None:
    rng = np.random.default_rng(29)
    grandmother = Profile("GM", {locus: Genotype("12", "12") for locus in LOCI})
    mother = Profile("Mum", {locus: Genotype("15", "15") for locus in LOCI})
    pedigree = Pedigree(
        (
            Person("GM", "F"),
            Person("GF", "M"),
            Person("Mum", "F", "GM", "GF"),
            Person("Dad", "M"),
            Person("Kid", "F", "Mum", "Dad"),
        )
    )
    bad = Family("bad", pedigree, "Kid", {"GM": grandmother, "Mum": mother})
    good = Family.relative("good", "parent-child", _draw(rng, "m"))
    panel = make_panel(SMALL, [grandmother, mother, *good.references.values()], loci=LOCI)
    with pytest.raises(KinshipInputError, match=r"family 'bad'.*impossible in this pedigree"):
        encode_families(panel, [good, bad])
    matrix = encode_families(panel, [good, bad], skip_invalid=True)
    assert matrix.ids == ("good",) and matrix.rejected[0][0] == "bad"


def test_a_pedigree_family_uses_the_general_engine_tables() -> None:
    rng = np.random.default_rng(31)
    panel, family_list, _ = _database(31, 0.0, STEPWISE)
    family = next(f for f in family_list if f.hypothesis == "pedigree")
    matrix = encode_families(panel, [family])
    tables = genotype_tables(
        family.pedigree,
        family.missing,
        family.references,
        panel.frequencies,
        panel.theta,
        panel.mutation,
    )
    stored = matrix.tables[0]
    assert stored is not None
    for locus, table in tables.items():
        row = stored[panel.loci.index(locus)]
        assert row is not None
        np.testing.assert_allclose(row, table.h1 / table.h2, rtol=1e-15)
    unknown = _draw(rng, "u")
    result = search(panel, matrix, panel.encode([unknown]), 1.0000001)
    want = _engine(panel, family, unknown)
    assert (len(result) == 1 and _close(result.candidates[0].lr, want)) or want < 1.0000001


def test_every_hypothesis_code_round_trips_through_arrays() -> None:
    panel = make_panel(SMALL, loci=LOCI)
    lo, _ = genotype_pairs(len(ALLELES))
    names = [*PAIRWISE, "trio"]
    refs = np.full((len(names), 2, len(LOCI)), UNTYPED, dtype=np.uint16)
    refs[:, 0] = 3
    refs[-1, 1] = 5
    matrix = FamilyMatrix.from_arrays(panel, [f"F{i}" for i in range(len(names))], names, refs)
    assert matrix.hypotheses() == dict.fromkeys(names, 1)
    genotypes = np.array([[g] * len(LOCI) for g in range(len(lo))], dtype=np.uint16)
    unknowns = ProfileMatrix.from_arrays(panel, [f"U{g}" for g in range(len(lo))], genotypes)
    result = search(panel, matrix, unknowns, 1.5)
    scores = exact_log10_lr(panel, matrix, unknowns)
    assert {(c.family_index, c.unknown_index) for c in result} == {
        (f, u)
        for f, u in product(range(len(names)), range(len(lo)))
        if scores[f, u] >= math.log10(1.5)
    }
