"""Importing laboratory files into the registry: every row stored, recognised, ignored or
refused with its line and reason.

The file is read by ``lab_files`` (pure parsing); each row is then judged on its own (locus,
alleles, off-ladder calls, mixtures), rows of one sample are settled against each other (a
locus given twice), the sample is looked up in the importer's jurisdiction and must be typable
(consent in force, received by the laboratory), and the sample's result is stored through
``services.store_typing`` — the same rule as a result entered through the API: idempotent,
extending, or refused as a contradiction that flags the stored profile for review.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from reunite.accounts.models import Organisation, User
from reunite.accounts.permissions import Action, scope_q
from reunite.audit.models import AuditAction
from reunite.audit.services import record
from reunite.core.errors import AccessDenied, FieldErrors, NotFound, ValidationFailed
from reunite.dna import lab_files
from reunite.dna.genotypes import canonical_genotypes
from reunite.dna.models import ImportBatch, Sample, TypingKit
from reunite.dna.reasons import ROW_BAD, ROW_IGNORED, ROW_SAVED, ROW_UNCHANGED, describe
from reunite.dna.services import (
    IMPORT_TYPE,
    FileTooLarge,
    audit,
    check_kit,
    ensure_role,
    import_max_bytes,
    import_max_rows,
    lab_of,
    number_key,
    qc_reason,
    sample_queryset,
    store_typing,
    typing_refusal,
)
from reunite.kinship import KinshipInputError
from reunite.kinship.loci import AMELOGENIN, fold_locus_name, locus_info, locus_sort_key
from reunite.kinship.profiles import parse_amelogenin, parse_genotype

LOOKUP_CHUNK = 500
# Markers a kit types that autosomal kinship does not use: Y-STRs, Y indels, quality sensors.
NON_AUTOSOMAL_PREFIXES = ("DYS", "DYF", "YINDEL", "QS", "IQC")


def _non_autosomal(marker: str) -> bool:
    folded = fold_locus_name(marker)
    return folded.startswith(NON_AUTOSOMAL_PREFIXES)


@dataclass
class _Row:
    line: int
    sample: str
    locus: str
    status: str = ""
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    value: Any = None  # the genotype ([a, b]) or amelogenin ("XX"/"XY") read from the row

    def set(self, outcome: str, code: str, **params: Any) -> None:
        self.status, self.code, self.params = outcome, code, params

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "sample": self.sample,
            "locus": self.locus,
            "status": self.status,
            "code": self.code,
            "params": self.params,
        }


def _read_row(row: lab_files.FileRow) -> _Row:
    """Classify one row on its own: ignored, refused, or a value to store."""
    result = _Row(row.line, row.sample[:64], row.marker[:32])
    if _non_autosomal(row.marker):
        result.set(ROW_IGNORED, "not_autosomal", marker=row.marker[:32])
        return result
    try:
        locus = locus_info(row.marker).name
    except KinshipInputError:
        result.set(ROW_BAD, "unknown_locus", marker=row.marker[:32])
        return result
    result.locus = locus
    if not row.alleles:
        result.set(ROW_IGNORED, "untyped")
        return result
    if any(a.upper() == "OL" for a in row.alleles):
        result.set(ROW_BAD, "off_ladder", locus=locus)
        return result
    try:
        if locus == AMELOGENIN:
            result.value = parse_amelogenin(list(row.alleles))
        else:
            distinct = set(row.alleles)
            if len(distinct) > 2:
                result.set(ROW_BAD, "mixture", locus=locus, count=len(distinct))
                return result
            genotype = parse_genotype(list(row.alleles), locus=locus)
            assert genotype is not None
            result.value = [genotype.first, genotype.second]
    except KinshipInputError as exc:
        code = "bad_amelogenin" if locus == AMELOGENIN else "bad_allele"
        result.set(ROW_BAD, code, locus=locus, detail=str(exc)[:200])
        return result
    return result


def _settle_repeats(rows: list[_Row]) -> None:
    """Within one sample: a locus given twice alike counts once; given twice differently,
    every row of it is refused."""
    by_locus: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if not row.status:
            by_locus[row.locus].append(row)
    for locus, group in by_locus.items():
        if len(group) < 2:
            continue
        values = {repr(r.value) for r in group}
        if len(values) == 1:
            for later in group[1:]:
                later.set(ROW_IGNORED, "repeated_row", first_line=group[0].line)
        else:
            lines = [r.line for r in group]
            for r in group:
                r.set(ROW_BAD, "conflicting_rows", locus=locus, lines=lines)


def _lookup_samples(acting_user: User, keys: Iterable[str]) -> dict[str, Sample]:
    found: dict[str, Sample] = {}
    keys = sorted(set(keys))
    scope = scope_q(acting_user, Action.EDIT_DNA)
    for start in range(0, len(keys), LOOKUP_CHUNK):
        chunk = keys[start : start + LOOKUP_CHUNK]
        for sample in sample_queryset().filter(scope, number_key__in=chunk):
            found[sample.number_key] = sample
    return found


@dataclass
class ImportData:
    content: bytes
    file_name: str
    kit: str
    kit_name: str = ""
    file_format: str = ""  # "" detects GeneMapper (tabs) or CSV (commas)


def import_profiles(*, acting_user: User, data: ImportData) -> ImportBatch:
    """Import a laboratory file: each row is stored, recognised as unchanged, ignored or
    refused with its line and reason; good rows are kept, and importing the same file again
    changes nothing.

    A profile is identified by sample (the file's sample name, matched to a sample number of the
    user's jurisdiction ignoring case), laboratory (the user's) and kit (chosen for the file).
    Rows are refused for an unknown sample, a donor without consent (or who withdrew it), a
    sample the laboratory has not received or that was destroyed, an unknown locus, an
    off-ladder call, a malformed allele, a mixture (more than two alleles: the profile is also
    flagged), a locus given twice with different alleles, or a conflict with the stored profile
    (which is flagged for review and kept).  Y-chromosome and quality markers and empty loci are
    ignored.  The whole file is refused (``ValidationFailed``, ``FileTooLarge``) when it cannot
    be read at all.  Audited with counts only.
    """
    ensure_role(acting_user=acting_user, action=Action.EDIT_DNA, object_type=IMPORT_TYPE)
    lab = lab_of(acting_user)
    errors = FieldErrors()
    check_kit(errors, data.kit, data.kit_name)
    if data.file_format not in ("", *lab_files.FORMATS):
        errors.add("file_format", _("Not a valid choice."))
    errors.raise_if_any()
    limit = import_max_bytes()
    if len(data.content) > limit:
        raise FileTooLarge(describe("too_large", {"limit": limit}))
    try:
        parsed = lab_files.parse(data.content, data.file_format or None, max_rows=import_max_rows())
    except lab_files.LabFileError as exc:
        message = describe(exc.code, exc.params)
        raise ValidationFailed(message, field_errors={"file": [message]}) from None
    kit_name = data.kit_name.strip() if data.kit == TypingKit.OTHER else ""
    rows = [_read_row(r) for r in parsed.rows]
    for problem in parsed.problems:
        bad = _Row(problem.line, problem.sample[:64], problem.marker[:32])
        bad.set(ROW_BAD, problem.code, **problem.params)
        rows.append(bad)
    by_sample: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.sample:
            by_sample[number_key(row.sample)].append(row)
    samples = _lookup_samples(acting_user, by_sample)
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            lab=lab,
            uploaded_by=acting_user,
            file_name=(data.file_name or "upload")[:255],
            file_sha256=_sha256(data.content),
            file_format=parsed.file_format,
            kit=data.kit,
            kit_name=kit_name,
        )
        for key, group in by_sample.items():
            _import_sample(acting_user, lab, data.kit, kit_name, batch, samples.get(key), group)
        rows.sort(key=lambda r: r.line)
        _finish_batch(batch, rows)
        audit(
            acting_user,
            AuditAction.CREATE,
            IMPORT_TYPE,
            batch.pk,
            rows=batch.rows_total,
            saved=batch.rows_saved,
            unchanged=batch.rows_unchanged,
            refused=batch.rows_bad,
            ignored=batch.rows_ignored,
            profiles_created=batch.profiles_created,
            profiles_updated=batch.profiles_updated,
        )
    return batch


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _import_sample(
    acting_user: User,
    lab: Organisation,
    kit: str,
    kit_name: str,
    batch: ImportBatch,
    sample: Sample | None,
    group: list[_Row],
) -> None:
    # A reason that concerns the whole sample is the one every row of it gives.
    if sample is None:
        for r in group:
            r.set(ROW_BAD, "unknown_sample", sample=r.sample)
        return
    sample = (
        Sample.objects.select_for_update(of=("self",))
        .select_related("found_person", "family_member")
        .get(pk=sample.pk)
    )
    refusal = typing_refusal(sample)
    if refusal is not None:
        for r in group:
            r.set(ROW_BAD, refusal, status=sample.status)
        return
    _settle_repeats(group)
    pending = [r for r in group if not r.status]
    if not pending:
        return
    raw: dict[str, object] = {}
    for r in pending:
        raw[r.locus] = r.value
    canonical = canonical_genotypes(raw, label=sample.number)
    mixtures = sorted({r.locus for r in group if r.code == "mixture"}, key=locus_sort_key)
    findings = [qc_reason("mixture_seen", locus=locus) for locus in mixtures]
    if not canonical.genotypes:
        # Amelogenin alone is no profile.
        for r in pending:
            r.set(ROW_IGNORED, "untyped")
        return
    outcome = store_typing(
        acting_user, sample, lab, kit, kit_name, canonical, batch=batch, findings=findings
    )
    pseudonym = outcome.profile.pseudonym
    if outcome.kind == "created":
        batch.profiles_created += 1
    elif outcome.kind == "updated":
        batch.profiles_updated += 1
    elif outcome.kind == "unchanged":
        batch.profiles_unchanged += 1
    for r in pending:
        if outcome.kind == "inactive":
            r.set(ROW_BAD, "profile_inactive", profile=pseudonym)
        elif outcome.kind == "conflict":
            if r.locus in outcome.loci:
                r.set(ROW_BAD, "conflicts_with_stored", locus=r.locus, profile=pseudonym)
            else:
                r.set(ROW_BAD, "held_back", profile=pseudonym)
        elif r.locus in outcome.new_loci:
            r.set(ROW_SAVED, "saved", profile=pseudonym)
        else:
            r.set(ROW_UNCHANGED, "unchanged", profile=pseudonym)


def _finish_batch(batch: ImportBatch, rows: list[_Row]) -> None:
    batch.rows = [r.as_dict() for r in rows]
    batch.rows_total = len(rows)
    batch.rows_saved = sum(r.status == ROW_SAVED for r in rows)
    batch.rows_unchanged = sum(r.status == ROW_UNCHANGED for r in rows)
    batch.rows_bad = sum(r.status == ROW_BAD for r in rows)
    batch.rows_ignored = sum(r.status == ROW_IGNORED for r in rows)
    batch.save()


def get_import(*, acting_user: User, batch_id: int) -> ImportBatch:
    """An import and its per-row results: the importing laboratory's staff only (audited)."""
    ensure_role(acting_user=acting_user, action=Action.EDIT_DNA, object_type=IMPORT_TYPE)
    batch = ImportBatch.objects.select_related("lab", "uploaded_by").filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(_("No such import."))
    if batch.lab_id != acting_user.organisation_id:
        record(
            actor=acting_user,
            action=AuditAction.DENIED,
            object_type=IMPORT_TYPE,
            object_id=batch_id,
            details={"wanted": str(Action.EDIT_DNA), "lab": batch.lab_id},
        )
        raise AccessDenied(_("Only the importing laboratory can read this import."))
    audit(acting_user, AuditAction.READ, IMPORT_TYPE, batch.pk)
    return batch
