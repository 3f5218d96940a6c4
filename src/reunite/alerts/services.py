"""Rules of rapid-search alerts: drafting, release, rings, approval, withdrawal (sightings:
``alerts.sightings``).

Every function takes keyword arguments and knows no HTTP; forms and the JSON API hand the same
``AlertDraftData`` to them.  Mutations are validate-then-do: refusals are audited
*before* any transaction opens (so that rolling back cannot erase the record of a refusal), then
one transaction changes the alert, writes its CAP message(s) and the audit entry.  Messages are
handed to ``reunite.notify`` only after that transaction commits (``transaction.on_commit``, with
the message id); one left behind by a crash is handed over again by the next ``tick``.

Who may do what (``accounts.permissions``): investigators and supervisors see and draft alerts in
their jurisdiction; a supervisor — the duty officer — of a public-security unit at county level or
above whose jurisdiction holds the report releases it, and cancels it; the nation is reached only
after a second approval by a *different* supervisor of a unit at province level or above.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reunite.accounts.models import Division, DivisionLevel, OrganisationKind, User
from reunite.accounts.permissions import Action, can, role_allows, scope_q
from reunite.accounts.services import (
    NATION_CODE,
    division_contains_point,
    valid_coordinates,
)
from reunite.alerts import cap, criteria, policy
from reunite.alerts.models import (
    OPEN_STATUSES,
    Alert,
    AlertMessage,
    AlertScope,
    AlertStatus,
    MessageType,
    ReachKind,
    SightingStatus,
)
from reunite.alerts.public import (
    LANGUAGES,
    PublicFacts,
    event_name,
    headline,
    in_language,
    public_facts,
    text_errors,
    texts,
)
from reunite.alerts.public import compose_text as public_text
from reunite.audit.models import AuditAction
from reunite.audit.services import record
from reunite.cases.models import CaseEventKind
from reunite.cases.services import add_event
from reunite.core.errors import AccessDenied, FieldErrors, NotFound, ValidationFailed
from reunite.notify import services as notify
from reunite.people.models import MissingPersonReport, MissingStatus, PersonPhoto

log = logging.getLogger(__name__)

ALERT_OBJECT = "alert"
SIGHTING_OBJECT = "sighting"
MAX_PUBLIC_DESCRIPTION = 1000
MAX_STATEMENT = 2000
MAX_NOTE = 2000
# The tick hands over a message left undispatched only after this long (the first hand-over
# runs right after the issuing transaction commits).
REDISPATCH_AFTER = dt.timedelta(seconds=60)
FOUND_STATUSES = frozenset({MissingStatus.FOUND_ALIVE, MissingStatus.FOUND_DECEASED})

# Characters XML 1.0 cannot carry (C0 controls but tab, newline, return; U+FFFE, U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --------------------------------------------------------------------------- input shapes


@dataclass
class AlertDraftData:
    """What the drafting officer decides; the rest comes from the missing report.

    ``latitude``/``longitude`` default to the report's last-seen coordinates; ``public_photo``
    is the uuid of one of the report's photos.
    """

    scope: str = AlertScope.REGIONAL
    at_risk: bool = False
    abduction_or_danger: bool = False
    danger_statement: str = ""
    public_description: str = ""
    publish_name: bool = True
    publish_sex: bool = True
    publish_age: bool = True
    publish_height: bool = True
    publish_marks: bool = False
    publish_place: bool = True
    public_photo: uuid.UUID | None = None
    latitude: float | None = None
    longitude: float | None = None


def check_text(
    errors: FieldErrors, name: str, value: str, limit: int, *, required: bool = False
) -> None:
    """Bounded text that a CAP (XML) document and every database column can hold."""
    if required and not value.strip():
        errors.add(name, _("This field is required."))
        return
    if len(value) > limit:
        errors.add(name, _("At most %(n)d characters.") % {"n": limit})
    elif _NOT_XML.search(value):
        errors.add(name, _("Text may not contain control characters."))
    else:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            errors.add(name, _("Text is not valid Unicode."))


# --------------------------------------------------------------------------- authorisation


def _deny(
    acting_user: User | None, action: Action, *, object_type: str, object_id: object, why: str
) -> NoReturn:
    record(
        actor=acting_user,
        action=AuditAction.DENIED,
        object_type=object_type,
        object_id=object_id,
        details={"wanted": str(action)},
    )
    raise AccessDenied(why)


def require(
    acting_user: User,
    action: Action,
    division: Division | None,
    *,
    object_type: str = ALERT_OBJECT,
    object_id: object = "",
) -> None:
    if not can(acting_user, action, division):
        _deny(
            acting_user,
            action,
            object_type=object_type,
            object_id=object_id,
            why=_("You may not do this for this jurisdiction."),
        )


def is_duty_officer(user: User, action: Action, division: Division) -> bool:
    """Whether ``user`` may ``action`` (release, cancel, approve) an alert held in ``division``.

    The role must grant it in that jurisdiction, and the user's unit must be a public-security
    bureau no deeper than county level (province level or above for the national approval).
    """
    home = user.jurisdiction
    if not can(user, action, division) or home is None or user.organisation is None:
        return False
    deepest = (
        policy.NATIONAL_APPROVAL_MAX_LEVEL
        if action == Action.APPROVE_NATIONAL_ALERT
        else policy.RELEASE_MAX_LEVEL
    )
    return user.organisation.kind == OrganisationKind.PUBLIC_SECURITY and home.level <= deepest


def _require_officer(acting_user: User, action: Action, alert: Alert) -> None:
    if is_duty_officer(acting_user, action, alert.division):
        return
    if action == Action.APPROVE_NATIONAL_ALERT:
        why = _(
            "Only a supervisor of a public-security unit at province level or above, whose "
            "jurisdiction holds the report, may approve a national alert."
        )
    else:
        why = _(
            "Only a duty officer (a supervisor of a public-security unit at county level or "
            "above) whose jurisdiction holds the report may do this."
        )
    _deny(acting_user, action, object_type=ALERT_OBJECT, object_id=alert.pk, why=why)


# --------------------------------------------------------------------------- reading


def _alerts() -> QuerySet[Alert]:
    return Alert.objects.select_related(
        "report__last_seen_division", "division", "case", "public_photo"
    )


def alert_or_404(alert_id: int) -> Alert:
    alert = _alerts().filter(pk=alert_id).first()
    if alert is None:
        raise NotFound(_("No such alert."))
    return alert


def _audit_read(acting_user: User, alert: Alert, purpose: str = "") -> None:
    record(
        actor=acting_user,
        action=AuditAction.READ,
        object_type=ALERT_OBJECT,
        object_id=alert.pk,
        details={"purpose": purpose} if purpose else None,
    )


def list_alerts(*, acting_user: User, status: str = "") -> QuerySet[Alert]:
    """Alerts of the user's jurisdiction, newest first (the search is audited)."""
    if not role_allows(acting_user, Action.VIEW_ALERT):
        _deny(
            acting_user,
            Action.VIEW_ALERT,
            object_type=ALERT_OBJECT,
            object_id="",
            why=_("Your role may not see alerts."),
        )
    qs = _alerts().filter(scope_q(acting_user, Action.VIEW_ALERT))
    if status:
        qs = qs.filter(status=status)
    record(
        actor=acting_user,
        action=AuditAction.SEARCH,
        object_type=ALERT_OBJECT,
        details={"filters": ["status"] if status else []},
    )
    return qs.annotate(sighting_count=Count("sightings")).order_by("-drafted_at", "-pk")


