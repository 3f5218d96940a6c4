"""STR profiles: alleles, genotypes and the profile of one person.

Alleles
-------
An allele is kept as its *canonical string*, so that ``"9.3"`` stays ``"9.3"`` (a microvariant:
nine full repeats and three bases) and is never confused with a binary float. The rule, applied
by :func:`parse_allele`:

* the designation is a repeat number written in decimal: digits, optionally ``.`` and digits;
  nothing else (no sign, no exponent, no spaces inside, no ``<8``/``OL`` off-ladder codes);
* leading zeros of the whole part are dropped (``"09"`` → ``"9"``); trailing zeros of the
  fractional part are dropped (``"9.30"`` → ``"9.3"``, ``"15.0"`` → ``"15"``);
* what is left of the fractional part is one digit, 1 to 9 (the number of extra bases of a
  microvariant; no repeat unit in forensic use is longer than seven bases), so ``"9.12"`` is
  rejected rather than read as a decimal fraction;
* the value runs from 1 to :data:`MAX_REPEATS` (100).

For the loci typed by fragment length (``allele_unit == "bases"`` in
:mod:`reunite.kinship.loci`: D11S554, APOAI1, D17S906) the allele is a whole number of bases from 1
to :data:`MAX_BASES` (1000). The canonical string is unique for each value, so equal strings mean
equal alleles, and :func:`allele_value` gives the number (``float``) used for ordering and for
stepwise mutation. JSON numbers (``15``, ``9.3``) are accepted too and canonicalised the same way.

Genotypes and profiles
----------------------
A :class:`Genotype` is an unordered pair (stored in ascending order). At a locus, ``["15"]`` and
``["15", "15"]`` are the homozygote 15/15; ``[]`` or ``None`` (or leaving the locus out) is an
untyped locus, which simply has no genotype. More than two distinct alleles is a mixture, which
the engine refuses rather than guess. Amelogenin (``AMEL``) is kept apart from the STR genotypes,
as ``"XX"`` or ``"XY"``, and only serves :meth:`Profile.sex_from_amelogenin`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from reunite.kinship.errors import KinshipInputError, shown
from reunite.kinship.loci import AMELOGENIN, locus_info, locus_sort_key, normalise_locus

__all__ = [
    "MAX_BASES",
    "MAX_REPEATS",
    "Genotype",
    "Profile",
    "allele_value",
    "alleles_by_locus",
    "parse_allele",
    "parse_amelogenin",
    "parse_genotype",
    "parse_profile",
    "parse_profiles",
]

#: Largest repeat number accepted for a locus whose alleles are repeat numbers.
MAX_REPEATS = 100
#: Largest fragment length (bases) accepted for a locus whose alleles are lengths.
MAX_BASES = 1000

_ALLELE_RE = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
_CANONICAL_RE = re.compile(r"[1-9][0-9]{0,3}(?:\.[1-9])?")


def _is_canonical(allele: object) -> bool:
    """Whether ``allele`` is a canonical string for some unit (repeats or bases)."""
    return (
        isinstance(allele, str)
        and _CANONICAL_RE.fullmatch(allele) is not None
        and float(allele) <= MAX_BASES
    )


def parse_allele(value: object, *, locus: str | None = None) -> str:
    """Canonical string of one allele designation (see the module docstring for the rule).

    ``value`` is a ``str`` (``"9.3"``, ``"09"``), an ``int`` or a finite ``float``; ``locus`` (any
    accepted spelling), when given, selects the unit (repeats or bases) and names the locus in
    error messages. Raises :class:`KinshipInputError` for anything else.
    """
    where = ""
    unit = "repeats"
    if locus is not None:
        info = locus_info(locus)
        where = f" at {info.name}"
        unit = info.allele_unit
        if unit == "sex":
            raise KinshipInputError(f"{info.name} is the amelogenin sex marker, not an STR locus")
    example = "'15' or '9.3'" if unit == "repeats" else "'212'"
    kind = "a repeat number" if unit == "repeats" else "a fragment length in bases"

    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise KinshipInputError(
            f"malformed allele {shown(value)}{where}: expected {kind} such as {example}"
        )
    if isinstance(value, float):
        if not math.isfinite(value):
            raise KinshipInputError(f"malformed allele {shown(value)}{where}: not a number")
        text = repr(value)
    else:
        text = str(value).strip()
    if not text:
        raise KinshipInputError(f"empty allele{where}: expected {kind} such as {example}")
    match = _ALLELE_RE.fullmatch(text)
    if match is None:
        raise KinshipInputError(
            f"malformed allele {shown(value)}{where}: expected {kind} such as {example}"
        )
    whole = int(match.group(1))
    fraction = (match.group(2) or "").rstrip("0")
    if len(fraction) > 1:
        raise KinshipInputError(
            f"malformed allele {shown(value)}{where}: a microvariant has one digit after the "
            "point (the number of extra bases), as in '9.3'"
        )
    if fraction and unit == "bases":
        raise KinshipInputError(
            f"malformed allele {shown(value)}{where}: alleles here are whole fragment lengths"
        )
    limit = MAX_REPEATS if unit == "repeats" else MAX_BASES
    if whole < 1 or whole > limit or (whole == limit and fraction):
        raise KinshipInputError(
            f"allele {shown(value)}{where} is out of range: expected {kind} from 1 to {limit}"
        )
    return f"{whole}.{fraction}" if fraction else str(whole)


def allele_value(allele: str) -> float:
    """The numeric value of a canonical allele (``"9.3"`` → 9.3), for ordering and mutation."""
    return float(allele)


@dataclass(frozen=True, slots=True)
class Genotype:
    """An unordered pair of canonical alleles at one locus, stored in ascending order.

    ``Genotype("16", "15") == Genotype("15", "16")``; a homozygote has ``first == second``.
    Build one from raw input with :func:`parse_genotype`; the constructor expects canonical
    allele strings and rejects others.
    """

    first: str
    second: str

    def __post_init__(self) -> None:
        for allele in (self.first, self.second):
            if not _is_canonical(allele):
                raise KinshipInputError(f"allele {shown(allele)} is not in canonical form")
        if allele_value(self.second) < allele_value(self.first):
            first, second = self.second, self.first
            object.__setattr__(self, "first", first)
            object.__setattr__(self, "second", second)

    @property
    def alleles(self) -> tuple[str, str]:
        """The two alleles, ascending."""
        return (self.first, self.second)

    @property
    def is_homozygous(self) -> bool:
        """True when both alleles are the same."""
        return self.first == self.second

    def __contains__(self, allele: object) -> bool:
        return allele in (self.first, self.second)

    def __str__(self) -> str:
        return f"{self.first}/{self.second}"


def parse_genotype(value: object, *, locus: str) -> Genotype | None:
    """The genotype at ``locus`` from a list of allele designations, or ``None`` when untyped.

    ``None`` and ``[]`` are untyped; ``["15"]`` and ``["15", "15"]`` are the homozygote 15/15;
    ``["16", "15"]`` is 15/16. Raises :class:`KinshipInputError` for a non-list, a malformed
    allele, a mixture (more than two distinct alleles) or more than two alleles listed.
    """
    name = normalise_locus(locus)
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise KinshipInputError(
            f"alleles at {name} must be a list such as ['15', '16'], got {type(value).__name__}"
        )
    alleles = [parse_allele(item, locus=name) for item in value]
    distinct = sorted(set(alleles), key=allele_value)
    if len(distinct) > 2:
        raise KinshipInputError(
            f"mixture at locus {name}: {len(distinct)} distinct alleles "
            f"({', '.join(distinct)}); a reference profile has at most two"
        )
    if len(alleles) > 2:
        raise KinshipInputError(
            f"more than two alleles listed at locus {name} ({', '.join(alleles)})"
        )
    if not alleles:
        return None
    return Genotype(distinct[0], distinct[-1])


def parse_amelogenin(value: object) -> Literal["XX", "XY"] | None:
    """Canonical amelogenin result: ``"XX"`` (X only) or ``"XY"``; ``None`` when untyped.

    Accepts ``"X"``, ``"XX"``, ``"XY"``, ``"YX"`` (any case) or a list of ``"X"``/``"Y"`` such
    as ``["X"]``, ``["X", "X"]``, ``["X", "Y"]``. A result without X (``"Y"``) or with other
    letters is rejected.
    """
    if value is None:
        return None
    if isinstance(value, str):
        letters = list(value.strip().upper().replace(",", "").replace(" ", ""))
    elif isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        letters = [item.strip().upper() for item in value]
    else:
        raise KinshipInputError(f"malformed amelogenin {shown(value)}: expected X, XX or XY")
    if not letters:
        return None
    if len(letters) > 2 or not set(letters) <= {"X", "Y"} or "X" not in letters:
        raise KinshipInputError(f"malformed amelogenin {shown(value)}: expected X, XX or XY")
    return "XY" if "Y" in letters else "XX"


@dataclass(frozen=True)
class Profile:
    """The STR profile of one person (a reference or an unidentified person).

    ``id``: non-empty string. ``genotypes``: read-only mapping from canonical locus name to
    :class:`Genotype`, typed loci only, in canonical locus order (a locus that is absent is
    untyped). ``amelogenin``: ``"XX"``, ``"XY"`` or ``None``. The constructor normalises locus
    names; :func:`parse_profile` builds a profile from the CLI/JSON shape.
    """

    id: str
    genotypes: Mapping[str, Genotype] = field(default_factory=dict)
    amelogenin: Literal["XX", "XY"] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise KinshipInputError("a profile id must be a non-empty string")
        seen: dict[str, Genotype] = {}
        for locus, genotype in self.genotypes.items():
            name = normalise_locus(locus)
            if name == AMELOGENIN:
                raise KinshipInputError(
                    f"profile {self.id!r}: give amelogenin as 'amelogenin', not as a genotype"
                )
            if name in seen:
                raise KinshipInputError(f"profile {self.id!r} gives locus {name} twice")
            if not isinstance(genotype, Genotype):
                raise KinshipInputError(
                    f"profile {self.id!r}: the value at {name} is not a Genotype"
                )
            seen[name] = genotype
        ordered = dict(sorted(seen.items(), key=lambda item: locus_sort_key(item[0])))
        object.__setattr__(self, "genotypes", MappingProxyType(ordered))
        object.__setattr__(self, "amelogenin", parse_amelogenin(self.amelogenin))

    def __hash__(self) -> int:
        return hash((self.id, tuple(self.genotypes.items()), self.amelogenin))

    @property
    def typed_loci(self) -> tuple[str, ...]:
        """Canonical names of the typed STR loci, in canonical order."""
        return tuple(self.genotypes)

    def genotype(self, locus: str) -> Genotype | None:
        """The genotype at ``locus`` (any accepted spelling), or ``None`` when untyped."""
        return self.genotypes.get(normalise_locus(locus))

    def sex_from_amelogenin(self) -> Literal["F", "M"] | None:
        """``"F"`` for XX, ``"M"`` for XY, ``None`` when amelogenin is untyped.

        A consistency check only: a deletion of AMELY makes some men type XX.
        """
        if self.amelogenin is None:
            return None
        return "M" if self.amelogenin == "XY" else "F"


def parse_profile(profile_id: str, data: Mapping[str, object]) -> Profile:
    """A :class:`Profile` from the CLI/JSON shape ``{"D3S1358": ["15", "16"], "AMEL": ["X"]}``.

    Locus names are normalised, amelogenin (``AMEL``, ``Amelogenin``, ...) goes to
    :attr:`Profile.amelogenin`, untyped loci (``[]``/``None``) are left out. Every error message
    names the profile. Raises :class:`KinshipInputError`.
    """
    if not isinstance(profile_id, str) or not profile_id.strip():
        raise KinshipInputError("a profile id must be a non-empty string")
    if not isinstance(data, Mapping):
        raise KinshipInputError(
            f"profile {profile_id!r} must map locus names to alleles, got {type(data).__name__}"
        )
    genotypes: dict[str, Genotype] = {}
    spelled: dict[str, str] = {}
    amelogenin: Literal["XX", "XY"] | None = None
    try:
        for raw_name, value in data.items():
            name = normalise_locus(raw_name)
            if name in spelled:
                raise KinshipInputError(
                    f"locus {name} given twice (as {spelled[name]!r} and {raw_name!r})"
                )
            spelled[name] = raw_name
            if name == AMELOGENIN:
                amelogenin = parse_amelogenin(value)
                continue
            genotype = parse_genotype(value, locus=name)
            if genotype is not None:
                genotypes[name] = genotype
    except KinshipInputError as error:
        raise KinshipInputError(f"{error} (profile {profile_id!r})") from None
    return Profile(profile_id, genotypes, amelogenin)


def parse_profiles(data: Mapping[str, Mapping[str, object]]) -> dict[str, Profile]:
    """Profiles from the CLI's ``"profiles"`` object ``{id: {locus: alleles}}``, in input order."""
    if not isinstance(data, Mapping):
        raise KinshipInputError(
            f"profiles must map profile ids to profiles, got {type(data).__name__}"
        )
    return {profile_id: parse_profile(profile_id, value) for profile_id, value in data.items()}


def alleles_by_locus(profiles: Iterable[Profile]) -> dict[str, list[str]]:
    """Every allele seen at each typed locus across ``profiles``, ascending, loci in order."""
    seen: dict[str, set[str]] = {}
    for profile in profiles:
        for locus, genotype in profile.genotypes.items():
            seen.setdefault(locus, set()).update(genotype.alleles)
    return {
        locus: sorted(seen[locus], key=allele_value) for locus in sorted(seen, key=locus_sort_key)
    }
