"""Pairwise likelihood ratios from the IBD coefficients κ = (κ0, κ1, κ2), with θ, no mutation.

For two persons with genotypes ``g1`` and ``g2`` at one locus,

    LR = Σ_k κ_k · P(g1, g2 | k alleles IBD, θ) / P(g1, g2 | unrelated, θ),

H2 ("unrelated") being the state of 0 alleles IBD. Under each IBD state the *distinct* alleles
(two of person 1, then the ``2 - k`` of person 2 that are not IBD with person 1's) are founder
alleles drawn jointly by the Balding–Nichols sequential formula (Balding & Nichols 1994; NRC II
1996, eq. 4.10): after ``n ≥ 1`` draws of which ``x_a`` were ``a``, the next draw is ``a`` with
probability ``(θ x_a + (1 - θ) p_a) / (1 + (n - 1) θ)``; the first draw is ``a`` with
probability ``p_a``. This is the convention of the established software: a pairwise relationship
is the smallest pedigree that defines it, every founder allele of that pedigree is drawn jointly,
and the alleles of the untyped persons sum out (the draws are exchangeable and consistent).

``P(g1, g2 | k IBD)`` is computed by a small exact sum rather than a table of special cases:
each person's *ordered* allele pairs that show the observed unordered genotype (one for a
homozygote, two for a heterozygote) are combined with every way of matching ``k`` of person 1's
two positions to ``k`` of person 2's (1, 4 and 2 ways for k = 0, 1, 2, equally likely); a
combination counts when the matched positions hold the same allele, and adds the joint
probability of its distinct draws. The sum over the matchings is divided by their number.

Mutation is not modelled here: a parent and child sharing no allele give LR 0 (an exclusion).
Parent–child with mutation goes through the pedigree engine.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from functools import cache

import numpy as np
import numpy.typing as npt

from reunite.kinship.errors import KinshipInputError, shown
from reunite.kinship.frequencies import CaseFrequencies, LocusFrequencies
from reunite.kinship.loci import locus_sort_key
from reunite.kinship.pedigree import RELATIONSHIPS
from reunite.kinship.profiles import Genotype, Profile
from reunite.kinship.results import LRResult, combine, frequency_map

__all__ = [
    "KAPPA",
    "KAPPA_TOLERANCE",
    "MAX_THETA",
    "Kappa",
    "PairwiseResult",
    "check_theta",
    "kappa_of",
    "locus_lr",
    "pairwise_lr",
]

#: IBD probabilities (κ0, κ1, κ2).
Kappa = tuple[float, float, float]

#: κ of each named relationship of :data:`reunite.kinship.pedigree.RELATIONSHIPS`.
KAPPA: Mapping[str, Kappa] = {
    "parent-child": (0.0, 1.0, 0.0),
    "full-siblings": (0.25, 0.5, 0.25),
    "half-siblings": (0.5, 0.5, 0.0),
    "grandparent": (0.5, 0.5, 0.0),
    "avuncular": (0.5, 0.5, 0.0),
    "first-cousins": (0.75, 0.25, 0.0),
    "unrelated": (1.0, 0.0, 0.0),
}

#: How far a given κ may sum away from 1.
KAPPA_TOLERANCE = 1e-9
#: Slack for rounding in the triangle constraint κ1² ≥ 4 κ0 κ2 (its boundary is attainable).
_TRIANGLE_SLACK = 1e-12
#: θ must be below this (and at least 0).
MAX_THETA = 0.25


def kappa_of(relationship: object) -> Kappa:
    """κ = (κ0, κ1, κ2) of a named relationship or of ``{"kappa": [k0, k1, k2]}``.

    A given κ must be three finite numbers in [0, 1] summing to 1 within
    :data:`KAPPA_TOLERANCE`, and lie in Thompson's admissible region κ1² ≥ 4 κ0 κ2 (the IBD
    triangle); ``(k0, k1, k2)`` as a bare list or tuple is accepted too. Raises
    :class:`KinshipInputError`.
    """
    if isinstance(relationship, str):
        try:
            return KAPPA[relationship]
        except KeyError:
            raise KinshipInputError(
                f"unknown relationship {shown(relationship)}: expected one of "
                f"{', '.join(RELATIONSHIPS)} or {{'kappa': [k0, k1, k2]}}"
            ) from None
    if isinstance(relationship, Mapping):
        extra = sorted(str(key) for key in relationship if key != "kappa")
        if "kappa" not in relationship or extra:
            raise KinshipInputError(
                "a relationship object must be {'kappa': [k0, k1, k2]}, "
                f"got {shown(relationship)}"
            )
        values: object = relationship["kappa"]
    else:
        values = relationship
    if (
        isinstance(values, str | bytes)
        or not isinstance(values, Sequence)
        or len(values) != 3
        or not all(
            isinstance(value, int | float) and not isinstance(value, bool) for value in values
        )
    ):
        raise KinshipInputError(f"kappa must be three numbers [k0, k1, k2], got {shown(values)}")
    k0, k1, k2 = (float(value) for value in values)
    for name, value in (("k0", k0), ("k1", k1), ("k2", k2)):
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise KinshipInputError(f"kappa {name} = {value!r} must lie in [0, 1]")
    total = math.fsum((k0, k1, k2))
    if abs(total - 1.0) > KAPPA_TOLERANCE:
        raise KinshipInputError(f"kappa [k0, k1, k2] must sum to 1, got {total!r}")
    if k1 * k1 < 4.0 * k0 * k2 - _TRIANGLE_SLACK:
        raise KinshipInputError(
            f"kappa [{k0!r}, {k1!r}, {k2!r}] is not a possible relationship: it needs "
            "k1² ≥ 4·k0·k2 (the IBD triangle)"
        )
    return (k0, k1, k2)


def check_theta(theta: object) -> float:
    """``theta`` as a float after checking 0 ≤ θ < 0.25; raises :class:`KinshipInputError`."""
    if isinstance(theta, bool) or not isinstance(theta, int | float):
        raise KinshipInputError(f"theta must be a number, got {shown(theta)}")
    value = float(theta)
    if not math.isfinite(value) or not 0.0 <= value < MAX_THETA:
        raise KinshipInputError(f"theta = {value!r} must lie in [0, {MAX_THETA})")
    return value


# -- one locus ---------------------------------------------------------------------------------


@cache
def _matchings(k: int) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Every way to pair ``k`` positions of person 1 with ``k`` of person 2: ``((i, j), ...)``."""
    found: list[tuple[tuple[int, int], ...]] = []
    for first in itertools.combinations((0, 1), k):
        for second in itertools.permutations((0, 1), k):
            found.append(tuple(zip(first, second, strict=True)))
    return tuple(found)


