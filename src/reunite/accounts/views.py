"""Signing in and out: Django's views with our templates and the address throttle."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpResponse

from reunite.accounts.forms import SignInForm

HTTP_TOO_MANY_REQUESTS = 429


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        if getattr(form, "throttled", False):
            response.status_code = HTTP_TOO_MANY_REQUESTS
        return response


class SignOutView(auth_views.LogoutView):
    next_page = "accounts:login"
