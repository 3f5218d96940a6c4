"""What every endpoint of the JSON API shares: OpenAPI, authentication, CSRF, request limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from reunite.accounts.models import Role, User
from reunite.cases.models import Case
from reunite.people.models import FoundPerson, MissingPersonReport, PersonPhoto
from reunite.people.services import (
    FoundPersonData,
    MissingReportData,
    add_missing_report_photos,
    create_found_person,
    create_missing_report,
)
from tests.conftest import days_ago, division, png_bytes

pytestmark = pytest.mark.django_db

CHAOYANG = "110105"


@pytest.fixture(autouse=True)
def _static_root(settings: Any) -> None:
    # WhiteNoise warns (an error under our warning filter) when STATIC_ROOT does not exist yet.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def missing_body(**overrides: Any) -> dict[str, Any]:
    return {
        "full_name": "周梅",
        "sex": "F",
        "last_seen_at": days_ago(1).isoformat(),
        "last_seen_division": CHAOYANG,
        "age_at_disappearance": 7,
        **overrides,
    }


def found_body() -> dict[str, Any]:
    return {
        "category": "undocumented_child",
        "sex": "M",
        "found_on": days_ago(1).date().isoformat(),
        "found_division": CHAOYANG,
        "age_min": 3,
        "age_max": 5,
    }


@pytest.fixture
def records(investigator: User, photo_upload: Any) -> dict[str, Any]:
    report = create_missing_report(
        acting_user=investigator,
        data=MissingReportData(
            full_name="周梅",
            sex="F",
            last_seen_at=days_ago(2),
            last_seen_division=division(CHAOYANG),
            age_at_disappearance=7,
        ),
    )
    [photo] = add_missing_report_photos(
        acting_user=investigator, report_id=report.pk, photos=[photo_upload()]
    )
    person = create_found_person(
        acting_user=investigator,
        data=FoundPersonData(
            category="undocumented_child",
            sex="M",
            found_on=days_ago(3).date(),
            found_division=division(CHAOYANG),
            age_min=3,
            age_max=5,
        ),
    )
    return {
        "report": report.pk,
        "person": person.pk,
        "case": Case.objects.get(missing_report=report).pk,
        "photo": str(photo.uuid),
    }


def endpoints(ids: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Every operation of the API as (method, url, body)."""
    png = png_bytes()
    return [
        ("get", "/api/missing-reports", None),
        ("post", "/api/missing-reports", missing_body(confirm_not_duplicate=True)),
        ("get", f"/api/missing-reports/{ids['report']}", None),
        ("put", f"/api/missing-reports/{ids['report']}", missing_body()),
        ("photos", f"/api/missing-reports/{ids['report']}/photos", png),
        ("get", "/api/found-persons", None),
        ("post", "/api/found-persons", {**found_body(), "confirm_not_duplicate": True}),
        ("get", f"/api/found-persons/{ids['person']}", None),
        ("put", f"/api/found-persons/{ids['person']}", found_body()),
        ("photos", f"/api/found-persons/{ids['person']}/photos", png),
        ("get", f"/api/photos/{ids['photo']}", None),
        ("get", "/api/cases", None),
        ("get", f"/api/cases/{ids['case']}", None),
        ("get", "/api/dashboard", None),
        ("post", f"/api/missing-reports/{ids['report']}/status", {"status": "withdrawn"}),
        ("post", f"/api/found-persons/{ids['person']}/status", {"status": "identified"}),
    ]


def call(client: Client, method: str, url: str, body: Any, **extra: Any) -> Any:
    if method == "get":
        response = client.get(url, **extra)
        if response.streaming:  # a photo: reading it to the end releases the file
            b"".join(response.streaming_content)
        return response
    if method == "photos":
        files = {"photos": [SimpleUploadedFile("p.png", body, "image/png")]}
        return client.post(url, files, **extra)
    return getattr(client, method)(
        url, data=json.dumps(body), content_type="application/json", **extra
    )


def stored() -> tuple[int, int, int]:
    return (
        MissingPersonReport.objects.count(),
        FoundPerson.objects.count(),
        PersonPhoto.objects.count(),
    )


# --------------------------------------------------------------------------- OpenAPI


