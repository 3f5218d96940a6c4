"""Rules of the people registry: validation, duplicates, jurisdiction, audit.

Forms and the JSON API both hand a plain ``*Data`` object to these functions, so every rule is
written once.  Each mutation is validate-then-do inside one transaction: a rejected record leaves
nothing behind (no half-saved report, no orphan photo).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from reunite.accounts.models import (
    Division,
    Organisation,
    OrganisationKind,
    User,
    compose_full_name,
)
from reunite.accounts.permissions import Action, can, role_allows, scope_q
from reunite.accounts.services import division_contains_point, valid_coordinates
from reunite.audit.models import AuditAction
from reunite.audit.services import record
from reunite.cases.models import CaseStatus
from reunite.core.crypto import blind_token
from reunite.core.errors import (
    AccessDenied,
    FieldErrors,
    NotFound,
    ProbableDuplicate,
    ValidationFailed,
)
from reunite.core.names import has_han, name_tokens, query_tokens, to_pinyin
from reunite.people.models import (
    FoundCategory,
    FoundPerson,
    FoundStatus,
    MissingPersonReport,
    MissingStatus,
    PersonPhoto,
    Relationship,
    ReportingRelative,
    Sex,
)
from reunite.people.photos import clean_photo

MAX_AGE_YEARS = 120
MIN_HEIGHT_CM, MAX_HEIGHT_CM = 30, 250
MAX_PHOTOS_PER_RECORD = 10
HOLDING_KINDS = {
    OrganisationKind.WELFARE_INSTITUTION,
    OrganisationKind.RESCUE_STATION,
    OrganisationKind.HEALTH,
    OrganisationKind.CIVIL_AFFAIRS,
}


# --------------------------------------------------------------------------- input shapes


@dataclass
class RelativeData:
    name: str
    relationship: str
    contact: str = ""
    is_reporter: bool = True


@dataclass
class MissingReportData:
    full_name: str
    sex: str
    last_seen_at: dt.datetime
    last_seen_division: Division
    name_pinyin: str = ""
    other_names: str = ""
    id_number: str = ""
    date_of_birth: dt.date | None = None
    age_at_disappearance: int | None = None
    height_cm: int | None = None
    build: str = ""
    distinguishing_marks: str = ""
    language_dialect: str = ""
    last_seen_latitude: float | None = None
    last_seen_longitude: float | None = None
    last_seen_place: str = ""
    circumstances: str = ""
    relatives: list[RelativeData] = field(default_factory=list)


@dataclass
class FoundPersonData:
    category: str
    sex: str
    found_on: dt.date
    found_division: Division
    age_min: int
    age_max: int
    found_latitude: float | None = None
    found_longitude: float | None = None
    found_place: str = ""
    institution: Organisation | None = None
    held_place: str = ""
    height_cm: int | None = None
    build: str = ""
    description: str = ""
    distinguishing_marks: str = ""
    language_dialect: str = ""
    given_name: str = ""
    given_name_pinyin: str = ""
    given_places: str = ""


# --------------------------------------------------------------------------- validation


def _check_required_text(errors: FieldErrors, name: str, value: str, limit: int) -> None:
    if not value or not value.strip():
        errors.add(name, _("This field is required."))
    elif len(value) > limit:
        errors.add(name, _("At most %(n)d characters.") % {"n": limit})


def _check_choice(
    errors: FieldErrors, name: str, value: str, choices: Any, *, blank: bool = False
) -> None:
    if blank and value == "":
        return
    if value not in choices.values:
        errors.add(name, _("Not a valid choice."))


def _check_height(errors: FieldErrors, height_cm: int | None) -> None:
    if height_cm is not None and not MIN_HEIGHT_CM <= height_cm <= MAX_HEIGHT_CM:
        errors.add(
            "height_cm",
            _("Height must be between %(lo)d and %(hi)d cm.")
            % {"lo": MIN_HEIGHT_CM, "hi": MAX_HEIGHT_CM},
        )


def _check_point(
    errors: FieldErrors, prefix: str, division: Division, lat: float | None, lon: float | None
) -> None:
    if (lat is None) != (lon is None):
        errors.add(f"{prefix}_latitude", _("Give both latitude and longitude, or neither."))
        return
    if lat is None or lon is None:
        return
    if not valid_coordinates(lat, lon):
        errors.add(
            f"{prefix}_latitude", _("Latitude must be within ±90 and longitude within ±180.")
        )
    elif not division_contains_point(division, lat, lon):
        errors.add(
            f"{prefix}_latitude",
            _("These coordinates lie outside %(division)s.") % {"division": division.name},
        )


def _years_between(born: dt.date, then: dt.date) -> int:
    return then.year - born.year - ((then.month, then.day) < (born.month, born.day))


def validate_missing(data: MissingReportData) -> None:
    errors = FieldErrors()
    now = timezone.now()
    today = timezone.localdate()
    _check_required_text(errors, "full_name", data.full_name, 200)
    _check_choice(errors, "sex", data.sex, Sex)
    _check_height(errors, data.height_cm)
    if data.date_of_birth is not None:
        if data.date_of_birth > today:
            errors.add("date_of_birth", _("The date of birth is in the future."))
        elif _years_between(data.date_of_birth, today) > MAX_AGE_YEARS:
            errors.add("date_of_birth", _("This date of birth gives an impossible age."))
    if (
        data.age_at_disappearance is not None
        and not 0 <= data.age_at_disappearance <= MAX_AGE_YEARS
    ):
        errors.add(
            "age_at_disappearance", _("Age must be between 0 and %(max)d.") % {"max": MAX_AGE_YEARS}
        )
    if data.date_of_birth is None and data.age_at_disappearance is None:
        errors.add("date_of_birth", _("Give the date of birth or the age when missing."))
    if data.last_seen_at > now:
        errors.add("last_seen_at", _("The last-seen time is in the future."))
    elif (
        data.date_of_birth is not None
        and timezone.localtime(data.last_seen_at).date() < data.date_of_birth
    ):
        errors.add("last_seen_at", _("The last-seen date is before the date of birth."))
    if (
        data.date_of_birth is not None
        and data.age_at_disappearance is not None
        and "date_of_birth" not in errors.by_field
        and "last_seen_at" not in errors.by_field
    ):
        implied = _years_between(data.date_of_birth, timezone.localtime(data.last_seen_at).date())
        if abs(implied - data.age_at_disappearance) > 1:
            errors.add(
                "age_at_disappearance",
                _("The age does not fit the date of birth (%(n)d years when last seen).")
                % {"n": implied},
            )
    _check_point(
        errors,
        "last_seen",
        data.last_seen_division,
        data.last_seen_latitude,
        data.last_seen_longitude,
    )
    for i, rel in enumerate(data.relatives):
        _check_required_text(errors, f"relatives.{i}.name", rel.name, 200)
        _check_choice(errors, f"relatives.{i}.relationship", rel.relationship, Relationship)
        if len(rel.contact) > 200:
            errors.add(f"relatives.{i}.contact", _("At most %(n)d characters.") % {"n": 200})
    errors.raise_if_any()


def validate_found(data: FoundPersonData) -> None:
    errors = FieldErrors()
    _check_choice(errors, "category", data.category, FoundCategory)
    _check_choice(errors, "sex", data.sex, Sex)
    _check_height(errors, data.height_cm)
    if data.found_on > timezone.localdate():
        errors.add("found_on", _("The date found is in the future."))
    for name, value in (("age_min", data.age_min), ("age_max", data.age_max)):
        if not 0 <= value <= MAX_AGE_YEARS:
            errors.add(name, _("Age must be between 0 and %(max)d.") % {"max": MAX_AGE_YEARS})
    if (
        "age_min" not in errors.by_field
        and "age_max" not in errors.by_field
        and data.age_min > data.age_max
    ):
        errors.add("age_max", _("The upper age must not be below the lower age."))
    _check_point(errors, "found", data.found_division, data.found_latitude, data.found_longitude)
    if data.institution is not None and data.institution.kind not in HOLDING_KINDS:
        errors.add("institution", _("Choose a welfare institution, rescue station or hospital."))
    errors.raise_if_any()


# --------------------------------------------------------------------------- jurisdiction


def _require(
    acting_user: User,
    action: Action,
    division: Division | None,
    *,
    object_type: str,
    object_id: object = "",
) -> None:
    if not can(acting_user, action, division):
        record(
            actor=acting_user,
            action=AuditAction.DENIED,
            object_type=object_type,
            object_id=object_id,
            details={"wanted": str(action), "division": division.code if division else None},
        )
        raise AccessDenied(_("You may not do this for this jurisdiction."))


def _owning_unit(acting_user: User) -> Organisation:
    """The acting user's unit owns what it registers (the place was checked by ``_require``)."""
    unit = acting_user.organisation
    if unit is None:
        raise AccessDenied(_("Your account belongs to no unit."))
    return unit


