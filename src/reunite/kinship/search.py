"""Database search: every unidentified profile against every family, exact and fast.

The national comparison ("battle") asks, for every family with typed relatives of a missing
person and every unidentified profile, the LR that the unidentified person is the missing one
(:func:`reunite.kinship.likelihood.pedigree_lr`), and keeps the pairs at or above a threshold.
For a fixed family and locus the LR depends only on the unknown person's genotype, so each
family becomes one *table* per locus (LR of every genotype, θ and mutation folded in; see
:mod:`reunite.kinship.search_tables`) and the search becomes table look-ups and additions of
log10 LRs, with an exact early exit (:mod:`reunite.kinship.search_kernels`).

Pieces, in the order a caller uses them:

* :func:`make_panel` — the frequency **panel**: a shipped table, the loci of the search, θ and
  the mutation models. Its frequencies are those
  :func:`~reunite.kinship.frequencies.frequencies_for` gives for *all* the profiles of the
  search (an allele absent from the table gets 5/(2N) or the table's floor, and its locus is
  renormalised), so every pair is scored with the same frequencies. A profile carrying an
  allele the panel lacks is refused with a clear message; :meth:`Panel.extended` gives the
  panel that covers it (all encodings must then be redone, the allele indices having moved).
* :meth:`Panel.encode` — profiles as a :class:`ProfileMatrix`: ``uint16`` genotype indices
  ``(N, L)`` (:func:`~reunite.kinship.likelihood.genotype_index` over the panel's alleles,
  :data:`UNTYPED` where a locus is untyped).
* :class:`Family` and :func:`encode_families` — families as a :class:`FamilyMatrix`. A family
  is a pedigree, its missing person and its typed references. Families whose (trimmed) pedigree
  is one of the canonical shapes — one parent or child, both parents (``trio``), a full or half
  sibling, a grandparent or grandchild, an uncle or aunt, a nephew or niece, a first cousin —
  are stored as their references' genotypes
  and use closed forms; any other family (several siblings, a grandparent pair, ...) gets its
  tables from the general engine (:func:`~reunite.kinship.plan.genotype_tables`) once, here.
* :func:`search` — the screen and the exact rescoring, in chunks of families (a chunk's
  candidates can be checkpointed as it finishes and a run resumed without its done chunks);
  :func:`search_dask` the same on a Dask cluster, one task per chunk, with identical results.
  An incremental search is the same call with one new unknown (or one new family): about two
  seconds for one unknown against 800,000 families.
* :func:`expected_false_candidates` — how many unrelated pairs a threshold lets through, by
  simulation with the panel's frequencies, beside the bound ``pairs / threshold``.

**Exactness.** The screen sums float32 log10 LRs; a pair goes on to the exact stage when its sum
reaches ``log10(threshold) - margin``, where the margin bounds the float32 rounding of the whole
sum (:func:`_margin`). The early exit uses upper bounds of what the remaining loci can add, so no
pair is dropped that could reach the threshold. Every pair that passes is rescored from the
float64 tables: its per-locus LRs and total equal :func:`pedigree_lr` (with the panel's
frequencies, θ and mutation) to about 1e-14, and the pair is kept when its exact LR reaches the
threshold. So the candidates are exactly the pairs whose exact LR reaches the threshold.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from reunite.kinship.errors import KinshipInputError, shown
from reunite.kinship.frequencies import (
    FrequencyTable,
    LocusFrequencies,
    frequencies_for,
    load_table,
)
from reunite.kinship.likelihood import _check_profiles, genotype_count, genotype_pairs
from reunite.kinship.loci import locus_sort_key, normalise_locus
from reunite.kinship.mutation import MutationSpec, parse_mutation
from reunite.kinship.pairwise import check_theta
from reunite.kinship.pedigree import Pedigree, Sex
from reunite.kinship.plan import genotype_tables
from reunite.kinship.profiles import Genotype, Profile
from reunite.kinship.search_tables import (
    PAIRWISE,
    canonical_pedigree,
    mutation_for,
    pairwise_matrix,
    trio_lr,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "HYPOTHESES",
    "MAX_CANDIDATES",
    "MAX_LOCI",
    "UNTYPED",
    "Candidate",
    "ChunkResult",
    "FalseCandidateEstimate",
    "Family",
    "FamilyMatrix",
    "Panel",
    "ProfileMatrix",
    "SearchClusterError",
    "SearchResult",
    "check_threshold",
    "default_chunk_size",
    "encode_families",
    "exact_log10_lr",
    "expected_false_candidates",
    "make_panel",
    "search",
    "search_dask",
    "simulate_unrelated",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
GenotypeArray = npt.NDArray[np.uint16]

#: The hypotheses of a family, by code (the index): the canonical shapes, then any pedigree.
HYPOTHESES: tuple[str, ...] = (*PAIRWISE, "trio", "pedigree")
_CODE = {name: code for code, name in enumerate(HYPOTHESES)}
_PAIRWISE_CODES = tuple(_CODE[name] for name in PAIRWISE)
_TRIO = _CODE["trio"]
_PEDIGREE = _CODE["pedigree"]
_PARENT_CHILD = _CODE["parent-child"]

#: Genotype index of an untyped locus.
UNTYPED = 0xFFFF
#: Default LR threshold of a candidate.
DEFAULT_THRESHOLD = 10_000.0
#: Most candidates one search may return (a lower threshold would flood the review queue).
MAX_CANDIDATES = 10_000_000
#: Most loci of a panel.
MAX_LOCI = 64
#: Largest per-locus deficit (log10) counted when ordering a family's loci.
_DEFICIT_CAP = 10.0
#: Families per chunk when the caller does not choose: about 4e7 pairs per chunk.
_PAIRS_PER_CHUNK = 40_000_000
_MIN_CHUNK = 1024
_MAX_CHUNK = 65_536


class SearchClusterError(RuntimeError):
    """The Dask cluster could not be reached or failed during a search (one-line message)."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


# ---------------------------------------------------------------------------------------------
# The panel
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Panel:
    """The frequencies, loci, θ and mutation models of a search (build with :func:`make_panel`).

    ``loci``: canonical names in canonical order. ``frequencies``: per locus the completed
    :class:`LocusFrequencies` (table alleles plus the profiles' off-table alleles, summing to 1);
    the panel's allele *indices* are positions in ``frequencies[locus].alleles``. ``notes``: the
    adjustments made (off-table alleles, renormalisation, profile loci not searched). ``key``: a
    fingerprint of everything that decides an LR, carried by the encoded matrices so that
    matrices of different panels are never mixed.
    """

    table: FrequencyTable
    loci: tuple[str, ...]
    frequencies: Mapping[str, LocusFrequencies]
    theta: float
    mutation: MutationSpec
    notes: tuple[str, ...]
    key: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha256()
        digest.update(f"{self.table.name}|{self.theta!r}".encode())
        for locus in self.loci:
            freqs = self.frequencies[locus]
            model = self.mutation.for_locus(locus)
            digest.update(f"|{locus}:{','.join(freqs.alleles)}".encode())
            digest.update(np.ascontiguousarray(freqs.frequencies).tobytes())
            digest.update(repr(None if model is None else model.as_dict()).encode())
        object.__setattr__(self, "key", digest.hexdigest()[:16])

    @property
    def sizes(self) -> tuple[int, ...]:
        """The number of alleles at each locus."""
        return tuple(len(self.frequencies[locus]) for locus in self.loci)

    @property
    def genotype_counts(self) -> tuple[int, ...]:
        """The number of unordered genotypes at each locus."""
        return tuple(genotype_count(n) for n in self.sizes)

    def extra_alleles(self) -> dict[str, tuple[str, ...]]:
        """Per locus, the alleles the panel holds beyond its table (from the profiles)."""
        found: dict[str, tuple[str, ...]] = {}
        for locus in self.loci:
            table = self.table.loci[locus]
            extra = tuple(a for a in self.frequencies[locus].alleles if a not in table)
            if extra:
                found[locus] = extra
        return found

    def covers(self, profiles: Iterable[Profile]) -> bool:
        """Whether every allele of ``profiles`` at a panel locus is in the panel."""
        for profile in profiles:
            for locus, genotype in profile.genotypes.items():
                freqs = self.frequencies.get(locus)
                if freqs is not None and not all(a in freqs for a in genotype.alleles):
                    return False
        return True

    def extended(self, profiles: Iterable[Profile]) -> Panel:
        """This panel, or — when ``profiles`` carry alleles it lacks — the panel built from the
        same table, loci, θ and mutation for its earlier off-table alleles plus the new ones."""
        people = list(profiles)
        if self.covers(people):
            return self
        return make_panel(
            self.table,
            [*people, *_probes(self.extra_alleles())],
            loci=self.loci,
            theta=self.theta,
            mutation=self.mutation,
        )

    def encode(
        self, profiles: Iterable[Profile] | Mapping[str, Profile], *, skip_invalid: bool = False
    ) -> ProfileMatrix:
        """Encode unidentified profiles; loci outside the panel are ignored.

        An allele the panel lacks raises :class:`KinshipInputError` naming the profile, or with
        ``skip_invalid`` leaves the profile out and lists it in ``rejected``.
        """
        people = _profile_list(profiles)
        ids: list[str] = []
        rows: list[list[int]] = []
        rejected: list[tuple[str, str]] = []
        seen: set[str] = set()
        for profile in people:
            if profile.id in seen:
                raise KinshipInputError(f"profile id {profile.id!r} is given twice")
            seen.add(profile.id)
            try:
                rows.append(self._genotype_row(profile))
            except KinshipInputError as error:
                if not skip_invalid:
                    raise
                rejected.append((profile.id, str(error)))
                continue
            ids.append(profile.id)
        genotypes = np.array(rows, dtype=np.uint16).reshape(len(rows), len(self.loci))
        return ProfileMatrix(self.key, tuple(ids), genotypes, tuple(rejected))

    def _genotype_row(self, profile: Profile) -> list[int]:
        row: list[int] = []
        for locus in self.loci:
            genotype = profile.genotypes.get(locus)
            row.append(UNTYPED if genotype is None else self._index(profile.id, locus, genotype))
        return row

    def _index(self, owner: str, locus: str, genotype: Genotype) -> int:
        freqs = self.frequencies[locus]
        for allele in genotype.alleles:
            if allele not in freqs:
                raise KinshipInputError(
                    f"allele {allele} at {locus} of profile {owner!r} is not in the search panel "
                    "(frequency table plus the alleles of the profiles it was built from); "
                    "rebuild the panel with this profile (Panel.extended)"
                )
        a, b = freqs.index(genotype.first), freqs.index(genotype.second)
        low, high = (a, b) if a <= b else (b, a)
        return high * (high + 1) // 2 + low

    def as_dict(self) -> dict[str, Any]:
        """Provenance for a run record or a report: table, loci, θ, mutation, notes, key."""
        return {
            "table": self.table.name,
            "loci": list(self.loci),
            "theta": self.theta,
            "mutation": {
                locus: (None if (m := self.mutation.for_locus(locus)) is None else m.as_dict())
                for locus in self.loci
            },
            "notes": list(self.notes),
            "key": self.key,
        }


