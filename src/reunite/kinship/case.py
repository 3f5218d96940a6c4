"""Case files: read a ``CASE.json`` strictly, validate it, and compute its likelihood ratio.

This module is the contract behind ``reunite kinship lr CASE.json`` (see
``docs/kinship-case-format.md`` for the format with worked examples). A case is a JSON object
with exactly these top-level keys, all others being an error:

``profiles`` (required)
    ``{profile_id: {locus: [allele, allele], "AMEL": "XY"}}``, read by
    :func:`reunite.kinship.profiles.parse_profiles`. The order of the object is kept.
``frequencies`` / ``population``
    The allele frequencies: ``frequencies`` is ``{locus: {allele: frequency}}`` given with the
    case; ``population`` is the id of a shipped table (``reunite kinship tables``), used when
    ``frequencies`` is absent. With both, ``frequencies`` is used, ``population`` must still name a
    shipped table, and a note says it was ignored. With neither: an error. Case frequencies carry
    no sample size, so every allele of the profiles must be listed in them; a shipped table gives
    an absent allele 5/(2N) (or its floor) with a note (:func:`~reunite.kinship.frequencies.
    frequencies_for`).
``theta``
    The subpopulation correction θ, a number in [0, 0.25); default 0.
``mutation``
    Optional (absent or ``null``: no mutation); the shape of
    :func:`reunite.kinship.mutation.parse_mutation`.
``relationship`` *or* ``pedigree`` (exactly one)
    *Relationship mode*: a name of :data:`reunite.kinship.pedigree.RELATIONSHIPS` or
    ``{"kappa": [k0, k1, k2]}``, with exactly two profiles. **The first profile listed is person
    A, the second person B**; the LR is symmetric without mutation, and with mutation A is the
    elder side of :func:`~reunite.kinship.pedigree.relationship_pedigree` (the parent, the
    grandparent, the uncle). No sexes are recorded in this mode, so amelogenin is ignored.
    Without mutation (or with one that cannot mutate, every rate 0) the LR is
    :func:`~reunite.kinship.pairwise.pairwise_lr` from κ; with mutation it is
    :func:`~reunite.kinship.likelihood.pedigree_lr` on the relationship's smallest pedigree with
    B as the missing person, A's profile as the reference and B's as the unknown. A κ
    relationship has no pedigree, so it cannot take a mutation model.

    *Pedigree mode*: ``{"persons": [...], "missing": id, "unknown": profile_id}``. ``persons``
    is read by :meth:`reunite.kinship.pedigree.Pedigree.from_spec`; ``missing`` must be a person
    of the pedigree; ``unknown`` must name a profile, and may equal ``missing`` but no other person
    id; every other profile is a reference and must belong to a person of the pedigree by id, not
    to the missing person; at least one reference is needed. The LR is
    :func:`~reunite.kinship.likelihood.pedigree_lr`.

The result's notes are, in order: the note that ``population`` was ignored (if so), the notes of
the frequencies (alleles filled in, loci renormalised or left out), the engine's notes, and a note
when no locus could be compared (LR 1). A typed locus absent from the frequencies is taken out of
the profiles before the engine runs, so it is noted once, by the frequencies.

Every problem raises :class:`~reunite.kinship.errors.KinshipInputError` with a one-line message.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from reunite.kinship.errors import KinshipInputError, shown
from reunite.kinship.frequencies import CaseFrequencies, frequencies_for, list_tables
from reunite.kinship.likelihood import pedigree_lr
from reunite.kinship.mutation import MutationSpec, parse_mutation
from reunite.kinship.pairwise import check_theta, kappa_of, pairwise_lr
from reunite.kinship.pedigree import Pedigree, relationship_pedigree
from reunite.kinship.profiles import Profile, parse_profiles
from reunite.kinship.results import LRResult

__all__ = [
    "CASE_KEYS",
    "MAX_CASE_BYTES",
    "PEDIGREE_KEYS",
    "PreparedCase",
    "load_case",
    "parse_case_json",
    "prepare_case",
    "run_case",
]

#: The top-level keys a case may have.
CASE_KEYS = (
    "frequencies",
    "population",
    "theta",
    "mutation",
    "relationship",
    "profiles",
    "pedigree",
)
#: The keys of the ``pedigree`` object (all required).
PEDIGREE_KEYS = ("persons", "missing", "unknown")
#: Largest case file accepted (bytes). A real case is a few kilobytes; a shipped-size table of
#: case frequencies well under a megabyte.
MAX_CASE_BYTES = 10 * 1024 * 1024

_UTF8_BOM = b"\xef\xbb\xbf"


# ---------------------------------------------------------------------------------------------
# Reading JSON strictly
# ---------------------------------------------------------------------------------------------


def _reject_constant(name: str) -> NoReturn:
    raise KinshipInputError(f"{name} is not a JSON number; give a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise KinshipInputError(f"the number {shown(text)} is too large for a float")
    return value


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise KinshipInputError(f"duplicate key {shown(key)} in a JSON object")
        result[key] = value
    return result


def parse_case_json(raw: bytes | str, *, source: str = "the case") -> dict[str, Any]:
    """The case object from JSON text or UTF-8 bytes, read strictly.

    Refused, each with a one-line :class:`KinshipInputError` that names ``source``: more than
    :data:`MAX_CASE_BYTES`, bytes that are not UTF-8 (a UTF-8 byte-order mark is skipped), empty
    input, malformed JSON, the non-standard constants ``NaN``/``Infinity``/``-Infinity``, a number
    beyond the float range (``1e999``) or with more digits than Python converts, a key repeated
    within one object, nesting too deep to read, and a top level that is not an object.
    """
    if isinstance(raw, str):
        text = raw
        size = len(raw.encode("utf-8", "surrogatepass"))
    elif isinstance(raw, bytes | bytearray):
        size = len(raw)
        if size > MAX_CASE_BYTES:
            raise KinshipInputError(f"{source} is larger than {MAX_CASE_BYTES} bytes")
        data = bytes(raw).removeprefix(_UTF8_BOM)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise KinshipInputError(
                f"{source} is not UTF-8 text (bad byte at offset {error.start})"
            ) from None
    else:
        raise KinshipInputError(f"{source} must be JSON text, got {type(raw).__name__}")
    if size > MAX_CASE_BYTES:
        raise KinshipInputError(f"{source} is larger than {MAX_CASE_BYTES} bytes")
    if not text.strip():
        raise KinshipInputError(f"{source} is empty")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique_object,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
    except KinshipInputError as error:
        raise KinshipInputError(f"{source} is not valid JSON: {error}") from None
    except json.JSONDecodeError as error:
        raise KinshipInputError(
            f"{source} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise KinshipInputError(f"{source} is nested too deeply to read") from None
    except ValueError as error:  # e.g. an integer with more digits than Python converts
        raise KinshipInputError(f"{source} is not usable JSON: {error}") from None
    if not isinstance(value, dict):
        raise KinshipInputError(
            f"{source} must be a JSON object {{...}}, got a JSON {_json_kind(value)}"
        )
    return value


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"


def load_case(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The case object of the JSON file at ``path`` (see :func:`parse_case_json`).

    A missing file, a directory, an unreadable file or one over :data:`MAX_CASE_BYTES` is a
    :class:`KinshipInputError` naming the path; at most ``MAX_CASE_BYTES + 1`` bytes are read, so
    an endless file (``/dev/zero``) is refused too.
    """
    name = os.fspath(path)
    where = shown(str(name), 80)
    try:
        with Path(name).open("rb") as handle:
            raw = handle.read(MAX_CASE_BYTES + 1)
    except FileNotFoundError:
        raise KinshipInputError(f"no such file: {where}") from None
    except IsADirectoryError:
        raise KinshipInputError(f"{where} is a directory, not a case file") from None
    except PermissionError:
        raise KinshipInputError(f"permission denied reading {where}") from None
    except OSError as error:
        raise KinshipInputError(f"cannot read {where}: {error.strerror or error}") from None
    return parse_case_json(raw, source=where)


