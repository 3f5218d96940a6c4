"""Web pages of the people registry: lists, forms, detail pages, photos, the division picker.

Views stay thin: a form parses the request into a ``*Data`` or ``*Filters`` object, a service
decides, and the domain exceptions become responses (``AccessDenied`` → 403,
``NotFound`` → 404, ``ValidationFailed`` → errors next to the fields, ``ProbableDuplicate`` →
the form again with the candidates to choose from).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reunite.accounts.models import User
from reunite.accounts.permissions import Action, can
from reunite.core.errors import AccessDenied, ProbableDuplicate, ValidationFailed
from reunite.core.web import acting_user, domain_view, image_response
from reunite.people import services
from reunite.people.forms import (
    FoundFilterForm,
    FoundPersonForm,
    MissingFilterForm,
    MissingReportForm,
    RelativeFormSet,
    put_errors,
    relatives_from,
)
from reunite.people.models import FoundPerson, FoundStatus, MissingPersonReport, MissingStatus

PAGE_SIZE = 50
RELATIVES_PREFIX = "relatives"
HTTP_UNPROCESSABLE = 422


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") is None


# --------------------------------------------------------------------------- duplicates


@dataclass(frozen=True)
class CandidateRow:
    """What the duplicate warning shows of one candidate: no names, nothing identifying."""

    id: int
    label: str
    case_number: str
    sex: str
    born: str
    place: str
    date: dt.date | dt.datetime
    unit: str
    url: str | None


def _url_if_visible(
    user: User, action: Action, url_name: str, person: MissingPersonReport | FoundPerson
) -> str | None:
    """The candidate's page, if the user may see it (candidates may lie outside the area)."""
    return reverse(url_name, args=[person.pk]) if can(user, action, person.division) else None


def _missing_candidates(user: User, ids: Sequence[int]) -> list[CandidateRow]:
    rows = []
    for r in services.describe_missing_candidates(acting_user=user, candidate_ids=ids):
        case = getattr(r, "case", None)
        rows.append(
            CandidateRow(
                id=r.pk,
                label=str(r),
                case_number=case.number if case is not None else "",
                sex=r.get_sex_display(),
                born=_("born %(year)d") % {"year": r.birth_year} if r.birth_year else "",
                place=", ".join(p for p in (r.last_seen_division.name, r.last_seen_place) if p),
                date=r.last_seen_at,
                unit=r.owning_unit.name,
                url=_url_if_visible(user, Action.VIEW_MISSING, "people:missing_detail", r),
            )
        )
    return rows


def _found_candidates(user: User, ids: Sequence[int]) -> list[CandidateRow]:
    rows = []
    for p in services.describe_found_candidates(acting_user=user, candidate_ids=ids):
        rows.append(
            CandidateRow(
                id=p.pk,
                label=str(p),
                case_number="",
                sex=p.get_sex_display(),
                born=_("aged %(lo)d–%(hi)d") % {"lo": p.age_min, "hi": p.age_max},
                place=", ".join(x for x in (p.found_division.name, p.found_place) if x),
                date=p.found_on,
                unit=p.owning_unit.name,
                url=_url_if_visible(user, Action.VIEW_FOUND, "people:found_detail", p),
            )
        )
    return rows


def _jurisdiction_message(user: User) -> str:
    area = user.jurisdiction.name if user.jurisdiction is not None else "—"
    return _(
        "You may register and edit records only for places in your jurisdiction (%(area)s). "
        "Ask the responsible unit for that place, or a supervisor, to register it."
    ) % {"area": area}


# --------------------------------------------------------------------------- missing reports


def _age_now(birth_year: int | None) -> int | None:
    return timezone.localdate().year - birth_year if birth_year else None


def _page(request: HttpRequest, qs: Any) -> Page[Any]:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _search_page(
    request: HttpRequest,
    form: MissingFilterForm | FoundFilterForm,
    search: Callable[..., Any],
    action: Action,
    object_type: str,
) -> Page[Any] | None:
    """One page of what the filters find; with invalid filters no search (and no page)."""
    user = acting_user(request)
    if form.is_valid():
        return _page(request, search(acting_user=user, filters=form.to_filters()))
    services.ensure_role(acting_user=user, action=action, object_type=object_type)
    return None


def _render_list(request: HttpRequest, kind: str, context: dict[str, Any]) -> HttpResponse:
    """The list page, or only its results for a live search (htmx)."""
    template = f"people/_{kind}_results.html" if _is_htmx(request) else f"people/{kind}_list.html"
    return render(request, template, context)


