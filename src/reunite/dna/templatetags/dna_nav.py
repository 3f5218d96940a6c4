"""``{% load dna_nav %}``: whether the signed-in user's role opens the DNA registry at all."""

from __future__ import annotations

from typing import Any

from django import template

from reunite.accounts.permissions import Action, role_allows

register = template.Library()


@register.filter
def may_view_dna(user: Any) -> bool:
    """True for roles granted ``VIEW_DNA`` (the nav link and the home page use it)."""
    return bool(getattr(user, "is_authenticated", False)) and role_allows(user, Action.VIEW_DNA)


@register.filter
def may_view_matches(user: Any) -> bool:
    """True for roles granted ``VIEW_MATCHES`` (the candidate queue's nav link)."""
    return bool(getattr(user, "is_authenticated", False)) and role_allows(user, Action.VIEW_MATCHES)
