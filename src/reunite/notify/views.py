"""Web pages: the public sign-up (double opt-in), confirmation and opt-out pages, and the
administrators' pages for partners and media and for dead letters.

The public pages need no account: the confirmation and opt-out links carry signed tokens.
Opting out is a POST (mail scanners fetch links; a GET only asks), and accepts RFC 8058
one-click ``List-Unsubscribe-Post`` requests, which carry no CSRF token.
"""

from __future__ import annotations

from dataclasses import asdict

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from reunite.core.errors import DomainError, NotFound, ValidationFailed
from reunite.core.web import acting_user, domain_view
from reunite.notify import services
from reunite.notify.forms import PartnerForm, SubscribeForm, put_errors
from reunite.notify.models import DeliveryStatus
from reunite.people.services import search_divisions

SIGNUPS_PER_HOUR = 10
HTTP_UNPROCESSABLE = 422
HTTP_TOO_MANY = 429


def _signups_exceeded(request: HttpRequest) -> bool:
    """At most ``SIGNUPS_PER_HOUR`` sign-ups per address and hour (mail-bombing guard)."""
    key = f"reunite:notify:signup:{request.META.get('REMOTE_ADDR', 'unknown')}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > SIGNUPS_PER_HOUR


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    form = SubscribeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if _signups_exceeded(request):
            form.is_valid()
            form.add_error(None, _("Too many sign-ups from your address. Try again in an hour."))
            return render(request, "notify/subscribe.html", {"form": form}, status=HTTP_TOO_MANY)
        if form.is_valid():
            try:
                services.subscribe(form.to_data(get_language() or "zh-hans"))
            except ValidationFailed as exc:
                put_errors(form, exc.field_errors)
                if not exc.field_errors:
                    form.add_error(None, exc.message)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("notify:subscribe_sent")
        status = HTTP_UNPROCESSABLE
    return render(request, "notify/subscribe.html", {"form": form}, status=status)


@require_GET
def subscribe_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "notify/subscribe_sent.html")


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks, POST confirms (link scanners must not subscribe anyone)."""
    if request.method == "GET":
        return render(request, "notify/confirm.html", {"token": token})
    try:
        services.confirm(token)
    except ValidationFailed as exc:
        return render(
            request, "notify/confirm.html", {"token": token, "error": exc.message}, status=400
        )
    return render(request, "notify/confirm.html", {"confirmed": True})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def optout(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = services.subscriber_for_optout(token)
    except NotFound as exc:
        return render(request, "notify/optout.html", {"error": exc.message}, status=404)
    if request.method == "GET":
        return render(request, "notify/optout.html", {"token": token, "subscriber": subscriber})
    services.opt_out(token)
    return render(request, "notify/optout.html", {"done": True})


@require_GET
def division_search(request: HttpRequest) -> HttpResponse:
    """The public division picker (the tree is public reference data)."""
    field = request.GET.get("field", "q")
    hits = search_divisions(query=(request.GET.get("q") or request.GET.get(field, ""))[:50])
    if request.headers.get("HX-Request") == "true":
        return render(request, "people/_division_options.html", {"hits": hits})
    return JsonResponse({"results": [asdict(h) for h in hits]})


# --------------------------------------------------------------------------- administrators


@domain_view
@require_GET
def partner_list(request: HttpRequest) -> HttpResponse:
    rows = services.partners_for(acting_user(request))
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "notify/partner_list.html", {"page": page, "nav_section": "notify"})


@domain_view
@require_http_methods(["GET", "POST"])
def partner_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    services.partners_for(user)  # refuses early without the right
    form = PartnerForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                subscriber = services.register_partner(acting_user=user, data=form.to_data())
            except ValidationFailed as exc:
                put_errors(form, exc.field_errors)
                if not exc.field_errors:
                    form.add_error(None, exc.message)
            else:
                messages.success(request, _("The recipient is registered and active."))
                return redirect("notify:partner_detail", pk=subscriber.pk)
        status = HTTP_UNPROCESSABLE
    return render(
        request, "notify/partner_form.html", {"form": form, "nav_section": "notify"}, status=status
    )


@domain_view
@require_http_methods(["GET", "POST"])
def partner_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    if request.method == "POST":
        enabled = request.POST.get("enabled") == "1"
        services.set_partner_enabled(acting_user=user, subscriber_id=pk, enabled=enabled)
        messages.success(request, _("Resumed.") if enabled else _("Paused."))
        return redirect("notify:partner_detail", pk=pk)
    subscriber = services.get_partner(acting_user=user, subscriber_id=pk)
    return render(
        request,
        "notify/partner_detail.html",
        {"subscriber": subscriber, "nav_section": "notify"},
    )


@domain_view
@require_http_methods(["GET", "POST"])
def dead_letter_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if request.method == "POST":
        if request.POST.get("all") == "1":
            count = services.requeue_dead(acting_user=user)
        else:
            ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit() and len(i) < 19]
            count = services.requeue_dead(acting_user=user, delivery_ids=ids)
        messages.success(request, _("%(n)s messages are queued again.") % {"n": count})
        return redirect("notify:dead_letters")
    rows = services.dead_letters(user)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/dead_letters.html",
        {"page": page, "nav_section": "notify", "dead": DeliveryStatus.DEAD},
    )
