"""JSON API of alerts (``/api/alerts``): the same actions as the pages, for partner systems.

Thin handlers over ``alerts.services``: it authorises (refusals audited), validates and audits;
the exceptions it raises become responses in ``reunite.api``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import P, PathEx, Query, Router, Status

from reunite.alerts import services, sightings
from reunite.alerts.models import Alert, AlertScope, AlertStatus, Sighting, SightingStatus
from reunite.alerts.schemas import (
    AlertCancel,
    AlertCreate,
    AlertPage,
    AlertQuery,
    AlertRead,
    AlertSummary,
    AlertUpdate,
    AlertWrite,
    CriterionRead,
    MessageRead,
    SightingRead,
    SightingStatusChange,
)
from reunite.people.api import READ_ERRORS, acting_user, division_reads, reject_unknown_params
from reunite.people.schemas import MAX_ID, CaseRef

router = Router(tags=["alerts"])

AlertId = PathEx[int, P(ge=1, le=MAX_ID)]
ACTION_ERRORS: dict[int, Any] = dict(READ_ERRORS)


def _data(payload: AlertWrite) -> services.AlertDraftData:
    return services.AlertDraftData(
        scope=payload.scope.value,
        at_risk=payload.at_risk,
        abduction_or_danger=payload.abduction_or_danger,
        danger_statement=payload.danger_statement,
        public_description=payload.public_description,
        publish_name=payload.publish_name,
        publish_sex=payload.publish_sex,
        publish_age=payload.publish_age,
        publish_height=payload.publish_height,
        publish_marks=payload.publish_marks,
        publish_place=payload.publish_place,
        public_photo=payload.public_photo,
        latitude=payload.latitude,
        longitude=payload.longitude,
    )


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def _read(alert: Alert) -> AlertRead:
    sent = services.messages_of(alert)
    stats = services.delivery_statistics(alert) if sent else {}
    results = services.criteria_of(alert)
    public = alert.status != AlertStatus.DRAFT
    return AlertRead(
        id=alert.pk,
        public_id=alert.public_id,
        status=AlertStatus(alert.status),
        scope=AlertScope(alert.scope),
        report=alert.report_id,
        case=CaseRef(id=alert.case.pk, number=alert.case.number),
        jurisdiction=division_reads([alert.division])[alert.division.code],
        at_risk=alert.at_risk,
        abduction_or_danger=alert.abduction_or_danger,
        danger_statement=alert.danger_statement,
        public_description=alert.public_description,
        publish_name=alert.publish_name,
        publish_sex=alert.publish_sex,
        publish_age=alert.publish_age,
        publish_height=alert.publish_height,
        publish_marks=alert.publish_marks,
        publish_place=alert.publish_place,
        public_photo=alert.public_photo.uuid if alert.public_photo is not None else None,
        latitude=alert.latitude,
        longitude=alert.longitude,
        last_seen_at=alert.last_seen_at,
        drafted_by=_username(alert.drafted_by),
        drafted_at=alert.drafted_at,
        released_by=_username(alert.released_by),
        released_at=alert.released_at,
        national_approved_by=_username(alert.national_approved_by),
        national_approved_at=alert.national_approved_at,
        expires_at=alert.expires_at,
        closed_at=alert.closed_at,
        close_note=alert.close_note,
        criteria=[
            CriterionRead(code=r.code, label=r.label, met=r.met, detail=r.detail) for r in results
        ],
        criteria_met=all(r.met for r in results),
        public_texts=services.public_texts(alert),
        public_url=services.public_url(alert) if public else None,
        cap_url=services.cap_url(alert) if public else None,
        messages=[
            MessageRead(
                seq=m.seq,
                identifier=m.identifier,
                msg_type=m.msg_type,
                ring=m.label,
                radius_km=m.radius_km,
                sent_at=m.sent_at,
                reached=m.reached,
                dispatched=m.dispatched_at is not None,
                delivery=None if stats is None else stats.get(m.label, {}),
            )
            for m in sent
        ],
        sighting_count=alert.sightings.count(),
    )


def _fresh(request: HttpRequest, alert_id: int) -> AlertRead:
    return _read(services.get_alert(acting_user=acting_user(request), alert_id=alert_id))


@router.get("", response={200: AlertPage, **READ_ERRORS}, url_name="list_alerts")
def list_alerts(request: HttpRequest, query: Query[AlertQuery]) -> AlertPage:
    """Alerts of your jurisdiction, newest first."""
    reject_unknown_params(request, AlertQuery)
    found = services.list_alerts(
        acting_user=acting_user(request), status=query.status.value if query.status else ""
    )
    page = list(found[query.offset : query.offset + query.limit])
    return AlertPage(
        count=found.count(),
        limit=query.limit,
        offset=query.offset,
        items=[
            AlertSummary(
                id=a.pk,
                status=AlertStatus(a.status),
                scope=AlertScope(a.scope),
                report=a.report_id,
                case_number=a.case.number,
                released_at=a.released_at,
                sighting_count=a.sighting_count,  # type: ignore[attr-defined]
            )
            for a in page
        ],
    )


@router.post("", response={201: AlertRead, **ACTION_ERRORS}, url_name="draft_alert")
def draft_alert(request: HttpRequest, payload: AlertCreate) -> Status[AlertRead]:
    """Draft an alert about a missing report; nothing is sent until it is released."""
    alert = services.draft_alert(
        acting_user=acting_user(request), report_id=payload.report, data=_data(payload)
    )
    return Status(201, _fresh(request, alert.pk))


@router.get("/{alert_id}", response={200: AlertRead, **READ_ERRORS}, url_name="get_alert")
def get_alert(request: HttpRequest, alert_id: AlertId) -> AlertRead:
    """One alert with its criteria, messages and delivery statistics (audited)."""
    return _fresh(request, alert_id)


@router.put("/{alert_id}", response={200: AlertRead, **ACTION_ERRORS}, url_name="update_alert")
def update_alert(request: HttpRequest, alert_id: AlertId, payload: AlertUpdate) -> AlertRead:
    """Replace the fields of a draft."""
    services.update_draft(acting_user=acting_user(request), alert_id=alert_id, data=_data(payload))
    return _fresh(request, alert_id)


@router.post(
    "/{alert_id}/release", response={200: AlertRead, **ACTION_ERRORS}, url_name="release_alert"
)
def release_alert(request: HttpRequest, alert_id: AlertId) -> AlertRead:
    """Release a draft (duty officers only): the first ring goes out at once. 422 lists the
    criteria not met."""
    services.release_alert(acting_user=acting_user(request), alert_id=alert_id)
    return _fresh(request, alert_id)


@router.post(
    "/{alert_id}/approve-national",
    response={200: AlertRead, **ACTION_ERRORS},
    url_name="approve_national_alert",
)
def approve_national(request: HttpRequest, alert_id: AlertId) -> AlertRead:
    """The second approval a national alert needs (another officer, province level or above)."""
    services.approve_national(acting_user=acting_user(request), alert_id=alert_id)
    return _fresh(request, alert_id)


@router.post(
    "/{alert_id}/cancel", response={200: AlertRead, **ACTION_ERRORS}, url_name="cancel_alert"
)
def cancel_alert(request: HttpRequest, alert_id: AlertId, payload: AlertCancel) -> AlertRead:
    """Cancel an alert; an active one is withdrawn from everyone it reached."""
    services.cancel_alert(acting_user=acting_user(request), alert_id=alert_id, note=payload.note)
    return _fresh(request, alert_id)


def _sighting(s: Sighting) -> SightingRead:
    return SightingRead(
        id=s.pk,
        seen_at=s.seen_at,
        reported_at=s.reported_at,
        where=s.where,
        latitude=s.latitude,
        longitude=s.longitude,
        location_source=s.location_source,
        description=s.description,
        contact=s.contact,
        photo_url=reverse("alerts:sighting_photo", args=[s.pk]) if s.photo else None,
        distance_km=s.distance_km,
        hours_after=s.hours_after,
        status=SightingStatus(s.status),
    )


@router.get(
    "/{alert_id}/sightings",
    response={200: list[SightingRead], **READ_ERRORS},
    url_name="list_alert_sightings",
)
def list_sightings(request: HttpRequest, alert_id: AlertId) -> list[SightingRead]:
    """The sightings the public reported, newest first, with contacts (audited)."""
    found = sightings.list_sightings(acting_user=acting_user(request), alert_id=alert_id)
    return [_sighting(s) for s in found]


@router.post(
    "/sightings/{sighting_id}/status",
    response={200: SightingRead, **ACTION_ERRORS},
    url_name="set_sighting_status",
)
def set_sighting_status(
    request: HttpRequest,
    sighting_id: PathEx[int, P(ge=1, le=MAX_ID)],
    payload: SightingStatusChange,
) -> SightingRead:
    """Triage a sighting: new, credible or dismissed."""
    sighting = sightings.set_sighting_status(
        acting_user=acting_user(request), sighting_id=sighting_id, status=payload.status.value
    )
    return _sighting(sighting)
