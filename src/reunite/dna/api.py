"""JSON API of the DNA registry (``/api/dna/...``): families, samples, profiles, imports, and
matching: the candidate queue, one candidate, analysts' decisions, comparison runs.

Handlers are thin: a validated input shape becomes a ``services`` / ``review`` / ``battle`` call
(which authorises, validates, audits and saves) and what it returns becomes an output shape.
Lists and records never carry alleles; ``GET /profiles/{id}/genotypes`` is the one place they
leave the registry, for DNA technicians and supervisors of the donor's jurisdiction, each read
audited.  A match candidate carries LRs (total and per locus) and pseudonymous ids only: family
reference genotypes leave only in the match report (a page, not this API).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, cast

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, P, PathEx, Query, Router, Status, UploadedFile

from reunite.accounts.permissions import Action, can
from reunite.core.errors import NotFound, ValidationFailed
from reunite.dna import battle, imports, review, services
from reunite.dna.models import (
    Candidate,
    CandidateStatus,
    ComparisonRun,
    ComparisonRunStatus,
    ConsentGiver,
    ConsentScope,
    CustodyKind,
    FamilyMember,
    HypothesisKind,
    ImportBatch,
    ImportFormat,
    InactiveReason,
    KinRelationship,
    Profile,
    ProfileRole,
    QcStatus,
    ReviewDecision,
    Sample,
    SampleStatus,
    SampleType,
    TypingKit,
)
from reunite.dna.reasons import describe
from reunite.dna.schemas import (
    CandidatePage,
    CandidateQuery,
    CandidateRead,
    CandidateReferenceRead,
    CandidateReviewCreate,
    CandidateReviewRead,
    CandidateReviewResult,
    CandidateSummary,
    ConsentRead,
    ConsentWithdrawal,
    ConsentWrite,
    CustodyEventCreate,
    CustodyEventRead,
    DonorRead,
    ErrorRead,
    FamilyMemberCreate,
    FamilyMemberRead,
    FamilyRead,
    GenotypesRead,
    ImportRead,
    ImportRowRead,
    LocusLRRead,
    MatchParametersRead,
    PedigreePersonRead,
    ProfileCreate,
    ProfilePage,
    ProfileQuery,
    ProfileRead,
    ProfileSummary,
    QcReasonRead,
    QcReview,
    RunCreate,
    RunPage,
    RunProgressRead,
    RunQuery,
    RunRead,
    SampleCreate,
    SamplePage,
    SampleQuery,
    SampleRead,
    SampleSummary,
    ValidationErrorRead,
)
from reunite.people.api import INVALID_INPUT, acting_user, reject_unknown_params
from reunite.people.schemas import MAX_ID, UnitRead

router = Router(tags=["DNA registry"])

AUTH_ERRORS: dict[int, Any] = {401: ErrorRead, 403: ErrorRead}
READ_ERRORS: dict[int, Any] = {**AUTH_ERRORS, 404: ErrorRead, 422: ValidationErrorRead}
WRITE_ERRORS: dict[int, Any] = {**READ_ERRORS, 409: ErrorRead}
IMPORT_ERRORS: dict[int, Any] = {**READ_ERRORS, 413: ErrorRead}

Id = PathEx[int, P(ge=1, le=MAX_ID)]
IMPORT_FIELDS = frozenset({"kit", "kit_name", "file_format"})


def _page(query: Any) -> slice:
    return slice(query.offset, query.offset + query.limit)


def _unit(org: Any) -> UnitRead:
    return UnitRead(id=org.pk, name=org.name)


# --------------------------------------------------------------------------- families


def _family_read(report_id: int, members: list[FamilyMember]) -> FamilyRead:
    code_of = {m.pk: m.code for m in members}
    samples: dict[int, list[int]] = {}
    for pk, member_id in Sample.objects.filter(family_member__report_id=report_id).values_list(
        "pk", "family_member_id"
    ):
        assert member_id is not None
        samples.setdefault(member_id, []).append(pk)
    return FamilyRead(
        report_id=report_id,
        missing_code=services.MISSING_CODE,
        members=[
            FamilyMemberRead(
                id=m.pk,
                code=m.code,
                relationship=KinRelationship(m.relationship),
                sex=m.sex,
                mother=code_of.get(m.mother_id) if m.mother_id else None,
                father=code_of.get(m.father_id) if m.father_id else None,
                name=m.name,
                samples=sorted(samples.get(m.pk, [])),
            )
            for m in members
        ],
    )


@router.get(
    "/families/{report_id}", response={200: FamilyRead, **READ_ERRORS}, url_name="dna_get_family"
)
def get_family(request: HttpRequest, report_id: Id) -> FamilyRead:
    """The family pedigree of a missing report (audited)."""
    report, members = services.get_family(acting_user=acting_user(request), report_id=report_id)
    return _family_read(report.pk, members)


@router.post(
    "/families/{report_id}/members",
    response={201: FamilyRead, **READ_ERRORS},
    url_name="dna_add_family_member",
)
def add_family_member(
    request: HttpRequest, report_id: Id, payload: FamilyMemberCreate
) -> Status[FamilyRead]:
    """Place a relative in the family (the untyped places linking them are added too)."""
    user = acting_user(request)
    member = services.add_family_member(
        acting_user=user,
        report_id=report_id,
        data=services.FamilyMemberData(
            relationship=payload.relationship.value, sex=payload.sex, name=payload.name
        ),
    )
    return Status(201, _family_read(report_id, services.family_members(member.report)))


# --------------------------------------------------------------------------- samples


def _consent_value(sample: Sample) -> Literal["given", "missing", "withdrawn"]:
    if sample.consent_withdrawn:
        return "withdrawn"
    return "given" if sample.consent_recorded else "missing"


def _profile_summary(p: Profile) -> ProfileSummary:
    return ProfileSummary(
        id=p.pk,
        pseudonym=p.pseudonym,
        sample=p.sample_id,
        role=ProfileRole(p.role),
        kit=TypingKit(p.kit),
        kit_name=p.kit_name,
        lab=_unit(p.lab),
        locus_count=p.locus_count,
        qc_status=QcStatus(p.qc_status),
        active=p.active,
        inactive_reason=InactiveReason(p.inactive_reason),
        erased=p.erased_at is not None,
        created_at=p.created_at,
    )


def _sample_read(sample: Sample) -> SampleRead:
    member = sample.family_member
    consent = None
    if sample.consent_recorded or sample.consent_withdrawn:
        consent = ConsentRead(
            given_by=ConsentGiver(sample.consent_given_by),
            scope=ConsentScope(sample.consent_scope) if sample.consent_scope else None,
            date=sample.consent_date,
            guardian_name=sample.consent_guardian_name,
            guardian_relation=sample.consent_guardian_relation,
            reference=sample.consent_reference,
            withdrawn_at=sample.consent_withdrawn_at,
            withdrawal_reason=sample.consent_withdrawal_reason,
        )
    return SampleRead(
        id=sample.pk,
        number=sample.number,
        role=ProfileRole(sample.role),
        donor=DonorRead(
            label=sample.donor_label,
            found_person=sample.found_person_id,
            missing_report=member.report_id if member is not None else None,
            family_member=sample.family_member_id,
            relationship=KinRelationship(member.relationship) if member is not None else None,
        ),
        jurisdiction=sample.division.code,
        sample_type=SampleType(sample.sample_type),
        sample_type_other=sample.sample_type_other,
        collected_at=sample.collected_at,
        collected_by=sample.collected_by,
        collecting_unit=_unit(sample.collecting_unit),
        collected_place=sample.collected_place,
        status=SampleStatus(sample.status),
        holder=_unit(sample.holder) if sample.holder is not None else None,
        consent=consent,
        custody=[
            CustodyEventRead(
                id=e.pk,
                kind=CustodyKind(e.kind),
                at=e.at,
                handler=e.handler,
                unit=e.unit.name if e.unit is not None else None,
                place=e.place,
                notes=e.notes,
                recorded_by=e.recorded_by.get_username() if e.recorded_by else "",
                recorded_at=e.recorded_at,
            )
            for e in sample.custody.select_related("unit", "recorded_by").order_by("at", "pk")
        ],
        profiles=[
            _profile_summary(p)
            for p in sample.profiles.select_related("lab").order_by("created_at", "pk")
        ],
        created_at=sample.created_at,
    )


def _consent_data(payload: ConsentWrite, role: str) -> services.ConsentData:
    return services.ConsentData(
        given_by=payload.given_by,
        scope=services.SCOPE_FOR_ROLE[role],
        date=payload.date,
        guardian_name=payload.guardian_name,
        guardian_relation=payload.guardian_relation,
        reference=payload.reference,
    )


@router.get("/samples", response={200: SamplePage, **READ_ERRORS}, url_name="dna_list_samples")
def list_samples(request: HttpRequest, query: Query[SampleQuery]) -> SamplePage:
    """Samples of your jurisdiction (no alleles; the search is audited)."""
    reject_unknown_params(request, SampleQuery)
    found = services.search_samples(
        acting_user=acting_user(request),
        filters=services.SampleFilters(
            number=query.number,
            status=query.status.value if query.status else "",
            role=query.role.value if query.role else "",
            consent=query.consent or "",
        ),
    )
    items = [
        SampleSummary(
            id=s.pk,
            number=s.number,
            role=ProfileRole(s.role),
            donor=s.donor_label,
            sample_type=SampleType(s.sample_type),
            status=SampleStatus(s.status),
            consent=_consent_value(s),
            collected_at=s.collected_at,
        )
        for s in found[_page(query)]
    ]
    return SamplePage(count=found.count(), limit=query.limit, offset=query.offset, items=items)


@router.post("/samples", response={201: SampleRead, **READ_ERRORS}, url_name="dna_create_sample")
def create_sample(request: HttpRequest, payload: SampleCreate) -> Status[SampleRead]:
    """Register a collected sample (with its consent if signed)."""
    user = acting_user(request)
    donor = services.get_donor(
        acting_user=user,
        found_person_id=payload.found_person,
        family_member_id=payload.family_member,
    )
    sample = services.register_sample(
        acting_user=user,
        data=services.SampleData(
            sample_type=payload.sample_type.value,
            collected_at=payload.collected_at,
            collected_by=payload.collected_by,
            found_person_id=payload.found_person,
            family_member_id=payload.family_member,
            number=payload.number,
            sample_type_other=payload.sample_type_other,
            collected_place=payload.collected_place,
            consent=_consent_data(payload.consent, donor.role) if payload.consent else None,
        ),
    )
    return Status(201, _sample_read(services.get_sample(acting_user=user, sample_id=sample.pk)))


@router.get(
    "/samples/{sample_id}", response={200: SampleRead, **READ_ERRORS}, url_name="dna_get_sample"
)
def get_sample(request: HttpRequest, sample_id: Id) -> SampleRead:
    """One sample with consent, custody and its profiles (no alleles; audited)."""
    return _sample_read(services.get_sample(acting_user=acting_user(request), sample_id=sample_id))


@router.post(
    "/samples/{sample_id}/custody",
    response={201: SampleRead, **READ_ERRORS},
    url_name="dna_add_custody_event",
)
def add_custody_event(
    request: HttpRequest, sample_id: Id, payload: CustodyEventCreate
) -> Status[SampleRead]:
    """Record the next custody event (handed_over → received → stored/typed … destroyed)."""
    user = acting_user(request)
    services.add_custody_event(
        acting_user=user,
        sample_id=sample_id,
        data=services.CustodyData(
            kind=payload.kind,
            at=payload.at,
            handler=payload.handler,
            place=payload.place,
            notes=payload.notes,
        ),
    )
    return Status(201, _sample_read(services.get_sample(acting_user=user, sample_id=sample_id)))


@router.post(
    "/samples/{sample_id}/consent",
    response={200: SampleRead, **READ_ERRORS},
    url_name="dna_record_consent",
)
def record_consent(request: HttpRequest, sample_id: Id, payload: ConsentWrite) -> SampleRead:
    """Record the consent of a sample registered without it."""
    user = acting_user(request)
    sample = services.get_sample(acting_user=user, sample_id=sample_id)
    services.record_consent(
        acting_user=user, sample_id=sample_id, consent=_consent_data(payload, sample.role)
    )
    return _sample_read(services.get_sample(acting_user=user, sample_id=sample_id))


@router.post(
    "/samples/{sample_id}/withdraw-consent",
    response={200: SampleRead, **READ_ERRORS},
    url_name="dna_withdraw_consent",
)
def withdraw_consent(request: HttpRequest, sample_id: Id, payload: ConsentWithdrawal) -> SampleRead:
    """The donor withdraws consent: all their samples are withdrawn, their profiles made
    inactive and their genotypes erased."""
    user = acting_user(request)
    services.withdraw_consent(acting_user=user, sample_id=sample_id, reason=payload.reason)
    return _sample_read(services.get_sample(acting_user=user, sample_id=sample_id))


# --------------------------------------------------------------------------- profiles


Outcome = Literal["created", "updated", "unchanged", "read"]


def _profile_read(profile: Profile, outcome: Outcome = "read") -> ProfileRead:
    return ProfileRead(
        **_profile_summary(profile).model_dump(),
        sample_number=profile.sample.number,
        qc_reasons=[
            QcReasonRead(
                code=str(r.get("code", "")),
                message=describe(str(r.get("code", "")), r.get("params")),
            )
            for r in profile.qc_reasons
        ],
        qc_reviewed_at=profile.qc_reviewed_at,
        qc_review_note=profile.qc_review_note,
        outcome=outcome,
    )


@router.get("/profiles", response={200: ProfilePage, **READ_ERRORS}, url_name="dna_list_profiles")
def list_profiles(request: HttpRequest, query: Query[ProfileQuery]) -> ProfilePage:
    """Profiles of your jurisdiction: metadata and QC only, never alleles (audited)."""
    reject_unknown_params(request, ProfileQuery)
    found = services.search_profiles(
        acting_user=acting_user(request),
        filters=services.ProfileFilters(
            qc_status=query.qc_status.value if query.qc_status else "",
            role=query.role.value if query.role else "",
            active=query.active,
            sample_id=query.sample,
        ),
    )
    items = [_profile_summary(p) for p in found[_page(query)]]
    return ProfilePage(count=found.count(), limit=query.limit, offset=query.offset, items=items)


@router.post(
    "/profiles",
    response={201: ProfileRead, 200: ProfileRead, **WRITE_ERRORS},
    url_name="dna_create_profile",
)
def create_profile(request: HttpRequest, payload: ProfileCreate) -> Status[ProfileRead]:
    """Store a typing result for a sample: 201 when new, 200 when it extends or repeats the
    stored profile of that sample, laboratory and kit; 409 when it contradicts it."""
    profile, outcome = services.create_profile(
        acting_user=acting_user(request),
        data=services.ProfileData(
            sample_id=payload.sample,
            kit=payload.kit.value,
            kit_name=payload.kit_name,
            genotypes=payload.genotypes,
            amelogenin=payload.amelogenin,
        ),
    )
    return Status(
        201 if outcome == "created" else 200, _profile_read(profile, cast(Outcome, outcome))
    )


@router.get(
    "/profiles/{profile_id}", response={200: ProfileRead, **READ_ERRORS}, url_name="dna_get_profile"
)
def get_profile(request: HttpRequest, profile_id: Id) -> ProfileRead:
    """One profile's metadata and QC, without alleles (audited)."""
    return _profile_read(
        services.get_profile(acting_user=acting_user(request), profile_id=profile_id)
    )


