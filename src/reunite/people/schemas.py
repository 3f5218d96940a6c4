"""Shapes of the people registry's JSON API, and the shared pieces other domains' APIs reuse.

Input shapes refuse unknown fields and bound every value, so that nothing malformed reaches the
services or the database: text has a maximum length and may hold no NUL character or broken
Unicode, numbers stay within what the columns can store, coordinates are finite, dates are ISO
8601 strings within 1900-2999, and a time without an offset is read in the server's time zone
(times are kept, and returned, in UTC).
The rules of the registry (a name is required, ages are plausible, coordinates lie inside the
division, duplicates) stay in ``people.services``; these shapes only make the input well formed.
Names follow Entity+Verb: ``MissingReportCreate`` comes in, ``MissingReportRead`` goes out.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StrictBool
from pydantic_core import PydanticCustomError

from reunite.people.models import (
    Build,
    FoundCategory,
    FoundStatus,
    MissingStatus,
    Relationship,
    Sex,
)

MAX_ID = 2**63 - 1  # the largest primary key a 64-bit column holds
SMALL_INT_MAX = 32767  # PositiveSmallIntegerField
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_OFFSET = 10**9
MAX_RELATIVES = 20
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


# --------------------------------------------------------------------------- value types


def _clean_text(value: str) -> str:
    """Refuse what no column can store: NUL characters and lone surrogates (broken UTF-16)."""
    if "\x00" in value:
        raise PydanticCustomError("text_nul", _("Text may not contain NUL characters."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("text_unicode", _("Text is not valid Unicode.")) from None
    return value


def _iso_date_string(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise PydanticCustomError("date_iso", _("Enter a date as YYYY-MM-DD."))
    return value


def _date_in_range(value: dt.date) -> dt.date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise PydanticCustomError(
            "date_range",
            _("Enter a date between %(lo)s and %(hi)s.")
            % {"lo": EARLIEST_DATE.isoformat(), "hi": LATEST_DATE.isoformat()},
        )
    return value


def _iso_datetime_string(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATETIME.match(value):
        raise PydanticCustomError(
            "datetime_iso", _("Enter a date and time as YYYY-MM-DDTHH:MM[:SS][+HH:MM].")
        )
    return value


def _aware_in_range(value: dt.datetime) -> dt.datetime:
    # Checked on the wall-clock date, before any conversion that could overflow.
    _date_in_range(value.date())
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value.astimezone(dt.UTC)


def _blank_to_none(value: Any) -> Any:
    """An empty query parameter (``?sex=``) means "any", as a web form sends it."""
    return None if value == "" else value


def _text(max_length: int) -> Any:
    return Field(max_length=max_length)


# Text of bounded length (the numbers match the columns or a generous human limit).
Name = Annotated[str, _text(200), AfterValidator(_clean_text)]
ShortText = Annotated[str, _text(100), AfterValidator(_clean_text)]
IdNumber = Annotated[str, _text(64), AfterValidator(_clean_text)]
Place = Annotated[str, _text(300), AfterValidator(_clean_text)]
MediumText = Annotated[str, _text(1000), AfterValidator(_clean_text)]
LongText = Annotated[str, _text(5000), AfterValidator(_clean_text)]
StatusNote = Annotated[
    str,
    _text(2000),
    AfterValidator(_clean_text),
    Field(description="Why the status changes; required when a record is reopened."),
]
DivisionCode = Annotated[
    str,
    Field(
        pattern=r"^[0-9A-Za-z]{1,24}$",
        description="Administrative division code, e.g. 110105 (GB/T 2260).",
        examples=["110105"],
    ),
]
SmallInt = Annotated[int, Field(strict=True, ge=0, le=SMALL_INT_MAX)]
RecordId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
Latitude = Annotated[float, Field(strict=True, ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(strict=True, ge=-180, le=180, allow_inf_nan=False)]
IsoDate = Annotated[
    dt.date,
    BeforeValidator(_iso_date_string),
    AfterValidator(_date_in_range),
    Field(description="ISO 8601 date, YYYY-MM-DD."),
]
IsoDatetime = Annotated[
    dt.datetime,
    BeforeValidator(_iso_datetime_string),
    AfterValidator(_aware_in_range),
    Field(
        description=(
            "ISO 8601 date and time; without an offset it is read in the server's time zone."
        )
    ),
]

# Query parameters arrive as strings: no strict mode, and an empty value means "any".
QueryAge = Annotated[Annotated[int, Field(ge=0, le=150)] | None, BeforeValidator(_blank_to_none)]
QueryDate = Annotated[IsoDate | None, BeforeValidator(_blank_to_none)]
QueryDivision = Annotated[DivisionCode | None, BeforeValidator(_blank_to_none)]
QuerySex = Annotated[Sex | None, BeforeValidator(_blank_to_none)]


class Input(Schema):
    """Base of every input shape: an unknown field is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- shared output


