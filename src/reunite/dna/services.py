"""Rules of the DNA registry: pedigrees, samples, consent, custody, profiles, QC, and the
purpose limitation every search must respect (laboratory files: ``dna.imports``).

Forms and the JSON API hand plain ``*Data`` objects to these functions, which authorise
(role × jurisdiction of the donor's record, refusals audited), validate, then act inside one
transaction and write the audit log.  Audit details hold counts, codes and field names: never
alleles, never names.

Purpose limitation (DESIGN.md: family reference DNA is used only to search for their missing
relative) lives in :func:`comparison_targets` / :func:`may_compare`: a family reference is
compared with unidentified profiles only (and, for quality control, with its own family's
references), never with another family's references; an unidentified profile is compared with
references.  Only :meth:`ProfileQuerySet.searchable` profiles take part (active, QC passed,
consent in force).

Consent withdrawal (DESIGN.md: every profile carries its consent and purpose) leaves no purpose
for the DNA: every sample of that donor is marked withdrawn, every profile made inactive and its
genotypes erased (alleles, amelogenin, digest), while the pseudonym, the metadata, the custody
chain and the audit trail stay, so that what happened can still be shown.  The physical sample
then waits on the work list for a ``destroyed`` custody event.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from reunite.accounts.models import Division, Organisation, OrganisationKind, User
from reunite.accounts.permissions import Action, can, role_allows, scope_q
from reunite.audit.models import AuditAction
from reunite.audit.services import record
from reunite.core.errors import AccessDenied, DomainError, FieldErrors, NotFound, ValidationFailed
from reunite.dna.genotypes import (
    CanonicalProfile,
    Genotypes,
    canonical_genotypes,
    discordant_loci,
    genotype_digest,
    implausible_alleles,
)
from reunite.dna.models import (
    ConsentGiver,
    ConsentScope,
    CustodyEvent,
    CustodyKind,
    FamilyMember,
    ImportBatch,
    InactiveReason,
    KinRelationship,
    Profile,
    ProfileRole,
    QcStatus,
    Sample,
    SampleStatus,
    SampleType,
    TypingKit,
)
from reunite.dna.reasons import describe
from reunite.kinship import KinshipInputError, Pedigree
from reunite.kinship.loci import AMELOGENIN, locus_sort_key
from reunite.people.models import FoundPerson, MissingPersonReport, Sex

SAMPLE_TYPE = "dna_sample"
PROFILE_TYPE = "dna_profile"
IMPORT_TYPE = "dna_import"
FAMILY_TYPE = "dna_family"

MAX_NOTE = 2000
MAX_NAME = 200
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
PSEUDONYM_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
NUMBER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._#/- ")

# The purpose each side's donor consents to.
SCOPE_FOR_ROLE: dict[str, ConsentScope] = {
    ProfileRole.REFERENCE: ConsentScope.FAMILY_SEARCH,
    ProfileRole.UNIDENTIFIED: ConsentScope.IDENTIFICATION,
}

# Custody events a user records, with the statuses they may follow and the status they lead to.
CUSTODY_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    CustodyKind.HANDED_OVER: (
        frozenset(
            {SampleStatus.COLLECTED, SampleStatus.RECEIVED, SampleStatus.STORED, SampleStatus.TYPED}
        ),
        SampleStatus.IN_TRANSIT,
    ),
    CustodyKind.RECEIVED: (
        frozenset({SampleStatus.COLLECTED, SampleStatus.IN_TRANSIT}),
        SampleStatus.RECEIVED,
    ),
    CustodyKind.STORED: (
        frozenset({SampleStatus.RECEIVED, SampleStatus.TYPED}),
        SampleStatus.STORED,
    ),
    CustodyKind.TYPED: (
        frozenset({SampleStatus.RECEIVED, SampleStatus.STORED, SampleStatus.TYPED}),
        SampleStatus.TYPED,
    ),
    CustodyKind.DESTROYED: (
        frozenset(set(SampleStatus.values) - {SampleStatus.DESTROYED}),
        SampleStatus.DESTROYED,
    ),
}
# Handing a sample over is field work; everything after it is the laboratory's.
CUSTODY_ACTION = {
    kind: (Action.COLLECT_DNA if kind == CustodyKind.HANDED_OVER else Action.EDIT_DNA)
    for kind in CUSTODY_TRANSITIONS
}
# Paperwork, not a movement of the sample: not part of the chronological order of custody.
CONSENT_EVENTS = (CustodyKind.CONSENT_RECORDED, CustodyKind.CONSENT_WITHDRAWN)
# A profile may be typed from a sample the laboratory holds.
TYPABLE = frozenset({SampleStatus.RECEIVED, SampleStatus.STORED, SampleStatus.TYPED})

# QC reasons an import adds and a later QC run keeps.
STICKY_QC = frozenset({"mixture_seen", "retyping_conflict"})


def min_typed_loci() -> int:
    return int(getattr(settings, "DNA_MIN_TYPED_LOCI", 15))


def allele_margin() -> float:
    return float(getattr(settings, "DNA_ALLELE_MARGIN_REPEATS", 3.0))


def import_max_bytes() -> int:
    return int(getattr(settings, "DNA_IMPORT_MAX_BYTES", 5 * 1024 * 1024))


def import_max_rows() -> int:
    return int(getattr(settings, "DNA_IMPORT_MAX_ROWS", 50_000))


class FileTooLarge(DomainError):
    status_code = 413


class ProfileConflict(DomainError):
    """A second typing of a sample by the same lab and kit disagrees with the stored one."""

    status_code = 409


# --------------------------------------------------------------------------- shared checks


def _check_text(
    errors: FieldErrors, name: str, value: str, limit: int, *, required: bool = False
) -> None:
    if required and not value.strip():
        errors.add(name, _("This field is required."))
    elif len(value) > limit:
        errors.add(name, _("At most %(n)d characters.") % {"n": limit})
    elif "\x00" in value:
        errors.add(name, _("Text may not contain NUL characters."))
    else:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            errors.add(name, _("Text is not valid Unicode."))


def _check_moment(errors: FieldErrors, name: str, value: dt.datetime) -> None:
    if value > timezone.now():
        errors.add(name, _("This time is in the future."))
    elif value < EARLIEST:
        errors.add(name, _("This time is too far in the past."))


def _require(
    acting_user: User,
    action: Action,
    division: Division | None,
    *,
    object_type: str,
    object_id: object = "",
) -> None:
    """Refuse, and write the refusal to the audit log, unless ``action`` is allowed there."""
    if not can(acting_user, action, division):
        record(
            actor=acting_user,
            action=AuditAction.DENIED,
            object_type=object_type,
            object_id=object_id,
            details={"wanted": str(action), "division": division.code if division else None},
        )
        raise AccessDenied(_("You may not do this for this jurisdiction."))


def ensure_role(*, acting_user: User, action: Action, object_type: str = SAMPLE_TYPE) -> None:
    """Refuse (and audit) a user whose role grants ``action`` nowhere."""
    _require(acting_user, action, None, object_type=object_type)


def lab_of(acting_user: User) -> Organisation:
    """The acting user's forensic laboratory: only a laboratory types and imports profiles."""
    unit = acting_user.organisation
    if unit is None or unit.kind != OrganisationKind.FORENSIC_LAB:
        record(
            actor=acting_user,
            action=AuditAction.DENIED,
            object_type=PROFILE_TYPE,
            details={"wanted": "type_profiles", "unit_kind": unit.kind if unit else None},
        )
        raise AccessDenied(_("Only the staff of a forensic DNA laboratory can store profiles."))
    return unit


