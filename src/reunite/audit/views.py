"""The audit log page: newest entries first, and whether the hash chain is intact."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from reunite.audit.models import AuditAction
from reunite.audit.services import AuditFilters, known_object_types, list_entries, verify
from reunite.core.web import acting_user, domain_view

PAGE_SIZE = 50


@domain_view
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    action = request.GET.get("action", "")
    object_type = request.GET.get("type", "")
    # Unknown values mean "any" (a stale link or a hand-edited address must not break the page).
    object_types = known_object_types()
    filters = AuditFilters(
        action=action if action in AuditAction.values else "",
        object_type=object_type if object_type in object_types else "",
    )
    entries = list_entries(acting_user=user, filters=filters)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/audit_list.html",
        {
            "nav_section": "audit",
            "chain": verify(),
            "page": page,
            "filters": filters,
            "action_choices": AuditAction.choices,
            "object_type_choices": [(name, name) for name in object_types],
        },
    )
