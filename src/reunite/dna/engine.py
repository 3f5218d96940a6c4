"""The adapter between the DNA registry and the kinship engine (``reunite.kinship``).

Two halves:

* **pure** (top of the module, no Django import, so that it unpickles on a Dask worker or in a
  spawned process): :class:`SearchParams`, :class:`FamilyInput`, :class:`UnknownInput`,
  :class:`Hit` and :func:`search_chunk`, which compares families with unidentified profiles and
  returns every pair whose LR reaches the threshold, with its per-locus table;
* **database** (:func:`load_families`, :func:`load_unknowns`, :func:`family_ids`,
  :func:`params_from_settings`): builds those inputs from the registry.  These import Django
  lazily, inside the functions.

**What an LR means here.** For a family ``f`` and an unidentified profile ``u`` the LR is the
one of :func:`reunite.kinship.pedigree_lr` with ``u`` in the place of the missing person of the
family pedigree (H1) against ``u`` unrelated (H2), θ and the mutation model of
:class:`SearchParams`, and the *case frequencies of that pair*:
``frequencies_for([family references..., u], table)`` — what ``reunite kinship lr`` computes for
the same case.  Every stored LR equals that to 1e-9 relative (tested).

**Two paths, one LR.** :func:`search_chunk` hands the chunk to ``reunite.kinship.search`` (per-
family genotype tables, an exact float32 screen, float64 rescoring) over a panel of the frequency
table alone. What that panel cannot hold — a family or an unknown person carrying an allele absent
from the table, whose pairs' case frequencies therefore differ — goes through the *per-family
path*: :func:`reunite.kinship.plan.genotype_tables` for the family (one peeling pass, θ and
mutation folded in) looked up with numpy, and :func:`reunite.kinship.pedigree_lr` itself for a pair
whose unknown carries such an allele. Both give the LR of :func:`exact_lr`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from reunite.kinship import (
    CaseFrequencies,
    KinshipInputError,
    Pedigree,
    Profile,
    frequencies_for,
    load_table,
    parse_mutation,
    parse_profile,
    pedigree_lr,
)
from reunite.kinship.likelihood import genotype_index
from reunite.kinship.loci import locus_sort_key
from reunite.kinship.mutation import MutationSpec
from reunite.kinship.plan import genotype_tables
from reunite.kinship.results import LRResult, combine

__all__ = [
    "ENGINE_NAME",
    "ChunkResult",
    "EncodedFamilies",
    "FamilyInput",
    "Hit",
    "SearchParams",
    "UnknownInput",
    "encode_side",
    "exact_lr",
    "family_fingerprints",
    "family_ids",
    "load_families",
    "load_families_in_batches",
    "load_unknowns",
    "pair_frequencies",
    "params_from_settings",
    "reference_loci",
    "screen_unknown",
    "search_chunk",
    "side_panel",
]

#: Written on every run and candidate: which engine produced the LR (provenance).
ENGINE_NAME = "reunite.kinship.search"

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: The hypothesis every search tests (``ComparisonRun.hypotheses``).
PEDIGREE_HYPOTHESIS = "unknown_is_missing_person_in_family_pedigree"


# --------------------------------------------------------------------------- inputs (pure)


@dataclass(frozen=True)
class SearchParams:
    """Threshold (LR, not log10), θ, mutation (the ``mutation`` object of a kinship case file,
    or ``None``) and the shipped frequency table's id."""

    threshold: float
    theta: float
    mutation: Mapping[str, Any] | None
    table: str

    def mutation_spec(self) -> MutationSpec:
        return parse_mutation(dict(self.mutation) if self.mutation is not None else None)

    @property
    def log10_threshold(self) -> float:
        return math.log10(self.threshold)

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "theta": self.theta,
            "mutation": dict(self.mutation) if self.mutation is not None else None,
            "frequency_table": self.table,
        }


@dataclass(frozen=True)
class FamilyInput:
    """One family: ``pedigree`` (ids: member codes), ``missing_id``, ``references`` (member code
    → kinship profile) and ``typed`` (member code → the registry's profile id)."""

    report_id: int
    pedigree: Pedigree
    missing_id: str
    references: Mapping[str, Profile]
    typed: Mapping[str, int]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # The engine's objects hold read-only mappings, which pickle refuses: a process pool
        # gets the plain data and rebuilds them.
        return (
            _family_from,
            (
                self.report_id,
                self.pedigree.as_spec(),
                self.missing_id,
                {code: _profile_data(p) for code, p in self.references.items()},
                dict(self.typed),
            ),
        )