def audit(
    acting_user: User,
    action: AuditAction,
    object_type: str,
    object_id: object = "",
    **details: Any,
) -> None:
    record(
        actor=acting_user,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details or None,
    )


# --------------------------------------------------------------------------- family pedigree

MISSING_CODE = "MP"
# Relationships with one place in the pedigree: (code, sex).
FIXED_PLACES: dict[str, tuple[str, str]] = {
    KinRelationship.MOTHER: ("MO", Sex.FEMALE),
    KinRelationship.FATHER: ("FA", Sex.MALE),
    KinRelationship.MATERNAL_GRANDMOTHER: ("MGM", Sex.FEMALE),
    KinRelationship.MATERNAL_GRANDFATHER: ("MGF", Sex.MALE),
    KinRelationship.PATERNAL_GRANDMOTHER: ("PGM", Sex.FEMALE),
    KinRelationship.PATERNAL_GRANDFATHER: ("PGF", Sex.MALE),
}
# Relationships that may occur several times: the code prefix, numbered from 1.
SERIAL_PREFIXES: dict[str, str] = {
    KinRelationship.FULL_SIBLING: "S",
    KinRelationship.MATERNAL_HALF_SIBLING: "HSM",
    KinRelationship.PATERNAL_HALF_SIBLING: "HSP",
    KinRelationship.MATERNAL_UNCLE_AUNT: "UAM",
    KinRelationship.PATERNAL_UNCLE_AUNT: "UAP",
    KinRelationship.CHILD: "C",
}


@dataclass
class FamilyMemberData:
    """A relative to place in the family: ``sex`` is needed only where the relationship does
    not fix it (siblings, uncles and aunts, children)."""

    relationship: str
    sex: str = ""
    name: str = ""


def _get_report(acting_user: User, report_id: int, action: Action) -> MissingPersonReport:
    report = MissingPersonReport.objects.select_related("division").filter(pk=report_id).first()
    if report is None:
        raise NotFound(_("No such missing person report."))
    _require(acting_user, action, report.division, object_type=FAMILY_TYPE, object_id=report_id)
    return report


def family_members(report: MissingPersonReport) -> list[FamilyMember]:
    """The family's places in the pedigree, the missing person first, then in order added."""
    members = list(FamilyMember.objects.filter(report=report).order_by("id"))
    return sorted(members, key=lambda m: (not m.is_missing_person, m.pk))


def get_family(
    *, acting_user: User, report_id: int
) -> tuple[MissingPersonReport, list[FamilyMember]]:
    """A report and its family pedigree (audited read)."""
    report = _get_report(acting_user, report_id, Action.VIEW_DNA)
    audit(acting_user, AuditAction.READ, FAMILY_TYPE, report.pk)
    return report, family_members(report)


class _Family:
    """The members of one family while a relative is being placed (saved as they change)."""

    def __init__(self, report: MissingPersonReport, acting_user: User) -> None:
        self.report = report
        self.user = acting_user
        self.by_code = {m.code: m for m in FamilyMember.objects.filter(report=report)}
        self.missing = self.by_code.get(MISSING_CODE) or self._new(
            MISSING_CODE, KinRelationship.MISSING_PERSON, report.sex
        )

    def _new(self, code: str, relationship: str, sex: str, **links: Any) -> FamilyMember:
        member = FamilyMember.objects.create(
            report=self.report,
            code=code,
            relationship=relationship,
            sex=sex,
            created_by=self.user,
            **links,
        )
        self.by_code[code] = member
        return member

    def fixed(self, relationship: str) -> FamilyMember:
        code, sex = FIXED_PLACES[relationship]
        return self.by_code.get(code) or self._new(code, relationship, sex)

    def link(self, child: FamilyMember, role: str, parent: FamilyMember) -> None:
        current = getattr(child, f"{role}_id")
        if current is not None and current != parent.pk:
            raise ValidationFailed(
                _("The pedigree already places another person there."),
                field_errors={"relationship": [_("This place is already taken.")]},
            )
        if current is None:
            setattr(child, role, parent)
            child.save(update_fields=[role])

    def parent(self, role: str) -> FamilyMember:
        """The missing person's mother or father (an untyped place if not given yet)."""
        relationship = KinRelationship.MOTHER if role == "mother" else KinRelationship.FATHER
        member = self.fixed(relationship)
        self.link(self.missing, role, member)
        return member

    def grandparent(self, side: str, role: str) -> FamilyMember:
        parent = self.parent(side)
        relationship = {
            ("mother", "mother"): KinRelationship.MATERNAL_GRANDMOTHER,
            ("mother", "father"): KinRelationship.MATERNAL_GRANDFATHER,
            ("father", "mother"): KinRelationship.PATERNAL_GRANDMOTHER,
            ("father", "father"): KinRelationship.PATERNAL_GRANDFATHER,
        }[(side, role)]
        member = self.fixed(relationship)
        self.link(parent, role, member)
        return member

    def serial(self, relationship: str, sex: str, **links: Any) -> FamilyMember:
        prefix = SERIAL_PREFIXES[relationship]
        taken = [
            int(code[len(prefix) :])
            for code in self.by_code
            if code.startswith(prefix) and code[len(prefix) :].isdigit()
        ]
        return self._new(f"{prefix}{max(taken, default=0) + 1}", relationship, sex, **links)

    def place(self, relationship: str, sex: str) -> FamilyMember:
        """The member at ``relationship``'s place, created (with the untyped places it needs)
        unless the relationship has one fixed place that is there already."""
        match relationship:
            case KinRelationship.MOTHER:
                return self.parent("mother")
            case KinRelationship.FATHER:
                return self.parent("father")
            case KinRelationship.MATERNAL_GRANDMOTHER:
                return self.grandparent("mother", "mother")
            case KinRelationship.MATERNAL_GRANDFATHER:
                return self.grandparent("mother", "father")
            case KinRelationship.PATERNAL_GRANDMOTHER:
                return self.grandparent("father", "mother")
            case KinRelationship.PATERNAL_GRANDFATHER:
                return self.grandparent("father", "father")
            case KinRelationship.FULL_SIBLING:
                return self.serial(
                    relationship, sex, mother=self.parent("mother"), father=self.parent("father")
                )
            case KinRelationship.MATERNAL_HALF_SIBLING:
                return self.serial(relationship, sex, mother=self.parent("mother"))
            case KinRelationship.PATERNAL_HALF_SIBLING:
                return self.serial(relationship, sex, father=self.parent("father"))
            case KinRelationship.MATERNAL_UNCLE_AUNT | KinRelationship.PATERNAL_UNCLE_AUNT:
                side = "mother" if relationship == KinRelationship.MATERNAL_UNCLE_AUNT else "father"
                return self.serial(
                    relationship,
                    sex,
                    mother=self.grandparent(side, "mother"),
                    father=self.grandparent(side, "father"),
                )
            case KinRelationship.CHILD:
                if self.missing.sex not in (Sex.MALE, Sex.FEMALE):
                    raise ValidationFailed(
                        _("Record the missing person's sex before placing their child."),
                        field_errors={"relationship": [_("The missing person's sex is unknown.")]},
                    )
                role = "mother" if self.missing.sex == Sex.FEMALE else "father"
                return self.serial(relationship, sex, **{role: self.missing})
        raise ValidationFailed(  # pragma: no cover - validated before
            _("Not a valid choice."), field_errors={"relationship": [_("Not a valid choice.")]}
        )


