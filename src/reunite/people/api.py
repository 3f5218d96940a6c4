"""JSON API of the people registry: missing persons, persons of unknown origin, photos, dashboard.

Handlers are thin: they turn a validated input shape into a ``*Data`` object, call
``people.services`` (which authorises, validates, audits and saves), and turn what it returns
into an output shape.  The exceptions services raise become responses in ``reunite.api``.
Search results are summaries; the full record (with relatives, contacts and photos) is only
returned by the single-record read, which the service audits record by record.
"""

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import File, P, PathEx, Query, Router, Schema, Status, UploadedFile

from reunite.accounts.models import Division, Organisation, User
from reunite.core.errors import AccessDenied, ValidationFailed
from reunite.people import services
from reunite.people.models import (
    Build,
    FoundCategory,
    FoundPerson,
    FoundStatus,
    MissingPersonReport,
    MissingStatus,
    PersonPhoto,
    Relationship,
    Sex,
)
from reunite.people.schemas import (
    MAX_ID,
    CaseRef,
    DashboardRead,
    DivisionRead,
    DuplicateErrorRead,
    ErrorRead,
    FoundPersonCreate,
    FoundPersonPage,
    FoundPersonQuery,
    FoundPersonRead,
    FoundPersonSummary,
    FoundPersonUpdate,
    FoundPersonWrite,
    FoundStatusChange,
    MissingReportCreate,
    MissingReportPage,
    MissingReportQuery,
    MissingReportRead,
    MissingReportSummary,
    MissingReportUpdate,
    MissingReportWrite,
    MissingStatusChange,
    PageInput,
    PhotoRead,
    RelativeRead,
    UnitRead,
    ValidationErrorRead,
)

missing_router = Router(tags=["missing persons"])
found_router = Router(tags=["persons of unknown origin"])
photo_router = Router(tags=["photos"])
dashboard_router = Router(tags=["dashboard"])

# Documented error responses (the bodies come from the exception handlers in ``reunite.api``).
AUTH_ERRORS: dict[int, Any] = {401: ErrorRead, 403: ErrorRead}
READ_ERRORS: dict[int, Any] = {**AUTH_ERRORS, 404: ErrorRead, 422: ValidationErrorRead}
WRITE_ERRORS: dict[int, Any] = {**READ_ERRORS, 409: DuplicateErrorRead}

PHOTO_FORMATS = ("image/jpeg", "image/png", "image/webp")
INVALID_INPUT = gettext_lazy("The request is invalid; see the errors of each field.")


# --------------------------------------------------------------------------- helpers


def acting_user(request: HttpRequest) -> User:
    """The signed-in user the API's authentication has let through."""
    user = request.user
    if not isinstance(user, User):
        raise AccessDenied(_("Sign in first."))
    return user


def reject_unknown_params(request: HttpRequest, schema: type[Schema]) -> None:
    """Refuse query parameters the endpoint does not know (a misspelt filter would be ignored)."""
    unknown = sorted(set(request.GET) - set(schema.model_fields))
    if unknown:
        raise ValidationFailed(
            str(INVALID_INPUT),
            field_errors={name[:50]: [_("Unknown parameter.")] for name in unknown[:20]},
        )


def division_by_code(code: str, field: str) -> Division:
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise ValidationFailed(
            str(INVALID_INPUT),
            field_errors={field: [_("No division has this code.")]},
        )
    return division


def division_reads(divisions: Iterable[Division]) -> dict[str, DivisionRead]:
    """Output shapes for many divisions, their full names looked up in one query."""
    unique = {d.code: d for d in divisions}
    full = services.division_full_names(list(unique.values()))
    return {
        code: DivisionRead(code=code, name=d.name, full_name=full[code])
        for code, d in unique.items()
    }


def _unit(org: Organisation) -> UnitRead:
    return UnitRead(id=org.pk, name=org.name)