def _profile_list(profiles: Iterable[Profile] | Mapping[str, Profile]) -> list[Profile]:
    if isinstance(profiles, Profile):
        raise KinshipInputError("expected a collection of profiles, not one Profile")
    people = list(profiles.values()) if isinstance(profiles, Mapping) else list(profiles)
    for profile in people:
        if not isinstance(profile, Profile):
            raise KinshipInputError(f"expected Profile objects, got {type(profile).__name__}")
    return people


def _probes(alleles: Mapping[str, Sequence[str]]) -> list[Profile]:
    """Profiles that carry the given alleles (homozygous, one allele per locus per profile)."""
    depth = max((len(values) for values in alleles.values()), default=0)
    return [
        Profile(
            f"_panel_probe_{i}_",
            {
                locus: Genotype(values[i], values[i])
                for locus, values in alleles.items()
                if i < len(values)
            },
        )
        for i in range(depth)
    ]


def make_panel(
    source: FrequencyTable | str,
    profiles: Iterable[Profile] | Mapping[str, Profile] = (),
    *,
    loci: Sequence[str] | None = None,
    theta: float = 0.0,
    mutation: MutationSpec | Mapping[str, Any] | None = None,
) -> Panel:
    """The panel of a search over ``profiles`` (references and unidentified alike).

    ``source``: a :class:`FrequencyTable` or the id of a shipped table. ``loci``: the loci to
    search (any accepted spelling); default every locus of the table typed in some profile. An
    unknown locus name, or a locus the table lacks, raises :class:`KinshipInputError`.
    ``mutation``: a :class:`MutationSpec` or the case-file shape of
    :func:`~reunite.kinship.mutation.parse_mutation`.
    """
    table = load_table(source) if isinstance(source, str) else source
    if not isinstance(table, FrequencyTable):
        raise KinshipInputError(f"expected a frequency table or its id, got {shown(source)}")
    people = _profile_list(profiles)
    t = check_theta(theta)
    spec = mutation if isinstance(mutation, MutationSpec) else parse_mutation(mutation)
    notes: list[str] = []
    if loci is None:
        typed = {locus for profile in people for locus in profile.genotypes}
        chosen = sorted((locus for locus in typed if locus in table.loci), key=locus_sort_key)
        outside = sorted(typed - set(chosen), key=locus_sort_key)
        if not chosen:
            raise KinshipInputError(
                f"no locus typed in the profiles is in frequency table {table.name}"
            )
    else:
        if isinstance(loci, str):
            raise KinshipInputError("loci must be a list of locus names, not one string")
        chosen = []
        for name in loci:
            locus = normalise_locus(name)
            if locus in chosen:
                raise KinshipInputError(f"locus {locus} is listed twice")
            if locus not in table.loci:
                raise KinshipInputError(f"locus {locus} is not in frequency table {table.name}")
            chosen.append(locus)
        chosen.sort(key=locus_sort_key)
        if not chosen:
            raise KinshipInputError("a search needs at least one locus")
        typed = {locus for profile in people for locus in profile.genotypes}
        outside = sorted(typed - set(chosen), key=locus_sort_key)
    if len(chosen) > MAX_LOCI:
        raise KinshipInputError(f"a search takes at most {MAX_LOCI} loci, got {len(chosen)}")
    if outside:
        notes.append(f"loci typed in some profiles but not searched: {', '.join(outside)}")
    restricted = [
        Profile(p.id, {locus: g for locus, g in p.genotypes.items() if locus in chosen})
        for p in people
    ]
    anchor = Profile(
        "_panel_anchor_",
        {
            locus: Genotype(table.loci[locus].alleles[0], table.loci[locus].alleles[0])
            for locus in chosen
        },
    )
    case = frequencies_for([*restricted, anchor], table, strict_loci=True)
    notes.extend(case.notes)
    for locus in chosen:
        if genotype_count(len(case.loci[locus])) >= UNTYPED:
            raise KinshipInputError(
                f"locus {locus} has {len(case.loci[locus])} alleles: more than a search encodes"
            )
    return Panel(
        table=table,
        loci=tuple(chosen),
        frequencies=MappingProxyType({locus: case.loci[locus] for locus in chosen}),
        theta=t,
        mutation=spec,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------
# Encoded profiles and families
# ---------------------------------------------------------------------------------------------


def _check_genotypes(
    panel_sizes: Sequence[int], genotypes: npt.ArrayLike, what: str
) -> GenotypeArray:
    array = np.asarray(genotypes)
    if array.dtype != np.uint16:
        raise KinshipInputError(f"{what} must be a uint16 array")
    limits = np.array([genotype_count(n) for n in panel_sizes], dtype=np.int64)
    if array.shape[-1] != limits.shape[0]:
        raise KinshipInputError(f"{what} has {array.shape[-1]} loci, the panel {limits.shape[0]}")
    values = array.astype(np.int64)
    if np.any((values >= limits) & (values != UNTYPED)):
        raise KinshipInputError(f"{what} holds a genotype index outside the panel")
    return np.ascontiguousarray(array)


@dataclass(frozen=True, eq=False)
class ProfileMatrix:
    """Encoded unidentified profiles: ``ids`` and ``genotypes`` (``uint16``, ``(N, L)``,
    :data:`UNTYPED` where untyped), for the panel whose key is ``panel_key``. ``rejected``:
    ``(id, reason)`` of the profiles left out by ``skip_invalid``."""

    panel_key: str
    ids: tuple[str, ...]
    genotypes: GenotypeArray
    rejected: tuple[tuple[str, str], ...] = ()

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_arrays(
        cls, panel: Panel, ids: Sequence[str], genotypes: npt.ArrayLike
    ) -> ProfileMatrix:
        """Profiles already encoded (e.g. stored), checked against the panel."""
        array = _check_genotypes(panel.sizes, genotypes, "genotypes")
        names = tuple(str(i) for i in ids)
        if array.ndim != 2 or array.shape[0] != len(names):
            raise KinshipInputError("genotypes must be (profiles, loci), one row per id")
        if len(set(names)) != len(names):
            raise KinshipInputError("profile ids must be unique")
        return cls(panel.key, names, array)


#: The persons of a trimmed pedigree: (role, parents as a sorted pair of indices or None),
#: role 0 untyped, 1 typed, 2 missing.
_Structure = tuple[tuple[int, tuple[int, int] | None], ...]


def _structure(
    pedigree: Pedigree, missing: str, typed: Iterable[str]
) -> tuple[_Structure, tuple[str, ...]]:
    """The pedigree cut to the typed persons, the missing one and their ancestors (the persons
    the engine keeps under H1), in topological order; and the ids in that order."""
    keep: set[str] = set()
    stack = [missing, *typed]
    typed_set = set(typed)
    while stack:
        person_id = stack.pop()
        if person_id in keep:
            continue
        keep.add(person_id)
        person = pedigree[person_id]
        stack.extend(parent for parent in (person.mother, person.father) if parent is not None)
    ids = tuple(person_id for person_id in pedigree.ids if person_id in keep)
    position = {person_id: i for i, person_id in enumerate(ids)}
    persons: list[tuple[int, tuple[int, int] | None]] = []
    for person_id in ids:
        person = pedigree[person_id]
        role = 2 if person_id == missing else 1 if person_id in typed_set else 0
        if person.mother is None or person.father is None:
            persons.append((role, None))
        else:
            a, b = position[person.mother], position[person.father]
            persons.append((role, (min(a, b), max(a, b))))
    return tuple(persons), ids


def _isomorphism(a: _Structure, b: _Structure) -> list[int] | None:
    """A map of ``a``'s persons onto ``b``'s keeping roles and parent pairs (sexes and the
    mother/father roles play no part in a likelihood), or ``None``."""
    if len(a) != len(b):
        return None
    image: list[int] = []
    used = [False] * len(b)

    def extend(i: int) -> bool:
        if i == len(a):
            return True
        role, parents = a[i]
        wanted = None if parents is None else tuple(sorted((image[parents[0]], image[parents[1]])))
        for j, (other_role, other_parents) in enumerate(b):
            if used[j] or other_role != role or other_parents != wanted:
                continue
            used[j] = True
            image.append(j)
            if extend(i + 1):
                return True
            image.pop()
            used[j] = False
        return False

    return image if extend(0) else None


def _canonical_structures() -> dict[str, tuple[_Structure, tuple[str, ...], tuple[str, ...]]]:
    found: dict[str, tuple[_Structure, tuple[str, ...], tuple[str, ...]]] = {}
    for name in (*PAIRWISE, "trio"):
        pedigree, missing, typed = canonical_pedigree(name)
        structure, ids = _structure(pedigree, missing, typed)
        found[name] = (structure, ids, typed)
    return found


_CANONICAL = _canonical_structures()


def _recognise(
    pedigree: Pedigree, missing: str, typed: Sequence[str]
) -> tuple[str, tuple[str, ...]]:
    """The canonical hypothesis of a family and its references in slot order, or
    ``("pedigree", ())``."""
    structure, ids = _structure(pedigree, missing, typed)
    for name, (canonical, canonical_ids, canonical_typed) in _CANONICAL.items():
        if len(canonical_typed) != len(typed):
            continue
        image = _isomorphism(structure, canonical)
        if image is None:
            continue
        slot_of = {canonical_ids[image[i]]: person_id for i, person_id in enumerate(ids)}
        return name, tuple(slot_of[person_id] for person_id in canonical_typed)
    return "pedigree", ()


@dataclass(frozen=True, eq=False)
class Family:
    """One family of the search: ``pedigree``, its ``missing`` person and the typed
    ``references`` (person id → profile), checked as :func:`pedigree_lr` checks them.

    ``hypothesis`` is recognised from the pedigree cut to the typed persons, the missing one and
    their ancestors: one of :data:`HYPOTHESES`, ``"pedigree"`` when no closed form applies.
    ``slots``: the reference ids in the order of the closed form (the parent / sibling / ...;
    for ``trio`` both parents).
    """

    id: str
    pedigree: Pedigree
    missing: str
    references: Mapping[str, Profile]
    hypothesis: str = field(init=False)
    slots: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise KinshipInputError("a family id must be a non-empty string")
        if not isinstance(self.references, Mapping) or not self.references:
            raise KinshipInputError(f"family {self.id!r} needs at least one typed reference")
        _check_profiles(self.pedigree, self.missing, self.references, Profile("_probe_"))
        object.__setattr__(self, "references", MappingProxyType(dict(self.references)))
        hypothesis, slots = _recognise(self.pedigree, self.missing, tuple(self.references))
        object.__setattr__(self, "hypothesis", hypothesis)
        object.__setattr__(self, "slots", slots)

    @classmethod
    def relative(cls, family_id: str, relationship: str, reference: Profile) -> Family:
        """A family of one typed relative: ``relationship`` (one of
        :data:`reunite.kinship.search_tables.PAIRWISE`) is what the reference is to the
        missing person (``"parent-child"``: a parent, ``"child"``: a child; ``"grandparent"``,
        ``"grandchild"``; ``"avuncular"``: an uncle or aunt, ``"nephew-niece"``). The
        reference's sex is read from its amelogenin (male when untyped)."""
        if relationship not in PAIRWISE:
            raise KinshipInputError(
                f"unknown relationship {shown(relationship)}: expected one of {', '.join(PAIRWISE)}"
            )
        if not isinstance(reference, Profile):
            raise KinshipInputError(f"expected the reference's Profile, got {shown(reference)}")
        sex: Sex = reference.sex_from_amelogenin() or "M"
        pedigree, missing, typed = canonical_pedigree(relationship, reference_sex=sex)
        return cls(family_id, pedigree, missing, {typed[0]: reference})

    @classmethod
    def trio(cls, family_id: str, mother: Profile, father: Profile) -> Family:
        """A family of both typed parents of the missing person."""
        pedigree, missing, typed = canonical_pedigree("trio")
        return cls(family_id, pedigree, missing, {typed[0]: mother, typed[1]: father})


@dataclass(frozen=True, eq=False)
class FamilyMatrix:
    """Encoded families for the panel ``panel_key``.

    ``ids`` ``(F,)``; ``kinds`` ``uint8 (F,)`` the hypothesis code (index into
    :data:`HYPOTHESES`); ``references`` ``uint16 (F, 2, L)``: the genotypes of the references
    in slot order (slot 1 only for trios; :data:`UNTYPED` elsewhere); ``tables``: for
    ``"pedigree"`` families, per locus the float64 LR of every unknown genotype (``None`` where no
    reference is typed), ``None`` for the others. ``rejected``: ``(id, reason)`` of the families
    left out by ``skip_invalid``. Slicing (``matrix[a:b]``) gives the families of a chunk.
    """

    panel_key: str
    ids: tuple[str, ...]
    kinds: npt.NDArray[np.uint8]
    references: GenotypeArray
    tables: tuple[tuple[FloatArray | None, ...] | None, ...]
    rejected: tuple[tuple[str, str], ...] = ()

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, items: slice) -> FamilyMatrix:
        if not isinstance(items, slice):
            raise TypeError("a FamilyMatrix is sliced with a[start:stop]")
        return FamilyMatrix(
            self.panel_key,
            self.ids[items],
            self.kinds[items],
            self.references[items],
            self.tables[items],
        )

    def select(self, indices: npt.ArrayLike) -> FamilyMatrix:
        """The families at ``indices`` (in that order)."""
        chosen = np.asarray(indices, dtype=np.int64)
        return FamilyMatrix(
            self.panel_key,
            tuple(self.ids[i] for i in chosen.tolist()),
            self.kinds[chosen],
            self.references[chosen],
            tuple(self.tables[i] for i in chosen.tolist()),
        )

    def hypotheses(self) -> dict[str, int]:
        """The number of families of each hypothesis present."""
        counts = np.bincount(self.kinds, minlength=len(HYPOTHESES))
        return {name: int(counts[code]) for code, name in enumerate(HYPOTHESES) if counts[code]}

    @classmethod
    def from_arrays(
        cls,
        panel: Panel,
        ids: Sequence[str],
        hypotheses: Sequence[str] | npt.NDArray[np.uint8],
        references: npt.ArrayLike,
    ) -> FamilyMatrix:
        """Families of the canonical shapes already encoded: ``hypotheses`` names (or codes),
        ``references`` ``uint16 (F, 2, L)`` in slot order (slot 1 untyped except for trios)."""
        names = tuple(str(i) for i in ids)
        if len(set(names)) != len(names):
            raise KinshipInputError("family ids must be unique")
        if isinstance(hypotheses, np.ndarray):
            kinds = hypotheses.astype(np.uint8)
        else:
            try:
                kinds = np.array([_CODE[h] for h in hypotheses], dtype=np.uint8)
            except KeyError as error:
                raise KinshipInputError(f"unknown hypothesis {error.args[0]!r}") from None
        if kinds.shape != (len(names),) or np.any(kinds >= _PEDIGREE):
            raise KinshipInputError("one canonical hypothesis per family is needed")
        array = _check_genotypes(panel.sizes, references, "references")
        if array.shape[:2] != (len(names), 2):
            raise KinshipInputError("references must be (families, 2, loci)")
        single = kinds != _TRIO
        if np.any(array[single, 1] != UNTYPED):
            raise KinshipInputError("only a trio has a second reference")
        return cls(panel.key, names, kinds, array, (None,) * len(names))