def _index(*names: str) -> str:
    tokens = name_tokens(*names)
    return " " + " ".join(sorted(blind_token(t) for t in tokens)) + " " if tokens else ""


def _name_filter(query: str) -> Q:
    q = Q()
    for token in query_tokens(query):
        q &= Q(name_index__contains=f" {blind_token(token)} ")
    return q


# --------------------------------------------------------------------------- duplicates


def birth_year_of(date_of_birth: dt.date | None, age: int | None, seen: dt.datetime) -> int | None:
    """The (estimated) year of birth: exact from a birth date, else year last seen minus age."""
    if date_of_birth is not None:
        return date_of_birth.year
    if age is not None:
        return timezone.localtime(seen).year - age
    return None


def find_duplicate_reports(data: MissingReportData, *, exclude_id: int | None = None) -> list[int]:
    """Reports that probably describe the same person.

    Same name (all its characters, or all its pinyin syllables), same sex, same province, and
    birth years at most one apart (or unknown on either side); withdrawn reports don't count.
    """
    if not name_tokens(data.full_name):
        return []
    born = birth_year_of(data.date_of_birth, data.age_at_disappearance, data.last_seen_at)
    qs = MissingPersonReport.objects.filter(
        _name_filter(data.full_name),
        sex=data.sex,
        last_seen_division__path__startswith=_province_path(data.last_seen_division),
    ).exclude(status=MissingStatus.WITHDRAWN)
    if born is not None:
        qs = qs.filter(Q(birth_year__isnull=True) | Q(birth_year__range=(born - 1, born + 1)))
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return list(qs.values_list("pk", flat=True)[:50])


