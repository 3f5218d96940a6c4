"""Mutation models for one parent-to-child allele transmission, as defined by pedmut.

A mutation model turns the alleles of a locus into a row-stochastic matrix ``M`` (``float64``,
shape ``(n, n)``, rows and columns in the order the alleles are given) with

    ``M[i, j] = P(the child receives allele j | the parent transmits allele i)``.

The definitions are those of the R package **pedmut** (M. D. Vigeland; ``R/mutationMatrix.R``,
functions ``.equal``, ``.proportional``, ``.stepwise`` and ``.onestep``, pedmut >= 0.8), which
forrel and pedprobr use, and which follow the R package **Familias** (``R/FamiliasLocus.R``,
Egeland, Kling & Mostad 2016, *Relationship Inference with Familias and R*, ch. 2). The formulas
are restated here; no code was copied. With ``n`` alleles and ``n == 1`` every model is the 1x1
identity (pedmut does the same). ``rate`` is always in ``[0, 1]``.

``equal``
    ``M[i, i] = 1 - rate`` and ``M[i, j] = rate / (n - 1)`` for ``j != i``.

``proportional``
    ``M = (1 - a) I + a 1 f^T`` with ``a = rate / sum_k f_k (1 - f_k)``: a mutation lands on
    allele ``j`` with probability proportional to its frequency ``f_j``. The expected mutation
    rate ``sum_i f_i (1 - M[i, i])`` equals ``rate`` and ``f M = f`` (stationary). The model is
    undefined (negative diagonal) when ``rate > (1 - sum f^2) / (1 - min f)`` (pedmut's bound);
    that is an input error. ``f`` is used after dividing by its sum, as Familias does; pedmut uses
    ``f`` as given, which is the same thing for frequencies that sum to 1.

``stepwise``
    For STR loci whose alleles are repeat numbers with microvariants (``9.3``, ``15.2``). Alleles
    fall into *microvariant groups* by their decimal digit: ``g(x) = round(10 (x - round(x)))``
    with R's ``round`` (half to even, as :func:`numpy.rint`). So all integer alleles form one
    group, ``9.3``/``17.3`` another, ``15.2``/``16.2`` a third. For the row of allele ``i``, with
    ``S`` the other alleles of its group and ``D`` the alleles of other groups:

    * ``M[i, i] = 1 - rate`` if ``D`` is empty, ``1 - rate2`` if ``S`` is empty, else
      ``1 - rate - rate2``;
    * ``M[i, j] = rate * range^|x_i - x_j| / sum_{k in S} range^|x_i - x_k|`` for ``j`` in ``S``
      (a mutation of ``s + 1`` steps is ``range`` times as likely as one of ``s`` steps, and the
      within-group mutations share ``rate``);
    * ``M[i, j] = rate2 / |D|`` for ``j`` in ``D`` (``rate2`` is the *total* rate of a change of
      microvariant group, spread evenly).

    Consequences worth knowing (all as in pedmut and Familias): an allele alone in its group keeps
    ``1 - rate2``, so with ``rate2 = 0`` it cannot mutate; ``rate = 0`` with ``rate2 > 0`` still
    moves alleles between groups (Familias instead treats ``rate = 0`` as "no mutation"); and
    ``x.5`` alleles are grouped by R's half-even rounding, so ``9.5`` (group -5) and ``10.5``
    (group 5) are in different groups. The grouping rounds ``10 (x - round(x))`` to an integer:
    the fix of pedmut 0.7.0 / Familias 2023-10-30 for a floating-point bug that split ``5.3`` from
    ``9.3``. ``rate + rate2`` must not exceed 1.

``onestep``
    Integer alleles only. Allele ``i`` mutates only to the alleles exactly one repeat away that
    are present (``|x_i - x_j| == 1``), sharing ``rate`` equally; ``M[i, i] = 1 - rate``, or
    ``1`` when no neighbour is present.

The frequency vector is always validated (same length as the alleles, finite, non-negative, sum
within 0.0005 of 1 as pedmut's ``round(sum(afreq), 3) == 1``) even though only ``proportional``
uses it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from reunite.kinship.errors import KinshipInputError, shown
from reunite.kinship.loci import normalise_locus

__all__ = [
    "DEFAULT_RANGE",
    "MUTATION_MODELS",
    "MutationModel",
    "MutationSpec",
    "mutation_matrix",
    "parse_mutation",
]

#: Model names accepted by :func:`mutation_matrix` and in a case file's ``mutation`` object.
MUTATION_MODELS: Final[tuple[str, ...]] = ("equal", "proportional", "stepwise", "onestep")
#: Default ``range`` of :class:`MutationModel` and :func:`mutation_matrix`.
DEFAULT_RANGE: Final = 0.1
#: pedmut accepts frequencies whose sum rounds to 1 at 3 decimals.
_FREQUENCY_SUM_TOLERANCE: Final = 5e-4
_ONE_DECIMAL: Final = Decimal("0.1")
_SPEC_KEYS: Final = frozenset({"model", "rate", "rate2", "range"})

FloatMatrix = npt.NDArray[np.float64]


# ---------------------------------------------------------------------------------------------
# Parameter and input checks
# ---------------------------------------------------------------------------------------------


def _check_model(model: object) -> str:
    if not isinstance(model, str) or model not in MUTATION_MODELS:
        raise KinshipInputError(
            f"unknown mutation model {shown(model)}; expected one of {', '.join(MUTATION_MODELS)}"
        )
    return model


def _check_number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise KinshipInputError(f"mutation {name} must be a number, got {shown(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise KinshipInputError(f"mutation {name} must be a finite number, got {shown(value)}")
    return number


def _check_rates(model: str, rate: object, rate2: object, range_: object) -> tuple[float, ...]:
    checked_rate = _check_number(rate, "rate")
    if not 0.0 <= checked_rate <= 1.0:
        raise KinshipInputError(f"mutation rate must be in [0, 1], got {checked_rate!r}")
    checked_rate2 = _check_number(rate2, "rate2")
    if not 0.0 <= checked_rate2 <= 1.0:
        raise KinshipInputError(f"mutation rate2 must be in [0, 1], got {checked_rate2!r}")
    checked_range = _check_number(range_, "range")
    if not 0.0 < checked_range < 1.0:
        raise KinshipInputError(f"mutation range must be in (0, 1), got {checked_range!r}")
    if model == "stepwise" and checked_rate + checked_rate2 > 1.0:
        raise KinshipInputError(
            f"stepwise mutation: rate + rate2 must not exceed 1, got "
            f"{checked_rate!r} + {checked_rate2!r}"
        )
    return checked_rate, checked_rate2, checked_range


def _check_alleles(alleles: Sequence[str]) -> tuple[str, ...]:
    if isinstance(alleles, str):
        raise KinshipInputError("alleles must be a sequence of allele strings, not one string")
    labels = tuple(alleles)
    if not labels:
        raise KinshipInputError("a mutation matrix needs at least one allele")
    for label in labels:
        if not isinstance(label, str):
            raise KinshipInputError(f"allele must be a string, got {shown(label)}")
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            raise KinshipInputError(f"duplicate allele {shown(label)} in mutation matrix")
        seen.add(label)
    return labels


def _check_frequencies(frequencies: npt.ArrayLike, n: int) -> npt.NDArray[np.float64]:
    try:
        freqs = np.asarray(frequencies, dtype=np.float64)
    except (TypeError, ValueError):
        raise KinshipInputError("allele frequencies must be numbers") from None
    if freqs.ndim != 1 or freqs.shape[0] != n:
        raise KinshipInputError(
            f"expected {n} allele frequencies (one per allele), got shape {freqs.shape}"
        )
    if not np.all(np.isfinite(freqs)) or np.any(freqs < 0.0):
        raise KinshipInputError("allele frequencies must be finite and non-negative")
    total = float(freqs.sum())
    if abs(total - 1.0) > _FREQUENCY_SUM_TOLERANCE:
        raise KinshipInputError(f"allele frequencies must sum to 1, got {total:.6g}")
    return freqs


def _repeat_numbers(alleles: tuple[str, ...], model: str) -> npt.NDArray[np.float64]:
    """Alleles as repeat numbers with at most one decimal (``"9.3"`` → 9.3)."""
    values: list[float] = []
    for label in alleles:
        try:
            number = Decimal(label.strip())
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite() or not math.isfinite(float(number)):
            raise KinshipInputError(
                f"the {model} mutation model needs numeric alleles, got {shown(label)}"
            )
        try:
            one_decimal = number == number.quantize(_ONE_DECIMAL)
        except InvalidOperation:  # too many digits to quantize
            one_decimal = False
        if not one_decimal:
            raise KinshipInputError(
                f"the {model} mutation model needs alleles with at most one decimal "
                f"(microvariants like 9.3), got {shown(label)}"
            )
        values.append(float(number))
    numbers = np.array(values, dtype=np.float64)
    if len(np.unique(numbers)) != len(numbers):
        raise KinshipInputError(f"the {model} mutation model got the same allele twice")
    return numbers


# ---------------------------------------------------------------------------------------------
# The models
# ---------------------------------------------------------------------------------------------


def _equal(n: int, rate: float) -> FloatMatrix:
    matrix = np.full((n, n), rate / (n - 1), dtype=np.float64)
    np.fill_diagonal(matrix, 1.0 - rate)
    return matrix


def _proportional(freqs: npt.NDArray[np.float64], rate: float) -> FloatMatrix:
    n = freqs.shape[0]
    if rate == 0.0:
        return np.eye(n, dtype=np.float64)
    f = freqs / freqs.sum()
    max_rate = (1.0 - float(np.dot(f, f))) / (1.0 - float(f.min()))
    if not rate <= max_rate:
        raise KinshipInputError(
            f"proportional mutation model undefined for these frequencies: rate {rate!r} "
            f"exceeds the maximum {max_rate:.6g}"
        )
    alpha = rate / float(np.dot(f, 1.0 - f))
    matrix = np.tile(alpha * f, (n, 1))
    matrix[np.diag_indices(n)] += 1.0 - alpha
    return matrix


def _stepwise(alleles: tuple[str, ...], rate: float, rate2: float, range_: float) -> FloatMatrix:
    x = _repeat_numbers(alleles, "stepwise")
    n = x.shape[0]
    group = np.rint((x - np.rint(x)) * 10.0).astype(np.int64)
    # Within a group the alleles share their decimal digit, so differences are whole steps.
    steps = np.rint(np.abs(x[:, None] - x[None, :]))
    matrix = np.zeros((n, n), dtype=np.float64)
    for i in range(n):
        same = group == group[i]
        same[i] = False
        other = group != group[i]
        has_same, has_other = bool(same.any()), bool(other.any())
        if not has_other:
            matrix[i, i] = 1.0 - rate
        elif not has_same:
            matrix[i, i] = 1.0 - rate2
        else:
            matrix[i, i] = 1.0 - rate - rate2
        if has_same:
            # range^s / sum range^s, computed relative to the shortest step so that a small
            # `range` over a long ladder cannot underflow to 0/0.
            row_steps = steps[i, same]
            weights = range_ ** (row_steps - row_steps.min())
            matrix[i, same] = weights / weights.sum() * rate
        if has_other:
            matrix[i, other] = rate2 / int(other.sum())
    return matrix


def _onestep(alleles: tuple[str, ...], rate: float) -> FloatMatrix:
    x = _repeat_numbers(alleles, "onestep")
    if np.any(x != np.rint(x)):
        label = alleles[int(np.flatnonzero(x != np.rint(x))[0])]
        raise KinshipInputError(
            f"the onestep mutation model needs integer alleles, got {shown(label)}"
        )
    n = x.shape[0]
    matrix = np.zeros((n, n), dtype=np.float64)
    for i in range(n):
        neighbours = np.abs(x - x[i]) == 1.0
        count = int(neighbours.sum())
        matrix[i, i] = 1.0 - rate if count else 1.0
        if count:
            matrix[i, neighbours] = rate / count
    return matrix


def mutation_matrix(
    alleles: Sequence[str],
    frequencies: npt.ArrayLike,
    *,
    model: str,
    rate: float,
    rate2: float = 0.0,
    range_: float = DEFAULT_RANGE,
) -> FloatMatrix:
    """The ``(n, n)`` float64 mutation matrix of ``model`` over ``alleles`` (module docstring).

    ``alleles`` are allele labels as decimal strings (``"9.3"``), in the order of the rows and
    columns; ``frequencies`` is the matching ``(n,)`` vector (used by ``proportional`` only, but
    always checked). ``rate2`` and ``range_`` matter to ``stepwise`` only, but are always checked.
    Returns a new writable array. Raises :class:`KinshipInputError` for bad input.
    """
    checked_model = _check_model(model)
    checked_rate, checked_rate2, checked_range = _check_rates(checked_model, rate, rate2, range_)
    labels = _check_alleles(alleles)
    freqs = _check_frequencies(frequencies, len(labels))
    n = len(labels)
    if checked_model in ("stepwise", "onestep"):
        # Check the alleles even when n == 1, so that a bad label is never silently accepted.
        _repeat_numbers(labels, checked_model)
    if n == 1:
        return np.ones((1, 1), dtype=np.float64)
    if checked_model == "equal":
        return _equal(n, checked_rate)
    if checked_model == "proportional":
        return _proportional(freqs, checked_rate)
    if checked_model == "stepwise":
        return _stepwise(labels, checked_rate, checked_rate2, checked_range)
    return _onestep(labels, checked_rate)


# ---------------------------------------------------------------------------------------------
# Model objects and the case-file specification
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _cached_matrix(
    model: MutationModel, alleles: tuple[str, ...], freqs: tuple[float, ...]
) -> FloatMatrix:
    matrix = mutation_matrix(
        alleles, freqs, model=model.model, rate=model.rate, rate2=model.rate2, range_=model.range_
    )
    matrix.flags.writeable = False
    return matrix


@dataclass(frozen=True, slots=True)
class MutationModel:
    """One mutation model with its parameters, validated on construction.

    ``range_`` is pedmut's ``range`` (the trailing underscore avoids the builtin).
    """

    model: str
    rate: float
    rate2: float = 0.0
    range_: float = DEFAULT_RANGE

    def __post_init__(self) -> None:
        model = _check_model(self.model)
        rate, rate2, range_ = _check_rates(model, self.rate, self.rate2, self.range_)
        object.__setattr__(self, "rate", rate)
        object.__setattr__(self, "rate2", rate2)
        object.__setattr__(self, "range_", range_)

    @property
    def is_identity(self) -> bool:
        """True when the matrix is the identity over any allele set (no mutation possible)."""
        return self.rate == 0.0 and (self.model != "stepwise" or self.rate2 == 0.0)

    def matrix(self, alleles: Sequence[str], freqs: npt.ArrayLike) -> FloatMatrix:
        """:func:`mutation_matrix` for these parameters; cached, so the array is read-only."""
        key = tuple(float(value) for value in np.asarray(freqs, dtype=np.float64).ravel())
        return _cached_matrix(self, tuple(alleles), key)

    def as_dict(self) -> dict[str, Any]:
        """The parameters in the case-file shape, for provenance in reports."""
        params: dict[str, Any] = {"model": self.model, "rate": self.rate}
        if self.model == "stepwise":
            params["rate2"] = self.rate2
            params["range"] = self.range_
        return params


@dataclass(frozen=True, slots=True)
class MutationSpec:
    """The mutation models of a case: one for all loci, per-locus ones, or none.

    ``per_locus`` is keyed by ``locus_key(name)`` (by default the canonical locus name from
    :func:`reunite.kinship.loci.normalise_locus`); a locus listed with ``None`` has no mutation,
    an unlisted one gets ``default``.
    """

    default: MutationModel | None = None
    per_locus: Mapping[str, MutationModel | None] = field(
        default_factory=lambda: MappingProxyType({})
    )
    locus_key: Callable[[str], str] = normalise_locus

    def for_locus(self, name: str) -> MutationModel | None:
        """The model for locus ``name`` (any accepted spelling), or ``None`` for no mutation."""
        if not self.per_locus:
            return self.default
        key = self.locus_key(name)
        if key in self.per_locus:
            return self.per_locus[key]
        return self.default

    @property
    def is_empty(self) -> bool:
        """True when no locus can mutate."""
        models = [self.default, *self.per_locus.values()]
        return all(model is None or model.is_identity for model in models)


def _parse_one(entry: object, where: str) -> MutationModel:
    if not isinstance(entry, Mapping):
        raise KinshipInputError(f"{where} must be an object, got {shown(entry)}")
    unknown = sorted(str(key) for key in entry if key not in _SPEC_KEYS)
    if unknown:
        raise KinshipInputError(f"{where}: unknown key {shown(unknown[0])}")
    if "model" not in entry:
        raise KinshipInputError(f"{where}: 'model' is required")
    if "rate" not in entry:
        raise KinshipInputError(f"{where}: 'rate' is required")
    model = entry["model"]
    if model == "stepwise" and "range" not in entry:
        raise KinshipInputError(f"{where}: the stepwise model needs 'range' (e.g. 0.1)")
    try:
        return MutationModel(
            model=model,
            rate=entry["rate"],
            rate2=entry.get("rate2", 0.0),
            range_=entry.get("range", DEFAULT_RANGE),
        )
    except KinshipInputError as error:
        raise KinshipInputError(f"{where}: {error}") from None


def parse_mutation(
    spec: Mapping[str, Any] | None, *, locus_key: Callable[[str], str] | None = None
) -> MutationSpec:
    """Read the ``mutation`` object of a case file into a :class:`MutationSpec`.

    Accepted shapes: ``None`` (no mutation); ``{"model": ..., "rate": ..., "rate2": ...,
    "range": ...}`` for every locus; ``{"per_locus": {locus: {...} | null}}``; or both, the
    per-locus entries overriding the top-level model. ``model`` and ``rate`` are required,
    ``rate2`` defaults to 0, and ``range`` is required for ``stepwise`` (Familias defaults it to
    0.5, so a silent default would not agree with every tool). ``locus_key`` maps a locus name to
    its lookup key (default: :func:`reunite.kinship.loci.normalise_locus`, which also rejects an
    unknown locus). Raises :class:`KinshipInputError` with a one-line message.
    """
    key_of = locus_key or normalise_locus
    if spec is None:
        return MutationSpec(locus_key=key_of)
    if not isinstance(spec, Mapping):
        raise KinshipInputError(f"mutation must be an object or null, got {shown(spec)}")
    top = {key: value for key, value in spec.items() if key != "per_locus"}
    default = _parse_one(top, "mutation") if top else None
    per_locus: dict[str, MutationModel | None] = {}
    if "per_locus" in spec:
        loci = spec["per_locus"]
        if not isinstance(loci, Mapping):
            raise KinshipInputError(f"mutation.per_locus must be an object, got {shown(loci)}")
        for name, entry in loci.items():
            if not isinstance(name, str):
                raise KinshipInputError(f"mutation.per_locus: bad locus name {shown(name)}")
            key = key_of(name)
            if key in per_locus:
                raise KinshipInputError(f"mutation.per_locus names locus {shown(key)} twice")
            where = f"mutation.per_locus[{name!r}]"
            per_locus[key] = None if entry is None else _parse_one(entry, where)
    return MutationSpec(default=default, per_locus=MappingProxyType(per_locus), locus_key=key_of)
