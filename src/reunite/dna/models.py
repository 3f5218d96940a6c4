"""The DNA registry: family pedigrees, samples (consent, chain of custody), STR profiles, imports.

Two sides, never mixed up:

* **reference** — a relative of a missing person gives a sample to find *that* person.  The donor
  is a :class:`FamilyMember`: a place in the report's family pedigree (``code`` within the family,
  sex, mother and father), next to the missing person's own place (``relationship`` =
  ``missing_person``).  ``services.family_pedigree`` turns a family into a
  ``reunite.kinship.Pedigree``.
* **unidentified** — a person of unknown origin (``people.FoundPerson``) gives a sample so that
  their family can be found.

A :class:`Profile` holds the STR genotypes typed from one sample by one laboratory with one kit:
``genotypes`` is the canonical JSON ``{"D3S1358": ["15", "16"], "TH01": ["9.3", "9.3"], ...}``
(canonical locus names in ``reunite.kinship.loci`` order, two canonical allele strings in
ascending order, a homozygote written twice, untyped loci absent, amelogenin kept apart in
``amelogenin``), encrypted at rest.  ``genotype_digest`` is a keyed digest of that JSON so that
identical profiles can be found without decrypting anything.  Reports name a profile by its
``pseudonym`` ("P-7K3Q9X"), never by the donor's name.

Jurisdiction: a sample (and its profiles) belongs to the division of the donor's record (the
missing report or the found person), copied into ``Sample.division`` at registration.
Custody events are append-only (database triggers, migration 0002).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from reunite.accounts.models import Division, Organisation
from reunite.core.crypto import EncryptedTextField
from reunite.dna.fields import EncryptedJSONField
from reunite.people.models import FoundPerson, MissingPersonReport, Sex


class ProfileRole(models.TextChoices):
    """The side of the comparison a sample and its profiles are on."""

    REFERENCE = "reference", _("Family reference")
    UNIDENTIFIED = "unidentified", _("Person of unknown origin")


class KinRelationship(models.TextChoices):
    """Who a family member is to the missing person (and so their place in the pedigree)."""

    MISSING_PERSON = "missing_person", _("The missing person")
    MOTHER = "mother", _("Mother")
    FATHER = "father", _("Father")
    FULL_SIBLING = "full_sibling", _("Full brother or sister")
    MATERNAL_HALF_SIBLING = "maternal_half_sibling", _("Half brother or sister (same mother)")
    PATERNAL_HALF_SIBLING = "paternal_half_sibling", _("Half brother or sister (same father)")
    MATERNAL_GRANDMOTHER = "maternal_grandmother", _("Maternal grandmother")
    MATERNAL_GRANDFATHER = "maternal_grandfather", _("Maternal grandfather")
    PATERNAL_GRANDMOTHER = "paternal_grandmother", _("Paternal grandmother")
    PATERNAL_GRANDFATHER = "paternal_grandfather", _("Paternal grandfather")
    MATERNAL_UNCLE_AUNT = "maternal_uncle_aunt", _("Uncle or aunt (mother's side)")
    PATERNAL_UNCLE_AUNT = "paternal_uncle_aunt", _("Uncle or aunt (father's side)")
    CHILD = "child", _("Son or daughter")


class SampleType(models.TextChoices):
    BLOOD = "blood", _("Blood")
    BUCCAL_SWAB = "buccal_swab", _("Buccal swab")
    HAIR = "hair", _("Hair")
    BONE = "bone", _("Bone")
    TOOTH = "tooth", _("Tooth")
    TISSUE = "tissue", _("Tissue")
    OTHER = "other", _("Other")


class SampleStatus(models.TextChoices):
    """Where the sample is in its chain of custody (moved by custody events)."""

    COLLECTED = "collected", _("Collected")
    IN_TRANSIT = "in_transit", _("Handed over, in transit")
    RECEIVED = "received", _("Received by the laboratory")
    STORED = "stored", _("Stored")
    TYPED = "typed", _("Typed")
    DESTROYED = "destroyed", _("Destroyed")


class ConsentGiver(models.TextChoices):
    NOT_RECORDED = "", _("Not yet recorded")
    DONOR = "donor", _("The donor")
    GUARDIAN = "guardian", _("A guardian")


class ConsentScope(models.TextChoices):
    """What the donor agreed the DNA may be used for (one purpose per side)."""

    FAMILY_SEARCH = "family_search", _("Only to search for the named missing relative")
    IDENTIFICATION = "identification", _("To identify the donor and find their family")


class CustodyKind(models.TextChoices):
    COLLECTED = "collected", _("Collected")
    HANDED_OVER = "handed_over", _("Handed over")
    RECEIVED = "received", _("Received")
    STORED = "stored", _("Stored")
    TYPED = "typed", _("Typed")
    DESTROYED = "destroyed", _("Destroyed")
    CONSENT_RECORDED = "consent_recorded", _("Consent recorded")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")


class TypingKit(models.TextChoices):
    GLOBALFILER = "globalfiler", "GlobalFiler"
    POWERPLEX_FUSION = "powerplex_fusion", "PowerPlex Fusion"
    INVESTIGATOR_24PLEX = "investigator_24plex", "Investigator 24plex"
    AGCU_EX22 = "agcu_ex22", "AGCU Expressmarker 22"
    GOLDENEYE_20A = "goldeneye_20a", "Goldeneye DNA ID 20A"
    OTHER = "other", _("Other kit")


class QcStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    FLAGGED = "flagged", _("Flagged for review")


class InactiveReason(models.TextChoices):
    NONE = "", _("Active")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
    SAMPLE_DESTROYED = "sample_destroyed", _("Sample destroyed")


class ImportFormat(models.TextChoices):
    GENEMAPPER = "genemapper", _("GeneMapper ID-X export (tab-delimited)")
    CSV = "csv", _("Plain CSV (sample_id, locus, allele1, allele2)")


# --------------------------------------------------------------------------- family pedigree


class FamilyMember(models.Model):
    """One place in the family pedigree of a missing report: a typed or untyped relative, or
    the missing person.  ``code`` is the person's id in the pedigree ("MP", "MO", "FA", "S1")."""

    report = models.ForeignKey(
        MissingPersonReport,
        on_delete=models.PROTECT,
        related_name="dna_family",
        verbose_name=_("missing report"),
    )
    code = models.CharField(_("id in the family"), max_length=16)
    relationship = models.CharField(
        _("relationship to the missing person"), max_length=24, choices=KinRelationship.choices
    )
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    mother = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    father = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = EncryptedTextField(_("name"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["report_id", "id"]
        verbose_name = _("family member")
        verbose_name_plural = _("family members")
        constraints = [
            models.UniqueConstraint(fields=["report", "code"], name="dna_member_code_per_family"),
            models.UniqueConstraint(
                fields=["report"],
                condition=models.Q(relationship="missing_person"),
                name="dna_one_missing_person_per_family",
            ),
        ]

    def __str__(self) -> str:
        return f"MP-{self.report_id}/{self.code}"

    @property
    def is_missing_person(self) -> bool:
        return self.relationship == KinRelationship.MISSING_PERSON


# --------------------------------------------------------------------------- samples


class Sample(models.Model):
    """A biological sample from one donor, with its consent and its chain of custody."""

    number = models.CharField(_("sample number"), max_length=64)
    # The number upper-cased: sample names in lab files are matched ignoring case.
    number_key = models.CharField(max_length=64, unique=True, editable=False)
    role = models.CharField(_("side"), max_length=16, choices=ProfileRole.choices)
    found_person = models.ForeignKey(
        FoundPerson,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dna_samples",
        verbose_name=_("person of unknown origin"),
    )
    family_member = models.ForeignKey(
        FamilyMember,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="samples",
        verbose_name=_("family member"),
    )
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("jurisdiction")
    )
    sample_type = models.CharField(_("sample type"), max_length=16, choices=SampleType.choices)
    sample_type_other = models.CharField(_("other sample type"), max_length=100, blank=True)
    collected_at = models.DateTimeField(_("collected (date and time)"))
    collected_by = models.CharField(_("collected by"), max_length=100)
    collecting_unit = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("collecting unit")
    )
    collected_place = models.CharField(_("place of collection"), max_length=300, blank=True)
    status = models.CharField(
        _("custody status"),
        max_length=16,
        choices=SampleStatus.choices,
        default=SampleStatus.COLLECTED,
    )
    holder = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("held by"),
    )
    consent_given_by = models.CharField(
        _("consent given by"), max_length=16, choices=ConsentGiver.choices, blank=True
    )
    consent_guardian_name = EncryptedTextField(_("guardian's name"), blank=True)
    consent_guardian_relation = models.CharField(
        _("guardian's relation to the donor"), max_length=100, blank=True
    )
    consent_scope = models.CharField(
        _("purpose consented to"), max_length=16, choices=ConsentScope.choices, blank=True
    )
    consent_date = models.DateField(_("date of consent"), null=True, blank=True)
    consent_reference = models.CharField(_("consent form number"), max_length=64, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consent_withdrawn_at = models.DateTimeField(_("consent withdrawn"), null=True, blank=True)
    consent_withdrawal_reason = EncryptedTextField(_("reason for withdrawal"), blank=True)
    consent_withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("DNA sample")
        verbose_name_plural = _("DNA samples")
        indexes = [
            models.Index(fields=["division", "status"]),
            models.Index(fields=["role", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        role="unidentified", found_person__isnull=False, family_member__isnull=True
                    )
                    | models.Q(
                        role="reference", found_person__isnull=True, family_member__isnull=False
                    )
                ),
                name="dna_sample_has_one_donor_of_its_side",
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def consent_recorded(self) -> bool:
        return self.consent_given_by != ""

    @property
    def consent_withdrawn(self) -> bool:
        return self.consent_withdrawn_at is not None

    @property
    def has_consent(self) -> bool:
        """Consent recorded and not withdrawn: the sample may be typed and searched."""
        return self.consent_recorded and not self.consent_withdrawn

    @property
    def donor_label(self) -> str:
        """The donor's record, without a name: "UP-12" or "MP-7/MO"."""
        if self.found_person_id is not None:
            return f"UP-{self.found_person_id}"
        return str(self.family_member)


class CustodyEvent(models.Model):
    """One step of a sample's chain of custody; append-only (database triggers refuse changes)."""

    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="custody")
    kind = models.CharField(_("event"), max_length=20, choices=CustodyKind.choices)
    at = models.DateTimeField(_("when"))
    handler = models.CharField(_("handled by"), max_length=100, blank=True)
    unit = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("unit"),
    )
    place = models.CharField(_("where"), max_length=300, blank=True)
    notes = EncryptedTextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("custody event")
        verbose_name_plural = _("custody events")

    def __str__(self) -> str:
        return f"{self.sample_id} {self.kind}"


