"""Alert services against a real database and the real ``reunite.notify`` dispatch service.

Subscribers are registered through ``notify``'s own services (partners with an e-mail address and
a home county); every widening must reach only those not reached before, every message must be
valid CAP 1.2, and withdrawal must go to everyone reached.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone
from lxml import etree  # type: ignore[import-untyped]

from reunite.accounts.models import OrganisationKind, Role, User
from reunite.accounts.services import haversine_km
from reunite.alerts import cap, services, sightings
from reunite.alerts.models import Alert, AlertMessage, AlertStatus, Sighting
from reunite.audit.models import AuditAction, AuditEntry
from reunite.cases.models import CaseEvent
from reunite.core.errors import AccessDenied, NotFound, ValidationFailed
from reunite.notify import services as notify
from reunite.people.services import change_missing_status
from tests.alerts_support import JINNIU, SICHUAN, complete_data, draft, make_report, seat

pytestmark = pytest.mark.django_db

NS = {"cap": cap.NAMESPACE}
# Home counties of the subscribers, by the ring that first reaches them from 金牛区 (Chengdu).
HOMES = {
    "510105": "100km",  # 青羊区, 2 km
    "510703": "200km",  # 涪城区 (Mianyang), 108 km
    "511502": "300km",  # 翠屏区 (Yibin), 221 km
    "500103": "300km",  # 渝中区 (Chongqing, another province), 273 km
    "513401": "500km",  # 西昌市, 356 km
    "513332": "province",  # 石渠县, 617 km, still Sichuan
    "110105": "nation",  # 朝阳区, Beijing
}


@pytest.fixture(autouse=True)
def _fast(settings: Any) -> None:
    # Argon2's deliberate slowness would dominate tests that make several accounts each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()  # the sighting limits count per address across tests otherwise


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, User]:
    return {
        "investigator": make_user(Role.INVESTIGATOR, JINNIU),
        "officer": make_user(Role.SUPERVISOR, JINNIU),
        "province": make_user(Role.SUPERVISOR, SICHUAN),
        "province2": make_user(Role.SUPERVISOR, SICHUAN),
    }


@pytest.fixture
def subscribers(make_user: Callable[..., User]) -> dict[str, int]:
    """One partner per home county (registered by a nation-level administrator)."""
    admin = make_user(Role.ADMINISTRATOR, "CN")
    ids = {}
    for code in HOMES:
        partner = notify.register_partner(
            acting_user=admin,
            data=notify.PartnerData(
                name=f"Partner {code}", email=f"p{code}@example.org", division_code=code
            ),
        )
        ids[code] = partner.pk
    return ids


def _expected(*rings: str) -> int:
    return sum(1 for ring in HOMES.values() if ring in rings)


def _cap(message: AlertMessage) -> Any:
    cap.validate(message.cap_xml)
    return etree.fromstring(message.cap_xml.encode())


def _messages(alert: Alert) -> list[AlertMessage]:
    return list(alert.messages.order_by("seq"))


def test_the_subscriber_homes_lie_in_the_bands_the_test_assumes() -> None:
    lat, lon = seat(JINNIU)
    limits = {"100km": 100, "200km": 200, "300km": 300, "500km": 500}
    previous = {"100km": 0, "200km": 100, "300km": 200, "500km": 300}
    for code, ring in HOMES.items():
        distance = haversine_km(lat, lon, *seat(code))
        if ring in limits:
            assert previous[ring] < distance <= limits[ring] - 10, code
        else:
            assert distance > 510, code


def test_rings_widen_with_time_and_reach_only_new_subscribers(
    people, subscribers, django_capture_on_commit_callbacks
) -> None:
    t0 = timezone.now()
    report = make_report(people["investigator"], minutes_ago=30, now=t0)
    alert = draft(people["investigator"], report)
    with django_capture_on_commit_callbacks(execute=True):
        services.release_alert(acting_user=people["officer"], alert_id=alert.pk, now=t0)
    for hours in (1.05, 1.5, 2.05, 3.05, 4.05, 5):
        with django_capture_on_commit_callbacks(execute=True):
            services.tick(now=t0 + dt.timedelta(hours=hours))

    sent = _messages(alert)
    assert [(m.msg_type, m.label) for m in sent] == [
        ("Alert", "100km"),
        ("Update", "200km"),
        ("Update", "300km"),
        ("Update", "500km"),
        ("Update", "province"),
    ]
    assert [m.reached for m in sent] == [
        _expected("100km"),
        _expected("200km"),
        _expected("300km"),
        _expected("500km"),
        _expected("province"),
    ]
    assert all(m.dispatched_at is not None for m in sent)
    stats = notify.delivery_stats(alert.topic)
    assert {label: counts["queued"] for label, counts in stats.items()} == {
        m.label: m.reached for m in sent if m.reached
    }

    original = _cap(sent[0])
    assert original.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert original.find("cap:references", NS) is None
    for message, radius in zip(sent[1:4], ("200", "300", "500"), strict=True):
        doc = _cap(message)
        assert doc.findtext("cap:msgType", namespaces=NS) == "Update"
        references = doc.findtext("cap:references", namespaces=NS).split()
        assert references[0] == (
            f"{services.policy.current().cap_sender},{sent[0].identifier},"
            f"{original.findtext('cap:sent', namespaces=NS)}"
        )
        circles = doc.findall("cap:info/cap:area/cap:circle", NS)
        assert circles and all(c.text.endswith(f" {radius}") for c in circles)
    province = _cap(sent[4])
    assert [g.text for g in province.findall("cap:info/cap:area/cap:geocode/cap:value", NS)] == [
        SICHUAN,
        SICHUAN,
    ]
    for doc in (original, province):
        info = doc.findall("cap:info", NS)
        assert [i.findtext("cap:language", namespaces=NS) for i in info] == ["zh-CN", "en-US"]
        for i in info:
            assert [i.findtext(f"cap:{k}", namespaces=NS) for k in ("category", "urgency")] == [
                "Rescue",
                "Immediate",
            ]
            assert i.findtext("cap:severity", namespaces=NS) == "Severe"
            assert i.findtext("cap:certainty", namespaces=NS) == "Likely"
            # <event> is human-readable text, in the language of its <info> block.
            language = i.findtext("cap:language", namespaces=NS)
            expected = {"zh-CN": "儿童被拐", "en-US": "Child Abduction"}[language]
            assert i.findtext("cap:event", namespaces=NS) == expected
            assert i.find("cap:resource/cap:uri", NS).text.endswith(f"/alerts/{alert.pk}/photo")
    widened = AuditEntry.objects.filter(object_type="alert", object_id=str(alert.pk))
    assert widened.filter(details__widened__isnull=False).count() == 4


def test_a_late_release_goes_straight_to_the_ring_due(people, subscribers) -> None:
    t0 = timezone.now()
    report = make_report(people["investigator"], minutes_ago=150, now=t0)
    alert = draft(people["investigator"], report)
    services.release_alert(acting_user=people["officer"], alert_id=alert.pk, now=t0)
    assert [m.label for m in _messages(alert)] == ["300km"]


def test_the_nation_needs_a_second_approval_by_another_province_officer(
    people, subscribers, make_user, django_capture_on_commit_callbacks
) -> None:
    t0 = timezone.now()
    report = make_report(people["investigator"], minutes_ago=30, now=t0)
    alert = draft(people["investigator"], report, scope="national")
    with django_capture_on_commit_callbacks(execute=True):
        services.release_alert(acting_user=people["province"], alert_id=alert.pk, now=t0)
        services.tick(now=t0 + dt.timedelta(hours=5))
    assert [m.label for m in _messages(alert)] == ["100km", "500km", "province"]
    later = t0 + dt.timedelta(hours=5, minutes=10)

    # The releasing officer cannot give the second approval; nor a county-level supervisor.
    for refused in (people["province"], people["officer"]):
        with pytest.raises(AccessDenied):
            services.approve_national(acting_user=refused, alert_id=alert.pk, now=later)
        assert AuditEntry.objects.filter(
            action=AuditAction.DENIED, actor=refused, object_type="alert"
        ).exists()
    services.tick(now=later)
    assert "nation" not in [m.label for m in _messages(alert)]

    with django_capture_on_commit_callbacks(execute=True):
        services.approve_national(acting_user=people["province2"], alert_id=alert.pk, now=later)
    sent = _messages(alert)
    assert sent[-1].label == "nation" and sent[-1].reached == _expected("nation")
    doc = _cap(sent[-1])
    assert len(doc.findtext("cap:references", namespaces=NS).split()) == 3
    with pytest.raises(ValidationFailed):
        services.approve_national(acting_user=make_user(Role.SUPERVISOR, "CN"), alert_id=alert.pk)


def test_a_regional_alert_never_reaches_the_nation(people, subscribers) -> None:
    t0 = timezone.now()
    alert = draft(people["investigator"], make_report(people["investigator"], now=t0))
    services.release_alert(acting_user=people["officer"], alert_id=alert.pk, now=t0)
    with pytest.raises(ValidationFailed) as excinfo:
        services.approve_national(acting_user=people["province"], alert_id=alert.pk)
    assert "scope" in excinfo.value.field_errors
    services.tick(now=t0 + dt.timedelta(hours=30))
    assert "nation" not in [m.label for m in _messages(alert)]


def test_the_approver_cannot_also_release(people) -> None:
    alert = draft(people["investigator"], make_report(people["investigator"]), scope="national")
    services.approve_national(acting_user=people["province"], alert_id=alert.pk)
    with pytest.raises(AccessDenied):
        services.release_alert(acting_user=people["province"], alert_id=alert.pk)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DRAFT and not alert.messages.exists()


def test_found_resolves_the_alert_and_withdraws_it_from_everyone_reached(
    people, subscribers, django_capture_on_commit_callbacks
) -> None:
    t0 = timezone.now()
    report = make_report(people["investigator"], minutes_ago=30, now=t0)
    alert = draft(people["investigator"], report)
    with django_capture_on_commit_callbacks(execute=True):
        services.release_alert(acting_user=people["officer"], alert_id=alert.pk, now=t0)
        services.tick(now=t0 + dt.timedelta(hours=1.1))
    assert services.public_photo(alert_id=alert.pk) is not None

    with django_capture_on_commit_callbacks(execute=True):
        change_missing_status(
            acting_user=people["investigator"], report_id=report.pk, status="found_alive"
        )
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and alert.closed_by == people["investigator"]
    withdrawal = _messages(alert)[-1]
    assert (withdrawal.msg_type, withdrawal.label) == ("Cancel", "cancel")
    assert withdrawal.reached == _expected("100km", "200km")
    doc = _cap(withdrawal)
    assert len(doc.findtext("cap:references", namespaces=NS).split()) == 2
    assert doc.find("cap:info/cap:resource", NS) is None
    assert doc.findtext("cap:info/cap:urgency", namespaces=NS) == "Past"
    assert services.current_message(alert) == withdrawal
    with pytest.raises(NotFound):
        services.public_photo(alert_id=alert.pk)
    facts = services.facts_of(alert)
    assert (facts.name, facts.description, facts.has_photo) == ("", "", False)
    # The record is kept: the photo, the report and every message are still there.
    assert alert.public_photo is not None and len(_messages(alert)) == 3
    assert AuditEntry.objects.filter(
        object_type="alert", object_id=str(alert.pk), details__status=["active", "resolved"]
    ).exists()
    # Ticks leave a closed alert alone.
    services.tick(now=t0 + dt.timedelta(hours=10))
    assert len(_messages(alert)) == 3


def test_withdrawing_the_report_cancels_and_a_draft_is_never_resolved(people) -> None:
    report = make_report(people["investigator"])
    alert = draft(people["investigator"], report)
    change_missing_status(
        acting_user=people["investigator"], report_id=report.pk, status="found_alive"
    )
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CANCELLED and not alert.messages.exists()

    other = make_report(people["investigator"], name="赵一鸣", sex="M")
    active = draft(people["investigator"], other)
    services.release_alert(acting_user=people["officer"], alert_id=active.pk)
    change_missing_status(
        acting_user=people["investigator"], report_id=other.pk, status="withdrawn"
    )
    active.refresh_from_db()
    assert active.status == AlertStatus.CANCELLED
    assert _messages(active)[-1].msg_type == "Cancel"


def test_alerts_expire_with_a_withdrawal(people, settings) -> None:
    settings.ALERTS = {**settings.ALERTS, "EXPIRE_AFTER_HOURS": 6}
    t0 = timezone.now()
    alert = draft(people["investigator"], make_report(people["investigator"], now=t0))
    services.release_alert(acting_user=people["officer"], alert_id=alert.pk, now=t0)
    alert.refresh_from_db()
    assert alert.expires_at == t0 + dt.timedelta(hours=6)
    assert _cap(_messages(alert)[0]).findtext("cap:info/cap:expires", namespaces=NS)
    result = services.tick(now=t0 + dt.timedelta(hours=6, seconds=1))
    assert result.expired == 1
    alert.refresh_from_db()
    assert alert.status == AlertStatus.EXPIRED and _messages(alert)[-1].msg_type == "Cancel"


def test_cancel_needs_a_duty_officer_and_a_reason(people) -> None:
    alert = draft(people["investigator"], make_report(people["investigator"]))
    services.release_alert(acting_user=people["officer"], alert_id=alert.pk)
    with pytest.raises(AccessDenied):
        services.cancel_alert(acting_user=people["investigator"], alert_id=alert.pk, note="x")
    with pytest.raises(ValidationFailed) as excinfo:
        services.cancel_alert(acting_user=people["officer"], alert_id=alert.pk, note="  ")
    assert "note" in excinfo.value.field_errors
    services.cancel_alert(acting_user=people["officer"], alert_id=alert.pk, note="Mistaken report")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CANCELLED and alert.close_note == "Mistaken report"
    with pytest.raises(ValidationFailed):
        services.cancel_alert(acting_user=people["officer"], alert_id=alert.pk, note="again")


@pytest.mark.parametrize(
    ("role", "code", "kind"),
    [
        (Role.INVESTIGATOR, JINNIU, OrganisationKind.PUBLIC_SECURITY),  # role cannot release
        (Role.SUPERVISOR, "510105", OrganisationKind.PUBLIC_SECURITY),  # another county
        (Role.SUPERVISOR, JINNIU, OrganisationKind.FORENSIC_LAB),  # not a police bureau
        (Role.DNA_TECHNICIAN, SICHUAN, OrganisationKind.FORENSIC_LAB),
    ],
)
def test_release_is_refused_and_audited_for_anyone_but_a_duty_officer(
    people, make_user, role: str, code: str, kind: str
) -> None:
    alert = draft(people["investigator"], make_report(people["investigator"]))
    user = make_user(role, code, kind)
    with pytest.raises(AccessDenied):
        services.release_alert(acting_user=user, alert_id=alert.pk)
    denied = AuditEntry.objects.get(action=AuditAction.DENIED, actor=user)
    assert (denied.object_type, denied.object_id) == ("alert", str(alert.pk))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DRAFT and not alert.messages.exists()


def test_release_lists_every_unmet_criterion_and_sends_nothing(people) -> None:
    report = make_report(people["investigator"], age=30, sex="M")
    alert = draft(people["investigator"], report, public_photo=None, public_description="")
    with pytest.raises(ValidationFailed) as excinfo:
        services.release_alert(acting_user=people["officer"], alert_id=alert.pk)
    message = " ".join(excinfo.value.field_errors["criteria"])
    assert "minor" in message and "photo" in message and "description" in message
    assert not AlertMessage.objects.exists()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DRAFT


def test_release_of_a_stale_alert_is_refused(people) -> None:
    report = make_report(people["investigator"], minutes_ago=80 * 60)
    alert = draft(people["investigator"], report)
    with pytest.raises(ValidationFailed) as excinfo:
        services.release_alert(acting_user=people["officer"], alert_id=alert.pk)
    assert "72" in " ".join(excinfo.value.field_errors["criteria"])


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"latitude": 35.0, "longitude": 140.0}, "latitude", "outside every division"),
        ({"latitude": 0.0, "longitude": 0.0}, "latitude", "outside every division"),
        ({"latitude": 39.92, "longitude": 116.44}, "latitude", "outside 金牛区"),
        ({"latitude": 30.7, "longitude": None}, "latitude", "both"),
        ({"latitude": float("nan"), "longitude": 104.0}, "latitude", "within"),
        ({"public_description": "红" * 340}, "public_description", "360"),
        ({"public_description": "bad\x07bell"}, "public_description", "control"),
        ({"danger_statement": "x" * 2001}, "danger_statement", "2000"),
        ({"scope": "galactic"}, "scope", "choice"),
    ],
)
def test_bad_drafts_are_refused_with_the_field_named(
    people, overrides: dict[str, Any], field: str, words: str
) -> None:
    report = make_report(people["investigator"])
    with pytest.raises(ValidationFailed) as excinfo:
        services.draft_alert(
            acting_user=people["investigator"],
            report_id=report.pk,
            data=complete_data(report, **overrides),
        )
    assert words in " ".join(excinfo.value.field_errors[field])
    assert not Alert.objects.exists()


def test_a_draft_needs_coordinates_from_the_report_or_the_officer(people) -> None:
    report = make_report(people["investigator"], coordinates=False)
    with pytest.raises(ValidationFailed) as excinfo:
        draft(people["investigator"], report)
    assert "coordinates" in " ".join(excinfo.value.field_errors["latitude"])
    lat, lon = seat(JINNIU)
    alert = draft(people["investigator"], report, latitude=lat, longitude=lon)
    assert (alert.latitude, alert.longitude) == (lat, lon)


def test_one_open_alert_per_report_and_only_for_the_missing(people) -> None:
    report = make_report(people["investigator"])
    first = draft(people["investigator"], report)
    with pytest.raises(ValidationFailed) as excinfo:
        draft(people["investigator"], report)
    assert str(first) in excinfo.value.message
    other = make_report(people["investigator"], name="赵一鸣", sex="M")
    someone_else = make_report(people["investigator"], name="陈晓梅")
    photo = someone_else.photos.get()
    with pytest.raises(ValidationFailed) as excinfo:
        draft(people["investigator"], other, public_photo=photo.uuid)
    assert "public_photo" in excinfo.value.field_errors
    change_missing_status(
        acting_user=people["investigator"], report_id=other.pk, status="withdrawn"
    )
    with pytest.raises(ValidationFailed):
        draft(people["investigator"], other)


def test_drafting_outside_the_jurisdiction_is_refused_and_audited(people, make_user) -> None:
    report = make_report(people["investigator"])
    outsider = make_user(Role.INVESTIGATOR, "510105")
    with pytest.raises(AccessDenied):
        draft(outsider, report)
    assert AuditEntry.objects.filter(action=AuditAction.DENIED, actor=outsider).exists()
    with pytest.raises(NotFound):
        services.draft_alert(
            acting_user=people["investigator"], report_id=10**12, data=services.AlertDraftData()
        )


def test_a_message_lost_in_a_crash_is_dispatched_by_the_next_tick_once(
    people, subscribers, django_capture_on_commit_callbacks
) -> None:
    t0 = timezone.now()
    alert = draft(people["investigator"], make_report(people["investigator"], now=t0))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.release_alert(acting_user=people["officer"], alert_id=alert.pk, now=t0)
    assert callbacks  # the hand-over waited for the commit … and the process died before it
    message = _messages(alert)[0]
    assert message.dispatched_at is None
    assert services.tick(now=t0 + dt.timedelta(seconds=10)).redispatched == 0  # grace period
    result = services.tick(now=t0 + dt.timedelta(minutes=2))
    assert result.redispatched == 1
    message.refresh_from_db()
    assert message.reached == _expected("100km")
    assert services.tick(now=t0 + dt.timedelta(minutes=3)).redispatched == 0
    # Handing the same message over again queues nothing twice.
    AlertMessage.objects.filter(pk=message.pk).update(dispatched_at=None)
    assert services.dispatch_message(message_id=message.pk) == 0
    assert notify.delivery_stats(alert.topic)["100km"]["queued"] == _expected("100km")


def test_sightings_land_in_the_case_with_distance_and_time(people) -> None:
    t0 = timezone.now()
    report = make_report(people["investigator"], minutes_ago=60, now=t0)
    alert = draft(people["investigator"], report)
    services.release_alert(acting_user=people["officer"], alert_id=alert.pk, now=t0)
    lat, lon = seat("510703")  # 涪城区, about 108 km away
    sighting = sightings.report_sighting(
        alert_id=alert.pk,
        data=sightings.SightingData(
            seen_at=t0 - dt.timedelta(minutes=15),
            description="A girl in a red hooded jacket at the bus station.",
            where=f"{lat}, {lon}",
            contact="13800000000",
        ),
        source_ip="203.0.113.9",
        now=t0,
    )
    assert sighting.case == alert.case and sighting.location_source == "coordinates"
    assert sighting.distance_km == pytest.approx(
        haversine_km(alert.latitude, alert.longitude, lat, lon), abs=0.01
    )
    assert sighting.hours_after == pytest.approx(0.75, abs=0.01)
    by_address = sightings.report_sighting(
        alert_id=alert.pk,
        data=sightings.SightingData(
            seen_at=t0, description="Same girl, I think.", where="四川省绵阳市涪城区临园路"
        ),
        source_ip="203.0.113.9",
        now=t0,
    )
    assert by_address.location_source == "address"
    assert by_address.distance_km == pytest.approx(sighting.distance_km, abs=0.5)
    note = CaseEvent.objects.filter(case=alert.case, summary__startswith=str(sighting)).get()
    assert "13800000000" not in note.summary and "km" in note.summary
    stored = Sighting.objects.get(pk=sighting.pk)
    assert stored.contact == "13800000000"
    listed = sightings.list_sightings(acting_user=people["investigator"], alert_id=alert.pk)
    assert {s.pk for s in listed} == {sighting.pk, by_address.pk}
    assert AuditEntry.objects.filter(
        action=AuditAction.READ, object_type="sighting", actor=people["investigator"]
    ).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"description": "  "}, "description"),
        ({"where": ""}, "where"),
        ({"where": "0, 0"}, "where"),
        ({"latitude": 30.0}, "where"),
        ({"seen_at": "future"}, "seen_at"),
        ({"seen_at": "before"}, "seen_at"),
        ({"contact": "x" * 201}, "contact"),
        ({"description": "nul\x00byte"}, "description"),
    ],
)
def test_bad_sightings_are_refused_and_nothing_is_stored(
    people, overrides: dict[str, Any], field: str
) -> None:
    t0 = timezone.now()
    alert = draft(people["investigator"], make_report(people["investigator"], now=t0))
    services.release_alert(acting_user=people["officer"], alert_id=alert.pk, now=t0)
    values: dict[str, Any] = {"seen_at": t0, "description": "Seen her.", "where": "金牛区"}
    values.update(overrides)
    if values["seen_at"] == "future":
        values["seen_at"] = t0 + dt.timedelta(hours=1)
    elif values["seen_at"] == "before":
        values["seen_at"] = t0 - dt.timedelta(days=1)
    with pytest.raises(ValidationFailed) as excinfo:
        sightings.report_sighting(
            alert_id=alert.pk, data=sightings.SightingData(**values), source_ip="198.51.100.1"
        )
    assert field in excinfo.value.field_errors
    assert not Sighting.objects.exists()


def test_a_closed_or_unreleased_alert_takes_no_sighting(people) -> None:
    alert = draft(people["investigator"], make_report(people["investigator"]))
    data = sightings.SightingData(seen_at=timezone.now(), description="x", where="金牛区")
    with pytest.raises(NotFound):
        sightings.report_sighting(alert_id=alert.pk, data=data, source_ip=None)
    services.release_alert(acting_user=people["officer"], alert_id=alert.pk)
    services.cancel_alert(acting_user=people["officer"], alert_id=alert.pk, note="mistake")
    with pytest.raises(ValidationFailed) as excinfo:
        sightings.report_sighting(alert_id=alert.pk, data=data, source_ip=None)
    assert "110" in excinfo.value.message


def test_the_alert_list_is_scoped_to_the_jurisdiction(people, make_user) -> None:
    mine = draft(people["investigator"], make_report(people["investigator"]))
    qingyang = make_user(Role.INVESTIGATOR, "510105")
    theirs = draft(qingyang, make_report(qingyang, code="510105", name="王小红"))
    assert set(services.list_alerts(acting_user=people["investigator"])) == {mine}
    assert set(services.list_alerts(acting_user=people["province"])) == {mine, theirs}
    with pytest.raises(AccessDenied):
        services.get_alert(acting_user=qingyang, alert_id=mine.pk)
    technician = make_user(Role.DNA_TECHNICIAN, SICHUAN, OrganisationKind.FORENSIC_LAB)
    with pytest.raises(AccessDenied):
        services.list_alerts(acting_user=technician)


def test_the_tick_command_widens_what_is_due(people) -> None:
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    report = make_report(people["investigator"], minutes_ago=90)
    alert = draft(people["investigator"], report)
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)  # released 30 minutes after last seen
    services.release_alert(acting_user=people["officer"], alert_id=alert.pk, now=an_hour_ago)
    out = io.StringIO()
    call_command("alerts", "tick", stdout=out)
    assert out.getvalue().startswith("alerts tick: 1 widened (1 messages), 0 expired")
    assert [m.label for m in _messages(alert)] == ["100km", "200km"]
    with pytest.raises(CommandError):
        call_command("alerts", "tick", "--every", "-5")
