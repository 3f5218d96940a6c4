"""Cases: the unit of police work that a missing report (and later a found person) opens.

Minimal for now — number, type, status, owning unit, assigned investigators and a timeline —
the responsibility system, supervision and suspects extend it later.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from reunite.accounts.models import Division, Organisation


class CaseType(models.TextChoices):
    MISSING_PERSON = "missing_person", _("Missing person")
    UNKNOWN_ORIGIN = "unknown_origin", _("Person of unknown origin")
    TRAFFICKING = "trafficking", _("Trafficking in women and children")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    INVESTIGATING = "investigating", _("Under investigation")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


class Case(models.Model):
    number = models.CharField(_("case number"), max_length=32, unique=True)
    case_type = models.CharField(_("type"), max_length=20, choices=CaseType.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    owning_unit = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="cases", verbose_name=_("owning unit")
    )
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("jurisdiction")
    )
    investigators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="cases", verbose_name=_("investigators")
    )
    missing_report = models.OneToOneField(
        "people.MissingPersonReport",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="case",
    )
    opened_at = models.DateTimeField(_("opened"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [models.Index(fields=["division", "status"])]

    def __str__(self) -> str:
        return self.number


class CaseEventKind(models.TextChoices):
    OPENED = "opened", _("Case opened")
    ASSIGNED = "assigned", _("Investigator assigned")
    STATUS = "status", _("Status changed")
    REPORT_UPDATED = "report_updated", _("Report updated")
    NOTE = "note", _("Note")
    IDENTIFIED = "identified", _("Identified by DNA")


class CaseEvent(models.Model):
    """One line of a case's timeline.  ``summary`` is written for colleagues, not for the public."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"))
    kind = models.CharField(_("event"), max_length=16, choices=CaseEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.TextField(_("summary"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"