@router.get(
    "/profiles/{profile_id}/genotypes",
    response={200: GenotypesRead, **READ_ERRORS},
    url_name="dna_get_genotypes",
)
def get_genotypes(request: HttpRequest, profile_id: Id) -> GenotypesRead:
    """The alleles of one profile: DNA technicians and supervisors of the donor's
    jurisdiction only; every read and every refusal is audited."""
    profile, canonical = services.get_profile_genotypes(
        acting_user=acting_user(request), profile_id=profile_id
    )
    return GenotypesRead(
        id=profile.pk,
        pseudonym=profile.pseudonym,
        genotypes=canonical.genotypes,
        amelogenin=canonical.amelogenin or None,
        erased=profile.erased_at is not None,
    )


@router.post(
    "/profiles/{profile_id}/qc-review",
    response={200: ProfileRead, **READ_ERRORS},
    url_name="dna_review_profile",
)
def review_profile(request: HttpRequest, profile_id: Id, payload: QcReview) -> ProfileRead:
    """Settle a flagged profile: passed (searchable) or failed, with a note."""
    profile = services.review_qc(
        acting_user=acting_user(request),
        profile_id=profile_id,
        decision=payload.decision,
        note=payload.note,
    )
    return _profile_read(profile)


# --------------------------------------------------------------------------- imports