def _province_path(division: Division) -> str:
    """The path of the province (level 1) containing ``division``, or its own path above that."""
    parts = [p for p in division.path.strip("/").split("/") if p]
    return "/" + "/".join(parts[:2]) + "/"


def find_duplicate_found(data: FoundPersonData, *, exclude_id: int | None = None) -> list[int]:
    """Found-person records that probably describe the same person.

    With a given name: the same name, sex and overlapping ages anywhere in the province.
    Without: same county, sex and category, overlapping ages, found within a week of each other.
    """
    qs = FoundPerson.objects.filter(
        sex=data.sex, age_min__lte=data.age_max + 2, age_max__gte=max(0, data.age_min - 2)
    )
    if data.given_name.strip():
        qs = qs.filter(
            _name_filter(data.given_name),
            found_division__path__startswith=_province_path(data.found_division),
        )
    else:
        week = dt.timedelta(days=7)
        qs = qs.filter(
            found_division=data.found_division,
            category=data.category,
            found_on__range=(data.found_on - week, data.found_on + week),
        )
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return list(qs.values_list("pk", flat=True)[:50])


# --------------------------------------------------------------------------- photos


def _store_photos(
    acting_user: User, uploads: Sequence[UploadedFile], *, existing: int, **owner: Any
) -> list[PersonPhoto]:
    if existing + len(uploads) > MAX_PHOTOS_PER_RECORD:
        msg = _("At most %(n)d photos per person.") % {"n": MAX_PHOTOS_PER_RECORD}
        raise ValidationFailed(msg, field_errors={"photos": [msg]})
    cleaned = [clean_photo(u, field="photos") for u in uploads]
    return [_save_photo(acting_user, c, **owner) for c in cleaned]


def _save_photo(acting_user: User, clean: Any, **owner: Any) -> PersonPhoto:
    photo = PersonPhoto(
        content_type=clean.content_type,
        extension=clean.extension,
        width=clean.width,
        height=clean.height,
        sha256=clean.sha256,
        uploaded_by=acting_user,
        **owner,
    )
    photo.image.save("photo", clean.content, save=False)
    try:
        photo.save()
    except Exception:
        photo.image.delete(save=False)
        raise
    return photo


# --------------------------------------------------------------------------- shared mechanics

MISSING_TYPE = "missing_report"
FOUND_TYPE = "found_person"
_MISSING_FIELDS = tuple(f.name for f in fields(MissingReportData) if f.name != "relatives")
_FOUND_FIELDS = tuple(f.name for f in fields(FoundPersonData))

# A person record of either kind: a missing-person report or a person of unknown origin.
Person = TypeVar("Person", MissingPersonReport, FoundPerson)


def _object_type(person: MissingPersonReport | FoundPerson) -> str:
    return MISSING_TYPE if isinstance(person, MissingPersonReport) else FOUND_TYPE


def _photo_owner(person: MissingPersonReport | FoundPerson) -> dict[str, Any]:
    """The ``PersonPhoto`` foreign key that points at ``person``."""
    if isinstance(person, MissingPersonReport):
        return {"missing_report": person}
    return {"found_person": person}


def _snapshot(person: MissingPersonReport | FoundPerson, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(person, name) for name in names}


def _changed(before: dict[str, Any], person: MissingPersonReport | FoundPerson) -> list[str]:
    return sorted(k for k, v in before.items() if getattr(person, k) != v)


def _screen_duplicates(
    duplicates: list[int],
    *,
    link_to: int | None,
    confirm_not_duplicate: bool,
    not_a_candidate: str,
    probable: str,
) -> None:
    """Refuse a link to a non-candidate, and a probable duplicate the user has not settled."""
    if link_to is not None and link_to not in duplicates:
        raise ValidationFailed(
            not_a_candidate, field_errors={"link_to": [_("Not a valid choice.")]}
        )
    if duplicates and link_to is None and not confirm_not_duplicate:
        raise ProbableDuplicate(probable, candidates=duplicates)


def _registration(acting_user: User, duplicates: list[int], link_to: int | None) -> dict[str, Any]:
    """The fields a new record of either kind starts with: owner, place, creator, duplicates."""
    return {
        "owning_unit": _owning_unit(acting_user),
        "division": acting_user.organisation.division,  # type: ignore[union-attr]
        "created_by": acting_user,
        "duplicate_checked": bool(duplicates),
        "duplicate_of_id": link_to,
    }


@contextmanager
def _atomic_with_photos() -> Iterator[list[PersonPhoto]]:
    """One transaction; the photos put in the yielded list lose their files if it rolls back."""
    saved: list[PersonPhoto] = []
    try:
        with transaction.atomic():
            yield saved
    except Exception:
        for photo in saved:
            photo.image.delete(save=False)
        raise


def _get_for(
    acting_user: User,
    people: QuerySet[Person],
    pk: int,
    action: Action,
    *,
    not_found: str,
) -> Person:
    """One record by id, refused (and audited) unless ``action`` is allowed where it is held."""
    person = people.filter(pk=pk).first()
    if person is None:
        raise NotFound(not_found)
    _require(acting_user, action, person.division, object_type=_object_type(person), object_id=pk)
    return person


