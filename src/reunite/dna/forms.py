"""Web forms of the DNA registry: each parses what the browser sent into a ``services`` shape.

Every rule (dates, consent, custody order, jurisdiction, alleles) is checked by the services;
their ``ValidationFailed.field_errors`` come back onto these fields through ``put_errors``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reunite.dna import imports, services
from reunite.dna.models import (
    ConsentGiver,
    CustodyKind,
    ImportFormat,
    KinRelationship,
    ProfileRole,
    QcStatus,
    SampleStatus,
    SampleType,
    TypingKit,
)
from reunite.people.forms import DateInput, DateTimeLocalInput, put_errors
from reunite.people.models import Sex

__all__ = [
    "ConsentForm",
    "CustodyForm",
    "FamilyMemberForm",
    "ImportForm",
    "QcReviewForm",
    "SampleFilterForm",
    "SampleForm",
    "WithdrawalForm",
    "put_errors",
]

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def _choices(choices: list[tuple[str, Any]], blank: Any = "—") -> list[tuple[str, Any]]:
    return [("", blank), *[(v, label) for v, label in choices if v != ""]]


class _ConsentFields(forms.Form):
    consent_given_by = forms.ChoiceField(
        label=_("Consent given by"),
        choices=[
            (ConsentGiver.DONOR, ConsentGiver.DONOR.label),
            (ConsentGiver.GUARDIAN, ConsentGiver.GUARDIAN.label),
        ],
    )
    consent_date = forms.DateField(label=_("Date of consent"), widget=DateInput())
    consent_guardian_name = forms.CharField(
        label=_("Guardian's name"),
        max_length=200,
        required=False,
        help_text=_("Required when a guardian consents (for a child, or a person unable to)."),
    )
    consent_guardian_relation = forms.CharField(
        label=_("Guardian's relation to the donor"), max_length=100, required=False
    )
    consent_reference = forms.CharField(
        label=_("Consent form number"), max_length=64, required=False
    )

    def consent_data(self, role: str) -> services.ConsentData:
        c = self.cleaned_data
        return services.ConsentData(
            given_by=c["consent_given_by"],
            scope=services.SCOPE_FOR_ROLE[role],
            date=c["consent_date"],
            guardian_name=c["consent_guardian_name"],
            guardian_relation=c["consent_guardian_relation"],
            reference=c["consent_reference"],
        )


class ConsentForm(_ConsentFields):
    """Record the consent of a sample registered without it."""


class SampleForm(_ConsentFields):
    """Register a sample; the consent part may be left for later ("not yet recorded")."""

    number = forms.CharField(
        label=_("Sample number"),
        max_length=64,
        required=False,
        help_text=_(
            "As written on the tube and in the laboratory's files; leave empty to have one made."
        ),
    )
    sample_type = forms.ChoiceField(label=_("Sample type"), choices=_choices(SampleType.choices))
    sample_type_other = forms.CharField(
        label=_("Other sample type"), max_length=100, required=False
    )
    collected_at = forms.DateTimeField(
        label=_("Collected (date and time)"),
        widget=DateTimeLocalInput(),
        input_formats=DATETIME_FORMATS,
    )
    collected_by = forms.CharField(label=_("Collected by"), max_length=100)
    collected_place = forms.CharField(
        label=_("Place of collection"), max_length=300, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("consent_given_by", "consent_date"):
            self.fields[name].required = False
        given_by = self.fields["consent_given_by"]
        assert isinstance(given_by, forms.ChoiceField)
        given_by.choices = _choices(ConsentGiver.choices, ConsentGiver.NOT_RECORDED.label)
        if not self.is_bound:
            self.initial.setdefault(
                "collected_at", timezone.localtime().replace(second=0, microsecond=0)
            )
            self.initial.setdefault("consent_date", timezone.localdate())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        given, dated = cleaned.get("consent_given_by"), cleaned.get("consent_date")
        if given and not dated and "consent_date" not in self.errors:
            self.add_error("consent_date", _("This field is required."))
        return cleaned

    def to_data(
        self, role: str, *, found_person_id: int | None, family_member_id: int | None
    ) -> services.SampleData:
        c = self.cleaned_data
        return services.SampleData(
            sample_type=c["sample_type"],
            collected_at=c["collected_at"],
            collected_by=c["collected_by"],
            found_person_id=found_person_id,
            family_member_id=family_member_id,
            number=c["number"],
            sample_type_other=c["sample_type_other"],
            collected_place=c["collected_place"],
            consent=self.consent_data(role) if c["consent_given_by"] else None,
        )


class WithdrawalForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for withdrawal"),
        max_length=services.MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Every sample of this donor is withdrawn; their profiles leave every search and "
            "their genotypes are erased. This cannot be undone."
        ),
    )


class CustodyForm(forms.Form):
    kind = forms.ChoiceField(label=_("Event"))
    at = forms.DateTimeField(
        label=_("When"), widget=DateTimeLocalInput(), input_formats=DATETIME_FORMATS
    )
    handler = forms.CharField(label=_("Handled by"), max_length=100, required=False)
    place = forms.CharField(label=_("Where"), max_length=300, required=False)
    notes = forms.CharField(
        label=_("Notes"),
        max_length=services.MAX_NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, kinds: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offer(kinds if kinds is not None else list(services.CUSTODY_TRANSITIONS))
        if not self.is_bound:
            self.initial.setdefault("at", timezone.localtime().replace(second=0, microsecond=0))

    def offer(self, kinds: list[str]) -> None:
        """Offer these events (when none is left, the choice stays as it was)."""
        field = self.fields["kind"]
        assert isinstance(field, forms.ChoiceField)
        if kinds:
            field.choices = [(k, CustodyKind(k).label) for k in kinds]

    def to_data(self) -> services.CustodyData:
        c = self.cleaned_data
        return services.CustodyData(
            kind=c["kind"], at=c["at"], handler=c["handler"], place=c["place"], notes=c["notes"]
        )


class FamilyMemberForm(forms.Form):
    relationship = forms.ChoiceField(
        label=_("Relationship to the missing person"),
        choices=_choices(
            [c for c in KinRelationship.choices if c[0] != KinRelationship.MISSING_PERSON]
        ),
    )
    sex = forms.ChoiceField(
        label=_("Sex"),
        required=False,
        choices=[
            ("", _("Given by the relationship")),
            (Sex.FEMALE, Sex.FEMALE.label),
            (Sex.MALE, Sex.MALE.label),
        ],
        help_text=_("Needed for brothers and sisters, uncles and aunts, sons and daughters."),
    )
    name = forms.CharField(label=_("Name"), max_length=200, required=False)

    def to_data(self) -> services.FamilyMemberData:
        c = self.cleaned_data
        return services.FamilyMemberData(
            relationship=c["relationship"], sex=c["sex"], name=c["name"]
        )


class QcReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (QcStatus.PASSED, _("Passed: the profile may be searched")),
            (QcStatus.FAILED, _("Failed: the profile is not used")),
        ],
    )
    note = forms.CharField(
        label=_("Why"),
        max_length=services.MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File"))
    kit = forms.ChoiceField(label=_("Typing kit"), choices=_choices(TypingKit.choices))
    kit_name = forms.CharField(
        label=_("Kit name"),
        max_length=100,
        required=False,
        help_text=_("Required for another kit, e.g. PowerPlex ESX 17."),
    )
    file_format = forms.ChoiceField(
        label=_("Format"),
        required=False,
        choices=[("", _("Recognise it (tabs: GeneMapper, commas: CSV)")), *ImportFormat.choices],
    )

    def to_data(self) -> imports.ImportData:
        c = self.cleaned_data
        upload = c["file"]
        limit = services.import_max_bytes()
        # Read one byte more than allowed: the service refuses an oversized file by its length.
        content = upload.read(limit + 1)
        return imports.ImportData(
            content=content,
            file_name=upload.name or "",
            kit=c["kit"],
            kit_name=c["kit_name"],
            file_format=c["file_format"],
        )


class SampleFilterForm(forms.Form):
    number = forms.CharField(label=_("Sample number"), max_length=64, required=False)
    status = forms.ChoiceField(
        label=_("Custody status"), required=False, choices=_choices(SampleStatus.choices, "")
    )
    role = forms.ChoiceField(
        label=_("Side"), required=False, choices=_choices(ProfileRole.choices, "")
    )
    consent = forms.ChoiceField(
        label=_("Consent"),
        required=False,
        choices=[
            ("", ""),
            ("given", _("Given")),
            ("missing", _("Not yet recorded")),
            ("withdrawn", _("Withdrawn")),
        ],
    )

    def to_filters(self) -> services.SampleFilters:
        c = self.cleaned_data
        return services.SampleFilters(
            number=c["number"], status=c["status"], role=c["role"], consent=c["consent"]
        )