CORE_PATHS = {
    "/api/missing-reports",
    "/api/missing-reports/{report_id}",
    "/api/missing-reports/{report_id}/photos",
    "/api/missing-reports/{report_id}/status",
    "/api/found-persons",
    "/api/found-persons/{person_id}",
    "/api/found-persons/{person_id}/photos",
    "/api/found-persons/{person_id}/status",
    "/api/photos/{photo_uuid}",
    "/api/cases",
    "/api/cases/{case_id}",
    "/api/dashboard",
}
DNA_PATHS = {
    "/api/dna/candidates",
    "/api/dna/candidates/{candidate_id}",
    "/api/dna/candidates/{candidate_id}/reviews",
    "/api/dna/runs",
    "/api/dna/runs/{run_id}",
    "/api/dna/families/{report_id}",
    "/api/dna/families/{report_id}/members",
    "/api/dna/imports",
    "/api/dna/imports/{batch_id}",
    "/api/dna/profiles",
    "/api/dna/profiles/{profile_id}",
    "/api/dna/profiles/{profile_id}/genotypes",
    "/api/dna/profiles/{profile_id}/qc-review",
    "/api/dna/samples",
    "/api/dna/samples/{sample_id}",
    "/api/dna/samples/{sample_id}/consent",
    "/api/dna/samples/{sample_id}/custody",
    "/api/dna/samples/{sample_id}/withdraw-consent",
}
ALERTS_PATHS = {
    "/api/alerts",
    "/api/alerts/sightings/{sighting_id}/status",
    "/api/alerts/{alert_id}",
    "/api/alerts/{alert_id}/approve-national",
    "/api/alerts/{alert_id}/cancel",
    "/api/alerts/{alert_id}/release",
    "/api/alerts/{alert_id}/sightings",
}
NOTIFY_PATHS = {
    "/api/notify/dead-letters",
    "/api/notify/dead-letters/requeue",
    "/api/notify/partners",
    "/api/notify/partners/{partner_id}",
    "/api/notify/partners/{partner_id}/enabled",
    "/api/notify/stats/{topic}",
}


def test_openapi_lists_every_path_with_tags_and_named_schemas() -> None:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    spec = json.loads(response.content)
    assert spec["info"]["title"] == "Reunite API"
    assert "token" in spec["info"]["description"].lower()
    assert set(spec["paths"]) == CORE_PATHS | DNA_PATHS | ALERTS_PATHS | NOTIFY_PATHS
    assert set(spec["paths"]["/api/missing-reports"]) == {"get", "post"}
    assert set(spec["paths"]["/api/missing-reports/{report_id}"]) == {"get", "put"}
    tags = {
        path: {tag for op in spec["paths"][path].values() for tag in op["tags"]}
        for path in spec["paths"]
    }
    assert tags["/api/missing-reports"] == {"missing persons"}
    assert tags["/api/found-persons/{person_id}"] == {"persons of unknown origin"}
    assert tags["/api/cases/{case_id}"] == {"cases"}
    schemas = spec["components"]["schemas"]
    for name in (
        "MissingReportCreate",
        "MissingReportUpdate",
        "MissingReportRead",
        "MissingReportSummary",
        "FoundPersonCreate",
        "FoundPersonRead",
        "DivisionRead",
        "PhotoRead",
        "CaseRead",
        "ValidationErrorRead",
        "DuplicateErrorRead",
    ):
        assert name in schemas, name
    create = schemas["MissingReportCreate"]
    assert create["additionalProperties"] is False
    assert create["properties"]["full_name"]["maxLength"] == 200
    assert "sessionid" in json.dumps(spec["components"]["securitySchemes"])
    post = spec["paths"]["/api/missing-reports"]["post"]
    assert {"201", "401", "403", "409", "422"} <= set(post["responses"])