def _audit_read(
    acting_user: User, person: MissingPersonReport | FoundPerson, purpose: str = ""
) -> None:
    record(
        actor=acting_user,
        action=AuditAction.READ,
        object_type=_object_type(person),
        object_id=person.pk,
        details={"purpose": purpose} if purpose else None,
    )


def _search(
    acting_user: User,
    people: QuerySet[Person],
    action: Action,
    filters: MissingFilters | FoundFilters,
    *,
    object_type: str,
    division_field: str,
) -> QuerySet[Person]:
    """The records the user may see, filtered on what both kinds share; the search is audited."""
    if not role_allows(acting_user, action):
        _require(acting_user, action, None, object_type=object_type)
    qs = people.filter(scope_q(acting_user, action))
    if filters.text.strip():
        qs = qs.filter(_name_filter(filters.text))
    if filters.sex:
        qs = qs.filter(sex=filters.sex)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.division is not None:
        qs = qs.filter(**{f"{division_field}__path__startswith": filters.division.path})
    record(
        actor=acting_user,
        action=AuditAction.SEARCH,
        object_type=object_type,
        details={"filters": sorted(k for k, v in vars(filters).items() if v not in ("", None))},
    )
    return qs


def _add_photos(
    acting_user: User, person: MissingPersonReport | FoundPerson, photos: Sequence[UploadedFile]
) -> list[PersonPhoto]:
    if not photos:
        msg = _("Choose at least one photo.")
        raise ValidationFailed(msg, field_errors={"photos": [msg]})
    with _atomic_with_photos() as saved:
        saved += _store_photos(
            acting_user, photos, existing=person.photos.count(), **_photo_owner(person)
        )
        if isinstance(person, MissingPersonReport):
            _note_report_updated(person, acting_user, "photos")
        record(
            actor=acting_user,
            action=AuditAction.UPDATE,
            object_type=_object_type(person),
            object_id=person.pk,
            details={"changed": [], "photos_added": len(saved)},
        )
    return saved


# --------------------------------------------------------------------------- missing reports


def _apply_missing(report: MissingPersonReport, data: MissingReportData) -> None:
    for name in _MISSING_FIELDS:
        setattr(report, name, getattr(data, name))
    if not report.name_pinyin and has_han(report.full_name):
        report.name_pinyin = to_pinyin(report.full_name)
    report.name_index = _index(report.full_name, report.name_pinyin, report.other_names)
    report.birth_year = birth_year_of(
        report.date_of_birth, report.age_at_disappearance, report.last_seen_at
    )


def _save_relatives(report: MissingPersonReport, relatives: Sequence[RelativeData]) -> None:
    for rel in relatives:
        ReportingRelative.objects.create(
            report=report,
            name=rel.name.strip(),
            relationship=rel.relationship,
            contact=rel.contact.strip(),
            is_reporter=rel.is_reporter,
        )


def _note_report_updated(report: MissingPersonReport, acting_user: User, summary: str) -> None:
    """Note the change on the report's case, if it has one."""
    from reunite.cases.models import CaseEventKind
    from reunite.cases.services import add_event

    case = getattr(report, "case", None)
    if case is not None:
        add_event(
            case=case, kind=CaseEventKind.REPORT_UPDATED, acting_user=acting_user, summary=summary
        )


def create_missing_report(
    *,
    acting_user: User,
    data: MissingReportData,
    photos: Sequence[UploadedFile] = (),
    confirm_not_duplicate: bool = False,
    link_to: int | None = None,
) -> MissingPersonReport:
    """Register a disappearance and open its case.

    A probable duplicate raises ``ProbableDuplicate`` (listing the candidates) unless the user
    links the report to one of them (``link_to``) or confirms it is someone else.
    """
    from reunite.cases.services import open_case_for_report

    _require(acting_user, Action.EDIT_MISSING, data.last_seen_division, object_type=MISSING_TYPE)
    validate_missing(data)
    duplicates = find_duplicate_reports(data)
    _screen_duplicates(
        duplicates,
        link_to=link_to,
        confirm_not_duplicate=confirm_not_duplicate,
        not_a_candidate=_("The report to link to is not one of the probable duplicates."),
        probable=_(
            "This person may already be registered. Link the report or confirm it is someone else."
        ),
    )
    with _atomic_with_photos() as saved:
        report = MissingPersonReport(**_registration(acting_user, duplicates, link_to))
        _apply_missing(report, data)
        report.save()
        _save_relatives(report, data.relatives)
        saved += _store_photos(acting_user, photos, existing=0, missing_report=report)
        open_case_for_report(report=report, acting_user=acting_user)
        record(
            actor=acting_user,
            action=AuditAction.CREATE,
            object_type=MISSING_TYPE,
            object_id=report.pk,
            details={
                "photos": len(saved),
                "relatives": len(data.relatives),
                "linked_to": link_to,
                "duplicate_override": bool(duplicates) and link_to is None,
            },
        )
    return report


