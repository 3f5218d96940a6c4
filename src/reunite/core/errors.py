"""Domain exceptions: services raise these; views and API handlers turn them into responses."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


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


class FieldErrors:
    """Collects the field errors of one input, then raises them all at once, so that a form or
    an API client learns every problem in one answer."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationFailed(
                _("Please correct the errors below."), field_errors=self.by_field
            )
