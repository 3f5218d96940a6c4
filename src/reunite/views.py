"""Project-wide pages: the home dashboard and its self-refreshing counts."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from reunite.accounts.models import User
from reunite.accounts.permissions import Action, role_allows
from reunite.cases.services import ACTIVE
from reunite.people.services import dashboard_counts

HTTP_UNAUTHORIZED = 401


@dataclass(frozen=True)
class CountSpec:
    label: Promise
    url_name: str = ""
    query: tuple[tuple[str, str], ...] = ()


# Dashboard figures in display order: a label and, where a list can show exactly those records,
# the filtered list to open.
COUNT_SPECS: dict[str, CountSpec] = {
    "missing_open": CountSpec(
        _("Missing persons still missing"), "people:missing_list", (("status", "missing"),)
    ),
    "missing_found": CountSpec(_("Missing persons found")),
    "missing_recent": CountSpec(_("Missing reports in the last 30 days")),
    "found_unidentified": CountSpec(
        _("Persons of unknown origin not yet identified"),
        "people:found_list",
        (("status", "unidentified"),),
    ),
    "found_identified": CountSpec(_("Persons of unknown origin identified")),
    "cases_open": CountSpec(_("Open cases"), "cases:list", (("status", ACTIVE),)),
}


@dataclass(frozen=True)
class Figure:
    key: str
    label: Promise
    value: int
    url: str


def _figures(user: User) -> list[Figure]:
    counts = dashboard_counts(acting_user=user)
    figures = []
    for key, spec in COUNT_SPECS.items():
        if key not in counts:
            continue
        url = ""
        if spec.url_name:
            url = reverse(spec.url_name)
            if spec.query:
                url += "?" + urlencode(spec.query)
        figures.append(Figure(key=key, label=spec.label, value=counts[key], url=url))
    return figures


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    jurisdiction = user.jurisdiction
    context = {
        "figures": _figures(user),
        "role": user.get_role_display() if user.role else "",
        "unit": user.organisation,
        "jurisdiction_name": jurisdiction.full_name if jurisdiction else "",
        "may_register_missing": role_allows(user, Action.EDIT_MISSING),
        "may_register_found": role_allows(user, Action.EDIT_FOUND),
    }
    return render(request, "home.html", context)


@require_GET
def home_counts(request: HttpRequest) -> HttpResponse:
    """The counts alone, for htmx to refresh; a signed-out browser is sent to sign in."""
    if not request.user.is_authenticated:
        login = redirect_to_login(reverse("home"), resolve_url(settings.LOGIN_URL))
        response = HttpResponse(status=HTTP_UNAUTHORIZED)
        response["HX-Redirect"] = login["Location"]
        return response
    user: User = request.user
    return render(request, "home_counts.html", {"figures": _figures(user)})
