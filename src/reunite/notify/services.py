"""Subscribers of rapid-search alerts and the broadcasting of messages to them.

The alerts app calls four functions: ``broadcast_in_circle``, ``broadcast_in_region``,
``broadcast_to_reached`` and ``delivery_stats``.  A broadcast stores its ``Message`` once and
queues one ``Delivery`` per (message, subscriber, channel) with a unique idempotency key, in one
``INSERT … SELECT`` so that a ring of millions never passes through Python; workers
(``reunite.notify.worker``) then deliver them.  Nationwide subscribers (partners and media
without a home point) receive every message of every alert; everyone else is reached once per
alert by the widening rings, and afterwards only by ``broadcast_to_reached`` (updates,
cancellation, withdrawal).

The second half manages subscribers: public sign-up with double opt-in, confirmation, opt-out by
a signed link (which erases the contact data), partner and media registration by
administrators, and the dead-letter list.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from reunite.accounts.models import Division, DivisionLevel, User
from reunite.accounts.permissions import Action, can, role_allows
from reunite.accounts.services import MAX_SEAT_DISTANCE_KM, NATION_CODE
from reunite.audit.models import AuditAction
from reunite.audit.services import record
from reunite.core.crypto import blind_token
from reunite.core.errors import AccessDenied, DomainError, NotFound, ValidationFailed
from reunite.notify import conf, geo
from reunite.notify.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Message,
    Subscriber,
    SubscriberKind,
    SubscriberStatus,
    WebhookEndpoint,
)

MAX_TEXT = 360  # WEA: a wireless emergency alert holds 360 characters
NATION_PATH = f"/{NATION_CODE}/"
_CHANNEL_TAG = {Channel.WEBHOOK: "w", Channel.EMAIL: "e", Channel.SMS: "s"}
_DEFAULT_STATS = ("queued", "delivered", "failed", "dead")


# =========================================================================== broadcasting


@dataclass(frozen=True)
class Broadcast:
    """One message to send to a set of subscribers."""

    topic: str  # groups every message about one alert, e.g. "alert:42"
    message_key: str  # unique per message within the topic (the CAP <identifier>)
    ring: str  # statistics label, e.g. "100km", "province", "nation", "cancel"
    subject: str  # short title
    text: str  # the public text, <= 360 characters
    url: str  # absolute URL of the public alert page
    cap_xml: str  # the CAP 1.2 document of this message (webhooks receive it as the body)


def _check_broadcast(b: Broadcast) -> None:
    errors: dict[str, list[str]] = {}
    limits = {"topic": 100, "message_key": 200, "ring": 32, "subject": 200, "url": 500}
    for name, limit in limits.items():
        value = getattr(b, name)
        if not value or len(value) > limit:
            errors[name] = [_("Required, at most %(n)s characters.") % {"n": limit}]
    if not b.text or len(b.text) > MAX_TEXT:
        errors["text"] = [_("Required, at most %(n)s characters.") % {"n": MAX_TEXT}]
    if not re.match(r"^https?://", b.url):
        errors.setdefault("url", []).append(_("Enter an absolute http(s) address."))
    if not b.cap_xml:
        errors["cap_xml"] = [_("This field is required.")]
    if errors:
        raise ValidationFailed(_("The message cannot be sent."), field_errors=errors)


def _message_for(b: Broadcast) -> Message:
    """The stored message of ``b`` (created on first use; a repeated call reuses it)."""
    _check_broadcast(b)
    message, _created = Message.objects.get_or_create(
        topic=b.topic,
        message_key=b.message_key,
        defaults={
            "token": secrets.token_hex(8),
            "ring": b.ring,
            "subject": b.subject,
            "text": b.text,
            "url": b.url,
            "cap_xml": b.cap_xml,
        },
    )
    return message


@dataclass(frozen=True)
class _Scope:
    """Which subscribers a broadcast selects: SQL after ``FROM notify_subscriber s``.

    ``ids_sql``, when set, is a query returning just the ids of the selection (a ring on
    PostgreSQL), which the count uses directly.
    """

    with_sql: str = ""
    join_sql: str = ""
    where_sql: str = "1 = 1"
    params: tuple[Any, ...] = ()
    ids_sql: str = ""


def _circle_scope(lat: float, lon: float, radius_km: float) -> _Scope:
    """The ring as H3 cell ranges plus the exact test.

    SQLite walks the ranges as the outer side of a join, one index seek each.  PostgreSQL
    cannot seek with values from a join here (it scans instead), so it gets one index-only
    range scan per range, glued with ``UNION ALL`` (the ring index includes the id).
    """
    ring = geo.ring_cover(lat, lon, radius_km)
    cx, cy, cz = ring.centre
    # Computed numbers only (never user text) are inlined: on PostgreSQL each branch must be
    # planned with its constants to become an index-only scan.
    exact = f"(r.x * {cx!r} + r.y * {cy!r} + r.z * {cz!r}) >= {ring.min_dot!r}"
    if connection.vendor == "postgresql":
        ids = " UNION ALL ".join(
            f"SELECT r.id FROM notify_subscriber r WHERE r.active AND r.h3_cell IS NOT NULL"  # noqa: S608
            f" AND r.h3_cell BETWEEN {int(lo)} AND {int(hi)} AND {exact}"
            for lo, hi in ring.ranges
        )
        return _Scope(
            # In id order: the subscriber rows, and the index entries of the new deliveries
            # (keyed by subscriber), are then visited in order instead of at random, which
            # decides the speed of a ring of a million (pages read and written once each).
            join_sql=f"JOIN (SELECT u.id FROM ({ids}) u ORDER BY u.id) ring"  # noqa: S608
            " ON ring.id = s.id",
            ids_sql=ids,
        )
    values = ", ".join(f"({int(lo)}, {int(hi)})" for lo, hi in ring.ranges)
    ids = (
        "SELECT r.id FROM ring_ranges rr JOIN notify_subscriber r"  # noqa: S608
        " ON r.h3_cell BETWEEN rr.lo AND rr.hi"
        f" WHERE r.active AND r.h3_cell IS NOT NULL AND {exact}"
    )
    return _Scope(
        with_sql=f"WITH ring_ranges(lo, hi) AS (VALUES {values}) ",
        # In id order, as on PostgreSQL (SQLite sorts the ids, then reads by rowid).
        join_sql=f"JOIN ({ids} ORDER BY r.id) ring ON ring.id = s.id",
        ids_sql=ids,
    )


def _region_scope(division_path: str | None) -> _Scope:
    if division_path is None:
        return _Scope()
    return _Scope(where_sql="s.division_path LIKE %s", params=(division_path + "%",))


_NATIONWIDE = _Scope(where_sql="s.h3_cell IS NULL AND s.kind IN ('partner', 'media')")

# Every channel a subscriber has, as rows joined to the selection: one pass over a ring for all
# channels.  Names and tags are fixed literals (the tag ends the idempotency key).
_CHANNELS_SQL = " UNION ALL ".join(
    f"SELECT '{channel.value}' AS c, '{tag}' AS tag" for channel, tag in _CHANNEL_TAG.items()
)
_CHANNEL_WHERE = (
    f"((ch.c = '{Channel.WEBHOOK.value}' AND s.endpoint_id IS NOT NULL AND EXISTS"  # noqa: S608
    " (SELECT 1 FROM notify_webhookendpoint e WHERE e.id = s.endpoint_id AND e.enabled = %s))"
    f" OR (ch.c = '{Channel.EMAIL.value}' AND s.email <> '')"
    f" OR (ch.c = '{Channel.SMS.value}' AND s.phone <> ''))"
)


def _enqueue(message: Message, ring: str, scope: _Scope, *, only_new: bool) -> int:
    """Queue ``message`` for every active subscriber in ``scope`` on each of their channels.

    One ``INSERT … SELECT`` for all channels: the selection (a ring of millions) is walked once,
    and a channel without an index of its own (e-mail, SMS) never turns into a scan of the
    whole subscriber table.
    """
    now = timezone.now()
    new_sql = ""
    new_params: tuple[Any, ...] = ()
    if only_new:
        # Reached by an earlier message of the topic (not this message's other channels).
        new_sql = (
            " AND NOT EXISTS (SELECT 1 FROM notify_delivery d WHERE d.topic = %s"
            " AND d.subscriber_id = s.id AND d.message_id <> %s)"
        )
        new_params = (message.topic, message.pk)
    sql = (
        # Fixed SQL pieces and computed integers; every value is a parameter.  The WITH
        # goes after the column list: Python's sqlite3 counts rows only of statements
        # that start with INSERT.
        "INSERT INTO notify_delivery (message_id, subscriber_id, endpoint_id,"  # noqa: S608
        " topic, ring, channel, idempotency_key, status, attempts, next_attempt_at,"
        " lease_owner, last_error, created_at)"
        f" {scope.with_sql}SELECT %s, s.id,"
        f" CASE WHEN ch.c = '{Channel.WEBHOOK.value}' THEN s.endpoint_id END, %s, %s, ch.c,"
        " %s || CAST(s.id AS TEXT) || '-' || ch.tag, %s, 0, %s, '', '', %s"
        f" FROM notify_subscriber s {scope.join_sql} CROSS JOIN ({_CHANNELS_SQL}) ch"
        f" WHERE s.active AND {_CHANNEL_WHERE} AND {scope.where_sql}{new_sql}"
        " ON CONFLICT DO NOTHING"
    )
    params = (
        message.pk,
        message.topic,
        ring,
        message.token + "-",
        DeliveryStatus.QUEUED.value,
        now,
        now,
        True,
        *scope.params,
        *new_params,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _broadcast(b: Broadcast, scopes: list[tuple[_Scope, bool]]) -> int:
    from reunite.notify import queue

    with transaction.atomic():
        message = _message_for(b)
        count = sum(_enqueue(message, b.ring, scope, only_new=new) for scope, new in scopes)
        if count:
            message_id = message.pk
            transaction.on_commit(lambda: queue.published(message_id))
    return count


def broadcast_in_circle(
    b: Broadcast, lat: float, lon: float, radius_km: float, *, only_new: bool = True
) -> int:
    """Queue ``b`` for every active subscriber within ``radius_km`` of (lat, lon).

    With ``only_new``, subscribers already reached by another message of ``b.topic`` are
    skipped.  Nationwide partners and media are always included.  Returns how many deliveries
    were queued (one per subscriber and channel).
    """
    if not (math.isfinite(lat) and math.isfinite(lon) and math.isfinite(radius_km)):
        raise ValidationFailed(_("Coordinates and radius must be finite numbers."))
    try:
        scope = _circle_scope(lat, lon, radius_km)
    except ValueError as exc:
        raise ValidationFailed(_("The centre or the radius is out of range.")) from exc
    return _broadcast(b, [(scope, only_new), (_NATIONWIDE, False)])


def broadcast_in_region(b: Broadcast, division_path: str | None, *, only_new: bool = True) -> int:
    """Queue ``b`` for every active subscriber whose home division lies under ``division_path``.

    ``"/CN/510000/"`` is a province (``accounts.Division.path``); ``None`` is the nation.
    """
    if division_path is not None and not re.fullmatch(r"(/[0-9A-Za-z]{1,24})+/", division_path):
        raise ValidationFailed(_("Not a division path."))
    return _broadcast(b, [(_region_scope(division_path), only_new), (_NATIONWIDE, False)])


def broadcast_to_reached(b: Broadcast) -> int:
    """Queue ``b`` (an update, cancellation or withdrawal) to everyone already reached in the
    topic, on their present channels (an opted-out subscriber gets nothing more)."""
    reached = _Scope(
        where_sql=(
            "s.id IN (SELECT d.subscriber_id FROM notify_delivery d"
            " WHERE d.topic = %s AND d.message_id <> %s)"
        ),
    )
    with transaction.atomic():
        message = _message_for(b)
        scope = _Scope(where_sql=reached.where_sql, params=(b.topic, message.pk))
        count = _enqueue(message, b.ring, scope, only_new=False)
        count += _enqueue(message, b.ring, _NATIONWIDE, only_new=False)
        if count:
            from reunite.notify import queue

            message_id = message.pk
            transaction.on_commit(lambda: queue.published(message_id))
    return count


def delivery_stats(topic: str) -> dict[str, dict[str, int]]:
    """Per ring label: ``{"queued": n, "delivered": n, "failed": n, "dead": n}``.

    ``queued`` counts deliveries waiting or being sent; ``failed`` those waiting for a retry.
    """
    stats: dict[str, dict[str, int]] = {}
    rows = (
        Delivery.objects.filter(topic=topic)
        .values_list("ring", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for ring, status, n in rows:
        bucket = stats.setdefault(ring, dict.fromkeys(_DEFAULT_STATS, 0))
        key = "queued" if status in (DeliveryStatus.QUEUED, DeliveryStatus.SENDING) else status
        bucket[key] += n
    return stats


def count_in_circle(lat: float, lon: float, radius_km: float) -> int:
    """How many active subscribers have their home within ``radius_km`` of (lat, lon).

    The same selection a ring broadcast makes (without nationwide subscribers); the benchmark
    times it.
    """
    scope = _circle_scope(lat, lon, radius_km)
    sql = (
        f"{scope.with_sql}SELECT COUNT(*) FROM ({scope.ids_sql}) ring"  # noqa: S608 (numbers)
        if scope.ids_sql
        else f"{scope.with_sql}SELECT COUNT(*) FROM notify_subscriber s {scope.join_sql}"  # noqa: S608
        f" WHERE s.active AND {scope.where_sql}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, () if scope.ids_sql else scope.params)
        return int(cursor.fetchone()[0])


# =========================================================================== home areas


@dataclass(frozen=True)
class HomeArea:
    """Where a subscriber lives: a point and the division holding it."""

    latitude: float
    longitude: float
    division: Division


@lru_cache(maxsize=1)
def _county_seats() -> tuple[tuple[float, float, int], ...]:
    return tuple(
        (lat, lon, pk)
        for lat, lon, pk in Division.objects.filter(
            level__gte=DivisionLevel.COUNTY, latitude__isnull=False, longitude__isnull=False
        ).values_list("latitude", "longitude", "pk")
        if lat is not None and lon is not None
    )


def nearest_county(latitude: float, longitude: float) -> Division | None:
    """The county whose seat is nearest, or None when none lies within the served area."""
    seats = _county_seats()
    if not seats:
        return None
    coslat = math.cos(math.radians(latitude))
    lat, lon, pk = min(
        seats, key=lambda s: (s[0] - latitude) ** 2 + ((s[1] - longitude) * coslat) ** 2
    )
    if geo.haversine_km(latitude, longitude, lat, lon) > MAX_SEAT_DISTANCE_KM:
        return None
    return Division.objects.get(pk=pk)


def resolve_home(
    latitude: float | None, longitude: float | None, division_code: str = ""
) -> HomeArea:
    """A home area from typed coordinates or a picked division (its seat is the point)."""
    errors: dict[str, list[str]] = {}
    if latitude is not None or longitude is not None:
        if latitude is None or longitude is None:
            raise ValidationFailed(
                _("Enter both latitude and longitude."),
                field_errors={"latitude": [_("Enter both latitude and longitude.")]},
            )
        if not (math.isfinite(latitude) and -90 <= latitude <= 90):
            errors["latitude"] = [_("Enter a latitude between -90 and 90.")]
        if not (math.isfinite(longitude) and -180 <= longitude <= 180):
            errors["longitude"] = [_("Enter a longitude between -180 and 180.")]
        if errors:
            raise ValidationFailed(_("The coordinates are not valid."), field_errors=errors)
        county = nearest_county(latitude, longitude)
        if county is None:
            message = _("These coordinates lie outside every division we serve.")
            raise ValidationFailed(message, field_errors={"latitude": [message]})
        return HomeArea(latitude, longitude, county)
    if division_code:
        division = Division.objects.filter(code=division_code).first()
        if division is None or division.latitude is None or division.longitude is None:
            message = _("Choose a division from the list.")
            raise ValidationFailed(message, field_errors={"division": [message]})
        return HomeArea(division.latitude, division.longitude, division)
    message = _("Give your home area: coordinates or a division.")
    raise ValidationFailed(message, field_errors={"division": [message]})


def _place(subscriber: Subscriber, home: HomeArea | None) -> None:
    if home is None:
        subscriber.latitude = subscriber.longitude = subscriber.h3_cell = None
        subscriber.x = subscriber.y = subscriber.z = None
        subscriber.division = None
        subscriber.division_path = NATION_PATH
        return
    subscriber.latitude, subscriber.longitude = home.latitude, home.longitude
    subscriber.h3_cell = geo.cell_of(home.latitude, home.longitude)
    subscriber.x, subscriber.y, subscriber.z = geo.unit_vector(home.latitude, home.longitude)
    subscriber.division = home.division
    subscriber.division_path = home.division.path


# =========================================================================== public sign-up

_PHONE = re.compile(r"^\+?[0-9]{6,16}$")


def normalise_phone(phone: str) -> str:
    return re.sub(r"[\s().-]", "", phone)


@dataclass(frozen=True)
class SubscriptionData:
    """What a member of the public gives to receive alerts near home."""

    email: str = ""
    phone: str = ""
    latitude: float | None = None
    longitude: float | None = None
    division_code: str = ""
    language: str = "zh-hans"


def validate_subscription(data: SubscriptionData) -> tuple[str, str, HomeArea]:
    """The normalised e-mail, phone and home area, or ``ValidationFailed`` naming each field."""
    errors: dict[str, list[str]] = {}
    email = data.email.strip().lower()
    phone = normalise_phone(data.phone.strip())
    if not email and not phone:
        errors["email"] = [_("Give an e-mail address, a mobile number, or both.")]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
        if len(email) > 254:
            errors["email"] = [_("At most %(n)s characters.") % {"n": 254}]
    if phone and not _PHONE.fullmatch(phone):
        errors["phone"] = [_("Enter a mobile number of 6 to 16 digits, optionally with +.")]
    try:
        home = resolve_home(data.latitude, data.longitude, data.division_code)
    except ValidationFailed as exc:
        errors.update(exc.field_errors)
        home = None
    if errors or home is None:
        raise ValidationFailed(_("Please correct the errors below."), field_errors=errors)
    return email, phone, home


def _confirm_token(subscriber: Subscriber) -> str:
    return signing.dumps(
        [str(subscriber.public_id), subscriber.confirm_nonce], salt="notify.confirm"
    )


def optout_token(subscriber: Subscriber) -> str:
    """A link token that opts this subscriber out; it never expires."""
    return signing.Signer(salt="notify.optout").sign(str(subscriber.public_id))


def absolute(path: str) -> str:
    return str(conf.get("NOTIFY_PUBLIC_BASE_URL")).rstrip("/") + path


def confirm_url(subscriber: Subscriber) -> str:
    return absolute(reverse("notify:confirm", args=[_confirm_token(subscriber)]))


def optout_url(subscriber: Subscriber) -> str:
    return absolute(reverse("notify:optout", args=[optout_token(subscriber)]))


def subscribe(data: SubscriptionData) -> Subscriber:
    """Record a sign-up as *pending* and send the confirmation link (double opt-in).

    Signing up again with the same e-mail (or, without e-mail, the same mobile number) updates
    the existing subscription and sends a new link, so that nobody learns whether an address was
    already registered.  If the link cannot be sent the sign-up is kept and ``DomainError`` says
    to try again later.
    """
    from reunite.notify import channels

    email, phone, home = validate_subscription(data)
    with transaction.atomic():
        existing = None
        if email:
            existing = Subscriber.objects.filter(
                kind=SubscriberKind.PERSON, email_index=blind_token(email)
            ).first()
        elif phone:
            existing = Subscriber.objects.filter(
                kind=SubscriberKind.PERSON, email_index="", phone_index=blind_token(phone)
            ).first()
        subscriber = existing or Subscriber(kind=SubscriberKind.PERSON)
        subscriber.email, subscriber.phone = email, phone
        subscriber.email_index = blind_token(email) if email else ""
        subscriber.phone_index = blind_token(phone) if phone else ""
        subscriber.language = data.language[:16] or "zh-hans"
        _place(subscriber, home)
        if subscriber.status != SubscriberStatus.ACTIVE:
            subscriber.status = SubscriberStatus.PENDING
            subscriber.active = False
        subscriber.confirm_nonce = secrets.token_hex(8)
        subscriber.opted_out_at = None
        subscriber.save()
    link = confirm_url(subscriber)
    subject = _("Confirm your subscription to missing-child alerts")
    text = _(
        "Open this link to start receiving rapid-search alerts near your home: %(link)s "
        "If you did not ask for this, ignore this message."
    ) % {"link": link}
    try:
        if email:
            channels.send_plain_email(email, subject, text, optout=optout_url(subscriber))
        else:
            channels.send_plain_sms(phone, text, key=f"confirm-{subscriber.confirm_nonce}")
    except channels.SendError as exc:
        raise DomainError(
            _("Your sign-up is saved, but we could not send the confirmation now. Try again later.")
        ) from exc
    return subscriber


def confirm(token: str) -> Subscriber:
    """Activate the subscription named by a confirmation link (valid for a week)."""
    try:
        public_id, nonce = signing.loads(
            token, salt="notify.confirm", max_age=conf.get("NOTIFY_CONFIRM_MAX_AGE_SECONDS")
        )
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise ValidationFailed(_("This confirmation link is not valid or has expired.")) from exc
    subscriber = Subscriber.objects.filter(public_id=public_id).first()
    if subscriber is None or not nonce or subscriber.confirm_nonce != nonce:
        raise ValidationFailed(_("This confirmation link is not valid or has expired."))
    if subscriber.status in (SubscriberStatus.PENDING, SubscriberStatus.ACTIVE):
        if subscriber.status == SubscriberStatus.PENDING:
            subscriber.status, subscriber.active = SubscriberStatus.ACTIVE, True
            subscriber.confirmed_at = timezone.now()
            subscriber.save(update_fields=["status", "active", "confirmed_at"])
        return subscriber
    raise ValidationFailed(_("This confirmation link is not valid or has expired."))


def subscriber_for_optout(token: str) -> Subscriber:
    try:
        public_id = signing.Signer(salt="notify.optout").unsign(token)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise NotFound(_("This opt-out link is not valid.")) from exc
    subscriber = Subscriber.objects.filter(public_id=public_id).first()
    if subscriber is None:
        raise NotFound(_("This opt-out link is not valid."))
    return subscriber


def opt_out(token: str) -> Subscriber:
    """Stop all messages to the subscriber of this link and erase its contact data.

    Deliveries not yet sent are withdrawn (marked dead with the reason); the rows stay for
    statistics.  Idempotent.
    """
    subscriber = subscriber_for_optout(token)
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if subscriber.status != SubscriberStatus.OPTED_OUT:
            subscriber.status, subscriber.active = SubscriberStatus.OPTED_OUT, False
            subscriber.opted_out_at = timezone.now()
            if subscriber.kind == SubscriberKind.PERSON:
                subscriber.email = subscriber.phone = ""
                subscriber.email_index = subscriber.phone_index = ""
            subscriber.confirm_nonce = ""
            subscriber.save()
            Delivery.objects.filter(
                subscriber=subscriber,
                status__in=[DeliveryStatus.QUEUED, DeliveryStatus.FAILED],
            ).update(status=DeliveryStatus.DEAD, last_error="opted out")
    return subscriber


# =========================================================================== partners, media


@dataclass(frozen=True)
class PartnerData:
    """A partner app or platform, or a media house, registered by an administrator."""

    name: str
    kind: str = SubscriberKind.PARTNER
    webhook_url: str = ""
    webhook_secret: str = ""
    email: str = ""
    latitude: float | None = None
    longitude: float | None = None
    division_code: str = ""  # with no point and no division: nationwide


MIN_SECRET = 16


def _require_manage(acting_user: User, division: Division | None = None) -> None:
    if not (
        can(acting_user, Action.MANAGE_NOTIFY, division)
        if division
        else role_allows(acting_user, Action.MANAGE_NOTIFY)
    ):
        record(
            actor=acting_user,
            action=AuditAction.DENIED,
            object_type="notify.subscriber",
            details={"action": Action.MANAGE_NOTIFY.value},
        )
        raise AccessDenied(_("You may not manage alert partners here."))


def _nation() -> Division | None:
    return Division.objects.filter(path=NATION_PATH).first()


def validate_partner(data: PartnerData) -> HomeArea | None:
    """Checks of form and content (the webhook's address too, but not yet its answer)."""
    from reunite.notify import channels

    errors: dict[str, list[str]] = {}
    if not data.name.strip() or len(data.name) > 200:
        errors["name"] = [_("Required, at most %(n)s characters.") % {"n": 200}]
    if data.kind not in (SubscriberKind.PARTNER, SubscriberKind.MEDIA):
        errors["kind"] = [_("Choose partner or media.")]
    if not data.webhook_url and not data.email:
        errors["webhook_url"] = [_("Give a webhook address, an e-mail address, or both.")]
    if data.email:
        try:
            validate_email(data.email)
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    if data.webhook_url:
        try:
            channels.check_webhook_url(data.webhook_url)
        except channels.UnsafeEndpoint as exc:
            errors["webhook_url"] = [exc.reason]
        if len(data.webhook_secret) < MIN_SECRET or len(data.webhook_secret) > 200:
            errors["webhook_secret"] = [
                _("The shared secret needs %(lo)s to %(hi)s characters.")
                % {"lo": MIN_SECRET, "hi": 200}
            ]
    home = None
    if data.latitude is not None or data.longitude is not None or data.division_code:
        try:
            home = resolve_home(data.latitude, data.longitude, data.division_code)
        except ValidationFailed as exc:
            errors.update(exc.field_errors or {"division": [exc.message]})
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), field_errors=errors)
    return home


