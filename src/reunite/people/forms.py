"""Web forms of the people registry.

Plain Django forms (the records hold encrypted fields, so no ModelForm): each form parses what
the browser sent into the ``*Data`` shape of ``people.services`` and nothing more.  Every rule
(dates, ages, coordinates, photos, jurisdiction) is checked by the services; their
``ValidationFailed.field_errors`` come back onto these fields through ``put_errors``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import fields
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from reunite.accounts.models import Division, Organisation, User
from reunite.people.models import (
    Build,
    FoundCategory,
    FoundStatus,
    MissingStatus,
    Relationship,
    Sex,
)
from reunite.people.services import (
    HOLDING_KINDS,
    MAX_AGE_YEARS,
    MAX_HEIGHT_CM,
    MAX_PHOTOS_PER_RECORD,
    MIN_HEIGHT_CM,
    FoundFilters,
    FoundPersonData,
    MissingFilters,
    MissingReportData,
    RelativeData,
)

MAX_RELATIVES = 3
DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def _blank_first(choices: Sequence[tuple[str, Any]], label: Any = "—") -> list[tuple[str, Any]]:
    return [("", label), *[(v, lbl) for v, lbl in choices if v != ""]]


# --------------------------------------------------------------------------- widgets and fields


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=DATETIME_LOCAL_FORMAT)


def number_input(
    low: float | None = None, high: float | None = None, step: str = "1"
) -> forms.NumberInput:
    attrs: dict[str, Any] = {"step": step}
    if low is not None:
        attrs["min"] = low
    if high is not None:
        attrs["max"] = high
    return forms.NumberInput(attrs=attrs)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several image files; their content is checked by ``people.photos`` in the services."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.update({"accept": "image/*", "multiple": True})

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultiplePhotoField, self).clean(f, initial) for f in files if f]


class DivisionInput(forms.TextInput):
    """A text input for a division code with a live suggestion list (htmx + ``<datalist>``).

    Without JavaScript the user types the 6-digit code; with it, typing a name (Han or Latin)
    fills the ``<datalist>`` from ``people:division_search`` and choosing an entry puts the code
    in the box.
    """

    template_name = "people/widgets/division_input.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget_id = context["widget"]["attrs"].get("id") or f"id_{name}"
        context["widget"]["attrs"].update(
            {
                "list": f"{widget_id}_options",
                "autocomplete": "off",
                "inputmode": "search",
                "hx-get": f"{reverse_lazy('people:division_search')}?field={name}",
                "hx-trigger": "input changed delay:300ms",
                "hx-target": f"#{widget_id}_options",
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
                "hx-push-url": "false",  # not inherited from a live-search form around it
                # Half-typed names must not set off a live list search (keyup on the form).
                "hx-on:keyup": "event.stopPropagation()",
            }
        )
        context["widget"]["datalist_id"] = f"{widget_id}_options"
        return context


class DivisionField(forms.CharField):
    """A division given by its code (the picker puts the code in; a label after it is ignored)."""

    widget = DivisionInput
    default_error_messages = {
        "unknown": _(
            "Unknown division code “%(code)s”. Type the 6-digit code (for example 110105) "
            "or choose a place from the suggestions."
        ),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault(
            "help_text",
            _("Start typing a place name to choose it, or type its 6-digit division code."),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Division):
            return value.code
        return value

    def to_python(self, value: Any) -> Division | None:  # type: ignore[override]
        if isinstance(value, Division):
            return value
        text = str(super().to_python(value) or "").strip()
        if not text:
            return None
        code = text.split()[0]
        division = Division.objects.filter(code=code).first()
        if division is None:
            raise ValidationError(
                self.error_messages["unknown"], code="unknown", params={"code": code}
            )
        return division

    def validate(self, value: Any) -> None:
        if value is None and self.required:
            raise ValidationError(self.error_messages["required"], code="required")

    def run_validators(self, value: Any) -> None:
        return None


# --------------------------------------------------------------------------- shared helpers


class RegistryForm(forms.Form):
    """Labels without a trailing colon (the layout sets them apart)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def put_errors(
    form: forms.Form,
    field_errors: dict[str, list[str]],
    *,
    formset: forms.BaseFormSet[Any] | None = None,
    relative_rows: Sequence[int] = (),
) -> None:
    """Attach a service's ``field_errors`` to the fields they name.

    ``relatives.<i>.<field>`` goes to the formset row that produced ``data.relatives[i]``
    (``relative_rows[i]``); a name no field carries becomes an error of the whole form.
    """
    for name, messages in field_errors.items():
        parts = name.split(".")
        if parts[0] == "relatives" and formset is not None and len(parts) == 3:
            index = int(parts[1]) if parts[1].isdigit() else -1
            if 0 <= index < len(relative_rows):
                row = formset.forms[relative_rows[index]]
                target = parts[2] if parts[2] in row.fields else None
                for message in messages:
                    row.add_error(target, message)
                continue
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)