def update_missing_report(
    *,
    acting_user: User,
    report_id: int,
    data: MissingReportData,
    photos: Sequence[UploadedFile] = (),
) -> MissingPersonReport:
    """Edit a report in the user's jurisdiction; relatives are replaced by ``data.relatives``."""
    report = _get_missing_for(acting_user, report_id, Action.EDIT_MISSING)
    _require(
        acting_user,
        Action.EDIT_MISSING,
        data.last_seen_division,
        object_type=MISSING_TYPE,
        object_id=report_id,
    )
    validate_missing(data)
    before = _snapshot(report, _MISSING_FIELDS)
    with _atomic_with_photos() as saved:
        _apply_missing(report, data)
        report.save()
        report.relatives.all().delete()
        _save_relatives(report, data.relatives)
        saved += _store_photos(
            acting_user, photos, existing=report.photos.count(), missing_report=report
        )
        changed = _changed(before, report)
        _note_report_updated(report, acting_user, ", ".join(changed))
        record(
            actor=acting_user,
            action=AuditAction.UPDATE,
            object_type=MISSING_TYPE,
            object_id=report.pk,
            details={"changed": changed, "photos_added": len(saved)},
        )
    return report


def _get_missing_for(acting_user: User, report_id: int, action: Action) -> MissingPersonReport:
    return _get_for(
        acting_user,
        MissingPersonReport.objects.select_related("division", "last_seen_division", "owning_unit"),
        report_id,
        action,
        not_found=_("No such missing person report."),
    )


def get_missing_report(*, acting_user: User, report_id: int) -> MissingPersonReport:
    """Read one report (audited)."""
    report = _get_missing_for(acting_user, report_id, Action.VIEW_MISSING)
    _audit_read(acting_user, report)
    return report


@dataclass
class MissingFilters:
    text: str = ""
    sex: str = ""
    age_from: int | None = None
    age_to: int | None = None
    division: Division | None = None
    seen_from: dt.date | None = None
    seen_to: dt.date | None = None
    status: str = ""


def search_missing(*, acting_user: User, filters: MissingFilters) -> QuerySet[MissingPersonReport]:
    """Reports the user may see that match ``filters``; the search itself is audited (no terms)."""
    qs = _search(
        acting_user,
        MissingPersonReport.objects.select_related("last_seen_division", "case"),
        Action.VIEW_MISSING,
        filters,
        object_type=MISSING_TYPE,
        division_field="last_seen_division",
    )
    if filters.seen_from is not None:
        qs = qs.filter(last_seen_at__date__gte=filters.seen_from)
    if filters.seen_to is not None:
        qs = qs.filter(last_seen_at__date__lte=filters.seen_to)
    if filters.age_from is not None or filters.age_to is not None:
        qs = qs.filter(_age_now_q(filters.age_from, filters.age_to))
    return qs


def _age_now_q(age_from: int | None, age_to: int | None) -> Q:
    """Age today, from the (estimated) birth year; a year either way counts as a match."""
    year = timezone.localdate().year
    q = Q(birth_year__isnull=False)
    if age_from is not None:
        q &= Q(birth_year__lte=year - age_from)
    if age_to is not None:
        q &= Q(birth_year__gte=year - age_to - 1)
    return q


# --------------------------------------------------------------------------- found persons


def _apply_found(person: FoundPerson, data: FoundPersonData) -> None:
    for name in _FOUND_FIELDS:
        setattr(person, name, getattr(data, name))
    if not person.given_name_pinyin and has_han(person.given_name):
        person.given_name_pinyin = to_pinyin(person.given_name)
    person.name_index = _index(person.given_name, person.given_name_pinyin)


def create_found_person(
    *,
    acting_user: User,
    data: FoundPersonData,
    photos: Sequence[UploadedFile] = (),
    confirm_not_duplicate: bool = False,
    link_to: int | None = None,
) -> FoundPerson:
    _require(acting_user, Action.EDIT_FOUND, data.found_division, object_type=FOUND_TYPE)
    validate_found(data)
    duplicates = find_duplicate_found(data)
    _screen_duplicates(
        duplicates,
        link_to=link_to,
        confirm_not_duplicate=confirm_not_duplicate,
        not_a_candidate=_("The record to link to is not one of the probable duplicates."),
        probable=_(
            "This person may already be registered. Link the record or confirm it is someone else."
        ),
    )
    with _atomic_with_photos() as saved:
        person = FoundPerson(**_registration(acting_user, duplicates, link_to))
        _apply_found(person, data)
        person.save()
        saved += _store_photos(acting_user, photos, existing=0, found_person=person)
        record(
            actor=acting_user,
            action=AuditAction.CREATE,
            object_type=FOUND_TYPE,
            object_id=person.pk,
            details={"photos": len(saved), "linked_to": link_to},
        )
    return person


def update_found_person(
    *, acting_user: User, person_id: int, data: FoundPersonData, photos: Sequence[UploadedFile] = ()
) -> FoundPerson:
    person = _get_found_for(acting_user, person_id, Action.EDIT_FOUND)
    _require(
        acting_user,
        Action.EDIT_FOUND,
        data.found_division,
        object_type=FOUND_TYPE,
        object_id=person_id,
    )
    validate_found(data)
    before = _snapshot(person, _FOUND_FIELDS)
    with _atomic_with_photos() as saved:
        _apply_found(person, data)
        person.save()
        saved += _store_photos(
            acting_user, photos, existing=person.photos.count(), found_person=person
        )
        record(
            actor=acting_user,
            action=AuditAction.UPDATE,
            object_type=FOUND_TYPE,
            object_id=person.pk,
            details={"changed": _changed(before, person), "photos_added": len(saved)},
        )
    return person


