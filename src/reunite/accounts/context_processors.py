"""Template context shared by every page: which domains the user may open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from reunite.accounts.permissions import Action, role_allows


def navigation(request: HttpRequest) -> dict[str, Any]:
    # Error pages raised before AuthenticationMiddleware ran (a bad Host header) have no user.
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}}
    return {
        "nav": {
            "missing": role_allows(user, Action.VIEW_MISSING),
            "found": role_allows(user, Action.VIEW_FOUND),
            "cases": role_allows(user, Action.VIEW_CASE),
            "audit": role_allows(user, Action.VIEW_AUDIT),
            "accounts": role_allows(user, Action.MANAGE_ACCOUNTS),
        }
    }