@dataclass(frozen=True)
class UnknownInput:
    """One unidentified profile: the registry's id and the kinship profile."""

    profile_id: int
    profile: Profile

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (_unknown_from, (self.profile_id, self.profile.id, _profile_data(self.profile)))


def _profile_data(profile: Profile) -> dict[str, Any]:
    data: dict[str, Any] = {locus: list(g.alleles) for locus, g in profile.genotypes.items()}
    if profile.amelogenin:
        data["AMEL"] = profile.amelogenin
    return data


def _family_from(
    report_id: int,
    spec: list[dict[str, Any]],
    missing_id: str,
    references: dict[str, dict[str, Any]],
    typed: dict[str, int],
) -> FamilyInput:
    return FamilyInput(
        report_id=report_id,
        pedigree=Pedigree.from_spec(spec),
        missing_id=missing_id,
        references={code: parse_profile(code, data) for code, data in references.items()},
        typed=typed,
    )


def _unknown_from(profile_id: int, label: str, data: dict[str, Any]) -> UnknownInput:
    return UnknownInput(profile_id, parse_profile(label, data))


@dataclass(frozen=True)
class Hit:
    """A pair whose LR reaches the threshold: ``per_locus`` in canonical locus order."""

    report_id: int
    profile_id: int
    lr: float
    log10_lr: float
    per_locus: tuple[tuple[str, float], ...]
    notes: tuple[str, ...] = ()


@dataclass
class ChunkResult:
    """What one chunk of families gave: hits, pairs compared, families skipped (with why)."""

    hits: list[Hit] = field(default_factory=list)
    pairs: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- the LR (pure)


def pair_frequencies(family: FamilyInput, unknown: Profile, table: str) -> CaseFrequencies:
    """The case frequencies of one pair: the table completed by the alleles of the family's
    references and of the unknown person (``reunite.kinship.frequencies_for``)."""
    return frequencies_for([*family.references.values(), unknown], table)


def exact_lr(family: FamilyInput, unknown: Profile, params: SearchParams) -> LRResult:
    """The single-case engine's LR for one pair: the definition every search result meets."""
    return pedigree_lr(
        family.pedigree,
        family.missing_id,
        family.references,
        unknown,
        pair_frequencies(family, unknown, params.table),
        params.theta,
        params.mutation_spec(),
    )


def _sex_note(family: FamilyInput, unknown: Profile) -> tuple[str, ...]:
    """The note :func:`pedigree_lr` writes when amelogenin contradicts the missing person's sex."""
    shown = unknown.sex_from_amelogenin()
    recorded = family.pedigree[family.missing_id].sex
    if shown is None or shown == recorded:
        return ()
    return (
        f"the unknown person's amelogenin ({unknown.amelogenin}) does not match the missing "
        f"person's recorded sex ({recorded}); amelogenin is not in the LR",
    )


def _hit(family: FamilyInput, profile_id: int, result: LRResult) -> Hit:
    assert result.log10_lr is not None
    return Hit(
        report_id=family.report_id,
        profile_id=profile_id,
        lr=result.lr,
        log10_lr=result.log10_lr,
        per_locus=tuple(result.per_locus.items()),
        notes=tuple(result.notes),
    )


class _Unknowns:
    """The unknowns of a search as arrays: per locus, each person's two allele labels."""

    def __init__(self, unknowns: Sequence[UnknownInput]) -> None:
        self.items = list(unknowns)
        loci = sorted({locus for u in self.items for locus in u.profile.genotypes})
        self.alleles: dict[str, list[tuple[str, str] | None]] = {
            locus: [
                u.profile.genotypes[locus].alleles if locus in u.profile.genotypes else None
                for u in self.items
            ]
            for locus in loci
        }

    def columns(
        self, locus: str, allele_index: Mapping[str, int]
    ) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """Genotype-table positions at ``locus`` (-1: untyped) and who carries an allele the
        frequencies lack (those pairs go to the exact engine)."""
        count = len(self.items)
        columns = np.full(count, -1, dtype=np.int64)
        foreign = np.zeros(count, dtype=bool)
        for row, pair in enumerate(self.alleles.get(locus, ())):
            if pair is None:
                continue
            a, b = allele_index.get(pair[0]), allele_index.get(pair[1])
            if a is None or b is None:
                foreign[row] = True
            else:
                columns[row] = genotype_index(a, b)
        return columns, foreign


