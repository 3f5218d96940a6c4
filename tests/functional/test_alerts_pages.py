"""Alert pages over HTTP: the public page, sightings, CAP and Atom, and the police pages."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from lxml import etree  # type: ignore[import-untyped]

from reunite.accounts.models import OrganisationKind, Role, User
from reunite.alerts import cap, services
from reunite.alerts.models import Alert, AlertStatus, Sighting
from reunite.audit.models import AuditAction, AuditEntry
from reunite.people.services import change_missing_status
from tests.alerts_support import JINNIU, SICHUAN, draft, make_report, png, seat

pytestmark = pytest.mark.django_db

ATOM = {"atom": "http://www.w3.org/2005/Atom"}
CAP_NS = {"cap": cap.NAMESPACE}


@pytest.fixture(autouse=True)
def _setup(settings: Any) -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


@pytest.fixture
def team(make_user) -> dict[str, User]:
    return {
        "investigator": make_user(Role.INVESTIGATOR, JINNIU),
        "officer": make_user(Role.SUPERVISOR, JINNIU),
        "province": make_user(Role.SUPERVISOR, SICHUAN),
    }


@pytest.fixture
def active(team) -> Alert:
    report = make_report(
        team["investigator"],
        relatives=[],
        distinguishing_marks="左眉上有一道疤",
    )
    alert = draft(team["investigator"], report, publish_name=False)
    return services.release_alert(acting_user=team["officer"], alert_id=alert.pk)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sighting_form(**overrides: Any) -> dict[str, Any]:
    lat, lon = seat("510703")
    values: dict[str, Any] = {
        "seen_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "where": "",
        "latitude": f"{lat:.5f}",
        "longitude": f"{lon:.5f}",
        "description": "A girl in a red hooded jacket with a man, bus station.",
        "contact": "",
    }
    values.update(overrides)
    return values


# --------------------------------------------------------------------------- public page


def test_the_public_page_shows_only_what_is_published(client: Client, active: Alert) -> None:
    response = client.get(reverse("alerts:public", args=[active.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "穿红色连帽外套" in html  # the public description
    assert reverse("alerts:photo", args=[active.pk]) in html
    assert "林小雨" not in html  # the name was not marked for publication
    assert "疤" not in html  # nor the distinguishing marks
    assert "witness" not in html  # the danger statement is internal
    assert html.count("<circle") >= 2 and "100km" in html  # the ring and the last-seen point
    assert "cdn" not in html.lower() and "tile" not in html.lower()
    assert re.search(r"<script[^>]+src=\"https?://", html) is None  # no third-party script
    assert "mailto:?subject=" in html and "sms:?body=" in html
    photo = client.get(reverse("alerts:photo", args=[active.pk]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    assert photo.content.startswith(b"\x89PNG")
    assert "no-cache" in photo["Cache-Control"]


@pytest.mark.parametrize(
    "url",
    ["/alerts/{pk}/", "/alerts/{pk}/cap.xml", "/alerts/{pk}/photo"],
)
def test_drafts_and_unknown_alerts_do_not_exist_publicly(client: Client, team, url: str) -> None:
    alert = draft(team["investigator"], make_report(team["investigator"]))
    for pk in (alert.pk, 987654, 2**70):
        assert client.get(url.format(pk=pk)).status_code == 404, pk
    assert client.get("/alerts/abc/").status_code == 404


def test_cap_document_is_served_and_becomes_the_cancel_message(
    client: Client, team, active: Alert
) -> None:
    response = client.get(reverse("alerts:cap", args=[active.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/cap+xml")
    cap.validate(response.content)
    doc = etree.fromstring(response.content)
    assert doc.findtext("cap:msgType", namespaces=CAP_NS) == "Alert"
    assert doc.findtext("cap:info/cap:area/cap:circle", namespaces=CAP_NS).endswith(" 100")

    services.cancel_alert(acting_user=team["officer"], alert_id=active.pk, note="Duplicate")
    response = client.get(reverse("alerts:cap", args=[active.pk]))
    assert response.status_code == 200
    cap.validate(response.content)
    doc = etree.fromstring(response.content)
    assert doc.findtext("cap:msgType", namespaces=CAP_NS) == "Cancel"
    first = active.messages.get(seq=1)
    assert first.identifier in doc.findtext("cap:references", namespaces=CAP_NS)
    assert "Duplicate" not in response.content.decode()  # the reason is internal


def test_the_atom_feed_lists_active_alerts_only(client: Client, team, active: Alert) -> None:
    pending = draft(team["investigator"], make_report(team["investigator"], name="赵一鸣", sex="M"))
    response = client.get(reverse("alerts:feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = etree.fromstring(response.content)
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    for required in ("atom:id", "atom:title", "atom:updated", "atom:author/atom:name"):
        assert feed.findtext(required, namespaces=ATOM), required
    entries = feed.findall("atom:entry", ATOM)
    assert len(entries) == 1
    entry = entries[0]
    for required in ("atom:id", "atom:title", "atom:updated", "atom:summary"):
        assert entry.findtext(required, namespaces=ATOM), required
    links = {(a.get("rel"), a.get("type")): a.get("href") for a in entry.findall("atom:link", ATOM)}
    assert links[("alternate", "application/cap+xml")].endswith(f"/alerts/{active.pk}/cap.xml")
    assert any(href.endswith(f"/alerts/{active.pk}/") for href in links.values())
    assert f"/alerts/{pending.pk}/" not in response.content.decode()


def test_a_resolved_alert_says_found_and_drops_the_photo(
    client: Client, team, active: Alert
) -> None:
    change_missing_status(
        acting_user=team["investigator"], report_id=active.report_id, status="found_alive"
    )
    response = client.get(reverse("alerts:public", args=[active.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "has been found" in html and "Thank you" in html
    assert reverse("alerts:photo", args=[active.pk]) not in html
    assert "穿红色连帽外套" not in html and '<form method="post" enctype' not in html
    assert client.get(reverse("alerts:photo", args=[active.pk])).status_code == 404
    posted = client.post(reverse("alerts:public", args=[active.pk]), sighting_form())
    assert posted.status_code == 422 and not Sighting.objects.exists()
    assert active.report.photos.exists()  # the record itself is kept


# --------------------------------------------------------------------------- sightings


def test_an_anonymous_sighting_lands_in_the_case(client: Client, team, active: Alert) -> None:
    response = client.post(
        reverse("alerts:public", args=[active.pk]),
        sighting_form(contact="13800000000"),
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 302
    sighting = Sighting.objects.get()
    assert sighting.case_id == active.case_id and sighting.location_source == "map"
    assert 100 < sighting.distance_km < 115
    assert str(sighting) in client.get(response["Location"]).content.decode()  # the reference
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_type="sighting")
    assert entry.source_ip == "203.0.113.7" and entry.actor is None

    police = signed_in(team["investigator"])
    page = police.get(reverse("alerts:manage_detail", args=[active.pk])).content.decode()
    assert str(sighting) in page and "13800000000" in page and 'class="sighting-dot"' in page
    case_page = police.get(reverse("cases:detail", args=[active.case_id])).content.decode()
    assert "1 sighting" in case_page and reverse("alerts:manage_detail", args=[active.pk]) in (
        case_page
    )
    assert "13800000000" not in case_page


def test_a_flood_from_one_address_is_refused_loudly(
    client: Client, settings, active: Alert
) -> None:
    settings.ALERTS = {**settings.ALERTS, "SIGHTINGS_PER_ADDRESS": 3, "SIGHTINGS_WINDOW_S": 600}
    url = reverse("alerts:public", args=[active.pk])
    for _ in range(3):
        assert client.post(url, sighting_form(), REMOTE_ADDR="198.51.100.4").status_code == 302
    for _ in range(2):
        refused = client.post(
            url, sighting_form(description="Fourth: the girl again."), REMOTE_ADDR="198.51.100.4"
        )
        assert refused.status_code == 429
        assert refused["Retry-After"] == "600"
        html = refused.content.decode()
        assert "NOT sent" in html and "10 minutes" in html and "110" in html
        assert "Fourth: the girl again." in html  # what they typed is still in the form
    # Once over the limit the address is refused before its photo is even decoded.
    junk = SimpleUploadedFile("photo.jpg", b"not an image", "image/jpeg")
    late = client.post(url, {**sighting_form(), "photo": junk}, REMOTE_ADDR="198.51.100.4")
    assert late.status_code == 429
    assert Sighting.objects.count() == 3
    assert (
        AuditEntry.objects.filter(
            action=AuditAction.DENIED, object_type="sighting", details__reason="rate_limited"
        ).count()
        == 1
    )
    other = client.post(url, sighting_form(), REMOTE_ADDR="198.51.100.5")
    assert other.status_code == 302 and Sighting.objects.count() == 4


def test_sighting_photos_are_checked_and_served_only_to_the_police(
    client: Client, settings, team, active: Alert
) -> None:
    url = reverse("alerts:public", args=[active.pk])
    not_image = SimpleUploadedFile("photo.jpg", b"GIF89a but not really", "image/jpeg")
    response = client.post(url, {**sighting_form(), "photo": not_image})
    assert response.status_code == 422
    assert "not a JPEG, PNG or WebP" in response.content.decode()
    settings.PHOTO_MAX_BYTES = 200
    response = client.post(url, {**sighting_form(), "photo": png(size=(200, 200), color="red")})
    assert response.status_code == 422 and "too large" in response.content.decode()
    assert not Sighting.objects.exists()

    settings.PHOTO_MAX_BYTES = 8 * 1024 * 1024
    assert client.post(url, {**sighting_form(), "photo": png()}).status_code == 302
    sighting = Sighting.objects.get()
    photo_url = reverse("alerts:sighting_photo", args=[sighting.pk])
    assert client.get(photo_url).status_code == 302  # to the sign-in page
    police = signed_in(team["investigator"])
    photo = police.get(photo_url)
    assert photo.status_code == 200 and photo.content.startswith(b"\x89PNG")
    assert AuditEntry.objects.filter(
        action=AuditAction.READ, object_type="sighting", object_id=str(sighting.pk)
    ).exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"seen_at": "yesterday-ish"}, "Enter a valid date/time"),
        ({"latitude": "nan"}, "Enter a number"),
        ({"latitude": "1e999"}, "Enter a number"),
        ({"latitude": "95"}, "less than or equal to 90"),
        ({"latitude": "", "longitude": "", "where": ""}, "Say where"),
        ({"latitude": "", "longitude": "", "where": "0, 0"}, "outside every division"),
        ({"where": "x" * 301}, "at most 300"),
        ({"description": ""}, "This field is required"),
        ({"description": "bell\x07"}, "control characters"),
        ({"contact": "c" * 201}, "at most 200"),
    ],
)
def test_hostile_sightings_get_a_clear_error_and_nothing_is_stored(
    client: Client, active: Alert, overrides: dict[str, Any], message: str
) -> None:
    response = client.post(reverse("alerts:public", args=[active.pk]), sighting_form(**overrides))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Sighting.objects.exists()


def test_markup_in_a_sighting_is_shown_as_text(client: Client, team, active: Alert) -> None:
    client.post(
        reverse("alerts:public", args=[active.pk]),
        sighting_form(description="<script>alert(1)</script> seen"),
    )
    page = signed_in(team["investigator"]).get(reverse("alerts:manage_detail", args=[active.pk]))
    html = page.content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_the_sighting_form_needs_its_csrf_token(active: Alert) -> None:
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("alerts:public", args=[active.pk]), sighting_form())
    assert response.status_code == 403 and not Sighting.objects.exists()


# --------------------------------------------------------------------------- police pages


def test_an_investigator_drafts_and_a_duty_officer_releases(team) -> None:
    report = make_report(team["investigator"])
    investigator = signed_in(team["investigator"])
    detail = investigator.get(reverse("people:missing_detail", args=[report.pk]))
    draft_url = reverse("alerts:draft", args=[report.pk])
    assert draft_url in detail.content.decode()
    form = investigator.get(draft_url)
    assert form.status_code == 200
    photo = report.photos.get()
    response = investigator.post(
        draft_url,
        {
            "scope": "regional",
            "abduction_or_danger": "on",
            "danger_statement": "Seen led away by a stranger.",
            "public_description": "穿红色连帽外套、蓝色牛仔裤，背粉色书包，扎马尾辫。",
            "publish_age": "on",
            "publish_sex": "on",
            "public_photo": str(photo.uuid),
            "latitude": "",
            "longitude": "",
        },
    )
    assert response.status_code == 302
    alert = Alert.objects.get()
    page = investigator.get(response["Location"]).content.decode()
    assert "not met" not in page  # every criterion holds
    assert reverse("alerts:release", args=[alert.pk]) not in page  # investigators cannot

    refused = investigator.post(reverse("alerts:release", args=[alert.pk]))
    assert refused.status_code == 403
    assert AuditEntry.objects.filter(
        action=AuditAction.DENIED, actor=team["investigator"], object_type="alert"
    ).exists()

    officer = signed_in(team["officer"])
    page = officer.get(reverse("alerts:manage_detail", args=[alert.pk])).content.decode()
    assert reverse("alerts:release", args=[alert.pk]) in page
    released = officer.post(reverse("alerts:release", args=[alert.pk]))
    assert released.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACTIVE
    page = officer.get(reverse("alerts:manage_detail", args=[alert.pk])).content.decode()
    assert "100km" in page and "Delivered" in page


def test_bad_drafts_come_back_with_the_error_next_to_the_field(team) -> None:
    report = make_report(team["investigator"])
    investigator = signed_in(team["investigator"])
    response = investigator.post(
        reverse("alerts:draft", args=[report.pk]),
        {"scope": "regional", "latitude": "39.92", "longitude": "116.44", "public_photo": ""},
    )
    assert response.status_code == 422
    assert "outside 金牛区" in response.content.decode()
    response = investigator.post(
        reverse("alerts:draft", args=[report.pk]),
        {"scope": "regional", "public_description": "红" * 400, "public_photo": "not-a-uuid"},
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    response = investigator.post(
        reverse("alerts:draft", args=[report.pk]),
        {"scope": "regional", "public_description": "红" * 340, "public_photo": ""},
    )
    assert response.status_code == 422 and "360" in response.content.decode()
    assert not Alert.objects.exists()


def test_releasing_an_incomplete_draft_shows_what_is_missing(team) -> None:
    report = make_report(team["investigator"], photo=False)
    alert = draft(team["investigator"], report)
    response = signed_in(team["officer"]).post(reverse("alerts:release", args=[alert.pk]))
    assert response.status_code == 422
    assert "Choose a photo" in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DRAFT


def test_national_approval_and_cancel_through_the_pages(team, make_user) -> None:
    alert = draft(team["investigator"], make_report(team["investigator"]), scope="national")
    officer = signed_in(team["officer"])
    assert officer.post(reverse("alerts:release", args=[alert.pk])).status_code == 302
    approve_url = reverse("alerts:approve", args=[alert.pk])
    assert (
        approve_url
        not in officer.get(reverse("alerts:manage_detail", args=[alert.pk])).content.decode()
    )
    assert officer.post(approve_url).status_code == 403  # a county officer may not approve
    province = signed_in(team["province"])
    page = province.get(reverse("alerts:manage_detail", args=[alert.pk])).content.decode()
    assert approve_url in page and "awaiting the second approval" in page
    assert province.post(approve_url).status_code == 302
    alert.refresh_from_db()
    assert alert.national_approved_by == team["province"]

    cancel_url = reverse("alerts:cancel", args=[alert.pk])
    empty = officer.post(cancel_url, {"note": ""})
    assert empty.status_code == 422 and "This field is required" in empty.content.decode()
    assert officer.post(cancel_url, {"note": "Found by the family"}).status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CANCELLED


def test_police_pages_are_scoped_and_need_sign_in(client: Client, team, make_user) -> None:
    alert = draft(team["investigator"], make_report(team["investigator"]))
    assert client.get(reverse("alerts:manage_list")).status_code == 302
    other = signed_in(make_user(Role.INVESTIGATOR, "510105"))
    assert other.get(reverse("alerts:manage_detail", args=[alert.pk])).status_code == 403
    assert str(alert) not in other.get(reverse("alerts:manage_list")).content.decode()
    mine = signed_in(team["investigator"]).get(reverse("alerts:manage_list"))
    assert mine.status_code == 200 and str(alert) in mine.content.decode()
    assert 'href="/alerts/manage/"' in mine.content.decode()  # the navigation link
    technician = signed_in(make_user(Role.DNA_TECHNICIAN, SICHUAN, OrganisationKind.FORENSIC_LAB))
    home = technician.get(reverse("people:missing_detail", args=[alert.report_id]))
    assert home.status_code == 200
    assert 'href="/alerts/manage/"' not in home.content.decode()
    assert reverse("alerts:draft", args=[alert.report_id]) not in home.content.decode()
    assert technician.get(reverse("alerts:manage_list")).status_code == 403
    assert signed_in(team["investigator"]).get("/alerts/manage/99999999/").status_code == 404


def test_sighting_triage(client: Client, team, active: Alert) -> None:
    client.post(reverse("alerts:public", args=[active.pk]), sighting_form())
    sighting = Sighting.objects.get()
    police = signed_in(team["investigator"])
    url = reverse("alerts:sighting_status", args=[sighting.pk])
    assert police.post(url, {"status": "credible"}).status_code == 302
    sighting.refresh_from_db()
    assert sighting.status == "credible"
    assert police.post(url, {"status": "bogus"}).status_code == 302
    sighting.refresh_from_db()
    assert sighting.status == "credible"
    province = signed_in(team["province"])  # the province holds the county: it may triage too
    assert province.post(url, {"status": "dismissed"}).status_code == 302
    sighting.refresh_from_db()
    assert sighting.status == "dismissed"


def test_ticks_keep_the_public_map_in_step(client: Client, team, active: Alert) -> None:
    services.tick(now=timezone.now() + dt.timedelta(hours=1, minutes=5))
    html = client.get(reverse("alerts:public", args=[active.pk])).content.decode()
    assert "200km" in html and "100km" in html