@require_GET
@domain_view
def missing_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = MissingFilterForm(request.GET)
    page = _search_page(
        request, form, services.search_missing, Action.VIEW_MISSING, services.MISSING_TYPE
    )
    context = {
        "form": form,
        "page": page,
        "rows": [(r, _age_now(r.birth_year)) for r in page] if page else [],
        "nav_section": "missing",
        "can_create": can(user, Action.EDIT_MISSING),
    }
    return _render_list(request, "missing", context)


@dataclass(frozen=True)
class StatusForm:
    """The "Change status" form of a detail page: where it posts, what it offers, its errors."""

    action: str
    choices: list[tuple[str, str]]
    note_help: str
    status_errors: Sequence[str] = ()
    note_errors: Sequence[str] = ()
    selected: str = ""
    note: str = ""


def _status_form(
    url_name: str,
    pk: int,
    next_statuses: Sequence[str],
    labels: type[MissingStatus] | type[FoundStatus],
    error: ValidationFailed | None,
    posted: tuple[str, str],
    note_help: str,
) -> StatusForm:
    errors = error.field_errors if error is not None else {}
    return StatusForm(
        action=reverse(url_name, args=[pk]),
        choices=[(s, str(labels(s).label)) for s in next_statuses],
        note_help=note_help,
        status_errors=errors.get("status", []),
        note_errors=errors.get("note", []),
        selected=posted[0],
        note=posted[1],
    )


def _status_change_input(request: HttpRequest) -> tuple[str, str]:
    """The (status, note) the form posted."""
    return request.POST.get("status", ""), request.POST.get("note", "")


def _missing_detail(
    request: HttpRequest,
    report: MissingPersonReport,
    *,
    error: ValidationFailed | None = None,
    posted: tuple[str, str] = ("", ""),
) -> HttpResponse:
    user = acting_user(request)
    can_edit = can(user, Action.EDIT_MISSING, report.division)
    context = {
        "report": report,
        "case": getattr(report, "case", None),
        "photos": list(report.photos.all()),
        "relatives": list(report.relatives.all()),
        "linked": list(report.linked_reports.order_by("pk")),
        "division_full_name": report.last_seen_division.full_name,
        "age_now": _age_now(report.birth_year),
        "can_edit": can_edit,
        "status_form": (
            _status_form(
                "people:missing_status",
                report.pk,
                services.next_missing_statuses(report.status),
                MissingStatus,
                error,
                posted,
                _(
                    "Required when the report is reopened. It is kept on the case timeline, "
                    "which only the police see."
                ),
            )
            if can_edit
            else None
        ),
        "nav_section": "missing",
    }
    status = HTTP_UNPROCESSABLE if error is not None else 200
    return render(request, "people/missing_detail.html", context, status=status)


@require_GET
@domain_view
def missing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = services.get_missing_report(acting_user=acting_user(request), report_id=pk)
    return _missing_detail(request, report)


@require_POST
@domain_view
def missing_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a report's status; its case follows where it may."""
    user = acting_user(request)
    status, note = posted = _status_change_input(request)
    try:
        report = services.change_missing_status(
            acting_user=user, report_id=pk, status=status, note=note
        )
    except ValidationFailed as exc:
        report = services.get_missing_report(acting_user=user, report_id=pk)
        return _missing_detail(request, report, error=exc, posted=posted)
    case = getattr(report, "case", None)
    if case is not None:
        messages.success(
            request,
            _("The status is now “%(status)s”; case %(case)s is “%(case_status)s”.")
            % {
                "status": report.get_status_display(),
                "case": case.number,
                "case_status": case.get_status_display(),
            },
        )
    else:
        messages.success(
            request, _("The status is now “%(status)s”.") % {"status": report.get_status_display()}
        )
    return redirect("people:missing_detail", pk=pk)


