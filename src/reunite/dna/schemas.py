"""Shapes of the DNA registry's JSON API.

Input shapes refuse unknown fields and bound every value (``people.schemas.Input``); the rules
(consent, custody order, jurisdiction, alleles; review and comparison runs) stay in
``dna.services``, ``dna.review`` and ``dna.battle``.  No output shape but :class:`GenotypesRead`
carries an allele: lists, samples, profiles, match candidates and runs never do (a candidate
holds LRs; reference genotypes leave only in the match report).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, Field, StrictFloat, StrictInt
from pydantic_core import PydanticCustomError

from reunite.dna.models import (
    CandidateStatus,
    ComparisonRunStatus,
    ConsentGiver,
    ConsentScope,
    CustodyKind,
    HypothesisKind,
    ImportFormat,
    InactiveReason,
    KinRelationship,
    ProfileRole,
    QcStatus,
    ReviewDecision,
    SampleStatus,
    SampleType,
    TypingKit,
)
from reunite.people.schemas import (
    MAX_ID,
    ErrorRead,
    Input,
    IsoDate,
    IsoDatetime,
    Name,
    PageInput,
    Place,
    RecordId,
    ShortText,
    UnitRead,
    ValidationErrorRead,
)

__all__ = ["ErrorRead", "ValidationErrorRead"]

MAX_LOCI = 100
MAX_ALLELES = 4


def _clean(value: str) -> str:
    """Refuse what no column can store: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise PydanticCustomError("text_nul", _("Text may not contain NUL characters."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("text_unicode", _("Text is not valid Unicode.")) from None
    return value


def blank_to_none(value: object) -> object:
    """An empty query parameter (``?status=``) means "any", as a web form sends it."""
    return None if value == "" else value


Note = Annotated[str, Field(max_length=2000), AfterValidator(_clean)]
SampleNumber = Annotated[
    str,
    Field(
        max_length=64,
        pattern=r"^[A-Za-z0-9._#/ \-]*$",
        description="As on the tube and in the lab's files; empty: one is made.",
    ),
]
FormNumber = Annotated[str, Field(max_length=64), AfterValidator(_clean)]
LocusName = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_clean)]
AlleleText = Annotated[str, Field(max_length=10), AfterValidator(_clean)]
Allele = AlleleText | StrictInt | StrictFloat
MemberSex = Literal["", "M", "F"]
ManualCustody = Literal["handed_over", "received", "stored", "typed", "destroyed"]


# --------------------------------------------------------------------------- families


class FamilyMemberCreate(Input):
    """Place a relative in the family; the pedigree links are made from the relationship."""

    relationship: KinRelationship
    sex: MemberSex = Field(
        "", description="Required for siblings, uncles and aunts, children; otherwise fixed."
    )
    name: Name = ""


class FamilyMemberRead(Schema):
    id: int
    code: str = Field(description="The person's id in the family pedigree.")
    relationship: KinRelationship
    sex: str
    mother: str | None = Field(description="Code of the mother in the pedigree.")
    father: str | None = Field(description="Code of the father in the pedigree.")
    name: str
    samples: list[int]


class FamilyRead(Schema):
    report_id: int
    missing_code: str
    members: list[FamilyMemberRead]


# --------------------------------------------------------------------------- samples


class ConsentWrite(Input):
    """The signed consent; its purpose follows from the donor's side."""

    given_by: Literal["donor", "guardian"]
    date: IsoDate
    guardian_name: Name = ""
    guardian_relation: ShortText = ""
    reference: FormNumber = ""


class SampleCreate(Input):
    """A collected sample: give exactly one of ``found_person`` or ``family_member``."""

    found_person: RecordId | None = None
    family_member: RecordId | None = None
    number: SampleNumber = ""
    sample_type: SampleType
    sample_type_other: ShortText = ""
    collected_at: IsoDatetime
    collected_by: ShortText
    collected_place: Place = ""
    consent: ConsentWrite | None = Field(
        None,
        description="Leave out when the consent is not signed yet (the sample cannot be typed).",
    )


class ConsentRead(Schema):
    given_by: ConsentGiver
    scope: ConsentScope | None
    date: dt.date | None
    guardian_name: str
    guardian_relation: str
    reference: str
    withdrawn_at: dt.datetime | None
    withdrawal_reason: str


class CustodyEventRead(Schema):
    id: int
    kind: CustodyKind
    at: dt.datetime
    handler: str
    unit: str | None
    place: str
    notes: str
    recorded_by: str
    recorded_at: dt.datetime


class CustodyEventCreate(Input):
    kind: ManualCustody
    at: IsoDatetime
    handler: ShortText = ""
    place: Place = ""
    notes: Note = ""


class ConsentWithdrawal(Input):
    reason: Note


