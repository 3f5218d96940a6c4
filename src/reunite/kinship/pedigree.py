"""Family pedigrees: persons, their parents, and the pedigrees of the pairwise relationships.

A :class:`Pedigree` is a set of :class:`Person` records (``id``, ``sex`` ``"M"``/``"F"``,
optional ``mother`` and ``father`` ids), validated on construction:

* ids are non-empty strings, each used once;
* every parent id names a person of the pedigree; a mother is ``"F"``, a father ``"M"``;
* nobody is their own ancestor (a cycle through the parent links);
* a person has both parents or none (a *founder*). A person given with only one parent gets the
  other as an implicit, untyped founder with the generated id :func:`implicit_parent_id`
  (``"_father_of_<child>"`` or ``"_mother_of_<child>"``), which is what the established software
  does when it completes a pedigree. An explicit person with that id is a duplicate-id error.

Only cycles are refused: a *marriage loop* (e.g. a child of two cousins) is a valid pedigree.

:func:`relationship_pedigree` gives the smallest pedigree that defines each pairwise relationship
of the CLI contract, as forrel/Familias build them (parent–child: the other parent untyped;
siblings: two untyped parents; ...).

Every problem raises :class:`~reunite.kinship.errors.KinshipInputError` with a one-line message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reunite.kinship.errors import KinshipInputError, shown

__all__ = [
    "RELATIONSHIPS",
    "Pedigree",
    "Person",
    "implicit_parent_id",
    "relationship_pedigree",
]

Sex = Literal["M", "F"]

#: Named pairwise relationships of the CLI contract.
RELATIONSHIPS = (
    "parent-child",
    "full-siblings",
    "half-siblings",
    "grandparent",
    "avuncular",
    "first-cousins",
    "unrelated",
)

_SPEC_KEYS = frozenset({"id", "sex", "mother", "father"})


def implicit_parent_id(child: str, role: Literal["mother", "father"]) -> str:
    """The id given to the implicit untyped ``role`` of ``child`` (``"_father_of_B"``)."""
    return f"_{role}_of_{child}"


@dataclass(frozen=True, slots=True)
class Person:
    """One person of a pedigree: ``id``, ``sex`` (``"M"``/``"F"``), parent ids or ``None``."""

    id: str
    sex: Sex
    mother: str | None = None
    father: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise KinshipInputError(f"a person id must be a non-empty string, got {shown(self.id)}")
        if self.sex not in ("M", "F"):
            raise KinshipInputError(
                f"person {self.id!r}: sex must be 'M' or 'F', got {shown(self.sex)}"
            )
        for role in ("mother", "father"):
            parent = getattr(self, role)
            if parent is not None and (not isinstance(parent, str) or not parent.strip()):
                raise KinshipInputError(
                    f"person {self.id!r}: {role} must be a person id or absent, got {shown(parent)}"
                )

    @property
    def is_founder(self) -> bool:
        """True when neither parent is given."""
        return self.mother is None and self.father is None


def _complete(persons: Iterable[Person]) -> tuple[Person, ...]:
    """The persons with an implicit founder added for every missing second parent."""
    completed: list[Person] = []
    for person in persons:
        if not isinstance(person, Person):
            raise KinshipInputError(f"a pedigree holds Person records, got {shown(person)}")
        if (person.mother is None) == (person.father is None):
            completed.append(person)
            continue
        if person.mother is None:
            mother = implicit_parent_id(person.id, "mother")
            completed.append(Person(mother, "F"))
            completed.append(Person(person.id, person.sex, mother, person.father))
        else:
            father = implicit_parent_id(person.id, "father")
            completed.append(Person(father, "M"))
            completed.append(Person(person.id, person.sex, person.mother, father))
    return tuple(completed)


def _check(persons: tuple[Person, ...]) -> dict[str, Person]:
    by_id: dict[str, Person] = {}
    for person in persons:
        if person.id in by_id:
            raise KinshipInputError(f"duplicate person id {person.id!r} in the pedigree")
        by_id[person.id] = person
    for person in persons:
        for role, parent_id, sex in (
            ("mother", person.mother, "F"),
            ("father", person.father, "M"),
        ):
            if parent_id is None:
                continue
            if parent_id not in by_id:
                raise KinshipInputError(
                    f"person {person.id!r}: {role} {parent_id!r} is not in the pedigree"
                )
            if parent_id == person.id:
                raise KinshipInputError(f"pedigree loop: {person.id!r} is their own {role}")
            if by_id[parent_id].sex != sex:
                raise KinshipInputError(
                    f"sex conflict: {parent_id!r} is the {role} of {person.id!r} "
                    f"but has sex {by_id[parent_id].sex!r}"
                )
    return by_id


def _topological(persons: tuple[Person, ...], by_id: Mapping[str, Person]) -> tuple[str, ...]:
    """Ids with parents before children (input order otherwise); a cycle is an error.

    Depth-first without recursion, so that a pedigree of thousands of generations is no problem.
    """
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: placed
    for person in persons:
        if state.get(person.id) == 2:
            continue
        state[person.id] = 1
        stack: list[tuple[str, Iterator[str | None]]] = [
            (person.id, iter((person.mother, person.father)))
        ]
        while stack:
            person_id, parents = stack[-1]
            parent = next(parents, "")
            if parent == "":
                stack.pop()
                state[person_id] = 2
                order.append(person_id)
            elif parent is None or state.get(parent) == 2:
                continue
            elif state.get(parent) == 1:
                raise KinshipInputError(f"pedigree loop: {parent!r} is their own ancestor")
            else:
                state[parent] = 1
                parent_person = by_id[parent]
                stack.append((parent, iter((parent_person.mother, parent_person.father))))
    return tuple(order)


@dataclass(frozen=True)
class Pedigree:
    """A validated pedigree (module docstring). Build it from the CLI shape with
    :meth:`from_spec`, or from :class:`Person` records (one-parent persons are completed).

    ``persons`` is kept in topological order (parents before children).
    """

    persons: tuple[Person, ...]
    _by_id: Mapping[str, Person] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.persons, str | bytes | Mapping) or not isinstance(
            self.persons, Iterable
        ):
            raise KinshipInputError("a pedigree needs a list of persons")
        completed = _complete(self.persons)
        if not completed:
            raise KinshipInputError("a pedigree needs at least one person")
        by_id = _check(completed)
        order = _topological(completed, by_id)
        object.__setattr__(self, "persons", tuple(by_id[person_id] for person_id in order))
        object.__setattr__(self, "_by_id", by_id)

    @classmethod
    def from_spec(cls, spec: object) -> Pedigree:
        """A pedigree from ``[{"id": ..., "sex": "M"|"F", "mother"?: ..., "father"?: ...}]``.

        ``mother``/``father`` may be absent or ``null``. Raises :class:`KinshipInputError`.
        """
        if isinstance(spec, str | bytes | Mapping) or not isinstance(spec, Sequence):
            raise KinshipInputError(f"pedigree persons must be a list, got {shown(spec)}")
        persons: list[Person] = []
        for index, entry in enumerate(spec):
            if not isinstance(entry, Mapping):
                raise KinshipInputError(
                    f"pedigree person #{index + 1} must be an object, got {shown(entry)}"
                )
            unknown = sorted(str(key) for key in entry if key not in _SPEC_KEYS)
            if unknown:
                raise KinshipInputError(
                    f"pedigree person #{index + 1}: unknown key {shown(unknown[0])}"
                )
            for key in ("id", "sex"):
                if key not in entry:
                    raise KinshipInputError(f"pedigree person #{index + 1}: {key!r} is required")
            persons.append(
                Person(
                    id=entry["id"],
                    sex=entry["sex"],
                    mother=entry.get("mother"),
                    father=entry.get("father"),
                )
            )
        return cls(tuple(persons))

    def as_spec(self) -> list[dict[str, Any]]:
        """The pedigree in the CLI shape (implicit founders included), topological order."""
        spec: list[dict[str, Any]] = []
        for person in self.persons:
            entry: dict[str, Any] = {"id": person.id, "sex": person.sex}
            if person.mother is not None:
                entry["mother"] = person.mother
                entry["father"] = person.father
            spec.append(entry)
        return spec

    # -- lookups -------------------------------------------------------------------------------

    def __contains__(self, person_id: object) -> bool:
        return person_id in self._by_id

    def __getitem__(self, person_id: str) -> Person:
        try:
            return self._by_id[person_id]
        except KeyError:
            raise KinshipInputError(f"{person_id!r} is not in the pedigree") from None

    def __iter__(self) -> Iterator[Person]:
        return iter(self.persons)

    def __len__(self) -> int:
        return len(self.persons)

    @property
    def ids(self) -> tuple[str, ...]:
        """All ids, parents before children."""
        return tuple(person.id for person in self.persons)

    def topological_order(self) -> tuple[str, ...]:
        """All ids, parents before children (the input order where it is free)."""
        return self.ids

    def founders(self) -> tuple[str, ...]:
        """Ids of the persons without parents, in topological order."""
        return tuple(person.id for person in self.persons if person.is_founder)

    def nonfounders(self) -> tuple[str, ...]:
        """Ids of the persons with both parents, in topological order."""
        return tuple(person.id for person in self.persons if not person.is_founder)

    def children(self, person_id: str) -> tuple[str, ...]:
        """Ids of the children of ``person_id``, in topological order."""
        self[person_id]
        return tuple(
            person.id for person in self.persons if person_id in (person.mother, person.father)
        )

    # -- edits ---------------------------------------------------------------------------------

    def replace(self, missing_id: str, unknown_id: str) -> Pedigree:
        """This pedigree with person ``missing_id`` renamed ``unknown_id`` (links included).

        Used to place the unknown person's profile at the missing person's position (H1).
        """
        self[missing_id]
        if unknown_id == missing_id:
            return self
        if unknown_id in self:
            raise KinshipInputError(
                f"the unknown person's id {unknown_id!r} is already in the pedigree"
            )

        def rename(person_id: str | None) -> str | None:
            return unknown_id if person_id == missing_id else person_id

        return Pedigree(
            tuple(
                Person(
                    unknown_id if p.id == missing_id else p.id,
                    p.sex,
                    rename(p.mother),
                    rename(p.father),
                )
                for p in self.persons
            )
        )

    def with_founder(self, person_id: str, sex: Sex = "M") -> Pedigree:
        """This pedigree plus an unrelated founder ``person_id`` (e.g. the unknown under H2)."""
        return Pedigree((*self.persons, Person(person_id, sex)))


def _build(spec: list[tuple[str, Sex, str | None, str | None]]) -> Pedigree:
    return Pedigree(tuple(Person(*entry) for entry in spec))


def relationship_pedigree(relationship: object) -> tuple[Pedigree, str, str]:
    """``(pedigree, id_a, id_b)``: the smallest pedigree defining ``relationship`` between A and B.

    ``relationship`` is one of :data:`RELATIONSHIPS`. Other persons are untyped:

    * ``parent-child``: A (father) and B, B's mother untyped;
    * ``full-siblings``: A and B, children of two untyped founders;
    * ``half-siblings``: A and B share their father; two different untyped mothers;
    * ``grandparent``: A is B's paternal grandfather (A, grandmother, B's father, B's mother, B);
    * ``avuncular``: A is B's uncle (A and B's father are full siblings; B's mother untyped);
    * ``first-cousins``: A and B are children of two full brothers, with untyped mothers;
    * ``unrelated``: A and B are two founders.

    A ``{"kappa": [k0, k1, k2]}`` relationship has no pedigree (it is computed directly from
    the IBD coefficients): a :class:`KinshipInputError`, as is an unknown name.
    """
    if isinstance(relationship, Mapping) and "kappa" in relationship:
        raise KinshipInputError(
            "a kappa relationship has no pedigree: its LR is computed directly from (k0, k1, k2)"
        )
    if not isinstance(relationship, str) or relationship not in RELATIONSHIPS:
        raise KinshipInputError(
            f"unknown relationship {shown(relationship)}: expected one of "
            f"{', '.join(RELATIONSHIPS)} or {{'kappa': [k0, k1, k2]}}"
        )
    if relationship == "parent-child":
        ped = _build([("A", "M", None, None), ("MO", "F", None, None), ("B", "M", "MO", "A")])
    elif relationship == "full-siblings":
        ped = _build(
            [
                ("FA", "M", None, None),
                ("MO", "F", None, None),
                ("A", "M", "MO", "FA"),
                ("B", "M", "MO", "FA"),
            ]
        )
    elif relationship == "half-siblings":
        ped = _build(
            [
                ("FA", "M", None, None),
                ("MO_A", "F", None, None),
                ("MO_B", "F", None, None),
                ("A", "M", "MO_A", "FA"),
                ("B", "M", "MO_B", "FA"),
            ]
        )
    elif relationship == "grandparent":
        ped = _build(
            [
                ("A", "M", None, None),
                ("GM", "F", None, None),
                ("FA", "M", "GM", "A"),
                ("MO", "F", None, None),
                ("B", "M", "MO", "FA"),
            ]
        )
    elif relationship == "avuncular":
        ped = _build(
            [
                ("GF", "M", None, None),
                ("GM", "F", None, None),
                ("A", "M", "GM", "GF"),
                ("FA", "M", "GM", "GF"),
                ("MO", "F", None, None),
                ("B", "M", "MO", "FA"),
            ]
        )
    elif relationship == "first-cousins":
        ped = _build(
            [
                ("GF", "M", None, None),
                ("GM", "F", None, None),
                ("FA_A", "M", "GM", "GF"),
                ("FA_B", "M", "GM", "GF"),
                ("MO_A", "F", None, None),
                ("MO_B", "F", None, None),
                ("A", "M", "MO_A", "FA_A"),
                ("B", "M", "MO_B", "FA_B"),
            ]
        )
    else:
        ped = _build([("A", "M", None, None), ("B", "M", None, None)])
    return ped, "A", "B"