def _photos(photos: Iterable[PersonPhoto]) -> list[PhotoRead]:
    return [
        PhotoRead(
            uuid=p.uuid,
            url=reverse("api:get_photo", kwargs={"photo_uuid": p.uuid}),
            width=p.width,
            height=p.height,
        )
        for p in photos
    ]


def _page_bounds(query: PageInput) -> slice:
    return slice(query.offset, query.offset + query.limit)


# --------------------------------------------------------------------------- missing persons


def _missing_data(payload: MissingReportWrite) -> services.MissingReportData:
    return services.MissingReportData(
        full_name=payload.full_name,
        sex=payload.sex.value,
        last_seen_at=payload.last_seen_at,
        last_seen_division=division_by_code(payload.last_seen_division, "last_seen_division"),
        name_pinyin=payload.name_pinyin,
        other_names=payload.other_names,
        id_number=payload.id_number,
        date_of_birth=payload.date_of_birth,
        age_at_disappearance=payload.age_at_disappearance,
        height_cm=payload.height_cm,
        build=payload.build.value,
        distinguishing_marks=payload.distinguishing_marks,
        language_dialect=payload.language_dialect,
        last_seen_latitude=payload.last_seen_latitude,
        last_seen_longitude=payload.last_seen_longitude,
        last_seen_place=payload.last_seen_place,
        circumstances=payload.circumstances,
        relatives=[
            services.RelativeData(
                name=r.name,
                relationship=r.relationship.value,
                contact=r.contact,
                is_reporter=r.is_reporter,
            )
            for r in payload.relatives
        ],
    )


def _missing_read(report: MissingPersonReport) -> MissingReportRead:
    divisions = division_reads([report.division, report.last_seen_division])
    case = getattr(report, "case", None)
    return MissingReportRead(
        id=report.pk,
        public_id=report.public_id,
        status=MissingStatus(report.status),
        full_name=report.full_name,
        name_pinyin=report.name_pinyin,
        other_names=report.other_names,
        id_number=report.id_number,
        sex=Sex(report.sex),
        date_of_birth=report.date_of_birth,
        age_at_disappearance=report.age_at_disappearance,
        birth_year=report.birth_year,
        height_cm=report.height_cm,
        build=Build(report.build),
        distinguishing_marks=report.distinguishing_marks,
        language_dialect=report.language_dialect,
        last_seen_at=report.last_seen_at,
        last_seen_division=divisions[report.last_seen_division.code],
        last_seen_latitude=report.last_seen_latitude,
        last_seen_longitude=report.last_seen_longitude,
        last_seen_place=report.last_seen_place,
        circumstances=report.circumstances,
        relatives=[
            RelativeRead(
                name=r.name,
                relationship=Relationship(r.relationship),
                contact=r.contact,
                is_reporter=r.is_reporter,
            )
            for r in report.relatives.order_by("pk")
        ],
        photos=_photos(report.photos.all()),
        jurisdiction=divisions[report.division.code],
        owning_unit=_unit(report.owning_unit),
        case=CaseRef(id=case.pk, number=case.number) if case is not None else None,
        duplicate_of=report.duplicate_of_id,
        duplicate_checked=report.duplicate_checked,
        created_at=report.created_at,
        updated_at=report.updated_at,
    )


@missing_router.get(
    "", response={200: MissingReportPage, **READ_ERRORS}, url_name="list_missing_reports"
)
def list_missing_reports(
    request: HttpRequest, query: Query[MissingReportQuery]
) -> MissingReportPage:
    """Search the missing person reports of your jurisdiction (the search is audited)."""
    reject_unknown_params(request, MissingReportQuery)
    filters = services.MissingFilters(
        text=query.q,
        sex=query.sex.value if query.sex else "",
        age_from=query.age_from,
        age_to=query.age_to,
        division=division_by_code(query.division, "division") if query.division else None,
        seen_from=query.seen_from,
        seen_to=query.seen_to,
        status=query.status.value if query.status else "",
    )
    found = services.search_missing(acting_user=acting_user(request), filters=filters)
    page = list(found[_page_bounds(query)])
    divisions = division_reads(r.last_seen_division for r in page)
    items = []
    for r in page:
        case = getattr(r, "case", None)
        items.append(
            MissingReportSummary(
                id=r.pk,
                full_name=r.full_name,
                name_pinyin=r.name_pinyin,
                sex=Sex(r.sex),
                birth_year=r.birth_year,
                age_at_disappearance=r.age_at_disappearance,
                last_seen_at=r.last_seen_at,
                last_seen_division=divisions[r.last_seen_division.code],
                status=MissingStatus(r.status),
                case_number=case.number if case is not None else None,
            )
        )
    return MissingReportPage(
        count=found.count(), limit=query.limit, offset=query.offset, items=items
    )


