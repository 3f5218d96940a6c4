"""The missing-person pages through the Django test client: register, find, read, edit.

Real database, real photo bytes, real private storage (a temporary folder per test).  Every
rejected submission is checked twice: the message sits next to its field, and nothing at all was
saved (reports, relatives, photos, cases, files on disk).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Callable
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from reunite.accounts.models import Role, User
from reunite.audit.models import AuditAction, AuditEntry
from reunite.cases.models import Case
from reunite.people.models import MissingPersonReport, PersonPhoto, ReportingRelative
from tests.conftest import png_bytes

# --------------------------------------------------------------------------- helpers


def local_input(when: dt.datetime) -> str:
    """A ``datetime-local`` input value, in the site's time zone."""
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def missing_post(**overrides: Any) -> dict[str, Any]:
    """A complete, valid missing-report submission (Chaoyang, Beijing) with one relative."""
    data: dict[str, Any] = {
        "full_name": "张小伟",
        "name_pinyin": "",
        "other_names": "伟伟",
        "id_number": "110105201503140011",
        "sex": "M",
        "date_of_birth": "2015-03-14",
        "age_at_disappearance": "",
        "height_cm": "130",
        "build": "slim",
        "distinguishing_marks": "Scar above the left eyebrow",
        "language_dialect": "Beijing dialect",
        "last_seen_at": "2024-05-01T14:30",
        "last_seen_division": "110105",
        "last_seen_latitude": "",
        "last_seen_longitude": "",
        "last_seen_place": "Chaoyang Park, south gate",
        "circumstances": "Walked home from school alone.",
        "relatives-TOTAL_FORMS": "3",
        "relatives-INITIAL_FORMS": "0",
        "relatives-MIN_NUM_FORMS": "0",
        "relatives-MAX_NUM_FORMS": "3",
        "relatives-0-name": "张建国",
        "relatives-0-relationship": "father",
        "relatives-0-contact": "13800138000",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def upload(name: str = "face.png", content: bytes | None = None) -> SimpleUploadedFile:
    kind = "image/jpeg" if name.endswith(".jpg") else "image/png"
    return SimpleUploadedFile(name, content if content is not None else png_bytes(), kind)


def stored_files() -> list[Path]:
    root = Path(default_storage.path(""))
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def registry_state() -> dict[str, int]:
    """Everything a missing report can leave behind."""
    return {
        "reports": MissingPersonReport.objects.count(),
        "relatives": ReportingRelative.objects.count(),
        "photos": PersonPhoto.objects.count(),
        "cases": Case.objects.count(),
        "files": len(stored_files()),
    }


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: (v or "") for k, v in attrs}
        values["<tag>"] = tag
        if "id" in values:
            self.by_id.setdefault(values["id"], values)


def element(html: str, element_id: str) -> dict[str, str]:
    """The attributes of the element with ``id`` (``<tag>`` holds its tag name)."""
    parser = _Elements()
    parser.feed(html)
    assert element_id in parser.by_id, f"no element #{element_id} on the page"
    return parser.by_id[element_id]


def field_error(html: str, field_id: str) -> str:
    """The text of the error list shown for the field ``field_id`` (e.g. ``id_full_name``).

    Also checks that the input points at it with ``aria-describedby`` and is marked invalid.
    """
    match = re.search(
        rf'<ul class="errorlist"[^>]*id="{re.escape(field_id)}_error"[^>]*>(.*?)</ul>', html, re.S
    )
    assert match, f"no error shown for {field_id}"
    attrs = element(html, field_id)
    assert f"{field_id}_error" in attrs.get("aria-describedby", "").split()
    assert attrs.get("aria-invalid") == "true"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def text_of(response: Any) -> str:
    """The page's text, whitespace collapsed; inline tags vanish, block tags become a space."""
    html = re.sub(r"</?(a|small|strong|span|em)\b[^>]*>", "", response.content.decode())
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def web(investigator: User, client_for: Callable[[User], Client]) -> Client:
    """A signed-in client for the Chaoyang investigator."""
    return client_for(investigator)