def validate_family_member(data: FamilyMemberData) -> None:
    errors = FieldErrors()
    if data.relationship not in KinRelationship.values or (
        data.relationship == KinRelationship.MISSING_PERSON
    ):
        errors.add("relationship", _("Not a valid choice."))
    elif data.relationship in SERIAL_PREFIXES and data.sex not in (Sex.MALE, Sex.FEMALE):
        errors.add("sex", _("Give the relative's sex (male or female)."))
    elif data.relationship in FIXED_PLACES and data.sex not in (
        "",
        FIXED_PLACES[data.relationship][1],
    ):
        errors.add("sex", _("This relationship fixes the sex."))
    _check_text(errors, "name", data.name, MAX_NAME)
    errors.raise_if_any()


def add_family_member(*, acting_user: User, report_id: int, data: FamilyMemberData) -> FamilyMember:
    """Place a relative in the report's family pedigree (creating the untyped places that link
    them to the missing person).  A mother, father or grandparent already placed is returned
    (its name filled in if it had none), not doubled.  Audited."""
    report = _get_report(acting_user, report_id, Action.COLLECT_DNA)
    validate_family_member(data)
    with transaction.atomic():
        # One placement at a time per family: codes are numbered from what is there.
        MissingPersonReport.objects.select_for_update().filter(pk=report.pk).first()
        family = _Family(report, acting_user)
        before = set(family.by_code)
        member = family.place(data.relationship, data.sex)
        if data.name.strip() and not member.name:
            member.name = data.name.strip()
            member.save(update_fields=["name"])
        try:
            build_pedigree(family.by_code.values())
        except KinshipInputError as exc:  # pragma: no cover - placements keep it valid
            raise ValidationFailed(str(exc), field_errors={"relationship": [str(exc)]}) from exc
        audit(
            acting_user,
            AuditAction.UPDATE,
            FAMILY_TYPE,
            report.pk,
            placed=member.code,
            added=sorted(set(family.by_code) - before),
        )
    return member


def build_pedigree(members: Iterable[FamilyMember]) -> Pedigree:
    """A ``reunite.kinship.Pedigree`` of family members; ids are the members' codes.

    The engine needs a sex for every person: the one place that may have none recorded is the
    missing person (from the report), and only while they have no child in the pedigree, where
    it plays no part in an autosomal likelihood; "M" is then used.
    """
    members = list(members)
    code_of = {m.pk: m.code for m in members}
    spec: list[dict[str, str]] = []
    for m in members:
        entry = {"id": m.code, "sex": m.sex if m.sex in (Sex.MALE, Sex.FEMALE) else Sex.MALE}
        if m.mother_id is not None:
            entry["mother"] = code_of[m.mother_id]
        if m.father_id is not None:
            entry["father"] = code_of[m.father_id]
        spec.append(entry)
    return Pedigree.from_spec(spec)


@dataclass(frozen=True)
class FamilyPedigree:
    """What the kinship engine needs of one family.

    ``pedigree``: ids are member codes; ``missing_id``: the missing person's id in it (where the
    unidentified profile is placed under H1); ``typed``: member code → id of the searchable
    reference profile used for that member (the one with the most loci, then the newest).
    """

    report_id: int
    pedigree: Pedigree
    missing_id: str
    typed: Mapping[str, int]


def family_pedigrees(report_ids: Iterable[int] | None = None) -> Iterator[FamilyPedigree]:
    """The pedigree of every family with at least one searchable reference profile (or of the
    given reports), for the search engine: two queries however many families.  No access
    check: this is system use, and yields no names and no alleles."""
    profiles = Profile.objects.searchable().filter(role=ProfileRole.REFERENCE)
    if report_ids is not None:
        profiles = profiles.filter(sample__family_member__report_id__in=list(report_ids))
    best: dict[int, dict[str, tuple[tuple[int, int], int]]] = defaultdict(dict)
    for pk, report_id, code, loci in profiles.values_list(
        "pk", "sample__family_member__report_id", "sample__family_member__code", "locus_count"
    ):
        rank = (loci, pk)
        if code not in best[report_id] or rank > best[report_id][code][0]:
            best[report_id][code] = (rank, pk)
    members: dict[int, list[FamilyMember]] = defaultdict(list)
    for member in FamilyMember.objects.filter(report_id__in=list(best)).order_by("report_id", "id"):
        members[member.report_id].append(member)
    for report_id in sorted(best):
        yield FamilyPedigree(
            report_id=report_id,
            pedigree=build_pedigree(members[report_id]),
            missing_id=MISSING_CODE,
            typed={code: pk for code, (_rank, pk) in best[report_id].items()},
        )


def family_pedigree(report_id: int) -> FamilyPedigree | None:
    """:func:`family_pedigrees` for one report; ``None`` when it has no searchable reference."""
    return next(family_pedigrees([report_id]), None)


# --------------------------------------------------------------------------- samples


@dataclass
class ConsentData:
    """Who consented (the donor, or a guardian for a child or a person unable to consent), to
    what purpose, when, and the number of the signed form."""

    given_by: str
    scope: str
    date: dt.date
    guardian_name: str = ""
    guardian_relation: str = ""
    reference: str = ""


@dataclass
class SampleData:
    """A sample to register: exactly one donor (a found person or a family member)."""

    sample_type: str
    collected_at: dt.datetime
    collected_by: str
    found_person_id: int | None = None
    family_member_id: int | None = None
    number: str = ""
    sample_type_other: str = ""
    collected_place: str = ""
    consent: ConsentData | None = None


@dataclass(frozen=True)
class Donor:
    """Whom a sample comes from, as the registration form shows it (no name)."""

    role: str
    division: Division
    label: str
    sex: str
    found_person: FoundPerson | None = None
    family_member: FamilyMember | None = None


def _donor(found_person_id: int | None, family_member_id: int | None) -> Donor:
    if (found_person_id is None) == (family_member_id is None):
        msg = _("Choose either a person of unknown origin or a family member as the donor.")
        raise ValidationFailed(msg, field_errors={"donor": [msg]})
    if found_person_id is not None:
        person = FoundPerson.objects.select_related("division").filter(pk=found_person_id).first()
        if person is None:
            raise NotFound(_("No such person of unknown origin."))
        return Donor(
            role=ProfileRole.UNIDENTIFIED,
            division=person.division,
            label=str(person),
            sex=person.sex,
            found_person=person,
        )
    assert family_member_id is not None
    member = (
        FamilyMember.objects.select_related("report__division").filter(pk=family_member_id).first()
    )
    if member is None:
        raise NotFound(_("No such family member."))
    return Donor(
        role=ProfileRole.REFERENCE,
        division=member.report.division,
        label=str(member),
        sex=member.sex,
        family_member=member,
    )


