"""The navigation link of the notify pages, included in the site's header with one line."""

from __future__ import annotations

from typing import Any

from django import template

from reunite.accounts.models import User
from reunite.accounts.permissions import Action, role_allows

register = template.Library()


@register.inclusion_tag("notify/_nav_link.html", takes_context=True)
def notify_nav_link(context: template.Context) -> dict[str, Any]:
    """Administrators get the partner pages; visitors who are not signed in, the sign-up."""
    user = context.get("user")
    signed_in = isinstance(user, User) and user.is_authenticated
    return {
        "manage": isinstance(user, User) and role_allows(user, Action.MANAGE_NOTIFY),
        "public": not signed_in,
        "current": context.get("nav_section") == "notify",
    }