def _search_family(
    family: FamilyInput, unknowns: _Unknowns, params: SearchParams, spec: MutationSpec
) -> list[Hit]:
    """The per-family path: one family's genotype tables, then a look-up per unknown and locus."""
    freqs = frequencies_for(list(family.references.values()), params.table)
    tables = genotype_tables(
        family.pedigree, family.missing_id, family.references, freqs, params.theta, spec
    )
    count = len(unknowns.items)
    total = np.zeros(count)
    fallback = np.zeros(count, dtype=bool)
    per_locus: list[tuple[str, FloatArray, IntArray]] = []
    for locus, table in tables.items():
        index = {allele: i for i, allele in enumerate(table.alleles)}
        columns, foreign = unknowns.columns(locus, index)
        fallback |= foreign
        typed = columns >= 0
        if not typed.any():
            continue
        lr = table.lr()
        with np.errstate(divide="ignore"):
            log_lr = np.log10(lr)
        total[typed] += log_lr[columns[typed]]
        per_locus.append((locus, lr, columns))
    hits: list[Hit] = []
    threshold = params.log10_threshold
    # A small margin: the exact check below decides, the screen only must not drop a pair.
    for row in np.flatnonzero((total >= threshold - 1e-9) & ~fallback).tolist():
        unknown = unknowns.items[row]
        values = {
            locus: float(lr[columns[row]]) for locus, lr, columns in per_locus if columns[row] >= 0
        }
        result = combine(values, list(_sex_note(family, unknown.profile)))
        if result.log10_lr is not None and result.lr >= params.threshold:
            hits.append(_hit(family, unknown.profile_id, result))
    for row in np.flatnonzero(fallback).tolist():
        unknown = unknowns.items[row]
        result = exact_lr(family, unknown.profile, params)
        if result.log10_lr is not None and result.lr >= params.threshold:
            hits.append(_hit(family, unknown.profile_id, result))
    return hits


def _per_family_chunk(
    families: Sequence[FamilyInput], unknowns: Sequence[UnknownInput], params: SearchParams
) -> ChunkResult:
    """The per-family path (module docstring): genotype tables per family, numpy look-ups."""
    spec = params.mutation_spec()
    prepared = _Unknowns(unknowns)
    result = ChunkResult()
    for family in families:
        try:
            result.hits.extend(_search_family(family, prepared, params, spec))
        except KinshipInputError as exc:
            result.skipped.append((family.report_id, str(exc)))
            continue
        result.pairs += len(prepared.items)
    return result


@lru_cache(maxsize=32)
def _panel(table: str, theta: float, mutation_json: str, loci: tuple[str, ...]) -> Any:
    """The search panel of the *table alone* over ``loci`` (renormalised, no allele of any
    profile added): for every pair whose alleles the table holds, the panel's frequencies at a
    locus are exactly the pair's case frequencies there, so the fast engine's LR is the pair's
    :func:`exact_lr`."""
    from reunite.kinship import search as fast

    return fast.make_panel(table, (), loci=loci, theta=theta, mutation=json.loads(mutation_json))


def _panel_loci(
    table: str, families: Sequence[FamilyInput], unknowns: Sequence[UnknownInput]
) -> tuple[str, ...]:
    """The loci that can count: typed in some reference and some unknown, in the table."""
    in_table = set(load_table(table).locus_names)
    references = {locus for f in families for p in f.references.values() for locus in p.genotypes}
    typed = {locus for u in unknowns for locus in u.profile.genotypes}
    return tuple(sorted(references & typed & in_table, key=locus_sort_key))


_last_encoding: list[tuple[str, Sequence[UnknownInput], Any]] = []