def create(client: Client, **overrides: Any) -> MissingPersonReport:
    response = client.post(reverse("people:missing_create"), missing_post(**overrides))
    assert response.status_code == 302, text_of(response)[:2000]
    pk = int(response.headers["Location"].rstrip("/").split("/")[-1])
    return MissingPersonReport.objects.get(pk=pk)


# --------------------------------------------------------------------------- the happy path


@pytest.mark.django_db
def test_register_with_photos_and_relative_then_find_open_and_fetch_photo(web: Client) -> None:
    page = web.get(reverse("people:missing_create"))
    assert page.status_code == 200
    html = page.content.decode()
    assert element(html, "id_full_name")["<tag>"] == "input"
    assert re.search(r'<label for="id_full_name"[^>]*>Full name</label>', html)
    assert re.search(r'<label for="id_photos"[^>]*>Photos</label>', html)
    photos_input = element(html, "id_photos")
    assert photos_input["type"] == "file" and "multiple" in photos_input
    assert photos_input["accept"] == "image/*"
    assert element(html, "id_last_seen_at")["type"] == "datetime-local"
    assert element(html, "id_date_of_birth")["type"] == "date"
    age = element(html, "id_age_at_disappearance")
    assert (age["type"], age["min"], age["max"]) == ("number", "0", "120")
    assert "Save report" in html

    response = web.post(
        reverse("people:missing_create"),
        {
            **missing_post(),
            "photos": [
                upload("a.png", png_bytes((40, 50), "red")),
                upload("b.jpg", png_bytes((30, 30), "blue", "JPEG")),
            ],
        },
    )
    assert response.status_code == 302
    report = MissingPersonReport.objects.get()
    assert response.headers["Location"] == reverse("people:missing_detail", args=[report.pk])
    assert report.full_name == "张小伟" and report.name_pinyin == "zhang xiao wei"
    assert report.birth_year == 2015
    assert report.last_seen_division.code == "110105"
    assert [p.content_type for p in report.photos.all()] == ["image/png", "image/jpeg"]
    assert len(stored_files()) == 2
    relative = report.relatives.get()
    assert (relative.name, relative.relationship, relative.contact) == (
        "张建国",
        "father",
        "13800138000",
    )
    case = Case.objects.get(missing_report=report)

    for query in ("zhang xiaowei", "zhangxiaowei", "Zhāng", "张小伟", "ZHANG Xiao Wei"):
        found = web.get(reverse("people:missing_list"), {"q": query})
        assert found.status_code == 200
        assert reverse("people:missing_detail", args=[report.pk]) in found.content.decode(), query
    missed = web.get(reverse("people:missing_list"), {"q": "li xiaowei"})
    assert reverse("people:missing_detail", args=[report.pk]) not in missed.content.decode()

    detail = web.get(reverse("people:missing_detail", args=[report.pk]))
    assert detail.status_code == 200
    html = detail.content.decode()
    words = text_of(detail)
    for expected in (
        "张小伟",
        "zhang xiao wei",
        "伟伟",
        "110105201503140011",
        "2015-03-14",
        "Scar above the left eyebrow",
        "Beijing dialect",
        "2024-05-01 14:30",
        "北京市 朝阳区",
        "Chaoyang Park, south gate",
        "Walked home from school alone.",
        "张建国",
        "Father",
        "13800138000",
        case.number,
    ):
        assert expected in words, expected
    assert f'href="{reverse("cases:detail", args=[case.pk])}"' in html
    assert f'href="{reverse("people:missing_edit", args=[report.pk])}"' in html
    for shown in report.photos.all():
        assert re.search(
            rf'<img src="{reverse("people:photo", args=[shown.uuid])}" alt="Photo \d of MP-', html
        )

    photo = report.photos.order_by("created_at").first()
    assert photo is not None
    served = web.get(reverse("people:photo", args=[photo.uuid]))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["Cache-Control"] == "private, no-store"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"] == "inline"
    assert hashlib.sha256(served.content).hexdigest() == photo.sha256
    with Image.open(io.BytesIO(served.content)) as img:
        assert (img.format, img.size) == ("PNG", (40, 50))
    assert AuditEntry.objects.filter(
        action=AuditAction.READ, object_type="photo", object_id=str(photo.pk)
    ).exists()


