"""Web pages of DNA matching: the candidate queue, the review screen, the match report (HTML and
PDF) and the battle page with its live progress (htmx polls :func:`battle_progress`).

Thin: a form parses, ``dna.review`` / ``dna.battle`` / ``dna.report`` decide and audit, domain
errors become responses (403, 404, 409, 422).  No page here shows a reference genotype except the
match report.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reunite.accounts.permissions import Action, can
from reunite.core.errors import AccessDenied, DomainError, ValidationFailed
from reunite.core.web import acting_user, domain_view
from reunite.dna import battle, matching, report, review
from reunite.dna.match_forms import BattleForm, CandidateFilterForm, ReviewForm
from reunite.dna.models import (
    Candidate,
    ComparisonRun,
    HypothesisKind,
)
from reunite.dna.views import HTTP_UNPROCESSABLE, PAGE_SIZE, _id, _is_htmx
from reunite.people.forms import put_errors

NAV: dict[str, Any] = {"nav_section": "dna_matches"}
# Hypotheses where one relative carries the search: false candidates are to be expected.
WEAK_KINDS = (HypothesisKind.PARENT, HypothesisKind.SIBLINGS)


# --------------------------------------------------------------------------- the queue


@require_GET
@domain_view
def candidate_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = CandidateFilterForm(request.GET)
    status = 200
    if form.is_valid():
        filters, open_only = form.to_filters()
    else:
        filters, open_only = review.CandidateFilters(), True
        status = HTTP_UNPROCESSABLE
    try:
        qs = review.candidate_queue(acting_user=user, filters=filters)
    except ValidationFailed as exc:
        put_errors(form, exc.field_errors)
        qs = review.candidate_queue(acting_user=user, filters=review.CandidateFilters())
        status = HTTP_UNPROCESSABLE
    if open_only:
        qs = qs.filter(status__in=review.OPEN_STATUSES)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **NAV,
        "form": form,
        "page": page,
        "may_run": can(user, Action.RUN_COMPARISON),
        "weak_kinds": WEAK_KINDS,
    }
    return render(request, "dna/match_list.html", context, status=status)


# --------------------------------------------------------------------------- review screen


def _detail_page(
    request: HttpRequest,
    candidate: Candidate,
    form: ReviewForm | None = None,
    status: int = 200,
) -> HttpResponse:
    view = review.candidate_view(acting_user=acting_user(request), candidate=candidate)
    references = {r.code: str(r.pseudonym or "?") for r in view.references}
    drawing = report.draw_pedigree(
        candidate.pedigree,
        references,
        "MP",
        candidate.profile.pseudonym,
        {r.code: r.relationship for r in view.references},
    )
    context = {
        **NAV,
        "candidate": candidate,
        "references": view.references,
        "drawing": drawing,
        "reviews": view.reviews,
        "form": (form or ReviewForm()) if view.may_review else None,
        "already_reviewed": view.already_reviewed,
        "may_report": view.may_report,
        "weak": candidate.hypothesis_kind in WEAK_KINDS,
        "found_person_id": candidate.profile.sample.found_person_id,
    }
    return render(request, "dna/match_detail.html", context, status=status)


@require_GET
@domain_view
def candidate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = review.get_candidate(acting_user=acting_user(request), candidate_id=pk)
    return _detail_page(request, candidate)


@require_POST
@domain_view
def candidate_review(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    form = ReviewForm(request.POST)
    status = HTTP_UNPROCESSABLE
    if form.is_valid():
        try:
            outcome = review.review_candidate(
                acting_user=user,
                candidate_id=pk,
                decision=form.cleaned_data["decision"],
                note=form.cleaned_data["note"],
            )
        except ValidationFailed as exc:
            put_errors(form, exc.field_errors)
            if not exc.field_errors:
                form.add_error(None, exc.message)
        except (review.SameAnalyst, review.CandidateClosed) as exc:
            form.add_error(None, exc.message)
            status = exc.status_code
        else:
            if outcome.confirmed:
                messages.success(
                    request,
                    _(
                        "Identification confirmed by two analysts. The reunion step is open on "
                        "the case and its investigators are notified."
                    ),
                )
            else:
                messages.success(
                    request,
                    _("Your decision is recorded: %(status)s.")
                    % {"status": outcome.candidate.get_status_display()},
                )
            return redirect("dna:candidate_detail", pk=pk)
    candidate = review.get_candidate(acting_user=user, candidate_id=pk)
    return _detail_page(request, candidate, form, status=status)


# --------------------------------------------------------------------------- report


@require_GET
@domain_view
def candidate_report(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        data = report.build_report(acting_user=acting_user(request), candidate_id=pk, fmt="html")
    except report.NotConfirmed as exc:
        return render(request, "dna/match_error.html", {**NAV, "message": exc.message}, status=409)
    return render(request, "dna/match_report.html", {**NAV, "report": data})


@require_GET
@domain_view
def candidate_report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        data = report.build_report(acting_user=acting_user(request), candidate_id=pk, fmt="pdf")
    except report.NotConfirmed as exc:
        return render(request, "dna/match_error.html", {**NAV, "message": exc.message}, status=409)
    response = HttpResponse(report.render_pdf(data), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="dna-match-report-C-{pk}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- battle


def _ensure_view(request: HttpRequest) -> None:
    user = acting_user(request)
    if not can(user, Action.VIEW_MATCHES):
        review.deny(user, Action.VIEW_MATCHES, "battle")  # audited
        raise AccessDenied(_("You may not see comparison runs."))


def _battle_context(request: HttpRequest, form: BattleForm | None = None) -> dict[str, Any]:
    user = acting_user(request)
    threshold = None
    if form is not None and form.is_bound and form.is_valid():
        threshold = form.cleaned_data["threshold"]
    outlook = battle.outlook(threshold)
    current = battle.running_run()
    return {
        **NAV,
        "outlook": outlook,
        "threshold": outlook.threshold,
        "expected_false": outlook.expected_false,
        "form": form or BattleForm(initial={"threshold": outlook.threshold}),
        "may_run": can(user, Action.RUN_COMPARISON),
        "runs": battle.recent_runs(),
        "current": current,
        "progress": battle.progress_of(current) if current else None,
        "backlog": matching.search_backlog(),
    }


@require_GET
@domain_view
def battle_page(request: HttpRequest) -> HttpResponse:
    _ensure_view(request)
    return render(request, "dna/battle.html", _battle_context(request))


@require_POST
@domain_view
def battle_start(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = BattleForm(request.POST)
    status = HTTP_UNPROCESSABLE
    if not can(user, Action.RUN_COMPARISON):
        battle.start_run(acting_user=user)  # refuses and audits
    if form.is_valid():
        try:
            run = battle.start_run(
                acting_user=user,
                threshold=form.cleaned_data["threshold"],
                trigger="web",
                backend="web",
            )
        except ValidationFailed as exc:
            put_errors(form, exc.field_errors)
        except DomainError as exc:  # another run is running
            form.add_error(None, exc.message)
            status = exc.status_code
        else:
            battle.launch(run.pk)
            messages.success(request, _("Comparison run %(id)s started.") % {"id": run.pk})
            return redirect("dna:battle")
    return render(request, "dna/battle.html", _battle_context(request, form), status=status)


@require_POST
@domain_view
def searches_retry(request: HttpRequest) -> HttpResponse:
    """Queue the failed incremental searches again (supervisors)."""
    retried = matching.retry_failed(acting_user=acting_user(request))
    messages.success(
        request,
        ngettext(
            "%(n)d failed search queued again.", "%(n)d failed searches queued again.", retried
        )
        % {"n": retried},
    )
    return redirect("dna:battle")


@require_http_methods(["GET"])
@domain_view
def battle_progress(request: HttpRequest) -> HttpResponse:
    """The progress fragment htmx swaps in every few seconds (``?run=ID``: that run)."""
    _ensure_view(request)
    run_id = _id(request.GET.get("run"))
    if "run" in request.GET and run_id is None:
        return HttpResponse(_("Not a valid run id."), status=400, content_type="text/plain")
    run = (
        ComparisonRun.objects.filter(pk=run_id).first()
        if run_id is not None
        else battle.running_run() or ComparisonRun.objects.order_by("-started_at", "-pk").first()
    )
    if run_id is not None and run is None:
        return HttpResponse(_("No such run."), status=404, content_type="text/plain")
    context = {"run": run, "progress": battle.progress_of(run) if run else None}
    response = render(request, "dna/_battle_progress.html", context)
    if run is not None and run.status != "running" and _is_htmx(request):
        response["HX-Trigger"] = "battle-stopped"
    return response