Shape = TypeVar("Shape", MissingReportData, FoundPersonData)


def data_from(cleaned: dict[str, Any], shape: type[Shape], **given: Any) -> Shape:
    """A service's ``*Data`` shape: each field from the cleaned field of that name, or ``given``."""
    values = {f.name: cleaned[f.name] for f in fields(shape) if f.name not in given}
    return shape(**values, **given)


def initial_from(record: Any, shape: type[Shape]) -> dict[str, Any]:
    """A form's initial values: the record's value of each field of ``shape`` (not relatives)."""
    return {f.name: getattr(record, f.name) for f in fields(shape) if f.name != "relatives"}


def photos_field() -> MultiplePhotoField:
    return MultiplePhotoField(
        label=_("Photos"),
        help_text=_("JPEG, PNG or WebP; at most %(n)d per person.") % {"n": MAX_PHOTOS_PER_RECORD},
    )


class DuplicateChoiceMixin(RegistryForm):
    """The two answers to a probable-duplicate warning: link to a candidate, or say it is not."""

    # Rendered by hand as one radio button per candidate (see people/_duplicates.html).
    link_to = forms.IntegerField(required=False, min_value=1)
    confirm_not_duplicate = forms.BooleanField(
        required=False, label=_("This is a different person: register it anyway")
    )

    def both_duplicate_answers(self) -> bool:
        """True (and an error on the form) when the user both linked and confirmed."""
        if self.cleaned_data.get("link_to") and self.cleaned_data.get("confirm_not_duplicate"):
            self.add_error(
                "confirm_not_duplicate",
                _("Either link to an existing record or confirm a different person, not both."),
            )
            return True
        return False


# --------------------------------------------------------------------------- missing reports


class RelativeForm(RegistryForm):
    name = forms.CharField(label=pgettext_lazy("person", "Name"), required=False, max_length=200)
    relationship = forms.ChoiceField(
        label=_("Relationship to the missing person"),
        required=False,
        choices=_blank_first(Relationship.choices),
    )
    contact = forms.CharField(label=_("Telephone or other contact"), required=False, max_length=200)

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(k) for k in ("name", "relationship", "contact"))


RelativeFormSet = forms.formset_factory(
    RelativeForm,
    extra=MAX_RELATIVES,
    max_num=MAX_RELATIVES,
    absolute_max=MAX_RELATIVES,
    validate_max=True,
)