def get_alert(*, acting_user: User, alert_id: int) -> Alert:
    """One alert for the police (audited)."""
    alert = alert_or_404(alert_id)
    require(acting_user, Action.VIEW_ALERT, alert.division, object_id=alert.pk)
    _audit_read(acting_user, alert)
    return alert


def open_alert_of(report: MissingPersonReport) -> Alert | None:
    """The report's draft or active alert, if it has one."""
    return Alert.objects.filter(report=report, status__in=OPEN_STATUSES).first()


def criteria_of(alert: Alert, *, now: dt.datetime | None = None) -> list[criteria.CriterionResult]:
    """The criteria of ``alert`` as they stand ``now``."""
    return criteria.check(alert.report, alert, policy=policy.current(), now=now or timezone.now())


def facts_of(alert: Alert) -> PublicFacts:
    return public_facts(alert, policy=policy.current())


def messages_of(alert: Alert) -> list[AlertMessage]:
    return list(alert.messages.select_related("issued_by").order_by("seq"))


def public_texts(alert: Alert) -> dict[str, str]:
    """The public text of the alert's next message in every language (CAP language → text)."""
    return texts(facts_of(alert))


STAT_KEYS = ("queued", "delivered", "failed", "dead")


@dataclass(frozen=True)
class StatsRow:
    """One line of the delivery table: a message, and what dispatch says of its ring."""

    message: AlertMessage
    counts: dict[str, int]


def stats_rows(
    sent: Sequence[AlertMessage], stats: dict[str, dict[str, int]] | None
) -> list[StatsRow]:
    """The delivery counts next to each message (by its ring label)."""
    rows = []
    for message in sent:
        counts = (stats or {}).get(message.label, {})
        rows.append(StatsRow(message=message, counts={k: int(counts.get(k, 0)) for k in STAT_KEYS}))
    return rows