def test_docs_page_is_served() -> None:
    response = Client().get("/api/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content


@pytest.mark.parametrize("url", ["/api/missing-reports", "/api/found-persons", "/api/cases"])
def test_lists_make_no_query_per_row(investigator: User, url: str) -> None:
    client = Client()
    client.force_login(investigator)

    def add(n: int) -> None:
        for i in range(n):
            create_missing_report(
                acting_user=investigator,
                data=MissingReportData(
                    full_name=f"Person {len(MissingPersonReport.objects.all())} {i}",
                    sex="F",
                    last_seen_at=days_ago(2),
                    last_seen_division=division(CHAOYANG),
                    age_at_disappearance=7,
                ),
                confirm_not_duplicate=True,
            )
            create_found_person(
                acting_user=investigator,
                data=FoundPersonData(
                    category="other",
                    sex="M",
                    found_on=days_ago(3).date(),
                    found_division=division(CHAOYANG),
                    age_min=30 + i,
                    age_max=30 + i,
                ),
                confirm_not_duplicate=True,
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return len(ctx)

    add(1)
    one = queries()
    add(5)
    assert queries() == one
    assert client.get(url).json()["count"] == 6


# --------------------------------------------------------------------------- authentication


def test_every_endpoint_refuses_anonymous_callers(records: dict[str, Any]) -> None:
    before = stored()
    client = Client()
    for method, url, body in endpoints(records):
        response = call(client, method, url, body)
        assert response.status_code == 401, (method, url, response.status_code)
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert response.json()["detail"]
    assert stored() == before


def test_every_endpoint_refuses_a_deactivated_account(
    records: dict[str, Any], investigator: User
) -> None:
    client = Client()
    client.force_login(investigator)
    investigator.is_active = False
    investigator.save(update_fields=["is_active"])
    for method, url, body in endpoints(records):
        assert call(client, method, url, body).status_code == 401, (method, url)


def test_every_endpoint_works_for_an_investigator(
    records: dict[str, Any], investigator: User
) -> None:
    client = Client()
    client.force_login(investigator)
    for method, url, body in endpoints(records):
        response = call(client, method, url, body)
        assert response.status_code in (200, 201), (method, url, response.content)


def test_an_account_without_a_unit_is_refused(records: dict[str, Any]) -> None:
    loner = User.objects.create_user(username="loner", role=Role.INVESTIGATOR)
    client = Client()
    client.force_login(loner)
    before = stored()
    for method, url, body in endpoints(records):
        response = call(client, method, url, body)
        if url == "/api/dashboard":
            assert response.status_code == 200
            assert set(response.json().values()) == {0}
        elif (
            url in ("/api/missing-reports", "/api/found-persons", "/api/cases") and method == "get"
        ):
            assert response.json()["count"] == 0  # the role allows searching; nothing in scope
        else:
            assert response.status_code == 403, (method, url, response.content)
    assert stored() == before


# --------------------------------------------------------------------------- CSRF


def _csrf_pair() -> tuple[str, str]:
    """A (cookie secret, form token) pair as Django hands them to a browser."""
    request = RequestFactory().get("/")
    token = get_token(request)
    return request.META["CSRF_COOKIE"], token


UNSAFE = [
    pytest.param(1, id="missing-create"),
    pytest.param(3, id="missing-update"),
    pytest.param(4, id="missing-photos"),
    pytest.param(6, id="found-create"),
    pytest.param(8, id="found-update"),
    pytest.param(9, id="found-photos"),
    pytest.param(14, id="missing-status"),
    pytest.param(15, id="found-status"),
]


@pytest.mark.parametrize("index", UNSAFE)
def test_unsafe_methods_need_the_csrf_token(
    records: dict[str, Any], investigator: User, index: int
) -> None:
    method, url, body = endpoints(records)[index]
    client = Client(enforce_csrf_checks=True)
    client.force_login(investigator)
    before = stored()
    refused = call(client, method, url, body)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert stored() == before

    cookie, token = _csrf_pair()
    client.cookies[django_settings.CSRF_COOKIE_NAME] = cookie
    wrong = call(client, method, url, body, HTTP_X_CSRFTOKEN="x" * 32)
    assert wrong.status_code == 403
    accepted = call(client, method, url, body, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code in (200, 201), accepted.content


def test_safe_methods_need_no_csrf_token(records: dict[str, Any], investigator: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(investigator)
    for method, url, _body in endpoints(records):
        if method == "get":
            assert call(client, method, url, None).status_code == 200, url


# --------------------------------------------------------------------------- request limits


def test_oversized_json_body_is_refused_with_413(investigator: User, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    client = Client()
    client.force_login(investigator)
    body = json.dumps(missing_body(circumstances="x" * 5000))
    response = client.post("/api/missing-reports", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["detail"]
    assert stored() == (0, 0, 0)


def test_form_data_sent_to_a_json_endpoint_is_refused(investigator: User) -> None:
    client = Client()
    client.force_login(investigator)
    response = client.post("/api/missing-reports", {"full_name": "周梅"})
    assert response.status_code == 422
    assert "body" in response.json()["errors"]
    assert stored() == (0, 0, 0)


def test_json_sent_to_a_photo_endpoint_is_refused(
    records: dict[str, Any], investigator: User
) -> None:
    client = Client()
    client.force_login(investigator)
    before = stored()
    response = client.post(
        f"/api/missing-reports/{records['report']}/photos",
        json.dumps({"photos": ["aGVsbG8="]}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "photos" in response.json()["errors"]
    assert stored() == before


def test_broken_multipart_is_refused(records: dict[str, Any], investigator: User) -> None:
    client = Client()
    client.force_login(investigator)
    before = stored()
    response = client.post(
        f"/api/missing-reports/{records['report']}/photos",
        b'--nope\r\nContent-Disposition: form-data; name="photos"\r\n\r\nabc',
        content_type="multipart/form-data; boundary=",
    )
    assert response.status_code == 400
    assert response.json()["detail"]
    assert stored() == before