def verify_webhook(data: PartnerData) -> None:
    """POST a signed ping to the new endpoint: it must answer 2xx, without a redirect."""
    from reunite.notify import channels

    if not data.webhook_url or not conf.get("NOTIFY_WEBHOOK_VERIFY"):
        return
    try:
        channels.ping_endpoint(data.webhook_url, data.webhook_secret)
    except channels.UnsafeEndpoint as exc:
        raise ValidationFailed(
            _("The webhook endpoint failed its check."),
            field_errors={"webhook_url": [exc.reason]},
        ) from exc


def register_partner(*, acting_user: User, data: PartnerData) -> Subscriber:
    """Register a partner or media recipient; active at once (an administrator vouches).

    A recipient with a home area receives alerts whose rings reach it; one without receives
    every alert, which only a nation-level administrator may grant.
    """
    _require_manage(acting_user)
    home = validate_partner(data)
    _require_manage(acting_user, home.division if home else _nation())
    verify_webhook(data)
    with transaction.atomic():
        endpoint = None
        if data.webhook_url:
            endpoint = WebhookEndpoint.objects.create(
                name=data.name.strip(),
                url=data.webhook_url,
                secret=data.webhook_secret,
                created_by=acting_user,
                verified_at=timezone.now() if conf.get("NOTIFY_WEBHOOK_VERIFY") else None,
            )
        subscriber = Subscriber(
            kind=data.kind,
            status=SubscriberStatus.ACTIVE,
            active=True,
            endpoint=endpoint,
            email=data.email.strip().lower(),
            email_index=blind_token(data.email.strip().lower()) if data.email else "",
            confirmed_at=timezone.now(),
        )
        _place(subscriber, home)
        subscriber.save()
        record(
            actor=acting_user,
            action=AuditAction.CREATE,
            object_type="notify.subscriber",
            object_id=subscriber.pk,
            details={"kind": data.kind, "webhook": bool(endpoint), "nationwide": home is None},
        )
    return subscriber


