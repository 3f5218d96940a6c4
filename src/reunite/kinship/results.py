"""Likelihood-ratio results: the per-locus values, their product, its log10 and notes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from reunite.kinship.errors import KinshipInputError
from reunite.kinship.frequencies import CaseFrequencies, LocusFrequencies
from reunite.kinship.loci import normalise_locus

__all__ = ["LRResult", "combine", "frequency_map"]

#: Largest log10 LR a float can hold.
_MAX_LOG10 = math.log10(1.7976931348623157e308)


@dataclass(frozen=True)
class LRResult:
    """An LR: ``lr`` (the product over loci), ``log10_lr`` (``None`` when ``lr`` is 0, an
    exclusion), ``per_locus`` (the LR of each locus that counted, canonical locus order) and
    ``notes`` (one line each)."""

    lr: float
    log10_lr: float | None
    per_locus: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """The CLI's JSON shape ``{"lr", "log10_lr", "per_locus", "notes"}``."""
        return {
            "lr": self.lr,
            "log10_lr": self.log10_lr,
            "per_locus": dict(self.per_locus),
            "notes": list(self.notes),
        }


def combine(per_locus: dict[str, float], notes: list[str]) -> LRResult:
    """The total of ``per_locus``: an exact 0 stays 0; otherwise a sum of log10 values, so that
    a product beyond the float range still has its log10 (and a note)."""
    if any(value == 0.0 for value in per_locus.values()):
        return LRResult(lr=0.0, log10_lr=None, per_locus=per_locus, notes=notes)
    log10_lr = math.fsum(math.log10(value) for value in per_locus.values())
    if log10_lr > _MAX_LOG10:
        notes.append(f"the LR 10^{log10_lr:.2f} exceeds the floating-point range")
        lr = math.inf
    else:
        lr = 10.0**log10_lr
        if lr == 0.0:
            notes.append(f"the LR 10^{log10_lr:.2f} is below the floating-point range")
    return LRResult(lr=lr, log10_lr=log10_lr, per_locus=per_locus, notes=notes)


def frequency_map(
    frequencies: CaseFrequencies | Mapping[str, LocusFrequencies],
) -> dict[str, LocusFrequencies]:
    """Canonical locus name → frequencies, from case frequencies or a mapping."""
    if isinstance(frequencies, CaseFrequencies):  # canonical and checked on construction
        return dict(frequencies.loci)
    loci = frequencies.loci if isinstance(frequencies, CaseFrequencies) else frequencies
    if not isinstance(loci, Mapping):
        raise KinshipInputError(
            f"frequencies must map locus names to LocusFrequencies, got {type(loci).__name__}"
        )
    result: dict[str, LocusFrequencies] = {}
    for name, value in loci.items():
        if not isinstance(value, LocusFrequencies):
            raise KinshipInputError(f"frequencies at {name!r} are not LocusFrequencies")
        result[normalise_locus(name)] = value
    return result
