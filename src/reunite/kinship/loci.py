"""Canonical names of the STR loci the kinship engine knows.

Every locus name that enters the engine (from a profile, a frequency table or a case file) goes
through :func:`normalise_locus`, which returns the one canonical spelling used everywhere else.

How a name is matched
---------------------
A name is first *folded*: surrounding whitespace is stripped, letters are upper-cased and the
separators space, ``_``, ``-``, ``.`` and ``/`` are removed. So ``"Penta E"``, ``"Penta_E"``,
``"PentaE"``, ``"PENTA-E"`` and ``"penta e"`` all fold to ``PENTAE``; ``"vWA"``, ``"VWA"`` and
``"vwa"`` fold to ``VWA``. The folded name is then looked up among the folded canonical names and
the folded aliases of :data:`LOCUS_TABLE`. Anything else is an unknown locus, never a guess.

The table
---------
:data:`LOCUS_TABLE` is the single list of loci: the 20 CODIS core loci (in the FBI's order),
then every other locus of the frequency tables shipped in ``data/frequencies/`` (SE33, Penta B/C/
D/E, D6S1043, the norSTR loci, the pop.STR/NIST miniSTR loci, ...), then amelogenin. Each entry
gives the canonical spelling (the usual one in STRBase and the published tables), the aliases
that folding alone does not cover (older GDB names such as ``HUMTH01``, the common misspelling
``THO1`` with a letter O, ``ACTBP2`` for SE33, ...), whether it is a CODIS core locus, and the unit
of its allele designations:

``"repeats"``
    alleles are repeat numbers, with microvariants written ``9.3`` (nine full repeats plus three
    bases); see :func:`reunite.kinship.profiles.parse_allele`.
``"bases"``
    alleles are fragment lengths in bases (D11S554, APOAI1 and D17S906 in the norSTR tables,
    whose alleles run from about 170 to 440); whole numbers only.
``"sex"``
    amelogenin (``AMEL``): X/Y, used to check sex, never in a likelihood ratio.

To add a locus, add one :class:`LocusInfo` line; the tests check that no two names fold alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reunite.kinship.errors import KinshipInputError, shown

__all__ = [
    "AMELOGENIN",
    "CODIS_CORE_LOCI",
    "KNOWN_LOCI",
    "LOCUS_TABLE",
    "STR_LOCI",
    "AlleleUnit",
    "LocusInfo",
    "fold_locus_name",
    "locus_info",
    "locus_sort_key",
    "normalise_locus",
]

AlleleUnit = Literal["repeats", "bases", "sex"]

#: Canonical name of the amelogenin sex marker.
AMELOGENIN = "AMEL"


@dataclass(frozen=True, slots=True)
class LocusInfo:
    """One locus: canonical ``name``, extra ``aliases``, CODIS core membership, allele unit."""

    name: str
    aliases: tuple[str, ...] = ()
    codis_core: bool = False
    allele_unit: AlleleUnit = "repeats"


def _codis(name: str, *aliases: str) -> LocusInfo:
    return LocusInfo(name, aliases, codis_core=True)


def _other(name: str, *aliases: str) -> LocusInfo:
    return LocusInfo(name, aliases)


def _by_length(name: str, *aliases: str) -> LocusInfo:
    return LocusInfo(name, aliases, allele_unit="bases")


#: Every locus the engine knows, in canonical order (CODIS core first, amelogenin last).
LOCUS_TABLE: tuple[LocusInfo, ...] = (
    # The 20 CODIS core loci (FBI, from 1 January 2017).
    _codis("CSF1PO", "HUMCSF1PO"),
    _codis("FGA", "FIBRA", "HUMFIBRA", "HUMFGA"),
    _codis("TH01", "THO1", "HUMTH01"),
    _codis("TPOX", "HUMTPOX"),
    _codis("vWA", "VWA31", "VWA31A", "HUMVWA", "HUMVWA31A"),
    _codis("D3S1358"),
    _codis("D5S818"),
    _codis("D7S820"),
    _codis("D8S1179"),
    _codis("D13S317"),
    _codis("D16S539"),
    _codis("D18S51"),
    _codis("D21S11"),
    _codis("D1S1656"),
    _codis("D2S441"),
    _codis("D2S1338"),
    _codis("D10S1248"),
    _codis("D12S391"),
    _codis("D19S433"),
    _codis("D22S1045"),
    # Other loci of commercial kits and of the shipped tables.
    _other("SE33", "ACTBP2"),
    _other("Penta D"),
    _other("Penta E"),
    _other("Penta B"),
    _other("Penta C"),
    _other("D6S1043"),
    _other("D2S1360"),
    _other("D3S3045"),
    _other("D3S1744"),
    _other("D4S2366"),
    _other("D4S2408"),
    _other("D5S2500"),
    _other("D5S2800"),
    _other("D6S474"),
    _other("D6S477"),
    _other("D7S1517"),
    _other("D7S3048"),
    _other("D8S1132"),
    _other("D9S1122"),
    _other("D10S1435"),
    _other("D10S2325"),
    _other("D11S2368"),
    _other("D13S325"),
    _other("D14S1434"),
    _other("D15S659"),
    _other("D17S1301"),
    _other("D18S1364"),
    _other("D19S253"),
    _other("D20S482"),
    _other("D21S2055"),
    _other("D22GATA198B05"),
    # pop.STR / NIST 26plex and miniSTR loci, and older markers (Han table).
    _other("D1S1627"),
    _other("D1S1677"),
    _other("D1S1679"),
    _other("D2S427"),
    _other("D2S1776"),
    _other("D3S2406"),
    _other("D3S3053"),
    _other("D3S4529"),
    _other("D3S4545"),
    _other("D4S2364"),
    _other("D5S1457"),
    _other("D6S1017"),
    _other("D6S1027"),
    _other("D7S2201"),
    _other("D9S1118"),
    _other("D9S1120"),
    _other("D9S2157"),
    _other("D11S1304"),
    _other("D11S4463"),
    _other("D12ATA63"),
    _other("D12S297"),
    _other("D14S1426"),
    _other("D15S822"),
    _other("D17S974"),
    _other("D21S102"),
    _other("F13A01", "F13A1", "HUMF13A01"),
    _other("F13B", "HUMF13B"),
    _other("FESFPS", "FES", "HUMFESFPS"),
    _other("LPL", "HUMLPL"),
    # Loci whose alleles are designated by fragment length (norSTR tables).
    _by_length("D11S554"),
    _by_length("APOAI1", "APOA1"),
    _by_length("D17S906"),
    # Sex marker.
    LocusInfo(AMELOGENIN, ("Amelogenin", "AM", "AMELX/Y"), allele_unit="sex"),
)

_SEPARATORS = str.maketrans("", "", " _-./")


def fold_locus_name(name: str) -> str:
    """The matching key of a locus name: upper case, without `` _-./`` separators."""
    return name.strip().upper().translate(_SEPARATORS)


def _build_index() -> dict[str, LocusInfo]:
    index: dict[str, LocusInfo] = {}
    for info in LOCUS_TABLE:
        for spelling in (info.name, *info.aliases):
            key = fold_locus_name(spelling)
            other = index.get(key)
            if other is not None and other is not info:  # pragma: no cover - table bug
                raise RuntimeError(f"locus spelling {spelling!r} names two loci")
            index[key] = info
    return index


_INDEX = _build_index()
_ORDER = {info.name: position for position, info in enumerate(LOCUS_TABLE)}

#: Canonical names of every known locus, amelogenin included, in canonical order.
KNOWN_LOCI: tuple[str, ...] = tuple(info.name for info in LOCUS_TABLE)
#: Canonical names of the autosomal STR loci (every known locus but amelogenin).
STR_LOCI: tuple[str, ...] = tuple(info.name for info in LOCUS_TABLE if info.allele_unit != "sex")
#: The 20 CODIS core loci, canonical names.
CODIS_CORE_LOCI: tuple[str, ...] = tuple(info.name for info in LOCUS_TABLE if info.codis_core)


def locus_info(name: str) -> LocusInfo:
    """The :class:`LocusInfo` of a locus given by any accepted spelling.

    Raises :class:`KinshipInputError` for a non-string, an empty or an unknown name.
    """
    if not isinstance(name, str):
        raise KinshipInputError(f"locus name must be a string, got {type(name).__name__}")
    key = fold_locus_name(name)
    if not key:
        raise KinshipInputError("empty locus name")
    info = _INDEX.get(key)
    if info is None:
        raise KinshipInputError(f"unknown locus {shown(name)}")
    return info


def normalise_locus(name: str) -> str:
    """Canonical spelling of a locus name (``"vwa"`` → ``"vWA"``, ``"Penta_E"`` → ``"Penta E"``).

    Raises :class:`KinshipInputError` (``unknown locus 'X'``) for a name not in
    :data:`LOCUS_TABLE`.
    """
    return locus_info(name).name


def locus_sort_key(name: str) -> int:
    """Position of a *canonical* locus name in :data:`LOCUS_TABLE`, for a stable locus order."""
    return _ORDER[name]