def encode_families(
    panel: Panel, families: Iterable[Family], *, skip_invalid: bool = False
) -> FamilyMatrix:
    """Encode ``families`` for ``panel``: closed-form shapes as their references' genotypes,
    other pedigrees as their tables (the general engine, once per family).

    A reference allele outside the panel, a family impossible under its pedigree (likelihood 0
    without the unknown) or beyond the engine raises :class:`KinshipInputError` naming the family;
    with ``skip_invalid`` the family is left out and listed in ``rejected``.
    """
    ids: list[str] = []
    kinds: list[int] = []
    rows: list[list[list[int]]] = []
    tables: list[tuple[FloatArray | None, ...] | None] = []
    rejected: list[tuple[str, str]] = []
    seen: set[str] = set()
    untyped_row = [UNTYPED] * len(panel.loci)
    for family in families:
        if not isinstance(family, Family):
            raise KinshipInputError(f"expected Family objects, got {type(family).__name__}")
        if family.id in seen:
            raise KinshipInputError(f"family id {family.id!r} is given twice")
        seen.add(family.id)
        try:
            if family.hypothesis == "pedigree":
                table = _pedigree_tables(panel, family)
                slots = [untyped_row, untyped_row]
            else:
                table = None
                slots = [panel._genotype_row(family.references[s]) for s in family.slots]
                slots.extend([untyped_row] * (2 - len(slots)))
        except KinshipInputError as error:
            if not skip_invalid:
                raise KinshipInputError(f"family {family.id!r}: {error}") from None
            rejected.append((family.id, str(error)))
            continue
        ids.append(family.id)
        kinds.append(_CODE[family.hypothesis])
        rows.append(slots)
        tables.append(table)
    references = np.array(rows, dtype=np.uint16).reshape(len(ids), 2, len(panel.loci))
    return FamilyMatrix(
        panel.key,
        tuple(ids),
        np.array(kinds, dtype=np.uint8),
        references,
        tuple(tables),
        tuple(rejected),
    )


