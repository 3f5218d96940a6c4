"""Search planning: how well a family's typed relatives can identify their missing person.

For a pedigree with some relatives typed, the LR that a future unknown person's profile will give
depends only on that person's genotype at each locus. The engine tabulates, per locus, the
likelihood of every genotype of the missing person under H1 (the unknown person *is* the missing
person) and under H2 (unrelated), θ and mutation included (:func:`genotype_tables`). From the two
tables follow, exactly and without simulation:

* the distribution of the missing person's genotype given the relatives (``P1 ∝ T1``) and of an
  unrelated person's (``P2 ∝ T2``), hence the **expected log10 LR** when the missing person is
  found (``Σ P1 log10 LR``) and the **exclusion power** (the probability that an unrelated
  person shows an LR of 0 at some locus; loci are independent);

and, by sampling each locus independently from ``P1`` and ``P2`` (the same Mendelian model), the
distribution of the total log10 LR: its quantiles and the probabilities of reaching a threshold,
i.e. the share of true relatives found and the false-candidate rate per unrelated person.

**Which relative to sample next.** For every untyped person of the pedigree (other than the
missing one) the same is done with that person's genotype free as well: the joint table of
(candidate, missing person) under H1 and (candidate, unrelated person) under H2 gives the expected
log10 LR once the candidate is typed, averaged over the genotype the candidate will show. The
candidate with the largest gain is recommended.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from reunite.kinship.errors import KinshipInputError
from reunite.kinship.frequencies import CaseFrequencies, LocusFrequencies
from reunite.kinship.likelihood import (
    UNRELATED_ID,
    LocusData,
    _check_profiles,
    _locus_data,
    _prepare,
    likelihoods,
    unordered,
)
from reunite.kinship.loci import locus_sort_key
from reunite.kinship.mutation import MutationSpec
from reunite.kinship.pairwise import check_theta
from reunite.kinship.pedigree import Pedigree
from reunite.kinship.profiles import Profile
from reunite.kinship.results import frequency_map

__all__ = [
    "Candidate",
    "LocusTables",
    "PlanResult",
    "Summary",
    "genotype_tables",
    "plan_search",
]

FloatArray = npt.NDArray[np.float64]

#: Default number of simulated profiles per hypothesis.
DEFAULT_SIMULATIONS = 10_000
#: Default LR threshold for the reported detection rates.
DEFAULT_THRESHOLD = 10_000.0
#: Most simulations one call accepts.
MAX_SIMULATIONS = 1_000_000


@dataclass(frozen=True, eq=False)
class LocusTables:
    """One locus: ``alleles``, and the likelihood tables ``h1``/``h2`` over the unordered
    genotypes of the free persons (one axis each, see :func:`reunite.kinship.likelihood.unordered`),
    the last axis being the missing / unknown person."""

    locus: str
    alleles: tuple[str, ...]
    h1: FloatArray
    h2: FloatArray

    def lr(self) -> FloatArray:
        """``h1 / h2`` over every genotype; references that are impossible in their pedigree
        (H2 = 0: likelihood 0 even without the unknown person) are a clear error, not NaN."""
        if not np.all(self.h2 > 0.0):
            raise KinshipInputError(
                f"at locus {self.locus} the reference profiles are impossible in this pedigree "
                "(likelihood 0 even without the unknown person): check the pedigree, the "
                "profiles, or allow mutation"
            )
        return np.asarray(self.h1 / self.h2, dtype=np.float64)


def genotype_tables(
    pedigree: Pedigree,
    missing: str,
    references: Mapping[str, Profile],
    frequencies: CaseFrequencies | Mapping[str, LocusFrequencies],
    theta: float = 0.0,
    mutation: MutationSpec | None = None,
    *,
    also_free: Sequence[str] = (),
) -> dict[str, LocusTables]:
    """Per locus typed in some reference: the H1 and H2 likelihood of every genotype of the
    unknown person (and of each person of ``also_free``, axes first), no allele lumping.

    ``LR(g) = h1[g] / h2[g]``. Loci where no reference is typed are left out (LR 1).
    """
    probe = Profile("_plan_probe_")
    _check_profiles(pedigree, missing, references, probe)
    t = check_theta(theta)
    spec = mutation if mutation is not None else MutationSpec()
    for person_id in also_free:
        if person_id not in pedigree or person_id in references or person_id == missing:
            raise KinshipInputError(
                f"{person_id!r} must be an untyped person of the pedigree, not the missing one"
            )
    by_locus = frequency_map(frequencies)
    unrelated = pedigree.with_founder(UNRELATED_ID)
    loci = sorted(
        {locus for profile in references.values() for locus in profile.genotypes},
        key=locus_sort_key,
    )
    groups: dict[frozenset[str], list[tuple[str, LocusData]]] = {}
    for locus in loci:
        freqs = by_locus.get(locus)
        if freqs is None:
            continue
        indices = {
            person_id: (
                freqs.index(profile.genotypes[locus].alleles[0]),
                freqs.index(profile.genotypes[locus].alleles[1]),
            )
            for person_id, profile in references.items()
            if locus in profile.genotypes
        }
        data = _locus_data(_prepare(freqs, spec.for_locus(locus), None), indices)
        groups.setdefault(frozenset(indices), []).append((locus, data))

    tables: dict[str, LocusTables] = {}
    extra = tuple(also_free)
    for entries in groups.values():
        batch = [data for _, data in entries]
        h1 = likelihoods(pedigree, batch, t, free=(*extra, missing))
        h2 = likelihoods(unrelated, batch, t, free=(*extra, UNRELATED_ID))
        for row, (locus, data) in enumerate(entries):
            n = len(data.p)
            one, two = h1[row], h2[row]
            index = (slice(0, n),) * one.ndim
            one, two = one[index], two[index]
            for axis in range(len(extra) + 1):
                one = unordered(one, axis)
                two = unordered(two, axis)
            tables[locus] = LocusTables(locus, data.alleles, one, two)
    return dict(sorted(tables.items(), key=lambda item: locus_sort_key(item[0])))


@dataclass(frozen=True)
class Summary:
    """What a set of typed relatives achieves (see the module docstring)."""

    expected_log10_lr: float  # E[log10 LR | H1]
    exclusion_power: float  # P(LR = 0 | H2)
    detection_rate: float  # P(LR ≥ threshold | H1), simulated
    false_positive_rate: float  # P(LR ≥ threshold | H2), simulated
    log10_lr_quantiles_h1: dict[str, float]  # 5%, 50%, 95%, simulated
    log10_lr_quantiles_h2: dict[str, float | None]  # among unrelated persons not excluded

    def as_dict(self) -> dict[str, Any]:
        return {
            "expected_log10_lr": self.expected_log10_lr,
            "exclusion_power": self.exclusion_power,
            "detection_rate": self.detection_rate,
            "false_positive_rate": self.false_positive_rate,
            "log10_lr_quantiles_h1": self.log10_lr_quantiles_h1,
            "log10_lr_quantiles_h2": self.log10_lr_quantiles_h2,
        }


@dataclass(frozen=True)
class Candidate:
    """An untyped relative and what typing them would bring."""

    person: str
    summary: Summary
    gain: float  # expected log10 LR with the candidate typed, minus without

    def as_dict(self) -> dict[str, Any]:
        return {"person": self.person, "gain_log10": self.gain, **self.summary.as_dict()}


@dataclass(frozen=True)
class PlanResult:
    """:func:`plan_search`'s answer."""

    loci: tuple[str, ...]
    threshold: float
    simulations: int
    seed: int
    current: Summary
    candidates: list[Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def recommended(self) -> Candidate | None:
        """The candidate with the largest gain, if any."""
        return self.candidates[0] if self.candidates else None

    def as_dict(self) -> dict[str, Any]:
        best = self.recommended
        return {
            "loci": list(self.loci),
            "threshold": self.threshold,
            "simulations": self.simulations,
            "seed": self.seed,
            "current": self.current.as_dict(),
            "recommended": None if best is None else best.person,
            "candidates": [candidate.as_dict() for candidate in self.candidates],
            "notes": list(self.notes),
        }


def _log10_ratio(h1: FloatArray, h2: FloatArray) -> FloatArray:
    """log10(h1 / h2) where both are positive, -inf where only h2 is (an exclusion), 0 where
    h2 is 0 (a combination impossible under both hypotheses, never drawn)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(h2 > 0.0, h1 / np.where(h2 > 0.0, h2, 1.0), 1.0)
        return np.where(ratio > 0.0, np.log10(np.where(ratio > 0.0, ratio, 1.0)), -np.inf)


def _sample(
    probabilities: FloatArray, values: FloatArray, rng: np.random.Generator, size: int
) -> FloatArray:
    cumulative = np.cumsum(probabilities)
    cumulative /= cumulative[-1]
    picks = np.searchsorted(cumulative, rng.random(size), side="right")
    return values[np.minimum(picks, len(values) - 1)]


def _summarise(
    tables: Mapping[str, LocusTables],
    threshold: float,
    simulations: int,
    rng: np.random.Generator,
) -> Summary:
    expected = 0.0
    not_excluded = 1.0
    total_h1 = np.zeros(simulations)
    total_h2 = np.zeros(simulations)
    for table in tables.values():
        h1 = table.h1.ravel()
        h2 = table.h2.ravel()
        p1 = h1 / h1.sum()
        p2 = h2 / h2.sum()
        log_lr = _log10_ratio(h1, h2)
        drawn = p1 > 0.0
        expected += math.fsum((p1[drawn] * log_lr[drawn]).tolist())
        not_excluded *= 1.0 - math.fsum(p2[np.isneginf(log_lr) & (p2 > 0.0)].tolist())
        total_h1 += _sample(p1, log_lr, rng, simulations)
        total_h2 += _sample(p2, log_lr, rng, simulations)
    log_threshold = math.log10(threshold)
    kept_h2 = total_h2[np.isfinite(total_h2)]

    def quantiles(values: FloatArray) -> dict[str, float]:
        q = np.quantile(values, [0.05, 0.5, 0.95])
        return {"5%": float(q[0]), "50%": float(q[1]), "95%": float(q[2])}

    return Summary(
        expected_log10_lr=expected,
        exclusion_power=max(0.0, 1.0 - not_excluded),
        detection_rate=float(np.mean(total_h1 >= log_threshold)),
        false_positive_rate=float(np.mean(total_h2 >= log_threshold)),
        log10_lr_quantiles_h1=quantiles(total_h1),
        log10_lr_quantiles_h2=(
            dict(quantiles(kept_h2)) if kept_h2.size else {"5%": None, "50%": None, "95%": None}
        ),
    )


def plan_search(
    pedigree: Pedigree,
    missing: str,
    references: Mapping[str, Profile],
    frequencies: CaseFrequencies | Mapping[str, LocusFrequencies],
    theta: float = 0.0,
    mutation: MutationSpec | None = None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    simulations: int = DEFAULT_SIMULATIONS,
    seed: int = 1,
    candidates: Sequence[str] | None = None,
) -> PlanResult:
    """Plan the search for ``missing`` from the typed ``references`` (module docstring).

    ``candidates``: the untyped persons to consider sampling next (default: every untyped
    person of the pedigree other than the missing one). ``threshold``: the LR at which a
    candidate match is reported. The simulation is seeded, so a plan is reproducible.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise KinshipInputError("threshold must be a number")
    if not math.isfinite(threshold) or threshold <= 0.0:
        raise KinshipInputError(f"threshold must be a positive number, got {threshold!r}")
    if (
        isinstance(simulations, bool)
        or not isinstance(simulations, int)
        or not 1 <= simulations <= MAX_SIMULATIONS
    ):
        raise KinshipInputError(f"simulations must be an integer in [1, {MAX_SIMULATIONS}]")
    if not references:
        raise KinshipInputError("planning needs at least one typed relative")
    current_tables = genotype_tables(pedigree, missing, references, frequencies, theta, mutation)
    notes: list[str] = []
    if not current_tables:
        raise KinshipInputError("no locus of the references has frequencies")
    rng = np.random.default_rng(seed)
    current = _summarise(current_tables, threshold, simulations, rng)

    pool = (
        [
            person_id
            for person_id in pedigree.ids
            if person_id != missing and person_id not in references
        ]
        if candidates is None
        else list(candidates)
    )
    ranked: list[Candidate] = []
    for person_id in pool:
        try:
            tables = genotype_tables(
                pedigree, missing, references, frequencies, theta, mutation, also_free=(person_id,)
            )
        except KinshipInputError as error:
            notes.append(f"candidate {person_id!r} left out: {error}")
            continue
        summary = _summarise(tables, threshold, simulations, rng)
        ranked.append(
            Candidate(person_id, summary, summary.expected_log10_lr - current.expected_log10_lr)
        )
    ranked.sort(key=lambda candidate: -candidate.gain)
    return PlanResult(
        loci=tuple(current_tables),
        threshold=float(threshold),
        simulations=simulations,
        seed=seed,
        current=current,
        candidates=ranked,
        notes=notes,
    )
