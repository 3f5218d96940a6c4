"""Web pages of the DNA registry: the laboratory's work list, samples, families, profiles,
imports.

Views stay thin: a form parses the request, a service decides (and audits), and the domain
exceptions become responses (``AccessDenied`` → 403, ``NotFound`` → 404, ``ValidationFailed`` →
errors next to the fields, with status 422).  Alleles are shown only on the profile page, only
to users allowed to read them there, and every such page view is audited as a genotype read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reunite.accounts.permissions import Action, can
from reunite.core.errors import DomainError, ValidationFailed
from reunite.core.web import acting_user, domain_view
from reunite.dna import imports, services
from reunite.dna.forms import (
    ConsentForm,
    CustodyForm,
    FamilyMemberForm,
    ImportForm,
    QcReviewForm,
    SampleFilterForm,
    SampleForm,
    WithdrawalForm,
    put_errors,
)
from reunite.dna.models import ImportBatch, Profile, QcStatus, Sample
from reunite.dna.reasons import ROW_STATUS_LABELS, describe
from reunite.kinship.loci import AMELOGENIN

PAGE_SIZE = 50
HTTP_UNPROCESSABLE = 422
MAX_ID = 2**63 - 1
NAV: dict[str, Any] = {"nav_section": "dna"}


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") is None


def _id(value: str | None) -> int | None:
    """A positive database id from a query parameter, or ``None``."""
    if value is None or not value.isdigit() or len(value) > 19:
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


# --------------------------------------------------------------------------- work list


@require_GET
@domain_view
def work_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    work = services.work_list(acting_user=user)
    context = {
        **NAV,
        "work": work,
        "may_import": can(user, Action.EDIT_DNA),
    }
    return render(request, "dna/work_list.html", context)


@require_GET
@domain_view
def sample_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = SampleFilterForm(request.GET)
    filters = form.to_filters() if form.is_valid() else services.SampleFilters()
    samples = services.search_samples(acting_user=user, filters=filters)
    page = Paginator(samples, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dna/sample_list.html", {**NAV, "form": form, "page": page})


# --------------------------------------------------------------------------- samples


def _donor_ids(request: HttpRequest) -> tuple[int | None, int | None]:
    params = request.POST if request.method == "POST" else request.GET
    return _id(params.get("found_person")), _id(params.get("family_member"))


@require_http_methods(["GET", "POST"])
@domain_view
def sample_create(request: HttpRequest) -> HttpResponse:
    """Register a sample for a person of unknown origin (``?found_person=ID``) or a family
    member (``?family_member=ID``)."""
    user = acting_user(request)
    found_id, member_id = _donor_ids(request)
    services.ensure_role(acting_user=user, action=Action.COLLECT_DNA)
    try:
        donor = services.get_donor(
            acting_user=user, found_person_id=found_id, family_member_id=member_id
        )
    except ValidationFailed as exc:
        return render(
            request,
            "dna/donor_error.html",
            {**NAV, "message": exc.message},
            status=HTTP_UNPROCESSABLE,
        )
    form = SampleForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                sample = services.register_sample(
                    acting_user=user,
                    data=form.to_data(
                        donor.role, found_person_id=found_id, family_member_id=member_id
                    ),
                )
            except ValidationFailed as exc:
                put_errors(form, exc.field_errors)
            else:
                messages.success(
                    request, _("Sample %(number)s registered.") % {"number": sample.number}
                )
                return redirect("dna:sample_detail", pk=sample.pk)
        status = HTTP_UNPROCESSABLE
    context = {
        **NAV,
        "form": form,
        "donor": donor,
        "scope": services.SCOPE_FOR_ROLE[donor.role].label,
        "found_id": found_id,
        "member_id": member_id,
    }
    return render(request, "dna/sample_form.html", context, status=status)


@dataclass
class _SampleForms:
    custody: CustodyForm | None = None
    consent: ConsentForm | None = None
    withdrawal: WithdrawalForm | None = None


def _sample_page(
    request: HttpRequest, sample: Sample, forms: _SampleForms | None = None, status: int = 200
) -> HttpResponse:
    user = acting_user(request)
    forms = forms or _SampleForms()
    kinds = services.custody_kinds_for(user, sample)
    may_collect = can(user, Action.COLLECT_DNA, sample.division)
    context = {
        **NAV,
        "sample": sample,
        "events": list(sample.custody.select_related("unit", "recorded_by").order_by("at", "pk")),
        "profiles": list(sample.profiles.select_related("lab").order_by("created_at", "pk")),
        "custody_form": forms.custody or (CustodyForm(kinds=kinds) if kinds else None),
        "consent_form": (
            forms.consent or ConsentForm()
            if may_collect and not sample.consent_recorded and not sample.consent_withdrawn
            else None
        ),
        "withdrawal_form": (
            forms.withdrawal or WithdrawalForm()
            if may_collect and not sample.consent_withdrawn
            else None
        ),
        "scope_label": services.SCOPE_FOR_ROLE[sample.role].label,
    }
    return render(request, "dna/sample_detail.html", context, status=status)


@require_GET
@domain_view
def sample_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sample = services.get_sample(acting_user=acting_user(request), sample_id=pk)
    return _sample_page(request, sample)


@require_POST
@domain_view
def custody_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a custody event; with htmx only the custody section is sent back."""
    user = acting_user(request)
    sample = services.get_sample(acting_user=user, sample_id=pk)
    form = CustodyForm(request.POST, kinds=list(services.CUSTODY_TRANSITIONS))
    if form.is_valid():
        try:
            event = services.add_custody_event(acting_user=user, sample_id=pk, data=form.to_data())
        except ValidationFailed as exc:
            put_errors(form, exc.field_errors)
        else:
            messages.success(
                request,
                _("Custody event recorded: %(event)s.") % {"event": event.get_kind_display()},
            )
            if _is_htmx(request):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = reverse("dna:sample_detail", args=[pk])
                return response
            return redirect("dna:sample_detail", pk=pk)
    # Shown again with the events the user may record now (validated against all of them, so
    # that the service, not the form, refuses one: with its reason, and audited).
    form.offer(services.custody_kinds_for(user, sample))
    # htmx swaps only successful responses: its request gets the errors with a 200.
    status = 200 if _is_htmx(request) else HTTP_UNPROCESSABLE
    return _sample_page(request, sample, _SampleForms(custody=form), status=status)


