"""Why an import row or a QC check came out as it did: stable codes, messages for people.

Rows and QC results are stored as ``{"code": ..., "params": {...}}`` so that they read in the
language of whoever looks at them later.  Params hold locus names, sample numbers, line numbers,
counts and profile pseudonyms, never alleles: stored QC reasons are not encrypted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from reunite.dna.models import SampleStatus
from reunite.people.models import Sex

ROW_SAVED = "saved"
ROW_UNCHANGED = "unchanged"
ROW_BAD = "bad"
ROW_IGNORED = "ignored"

ROW_STATUS_LABELS: dict[str, Promise] = {
    ROW_SAVED: _("saved"),
    ROW_UNCHANGED: _("unchanged"),
    ROW_BAD: _("refused"),
    ROW_IGNORED: _("ignored"),
}

MESSAGES: dict[str, Promise] = {
    # rows: kept
    "saved": _("Stored in profile %(profile)s."),
    "unchanged": _("Already stored in profile %(profile)s: nothing changed."),
    # rows: ignored
    "not_autosomal": _("%(marker)s is a Y-chromosome or quality marker, not used for kinship."),
    "untyped": _("No allele called: the locus is left untyped."),
    "repeated_row": _("The same result as line %(first_line)s: counted once."),
    # rows: refused
    "no_sample": _("The row has no sample name."),
    "no_marker": _("The row has no marker name."),
    "csv_extra_cells": _("The row has more cells than the header."),
    "unknown_locus": _("Unknown locus “%(marker)s”."),
    "off_ladder": _(
        "Off-ladder call (OL) at %(locus)s: review the call and import the locus again."
    ),
    "bad_allele": _("Allele not readable at %(locus)s: %(detail)s"),
    "mixture": _("%(count)s different alleles at %(locus)s: a mixture, not a single person."),
    "bad_amelogenin": _("Amelogenin not readable: %(detail)s"),
    "conflicting_rows": _("%(locus)s is given twice with different alleles (lines %(lines)s)."),
    "unknown_sample": _("No sample numbered “%(sample)s” in your jurisdiction."),
    "no_consent": _("The donor's consent is not recorded: the sample may not be typed."),
    "consent_withdrawn": _("The donor withdrew consent: no profile may be stored."),
    "not_received": _(
        "The laboratory has not received this sample (custody status: %(status)s); "
        "record its receipt first."
    ),
    "sample_destroyed": _("The sample was destroyed."),
    "profile_inactive": _("Profile %(profile)s of this sample is inactive: nothing is stored."),
    "conflicts_with_stored": _(
        "Differs at %(locus)s from the stored profile %(profile)s, which is kept unchanged."
    ),
    "held_back": _(
        "Not stored: this sample's result conflicts with its stored profile %(profile)s "
        "(flagged for review)."
    ),
    # whole files
    "empty": _("The file is empty."),
    "binary": _("This is not a text file."),
    "encoding": _("The file is not UTF-8 text: export it again as UTF-8 (or plain ASCII)."),
    "format": _("Unknown file format."),
    "header": _("The header has no “%(missing)s” column."),
    "too_many_rows": _("The file has more than %(limit)s rows: split it."),
    "too_large": _("The file is larger than %(limit)s bytes: split it."),
    "csv": _("The CSV file cannot be read at line %(line)s: %(detail)s"),
    "csv_unknown_column": _(
        "Unknown column “%(column)s”: the CSV has exactly sample_id, locus, allele1, allele2."
    ),
    "csv_duplicate_column": _("A column is named twice in the header."),
    # QC
    "too_few_loci": _("Only %(count)s STR loci typed; at least %(minimum)s are needed."),
    "implausible_allele": _(
        "An allele at %(locus)s lies far outside the range seen in population data "
        "(%(low)s–%(high)s): check the call."
    ),
    "mixture_seen": _("The import showed more than two alleles at %(locus)s (possible mixture)."),
    "amelogenin_sex": _("Amelogenin does not agree with the donor's recorded sex (%(sex)s)."),
    "duplicate": _("Identical to profile %(profile)s: same person sampled twice, or a mix-up?"),
    "discordant": _("Differs from profile %(profile)s of the same donor at %(loci)s."),
    "retyping_conflict": _("A later typing of this sample differs at %(loci)s."),
}


def describe(code: str, params: Mapping[str, Any] | None = None) -> str:
    """The message for ``code`` in the active language (an unknown code is shown as is)."""
    template = MESSAGES.get(code)
    if template is None:
        return code
    values = dict(params or {})
    for key, value in values.items():
        if isinstance(value, list | tuple):
            values[key] = ", ".join(str(v) for v in value)
    if values.get("sex") in Sex.values:
        values["sex"] = str(Sex(values["sex"]).label)
    if values.get("status") in SampleStatus.values:
        values["status"] = str(SampleStatus(values["status"]).label)
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return str(template)