# ---------------------------------------------------------------------------------------------
# Validating a case
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedCase:
    """A validated case, ready for the engine (and for other commands built on a case).

    ``profiles``: all profiles, input order, restricted to the loci that have frequencies
    (amelogenin kept, except in relationship mode). ``frequencies``: from
    :func:`~reunite.kinship.frequencies.frequencies_for` over all profiles. ``mutation``: ``None``
    when nothing can mutate. Relationship mode: ``relationship`` is set, ``first``/``second`` are
    persons A and B. Pedigree mode: ``pedigree``, ``missing``, ``unknown`` (the unknown profile)
    and ``references`` (person id → profile) are set. ``notes``: case-level notes (before the
    frequencies' own notes).
    """

    profiles: Mapping[str, Profile]
    frequencies: CaseFrequencies
    theta: float
    mutation: MutationSpec | None
    notes: tuple[str, ...] = ()
    relationship: str | Mapping[str, Any] | None = None
    first: Profile | None = None
    second: Profile | None = None
    pedigree: Pedigree | None = None
    missing: str | None = None
    unknown: Profile | None = None
    references: Mapping[str, Profile] = dataclasses.field(default_factory=dict)


def _require_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise KinshipInputError(f"{what} must be a non-empty string, got {shown(value)}")
    return value