def get_donor(
    *,
    acting_user: User,
    found_person_id: int | None = None,
    family_member_id: int | None = None,
) -> Donor:
    """The donor a sample is about to be registered for, if the user may collect there."""
    donor = _donor(found_person_id, family_member_id)
    _require(acting_user, Action.COLLECT_DNA, donor.division, object_type=SAMPLE_TYPE)
    if donor.family_member is not None and donor.family_member.is_missing_person:
        msg = _("Samples of the missing person's own belongings are not registered here.")
        raise ValidationFailed(msg, field_errors={"donor": [msg]})
    return donor


def number_key(number: str) -> str:
    return number.strip().upper()


def _new_sample_number() -> str:
    year = timezone.localdate().year
    while True:
        number = f"S-{year}-" + "".join(secrets.choice(PSEUDONYM_ALPHABET) for _ in range(6))
        if not Sample.objects.filter(number_key=number_key(number)).exists():
            return number


def new_pseudonym(taken: set[str] | None = None) -> str:
    """A fresh profile pseudonym such as ``P-7K3Q9X`` (random; unique)."""
    while True:
        value = "P-" + "".join(secrets.choice(PSEUDONYM_ALPHABET) for _ in range(6))
        if (taken is None or value not in taken) and not Profile.objects.filter(
            pseudonym=value
        ).exists():
            return value


def _check_consent(errors: FieldErrors, consent: ConsentData, role: str) -> None:
    if consent.given_by not in (ConsentGiver.DONOR, ConsentGiver.GUARDIAN):
        errors.add("consent_given_by", _("Not a valid choice."))
    if consent.scope != SCOPE_FOR_ROLE[role]:
        errors.add(
            "consent_scope",
            _("A donor on this side may only consent to: %(scope)s.")
            % {"scope": SCOPE_FOR_ROLE[role].label},
        )
    if consent.date > timezone.localdate():
        errors.add("consent_date", _("The date of consent is in the future."))
    elif consent.date < EARLIEST.date():
        errors.add("consent_date", _("This date is too far in the past."))
    _check_text(
        errors,
        "consent_guardian_name",
        consent.guardian_name,
        MAX_NAME,
        required=consent.given_by == ConsentGiver.GUARDIAN,
    )
    _check_text(errors, "consent_guardian_relation", consent.guardian_relation, 100)
    _check_text(errors, "consent_reference", consent.reference, 64)


def validate_sample(data: SampleData, role: str) -> None:
    errors = FieldErrors()
    if data.sample_type not in SampleType.values:
        errors.add("sample_type", _("Not a valid choice."))
    _check_text(
        errors,
        "sample_type_other",
        data.sample_type_other,
        100,
        required=data.sample_type == SampleType.OTHER,
    )
    _check_moment(errors, "collected_at", data.collected_at)
    _check_text(errors, "collected_by", data.collected_by, 100, required=True)
    _check_text(errors, "collected_place", data.collected_place, 300)
    number = data.number.strip()
    if number:
        if len(number) > 64:
            errors.add("number", _("At most %(n)d characters.") % {"n": 64})
        elif not set(number) <= NUMBER_CHARS:
            errors.add(
                "number",
                _("Use letters, digits, spaces and . _ # / - only (as the lab files write it)."),
            )
        elif Sample.objects.filter(number_key=number_key(number)).exists():
            errors.add("number", _("A sample with this number is already registered."))
    if data.consent is not None:
        _check_consent(errors, data.consent, role)
    errors.raise_if_any()


def _custody(
    sample: Sample,
    kind: str,
    acting_user: User | None,
    *,
    at: dt.datetime | None = None,
    handler: str = "",
    unit: Organisation | None = None,
    place: str = "",
    notes: str = "",
) -> CustodyEvent:
    return CustodyEvent.objects.create(
        sample=sample,
        kind=kind,
        at=at or timezone.now(),
        handler=handler,
        unit=unit,
        place=place,
        notes=notes,
        recorded_by=acting_user,
    )


def _apply_consent(sample: Sample, consent: ConsentData, acting_user: User) -> None:
    sample.consent_given_by = consent.given_by
    sample.consent_scope = consent.scope
    sample.consent_date = consent.date
    sample.consent_guardian_name = (
        consent.guardian_name.strip() if consent.given_by == ConsentGiver.GUARDIAN else ""
    )
    sample.consent_guardian_relation = (
        consent.guardian_relation.strip() if consent.given_by == ConsentGiver.GUARDIAN else ""
    )
    sample.consent_reference = consent.reference.strip()
    sample.consent_recorded_by = acting_user


def register_sample(*, acting_user: User, data: SampleData) -> Sample:
    """Register a collected sample (with its consent, if the form is signed already).

    The sample starts its chain of custody with a ``collected`` event held by the user's unit;
    without consent it can be handed over and received but not typed.  Audited.
    """
    donor = get_donor(
        acting_user=acting_user,
        found_person_id=data.found_person_id,
        family_member_id=data.family_member_id,
    )
    unit = acting_user.organisation
    if unit is None:
        raise AccessDenied(_("Your account belongs to no unit."))
    validate_sample(data, donor.role)
    with transaction.atomic():
        number = data.number.strip() or _new_sample_number()
        sample = Sample(
            number=number,
            number_key=number_key(number),
            role=donor.role,
            found_person=donor.found_person,
            family_member=donor.family_member,
            division=donor.division,
            sample_type=data.sample_type,
            sample_type_other=data.sample_type_other.strip()
            if data.sample_type == SampleType.OTHER
            else "",
            collected_at=data.collected_at,
            collected_by=data.collected_by.strip(),
            collecting_unit=unit,
            collected_place=data.collected_place.strip(),
            holder=unit,
            created_by=acting_user,
        )
        if data.consent is not None:
            _apply_consent(sample, data.consent, acting_user)
        sample.save()
        _custody(
            sample,
            CustodyKind.COLLECTED,
            acting_user,
            at=data.collected_at,
            handler=sample.collected_by,
            unit=unit,
            place=sample.collected_place,
        )
        if data.consent is not None:
            _custody(sample, CustodyKind.CONSENT_RECORDED, acting_user, unit=unit)
        audit(
            acting_user,
            AuditAction.CREATE,
            SAMPLE_TYPE,
            sample.pk,
            role=sample.role,
            donor=donor.label,
            consent=data.consent is not None,
        )
    return sample


def sample_queryset() -> QuerySet[Sample]:
    return Sample.objects.select_related(
        "division",
        "found_person",
        "family_member__report",
        "collecting_unit",
        "holder",
    )


def _get_sample(acting_user: User, sample_id: int, action: Action) -> Sample:
    sample = sample_queryset().filter(pk=sample_id).first()
    if sample is None:
        raise NotFound(_("No such sample."))
    _require(acting_user, action, sample.division, object_type=SAMPLE_TYPE, object_id=sample_id)
    return sample


def get_sample(*, acting_user: User, sample_id: int) -> Sample:
    """One sample with its consent and custody (audited read)."""
    sample = _get_sample(acting_user, sample_id, Action.VIEW_DNA)
    audit(acting_user, AuditAction.READ, SAMPLE_TYPE, sample.pk)
    return sample