def _import_read(batch: ImportBatch) -> ImportRead:
    rows: Iterable[dict[str, Any]] = batch.rows
    return ImportRead(
        id=batch.pk,
        file_name=batch.file_name,
        file_sha256=batch.file_sha256,
        file_format=ImportFormat(batch.file_format),
        kit=TypingKit(batch.kit),
        kit_name=batch.kit_name,
        created_at=batch.created_at,
        rows_total=batch.rows_total,
        rows_saved=batch.rows_saved,
        rows_unchanged=batch.rows_unchanged,
        rows_bad=batch.rows_bad,
        rows_ignored=batch.rows_ignored,
        profiles_created=batch.profiles_created,
        profiles_updated=batch.profiles_updated,
        profiles_unchanged=batch.profiles_unchanged,
        rows=[
            ImportRowRead(
                line=r["line"],
                sample=r["sample"],
                locus=r["locus"],
                status=r["status"],
                code=r["code"],
                message=describe(r["code"], r.get("params")),
            )
            for r in rows
        ],
    )


def _reject_unknown_form_fields(request: HttpRequest) -> None:
    unknown = sorted((set(request.POST) - IMPORT_FIELDS) | (set(request.FILES) - {"file"}))
    if unknown:
        raise ValidationFailed(
            str(INVALID_INPUT),
            field_errors={name[:50]: [_("Unknown field.")] for name in unknown[:20]},
        )


