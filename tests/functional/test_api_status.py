"""The status endpoints of the JSON API, through Django's full HTTP stack (real database)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory

from reunite.accounts.models import OrganisationKind, Role, User
from reunite.audit.models import AuditAction, AuditEntry
from reunite.cases.models import Case, CaseEvent, CaseEventKind
from reunite.people.models import FoundPerson, MissingPersonReport
from reunite.people.services import (
    FoundPersonData,
    MissingReportData,
    create_found_person,
    create_missing_report,
)
from tests.conftest import days_ago, division

pytestmark = pytest.mark.django_db

NOTE = "李芳 saw her at the station; call 13800000000"


@pytest.fixture(autouse=True)
def _static_root(settings: Any) -> None:
    # WhiteNoise warns (an error under our warning filter) when STATIC_ROOT does not exist yet.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def new_report(user: User, code: str = "110105") -> MissingPersonReport:
    return create_missing_report(
        acting_user=user,
        data=MissingReportData(
            full_name="王小红",
            sex="F",
            last_seen_at=days_ago(2),
            last_seen_division=division(code),
            age_at_disappearance=12,
        ),
        confirm_not_duplicate=True,
    )


def new_person(user: User, code: str = "110105") -> FoundPerson:
    return create_found_person(
        acting_user=user,
        data=FoundPersonData(
            category="street_begging",
            sex="M",
            found_on=days_ago(3).date(),
            found_division=division(code),
            age_min=8,
            age_max=10,
        ),
        confirm_not_duplicate=True,
    )


def signed_in(user: User, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def send(client: Client, url: str, body: Any, **extra: Any) -> Any:
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data=raw, content_type="application/json", **extra)


def missing_url(pk: object) -> str:
    return f"/api/missing-reports/{pk}/status"


def found_url(pk: object) -> str:
    return f"/api/found-persons/{pk}/status"


def state() -> tuple[list[str], list[str], int, int]:
    """Every status, and how many status events and audited updates there are."""
    return (
        list(MissingPersonReport.objects.order_by("pk").values_list("status", flat=True)),
        list(FoundPerson.objects.order_by("pk").values_list("status", flat=True)),
        CaseEvent.objects.filter(kind=CaseEventKind.STATUS).count(),
        AuditEntry.objects.filter(action=AuditAction.UPDATE).count(),
    )


@pytest.fixture
def api(investigator: User) -> Client:
    return signed_in(investigator)


@pytest.fixture
def report(investigator: User) -> MissingPersonReport:
    return new_report(investigator)


@pytest.fixture
def person(investigator: User) -> FoundPerson:
    return new_person(investigator)


# --------------------------------------------------------------------------- happy paths


def test_a_report_is_found_then_reopened(api: Client, report: MissingPersonReport) -> None:
    case = Case.objects.get(missing_report=report)
    Case.objects.filter(pk=case.pk).update(status="investigating")
    found = send(api, missing_url(report.pk), {"status": "found_deceased", "note": NOTE})
    assert found.status_code == 200, found.content
    body = found.json()
    assert body["id"] == report.pk and body["status"] == "found_deceased"
    assert body["case"] == {"id": case.pk, "number": case.number}
    assert body == api.get(f"/api/missing-reports/{report.pk}").json() | {
        "updated_at": body["updated_at"]
    }
    assert Case.objects.get(pk=case.pk).status == "solved"
    timeline = api.get(f"/api/cases/{case.pk}").json()
    assert [e["summary"] for e in timeline["events"] if e["kind"] == "status"] == [
        f"MP-{report.pk}: missing → found_deceased\n{NOTE}",
        "investigating → solved",
    ]
    assert timeline["status"] == "solved"

    reopened = send(api, missing_url(report.pk), {"status": "missing", "note": "Not her."})
    assert reopened.status_code == 200, reopened.content
    assert reopened.json()["status"] == "missing"
    details = [
        e.details
        for e in AuditEntry.objects.filter(
            action=AuditAction.UPDATE, object_type="missing_report"
        ).order_by("pk")
    ]
    assert details == [
        {"status": ["missing", "found_deceased"], "note": True},
        {"status": ["found_deceased", "missing"], "note": True},
    ]
    for entry in AuditEntry.objects.all():
        text = json.dumps(entry.details, ensure_ascii=False)
        assert "李芳" not in text and "13800000000" not in text and "Not her" not in text


def test_a_found_person_is_identified_and_returned_home(api: Client, person: FoundPerson) -> None:
    identified = send(api, found_url(person.pk), {"status": "identified"})
    assert identified.status_code == 200, identified.content
    assert identified.json()["status"] == "identified"
    assert identified.json()["id"] == person.pk
    home = send(api, found_url(person.pk), {"status": "returned_home", "note": ""})
    assert home.status_code == 200
    assert FoundPerson.objects.get(pk=person.pk).status == "returned_home"


# --------------------------------------------------------------------------- refusals


def test_a_refused_transition_is_422(api: Client, report: MissingPersonReport) -> None:
    MissingPersonReport.objects.filter(pk=report.pk).update(status="withdrawn")
    before = state()
    response = send(api, missing_url(report.pk), {"status": "found_alive"})
    assert response.status_code == 422
    assert response.json()["errors"]["status"] == [
        "A record that is “Report withdrawn” cannot become “Found alive”."
    ]
    assert state() == before


def test_reopening_without_a_note_is_422(api: Client, person: FoundPerson) -> None:
    FoundPerson.objects.filter(pk=person.pk).update(status="identified")
    before = state()
    response = send(api, found_url(person.pk), {"status": "unidentified", "note": " "})
    assert response.status_code == 422
    assert response.json()["errors"] == {"note": ["Say why the record is reopened."]}
    assert state() == before


def test_other_jurisdiction_is_403_and_audited(
    report: MissingPersonReport, person: FoundPerson, make_user: Callable[..., User]
) -> None:
    haidian = make_user(Role.INVESTIGATOR, "110108")
    client = signed_in(haidian)
    before = state()
    assert send(client, missing_url(report.pk), {"status": "withdrawn"}).status_code == 403
    assert send(client, found_url(person.pk), {"status": "identified"}).status_code == 403
    denied = AuditEntry.objects.filter(action=AuditAction.DENIED, actor=haidian).order_by("pk")
    assert [(e.object_type, e.object_id) for e in denied] == [
        ("missing_report", str(report.pk)),
        ("found_person", str(person.pk)),
    ]
    assert state() == before


def test_a_partner_may_not_change_a_report_but_may_change_a_found_person(
    report: MissingPersonReport, person: FoundPerson, make_user: Callable[..., User]
) -> None:
    partner = make_user(Role.PARTNER_WELFARE, "110105", OrganisationKind.WELFARE_INSTITUTION)
    client = signed_in(partner)
    refused = send(client, missing_url(report.pk), {"status": "withdrawn"})
    assert refused.status_code == 403
    assert refused.json()["detail"]
    assert AuditEntry.objects.filter(
        action=AuditAction.DENIED, actor=partner, object_type="missing_report"
    ).exists()
    assert MissingPersonReport.objects.get(pk=report.pk).status == "missing"
    assert send(client, found_url(person.pk), {"status": "identified"}).status_code == 200


def test_anonymous_callers_are_401(report: MissingPersonReport, person: FoundPerson) -> None:
    before = state()
    assert send(Client(), missing_url(report.pk), {"status": "withdrawn"}).status_code == 401
    assert send(Client(), found_url(person.pk), {"status": "identified"}).status_code == 401
    assert state() == before


# --------------------------------------------------------------------------- hostile input

HUGE = "x" * 10**6

BAD_BODIES = [
    pytest.param({"status": "lost"}, "status", id="unknown-status"),
    pytest.param({"status": "FOUND_ALIVE"}, "status", id="status-wrong-case"),
    pytest.param({"status": ""}, "status", id="blank-status"),
    pytest.param({"status": None}, "status", id="null-status"),
    pytest.param({"status": 1}, "status", id="status-not-string"),
    pytest.param({"note": "why"}, "status", id="no-status"),
    pytest.param({"status": "withdrawn", "reason": "x"}, "reason", id="extra-field"),
    pytest.param({"status": "withdrawn", "case_status": "closed"}, "case_status", id="extra-case"),
    pytest.param({"status": "withdrawn", "note": HUGE}, "note", id="huge-note"),
    pytest.param({"status": "withdrawn", "note": "x" * 2001}, "note", id="note-2001"),
    pytest.param({"status": "withdrawn", "note": 42}, "note", id="note-not-string"),
    pytest.param({"status": "withdrawn", "note": ["a"]}, "note", id="note-list"),
    pytest.param({"status": "withdrawn", "note": "a\x00b"}, "note", id="nul-in-note"),
    pytest.param({"status": "withdrawn", "note": "\ud800"}, "note", id="lone-surrogate"),
    pytest.param(["withdrawn"], "body", id="array-body"),
    pytest.param("{", "body", id="truncated-json"),
    pytest.param('{"status": NaN}', "body", id="nan"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_bad_bodies_are_refused_and_change_nothing(
    api: Client, report: MissingPersonReport, person: FoundPerson, body: Any, field: str
) -> None:
    before = state()
    response = send(api, missing_url(report.pk), body)
    assert response.status_code == 422, response.content
    assert response.json()["detail"]
    assert field in response.json()["errors"], response.json()
    found_body = (
        {**body, "status": "identified"}
        if isinstance(body, dict) and body.get("status") == "withdrawn"
        else body
    )
    response = send(api, found_url(person.pk), found_body)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"], response.json()
    assert state() == before


def test_a_note_of_2000_characters_is_accepted(api: Client, report: MissingPersonReport) -> None:
    response = send(api, missing_url(report.pk), {"status": "withdrawn", "note": "备" * 2000})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("ident", "status"),
    [
        ("999999", 404),
        ("abc", 422),
        ("-1", 422),
        ("0", 422),
        ("1.5", 422),
        (str(2**63), 422),
        ("9" * 40, 422),
    ],
)
def test_bad_or_unknown_ids(api: Client, ident: str, status: int) -> None:
    for url, body in (
        (missing_url(ident), {"status": "withdrawn"}),
        (found_url(ident), {"status": "identified"}),
    ):
        response = send(api, url, body)
        assert response.status_code == status, (url, response.content)
        assert response.json()["detail"]


def test_the_csrf_token_is_required(
    investigator: User, report: MissingPersonReport, person: FoundPerson
) -> None:
    client = signed_in(investigator, enforce_csrf_checks=True)
    before = state()
    for url, body in (
        (missing_url(report.pk), {"status": "withdrawn"}),
        (found_url(person.pk), {"status": "identified"}),
    ):
        refused = send(client, url, body)
        assert refused.status_code == 403
        assert "CSRF" in refused.json()["detail"]
    assert state() == before
    request = RequestFactory().get("/")
    token = get_token(request)
    client.cookies[django_settings.CSRF_COOKIE_NAME] = request.META["CSRF_COOKIE"]
    wrong = send(client, missing_url(report.pk), {"status": "withdrawn"}, HTTP_X_CSRFTOKEN="x" * 32)
    assert wrong.status_code == 403
    assert state() == before
    accepted = send(client, missing_url(report.pk), {"status": "withdrawn"}, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200, accepted.content
    assert MissingPersonReport.objects.get(pk=report.pk).status == "withdrawn"


def test_the_openapi_documents_the_status_endpoints() -> None:
    spec = Client().get("/api/openapi.json").json()
    for path, schema in (
        ("/api/missing-reports/{report_id}/status", "MissingStatusChange"),
        ("/api/found-persons/{person_id}/status", "FoundStatusChange"),
    ):
        post = spec["paths"][path]["post"]
        assert {"200", "401", "403", "404", "422"} <= set(post["responses"])
        component = spec["components"]["schemas"][schema]
        assert component["additionalProperties"] is False
        assert component["properties"]["note"]["maxLength"] == 2000
        assert component["required"] == ["status"]
