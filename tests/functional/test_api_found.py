"""The JSON API of persons of unknown origin, through Django's full HTTP stack (real database)."""

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

from reunite.accounts.models import Organisation, OrganisationKind, Role, User
from reunite.audit.models import AuditEntry
from reunite.people.models import FoundPerson, PersonPhoto
from tests.conftest import png_bytes

pytestmark = pytest.mark.django_db

URL = "/api/found-persons"
CHAOYANG, HAIDIAN, SHANGHAI_HUANGPU = "110105", "110108", "310101"


@pytest.fixture(autouse=True)
def _static_root(settings: Any) -> None:
    # WhiteNoise warns (an error under our warning filter) when STATIC_ROOT does not exist yet.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def valid_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "street_begging",
        "sex": "F",
        "found_on": (timezone.localdate() - dt.timedelta(days=2)).isoformat(),
        "found_division": CHAOYANG,
        "age_min": 12,
        "age_max": 16,
        "found_latitude": 39.9215,
        "found_longitude": 116.4432,
        "found_place": "Underpass near Sanlitun",
        "given_name": "小红",
        "given_places": "a river, a big bridge",
        "description": "Speaks little, scar on the left hand.",
        "language_dialect": "Sichuanese",
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


def counts() -> tuple[int, int]:
    return FoundPerson.objects.count(), PersonPhoto.objects.count()


def denied(object_type: str, object_id: object = "") -> int:
    return AuditEntry.objects.filter(
        action="denied", object_type=object_type, object_id=str(object_id)
    ).count()


def upload(content: bytes | None = None, name: str = "face.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes() if content is None else content, "image/png")


@pytest.fixture
def api(investigator: User) -> Client:
    return signed_in(investigator)


@pytest.fixture
def shelter(make_org: Callable[..., Organisation]) -> Organisation:
    return make_org(CHAOYANG, OrganisationKind.WELFARE_INSTITUTION, "Chaoyang children's home")


@pytest.fixture
def person_id(api: Client) -> int:
    response = send(api, "post", URL, valid_body())
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


# --------------------------------------------------------------------------- happy path


def test_create_get_search_update_add_photo_fetch_photo(api: Client, shelter: Organisation) -> None:
    created = send(api, "post", URL, valid_body(institution=shelter.pk, held_place="Room 3"))
    assert created.status_code == 201, created.content
    person = created.json()
    pid = person["id"]
    assert person["given_name"] == "小红"
    assert person["given_name_pinyin"] == "xiao hong"
    assert person["found_division"] == {
        "code": CHAOYANG,
        "name": "朝阳区",
        "full_name": "北京市 朝阳区",
    }
    assert person["institution"] == {"id": shelter.pk, "name": "Chaoyang children's home"}
    assert (person["category"], person["status"]) == ("street_begging", "unidentified")
    assert (person["age_min"], person["age_max"]) == (12, 16)

    got = api.get(f"{URL}/{pid}")
    assert got.status_code == 200
    assert got.json() == person
    assert AuditEntry.objects.filter(
        action="read", object_type="found_person", object_id=str(pid)
    ).exists()

    for q in ("xiaohong", "xiao hong", "小红", "红"):
        page = api.get(URL, {"q": q})
        assert page.status_code == 200, page.content
        assert [item["id"] for item in page.json()["items"]] == [pid], q
    assert api.get(URL, {"q": "xiaoming"}).json()["count"] == 0
    filtered = api.get(
        URL,
        {
            "category": "street_begging",
            "sex": "F",
            "age_from": 14,
            "age_to": 15,
            "division": "110000",
            "found_from": (timezone.localdate() - dt.timedelta(days=7)).isoformat(),
            "status": "unidentified",
        },
    )
    assert [item["id"] for item in filtered.json()["items"]] == [pid]
    assert filtered.json()["items"][0]["found_division"]["full_name"] == "北京市 朝阳区"
    assert api.get(URL, {"category": "deaf_mute"}).json()["count"] == 0
    assert api.get(URL, {"age_from": 30}).json()["count"] == 0

    updated = send(api, "put", f"{URL}/{pid}", valid_body(age_min=13, institution=None))
    assert updated.status_code == 200, updated.content
    assert updated.json()["age_min"] == 13
    assert updated.json()["institution"] is None
    stored = FoundPerson.objects.get(pk=pid)
    assert (stored.age_min, stored.institution_id) == (13, None)

    added = api.post(f"{URL}/{pid}/photos", {"photos": [upload()]})
    assert added.status_code == 201, added.content
    [photo] = added.json()
    assert (photo["width"], photo["height"]) == (32, 40)
    assert api.get(f"{URL}/{pid}").json()["photos"] == [photo]

    image = api.get(photo["url"])
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(b"".join(image.streaming_content))) as img:
        assert img.size == (32, 40)


