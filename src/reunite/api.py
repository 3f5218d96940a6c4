"""The JSON API (django-ninja); OpenAPI at /api/docs.  Each domain adds its router here.

This module owns what every endpoint shares: authentication (the Django session, with CSRF
enforced on unsafe methods), a strict JSON parser, a renderer that escapes HTML-significant
characters, and the mapping of every error to a JSON response with a ``detail`` message, so that
bad input gets a clear 4xx and never a 500.
"""

import json
import re
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from ninja.security import django_auth

from reunite.alerts.api import router as alerts_router
from reunite.cases.api import router as cases_router
from reunite.core.errors import AccessDenied, DomainError, NotFound, ProbableDuplicate
from reunite.core.errors import ValidationFailed as DomainValidationFailed
from reunite.dna.api import router as dna_router
from reunite.notify.api import router as notify_router
from reunite.people.api import (
    INVALID_INPUT,
    dashboard_router,
    found_router,
    missing_router,
    photo_router,
)

DESCRIPTION = """\
The JSON API of Reunite: the registry of missing persons and persons of unknown origin, and the
cases they open.

**Authentication.** Sign in on the web site (`/accounts/login/`); the API accepts that session
cookie. Requests that change data (POST, PUT) must also carry the CSRF token: the value of the
`csrftoken` cookie in an `X-CSRFToken` header. Personal API tokens for machine clients (bearer
authentication) will come later; until then only session authentication is accepted.

**Permissions.** What you may see and change follows your role and your unit's jurisdiction. Every
read of a record, every search and every refusal is written to the tamper-evident audit log.

**Errors.** Every error is JSON with a `detail` message:
401 not signed in · 403 your role or jurisdiction does not allow it (or the CSRF token is missing) ·
404 no such record · 409 probable duplicate (`candidates` lists their ids: resubmit with `link_to`
set to one of them, or with `confirm_not_duplicate: true`) · 413 request too large ·
422 invalid input (`errors` maps each field, nested fields as dotted paths such as
`relatives.0.name`, to its messages).

**Input.** JSON bodies only (photos: multipart), unknown fields are refused, dates are ISO 8601,
lists are paginated with `limit` (at most 200) and `offset`.
"""


class BodyNotJSON(ValueError):
    """The request body could not be read as JSON."""


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