def _pedigree_tables(panel: Panel, family: Family) -> tuple[FloatArray | None, ...]:
    for person_id, profile in family.references.items():
        panel._genotype_row(Profile(person_id, profile.genotypes))
    tables = genotype_tables(
        family.pedigree,
        family.missing,
        family.references,
        panel.frequencies,
        panel.theta,
        panel.mutation,
    )
    found: list[FloatArray | None] = []
    for locus in panel.loci:
        entry = tables.get(locus)
        if entry is None:
            found.append(None)
            continue
        found.append(np.ascontiguousarray(entry.lr()))
    return tuple(found)


# ---------------------------------------------------------------------------------------------
# Preparing a search: the unknowns' columns and the shared matrices
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Unknowns:
    """The unknowns of a search, as columns of the tables.

    Per locus ``columns[l]``: the genotype indices present among the unknowns (the only table
    columns the search needs); ``cells`` ``uint16 (U, L)``: each unknown's position in
    ``columns[l]``, ``len(columns[l])`` (the untyped column, LR 1) where untyped; ``weights[l]``:
    the share of the unknowns in each column (for ordering loci).
    """

    ids: tuple[str, ...]
    columns: tuple[IntArray, ...]
    cells: GenotypeArray
    cells_by_locus: GenotypeArray
    typed: npt.NDArray[np.bool_]
    weights: tuple[FloatArray, ...]

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(len(c) + 1 for c in self.columns)


def _prepare_unknowns(unknowns: ProfileMatrix) -> _Unknowns:
    genotypes = unknowns.genotypes
    count, loci = genotypes.shape
    cells = np.empty((count, loci), dtype=np.uint16)
    typed = genotypes != UNTYPED
    columns: list[IntArray] = []
    weights: list[FloatArray] = []
    for locus in range(loci):
        values = genotypes[:, locus].astype(np.int64)
        present = np.unique(values[typed[:, locus]])
        position = np.searchsorted(present, values)
        cells[:, locus] = np.where(typed[:, locus], position, present.shape[0])
        columns.append(present)
        share = np.bincount(cells[:, locus], minlength=present.shape[0] + 1).astype(np.float64)
        weights.append(share / max(count, 1))
    return _Unknowns(
        unknowns.ids,
        tuple(columns),
        cells,
        np.ascontiguousarray(cells.T),
        typed,
        tuple(weights),
    )


def _row_stats(
    lr: FloatArray, weights: FloatArray
) -> tuple[npt.NDArray[np.float32], FloatArray, FloatArray, FloatArray, float]:
    """For rows of LRs over the columns (untyped last): float32 log10 rows; each row's largest
    and smallest log10 over the columns in use; its expected shortfall from the largest over
    the unknowns (capped; the ordering key); and the largest finite ``|log10|``."""
    with np.errstate(divide="ignore"):
        logs = np.log10(lr)
    used = weights > 0.0
    if not used.any():
        empty = np.zeros(lr.shape[0])
        return logs.astype(np.float32), empty, empty, empty, 0.0
    in_use = logs[:, used]
    rowmax = in_use.max(axis=1)
    rowmin = in_use.min(axis=1)
    with np.errstate(invalid="ignore"):
        shortfall = np.minimum(rowmax[:, None] - in_use, _DEFICIT_CAP)
    shortfall = np.nan_to_num(shortfall, nan=_DEFICIT_CAP)
    deficit = shortfall @ weights[used]
    finite = np.abs(logs[np.isfinite(logs)])
    scale = float(finite.max()) if finite.size else 0.0
    return logs.astype(np.float32), rowmax, rowmin, deficit, scale


@dataclass(frozen=True, eq=False)
class _Shared:
    """The shared matrices of the search's pairwise hypotheses, restricted to its columns, laid
    out flat: rows ``[reference genotype]`` of float32 log10 (``values32``) and float64 LR
    (``values64``); matrix ``slot_of[code]`` at locus ``l`` starts at ``base[slot, l]``, and
    its per-row statistics (``rowmax``, ``rowmin``, ``deficit``) at ``stat_base[slot, l]``."""

    values32: npt.NDArray[np.float32]
    values64: FloatArray
    slot_of: IntArray
    base: IntArray
    stat_base: IntArray
    rowmax: FloatArray
    rowmin: FloatArray
    deficit: FloatArray
    scale: float


@dataclass(frozen=True, eq=False)
class _Prepared:
    """Everything a chunk needs besides its families (what a Dask worker receives once)."""

    panel: Panel
    unknowns: _Unknowns
    shared: _Shared
    p: tuple[FloatArray, ...]
    mutation: tuple[FloatArray, ...]
    alleles: tuple[tuple[IntArray, IntArray], ...]


def _full_matrix(panel: Panel, code: int, locus: int) -> FloatArray:
    """The full ``(G, G)`` float64 LR matrix of a pairwise hypothesis at a locus (cached on
    the panel: incremental searches reuse it)."""
    cache: dict[tuple[int, int], FloatArray] = panel.__dict__.setdefault("_matrices", {})
    key = (code, locus)
    if key not in cache:
        name = panel.loci[locus]
        cache[key] = pairwise_matrix(
            panel.frequencies[name], panel.mutation.for_locus(name), panel.theta, HYPOTHESES[code]
        )
    return cache[key]


