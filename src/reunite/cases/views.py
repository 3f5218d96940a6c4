"""Case pages: the list of cases in the user's jurisdiction, one case, its status changes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from reunite.accounts.models import User
from reunite.cases.models import Case, CaseEvent, CaseEventKind, CaseStatus, CaseType
from reunite.cases.services import (
    ACTIVE,
    CaseFilters,
    allowed_next_statuses,
    can_edit_case,
    change_case_status,
    get_case,
    list_cases,
)
from reunite.core.errors import ValidationFailed
from reunite.core.web import acting_user, domain_view
from reunite.people.models import MissingStatus

PAGE_SIZE = 50
MAX_ID = 2**63 - 1  # the largest primary key the databases hold; larger ids are simply not found
HTTP_UNPROCESSABLE = 422

STATUS_CHOICES: list[tuple[str, object]] = [
    (ACTIVE, gettext_lazy("Open or under investigation")),
    *CaseStatus.choices,
]


def _choice(params: QueryDict, name: str, choices: Sequence[tuple[str, object]]) -> str:
    """The parameter's value when it is one of ``choices``; anything else means "any"."""
    value = params.get(name, "")
    return value if value in {c[0] for c in choices} else ""


@domain_view
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    filters = CaseFilters(
        status=_choice(request.GET, "status", STATUS_CHOICES),
        case_type=_choice(request.GET, "type", CaseType.choices),
    )
    cases = list_cases(acting_user=user, filters=filters)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/case_list.html",
        {
            "nav_section": "cases",
            "page": page,
            "filters": filters,
            "status_choices": STATUS_CHOICES,
            "type_choices": CaseType.choices,
        },
    )


# A change of the missing report's status, as ``people.services`` writes it: "MP-7: old → new",
# then on the next line the note given with it, if any.
_REPORT_STATUS = re.compile(r"(?P<report>MP-\d+): (?P<old>\w+) → (?P<new>\w+)(?P<note>\n.*)?", re.S)


def _event_summary(event: CaseEvent) -> str:
    """A status change reads "old → new" in the user's language; other summaries as written."""
    if event.kind == CaseEventKind.STATUS:
        old, _arrow, new = event.summary.partition(" → ")
        if old in CaseStatus.values and new in CaseStatus.values:
            return f"{CaseStatus(old).label} → {CaseStatus(new).label}"
        report = _REPORT_STATUS.fullmatch(event.summary)
        if (
            report is not None
            and report["old"] in MissingStatus.values
            and report["new"] in MissingStatus.values
        ):
            return (
                f"{report['report']}: {MissingStatus(report['old']).label}"
                f" → {MissingStatus(report['new']).label}{report['note'] or ''}"
            )
    return event.summary


def _detail_context(user: User, case: Case) -> dict[str, object]:
    may_edit = can_edit_case(acting_user=user, case=case)
    return {
        "nav_section": "cases",
        "case": case,
        "jurisdiction_name": case.division.full_name,
        "investigators": list(case.investigators.select_related("organisation").order_by("pk")),
        "events": [(e, _event_summary(e)) for e in case.events.select_related("actor")],
        "may_edit": may_edit,
        "next_statuses": (
            [(s, CaseStatus(s).label) for s in allowed_next_statuses(case.status)]
            if may_edit
            else []
        ),
    }


@domain_view
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    if pk > MAX_ID:
        raise Http404(_("No such case."))
    status_errors: list[str] = []
    if request.method == "POST":
        try:
            change_case_status(acting_user=user, case_id=pk, status=request.POST.get("status", ""))
        except ValidationFailed as exc:
            status_errors = exc.field_errors.get("status", [exc.message])
        else:
            messages.success(request, _("The case status was changed."))
            return redirect("cases:detail", pk=pk)
    case = get_case(acting_user=user, case_id=pk)
    context = _detail_context(user, case)
    context["status_errors"] = status_errors
    return render(
        request,
        "cases/case_detail.html",
        context,
        status=HTTP_UNPROCESSABLE if status_errors else 200,
    )
