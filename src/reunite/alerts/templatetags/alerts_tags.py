"""Small pieces other pages include with one line: the navigation link, the alert link on a
missing report's page, and the alerts (with their sightings) on a case's page."""

from __future__ import annotations

from typing import Any

from django import template

from reunite.accounts.models import User
from reunite.accounts.permissions import Action, can, role_allows
from reunite.alerts import services
from reunite.cases.models import Case
from reunite.people.models import MissingPersonReport, MissingStatus

register = template.Library()


def _user(context: template.Context) -> User | None:
    user = context.get("user")
    return user if isinstance(user, User) and user.is_authenticated else None


@register.inclusion_tag("alerts/_nav_link.html", takes_context=True)
def alerts_nav_link(context: template.Context) -> dict[str, Any]:
    user = _user(context)
    return {
        "show": user is not None and role_allows(user, Action.VIEW_ALERT),
        "current": context.get("nav_section") == "alerts",
    }


@register.inclusion_tag("alerts/_report_alert.html", takes_context=True)
def report_alert(context: template.Context, report: MissingPersonReport) -> dict[str, Any]:
    """The report's open alert, or a link to draft one (for users who may)."""
    user = _user(context)
    if user is None or not can(user, Action.VIEW_ALERT, report.division):
        return {"show": False}
    return {
        "show": True,
        "report": report,
        "open_alert": services.open_alert_of(report),
        "closed": report.alerts.exclude(status__in=["draft", "active"]).order_by("-pk")[:5],
        "may_draft": report.status == MissingStatus.MISSING
        and can(user, Action.DRAFT_ALERT, report.division),
    }


@register.inclusion_tag("alerts/_case_alerts.html", takes_context=True)
def case_alerts(context: template.Context, case: Case) -> dict[str, Any]:
    """The case's alerts and how many sightings (tips) each brought in."""
    user = _user(context)
    if user is None or not can(user, Action.VIEW_ALERT, case.division):
        return {"show": False}
    return {"show": True, "alerts": list(services.alerts_of_case(case_id=case.pk))}