def _prepare(panel: Panel, families: FamilyMatrix, unknowns: ProfileMatrix) -> _Prepared:
    prepared = _prepare_unknowns(unknowns)
    present = set(np.unique(families.kinds).tolist())
    codes = sorted(code for code in present if code in _PAIRWISE_CODES)
    if _TRIO in present and _PARENT_CHILD not in codes:
        codes.insert(0, _PARENT_CHILD)  # a trio with one parent typed at a locus
    loci = len(panel.loci)
    slot_of = np.full(len(HYPOTHESES), -1, dtype=np.int64)
    base = np.zeros((max(len(codes), 1), loci), dtype=np.int64)
    stat_base = np.zeros((max(len(codes), 1), loci), dtype=np.int64)
    pieces32: list[npt.NDArray[np.float32]] = []
    pieces64: list[FloatArray] = []
    stats: list[list[FloatArray]] = [[], [], []]
    scale = 0.0
    size = 0
    rows = 0
    for slot, code in enumerate(codes):
        slot_of[code] = slot
        for locus in range(loci):
            full = _full_matrix(panel, code, locus)
            lr = np.ones((full.shape[0], prepared.columns[locus].shape[0] + 1))
            lr[:, :-1] = full[:, prepared.columns[locus]]
            logs, top, bottom, short, peak = _row_stats(lr, prepared.weights[locus])
            base[slot, locus] = size
            stat_base[slot, locus] = rows
            for kept, value in zip(stats, (top, bottom, short), strict=True):
                kept.append(value)
            scale = max(scale, peak)
            pieces32.append(logs.ravel())
            pieces64.append(lr.ravel())
            size += lr.size
            rows += lr.shape[0]

    def joined(parts: list[npt.NDArray[Any]], dtype: type) -> npt.NDArray[Any]:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    p = tuple(
        np.asarray(panel.frequencies[name].frequencies, dtype=np.float64) for name in panel.loci
    )
    mutation = tuple(
        mutation_for(panel.frequencies[name], panel.mutation.for_locus(name)) for name in panel.loci
    )
    shared = _Shared(
        values32=joined(pieces32, np.float32),
        values64=joined(pieces64, np.float64),
        slot_of=slot_of,
        base=base,
        stat_base=stat_base,
        rowmax=joined(stats[0], np.float64),
        rowmin=joined(stats[1], np.float64),
        deficit=joined(stats[2], np.float64),
        scale=scale,
    )
    alleles = tuple(genotype_pairs(n) for n in panel.sizes)
    return _Prepared(panel, prepared, shared, p, mutation, alleles)


# ---------------------------------------------------------------------------------------------
# One chunk of families: rows, screen, exact rescoring
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Rows:
    """The float32 rows of a chunk's families: ``offset (Fc, L)`` into ``values32`` (-1: no
    reference typed there; below ``shared_size``: a row of a shared matrix), and the kernel's
    view in screening order."""

    offset: IntArray
    values32: npt.NDArray[np.float32]
    shared_size: int
    row_offset: IntArray
    row_locus: IntArray
    row_count: IntArray
    suffix: npt.NDArray[np.float32]
    first: IntArray
    scale: float


def _chunk_rows(prepared: _Prepared, families: FamilyMatrix, log_threshold: float) -> _Rows:
    """Lay out the rows of a chunk's families: rows of the shared matrices are referenced where
    they are, trio and pedigree rows are computed into the same flat array after them; then each
    family's loci are ordered (largest expected shortfall first) with their suffix bounds."""
    from reunite.kinship.search_kernels import order_rows, plan_shared_rows, trio_rows

    shared = prepared.shared
    unknowns = prepared.unknowns
    count, loci = len(families), len(prepared.panel.loci)
    offset = np.full((count, loci), -1, dtype=np.int64)
    rowmax = np.zeros((count, loci))
    rowmin = np.zeros((count, loci))
    deficit = np.zeros((count, loci))
    local = np.zeros((count, loci), dtype=np.bool_)
    widths = np.array(unknowns.widths, dtype=np.int64)
    plan_shared_rows(
        families.kinds,
        families.references,
        shared.slot_of,
        _TRIO,
        int(shared.slot_of[_PARENT_CHILD]),
        shared.base,
        shared.stat_base,
        widths,
        shared.rowmax,
        shared.rowmin,
        shared.deficit,
        offset,
        rowmax,
        rowmin,
        deficit,
        local,
    )
    pedigree = np.flatnonzero(families.kinds == _PEDIGREE)
    for f in pedigree.tolist():
        table = families.tables[f]
        for locus in range(loci):
            local[f, locus] = table is not None and table[locus] is not None
    local_rows = local.sum(axis=0)
    shared_size = shared.values32.shape[0]
    values32 = np.empty(shared_size + int(local_rows @ widths), dtype=np.float32)
    values32[:shared_size] = shared.values32
    start = shared_size
    scale = shared.scale
    refs = families.references
    for locus in np.flatnonzero(local_rows).tolist():
        rows = np.flatnonzero(local[:, locus])
        width = int(widths[locus])
        block = values32[start : start + rows.shape[0] * width].reshape(rows.shape[0], width)
        stats = np.empty((rows.shape[0], 3))
        trio = families.kinds[rows] == _TRIO
        if trio.any():
            lo, hi = prepared.alleles[locus]
            columns = unknowns.columns[locus]
            mother = refs[rows[trio], 0, locus].astype(np.int64)
            father = refs[rows[trio], 1, locus].astype(np.int64)
            every = bool(trio.all())
            part32 = block if every else np.empty((int(trio.sum()), width), dtype=np.float32)
            part_stats = stats if every else np.empty((int(trio.sum()), 3))
            peak = trio_rows(
                prepared.p[locus],
                prepared.mutation[locus],
                prepared.panel.theta,
                np.stack([lo[mother], hi[mother]], axis=1),
                np.stack([lo[father], hi[father]], axis=1),
                lo[columns],
                hi[columns],
                unknowns.weights[locus],
                _DEFICIT_CAP,
                part32,
                part_stats,
            )
            if not every:
                block[trio] = part32
                stats[trio] = part_stats
            scale = max(scale, peak)
        if not trio.all():
            others = rows[~trio]
            lr = np.ones((others.shape[0], width))
            for row, f in enumerate(others.tolist()):
                lr[row, :-1] = _pedigree_row(families, f, locus)[unknowns.columns[locus]]
            logs, top, bottom, short, peak = _row_stats(lr, unknowns.weights[locus])
            block[~trio] = logs
            stats[~trio] = np.stack([top, bottom, short], axis=1)
            scale = max(scale, peak)
        offset[rows, locus] = start + np.arange(rows.shape[0]) * width
        rowmax[rows, locus], rowmin[rows, locus], deficit[rows, locus] = stats.T
        start += rows.shape[0] * width

    row_offset = np.empty((count, loci), dtype=np.int64)
    row_locus = np.empty((count, loci), dtype=np.int64)
    row_count = np.empty(count, dtype=np.int64)
    suffix64 = np.empty((count, loci + 1))
    first = np.empty(count, dtype=np.int64)
    order_rows(
        offset,
        rowmax,
        rowmin,
        deficit,
        log_threshold,
        row_offset,
        row_locus,
        row_count,
        suffix64,
        first,
    )
    suffix = suffix64.astype(np.float32)
    low = suffix.astype(np.float64) < suffix64
    suffix[low] = np.nextafter(suffix[low], np.float32(np.inf))  # bounds round up
    return _Rows(
        offset=offset,
        values32=values32,
        shared_size=shared_size,
        row_offset=row_offset,
        row_locus=row_locus,
        row_count=row_count,
        suffix=suffix,
        first=first,
        scale=scale,
    )


def _pedigree_row(families: FamilyMatrix, family: int, locus: int) -> FloatArray:
    table = families.tables[family]
    row = None if table is None else table[locus]
    if row is None:  # pragma: no cover - only called where a table exists
        raise AssertionError("no table")
    return row


def _margin(loci: int, scale: float, log_threshold: float) -> float:
    """How far below ``log10(threshold)`` the float32 screen must let pairs through.

    With ``s = max(scale, |log10 threshold|)``: each float32 log10 value is within ``2^-24 s``
    of its float64 value (every finite ``|v| ≤ scale``); each of the ``loci`` additions rounds
    by at most ``2^-24`` of a partial sum (``≤ loci · s``); forming ``threshold - suffix`` and
    rounding the suffix bounds up cost ``2^-24 · 2 · loci · s`` more. In all below
    ``(loci + 2)^2 · 2^-24 · s``; the margin is twice that, and never under 1e-6. (A value of
    ``-inf``, LR 0, stays ``-inf`` and is never kept: its exact LR is 0 too.)
    """
    size = max(scale, abs(log_threshold))
    return max(1e-6, 2.0 * (loci + 2) ** 2 * 2.0**-24 * size)


@dataclass(frozen=True, eq=False)
class ChunkResult:
    """The candidates of one chunk of families (global family indices), its counts, and its
    wall-clock and CPU seconds (the CPU time of the whole process while the chunk ran)."""

    index: int
    family_index: IntArray
    unknown_index: IntArray
    kinds: npt.NDArray[np.uint8]
    log10_lr: FloatArray
    per_locus: FloatArray
    pairs: Mapping[str, int]
    screened: int
    seconds: float
    cpu_seconds: float


