"""Account pages: administration of units and users, and every user's own account page.

Views stay thin: a form parses the request, a service in ``accounts.services`` decides, and the
domain exceptions become responses (``AccessDenied`` → 403, ``NotFound`` → 404,
``ValidationFailed`` → the form again with the errors next to the fields, status 422).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reunite.accounts import services
from reunite.accounts.admin_forms import (
    OrganisationCreateForm,
    OrganisationRenameForm,
    OwnPasswordChangeForm,
    PasswordResetForm,
    UserActiveForm,
    UserAssignmentForm,
    UserCreateForm,
    put_errors,
)
from reunite.accounts.models import Division, Organisation, Role
from reunite.core.errors import ValidationFailed
from reunite.core.web import acting_user, domain_view

PAGE_SIZE = 50
HTTP_UNPROCESSABLE = 422
NAV_SECTION = "accounts"


def _show_errors(form: Form, exc: ValidationFailed) -> None:
    put_errors(form, exc.field_errors)
    if not exc.field_errors:
        form.add_error(None, exc.message)


def _place(division: Division | None) -> str:
    """The division's full name; the nation (which ``full_name`` leaves out) by its own name."""
    if division is None:
        return ""
    return division.full_name or division.name


def _role_rules() -> list[str]:
    return [services.role_kind_rule(role) for role in Role.values]


# --------------------------------------------------------------------------- units


@domain_view
@require_GET
def organisation_list(request: HttpRequest) -> HttpResponse:
    units = services.list_organisations(acting_user=acting_user(request))
    page = Paginator(units, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/manage/organisation_list.html",
        {"nav_section": NAV_SECTION, "manage_section": "units", "page": page},
    )


@domain_view
@require_http_methods(["GET", "POST"])
def organisation_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    services.require_account_manager(acting_user=user, object_type=services.ORGANISATION_OBJECT)
    status = 200
    if request.method == "POST":
        form = OrganisationCreateForm(request.POST)
        if form.is_valid():
            try:
                unit = services.create_organisation(acting_user=user, data=form.to_data())
            except ValidationFailed as exc:
                _show_errors(form, exc)
            else:
                messages.success(request, _("The unit was created."))
                return redirect("accounts:organisation_detail", pk=unit.pk)
        status = HTTP_UNPROCESSABLE
    else:
        form = OrganisationCreateForm()
    return render(
        request,
        "accounts/manage/organisation_form.html",
        {"nav_section": NAV_SECTION, "manage_section": "units", "form": form},
        status=status,
    )


@domain_view
@require_http_methods(["GET", "POST"])
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    status = 200
    if request.method == "POST":
        form = OrganisationRenameForm(request.POST)
        if form.is_valid():
            try:
                services.rename_organisation(
                    acting_user=user, organisation_id=pk, name=form.cleaned_data["name"]
                )
            except ValidationFailed as exc:
                _show_errors(form, exc)
            else:
                messages.success(request, _("The unit was renamed."))
                return redirect("accounts:organisation_detail", pk=pk)
        status = HTTP_UNPROCESSABLE
    unit = services.get_organisation(acting_user=user, organisation_id=pk)
    if request.method != "POST":
        form = OrganisationRenameForm(initial={"name": unit.name})
    return render(
        request,
        "accounts/manage/organisation_detail.html",
        {
            "nav_section": NAV_SECTION,
            "manage_section": "units",
            "unit": unit,
            "jurisdiction_name": _place(unit.division),
            "form": form,
        },
        status=status,
    )


# --------------------------------------------------------------------------- users


def _digits(params: QueryDict, name: str) -> int | None:
    value = params.get(name, "")
    return int(value) if value.isascii() and value.isdigit() else None


ACTIVE_FILTERS = {"yes": True, "no": False}


@domain_view
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    role = request.GET.get("role", "")
    active = request.GET.get("active", "")
    # Unknown values mean "any" (a stale link or a hand-edited address must not break the page).
    filters = services.UserFilters(
        role=role if role in Role.values else "",
        organisation_id=_digits(request.GET, "unit"),
        active=ACTIVE_FILTERS.get(active),
    )
    users = services.list_users(acting_user=user, filters=filters)
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/manage/user_list.html",
        {
            "nav_section": NAV_SECTION,
            "manage_section": "users",
            "page": page,
            "filters": filters,
            "active_filter": active if active in ACTIVE_FILTERS else "",
            "role_choices": Role.choices,
            "unit_choices": services.organisation_choices(acting_user=user),
        },
    )