class DonorRead(Schema):
    label: str = Field(description="UP-<id> or MP-<report>/<code>: never a name.")
    found_person: int | None
    missing_report: int | None
    family_member: int | None
    relationship: KinRelationship | None


class ProfileSummary(Schema):
    """A profile without its alleles."""

    id: int
    pseudonym: str
    sample: int
    role: ProfileRole
    kit: TypingKit
    kit_name: str
    lab: UnitRead
    locus_count: int
    qc_status: QcStatus
    active: bool
    inactive_reason: InactiveReason
    erased: bool
    created_at: dt.datetime


class SampleRead(Schema):
    id: int
    number: str
    role: ProfileRole
    donor: DonorRead
    jurisdiction: str
    sample_type: SampleType
    sample_type_other: str
    collected_at: dt.datetime
    collected_by: str
    collecting_unit: UnitRead
    collected_place: str
    status: SampleStatus
    holder: UnitRead | None
    consent: ConsentRead | None
    custody: list[CustodyEventRead]
    profiles: list[ProfileSummary]
    created_at: dt.datetime


class SampleSummary(Schema):
    id: int
    number: str
    role: ProfileRole
    donor: str
    sample_type: SampleType
    status: SampleStatus
    consent: Literal["given", "missing", "withdrawn"]
    collected_at: dt.datetime


class SamplePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[SampleSummary]


class SampleQuery(PageInput):
    number: Annotated[str, Field(max_length=64)] = ""
    status: Annotated[SampleStatus | None, BeforeValidator(blank_to_none)] = None
    role: Annotated[ProfileRole | None, BeforeValidator(blank_to_none)] = None
    consent: Annotated[
        Literal["given", "missing", "withdrawn"] | None, BeforeValidator(blank_to_none)
    ] = None


# --------------------------------------------------------------------------- profiles


class ProfileCreate(Input):
    """A typing result: ``{"D3S1358": ["15", "16"], "TH01": [9.3], ...}``; a homozygote may be
    written once; amelogenin as ``"XY"`` or ``["X", "Y"]``."""

    sample: RecordId
    kit: TypingKit
    kit_name: ShortText = ""
    genotypes: dict[LocusName, Annotated[list[Allele], Field(max_length=MAX_ALLELES)]] = Field(
        max_length=MAX_LOCI
    )
    amelogenin: (
        Annotated[str, Field(max_length=4)]
        | Annotated[list[Annotated[str, Field(max_length=1)]], Field(max_length=2)]
        | None
    ) = None


class QcReasonRead(Schema):
    code: str
    message: str


class ProfileRead(ProfileSummary):
    sample_number: str
    qc_reasons: list[QcReasonRead]
    qc_reviewed_at: dt.datetime | None
    qc_review_note: str
    outcome: Literal["created", "updated", "unchanged", "read"] = "read"


class GenotypesRead(Schema):
    """The alleles of one profile: canonical loci in canonical order, two alleles ascending."""

    id: int
    pseudonym: str
    genotypes: dict[str, list[str]]
    amelogenin: str | None
    erased: bool


class ProfilePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ProfileSummary]


class ProfileQuery(PageInput):
    qc_status: Annotated[QcStatus | None, BeforeValidator(blank_to_none)] = None
    role: Annotated[ProfileRole | None, BeforeValidator(blank_to_none)] = None
    active: Annotated[bool | None, BeforeValidator(blank_to_none)] = None
    sample: Annotated[
        Annotated[int, Field(ge=1, le=MAX_ID)] | None, BeforeValidator(blank_to_none)
    ] = None


class QcReview(Input):
    decision: Literal["passed", "failed"]
    note: Note


# --------------------------------------------------------------------------- imports


class ImportRowRead(Schema):
    line: int
    sample: str
    locus: str
    status: Literal["saved", "unchanged", "bad", "ignored"]
    code: str
    message: str


class ImportRead(Schema):
    id: int
    file_name: str
    file_sha256: str
    file_format: ImportFormat
    kit: TypingKit
    kit_name: str
    created_at: dt.datetime
    rows_total: int
    rows_saved: int
    rows_unchanged: int
    rows_bad: int
    rows_ignored: int
    profiles_created: int
    profiles_updated: int
    profiles_unchanged: int
    rows: list[ImportRowRead]


# --------------------------------------------------------------------------- match candidates


#: ``open`` (the default: candidate or under review), ``all``, or one status.
CandidateStatusFilter = Literal["open", "all", "candidate", "under_review", "confirmed", "rejected"]
DivisionCode = Annotated[str, Field(pattern=r"^[0-9]{2,12}$", max_length=12)]