def _encoded_unknowns(panel: Any, unknowns: Sequence[UnknownInput]) -> Any:
    """The unknowns encoded for ``panel``; the last encoding is kept, so that the chunks of a
    battle (the same unknowns, the same panel) encode them once."""
    for key, seen, encoded in _last_encoding:
        if key == panel.key and seen is unknowns:
            return encoded
    encoded = panel.encode([u.profile for u in unknowns], skip_invalid=True)
    _last_encoding[:] = [(panel.key, unknowns, encoded)]
    return encoded


def _fast_chunk(
    families: Sequence[FamilyInput],
    unknowns: Sequence[UnknownInput],
    params: SearchParams,
    parallel: bool,
) -> ChunkResult:
    """``reunite.kinship.search`` over the chunk; what it cannot encode against the table's
    panel (an allele the table lacks, so that the pair's case frequencies differ) goes through
    the per-family path, which hands such pairs to :func:`pedigree_lr`."""
    from reunite.kinship import search as fast

    result = ChunkResult()
    loci = _panel_loci(params.table, families, unknowns)
    if not loci or len(loci) > fast.MAX_LOCI:  # nothing to compare, or beyond the panel
        return _per_family_chunk(families, unknowns, params)
    mutation = json.dumps(dict(params.mutation) if params.mutation else None, sort_keys=True)
    panel = _panel(params.table, params.theta, mutation, loci)
    by_id = {str(f.report_id): f for f in families}
    prepared: list[Any] = []
    leftover: list[FamilyInput] = []
    for family in families:
        try:
            prepared.append(
                fast.Family(
                    str(family.report_id), family.pedigree, family.missing_id, family.references
                )
            )
        except KinshipInputError as exc:
            result.skipped.append((family.report_id, str(exc)))
    matrix = fast.encode_families(panel, prepared, skip_invalid=True)
    leftover.extend(by_id[family_id] for family_id, _reason in matrix.rejected)
    encoded = _encoded_unknowns(panel, unknowns)
    rejected = {profile_id for profile_id, _reason in encoded.rejected}
    kept = [u for u in unknowns if u.profile.id not in rejected]
    odd = [u for u in unknowns if u.profile.id in rejected]
    if len(matrix) and kept:
        found = fast.search(panel, matrix, encoded, params.threshold, parallel=parallel)
        for candidate in found:
            family = by_id[candidate.family_id]
            unknown = kept[candidate.unknown_index]
            per_locus = dict(
                sorted(candidate.per_locus.items(), key=lambda kv: locus_sort_key(kv[0]))
            )
            total = combine(per_locus, list(_sex_note(family, unknown.profile)))
            if total.log10_lr is not None and total.lr >= params.threshold:
                result.hits.append(_hit(family, unknown.profile_id, total))
    result.pairs += len(matrix) * len(kept)
    # Families the panel cannot hold, against everyone; the odd unknowns against the rest.
    if leftover:
        rest = _per_family_chunk(leftover, unknowns, params)
        result.hits.extend(rest.hits)
        result.skipped.extend(rest.skipped)
        result.pairs += rest.pairs
    if odd:
        encoded_families = [by_id[family_id] for family_id in matrix.ids]
        rest = _per_family_chunk(encoded_families, odd, params)
        result.hits.extend(rest.hits)
        result.pairs += rest.pairs
    return result


def simulated_false_candidates(
    families: Sequence[FamilyInput],
    unknowns: int,
    params: SearchParams,
    *,
    simulations: int = 200,
    seed: int = 1,
) -> float | None:
    """The engine's simulated expectation of false candidates when ``unknowns`` unrelated
    profiles are searched against ``families`` (``reunite.kinship.search.
    expected_false_candidates``: simulated unrelated persons drawn from the same frequencies);
    ``None`` without families it can hold."""
    if not families or unknowns <= 0:
        return None
    from reunite.kinship import search as fast

    in_table = set(load_table(params.table).locus_names)
    loci = tuple(
        sorted(
            {locus for f in families for p in f.references.values() for locus in p.genotypes}
            & in_table,
            key=locus_sort_key,
        )
    )
    if not loci or len(loci) > fast.MAX_LOCI:
        return None
    mutation = json.dumps(dict(params.mutation) if params.mutation else None, sort_keys=True)
    panel = _panel(params.table, params.theta, mutation, loci)
    held = []
    for family in families:
        try:
            held.append(
                fast.Family(
                    str(family.report_id), family.pedigree, family.missing_id, family.references
                )
            )
        except KinshipInputError:
            continue
    matrix = fast.encode_families(panel, held, skip_invalid=True)
    if not len(matrix):
        return None
    estimate = fast.expected_false_candidates(
        panel, matrix, params.threshold, unknowns=unknowns, simulations=simulations, seed=seed
    )
    return float(estimate.simulated)


