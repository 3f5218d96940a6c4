"""Kinship engine: likelihood ratios for relatives and family pedigrees from STR profiles.

A pure library (numpy; no Django), usable alone, from the CLI and on Dask workers. The public
API validates and normalises its input and raises :class:`KinshipInputError` (a ``ValueError``
with a one-line message) for anything it cannot use:

* :mod:`reunite.kinship.loci` — canonical locus names (:func:`normalise_locus`);
* :mod:`reunite.kinship.profiles` — alleles, genotypes, profiles (:func:`parse_profile`);
* :mod:`reunite.kinship.frequencies` — shipped population tables and case frequencies
  (:func:`load_table`, :func:`frequencies_for`);
* :mod:`reunite.kinship.mutation` — pedmut's mutation models (:func:`parse_mutation`);
* :mod:`reunite.kinship.pedigree` — family pedigrees and the smallest pedigree of each pairwise
  relationship (:func:`relationship_pedigree`);
* :mod:`reunite.kinship.pairwise` — pairwise LRs from κ with θ (:func:`pairwise_lr`), compiled
  in :mod:`reunite.kinship.kernels`;
* :mod:`reunite.kinship.likelihood` — exact pedigree likelihoods and LRs with θ and mutation on
  every edge (:func:`pedigree_lr`), and tables over every genotype of untyped persons;
* :mod:`reunite.kinship.plan` — search planning: expected LR, exclusion power, detection rates and
  the relative to sample next (:func:`plan_search`);
* :mod:`reunite.kinship.search` — the database search: every unidentified profile against every
  family from per-family genotype tables (:mod:`~reunite.kinship.search_tables`) with an exact
  screen (:mod:`~reunite.kinship.search_kernels`), in checkpointable chunks or on a Dask cluster
  (imported on its own: it compiles its kernels on first use);
* :mod:`reunite.kinship.case` and :mod:`reunite.kinship.cli` — the ``CASE.json`` contract and the
  ``reunite kinship lr|plan|tables`` command (``docs/kinship-case-format.md``).

Every figure is checked against a brute-force enumeration (``tests/unit/kinship/reference.py``)
and against published values of the established software (``docs/kinship-validation.md``).
"""

from __future__ import annotations

from reunite.kinship.errors import KinshipInputError
from reunite.kinship.frequencies import (
    CaseFrequencies,
    FrequencyTable,
    LocusFrequencies,
    TableInfo,
    frequencies_for,
    frequencies_from_mapping,
    list_tables,
    load_table,
)
from reunite.kinship.likelihood import pedigree_lr
from reunite.kinship.loci import (
    AMELOGENIN,
    CODIS_CORE_LOCI,
    KNOWN_LOCI,
    STR_LOCI,
    LocusInfo,
    locus_info,
    normalise_locus,
)
from reunite.kinship.mutation import MutationModel, MutationSpec, mutation_matrix, parse_mutation
from reunite.kinship.pairwise import pairwise_lr
from reunite.kinship.pedigree import (
    RELATIONSHIPS,
    Pedigree,
    Person,
    implicit_parent_id,
    relationship_pedigree,
)
from reunite.kinship.plan import plan_search
from reunite.kinship.profiles import (
    Genotype,
    Profile,
    allele_value,
    parse_allele,
    parse_genotype,
    parse_profile,
    parse_profiles,
)
from reunite.kinship.results import LRResult

__all__ = [
    "AMELOGENIN",
    "CODIS_CORE_LOCI",
    "KNOWN_LOCI",
    "RELATIONSHIPS",
    "STR_LOCI",
    "CaseFrequencies",
    "FrequencyTable",
    "Genotype",
    "KinshipInputError",
    "LRResult",
    "LocusFrequencies",
    "LocusInfo",
    "MutationModel",
    "MutationSpec",
    "Pedigree",
    "Person",
    "Profile",
    "TableInfo",
    "allele_value",
    "frequencies_for",
    "frequencies_from_mapping",
    "implicit_parent_id",
    "list_tables",
    "load_table",
    "locus_info",
    "mutation_matrix",
    "normalise_locus",
    "pairwise_lr",
    "parse_allele",
    "parse_genotype",
    "parse_mutation",
    "parse_profile",
    "parse_profiles",
    "pedigree_lr",
    "plan_search",
    "relationship_pedigree",
]