# --------------------------------------------------------------------------- bad input


def _future(days: int = 2) -> str:
    return local_input(timezone.now() + dt.timedelta(days=days))


BAD_INPUTS = [
    pytest.param(
        {"last_seen_at": _future()},
        "id_last_seen_at",
        "The last-seen time is in the future.",
        id="last-seen-in-the-future",
    ),
    pytest.param(
        {"date_of_birth": "2015-03-14", "last_seen_at": "2014-12-31T09:00"},
        "id_last_seen_at",
        "The last-seen date is before the date of birth.",
        id="last-seen-before-birth",
    ),
    pytest.param(
        {"date_of_birth": (timezone.localdate() + dt.timedelta(days=30)).isoformat()},
        "id_date_of_birth",
        "The date of birth is in the future.",
        id="birth-in-the-future",
    ),
    pytest.param(
        {"date_of_birth": "", "age_at_disappearance": "-1"},
        "id_age_at_disappearance",
        "Age must be between 0 and 120.",
        id="age-minus-one",
    ),
    pytest.param(
        {"date_of_birth": "", "age_at_disappearance": "130"},
        "id_age_at_disappearance",
        "Age must be between 0 and 120.",
        id="age-130",
    ),
    pytest.param(
        {"date_of_birth": "2015-03-14", "age_at_disappearance": "3"},
        "id_age_at_disappearance",
        "The age does not fit the date of birth (9 years when last seen).",
        id="age-contradicts-birth-date",
    ),
    pytest.param(
        {"date_of_birth": "", "age_at_disappearance": ""},
        "id_date_of_birth",
        "Give the date of birth or the age when missing.",
        id="neither-birth-date-nor-age",
    ),
    pytest.param(
        {"last_seen_latitude": "23.13", "last_seen_longitude": "113.26"},
        "id_last_seen_latitude",
        "These coordinates lie outside 朝阳区.",
        id="point-in-guangzhou-for-chaoyang",
    ),
    pytest.param(
        {"last_seen_latitude": "39.92", "last_seen_longitude": ""},
        "id_last_seen_latitude",
        "Give both latitude and longitude, or neither.",
        id="latitude-without-longitude",
    ),
    pytest.param(
        {"last_seen_division": "999999"},
        "id_last_seen_division",
        "Unknown division code “999999”.",
        id="unknown-division-code",
    ),
    pytest.param(
        {"height_cm": "900"},
        "id_height_cm",
        "Height must be between 30 and 250 cm.",
        id="impossible-height",
    ),
    pytest.param(
        {"full_name": "   "},
        "id_full_name",
        "This field is required.",
        id="blank-name",
    ),
    pytest.param(
        {"relatives-0-name": ""},
        "id_relatives-0-name",
        "This field is required.",
        id="relative-without-name",
    ),
    pytest.param(
        {"relatives-0-relationship": ""},
        "id_relatives-0-relationship",
        "Not a valid choice.",
        id="relative-without-relationship",
    ),
    pytest.param(
        {"last_seen_at": "2024-13-40T10:00"},
        "id_last_seen_at",
        "Enter a valid date/time.",
        id="impossible-date",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("overrides", "field_id", "message"), BAD_INPUTS)
def test_bad_input_shows_message_at_its_field_and_saves_nothing(
    web: Client, overrides: dict[str, Any], field_id: str, message: str
) -> None:
    before = registry_state()
    response = web.post(
        reverse("people:missing_create"),
        {**missing_post(**overrides), "photos": [upload()]},
    )
    assert response.status_code == 200
    assert message in field_error(response.content.decode(), field_id)
    assert "Nothing was saved" in text_of(response)
    assert registry_state() == before
    # What the user typed is still there.
    html = response.content.decode()
    assert element(html, "id_last_seen_place")["value"] == "Chaoyang Park, south gate"
    assert element(html, "id_circumstances")["<tag>"] == "textarea"
    assert "Walked home from school alone." in html


@pytest.mark.django_db
def test_error_on_a_later_relative_row_lands_on_that_row(web: Client) -> None:
    before = registry_state()
    data = missing_post(
        **{
            "relatives-1-name": "",
            "relatives-1-relationship": "",
            "relatives-2-name": "",
            "relatives-2-relationship": "mother",
            "relatives-2-contact": "13900000000",
        }
    )
    response = web.post(reverse("people:missing_create"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required." in field_error(html, "id_relatives-2-name")
    assert 'id="id_relatives-0-name_error"' not in html
    assert registry_state() == before


@pytest.mark.django_db
def test_text_file_named_jpg_is_refused_and_nothing_saved(web: Client) -> None:
    before = registry_state()
    fake = SimpleUploadedFile("face.jpg", b"this is not an image at all\n", "image/jpeg")
    response = web.post(reverse("people:missing_create"), {**missing_post(), "photos": [fake]})
    assert response.status_code == 200
    html = response.content.decode()
    assert "This file is not a JPEG, PNG or WebP image." in field_error(html, "id_photos")
    assert "The photos you chose were not kept" in text_of(response)
    assert registry_state() == before


@pytest.mark.django_db
def test_photo_over_the_size_limit_is_refused(web: Client, settings: Any) -> None:
    big = png_bytes((300, 300), "orange")
    settings.PHOTO_MAX_BYTES = len(big) - 1
    before = registry_state()
    response = web.post(
        reverse("people:missing_create"), {**missing_post(), "photos": [upload("big.png", big)]}
    )
    assert response.status_code == 200
    assert "The photo is too large" in field_error(response.content.decode(), "id_photos")
    assert registry_state() == before


@pytest.mark.django_db
def test_one_valid_and_one_invalid_photo_saves_nothing(web: Client) -> None:
    before = registry_state()
    bad = SimpleUploadedFile("second.png", b"GIF89a not really", "image/png")
    response = web.post(
        reverse("people:missing_create"), {**missing_post(), "photos": [upload(), bad]}
    )
    assert response.status_code == 200
    assert "not a JPEG, PNG or WebP" in field_error(response.content.decode(), "id_photos")
    assert registry_state() == before


# --------------------------------------------------------------------------- duplicates


@pytest.mark.django_db
def test_second_report_of_the_same_person_warns_then_links_then_confirms(web: Client) -> None:
    first = create(web)
    before = registry_state()

    warned = web.post(
        reverse("people:missing_create"),
        {**missing_post(last_seen_place="Another place"), "photos": [upload()]},
    )
    assert warned.status_code == 200
    html = warned.content.decode()
    words = text_of(warned)
    assert registry_state() == before
    assert "This person may already be registered" in words
    assert "choose the photo files once more" in words
    case = Case.objects.get(missing_report=first)
    assert case.number in words and "born 2015" in words and "Male" in words
    assert "Chaoyang Park, south gate" in words and "2024-05-01" in words
    link = f'href="{reverse("people:missing_detail", args=[first.pk])}" target="_blank"'
    assert link in html
    radio = element(html, f"link_to_{first.pk}")
    assert (radio["type"], radio["name"], radio["value"]) == ("radio", "link_to", str(first.pk))
    assert element(html, "id_confirm_not_duplicate")["type"] == "checkbox"
    # Everything typed is kept (a file input cannot be).
    assert element(html, "id_last_seen_place")["value"] == "Another place"
    assert element(html, "id_relatives-0-name")["value"] == "张建国"

    linked = create(web, last_seen_place="Another place", link_to=str(first.pk))
    assert linked.duplicate_of_id == first.pk
    assert AuditEntry.objects.filter(
        action=AuditAction.CREATE, object_type="missing_report", object_id=str(linked.pk)
    ).exists()

    again = web.post(reverse("people:missing_create"), missing_post())
    assert again.status_code == 200
    assert f"link_to_{linked.pk}" in again.content.decode()
    confirmed = create(web, confirm_not_duplicate="on")
    assert confirmed.duplicate_of_id is None and confirmed.duplicate_checked is True

    detail = web.get(reverse("people:missing_detail", args=[linked.pk])).content.decode()
    assert f'href="{reverse("people:missing_detail", args=[first.pk])}"' in detail
    assert "Same person as" in detail
    original = web.get(reverse("people:missing_detail", args=[first.pk])).content.decode()
    assert f'href="{reverse("people:missing_detail", args=[linked.pk])}"' in original


@pytest.mark.django_db
def test_link_to_a_record_that_is_not_a_candidate_is_refused(web: Client) -> None:
    first = create(web)
    unrelated = create(web, full_name="李娜", sex="F")
    before = registry_state()
    response = web.post(reverse("people:missing_create"), missing_post(link_to=str(unrelated.pk)))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not a valid choice." in html
    assert f'id="link_to_{first.pk}"' in html
    assert registry_state() == before


@pytest.mark.django_db
def test_a_tampered_link_to_value_is_explained(web: Client) -> None:
    before = registry_state()
    response = web.post(reverse("people:missing_create"), missing_post(link_to="abc"))
    assert response.status_code == 200
    assert "Enter a whole number." in text_of(response)
    assert registry_state() == before


@pytest.mark.django_db
def test_linking_and_confirming_at_once_is_refused(web: Client) -> None:
    first = create(web)
    before = registry_state()
    response = web.post(
        reverse("people:missing_create"),
        missing_post(link_to=str(first.pk), confirm_not_duplicate="on"),
    )
    assert response.status_code == 200
    assert "not both" in field_error(response.content.decode(), "id_confirm_not_duplicate")
    assert f'id="link_to_{first.pk}"' in response.content.decode()
    assert registry_state() == before


# --------------------------------------------------------------------------- jurisdiction


@pytest.mark.django_db
def test_investigator_of_another_county_gets_403_and_is_audited(
    web: Client, make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    report = create(web)
    haidian = make_user(Role.INVESTIGATOR, "110108")
    other = client_for(haidian)

    def denials() -> int:
        return AuditEntry.objects.filter(
            action=AuditAction.DENIED,
            actor=haidian,
            object_type="missing_report",
            object_id=str(report.pk),
        ).count()

    assert other.get(reverse("people:missing_detail", args=[report.pk])).status_code == 403
    assert denials() == 1
    assert other.get(reverse("people:missing_edit", args=[report.pk])).status_code == 403
    assert denials() == 2
    posted = other.post(
        reverse("people:missing_edit", args=[report.pk]),
        missing_post(last_seen_division="110108", last_seen_place="Changed"),
    )
    assert posted.status_code == 403
    assert denials() == 3
    report.refresh_from_db()
    assert report.last_seen_place == "Chaoyang Park, south gate"
    assert other.get(reverse("people:missing_detail", args=[10**9])).status_code == 404


@pytest.mark.django_db
def test_registering_outside_ones_area_is_refused_with_a_message(
    make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    haidian = make_user(Role.INVESTIGATOR, "110108")
    before = registry_state()
    response = client_for(haidian).post(
        reverse("people:missing_create"), {**missing_post(), "photos": [upload()]}
    )
    assert response.status_code == 403
    message = field_error(response.content.decode(), "id_last_seen_division")
    assert "only for places in your jurisdiction (海淀区)" in message
    assert registry_state() == before
    assert AuditEntry.objects.filter(
        action=AuditAction.DENIED, actor=haidian, object_type="missing_report"
    ).exists()


@pytest.mark.django_db
def test_supervisor_reads_but_sees_no_edit_button(
    web: Client, make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    report = create(web)
    supervisor = client_for(make_user(Role.SUPERVISOR, "110000"))
    detail = supervisor.get(reverse("people:missing_detail", args=[report.pk]))
    assert detail.status_code == 200
    assert "张小伟" in detail.content.decode()
    assert reverse("people:missing_edit", args=[report.pk]) not in detail.content.decode()
    assert supervisor.get(reverse("people:missing_edit", args=[report.pk])).status_code == 403
    assert supervisor.get(reverse("people:missing_create")).status_code == 403


@pytest.mark.django_db
def test_partner_agency_cannot_open_missing_pages(
    web: Client, make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    from reunite.accounts.models import OrganisationKind

    report = create(web)
    partner = make_user(Role.PARTNER_WELFARE, "110105", OrganisationKind.WELFARE_INSTITUTION)
    client = client_for(partner)
    assert client.get(reverse("people:missing_list")).status_code == 403
    assert client.get(reverse("people:missing_list"), {"age_from": "abc"}).status_code == 403
    assert client.get(reverse("people:missing_create")).status_code == 403
    assert client.get(reverse("people:missing_detail", args=[report.pk])).status_code == 403
    denied = AuditEntry.objects.filter(action=AuditAction.DENIED, actor=partner)
    assert denied.count() == 4


@pytest.mark.django_db
def test_photo_access_is_limited_to_the_jurisdiction(
    web: Client, make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    response = web.post(reverse("people:missing_create"), {**missing_post(), "photos": [upload()]})
    assert response.status_code == 302
    photo = PersonPhoto.objects.get()
    url = reverse("people:photo", args=[photo.uuid])
    assert web.get(url).status_code == 200

    other = make_user(Role.INVESTIGATOR, "440104")  # Yuexiu, Guangzhou
    assert client_for(other).get(url).status_code == 403
    assert AuditEntry.objects.filter(
        action=AuditAction.DENIED, actor=other, object_type="photo", object_id=str(photo.pk)
    ).exists()

    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith(resolve_url(settings.LOGIN_URL))
    assert Client().get(reverse("people:missing_list")).status_code == 302

    missing = reverse("people:photo", args=["00000000-0000-0000-0000-000000000000"])
    assert web.get(missing).status_code == 404


# --------------------------------------------------------------------------- editing


@pytest.mark.django_db
def test_edit_form_is_filled_in_and_saves_changes_and_new_photos(web: Client) -> None:
    report = create(web)
    page = web.get(reverse("people:missing_edit", args=[report.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert element(html, "id_full_name")["value"] == "张小伟"
    assert element(html, "id_last_seen_at")["value"] == "2024-05-01T14:30"
    assert element(html, "id_last_seen_division")["value"] == "110105"
    assert element(html, "id_relatives-0-name")["value"] == "张建国"
    assert element(html, "id_relatives-0-relationship")["<tag>"] == "select"
    assert "Save report" in html

    data = missing_post(
        last_seen_place="Wangjing SOHO",
        **{
            "relatives-INITIAL_FORMS": "1",
            "relatives-0-name": "",
            "relatives-0-relationship": "",
            "relatives-0-contact": "",
            "relatives-1-name": "王芳",
            "relatives-1-relationship": "mother",
            "relatives-1-contact": "",
        },
    )
    response = web.post(
        reverse("people:missing_edit", args=[report.pk]), {**data, "photos": [upload()]}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.last_seen_place == "Wangjing SOHO"
    assert [(r.name, r.relationship) for r in report.relatives.all()] == [("王芳", "mother")]
    assert report.photos.count() == 1 and len(stored_files()) == 1


@pytest.mark.django_db
def test_bad_edit_changes_nothing(web: Client) -> None:
    report = create(web)
    before = registry_state()
    response = web.post(
        reverse("people:missing_edit", args=[report.pk]),
        {**missing_post(last_seen_at=_future(), last_seen_place="Elsewhere"), "photos": [upload()]},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "in the future" in field_error(html, "id_last_seen_at")
    assert registry_state() == before
    report.refresh_from_db()
    assert report.last_seen_place == "Chaoyang Park, south gate"