def side_panel(params: SearchParams, loci: Iterable[str]) -> Any | None:
    """The panel of a kept family side (:class:`EncodedFamilies`): the table alone over the
    table's loci among ``loci`` (those typed in some reference), ``None`` when none is or there
    are more than the fast engine takes.

    Its frequencies at a locus are those of :func:`_panel` over any loci (the table's, locus by
    locus, renormalised), so a pair scores as with the per-call panel of :func:`search_chunk`;
    a locus the unknown person has not typed counts in neither (NaN in the engine's per-locus
    table, absent from the hit)."""
    from reunite.kinship import search as fast

    in_table = set(load_table(params.table).locus_names)
    chosen = tuple(sorted(set(loci) & in_table, key=locus_sort_key))
    if not chosen or len(chosen) > fast.MAX_LOCI:
        return None
    mutation = json.dumps(dict(params.mutation) if params.mutation else None, sort_keys=True)
    return _panel(params.table, params.theta, mutation, chosen)


def reference_loci(families: Iterable[FamilyInput]) -> set[str]:
    """Every locus typed in some reference of ``families``."""
    return {locus for f in families for p in f.references.values() for locus in p.genotypes}


@dataclass(frozen=True, eq=False)
class EncodedFamilies:
    """Families encoded once for :func:`screen_unknown`, kept between searches.

    ``matrix``: a ``reunite.kinship.search.FamilyMatrix`` for ``panel``; ``report_ids``
    ``int64 (F,)`` the report of each row; ``leftover``: families the panel cannot hold (an
    allele the table lacks, references impossible at a locus), searched by
    :func:`search_chunk` each time; ``skipped``: ``(report id, reason)`` of the families the
    engine cannot use at all.  No decrypted profile is kept but the leftover families'.
    """

    panel: Any
    matrix: Any
    report_ids: IntArray
    leftover: tuple[FamilyInput, ...] = ()
    skipped: tuple[tuple[int, str], ...] = ()

    def __len__(self) -> int:
        return len(self.report_ids) + len(self.leftover)

    def held(self) -> set[int]:
        """The reports of every family held (encoded, leftover or skipped)."""
        return (
            set(self.report_ids.tolist())
            | {f.report_id for f in self.leftover}
            | {report_id for report_id, _reason in self.skipped}
        )

    def without(self, report_ids: Iterable[int]) -> EncodedFamilies:
        """These families less those of ``report_ids``."""
        from reunite.kinship import search as fast

        drop = set(report_ids)
        if not drop:
            return self
        keep = np.flatnonzero(~np.isin(self.report_ids, np.fromiter(drop, dtype=np.int64)))
        matrix: fast.FamilyMatrix = self.matrix
        if len(keep) != len(self.report_ids):
            matrix = matrix.select(keep)
        return EncodedFamilies(
            panel=self.panel,
            matrix=matrix,
            report_ids=self.report_ids[keep],
            leftover=tuple(f for f in self.leftover if f.report_id not in drop),
            skipped=tuple(s for s in self.skipped if s[0] not in drop),
        )

    def plus(self, other: EncodedFamilies) -> EncodedFamilies:
        """These families and ``other``'s (encoded for the same panel; reports disjoint)."""
        from reunite.kinship import search as fast

        assert other.panel.key == self.panel.key
        a: fast.FamilyMatrix = self.matrix
        b: fast.FamilyMatrix = other.matrix
        matrix = fast.FamilyMatrix(
            a.panel_key,
            a.ids + b.ids,
            np.concatenate([a.kinds, b.kinds]),
            np.concatenate([a.references, b.references]),
            a.tables + b.tables,
        )
        return EncodedFamilies(
            panel=self.panel,
            matrix=matrix,
            report_ids=np.concatenate([self.report_ids, other.report_ids]),
            leftover=self.leftover + other.leftover,
            skipped=self.skipped + other.skipped,
        )

    def wipe(self, report_id: int) -> None:
        """Overwrite what is encoded of one family in place (its rows read as untyped): for a
        withdrawn reference, whose data must not wait in memory for the next refresh."""
        from reunite.kinship import search as fast

        for row in np.flatnonzero(self.report_ids == report_id).tolist():
            self.matrix.references[row] = fast.UNTYPED
            for table in self.matrix.tables[row] or ():
                if table is not None:
                    table.fill(1.0)


