"""Web forms of account administration.

The forms only parse what the browser sent into the ``*Create``/``UserAssignment`` shapes of
``accounts.services``; every rule (jurisdiction, role and unit kind, unique names, password
strength) is checked there, and ``ValidationFailed.field_errors`` come back onto these fields
through ``put_errors``.  Selects are plain text fields with a select widget, so that a forged
value reaches the service (which refuses it, and audits a reach outside the jurisdiction)
instead of stopping at a generic "not one of the choices".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from reunite.accounts.models import OrganisationKind, Role
from reunite.accounts.services import OrganisationCreate, UserAssignment, UserCreate

BLANK = ("", "—")

ROLE_CHOICES: list[tuple[str, Any]] = [BLANK, *Role.choices]
KIND_CHOICES: list[tuple[str, Any]] = [BLANK, *OrganisationKind.choices]

# Service field name → form field name, where they differ.
FIELD_ALIASES = {"password": "password1"}


class ManageForm(forms.Form):
    """Labels without a trailing colon (the layout sets them apart)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def put_errors(form: forms.Form, field_errors: Mapping[str, list[str]]) -> None:
    """Attach a service's ``field_errors`` to the form's fields; unknown names to the form."""
    for name, messages in field_errors.items():
        target = FIELD_ALIASES.get(name, name)
        for message in messages:
            form.add_error(target if target in form.fields else None, message)


def _select(choices: Iterable[tuple[Any, Any]]) -> forms.Select:
    return forms.Select(choices=list(choices))


def _unit_id(value: str) -> int | None:
    """The unit's id as sent; anything but digits is refused here, unknown ids by the service."""
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or not value.isascii():
        raise ValidationError(_("Choose a unit from the list."), code="invalid")
    return int(value)


class OrganisationCreateForm(ManageForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.CharField(label=_("Kind of unit"), widget=_select(KIND_CHOICES))
    division = forms.CharField(
        label=_("Division code"),
        max_length=24,
        help_text=_(
            "The code of the division the unit serves, for example 110105 for Chaoyang "
            "district, Beijing. It must lie in your jurisdiction."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def to_data(self) -> OrganisationCreate:
        d = self.cleaned_data
        return OrganisationCreate(name=d["name"], kind=d["kind"], division_code=d["division"])


class OrganisationRenameForm(ManageForm):
    name = forms.CharField(label=_("New name"), max_length=200)


class _RoleUnitFields(ManageForm):
    role = forms.CharField(label=_("Role"), widget=_select(ROLE_CHOICES))
    organisation = forms.CharField(label=_("Unit"))

    def __init__(
        self, *args: Any, organisation_choices: Iterable[tuple[int, str]] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].widget = _select([BLANK, *organisation_choices])

    def clean_organisation(self) -> int | None:
        return _unit_id(self.cleaned_data["organisation"])


class _NewPasswordFields(ManageForm):
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "At least 10 characters; not a common password, not only digits, not like the "
            "username. Give it to the user in person; they can change it on their account page."
        ),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        return cleaned


class UserCreateForm(_RoleUnitFields, _NewPasswordFields):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("Letters, digits and @ . + - _ only. Upper and lower case count as the same."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    field_order = [
        "username",
        "full_name",
        "email",
        "role",
        "organisation",
        "password1",
        "password2",
    ]

    def to_data(self) -> UserCreate:
        d = self.cleaned_data
        return UserCreate(
            username=d["username"],
            full_name=d["full_name"],
            email=d["email"],
            role=d["role"],
            organisation_id=d["organisation"],
            password=d["password1"],
        )


class UserAssignmentForm(_RoleUnitFields):
    def to_data(self) -> UserAssignment:
        return UserAssignment(
            role=self.cleaned_data["role"], organisation_id=self.cleaned_data["organisation"]
        )


class PasswordResetForm(_NewPasswordFields):
    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "At least 10 characters; not a common password, not only digits, not like the "
            "username. The user is signed out everywhere and signs in with this password."
        ),
    )
    password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class UserActiveForm(ManageForm):
    active = forms.ChoiceField(choices=[("1", _("Active")), ("0", _("Deactivated"))])

    def to_active(self) -> bool:
        return bool(self.cleaned_data["active"] == "1")


class OwnPasswordChangeForm(PasswordChangeForm):
    """Django's own form (old password, the new one twice, the validators), labels as ours."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