def record_consent(*, acting_user: User, sample_id: int, consent: ConsentData) -> Sample:
    """Record the consent of a sample registered without it (audited)."""
    found = _get_sample(acting_user, sample_id, Action.COLLECT_DNA)
    errors = FieldErrors()
    _check_consent(errors, consent, found.role)
    errors.raise_if_any()
    with transaction.atomic():
        sample = Sample.objects.select_for_update().get(pk=found.pk)
        if sample.consent_withdrawn:
            msg = _("The donor withdrew consent: a new sample needs a new consent.")
            raise ValidationFailed(msg, field_errors={"consent_given_by": [msg]})
        if sample.consent_recorded:
            msg = _("Consent is already recorded for this sample.")
            raise ValidationFailed(msg, field_errors={"consent_given_by": [msg]})
        _apply_consent(sample, consent, acting_user)
        sample.save()
        _custody(sample, CustodyKind.CONSENT_RECORDED, acting_user, unit=acting_user.organisation)
        audit(acting_user, AuditAction.UPDATE, SAMPLE_TYPE, sample.pk, consent="recorded")
    return sample


def _donor_samples(sample: Sample) -> QuerySet[Sample]:
    if sample.found_person_id is not None:
        return Sample.objects.filter(found_person_id=sample.found_person_id)
    return Sample.objects.filter(family_member_id=sample.family_member_id)


def _erase(profile: Profile, reason: str, now: dt.datetime) -> None:
    profile.active = False
    profile.inactive_reason = reason
    profile.deactivated_at = profile.deactivated_at or now
    profile.genotypes = {}
    profile.amelogenin = ""
    profile.genotype_digest = ""
    profile.erased_at = now
    profile.save()


def withdraw_consent(
    *, acting_user: User, sample_id: int, reason: str, at: dt.datetime | None = None
) -> Sample:
    """The donor withdraws consent: every sample of this donor is marked withdrawn, every
    profile made inactive and its genotypes erased; custody and audit record it.

    Raises ``ValidationFailed`` when consent is already withdrawn or no reason is given.
    """
    found = _get_sample(acting_user, sample_id, Action.COLLECT_DNA)
    errors = FieldErrors()
    _check_text(errors, "reason", reason, MAX_NOTE, required=True)
    moment = at or timezone.now()
    _check_moment(errors, "at", moment)
    if found.consent_withdrawn:
        errors.add("reason", _("Consent is already withdrawn."))
    errors.raise_if_any()
    now = timezone.now()
    with transaction.atomic():
        samples = list(
            _donor_samples(found)
            .select_for_update()
            .filter(consent_withdrawn_at__isnull=True)
            .order_by("pk")
        )
        for sample in samples:
            sample.consent_withdrawn_at = moment
            sample.consent_withdrawal_reason = reason.strip()
            sample.consent_withdrawn_by = acting_user
            sample.save()
            erased = 0
            for profile in sample.profiles.filter(erased_at__isnull=True):
                _erase(profile, InactiveReason.CONSENT_WITHDRAWN, now)
                erased += 1
            _custody(
                sample,
                CustodyKind.CONSENT_WITHDRAWN,
                acting_user,
                at=moment,
                unit=acting_user.organisation,
                notes=_("%(n)d profile(s) made inactive and their genotypes erased.")
                % {"n": erased},
            )
            audit(
                acting_user,
                AuditAction.UPDATE,
                SAMPLE_TYPE,
                sample.pk,
                consent="withdrawn",
                profiles_erased=erased,
            )
    return Sample.objects.get(pk=found.pk)


@dataclass
class CustodyData:
    kind: str
    at: dt.datetime
    handler: str = ""
    place: str = ""
    notes: str = ""


def custody_kinds_for(acting_user: User, sample: Sample) -> list[str]:
    """The custody events the user may record next for ``sample``, in lifecycle order."""
    return [
        kind
        for kind, (after, _to) in CUSTODY_TRANSITIONS.items()
        if sample.status in after and can(acting_user, CUSTODY_ACTION[kind], sample.division)
    ]


def add_custody_event(*, acting_user: User, sample_id: int, data: CustodyData) -> CustodyEvent:
    """Record the next step of the chain of custody (audited).

    Handing over is field work (``COLLECT_DNA``); receiving, storing, typing and destroying are
    the laboratory's (``EDIT_DNA``).  Events follow ``CUSTODY_TRANSITIONS`` and each other in
    time.  Destroying the sample makes its profiles inactive.
    """
    if data.kind not in CUSTODY_TRANSITIONS:
        msg = _("Not a valid choice.")
        raise ValidationFailed(msg, field_errors={"kind": [msg]})
    found = _get_sample(acting_user, sample_id, CUSTODY_ACTION[data.kind])
    errors = FieldErrors()
    _check_moment(errors, "at", data.at)
    _check_text(errors, "handler", data.handler, 100)
    _check_text(errors, "place", data.place, 300)
    _check_text(errors, "notes", data.notes, MAX_NOTE)
    errors.raise_if_any()
    with transaction.atomic():
        sample = Sample.objects.select_for_update().get(pk=found.pk)
        after, status = CUSTODY_TRANSITIONS[data.kind]
        if sample.status not in after:
            msg = _("A sample that is “%(status)s” cannot be “%(event)s”.") % {
                "status": SampleStatus(sample.status).label,
                "event": CustodyKind(data.kind).label,
            }
            raise ValidationFailed(msg, field_errors={"kind": [msg]})
        last = (
            sample.custody.exclude(kind__in=CONSENT_EVENTS)
            .order_by("-at", "-id")
            .values_list("at", flat=True)
            .first()
        )
        if last is not None and data.at < last:
            msg = _("This is earlier than the previous custody event (%(at)s).") % {
                "at": timezone.localtime(last).strftime("%Y-%m-%d %H:%M")
            }
            raise ValidationFailed(msg, field_errors={"at": [msg]})
        unit = acting_user.organisation
        event = _custody(
            sample,
            data.kind,
            acting_user,
            at=data.at,
            handler=data.handler.strip(),
            unit=unit,
            place=data.place.strip(),
            notes=data.notes.strip(),
        )
        sample.status = status
        if data.kind == CustodyKind.RECEIVED:
            sample.holder = unit
        sample.save(update_fields=["status", "holder", "updated_at"])
        deactivated = 0
        if data.kind == CustodyKind.DESTROYED:
            deactivated = sample.profiles.filter(active=True).update(
                active=False,
                inactive_reason=InactiveReason.SAMPLE_DESTROYED,
                deactivated_at=timezone.now(),
            )
        audit(
            acting_user,
            AuditAction.UPDATE,
            SAMPLE_TYPE,
            sample.pk,
            custody=data.kind,
            profiles_deactivated=deactivated,
        )
    return event


@dataclass
class SampleFilters:
    number: str = ""
    status: str = ""
    role: str = ""
    consent: str = ""  # "missing", "given", "withdrawn"