# --------------------------------------------------------------------------- profiles


class ImportBatch(models.Model):
    """One uploaded file and what became of each of its rows (kept encrypted: rows name
    loci and alleles)."""

    lab = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("laboratory")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(max_length=64)
    file_format = models.CharField(_("format"), max_length=16, choices=ImportFormat.choices)
    kit = models.CharField(_("typing kit"), max_length=24, choices=TypingKit.choices)
    kit_name = models.CharField(_("kit name"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_saved = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_bad = models.PositiveIntegerField(default=0)
    rows_ignored = models.PositiveIntegerField(default=0)
    profiles_created = models.PositiveIntegerField(default=0)
    profiles_updated = models.PositiveIntegerField(default=0)
    profiles_unchanged = models.PositiveIntegerField(default=0)
    # [{"line", "sample", "locus", "status", "code", "params"}] in file order.
    rows = EncryptedJSONField(default=list)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("profile import")
        verbose_name_plural = _("profile imports")

    def __str__(self) -> str:
        return f"import {self.pk}"


class ProfileQuerySet(models.QuerySet["Profile"]):
    def searchable(self) -> ProfileQuerySet:
        """Profiles a search may use: active, not erased, QC passed, consent in force."""
        return self.filter(
            active=True,
            erased_at__isnull=True,
            qc_status=QcStatus.PASSED,
            sample__consent_withdrawn_at__isnull=True,
        ).exclude(sample__consent_given_by="")


class Profile(models.Model):
    """The STR profile typed from one sample by one laboratory with one kit."""

    pseudonym = models.CharField(_("profile id"), max_length=16, unique=True, editable=False)
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="profiles")
    role = models.CharField(_("side"), max_length=16, choices=ProfileRole.choices)
    kit = models.CharField(_("typing kit"), max_length=24, choices=TypingKit.choices)
    kit_name = models.CharField(_("kit name"), max_length=100, blank=True)
    lab = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("laboratory")
    )
    genotypes = EncryptedJSONField(default=dict)
    amelogenin = EncryptedTextField(blank=True)
    locus_count = models.PositiveSmallIntegerField(_("typed loci"), default=0)
    genotype_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    qc_status = models.CharField(
        _("QC status"), max_length=16, choices=QcStatus.choices, default=QcStatus.PENDING
    )
    # [{"code": ..., "params": {...}}]: codes are stable, messages are written in services.
    qc_reasons = models.JSONField(default=list, blank=True)
    qc_checked_at = models.DateTimeField(null=True, blank=True)
    qc_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    qc_reviewed_at = models.DateTimeField(null=True, blank=True)
    qc_review_note = EncryptedTextField(_("review note"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    inactive_reason = models.CharField(
        _("why inactive"), max_length=20, choices=InactiveReason.choices, blank=True
    )
    deactivated_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(_("genotypes erased"), null=True, blank=True)
    import_batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="profiles"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProfileQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("DNA profile")
        verbose_name_plural = _("DNA profiles")
        indexes = [models.Index(fields=["role", "active", "qc_status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["sample", "lab", "kit", "kit_name"],
                name="dna_one_profile_per_sample_lab_kit",
            )
        ]

    def __str__(self) -> str:
        return self.pseudonym


# --------------------------------------------------------------------------- matching
#
# Candidates of the kinship search, the comparison runs that find them, the reviews that confirm
# or reject them (``dna.matching``, ``dna.battle``, ``dna.review``).  A candidate never stores an
# allele: its per-locus table holds likelihood ratios; the genotypes are read from the profiles
# (still under consent) only when a match report is drawn.


class ComparisonRunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    FAILED = "failed", _("Failed (resumable)")
    INTERRUPTED = "interrupted", _("Interrupted (resumable)")


class ComparisonRun(models.Model):
    """One "comparison battle": every family against every unidentified profile.

    Families are split into chunks of report-id ranges fixed when the run starts
    (``chunk_bounds``); a chunk's candidates and its place in ``chunks_done`` are saved in one
    transaction, so a run that crashes or is interrupted resumes from its last checkpoint with
    nothing repeated and nothing lost.  At most one run is ``running`` (a database constraint).
    """

    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    trigger = models.CharField(_("started from"), max_length=16, default="cli")
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ComparisonRunStatus.choices,
        default=ComparisonRunStatus.RUNNING,
    )
    threshold = models.FloatField(_("LR threshold"))
    theta = models.FloatField(_("θ (co-ancestry)"))
    mutation = models.JSONField(_("mutation model"), null=True, blank=True)
    frequency_table = models.CharField(_("frequency table"), max_length=64)
    hypotheses = models.JSONField(_("hypotheses"), default=list)
    engine = models.CharField(_("engine"), max_length=100, blank=True)
    backend = models.CharField(_("computed on"), max_length=200, blank=True)
    chunk_bounds = models.JSONField(default=list)  # [[first report id, last report id], ...]
    chunks_done = models.JSONField(default=list)  # chunk indices, in the order completed
    families = models.PositiveIntegerField(_("families"), default=0)
    unknowns = models.PositiveIntegerField(_("unidentified profiles"), default=0)
    pairs = models.BigIntegerField(_("pairs compared"), default=0)
    candidates = models.PositiveIntegerField(_("candidates"), default=0)
    families_skipped = models.PositiveIntegerField(default=0)
    duration_seconds = models.FloatField(_("duration (s)"), default=0.0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("comparison run")
        verbose_name_plural = _("comparison runs")
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="running"),
                name="dna_one_comparison_run_running",
            )
        ]

    def __str__(self) -> str:
        return f"run {self.pk}"

    @property
    def chunks_total(self) -> int:
        return len(self.chunk_bounds)

    @property
    def resumable(self) -> bool:
        return self.status in (ComparisonRunStatus.FAILED, ComparisonRunStatus.INTERRUPTED)