@missing_router.post(
    "", response={201: MissingReportRead, **WRITE_ERRORS}, url_name="create_missing_report"
)
def create_missing_report(
    request: HttpRequest, payload: MissingReportCreate
) -> Status[MissingReportRead]:
    """Register a disappearance; this opens its case.

    A probable duplicate is refused with 409 and the candidates' ids: resubmit with ``link_to``
    (same person) or ``confirm_not_duplicate`` (someone else).
    """
    report = services.create_missing_report(
        acting_user=acting_user(request),
        data=_missing_data(payload),
        confirm_not_duplicate=payload.confirm_not_duplicate,
        link_to=payload.link_to,
    )
    return Status(201, _missing_read(report))


@missing_router.get(
    "/{report_id}", response={200: MissingReportRead, **READ_ERRORS}, url_name="get_missing_report"
)
def get_missing_report(
    request: HttpRequest, report_id: PathEx[int, P(ge=1, le=MAX_ID)]
) -> MissingReportRead:
    """Read one report (audited)."""
    report = services.get_missing_report(acting_user=acting_user(request), report_id=report_id)
    return _missing_read(report)


@missing_router.put(
    "/{report_id}",
    response={200: MissingReportRead, **READ_ERRORS},
    url_name="update_missing_report",
)
def update_missing_report(
    request: HttpRequest,
    report_id: PathEx[int, P(ge=1, le=MAX_ID)],
    payload: MissingReportUpdate,
) -> MissingReportRead:
    """Replace the fields of a report; the relatives list replaces the old one."""
    report = services.update_missing_report(
        acting_user=acting_user(request), report_id=report_id, data=_missing_data(payload)
    )
    return _missing_read(report)


@missing_router.post(
    "/{report_id}/photos",
    response={201: list[PhotoRead], **READ_ERRORS},
    url_name="add_missing_report_photos",
)
def add_missing_report_photos(
    request: HttpRequest,
    report_id: PathEx[int, P(ge=1, le=MAX_ID)],
    photos: File[list[UploadedFile]],
) -> Status[list[PhotoRead]]:
    """Add photos (multipart, one or more files named ``photos``; JPEG, PNG or WebP)."""
    saved = services.add_missing_report_photos(
        acting_user=acting_user(request), report_id=report_id, photos=photos
    )
    return Status(201, _photos(saved))


@missing_router.post(
    "/{report_id}/status",
    response={200: MissingReportRead, **READ_ERRORS},
    url_name="change_missing_status",
)
def change_missing_status(
    request: HttpRequest,
    report_id: PathEx[int, P(ge=1, le=MAX_ID)],
    payload: MissingStatusChange,
) -> MissingReportRead:
    """Change the status of a report; its case follows where the case lifecycle allows.

    Allowed: missing → found_alive, found_deceased or withdrawn; any of those → missing (a
    reopening, with a note). Any other move is refused with 422. The note goes to the case's
    timeline (police only); the audit log records only whether one was given.
    """
    report = services.change_missing_status(
        acting_user=acting_user(request),
        report_id=report_id,
        status=payload.status.value,
        note=payload.note,
    )
    return _missing_read(report)


# --------------------------------------------------------------------------- found persons