def search_samples(*, acting_user: User, filters: SampleFilters) -> QuerySet[Sample]:
    """Samples of the user's jurisdiction matching ``filters`` (the search is audited)."""
    ensure_role(acting_user=acting_user, action=Action.VIEW_DNA)
    qs = sample_queryset().filter(scope_q(acting_user, Action.VIEW_DNA))
    if filters.number.strip():
        qs = qs.filter(number_key__contains=number_key(filters.number))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.role:
        qs = qs.filter(role=filters.role)
    if filters.consent == "missing":
        qs = qs.filter(consent_given_by="", consent_withdrawn_at__isnull=True)
    elif filters.consent == "given":
        qs = qs.exclude(consent_given_by="").filter(consent_withdrawn_at__isnull=True)
    elif filters.consent == "withdrawn":
        qs = qs.filter(consent_withdrawn_at__isnull=False)
    audit(
        acting_user,
        AuditAction.SEARCH,
        SAMPLE_TYPE,
        filters=sorted(k for k, v in vars(filters).items() if v),
    )
    return qs


# --------------------------------------------------------------------------- work list

WORK_LIST_LIMIT = 50


@dataclass
class WorkList:
    """What waits for the laboratory in the user's jurisdiction (each list: first 50)."""

    to_receive: list[Sample]
    to_type: list[Sample]
    consent_missing: list[Sample]
    to_destroy: list[Sample]
    profiles_to_review: list[Profile]
    recent_imports: list[ImportBatch]
    counts: dict[str, int] = field(default_factory=dict)


def work_list(*, acting_user: User) -> WorkList:
    """Samples awaiting receipt, typing, consent or destruction, and profiles whose QC needs a
    person; audited as one search."""
    ensure_role(acting_user=acting_user, action=Action.VIEW_DNA)
    samples = (
        sample_queryset().filter(scope_q(acting_user, Action.VIEW_DNA)).order_by("created_at", "pk")
    )
    in_force = Q(consent_withdrawn_at__isnull=True)
    queries = {
        "to_receive": samples.filter(
            in_force, status__in=[SampleStatus.COLLECTED, SampleStatus.IN_TRANSIT]
        ),
        "to_type": samples.filter(in_force, status__in=[SampleStatus.RECEIVED, SampleStatus.STORED])
        .exclude(consent_given_by="")
        .exclude(profiles__active=True),
        "consent_missing": samples.filter(in_force, consent_given_by="").exclude(
            status=SampleStatus.DESTROYED
        ),
        "to_destroy": samples.filter(consent_withdrawn_at__isnull=False).exclude(
            status=SampleStatus.DESTROYED
        ),
    }
    profiles = (
        Profile.objects.filter(scope_q(acting_user, Action.VIEW_DNA, field="sample__division"))
        .filter(active=True, qc_status__in=[QcStatus.FLAGGED, QcStatus.FAILED])
        .select_related("sample", "lab")
        .order_by("created_at", "pk")
    )
    imports = ImportBatch.objects.none()
    if acting_user.organisation is not None:
        imports = ImportBatch.objects.filter(lab=acting_user.organisation).order_by(
            "-created_at", "-pk"
        )
    first = {name: list(qs.distinct()[:WORK_LIST_LIMIT]) for name, qs in queries.items()}
    result = WorkList(
        to_receive=first["to_receive"],
        to_type=first["to_type"],
        consent_missing=first["consent_missing"],
        to_destroy=first["to_destroy"],
        profiles_to_review=list(profiles[:WORK_LIST_LIMIT]),
        recent_imports=list(imports[:10]),
        counts={name: qs.distinct().count() for name, qs in queries.items()},
    )
    result.counts["profiles_to_review"] = profiles.count()
    audit(acting_user, AuditAction.SEARCH, SAMPLE_TYPE, purpose="work_list")
    return result


# --------------------------------------------------------------------------- purpose limitation


def searchable_profiles(role: str | None = None) -> QuerySet[Profile]:
    """Profiles a search may use (active, not erased, QC passed, consent in force)."""
    qs = Profile.objects.searchable()
    return qs.filter(role=role) if role else qs


def _family_of(profile: Profile) -> int | None:
    member = profile.sample.family_member
    return member.report_id if member is not None else None


def comparison_targets(profile: Profile) -> QuerySet[Profile]:
    """What ``profile`` may be compared with — the purpose limitation, enforced here.

    * a family reference: searchable unidentified profiles, and the searchable references of
      its own family (quality control: is the mother really the mother?); never another
      family's references;
    * an unidentified profile: every searchable reference.

    A profile that is not itself searchable may be compared with nothing.
    """
    if not searchable_profiles().filter(pk=profile.pk).exists():
        return Profile.objects.none()
    targets = searchable_profiles().exclude(pk=profile.pk)
    if profile.role == ProfileRole.REFERENCE:
        return targets.filter(
            Q(role=ProfileRole.UNIDENTIFIED)
            | Q(role=ProfileRole.REFERENCE, sample__family_member__report_id=_family_of(profile))
        )
    return targets.filter(role=ProfileRole.REFERENCE)


def may_compare(first: Profile, second: Profile) -> bool:
    """Whether the two profiles may be compared (both searchable, sides and families allowed)."""
    return comparison_targets(first).filter(pk=second.pk).exists()


def _same_donor(sample: Sample) -> Q:
    if sample.found_person_id is not None:
        return Q(sample__found_person_id=sample.found_person_id)
    return Q(sample__family_member_id=sample.family_member_id)


def _duplicate_scope(profile: Profile) -> Q:
    """Other donors' profiles an identical-profile check may look at: what the profile may be
    compared with (for a reference: unidentified profiles and its own family), and, for an
    unidentified profile, other unidentified ones too (the same person registered twice).
    The same donor's other profiles are concordance, checked apart."""
    if profile.role == ProfileRole.REFERENCE:
        scope = Q(role=ProfileRole.UNIDENTIFIED) | Q(
            role=ProfileRole.REFERENCE, sample__family_member__report_id=_family_of(profile)
        )
    else:
        scope = Q(role__in=[ProfileRole.REFERENCE, ProfileRole.UNIDENTIFIED])
    return scope & ~_same_donor(profile.sample)


# --------------------------------------------------------------------------- quality control


def qc_reason(code: str, **params: Any) -> dict[str, Any]:
    return {"code": code, "params": params}


def _donor_sex(sample: Sample) -> str:
    if sample.found_person is not None:
        return sample.found_person.sex
    if sample.family_member is not None:
        return sample.family_member.sex
    return Sex.UNKNOWN


def qc_findings(
    genotypes: Genotypes, amelogenin: str, donor_sex: str
) -> tuple[list[dict[str, Any]], bool]:
    """The QC findings that need no database (loci, plausibility, sex), and whether the
    profile fails outright (too few loci)."""
    findings: list[dict[str, Any]] = []
    minimum = min_typed_loci()
    failed = len(genotypes) < minimum
    if failed:
        findings.append(qc_reason("too_few_loci", count=len(genotypes), minimum=minimum))
    for bad in implausible_alleles(genotypes, margin=allele_margin()):
        findings.append(
            qc_reason("implausible_allele", locus=bad.locus, low=bad.low, high=bad.high)
        )
    sex_known = donor_sex in (Sex.MALE, Sex.FEMALE)
    if amelogenin and sex_known and (amelogenin == "XY") != (donor_sex == Sex.MALE):
        findings.append(qc_reason("amelogenin_sex", sex=donor_sex))
    return findings, failed


