"""The JSON API of missing person reports, through Django's full HTTP stack (real database).

The happy path, then every kind of hostile input: each refused write must leave nothing behind.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from reunite.accounts.models import Role, User
from reunite.audit.models import AuditEntry
from reunite.cases.models import Case
from reunite.people.models import MissingPersonReport, PersonPhoto, ReportingRelative
from tests.conftest import days_ago, png_bytes

pytestmark = pytest.mark.django_db

URL = "/api/missing-reports"
CHAOYANG, HAIDIAN, SHANGHAI_HUANGPU = "110105", "110108", "310101"


def valid_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "full_name": "张小伟",
        "sex": "M",
        "last_seen_at": days_ago(3).isoformat(),
        "last_seen_division": CHAOYANG,
        "date_of_birth": "2015-03-01",
        "height_cm": 120,
        "build": "slim",
        "last_seen_latitude": 39.9215,
        "last_seen_longitude": 116.4432,
        "last_seen_place": "East gate of Chaoyang Park",
        "circumstances": "Left school at four and never arrived home.",
        "relatives": [{"name": "李芳", "relationship": "mother", "contact": "13800000000"}],
    }
    body.update(overrides)
    return body


def send(client: Client, method: str, url: str, body: Any) -> Any:
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return getattr(client, method)(url, data=raw, content_type="application/json")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def counts() -> tuple[int, int, int, int]:
    return (
        MissingPersonReport.objects.count(),
        ReportingRelative.objects.count(),
        Case.objects.count(),
        PersonPhoto.objects.count(),
    )


def denied(object_type: str, object_id: object = "") -> int:
    return AuditEntry.objects.filter(
        action="denied", object_type=object_type, object_id=str(object_id)
    ).count()


def upload(content: bytes | None = None, name: str = "face.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes() if content is None else content, "image/png")


@pytest.fixture(autouse=True)
def _static_root(settings: Any) -> None:
    # WhiteNoise warns (an error under our warning filter) when STATIC_ROOT does not exist yet.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def api(investigator: User) -> Client:
    return signed_in(investigator)


@pytest.fixture
def report_id(api: Client) -> int:
    response = send(api, "post", URL, valid_body())
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


# --------------------------------------------------------------------------- happy path


def test_create_get_search_update_add_photo_fetch_photo(api: Client) -> None:
    created = send(api, "post", URL, valid_body())
    assert created.status_code == 201, created.content
    report = created.json()
    rid = report["id"]
    assert report["full_name"] == "张小伟"
    assert report["name_pinyin"] == "zhang xiao wei"
    assert report["last_seen_division"] == {
        "code": CHAOYANG,
        "name": "朝阳区",
        "full_name": "北京市 朝阳区",
    }
    assert report["jurisdiction"]["code"] == CHAOYANG
    assert report["relatives"] == [
        {"name": "李芳", "relationship": "mother", "contact": "13800000000", "is_reporter": True}
    ]
    assert report["birth_year"] == 2015
    assert report["case"]["number"].startswith(f"{CHAOYANG}-")
    assert report["photos"] == []
    assert Case.objects.get(pk=report["case"]["id"]).missing_report_id == rid

    got = api.get(f"{URL}/{rid}")
    assert got.status_code == 200
    assert got.json() == report
    assert AuditEntry.objects.filter(
        action="read", object_type="missing_report", object_id=str(rid)
    ).exists()

    for q in ("zhang xiaowei", "张小伟", "xiao wei", "zxw"):
        page = api.get(URL, {"q": q})
        assert page.status_code == 200, page.content
        assert [item["id"] for item in page.json()["items"]] == [rid], q
    assert api.get(URL, {"q": "wang"}).json()["items"] == []
    hit = api.get(URL, {"q": "张小伟", "sex": "M", "division": "110000", "status": "missing"})
    assert hit.json()["count"] == 1
    assert hit.json()["items"][0]["last_seen_division"]["full_name"] == "北京市 朝阳区"
    assert hit.json()["items"][0]["case_number"] == report["case"]["number"]
    assert api.get(URL, {"sex": "F"}).json()["count"] == 0
    assert api.get(URL, {"division": HAIDIAN}).json()["count"] == 0

    changed = valid_body(
        height_cm=125,
        relatives=[{"name": "张强", "relationship": "father", "is_reporter": False}],
    )
    updated = send(api, "put", f"{URL}/{rid}", changed)
    assert updated.status_code == 200, updated.content
    assert updated.json()["height_cm"] == 125
    assert updated.json()["relatives"] == [
        {"name": "张强", "relationship": "father", "contact": "", "is_reporter": False}
    ]
    assert MissingPersonReport.objects.get(pk=rid).height_cm == 125
    assert ReportingRelative.objects.filter(report_id=rid).count() == 1

    added = api.post(f"{URL}/{rid}/photos", {"photos": [upload(), upload(name="b.png")]})
    assert added.status_code == 201, added.content
    photos = added.json()
    assert len(photos) == 2
    assert (photos[0]["width"], photos[0]["height"]) == (32, 40)
    assert PersonPhoto.objects.filter(missing_report_id=rid).count() == 2
    assert [p["uuid"] for p in api.get(f"{URL}/{rid}").json()["photos"]] == [
        p["uuid"] for p in photos
    ]

    image = api.get(photos[0]["url"])
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert "no-store" in image["Cache-Control"]
    with Image.open(io.BytesIO(b"".join(image.streaming_content))) as img:
        assert img.size == (32, 40)
    photo_pk = PersonPhoto.objects.get(uuid=photos[0]["uuid"]).pk
    assert AuditEntry.objects.filter(
        action="read", object_type="photo", object_id=str(photo_pk)
    ).exists()


def test_times_without_offset_are_read_in_the_server_time_zone(api: Client) -> None:
    created = send(api, "post", URL, valid_body(last_seen_at="2024-05-01T10:00:00"))
    assert created.status_code == 201, created.content
    assert created.json()["last_seen_at"] == "2024-05-01T02:00:00Z"
    stored = MissingPersonReport.objects.get().last_seen_at
    assert stored == dt.datetime(2024, 5, 1, 2, 0, tzinfo=dt.UTC)
    assert api.get(f"{URL}/{created.json()['id']}").json() == created.json()
    utc = send(
        api, "put", f"{URL}/{created.json()['id']}", valid_body(last_seen_at="2024-05-01T10:00Z")
    )
    assert utc.json()["last_seen_at"] == "2024-05-01T10:00:00Z"


def test_list_is_paginated(api: Client, investigator: User) -> None:
    for name in ("王一", "王二", "王三"):
        body = valid_body(full_name=name, date_of_birth=None, age_at_disappearance=9)
        assert send(api, "post", URL, body).status_code == 201
    first = api.get(URL, {"limit": 2}).json()
    second = api.get(URL, {"limit": 2, "offset": 2}).json()
    assert (first["count"], first["limit"], first["offset"]) == (3, 2, 0)
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    ids = {i["id"] for i in first["items"]} | {i["id"] for i in second["items"]}
    assert ids == set(MissingPersonReport.objects.values_list("pk", flat=True))
    assert api.get(URL, {"limit": 200}).status_code == 200
    assert api.get(URL, {"age_from": 8, "age_to": 10}).json()["count"] == 3
    assert api.get(URL, {"age_from": 30}).json()["count"] == 0


def test_search_hides_other_jurisdictions(api: Client, report_id: int, make_user: Any) -> None:
    haidian = signed_in(make_user(Role.INVESTIGATOR, HAIDIAN))
    assert haidian.get(URL).json()["count"] == 0
    beijing = signed_in(make_user(Role.SUPERVISOR, "110000"))
    assert [i["id"] for i in beijing.get(URL).json()["items"]] == [report_id]


# --------------------------------------------------------------------------- duplicates


def test_duplicate_is_refused_with_candidates_then_link_or_confirm(
    api: Client, report_id: int
) -> None:
    before = counts()
    again = send(api, "post", URL, valid_body())
    assert again.status_code == 409
    assert again.json()["candidates"] == [report_id]
    assert again.json()["detail"]
    assert counts() == before

    wrong_link = send(api, "post", URL, valid_body(link_to=report_id + 1000))
    assert wrong_link.status_code == 422
    assert "link_to" in wrong_link.json()["errors"]
    assert counts() == before

    linked = send(api, "post", URL, valid_body(link_to=report_id))
    assert linked.status_code == 201, linked.content
    assert linked.json()["duplicate_of"] == report_id

    confirmed = send(api, "post", URL, valid_body(confirm_not_duplicate=True))
    assert confirmed.status_code == 201, confirmed.content
    assert confirmed.json()["duplicate_of"] is None
    assert confirmed.json()["duplicate_checked"] is True
    assert MissingPersonReport.objects.count() == before[0] + 2


# --------------------------------------------------------------------------- hostile bodies


def _without(*keys: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k not in keys}

    return change


def _with(**values: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(body: dict[str, Any]) -> dict[str, Any]:
        return {**body, **values}

    return change


HUGE = "x" * 10**6

# (id, change to a valid body, the field the error must name)
BAD_BODIES = [
    ("missing-full-name", _without("full_name"), "full_name"),
    ("missing-sex", _without("sex"), "sex"),
    ("missing-last-seen-at", _without("last_seen_at"), "last_seen_at"),
    ("missing-division", _without("last_seen_division"), "last_seen_division"),
    ("missing-birth-and-age", _without("date_of_birth"), "date_of_birth"),
    ("blank-full-name", _with(full_name="   "), "full_name"),
    ("unknown-field", _with(nickname="Wei"), "nickname"),
    (
        "unknown-nested-field",
        _with(relatives=[{"name": "李芳", "relationship": "mother", "email": "a@b.c"}]),
        "relatives.0.email",
    ),
    ("name-not-string", _with(full_name=123), "full_name"),
    ("name-null", _with(full_name=None), "full_name"),
    ("sex-not-choice", _with(sex="X"), "sex"),
    ("build-not-choice", _with(build="tall"), "build"),
    ("age-as-string", _with(age_at_disappearance="ten"), "age_at_disappearance"),
    (
        "age-numeric-string",
        _with(date_of_birth=None, age_at_disappearance="9"),
        "age_at_disappearance",
    ),
    ("age-bool", _with(date_of_birth=None, age_at_disappearance=True), "age_at_disappearance"),
    ("height-fraction", _with(height_cm=120.5), "height_cm"),
    ("relatives-not-list", _with(relatives="mother"), "relatives"),
    (
        "relationship-not-choice",
        _with(relatives=[{"name": "李芳", "relationship": "boss"}]),
        "relatives.0.relationship",
    ),
    ("relative-without-name", _with(relatives=[{"relationship": "mother"}]), "relatives.0.name"),
    (
        "too-many-relatives",
        _with(relatives=[{"name": "李芳", "relationship": "mother"}] * 21),
        "relatives",
    ),
    ("confirm-as-string", _with(confirm_not_duplicate="yes"), "confirm_not_duplicate"),
    ("huge-name", _with(full_name=HUGE), "full_name"),
    ("huge-circumstances", _with(circumstances=HUGE), "circumstances"),
    (
        "huge-relative-contact",
        _with(relatives=[{"name": "李芳", "relationship": "mother", "contact": HUGE}]),
        "relatives.0.contact",
    ),
    ("long-dialect", _with(language_dialect="x" * 101), "language_dialect"),
    ("age-overflow", _with(age_at_disappearance=2**63), "age_at_disappearance"),
    ("age-negative", _with(age_at_disappearance=-1), "age_at_disappearance"),
    (
        "age-implausible",
        _with(date_of_birth=None, age_at_disappearance=121),
        "age_at_disappearance",
    ),
    ("age-contradicts-birth", _with(age_at_disappearance=2), "age_at_disappearance"),
    ("height-overflow", _with(height_cm=2**63), "height_cm"),
    ("height-implausible", _with(height_cm=400), "height_cm"),
    ("link-to-overflow", _with(link_to=2**63), "link_to"),
    ("latitude-as-string", _with(last_seen_latitude="39.9"), "last_seen_latitude"),
    ("latitude-out-of-range", _with(last_seen_latitude=91.0), "last_seen_latitude"),
    ("latitude-without-longitude", _without("last_seen_longitude"), "last_seen_latitude"),
    (
        "point-in-shanghai",
        _with(last_seen_latitude=31.2317, last_seen_longitude=121.4844),
        "last_seen_latitude",
    ),
    (
        "point-at-sea",
        _with(last_seen_latitude=30.0, last_seen_longitude=140.0),
        "last_seen_latitude",
    ),
    ("unknown-division", _with(last_seen_division="999999"), "last_seen_division"),
    ("division-with-sql", _with(last_seen_division="1' OR '1'='1"), "last_seen_division"),
    ("division-not-string", _with(last_seen_division=110105), "last_seen_division"),
    (
        "future-last-seen",
        _with(last_seen_at=(timezone.now() + dt.timedelta(days=2)).isoformat()),
        "last_seen_at",
    ),
    (
        "future-birth",
        _with(date_of_birth=(timezone.localdate() + dt.timedelta(days=30)).isoformat()),
        "date_of_birth",
    ),
    ("seen-before-birth", _with(last_seen_at="2014-06-01T10:00:00+08:00"), "last_seen_at"),
    ("birth-in-year-1000", _with(date_of_birth="1000-01-01"), "date_of_birth"),
    ("date-not-iso", _with(date_of_birth="01/03/2015"), "date_of_birth"),
    ("date-as-number", _with(date_of_birth=20150301), "date_of_birth"),
    ("date-impossible", _with(date_of_birth="2015-02-30"), "date_of_birth"),
    ("time-as-timestamp", _with(last_seen_at="1700000000"), "last_seen_at"),
    ("time-overflowing-offset", _with(last_seen_at="9999-12-31T23:59:59-14:00"), "last_seen_at"),
    ("nul-in-name", _with(full_name="张\x00小伟"), "full_name"),
    ("nul-in-place", _with(last_seen_place="gate\x00"), "last_seen_place"),
    ("lone-surrogate", _with(full_name="\ud800"), "full_name"),
]


@pytest.mark.parametrize(("change", "field"), [pytest.param(c, f, id=i) for i, c, f in BAD_BODIES])
def test_bad_create_is_refused_and_saves_nothing(
    api: Client, change: Callable[[dict[str, Any]], dict[str, Any]], field: str
) -> None:
    before = counts()
    response = send(api, "post", URL, change(valid_body()))
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["detail"]
    assert field in body["errors"], body
    assert all(isinstance(m, str) and m for msgs in body["errors"].values() for m in msgs)
    assert counts() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [pytest.param(c, f, id=i) for i, c, f in BAD_BODIES if i != "link-to-overflow"],
)
def test_bad_update_is_refused_and_changes_nothing(
    api: Client, report_id: int, change: Callable[[dict[str, Any]], dict[str, Any]], field: str
) -> None:
    before = MissingPersonReport.objects.get(pk=report_id)
    before_counts = counts()
    response = send(api, "put", f"{URL}/{report_id}", change(valid_body()))
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    after = MissingPersonReport.objects.get(pk=report_id)
    assert (after.updated_at, after.full_name, after.height_cm) == (
        before.updated_at,
        before.full_name,
        before.height_cm,
    )
    assert counts() == before_counts


RAW_BODIES = [
    pytest.param("{", id="truncated"),
    pytest.param('{"full_name": "张小伟",}', id="trailing-comma"),
    pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
    pytest.param('{"full_name": NaN}', id="nan-literal"),
    pytest.param('{"last_seen_latitude": Infinity}', id="infinity-literal"),
    pytest.param("[" * 100_000 + "]" * 100_000, id="nested-too-deep"),
    pytest.param("[]", id="array"),
    pytest.param('"just a string"', id="string"),
    pytest.param("null", id="null"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("raw", RAW_BODIES)
@pytest.mark.parametrize("method", ["post", "put"])
def test_malformed_json_is_refused(api: Client, report_id: int, method: str, raw: Any) -> None:
    before = counts()
    url = URL if method == "post" else f"{URL}/{report_id}"
    response = send(api, method, url, raw)
    assert response.status_code == 422, response.content
    assert response.json()["detail"]
    assert "body" in response.json()["errors"]
    assert counts() == before


@pytest.mark.parametrize("number", ["1e999", "-1e999"])
def test_number_overflowing_to_infinity_is_refused(api: Client, number: str) -> None:
    before = counts()
    raw = json.dumps(valid_body(last_seen_latitude=12.5)).replace("12.5", number)
    response = send(api, "post", URL, raw)
    assert response.status_code == 422, response.content
    assert "last_seen_latitude" in response.json()["errors"]
    assert counts() == before


def test_hostile_strings_are_stored_verbatim_and_returned_as_inert_json(api: Client) -> None:
    script = "<script>alert('x')</script>"
    sql = "Robert'); DROP TABLE people_missingpersonreport;--"
    body = valid_body(
        full_name=sql,
        other_names='" OR 1=1 --',
        circumstances=script,
        last_seen_place="<img src=x onerror=alert(1)>",
        relatives=[{"name": "&amp; <b>", "relationship": "mother"}],
    )
    created = send(api, "post", URL, body)
    assert created.status_code == 201, created.content
    rid = created.json()["id"]
    got = api.get(f"{URL}/{rid}")
    assert got["Content-Type"] == "application/json; charset=utf-8"
    assert got["X-Content-Type-Options"] == "nosniff"
    assert b"<" not in got.content and b">" not in got.content
    data = got.json()
    assert data["full_name"] == sql
    assert data["other_names"] == '" OR 1=1 --'
    assert data["circumstances"] == script
    assert data["last_seen_place"] == "<img src=x onerror=alert(1)>"
    assert data["relatives"][0]["name"] == "&amp; <b>"
    stored = MissingPersonReport.objects.get(pk=rid)
    assert (stored.full_name, stored.circumstances) == (sql, script)
    search = api.get(URL, {"q": "Robert'); DROP TABLE"})
    assert search.status_code == 200
    assert [i["id"] for i in search.json()["items"]] == [rid]
    assert MissingPersonReport.objects.count() == 1


def test_names_never_reach_the_audit_log(api: Client, report_id: int) -> None:
    api.get(f"{URL}/{report_id}")
    api.get(URL, {"q": "张小伟"})
    for entry in AuditEntry.objects.all():
        text = json.dumps(entry.details, ensure_ascii=False)
        assert "张" not in text and "zhang" not in text and "李芳" not in text
        assert "13800000000" not in text


# --------------------------------------------------------------------------- role, jurisdiction


def test_wrong_role_is_refused_everywhere_and_audited(report_id: int, make_user: Any) -> None:
    partner = signed_in(make_user(Role.PARTNER_WELFARE, CHAOYANG))
    before = counts()
    denials = AuditEntry.objects.filter(action="denied").count()
    requests = [
        partner.get(URL),
        partner.get(f"{URL}/{report_id}"),
        send(partner, "post", URL, valid_body(full_name="赵六")),
        send(partner, "put", f"{URL}/{report_id}", valid_body(height_cm=130)),
        partner.post(f"{URL}/{report_id}/photos", {"photos": [upload()]}),
    ]
    for response in requests:
        assert response.status_code == 403, response.content
        assert response.json()["detail"]
    assert AuditEntry.objects.filter(action="denied").count() == denials + len(requests)
    assert counts() == before
    assert MissingPersonReport.objects.get(pk=report_id).height_cm == 120


def test_other_jurisdiction_is_refused_and_audited(
    api: Client, report_id: int, make_user: Any
) -> None:
    added = api.post(f"{URL}/{report_id}/photos", {"photos": [upload()]})
    photo_url = added.json()[0]["url"]
    photo_pk = PersonPhoto.objects.get().pk
    haidian = signed_in(make_user(Role.INVESTIGATOR, HAIDIAN))
    before = counts()

    assert haidian.get(f"{URL}/{report_id}").status_code == 403
    assert denied("missing_report", report_id) == 1
    assert send(haidian, "put", f"{URL}/{report_id}", valid_body(height_cm=130)).status_code == 403
    assert denied("missing_report", report_id) == 2
    assert haidian.post(f"{URL}/{report_id}/photos", {"photos": [upload()]}).status_code == 403
    assert denied("missing_report", report_id) == 3
    assert haidian.get(photo_url).status_code == 403
    assert denied("photo", photo_pk) == 1
    assert counts() == before
    assert MissingPersonReport.objects.get(pk=report_id).height_cm == 120


def test_registering_outside_own_jurisdiction_is_refused_and_audited(api: Client) -> None:
    before = counts()
    body = valid_body(
        last_seen_division=SHANGHAI_HUANGPU,
        last_seen_latitude=31.2317,
        last_seen_longitude=121.4844,
    )
    response = send(api, "post", URL, body)
    assert response.status_code == 403
    assert denied("missing_report") == 1
    assert counts() == before


# --------------------------------------------------------------------------- ids and queries


@pytest.mark.parametrize("method", ["get", "put", "photos"])
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
def test_bad_or_missing_ids(api: Client, method: str, ident: str, status: int) -> None:
    before = counts()
    if method == "get":
        response = api.get(f"{URL}/{ident}")
    elif method == "put":
        response = send(api, "put", f"{URL}/{ident}", valid_body())
    else:
        response = api.post(f"{URL}/{ident}/photos", {"photos": [upload()]})
    assert response.status_code == status, response.content
    assert response.json()["detail"]
    assert counts() == before


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 10**9}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 10**20}, "offset"),
        ({"limit": "many"}, "limit"),
        ({"age_from": 2**63}, "age_from"),
        ({"age_to": -3}, "age_to"),
        ({"sex": "X"}, "sex"),
        ({"status": "lost"}, "status"),
        ({"division": "999999"}, "division"),
        ({"division": "11 01"}, "division"),
        ({"seen_from": "yesterday"}, "seen_from"),
        ({"seen_to": "2024-13-45"}, "seen_to"),
        ({"q": "x" * 10_000}, "q"),
        ({"q": "张\x00"}, "q"),
        ({"nmae": "张"}, "nmae"),
    ],
)
def test_bad_query_parameters(api: Client, params: dict[str, Any], field: str) -> None:
    response = api.get(URL, params)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]


def test_empty_filters_mean_any(api: Client, report_id: int) -> None:
    response = api.get(URL, {"sex": "", "status": "", "division": "", "seen_from": ""})
    assert response.status_code == 200
    assert [i["id"] for i in response.json()["items"]] == [report_id]


# --------------------------------------------------------------------------- photos


def test_non_image_photo_is_refused(api: Client, report_id: int) -> None:
    before = counts()
    fake = upload(b"<?php system($_GET['c']); ?>", name="face.png")
    response = api.post(f"{URL}/{report_id}/photos", {"photos": [upload(), fake]})
    assert response.status_code == 422
    assert "photos" in response.json()["errors"]
    assert counts() == before


def test_oversized_photo_is_refused(api: Client, report_id: int, settings: Any) -> None:
    small = png_bytes()
    settings.PHOTO_MAX_BYTES = len(small) + 100
    noisy = Image.frombytes("RGB", (200, 200), bytes(range(256)) * 468 + bytes(192))
    buf = io.BytesIO()
    noisy.save(buf, format="PNG")
    assert len(buf.getvalue()) > settings.PHOTO_MAX_BYTES
    before = counts()
    response = api.post(f"{URL}/{report_id}/photos", {"photos": [upload(buf.getvalue())]})
    assert response.status_code == 422
    assert "photos" in response.json()["errors"]
    assert counts() == before
    assert api.post(f"{URL}/{report_id}/photos", {"photos": [upload(small)]}).status_code == 201


def test_photo_upload_needs_a_file_and_respects_the_limit(api: Client, report_id: int) -> None:
    assert api.post(f"{URL}/{report_id}/photos", {}).status_code == 422
    assert api.post(f"{URL}/{report_id}/photos", {"photos": "text"}).status_code == 422
    eleven = [upload(name=f"{i}.png") for i in range(11)]
    response = api.post(f"{URL}/{report_id}/photos", {"photos": eleven})
    assert response.status_code == 422
    assert "photos" in response.json()["errors"]
    assert PersonPhoto.objects.count() == 0


@pytest.mark.parametrize(
    ("ident", "status"),
    [("00000000-0000-4000-8000-000000000000", 404), ("not-a-uuid", 422), ("1", 422)],
)
def test_bad_photo_ids(api: Client, ident: str, status: int) -> None:
    response = api.get(f"/api/photos/{ident}")
    assert response.status_code == status
    assert response.json()["detail"]
