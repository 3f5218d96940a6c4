"""Pedigrees (reunite.kinship.pedigree): validation, helpers and the relationship pedigrees."""

from __future__ import annotations

from typing import Any

import pytest

from reunite.kinship.errors import KinshipInputError
from reunite.kinship.pedigree import (
    RELATIONSHIPS,
    Pedigree,
    Person,
    implicit_parent_id,
    relationship_pedigree,
)

TRIO: list[dict[str, Any]] = [
    {"id": "MO", "sex": "F"},
    {"id": "FA", "sex": "M"},
    {"id": "MP", "sex": "M", "mother": "MO", "father": "FA"},
]


def test_from_spec_reads_the_cli_shape() -> None:
    ped = Pedigree.from_spec(TRIO)
    assert ped.ids == ("MO", "FA", "MP")
    assert ped["MP"] == Person("MP", "M", "MO", "FA")
    assert ped.founders() == ("MO", "FA")
    assert ped.nonfounders() == ("MP",)
    assert ped.children("MO") == ("MP",)
    assert ped.children("MP") == ()
    assert "MP" in ped and "XX" not in ped
    assert len(ped) == 3
    assert ped.as_spec() == TRIO


def test_parents_may_be_null() -> None:
    ped = Pedigree.from_spec([{"id": "A", "sex": "F", "mother": None, "father": None}])
    assert ped.founders() == ("A",)


def test_topological_order_puts_parents_before_children() -> None:
    spec = [
        {"id": "C", "sex": "F", "mother": "B", "father": "X"},
        {"id": "B", "sex": "F", "mother": "GM", "father": "GF"},
        {"id": "X", "sex": "M"},
        {"id": "GF", "sex": "M"},
        {"id": "GM", "sex": "F"},
    ]
    ped = Pedigree.from_spec(spec)
    order = ped.topological_order()
    assert sorted(order) == ["B", "C", "GF", "GM", "X"]
    for person in ped:
        for parent in (person.mother, person.father):
            if parent is not None:
                assert order.index(parent) < order.index(person.id)
    assert ped.founders() == ("GM", "GF", "X")
    assert ped.nonfounders() == ("B", "C")


def test_one_parent_gets_an_implicit_untyped_founder() -> None:
    ped = Pedigree.from_spec([{"id": "MO", "sex": "F"}, {"id": "C", "sex": "M", "mother": "MO"}])
    father = implicit_parent_id("C", "father")
    assert father == "_father_of_C"
    assert ped["C"] == Person("C", "M", "MO", father)
    assert ped[father] == Person(father, "M")
    assert set(ped.founders()) == {"MO", father}

    ped = Pedigree.from_spec([{"id": "FA", "sex": "M"}, {"id": "C", "sex": "F", "father": "FA"}])
    assert ped["C"].mother == "_mother_of_C"
    assert ped["_mother_of_C"].sex == "F"


def test_constructor_from_persons_completes_and_orders_too() -> None:
    ped = Pedigree((Person("C", "F", father="FA"), Person("FA", "M")))
    assert ped.ids == ("_mother_of_C", "FA", "C")