def _ordered(pair: tuple[int, int]) -> tuple[tuple[int, int], ...]:
    """The ordered allele pairs that show the unordered pair ``pair``."""
    a, b = pair
    return ((a, b),) if a == b else ((a, b), (b, a))


def _joint_draws(draws: Sequence[int], p: Sequence[float], theta: float) -> float:
    """Joint probability of ``draws`` (allele indices, in order) by Balding–Nichols."""
    probability = 1.0
    seen: dict[int, int] = {}
    for n, allele in enumerate(draws):
        x = seen.get(allele, 0)
        if n == 0:
            probability *= p[allele]
        else:
            probability *= (theta * x + (1.0 - theta) * p[allele]) / (1.0 + (n - 1) * theta)
        seen[allele] = x + 1
    return probability


def _ibd_probability(
    g1: tuple[int, int], g2: tuple[int, int], k: int, p: Sequence[float], theta: float
) -> float:
    """P(g1, g2 | k alleles IBD, θ), by the exact sum of the module docstring."""
    matchings = _matchings(k)
    total = 0.0
    for matching in matchings:
        shared_in_2 = {j for _, j in matching}
        for first in _ordered(g1):
            for second in _ordered(g2):
                if any(first[i] != second[j] for i, j in matching):
                    continue
                draws = [*first, *(second[j] for j in (0, 1) if j not in shared_in_2)]
                total += _joint_draws(draws, p, theta)
    return total / len(matchings)


def _indices(genotype: Genotype, freqs: LocusFrequencies) -> tuple[int, int]:
    if not isinstance(genotype, Genotype):
        raise KinshipInputError(f"expected a Genotype, got {type(genotype).__name__}")
    found: list[int] = []
    for allele in genotype.alleles:
        if allele not in freqs:
            raise KinshipInputError(
                f"allele {allele} at {freqs.locus} has no frequency in {freqs.source}; "
                "build the case frequencies with frequencies_for, which adds missing alleles"
            )
        found.append(freqs.index(allele))
    return (found[0], found[1])


