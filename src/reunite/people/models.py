"""The people registry: missing persons and persons of unknown origin.

Identity and contact fields are ``EncryptedTextField``s; their search tokens live in
``name_index`` as a blind index (keyed digests, see ``core.crypto``).  Every record belongs to
the jurisdiction (``division``) of the unit that owns it, which is what permission rules filter on.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from reunite.accounts.models import Division, Organisation
from reunite.core.crypto import EncryptedTextField


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    UNKNOWN = "U", _("Unknown")


class Build(models.TextChoices):
    SLIM = "slim", _("Slim")
    MEDIUM = "medium", _("Medium")
    HEAVY = "heavy", _("Heavy")
    UNKNOWN = "", _("Not known")


class MissingStatus(models.TextChoices):
    MISSING = "missing", _("Missing")
    FOUND_ALIVE = "found_alive", _("Found alive")
    FOUND_DECEASED = "found_deceased", _("Found deceased")
    WITHDRAWN = "withdrawn", _("Report withdrawn")


class FoundCategory(models.TextChoices):
    STREET_BEGGING = "street_begging", _("Street begging")
    INTELLECTUAL_DISABILITY = "intellectual_disability", _("Intellectual disability")
    MENTAL_ILLNESS = "mental_illness", _("Mental illness")
    DEAF_MUTE = "deaf_mute", _("Deaf-mute")
    PHYSICAL_DISABILITY = "physical_disability", _("Physical disability")
    UNDOCUMENTED_CHILD = "undocumented_child", _("Child of undocumented origin")
    OTHER = "other", _("Other")


class FoundStatus(models.TextChoices):
    UNIDENTIFIED = "unidentified", _("Unidentified")
    IDENTIFIED = "identified", _("Identified")
    RETURNED_HOME = "returned_home", _("Returned home")
    RESETTLED = "resettled", _("Resettled")


class Relationship(models.TextChoices):
    MOTHER = "mother", _("Mother")
    FATHER = "father", _("Father")
    SIBLING = "sibling", _("Brother or sister")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Son or daughter")
    GRANDPARENT = "grandparent", _("Grandparent")
    UNCLE_AUNT = "uncle_aunt", _("Uncle or aunt")
    OTHER_RELATIVE = "other_relative", _("Other relative")
    OTHER = "other", _("Other")


class RegistryRecord(models.Model):
    """What a missing report and a found person share: ownership, jurisdiction, bookkeeping."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owning_unit = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("owning unit")
    )
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("jurisdiction")
    )
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    height_cm = models.PositiveSmallIntegerField(_("height (cm)"), null=True, blank=True)
    build = models.CharField(_("build"), max_length=8, choices=Build.choices, blank=True)
    distinguishing_marks = models.TextField(_("distinguishing marks"), blank=True)
    language_dialect = models.CharField(_("language or dialect"), max_length=100, blank=True)
    name_index = models.TextField(editable=False, blank=True, default="")
    duplicate_checked = models.BooleanField(
        _("confirmed not a duplicate"),
        default=False,
        help_text=_("Set when a user overrode a duplicate warning."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class MissingPersonReport(RegistryRecord):
    full_name = EncryptedTextField(_("full name"))
    name_pinyin = EncryptedTextField(_("name in pinyin"), blank=True)
    other_names = EncryptedTextField(_("other names or nicknames"), blank=True)
    id_number = EncryptedTextField(_("identity document number"), blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    age_at_disappearance = models.PositiveSmallIntegerField(
        _("age when missing (years)"), null=True, blank=True
    )
    # Derived for search: the birth year, exact or estimated from the age when missing.
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(_("last seen (date and time)"))
    last_seen_division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("last seen in")
    )
    last_seen_latitude = models.FloatField(_("last seen latitude"), null=True, blank=True)
    last_seen_longitude = models.FloatField(_("last seen longitude"), null=True, blank=True)
    last_seen_place = models.CharField(_("last seen place"), max_length=300, blank=True)
    circumstances = models.TextField(_("circumstances"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=MissingStatus.choices, default=MissingStatus.MISSING
    )
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="linked_reports",
        verbose_name=_("same person as"),
    )

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        verbose_name = _("missing person report")
        verbose_name_plural = _("missing person reports")
        indexes = [
            models.Index(fields=["division", "status"]),
            models.Index(fields=["last_seen_at"]),
            models.Index(fields=["sex", "birth_year"]),
        ]

    def __str__(self) -> str:
        return f"MP-{self.pk}"


class ReportingRelative(models.Model):
    report = models.ForeignKey(
        MissingPersonReport, on_delete=models.CASCADE, related_name="relatives"
    )
    name = EncryptedTextField(_("name"))
    relationship = models.CharField(_("relationship"), max_length=16, choices=Relationship.choices)
    contact = EncryptedTextField(_("telephone or other contact"), blank=True)
    is_reporter = models.BooleanField(_("made the report"), default=True)

    class Meta:
        verbose_name = _("reporting relative")
        verbose_name_plural = _("reporting relatives")

    def __str__(self) -> str:
        return f"{self.get_relationship_display()} of MP-{self.report_id}"


class FoundPerson(RegistryRecord):
    """A person of unknown origin: found, unable or unwilling to say who they are."""

    category = models.CharField(_("category"), max_length=32, choices=FoundCategory.choices)
    found_on = models.DateField(_("date found"))
    found_division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("found in")
    )
    found_latitude = models.FloatField(_("found latitude"), null=True, blank=True)
    found_longitude = models.FloatField(_("found longitude"), null=True, blank=True)
    found_place = models.CharField(_("place found"), max_length=300, blank=True)
    institution = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("held now at"),
    )
    held_place = models.CharField(_("where held now (other)"), max_length=300, blank=True)
    age_min = models.PositiveSmallIntegerField(_("estimated age from"))
    age_max = models.PositiveSmallIntegerField(_("estimated age to"))
    description = models.TextField(_("description"), blank=True)
    given_name = EncryptedTextField(_("name the person gives"), blank=True)
    given_name_pinyin = EncryptedTextField(_("that name in pinyin"), blank=True)
    given_places = EncryptedTextField(_("places the person mentions"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=FoundStatus.choices, default=FoundStatus.UNIDENTIFIED
    )
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="linked_records",
        verbose_name=_("same person as"),
    )

    class Meta:
        ordering = ["-found_on", "-id"]
        verbose_name = _("person of unknown origin")
        verbose_name_plural = _("persons of unknown origin")
        indexes = [
            models.Index(fields=["division", "status"]),
            models.Index(fields=["found_on"]),
            models.Index(fields=["category"]),
        ]

    def __str__(self) -> str:
        return f"UP-{self.pk}"


def _photo_path(instance: PersonPhoto, filename: str) -> str:
    return f"photos/{instance.uuid.hex[:2]}/{instance.uuid.hex}.{instance.extension}"


class PersonPhoto(models.Model):
    """A photo kept in private storage and served only through an authorising, audited view."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    missing_report = models.ForeignKey(
        MissingPersonReport, null=True, blank=True, on_delete=models.CASCADE, related_name="photos"
    )
    found_person = models.ForeignKey(
        FoundPerson, null=True, blank=True, on_delete=models.CASCADE, related_name="photos"
    )
    image = models.FileField(upload_to=_photo_path, max_length=200)
    content_type = models.CharField(max_length=32)
    extension = models.CharField(max_length=8)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(missing_report__isnull=False, found_person__isnull=True)
                    | models.Q(missing_report__isnull=True, found_person__isnull=False)
                ),
                name="photo_belongs_to_exactly_one_person",
            )
        ]

    def __str__(self) -> str:
        return f"photo {self.uuid}"
