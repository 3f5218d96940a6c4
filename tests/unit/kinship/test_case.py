"""Case files (reunite.kinship.case): strict JSON, validation, and the LR each mode computes.

The modes are checked against the engine functions they promise to call (pairwise_lr for a
relationship, pedigree_lr on relationship_pedigree for a relationship with mutation, pedigree_lr
for a pedigree), and a pedigree with one typed relative against the pairwise LR.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pytest

from reunite.kinship import (
    RELATIONSHIPS,
    KinshipInputError,
    Pedigree,
    Profile,
    frequencies_for,
    parse_mutation,
    parse_profiles,
    relationship_pedigree,
)
from reunite.kinship.case import (
    MAX_CASE_BYTES,
    load_case,
    parse_case_json,
    prepare_case,
    run_case,
)
from reunite.kinship.likelihood import pedigree_lr
from reunite.kinship.pairwise import pairwise_lr

STEPWISE = {"model": "stepwise", "rate": 0.002, "rate2": 1e-6, "range": 0.1}

MOTHER = {
    "D3S1358": ["15", "16"],
    "vWA": ["14", "17"],
    "FGA": ["21", "23"],
    "TH01": ["7", "9"],
    "D8S1179": ["12", "13"],
    "D21S11": ["29", "30"],
    "D18S51": ["13", "15"],
    "D5S818": ["11", "12"],
    "D13S317": ["8", "11"],
    "D7S820": ["10", "11"],
    "AMEL": "XX",
}
FATHER = {
    "D3S1358": ["14", "17"],
    "vWA": ["16", "18"],
    "FGA": ["22", "24"],
    "TH01": ["6", "9.3"],
    "D8S1179": ["10", "14"],
    "D21S11": ["31.2", "32.2"],
    "D18S51": ["14", "17"],
    "D5S818": ["10", "13"],
    "D13S317": ["9", "12"],
    "D7S820": ["8", "12"],
    "AMEL": "XY",
}
# A child of MOTHER and FATHER, except at D7S820: the paternal 13 is a one-step mutation of 12.
CHILD = {
    "D3S1358": ["15", "17"],
    "vWA": ["17", "18"],
    "FGA": ["21", "24"],
    "TH01": ["9", "9.3"],
    "D8S1179": ["13", "14"],
    "D21S11": ["29", "32.2"],
    "D18S51": ["13", "17"],
    "D5S818": ["12", "13"],
    "D13S317": ["11", "12"],
    "D7S820": ["10", "13"],
    "AMEL": "XY",
}
TRIO_PERSONS = [
    {"id": "MO", "sex": "F"},
    {"id": "FA", "sex": "M"},
    {"id": "MP", "sex": "M", "mother": "MO", "father": "FA"},
]

#: The contract's example made whole: both parents typed, the unknown person, stepwise mutation.
TRIO_CASE: dict[str, Any] = {
    "population": "han_chinese",
    "theta": 0.0,
    "mutation": STEPWISE,
    "profiles": {"MO": MOTHER, "FA": FATHER, "UNKNOWN": CHILD},
    "pedigree": {"persons": TRIO_PERSONS, "missing": "MP", "unknown": "UNKNOWN"},
}

#: The example exactly as printed in the issue: both modes at once, so not a valid case.
CONTRACT_LITERAL: dict[str, Any] = {
    "frequencies": {"D3S1358": {"14": 0.12, "15": 0.26}},
    "population": "nist_us_caucasian",
    "theta": 0.0,
    "mutation": {"model": "stepwise", "rate": 0.002, "rate2": 1e-6, "range": 0.1},
    "relationship": "parent-child",
    "profiles": {"ALLEGED": {"D3S1358": ["15", "16"]}, "UNKNOWN": {"D3S1358": ["15", "15"]}},
    "pedigree": {
        "persons": [
            {"id": "MO", "sex": "F"},
            {"id": "FA", "sex": "M"},
            {"id": "MP", "sex": "M", "mother": "MO", "father": "FA"},
        ],
        "missing": "MP",
        "unknown": "UNKNOWN",
    },
}


def pair_case(relationship: object, **extra: Any) -> dict[str, Any]:
    """A relationship case: MOTHER first (person A), CHILD second (person B)."""
    return {
        "population": "han_chinese",
        "relationship": relationship,
        "profiles": {"MO": MOTHER, "UNKNOWN": CHILD},
        **extra,
    }


def close(value: float, expected: float, rel: float = 1e-12) -> bool:
    return value == pytest.approx(expected, rel=rel, abs=0.0)


def without_sex(profile: Profile) -> Profile:
    return Profile(profile.id, profile.genotypes)


# ---------------------------------------------------------------------------------------------
# The contract's example: both parents + the unknown person, stepwise mutation
# ---------------------------------------------------------------------------------------------


def test_trio_with_stepwise_mutation_gives_a_plausible_lr() -> None:
    result = run_case(TRIO_CASE)

    assert set(result.per_locus) == {name for name in CHILD if name != "AMEL"}
    assert result.log10_lr is not None
    assert math.isclose(
        result.log10_lr, math.fsum(math.log10(v) for v in result.per_locus.values()), rel_tol=1e-12
    )
    assert close(result.lr, 10.0**result.log10_lr)
    # Ten loci where the child is consistent with its parents: strong support, but the
    # mutated locus pulls the total down without excluding.
    assert 1e3 < result.lr < 1e7
    assert all(value > 1.0 for locus, value in result.per_locus.items() if locus != "D7S820")
    assert 1e-4 < result.per_locus["D7S820"] < 0.5

    profiles = parse_profiles(TRIO_CASE["profiles"])
    frequencies = frequencies_for(profiles, "han_chinese")
    direct = pedigree_lr(
        Pedigree.from_spec(TRIO_PERSONS),
        "MP",
        {"MO": profiles["MO"], "FA": profiles["FA"]},
        profiles["UNKNOWN"],
        frequencies,
        mutation=parse_mutation(STEPWISE),
    )
    assert result.per_locus == direct.per_locus
    assert result.lr == direct.lr
    # The table's rounding notes come first, then nothing from the engine.
    assert result.notes == list(frequencies.notes)
    assert all("renormalised" in note for note in result.notes)


def test_trio_without_mutation_is_an_exclusion() -> None:
    case = copy.deepcopy(TRIO_CASE)
    del case["mutation"]
    result = run_case(case)
    assert result.lr == 0.0
    assert result.log10_lr is None
    assert result.per_locus["D7S820"] == 0.0
    assert result.notes[-1] == "locus D7S820: genotypes incompatible with the pedigree (LR 0)"


def test_the_literal_contract_example_is_refused_for_giving_both_modes() -> None:
    with pytest.raises(KinshipInputError, match="either 'relationship' or 'pedigree', not both"):
        run_case(CONTRACT_LITERAL)


# ---------------------------------------------------------------------------------------------
# Relationship mode
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("theta", [0.0, 0.03])
@pytest.mark.parametrize("relationship", [*RELATIONSHIPS, {"kappa": [0.3, 0.6, 0.1]}])
def test_relationship_mode_is_pairwise_lr(relationship: object, theta: float) -> None:
    case = pair_case(relationship, theta=theta)
    result = run_case(case)
    profiles = parse_profiles(case["profiles"])
    frequencies = frequencies_for(profiles, "han_chinese")
    direct = pairwise_lr(profiles["MO"], profiles["UNKNOWN"], frequencies, relationship, theta)
    assert result.per_locus == direct.per_locus
    assert result.lr == direct.lr
    assert result.log10_lr == direct.log10_lr


@pytest.mark.parametrize("relationship", ["parent-child", "grandparent", "full-siblings"])
def test_relationship_with_mutation_is_pedigree_lr_with_the_first_profile_as_a(
    relationship: str,
) -> None:
    case = pair_case(relationship, mutation=STEPWISE, theta=0.01)
    result = run_case(case)

    profiles = parse_profiles(case["profiles"])
    first, second = without_sex(profiles["MO"]), without_sex(profiles["UNKNOWN"])
    frequencies = frequencies_for(profiles, "han_chinese")
    pedigree, a, b = relationship_pedigree(relationship)
    mutation = parse_mutation(STEPWISE)
    direct = pedigree_lr(pedigree, b, {a: first}, second, frequencies, 0.01, mutation)
    assert result.per_locus == direct.per_locus
    assert result.lr == direct.lr
    assert result.per_locus["D7S820"] > 0.0  # MO 10/11 vs 10/13 is no exclusion here

    if relationship == "grandparent":  # A and B play different parts: the order matters
        swapped = pedigree_lr(pedigree, b, {a: second}, first, frequencies, 0.01, mutation)
        assert swapped.lr != pytest.approx(result.lr, rel=1e-6)


def test_a_mutation_that_cannot_mutate_is_the_pairwise_lr() -> None:
    no_mutation = run_case(pair_case("parent-child"))
    for mutation in (
        {"model": "equal", "rate": 0},
        {"model": "stepwise", "rate": 0, "rate2": 0, "range": 0.1},
        None,
    ):
        result = run_case(pair_case("parent-child", mutation=mutation))
        assert result.lr == no_mutation.lr
    kappa = run_case(pair_case({"kappa": [0, 1, 0]}, mutation={"model": "equal", "rate": 0}))
    assert kappa.lr == no_mutation.lr


def test_a_kappa_relationship_cannot_take_a_mutation_model() -> None:
    case = pair_case({"kappa": [0, 1, 0]}, mutation=STEPWISE)
    with pytest.raises(KinshipInputError, match="kappa relationship has no pedigree"):
        run_case(case)


def test_amelogenin_is_ignored_in_relationship_mode() -> None:
    # A's pedigree slot is male; a mother (XX) as person A must not be a sex conflict.
    with_sex = run_case(pair_case("parent-child", mutation=STEPWISE))
    stripped = {key: value for key, value in MOTHER.items() if key != "AMEL"}
    case = pair_case("parent-child", mutation=STEPWISE)
    case["profiles"] = {"MO": stripped, "UNKNOWN": CHILD}
    assert run_case(case).lr == with_sex.lr
    assert not any("amelogenin" in note for note in with_sex.notes)


@pytest.mark.parametrize("count", [1, 3])
def test_relationship_mode_needs_exactly_two_profiles(count: int) -> None:
    profiles = {"P1": MOTHER, "P2": CHILD, "P3": FATHER}
    case = pair_case("full-siblings")
    case["profiles"] = dict(list(profiles.items())[:count])
    with pytest.raises(KinshipInputError, match=f"exactly two profiles, got {count}"):
        run_case(case)


# ---------------------------------------------------------------------------------------------
# Pedigree mode
# ---------------------------------------------------------------------------------------------

#: Family pedigrees where only REL is typed, built differently from relationship_pedigree
#: (other sexes, a maternal line, a one-parent entry completed by the engine).
ONE_RELATIVE: dict[str, list[dict[str, str]]] = {
    "parent-child": [{"id": "REL", "sex": "M"}, {"id": "MP", "sex": "F", "father": "REL"}],
    "full-siblings": [
        {"id": "MO", "sex": "F"},
        {"id": "FA", "sex": "M"},
        {"id": "REL", "sex": "F", "mother": "MO", "father": "FA"},
        {"id": "MP", "sex": "M", "mother": "MO", "father": "FA"},
    ],
    "grandparent": [
        {"id": "REL", "sex": "F"},
        {"id": "GF", "sex": "M"},
        {"id": "MO", "sex": "F", "mother": "REL", "father": "GF"},
        {"id": "FA", "sex": "M"},
        {"id": "MP", "sex": "M", "mother": "MO", "father": "FA"},
    ],
    "half-siblings": [
        {"id": "MO", "sex": "F"},
        {"id": "FA1", "sex": "M"},
        {"id": "FA2", "sex": "M"},
        {"id": "REL", "sex": "M", "mother": "MO", "father": "FA1"},
        {"id": "MP", "sex": "F", "mother": "MO", "father": "FA2"},
    ],
}


@pytest.mark.parametrize("theta", [0.0, 0.02])
@pytest.mark.parametrize("relationship", sorted(ONE_RELATIVE))
def test_a_pedigree_with_one_typed_relative_is_the_pairwise_lr(
    relationship: str, theta: float
) -> None:
    relative = {key: value for key, value in FATHER.items() if key != "AMEL"}
    case = {
        "population": "nist_us_caucasian",
        "theta": theta,
        "profiles": {"REL": relative, "U": CHILD},
        "pedigree": {"persons": ONE_RELATIVE[relationship], "missing": "MP", "unknown": "U"},
    }
    pedigree_result = run_case(case)
    pairwise = run_case(
        {
            "population": "nist_us_caucasian",
            "theta": theta,
            "relationship": relationship,
            "profiles": {"REL": relative, "U": CHILD},
        }
    )
    assert set(pedigree_result.per_locus) == set(pairwise.per_locus)
    assert pedigree_result.per_locus  # something was compared
    for locus, value in pairwise.per_locus.items():
        assert close(pedigree_result.per_locus[locus], value), locus
    if pairwise.lr == 0.0:
        assert pedigree_result.lr == 0.0
    else:
        assert close(pedigree_result.lr, pairwise.lr)


def test_the_unknown_profile_may_carry_the_missing_persons_id() -> None:
    case = copy.deepcopy(TRIO_CASE)
    case["profiles"] = {"MO": MOTHER, "FA": FATHER, "MP": CHILD}
    case["pedigree"]["unknown"] = "MP"
    assert run_case(case).lr == run_case(TRIO_CASE).lr


def test_prepared_case_exposes_the_validated_parts() -> None:
    prepared = prepare_case(TRIO_CASE)
    assert prepared.pedigree is not None and "MP" in prepared.pedigree
    assert prepared.missing == "MP"
    assert prepared.unknown is not None and prepared.unknown.id == "UNKNOWN"
    assert set(prepared.references) == {"MO", "FA"}
    assert prepared.references["MO"].amelogenin == "XX"  # kept for the sex check
    assert prepared.mutation is not None and prepared.theta == 0.0
    assert prepared.relationship is None


def _pedigree_case(**changes: Any) -> dict[str, Any]:
    case = copy.deepcopy(TRIO_CASE)
    for key, value in changes.items():
        if key.startswith("ped_"):
            case["pedigree"][key[4:]] = value
        else:
            case[key] = value
    return case


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            _pedigree_case(ped_missing="NOBODY"),
            "the missing person 'NOBODY' is not in the pedigree",
        ),
        (_pedigree_case(ped_missing=7), "'pedigree.missing' must be a non-empty string"),
        (_pedigree_case(ped_unknown=["U"]), "'pedigree.unknown' must be a non-empty string"),
        (_pedigree_case(ped_unknown="GHOST"), "'pedigree.unknown' 'GHOST' names no profile"),
        (_pedigree_case(ped_unknown="MO"), "has the id of a person of the pedigree other than"),
        (
            _pedigree_case(profiles={"MO": MOTHER, "UNCLE": FATHER, "UNKNOWN": CHILD}),
            "profile 'UNCLE' belongs to nobody in the pedigree",
        ),
        (
            _pedigree_case(profiles={"MO": MOTHER, "MP": FATHER, "UNKNOWN": CHILD}),
            "the missing person 'MP' cannot also have a reference profile",
        ),
        (
            _pedigree_case(profiles={"UNKNOWN": CHILD}),
            "the pedigree needs at least one typed relative",
        ),
        (
            _pedigree_case(
                ped_persons=[
                    {"id": "MO", "sex": "M"},
                    {"id": "FA", "sex": "M"},
                    {"id": "MP", "sex": "M", "mother": "MO", "father": "FA"},
                ]
            ),
            "sex conflict: 'MO' is the mother of 'MP'",
        ),
        (
            _pedigree_case(
                profiles={"MO": {**MOTHER, "AMEL": "XY"}, "FA": FATHER, "UNKNOWN": CHILD}
            ),
            "sex conflict: the profile of 'MO' shows amelogenin XY",
        ),
        (
            _pedigree_case(
                ped_persons=[
                    {"id": "MO", "sex": "F", "mother": "MP", "father": "FA"},
                    {"id": "FA", "sex": "M"},
                    {"id": "MP", "sex": "F", "mother": "MO", "father": "FA"},
                ]
            ),
            "pedigree loop",
        ),
        (_pedigree_case(ped_persons={"MO": "F"}), "pedigree persons must be a list"),
        (_pedigree_case(ped_extra=1), "unknown key 'extra' in 'pedigree'"),
        (_pedigree_case(pedigree=["MO"]), "'pedigree' must be an object"),
    ],
)
def test_pedigree_mode_refuses_bad_input(case: dict[str, Any], message: str) -> None:
    with pytest.raises(KinshipInputError, match=re.escape(message)):
        run_case(case)


def test_a_pedigree_missing_its_keys_is_refused() -> None:
    for key in ("persons", "missing", "unknown"):
        case = copy.deepcopy(TRIO_CASE)
        del case["pedigree"][key]
        with pytest.raises(KinshipInputError, match=f"'pedigree' needs '{key}'"):
            run_case(case)


def test_a_deep_pedigree_given_children_first_is_a_clear_error() -> None:
    persons = [{"id": "P0", "sex": "M"}, {"id": "W0", "sex": "F"}]
    for i in range(1, 2500):
        persons.append({"id": f"W{i}", "sex": "F"})
        persons.append({"id": f"P{i}", "sex": "M", "mother": f"W{i - 1}", "father": f"P{i - 1}"})
    persons.reverse()
    case = {
        "population": "han_chinese",
        "profiles": {"P0": FATHER, "U": CHILD},
        "pedigree": {"persons": persons, "missing": "P2499", "unknown": "U"},
    }
    with pytest.raises(KinshipInputError, match="pedigree"):
        run_case(case)


# ---------------------------------------------------------------------------------------------
# Frequencies and notes
# ---------------------------------------------------------------------------------------------

SMALL = {"D3S1358": {"14": 0.2, "15": 0.3, "16": 0.3, "17": 0.2}}


def small_case(frequencies: Any, **extra: Any) -> dict[str, Any]:
    return {
        "frequencies": frequencies,
        "relationship": "parent-child",
        "profiles": {"A": {"D3S1358": ["15", "16"]}, "B": {"D3S1358": ["15", "17"]}},
        **extra,
    }


def test_case_frequencies_give_the_textbook_paternity_index() -> None:
    result = run_case(small_case(SMALL))
    assert close(result.lr, 1.0 / (4 * 0.3))  # child 15/17, parent 15/16: 1/(4 p15)
    assert result.notes == []


def test_frequencies_win_over_population_with_a_note_first() -> None:
    result = run_case(small_case(SMALL, population="han_chinese"))
    assert close(result.lr, 1.0 / (4 * 0.3))
    assert result.notes[0] == "'population' han_chinese ignored: the case gives 'frequencies'"


def test_frequencies_within_one_percent_are_renormalised_with_a_note() -> None:
    frequencies = {"D3S1358": {"14": 0.2, "15": 0.3, "16": 0.3, "17": 0.195}}
    result = run_case(small_case(frequencies))
    assert close(result.lr, 1.0 / (4 * 0.3 / 0.995))
    assert result.notes == ["frequencies at D3S1358 in table case sum to 0.995; renormalised"]


@pytest.mark.parametrize("last", [0.18, 0.25])
def test_frequencies_beyond_one_percent_are_an_error(last: float) -> None:
    frequencies = {"D3S1358": {"14": 0.2, "15": 0.3, "16": 0.3, "17": last}}
    with pytest.raises(KinshipInputError, match="more than 1% away from 1"):
        run_case(small_case(frequencies))


def test_an_allele_missing_from_case_frequencies_is_an_error() -> None:
    frequencies = {"D3S1358": {"14": 0.5, "15": 0.25, "16": 0.25}}
    with pytest.raises(KinshipInputError, match="allele 17 at D3S1358 is not in the case"):
        run_case(small_case(frequencies))


def test_a_shipped_table_fills_an_absent_allele_and_says_so() -> None:
    case = {
        "population": "nist_us_caucasian",
        "relationship": "full-siblings",
        "profiles": {"A": {"D3S1358": ["15", "21"]}, "B": {"D3S1358": ["15", "21"]}},
    }
    result = run_case(case)
    assert result.notes == [
        "allele 21 not in table nist_us_caucasian at D3S1358: given 5/(2N) = 0.00692521 "
        "(N = 361); locus renormalised"
    ]
    assert result.per_locus["D3S1358"] > 1.0


def test_a_locus_missing_from_the_table_is_noted_once_and_left_out() -> None:
    case = {
        "frequencies": SMALL,
        "relationship": "parent-child",
        "profiles": {
            "A": {"D3S1358": ["15", "16"], "vWA": ["14", "15"]},
            "B": {"D3S1358": ["15", "17"], "vWA": ["14", "16"]},
        },
    }
    for extra in ({}, {"mutation": STEPWISE}):
        result = run_case({**case, **extra})
        assert list(result.per_locus) == ["D3S1358"]
        assert [note for note in result.notes if "vWA" in note] == [
            "locus vWA is typed but not in table case: left out (LR 1)"
        ]


def test_no_comparable_locus_gives_lr_one_with_a_note() -> None:
    case = small_case(SMALL)
    case["profiles"] = {"A": {"D3S1358": ["15", "16"]}, "B": {"vWA": ["15", "17"]}}
    case["frequencies"] = {**SMALL, "vWA": {"15": 0.5, "17": 0.5}}
    result = run_case(case)
    assert result.lr == 1.0 and result.log10_lr == 0.0 and result.per_locus == {}
    assert result.notes[-1].startswith("no locus is typed in both profiles")


# ---------------------------------------------------------------------------------------------
# Top-level validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "unknown key 'colour' in the case"),
        ({"frequencies": None}, "'frequencies' must be an object"),
        ({"frequencies": [["D3S1358", 0.5]]}, "'frequencies' must be an object"),
        ({"population": 7}, "'population' must be the id of a shipped table"),
        ({"population": "atlantis"}, "unknown population table 'atlantis'"),
        ({"theta": 0.25}, "theta = 0.25 must lie in [0, 0.25)"),
        ({"theta": -0.01}, "theta = -0.01 must lie in [0, 0.25)"),
        ({"theta": "0.01"}, "theta must be a number"),
        ({"theta": True}, "theta must be a number"),
        ({"theta": None}, "theta must be a number"),
        ({"mutation": {"model": "equal", "rate": 1.5}}, "mutation rate must be in [0, 1]"),
        ({"mutation": {"model": "equal", "rate": -0.1}}, "mutation rate must be in [0, 1]"),
        ({"mutation": {"model": "equal", "rate": "high"}}, "mutation rate must be a number"),
        ({"mutation": {"model": "leap", "rate": 0.1}}, "unknown mutation model 'leap'"),
        ({"mutation": [STEPWISE]}, "mutation must be an object or null"),
        ({"mutation": {**STEPWISE, "speed": 2}}, "unknown key 'speed'"),
        ({"relationship": "cousins"}, "unknown relationship 'cousins'"),
        ({"relationship": 3}, "'relationship' must be a relationship name"),
        ({"relationship": [0, 1, 0]}, "'relationship' must be a relationship name"),
        ({"relationship": {"kappa": [0.5, 0.5]}}, "kappa must be three numbers"),
        ({"relationship": {"kappa": [0.5, 0.6, 0.1]}}, "must sum to 1"),
        ({"profiles": [MOTHER, CHILD]}, "profiles must map profile ids to profiles"),
        ({"profiles": {"A": "15,16", "B": CHILD}}, "profile 'A' must map locus names"),
        ({"profiles": {"A": {"D3S1358": "15,16"}, "B": CHILD}}, "alleles at D3S1358 must be"),
        ({"profiles": {"A": {"D99S99": ["15"]}, "B": CHILD}}, "unknown locus 'D99S99'"),
        ({"profiles": {"A": {"vWA": ["15a", "16"]}, "B": CHILD}}, "malformed allele '15a'"),
        ({"profiles": {"A": {"vWA": ["15", "16", "17"]}, "B": CHILD}}, "mixture at locus vWA"),
    ],
)
def test_bad_case_values_are_refused_with_a_clear_message(
    change: dict[str, Any], message: str
) -> None:
    case = {**pair_case("parent-child"), **change}
    with pytest.raises(KinshipInputError, match=re.escape(message)):
        run_case(case)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ({"profiles": {}, "population": "han_chinese"}, "needs 'relationship' (two profiles)"),
        ({"relationship": "unrelated", "population": "han_chinese"}, "the case needs 'profiles'"),
        (
            {"relationship": "unrelated", "profiles": {"A": MOTHER, "B": CHILD}},
            "the case needs 'frequencies'",
        ),
        ([1, 2], "a case must be a JSON object"),
    ],
)
def test_incomplete_cases_are_refused(case: Any, message: str) -> None:
    with pytest.raises(KinshipInputError, match=re.escape(message)):
        run_case(case)


def test_error_messages_are_one_line() -> None:
    case = pair_case("parent-child")
    case["profiles"] = {"A\nB": {"vWA": ["1\n5"]}, "C": CHILD}
    with pytest.raises(KinshipInputError) as caught:
        run_case(case)
    assert "\n" not in str(caught.value)


# ---------------------------------------------------------------------------------------------
# Strict JSON
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "the case is empty"),
        (b" \n\t ", "the case is empty"),
        (b'{"theta": NaN}', "NaN is not a JSON number"),
        (b'{"theta": Infinity}', "Infinity is not a JSON number"),
        (b'{"theta": -Infinity}', "-Infinity is not a JSON number"),
        (b'{"theta": 1e999}', "the number '1e999' is too large for a float"),
        (b'{"theta": 0, "theta": 0.1}', "duplicate key 'theta'"),
        (b'{"profiles": {"A": {}, "A": {}}}', "duplicate key 'A'"),
        (b'{"theta": 0,}', "not valid JSON: Expecting property name"),
        (b"{'theta': 0}", "not valid JSON"),
        (b'{"theta": 0} {}', "not valid JSON: Extra data"),
        (b"[1, 2]", "must be a JSON object {...}, got a JSON array"),
        (b'"case"', "got a JSON string"),
        (b"null", "got a JSON null"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "is not UTF-8 text"),
        (b'{"a": "\xe9"}', "is not UTF-8 text (bad byte at offset 7)"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"theta": ' + b"1" * 5000 + b"}", "not usable JSON"),
    ],
)
def test_parse_case_json_is_strict(raw: bytes, message: str) -> None:
    with pytest.raises(KinshipInputError, match=re.escape(message)):
        parse_case_json(raw)


def test_parse_case_json_accepts_a_bom_and_keeps_the_order() -> None:
    raw = b"\xef\xbb\xbf" + json.dumps({"profiles": {"Z": {}, "A": {}}}).encode()
    assert list(parse_case_json(raw)["profiles"]) == ["Z", "A"]
    assert parse_case_json('{"x": [1.5, 2]}') == {"x": [1.5, 2]}


def test_parse_case_json_refuses_oversized_input() -> None:
    raw = b" " * MAX_CASE_BYTES + b"{}"
    with pytest.raises(KinshipInputError, match="larger than 10485760 bytes"):
        parse_case_json(raw)
    with pytest.raises(KinshipInputError, match="larger than"):
        parse_case_json(raw.decode())


def test_load_case_reads_a_file_and_names_file_problems(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(TRIO_CASE), "utf-8")
    assert load_case(path) == TRIO_CASE
    assert run_case(load_case(str(path))).lr == run_case(TRIO_CASE).lr

    with pytest.raises(KinshipInputError, match=r"no such file: .*nope\.json"):
        load_case(tmp_path / "nope.json")
    with pytest.raises(KinshipInputError, match="is a directory"):
        load_case(tmp_path)
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(MAX_CASE_BYTES + 1)
    with pytest.raises(KinshipInputError, match="larger than"):
        load_case(big)
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"theta": NaN}')
    with pytest.raises(KinshipInputError, match=r"'.*bad\.json' is not valid JSON"):
        load_case(bad)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_load_case_reports_a_permission_problem(tmp_path: Path) -> None:
    path = tmp_path / "secret.json"
    path.write_text("{}", "utf-8")
    path.chmod(0)
    with pytest.raises(KinshipInputError, match="permission denied"):
        load_case(path)