def partners_for(acting_user: User) -> QuerySet[Subscriber]:
    """Partner and media recipients in the administrator's jurisdiction."""
    _require_manage(acting_user)
    home = acting_user.jurisdiction
    assert home is not None
    return (
        Subscriber.objects.filter(
            kind__in=[SubscriberKind.PARTNER, SubscriberKind.MEDIA],
            division_path__startswith=home.path,
        )
        .select_related("endpoint", "division")
        .order_by("-created_at")
    )


def get_partner(*, acting_user: User, subscriber_id: int) -> Subscriber:
    subscriber = partners_for(acting_user).filter(pk=subscriber_id).first()
    if subscriber is None:
        raise NotFound(_("No such partner."))
    record(
        actor=acting_user,
        action=AuditAction.READ,
        object_type="notify.subscriber",
        object_id=subscriber.pk,
    )
    return subscriber


def set_partner_enabled(*, acting_user: User, subscriber_id: int, enabled: bool) -> Subscriber:
    """Pause or resume a partner: nothing is queued for it while paused."""
    subscriber = get_partner(acting_user=acting_user, subscriber_id=subscriber_id)
    with transaction.atomic():
        subscriber.status = SubscriberStatus.ACTIVE if enabled else SubscriberStatus.DISABLED
        subscriber.active = enabled
        subscriber.save(update_fields=["status", "active"])
        if subscriber.endpoint_id:
            WebhookEndpoint.objects.filter(pk=subscriber.endpoint_id).update(enabled=enabled)
        record(
            actor=acting_user,
            action=AuditAction.UPDATE,
            object_type="notify.subscriber",
            object_id=subscriber.pk,
            details={"enabled": enabled},
        )
    subscriber.refresh_from_db()
    return subscriber


