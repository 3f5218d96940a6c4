"""The read-only JSON API of cases, and the dashboard counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from reunite.accounts.models import Role, User
from reunite.audit.models import AuditEntry
from reunite.cases.api import CaseStatusFilter
from reunite.cases.models import Case, CaseStatus
from reunite.cases.services import ACTIVE
from reunite.people.models import MissingPersonReport
from reunite.people.services import MissingReportData, create_missing_report
from tests.conftest import days_ago, division

pytestmark = pytest.mark.django_db

URL = "/api/cases"
CHAOYANG, HAIDIAN = "110105", "110108"


@pytest.fixture(autouse=True)
def _static_root(settings: Any) -> None:
    # WhiteNoise warns (an error under our warning filter) when STATIC_ROOT does not exist yet.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def report_by(user: User, name: str = "陈静", code: str = CHAOYANG) -> MissingPersonReport:
    data = MissingReportData(
        full_name=name,
        sex="F",
        last_seen_at=days_ago(4),
        last_seen_division=division(code),
        age_at_disappearance=14,
    )
    return create_missing_report(acting_user=user, data=data)


def denied(object_id: object = "") -> int:
    return AuditEntry.objects.filter(
        action="denied", object_type="case", object_id=str(object_id)
    ).count()


def test_list_and_read_a_case_with_its_timeline(investigator: User) -> None:
    report = report_by(investigator)
    case = Case.objects.get(missing_report=report)
    api = signed_in(investigator)

    body = {
        "full_name": "陈静",
        "sex": "F",
        "last_seen_at": days_ago(4).isoformat(),
        "last_seen_division": CHAOYANG,
        "age_at_disappearance": 14,
        "height_cm": 150,
    }
    edited = api.put(
        f"/api/missing-reports/{report.pk}", json.dumps(body), content_type="application/json"
    )
    assert edited.status_code == 200, edited.content

    page = api.get(URL)
    assert page.status_code == 200
    assert page.json()["count"] == 1
    [item] = page.json()["items"]
    assert item["id"] == case.pk
    assert item["number"] == case.number
    assert (item["case_type"], item["status"]) == ("missing_person", "open")
    assert item["division"] == {"code": CHAOYANG, "name": "朝阳区", "full_name": "北京市 朝阳区"}
    assert item["missing_report"] == report.pk

    got = api.get(f"{URL}/{case.pk}")
    assert got.status_code == 200
    detail = got.json()
    assert detail["number"] == case.number
    assert detail["investigators"] == [investigator.username]
    assert detail["missing_report"] == report.pk
    assert detail["owning_unit"]["id"] == investigator.organisation_id
    assert detail["division"]["code"] == CHAOYANG
    assert detail["closed_at"] is None
    assert [e["kind"] for e in detail["events"]] == ["opened", "report_updated"]
    assert {e["actor"] for e in detail["events"]} == {investigator.username}
    assert "height_cm" in detail["events"][1]["summary"]
    assert "陈静" not in got.content.decode()
    assert AuditEntry.objects.filter(
        action="read", object_type="case", object_id=str(case.pk)
    ).exists()


def test_filters_and_pagination(investigator: User) -> None:
    first = report_by(investigator, "陈一")
    report_by(investigator, "王二")
    Case.objects.filter(missing_report=first).update(status=CaseStatus.SOLVED)
    api = signed_in(investigator)
    assert api.get(URL, {"status": "solved"}).json()["count"] == 1
    assert api.get(URL, {"status": "active"}).json()["count"] == 1
    assert api.get(URL, {"status": "closed"}).json()["count"] == 0
    assert api.get(URL, {"case_type": "missing_person"}).json()["count"] == 2
    assert api.get(URL, {"case_type": "trafficking"}).json()["count"] == 0
    page = api.get(URL, {"limit": 1, "offset": 1}).json()
    assert (page["count"], len(page["items"])) == (2, 1)


def test_status_filter_offers_every_status_and_active() -> None:
    assert {s.value for s in CaseStatusFilter} == {*CaseStatus.values, ACTIVE}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 10**9}, "limit"),
        ({"offset": -1}, "offset"),
        ({"status": "archived"}, "status"),
        ({"case_type": "theft"}, "case_type"),
        ({"division": CHAOYANG}, "division"),
    ],
)
def test_bad_query_parameters(investigator: User, params: dict[str, Any], field: str) -> None:
    response = signed_in(investigator).get(URL, params)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]


def test_wrong_role_is_refused_and_audited(investigator: User, make_user: Any) -> None:
    case = Case.objects.get(missing_report=report_by(investigator))
    partner = signed_in(make_user(Role.PARTNER_WELFARE, CHAOYANG))
    listing = partner.get(URL)
    assert listing.status_code == 403
    assert listing.json()["detail"]
    assert denied() == 1
    assert partner.get(f"{URL}/{case.pk}").status_code == 403
    assert denied(case.pk) == 1


def test_other_jurisdiction_is_refused_and_audited(investigator: User, make_user: Any) -> None:
    case = Case.objects.get(missing_report=report_by(investigator))
    haidian = signed_in(make_user(Role.INVESTIGATOR, HAIDIAN))
    assert haidian.get(URL).json()["count"] == 0
    assert haidian.get(f"{URL}/{case.pk}").status_code == 403
    assert denied(case.pk) == 1
    supervisor = signed_in(make_user(Role.SUPERVISOR, "110000"))
    assert supervisor.get(f"{URL}/{case.pk}").status_code == 200


@pytest.mark.parametrize(
    ("ident", "status"), [("31337", 404), ("case-1", 422), ("0", 422), (str(2**63), 422)]
)
def test_bad_or_missing_ids(investigator: User, ident: str, status: int) -> None:
    response = signed_in(investigator).get(f"{URL}/{ident}")
    assert response.status_code == status
    assert response.json()["detail"]


# --------------------------------------------------------------------------- dashboard


def test_dashboard_counts_within_role_and_jurisdiction(investigator: User, make_user: Any) -> None:
    report_by(investigator, "陈一")
    report_by(investigator, "王二")
    report_by(make_user(Role.INVESTIGATOR, HAIDIAN), "李三", HAIDIAN)

    counts = signed_in(investigator).get("/api/dashboard")
    assert counts.status_code == 200
    assert counts.json() == {
        "missing_open": 2,
        "missing_found": 0,
        "missing_recent": 2,
        "found_unidentified": 0,
        "found_identified": 0,
        "cases_open": 2,
    }
    city = signed_in(make_user(Role.SUPERVISOR, "110000")).get("/api/dashboard").json()
    assert (city["missing_open"], city["cases_open"]) == (3, 3)
    partner = signed_in(make_user(Role.PARTNER_WELFARE, CHAOYANG)).get("/api/dashboard").json()
    assert partner == {
        "missing_open": None,
        "missing_found": None,
        "missing_recent": None,
        "found_unidentified": 0,
        "found_identified": 0,
        "cases_open": None,
    }
