"""Subscribers of rapid-search alerts, partner webhook endpoints, messages and deliveries.

A ``Subscriber`` is one recipient with a home point (or none: nationwide partners and media).
The point is kept three ways, all plain columns so that ring selection over millions stays fast:
latitude/longitude for people, the H3 cell at ``geo.H3_RESOLUTION`` as a 64-bit integer (indexed;
a circle becomes a few hundred integer ranges), and the unit vector ``(x, y, z)`` so that the
exact great-circle test at the edge of a ring is plain arithmetic in SQL
(``x·cx + y·cy + z·cz ≥ cos(r/R)``) on SQLite and PostgreSQL alike.  Contact data (e-mail,
mobile number, webhook secrets) is encrypted at rest.

A ``Delivery`` is one message to one subscriber on one channel: the durable queue of the
embedded mode, and the record (idempotency key, status, attempts) behind the Redis mode too.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reunite.accounts.models import Division
from reunite.core.crypto import EncryptedTextField


class SubscriberKind(models.TextChoices):
    PERSON = "person", _("Member of the public")
    PARTNER = "partner", _("Partner app or platform")
    MEDIA = "media", _("Media")


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting confirmation")
    ACTIVE = "active", _("Active")
    OPTED_OUT = "opted_out", _("Opted out")
    DISABLED = "disabled", _("Disabled")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Dead letter")


class WebhookEndpoint(models.Model):
    """A partner's or a media house's receiver, registered by an administrator."""

    name = models.CharField(_("name"), max_length=200)
    url = models.CharField(_("URL"), max_length=500)
    secret = EncryptedTextField(_("shared secret"))
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name


class Subscriber(models.Model):
    """One recipient of alerts: a person (e-mail and/or SMS), a partner or media (webhook/e-mail).

    ``active`` mirrors ``status == ACTIVE`` so that the ring index can be partial.  Without a
    home point (``h3_cell`` null) a partner or media subscriber is nationwide: it receives every
    message of every alert.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=SubscriberKind.choices)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=SubscriberStatus.choices,
        default=SubscriberStatus.PENDING,
    )
    active = models.BooleanField(default=False)
    language = models.CharField(_("language"), max_length=16, default="zh-hans")
    # Contact data, encrypted; ``email_index`` is a blind index to recognise a re-subscription.
    email = EncryptedTextField(_("e-mail"), blank=True, default="")
    phone = EncryptedTextField(_("mobile number"), blank=True, default="")
    email_index = models.CharField(max_length=16, blank=True, default="", db_index=True)
    # Changes with every (re)subscription and is cleared on opt-out: old links stop working.
    confirm_nonce = models.CharField(max_length=32, blank=True, default="")
    phone_index = models.CharField(max_length=16, blank=True, default="", db_index=True)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="subscribers",
        verbose_name=_("webhook endpoint"),
    )
    # Home point (plain, for speed) and home division (for province / nation broadcasts).
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    h3_cell = models.BigIntegerField(null=True, blank=True)
    x = models.FloatField(null=True, blank=True)
    y = models.FloatField(null=True, blank=True)
    z = models.FloatField(null=True, blank=True)
    division = models.ForeignKey(
        Division, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    division_path = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        indexes = [
            # Ring selection: index-only range scans over the cells, with the unit vector for
            # the exact test at the edge.
            models.Index(
                fields=["h3_cell", "x", "y", "z"],
                name="notify_sub_ring",
                condition=Q(active=True, h3_cell__isnull=False),
                # PostgreSQL: the id too, so that selecting a ring never reads the table
                # (SQLite's indexes carry the row id anyway and ignore INCLUDE).
                include=["id"],
            ),
            models.Index(
                fields=["division_path"], name="notify_sub_region", condition=Q(active=True)
            ),
            models.Index(
                fields=["kind"],
                name="notify_sub_nationwide",
                condition=Q(active=True, h3_cell__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.public_id}"

    @property
    def channels(self) -> list[str]:
        out = []
        if self.endpoint_id:
            out.append(Channel.WEBHOOK.value)
        if self.email:
            out.append(Channel.EMAIL.value)
        if self.phone:
            out.append(Channel.SMS.value)
        return out


class Message(models.Model):
    """One message of one topic (an alert, its updates, its cancellation), stored once."""

    topic = models.CharField(max_length=100)
    message_key = models.CharField(max_length=200)
    # Random, unguessable prefix of every idempotency key of this message.
    token = models.CharField(max_length=24, unique=True)
    ring = models.CharField(max_length=32)
    subject = models.CharField(max_length=200)
    text = models.TextField()
    url = models.CharField(max_length=500)
    cap_xml = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["topic", "message_key"], name="notify_message_unique")
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.message_key}"


class Delivery(models.Model):
    """One message to one subscriber on one channel; ``idempotency_key`` is sent to receivers.

    Claiming sets ``lease_owner`` and ``lease_expires_at``: a worker that dies leaves rows in
    ``sending`` whose lease runs out, and another worker claims them again (same key).
    Status indexes are partial (waiting, sending, dead), and the table has no index that the
    queue does not use: PostgreSQL writes a new entry into every index (but the partial ones
    the new row falls outside) on each status change, so each index costs twice per delivery.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="+")
    # Copied from the subscriber when queued, so that a webhook batch needs no join.  Not
    # indexed: every index is written again on each status change, and this one would serve
    # only the deletion of an endpoint (rare: endpoints are paused, not deleted, in normal use).
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    topic = models.CharField(max_length=100)
    ring = models.CharField(max_length=32)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    # Unique through ``notify_dlv_key`` (a constraint, not ``unique=True``, which on
    # PostgreSQL adds a second, pattern-matching index that no query uses).
    idempotency_key = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_owner = models.CharField(max_length=100, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="notify_dlv_key"),
        ]
        indexes = [
            models.Index(fields=["topic", "subscriber"], name="notify_dlv_reached"),
            models.Index(
                fields=["next_attempt_at"],
                name="notify_dlv_due",
                condition=Q(status__in=["queued", "failed"]),
            ),
            models.Index(
                fields=["lease_expires_at"],
                name="notify_dlv_leased",
                condition=Q(status="sending"),
            ),
            models.Index(fields=["id"], name="notify_dlv_dead", condition=Q(status="dead")),
        ]

    def __str__(self) -> str:
        return self.idempotency_key