# =========================================================================== dead letters


def dead_letters(acting_user: User) -> QuerySet[Delivery]:
    """Deliveries given up after every attempt, for subscribers in the user's jurisdiction."""
    _require_manage(acting_user)
    home = acting_user.jurisdiction
    assert home is not None
    return (
        Delivery.objects.filter(
            status=DeliveryStatus.DEAD, subscriber__division_path__startswith=home.path
        )
        .exclude(last_error="opted out")
        .select_related("subscriber", "message")
        .order_by("-id")
    )


def requeue_dead(*, acting_user: User, delivery_ids: list[int] | None = None) -> int:
    """Put dead letters back in the queue with fresh attempts (all of them when ids is None).

    They keep their idempotency keys: a receiver that did get one drops it again.
    """
    from reunite.notify import queue

    rows = dead_letters(acting_user)
    if delivery_ids is not None:
        rows = rows.filter(pk__in=delivery_ids)
    with transaction.atomic():
        ids = list(rows.values_list("pk", flat=True)[:100_000])
        count = Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.DEAD).update(
            status=DeliveryStatus.QUEUED,
            attempts=0,
            next_attempt_at=timezone.now(),
            last_error="",
            lease_owner="",
            lease_expires_at=None,
        )
        record(
            actor=acting_user,
            action=AuditAction.UPDATE,
            object_type="notify.delivery",
            details={"requeued": count},
        )
        if ids:
            transaction.on_commit(lambda: queue.publish_ids(ids))
    return count
