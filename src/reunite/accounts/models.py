"""Jurisdictions, organisations and users.

The jurisdiction tree is country-neutral: a division has a level (nation → province → city →
county → township), a parent, and a materialised ``path`` of codes so that "everything under this
division" is one indexed prefix query.  Every permission decision is role × jurisdiction
(see ``accounts.permissions``).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class DivisionLevel(models.IntegerChoices):
    NATION = 0, _("Nation")
    PROVINCE = 1, _("Province")
    CITY = 2, _("City")
    COUNTY = 3, _("County")
    TOWNSHIP = 4, _("Township")


class Division(models.Model):
    """An administrative division; ``path`` is ``/CODE/CODE/.../`` from the root down."""

    code = models.CharField(_("code"), max_length=24, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_latin = models.CharField(_("name in Latin script"), max_length=200, blank=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=DivisionLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, unique=True, db_index=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("division")
        verbose_name_plural = _("divisions")
        indexes = [models.Index(fields=["level", "name"])]

    def __str__(self) -> str:
        return self.name

    def contains(self, other: Division) -> bool:
        """True when ``other`` is this division or lies anywhere below it."""
        return other.path.startswith(self.path)

    def ancestors(self) -> list[Division]:
        """The chain from the root down to (and including) this division."""
        codes = [code for code in self.path.strip("/").split("/") if code]
        found = {d.code: d for d in Division.objects.filter(code__in=codes)}
        return [found[c] for c in codes if c in found]

    @property
    def full_name(self) -> str:
        return compose_full_name([(d.name, d.level) for d in self.ancestors()])


def compose_full_name(chain: list[tuple[str, int]]) -> str:
    """ "Province City County" from the (name, level) chain root-first.

    The nation is left out unless it is the whole chain; municipalities, which repeat their name
    at province and city level, are named once.
    """
    names: list[str] = []
    for name, level in chain:
        if level != DivisionLevel.NATION and (not names or names[-1] != name):
            names.append(name)
    return " ".join(names) or (chain[-1][0] if chain else "")


class OrganisationKind(models.TextChoices):
    PUBLIC_SECURITY = "public_security", _("Public security bureau")
    FORENSIC_LAB = "forensic_lab", _("Forensic DNA laboratory")
    CIVIL_AFFAIRS = "civil_affairs", _("Civil affairs")
    HEALTH = "health", _("Health")
    WOMENS_FEDERATION = "womens_federation", _("Women's federation")
    WELFARE_INSTITUTION = "welfare_institution", _("Welfare institution")
    RESCUE_STATION = "rescue_station", _("Rescue and relief station")


class Organisation(models.Model):
    """A unit (bureau, lab, agency, institution) placed at one division of the tree."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=OrganisationKind.choices)
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="organisations", verbose_name=_("division")
    )

    class Meta:
        ordering = ["division__code", "name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(
                fields=["division", "name"], name="unique_org_name_per_division"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    INVESTIGATOR = "investigator", _("Investigator")
    DNA_TECHNICIAN = "dna_technician", _("DNA technician")
    SUPERVISOR = "supervisor", _("Supervisor")
    PARTNER_CIVIL_AFFAIRS = "partner_civil_affairs", _("Partner staff: civil affairs")
    PARTNER_HEALTH = "partner_health", _("Partner staff: health")
    PARTNER_WOMENS_FEDERATION = "partner_womens_federation", _("Partner staff: women's federation")
    PARTNER_WELFARE = "partner_welfare", _("Partner staff: welfare institution")
    ADMINISTRATOR = "administrator", _("Administrator")


class User(AbstractUser):
    """A person who signs in; acts with one role for one organisation."""

    role = models.CharField(_("role"), max_length=32, choices=Role.choices, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("organisation"),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("username"), name="unique_username_ignoring_case")
        ]

    @property
    def jurisdiction(self) -> Division | None:
        return self.organisation.division if self.organisation_id else None  # type: ignore[union-attr]