class CandidateStatus(models.TextChoices):
    CANDIDATE = "candidate", _("Candidate")
    UNDER_REVIEW = "under_review", _("Under review (one confirmation)")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class HypothesisKind(models.TextChoices):
    """What the family's typed relatives are to the missing person (for filters and warnings)."""

    TRIO = "trio", _("Both parents (trio)")
    PARENT = "parent", _("One parent")
    SIBLINGS = "siblings", _("Siblings")
    PARENT_SIBLING = "parent_sibling", _("A parent and siblings")
    OTHER = "other", _("Other relatives")


class Candidate(models.Model):
    """An unidentified profile whose LR, placed as the missing person of a family's pedigree,
    reaches the threshold.  One per (family, profile, hypothesis): reruns update, never double."""

    report = models.ForeignKey(
        MissingPersonReport,
        on_delete=models.PROTECT,
        related_name="dna_candidates",
        verbose_name=_("family (missing report)"),
    )
    profile = models.ForeignKey(
        Profile,
        on_delete=models.PROTECT,
        related_name="candidates",
        verbose_name=_("unidentified profile"),
    )
    hypothesis = models.CharField(_("hypothesis"), max_length=200)
    hypothesis_kind = models.CharField(
        _("typed relatives"), max_length=16, choices=HypothesisKind.choices
    )
    # The pedigree as it was computed: [{"id", "sex", "mother", "father"}], and code → profile id.
    pedigree = models.JSONField(default=list)
    references = models.JSONField(default=dict)
    lr = models.FloatField(_("likelihood ratio"))
    log10_lr = models.FloatField(_("log10 LR"), db_index=True)
    per_locus = models.JSONField(default=list)  # [{"locus": ..., "lr": ...}] canonical order
    notes = models.JSONField(default=list, blank=True)
    # The parameters the LR was computed with (also for candidates of incremental searches).
    threshold = models.FloatField(_("LR threshold"))
    theta = models.FloatField(_("θ (co-ancestry)"))
    mutation = models.JSONField(_("mutation model"), null=True, blank=True)
    frequency_table = models.CharField(_("frequency table"), max_length=64)
    engine = models.CharField(_("engine"), max_length=100, blank=True)
    run = models.ForeignKey(
        ComparisonRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="found",
        verbose_name=_("comparison run"),
    )
    source = models.CharField(_("found by"), max_length=16, default="battle")
    family_division = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("family's jurisdiction"),
    )
    unidentified_division = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("unidentified person's jurisdiction"),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=CandidateStatus.choices,
        default=CandidateStatus.CANDIDATE,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    computed_at = models.DateTimeField(_("computed"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reunion_opened_at = models.DateTimeField(_("reunion step opened"), null=True, blank=True)
    notified = models.PositiveIntegerField(_("investigators notified"), default=0)

    class Meta:
        ordering = ["-log10_lr", "id"]
        verbose_name = _("match candidate")
        verbose_name_plural = _("match candidates")
        indexes = [models.Index(fields=["status", "log10_lr"])]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "profile", "hypothesis"], name="dna_one_candidate_per_hypothesis"
            )
        ]

    def __str__(self) -> str:
        return f"C-{self.pk}"


class ReviewDecision(models.TextChoices):
    CONFIRM = "confirm", _("Confirm: the same person")
    REJECT = "reject", _("Reject: not this family")


class CandidateReview(models.Model):
    """One analyst's decision on a candidate; two different analysts must confirm."""

    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="reviews")
    analyst = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(_("decision"), max_length=16, choices=ReviewDecision.choices)
    note = EncryptedTextField(_("note"))
    at = models.DateTimeField(_("when"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("candidate review")
        verbose_name_plural = _("candidate reviews")
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "analyst"], name="dna_one_review_per_analyst"
            )
        ]

    def __str__(self) -> str:
        return f"{self.candidate_id} {self.decision}"


class SearchRequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class SearchRequest(models.Model):
    """A durable request to search one profile against the other side (written in the same
    transaction as the profile that needs it; worked off after commit, see ``dna.matching``)."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="search_requests")
    status = models.CharField(
        max_length=16, choices=SearchRequestStatus.choices, default=SearchRequestStatus.PENDING
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pairs = models.PositiveIntegerField(default=0)
    candidates = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        indexes = [models.Index(fields=["status", "requested_at"])]

    def __str__(self) -> str:
        return f"search {self.pk} ({self.profile_id})"
