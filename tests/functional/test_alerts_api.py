"""The alerts JSON API through Django's full HTTP stack: the same actions as the pages, strict
input, and the same refusals (403 audited, 404, 422 per field)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from reunite.accounts.models import Role, User
from reunite.alerts import services, sightings
from reunite.alerts.models import Alert, AlertStatus
from reunite.audit.models import AuditAction, AuditEntry
from tests.alerts_support import DESCRIPTION, JINNIU, SICHUAN, make_report

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _setup(settings: Any) -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def send(client: Client, url: str, body: Any, method: str = "post") -> Any:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return getattr(client, method)(url, data=raw, content_type="application/json")


@pytest.fixture
def team(make_user) -> dict[str, User]:
    return {
        "investigator": make_user(Role.INVESTIGATOR, JINNIU),
        "officer": make_user(Role.SUPERVISOR, JINNIU),
        "province": make_user(Role.SUPERVISOR, SICHUAN),
    }


def body_for(report: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "report": report.pk,
        "abduction_or_danger": True,
        "danger_statement": "Seen led away.",
        "public_description": DESCRIPTION,
        "public_photo": str(report.photos.get().uuid),
        **overrides,
    }


def fields_of(report: Any) -> dict[str, Any]:
    """The fields of a draft as PUT replaces them (no report: a draft keeps its report)."""
    return {k: v for k, v in body_for(report).items() if k != "report"}


def test_draft_release_read_and_cancel(team) -> None:
    report = make_report(team["investigator"])
    investigator = signed_in(team["investigator"])
    created = send(investigator, "/api/alerts", body_for(report, scope="national"))
    assert created.status_code == 201, created.content
    alert = created.json()
    assert alert["status"] == "draft" and alert["criteria_met"] is True
    assert alert["public_url"] is None and alert["messages"] == []
    assert all(len(text) <= 360 for text in alert["public_texts"].values())
    assert set(alert["public_texts"]) == {"zh-CN", "en-US"}
    url = f"/api/alerts/{alert['id']}"

    changed = send(
        investigator, url, {**fields_of(report), "scope": "national", "publish_name": False}, "put"
    )
    assert changed.status_code == 200 and changed.json()["publish_name"] is False
    assert "林小雨" not in json.dumps(changed.json()["public_texts"], ensure_ascii=False)

    denied = send(investigator, f"{url}/release", {})
    assert denied.status_code == 403 and denied.json()["detail"]
    released = send(signed_in(team["officer"]), f"{url}/release", {})
    assert released.status_code == 200, released.content
    body = released.json()
    assert body["status"] == "active" and body["released_by"] == team["officer"].username
    assert [m["ring"] for m in body["messages"]] == ["100km"]
    assert body["messages"][0]["msg_type"] == "Alert"
    assert body["cap_url"].endswith(f"/alerts/{alert['id']}/cap.xml")

    approved = send(signed_in(team["province"]), f"{url}/approve-national", {})
    assert approved.status_code == 200 and approved.json()["national_approved_by"]
    put_again = send(investigator, url, fields_of(report), "put")
    assert put_again.status_code == 422 and "status" in put_again.json()["errors"]

    listed = investigator.get("/api/alerts?status=active")
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()["items"]] == [alert["id"]]

    cancelled = send(signed_in(team["officer"]), f"{url}/cancel", {"note": "Test"})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert [m["msg_type"] for m in cancelled.json()["messages"]] == ["Alert", "Cancel"]


def test_sightings_through_the_api(team, make_user) -> None:
    report = make_report(team["investigator"])
    alert = Alert.objects.get(
        pk=send(signed_in(team["investigator"]), "/api/alerts", body_for(report)).json()["id"]
    )
    services.release_alert(acting_user=team["officer"], alert_id=alert.pk)
    sightings.report_sighting(
        alert_id=alert.pk,
        data=sightings.SightingData(
            seen_at=alert.last_seen_at, description="seen", where="金牛区", contact="x@y.cn"
        ),
        source_ip=None,
    )
    api = signed_in(team["investigator"])
    listed = api.get(f"/api/alerts/{alert.pk}/sightings")
    assert listed.status_code == 200
    [sighting] = listed.json()
    assert sighting["contact"] == "x@y.cn" and sighting["location_source"] == "address"
    triaged = send(api, f"/api/alerts/sightings/{sighting['id']}/status", {"status": "credible"})
    assert triaged.status_code == 200 and triaged.json()["status"] == "credible"
    bad = send(api, f"/api/alerts/sightings/{sighting['id']}/status", {"status": "maybe"})
    assert bad.status_code == 422
    assert api.get("/api/alerts/999999/sightings").status_code == 404
    stranger = signed_in(make_user(Role.INVESTIGATOR, "510105"))
    assert stranger.get(f"/api/alerts/{alert.pk}/sightings").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"report": "1"}, "report"),
        ({"report": 0}, "report"),
        ({"report": 2**64}, "report"),
        ({"surprise": True}, "surprise"),
        ({"abduction_or_danger": "yes"}, "abduction_or_danger"),
        ({"public_description": "x" * 1001}, "public_description"),
        ({"public_description": "nul\u0000"}, "public_description"),
        ({"latitude": 91.0}, "latitude"),
        ({"longitude": "104"}, "longitude"),
        ({"scope": "galactic"}, "scope"),
        ({"public_photo": "not-a-uuid"}, "public_photo"),
    ],
)
def test_hostile_drafts_are_refused_per_field(team, body: dict[str, Any], field: str) -> None:
    report = make_report(team["investigator"])
    response = send(signed_in(team["investigator"]), "/api/alerts", {**body_for(report), **body})
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert not Alert.objects.exists()


def test_rules_come_back_as_field_errors(team) -> None:
    report = make_report(team["investigator"])
    api = signed_in(team["investigator"])
    outside = send(api, "/api/alerts", body_for(report, latitude=39.92, longitude=116.44))
    assert outside.status_code == 422 and "latitude" in outside.json()["errors"]
    too_long = send(api, "/api/alerts", body_for(report, public_description="红" * 340))
    assert too_long.status_code == 422
    assert "360" in " ".join(too_long.json()["errors"]["public_description"])
    unknown = send(api, "/api/alerts", {**body_for(report), "report": 10**12})
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/alerts/0", None),
        ("get", "/api/alerts/99999999999999999999", None),
        ("get", "/api/alerts/abc", None),
        ("post", "/api/alerts/1/release", "{not json"),
        ("post", "/api/alerts/1/cancel", {"note": ""}),
        ("post", "/api/alerts/1/cancel", {"note": "x", "extra": 1}),
        ("get", "/api/alerts?status=sleeping", None),
        ("get", "/api/alerts?colour=red", None),
        ("get", "/api/alerts?limit=100000", None),
    ],
)
def test_hostile_requests_get_a_clear_4xx(team, method: str, url: str, body: Any) -> None:
    api = signed_in(team["officer"])
    response = getattr(api, method)(url) if body is None else send(api, url, body, method)
    assert 400 <= response.status_code < 500, (url, response.status_code)
    assert response.json()["detail"]


def test_unknown_alerts_and_strangers(client: Client, team, make_user) -> None:
    assert client.get("/api/alerts").status_code == 401
    api = signed_in(team["officer"])
    assert api.get("/api/alerts/424242").status_code == 404
    assert send(api, "/api/alerts/424242/release", {}).status_code == 404
    report = make_report(team["investigator"])
    created = send(signed_in(team["investigator"]), "/api/alerts", body_for(report)).json()
    stranger = signed_in(make_user(Role.SUPERVISOR, "510105"))
    assert stranger.get(f"/api/alerts/{created['id']}").status_code == 403
    assert send(stranger, f"/api/alerts/{created['id']}/release", {}).status_code == 403
    assert AuditEntry.objects.filter(action=AuditAction.DENIED, object_type="alert").count() == 2
    assert Alert.objects.get().status == AlertStatus.DRAFT