@router.post("/imports", response={201: ImportRead, **IMPORT_ERRORS}, url_name="dna_create_import")
def create_import(
    request: HttpRequest,
    file: File[UploadedFile],
    kit: Form[TypingKit],
    kit_name: Form[str] = "",
    file_format: Form[str] = "",
) -> Status[ImportRead]:
    """Import a GeneMapper ID-X export or a plain CSV (multipart: ``file``, ``kit``, optional
    ``kit_name`` and ``file_format``); every row's outcome comes back with its line and reason.
    Importing the same file again changes nothing."""
    _reject_unknown_form_fields(request)
    limit = services.import_max_bytes()
    batch = imports.import_profiles(
        acting_user=acting_user(request),
        data=imports.ImportData(
            content=file.read(limit + 1),
            file_name=file.name or "",
            kit=kit.value,
            kit_name=kit_name,
            file_format=file_format,
        ),
    )
    return Status(201, _import_read(batch))


@router.get(
    "/imports/{batch_id}", response={200: ImportRead, **READ_ERRORS}, url_name="dna_get_import"
)
def get_import(request: HttpRequest, batch_id: Id) -> ImportRead:
    """An import with its per-row results (the importing laboratory only; audited)."""
    return _import_read(imports.get_import(acting_user=acting_user(request), batch_id=batch_id))


