"""Web forms of alerts: drafting (police), cancelling (police), reporting a sighting (public).

Each form only parses what the browser sent into the ``*Data`` shapes of ``alerts.services``;
every rule is checked there and its ``field_errors`` come back onto these fields through
``people.forms.put_errors``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reunite.alerts.models import Alert, AlertScope
from reunite.alerts.services import MAX_NOTE, MAX_PUBLIC_DESCRIPTION, MAX_STATEMENT, AlertDraftData
from reunite.alerts.sightings import MAX_CONTACT, MAX_SIGHTING_TEXT, MAX_WHERE, SightingData
from reunite.people.forms import DATETIME_LOCAL_FORMAT, DateTimeLocalInput, RegistryForm
from reunite.people.models import MissingPersonReport


def _coordinate(low: float, high: float, label: Any, **kwargs: Any) -> forms.FloatField:
    return forms.FloatField(
        label=label,
        required=False,
        min_value=low,
        max_value=high,
        widget=forms.NumberInput(attrs={"step": "any", "min": low, "max": high}),
        **kwargs,
    )


class AlertDraftForm(RegistryForm):
    """What the drafting officer decides: who the person is to the criteria, what is public."""

    scope = forms.ChoiceField(
        label=_("Scope"), choices=AlertScope.choices, initial=AlertScope.REGIONAL
    )
    at_risk = forms.BooleanField(
        label=_("A woman at risk"),
        required=False,
        help_text=_("For an adult woman: there is reason to fear trafficking or other harm."),
    )
    abduction_or_danger = forms.BooleanField(
        label=_("Abduction or danger is believed"), required=False
    )
    danger_statement = forms.CharField(
        label=_("Why abduction or danger is believed"),
        required=False,
        max_length=MAX_STATEMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Internal: never published."),
    )
    public_description = forms.CharField(
        label=_("Public description"),
        required=False,
        max_length=MAX_PUBLIC_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Published: clothing, appearance, a vehicle or companion. The whole public text "
            "must fit 360 characters in each language."
        ),
    )
    publish_name = forms.BooleanField(label=_("Publish the name"), required=False)
    publish_sex = forms.BooleanField(label=_("Publish the sex"), required=False)
    publish_age = forms.BooleanField(label=_("Publish the age"), required=False)
    publish_height = forms.BooleanField(label=_("Publish the height"), required=False)
    publish_marks = forms.BooleanField(label=_("Publish the distinguishing marks"), required=False)
    publish_place = forms.BooleanField(label=_("Publish the last-seen place"), required=False)
    public_photo = forms.ChoiceField(label=_("Photo to publish"), required=False)
    latitude = _coordinate(
        -90, 90, _("Last seen latitude"), help_text=_("Empty: the report's coordinates.")
    )
    longitude = _coordinate(-180, 180, _("Last seen longitude"))

    def __init__(self, *args: Any, report: MissingPersonReport, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        photos = list(report.photos.order_by("created_at"))
        field = self.fields["public_photo"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", _("No photo")),
            *[
                (
                    str(p.uuid),
                    _("Photo %(n)d (%(w)d×%(h)d)") % {"n": i, "w": p.width, "h": p.height},
                )
                for i, p in enumerate(photos, start=1)
            ],
        ]
        self.photos = photos

    @staticmethod
    def initial_for(report: MissingPersonReport) -> dict[str, Any]:
        """A new draft: publish the usual facts and the first photo."""
        first = report.photos.order_by("created_at").first()
        return {
            "scope": AlertScope.REGIONAL,
            "publish_name": True,
            "publish_sex": True,
            "publish_age": True,
            "publish_height": True,
            "publish_place": True,
            "public_photo": str(first.uuid) if first is not None else "",
            "latitude": report.last_seen_latitude,
            "longitude": report.last_seen_longitude,
        }

    @staticmethod
    def initial_from(alert: Alert) -> dict[str, Any]:
        return {
            "scope": alert.scope,
            "at_risk": alert.at_risk,
            "abduction_or_danger": alert.abduction_or_danger,
            "danger_statement": alert.danger_statement,
            "public_description": alert.public_description,
            "publish_name": alert.publish_name,
            "publish_sex": alert.publish_sex,
            "publish_age": alert.publish_age,
            "publish_height": alert.publish_height,
            "publish_marks": alert.publish_marks,
            "publish_place": alert.publish_place,
            "public_photo": str(alert.public_photo.uuid) if alert.public_photo else "",
            "latitude": alert.latitude,
            "longitude": alert.longitude,
        }

    def to_data(self) -> AlertDraftData:
        c = self.cleaned_data
        photo = c.get("public_photo") or ""
        return AlertDraftData(
            scope=c["scope"],
            at_risk=c["at_risk"],
            abduction_or_danger=c["abduction_or_danger"],
            danger_statement=c["danger_statement"],
            public_description=c["public_description"],
            publish_name=c["publish_name"],
            publish_sex=c["publish_sex"],
            publish_age=c["publish_age"],
            publish_height=c["publish_height"],
            publish_marks=c["publish_marks"],
            publish_place=c["publish_place"],
            public_photo=uuid.UUID(photo) if photo else None,
            latitude=c["latitude"],
            longitude=c["longitude"],
        )


class CancelForm(RegistryForm):
    note = forms.CharField(
        label=_("Why the alert is cancelled"),
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Internal: kept on the alert, never published."),
    )


class SightingForm(RegistryForm):
    """A sighting from the public; every field but the description and the place is optional."""

    seen_at = forms.DateTimeField(
        label=_("When did you see the person?"),
        input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=DateTimeLocalInput(),
    )
    where = forms.CharField(
        label=_("Where?"),
        required=False,
        max_length=MAX_WHERE,
        help_text=_(
            "Click the map, or type an address or coordinates (latitude, longitude), "
            "for example 30.657, 104.066."
        ),
    )
    latitude = forms.FloatField(
        required=False, widget=forms.HiddenInput, min_value=-90, max_value=90
    )
    longitude = forms.FloatField(
        required=False, widget=forms.HiddenInput, min_value=-180, max_value=180
    )
    description = forms.CharField(
        label=_("What did you see?"),
        max_length=MAX_SIGHTING_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Clothing, who was with the person, a vehicle and its number plate …"),
    )
    contact = forms.CharField(
        label=_("Your telephone or e-mail (optional)"),
        required=False,
        max_length=MAX_CONTACT,
        help_text=_("Only the police see it, to ask you more. Leave it empty to stay anonymous."),
    )
    photo = forms.FileField(
        label=_("A photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {"seen_at": timezone.localtime().replace(second=0, microsecond=0, tzinfo=None)},
        )
        super().__init__(*args, **kwargs)

    def to_data(self) -> SightingData:
        c = self.cleaned_data
        return SightingData(
            seen_at=c["seen_at"],
            description=c["description"],
            where=c["where"],
            latitude=c["latitude"],
            longitude=c["longitude"],
            contact=c["contact"],
            photo=c["photo"] or None,
        )