def encode_side(panel: Any, families: Sequence[FamilyInput]) -> EncodedFamilies:
    """``families`` encoded for ``panel`` (:func:`side_panel`), as :func:`_fast_chunk` encodes
    a chunk: closed forms for the canonical shapes, the general engine's tables for the rest."""
    from reunite.kinship import search as fast

    by_id = {str(f.report_id): f for f in families}
    prepared: list[Any] = []
    skipped: list[tuple[int, str]] = []
    for family in families:
        try:
            prepared.append(
                fast.Family(
                    str(family.report_id), family.pedigree, family.missing_id, family.references
                )
            )
        except KinshipInputError as exc:
            skipped.append((family.report_id, str(exc)))
    matrix = fast.encode_families(panel, prepared, skip_invalid=True)
    return EncodedFamilies(
        panel=panel,
        matrix=matrix,
        report_ids=np.array([int(i) for i in matrix.ids], dtype=np.int64),
        leftover=tuple(by_id[family_id] for family_id, _reason in matrix.rejected),
        skipped=tuple(skipped),
    )


def screen_unknown(
    side: EncodedFamilies, unknown: UnknownInput, params: SearchParams
) -> list[int] | None:
    """The reports of the encoded families whose exact LR with ``unknown`` reaches the
    threshold (``reunite.kinship.search`` over the kept matrix, exact: its candidates are the
    pairs :func:`search_chunk` finds among those families); ``None`` when the kept panel cannot
    score this person as :func:`search_chunk` would — an allele the table lacks (the pair's case
    frequencies differ) or no locus in common — and the caller must search without it."""
    from reunite.kinship import search as fast

    panel = side.panel
    if not set(unknown.profile.genotypes) & set(panel.loci):
        return None
    encoded = panel.encode([unknown.profile], skip_invalid=True)
    if encoded.rejected:
        return None
    if not len(side.matrix):
        return []
    found = fast.search(panel, side.matrix, encoded, params.threshold, parallel=False)
    return sorted({int(candidate.family_id) for candidate in found})


def engine_name() -> str:
    """Which engine computes the LRs (written on runs and candidates: provenance)."""
    return ENGINE_NAME


def search_chunk(
    families: Sequence[FamilyInput],
    unknowns: Sequence[UnknownInput],
    params: SearchParams,
    parallel: bool = False,
) -> ChunkResult:
    """Every (family, unknown) pair of the chunk whose LR reaches ``params.threshold``.

    Pure and picklable: runs in this process (``parallel``: numba threads on every core), in a
    spawned worker or on a Dask worker (one thread each).  A family the engine cannot use (a
    reference's amelogenin against its recorded sex, a pedigree too large for the exact engine,
    references impossible in their pedigree) is skipped with the engine's one-line reason.
    """
    return _fast_chunk(families, unknowns, params, parallel)


# --------------------------------------------------------------------------- database side


def params_from_settings(threshold: float | None = None) -> SearchParams:
    """The parameters in force (``DNA_MATCH_*`` settings), the threshold optionally replaced."""
    from django.conf import settings

    table = str(getattr(settings, "DNA_MATCH_FREQUENCY_TABLE", "han_chinese"))
    load_table(table)  # an unknown table fails here, with the engine's message
    mutation = getattr(settings, "DNA_MATCH_MUTATION", None)
    params = SearchParams(
        threshold=float(
            threshold if threshold is not None else getattr(settings, "DNA_MATCH_THRESHOLD", 1e4)
        ),
        theta=float(getattr(settings, "DNA_MATCH_THETA", 0.01)),
        mutation=dict(mutation) if mutation else None,
        table=table,
    )
    params.mutation_spec()  # a malformed model fails here
    return params