@require_POST
@domain_view
def consent_record(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    sample = services.get_sample(acting_user=user, sample_id=pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.record_consent(
                acting_user=user, sample_id=pk, consent=form.consent_data(sample.role)
            )
        except ValidationFailed as exc:
            put_errors(form, exc.field_errors)
        else:
            messages.success(request, _("Consent recorded."))
            return redirect("dna:sample_detail", pk=pk)
    return _sample_page(request, sample, _SampleForms(consent=form), status=HTTP_UNPROCESSABLE)


@require_POST
@domain_view
def consent_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    sample = services.get_sample(acting_user=user, sample_id=pk)
    form = WithdrawalForm(request.POST)
    if form.is_valid():
        try:
            services.withdraw_consent(
                acting_user=user, sample_id=pk, reason=form.cleaned_data["reason"]
            )
        except ValidationFailed as exc:
            put_errors(form, exc.field_errors)
        else:
            messages.success(
                request,
                _(
                    "Consent withdrawn: the donor's profiles are out of every search and their "
                    "genotypes erased. Destroy the sample and record it."
                ),
            )
            return redirect("dna:sample_detail", pk=pk)
    return _sample_page(request, sample, _SampleForms(withdrawal=form), status=HTTP_UNPROCESSABLE)


# --------------------------------------------------------------------------- families


@require_http_methods(["GET", "POST"])
@domain_view
def family_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    """A missing report's family pedigree; relatives are placed here before they give DNA."""
    user = acting_user(request)
    status = 200
    form = FamilyMemberForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                member = services.add_family_member(
                    acting_user=user, report_id=report_id, data=form.to_data()
                )
            except ValidationFailed as exc:
                put_errors(form, exc.field_errors)
            else:
                messages.success(
                    request,
                    _("%(relationship)s placed in the family as %(code)s.")
                    % {"relationship": member.get_relationship_display(), "code": member.code},
                )
                return redirect("dna:family_detail", report_id=report_id)
        status = HTTP_UNPROCESSABLE
    report, members = services.get_family(acting_user=user, report_id=report_id)
    code_of = {m.pk: m.code for m in members}
    samples: dict[int, list[Sample]] = {}
    for sample in Sample.objects.filter(family_member__report=report).order_by("pk"):
        assert sample.family_member_id is not None
        samples.setdefault(sample.family_member_id, []).append(sample)
    rows = [
        {
            "member": m,
            "mother": code_of.get(m.mother_id) if m.mother_id else "",
            "father": code_of.get(m.father_id) if m.father_id else "",
            "samples": samples.get(m.pk, []),
        }
        for m in members
    ]
    may_collect = can(user, Action.COLLECT_DNA, report.division)
    context = {
        **NAV,
        "report": report,
        "rows": rows,
        "form": form if may_collect else None,
        "may_collect": may_collect,
        "may_see_report": can(user, Action.VIEW_MISSING, report.division),
    }
    return render(request, "dna/family_detail.html", context, status=status)


# --------------------------------------------------------------------------- profiles


def _genotype_rows(genotypes: dict[str, list[str]], amelogenin: str) -> list[tuple[str, str, str]]:
    rows = [(locus, alleles[0], alleles[1]) for locus, alleles in genotypes.items()]
    if amelogenin:
        rows.append((AMELOGENIN, amelogenin[0], amelogenin[1]))
    return rows


def _profile_page(
    request: HttpRequest,
    profile: Profile,
    *,
    review_form: QcReviewForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = acting_user(request)
    genotypes: list[tuple[str, str, str]] | None = None
    if services.can_view_genotypes(user, profile):
        profile, canonical = services.get_profile_genotypes(acting_user=user, profile_id=profile.pk)
        genotypes = _genotype_rows(canonical.genotypes, canonical.amelogenin)
    may_review = (
        profile.qc_status == QcStatus.FLAGGED
        and profile.active
        and can(user, Action.EDIT_DNA, profile.sample.division)
    )
    context = {
        **NAV,
        "profile": profile,
        "sample": profile.sample,
        "genotypes": genotypes,
        "reasons": services.describe_reasons(profile.qc_reasons),
        "review_form": (review_form or QcReviewForm()) if may_review else None,
    }
    return render(request, "dna/profile_detail.html", context, status=status)


@require_GET
@domain_view
def profile_detail(request: HttpRequest, pk: int) -> HttpResponse:
    profile = services.get_profile(acting_user=acting_user(request), profile_id=pk)
    return _profile_page(request, profile)


@require_POST
@domain_view
def qc_review(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    form = QcReviewForm(request.POST)
    if form.is_valid():
        try:
            profile = services.review_qc(
                acting_user=user,
                profile_id=pk,
                decision=form.cleaned_data["decision"],
                note=form.cleaned_data["note"],
            )
        except ValidationFailed as exc:
            put_errors(form, exc.field_errors)
        else:
            messages.success(
                request,
                _("Profile %(profile)s: QC %(status)s.")
                % {"profile": profile.pseudonym, "status": profile.get_qc_status_display()},
            )
            return redirect("dna:profile_detail", pk=pk)
    profile = services.get_profile(acting_user=user, profile_id=pk)
    return _profile_page(request, profile, review_form=form, status=HTTP_UNPROCESSABLE)


# --------------------------------------------------------------------------- imports


@require_http_methods(["GET", "POST"])
@domain_view
def import_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    services.ensure_role(acting_user=user, action=Action.EDIT_DNA, object_type=services.IMPORT_TYPE)
    form = ImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                batch = imports.import_profiles(acting_user=user, data=form.to_data())
            except ValidationFailed as exc:
                put_errors(form, exc.field_errors)
            except DomainError as exc:
                form.add_error("file", exc.message)
                status = exc.status_code
            else:
                return redirect("dna:import_detail", pk=batch.pk)
        status = status if status != 200 else HTTP_UNPROCESSABLE
    return render(request, "dna/import_form.html", {**NAV, "form": form}, status=status)


def import_rows(batch: ImportBatch) -> list[dict[str, Any]]:
    """The per-row results as the page shows them (messages in the active language)."""
    return [
        {
            "line": row.get("line"),
            "sample": row.get("sample", ""),
            "locus": row.get("locus", ""),
            "status": row.get("status", ""),
            "status_label": ROW_STATUS_LABELS.get(row.get("status", ""), row.get("status", "")),
            "reason": describe(row.get("code", ""), row.get("params")),
        }
        for row in batch.rows
    ]


@require_GET
@domain_view
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    batch = imports.get_import(acting_user=user, batch_id=pk)
    show = request.GET.get("show", "")
    rows = import_rows(batch)
    if show in ROW_STATUS_LABELS:
        rows = [r for r in rows if r["status"] == show]
    context = {**NAV, "batch": batch, "rows": rows, "show": show, "statuses": ROW_STATUS_LABELS}
    return render(request, "dna/import_detail.html", context)