def test_a_marriage_loop_is_a_valid_pedigree() -> None:
    # The child of two first cousins: a loop through marriages, not a cycle through ancestry.
    spec = [
        {"id": "GF", "sex": "M"},
        {"id": "GM", "sex": "F"},
        {"id": "S1", "sex": "M", "mother": "GM", "father": "GF"},
        {"id": "S2", "sex": "F", "mother": "GM", "father": "GF"},
        {"id": "C1", "sex": "M", "father": "S1"},
        {"id": "C2", "sex": "F", "mother": "S2"},
        {"id": "K", "sex": "F", "mother": "C2", "father": "C1"},
    ]
    ped = Pedigree.from_spec(spec)
    assert ped["K"] == Person("K", "F", "C2", "C1")
    assert len(ped) == 9  # two implicit spouses


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([{"id": "A", "sex": "M"}, {"id": "A", "sex": "F"}], "duplicate person id 'A'"),
        ([{"id": "A", "sex": "M", "mother": "NOPE", "father": None}], "mother 'NOPE' is not in"),
        (
            [{"id": "MO", "sex": "F"}, {"id": "A", "sex": "M", "father": "NOPE", "mother": "MO"}],
            "father 'NOPE' is not in",
        ),
        (
            [{"id": "A", "sex": "M"}, {"id": "C", "sex": "F", "mother": "A"}],
            "sex conflict: 'A' is the mother of 'C'",
        ),
        (
            [{"id": "B", "sex": "F"}, {"id": "C", "sex": "F", "father": "B"}],
            "sex conflict: 'B' is the father of 'C'",
        ),
        (
            [{"id": "P", "sex": "F"}, {"id": "C", "sex": "F", "mother": "P", "father": "P"}],
            "sex conflict",
        ),
        ([{"id": "A", "sex": "F", "mother": "A"}], "pedigree loop: 'A' is their own mother"),
        (
            [
                {"id": "X", "sex": "M"},
                {"id": "A", "sex": "F", "mother": "B", "father": "X"},
                {"id": "B", "sex": "F", "mother": "A", "father": "X"},
            ],
            "pedigree loop",
        ),
        (
            [
                {"id": "Y", "sex": "F"},
                {"id": "A", "sex": "M", "mother": "Y", "father": "C"},
                {"id": "B", "sex": "M", "mother": "Y", "father": "A"},
                {"id": "C", "sex": "M", "mother": "Y", "father": "B"},
            ],
            "is their own ancestor",
        ),
        ([{"id": "A", "sex": "X"}], "person 'A': sex must be 'M' or 'F'"),
        ([{"id": "A", "sex": "m"}], "sex must be 'M' or 'F'"),
        ([{"id": "A"}], "pedigree person #1: 'sex' is required"),
        ([{"sex": "M"}], "pedigree person #1: 'id' is required"),
        ([{"id": "", "sex": "M"}], "a person id must be a non-empty string"),
        ([{"id": 7, "sex": "M"}], "a person id must be a non-empty string"),
        ([{"id": "A", "sex": "M", "mother": 3}], "person 'A': mother must be a person id"),
        ([{"id": "A", "sex": "M", "age": 3}], "pedigree person #1: unknown key 'age'"),
        (["A"], "pedigree person #1 must be an object"),
        ([], "a pedigree needs at least one person"),
        (
            [
                {"id": "MO", "sex": "F"},
                {"id": "C", "sex": "M", "mother": "MO"},
                {"id": "_father_of_C", "sex": "M"},
            ],
            "duplicate person id '_father_of_C'",
        ),
    ],
)
def test_bad_pedigrees_are_one_line_errors(spec: list[Any], message: str) -> None:
    with pytest.raises(KinshipInputError) as caught:
        Pedigree.from_spec(spec)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("spec", [{"id": "A", "sex": "M"}, "A", None, 3])
def test_persons_must_be_a_list(spec: object) -> None:
    with pytest.raises(KinshipInputError, match="pedigree persons must be a list"):
        Pedigree.from_spec(spec)


def test_lookup_of_an_unknown_id_is_an_input_error() -> None:
    ped = Pedigree.from_spec(TRIO)
    with pytest.raises(KinshipInputError, match="'ZZ' is not in the pedigree"):
        ped["ZZ"]
    with pytest.raises(KinshipInputError, match="'ZZ' is not in the pedigree"):
        ped.children("ZZ")


def test_replace_renames_the_missing_person_and_their_links() -> None:
    spec = [*TRIO, {"id": "W", "sex": "F"}, {"id": "K", "sex": "M", "mother": "W", "father": "MP"}]
    ped = Pedigree.from_spec(spec)
    placed = ped.replace("MP", "UNKNOWN")
    assert "MP" not in placed
    assert placed["UNKNOWN"] == Person("UNKNOWN", "M", "MO", "FA")
    assert placed["K"].father == "UNKNOWN"
    assert ped["K"].father == "MP"  # the original is unchanged (frozen)
    assert ped.replace("MP", "MP") is ped