def _screen(
    rows: _Rows, cells: GenotypeArray, limit: float, parallel: bool, max_candidates: int
) -> tuple[IntArray, IntArray]:
    """The (family row, unknown) pairs whose float32 sum reaches ``limit``: a counting pass,
    then a filling pass over the families with passes."""
    from reunite.kinship.search_kernels import screen_parallel, screen_serial

    kernel = screen_parallel if parallel else screen_serial
    count = rows.row_count.shape[0]
    every = np.arange(count, dtype=np.int64)
    counts = np.zeros(count, dtype=np.int64)
    unused = np.zeros(count, dtype=np.int64)
    none_i = np.zeros(0, dtype=np.int64)
    none_f = np.zeros(0, dtype=np.float32)
    args = (
        rows.values32,
        rows.row_offset,
        rows.row_locus,
        rows.row_count,
        rows.suffix,
        rows.first,
        cells,
    )
    kernel(*args, limit, every, unused, counts, none_i, none_f, False)
    total = int(counts.sum())
    if total > max_candidates:
        raise KinshipInputError(
            f"more than {max_candidates} pairs pass the threshold in one chunk: raise the threshold"
        )
    hit = np.flatnonzero(counts).astype(np.int64)
    if not total:
        return none_i, none_i
    starts = np.zeros(hit.shape[0], dtype=np.int64)
    starts[1:] = np.cumsum(counts[hit])[:-1]
    out_unknown = np.empty(total, dtype=np.int64)
    out_score = np.empty(total, dtype=np.float32)
    found = np.zeros(hit.shape[0], dtype=np.int64)
    kernel(*args, limit, hit, starts, found, out_unknown, out_score, True)
    return np.repeat(hit, counts[hit]), out_unknown


def _exact(
    prepared: _Prepared,
    families: FamilyMatrix,
    rows: _Rows,
    family_rows: IntArray,
    unknown_rows: IntArray,
) -> FloatArray:
    """``(K, L)`` float64: the exact per-locus LR of each pair, NaN where the locus does not
    count (no reference or the unknown untyped): from the float64 shared matrices, the trio
    closed form (:func:`reunite.kinship.search_tables.trio_lr`) or the family's stored table."""
    unknowns = prepared.unknowns
    out = np.full((family_rows.shape[0], len(prepared.panel.loci)), np.nan)
    if not family_rows.size:
        return out
    refs = families.references.astype(np.int64)
    for locus in range(len(prepared.panel.loci)):
        offset = rows.offset[family_rows, locus]
        cells = unknowns.cells[unknown_rows, locus].astype(np.int64)
        counted = (offset >= 0) & unknowns.typed[unknown_rows, locus]
        in_shared = counted & (offset < rows.shared_size)
        out[in_shared, locus] = prepared.shared.values64[offset[in_shared] + cells[in_shared]]
        own = np.flatnonzero(counted & (offset >= rows.shared_size))
        if not own.size:
            continue
        genotype = unknowns.columns[locus][cells[own]]
        lo, hi = prepared.alleles[locus]
        fams = family_rows[own]
        trio = families.kinds[fams] == _TRIO
        if trio.any():
            distinct, which = np.unique(fams[trio], return_inverse=True)
            mother = refs[distinct, 0, locus]
            father = refs[distinct, 1, locus]
            table = trio_lr(
                prepared.p[locus],
                prepared.mutation[locus],
                prepared.panel.theta,
                (lo[mother], hi[mother]),
                (lo[father], hi[father]),
            )
            out[own[trio], locus] = table[which, genotype[trio]]
        for k in np.flatnonzero(~trio).tolist():
            out[own[k], locus] = _pedigree_row(families, int(fams[k]), locus)[genotype[k]]
    return out