def _get_found_for(acting_user: User, person_id: int, action: Action) -> FoundPerson:
    return _get_for(
        acting_user,
        FoundPerson.objects.select_related(
            "division", "found_division", "owning_unit", "institution"
        ),
        person_id,
        action,
        not_found=_("No such person of unknown origin."),
    )


def get_found_person(*, acting_user: User, person_id: int) -> FoundPerson:
    person = _get_found_for(acting_user, person_id, Action.VIEW_FOUND)
    _audit_read(acting_user, person)
    return person


@dataclass
class FoundFilters:
    text: str = ""
    sex: str = ""
    category: str = ""
    age_from: int | None = None
    age_to: int | None = None
    division: Division | None = None
    found_from: dt.date | None = None
    found_to: dt.date | None = None
    status: str = ""


def search_found(*, acting_user: User, filters: FoundFilters) -> QuerySet[FoundPerson]:
    qs = _search(
        acting_user,
        FoundPerson.objects.select_related("found_division", "institution"),
        Action.VIEW_FOUND,
        filters,
        object_type=FOUND_TYPE,
        division_field="found_division",
    )
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.found_from is not None:
        qs = qs.filter(found_on__gte=filters.found_from)
    if filters.found_to is not None:
        qs = qs.filter(found_on__lte=filters.found_to)
    if filters.age_from is not None:
        qs = qs.filter(age_max__gte=filters.age_from)
    if filters.age_to is not None:
        qs = qs.filter(age_min__lte=filters.age_to)
    return qs


# --------------------------------------------------------------------------- photo access


def get_photo(*, acting_user: User, photo_uuid: str) -> PersonPhoto:
    """A photo the user may see (audited); photos inherit their person's jurisdiction."""
    photo = (
        PersonPhoto.objects.select_related("missing_report__division", "found_person__division")
        .filter(uuid=photo_uuid)
        .first()
    )
    if photo is None:
        raise NotFound(_("No such photo."))
    person = photo.missing_report or photo.found_person
    assert person is not None
    action = Action.VIEW_MISSING if photo.missing_report is not None else Action.VIEW_FOUND
    _require(acting_user, action, person.division, object_type="photo", object_id=photo.pk)
    record(actor=acting_user, action=AuditAction.READ, object_type="photo", object_id=photo.pk)
    return photo


def dashboard_counts(*, acting_user: User) -> dict[str, int]:
    """Live counts for the home page, within what the user may see."""
    counts: dict[str, int] = {}
    if role_allows(acting_user, Action.VIEW_MISSING):
        mine = MissingPersonReport.objects.filter(scope_q(acting_user, Action.VIEW_MISSING))
        counts["missing_open"] = mine.filter(status="missing").count()
        counts["missing_found"] = mine.filter(status__in=["found_alive", "found_deceased"]).count()
        recent = timezone.now() - dt.timedelta(days=30)
        counts["missing_recent"] = mine.filter(created_at__gte=recent).count()
    if role_allows(acting_user, Action.VIEW_FOUND):
        found = FoundPerson.objects.filter(scope_q(acting_user, Action.VIEW_FOUND))
        counts["found_unidentified"] = found.filter(status="unidentified").count()
        counts["found_identified"] = found.exclude(status="unidentified").count()
    if role_allows(acting_user, Action.VIEW_CASE):
        from reunite.cases.services import visible_cases

        counts["cases_open"] = (
            visible_cases(acting_user=acting_user).exclude(status__in=["solved", "closed"]).count()
        )
    return counts


# --------------------------------------------------------------------------- web pages support


def ensure_role(*, acting_user: User, action: Action, object_type: str) -> None:
    """Refuse (and audit) a user whose role grants ``action`` nowhere, e.g. before a blank form."""
    _require(acting_user, action, None, object_type=object_type)


def get_missing_report_for_edit(*, acting_user: User, report_id: int) -> MissingPersonReport:
    """Read one report in order to edit it: the user must be allowed to edit it (audited)."""
    report = _get_missing_for(acting_user, report_id, Action.EDIT_MISSING)
    _audit_read(acting_user, report, "edit")
    return report


def get_found_person_for_edit(*, acting_user: User, person_id: int) -> FoundPerson:
    """Read one found person in order to edit the record (audited)."""
    person = _get_found_for(acting_user, person_id, Action.EDIT_FOUND)
    _audit_read(acting_user, person, "edit")
    return person


def _describe_candidates(
    acting_user: User, people: QuerySet[Person], candidate_ids: Sequence[int]
) -> list[Person]:
    found = list(people.filter(pk__in=list(candidate_ids)))
    for person in found:
        _audit_read(acting_user, person, "duplicate_check")
    return found


