"""Genotypes as the registry stores them, and what is plausible at each locus.

The stored form (``Profile.genotypes``) is made by :func:`canonical_genotypes` from whatever
arrived (an import row set, a JSON body) through ``reunite.kinship.profiles.parse_profile``, so
the registry and the kinship engine agree on every name and allele:

``{"D3S1358": ["15", "16"], "vWA": ["17", "17"], "TH01": ["9.3", "9.3"], ...}``

* keys: canonical locus names (``normalise_locus``), in the engine's canonical locus order;
* values: two canonical allele strings (``parse_allele``: ``"09"`` → ``"9"``, ``"9.30"`` →
  ``"9.3"``), ascending by value, a homozygote written twice;
* untyped loci are absent; amelogenin is not a genotype (kept apart as ``"XX"``/``"XY"``);
* a mixture (more than two distinct alleles) is refused, never guessed.

Plausibility: an allele far outside the range seen in any shipped population table (by more
than ``margin`` repeats below the smallest or above the largest) is probably a mis-call, a
transcription error or a wrong locus, and is reported for review (it is not refused: a genuine
rare allele exists).  Loci typed by fragment length and loci no table covers are not judged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from django.conf import settings

from reunite.kinship import KinshipInputError, list_tables, load_table, parse_profile
from reunite.kinship.loci import locus_info
from reunite.kinship.profiles import allele_value

Genotypes = dict[str, list[str]]


@dataclass(frozen=True)
class CanonicalProfile:
    """``genotypes`` in the stored form; ``amelogenin`` ``"XX"``, ``"XY"`` or ``""``."""

    genotypes: Genotypes
    amelogenin: str

    @property
    def locus_count(self) -> int:
        return len(self.genotypes)


def canonical_genotypes(data: Mapping[str, object], *, label: str = "profile") -> CanonicalProfile:
    """The stored form of ``{locus: [alleles]}`` (amelogenin under ``AMEL`` or a synonym).

    Raises ``KinshipInputError`` (a one-line message naming the locus) for an unknown locus, a
    malformed allele, a mixture or a locus given twice.
    """
    profile = parse_profile(label, data)
    genotypes = {locus: [g.first, g.second] for locus, g in profile.genotypes.items()}
    return CanonicalProfile(genotypes=genotypes, amelogenin=profile.amelogenin or "")


def canonical_json(genotypes: Genotypes) -> str:
    """The one JSON text of a stored genotype mapping (for digests and comparisons)."""
    return json.dumps(genotypes, separators=(",", ":"), ensure_ascii=True)


def genotype_digest(genotypes: Genotypes) -> str:
    """A keyed digest of the genotypes: equal profiles have equal digests, and without the key
    the digest says nothing about the alleles (so it may be indexed in clear)."""
    key = hashlib.sha256(("dna-digest:" + settings.FIELD_ENCRYPTION_KEYS[0]).encode()).digest()
    return hmac.new(key, canonical_json(genotypes).encode("ascii"), hashlib.sha256).hexdigest()


@cache
def allele_ranges() -> dict[str, tuple[float, float]]:
    """``{locus: (smallest, largest)}`` allele value over every shipped frequency table."""
    ranges: dict[str, tuple[float, float]] = {}
    for info in list_tables():
        for locus, freqs in load_table(info.id).loci.items():
            values = [allele_value(a) for a in freqs.alleles]
            low, high = min(values), max(values)
            if locus in ranges:
                low, high = min(low, ranges[locus][0]), max(high, ranges[locus][1])
            ranges[locus] = (low, high)
    return ranges


@dataclass(frozen=True)
class Implausible:
    """An allele outside ``[low - margin, high + margin]`` at ``locus``."""

    locus: str
    allele: str
    low: str
    high: str


def _shown(value: float) -> str:
    return f"{value:g}"


def implausible_alleles(genotypes: Genotypes, *, margin: float) -> list[Implausible]:
    """The alleles of ``genotypes`` lying more than ``margin`` repeats outside the population
    range of their locus (repeat-number loci that some table covers only)."""
    ranges = allele_ranges()
    found: list[Implausible] = []
    for locus, alleles in genotypes.items():
        if locus not in ranges or locus_info(locus).allele_unit != "repeats":
            continue
        low, high = ranges[locus]
        for allele in sorted(set(alleles), key=allele_value):
            value = allele_value(allele)
            if value < low - margin or value > high + margin:
                found.append(Implausible(locus, allele, _shown(low), _shown(high)))
    return found


def discordant_loci(first: Genotypes, second: Genotypes) -> list[str]:
    """Loci typed in both profiles where the genotypes differ, in canonical order."""
    return [locus for locus in first if locus in second and first[locus] != second[locus]]


def is_extension(stored: Genotypes, new: Genotypes) -> bool:
    """True when ``new`` agrees with ``stored`` at every shared locus and adds at least one."""
    return not discordant_loci(stored, new) and bool(set(new) - set(stored))


__all__ = [
    "CanonicalProfile",
    "Genotypes",
    "Implausible",
    "KinshipInputError",
    "allele_ranges",
    "canonical_genotypes",
    "canonical_json",
    "discordant_loci",
    "genotype_digest",
    "implausible_alleles",
    "is_extension",
]
