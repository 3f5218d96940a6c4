"""Alert pages for the police: the list, drafting from a missing report, one alert with its
criteria, rings, delivery statistics and sightings, and the release/approve/cancel actions.

Thin: a form parses, ``alerts.services`` decides and audits, domain errors become responses
(``AccessDenied`` → 403, ``NotFound`` → 404, ``ValidationFailed`` → the page again with the
errors, status 422).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reunite.accounts.models import User
from reunite.accounts.permissions import Action, can
from reunite.alerts import services, sightings
from reunite.alerts.forms import AlertDraftForm, CancelForm
from reunite.alerts.maps import alert_map
from reunite.alerts.models import Alert, AlertScope, AlertStatus, SightingStatus
from reunite.core.errors import ValidationFailed
from reunite.core.web import acting_user, domain_view
from reunite.people.forms import put_errors

PAGE_SIZE = 50
MAX_ID = 2**63 - 1
HTTP_UNPROCESSABLE = 422


def _check_id(pk: int) -> None:
    if pk > MAX_ID:
        raise Http404(_("No such alert."))


@require_GET
@domain_view
def manage_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in AlertStatus.values else ""
    alerts = services.list_alerts(acting_user=acting_user(request), status=status)
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/manage_list.html",
        {
            "nav_section": "alerts",
            "page": page,
            "status": status,
            "status_choices": AlertStatus.choices,
        },
    )


def _render_form(
    request: HttpRequest,
    form: AlertDraftForm,
    *,
    report: Any,
    alert: Alert | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "alerts/draft_form.html",
        {"nav_section": "alerts", "form": form, "report": report, "alert": alert},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@domain_view
def draft(request: HttpRequest, report_id: int) -> HttpResponse:
    """Draft an alert about a missing report (one open alert per report)."""
    user = acting_user(request)
    if report_id > MAX_ID:
        raise Http404(_("No such missing person report."))
    report = services.ensure_may_draft(acting_user=user, report_id=report_id)
    existing = services.open_alert_of(report)
    if existing is not None:
        messages.info(request, _("This report already has an open alert."))
        return redirect("alerts:manage_detail", pk=existing.pk)
    if request.method != "POST":
        form = AlertDraftForm(initial=AlertDraftForm.initial_for(report), report=report)
        return _render_form(request, form, report=report)
    form = AlertDraftForm(request.POST, report=report)
    if not form.is_valid():
        return _render_form(request, form, report=report, status=HTTP_UNPROCESSABLE)
    try:
        alert = services.draft_alert(acting_user=user, report_id=report.pk, data=form.to_data())
    except ValidationFailed as exc:
        put_errors(form, exc.field_errors or {"__all__": [exc.message]})
        return _render_form(request, form, report=report, status=HTTP_UNPROCESSABLE)
    messages.success(
        request,
        _("Alert %(alert)s drafted. Check the criteria, then release it.") % {"alert": alert},
    )
    return redirect("alerts:manage_detail", pk=alert.pk)


@require_http_methods(["GET", "POST"])
@domain_view
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    _check_id(pk)
    alert = services.get_alert_for_edit(acting_user=user, alert_id=pk)
    if alert.status != AlertStatus.DRAFT:
        messages.error(request, _("Only a draft can be changed."))
        return redirect("alerts:manage_detail", pk=pk)
    if request.method != "POST":
        form = AlertDraftForm(initial=AlertDraftForm.initial_from(alert), report=alert.report)
        return _render_form(request, form, report=alert.report, alert=alert)
    form = AlertDraftForm(request.POST, report=alert.report)
    if not form.is_valid():
        return _render_form(
            request, form, report=alert.report, alert=alert, status=HTTP_UNPROCESSABLE
        )
    try:
        services.update_draft(acting_user=user, alert_id=pk, data=form.to_data())
    except ValidationFailed as exc:
        put_errors(form, exc.field_errors or {"__all__": [exc.message]})
        return _render_form(
            request, form, report=alert.report, alert=alert, status=HTTP_UNPROCESSABLE
        )
    messages.success(request, _("The draft was saved."))
    return redirect("alerts:manage_detail", pk=pk)


def _permissions(user: User, alert: Alert) -> dict[str, bool]:
    draft = alert.status == AlertStatus.DRAFT
    national_pending = (
        alert.scope == AlertScope.NATIONAL and alert.national_approved_at is None and alert.is_open
    )
    return {
        "may_edit": draft and can(user, Action.DRAFT_ALERT, alert.division),
        # Four eyes: whoever gave one approval is not offered the other.
        "may_release": draft
        and alert.national_approved_by_id != user.pk
        and services.is_duty_officer(user, Action.RELEASE_ALERT, alert.division),
        "may_approve": national_pending
        and alert.released_by_id != user.pk
        and services.is_duty_officer(user, Action.APPROVE_NATIONAL_ALERT, alert.division),
        "may_cancel": alert.is_open
        and (
            can(user, Action.DRAFT_ALERT, alert.division)
            if draft
            else services.is_duty_officer(user, Action.RELEASE_ALERT, alert.division)
        ),
        "may_triage": can(user, Action.DRAFT_ALERT, alert.division),
    }


def _detail(
    request: HttpRequest,
    alert: Alert,
    *,
    errors: list[str] | None = None,
    cancel_form: CancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = acting_user(request)
    sent = services.messages_of(alert)
    reported = sightings.list_sightings(acting_user=user, alert_id=alert.pk)
    stats = services.delivery_statistics(alert) if sent else {}
    context = {
        "nav_section": "alerts",
        "alert": alert,
        "report": alert.report,
        "criteria": services.criteria_of(alert),
        "facts": services.facts_of(alert),
        "texts": services.public_texts(alert),
        "sent": sent,
        "stats": stats,
        "stats_rows": services.stats_rows(sent, stats),
        "sightings": reported,
        "sighting_statuses": SightingStatus.choices,
        "map": alert_map(alert, sent, reported),
        "errors": errors or [],
        "cancel_form": cancel_form or CancelForm(),
        "public_url": services.public_url(alert),
        **_permissions(user, alert),
    }
    return render(request, "alerts/manage_detail.html", context, status=status)


@require_GET
@domain_view
def manage_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _check_id(pk)
    alert = services.get_alert(acting_user=acting_user(request), alert_id=pk)
    return _detail(request, alert)


def _errors_of(exc: ValidationFailed) -> list[str]:
    found = [m for ms in exc.field_errors.values() for m in ms]
    return found or [exc.message]


@require_POST
@domain_view
def release(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    _check_id(pk)
    try:
        alert = services.release_alert(acting_user=user, alert_id=pk)
    except ValidationFailed as exc:
        alert = services.get_alert(acting_user=user, alert_id=pk)
        return _detail(request, alert, errors=_errors_of(exc), status=HTTP_UNPROCESSABLE)
    messages.success(request, _("Alert %(alert)s is out.") % {"alert": alert})
    return redirect("alerts:manage_detail", pk=pk)


@require_POST
@domain_view
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    _check_id(pk)
    try:
        services.approve_national(acting_user=user, alert_id=pk)
    except ValidationFailed as exc:
        alert = services.get_alert(acting_user=user, alert_id=pk)
        return _detail(request, alert, errors=_errors_of(exc), status=HTTP_UNPROCESSABLE)
    messages.success(request, _("National scope approved."))
    return redirect("alerts:manage_detail", pk=pk)


@require_POST
@domain_view
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    _check_id(pk)
    form = CancelForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed(_("Please correct the errors below."), field_errors={})
        services.cancel_alert(acting_user=user, alert_id=pk, note=form.cleaned_data["note"])
    except ValidationFailed as exc:
        put_errors(form, exc.field_errors)
        alert = services.get_alert(acting_user=user, alert_id=pk)
        errors = [str(e) for errs in form.errors.values() for e in errs] or _errors_of(exc)
        return _detail(request, alert, errors=errors, cancel_form=form, status=HTTP_UNPROCESSABLE)
    messages.success(request, _("The alert was cancelled."))
    return redirect("alerts:manage_detail", pk=pk)


@require_GET
@domain_view
def sighting_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """The photo of a sighting, for the police only (audited)."""
    if pk > MAX_ID:
        raise Http404(_("No such sighting."))
    sighting = sightings.get_sighting_photo(acting_user=acting_user(request), sighting_id=pk)
    try:
        with sighting.photo.open("rb") as handle:
            content = handle.read()
    except FileNotFoundError as exc:
        raise Http404(_("The photo file is missing.")) from exc
    response = HttpResponse(content, content_type=sighting.photo_content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@domain_view
def sighting_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Triage a sighting (credible, dismissed, new)."""
    if pk > MAX_ID:
        raise Http404(_("No such sighting."))
    user = acting_user(request)
    found = sightings.sighting_for_triage(acting_user=user, sighting_id=pk)
    try:
        sighting = sightings.set_sighting_status(
            acting_user=user, sighting_id=pk, status=request.POST.get("status", "")
        )
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return redirect("alerts:manage_detail", pk=found.alert_id)
    messages.success(
        request,
        _("Sighting %(sighting)s is now “%(status)s”.")
        % {"sighting": sighting, "status": sighting.get_status_display()},
    )
    return redirect("alerts:manage_detail", pk=sighting.alert_id)