def describe_missing_candidates(
    *, acting_user: User, candidate_ids: Sequence[int]
) -> list[MissingPersonReport]:
    """The probable duplicates named by ``ProbableDuplicate``, to show to the registering user.

    Candidates may lie outside the user's jurisdiction (duplicates are searched province-wide):
    callers show only non-identifying facts (number, sex, birth year, place and date last seen,
    owning unit).  Each one shown is audited as a read made for a duplicate check.
    """
    return _describe_candidates(
        acting_user,
        MissingPersonReport.objects.select_related(
            "last_seen_division", "division", "owning_unit", "case"
        ).order_by("-last_seen_at", "-id"),
        candidate_ids,
    )


def describe_found_candidates(
    *, acting_user: User, candidate_ids: Sequence[int]
) -> list[FoundPerson]:
    """Like ``describe_missing_candidates``, for persons of unknown origin."""
    return _describe_candidates(
        acting_user,
        FoundPerson.objects.select_related("found_division", "division", "owning_unit").order_by(
            "-found_on", "-id"
        ),
        candidate_ids,
    )


@dataclass(frozen=True)
class DivisionHit:
    """One division offered by the division picker."""

    code: str
    name: str
    name_latin: str
    level: int
    full_name: str


DIVISION_SEARCH_LIMIT = 20


def division_full_names(divisions: Sequence[Division]) -> dict[str, str]:
    """``Division.full_name`` for many divisions at once (one query), keyed by code."""
    codes = {c for d in divisions for c in d.path.strip("/").split("/") if c}
    names = {
        code: (name, level)
        for code, name, level in Division.objects.filter(code__in=codes).values_list(
            "code", "name", "level"
        )
    }
    return {
        d.code: compose_full_name(
            [names[code] for code in d.path.strip("/").split("/") if code in names]
        )
        for d in divisions
    }


def search_divisions(*, query: str, limit: int = DIVISION_SEARCH_LIMIT) -> list[DivisionHit]:
    """Divisions whose name, Latin name (spaces ignored) or code prefix matches ``query``.

    Shallower levels first (province, city, county), then by code; at most ``limit``.  The tree is
    public reference data, so the search is not audited.
    """
    text = query.strip()[:50]
    if not text:
        return []
    latin = "".join(text.split())
    q = Q(name__contains=text) | Q(name_latin__icontains=latin)
    if text.isdigit():
        q |= Q(code__startswith=text)
    found = list(Division.objects.filter(q).order_by("level", "code")[:limit])
    full = division_full_names(found)
    return [
        DivisionHit(
            code=d.code,
            name=d.name,
            name_latin=d.name_latin,
            level=d.level,
            full_name=full[d.code],
        )
        for d in found
    ]


# --------------------------------------------------------------------------- adding photos


def add_missing_report_photos(
    *, acting_user: User, report_id: int, photos: Sequence[UploadedFile]
) -> list[PersonPhoto]:
    """Add photos to a report the user may edit, without touching its other fields (audited)."""
    report = _get_missing_for(acting_user, report_id, Action.EDIT_MISSING)
    return _add_photos(acting_user, report, photos)


def add_found_person_photos(
    *, acting_user: User, person_id: int, photos: Sequence[UploadedFile]
) -> list[PersonPhoto]:
    """Add photos to a person of unknown origin the user may edit (audited)."""
    person = _get_found_for(acting_user, person_id, Action.EDIT_FOUND)
    return _add_photos(acting_user, person, photos)


# --------------------------------------------------------------------------- status changes

# The lifecycle of a missing person report: from each status, the statuses it may move to.
# An outcome (found alive, found deceased, withdrawn) can be undone by reopening the report.
MISSING_TRANSITIONS: dict[str, frozenset[str]] = {
    MissingStatus.MISSING: frozenset(
        {MissingStatus.FOUND_ALIVE, MissingStatus.FOUND_DECEASED, MissingStatus.WITHDRAWN}
    ),
    MissingStatus.FOUND_ALIVE: frozenset({MissingStatus.MISSING}),
    MissingStatus.FOUND_DECEASED: frozenset({MissingStatus.MISSING}),
    MissingStatus.WITHDRAWN: frozenset({MissingStatus.MISSING}),
}

# The lifecycle of a person of unknown origin; an identification can be taken back.
FOUND_TRANSITIONS: dict[str, frozenset[str]] = {
    FoundStatus.UNIDENTIFIED: frozenset({FoundStatus.IDENTIFIED}),
    FoundStatus.IDENTIFIED: frozenset(
        {FoundStatus.RETURNED_HOME, FoundStatus.RESETTLED, FoundStatus.UNIDENTIFIED}
    ),
    FoundStatus.RETURNED_HOME: frozenset(),
    FoundStatus.RESETTLED: frozenset(),
}

# Moving back to these statuses undoes an outcome (a reopening): the user must say why.
NOTE_REQUIRED_FOR = frozenset({MissingStatus.MISSING, FoundStatus.UNIDENTIFIED})
MAX_STATUS_NOTE = 2000

# Where a missing report's case goes when the report reaches a status (if the case may).
CASE_STATUS_FOR_REPORT: dict[str, str] = {
    MissingStatus.FOUND_ALIVE: CaseStatus.SOLVED,
    MissingStatus.FOUND_DECEASED: CaseStatus.SOLVED,
    MissingStatus.WITHDRAWN: CaseStatus.CLOSED,
    MissingStatus.MISSING: CaseStatus.INVESTIGATING,
}