def _frequency_source(data: Mapping[str, Any]) -> tuple[Any, list[str]]:
    """The ``source`` for :func:`frequencies_for` and the case-level notes about it."""
    tables = [info.id for info in list_tables()]
    notes: list[str] = []
    if "population" in data:
        population = data["population"]
        if not isinstance(population, str):
            raise KinshipInputError(
                f"'population' must be the id of a shipped table ({', '.join(tables)}), "
                f"got {shown(population)}"
            )
        if population not in tables:
            raise KinshipInputError(
                f"unknown population table {shown(population)}; available: {', '.join(tables)}"
            )
    if "frequencies" in data:
        frequencies = data["frequencies"]
        if not isinstance(frequencies, Mapping):
            raise KinshipInputError(
                "'frequencies' must be an object {locus: {allele: frequency}}, "
                f"got {shown(frequencies)}"
            )
        if "population" in data:
            notes.append(f"'population' {data['population']} ignored: the case gives 'frequencies'")
        return frequencies, notes
    if "population" in data:
        return data["population"], notes
    raise KinshipInputError(
        "the case needs 'frequencies' ({locus: {allele: frequency}}) or 'population' "
        f"(one of {', '.join(tables)})"
    )


def _restricted(profile: Profile, loci: Mapping[str, object], *, keep_sex: bool) -> Profile:
    """``profile`` with only the loci of ``loci``; amelogenin dropped unless ``keep_sex``."""
    genotypes = {locus: g for locus, g in profile.genotypes.items() if locus in loci}
    return Profile(profile.id, genotypes, profile.amelogenin if keep_sex else None)


def _pedigree_part(
    spec: object, profiles: Mapping[str, Profile], *, need_unknown: bool = True
) -> tuple[Pedigree, str, str | None, dict[str, str]]:
    """Validated ``(pedigree, missing, unknown profile id, {profile id: person id})``; without
    ``need_unknown`` (planning) ``unknown`` may be absent and is then ``None``."""
    if not isinstance(spec, Mapping):
        raise KinshipInputError(
            '\'pedigree\' must be an object {"persons": [...], "missing": id, '
            f'"unknown": profile id}}, got {shown(spec)}'
        )
    for key in spec:
        if key not in PEDIGREE_KEYS:
            raise KinshipInputError(
                f"unknown key {shown(key)} in 'pedigree'; allowed: {', '.join(PEDIGREE_KEYS)}"
            )
    for key in PEDIGREE_KEYS:
        if key not in spec and (need_unknown or key != "unknown"):
            raise KinshipInputError(f"'pedigree' needs {key!r}")
    try:
        pedigree = Pedigree.from_spec(spec["persons"])
    except RecursionError:
        raise KinshipInputError("the pedigree has too many generations to check") from None
    missing = _require_id(spec["missing"], "'pedigree.missing'")
    unknown = _require_id(spec["unknown"], "'pedigree.unknown'") if "unknown" in spec else None
    if missing not in pedigree:
        raise KinshipInputError(f"the missing person {missing!r} is not in the pedigree")
    if unknown is None:
        pass
    elif unknown not in profiles:
        raise KinshipInputError(
            f"'pedigree.unknown' {unknown!r} names no profile; profiles: "
            f"{shown(list(profiles), 60)}"
        )
    if unknown != missing and unknown in pedigree:
        raise KinshipInputError(
            f"the unknown profile {unknown!r} has the id of a person of the pedigree other than "
            f"the missing person {missing!r}; give it another id"
        )
    owners: dict[str, str] = {}
    for profile_id in profiles:
        if profile_id == unknown:
            continue
        if profile_id not in pedigree:
            raise KinshipInputError(f"profile {profile_id!r} belongs to nobody in the pedigree")
        if profile_id == missing:
            raise KinshipInputError(
                f"the missing person {missing!r} cannot also have a reference profile"
            )
        owners[profile_id] = profile_id
    if not owners:
        raise KinshipInputError(
            "the pedigree needs at least one typed relative: every profile but the unknown "
            "one belongs to a person of the pedigree"
        )
    return pedigree, missing, unknown, owners