@domain_view
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    services.require_account_manager(acting_user=user, object_type=services.USER_OBJECT)
    choices = services.organisation_choices(acting_user=user)
    status = 200
    if request.method == "POST":
        form = UserCreateForm(request.POST, organisation_choices=choices)
        if form.is_valid():
            try:
                created = services.create_user(acting_user=user, data=form.to_data())
            except ValidationFailed as exc:
                _show_errors(form, exc)
            else:
                messages.success(request, _("The user was created."))
                return redirect("accounts:user_detail", pk=created.pk)
        status = HTTP_UNPROCESSABLE
    else:
        initial: dict[str, Any] = {}
        unit = _digits(request.GET, "unit")
        if unit is not None and any(pk == unit for pk, _label in choices):
            initial["organisation"] = str(unit)
        form = UserCreateForm(initial=initial, organisation_choices=choices)
    return render(
        request,
        "accounts/manage/user_form.html",
        {
            "nav_section": NAV_SECTION,
            "manage_section": "users",
            "form": form,
            "role_rules": _role_rules(),
        },
        status=status,
    )


def _user_detail_response(
    request: HttpRequest,
    pk: int,
    *,
    assignment_form: UserAssignmentForm | None = None,
    password_form: PasswordResetForm | None = None,
    active_errors: list[str] | None = None,
) -> HttpResponse:
    user = acting_user(request)
    target = services.get_managed_user(acting_user=user, user_id=pk)
    choices = services.organisation_choices(acting_user=user)
    if assignment_form is None:
        assignment_form = UserAssignmentForm(
            initial={"role": target.role, "organisation": target.organisation_id or ""},
            organisation_choices=choices,
        )
    failed = bool(
        assignment_form.errors or (password_form and password_form.errors) or active_errors
    )
    jurisdiction = target.jurisdiction
    return render(
        request,
        "accounts/manage/user_detail.html",
        {
            "nav_section": NAV_SECTION,
            "manage_section": "users",
            "target": target,
            "is_self": target.pk == user.pk,
            "jurisdiction_name": _place(jurisdiction),
            "assignment_form": assignment_form,
            "password_form": password_form or PasswordResetForm(),
            "active_errors": active_errors or [],
            "role_rules": _role_rules(),
        },
        status=HTTP_UNPROCESSABLE if failed else 200,
    )


@domain_view
@require_GET
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _user_detail_response(request, pk)


@domain_view
@require_POST
def user_assignment(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    services.require_account_manager(
        acting_user=user, object_type=services.USER_OBJECT, object_id=pk
    )
    choices = services.organisation_choices(acting_user=user)
    form = UserAssignmentForm(request.POST, organisation_choices=choices)
    if form.is_valid():
        try:
            services.change_user_assignment(acting_user=user, user_id=pk, data=form.to_data())
        except ValidationFailed as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("The role and unit were saved."))
            return redirect("accounts:user_detail", pk=pk)
    return _user_detail_response(request, pk, assignment_form=form)


@domain_view
@require_POST
def user_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    form = UserActiveForm(request.POST)
    if not form.is_valid():
        return _user_detail_response(
            request, pk, active_errors=[_("Choose whether the account is active.")]
        )
    try:
        changed = services.set_user_active(acting_user=user, user_id=pk, active=form.to_active())
    except ValidationFailed as exc:
        return _user_detail_response(request, pk, active_errors=[exc.message])
    messages.success(
        request,
        _("The account is active.") if changed.is_active else _("The account was deactivated."),
    )
    return redirect("accounts:user_detail", pk=pk)


@domain_view
@sensitive_post_parameters("password1", "password2")
@require_POST
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    form = PasswordResetForm(request.POST)
    if form.is_valid():
        try:
            services.reset_user_password(
                acting_user=user, user_id=pk, password=form.cleaned_data["password1"]
            )
        except ValidationFailed as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("The new password was set."))
            return redirect("accounts:user_detail", pk=pk)
    return _user_detail_response(request, pk, password_form=form)


# --------------------------------------------------------------------------- my account


@login_required
@require_GET
def my_account(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    jurisdiction = user.jurisdiction
    unit: Organisation | None = user.organisation
    return render(
        request,
        "accounts/manage/my_account.html",
        {
            "role": user.get_role_display() if user.role else "",
            "unit": unit,
            "jurisdiction_name": _place(jurisdiction),
        },
    )


class OwnPasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (old password, new one twice, validators), audited."""

    form_class = OwnPasswordChangeForm
    template_name = "accounts/manage/password_change.html"
    success_url = reverse_lazy("accounts:my_account")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.record_own_password_change(acting_user=acting_user(self.request))
        messages.success(self.request, _("Your password was changed."))
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = HTTP_UNPROCESSABLE
        return response
