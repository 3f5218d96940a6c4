"""Forms of the notify pages: public sign-up, partner registration, dead-letter requeue."""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from reunite.notify.models import SubscriberKind
from reunite.notify.services import PartnerData, SubscriptionData
from reunite.people.forms import DivisionField, DivisionInput, put_errors

__all__ = ["PartnerForm", "SubscribeForm", "put_errors"]


class PublicDivisionInput(DivisionInput):
    """The division picker, fed by the public ``notify:division_search`` (no sign-in needed)."""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["hx-get"] = (
            f"{reverse_lazy('notify:division_search')}?field={name}"
        )
        return context


class _Coordinate(forms.FloatField):
    def __init__(self, lo: float, hi: float, **kwargs: Any) -> None:
        super().__init__(required=False, min_value=lo, max_value=hi, **kwargs)

    def validate(self, value: Any) -> None:
        if value is not None and not math.isfinite(value):
            raise forms.ValidationError(_("Enter a finite number."), code="finite")
        super().validate(value)


class _HomeAreaForm(forms.Form):
    division = DivisionField(
        label=_("Home area (division)"),
        required=False,
        widget=PublicDivisionInput,
        help_text=_("Start typing your county or city, or give coordinates below."),
    )
    latitude = _Coordinate(-90, 90, label=_("Latitude"))
    longitude = _Coordinate(-180, 180, label=_("Longitude"))

    def home_fields(self) -> dict[str, Any]:
        c = self.cleaned_data
        division = c.get("division")
        return {
            "latitude": c.get("latitude"),
            "longitude": c.get("longitude"),
            "division_code": division.code if division else "",
        }


class SubscribeForm(_HomeAreaForm):
    field_order = ["email", "phone", "division", "latitude", "longitude"]

    email = forms.EmailField(label=_("E-mail"), required=False, max_length=254)
    phone = forms.CharField(
        label=_("Mobile number (for SMS)"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    def to_data(self, language: str) -> SubscriptionData:
        c = self.cleaned_data
        return SubscriptionData(
            email=c.get("email") or "",
            phone=c.get("phone") or "",
            language=language,
            **self.home_fields(),
        )


class PartnerForm(_HomeAreaForm):
    field_order = ["name", "kind", "webhook_url", "webhook_secret", "email", "division"]

    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (SubscriberKind.PARTNER.value, SubscriberKind.PARTNER.label),
            (SubscriberKind.MEDIA.value, SubscriberKind.MEDIA.label),
        ],
    )
    webhook_url = forms.CharField(
        label=_("Webhook address (https)"), required=False, max_length=500
    )
    webhook_secret = forms.CharField(
        label=_("Shared secret"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("At least 16 characters; the receiver checks the HMAC signature with it."),
    )
    email = forms.EmailField(label=_("E-mail"), required=False, max_length=254)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["division"].help_text = _(
            "Leave the area empty for a nationwide recipient (it receives every alert)."
        )

    def to_data(self) -> PartnerData:
        c = self.cleaned_data
        return PartnerData(
            name=c["name"],
            kind=c["kind"],
            webhook_url=c.get("webhook_url") or "",
            webhook_secret=c.get("webhook_secret") or "",
            email=c.get("email") or "",
            **self.home_fields(),
        )