def _render_missing_form(
    request: HttpRequest,
    form: MissingReportForm,
    formset: Any,
    *,
    report: MissingPersonReport | None = None,
    candidates: Sequence[CandidateRow] = (),
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "formset": formset,
        "report": report,
        "candidates": candidates,
        "files_dropped": bool(request.FILES.getlist("photos")),
        "nav_section": "missing",
    }
    return render(request, "people/missing_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@domain_view
def missing_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    services.ensure_role(acting_user=user, action=Action.EDIT_MISSING, object_type="missing_report")
    if request.method != "POST":
        return _render_missing_form(
            request, MissingReportForm(), RelativeFormSet(prefix=RELATIVES_PREFIX)
        )
    form = MissingReportForm(request.POST, request.FILES)
    formset = RelativeFormSet(request.POST, prefix=RELATIVES_PREFIX)
    if not (form.is_valid() & formset.is_valid()):  # both validated: all errors at once
        return _render_missing_form(request, form, formset)
    relatives, rows = relatives_from(formset)
    data = form.to_data(relatives)
    if form.both_duplicate_answers():
        candidates = _missing_candidates(user, services.find_duplicate_reports(data))
        return _render_missing_form(request, form, formset, candidates=candidates)
    try:
        report = services.create_missing_report(
            acting_user=user,
            data=data,
            photos=form.cleaned_data["photos"],
            confirm_not_duplicate=form.cleaned_data["confirm_not_duplicate"],
            link_to=form.cleaned_data["link_to"],
        )
    except ProbableDuplicate as exc:
        return _render_missing_form(
            request, form, formset, candidates=_missing_candidates(user, exc.candidates)
        )
    except ValidationFailed as exc:
        put_errors(form, exc.field_errors, formset=formset, relative_rows=rows)
        candidates = []
        if "link_to" in exc.field_errors:
            candidates = _missing_candidates(user, services.find_duplicate_reports(data))
        return _render_missing_form(request, form, formset, candidates=candidates)
    except AccessDenied:
        form.add_error("last_seen_division", _jurisdiction_message(user))
        return _render_missing_form(request, form, formset, status=403)
    case = getattr(report, "case", None)
    messages.success(
        request,
        _("Report %(report)s saved; case %(case)s opened.")
        % {"report": report, "case": case.number if case is not None else "—"},
    )
    return redirect("people:missing_detail", pk=report.pk)


@require_http_methods(["GET", "POST"])
@domain_view
def missing_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    report = services.get_missing_report_for_edit(acting_user=user, report_id=pk)
    if request.method != "POST":
        initial_relatives = [
            {"name": r.name, "relationship": r.relationship, "contact": r.contact}
            for r in report.relatives.order_by("pk")
        ]
        return _render_missing_form(
            request,
            MissingReportForm(initial=MissingReportForm.initial_from(report)),
            RelativeFormSet(initial=initial_relatives, prefix=RELATIVES_PREFIX),
            report=report,
        )
    form = MissingReportForm(request.POST, request.FILES)
    formset = RelativeFormSet(request.POST, prefix=RELATIVES_PREFIX)
    if not (form.is_valid() & formset.is_valid()):
        return _render_missing_form(request, form, formset, report=report)
    relatives, rows = relatives_from(formset)
    try:
        services.update_missing_report(
            acting_user=user,
            report_id=pk,
            data=form.to_data(relatives),
            photos=form.cleaned_data["photos"],
        )
    except ValidationFailed as exc:
        put_errors(form, exc.field_errors, formset=formset, relative_rows=rows)
        return _render_missing_form(request, form, formset, report=report)
    except AccessDenied:
        form.add_error("last_seen_division", _jurisdiction_message(user))
        return _render_missing_form(request, form, formset, report=report, status=403)
    messages.success(request, _("Report %(report)s saved.") % {"report": report})
    return redirect("people:missing_detail", pk=pk)


# --------------------------------------------------------------------------- found persons


@require_GET
@domain_view
def found_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = FoundFilterForm(request.GET)
    page = _search_page(
        request, form, services.search_found, Action.VIEW_FOUND, services.FOUND_TYPE
    )
    context = {
        "form": form,
        "page": page,
        "nav_section": "found",
        "can_create": can(user, Action.EDIT_FOUND),
    }
    return _render_list(request, "found", context)


def _found_detail(
    request: HttpRequest,
    person: FoundPerson,
    *,
    error: ValidationFailed | None = None,
    posted: tuple[str, str] = ("", ""),
) -> HttpResponse:
    user = acting_user(request)
    can_edit = can(user, Action.EDIT_FOUND, person.division)
    context = {
        "person": person,
        "photos": list(person.photos.all()),
        "linked": list(person.linked_records.order_by("pk")),
        "division_full_name": person.found_division.full_name,
        "can_edit": can_edit,
        "status_form": (
            _status_form(
                "people:found_status",
                person.pk,
                services.next_found_statuses(person.status),
                FoundStatus,
                error,
                posted,
                _(
                    "Required when an identification is taken back. Only the fact that a note "
                    "was given is kept."
                ),
            )
            if can_edit
            else None
        ),
        "nav_section": "found",
    }
    status = HTTP_UNPROCESSABLE if error is not None else 200
    return render(request, "people/found_detail.html", context, status=status)


@require_GET
@domain_view
def found_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = services.get_found_person(acting_user=acting_user(request), person_id=pk)
    return _found_detail(request, person)


@require_POST
@domain_view
def found_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the status of a person of unknown origin."""
    user = acting_user(request)
    status, note = posted = _status_change_input(request)
    try:
        person = services.change_found_status(
            acting_user=user, person_id=pk, status=status, note=note
        )
    except ValidationFailed as exc:
        person = services.get_found_person(acting_user=user, person_id=pk)
        return _found_detail(request, person, error=exc, posted=posted)
    messages.success(
        request, _("The status is now “%(status)s”.") % {"status": person.get_status_display()}
    )
    return redirect("people:found_detail", pk=pk)


def _render_found_form(
    request: HttpRequest,
    form: FoundPersonForm,
    *,
    person: FoundPerson | None = None,
    candidates: Sequence[CandidateRow] = (),
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "person": person,
        "candidates": candidates,
        "files_dropped": bool(request.FILES.getlist("photos")),
        "nav_section": "found",
    }
    return render(request, "people/found_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@domain_view
def found_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    services.ensure_role(acting_user=user, action=Action.EDIT_FOUND, object_type="found_person")
    if request.method != "POST":
        return _render_found_form(request, FoundPersonForm(user=user))
    form = FoundPersonForm(request.POST, request.FILES, user=user)
    if not form.is_valid():
        return _render_found_form(request, form)
    data = form.to_data()
    if form.both_duplicate_answers():
        candidates = _found_candidates(user, services.find_duplicate_found(data))
        return _render_found_form(request, form, candidates=candidates)
    try:
        person = services.create_found_person(
            acting_user=user,
            data=data,
            photos=form.cleaned_data["photos"],
            confirm_not_duplicate=form.cleaned_data["confirm_not_duplicate"],
            link_to=form.cleaned_data["link_to"],
        )
    except ProbableDuplicate as exc:
        return _render_found_form(request, form, candidates=_found_candidates(user, exc.candidates))
    except ValidationFailed as exc:
        put_errors(form, exc.field_errors)
        candidates = []
        if "link_to" in exc.field_errors:
            candidates = _found_candidates(user, services.find_duplicate_found(data))
        return _render_found_form(request, form, candidates=candidates)
    except AccessDenied:
        form.add_error("found_division", _jurisdiction_message(user))
        return _render_found_form(request, form, status=403)
    messages.success(request, _("Record %(record)s saved.") % {"record": person})
    return redirect("people:found_detail", pk=person.pk)


@require_http_methods(["GET", "POST"])
@domain_view
def found_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    person = services.get_found_person_for_edit(acting_user=user, person_id=pk)
    if request.method != "POST":
        form = FoundPersonForm(initial=FoundPersonForm.initial_from(person), user=user)
        return _render_found_form(request, form, person=person)
    form = FoundPersonForm(request.POST, request.FILES, user=user)
    if not form.is_valid():
        return _render_found_form(request, form, person=person)
    try:
        services.update_found_person(
            acting_user=user,
            person_id=pk,
            data=form.to_data(),
            photos=form.cleaned_data["photos"],
        )
    except ValidationFailed as exc:
        put_errors(form, exc.field_errors)
        return _render_found_form(request, form, person=person)
    except AccessDenied:
        form.add_error("found_division", _jurisdiction_message(user))
        return _render_found_form(request, form, person=person, status=403)
    messages.success(request, _("Record %(record)s saved.") % {"record": person})
    return redirect("people:found_detail", pk=pk)


# --------------------------------------------------------------------------- photos, divisions


@require_GET
@domain_view
def photo(request: HttpRequest, uuid: UUID) -> HttpResponse:
    """The image bytes of one photo, for a user allowed to see its person (audited)."""
    item = services.get_photo(acting_user=acting_user(request), photo_uuid=str(uuid))
    return image_response(item, cache_control="private, no-store")


@require_GET
@login_required
def division_search(request: HttpRequest) -> HttpResponse:
    """Divisions matching ``q`` (or the parameter named by ``field``, as htmx sends it).

    An htmx request gets ``<option>`` elements for the input's ``<datalist>``; anything else gets
    JSON: ``{"results": [{"code", "name", "name_latin", "level", "full_name"}, ...]}``.
    """
    field = request.GET.get("field", "q")
    query = request.GET.get("q") or request.GET.get(field, "")
    hits = services.search_divisions(query=query)
    if request.headers.get("HX-Request") == "true":
        return render(request, "people/_division_options.html", {"hits": hits})
    return JsonResponse({"results": [asdict(h) for h in hits]})
