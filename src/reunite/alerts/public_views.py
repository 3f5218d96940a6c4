"""The public side of alerts (no sign-in): the alert page with its map and sighting form, the
list of active alerts, each alert's CAP document and its published photo.

Only ``alerts.public.public_facts`` reaches these pages, so only fields marked for publication
are ever shown; a closed alert shows its outcome and nothing about the person.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from reunite.alerts import cap, services, sightings
from reunite.alerts.forms import SightingForm
from reunite.alerts.maps import alert_map
from reunite.alerts.models import Alert, AlertStatus
from reunite.alerts.public import compose_text, headline, place_phrase
from reunite.core.errors import NotFound, ValidationFailed
from reunite.core.web import image_response
from reunite.people.forms import put_errors

MAX_ID = 2**63 - 1
HTTP_UNPROCESSABLE = 422
HTTP_TOO_MANY = 429


def _public(pk: int) -> Alert:
    if pk > MAX_ID:
        raise Http404(_("No such alert."))
    try:
        return services.public_alert(alert_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@require_GET
def public_list(request: HttpRequest) -> HttpResponse:
    alerts = list(services.active_alerts()[:100])
    return render(
        request,
        "alerts/public_list.html",
        {"items": [(a, services.facts_of(a)) for a in alerts]},
    )


def _render(
    request: HttpRequest,
    alert: Alert,
    form: SightingForm,
    *,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    sent = services.messages_of(alert)
    url = services.public_url(alert)
    facts = services.facts_of(alert)
    context = {
        "alert": alert,
        "facts": facts,
        "headline": headline(facts),
        "closed_text": compose_text(facts),
        "place": place_phrase(facts),
        "map": alert_map(alert, sent) if alert.status == AlertStatus.ACTIVE else None,
        "form": form,
        "refusal": refusal,
        "share_url": url,
        "share_text": services.share_text(alert),
        "cap_url": services.cap_url(alert),
    }
    return render(request, "alerts/public_detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
def public_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The alert page; POST sends a sighting (anonymous allowed, rate limited per address)."""
    alert = _public(pk)
    if request.method != "POST":
        return _render(request, alert, SightingForm())
    form = SightingForm(request.POST, request.FILES)
    if alert.status != AlertStatus.ACTIVE:
        return _render(
            request,
            alert,
            form,
            refusal=_("This alert is closed. If you still have information, call 110."),
            status=HTTP_UNPROCESSABLE,
        )
    if not form.is_valid():
        return _render(request, alert, form, status=HTTP_UNPROCESSABLE)
    try:
        sighting = sightings.report_sighting(
            alert_id=alert.pk,
            data=form.to_data(),
            source_ip=request.META.get("REMOTE_ADDR") or "unknown",
        )
    except sightings.SightingRateLimited as exc:
        response = _render(request, alert, form, refusal=exc.message, status=HTTP_TOO_MANY)
        response["Retry-After"] = str(exc.retry_after_s)
        return response
    except ValidationFailed as exc:
        put_errors(form, exc.field_errors or {"__all__": [exc.message]})
        return _render(request, alert, form, status=HTTP_UNPROCESSABLE)
    messages.success(
        request,
        _(
            "Thank you. Your sighting was sent to the police (reference %(ref)s). If the person "
            "is in danger now, call 110."
        )
        % {"ref": sighting},
    )
    return redirect("alerts:public", pk=alert.pk)


@require_GET
def cap_document(request: HttpRequest, pk: int) -> HttpResponse:
    """The CAP 1.2 document that stands for the alert now (its withdrawal once it is closed)."""
    alert = _public(pk)
    message = services.current_message(alert)
    response = HttpResponse(message.cap_xml.encode("utf-8"), content_type=cap.CONTENT_TYPE)
    response["Cache-Control"] = "no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def photo(request: HttpRequest, pk: int) -> HttpResponse:
    """The published photo while the alert is active; 404 as soon as it closes."""
    if pk > MAX_ID:
        raise Http404(_("No such photo."))
    try:
        item = services.public_photo(alert_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    # Revalidate every time: a withdrawn photo must not linger in caches.
    return image_response(item, cache_control="no-cache")
