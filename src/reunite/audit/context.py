"""Where the current request comes from, for audit entries written deep inside services."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    source_ip: str | None = None
    user_agent: str = ""


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "reunite_request_context",
    default=RequestContext(),  # noqa: B039 (frozen)
)


def current_request_context() -> RequestContext:
    return _current.get()


def set_request_context(ctx: RequestContext) -> contextvars.Token[RequestContext]:
    return _current.set(ctx)


def reset_request_context(token: contextvars.Token[RequestContext]) -> None:
    _current.reset(token)