def delivery_statistics(alert: Alert) -> dict[str, dict[str, int]] | None:
    """Queued/delivered/failed/dead counts per ring (from ``notify``), or ``None`` when the
    dispatch service cannot say right now."""
    try:
        return notify.delivery_stats(alert.topic)
    except Exception:  # the page must still show the alert when dispatch is down
        log.exception("delivery statistics of alert %s unavailable", alert.pk)
        return None


# --------------------------------------------------------------------------- drafting


def nation_division() -> Division | None:
    return Division.objects.filter(code=NATION_CODE).first()


def _validate_point(
    errors: FieldErrors,
    report: MissingPersonReport,
    latitude: float | None,
    longitude: float | None,
) -> tuple[float, float] | None:
    if (latitude is None) != (longitude is None):
        errors.add("latitude", _("Give both latitude and longitude, or neither."))
        return None
    if latitude is None or longitude is None:
        latitude, longitude = report.last_seen_latitude, report.last_seen_longitude
    if latitude is None or longitude is None:
        errors.add(
            "latitude",
            _("Give the last-seen coordinates: the rings are drawn around them."),
        )
        return None
    if not (math.isfinite(latitude) and math.isfinite(longitude)) or not valid_coordinates(
        latitude, longitude
    ):
        errors.add("latitude", _("Latitude must be within ±90 and longitude within ±180."))
        return None
    nation = nation_division()
    if nation is not None and not division_contains_point(nation, latitude, longitude):
        errors.add(
            "latitude",
            _("These coordinates lie outside every division (at sea or abroad)."),
        )
        return None
    if not division_contains_point(report.last_seen_division, latitude, longitude):
        errors.add(
            "latitude",
            _("These coordinates lie outside %(division)s, where the person was last seen.")
            % {"division": report.last_seen_division.name},
        )
        return None
    return latitude, longitude


def _apply_draft(
    alert: Alert, report: MissingPersonReport, data: AlertDraftData, point: tuple[float, float]
) -> None:
    alert.scope = data.scope
    alert.at_risk = data.at_risk
    alert.abduction_or_danger = data.abduction_or_danger
    alert.danger_statement = data.danger_statement.strip()
    alert.public_description = data.public_description.strip()
    alert.publish_name = data.publish_name
    alert.publish_sex = data.publish_sex
    alert.publish_age = data.publish_age
    alert.publish_height = data.publish_height
    alert.publish_marks = data.publish_marks
    alert.publish_place = data.publish_place
    alert.latitude, alert.longitude = point
    alert.last_seen_at = report.last_seen_at


def _validated_draft(
    report: MissingPersonReport, data: AlertDraftData, alert: Alert
) -> PersonPhoto | None:
    """Check ``data`` against ``report`` and apply it to ``alert`` (unsaved); all errors at once.

    Returns the photo to publish.
    """
    errors = FieldErrors()
    if data.scope not in AlertScope.values:
        errors.add("scope", _("Not a valid choice."))
    check_text(errors, "danger_statement", data.danger_statement, MAX_STATEMENT)
    check_text(errors, "public_description", data.public_description, MAX_PUBLIC_DESCRIPTION)
    photo = None
    if data.public_photo is not None:
        photo = PersonPhoto.objects.filter(uuid=data.public_photo, missing_report=report).first()
        if photo is None:
            errors.add("public_photo", _("Choose one of the report's photos."))
    point = _validate_point(errors, report, data.latitude, data.longitude)
    errors.raise_if_any()
    assert point is not None
    _apply_draft(alert, report, data, point)
    alert.public_photo = photo
    for message in text_errors(facts_of(alert)):
        errors.add("public_description", message)
    errors.raise_if_any()
    return photo