def locus_lr(
    g1: Genotype | None,
    g2: Genotype | None,
    freqs: LocusFrequencies,
    kappa: Kappa | str | Mapping[str, object],
    theta: float = 0.0,
) -> float:
    """The LR of ``kappa`` against unrelated at one locus (module docstring); no mutation.

    ``kappa`` is a name of :data:`KAPPA`, ``{"kappa": [k0, k1, k2]}`` or ``(k0, k1, k2)``.
    An untyped locus (``None`` for either person) gives 1.0. Raises :class:`KinshipInputError`
    for an allele without a frequency, an invalid κ or θ outside [0, 0.25).
    """
    k = kappa_of(kappa)
    t = check_theta(theta)
    if not isinstance(freqs, LocusFrequencies):
        raise KinshipInputError(f"expected LocusFrequencies, got {type(freqs).__name__}")
    if g1 is None or g2 is None:
        return 1.0
    a = _indices(g1, freqs)
    b = _indices(g2, freqs)
    p = freqs.frequencies.tolist()
    unrelated = _ibd_probability(a, b, 0, p, t)
    numerator = math.fsum(
        weight * _ibd_probability(a, b, state, p, t)
        for state, weight in enumerate(k)
        if weight != 0.0
    )
    return numerator / unrelated


# -- whole profiles ----------------------------------------------------------------------------


#: The result of :func:`pairwise_lr` (the general :class:`LRResult`).
PairwiseResult = LRResult


def _kernel_lrs(
    profile1: Profile,
    profile2: Profile,
    shared: Sequence[tuple[str, LocusFrequencies]],
    kappa: Kappa,
    theta: float,
) -> npt.NDArray[np.float64]:
    """The per-locus LRs of ``shared`` loci by the compiled kernel (the same sum as
    :func:`locus_lr`)."""
    from reunite.kinship.kernels import pairwise_locus_lrs

    count = len(shared)
    width = max((len(freqs) for _, freqs in shared), default=1)
    p = np.zeros((count, width))
    g1 = np.empty((count, 2), dtype=np.int64)
    g2 = np.empty((count, 2), dtype=np.int64)
    for row, (locus, freqs) in enumerate(shared):
        p[row, : len(freqs)] = freqs.frequencies
        g1[row] = _indices(profile1.genotypes[locus], freqs)
        g2[row] = _indices(profile2.genotypes[locus], freqs)
    out = np.empty(count)
    pairwise_locus_lrs(g1, g2, p, kappa[0], kappa[1], kappa[2], theta, out)
    return out


def pairwise_lr(
    profile1: Profile,
    profile2: Profile,
    freqs_by_locus: Mapping[str, LocusFrequencies] | CaseFrequencies,
    relationship: object,
    theta: float = 0.0,
) -> PairwiseResult:
    """The LR that ``profile1`` and ``profile2`` have ``relationship`` rather than being unrelated.

    ``relationship`` is a name of :data:`KAPPA` or ``{"kappa": [k0, k1, k2]}``;
    ``freqs_by_locus`` maps locus names to frequencies (or is the :class:`CaseFrequencies` of
    :func:`reunite.kinship.frequencies.frequencies_for`). Loci typed in both profiles and present
    in the frequencies each give a per-locus LR; a locus typed in one profile only gives LR 1
    and is not listed; a locus typed in both but absent from the frequencies is left out with a
    note. Amelogenin is never part of a profile's genotypes, so never of the LR. The total is
    the product, computed as a sum of log10 values (an exact 0 stays 0).
    """
    kappa = kappa_of(relationship)
    t = check_theta(theta)
    for profile in (profile1, profile2):
        if not isinstance(profile, Profile):
            raise KinshipInputError(f"expected a Profile, got {type(profile).__name__}")
    by_locus = frequency_map(freqs_by_locus)

    notes: list[str] = []
    shared: list[tuple[str, LocusFrequencies]] = []
    for locus in sorted(set(profile1.genotypes) & set(profile2.genotypes), key=locus_sort_key):
        freqs = by_locus.get(locus)
        if freqs is None:
            notes.append(
                f"locus {locus} is typed in both profiles but has no frequencies: left out (LR 1)"
            )
            continue
        shared.append((locus, freqs))
    values = _kernel_lrs(profile1, profile2, shared, kappa, t)
    per_locus = {locus: float(value) for (locus, _), value in zip(shared, values, strict=True)}
    for locus, value in per_locus.items():
        if value == 0.0:
            notes.append(f"locus {locus}: genotypes incompatible with the relationship (LR 0)")
    return combine(per_locus, notes)