def _institution(org_id: int | None) -> Organisation | None:
    if org_id is None:
        return None
    org = Organisation.objects.filter(pk=org_id).first()
    if org is None:
        raise ValidationFailed(
            str(INVALID_INPUT),
            field_errors={"institution": [_("No organisation has this id.")]},
        )
    return org


def _found_data(payload: FoundPersonWrite) -> services.FoundPersonData:
    return services.FoundPersonData(
        category=payload.category.value,
        sex=payload.sex.value,
        found_on=payload.found_on,
        found_division=division_by_code(payload.found_division, "found_division"),
        age_min=payload.age_min,
        age_max=payload.age_max,
        found_latitude=payload.found_latitude,
        found_longitude=payload.found_longitude,
        found_place=payload.found_place,
        institution=_institution(payload.institution),
        held_place=payload.held_place,
        height_cm=payload.height_cm,
        build=payload.build.value,
        description=payload.description,
        distinguishing_marks=payload.distinguishing_marks,
        language_dialect=payload.language_dialect,
        given_name=payload.given_name,
        given_name_pinyin=payload.given_name_pinyin,
        given_places=payload.given_places,
    )


def _found_read(person: FoundPerson) -> FoundPersonRead:
    divisions = division_reads([person.division, person.found_division])
    return FoundPersonRead(
        id=person.pk,
        public_id=person.public_id,
        status=FoundStatus(person.status),
        category=FoundCategory(person.category),
        sex=Sex(person.sex),
        found_on=person.found_on,
        found_division=divisions[person.found_division.code],
        found_latitude=person.found_latitude,
        found_longitude=person.found_longitude,
        found_place=person.found_place,
        institution=_unit(person.institution) if person.institution is not None else None,
        held_place=person.held_place,
        age_min=person.age_min,
        age_max=person.age_max,
        height_cm=person.height_cm,
        build=Build(person.build),
        description=person.description,
        distinguishing_marks=person.distinguishing_marks,
        language_dialect=person.language_dialect,
        given_name=person.given_name,
        given_name_pinyin=person.given_name_pinyin,
        given_places=person.given_places,
        photos=_photos(person.photos.all()),
        jurisdiction=divisions[person.division.code],
        owning_unit=_unit(person.owning_unit),
        duplicate_of=person.duplicate_of_id,
        duplicate_checked=person.duplicate_checked,
        created_at=person.created_at,
        updated_at=person.updated_at,
    )


@found_router.get("", response={200: FoundPersonPage, **READ_ERRORS}, url_name="list_found_persons")
def list_found_persons(request: HttpRequest, query: Query[FoundPersonQuery]) -> FoundPersonPage:
    """Search the persons of unknown origin of your jurisdiction (the search is audited)."""
    reject_unknown_params(request, FoundPersonQuery)
    filters = services.FoundFilters(
        text=query.q,
        sex=query.sex.value if query.sex else "",
        category=query.category.value if query.category else "",
        age_from=query.age_from,
        age_to=query.age_to,
        division=division_by_code(query.division, "division") if query.division else None,
        found_from=query.found_from,
        found_to=query.found_to,
        status=query.status.value if query.status else "",
    )
    found = services.search_found(acting_user=acting_user(request), filters=filters)
    page: Sequence[FoundPerson] = list(found[_page_bounds(query)])
    divisions = division_reads(p.found_division for p in page)
    items = [
        FoundPersonSummary(
            id=p.pk,
            category=FoundCategory(p.category),
            sex=Sex(p.sex),
            age_min=p.age_min,
            age_max=p.age_max,
            found_on=p.found_on,
            found_division=divisions[p.found_division.code],
            given_name=p.given_name,
            status=FoundStatus(p.status),
        )
        for p in page
    ]
    return FoundPersonPage(count=found.count(), limit=query.limit, offset=query.offset, items=items)


