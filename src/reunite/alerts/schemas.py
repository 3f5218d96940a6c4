"""Shapes of the alerts JSON API.

Inputs refuse unknown fields and bound every value (``people.schemas.Input`` and its value
types); the rules — criteria, jurisdiction, coordinates inside the division, the 360-character
public text — stay in ``alerts.services``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, Field, StrictBool

from reunite.alerts.models import AlertScope, AlertStatus, SightingStatus
from reunite.alerts.services import MAX_NOTE, MAX_PUBLIC_DESCRIPTION, MAX_STATEMENT
from reunite.people.schemas import (
    CaseRef,
    DivisionRead,
    Input,
    Latitude,
    Longitude,
    PageInput,
    RecordId,
    _blank_to_none,
    _clean_text,
)

PublicDescription = Annotated[
    str, Field(max_length=MAX_PUBLIC_DESCRIPTION), AfterValidator(_clean_text)
]
Statement = Annotated[str, Field(max_length=MAX_STATEMENT), AfterValidator(_clean_text)]
Note = Annotated[str, Field(max_length=MAX_NOTE), AfterValidator(_clean_text)]


class AlertWrite(Input):
    """What the drafting officer decides; the rest comes from the missing report."""

    scope: AlertScope = AlertScope.REGIONAL
    at_risk: StrictBool = Field(False, description="An adult woman stated to be at risk.")
    abduction_or_danger: StrictBool = False
    danger_statement: Statement = Field("", description="Why; internal, never published.")
    public_description: PublicDescription = Field(
        "", description="Published. The whole public text must fit 360 characters per language."
    )
    publish_name: StrictBool = True
    publish_sex: StrictBool = True
    publish_age: StrictBool = True
    publish_height: StrictBool = True
    publish_marks: StrictBool = False
    publish_place: StrictBool = True
    public_photo: uuid.UUID | None = Field(None, description="uuid of one of the report's photos.")
    latitude: Latitude | None = Field(None, description="Default: the report's coordinates.")
    longitude: Longitude | None = None


class AlertCreate(AlertWrite):
    report: RecordId = Field(description="Id of the missing person report.")


class AlertUpdate(AlertWrite):
    """Replaces every field of a draft."""


class AlertCancel(Input):
    note: Note = Field(description="Why the alert is cancelled (internal).")


class SightingStatusChange(Input):
    status: SightingStatus


class AlertQuery(PageInput):
    status: Annotated[AlertStatus | None, BeforeValidator(_blank_to_none)] = None


class CriterionRead(Schema):
    code: str
    label: str
    met: bool
    detail: str


class MessageRead(Schema):
    seq: int
    identifier: str = Field(description="The CAP identifier.")
    msg_type: str = Field(description="CAP msgType: Alert, Update or Cancel.")
    ring: str = Field(description="The statistics label: 100km, province, nation, cancel …")
    radius_km: float | None
    sent_at: dt.datetime
    reached: int | None = Field(description="Subscribers it was queued for (once dispatched).")
    dispatched: bool
    delivery: dict[str, int] | None = Field(
        description="queued, delivered, failed, dead for this ring (null: not available)."
    )


class AlertRead(Schema):
    id: int
    public_id: uuid.UUID
    status: AlertStatus
    scope: AlertScope
    report: int
    case: CaseRef
    jurisdiction: DivisionRead
    at_risk: bool
    abduction_or_danger: bool
    danger_statement: str
    public_description: str
    publish_name: bool
    publish_sex: bool
    publish_age: bool
    publish_height: bool
    publish_marks: bool
    publish_place: bool
    public_photo: uuid.UUID | None
    latitude: float
    longitude: float
    last_seen_at: dt.datetime
    drafted_by: str | None
    drafted_at: dt.datetime
    released_by: str | None
    released_at: dt.datetime | None
    national_approved_by: str | None
    national_approved_at: dt.datetime | None
    expires_at: dt.datetime | None
    closed_at: dt.datetime | None
    close_note: str
    criteria: list[CriterionRead]
    criteria_met: bool
    public_texts: dict[str, str] = Field(description="The public text per CAP language.")
    public_url: str | None = Field(description="The public page (null for a draft).")
    cap_url: str | None
    messages: list[MessageRead]
    sighting_count: int


class AlertSummary(Schema):
    id: int
    status: AlertStatus
    scope: AlertScope
    report: int
    case_number: str
    released_at: dt.datetime | None
    sighting_count: int


class AlertPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[AlertSummary]


class SightingRead(Schema):
    id: int
    seen_at: dt.datetime
    reported_at: dt.datetime
    where: str
    latitude: float | None
    longitude: float | None
    location_source: str
    description: str
    contact: str
    photo_url: str | None
    distance_km: float | None = Field(description="From the last-seen point.")
    hours_after: float = Field(description="After the person was last seen.")
    status: SightingStatus
