"""Domain exceptions: services raise these; views and API handlers turn them into responses."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain was broken; the message is safe to show to the user."""

    status_code = 400

    def __init__(self, message: Any, *, field_errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field_errors = field_errors or {}


class ValidationFailed(DomainError):
    """Input was rejected; ``field_errors`` maps field names to messages."""

    status_code = 422


class AccessDenied(DomainError):
    """The acting user's role or jurisdiction does not allow this action."""

    status_code = 403


class NotFound(DomainError):
    status_code = 404


class ProbableDuplicate(DomainError):
    """The record looks like one already registered; the user must link or confirm."""

    status_code = 409

    def __init__(self, message: Any, *, candidates: list[int]) -> None:
        super().__init__(message)
        self.candidates = candidates