def _log10_total(per_locus: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore"):
        return np.where(np.isnan(per_locus), 0.0, np.log10(np.nan_to_num(per_locus, nan=1.0))).sum(
            axis=1
        )


def _search_chunk(
    prepared: _Prepared,
    families: FamilyMatrix,
    first: int,
    index: int,
    threshold: float,
    parallel: bool,
    max_candidates: int,
) -> ChunkResult:
    started = time.perf_counter()
    cpu_started = time.process_time()
    log_threshold = math.log10(threshold)
    rows = _chunk_rows(prepared, families, log_threshold)
    below = log_threshold - _margin(len(prepared.panel.loci), rows.scale, log_threshold)
    limit = np.float32(below)
    if float(limit) > below:
        limit = np.nextafter(limit, np.float32(-np.inf))
    family_rows, unknown_rows = _screen(
        rows, prepared.unknowns.cells_by_locus, float(limit), parallel, max_candidates
    )
    per_locus = _exact(prepared, families, rows, family_rows, unknown_rows)
    totals = _log10_total(per_locus)
    keep = totals >= log_threshold
    counts = np.bincount(families.kinds, minlength=len(HYPOTHESES))
    width = len(prepared.unknowns.ids)
    return ChunkResult(
        index=index,
        family_index=family_rows[keep] + first,
        unknown_index=unknown_rows[keep],
        kinds=families.kinds[family_rows[keep]],
        log10_lr=totals[keep],
        per_locus=per_locus[keep],
        pairs={
            name: int(counts[code]) * width for code, name in enumerate(HYPOTHESES) if counts[code]
        },
        screened=int(family_rows.shape[0]),
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu_started,
    )


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One pair at or above the threshold: the family, the unknown, the family's hypothesis,
    the exact LR (its ``log10``) and the per-locus LRs of the loci that counted (panel order)."""

    family_id: str
    unknown_id: str
    hypothesis: str
    lr: float
    log10_lr: float
    per_locus: Mapping[str, float]
    family_index: int
    unknown_index: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "family_id": self.family_id,
            "unknown_id": self.unknown_id,
            "hypothesis": self.hypothesis,
            "lr": self.lr,
            "log10_lr": self.log10_lr,
            "per_locus": dict(self.per_locus),
        }


def _lr_of(log10_lr: float) -> float:
    return math.inf if log10_lr > 308.0 else 10.0**log10_lr


@dataclass(frozen=True, eq=False)
class SearchResult:
    """The candidates of a search, best first (then by family and unknown index), as arrays.

    ``family_index``/``unknown_index`` ``int64 (K,)`` into the searched matrices; ``kinds``
    the hypothesis codes; ``log10_lr`` ``float64 (K,)``; ``per_locus`` ``float64 (K, L)`` with
    NaN where a locus did not count. Iterate (or :attr:`candidates`) for :class:`Candidate`
    objects. ``pairs``: pairs evaluated per hypothesis; ``screened``: pairs that passed the float32
    screen (the exact stage kept ``len(self)`` of them); ``chunks``: the chunk indices done.
    """

    threshold: float
    loci: tuple[str, ...]
    family_ids: tuple[str, ...]
    unknown_ids: tuple[str, ...]
    family_index: IntArray
    unknown_index: IntArray
    kinds: npt.NDArray[np.uint8]
    log10_lr: FloatArray
    per_locus: FloatArray
    pairs: Mapping[str, int]
    screened: int
    chunks: tuple[int, ...]
    seconds: float

    def __len__(self) -> int:
        return int(self.family_index.shape[0])

    def __iter__(self) -> Iterator[Candidate]:
        for k in range(len(self)):
            yield self.candidate(k)

    @property
    def candidates(self) -> list[Candidate]:
        return list(self)

    def candidate(self, k: int) -> Candidate:
        row = self.per_locus[k]
        per_locus = {
            locus: float(value)
            for locus, value in zip(self.loci, row.tolist(), strict=True)
            if not math.isnan(value)
        }
        log10_lr = float(self.log10_lr[k])
        return Candidate(
            family_id=self.family_ids[int(self.family_index[k])],
            unknown_id=self.unknown_ids[int(self.unknown_index[k])],
            hypothesis=HYPOTHESES[int(self.kinds[k])],
            lr=_lr_of(log10_lr),
            log10_lr=log10_lr,
            per_locus=MappingProxyType(per_locus),
            family_index=int(self.family_index[k]),
            unknown_index=int(self.unknown_index[k]),
        )

    def keys(self) -> list[tuple[str, str, float]]:
        """``(family id, unknown id, log10 LR)`` of every candidate, in order (for comparing
        runs)."""
        return [
            (self.family_ids[int(f)], self.unknown_ids[int(u)], float(v))
            for f, u, v in zip(self.family_index, self.unknown_index, self.log10_lr, strict=True)
        ]

    def counts(self) -> dict[str, int]:
        """The number of candidates of each hypothesis."""
        found = np.bincount(self.kinds, minlength=len(HYPOTHESES))
        return {name: int(found[code]) for code, name in enumerate(HYPOTHESES) if found[code]}


def _merge(
    parts: Sequence[ChunkResult],
    threshold: float,
    panel: Panel,
    families: FamilyMatrix,
    unknowns: ProfileMatrix,
    seconds: float,
) -> SearchResult:
    loci = len(panel.loci)
    ordered = sorted(parts, key=lambda part: part.index)

    def joined(name: str, empty: npt.NDArray[Any]) -> npt.NDArray[Any]:
        arrays = [getattr(part, name) for part in ordered]
        return np.concatenate(arrays) if arrays else empty

    family_index = joined("family_index", np.zeros(0, dtype=np.int64))
    unknown_index = joined("unknown_index", np.zeros(0, dtype=np.int64))
    log10_lr = joined("log10_lr", np.zeros(0))
    order = np.lexsort((unknown_index, family_index, -log10_lr))
    pairs: dict[str, int] = {}
    for part in ordered:
        for name, value in part.pairs.items():
            pairs[name] = pairs.get(name, 0) + value
    return SearchResult(
        threshold=threshold,
        loci=panel.loci,
        family_ids=families.ids,
        unknown_ids=unknowns.ids,
        family_index=family_index[order],
        unknown_index=unknown_index[order],
        kinds=joined("kinds", np.zeros(0, dtype=np.uint8))[order],
        log10_lr=log10_lr[order],
        per_locus=joined("per_locus", np.zeros((0, loci)))[order],
        pairs=pairs,
        screened=sum(part.screened for part in ordered),
        chunks=tuple(part.index for part in ordered),
        seconds=seconds,
    )


# ---------------------------------------------------------------------------------------------
# The search, on this machine or on a Dask cluster
# ---------------------------------------------------------------------------------------------


def check_threshold(threshold: object) -> float:
    """``threshold`` as a float after checking it is a finite number above 1."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise KinshipInputError(f"the threshold must be a number, got {shown(threshold)}")
    value = float(threshold)
    if not math.isfinite(value) or value <= 1.0:
        raise KinshipInputError(
            f"the threshold must be a finite LR above 1 (an LR of 1 or less does not support "
            f"the relationship), got {threshold!r}"
        )
    return value


def _check_inputs(
    panel: Panel, families: FamilyMatrix, unknowns: ProfileMatrix, threshold: object
) -> float:
    if not isinstance(panel, Panel):
        raise KinshipInputError(f"expected a Panel, got {type(panel).__name__}")
    if not isinstance(families, FamilyMatrix):
        raise KinshipInputError(
            f"expected a FamilyMatrix (encode_families), got {type(families).__name__}"
        )
    if not isinstance(unknowns, ProfileMatrix):
        raise KinshipInputError(
            f"expected a ProfileMatrix (Panel.encode), got {type(unknowns).__name__}"
        )
    for name, matrix in (("families", families), ("unknowns", unknowns)):
        if matrix.panel_key != panel.key:
            raise KinshipInputError(
                f"the {name} were encoded for another panel ({matrix.panel_key}, this one is "
                f"{panel.key}): encode them again with this panel"
            )
    return check_threshold(threshold)


def default_chunk_size(families: int, unknowns: int) -> int:
    """Families per chunk: about 4e7 pairs, between 1,024 and 65,536 families (a function of
    the sizes only, so that a resumed run cuts the same chunks)."""
    del families
    return int(min(_MAX_CHUNK, max(_MIN_CHUNK, _PAIRS_PER_CHUNK // max(unknowns, 1))))


def _chunks(count: int, size: int | None, unknowns: int) -> list[tuple[int, int, int]]:
    if size is None:
        size = default_chunk_size(count, unknowns)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise KinshipInputError(f"chunk_size must be a positive integer, got {size!r}")
    return [
        (index, start, min(start + size, count))
        for index, start in enumerate(range(0, count, size))
    ]


Progress = Callable[[int, int], None]
ChunkCallback = Callable[[ChunkResult], None]


def search(
    panel: Panel,
    families: FamilyMatrix,
    unknowns: ProfileMatrix,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    chunk_size: int | None = None,
    skip_chunks: Iterable[int] = (),
    on_chunk: ChunkCallback | None = None,
    progress: Progress | None = None,
    parallel: bool = True,
    max_candidates: int = MAX_CANDIDATES,
) -> SearchResult:
    """Every pair (family, unknown) whose exact LR reaches ``threshold``, on this machine.

    Families are taken in chunks of ``chunk_size`` (default :func:`default_chunk_size`); chunk
    ``i`` holds families ``[i·size, (i+1)·size)``. ``skip_chunks``: chunks already done (a
    resumed run); ``on_chunk(result)`` is called as each chunk finishes (to checkpoint it);
    ``progress(done_families, total_families)`` likewise. ``parallel``: numba threads over
    families (all cores). More than ``max_candidates`` candidates is an error (the threshold is
    too low for the database).
    """
    limit = _check_inputs(panel, families, unknowns, threshold)
    started = time.perf_counter()
    skip = set(skip_chunks)
    plan = _chunks(len(families), chunk_size, len(unknowns))
    parts: list[ChunkResult] = []
    if len(unknowns) and len(families):
        prepared = _prepare(panel, families, unknowns)
        done = sum(stop - start for index, start, stop in plan if index in skip)
        found = 0
        for index, start, stop in plan:
            if index in skip:
                continue
            part = _search_chunk(
                prepared, families[start:stop], start, index, limit, parallel, max_candidates
            )
            found += part.family_index.shape[0]
            if found > max_candidates:
                raise KinshipInputError(
                    f"more than {max_candidates} candidates: raise the threshold"
                )
            parts.append(part)
            if on_chunk is not None:
                on_chunk(part)
            done += stop - start
            if progress is not None:
                progress(done, len(families))
    return _merge(parts, limit, panel, families, unknowns, time.perf_counter() - started)


def _dask_chunk(
    prepared: _Prepared,
    families: FamilyMatrix,
    first: int,
    index: int,
    threshold: float,
    max_candidates: int,
) -> ChunkResult:
    """One chunk on a Dask worker: the single-threaded kernel (a worker's threads must not
    start numba's thread pool concurrently; Dask runs one chunk per worker thread)."""
    return _search_chunk(prepared, families, first, index, threshold, False, max_candidates)


def search_dask(
    panel: Panel,
    families: FamilyMatrix,
    unknowns: ProfileMatrix,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    scheduler: str = "local",
    workers: int | None = None,
    processes: bool = True,
    connect_timeout: float = 10.0,
    chunk_size: int | None = None,
    skip_chunks: Iterable[int] = (),
    on_chunk: ChunkCallback | None = None,
    progress: Progress | None = None,
    max_candidates: int = MAX_CANDIDATES,
) -> SearchResult:
    """:func:`search` on a Dask distributed cluster, one task per chunk; the same candidates.

    ``scheduler``: ``"local"`` (a :class:`~dask.distributed.LocalCluster` of ``workers``
    single-threaded workers, default one per core; ``processes=False`` keeps them in this
    process) or a scheduler address such as ``"tcp://host:8786"`` (its workers need this package
    installed). An unreachable scheduler, or a cluster that fails mid-run, raises
    :class:`SearchClusterError`; chunks finished before the failure have already been passed to
    ``on_chunk``, so a resumed run (``skip_chunks``) repeats and loses nothing.
    """
    limit = _check_inputs(panel, families, unknowns, threshold)
    if not isinstance(scheduler, str) or not (
        scheduler == "local" or scheduler.startswith(("tcp://", "tls://", "inproc://"))
    ):
        raise KinshipInputError(
            "scheduler must be 'local' or an address such as tcp://host:8786, "
            f"got {shown(scheduler)}"
        )
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - a dependency of the package
        raise SearchClusterError("dask.distributed is not installed") from None

    started = time.perf_counter()
    skip = set(skip_chunks)
    plan = _chunks(len(families), chunk_size, len(unknowns))
    todo = [(index, start, stop) for index, start, stop in plan if index not in skip]
    parts: list[ChunkResult] = []
    if not (len(unknowns) and len(families) and todo):
        return _merge(parts, limit, panel, families, unknowns, time.perf_counter() - started)
    prepared = _prepare(panel, families, unknowns)

    cluster: Any = None
    try:
        if scheduler == "local":
            cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=processes,
                dashboard_address=None,
            )
            client = Client(cluster, timeout=f"{connect_timeout}s")
        else:
            client = Client(scheduler, timeout=f"{connect_timeout}s")
    except (OSError, TimeoutError) as error:
        if cluster is not None:
            cluster.close()
        raise SearchClusterError(
            f"cannot reach the Dask scheduler at {scheduler}: {error}"
        ) from None

    done = sum(stop - start for index, start, stop in plan if index in skip)
    found = 0
    try:
        shared = client.scatter(prepared, broadcast=True)
        futures = [
            client.submit(
                _dask_chunk,
                shared,
                families[start:stop],
                start,
                index,
                limit,
                max_candidates,
                pure=False,
            )
            for index, start, stop in todo
        ]
        sizes = {
            future.key: stop - start for future, (_, start, stop) in zip(futures, todo, strict=True)
        }
        for future in as_completed(futures):
            part = future.result()
            found += part.family_index.shape[0]
            if found > max_candidates:
                raise KinshipInputError(
                    f"more than {max_candidates} candidates: raise the threshold"
                )
            parts.append(part)
            if on_chunk is not None:
                on_chunk(part)
            done += sizes[future.key]
            if progress is not None:
                progress(done, len(families))
    except KinshipInputError:
        raise
    except Exception as error:  # any cluster failure becomes one clear error
        raise SearchClusterError(
            f"the Dask cluster failed after {len(parts)} of {len(todo)} chunks "
            f"({type(error).__name__}: {error}); finished chunks were kept, resume with "
            "skip_chunks"
        ) from None
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return _merge(parts, limit, panel, families, unknowns, time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------
# Exhaustive exact scores (checks) and expected false candidates
# ---------------------------------------------------------------------------------------------


def _lr_rows(prepared: _Prepared, families: FamilyMatrix, locus: int) -> FloatArray:
    """``(F, C + 1)`` float64: every family's LR at ``locus`` for each unknown column (the
    last: untyped, LR 1), 1 throughout where no reference is typed."""
    columns = prepared.unknowns.columns[locus]
    out = np.ones((len(families), columns.shape[0] + 1))
    refs = families.references[:, :, locus].astype(np.int64)
    lo, hi = prepared.alleles[locus]
    for code in np.unique(families.kinds).tolist():
        members = np.flatnonzero(families.kinds == code)
        head, second = refs[members, 0], refs[members, 1]
        if code == _PEDIGREE:
            for f in members.tolist():
                table = families.tables[f]
                row = None if table is None else table[locus]
                if row is not None:
                    out[f, :-1] = row[columns]
            continue
        single = code if code != _TRIO else _PARENT_CHILD
        matrix = _full_matrix(prepared.panel, single, locus)[:, columns]
        for slot in (head, second):
            alone = (slot != UNTYPED) & ((head == UNTYPED) | (second == UNTYPED))
            out[members[alone], :-1] = matrix[slot[alone]]
        both = (head != UNTYPED) & (second != UNTYPED)
        if both.any():
            out[members[both], :-1] = trio_lr(
                prepared.p[locus],
                prepared.mutation[locus],
                prepared.panel.theta,
                (lo[head[both]], hi[head[both]]),
                (lo[second[both]], hi[second[both]]),
                columns,
            )
    return out


def exact_log10_lr(panel: Panel, families: FamilyMatrix, unknowns: ProfileMatrix) -> FloatArray:
    """``(F, U)`` float64: the exact log10 LR of *every* pair from the float64 tables, without
    screen or early exit (``-inf`` for LR 0) — the exhaustive computation the search is checked
    against. Memory and time grow as ``F · U``: for checks on small runs."""
    _check_inputs(panel, families, unknowns, DEFAULT_THRESHOLD)
    out = np.zeros((len(families), len(unknowns)))
    if not (len(families) and len(unknowns)):
        return out
    prepared = _prepare(panel, families, unknowns)
    size = max(1, 2_000_000 // len(unknowns))
    for start in range(0, len(families), size):
        part = families[start : start + size]
        for locus in range(len(panel.loci)):
            rows = _lr_rows(prepared, part, locus)
            with np.errstate(divide="ignore"):
                out[start : start + len(part)] += np.log10(
                    rows[:, prepared.unknowns.cells[:, locus]]
                )
    return out


def simulate_unrelated(panel: Panel, count: int, *, seed: int = 1) -> ProfileMatrix:
    """``count`` profiles of persons unrelated to everyone, every panel locus typed, alleles
    drawn independently from the panel's frequencies (Hardy–Weinberg; θ is not simulated)."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise KinshipInputError(f"count must be a non-negative integer, got {count!r}")
    rng = np.random.default_rng(seed)
    genotypes = np.empty((count, len(panel.loci)), dtype=np.uint16)
    for locus, name in enumerate(panel.loci):
        p = np.asarray(panel.frequencies[name].frequencies, dtype=np.float64)
        cumulative = np.cumsum(p / p.sum())
        a = np.minimum(np.searchsorted(cumulative, rng.random(count), side="right"), len(p) - 1)
        b = np.minimum(np.searchsorted(cumulative, rng.random(count), side="right"), len(p) - 1)
        low, high = np.minimum(a, b), np.maximum(a, b)
        genotypes[:, locus] = high * (high + 1) // 2 + low
    return ProfileMatrix(panel.key, tuple(f"_unrelated_{i}_" for i in range(count)), genotypes)


@dataclass(frozen=True)
class FalseCandidateEstimate:
    """Expected false candidates of a battle of ``families`` × ``unknowns`` at ``threshold``.

    ``simulated``: the expected number, from the rate at which simulated unrelated persons
    reach the threshold against these families (``hits`` of ``pairs`` simulated);
    ``bound``: ``families · unknowns / threshold`` (an unrelated pair reaches LR ≥ T with
    probability at most 1/T); ``per_hypothesis``: the simulated expectation by hypothesis;
    ``per_query``: the expected false candidates of one unknown searched against all families of
    the hypothesis (what an incremental search shows its user).
    """

    threshold: float
    families: int
    unknowns: int
    simulated: float
    bound: float
    per_hypothesis: Mapping[str, float]
    per_query: Mapping[str, float]
    simulations: int
    pairs: int
    hits: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "families": self.families,
            "unknowns": self.unknowns,
            "simulated": self.simulated,
            "bound": self.bound,
            "per_hypothesis": dict(self.per_hypothesis),
            "per_query": dict(self.per_query),
            "simulations": self.simulations,
            "pairs": self.pairs,
            "hits": self.hits,
        }


def expected_false_candidates(
    panel: Panel,
    families: FamilyMatrix,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    unknowns: int,
    simulations: int = 1000,
    max_families: int = 200_000,
    seed: int = 1,
    parallel: bool = True,
) -> FalseCandidateEstimate:
    """Expected false candidates when ``unknowns`` unrelated profiles are searched against
    ``families``: ``simulations`` simulated unrelated persons are searched against the families
    (a random sample of ``max_families`` of them when there are more) and the rate of hits per
    pair, by hypothesis, is scaled to the database; beside it the bound ``pairs / threshold``."""
    limit = check_threshold(threshold)
    for name, value in (
        ("unknowns", unknowns),
        ("simulations", simulations),
        ("max_families", max_families),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < (0 if name == "unknowns" else 1)
        ):
            raise KinshipInputError(f"{name} must be a positive integer, got {value!r}")
    if len(families) > max_families:
        rng = np.random.default_rng(seed)
        chosen = np.sort(rng.choice(len(families), size=max_families, replace=False))
        sample = families.select(chosen)
    else:
        sample = families
    strangers = simulate_unrelated(panel, simulations, seed=seed)
    result = search(panel, sample, strangers, limit, parallel=parallel)
    hits = result.counts()
    total_by_kind = families.hypotheses()
    sample_by_kind = sample.hypotheses()
    per_hypothesis: dict[str, float] = {}
    per_query: dict[str, float] = {}
    for name, count in total_by_kind.items():
        sampled = sample_by_kind.get(name, 0)
        rate = hits.get(name, 0) / (sampled * simulations) if sampled else 0.0
        per_query[name] = rate * count
        per_hypothesis[name] = rate * count * unknowns
    return FalseCandidateEstimate(
        threshold=limit,
        families=len(families),
        unknowns=unknowns,
        simulated=float(sum(per_hypothesis.values())),
        bound=len(families) * unknowns / limit,
        per_hypothesis=MappingProxyType(per_hypothesis),
        per_query=MappingProxyType(per_query),
        simulations=simulations,
        pairs=len(sample) * simulations,
        hits=len(result),
    )
