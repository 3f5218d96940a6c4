"""What every web page shares: sign-in, the acting user, domain errors as HTTP errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

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