def test_partner_agency_registers_in_its_jurisdiction(make_user: Any) -> None:
    partner = signed_in(make_user(Role.PARTNER_WELFARE, CHAOYANG))
    created = send(partner, "post", URL, valid_body())
    assert created.status_code == 201, created.content
    assert partner.get(f"{URL}/{created.json()['id']}").status_code == 200


def test_duplicate_is_refused_with_candidates_then_link_or_confirm(
    api: Client, person_id: int
) -> None:
    before = counts()
    again = send(api, "post", URL, valid_body(age_min=13, age_max=15))
    assert again.status_code == 409
    assert again.json()["candidates"] == [person_id]
    assert counts() == before

    bad_link = send(api, "post", URL, valid_body(link_to=person_id + 1000))
    assert bad_link.status_code == 422
    assert "link_to" in bad_link.json()["errors"]
    assert counts() == before

    linked = send(api, "post", URL, valid_body(link_to=person_id))
    assert linked.status_code == 201, linked.content
    assert linked.json()["duplicate_of"] == person_id
    confirmed = send(api, "post", URL, valid_body(confirm_not_duplicate=True))
    assert confirmed.status_code == 201, confirmed.content
    assert confirmed.json()["duplicate_checked"] is True
    assert FoundPerson.objects.count() == before[0] + 2


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
TOMORROW = (timezone.localdate() + dt.timedelta(days=1)).isoformat()

BAD_BODIES = [
    ("missing-category", _without("category"), "category"),
    ("missing-found-on", _without("found_on"), "found_on"),
    ("missing-division", _without("found_division"), "found_division"),
    ("missing-age-min", _without("age_min"), "age_min"),
    ("unknown-field", _with(name="小红"), "name"),
    ("category-not-choice", _with(category="vagrant"), "category"),
    ("sex-lowercase", _with(sex="f"), "sex"),
    ("age-as-string", _with(age_min="12"), "age_min"),
    ("age-overflow", _with(age_max=2**63), "age_max"),
    ("age-negative", _with(age_min=-5), "age_min"),
    ("age-implausible", _with(age_max=130), "age_max"),
    ("ages-reversed", _with(age_min=16, age_max=12), "age_max"),
    ("height-fraction", _with(height_cm=150.5), "height_cm"),
    ("institution-as-string", _with(institution="home"), "institution"),
    ("institution-unknown", _with(institution=999_999), "institution"),
    ("institution-overflow", _with(institution=2**63), "institution"),
    ("huge-description", _with(description=HUGE), "description"),
    ("huge-given-name", _with(given_name=HUGE), "given_name"),
    ("long-place", _with(found_place="x" * 301), "found_place"),
    ("latitude-as-string", _with(found_latitude="39.9"), "found_latitude"),
    ("longitude-out-of-range", _with(found_longitude=181.0), "found_longitude"),
    (
        "point-in-shanghai",
        _with(found_latitude=31.2317, found_longitude=121.4844),
        "found_latitude",
    ),
    ("latitude-without-longitude", _without("found_longitude"), "found_latitude"),
    ("unknown-division", _with(found_division="000000"), "found_division"),
    ("division-with-markup", _with(found_division="<b>110105</b>"), "found_division"),
    ("future-date", _with(found_on=TOMORROW), "found_on"),
    ("date-before-1900", _with(found_on="1899-12-31"), "found_on"),
    ("date-with-time", _with(found_on="2024-01-01T10:00:00"), "found_on"),
    ("date-not-iso", _with(found_on="yesterday"), "found_on"),
    ("nul-in-description", _with(description="a\x00b"), "description"),
    ("lone-surrogate", _with(given_places="\udfff"), "given_places"),
    ("confirm-as-number", _with(confirm_not_duplicate=1), "confirm_not_duplicate"),
]


