"""The brute-force reference likelihood (tests/unit/kinship/reference.py) against textbook forms.

The reference is what the fast engine will be checked against, so it is itself checked here:

* against closed forms derived in each test from first principles (single-locus paternity
  indices, the kappa formula for pairwise relationships, the θ-corrected parent–child forms
  derived from the Balding–Nichols sequential formula);
* against a published value: pedprobr's test "theta works in two-generation pedigrees"
  (``linearPed(2)``, the grandchild typed A/A, ``afreq = c(A = 0.3, B = 0.7)``, θ = 0.01:
  likelihood 0.0921);
* by properties: the likelihood summed over every genotype combination of the typed persons is 1
  (with θ > 0 and mutation), untyped relatives change nothing, unrelated gives LR 1, the
  identity mutation matrix is no mutation, the order of the founders does not matter.

Notation: ``p_a`` is the frequency of allele a; for a pairwise relationship with IBD
probabilities κ = (κ0, κ1, κ2) and θ = 0 (e.g. Weir et al. 2006, Egeland et al. 2016 ch. 2):

    LR = κ0 + κ1 · P(B | A, one allele IBD) / P(B) + κ2 · [B = A] / P(B).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest

from reunite.kinship.mutation import mutation_matrix
from reunite.kinship.pedigree import Pedigree, relationship_pedigree
from reunite.kinship.profiles import Genotype
from tests.unit.kinship.reference import brute_force_likelihood, brute_force_lr

ALLELES = ["10", "11", "12", "13"]
FREQS = [0.1, 0.2, 0.3, 0.4]
pa, pb, pc, pd = FREQS

AB = Genotype("10", "11")
AC = Genotype("10", "12")
AA = Genotype("10", "10")
BB = Genotype("11", "11")
CC = Genotype("12", "12")
CD = Genotype("12", "13")


def close(value: float, expected: float, rel: float = 1e-12) -> bool:
    return value == pytest.approx(expected, rel=rel, abs=0.0)


def pairwise_lr(
    relationship: str,
    genotype_a: Genotype,
    genotype_b: Genotype,
    theta: float = 0.0,
    mutation: np.ndarray | None = None,
    alleles: Sequence[str] = ALLELES,
    freqs: Sequence[float] = FREQS,
) -> float:
    """LR of "B is <relationship> of A" against "B is unrelated", B placed as the unknown."""
    ped, a, b = relationship_pedigree(relationship)
    return brute_force_lr(ped, b, {a: genotype_a}, genotype_b, alleles, freqs, theta, mutation)


def all_genotypes(alleles: Sequence[str]) -> list[Genotype]:
    return [Genotype(x, y) for x, y in itertools.combinations_with_replacement(alleles, 2)]


# -- single founders ---------------------------------------------------------------------------


def test_a_founder_has_hardy_weinberg_and_nrc_ii_genotype_probabilities() -> None:
    ped = Pedigree.from_spec([{"id": "X", "sex": "M"}])
    assert close(brute_force_likelihood(ped, {"X": AB}, ALLELES, FREQS), 2 * pa * pb)
    assert close(brute_force_likelihood(ped, {"X": AA}, ALLELES, FREQS), pa * pa)
    theta = 0.03
    # NRC II 4.10: homozygote p(θ + (1-θ)p); heterozygote 2 p_a p_b (1-θ).
    assert close(
        brute_force_likelihood(ped, {"X": AA}, ALLELES, FREQS, theta),
        pa * (theta + (1 - theta) * pa),
    )
    assert close(
        brute_force_likelihood(ped, {"X": AB}, ALLELES, FREQS, theta), 2 * pa * pb * (1 - theta)
    )


def test_published_pedprobr_value_for_an_untyped_two_generation_pedigree() -> None:
    # pedprobr tests: linearPed(2) with the grandchild A/A, afreq A = 0.3, B = 0.7, theta 0.01
    # gives 0.0921 = 0.3 * (0.01 + 0.99 * 0.3): untyped ancestors leave the founder form.
    ped, _, grandchild = relationship_pedigree("grandparent")
    value = brute_force_likelihood(
        ped, {grandchild: Genotype("1", "1")}, ["1", "2"], [0.3, 0.7], 0.01
    )
    assert close(value, 0.0921)


# -- parent-child, θ = 0 -----------------------------------------------------------------------


def test_paternity_index_child_ab_parent_ac() -> None:
    # H1: the parent passes a (1/2), the other parent b (p_b): P(child | parent) = p_b / 2.
    # H2: P(child) = 2 p_a p_b.  LR = (p_b / 2) / (2 p_a p_b) = 1 / (4 p_a).
    assert close(pairwise_lr("parent-child", AC, AB), 1 / (4 * pa))


def test_paternity_index_child_aa_parent_aa() -> None:
    # H1: p_a (the parent passes a surely); H2: p_a^2.  LR = 1 / p_a.
    assert close(pairwise_lr("parent-child", AA, AA), 1 / pa)


def test_paternity_index_child_ab_parent_ab() -> None:
    # H1: a from the parent (1/2) then b (p_b), or b then a: (p_a + p_b) / 2.
    # LR = (p_a + p_b) / 2 / (2 p_a p_b) = (p_a + p_b) / (4 p_a p_b).
    assert close(pairwise_lr("parent-child", AB, AB), (pa + pb) / (4 * pa * pb))


def test_paternity_index_child_aa_parent_ab_and_exclusion() -> None:
    # H1: a from the parent (1/2), a from the other (p_a): p_a / 2.  LR = 1 / (2 p_a).
    assert close(pairwise_lr("parent-child", AB, AA), 1 / (2 * pa))
    assert pairwise_lr("parent-child", CD, AB) == 0.0


# -- κ relationships, θ = 0 --------------------------------------------------------------------

FULL_SIBS = (0.25, 0.5, 0.25)
HALF = (0.5, 0.5, 0.0)
COUSINS = (0.75, 0.25, 0.0)


# Three alleles keep the enumeration of the 6-person avuncular pedigree quick; the κ formula
# holds for any allele set.
KAPPA_ALLELES = ["10", "11", "12"]
KAPPA_FREQS = [0.15, 0.35, 0.5]


def kappa_cases(k: tuple[float, float, float]) -> list[tuple[Genotype, Genotype, float]]:
    k0, k1, k2 = k
    qa, qb, _ = KAPPA_FREQS
    return [
        # A = a/b, B = a/b: IBD1 gives a shared allele (a or b, 1/2 each) and the other from the
        # population: (p_b + p_a) / 2 over P(B) = 2 p_a p_b; IBD2: 1 / (2 p_a p_b).
        (AB, AB, k0 + k1 * (qa + qb) / (4 * qa * qb) + k2 / (2 * qa * qb)),
        # A = a/a, B = a/a: IBD1: p_a / p_a^2; IBD2: 1 / p_a^2.
        (AA, AA, k0 + k1 / qa + k2 / (qa * qa)),
        # A = a/b, B = a/c: IBD1 shares a (1/2) then c (p_c): p_c / 2 over 2 p_a p_c.
        (AB, AC, k0 + k1 / (4 * qa)),
        # A = a/a, B = a/b: IBD1 shares a (surely) then b (p_b): p_b over 2 p_a p_b.
        (AA, AB, k0 + k1 / (2 * qa)),
        # A = a/b, B = a/a: IBD1 shares a (1/2) then a (p_a): p_a / 2 over p_a^2.
        (AB, AA, k0 + k1 / (2 * qa)),
        # Nothing shared: only κ0.
        (AB, CC, k0),
        (AA, BB, k0),
    ]


def kappa_lr(relationship: str, genotype_a: Genotype, genotype_b: Genotype) -> float:
    return pairwise_lr(relationship, genotype_a, genotype_b, 0.0, None, KAPPA_ALLELES, KAPPA_FREQS)


@pytest.mark.parametrize(("genotype_a", "genotype_b", "expected"), kappa_cases(FULL_SIBS))
def test_full_siblings_match_the_kappa_formula(
    genotype_a: Genotype, genotype_b: Genotype, expected: float
) -> None:
    assert close(kappa_lr("full-siblings", genotype_a, genotype_b), expected)


@pytest.mark.parametrize("relationship", ["half-siblings", "grandparent", "avuncular"])
@pytest.mark.parametrize(("genotype_a", "genotype_b", "expected"), kappa_cases(HALF))
def test_second_degree_relatives_match_the_kappa_formula(
    relationship: str, genotype_a: Genotype, genotype_b: Genotype, expected: float
) -> None:
    assert close(kappa_lr(relationship, genotype_a, genotype_b), expected)


def test_first_cousins_match_the_kappa_formula() -> None:
    # Two alleles keep the 8-person enumeration small; the κ formula holds for any allele set.
    alleles, freqs = ["10", "11"], [0.35, 0.65]
    q_a, q_b = freqs
    k0, k1, _ = COUSINS
    cases = [
        (AB, AB, k0 + k1 * (q_a + q_b) / (4 * q_a * q_b)),
        (AA, AA, k0 + k1 / q_a),
        (AA, AB, k0 + k1 / (2 * q_a)),
        (AA, BB, k0),
    ]
    for genotype_a, genotype_b, expected in cases:
        value = pairwise_lr("first-cousins", genotype_a, genotype_b, 0.0, None, alleles, freqs)
        assert close(value, expected)


@pytest.mark.parametrize("theta", [0.0, 0.05])
def test_unrelated_gives_lr_one(theta: float) -> None:
    # B untyped sums out; the remaining draws are exchangeable, so H1 and H2 are the same.
    for genotype_a, genotype_b in [(AB, AB), (AA, AA), (AB, CD), (CC, AC)]:
        assert close(pairwise_lr("unrelated", genotype_a, genotype_b, theta), 1.0)


# -- θ > 0 -------------------------------------------------------------------------------------
# Derived from the sequential formula: after n draws with x of them a, the next is a with
# probability (x θ + (1-θ) p_a) / (1 + (n-1) θ). The parent's two alleles are drawn first under
# both hypotheses and cancel.

THETAS = [0.01, 0.03, 0.1]


@pytest.mark.parametrize("theta", THETAS)
def test_theta_parent_child_both_aa(theta: float) -> None:
    # H1: the other parent transmits a: P(3rd draw = a | a, a) = (2θ + (1-θ)p_a) / (1 + θ).
    # H2: the child's two alleles are draws 3 and 4, both a:
    #     (2θ + (1-θ)p_a) / (1 + θ) · (3θ + (1-θ)p_a) / (1 + 2θ).
    # LR = (1 + 2θ) / (3θ + (1-θ) p_a).
    expected = (1 + 2 * theta) / (3 * theta + (1 - theta) * pa)
    assert close(pairwise_lr("parent-child", AA, AA, theta), expected)


@pytest.mark.parametrize("theta", THETAS)
def test_theta_parent_ac_child_ab(theta: float) -> None:
    # H1: the parent passes a (1/2); the other parent b: (1-θ) p_b / (1 + θ).
    # H2: draws 3, 4 are {a, b} in either order: 2 (θ + (1-θ)p_a)/(1 + θ) · (1-θ)p_b/(1 + 2θ).
    # LR = (1 + 2θ) / (4 (θ + (1-θ) p_a)).
    expected = (1 + 2 * theta) / (4 * (theta + (1 - theta) * pa))
    assert close(pairwise_lr("parent-child", AC, AB, theta), expected)


@pytest.mark.parametrize("theta", THETAS)
def test_theta_parent_ab_child_aa(theta: float) -> None:
    # H1: the parent passes a (1/2); the other parent a: (θ + (1-θ)p_a) / (1 + θ).
    # H2: draws 3, 4 both a: (θ + (1-θ)p_a)/(1 + θ) · (2θ + (1-θ)p_a)/(1 + 2θ).
    # LR = (1 + 2θ) / (2 (2θ + (1-θ) p_a)).
    expected = (1 + 2 * theta) / (2 * (2 * theta + (1 - theta) * pa))
    assert close(pairwise_lr("parent-child", AB, AA, theta), expected)


@pytest.mark.parametrize("theta", [0.0, 0.05])
@pytest.mark.parametrize(("genotype_a", "genotype_b"), [(AB, AC), (AA, AB), (AB, AB), (CC, AC)])
def test_full_sibling_lr_is_symmetric(
    theta: float, genotype_a: Genotype, genotype_b: Genotype
) -> None:
    forward = pairwise_lr("full-siblings", genotype_a, genotype_b, theta)
    backward = pairwise_lr("full-siblings", genotype_b, genotype_a, theta)
    assert close(forward, backward)


def test_founder_order_does_not_matter_under_theta() -> None:
    spec = [
        {"id": "MO", "sex": "F"},
        {"id": "FA", "sex": "M"},
        {"id": "C", "sex": "M", "mother": "MO", "father": "FA"},
    ]
    typed = {"MO": AB, "FA": AA, "C": AA}
    forward = brute_force_likelihood(Pedigree.from_spec(spec), typed, ALLELES, FREQS, 0.07)
    reordered = [spec[1], spec[0], spec[2]]
    backward = brute_force_likelihood(Pedigree.from_spec(reordered), typed, ALLELES, FREQS, 0.07)
    assert Pedigree.from_spec(reordered).founders() == ("FA", "MO")
    assert close(forward, backward)


# -- mutation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("theta", [0.0, 0.04])
def test_identity_and_zero_rate_mutation_equal_no_mutation(theta: float) -> None:
    identity = np.eye(len(ALLELES))
    zero = mutation_matrix(ALLELES, FREQS, model="equal", rate=0.0)
    ped, a, b = relationship_pedigree("full-siblings")
    for genotype_a, genotype_b in [(AB, AC), (AA, AA), (AB, CD)]:
        plain = brute_force_lr(ped, b, {a: genotype_a}, genotype_b, ALLELES, FREQS, theta)
        for matrix in (identity, zero):
            value = brute_force_lr(
                ped, b, {a: genotype_a}, genotype_b, ALLELES, FREQS, theta, matrix
            )
            assert close(value, plain)


def test_mutation_direction_and_untyped_parent_without_stationarity() -> None:
    # Parent c/c, child a/b. The other (untyped) parent transmits allele j with probability
    # (p M)_j, not p_j (no stationarity). Child's ordered pairs: (a from mother, b from the
    # parent) and (b from mother, a from the parent):
    # LR = [(pM)_a · M[c, b] + (pM)_b · M[c, a]] / (2 p_a p_b).
    matrix = np.array(
        [
            [0.90, 0.06, 0.03, 0.01],
            [0.02, 0.95, 0.02, 0.01],
            [0.10, 0.05, 0.80, 0.05],
            [0.00, 0.01, 0.09, 0.90],
        ]
    )
    a, b, c = 0, 1, 2
    p_m = np.asarray(FREQS) @ matrix
    assert not np.allclose(p_m, FREQS)  # the test needs a non-stationary matrix
    expected = (p_m[a] * matrix[c, b] + p_m[b] * matrix[c, a]) / (2 * pa * pb)
    assert close(pairwise_lr("parent-child", CC, AB, 0.0, matrix), float(expected))
    # Swapping the direction (using M transposed) gives another number: the test can fail.
    swapped = pairwise_lr("parent-child", CC, AB, 0.0, matrix.T.copy())
    assert not close(swapped, float(expected), rel=1e-3)


# -- properties --------------------------------------------------------------------------------


def matrices(alleles: Sequence[str], freqs: Sequence[float]) -> dict[str, np.ndarray | None]:
    return {
        "none": None,
        "equal": mutation_matrix(alleles, freqs, model="equal", rate=0.05),
        "proportional": mutation_matrix(alleles, freqs, model="proportional", rate=0.05),
        "stepwise": mutation_matrix(
            alleles, freqs, model="stepwise", rate=0.05, rate2=0.0, range_=0.5
        ),
    }


MATRICES = matrices(ALLELES, FREQS)
KAPPA_MATRICES = matrices(KAPPA_ALLELES, KAPPA_FREQS)


@pytest.mark.parametrize("theta", [0.0, 0.05])
@pytest.mark.parametrize("model", list(MATRICES))
@pytest.mark.parametrize("relationship", ["parent-child", "full-siblings", "grandparent"])
def test_likelihood_sums_to_one_over_all_genotypes(
    relationship: str, model: str, theta: float
) -> None:
    # Three alleles, so that the 5-person grandparent pedigree stays quick.
    ped, a, b = relationship_pedigree(relationship)
    genotypes = all_genotypes(KAPPA_ALLELES)
    matrix = KAPPA_MATRICES[model]
    total = sum(
        brute_force_likelihood(ped, {a: ga, b: gb}, KAPPA_ALLELES, KAPPA_FREQS, theta, matrix)
        for ga in genotypes
        for gb in genotypes
    )
    assert abs(total - 1.0) < 1e-12


@pytest.mark.parametrize("theta", [0.0, 0.05])
@pytest.mark.parametrize("model", ["none", "equal", "stepwise"])
def test_untyped_child_of_the_missing_person_changes_nothing(theta: float, model: str) -> None:
    base = Pedigree.from_spec(
        [
            {"id": "FA", "sex": "M"},
            {"id": "MO", "sex": "F"},
            {"id": "MP", "sex": "F", "mother": "MO", "father": "FA"},
        ]
    )
    extended = Pedigree.from_spec([*base.as_spec(), {"id": "K", "sex": "M", "mother": "MP"}])
    matrix = MATRICES[model]
    for profiles, unknown in [({"FA": AB}, AC), ({"FA": AA, "MO": CC}, AC), ({"MO": AB}, CD)]:
        plain = brute_force_lr(base, "MP", profiles, unknown, ALLELES, FREQS, theta, matrix)
        more = brute_force_lr(extended, "MP", profiles, unknown, ALLELES, FREQS, theta, matrix)
        assert close(more, plain)


@pytest.mark.parametrize(("theta", "model"), [(0.0, "none"), (0.05, "none"), (0.0, "proportional")])
def test_untyped_grandparents_change_nothing(theta: float, model: str) -> None:
    # Giving the typed parent two untyped founder parents leaves the parent's allele
    # distribution unchanged without mutation (exchangeable draws) and, with θ = 0, under the
    # stationary proportional model. (With θ > 0 and mutation they do change it: no
    # stationarity is assumed.)
    ped, a, b = relationship_pedigree("parent-child")
    spec = [{"id": "GF", "sex": "M"}, {"id": "GM", "sex": "F"}, *ped.as_spec()]
    spec = [
        {**entry, "mother": "GM", "father": "GF"} if entry["id"] == a else entry for entry in spec
    ]
    extended = Pedigree.from_spec(spec)
    assert set(extended.founders()) == {"GF", "GM", "MO"}
    matrix = MATRICES[model]
    for genotype_a, genotype_b in [(AC, AB), (AA, AA), (AB, CD)]:
        plain = brute_force_lr(ped, b, {a: genotype_a}, genotype_b, ALLELES, FREQS, theta, matrix)
        more = brute_force_lr(
            extended, b, {a: genotype_a}, genotype_b, ALLELES, FREQS, theta, matrix
        )
        assert close(more, plain)


def test_reference_refuses_bad_input() -> None:
    ped, a, b = relationship_pedigree("parent-child")
    with pytest.raises(ValueError, match="not in the allele list"):
        brute_force_likelihood(ped, {a: Genotype("10", "99")}, ALLELES, FREQS)
    with pytest.raises(ValueError, match="not in the pedigree"):
        brute_force_likelihood(ped, {"ZZ": AB}, ALLELES, FREQS)
    with pytest.raises(ValueError, match="must not have a reference profile"):
        brute_force_lr(ped, b, {b: AB}, AB, ALLELES, FREQS)
