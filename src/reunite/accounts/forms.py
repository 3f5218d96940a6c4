"""The sign-in form: Django's, with the address throttle checked before any password is tried."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from reunite.accounts import throttle
from reunite.accounts.signals import client_ip
from reunite.audit.models import AuditAction
from reunite.audit.services import record


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _(
            "Too many failed sign-in attempts came from your network. For your protection, "
            "signing in from it is paused for %(minutes)d minutes. Please try again later."
        ),
    }

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        )
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})
        self.throttled = False

    def clean(self) -> dict[str, Any]:
        ip = client_ip(self.request)
        if throttle.is_blocked(ip):
            self.throttled = True
            record(
                actor=None,
                action=AuditAction.LOGIN_FAILED,
                details={"throttled": True},
                source_ip=ip,
            )
            raise forms.ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": max(1, throttle.window_s() // 60)},
            )
        return super().clean()