def run_qc(profile: Profile, *, keep: Sequence[Mapping[str, Any]] = ()) -> Profile:
    """Check ``profile`` and save its QC status and reasons.

    failed: fewer typed STR loci than ``DNA_MIN_TYPED_LOCI``; flagged: an implausible allele,
    amelogenin against the donor's recorded sex, an identical profile already stored (within
    what the purpose limitation lets this profile be compared with), a discordant profile of
    the same donor, or a sticky finding of an import (``keep`` and the stored ones: mixture,
    conflicting re-typing); passed otherwise.  A passed review is not undone unless the
    findings change.
    """
    sample = profile.sample
    findings, failed = qc_findings(profile.genotypes, profile.amelogenin, _donor_sex(sample))
    sticky = [r for r in profile.qc_reasons if r.get("code") in STICKY_QC]
    for extra in keep:
        if extra not in sticky:
            sticky.append(dict(extra))
    others = Profile.objects.filter(erased_at__isnull=True).exclude(pk=profile.pk)
    if profile.genotype_digest:
        for pseudonym in others.filter(
            _duplicate_scope(profile), genotype_digest=profile.genotype_digest
        ).values_list("pseudonym", flat=True)[:5]:
            findings.append(qc_reason("duplicate", profile=pseudonym))
    donor = others.filter(_same_donor(sample))
    for other in donor.exclude(genotype_digest=profile.genotype_digest)[:10]:
        loci = discordant_loci(profile.genotypes, other.genotypes)
        if profile.amelogenin and other.amelogenin and profile.amelogenin != other.amelogenin:
            loci.append(AMELOGENIN)
        if loci:
            findings.append(qc_reason("discordant", profile=other.pseudonym, loci=loci))
    reasons = findings + sticky
    if failed:
        status = QcStatus.FAILED
    elif reasons:
        status = QcStatus.FLAGGED
    else:
        status = QcStatus.PASSED
    reviewed_same = (
        profile.qc_reviewed_at is not None
        and profile.qc_status in (QcStatus.PASSED, QcStatus.FAILED)
        and reasons == profile.qc_reasons
        and not failed
    )
    if not reviewed_same:
        profile.qc_status = status
    profile.qc_reasons = reasons
    profile.qc_checked_at = timezone.now()
    profile.save(update_fields=["qc_status", "qc_reasons", "qc_checked_at", "updated_at"])
    # Matching: a profile that is searchable now is searched against the other side.
    from reunite.dna.matching import after_qc

    after_qc(profile)
    return profile


def describe_reasons(reasons: Sequence[Mapping[str, Any]]) -> list[str]:
    """QC reasons as sentences in the active language."""
    return [describe(str(r.get("code", "")), r.get("params")) for r in reasons]


QC_DECISIONS = (QcStatus.PASSED, QcStatus.FAILED)


def review_qc(*, acting_user: User, profile_id: int, decision: str, note: str) -> Profile:
    """A laboratory reviewer settles a flagged profile: passed (it may be searched) or failed.
    A note saying why is required; kept encrypted, audited as given or not."""
    found = _get_profile(acting_user, profile_id, Action.EDIT_DNA)
    errors = FieldErrors()
    if decision not in QC_DECISIONS:
        errors.add("decision", _("Not a valid choice."))
    _check_text(errors, "note", note, MAX_NOTE, required=True)
    errors.raise_if_any()
    with transaction.atomic():
        profile = Profile.objects.select_for_update().get(pk=found.pk)
        if profile.qc_status != QcStatus.FLAGGED:
            msg = _("Only a profile flagged for review can be reviewed.")
            raise ValidationFailed(msg, field_errors={"decision": [msg]})
        if not profile.active:
            msg = _("This profile is inactive.")
            raise ValidationFailed(msg, field_errors={"decision": [msg]})
        old = profile.qc_status
        profile.qc_status = decision
        profile.qc_reviewed_by = acting_user
        profile.qc_reviewed_at = timezone.now()
        profile.qc_review_note = note.strip()
        profile.save()
        audit(
            acting_user, AuditAction.UPDATE, PROFILE_TYPE, profile.pk, qc=[old, decision], note=True
        )
        # Matching: a profile passed on review is searched against the other side.
        from reunite.dna.matching import after_qc

        after_qc(profile)
    return profile


# --------------------------------------------------------------------------- profiles


def _profile_qs() -> QuerySet[Profile]:
    return Profile.objects.select_related(
        "sample__division",
        "sample__found_person",
        "sample__family_member__report",
        "lab",
        "qc_reviewed_by",
    )


def _get_profile(acting_user: User, profile_id: int, action: Action) -> Profile:
    profile = _profile_qs().filter(pk=profile_id).first()
    if profile is None:
        raise NotFound(_("No such profile."))
    _require(
        acting_user, action, profile.sample.division, object_type=PROFILE_TYPE, object_id=profile_id
    )
    return profile


def get_profile(*, acting_user: User, profile_id: int) -> Profile:
    """One profile's metadata and QC, without alleles (audited read)."""
    profile = _get_profile(acting_user, profile_id, Action.VIEW_DNA)
    audit(acting_user, AuditAction.READ, PROFILE_TYPE, profile.pk)
    return profile


def can_view_genotypes(user: User, profile: Profile) -> bool:
    return can(user, Action.VIEW_GENOTYPES, profile.sample.division)


def get_profile_genotypes(
    *, acting_user: User, profile_id: int
) -> tuple[Profile, CanonicalProfile]:
    """A profile with its alleles: DNA technicians and supervisors of the donor's jurisdiction
    only; every read is audited as such (``genotypes: true``), every refusal too."""
    profile = _get_profile(acting_user, profile_id, Action.VIEW_GENOTYPES)
    audit(acting_user, AuditAction.READ, PROFILE_TYPE, profile.pk, genotypes=True)
    return profile, CanonicalProfile(
        genotypes=dict(profile.genotypes), amelogenin=profile.amelogenin
    )


@dataclass
class ProfileFilters:
    qc_status: str = ""
    role: str = ""
    active: bool | None = None
    sample_id: int | None = None


def search_profiles(*, acting_user: User, filters: ProfileFilters) -> QuerySet[Profile]:
    """Profiles (metadata only) of the user's jurisdiction; the search is audited."""
    ensure_role(acting_user=acting_user, action=Action.VIEW_DNA, object_type=PROFILE_TYPE)
    qs = _profile_qs().filter(scope_q(acting_user, Action.VIEW_DNA, field="sample__division"))
    if filters.qc_status:
        qs = qs.filter(qc_status=filters.qc_status)
    if filters.role:
        qs = qs.filter(role=filters.role)
    if filters.active is not None:
        qs = qs.filter(active=filters.active)
    if filters.sample_id is not None:
        qs = qs.filter(sample_id=filters.sample_id)
    audit(
        acting_user,
        AuditAction.SEARCH,
        PROFILE_TYPE,
        filters=sorted(k for k, v in vars(filters).items() if v not in ("", None)),
    )
    return qs


def typing_refusal(sample: Sample) -> str | None:
    """The reason code why ``sample`` may not be typed now, or ``None``."""
    if sample.consent_withdrawn:
        return "consent_withdrawn"
    if not sample.consent_recorded:
        return "no_consent"
    if sample.status == SampleStatus.DESTROYED:
        return "sample_destroyed"
    if sample.status not in TYPABLE:
        return "not_received"
    return None


