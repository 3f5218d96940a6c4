"""Mutation matrices (reunite.kinship.mutation) against pedmut's definitions and published output.

Published references used below:

* pedmut README (github.com/magnusdv/pedmut, README.md): the 3x3 "equal" matrix with rate 0.1,
  the 4x4 "proportional" matrix with rate 0.1 and uniform frequencies, and the "stepwise" matrix
  of Section 2.1.3 of Simonsson & Mostad (FSI: Genetics 2015) printed by
  ``mutationMatrix("stepwise", alleles = c("16","17","18","16.1","17.1"), rate = 0.003,
  rate2 = 0.001, range = 0.5)``.
* pedmut README likelihoods of a father 1/1 and son 2/2 (mother untyped): 0.0005208333 with
  4 equifrequent alleles and ``mutmod = "prop", rate = 0.1``; 0.0125 with 2 equifrequent alleles
  and ``model = "equal", rate = 0.1``.
* pedmut ``?mutRate`` example: stepwise over alleles 1:4 with frequencies .1/.2/.3/.4, rate 0.01,
  rate2 1e-6, range 0.1 has overall rate ``1 - sum(diag(M) * afreq) == 0.01``.
* pedmut tests/testthat/test-mutationMatrix.R: proportional model over frequencies .2/.3/.5 has
  equal entries down each off-diagonal column.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest

from reunite.kinship.errors import KinshipInputError
from reunite.kinship.mutation import (
    MUTATION_MODELS,
    MutationModel,
    mutation_matrix,
    parse_mutation,
)

# ------------------------------------------------------------------------------------------------
# Named corpus of allele sets
# ------------------------------------------------------------------------------------------------

ALLELE_SETS: dict[str, list[str]] = {
    "integers": ["9", "10", "11", "12"],
    "long-ladder": [str(a) for a in range(5, 31)],
    "ladder-with-gaps": ["8", "10", "11", "14", "20"],
    "th01-with-9.3": ["6", "7", "8", "9", "9.3", "10"],
    "fga-like-microvariants": ["18", "19", "20", "21", "21.2", "22", "22.2", "23", "26.2"],
    "two-microvariant-groups": ["13", "14", "15", "15.2", "16", "16.2", "17.3", "18.3"],
    "microvariants-across-binades": ["5.3", "9.3", "17.3", "33.3", "6", "12"],
    "microvariants-only": ["15.2", "16.2", "17.2"],
    "lone-microvariant": ["9.3", "10", "11"],
    "simonsson-mostad": ["16", "17", "18", "16.1", "17.1"],
    "unsorted": ["12", "9", "11", "9.3", "10", "8.3"],
    "two-alleles": ["14", "15"],
    "single-integer": ["12"],
    "single-microvariant": ["9.3"],
}


def _frequencies(n: int) -> np.ndarray:
    """Distinct frequencies summing to 1: proportional to 1, 2, ..., n."""
    weights = np.arange(1, n + 1, dtype=np.float64)
    return weights / weights.sum()


def _integer_only(alleles: list[str]) -> bool:
    return all("." not in allele for allele in alleles)


PARAMS = {"equal": {}, "proportional": {}, "stepwise": {"rate2": 1e-3, "range_": 0.1}}
CORPUS = [
    pytest.param(model, name, id=f"{model}-{name}")
    for model in MUTATION_MODELS
    for name, alleles in ALLELE_SETS.items()
    if model != "onestep" or _integer_only(alleles)
]


def _build(model: str, alleles: list[str], rate: float = 0.005, **extra: float) -> np.ndarray:
    params = {**PARAMS.get(model, {}), **extra}
    return mutation_matrix(alleles, _frequencies(len(alleles)), model=model, rate=rate, **params)


# ------------------------------------------------------------------------------------------------
# Properties over the whole corpus
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "name"), CORPUS)
def test_rows_are_probability_distributions(model: str, name: str) -> None:
    alleles = ALLELE_SETS[name]
    matrix = _build(model, alleles)
    assert matrix.dtype == np.float64
    assert matrix.shape == (len(alleles), len(alleles))
    assert np.all(matrix >= 0.0)
    assert np.all(matrix <= 1.0)
    for row in matrix:
        assert abs(math.fsum(row) - 1.0) <= 1e-15


@pytest.mark.parametrize(("model", "name"), CORPUS)
def test_rate_zero_gives_the_identity(model: str, name: str) -> None:
    alleles = ALLELE_SETS[name]
    extra = {"rate2": 0.0} if model == "stepwise" else {}
    matrix = _build(model, alleles, rate=0.0, **extra)
    np.testing.assert_array_equal(matrix, np.eye(len(alleles)))
    assert MutationModel(model, 0.0, **extra).is_identity


@pytest.mark.parametrize(("model", "name"), CORPUS)
def test_unsorted_input_is_the_sorted_matrix_permuted(model: str, name: str) -> None:
    alleles = ALLELE_SETS[name]
    order = sorted(range(len(alleles)), key=lambda i: float(alleles[i]))
    freqs = _frequencies(len(alleles))
    params = PARAMS.get(model, {})
    as_given = mutation_matrix(alleles, freqs, model=model, rate=0.005, **params)
    sorted_alleles = [alleles[i] for i in order]
    as_sorted = mutation_matrix(sorted_alleles, freqs[order], model=model, rate=0.005, **params)
    np.testing.assert_allclose(as_given[np.ix_(order, order)], as_sorted, rtol=1e-15, atol=0)


@pytest.mark.parametrize("model", MUTATION_MODELS)
def test_single_allele_is_the_one_by_one_identity(model: str) -> None:
    matrix = mutation_matrix(["12"], [1.0], model=model, rate=0.3, rate2=0.2)
    np.testing.assert_array_equal(matrix, [[1.0]])


def test_positive_rate_is_not_identity() -> None:
    assert not MutationModel("equal", 0.001).is_identity
    # pedmut: with rate 0, rate2 still moves alleles between microvariant groups.
    assert not MutationModel("stepwise", 0.0, rate2=0.001).is_identity
    matrix = mutation_matrix(
        ["9", "9.3"], [0.5, 0.5], model="stepwise", rate=0.0, rate2=0.001, range_=0.1
    )
    np.testing.assert_allclose(matrix, [[0.999, 0.001], [0.001, 0.999]], rtol=1e-15)


# ------------------------------------------------------------------------------------------------
# equal
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["integers", "long-ladder", "th01-with-9.3", "two-alleles"])
def test_equal_off_diagonal_is_rate_over_n_minus_one(name: str) -> None:
    alleles = ALLELE_SETS[name]
    n = len(alleles)
    matrix = _build("equal", alleles, rate=0.004)
    off = ~np.eye(n, dtype=bool)
    np.testing.assert_allclose(matrix[off], 0.004 / (n - 1), rtol=1e-15)
    np.testing.assert_allclose(np.diag(matrix), 0.996, rtol=1e-15)


def test_equal_hand_computed_3x3() -> None:
    # rate 0.06 over 3 alleles: diagonal 1 - 0.06 = 0.94, each of the 2 others 0.06 / 2 = 0.03.
    matrix = mutation_matrix(["14", "15", "16"], [0.2, 0.3, 0.5], model="equal", rate=0.06)
    expected = [[0.94, 0.03, 0.03], [0.03, 0.94, 0.03], [0.03, 0.03, 0.94]]
    np.testing.assert_allclose(matrix, expected, rtol=1e-15)


def test_equal_reproduces_pedmut_readme() -> None:
    # pedmut README: mutationMatrix("equal", rate = 0.1, alleles = 1:3) prints 0.90 / 0.05.
    matrix = mutation_matrix(["1", "2", "3"], [1 / 3] * 3, model="equal", rate=0.1)
    expected = [[0.90, 0.05, 0.05], [0.05, 0.90, 0.05], [0.05, 0.05, 0.90]]
    np.testing.assert_allclose(matrix, expected, rtol=1e-12)


def test_equal_father_son_likelihood_of_pedmut_readme() -> None:
    # Father 1/1, son 2/2, mother untyped, 2 alleles at 0.5, equal model rate 0.1:
    # L = f1^2 * M[1->2] * P(mother transmits 2) = 0.25 * 0.1 * sum_a f_a M[a->2] = 0.0125.
    f = np.array([0.5, 0.5])
    matrix = mutation_matrix(["1", "2"], f, model="equal", rate=0.1)
    likelihood = f[0] ** 2 * matrix[0, 1] * (f @ matrix)[1]
    assert likelihood == pytest.approx(0.0125, rel=1e-12)


# ------------------------------------------------------------------------------------------------
# proportional
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["integers", "long-ladder", "fga-like-microvariants", "unsorted", "two-alleles"]
)
def test_proportional_targets_follow_frequencies_and_are_stationary(name: str) -> None:
    alleles = ALLELE_SETS[name]
    n = len(alleles)
    f = _frequencies(n)
    rate = 0.01
    matrix = mutation_matrix(alleles, f, model="proportional", rate=rate)
    alpha = rate / float(np.sum(f * (1 - f)))
    for i in range(n):
        for j in range(n):
            if i != j:
                assert matrix[i, j] == pytest.approx(alpha * f[j], rel=1e-14)
    # Stationary: f M = f; and the expected mutation rate sum_i f_i (1 - M_ii) is `rate`.
    np.testing.assert_allclose(f @ matrix, f, rtol=1e-14, atol=1e-16)
    assert math.fsum(f * (1 - np.diag(matrix))) == pytest.approx(rate, rel=1e-12)


def test_proportional_hand_computed_3x3() -> None:
    # f = (0.2, 0.3, 0.5), rate 0.1: sum f(1-f) = 0.16 + 0.21 + 0.25 = 0.62, a = 0.1/0.62 = 5/31.
    # Off-diagonal M[i, j] = a f_j; diagonal M[i, i] = 1 - a + a f_i.
    a = Fraction(5, 31)
    f = [Fraction(2, 10), Fraction(3, 10), Fraction(5, 10)]
    expected = [[(1 - a + a * f[j]) if i == j else a * f[j] for j in range(3)] for i in range(3)]
    matrix = mutation_matrix(["1", "2", "3"], [0.2, 0.3, 0.5], model="proportional", rate=0.1)
    np.testing.assert_allclose(matrix, np.array(expected, dtype=float), rtol=1e-15)
    # pedmut test-mutationMatrix.R: equal entries down each off-diagonal column.
    assert matrix[1, 0] == matrix[2, 0]
    assert matrix[0, 1] == matrix[2, 1]
    assert matrix[0, 2] == matrix[1, 2]


def test_proportional_reproduces_pedmut_readme() -> None:
    # pedmut README: 4 alleles at 0.25, rate 0.1 prints 0.90000000 / 0.03333333.
    f = np.full(4, 0.25)
    matrix = mutation_matrix(["1", "2", "3", "4"], f, model="proportional", rate=0.1)
    expected = np.full((4, 4), 0.1 / 3)
    np.fill_diagonal(expected, 0.9)
    np.testing.assert_allclose(matrix, expected, rtol=1e-12)
    # Father 1/1, son 2/2: L = f1^2 * M[1->2] * (f M)[2] = 1/16 * 1/30 * 1/4 = 1/1920,
    # printed by pedmut's README as 0.0005208333.
    likelihood = f[0] ** 2 * matrix[0, 1] * (f @ matrix)[1]
    assert likelihood == pytest.approx(1 / 1920, rel=1e-12)
    assert round(likelihood, 10) == 0.0005208333


def test_proportional_rate_beyond_its_maximum_is_an_input_error() -> None:
    # pedmut's bound: (1 - sum f^2) / (1 - min f) = (1 - 0.82) / 0.9 = 0.2 for f = (0.9, 0.1).
    ok = mutation_matrix(["1", "2"], [0.9, 0.1], model="proportional", rate=0.199)
    assert ok.min() >= 0.0
    with pytest.raises(KinshipInputError, match=r"exceeds the maximum 0\.2"):
        mutation_matrix(["1", "2"], [0.9, 0.1], model="proportional", rate=0.25)


# ------------------------------------------------------------------------------------------------
# stepwise
# ------------------------------------------------------------------------------------------------


def test_stepwise_decays_by_range_per_extra_step() -> None:
    alleles = ALLELE_SETS["long-ladder"]  # 5 .. 30, all integers
    matrix = _build("stepwise", alleles, rate=0.002, range_=0.25)
    i = alleles.index("15")
    # One-step mutations dominate; each further step multiplies by range.
    assert matrix[i, i + 1] > matrix[i, i + 2] > matrix[i, i + 3]
    for step in range(1, 10):
        assert matrix[i, i + step + 1] / matrix[i, i + step] == pytest.approx(0.25, rel=1e-12)
        assert matrix[i, i - step - 1] / matrix[i, i - step] == pytest.approx(0.25, rel=1e-12)
    # All integers: one group, so the diagonal is 1 - rate and the rest shares `rate`.
    np.testing.assert_allclose(np.diag(matrix), 0.998, rtol=1e-15)


def test_stepwise_group_changes_share_rate2() -> None:
    alleles = ALLELE_SETS["two-microvariant-groups"]
    rate, rate2 = 0.003, 0.0004
    matrix = _build("stepwise", alleles, rate=rate, rate2=rate2, range_=0.5)
    x = np.array([float(a) for a in alleles])
    group = np.rint((x - np.rint(x)) * 10)
    for i in range(len(alleles)):
        same = group == group[i]
        same[i] = False
        other = group != group[i]
        # Total mass to other microvariant groups is rate2, spread evenly.
        assert math.fsum(matrix[i, other]) == pytest.approx(rate2, rel=1e-12)
        np.testing.assert_allclose(matrix[i, other], rate2 / other.sum(), rtol=1e-15)
        # Within-group mutations share rate (every group here has >= 2 alleles).
        assert math.fsum(matrix[i, same]) == pytest.approx(rate, rel=1e-12)
        assert matrix[i, i] == pytest.approx(1 - rate - rate2, rel=1e-15)


def test_stepwise_groups_by_decimal_digit_across_binades() -> None:
    # 5.3, 9.3, 17.3 and 33.3 sit in different binary exponent ranges, so x - round(x) differs
    # in the last bits; the rounded grouping (pedmut 0.7.0 / Familias 2023-10-30 fix) must still
    # put them together. Within-group steps are 4, 8 and 16 repeats from 17.3.
    alleles = ALLELE_SETS["microvariants-across-binades"]  # 5.3 9.3 17.3 33.3 | 6 12
    matrix = _build("stepwise", alleles, rate=0.01, rate2=0.002, range_=0.5)
    row = matrix[alleles.index("17.3")]
    w = {"5.3": 0.5**12, "9.3": 0.5**8, "33.3": 0.5**16}
    total = sum(w.values())
    for allele, weight in w.items():
        assert row[alleles.index(allele)] == pytest.approx(0.01 * weight / total, rel=1e-12)
    assert row[alleles.index("6")] == pytest.approx(0.001, rel=1e-15)
    assert row[alleles.index("12")] == pytest.approx(0.001, rel=1e-15)


def test_stepwise_half_repeat_alleles_follow_r_half_even_rounding() -> None:
    # R: round(9.5) = 10 so 9.5 is group -5; round(10.5) = 10 so 10.5 is group +5, and 11.5
    # (round 12) is group -5 again. pedmut therefore lets 9.5 <-> 11.5 mutate with `rate`,
    # and 10.5 only through `rate2`.
    matrix = mutation_matrix(
        ["9.5", "10.5", "11.5"], [0.3, 0.3, 0.4], model="stepwise", rate=0.01, rate2=0.002
    )
    expected = [
        [1 - 0.012, 0.002, 0.01],
        [0.001, 1 - 0.002, 0.001],
        [0.01, 0.002, 1 - 0.012],
    ]
    np.testing.assert_allclose(matrix, expected, rtol=1e-15)


def test_stepwise_hand_computed_4x4() -> None:
    # Alleles 9, 10, 11, 9.3; rate 0.01, rate2 0.001, range 0.1.
    # Row 9: group {9, 10, 11} plus another group, so diag = 1 - 0.01 - 0.001 = 0.989;
    #   weights 0.1^1 (to 10) and 0.1^2 (to 11) sum to 0.11: 0.01 * 0.1/0.11 = 1/110 and
    #   0.01 * 0.01/0.11 = 1/1100; to 9.3 (the only other-group allele): 0.001.
    # Row 10: weights 0.1 and 0.1: 0.005 each; diag 0.989; to 9.3: 0.001.
    # Row 11: mirror of row 9.
    # Row 9.3: alone in its group: diag = 1 - rate2 = 0.999, rate2 / 3 to each integer allele.
    expected = [
        [0.989, 1 / 110, 1 / 1100, 0.001],
        [0.005, 0.989, 0.005, 0.001],
        [1 / 1100, 1 / 110, 0.989, 0.001],
        [0.001 / 3, 0.001 / 3, 0.001 / 3, 0.999],
    ]
    matrix = mutation_matrix(
        ["9", "10", "11", "9.3"],
        [0.25] * 4,
        model="stepwise",
        rate=0.01,
        rate2=0.001,
        range_=0.1,
    )
    np.testing.assert_allclose(matrix, expected, rtol=1e-14)


def test_stepwise_reproduces_simonsson_mostad_matrix_printed_by_pedmut() -> None:
    # pedmut README, "The mutation matrix in Section 2.1.3 of Simonsson and Mostad (2015)":
    #              16           17           18         16.1         17.1
    # 16   0.9960000000 0.0020000000 0.0010000000 0.0005000000 0.0005000000
    # 17   0.0015000000 0.9960000000 0.0015000000 0.0005000000 0.0005000000
    # 18   0.0010000000 0.0020000000 0.9960000000 0.0005000000 0.0005000000
    # 16.1 0.0003333333 0.0003333333 0.0003333333 0.9960000000 0.0030000000
    # 17.1 0.0003333333 0.0003333333 0.0003333333 0.0030000000 0.9960000000
    # The exact values behind the print: 16 -> 17, 18 get 0.003 * (0.5, 0.25) / 0.75.
    third = 0.001 / 3
    expected = [
        [0.996, 0.002, 0.001, 0.0005, 0.0005],
        [0.0015, 0.996, 0.0015, 0.0005, 0.0005],
        [0.001, 0.002, 0.996, 0.0005, 0.0005],
        [third, third, third, 0.996, 0.003],
        [third, third, third, 0.003, 0.996],
    ]
    matrix = mutation_matrix(
        ALLELE_SETS["simonsson-mostad"],
        [0.2] * 5,
        model="stepwise",
        rate=0.003,
        rate2=0.001,
        range_=0.5,
    )
    np.testing.assert_allclose(matrix, expected, rtol=1e-12, atol=0)
    printed = np.round(matrix, 10)
    assert printed[3, 0] == 0.0003333333


def test_stepwise_overall_rate_of_pedmut_mutrate_example() -> None:
    # ?mutRate: stepwise, alleles 1:4, afreq .1/.2/.3/.4, rate .01, rate2 1e-6, range .1:
    # 1 - sum(diag(M) * afreq) == 0.01 (all alleles integers, so the diagonal is 1 - rate).
    f = np.array([0.1, 0.2, 0.3, 0.4])
    matrix = mutation_matrix(
        ["1", "2", "3", "4"], f, model="stepwise", rate=0.01, rate2=1e-6, range_=0.1
    )
    assert 1 - math.fsum(np.diag(matrix) * f) == pytest.approx(0.01, rel=1e-12)


def test_stepwise_small_range_over_a_long_ladder_does_not_underflow() -> None:
    matrix = mutation_matrix(
        ["5", "60"], [0.5, 0.5], model="stepwise", rate=0.01, rate2=0.0, range_=1e-300
    )
    np.testing.assert_allclose(matrix, [[0.99, 0.01], [0.01, 0.99]], rtol=1e-15)


# ------------------------------------------------------------------------------------------------
# onestep
# ------------------------------------------------------------------------------------------------


def test_onestep_hand_computed_4x4() -> None:
    # Alleles 9, 10, 11, 13; rate 0.02. 9 and 11 have one neighbour (10), 10 has two (9, 11),
    # 13 has none (12 and 14 absent) and so cannot mutate.
    expected = [
        [0.98, 0.02, 0.0, 0.0],
        [0.01, 0.98, 0.01, 0.0],
        [0.0, 0.02, 0.98, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ]
    matrix = mutation_matrix(["9", "10", "11", "13"], [0.25] * 4, model="onestep", rate=0.02)
    np.testing.assert_allclose(matrix, expected, rtol=1e-15)


def test_onestep_rejects_microvariants() -> None:
    with pytest.raises(KinshipInputError, match=r"integer alleles, got '9\.3'"):
        mutation_matrix(["9", "9.3"], [0.5, 0.5], model="onestep", rate=0.01)


# ------------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------------

GOOD_ALLELES = ["9", "10"]
GOOD_FREQUENCIES = [0.5, 0.5]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"model": "geometric", "rate": 0.1}, "unknown mutation model", id="model"),
        pytest.param({"model": "Equal", "rate": 0.1}, "unknown mutation model", id="model-case"),
        pytest.param({"model": "equal", "rate": -0.1}, r"rate must be in \[0, 1\]", id="rate<0"),
        pytest.param({"model": "equal", "rate": 1.5}, r"rate must be in \[0, 1\]", id="rate>1"),
        pytest.param({"model": "equal", "rate": math.nan}, "finite number", id="rate-nan"),
        pytest.param({"model": "equal", "rate": True}, "must be a number", id="rate-bool"),
        pytest.param({"model": "equal", "rate": "0.1"}, "must be a number", id="rate-str"),
        pytest.param(
            {"model": "stepwise", "rate": 0.1, "rate2": -1e-6},
            r"rate2 must be in \[0, 1\]",
            id="rate2<0",
        ),
        pytest.param(
            {"model": "equal", "rate": 0.1, "rate2": 2.0},
            r"rate2 must be in \[0, 1\]",
            id="rate2>1",
        ),
        pytest.param(
            {"model": "stepwise", "rate": 0.1, "range_": 0.0},
            r"range must be in \(0, 1\)",
            id="range=0",
        ),
        pytest.param(
            {"model": "stepwise", "rate": 0.1, "range_": 1.0},
            r"range must be in \(0, 1\)",
            id="range=1",
        ),
        pytest.param(
            {"model": "stepwise", "rate": 0.7, "rate2": 0.4},
            "rate \\+ rate2 must not exceed 1",
            id="rate+rate2",
        ),
    ],
)
def test_bad_parameters_are_one_line_input_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(KinshipInputError, match=message) as caught:
        mutation_matrix(GOOD_ALLELES, GOOD_FREQUENCIES, **kwargs)
    assert "\n" not in str(caught.value)
    with pytest.raises(KinshipInputError, match=message):
        MutationModel(**kwargs)


def test_rate_plus_rate2_above_one_is_fine_where_rate2_is_unused() -> None:
    matrix = mutation_matrix(["9", "10"], [0.5, 0.5], model="equal", rate=0.7, rate2=0.4)
    np.testing.assert_allclose(matrix, [[0.3, 0.7], [0.7, 0.3]], rtol=1e-15)


@pytest.mark.parametrize(
    ("alleles", "message"),
    [
        pytest.param(["9", "X"], "needs numeric alleles, got 'X'", id="letter"),
        pytest.param(["9", ""], "needs numeric alleles", id="empty-label"),
        pytest.param(["9", "nan"], "needs numeric alleles", id="nan"),
        pytest.param(["9", "inf"], "needs numeric alleles", id="inf"),
        pytest.param(["9", "9.31"], "at most one decimal", id="two-decimals"),
        pytest.param(["9", "9.0"], "same allele twice", id="numeric-duplicate"),
        pytest.param(["X"], "needs numeric alleles", id="single-non-numeric"),
    ],
)
def test_stepwise_rejects_non_numeric_alleles(alleles: list[str], message: str) -> None:
    freqs = np.full(len(alleles), 1 / len(alleles))
    with pytest.raises(KinshipInputError, match=message):
        mutation_matrix(alleles, freqs, model="stepwise", rate=0.01, rate2=0.0, range_=0.1)


def test_non_numeric_alleles_are_fine_for_equal_and_proportional() -> None:
    for model in ("equal", "proportional"):
        matrix = mutation_matrix(["A", "B", "C"], [0.2, 0.3, 0.5], model=model, rate=0.03)
        assert abs(math.fsum(matrix[0]) - 1) <= 1e-15


@pytest.mark.parametrize(
    ("alleles", "frequencies", "message"),
    [
        pytest.param([], [], "at least one allele", id="no-alleles"),
        pytest.param(["9", "9"], [0.5, 0.5], "duplicate allele '9'", id="duplicate"),
        pytest.param("910", [0.5, 0.5], "not one string", id="string"),
        pytest.param(["9", 10], [0.5, 0.5], "allele must be a string", id="int-allele"),
        pytest.param(["9", "10"], [1.0], "expected 2 allele frequencies", id="short"),
        pytest.param(["9", "10"], [[0.5, 0.5]], "expected 2 allele frequencies", id="2d"),
        pytest.param(["9", "10"], [1.2, -0.2], "non-negative", id="negative"),
        pytest.param(["9", "10"], [0.5, math.nan], "finite", id="nan"),
        pytest.param(["9", "10"], [0.5, 0.4], r"must sum to 1, got 0\.9", id="sum"),
        pytest.param(["9", "10"], ["a", "b"], "must be numbers", id="text"),
    ],
)
def test_bad_alleles_or_frequencies(alleles, frequencies, message: str) -> None:
    with pytest.raises(KinshipInputError, match=message):
        mutation_matrix(alleles, frequencies, model="equal", rate=0.01)


# ------------------------------------------------------------------------------------------------
# MutationModel
# ------------------------------------------------------------------------------------------------


def test_model_matrix_matches_function_and_is_cached_read_only() -> None:
    model = MutationModel("stepwise", 0.002, rate2=1e-6, range_=0.1)
    alleles = ALLELE_SETS["th01-with-9.3"]
    freqs = _frequencies(len(alleles))
    first = model.matrix(alleles, freqs)
    expected = mutation_matrix(alleles, freqs, model="stepwise", rate=0.002, rate2=1e-6)
    np.testing.assert_array_equal(first, expected)
    assert model.matrix(list(alleles), freqs.copy()) is first
    assert not first.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        first[0, 0] = 0.0
    assert MutationModel("stepwise", 0.002, 1e-6, 0.1).matrix(alleles, freqs) is first


def test_model_is_frozen_and_normalises_numbers() -> None:
    model = MutationModel("equal", 1)
    assert isinstance(model.rate, float)
    assert model.rate == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.rate = 0.5  # type: ignore[misc]
    assert MutationModel("stepwise", 0.002, 1e-6, 0.1).as_dict() == {
        "model": "stepwise",
        "rate": 0.002,
        "rate2": 1e-6,
        "range": 0.1,
    }
    assert MutationModel("equal", 0.002).as_dict() == {"model": "equal", "rate": 0.002}


# ------------------------------------------------------------------------------------------------
# parse_mutation (the case-file contract)
# ------------------------------------------------------------------------------------------------


def test_parse_absent_mutation_means_no_mutation() -> None:
    spec = parse_mutation(None)
    assert spec.for_locus("D3S1358") is None
    assert spec.is_empty


def test_parse_one_model_for_every_locus() -> None:
    spec = parse_mutation({"model": "stepwise", "rate": 0.002, "rate2": 1e-6, "range": 0.1})
    expected = MutationModel("stepwise", 0.002, 1e-6, 0.1)
    assert spec.for_locus("D3S1358") == expected
    assert spec.for_locus("vWA") == expected
    assert not spec.is_empty


def test_parse_per_locus_models_with_any_locus_spelling() -> None:
    spec = parse_mutation(
        {
            "per_locus": {
                "VWA": {"model": "equal", "rate": 0.001},
                "penta_e": {"model": "proportional", "rate": 0.003},
                "TH01": None,
            }
        }
    )
    assert spec.for_locus("vWA") == MutationModel("equal", 0.001)
    assert spec.for_locus("Penta E") == MutationModel("proportional", 0.003)
    assert spec.for_locus("TH01") is None
    assert spec.for_locus("D3S1358") is None  # not listed, no default


def test_parse_default_with_per_locus_overrides() -> None:
    spec = parse_mutation(
        {
            "model": "equal",
            "rate": 0.002,
            "per_locus": {"D21S11": {"model": "stepwise", "rate": 0.004, "range": 0.5}},
        }
    )
    assert spec.for_locus("D3S1358") == MutationModel("equal", 0.002)
    assert spec.for_locus("D21S11") == MutationModel("stepwise", 0.004, 0.0, 0.5)


def test_parse_all_zero_rates_is_empty() -> None:
    assert parse_mutation({"model": "equal", "rate": 0}).is_empty


def test_parse_custom_locus_key() -> None:
    spec = parse_mutation(
        {"per_locus": {"L1": {"model": "equal", "rate": 0.1}}}, locus_key=str.upper
    )
    assert spec.for_locus("l1") == MutationModel("equal", 0.1)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param([], "mutation must be an object or null", id="list"),
        pytest.param({"rate": 0.1}, "'model' is required", id="no-model"),
        pytest.param({"model": "equal"}, "'rate' is required", id="no-rate"),
        pytest.param({"model": "equal", "rate": 0.1, "rates": 1}, "unknown key 'rates'", id="key"),
        pytest.param({"model": "stepwise", "rate": 0.1}, "needs 'range'", id="stepwise-range"),
        pytest.param({"model": "dawid", "rate": 0.1}, "unknown mutation model 'dawid'", id="model"),
        pytest.param({"model": 3, "rate": 0.1}, "unknown mutation model 3", id="model-int"),
        pytest.param({"model": "equal", "rate": 2}, r"rate must be in \[0, 1\]", id="rate"),
        pytest.param({"model": "equal", "rate": "0.1"}, "must be a number", id="rate-str"),
        pytest.param(
            {"model": "stepwise", "rate": 0.1, "rate2": 5, "range": 0.1}, "rate2", id="rate2"
        ),
        pytest.param(
            {"model": "stepwise", "rate": 0.1, "range": 2}, r"range must be in \(0, 1\)", id="r"
        ),
        pytest.param({"per_locus": []}, "per_locus must be an object", id="per-locus-list"),
        pytest.param({"per_locus": {"TH01": 0.1}}, r"per_locus\['TH01'\] must be", id="entry"),
        pytest.param(
            {"per_locus": {"TH01": {"model": "equal", "rate": -1}}},
            r"mutation.per_locus\['TH01'\]: mutation rate must be in \[0, 1\]",
            id="entry-rate",
        ),
        pytest.param(
            {"per_locus": {"vWA": None, "VWA": None}}, "names locus 'vWA' twice", id="twice"
        ),
        pytest.param({"per_locus": {"D99S999": None}}, "unknown locus 'D99S999'", id="locus"),
    ],
)
def test_parse_bad_specs(spec, message: str) -> None:
    with pytest.raises(KinshipInputError, match=message) as caught:
        parse_mutation(spec)
    assert "\n" not in str(caught.value)