@found_router.post(
    "", response={201: FoundPersonRead, **WRITE_ERRORS}, url_name="create_found_person"
)
def create_found_person(
    request: HttpRequest, payload: FoundPersonCreate
) -> Status[FoundPersonRead]:
    """Register a person of unknown origin.

    A probable duplicate is refused with 409 and the candidates' ids: resubmit with ``link_to``
    (same person) or ``confirm_not_duplicate`` (someone else).
    """
    person = services.create_found_person(
        acting_user=acting_user(request),
        data=_found_data(payload),
        confirm_not_duplicate=payload.confirm_not_duplicate,
        link_to=payload.link_to,
    )
    return Status(201, _found_read(person))


@found_router.get(
    "/{person_id}", response={200: FoundPersonRead, **READ_ERRORS}, url_name="get_found_person"
)
def get_found_person(
    request: HttpRequest, person_id: PathEx[int, P(ge=1, le=MAX_ID)]
) -> FoundPersonRead:
    """Read one record (audited)."""
    person = services.get_found_person(acting_user=acting_user(request), person_id=person_id)
    return _found_read(person)


@found_router.put(
    "/{person_id}", response={200: FoundPersonRead, **READ_ERRORS}, url_name="update_found_person"
)
def update_found_person(
    request: HttpRequest,
    person_id: PathEx[int, P(ge=1, le=MAX_ID)],
    payload: FoundPersonUpdate,
) -> FoundPersonRead:
    """Replace the fields of a record."""
    person = services.update_found_person(
        acting_user=acting_user(request), person_id=person_id, data=_found_data(payload)
    )
    return _found_read(person)


@found_router.post(
    "/{person_id}/photos",
    response={201: list[PhotoRead], **READ_ERRORS},
    url_name="add_found_person_photos",
)
def add_found_person_photos(
    request: HttpRequest,
    person_id: PathEx[int, P(ge=1, le=MAX_ID)],
    photos: File[list[UploadedFile]],
) -> Status[list[PhotoRead]]:
    """Add photos (multipart, one or more files named ``photos``; JPEG, PNG or WebP)."""
    saved = services.add_found_person_photos(
        acting_user=acting_user(request), person_id=person_id, photos=photos
    )
    return Status(201, _photos(saved))


@found_router.post(
    "/{person_id}/status",
    response={200: FoundPersonRead, **READ_ERRORS},
    url_name="change_found_status",
)
def change_found_status(
    request: HttpRequest,
    person_id: PathEx[int, P(ge=1, le=MAX_ID)],
    payload: FoundStatusChange,
) -> FoundPersonRead:
    """Change the status of a person of unknown origin.

    Allowed: unidentified → identified → returned_home or resettled; identified → unidentified
    (with a note). Any other move is refused with 422.
    """
    person = services.change_found_status(
        acting_user=acting_user(request),
        person_id=person_id,
        status=payload.status.value,
        note=payload.note,
    )
    return _found_read(person)


# --------------------------------------------------------------------------- photos, dashboard


@photo_router.get(
    "/{photo_uuid}",
    response=READ_ERRORS,
    url_name="get_photo",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The image (re-encoded at upload, without metadata).",
                "content": {
                    kind: {"schema": {"type": "string", "format": "binary"}}
                    for kind in PHOTO_FORMATS
                },
            }
        }
    },
)
def get_photo(request: HttpRequest, photo_uuid: uuid.UUID) -> FileResponse:
    """The image of a photo, if you may see its person (audited)."""
    photo = services.get_photo(acting_user=acting_user(request), photo_uuid=str(photo_uuid))
    response = FileResponse(photo.image.open("rb"), content_type=photo.content_type)
    response["Content-Disposition"] = f'inline; filename="{photo.uuid}.{photo.extension}"'
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@dashboard_router.get("", response={200: DashboardRead, **AUTH_ERRORS}, url_name="dashboard")
def dashboard(request: HttpRequest) -> DashboardRead:
    """Live counts within your jurisdiction; a figure your role does not see is null."""
    return DashboardRead(**services.dashboard_counts(acting_user=acting_user(request)))
