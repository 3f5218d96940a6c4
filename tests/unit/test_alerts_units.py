"""Alerts without a database: ring policy, criteria, the public-text gate, CAP 1.2, the map."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone, translation

from reunite.accounts.models import Division, DivisionLevel
from reunite.alerts import cap, criteria, geo, policy
from reunite.alerts.models import Alert, AlertStatus
from reunite.alerts.public import MAX_PUBLIC_TEXT, compose_text, public_facts, text_errors
from reunite.people.models import MissingPersonReport, MissingStatus

SHIPPED_EXAMPLES = Path("/work/shared/data/cap_examples")
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


# --------------------------------------------------------------------------- policy


def test_default_rings_are_the_tuanyuan_policy() -> None:
    rings = policy.parse_rings("0:100,1:200,2:300,3:500")
    assert [(r.after, r.radius_km) for r in rings] == [
        (dt.timedelta(hours=0), 100),
        (dt.timedelta(hours=1), 200),
        (dt.timedelta(hours=2), 300),
        (dt.timedelta(hours=3), 500),
    ]
    rules = policy.current()
    assert rules.rings == rings
    assert rules.region_after == dt.timedelta(hours=4)


@pytest.mark.parametrize(
    ("minutes", "radius"),
    [(0, 100), (59, 100), (60, 200), (119, 200), (150, 300), (180, 500), (60 * 30, 500)],
)
def test_ring_due_by_elapsed_time(minutes: int, radius: float) -> None:
    assert policy.ring_due(policy.current(), dt.timedelta(minutes=minutes)).radius_km == radius


@pytest.mark.parametrize(
    "text",
    ["", "1:100", "0:100,0:200", "0:100,1:50", "0:abc", "0-100", "0:100,1:99999", "0:-5"],
)
def test_bad_ring_lists_stop_the_deployment(text: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        policy.parse_rings(text)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("RINGS", "2:100"),
        ("REGION_AFTER_HOURS", 1),  # before the last ring (3 h)
        ("EXPIRE_AFTER_HOURS", 0),
        ("PUBLIC_BASE_URL", "alerts.example.org"),
        ("CAP_SENDER", "two words"),
    ],
)
def test_bad_settings_are_refused(settings, key: str, value: object) -> None:
    settings.ALERTS = {**settings.ALERTS, key: value}
    with pytest.raises(ImproperlyConfigured):
        policy.current()


def test_a_deployment_may_choose_its_own_rings(settings) -> None:
    settings.ALERTS = {**settings.ALERTS, "RINGS": "0:20,0.5:50", "REGION_AFTER_HOURS": 1}
    rules = policy.current()
    assert policy.ring_due(rules, dt.timedelta(minutes=40)).radius_km == 50
    assert rules.region_after == dt.timedelta(hours=1)


# --------------------------------------------------------------------------- criteria


def _division() -> Division:
    return Division(
        code="510106",
        name="金牛区",
        name_latin="JinNiuQu",
        level=DivisionLevel.COUNTY,
        path="/CN/510000/510100/510106/",
    )


def _report(**fields: object) -> MissingPersonReport:
    values: dict[str, object] = {
        "full_name": "林小雨",
        "name_pinyin": "lin xiao yu",
        "sex": "F",
        "age_at_disappearance": 7,
        "height_cm": 122,
        "last_seen_at": NOW - dt.timedelta(minutes=30),
        "last_seen_place": "万达广场北门",
        "status": MissingStatus.MISSING,
        **fields,
    }
    report = MissingPersonReport(**values)
    report.last_seen_division = _division()
    return report


def _alert(report: MissingPersonReport, **fields: object) -> Alert:
    values: dict[str, object] = {
        "abduction_or_danger": True,
        "danger_statement": "seen led away",
        "public_description": "红色连帽外套、蓝色牛仔裤、粉色书包，扎马尾辫",
        "latitude": 30.69,
        "longitude": 104.05,
        "last_seen_at": report.last_seen_at,
        "public_photo_id": 1,
        "status": AlertStatus.DRAFT,
        **fields,
    }
    alert = Alert(**values)
    alert.report = report
    return alert


def _unmet(report: MissingPersonReport, alert: Alert, now: dt.datetime = NOW) -> set[str]:
    results = criteria.check(report, alert, policy=policy.current(), now=now)
    assert [r.code for r in results] == [
        "person",
        "danger",
        "description",
        "photo",
        "recent",
        "missing",
    ]
    return {r.code for r in results if not r.met}


def test_a_complete_draft_about_a_child_meets_every_criterion() -> None:
    report = _report()
    assert _unmet(report, _alert(report)) == set()


def test_each_criterion_fails_on_its_own() -> None:
    adult_man = _report(sex="M", age_at_disappearance=30)
    assert _unmet(adult_man, _alert(adult_man, at_risk=True)) == {"person"}
    woman = _report(age_at_disappearance=24)
    assert _unmet(woman, _alert(woman)) == {"person"}
    assert _unmet(woman, _alert(woman, at_risk=True)) == set()
    unknown_age = _report(age_at_disappearance=None)
    assert _unmet(unknown_age, _alert(unknown_age)) == {"person"}
    report = _report()
    assert _unmet(report, _alert(report, abduction_or_danger=False)) == {"danger"}
    assert _unmet(report, _alert(report, danger_statement="  ")) == {"danger"}
    assert _unmet(report, _alert(report, public_description="红外套")) == {"description"}
    assert _unmet(report, _alert(report, public_photo_id=None)) == {"photo"}
    late = NOW + dt.timedelta(hours=73)
    assert _unmet(report, _alert(report), now=late) == {"recent"}
    found = _report(status=MissingStatus.FOUND_ALIVE)
    assert _unmet(found, _alert(found)) == {"missing"}


def test_age_comes_from_the_date_of_birth_when_there_is_one() -> None:
    report = _report(date_of_birth=dt.date(2008, 3, 2), age_at_disappearance=None)
    # 17 on the day last seen (2026-03-01): still a minor; a day later 18.
    assert criteria.age_when_last_seen(report, NOW) == 17
    assert criteria.age_when_last_seen(report, NOW + dt.timedelta(days=1)) == 18


# --------------------------------------------------------------------------- the public gate


def test_only_fields_marked_for_publication_reach_the_public_text() -> None:
    report = _report(distinguishing_marks="左眉上有疤痕")
    alert = _alert(report, publish_name=False, publish_height=False)
    facts = public_facts(alert, policy=policy.current())
    assert (facts.name, facts.name_latin, facts.height_cm, facts.marks) == ("", "", None, "")
    with translation.override("en"):
        text = compose_text(facts)
    assert "林小雨" not in text and "Lin Xiao Yu" not in text
    assert "122" not in text and "疤痕" not in text
    assert "7" in text and "红色连帽外套" in text
    alert.publish_marks = True
    with translation.override("en"):
        assert "疤痕" in compose_text(public_facts(alert, policy=policy.current()))


def test_a_closed_alert_publishes_nothing_about_the_person() -> None:
    report = _report()
    alert = _alert(report, status=AlertStatus.RESOLVED)
    facts = public_facts(alert, policy=policy.current())
    assert (facts.name, facts.description, facts.place, facts.has_photo) == ("", "", "", False)
    with translation.override("en"):
        text = compose_text(facts)
    assert "found" in text and "林小雨" not in text


def test_the_public_text_must_fit_360_characters_in_each_language() -> None:
    report = _report()
    fits = _alert(report)
    assert text_errors(public_facts(fits, policy=policy.current())) == []
    too_long = _alert(report, public_description="红" * 330)
    errors = text_errors(public_facts(too_long, policy=policy.current()))
    assert errors
    assert all(str(MAX_PUBLIC_TEXT) in e for e in errors)


# --------------------------------------------------------------------------- CAP 1.2


def _message(**overrides: object) -> cap.Message:
    info = cap.Info(
        language="zh-CN",
        event="Child Abduction",
        headline="紧急寻人",
        description="描述",
        instruction="拨打110",
        sender_name="金牛区公安分局",
        web="https://alerts.example.org/alerts/1/",
        contact="110",
        expires=NOW + dt.timedelta(hours=72),
        areas=(
            cap.Area(description="100 km", circle=(30.69436, 104.05024, 100)),
            cap.Area(description="四川省", geocode=("GB/T 2260", "510000")),
        ),
        resources=(
            cap.Resource("photo", "image/png", "https://alerts.example.org/alerts/1/photo"),
        ),
        event_code=("SAME", "CAE"),
    )
    values: dict[str, object] = {
        "identifier": "reunite-abc-2",
        "sender": "alerts@example.org",
        "sent": NOW,
        "msg_type": "Update",
        "infos": (info, info.__class__(**{**info.__dict__, "language": "en-US"})),
        "references": (cap.Reference("alerts@example.org", "reunite-abc-1", NOW),),
        **overrides,
    }
    return cap.Message(**values)  # type: ignore[arg-type]


def test_built_documents_validate_against_the_oasis_schema() -> None:
    text = cap.build(_message())
    cap.validate(text)  # build validates too; this checks the returned text itself
    assert "<circle>30.69436,104.05024 100</circle>" in text
    assert text.count("<info>") == 2
    with timezone.override("Asia/Shanghai"):
        expected = "alerts@example.org,reunite-abc-1,2026-03-01T20:00:00+08:00"
        assert f"<references>{expected}</references>" in cap.build(_message())


def test_the_schema_refuses_what_cap_does_not_allow() -> None:
    with pytest.raises(cap.InvalidCap):
        cap.build(_message(msg_type="Withdraw"))
    with pytest.raises(cap.InvalidCap):
        cap.validate(b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'/>")
    with pytest.raises(cap.InvalidCap):
        cap.validate("not xml at all <")


def test_the_shipped_schema_is_the_oasis_one() -> None:
    shipped = cap.SCHEMA_PATH.read_bytes()
    assert b"Copyright OASIS Open 2010" in shipped
    reference = SHIPPED_EXAMPLES / "cap12.xsd"
    if reference.exists():
        assert shipped == reference.read_bytes()
        cap.validate((SHIPPED_EXAMPLES / "v1dot2_appendix_adot4.xml").read_bytes())


def test_cap_times_have_an_offset_and_whole_seconds() -> None:
    moment = dt.datetime(2026, 3, 1, 4, 5, 6, 789, tzinfo=dt.UTC)
    with timezone.override("Asia/Shanghai"):
        assert cap.cap_time(moment) == "2026-03-01T12:05:06+08:00"


# --------------------------------------------------------------------------- the map


def test_the_map_projection_round_trips_and_fits_the_widest_ring() -> None:
    view = geo.map_view(
        latitude=30.69,
        longitude=104.05,
        rings=[(100.0, "100km", True), (200.0, "200km", False)],
        points=[(30.9, 104.3, "S-1"), (45.0, 80.0, "S-2")],
    )
    widest = view.rings[0]
    assert widest.radius_km == 200 and not widest.issued
    assert widest.radius_px < view.size / 2  # fits, with a margin
    near, far = view.dots
    assert near.inside and not far.inside
    lat, lon = geo.point_at(view, near.x, near.y)
    assert lat == pytest.approx(30.9, abs=1e-6) and lon == pytest.approx(104.3, abs=1e-6)
    assert view.scale_km in (20, 25, 50, 100)
    assert view.scale_px == pytest.approx(view.scale_km / view.km_per_px)