@pytest.mark.parametrize(("change", "field"), [pytest.param(c, f, id=i) for i, c, f in BAD_BODIES])
def test_bad_create_is_refused_and_saves_nothing(
    api: Client, change: Callable[[dict[str, Any]], dict[str, Any]], field: str
) -> None:
    before = counts()
    response = send(api, "post", URL, change(valid_body()))
    assert response.status_code == 422, response.content
    assert response.json()["detail"]
    assert field in response.json()["errors"], response.json()
    assert counts() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [pytest.param(c, f, id=i) for i, c, f in BAD_BODIES if not i.startswith("confirm")],
)
def test_bad_update_is_refused_and_changes_nothing(
    api: Client, person_id: int, change: Callable[[dict[str, Any]], dict[str, Any]], field: str
) -> None:
    before = FoundPerson.objects.get(pk=person_id)
    response = send(api, "put", f"{URL}/{person_id}", change(valid_body()))
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    after = FoundPerson.objects.get(pk=person_id)
    assert (after.updated_at, after.age_min, after.description) == (
        before.updated_at,
        before.age_min,
        before.description,
    )


def test_institution_must_hold_people(api: Client, make_org: Callable[..., Organisation]) -> None:
    bureau = make_org(HAIDIAN)  # a police bureau is not a place where people are held
    before = counts()
    response = send(api, "post", URL, valid_body(institution=bureau.pk))
    assert response.status_code == 422
    assert "institution" in response.json()["errors"]
    assert counts() == before


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("{", id="truncated"),
        pytest.param(b"\xc3\x28", id="not-utf8"),
        pytest.param('{"age_min": NaN}', id="nan-literal"),
        pytest.param("[1, 2]", id="array"),
        pytest.param("", id="empty"),
    ],
)
def test_malformed_json_is_refused(api: Client, person_id: int, raw: Any) -> None:
    before = counts()
    for method, url in (("post", URL), ("put", f"{URL}/{person_id}")):
        response = send(api, method, url, raw)
        assert response.status_code == 422, response.content
        assert "body" in response.json()["errors"]
    assert counts() == before


def test_hostile_strings_are_stored_verbatim_and_returned_as_inert_json(api: Client) -> None:
    script = '<script>fetch("/api/missing-reports")</script>'
    sql = "1; DELETE FROM people_foundperson WHERE 1=1; --"
    created = send(api, "post", URL, valid_body(description=script, given_places=sql))
    assert created.status_code == 201, created.content
    got = api.get(f"{URL}/{created.json()['id']}")
    assert b"<script>" not in got.content
    assert got.json()["description"] == script
    assert got.json()["given_places"] == sql
    assert FoundPerson.objects.get().description == script


# --------------------------------------------------------------------------- role, jurisdiction


