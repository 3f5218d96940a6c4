"""Allele frequencies: the shipped population tables and case-supplied frequencies.

Sources
-------
* :func:`load_table` reads one of the published tables shipped as package data
  (``data/frequencies/``, described in its ``README.md`` and indexed by ``index.json``);
  :func:`list_tables` says which there are.
* :func:`frequencies_from_mapping` builds a table from ``{locus: {allele: frequency}}`` given
  with a case (the ``"frequencies"`` object of the CLI's ``CASE.json``).

Both give a :class:`FrequencyTable` of :class:`LocusFrequencies` holding the values as in the
source (raw, possibly summing to 0.998). Every frequency must be finite and at least
:data:`MIN_FREQUENCY` (1e-9), and every locus must sum to 1 within :data:`SUM_TOLERANCE` (1%);
otherwise :class:`KinshipInputError`.

Using a table for a case
------------------------
:func:`frequencies_for` turns a table and the profiles of a case into what the likelihood code
needs: for each typed locus, a :class:`LocusFrequencies` that covers every allele seen in the
profiles and sums to 1 (to within a few ulp), plus human-readable notes:

* an allele absent from the table gets :attr:`LocusFrequencies.missing_allele_frequency`:
  5/(2N) (NRC II) where the table's sample size N (individuals) is known for that locus, else
  the table's stated floor (``min_frequency``; 0.001 for norSTR); with neither (case-supplied
  frequencies without ``sample_size``/``min_frequency``) the allele is an error. The locus is
  then renormalised and a note says so, e.g. ``allele 99 not in table han_chinese at D3S1358:
  given 5/(2N) = 0.0581395 (N = 43); locus renormalised``;
* a locus whose raw sum is off 1 by more than :data:`NORMALISED_TOLERANCE` (but within 1%) is
  renormalised with a note; every locus is divided by its sum anyway, so that the result sums to
  1 to floating-point precision;
* a typed locus missing from the table is left out (it contributes LR 1) with a note, or is an
  error with ``strict_loci=True``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from reunite.kinship.errors import KinshipInputError
from reunite.kinship.loci import AMELOGENIN, locus_sort_key, normalise_locus
from reunite.kinship.profiles import Profile, allele_value, alleles_by_locus, parse_allele

__all__ = [
    "NORMALISED_TOLERANCE",
    "SUM_TOLERANCE",
    "CaseFrequencies",
    "FrequencyTable",
    "LocusFrequencies",
    "TableInfo",
    "frequencies_for",
    "frequencies_from_mapping",
    "list_tables",
    "load_table",
]

#: A locus whose frequencies sum to 1 ± this is refused (within it: renormalised, with a note).
SUM_TOLERANCE = 0.01
#: A locus whose sum is within this of 1 is renormalised silently (NIST's 9-decimal rounding).
NORMALISED_TOLERANCE = 1e-6
#: The smallest usable allele frequency: anything below is a data error (published tables floor
#: at about 1e-3), and far smaller values would underflow the likelihoods of large pedigrees.
MIN_FREQUENCY = 1e-9

FloatArray = npt.NDArray[np.float64]

_DATA_PACKAGE = "reunite.kinship.data.frequencies"


def _fmt(value: float) -> str:
    return f"{value:.6g}"


@dataclass(frozen=True, eq=False)
class LocusFrequencies:
    """Allele frequencies at one locus.

    ``alleles``: canonical allele strings, unique, ascending by value, shape ``(n,)``.
    ``frequencies``: ``numpy.float64`` array, shape ``(n,)``, C-contiguous and read-only,
    ``frequencies[i]`` belonging to ``alleles[i]``; each positive and finite, the sum within
    :data:`SUM_TOLERANCE` of 1. ``source``: the table's name. ``sample_size``: N individuals
    behind the locus, or ``None`` when unknown. ``min_frequency``: the source's floor, or ``None``.
    Equality is identity (the object holds an array).
    """

    locus: str
    alleles: tuple[str, ...]
    frequencies: FloatArray
    source: str
    sample_size: int | None = None
    min_frequency: float | None = None
    _positions: Mapping[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        locus = normalise_locus(self.locus)
        if locus == AMELOGENIN:
            raise KinshipInputError("amelogenin has no allele frequencies")
        object.__setattr__(self, "locus", locus)
        alleles = tuple(self.alleles)
        for allele in alleles:
            if not isinstance(allele, str) or parse_allele(allele, locus=locus) != allele:
                raise KinshipInputError(f"allele {allele!r} at {locus} is not in canonical form")
        if len(set(alleles)) != len(alleles):
            raise KinshipInputError(f"an allele is listed twice at {locus} in {self.source}")
        if not alleles:
            raise KinshipInputError(f"no alleles at {locus} in {self.source}")
        values = np.array(self.frequencies, dtype=np.float64, copy=True)
        if values.shape != (len(alleles),):
            raise KinshipInputError(
                f"{len(alleles)} alleles but frequency array of shape {values.shape} at {locus}"
            )
        bad = ~np.isfinite(values) | (values < MIN_FREQUENCY)
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise KinshipInputError(
                f"frequency of allele {alleles[index]} at {locus} in {self.source} must be "
                f"finite and at least {MIN_FREQUENCY:g}, got {values[index]!r}"
            )
        total = math.fsum(values.tolist())
        if abs(total - 1.0) > SUM_TOLERANCE:
            raise KinshipInputError(
                f"frequencies at {locus} in {self.source} sum to {_fmt(total)}, more than "
                f"{SUM_TOLERANCE:.0%} away from 1"
            )
        if self.sample_size is not None and (
            isinstance(self.sample_size, bool)
            or not isinstance(self.sample_size, int)
            or self.sample_size < 1
        ):
            raise KinshipInputError(f"sample size must be a positive integer at {locus}")
        if self.min_frequency is not None and not 0.0 < self.min_frequency < 1.0:
            raise KinshipInputError(f"minimum frequency must lie in (0, 1) at {locus}")
        order = sorted(range(len(alleles)), key=lambda i: allele_value(alleles[i]))
        alleles = tuple(alleles[i] for i in order)
        values = np.ascontiguousarray(values[order])
        values.setflags(write=False)
        object.__setattr__(self, "alleles", alleles)
        object.__setattr__(self, "frequencies", values)
        positions = {allele: i for i, allele in enumerate(alleles)}
        object.__setattr__(self, "_positions", MappingProxyType(positions))

    def __len__(self) -> int:
        return len(self.alleles)

    def __contains__(self, allele: object) -> bool:
        return allele in self._positions

    @property
    def total(self) -> float:
        """Exact (``math.fsum``) sum of the frequencies."""
        return math.fsum(self.frequencies.tolist())

    @property
    def missing_allele_frequency(self) -> float | None:
        """Frequency given to an allele absent here: 5/(2N), else the floor, else ``None``."""
        if self.sample_size is not None:
            return 5.0 / (2.0 * self.sample_size)
        return self.min_frequency

    def index(self, allele: str) -> int:
        """Position of a canonical ``allele`` in :attr:`alleles`."""
        try:
            return self._positions[allele]
        except KeyError:
            raise KinshipInputError(
                f"allele {allele} not in {self.source} at {self.locus}"
            ) from None

    def frequency(self, allele: str) -> float:
        """Frequency of a canonical ``allele``."""
        return float(self.frequencies[self.index(allele)])

    def as_dict(self) -> dict[str, float]:
        """``{allele: frequency}`` in allele order."""
        return dict(zip(self.alleles, self.frequencies.tolist(), strict=True))


@dataclass(frozen=True, eq=False)
class TableInfo:
    """What ``index.json`` says about one shipped table (see ``data/frequencies/README.md``).

    ``sample_size``: N individuals at every locus, or ``None``; ``sample_size_by_locus``: N per
    canonical locus where it varies (Han table); ``min_frequency``: the floor applied at the
    source, or ``None``.
    """

    id: str
    file: str
    population: str
    sample_size: int | None
    sample_size_by_locus: Mapping[str, int]
    min_frequency: float | None
    source: str
    licence: str
    citation: str
    caveats: tuple[str, ...]
    sample_size_note: str = ""

    def sample_size_at(self, locus: str) -> int | None:
        """N individuals behind ``locus`` (canonical name), or ``None`` when unknown."""
        return self.sample_size_by_locus.get(locus, self.sample_size)


@dataclass(frozen=True, eq=False)
class FrequencyTable:
    """A set of :class:`LocusFrequencies` by canonical locus name, in canonical locus order.

    ``name``: the table id (``"han_chinese"``) or the name given to case frequencies.
    ``info``: the :class:`TableInfo` of a shipped table, ``None`` for case frequencies.
    """

    name: str
    loci: Mapping[str, LocusFrequencies]
    info: TableInfo | None = None

    def __post_init__(self) -> None:
        ordered = dict(sorted(self.loci.items(), key=lambda item: locus_sort_key(item[0])))
        object.__setattr__(self, "loci", MappingProxyType(ordered))

    def __contains__(self, locus: object) -> bool:
        if not isinstance(locus, str):
            return False
        try:
            return normalise_locus(locus) in self.loci
        except KinshipInputError:
            return False

    @property
    def locus_names(self) -> tuple[str, ...]:
        """Canonical names of the loci in the table."""
        return tuple(self.loci)

    def locus(self, name: str) -> LocusFrequencies:
        """Frequencies at a locus given by any accepted spelling.

        Raises :class:`KinshipInputError` for an unknown locus name or a locus not in the table.
        """
        canonical = normalise_locus(name)
        try:
            return self.loci[canonical]
        except KeyError:
            raise KinshipInputError(
                f"locus {canonical} is not in frequency table {self.name}"
            ) from None


@dataclass(frozen=True, eq=False)
class CaseFrequencies:
    """The frequencies a case uses: one :class:`LocusFrequencies` per typed locus, plus notes.

    ``table``: the name of the source table. ``loci``: canonical locus → frequencies summing to
    1, covering every allele seen in the profiles, canonical locus order. ``notes``: one line per
    adjustment (added allele, renormalisation, locus left out), in locus order.
    """

    table: str
    loci: Mapping[str, LocusFrequencies]
    notes: tuple[str, ...]


# --------------------------------------------------------------------------- shipped tables


@cache
def _index() -> dict[str, TableInfo]:
    raw = json.loads(resources.files(_DATA_PACKAGE).joinpath("index.json").read_text("utf-8"))
    tables: dict[str, TableInfo] = {}
    for entry in raw["tables"]:
        by_locus = {normalise_locus(k): int(v) for k, v in entry["sample_size_by_locus"].items()}
        tables[entry["id"]] = TableInfo(
            id=entry["id"],
            file=entry["file"],
            population=entry["population"],
            sample_size=entry["sample_size"],
            sample_size_by_locus=MappingProxyType(by_locus),
            min_frequency=entry["min_frequency"],
            source=entry["source"],
            licence=entry["licence"],
            citation=entry["citation"],
            caveats=tuple(entry["caveats"]),
            sample_size_note=entry.get("sample_size_note", ""),
        )
    return dict(sorted(tables.items()))


def list_tables() -> tuple[TableInfo, ...]:
    """The shipped frequency tables, sorted by id."""
    return tuple(_index().values())


def _table_info(name: str) -> TableInfo:
    tables = _index()
    if not isinstance(name, str) or name not in tables:
        shown = repr(name) if isinstance(name, str) else type(name).__name__
        raise KinshipInputError(f"unknown frequency table {shown}; available: {', '.join(tables)}")
    return tables[name]


def load_table(name: str) -> FrequencyTable:
    """A shipped table by id (``"nist_us_caucasian"``, ``"han_chinese"``, ...), cached.

    Raises :class:`KinshipInputError` for an unknown id, naming the available ones.
    """
    return _load_table(_table_info(name).id)


@cache
def _load_table(name: str) -> FrequencyTable:
    info = _table_info(name)
    text = resources.files(_DATA_PACKAGE).joinpath(info.file).read_text("utf-8")
    lines = text.splitlines()
    if not lines or lines[0].strip() != "locus,allele,frequency":
        raise KinshipInputError(f"table {name}: unexpected header in {info.file}")
    rows: dict[str, dict[str, float]] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.split(",")
        if len(parts) != 3:
            raise KinshipInputError(f"table {name}: malformed line {number} in {info.file}")
        locus = normalise_locus(parts[0])
        allele = parse_allele(parts[1], locus=locus)
        alleles = rows.setdefault(locus, {})
        if allele in alleles:
            raise KinshipInputError(f"table {name}: allele {allele} twice at {locus}")
        alleles[allele] = float(parts[2])
    loci = {
        locus: LocusFrequencies(
            locus=locus,
            alleles=tuple(values),
            frequencies=np.fromiter(values.values(), dtype=np.float64, count=len(values)),
            source=name,
            sample_size=info.sample_size_at(locus),
            min_frequency=info.min_frequency,
        )
        for locus, values in rows.items()
    }
    return FrequencyTable(name=name, loci=loci, info=info)


# --------------------------------------------------------------------------- case frequencies


def _as_frequency(value: object, allele: str, locus: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KinshipInputError(
            f"frequency of allele {allele} at {locus} must be a number, got {type(value).__name__}"
        )
    number = float(value)
    if not math.isfinite(number) or number < MIN_FREQUENCY:
        raise KinshipInputError(
            f"frequency of allele {allele} at {locus} must be finite and at least "
            f"{MIN_FREQUENCY:g}, got {value!r}"
        )
    return number


def frequencies_from_mapping(
    mapping: Mapping[str, Mapping[Any, object]],
    *,
    name: str = "case",
    sample_size: int | None = None,
    min_frequency: float | None = None,
) -> FrequencyTable:
    """A :class:`FrequencyTable` from case-supplied ``{locus: {allele: frequency}}``.

    Locus names are normalised and alleles canonicalised (``"09"`` and ``"9"`` at one locus is
    a duplicate). ``sample_size`` (N individuals) or ``min_frequency``, when given, let
    :func:`frequencies_for` fill in alleles absent from the mapping; without them an absent
    allele is an error there. Raises :class:`KinshipInputError` for a bad shape, a duplicate, a
    non-positive or non-finite frequency, or a locus not summing to 1 within 1%.
    """
    if not isinstance(mapping, Mapping):
        raise KinshipInputError(
            f"frequencies must map loci to {{allele: frequency}}, got {type(mapping).__name__}"
        )
    if not mapping:
        raise KinshipInputError("frequencies are empty")
    if sample_size is not None and (
        isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 1
    ):
        raise KinshipInputError(f"sample size must be a positive integer, got {sample_size!r}")
    if min_frequency is not None and (
        isinstance(min_frequency, bool)
        or not isinstance(min_frequency, int | float)
        or not 0.0 < min_frequency < 1.0
    ):
        raise KinshipInputError(f"minimum frequency must lie in (0, 1), got {min_frequency!r}")
    loci: dict[str, LocusFrequencies] = {}
    for raw_locus, alleles in mapping.items():
        locus = normalise_locus(raw_locus)
        if locus == AMELOGENIN:
            raise KinshipInputError("amelogenin has no allele frequencies")
        if locus in loci:
            raise KinshipInputError(f"frequencies give locus {locus} twice")
        if not isinstance(alleles, Mapping) or not alleles:
            raise KinshipInputError(
                f"frequencies at {locus} must be a non-empty {{allele: frequency}} object"
            )
        values: dict[str, float] = {}
        for raw_allele, value in alleles.items():
            allele = parse_allele(raw_allele, locus=locus)
            if allele in values:
                raise KinshipInputError(f"frequencies give allele {allele} twice at {locus}")
            values[allele] = _as_frequency(value, allele, locus)
        loci[locus] = LocusFrequencies(
            locus=locus,
            alleles=tuple(values),
            frequencies=np.fromiter(values.values(), dtype=np.float64, count=len(values)),
            source=name,
            sample_size=sample_size,
            min_frequency=None if min_frequency is None else float(min_frequency),
        )
    return FrequencyTable(name=name, loci=loci)


# --------------------------------------------------------------------------- use in a case


def _complete(
    frequencies: LocusFrequencies, seen: Iterable[str]
) -> tuple[LocusFrequencies, list[str]]:
    """``frequencies`` extended by the alleles of ``seen`` it lacks, renormalised; plus notes."""
    locus, source = frequencies.locus, frequencies.source
    notes: list[str] = []
    raw_total = frequencies.total
    if abs(raw_total - 1.0) > NORMALISED_TOLERANCE:
        notes.append(
            f"frequencies at {locus} in table {source} sum to {_fmt(raw_total)}; renormalised"
        )
    alleles = list(frequencies.alleles)
    values = frequencies.frequencies.tolist()
    fill = frequencies.missing_allele_frequency
    for allele in seen:
        if allele in frequencies:
            continue
        if fill is None:
            raise KinshipInputError(
                f"allele {allele} at {locus} is not in the {source} frequencies, which give no "
                "sample size or minimum frequency to fill it in"
            )
        if frequencies.sample_size is not None:
            given = f"5/(2N) = {_fmt(fill)} (N = {frequencies.sample_size})"
        else:
            given = f"the table's minimum frequency {_fmt(fill)}"
        notes.append(
            f"allele {allele} not in table {source} at {locus}: given {given}; locus renormalised"
        )
        alleles.append(allele)
        values.append(fill)
    array = np.asarray(values, dtype=np.float64)
    array = array / math.fsum(values)
    completed = LocusFrequencies(
        locus=locus,
        alleles=tuple(alleles),
        frequencies=array,
        source=source,
        sample_size=frequencies.sample_size,
        min_frequency=frequencies.min_frequency,
    )
    return completed, notes


def frequencies_for(
    profiles: Iterable[Profile] | Mapping[str, Profile],
    source: FrequencyTable | str | Mapping[str, Mapping[Any, object]],
    *,
    strict_loci: bool = False,
) -> CaseFrequencies:
    """Frequencies for every locus typed in ``profiles``, from a table, its id or a mapping.

    ``source`` is a :class:`FrequencyTable`, the id of a shipped table, or case frequencies in
    the shape of :func:`frequencies_from_mapping`. Each returned locus covers every allele seen
    in the profiles and sums to 1 within a few ulp; see the module docstring for the rules and
    the notes. A typed locus absent from the table is left out with a note, or raises
    :class:`KinshipInputError` when ``strict_loci`` is true.
    """
    if isinstance(source, FrequencyTable):
        table = source
    elif isinstance(source, str):
        table = load_table(source)
    else:
        table = frequencies_from_mapping(source)
    people = list(profiles.values()) if isinstance(profiles, Mapping) else list(profiles)
    for person in people:
        if not isinstance(person, Profile):
            raise KinshipInputError(f"expected Profile objects, got {type(person).__name__}")
    loci: dict[str, LocusFrequencies] = {}
    notes: list[str] = []
    for locus, seen in alleles_by_locus(people).items():
        if locus not in table.loci:
            if strict_loci:
                raise KinshipInputError(f"locus {locus} is not in frequency table {table.name}")
            notes.append(f"locus {locus} is typed but not in table {table.name}: left out (LR 1)")
            continue
        completed, locus_notes = _complete(table.loci[locus], seen)
        loci[locus] = completed
        notes.extend(locus_notes)
    return CaseFrequencies(table=table.name, loci=MappingProxyType(loci), notes=tuple(notes))