class StrictJSONParser(Parser):
    """Standard JSON only: ``NaN`` and ``Infinity`` are refused, as are invalid UTF-8 and
    nesting too deep to parse."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            return json.loads(request.body, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            raise BodyNotJSON(str(exc)) from exc


class EscapingJSONRenderer(JSONRenderer):
    """JSON with ``<``, ``>`` and ``&`` written as ``\\u`` escapes.

    The decoded values are unchanged, but no response can be mistaken for HTML by a browser or a
    careless client that pastes it into a page.  Those characters only ever occur inside JSON
    strings, so the replacement keeps the document valid.
    """

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> Any:
        text = super().render(request, data, response_status=response_status)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


api = NinjaAPI(
    title="Reunite API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=django_auth,
    parser=StrictJSONParser(),
    renderer=EscapingJSONRenderer(),
)

api.add_router("/missing-reports", missing_router)
api.add_router("/found-persons", found_router)
api.add_router("/photos", photo_router)
api.add_router("/cases", cases_router)
api.add_router("/dashboard", dashboard_router)
api.add_router("/dna", dna_router)
api.add_router("/alerts", alerts_router)
api.add_router("/notify", notify_router)


# --------------------------------------------------------------------------- errors


def _error(request: HttpRequest, status: int, detail: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"detail": detail, **extra}, status=status)


@api.exception_handler(DomainValidationFailed)
def _validation_failed(request: HttpRequest, exc: DomainValidationFailed) -> HttpResponse:
    return _error(request, 422, exc.message, errors=exc.field_errors)


@api.exception_handler(ProbableDuplicate)
def _probable_duplicate(request: HttpRequest, exc: ProbableDuplicate) -> HttpResponse:
    return _error(request, 409, exc.message, candidates=exc.candidates)


@api.exception_handler(AccessDenied)
def _access_denied(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
    return _error(request, 403, exc.message)


@api.exception_handler(NotFound)
def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return _error(request, 404, exc.message)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status_code, exc.message)


@api.exception_handler(Http404)
def _http404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, _("Not found."))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, _("Sign in first: this API needs an authenticated session."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, BodyNotJSON):
        return _error(
            request,
            422,
            _("The request body is not valid JSON."),
            errors={"body": [_("The request body is not valid JSON.")]},
        )
    if exc.status_code == 403 and "CSRF" in exc.message:
        return _error(
            request,
            403,
            _(
                "CSRF check failed: send the value of the csrftoken cookie "
                "in an X-CSRFToken header."
            ),
        )
    return _error(request, exc.status_code, exc.message)


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, _("The request is too large."))


@api.exception_handler(SuspiciousOperation)
def _suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    # Too many fields or files in a form, and the like.
    return _error(request, 400, _("The request could not be read."))


@api.exception_handler(MultiPartParserError)
def _bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return _error(request, 400, _("The multipart request could not be read."))


# Pydantic's error types, as messages for people (anything else keeps pydantic's own message).
_MESSAGES = {
    "missing": gettext_lazy("This field is required."),
    "extra_forbidden": gettext_lazy("Unknown field."),
    "string_type": gettext_lazy("Enter text."),
    "int_type": gettext_lazy("Enter a whole number."),
    "int_parsing": gettext_lazy("Enter a whole number."),
    "int_from_float": gettext_lazy("Enter a whole number."),
    "float_type": gettext_lazy("Enter a number."),
    "float_parsing": gettext_lazy("Enter a number."),
    "finite_number": gettext_lazy("Enter a finite number."),
    "bool_type": gettext_lazy("Enter true or false."),
    "bool_parsing": gettext_lazy("Enter true or false."),
    "uuid_type": gettext_lazy("Enter a valid UUID."),
    "uuid_parsing": gettext_lazy("Enter a valid UUID."),
    "model_type": gettext_lazy("Expected a JSON object."),
    "model_attributes_type": gettext_lazy("Expected a JSON object."),
    "dict_type": gettext_lazy("Expected a JSON object."),
    "list_type": gettext_lazy("Expected a list."),
    "string_pattern_mismatch": gettext_lazy("This value has the wrong format."),
    "date_type": gettext_lazy("Enter a valid date as YYYY-MM-DD."),
    "date_parsing": gettext_lazy("Enter a valid date as YYYY-MM-DD."),
    "date_from_datetime_parsing": gettext_lazy("Enter a valid date as YYYY-MM-DD."),
    "date_from_datetime_inexact": gettext_lazy("Enter a valid date as YYYY-MM-DD."),
    "datetime_type": gettext_lazy("Enter a valid date and time."),
    "datetime_parsing": gettext_lazy("Enter a valid date and time."),
    "datetime_from_date_parsing": gettext_lazy("Enter a valid date and time."),
}
_LOC_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _message(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in _MESSAGES:
        return str(_MESSAGES[kind])
    if kind == "string_too_long":
        return _("At most %(n)s characters.") % {"n": ctx.get("max_length", "?")}
    if kind == "too_long":
        return _("At most %(n)s items.") % {"n": ctx.get("max_length", "?")}
    if kind in ("greater_than_equal", "greater_than"):
        limit = ctx.get("ge", ctx.get("gt", "?"))
        return _("Enter a value of at least %(n)s.") % {"n": limit}
    if kind in ("less_than_equal", "less_than"):
        limit = ctx.get("le", ctx.get("lt", "?"))
        return _("Enter a value of at most %(n)s.") % {"n": limit}
    if kind in ("enum", "literal_error"):
        return _("Not a valid choice: use %(choices)s.") % {"choices": ctx.get("expected", "?")}
    return str(error.get("msg", kind))


def _field(loc: tuple[Any, ...]) -> str:
    """``("body", "payload", "relatives", 0, "name")`` → ``relatives.0.name``.

    The first part is the source (body, query, path, file); a body's second part is the name of
    the handler's parameter.  Union member tags (``enum[Sex]``) are dropped.
    """
    source, *rest = loc
    if source == "body":
        rest = rest[1:]
    parts = [str(p) for p in rest if isinstance(p, int) or _LOC_PART.fullmatch(str(p))]
    return ".".join(parts) or str(source)


@api.exception_handler(ValidationError)
def _invalid_input(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        messages = errors.setdefault(_field(tuple(error.get("loc", ("body",)))), [])
        message = _message(error)
        if message not in messages:
            messages.append(message)
    return _error(request, 422, str(INVALID_INPUT), errors=errors)
