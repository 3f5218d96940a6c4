"""What every web page shares: sign-in, the acting user, domain errors as HTTP errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from reunite.accounts.models import User
from reunite.core.errors import AccessDenied, NotFound

View = Callable[..., HttpResponse]


def domain_view(view: View) -> View:
    """Sign-in required; the services' ``AccessDenied``/``NotFound`` become 403/404."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except AccessDenied as exc:
            raise PermissionDenied(exc.message) from exc
        except NotFound as exc:
            raise Http404(exc.message) from exc

    return login_required(wrapped)


def acting_user(request: HttpRequest) -> User:
    """The signed-in user making the request (the view requires sign-in)."""
    user = request.user
    assert isinstance(user, User)
    return user


def image_response(item: Any, *, cache_control: str) -> HttpResponse:
    """The bytes of a stored photo (``item.image``, ``item.content_type``) shown inline, never
    sniffed; a file gone from storage is a 404."""
    try:
        with item.image.open("rb") as handle:
            content = handle.read()
    except FileNotFoundError as exc:
        raise Http404(_("The photo file is missing.")) from exc
    response = HttpResponse(content, content_type=item.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = cache_control
    response["X-Content-Type-Options"] = "nosniff"
    return response