def test_roles_without_the_right_are_refused_and_audited(person_id: int, make_user: Any) -> None:
    admin = signed_in(make_user(Role.ADMINISTRATOR, CHAOYANG))
    technician = signed_in(make_user(Role.DNA_TECHNICIAN, CHAOYANG))
    before = counts()
    denials = AuditEntry.objects.filter(action="denied").count()
    requests = [
        admin.get(URL),
        admin.get(f"{URL}/{person_id}"),
        send(technician, "post", URL, valid_body(confirm_not_duplicate=True)),
        send(technician, "put", f"{URL}/{person_id}", valid_body(age_min=14)),
        technician.post(f"{URL}/{person_id}/photos", {"photos": [upload()]}),
    ]
    for response in requests:
        assert response.status_code == 403, response.content
    assert AuditEntry.objects.filter(action="denied").count() == denials + len(requests)
    assert counts() == before
    assert technician.get(f"{URL}/{person_id}").status_code == 200  # may read, not write


def test_other_jurisdiction_is_refused_and_audited(
    api: Client, person_id: int, make_user: Any
) -> None:
    photo_url = api.post(f"{URL}/{person_id}/photos", {"photos": [upload()]}).json()[0]["url"]
    photo_pk = PersonPhoto.objects.get().pk
    haidian = signed_in(make_user(Role.PARTNER_WELFARE, HAIDIAN))
    before = counts()
    assert haidian.get(f"{URL}/{person_id}").status_code == 403
    assert send(haidian, "put", f"{URL}/{person_id}", valid_body(age_min=14)).status_code == 403
    assert haidian.post(f"{URL}/{person_id}/photos", {"photos": [upload()]}).status_code == 403
    assert denied("found_person", person_id) == 3
    assert haidian.get(photo_url).status_code == 403
    assert denied("photo", photo_pk) == 1
    assert haidian.get(URL).json()["count"] == 0
    assert counts() == before
    assert FoundPerson.objects.get(pk=person_id).age_min == 12


def test_registering_outside_own_jurisdiction_is_refused_and_audited(api: Client) -> None:
    body = valid_body(
        found_division=SHANGHAI_HUANGPU, found_latitude=31.2317, found_longitude=121.4844
    )
    response = send(api, "post", URL, body)
    assert response.status_code == 403
    assert denied("found_person") == 1
    assert counts() == (0, 0)


# --------------------------------------------------------------------------- ids, queries, photos


@pytest.mark.parametrize("method", ["get", "put", "photos"])
@pytest.mark.parametrize(
    ("ident", "status"), [("424242", 404), ("x1", 422), ("-7", 422), (str(2**64), 422)]
)
def test_bad_or_missing_ids(api: Client, method: str, ident: str, status: int) -> None:
    if method == "get":
        response = api.get(f"{URL}/{ident}")
    elif method == "put":
        response = send(api, "put", f"{URL}/{ident}", valid_body())
    else:
        response = api.post(f"{URL}/{ident}/photos", {"photos": [upload()]})
    assert response.status_code == status, response.content
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 10**9}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"age_to": 2**63}, "age_to"),
        ({"category": "nope"}, "category"),
        ({"status": "lost"}, "status"),
        ({"division": "abc-def"}, "division"),
        ({"found_from": "2024/01/01"}, "found_from"),
        ({"seen_from": "2024-01-01"}, "seen_from"),
    ],
)
def test_bad_query_parameters(api: Client, params: dict[str, Any], field: str) -> None:
    response = api.get(URL, params)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]


def test_non_image_and_oversized_photos_are_refused(
    api: Client, person_id: int, settings: Any
) -> None:
    gif_header_only = upload(b"GIF89a\x01\x00\x01\x00", name="x.gif")
    response = api.post(f"{URL}/{person_id}/photos", {"photos": [gif_header_only]})
    assert response.status_code == 422
    assert "photos" in response.json()["errors"]
    svg = upload(b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>', "x.svg")
    assert api.post(f"{URL}/{person_id}/photos", {"photos": [svg]}).status_code == 422
    settings.PHOTO_MAX_BYTES = 50
    response = api.post(f"{URL}/{person_id}/photos", {"photos": [upload()]})
    assert response.status_code == 422
    assert "photos" in response.json()["errors"]
    assert counts() == (1, 0)