# --------------------------------------------------------------------------- match candidates

#: Hypotheses where one relative carries the search: false candidates are to be expected.
WEAK_KINDS = frozenset({HypothesisKind.PARENT, HypothesisKind.SIBLINGS})


def _candidate_summary(c: Candidate) -> CandidateSummary:
    return CandidateSummary(
        id=c.pk,
        label=f"C-{c.pk}",
        status=CandidateStatus(c.status),
        lr=c.lr,
        log10_lr=c.log10_lr,
        hypothesis=c.hypothesis,
        hypothesis_kind=HypothesisKind(c.hypothesis_kind),
        weak=c.hypothesis_kind in WEAK_KINDS,
        missing_report=c.report_id,
        family=f"MP-{c.report_id}",
        unidentified_profile=c.profile.pseudonym,
        unidentified_person=f"UP-{c.profile.sample.found_person_id}",
        family_jurisdiction=c.family_division.code,
        unidentified_jurisdiction=c.unidentified_division.code,
        source=c.source,
        run=c.run_id,
        computed_at=c.computed_at,
        decided_at=c.decided_at,
    )


def _candidate_read(view: review.CandidateView) -> CandidateRead:
    c = view.candidate
    return CandidateRead(
        **_candidate_summary(c).model_dump(),
        references=[
            CandidateReferenceRead(code=r.code, relationship=r.relationship, profile=r.pseudonym)
            for r in view.references
        ],
        pedigree=[
            PedigreePersonRead(
                id=str(p["id"]),
                sex=str(p["sex"]),
                mother=p.get("mother"),
                father=p.get("father"),
            )
            for p in c.pedigree
        ],
        per_locus=[LocusLRRead(locus=e["locus"], lr=e["lr"]) for e in c.per_locus],
        notes=[str(n) for n in c.notes],
        parameters=MatchParametersRead(
            threshold=c.threshold,
            theta=c.theta,
            mutation=c.mutation,
            frequency_table=c.frequency_table,
            engine=c.engine,
        ),
        unidentified_searchable=view.searchable,
        reviews=[
            CandidateReviewRead(
                decision=ReviewDecision(r.decision),
                analyst=r.analyst.get_username(),
                unit=r.analyst.organisation.name if r.analyst.organisation else None,
                note=r.note,
                at=r.at,
            )
            for r in view.reviews
        ],
        confirmations_needed=review.CONFIRMATIONS_NEEDED,
        reunion_opened_at=c.reunion_opened_at,
        investigators_notified=c.notified,
        may_review=view.may_review,
        already_reviewed=view.already_reviewed,
        may_report=view.may_report,
    )


