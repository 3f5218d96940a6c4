"""Project-wide pages: the home dashboard."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from reunite.people.services import dashboard_counts


@login_required
def home(request: HttpRequest) -> HttpResponse:
    counts = dashboard_counts(acting_user=request.user)  # type: ignore[arg-type]
    return render(request, "home.html", {"counts": counts})