def next_missing_statuses(status: str) -> list[str]:
    """The statuses a report in ``status`` may move to, in lifecycle order."""
    allowed = MISSING_TRANSITIONS.get(status, frozenset())
    return [s for s in MissingStatus.values if s in allowed]


def next_found_statuses(status: str) -> list[str]:
    """The statuses a person of unknown origin in ``status`` may move to, in lifecycle order."""
    allowed = FOUND_TRANSITIONS.get(status, frozenset())
    return [s for s in FoundStatus.values if s in allowed]


StatusChoices = type[MissingStatus] | type[FoundStatus]


def _check_status_change(
    table: dict[str, frozenset[str]], labels: StatusChoices, old: str, new: str, note: str
) -> None:
    """Refuse a move not in ``table``, and a reopening without a note (``ValidationFailed``)."""
    if new not in table.get(old, frozenset()):
        msg = _("A record that is “%(old)s” cannot become “%(new)s”.") % {
            "old": labels(old).label,
            "new": labels(new).label,
        }
        raise ValidationFailed(msg, field_errors={"status": [msg]})
    if new in NOTE_REQUIRED_FOR and not note:
        msg = _("Say why the record is reopened.")
        raise ValidationFailed(msg, field_errors={"note": [msg]})


def _clean_status_input(status: str, choices: StatusChoices, note: str) -> str:
    """The note, stripped; refuses an unknown status and a note no column can hold."""
    errors = FieldErrors()
    if status not in choices.values:
        errors.add("status", _("Not a valid status."))
    if len(note) > MAX_STATUS_NOTE:
        errors.add("note", _("At most %(n)d characters.") % {"n": MAX_STATUS_NOTE})
    elif "\x00" in note:
        errors.add("note", _("Text may not contain NUL characters."))
    else:
        try:
            note.encode("utf-8")
        except UnicodeEncodeError:
            errors.add("note", _("Text is not valid Unicode."))
    errors.raise_if_any()
    return note.strip()


def _status_audit(
    acting_user: User, person: MissingPersonReport | FoundPerson, old: str, note: str
) -> None:
    # Only whether a note was given: its text may name people.
    record(
        actor=acting_user,
        action=AuditAction.UPDATE,
        object_type=_object_type(person),
        object_id=person.pk,
        details={"status": [old, person.status], "note": bool(note)},
    )


def change_missing_status(
    *, acting_user: User, report_id: int, status: str, note: str = ""
) -> MissingPersonReport:
    """Move a report along ``MISSING_TRANSITIONS``; its case follows where the case may.

    The case's timeline gets the change with the note (it is internal to the police); the audit
    log gets the old and new status and whether a note was given.  Found (alive or deceased)
    moves the case to solved, withdrawn to closed, a reopening back to investigating — each only
    when ``cases.services.ALLOWED_TRANSITIONS`` allows it from where the case stands.
    Raises ``NotFound``, ``AccessDenied`` (audited) or ``ValidationFailed`` (``status``/``note``).
    """
    from reunite.alerts.services import report_status_changed
    from reunite.cases.models import CaseEventKind
    from reunite.cases.services import add_event, follow_report

    # Authorise first, outside the transaction, so that the audited refusal is not rolled back.
    found = _get_missing_for(acting_user, report_id, Action.EDIT_MISSING)
    note = _clean_status_input(status, MissingStatus, note)
    with transaction.atomic():
        # Re-read under a row lock: two people changing the same report see each other's change.
        report = MissingPersonReport.objects.select_for_update().get(pk=found.pk)
        old = report.status
        _check_status_change(MISSING_TRANSITIONS, MissingStatus, old, status, note)
        report.status = status
        report.save(update_fields=["status", "updated_at"])
        case = getattr(report, "case", None)
        if case is not None:
            summary = f"{report}: {old} → {status}"
            add_event(
                case=case,
                kind=CaseEventKind.STATUS,
                acting_user=acting_user,
                summary=f"{summary}\n{note}" if note else summary,
            )
            report.case = follow_report(
                acting_user=acting_user, case_id=case.pk, status=CASE_STATUS_FOR_REPORT[status]
            )
        _status_audit(acting_user, report, old, note)
        report_status_changed(acting_user=acting_user, report=report, old_status=old)
    return report


def change_found_status(
    *, acting_user: User, person_id: int, status: str, note: str = ""
) -> FoundPerson:
    """Move a person of unknown origin along ``FOUND_TRANSITIONS`` (audited, note not kept).

    Raises ``NotFound``, ``AccessDenied`` (audited) or ``ValidationFailed`` (``status``/``note``).
    """
    found = _get_found_for(acting_user, person_id, Action.EDIT_FOUND)
    note = _clean_status_input(status, FoundStatus, note)
    with transaction.atomic():
        person = FoundPerson.objects.select_for_update().get(pk=found.pk)
        old = person.status
        _check_status_change(FOUND_TRANSITIONS, FoundStatus, old, status, note)
        person.status = status
        person.save(update_fields=["status", "updated_at"])
        _status_audit(acting_user, person, old, note)
    return person