def _read_candidate(request: HttpRequest, candidate_id: int) -> CandidateRead:
    """One candidate as the caller may see it; the read is audited (``review.get_candidate``)."""
    user = acting_user(request)
    candidate = review.get_candidate(acting_user=user, candidate_id=candidate_id)
    return _candidate_read(review.candidate_view(acting_user=user, candidate=candidate))


@router.get(
    "/candidates", response={200: CandidatePage, **READ_ERRORS}, url_name="dna_list_candidates"
)
def list_candidates(request: HttpRequest, query: Query[CandidateQuery]) -> CandidatePage:
    """The candidate queue of your jurisdiction (the family's or the unidentified person's),
    highest LR first; by default only open candidates (``status=all`` for every one).  LRs and
    pseudonymous ids only; the search is audited."""
    reject_unknown_params(request, CandidateQuery)
    status = query.status
    found = review.candidate_queue(
        acting_user=acting_user(request),
        filters=review.CandidateFilters(
            status="" if status in ("open", "all") else status,
            kind=query.kind.value if query.kind else "",
            division=query.division or "",
            min_lr=query.min_lr,
        ),
    )
    if status == "open":
        found = found.filter(status__in=review.OPEN_STATUSES)
    items = [_candidate_summary(c) for c in found[_page(query)]]
    return CandidatePage(count=found.count(), limit=query.limit, offset=query.offset, items=items)


@router.get(
    "/candidates/{candidate_id}",
    response={200: CandidateRead, **READ_ERRORS},
    url_name="dna_get_candidate",
)
def get_candidate(request: HttpRequest, candidate_id: Id) -> CandidateRead:
    """One candidate for review: per-locus LRs, pedigree, parameters, the reviews so far and
    what you may do; never an allele (audited, as every refusal)."""
    return _read_candidate(request, candidate_id)


