"""Every sign-in and every failed sign-in goes into the audit log.

A failed sign-in records only the address it came from: never the username that was tried
(it may be a mistyped password or someone else's name).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from reunite.accounts import throttle
from reunite.audit.models import AuditAction
from reunite.audit.services import record


def client_ip(request: HttpRequest | None) -> str | None:
    """The client address as the server saw it (the same one the audit middleware records)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


@receiver(user_logged_in, dispatch_uid="reunite.accounts.audit_login")
def audit_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    record(
        actor=user,
        action=AuditAction.LOGIN,
        object_type="user",
        object_id=user.pk,
        source_ip=client_ip(request),
    )


@receiver(user_login_failed, dispatch_uid="reunite.accounts.audit_login_failed")
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    ip = client_ip(request)
    record(actor=None, action=AuditAction.LOGIN_FAILED, details={}, source_ip=ip)
    if request is not None:
        throttle.note_failure(ip)
