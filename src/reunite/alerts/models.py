"""Rapid-search alerts: the alert, every CAP message it issued, and the sightings it brought in.

An ``Alert`` belongs to one missing report and its case and lives in the report's jurisdiction.
It starts as a draft, goes out (active) when a duty officer releases it, widens in rings as time
passes since the person was last seen, and ends resolved (the person was found), cancelled or
expired.  Every message it sends — the first ``Alert``, each widening ``Update``, the final
``Cancel`` — is kept as an ``AlertMessage`` holding the exact CAP 1.2 document that was sent, the
ring it reached and how many subscribers that was.  ``Sighting``\\ s are what the public reports
back; they land in the case's tip queue.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reunite.accounts.models import Division
from reunite.cases.models import Case
from reunite.core.crypto import EncryptedTextField
from reunite.people.models import MissingPersonReport, PersonPhoto


class AlertStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    RESOLVED = "resolved", _("Resolved: found")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


OPEN_STATUSES = (AlertStatus.DRAFT, AlertStatus.ACTIVE)
CLOSED_STATUSES = (AlertStatus.RESOLVED, AlertStatus.CANCELLED, AlertStatus.EXPIRED)


class AlertScope(models.TextChoices):
    REGIONAL = "regional", _("Rings, then the province")
    NATIONAL = "national", _("Rings, the province, then the nation (needs a second approval)")


class Alert(models.Model):
    """One rapid-search alert about one missing person.

    The ``publish_*`` flags and ``public_photo`` say which facts of the report may be shown to the
    public; ``public_description`` is written for the public.  ``danger_statement`` and
    ``close_note`` are internal.  ``latitude``/``longitude``/``last_seen_at`` are the centre of
    the rings and the time they widen from, copied from the report when the alert is drafted.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.ForeignKey(
        MissingPersonReport,
        on_delete=models.PROTECT,
        related_name="alerts",
        verbose_name=_("missing person report"),
    )
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="alerts", verbose_name=_("case")
    )
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("jurisdiction")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=AlertStatus.choices, default=AlertStatus.DRAFT
    )
    scope = models.CharField(
        _("scope"), max_length=16, choices=AlertScope.choices, default=AlertScope.REGIONAL
    )

    # What the criteria need that the report does not say.
    at_risk = models.BooleanField(_("a woman at risk"), default=False)
    abduction_or_danger = models.BooleanField(_("abduction or danger stated"), default=False)
    danger_statement = models.TextField(_("why abduction or danger is believed"), blank=True)

    # What is published.
    publish_name = models.BooleanField(_("publish the name"), default=True)
    publish_sex = models.BooleanField(_("publish the sex"), default=True)
    publish_age = models.BooleanField(_("publish the age"), default=True)
    publish_height = models.BooleanField(_("publish the height"), default=True)
    publish_marks = models.BooleanField(_("publish the distinguishing marks"), default=False)
    publish_place = models.BooleanField(_("publish the last-seen place"), default=True)
    public_photo = models.ForeignKey(
        PersonPhoto,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("photo to publish"),
    )
    public_description = models.TextField(_("public description"), blank=True)

    # The centre of the rings and the time they widen from.
    latitude = models.FloatField(_("last seen latitude"))
    longitude = models.FloatField(_("last seen longitude"))
    last_seen_at = models.DateTimeField(_("last seen (date and time)"))

    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    drafted_at = models.DateTimeField(_("drafted"), auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    national_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    national_approved_at = models.DateTimeField(_("national scope approved"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    close_note = models.TextField(_("why it was closed"), blank=True)
    # The criteria as they stood at release: [{"code", "met"}, ...] (no personal data).
    criteria_at_release = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-drafted_at", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        indexes = [models.Index(fields=["status", "division"])]
        constraints = [
            models.UniqueConstraint(
                fields=["report"],
                condition=Q(status__in=["draft", "active"]),
                name="one_open_alert_per_report",
            )
        ]

    def __str__(self) -> str:
        return f"A-{self.pk}"

    @property
    def topic(self) -> str:
        """The notify topic that groups every message of this alert."""
        return f"alert:{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class MessageType(models.TextChoices):
    """CAP ``msgType`` values Reunite sends."""

    ALERT = "Alert", _("Alert")
    UPDATE = "Update", _("Update (widening)")
    CANCEL = "Cancel", _("Cancel (withdrawal)")


class ReachKind(models.TextChoices):
    """Whom a message was sent to."""

    CIRCLE = "circle", _("Ring around the last-seen point")
    PROVINCE = "province", _("The whole province")
    NATION = "nation", _("The whole nation")
    REACHED = "reached", _("Everyone already reached")


class AlertMessage(models.Model):
    """One CAP message an alert issued: an initial ring, a widening, or the withdrawal.

    ``cap_xml`` is the document exactly as sent.  ``reached`` (how many subscribers the message
    was queued for) and ``dispatched_at`` are set once the message has been handed to
    ``reunite.notify``, after the transaction that issued it commits; a message left undispatched
    by a crash is dispatched again by the next ``reunite alerts tick``.
    """

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveSmallIntegerField(_("number"))
    identifier = models.CharField(_("CAP identifier"), max_length=120, unique=True)
    msg_type = models.CharField(_("message type"), max_length=8, choices=MessageType.choices)
    kind = models.CharField(_("reach"), max_length=12, choices=ReachKind.choices)
    label = models.CharField(_("ring"), max_length=16)
    radius_km = models.FloatField(_("radius (km)"), null=True, blank=True)
    division_path = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(_("sent"))
    subject = models.CharField(_("subject"), max_length=200)
    text = models.TextField(_("public text"))
    cap_xml = models.TextField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reached = models.PositiveIntegerField(_("subscribers reached"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("handed to dispatch"), null=True, blank=True)

    class Meta:
        ordering = ["alert", "seq"]
        verbose_name = _("alert message")
        verbose_name_plural = _("alert messages")
        constraints = [
            models.UniqueConstraint(fields=["alert", "seq"], name="unique_alert_message_seq")
        ]
        indexes = [models.Index(fields=["dispatched_at"])]

    def __str__(self) -> str:
        return self.identifier


class LocationSource(models.TextChoices):
    MAP = "map", _("Chosen on the map")
    COORDINATES = "coordinates", _("Typed coordinates")
    ADDRESS = "address", _("Address (approximate: the seat of the county named)")
    TEXT = "text", _("Address only (not placed on the map)")


class SightingStatus(models.TextChoices):
    NEW = "new", _("New")
    CREDIBLE = "credible", _("Credible")
    DISMISSED = "dismissed", _("Dismissed")


def _sighting_photo_path(instance: Sighting, filename: str) -> str:
    return f"sightings/{instance.uuid.hex[:2]}/{instance.uuid.hex}.{instance.photo_extension}"


class Sighting(models.Model):
    """A report from the public: someone believes they saw the person.

    It lands in the case's tip queue.  ``distance_km`` and ``hours_after`` are measured from the
    alert's last-seen point and time (the last confirmed sighting).  The reporter's contact is
    encrypted; the photo is kept in private storage, served only to the police (audited).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="sightings")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="sightings")
    seen_at = models.DateTimeField(_("seen at"))
    reported_at = models.DateTimeField(_("reported"), auto_now_add=True)
    where = models.CharField(_("where"), max_length=300, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    location_source = models.CharField(
        _("location from"), max_length=12, choices=LocationSource.choices
    )
    description = models.TextField(_("what was seen"))
    contact = EncryptedTextField(_("reporter's contact"), blank=True)
    photo = models.FileField(upload_to=_sighting_photo_path, max_length=200, blank=True)
    photo_content_type = models.CharField(max_length=32, blank=True)
    photo_extension = models.CharField(max_length=8, blank=True)
    distance_km = models.FloatField(_("distance from the last-seen point (km)"), null=True)
    hours_after = models.FloatField(_("hours after the person was last seen"))
    status = models.CharField(
        _("status"), max_length=12, choices=SightingStatus.choices, default=SightingStatus.NEW
    )

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name = _("sighting")
        verbose_name_plural = _("sightings")
        indexes = [models.Index(fields=["case", "status"])]

    def __str__(self) -> str:
        return f"S-{self.pk}"