@router.post(
    "/candidates/{candidate_id}/reviews",
    response={201: CandidateReviewResult, **WRITE_ERRORS},
    url_name="dna_review_candidate",
)
def review_candidate(
    request: HttpRequest, candidate_id: Id, payload: CandidateReviewCreate
) -> Status[CandidateReviewResult]:
    """Record your decision with a note: the first confirmation puts the candidate under
    review, the second — by a *different* analyst — confirms it, opens the reunion step on the
    case and notifies its investigators; one rejection settles it.  409 for a second decision
    of yours or a settled candidate; 422 when the unidentified profile is no longer searchable
    (a confirmation) or the note is empty."""
    outcome = review.review_candidate(
        acting_user=acting_user(request),
        candidate_id=candidate_id,
        decision=payload.decision.value,
        note=payload.note,
    )
    return Status(
        201,
        CandidateReviewResult(
            confirmed=outcome.confirmed, candidate=_read_candidate(request, candidate_id)
        ),
    )


# --------------------------------------------------------------------------- comparison runs


def _may_see_runs(request: HttpRequest) -> None:
    user = acting_user(request)
    if not can(user, Action.VIEW_MATCHES):
        raise review.deny(user, Action.VIEW_MATCHES, "battle")  # audited


def _run_read(run: ComparisonRun) -> RunRead:
    progress = battle.progress_of(run)
    return RunRead(
        id=run.pk,
        status=ComparisonRunStatus(run.status),
        resumable=run.resumable,
        trigger=run.trigger,
        started_by=run.started_by.get_username() if run.started_by else None,
        started_at=run.started_at,
        finished_at=run.finished_at,
        threshold=run.threshold,
        theta=run.theta,
        mutation=run.mutation,
        frequency_table=run.frequency_table,
        engine=run.engine,
        backend=run.backend,
        families=run.families,
        unknowns=run.unknowns,
        pairs=run.pairs,
        candidates=run.candidates,
        families_skipped=run.families_skipped,
        duration_seconds=run.duration_seconds,
        error=run.error,
        progress=RunProgressRead(
            chunks_done=progress.chunks_done,
            chunks_total=progress.chunks_total,
            pairs_done=progress.pairs_done,
            pairs_total=progress.pairs_total,
            percent=progress.percent,
            pairs_per_second=progress.pairs_per_second,
            eta_seconds=progress.eta_seconds,
        ),
    )


@router.get("/runs", response={200: RunPage, **READ_ERRORS}, url_name="dna_list_runs")
def list_runs(request: HttpRequest, query: Query[RunQuery]) -> RunPage:
    """Comparison runs, latest first, with their parameters, counts and progress."""
    reject_unknown_params(request, RunQuery)
    _may_see_runs(request)
    found = ComparisonRun.objects.select_related("started_by").order_by("-started_at", "-pk")
    if query.status is not None:
        found = found.filter(status=query.status.value)
    items = [_run_read(r) for r in found[_page(query)]]
    return RunPage(count=found.count(), limit=query.limit, offset=query.offset, items=items)


@router.get("/runs/{run_id}", response={200: RunRead, **READ_ERRORS}, url_name="dna_get_run")
def get_run(request: HttpRequest, run_id: Id) -> RunRead:
    """One comparison run: poll it for progress (chunks and pairs done, rate, ETA)."""
    _may_see_runs(request)
    run = ComparisonRun.objects.select_related("started_by").filter(pk=run_id).first()
    if run is None:
        raise NotFound(_("No such run."))
    return _run_read(run)


@router.post("/runs", response={201: RunRead, **WRITE_ERRORS}, url_name="dna_start_run")
def start_run(request: HttpRequest, payload: RunCreate) -> Status[RunRead]:
    """Start a comparison run (supervisors): every family against every unidentified profile,
    in the background; or resume the last interrupted or failed one with the same parameters.
    409 while another run is running (one at a time)."""
    run = battle.start_run(
        acting_user=acting_user(request),
        threshold=payload.threshold,
        trigger="api",
        backend="api",
    )
    battle.launch(run.pk)
    return Status(201, _run_read(ComparisonRun.objects.select_related("started_by").get(pk=run.pk)))


__all__ = ["TypingKit", "router"]