def _report_for_draft(acting_user: User, report_id: int) -> MissingPersonReport:
    report = (
        MissingPersonReport.objects.select_related("division", "last_seen_division")
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        raise NotFound(_("No such missing person report."))
    require(
        acting_user,
        Action.DRAFT_ALERT,
        report.division,
        object_type="missing_report",
        object_id=report.pk,
    )
    return report


def ensure_may_draft(*, acting_user: User, report_id: int) -> MissingPersonReport:
    """The report, if the user may draft an alert about it (refusals audited)."""
    return _report_for_draft(acting_user, report_id)


def draft_alert(*, acting_user: User, report_id: int, data: AlertDraftData) -> Alert:
    """Draft an alert about a missing report the user may see; nothing is sent yet.

    Refused (``ValidationFailed``) when the report is no longer missing, has no case, or already
    has a draft or active alert.
    """
    report = _report_for_draft(acting_user, report_id)
    case = getattr(report, "case", None)
    existing = open_alert_of(report)
    if report.status != MissingStatus.MISSING:
        msg = _("Only a person who is still missing can be the subject of an alert.")
        raise ValidationFailed(msg, field_errors={"report": [msg]})
    if case is None:
        msg = _("This report has no case; an alert needs one for its sightings.")
        raise ValidationFailed(msg, field_errors={"report": [msg]})
    if existing is not None:
        msg = _("This report already has an open alert (%(alert)s).") % {"alert": existing}
        raise ValidationFailed(msg, field_errors={"report": [msg]})
    alert = Alert(report=report, case=case, division=report.division, drafted_by=acting_user)
    _validated_draft(report, data, alert)
    with transaction.atomic():
        alert.save()
        record(
            actor=acting_user,
            action=AuditAction.CREATE,
            object_type=ALERT_OBJECT,
            object_id=alert.pk,
            details={"report": report.pk, "scope": alert.scope},
        )
    return alert


def get_alert_for_edit(*, acting_user: User, alert_id: int) -> Alert:
    alert = alert_or_404(alert_id)
    require(acting_user, Action.DRAFT_ALERT, alert.division, object_id=alert.pk)
    _audit_read(acting_user, alert, "edit")
    return alert


def update_draft(*, acting_user: User, alert_id: int, data: AlertDraftData) -> Alert:
    """Change a draft (a released alert is not edited: it is cancelled and drafted anew)."""
    found = alert_or_404(alert_id)
    require(acting_user, Action.DRAFT_ALERT, found.division, object_id=found.pk)
    with transaction.atomic():
        alert = _alerts().select_for_update(of=("self",)).get(pk=found.pk)
        if alert.status != AlertStatus.DRAFT:
            msg = _("Only a draft can be changed; this alert is “%(status)s”.") % {
                "status": alert.get_status_display()
            }
            raise ValidationFailed(msg, field_errors={"status": [msg]})
        _validated_draft(alert.report, data, alert)
        alert.save()
        record(
            actor=acting_user,
            action=AuditAction.UPDATE,
            object_type=ALERT_OBJECT,
            object_id=alert.pk,
            details={"changed": "draft"},
        )
    return alert


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class Reach:
    """Where an alert's messages have gone so far."""

    widest_km: float | None
    province: bool
    nation: bool


@dataclass(frozen=True)
class Step:
    """One widening to issue: a ring of ``radius_km``, or a region."""

    kind: str
    radius_km: float | None = None

    @property
    def label(self) -> str:
        if self.kind == ReachKind.CIRCLE:
            return f"{self.radius_km:g}km"
        return str(self.kind)


def reach_of(messages: Sequence[AlertMessage]) -> Reach:
    radii = [m.radius_km for m in messages if m.kind == ReachKind.CIRCLE and m.radius_km]
    kinds = {m.kind for m in messages}
    return Reach(
        widest_km=max(radii) if radii else None,
        province=ReachKind.PROVINCE in kinds,
        nation=ReachKind.NATION in kinds,
    )


def province_of(division: Division) -> Division | None:
    """The province holding ``division`` (itself, if it is one)."""
    for ancestor in division.ancestors():
        if ancestor.level == DivisionLevel.PROVINCE:
            return ancestor
    return None


def due_steps(alert: Alert, reach: Reach, *, now: dt.datetime, rules: policy.Policy) -> list[Step]:
    """The widenings due ``now``: the widest ring due (if wider than any sent), then — from
    ``REGION_AFTER_HOURS`` on — the province, or the nation once a second approval is given."""
    elapsed = now - alert.last_seen_at
    steps: list[Step] = []
    ring = policy.ring_due(rules, elapsed)
    if reach.widest_km is None or ring.radius_km > reach.widest_km:
        steps.append(Step(ReachKind.CIRCLE, ring.radius_km))
    if elapsed >= rules.region_after:
        national = alert.scope == AlertScope.NATIONAL and alert.national_approved_at is not None
        if national and not reach.nation:
            steps.append(Step(ReachKind.NATION))
        elif (
            not reach.province
            and not reach.nation
            and province_of(alert.report.last_seen_division) is not None
        ):
            steps.append(Step(ReachKind.PROVINCE))
    return steps


def public_url(alert: Alert, *, rules: policy.Policy | None = None) -> str:
    rules = rules or policy.current()
    return rules.public_base_url + reverse("alerts:public", args=[alert.pk])


def photo_url(alert: Alert, *, rules: policy.Policy | None = None) -> str:
    rules = rules or policy.current()
    return rules.public_base_url + reverse("alerts:photo", args=[alert.pk])


def cap_url(alert: Alert, *, rules: policy.Policy | None = None) -> str:
    rules = rules or policy.current()
    return rules.public_base_url + reverse("alerts:cap", args=[alert.pk])


def _areas(alert: Alert, reach: Reach) -> tuple[cap.Area, ...]:
    """The whole area reached so far, in the active language."""
    if reach.nation:
        return (cap.Area(description=_("The whole nation")),)
    areas: list[cap.Area] = []
    if reach.widest_km is not None:
        areas.append(
            cap.Area(
                description=_("Within %(km)g km of the last-seen point") % {"km": reach.widest_km},
                circle=(alert.latitude, alert.longitude, reach.widest_km),
            )
        )
    province = province_of(alert.report.last_seen_division) if reach.province else None
    if province is not None:
        chinese = (translation.get_language() or "").startswith("zh") or not province.name_latin
        areas.append(
            cap.Area(
                description=province.name if chinese else province.name_latin,
                geocode=("GB/T 2260", province.code),
            )
        )
    return tuple(areas)


def _infos(alert: Alert, reach: Reach, rules: policy.Policy) -> tuple[cap.Info, ...]:
    facts = public_facts(alert, policy=rules)
    sender_name = (
        alert.released_by.organisation.name
        if (alert.released_by is not None and alert.released_by.organisation is not None)
        else alert.division.name
    )
    infos = []
    withdrawal = not alert.is_open
    for django_code, cap_code in LANGUAGES:
        with in_language(django_code):
            infos.append(
                cap.Info(
                    language=cap_code,
                    event=event_name(facts),
                    headline=headline(facts),
                    description=public_text(facts),
                    instruction=(
                        _("No action is needed any more.")
                        if withdrawal
                        else _(
                            "If you see this person, call 110 at once, or report the sighting "
                            "on the alert page. Do not approach anyone who may be dangerous."
                        )
                    ),
                    sender_name=sender_name,
                    web=public_url(alert, rules=rules),
                    contact="110",
                    expires=alert.expires_at,
                    areas=_areas(alert, reach),
                    resources=(
                        (
                            cap.Resource(
                                description=_("Photo of the missing person"),
                                mime_type=alert.public_photo.content_type,
                                uri=photo_url(alert, rules=rules),
                            ),
                        )
                        if facts.has_photo and alert.public_photo is not None
                        else ()
                    ),
                    event_code=("SAME", "CAE") if facts.child and not withdrawal else None,
                    urgency="Past" if withdrawal else "Immediate",
                    severity="Minor" if withdrawal else "Severe",
                    certainty="Observed" if withdrawal else "Likely",
                    response_type="AllClear" if withdrawal else "Monitor",
                )
            )
    return tuple(infos)


def _issue(
    alert: Alert,
    *,
    kind: str,
    label: str,
    radius_km: float | None = None,
    division_path: str = "",
    acting_user: User | None,
    now: dt.datetime,
    rules: policy.Policy,
) -> AlertMessage:
    """Write the next CAP message of ``alert`` (inside the caller's transaction) and hand it to
    dispatch once that commits."""
    earlier = list(alert.messages.order_by("seq"))
    seq = len(earlier) + 1
    if kind == ReachKind.REACHED:
        msg_type = MessageType.CANCEL
        reach = reach_of(earlier)
    else:
        msg_type = MessageType.UPDATE if earlier else MessageType.ALERT
        pending = AlertMessage(kind=kind, radius_km=radius_km)
        reach = reach_of([*earlier, pending])
    identifier = f"reunite-{alert.public_id.hex}-{seq}"
    infos = _infos(alert, reach, rules)
    document = cap.build(
        cap.Message(
            identifier=identifier,
            sender=rules.cap_sender,
            sent=now,
            msg_type=msg_type,
            infos=infos,
            references=tuple(
                cap.Reference(sender=rules.cap_sender, identifier=m.identifier, sent=m.sent_at)
                for m in earlier
            ),
            incidents=f"reunite-{alert.public_id.hex}",
        )
    )
    message = AlertMessage.objects.create(
        alert=alert,
        seq=seq,
        identifier=identifier,
        msg_type=msg_type,
        kind=kind,
        label=label,
        radius_km=radius_km,
        division_path=division_path,
        sent_at=now.replace(microsecond=0),
        # What subscribers read: the first language's text (the CAP document carries them all).
        subject=infos[0].headline,
        text=infos[0].description,
        cap_xml=document,
        issued_by=acting_user,
    )
    transaction.on_commit(functools.partial(dispatch_message, message_id=message.pk))
    return message


def _issue_steps(
    alert: Alert,
    steps: Sequence[Step],
    *,
    acting_user: User | None,
    now: dt.datetime,
    rules: policy.Policy,
) -> list[AlertMessage]:
    issued = []
    for step in steps:
        path = ""
        if step.kind == ReachKind.PROVINCE:
            province = province_of(alert.report.last_seen_division)
            path = province.path if province is not None else ""
        issued.append(
            _issue(
                alert,
                kind=step.kind,
                label=step.label,
                radius_km=step.radius_km,
                division_path=path,
                acting_user=acting_user,
                now=now,
                rules=rules,
            )
        )
    return issued


def _broadcast_of(message: AlertMessage, rules: policy.Policy) -> notify.Broadcast:
    return notify.Broadcast(
        topic=message.alert.topic,
        message_key=message.identifier,
        ring=message.label,
        subject=message.subject,
        text=message.text,
        url=public_url(message.alert, rules=rules),
        cap_xml=message.cap_xml,
    )


def dispatch_message(*, message_id: int) -> int | None:
    """Hand one issued message to ``reunite.notify``; returns how many subscribers it was queued
    for, or ``None`` if it was already handed over or dispatch failed (the tick retries).

    Safe to repeat: ``notify`` keys every delivery by (topic, recipient, message key), and a
    widening asks only for subscribers not yet reached.
    """
    message = (
        AlertMessage.objects.select_related(
            "alert__report__last_seen_division", "alert__division", "alert__public_photo"
        )
        .filter(pk=message_id, dispatched_at__isnull=True)
        .first()
    )
    if message is None:
        return None
    rules = policy.current()
    broadcast = _broadcast_of(message, rules)
    alert = message.alert
    if message.kind != ReachKind.REACHED and alert.status != AlertStatus.ACTIVE:
        # A widening left behind by a crash, of an alert closed since: telling new people about
        # a search that is over helps no one (those reached already got the withdrawal).
        AlertMessage.objects.filter(pk=message.pk, dispatched_at__isnull=True).update(
            reached=0, dispatched_at=timezone.now()
        )
        return 0
    try:
        if message.kind == ReachKind.CIRCLE:
            assert message.radius_km is not None
            reached = notify.broadcast_in_circle(
                broadcast, alert.latitude, alert.longitude, message.radius_km, only_new=True
            )
        elif message.kind == ReachKind.PROVINCE:
            reached = notify.broadcast_in_region(broadcast, message.division_path, only_new=True)
        elif message.kind == ReachKind.NATION:
            reached = notify.broadcast_in_region(broadcast, None, only_new=True)
        else:
            reached = notify.broadcast_to_reached(broadcast)
    except Exception:
        log.exception("alert message %s could not be handed to dispatch", message.identifier)
        return None
    AlertMessage.objects.filter(pk=message.pk, dispatched_at__isnull=True).update(
        reached=reached, dispatched_at=timezone.now()
    )
    return reached


# --------------------------------------------------------------------------- lifecycle


def _transition(
    acting_user: User | None, alert: Alert, old: str, *, note: bool = False, **details: object
) -> None:
    record(
        actor=acting_user,
        action=AuditAction.UPDATE,
        object_type=ALERT_OBJECT,
        object_id=alert.pk,
        details={"status": [old, alert.status], "note": note, **details},
    )


def case_note(alert: Alert, acting_user: User | None, summary: str) -> None:
    add_event(case=alert.case, kind=CaseEventKind.NOTE, acting_user=acting_user, summary=summary)


def _locked(alert_id: int) -> Alert:
    return _alerts().select_for_update(of=("self",)).get(pk=alert_id)


def release_alert(*, acting_user: User, alert_id: int, now: dt.datetime | None = None) -> Alert:
    """Release a draft: the first ring (or the widest one already due) goes out at once.

    Refused (``AccessDenied``, audited) unless the user is a duty officer for the report's
    jurisdiction, and the officer who approved national scope cannot also release; refused
    (``ValidationFailed``) unless it is a draft, every criterion holds and the public text fits.
    """
    found = alert_or_404(alert_id)
    _require_officer(acting_user, Action.RELEASE_ALERT, found)
    if found.national_approved_by_id == acting_user.pk:
        _deny(
            acting_user,
            Action.RELEASE_ALERT,
            object_type=ALERT_OBJECT,
            object_id=found.pk,
            why=_("You gave the national approval; another officer must release the alert."),
        )
    now = now or timezone.now()
    rules = policy.current()
    with transaction.atomic():
        alert = _locked(found.pk)
        if alert.status != AlertStatus.DRAFT:
            msg = _("Only a draft can be released; this alert is “%(status)s”.") % {
                "status": alert.get_status_display()
            }
            raise ValidationFailed(msg, field_errors={"status": [msg]})
        results = criteria.check(alert.report, alert, policy=rules, now=now)
        unmet = [r for r in results if not r.met]
        errors = FieldErrors()
        for result in unmet:
            errors.add("criteria", f"{result.label}: {result.detail}")
        point_errors = FieldErrors()
        _validate_point(point_errors, alert.report, alert.latitude, alert.longitude)
        for messages in point_errors.by_field.values():
            for message in messages:
                errors.add("latitude", message)
        for message in text_errors(public_facts(alert, policy=rules)):
            errors.add("public_description", message)
        if errors.by_field:
            raise ValidationFailed(
                _("The alert cannot be released yet: %(reasons)s")
                % {"reasons": " ".join(m for ms in errors.by_field.values() for m in ms)},
                field_errors=errors.by_field,
            )
        old = alert.status
        alert.status = AlertStatus.ACTIVE
        alert.released_by = acting_user
        alert.released_at = now
        alert.expires_at = now + rules.expire_after
        alert.criteria_at_release = [{"code": r.code, "met": r.met} for r in results]
        alert.save()
        issued = _issue_steps(
            alert,
            due_steps(alert, reach_of([]), now=now, rules=rules),
            acting_user=acting_user,
            now=now,
            rules=rules,
        )
        _transition(acting_user, alert, old, rings=[m.label for m in issued])
        case_note(alert, acting_user, f"{alert} released: {', '.join(m.label for m in issued)}")
    return alert


def approve_national(*, acting_user: User, alert_id: int, now: dt.datetime | None = None) -> Alert:
    """The second approval a national alert needs; the nation is reached when it is due.

    Refused (audited) for anyone but a province-level (or higher) supervisor whose jurisdiction
    holds the report, and for the officer who released the alert.
    """
    found = alert_or_404(alert_id)
    _require_officer(acting_user, Action.APPROVE_NATIONAL_ALERT, found)
    if found.released_by_id == acting_user.pk:
        _deny(
            acting_user,
            Action.APPROVE_NATIONAL_ALERT,
            object_type=ALERT_OBJECT,
            object_id=found.pk,
            why=_(
                "The second approval must come from another officer than the one who released "
                "the alert."
            ),
        )
    now = now or timezone.now()
    rules = policy.current()
    with transaction.atomic():
        alert = _locked(found.pk)
        if alert.scope != AlertScope.NATIONAL:
            msg = _("This alert is not meant for the whole nation; draft it with national scope.")
            raise ValidationFailed(msg, field_errors={"scope": [msg]})
        if not alert.is_open:
            msg = _("This alert is “%(status)s”; it can no longer be approved.") % {
                "status": alert.get_status_display()
            }
            raise ValidationFailed(msg, field_errors={"status": [msg]})
        if alert.national_approved_at is not None:
            msg = _("The national scope is already approved.")
            raise ValidationFailed(msg, field_errors={"scope": [msg]})
        alert.national_approved_by = acting_user
        alert.national_approved_at = now
        alert.save()
        issued: list[AlertMessage] = []
        if alert.status == AlertStatus.ACTIVE:
            issued = _issue_steps(
                alert,
                due_steps(alert, reach_of(messages_of(alert)), now=now, rules=rules),
                acting_user=acting_user,
                now=now,
                rules=rules,
            )
        record(
            actor=acting_user,
            action=AuditAction.UPDATE,
            object_type=ALERT_OBJECT,
            object_id=alert.pk,
            details={"national_approval": True, "rings": [m.label for m in issued]},
        )
        case_note(alert, acting_user, f"{alert}: national scope approved")
    return alert


def _close(
    alert: Alert,
    status: str,
    *,
    acting_user: User | None,
    note: str,
    now: dt.datetime,
    rules: policy.Policy,
    cause: str,
) -> None:
    """Move an open (locked) alert to a closed ``status``; an active one sends its withdrawal."""
    old = alert.status
    alert.status = status
    alert.closed_by = acting_user
    alert.closed_at = now
    alert.close_note = note
    alert.save()
    if old == AlertStatus.ACTIVE:
        _issue(
            alert,
            kind=ReachKind.REACHED,
            label="cancel",
            acting_user=acting_user,
            now=now,
            rules=rules,
        )
    _transition(acting_user, alert, old, note=bool(note), cause=cause)
    case_note(alert, acting_user, f"{alert}: {old} → {status} ({cause})")


def cancel_alert(*, acting_user: User, alert_id: int, note: str) -> Alert:
    """Cancel an alert; an active one is withdrawn from everyone it reached.

    A draft may be discarded by anyone who may draft; an active alert only by a duty officer.
    ``note`` (why) is required and stays internal.
    """
    found = alert_or_404(alert_id)
    if found.status == AlertStatus.DRAFT:
        require(acting_user, Action.DRAFT_ALERT, found.division, object_id=found.pk)
    else:
        _require_officer(acting_user, Action.RELEASE_ALERT, found)
    errors = FieldErrors()
    check_text(errors, "note", note, MAX_NOTE, required=True)
    errors.raise_if_any()
    now = timezone.now()
    rules = policy.current()
    with transaction.atomic():
        alert = _locked(found.pk)
        if not alert.is_open:
            msg = _("This alert is already “%(status)s”.") % {"status": alert.get_status_display()}
            raise ValidationFailed(msg, field_errors={"status": [msg]})
        _close(
            alert,
            AlertStatus.CANCELLED,
            acting_user=acting_user,
            note=note.strip(),
            now=now,
            rules=rules,
            cause="cancelled",
        )
    return alert


def report_status_changed(
    *, acting_user: User, report: MissingPersonReport, old_status: str
) -> Alert | None:
    """Called by ``people.services.change_missing_status`` inside its transaction.

    Found (alive or deceased): the open alert is resolved — an active one sends its withdrawal to
    everyone reached, and the public page drops the photo and every fact, saying only "found —
    thank you".  Withdrawn: the open alert is cancelled the same way.  The record is kept.
    """
    if report.status in FOUND_STATUSES:
        status, cause = AlertStatus.RESOLVED, "found"
    elif report.status == MissingStatus.WITHDRAWN:
        status, cause = AlertStatus.CANCELLED, "report_withdrawn"
    else:
        return None
    open_alert = open_alert_of(report)
    if open_alert is None:
        return None
    alert = _locked(open_alert.pk)
    if not alert.is_open:
        return None
    if status == AlertStatus.RESOLVED and alert.status == AlertStatus.DRAFT:
        status = AlertStatus.CANCELLED  # a draft never went out: nothing to resolve publicly
    _close(
        alert,
        status,
        acting_user=acting_user,
        note="",
        now=timezone.now(),
        rules=policy.current(),
        cause=cause,
    )
    return alert


# --------------------------------------------------------------------------- the tick


@dataclass
class TickResult:
    widened: int = 0
    messages: int = 0
    expired: int = 0
    redispatched: int = 0


def tick(*, now: dt.datetime | None = None) -> TickResult:
    """Widen every active alert whose next ring is due, expire those past their time, and hand
    over any message a crash left undispatched.  Safe to run from several processes at once:
    each alert is re-read under a row lock before it changes."""
    now = now or timezone.now()
    rules = policy.current()
    result = TickResult()
    for alert_id in Alert.objects.filter(status=AlertStatus.ACTIVE).values_list("pk", flat=True):
        with transaction.atomic():
            alert = _locked(alert_id)
            if alert.status != AlertStatus.ACTIVE:
                continue
            if alert.expires_at is not None and alert.expires_at <= now:
                _close(
                    alert,
                    AlertStatus.EXPIRED,
                    acting_user=None,
                    note="",
                    now=now,
                    rules=rules,
                    cause="expired",
                )
                result.expired += 1
                continue
            steps = due_steps(alert, reach_of(messages_of(alert)), now=now, rules=rules)
            if not steps:
                continue
            issued = _issue_steps(alert, steps, acting_user=None, now=now, rules=rules)
            record(
                actor=None,
                action=AuditAction.UPDATE,
                object_type=ALERT_OBJECT,
                object_id=alert.pk,
                details={"widened": [m.label for m in issued]},
            )
            result.widened += 1
            result.messages += len(issued)
    stale = AlertMessage.objects.filter(
        dispatched_at__isnull=True, sent_at__lte=now - REDISPATCH_AFTER
    ).values_list("pk", flat=True)
    for message_id in list(stale):
        if dispatch_message(message_id=message_id) is not None:
            result.redispatched += 1
    return result


# --------------------------------------------------------------------------- public side


def public_alert(*, alert_id: int) -> Alert:
    """An alert as the public may see it: released ones only (drafts do not exist publicly)."""
    alert = _alerts().filter(pk=alert_id).exclude(status=AlertStatus.DRAFT).first()
    if alert is None:
        raise NotFound(_("No such alert."))
    return alert


def active_alerts() -> QuerySet[Alert]:
    return _alerts().filter(status=AlertStatus.ACTIVE).order_by("-released_at", "-pk")


def current_message(alert: Alert) -> AlertMessage:
    """The message that stands for the alert now: the latest one (the withdrawal, once closed)."""
    message = alert.messages.order_by("-seq").first()
    if message is None:
        raise NotFound(_("No such alert."))
    return message


def share_text(alert: Alert) -> str:
    """What a share link carries, in the active language: the headline and the page's address."""
    return f"{headline(facts_of(alert))} {public_url(alert)}"


def public_photo(*, alert_id: int) -> PersonPhoto:
    """The published photo of an active alert (gone as soon as the alert closes)."""
    alert = Alert.objects.select_related("public_photo").filter(pk=alert_id).first()
    if alert is None or alert.status != AlertStatus.ACTIVE or alert.public_photo is None:
        raise NotFound(_("No such photo."))
    return alert.public_photo


# --------------------------------------------------------------------------- case page


def alerts_of_case(*, case_id: int) -> QuerySet[Alert]:
    """The alerts of a case with their sighting counts (the case page has authorised the read)."""
    return (
        Alert.objects.filter(case_id=case_id)
        .annotate(
            sighting_count=Count("sightings"),
            new_sightings=Count("sightings", filter=Q(sightings__status=SightingStatus.NEW)),
        )
        .order_by("-drafted_at", "-pk")
    )