class ErrorRead(Schema):
    detail: str


class ValidationErrorRead(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(
        description="Messages per field; nested fields as dotted paths, e.g. relatives.0.name."
    )


class DuplicateErrorRead(Schema):
    detail: str
    candidates: list[int] = Field(
        description="Ids of the records this one probably duplicates; resubmit with link_to "
        "set to one of them, or with confirm_not_duplicate=true."
    )


class DivisionRead(Schema):
    code: str
    name: str
    full_name: str


class UnitRead(Schema):
    id: int
    name: str


class PhotoRead(Schema):
    uuid: uuid.UUID
    url: str = Field(description="Where the image is served (authorised and audited).")
    width: int
    height: int


class PageInput(Input):
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


# --------------------------------------------------------------------------- missing persons


class RelativeWrite(Input):
    name: Name
    relationship: Relationship
    contact: Name = ""
    is_reporter: StrictBool = True


class RelativeRead(Schema):
    name: str
    relationship: Relationship
    contact: str
    is_reporter: bool


class MissingReportWrite(Input):
    """The fields of a missing person report, as created or replaced."""

    full_name: Name
    sex: Sex
    last_seen_at: IsoDatetime
    last_seen_division: DivisionCode
    name_pinyin: Name = ""
    other_names: MediumText = ""
    id_number: IdNumber = ""
    date_of_birth: IsoDate | None = None
    age_at_disappearance: SmallInt | None = None
    height_cm: SmallInt | None = None
    build: Build = Build.UNKNOWN
    distinguishing_marks: LongText = ""
    language_dialect: ShortText = ""
    last_seen_latitude: Latitude | None = None
    last_seen_longitude: Longitude | None = None
    last_seen_place: Place = ""
    circumstances: LongText = ""
    relatives: list[RelativeWrite] = Field(default_factory=list, max_length=MAX_RELATIVES)


class MissingReportCreate(MissingReportWrite):
    confirm_not_duplicate: StrictBool = Field(
        False, description="Register even though probable duplicates exist."
    )
    link_to: RecordId | None = Field(
        None, description="Id of the probable duplicate that describes the same person."
    )


class MissingReportUpdate(MissingReportWrite):
    """Replaces every field of the report; the relatives list replaces the old one."""


class CaseRef(Schema):
    id: int
    number: str


class MissingReportRead(Schema):
    id: int
    public_id: uuid.UUID
    status: MissingStatus
    full_name: str
    name_pinyin: str
    other_names: str
    id_number: str
    sex: Sex
    date_of_birth: dt.date | None
    age_at_disappearance: int | None
    birth_year: int | None = Field(description="Exact, or estimated from the age when missing.")
    height_cm: int | None
    build: Build
    distinguishing_marks: str
    language_dialect: str
    last_seen_at: dt.datetime
    last_seen_division: DivisionRead
    last_seen_latitude: float | None
    last_seen_longitude: float | None
    last_seen_place: str
    circumstances: str
    relatives: list[RelativeRead]
    photos: list[PhotoRead]
    jurisdiction: DivisionRead
    owning_unit: UnitRead
    case: CaseRef | None
    duplicate_of: int | None
    duplicate_checked: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class MissingReportSummary(Schema):
    """One search hit: enough to recognise the person; read the report for the rest."""

    id: int
    full_name: str
    name_pinyin: str
    sex: Sex
    birth_year: int | None
    age_at_disappearance: int | None
    last_seen_at: dt.datetime
    last_seen_division: DivisionRead
    status: MissingStatus
    case_number: str | None


class MissingReportPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[MissingReportSummary]


class MissingReportQuery(PageInput):
    q: Name = Field("", description="Name in Han characters or pinyin (all words must match).")
    sex: QuerySex = None
    age_from: QueryAge = Field(None, description="Age today, at least.")
    age_to: QueryAge = Field(None, description="Age today, at most.")
    division: QueryDivision = Field(None, description="Last seen in this division or below.")
    seen_from: QueryDate = None
    seen_to: QueryDate = None
    status: Annotated[MissingStatus | None, BeforeValidator(_blank_to_none)] = None


# --------------------------------------------------------------------------- found persons


class FoundPersonWrite(Input):
    """The fields of a person of unknown origin, as created or replaced."""

    category: FoundCategory
    sex: Sex
    found_on: IsoDate
    found_division: DivisionCode
    age_min: SmallInt
    age_max: SmallInt
    found_latitude: Latitude | None = None
    found_longitude: Longitude | None = None
    found_place: Place = ""
    institution: RecordId | None = Field(
        None, description="Id of the welfare institution, rescue station or hospital."
    )
    held_place: Place = ""
    height_cm: SmallInt | None = None
    build: Build = Build.UNKNOWN
    description: LongText = ""
    distinguishing_marks: LongText = ""
    language_dialect: ShortText = ""
    given_name: Name = ""
    given_name_pinyin: Name = ""
    given_places: MediumText = ""


class FoundPersonCreate(FoundPersonWrite):
    confirm_not_duplicate: StrictBool = Field(
        False, description="Register even though probable duplicates exist."
    )
    link_to: RecordId | None = Field(
        None, description="Id of the probable duplicate that describes the same person."
    )


class FoundPersonUpdate(FoundPersonWrite):
    """Replaces every field of the record."""


class FoundPersonRead(Schema):
    id: int
    public_id: uuid.UUID
    status: FoundStatus
    category: FoundCategory
    sex: Sex
    found_on: dt.date
    found_division: DivisionRead
    found_latitude: float | None
    found_longitude: float | None
    found_place: str
    institution: UnitRead | None
    held_place: str
    age_min: int
    age_max: int
    height_cm: int | None
    build: Build
    description: str
    distinguishing_marks: str
    language_dialect: str
    given_name: str
    given_name_pinyin: str
    given_places: str
    photos: list[PhotoRead]
    jurisdiction: DivisionRead
    owning_unit: UnitRead
    duplicate_of: int | None
    duplicate_checked: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class FoundPersonSummary(Schema):
    """One search hit; read the record for the rest."""

    id: int
    category: FoundCategory
    sex: Sex
    age_min: int
    age_max: int
    found_on: dt.date
    found_division: DivisionRead
    given_name: str
    status: FoundStatus


class FoundPersonPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[FoundPersonSummary]


class FoundPersonQuery(PageInput):
    q: Name = Field("", description="The name the person gives, in Han characters or pinyin.")
    sex: QuerySex = None
    category: Annotated[FoundCategory | None, BeforeValidator(_blank_to_none)] = None
    age_from: QueryAge = Field(None, description="Estimated age range reaches at least this.")
    age_to: QueryAge = Field(None, description="Estimated age range starts at most at this.")
    division: QueryDivision = Field(None, description="Found in this division or below.")
    found_from: QueryDate = None
    found_to: QueryDate = None
    status: Annotated[FoundStatus | None, BeforeValidator(_blank_to_none)] = None


# --------------------------------------------------------------------------- status changes


class MissingStatusChange(Input):
    """Move a report to another status: found alive or deceased, withdrawn, or back to missing
    (a reopening, which needs a note)."""

    status: MissingStatus
    note: StatusNote = ""


class FoundStatusChange(Input):
    """Move a person of unknown origin to another status: identified, then returned home or
    resettled, or back to unidentified (which needs a note)."""

    status: FoundStatus
    note: StatusNote = ""


# --------------------------------------------------------------------------- dashboard


class DashboardRead(Schema):
    """Live counts within the user's jurisdiction; null where the role does not see them."""

    missing_open: int | None = None
    missing_found: int | None = None
    missing_recent: int | None = Field(None, description="Reports registered in 30 days.")
    found_unidentified: int | None = None
    found_identified: int | None = None
    cases_open: int | None = None