class CandidateQuery(PageInput):
    """The candidate queue's filters (as on the queue page); highest LR first."""

    status: Annotated[CandidateStatusFilter, BeforeValidator(lambda v: v or "open")] = "open"
    kind: Annotated[HypothesisKind | None, BeforeValidator(blank_to_none)] = None
    division: Annotated[
        DivisionCode | None,
        BeforeValidator(blank_to_none),
        Field(description="A division code: candidates with either side in it."),
    ] = None
    min_lr: Annotated[
        Annotated[float, Field(gt=0, le=1e300, allow_inf_nan=False)] | None,
        BeforeValidator(blank_to_none),
        Field(description="Smallest LR (not log10)."),
    ] = None


class CandidateSummary(Schema):
    """A candidate in the queue: pseudonymous ids and the LR, never an allele."""

    id: int
    label: str = Field(description="C-<id>.")
    status: CandidateStatus
    lr: float
    log10_lr: float
    hypothesis: str = Field(description="The missing person and the typed relatives: MP|FA+MO.")
    hypothesis_kind: HypothesisKind
    weak: bool = Field(
        description="One parent or siblings alone: unrelated people reach the threshold by "
        "chance in a large database; look for other evidence."
    )
    missing_report: int
    family: str = Field(description="MP-<missing report id>.")
    unidentified_profile: str = Field(description="The unidentified profile's pseudonym.")
    unidentified_person: str = Field(description="UP-<person of unknown origin id>.")
    family_jurisdiction: str
    unidentified_jurisdiction: str
    source: str = Field(description="battle (a comparison run) or incremental (a new profile).")
    run: int | None
    computed_at: dt.datetime
    decided_at: dt.datetime | None


class CandidatePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CandidateSummary]


class CandidateReferenceRead(Schema):
    code: str = Field(description="The relative's place in the family pedigree (MO, FA, S1 …).")
    relationship: str
    profile: str | None = Field(description="The reference profile's pseudonym.")


class PedigreePersonRead(Schema):
    id: str
    sex: str
    mother: str | None = None
    father: str | None = None


class LocusLRRead(Schema):
    locus: str
    lr: float


class MatchParametersRead(Schema):
    threshold: float
    theta: float
    mutation: dict[str, object] | None
    frequency_table: str
    engine: str


class CandidateReviewRead(Schema):
    decision: ReviewDecision
    analyst: str = Field(description="The analyst's username.")
    unit: str | None
    note: str
    at: dt.datetime


class CandidateRead(CandidateSummary):
    """One candidate for review: LRs per locus, pedigree, parameters and the review so far."""

    references: list[CandidateReferenceRead]
    pedigree: list[PedigreePersonRead]
    per_locus: list[LocusLRRead]
    notes: list[str]
    parameters: MatchParametersRead
    unidentified_searchable: bool = Field(
        description="False once the unidentified donor's consent is withdrawn, the sample "
        "destroyed or QC changed: such a candidate cannot be confirmed."
    )
    reviews: list[CandidateReviewRead]
    confirmations_needed: int
    reunion_opened_at: dt.datetime | None
    investigators_notified: int
    may_review: bool = Field(description="Whether you may record a decision now.")
    already_reviewed: bool = Field(description="Whether you have recorded a decision on it.")
    may_report: bool = Field(description="Whether you may read its match report.")


class CandidateReviewCreate(Input):
    """One analyst's decision: ``confirm`` (two different analysts needed) or ``reject``; the
    note says what was checked, or why not this family."""

    decision: ReviewDecision
    note: Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_clean)]


class CandidateReviewResult(Schema):
    confirmed: bool = Field(description="True when this was the second confirmation.")
    candidate: CandidateRead


# --------------------------------------------------------------------------- comparison runs


class RunProgressRead(Schema):
    chunks_done: int
    chunks_total: int
    pairs_done: int
    pairs_total: int
    percent: int
    pairs_per_second: float
    eta_seconds: float | None


class RunRead(Schema):
    """A comparison run (battle): its parameters, counts and progress."""

    id: int
    status: ComparisonRunStatus
    resumable: bool
    trigger: str
    started_by: str | None = Field(description="Username; null: the command line.")
    started_at: dt.datetime
    finished_at: dt.datetime | None
    threshold: float
    theta: float
    mutation: dict[str, object] | None
    frequency_table: str
    engine: str
    backend: str
    families: int
    unknowns: int
    pairs: int
    candidates: int
    families_skipped: int
    duration_seconds: float
    error: str
    progress: RunProgressRead


class RunPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[RunRead]


class RunQuery(PageInput):
    status: Annotated[ComparisonRunStatus | None, BeforeValidator(blank_to_none)] = None


class RunCreate(Input):
    """Start a comparison run (or resume the last interrupted one with the same parameters)."""

    threshold: Annotated[float, Field(allow_inf_nan=False)] | None = Field(
        None,
        description="LR (not log10), above 1 and at most 1e30; null: DNA_MATCH_THRESHOLD.",
    )