@dataclass
class StoreOutcome:
    """What storing a typing result did: ``created``, ``updated``, ``unchanged``, ``conflict``
    (``loci``: where it differs) or ``inactive``."""

    kind: str
    profile: Profile
    new_loci: frozenset[str] = frozenset()
    loci: tuple[str, ...] = ()


def store_typing(
    acting_user: User,
    sample: Sample,
    lab: Organisation,
    kit: str,
    kit_name: str,
    canonical: CanonicalProfile,
    *,
    batch: ImportBatch | None = None,
    findings: Sequence[Mapping[str, Any]] = (),
) -> StoreOutcome:
    """Create, extend or recognise the profile of ``sample`` by ``lab`` with ``kit``.

    Idempotent: the same result again changes nothing; a result that agrees with the stored one
    at every shared locus and adds loci extends it; one that differs is a conflict, which
    flags the stored profile for review and changes nothing else.  Runs in the caller's
    transaction.
    """
    existing = (
        Profile.objects.select_for_update()
        .filter(sample=sample, lab=lab, kit=kit, kit_name=kit_name)
        .first()
    )
    if existing is None:
        profile = Profile(
            pseudonym=new_pseudonym(),
            sample=sample,
            role=sample.role,
            kit=kit,
            kit_name=kit_name,
            lab=lab,
            genotypes=canonical.genotypes,
            amelogenin=canonical.amelogenin,
            locus_count=canonical.locus_count,
            genotype_digest=genotype_digest(canonical.genotypes),
            import_batch=batch,
            created_by=acting_user,
        )
        profile.save()
        profile.sample = sample
        _typed(acting_user, sample, lab, profile, "created")
        run_qc(profile, keep=findings)
        stored_loci = set(canonical.genotypes) | ({AMELOGENIN} if canonical.amelogenin else set())
        return StoreOutcome("created", profile, frozenset(stored_loci))
    if not existing.active or existing.erased_at is not None:
        return StoreOutcome("inactive", existing)
    stored: Genotypes = existing.genotypes
    loci = discordant_loci(stored, canonical.genotypes)
    if existing.amelogenin and canonical.amelogenin and existing.amelogenin != canonical.amelogenin:
        loci.append(AMELOGENIN)
    if loci:
        existing.sample = sample
        run_qc(existing, keep=[qc_reason("retyping_conflict", loci=loci)])
        return StoreOutcome("conflict", existing, loci=tuple(loci))
    new_loci = frozenset(set(canonical.genotypes) - set(stored))
    new_amelogenin = bool(canonical.amelogenin and not existing.amelogenin)
    if not new_loci and not new_amelogenin:
        return StoreOutcome("unchanged", existing)
    merged = {**stored, **{locus: canonical.genotypes[locus] for locus in new_loci}}
    existing.genotypes = dict(sorted(merged.items(), key=lambda item: locus_sort_key(item[0])))
    if new_amelogenin:
        existing.amelogenin = canonical.amelogenin
    existing.locus_count = len(existing.genotypes)
    existing.genotype_digest = genotype_digest(existing.genotypes)
    existing.save()
    existing.sample = sample
    _typed(acting_user, sample, lab, existing, "extended")
    run_qc(existing, keep=findings)
    extra = new_loci | ({AMELOGENIN} if new_amelogenin else set())
    return StoreOutcome("updated", existing, frozenset(extra))


def _typed(
    acting_user: User, sample: Sample, lab: Organisation, profile: Profile, what: str
) -> None:
    _custody(
        sample,
        CustodyKind.TYPED,
        acting_user,
        unit=lab,
        notes=f"{profile.pseudonym} {what}",
    )
    if sample.status != SampleStatus.TYPED:
        sample.status = SampleStatus.TYPED
        sample.save(update_fields=["status", "updated_at"])


def check_kit(errors: FieldErrors, kit: str, kit_name: str) -> None:
    if kit not in TypingKit.values:
        errors.add("kit", _("Not a valid choice."))
    _check_text(errors, "kit_name", kit_name, 100, required=kit == TypingKit.OTHER)


@dataclass
class ProfileData:
    """A typing result entered directly (the API's JSON route; files go through imports)."""

    sample_id: int
    kit: str
    genotypes: Mapping[str, object]
    kit_name: str = ""
    amelogenin: object = None


def create_profile(*, acting_user: User, data: ProfileData) -> tuple[Profile, str]:
    """Store a typing result for a sample (see :func:`_store`); returns the profile and what
    happened (``created``, ``updated``, ``unchanged``).  A conflict raises ``ProfileConflict``;
    a sample without consent, not received or destroyed, and bad alleles raise
    ``ValidationFailed``.  Audited."""
    sample = _get_sample(acting_user, data.sample_id, Action.EDIT_DNA)
    lab = lab_of(acting_user)
    errors = FieldErrors()
    check_kit(errors, data.kit, data.kit_name)
    refusal = typing_refusal(sample)
    if refusal is not None:
        errors.add("sample", describe(refusal, {"status": sample.status}))
    raw = dict(data.genotypes)
    if data.amelogenin is not None:
        raw[AMELOGENIN] = data.amelogenin
    canonical: CanonicalProfile | None = None
    try:
        canonical = canonical_genotypes(raw, label=sample.number)
    except KinshipInputError as exc:
        errors.add("genotypes", str(exc))
    else:
        if not canonical.genotypes:
            errors.add("genotypes", _("No STR locus is typed."))
    errors.raise_if_any()
    assert canonical is not None
    kit_name = data.kit_name.strip() if data.kit == TypingKit.OTHER else ""
    with transaction.atomic():
        locked = Sample.objects.select_for_update().get(pk=sample.pk)
        outcome = store_typing(acting_user, locked, lab, data.kit, kit_name, canonical)
        if outcome.kind == "inactive":
            msg = _("Profile %(profile)s of this sample is inactive: nothing is stored.") % {
                "profile": outcome.profile.pseudonym
            }
            raise ValidationFailed(msg, field_errors={"sample": [msg]})
        if outcome.kind == "conflict":
            conflict = ProfileConflict(
                describe(
                    "conflicts_with_stored",
                    {"profile": outcome.profile.pseudonym, "locus": list(outcome.loci)},
                )
            )
        else:
            conflict = None
            audit(
                acting_user,
                AuditAction.CREATE if outcome.kind == "created" else AuditAction.UPDATE,
                PROFILE_TYPE,
                outcome.profile.pk,
                outcome=outcome.kind,
                loci=outcome.profile.locus_count,
                qc=outcome.profile.qc_status,
            )
    if conflict is not None:
        # The stored profile is now flagged (committed above); the new result is refused.
        audit(
            acting_user,
            AuditAction.UPDATE,
            PROFILE_TYPE,
            outcome.profile.pk,
            outcome="conflict",
            loci=list(outcome.loci),
        )
        raise conflict
    return outcome.profile, outcome.kind


def may(user: User, action: Action) -> bool:
    """Whether the user's role grants ``action`` anywhere (for showing links and buttons)."""
    return role_allows(user, action)
