"""JSON API of alert recipients, for administrators: partners and media, dead letters, statistics.

Mounted at ``/api/notify``.  Inputs are strict (unknown fields refused, lengths bounded); the
webhook of a new partner is checked by ``notify.services`` (https, public address, a signed
ping answered with 2xx and no redirect) and refused with 422 naming the field otherwise.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Field, P, PathEx, Query, Router, Schema, Status

from reunite.notify import services
from reunite.notify.models import Delivery, Subscriber
from reunite.people.api import READ_ERRORS, acting_user, reject_unknown_params
from reunite.people.schemas import (
    MAX_ID,
    DivisionCode,
    Input,
    Latitude,
    Longitude,
    Name,
    PageInput,
)

router = Router(tags=["alert recipients"])

WebhookUrl = Annotated[str, Field(max_length=500, description="https:// address of the receiver.")]
Secret = Annotated[
    str,
    Field(min_length=services.MIN_SECRET, max_length=200, description="Shared HMAC secret."),
]


class PartnerCreate(Input):
    name: Name
    kind: Literal["partner", "media"] = "partner"
    webhook_url: WebhookUrl | None = None
    webhook_secret: Secret | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    division_code: DivisionCode | None = Field(
        None, description="Home division; with neither it nor coordinates: nationwide."
    )


class PartnerEnabled(Input):
    enabled: bool = Field(strict=True)


class PartnerRead(Schema):
    id: int
    public_id: uuid.UUID
    kind: str
    status: str
    name: str
    webhook_url: str | None
    channels: list[str]
    division: str | None = Field(description="Code of the home division; null: nationwide.")
    created_at: dt.datetime


class PartnerPage(Schema):
    count: int
    items: list[PartnerRead]


class DeadLetterRead(Schema):
    id: int
    topic: str
    ring: str
    channel: str
    attempts: int
    last_error: str
    created_at: dt.datetime


class DeadLetterPage(Schema):
    count: int
    items: list[DeadLetterRead]


class RequeueInput(Input):
    ids: list[Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]] | None = Field(
        None, max_length=1000, description="Dead letters to queue again; null: all of them."
    )


class RequeueRead(Schema):
    requeued: int


class RingStatsRead(Schema):
    queued: int
    delivered: int
    failed: int
    dead: int


def _partner(s: Subscriber) -> PartnerRead:
    return PartnerRead(
        id=s.pk,
        public_id=s.public_id,
        kind=s.kind,
        status=s.status,
        name=s.endpoint.name if s.endpoint else "",
        webhook_url=s.endpoint.url if s.endpoint else None,
        channels=s.channels,
        division=s.division.code if s.division else None,
        created_at=s.created_at,
    )


def _dead(d: Delivery) -> DeadLetterRead:
    return DeadLetterRead(
        id=d.pk,
        topic=d.topic,
        ring=d.ring,
        channel=d.channel,
        attempts=d.attempts,
        last_error=d.last_error,
        created_at=d.created_at,
    )


@router.get("/partners", response={200: PartnerPage, **READ_ERRORS}, url_name="notify_partners")
def list_partners(request: HttpRequest, query: Query[PageInput]) -> PartnerPage:
    """Partners and media registered in your jurisdiction."""
    reject_unknown_params(request, PageInput)
    rows = services.partners_for(acting_user(request))
    items = rows[query.offset : query.offset + query.limit]
    return PartnerPage(count=rows.count(), items=[_partner(s) for s in items])


@router.post(
    "/partners", response={201: PartnerRead, **READ_ERRORS}, url_name="notify_create_partner"
)
def create_partner(request: HttpRequest, payload: PartnerCreate) -> Status[PartnerRead]:
    """Register a partner app or platform, or a media house (active at once)."""
    data = services.PartnerData(
        name=payload.name,
        kind=payload.kind,
        webhook_url=payload.webhook_url or "",
        webhook_secret=payload.webhook_secret or "",
        email=payload.email or "",
        latitude=payload.latitude,
        longitude=payload.longitude,
        division_code=payload.division_code or "",
    )
    subscriber = services.register_partner(acting_user=acting_user(request), data=data)
    return Status(201, _partner(subscriber))


@router.get(
    "/partners/{partner_id}", response={200: PartnerRead, **READ_ERRORS}, url_name="notify_partner"
)
def get_partner(request: HttpRequest, partner_id: PathEx[int, P(ge=1, le=MAX_ID)]) -> PartnerRead:
    subscriber = services.get_partner(acting_user=acting_user(request), subscriber_id=partner_id)
    return _partner(subscriber)


@router.post(
    "/partners/{partner_id}/enabled",
    response={200: PartnerRead, **READ_ERRORS},
    url_name="notify_partner_enabled",
)
def set_enabled(
    request: HttpRequest, partner_id: PathEx[int, P(ge=1, le=MAX_ID)], payload: PartnerEnabled
) -> PartnerRead:
    """Pause (``false``) or resume (``true``) a recipient."""
    subscriber = services.set_partner_enabled(
        acting_user=acting_user(request), subscriber_id=partner_id, enabled=payload.enabled
    )
    return _partner(subscriber)


@router.get(
    "/dead-letters", response={200: DeadLetterPage, **READ_ERRORS}, url_name="notify_dead_letters"
)
def list_dead_letters(request: HttpRequest, query: Query[PageInput]) -> DeadLetterPage:
    reject_unknown_params(request, PageInput)
    rows = services.dead_letters(acting_user(request))
    items = rows[query.offset : query.offset + query.limit]
    return DeadLetterPage(count=rows.count(), items=[_dead(d) for d in items])


@router.post(
    "/dead-letters/requeue", response={200: RequeueRead, **READ_ERRORS}, url_name="notify_requeue"
)
def requeue(request: HttpRequest, payload: RequeueInput) -> RequeueRead:
    count = services.requeue_dead(acting_user=acting_user(request), delivery_ids=payload.ids)
    return RequeueRead(requeued=count)


@router.get(
    "/stats/{topic}",
    response={200: dict[str, RingStatsRead], **READ_ERRORS},
    url_name="notify_stats",
)
def stats(
    request: HttpRequest, topic: PathEx[str, P(max_length=100, pattern=r"^[A-Za-z0-9:._-]+$")]
) -> dict[str, RingStatsRead]:
    """Delivery statistics of one alert (``alert:42``), per ring."""
    services.partners_for(acting_user(request))  # administrators only
    return {
        ring: RingStatsRead(**counts) for ring, counts in services.delivery_stats(topic).items()
    }