def prepare_case(data: Mapping[str, Any], *, for_plan: bool = False) -> PreparedCase:
    """Validate a case object (module docstring) and build its profiles and frequencies.

    ``for_plan``: a planning case (``reunite kinship plan``): pedigree mode only, the unknown
    profile optional (a given one is ignored for planning), and a ``plan`` key allowed.
    """
    if not isinstance(data, Mapping):
        raise KinshipInputError(f"a case must be a JSON object, got {shown(data)}")
    allowed = (*CASE_KEYS, "plan") if for_plan else CASE_KEYS
    for key in data:
        if key not in allowed:
            raise KinshipInputError(
                f"unknown key {shown(key)} in the case; allowed: {', '.join(allowed)}"
            )
    has_relationship, has_pedigree = "relationship" in data, "pedigree" in data
    if for_plan and not has_pedigree:
        raise KinshipInputError("planning needs a 'pedigree' with the missing person")
    if has_relationship and has_pedigree:
        raise KinshipInputError("give either 'relationship' or 'pedigree', not both")
    if not has_relationship and not has_pedigree:
        raise KinshipInputError("the case needs 'relationship' (two profiles) or 'pedigree'")
    if "profiles" not in data:
        raise KinshipInputError("the case needs 'profiles'")

    theta = check_theta(data.get("theta", 0.0))
    mutation_spec = parse_mutation(data.get("mutation"))
    mutation = None if mutation_spec.is_empty else mutation_spec
    if has_relationship:
        relationship = data["relationship"]
        if not isinstance(relationship, str | Mapping):
            raise KinshipInputError(
                "'relationship' must be a relationship name or {\"kappa\": [k0, k1, k2]}, "
                f"got {shown(relationship)}"
            )
        kappa_of(relationship)  # validates the name or the kappa object
        if mutation is not None and not isinstance(relationship, str):
            raise KinshipInputError(
                "a kappa relationship has no pedigree, so it cannot take a mutation model: "
                "name the relationship, give a 'pedigree', or drop 'mutation'"
            )
    profiles = parse_profiles(data["profiles"])
    source, notes = _frequency_source(data)

    if has_relationship:
        if len(profiles) != 2:
            raise KinshipInputError(
                f"a 'relationship' case needs exactly two profiles, got {len(profiles)}"
            )
        frequencies = frequencies_for(profiles, source)
        first, second = (
            _restricted(profile, frequencies.loci, keep_sex=False) for profile in profiles.values()
        )
        return PreparedCase(
            profiles={first.id: first, second.id: second},
            frequencies=frequencies,
            theta=theta,
            mutation=mutation,
            notes=tuple(notes),
            relationship=relationship,
            first=first,
            second=second,
        )

    pedigree, missing, unknown_id, owners = _pedigree_part(
        data["pedigree"], profiles, need_unknown=not for_plan
    )
    frequencies = frequencies_for(profiles, source)
    kept = {
        profile_id: _restricted(profile, frequencies.loci, keep_sex=True)
        for profile_id, profile in profiles.items()
    }
    return PreparedCase(
        profiles=kept,
        frequencies=frequencies,
        theta=theta,
        mutation=mutation,
        notes=tuple(notes),
        pedigree=pedigree,
        missing=missing,
        unknown=None if unknown_id is None else kept[unknown_id],
        references={person: kept[profile_id] for profile_id, person in owners.items()},
    )


def _lr_of(case: PreparedCase) -> LRResult:
    if case.pedigree is not None:
        assert case.missing is not None and case.unknown is not None
        return pedigree_lr(
            case.pedigree,
            case.missing,
            case.references,
            case.unknown,
            case.frequencies,
            theta=case.theta,
            mutation=case.mutation,
        )
    assert case.first is not None and case.second is not None
    if case.mutation is None:
        return pairwise_lr(case.first, case.second, case.frequencies, case.relationship, case.theta)
    pedigree, person_a, person_b = relationship_pedigree(case.relationship)
    return pedigree_lr(
        pedigree,
        person_b,
        {person_a: case.first},
        case.second,
        case.frequencies,
        theta=case.theta,
        mutation=case.mutation,
    )


def run_case(data: Mapping[str, Any]) -> LRResult:
    """The LR of a case object (module docstring): validate, build the frequencies, compute.

    The notes of the result start with the case's and the frequencies' notes. Raises
    :class:`KinshipInputError` for any problem with the case.
    """
    case = prepare_case(data)
    result = _lr_of(case)
    notes = [*case.notes, *case.frequencies.notes, *result.notes]
    if not result.per_locus:
        notes.append(
            "no locus is typed in the unknown person and a relative with frequencies: "
            "the LR of 1 carries no information"
            if case.pedigree is not None
            else "no locus is typed in both profiles with frequencies: "
            "the LR of 1 carries no information"
        )
    return dataclasses.replace(result, per_locus=dict(result.per_locus), notes=notes)