def test_replace_refuses_unknown_missing_person_and_clashing_id() -> None:
    ped = Pedigree.from_spec(TRIO)
    with pytest.raises(KinshipInputError, match="'NOBODY' is not in the pedigree"):
        ped.replace("NOBODY", "UNKNOWN")
    with pytest.raises(KinshipInputError, match="'FA' is already in the pedigree"):
        ped.replace("MP", "FA")


def test_with_founder_adds_an_unrelated_founder_last() -> None:
    ped = Pedigree.from_spec(TRIO).with_founder("U", "F")
    assert ped.ids[-1] == "U"
    assert ped.founders() == ("MO", "FA", "U")
    with pytest.raises(KinshipInputError, match="duplicate person id 'MO'"):
        ped.with_founder("MO")


def test_pedigrees_are_frozen_and_comparable() -> None:
    ped = Pedigree.from_spec(TRIO)
    assert ped == Pedigree.from_spec(TRIO)
    assert hash(ped) == hash(Pedigree.from_spec(TRIO))
    with pytest.raises(AttributeError):
        ped.persons = ()  # type: ignore[misc]


# -- relationship pedigrees --------------------------------------------------------------------


def _parents(ped: Pedigree, person_id: str) -> set[str]:
    person = ped[person_id]
    return {p for p in (person.mother, person.father) if p is not None}


def _grandparents(ped: Pedigree, person_id: str) -> set[str]:
    return {gp for parent in _parents(ped, person_id) for gp in _parents(ped, parent)}


def test_parent_child_pedigree() -> None:
    ped, a, b = relationship_pedigree("parent-child")
    assert len(ped) == 3
    assert a in _parents(ped, b)
    assert ped.founders() == tuple(id_ for id_ in ped.ids if id_ != b)
    assert _parents(ped, a) == set()


def test_full_siblings_pedigree() -> None:
    ped, a, b = relationship_pedigree("full-siblings")
    assert len(ped) == 4
    assert _parents(ped, a) == _parents(ped, b)
    assert len(_parents(ped, a)) == 2
    assert set(ped.founders()) == _parents(ped, a)


def test_half_siblings_pedigree() -> None:
    ped, a, b = relationship_pedigree("half-siblings")
    assert len(ped) == 5
    assert len(_parents(ped, a) & _parents(ped, b)) == 1
    assert len(ped.founders()) == 3


def test_grandparent_pedigree() -> None:
    ped, a, b = relationship_pedigree("grandparent")
    assert len(ped) == 5
    assert a in _grandparents(ped, b)
    assert len(ped.founders()) == 3  # A, A's spouse, B's other parent


def test_avuncular_pedigree() -> None:
    ped, a, b = relationship_pedigree("avuncular")
    assert len(ped) == 6
    parent_of_b = next(p for p in _parents(ped, b) if ped[p].is_founder is False)
    assert _parents(ped, parent_of_b) == _parents(ped, a)  # A is a full sibling of B's parent
    assert len(ped.founders()) == 3


def test_first_cousins_pedigree() -> None:
    ped, a, b = relationship_pedigree("first-cousins")
    assert len(ped) == 8
    assert _parents(ped, a).isdisjoint(_parents(ped, b))
    assert len(_grandparents(ped, a) & _grandparents(ped, b)) == 2
    assert len(ped.founders()) == 4


def test_unrelated_pedigree() -> None:
    ped, a, b = relationship_pedigree("unrelated")
    assert ped.founders() == (a, b)
    assert ped.nonfounders() == ()


def test_every_named_relationship_has_a_pedigree() -> None:
    for name in RELATIONSHIPS:
        ped, a, b = relationship_pedigree(name)
        assert a in ped and b in ped and a != b


def test_kappa_relationship_has_no_pedigree() -> None:
    with pytest.raises(KinshipInputError, match="kappa relationship has no pedigree"):
        relationship_pedigree({"kappa": [0.25, 0.5, 0.25]})


@pytest.mark.parametrize("name", ["cousins", "Parent-Child", "", None, 3])
def test_unknown_relationship(name: object) -> None:
    with pytest.raises(KinshipInputError, match="unknown relationship"):
        relationship_pedigree(name)