def _kinship_profile(
    label: str, genotypes: Mapping[str, Sequence[str]], amelogenin: str
) -> Profile:
    data: dict[str, object] = {locus: list(pair) for locus, pair in genotypes.items()}
    if amelogenin:
        data["AMEL"] = amelogenin
    return parse_profile(label, data)


def family_ids() -> list[int]:
    """Ids of the missing reports with at least one searchable reference profile, ascending."""
    from reunite.dna.models import ProfileRole
    from reunite.dna.services import searchable_profiles

    return sorted(
        set(
            searchable_profiles(ProfileRole.REFERENCE).values_list(
                "sample__family_member__report_id", flat=True
            )
        )
    )


def load_families(report_ids: Iterable[int] | None = None) -> list[FamilyInput]:
    """The families (all, or those of ``report_ids``) as the engine takes them: the pedigree of
    ``services.family_pedigrees`` and the decrypted reference profiles it names."""
    from reunite.dna.models import Profile as StoredProfile
    from reunite.dna.services import family_pedigrees

    pedigrees = list(family_pedigrees(report_ids))
    wanted = [pk for family in pedigrees for pk in family.typed.values()]
    stored = StoredProfile.objects.only("pk", "genotypes", "amelogenin").in_bulk(wanted)
    families: list[FamilyInput] = []
    for family in pedigrees:
        references = {
            code: _kinship_profile(code, stored[pk].genotypes, stored[pk].amelogenin)
            for code, pk in family.typed.items()
            if pk in stored
        }
        families.append(
            FamilyInput(
                report_id=family.report_id,
                pedigree=family.pedigree,
                missing_id=family.missing_id,
                references=references,
                typed=dict(family.typed),
            )
        )
    return families


def load_unknowns(profile_ids: Iterable[int] | None = None) -> list[UnknownInput]:
    """Searchable unidentified profiles (all, or those of ``profile_ids``), decrypted."""
    from reunite.dna.models import ProfileRole
    from reunite.dna.services import searchable_profiles

    qs = searchable_profiles(ProfileRole.UNIDENTIFIED).only(
        "pk", "pseudonym", "genotypes", "amelogenin"
    )
    if profile_ids is not None:
        qs = qs.filter(pk__in=list(profile_ids))
    return [
        UnknownInput(p.pk, _kinship_profile(p.pseudonym, p.genotypes, p.amelogenin))
        for p in qs.order_by("pk")
    ]


def family_fingerprints() -> dict[int, int]:
    """Per family with a searchable reference (report id → fingerprint): a hash of everything
    its encoding depends on, read without decrypting anything — its searchable reference
    profiles (id, place, loci, genotype digest, last change) and its pedigree (every member's
    id, code, sex, mother and father).  A profile withdrawn, destroyed, failed at QC or edited,
    a relative placed: the family's fingerprint changes or the family drops out.  Two queries
    however many families; the hashes hold within one process only."""
    from reunite.dna.models import FamilyMember, ProfileRole
    from reunite.dna.services import searchable_profiles

    profiles: dict[int, list[tuple[Any, ...]]] = {}
    rows = (
        searchable_profiles(ProfileRole.REFERENCE)
        .order_by()
        .values_list(
            "sample__family_member__report_id",
            "pk",
            "sample__family_member__code",
            "locus_count",
            "genotype_digest",
            "updated_at",
        )
    )
    for row in rows.iterator(chunk_size=20_000):
        profiles.setdefault(row[0], []).append(row[1:])
    members: dict[int, list[tuple[Any, ...]]] = {}
    for member in (
        FamilyMember.objects.order_by()
        .values_list("report_id", "pk", "code", "sex", "mother_id", "father_id")
        .iterator(chunk_size=20_000)
    ):
        if member[0] in profiles:
            members.setdefault(member[0], []).append(member[1:])
    return {
        report_id: hash((tuple(sorted(held)), tuple(sorted(members.get(report_id, ())))))
        for report_id, held in profiles.items()
    }


def load_families_in_batches(report_ids: Iterable[int], batch: int = 500) -> list[FamilyInput]:
    """:func:`load_families` for many reports, ``batch`` at a time (bounded ``IN`` lists)."""
    ids = sorted(set(report_ids))
    found: list[FamilyInput] = []
    for start in range(0, len(ids), batch):
        found.extend(load_families(ids[start : start + batch]))
    return found