class MissingReportForm(DuplicateChoiceMixin):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        help_text=_("As written on identity documents, in Han characters where there are any."),
    )
    name_pinyin = forms.CharField(
        label=_("Name in pinyin"),
        required=False,
        max_length=200,
        help_text=_("Optional: filled in from the Han characters when left empty."),
    )
    other_names = forms.CharField(
        label=_("Other names or nicknames"), required=False, max_length=300
    )
    id_number = forms.CharField(label=_("Identity document number"), required=False, max_length=40)
    sex = forms.ChoiceField(label=_("Sex"), choices=_blank_first(Sex.choices))
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=DateInput(),
        help_text=_("Give the date of birth or the age when missing (or both)."),
    )
    age_at_disappearance = forms.IntegerField(
        label=_("Age when missing (years)"),
        required=False,
        widget=number_input(0, MAX_AGE_YEARS),
    )
    height_cm = forms.IntegerField(
        label=_("Height (cm)"),
        required=False,
        widget=number_input(MIN_HEIGHT_CM, MAX_HEIGHT_CM),
    )
    build = forms.ChoiceField(label=_("Build"), required=False, choices=Build.choices)
    distinguishing_marks = forms.CharField(
        label=_("Distinguishing marks"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Scars, birthmarks, moles, tattoos, missing teeth…"),
    )
    language_dialect = forms.CharField(
        label=_("Language or dialect"), required=False, max_length=100
    )
    last_seen_at = forms.DateTimeField(
        label=_("Last seen (date and time)"),
        widget=DateTimeLocalInput(),
        input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    last_seen_division = DivisionField(label=_("Last seen in (division)"))
    last_seen_latitude = forms.FloatField(
        label=_("Last seen latitude"),
        required=False,
        widget=number_input(-90, 90, step="any"),
        help_text=_("Optional, in decimal degrees (for example 39.92); give both or neither."),
    )
    last_seen_longitude = forms.FloatField(
        label=_("Last seen longitude"),
        required=False,
        widget=number_input(-180, 180, step="any"),
        help_text=_("Optional, in decimal degrees (for example 116.44)."),
    )
    last_seen_place = forms.CharField(
        label=_("Last seen place"),
        required=False,
        max_length=300,
        help_text=_("Street, landmark, station, school…"),
    )
    circumstances = forms.CharField(
        label=_("Circumstances"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    photos = photos_field()

    def to_data(self, relatives: list[RelativeData]) -> MissingReportData:
        return data_from(self.cleaned_data, MissingReportData, relatives=relatives)

    @staticmethod
    def initial_from(report: Any) -> dict[str, Any]:
        return initial_from(report, MissingReportData)


def relatives_from(formset: forms.BaseFormSet[Any]) -> tuple[list[RelativeData], list[int]]:
    """The filled-in rows of a valid relatives formset, and the row index of each."""
    relatives: list[RelativeData] = []
    rows: list[int] = []
    for index, row in enumerate(formset.forms):
        if row.is_blank():
            continue
        c = row.cleaned_data
        relatives.append(
            RelativeData(name=c["name"], relationship=c["relationship"], contact=c["contact"])
        )
        rows.append(index)
    return relatives, rows


# --------------------------------------------------------------------------- found persons


def institutions_for(user: User) -> Any:
    """Holding institutions in the user's jurisdiction and in the divisions above it."""
    home = user.jurisdiction
    qs = Organisation.objects.filter(kind__in=HOLDING_KINDS).select_related("division")
    if home is None:
        return qs.none()
    above = [c for c in home.path.strip("/").split("/") if c]
    return qs.filter(Q(division__path__startswith=home.path) | Q(division__code__in=above))


class FoundPersonForm(DuplicateChoiceMixin):
    category = forms.ChoiceField(label=_("Category"), choices=_blank_first(FoundCategory.choices))
    sex = forms.ChoiceField(label=_("Sex"), choices=_blank_first(Sex.choices))
    found_on = forms.DateField(label=_("Date found"), widget=DateInput())
    found_division = DivisionField(label=_("Found in (division)"))
    found_latitude = forms.FloatField(
        label=_("Found latitude"),
        required=False,
        widget=number_input(-90, 90, step="any"),
        help_text=_("Optional, in decimal degrees; give both or neither."),
    )
    found_longitude = forms.FloatField(
        label=_("Found longitude"),
        required=False,
        widget=number_input(-180, 180, step="any"),
    )
    found_place = forms.CharField(label=_("Place found"), required=False, max_length=300)
    institution = forms.ModelChoiceField(
        label=_("Held now at"),
        required=False,
        queryset=Organisation.objects.none(),
        empty_label="—",
        help_text=_("The welfare institution, rescue station or hospital caring for the person."),
    )
    held_place = forms.CharField(label=_("Where held now (other)"), required=False, max_length=300)
    age_min = forms.IntegerField(
        label=_("Estimated age from"), widget=number_input(0, MAX_AGE_YEARS)
    )
    age_max = forms.IntegerField(label=_("Estimated age to"), widget=number_input(0, MAX_AGE_YEARS))
    height_cm = forms.IntegerField(
        label=_("Height (cm)"),
        required=False,
        widget=number_input(MIN_HEIGHT_CM, MAX_HEIGHT_CM),
    )
    build = forms.ChoiceField(label=_("Build"), required=False, choices=Build.choices)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    distinguishing_marks = forms.CharField(
        label=_("Distinguishing marks"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    language_dialect = forms.CharField(
        label=_("Language or dialect"), required=False, max_length=100
    )
    given_name = forms.CharField(label=_("Name the person gives"), required=False, max_length=200)
    given_name_pinyin = forms.CharField(
        label=_("That name in pinyin"),
        required=False,
        max_length=200,
        help_text=_("Optional: filled in from the Han characters when left empty."),
    )
    given_places = forms.CharField(
        label=_("Places the person mentions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    photos = photos_field()

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["institution"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = institutions_for(user)

    def to_data(self) -> FoundPersonData:
        return data_from(self.cleaned_data, FoundPersonData)

    @staticmethod
    def initial_from(person: Any) -> dict[str, Any]:
        return initial_from(person, FoundPersonData)


# --------------------------------------------------------------------------- list filters


class _ListFilterForm(RegistryForm):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Name in Han characters or pinyin, with or without spaces or tone marks."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    sex = forms.ChoiceField(label=_("Sex"), required=False, choices=_blank_first(Sex.choices))
    age_from = forms.IntegerField(
        label=_("Age from"), required=False, widget=number_input(0, MAX_AGE_YEARS)
    )
    age_to = forms.IntegerField(
        label=_("Age to"), required=False, widget=number_input(0, MAX_AGE_YEARS)
    )
    division = DivisionField(label=_("Division"), required=False, help_text="")
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())

    # The labels of the date range and division fields, as each list means them.
    place_labels: dict[str, Any] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in self.place_labels.items():
            self.fields[name].label = label

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("age_from", "age_to"):
            value = cleaned.get(name)
            if value is not None and not 0 <= value <= MAX_AGE_YEARS:
                self.add_error(
                    name, _("Age must be between 0 and %(max)d.") % {"max": MAX_AGE_YEARS}
                )
        low, high = cleaned.get("age_from"), cleaned.get("age_to")
        if low is not None and high is not None and low > high:
            self.add_error("age_to", _("“Age to” must not be below “Age from”."))
        start: dt.date | None = cleaned.get("date_from")
        end: dt.date | None = cleaned.get("date_to")
        if start is not None and end is not None and start > end:
            self.add_error("date_to", _("The end date must not be before the start date."))
        return cleaned


class MissingFilterForm(_ListFilterForm):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_blank_first(MissingStatus.choices)
    )

    place_labels = {
        "date_from": _("Last seen from"),
        "date_to": _("Last seen to"),
        "division": _("Last seen in (division)"),
    }

    def to_filters(self) -> MissingFilters:
        c = self.cleaned_data
        return MissingFilters(
            text=c["q"],
            sex=c["sex"],
            age_from=c["age_from"],
            age_to=c["age_to"],
            division=c["division"],
            seen_from=c["date_from"],
            seen_to=c["date_to"],
            status=c["status"],
        )


class FoundFilterForm(_ListFilterForm):
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=_blank_first(FoundCategory.choices)
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_blank_first(FoundStatus.choices)
    )

    place_labels = {
        "date_from": _("Found from"),
        "date_to": _("Found to"),
        "division": _("Found in (division)"),
    }

    def to_filters(self) -> FoundFilters:
        c = self.cleaned_data
        return FoundFilters(
            text=c["q"],
            sex=c["sex"],
            category=c["category"],
            age_from=c["age_from"],
            age_to=c["age_to"],
            division=c["division"],
            found_from=c["date_from"],
            found_to=c["date_to"],
            status=c["status"],
        )
