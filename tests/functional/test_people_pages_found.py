"""The pages for persons of unknown origin: partner agencies register, police read and edit."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reunite.accounts.models import OrganisationKind, Role, User
from reunite.audit.models import AuditAction, AuditEntry
from reunite.people.models import FoundPerson, PersonPhoto
from tests.functional.test_people_pages import (
    element,
    field_error,
    stored_files,
    text_of,
    upload,
)


def found_post(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "category": "street_begging",
        "sex": "F",
        "found_on": "2024-06-01",
        "found_division": "110105",
        "found_latitude": "",
        "found_longitude": "",
        "found_place": "Sanlitun underpass",
        "institution": "",
        "held_place": "",
        "age_min": "8",
        "age_max": "12",
        "height_cm": "",
        "build": "",
        "description": "Red coat, shy",
        "distinguishing_marks": "",
        "language_dialect": "Sichuan dialect",
        "given_name": "小红",
        "given_name_pinyin": "",
        "given_places": "成都, a river",
    }
    data.update(overrides)
    return data


def found_state() -> dict[str, int]:
    return {
        "people": FoundPerson.objects.count(),
        "photos": PersonPhoto.objects.count(),
        "files": len(stored_files()),
    }


@pytest.fixture
def partner(make_user: Callable[..., User]) -> User:
    """Staff of a welfare institution in Chaoyang."""
    return make_user(Role.PARTNER_WELFARE, "110105", OrganisationKind.WELFARE_INSTITUTION)


@pytest.fixture
def partner_web(partner: User) -> Client:
    client = Client()
    client.force_login(partner)
    return client


def register(client: Client, **overrides: Any) -> FoundPerson:
    response = client.post(reverse("people:found_create"), found_post(**overrides))
    assert response.status_code == 302, text_of(response)[:2000]
    return FoundPerson.objects.get(pk=int(response.headers["Location"].rstrip("/").split("/")[-1]))


@pytest.mark.django_db
def test_partner_registers_a_found_person_with_a_photo_and_police_find_it(
    partner_web: Client, partner: User, investigator: User
) -> None:
    page = partner_web.get(reverse("people:found_create"))
    assert page.status_code == 200
    assert element(page.content.decode(), "id_found_on")["type"] == "date"
    assert partner.organisation is not None
    response = partner_web.post(
        reverse("people:found_create"),
        {**found_post(institution=str(partner.organisation.pk)), "photos": [upload()]},
    )
    assert response.status_code == 302
    person = FoundPerson.objects.get()
    assert person.given_name_pinyin == "xiao hong"
    assert person.institution == partner.organisation
    assert person.photos.count() == 1

    detail = partner_web.get(reverse("people:found_detail", args=[person.pk]))
    words = text_of(detail)
    for expected in (
        "Street begging",
        "2024-06-01",
        "北京市 朝阳区",
        "Sanlitun underpass",
        "8–12",
        "Red coat, shy",
        "Sichuan dialect",
        "小红",
        "xiao hong",
        "成都, a river",
        partner.organisation.name,
    ):
        assert expected in words, expected
    photo = person.photos.get()
    assert f'src="{reverse("people:photo", args=[photo.uuid])}"' in detail.content.decode()
    served = partner_web.get(reverse("people:photo", args=[photo.uuid]))
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert hashlib.sha256(served.content).hexdigest() == photo.sha256

    police = Client()
    police.force_login(investigator)
    for query in ("xiaohong", "xiao hong", "Xiǎo Hóng", "小红"):
        listed = police.get(reverse("people:found_list"), {"q": query})
        assert reverse("people:found_detail", args=[person.pk]) in listed.content.decode(), query
    listed = police.get(reverse("people:found_list"), {"q": "xiaoming"})
    assert reverse("people:found_detail", args=[person.pk]) not in listed.content.decode()


def _tomorrow() -> str:
    return (timezone.localdate() + dt.timedelta(days=1)).isoformat()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field_id", "message"),
    [
        pytest.param(
            {"found_on": _tomorrow()},
            "id_found_on",
            "The date found is in the future.",
            id="found-in-the-future",
        ),
        pytest.param(
            {"age_min": "30", "age_max": "20"},
            "id_age_max",
            "The upper age must not be below the lower age.",
            id="age-min-above-age-max",
        ),
        pytest.param(
            {"age_min": "-1"}, "id_age_min", "Age must be between 0 and 120.", id="age-minus-one"
        ),
        pytest.param(
            {"age_max": "130"}, "id_age_max", "Age must be between 0 and 120.", id="age-130"
        ),
        pytest.param(
            {"found_latitude": "23.13", "found_longitude": "113.26"},
            "id_found_latitude",
            "These coordinates lie outside 朝阳区.",
            id="point-in-guangzhou-for-chaoyang",
        ),
        pytest.param(
            {"found_on": "2024-13-40"}, "id_found_on", "Enter a valid date.", id="impossible-date"
        ),
        pytest.param({"category": ""}, "id_category", "This field is required.", id="no-category"),
    ],
)
def test_bad_found_input_shows_message_and_saves_nothing(
    partner_web: Client, overrides: dict[str, Any], field_id: str, message: str
) -> None:
    before = found_state()
    response = partner_web.post(
        reverse("people:found_create"), {**found_post(**overrides), "photos": [upload()]}
    )
    assert response.status_code == 200
    assert message in field_error(response.content.decode(), field_id)
    assert "The photos you chose were not kept" in text_of(response)
    assert found_state() == before


@pytest.mark.django_db
def test_found_photo_that_is_not_an_image_saves_nothing(partner_web: Client) -> None:
    before = found_state()
    fake = SimpleUploadedFile("me.jpg", b"plain text pretending", "image/jpeg")
    response = partner_web.post(
        reverse("people:found_create"), {**found_post(), "photos": [upload(), fake]}
    )
    assert response.status_code == 200
    assert "not a JPEG, PNG or WebP" in field_error(response.content.decode(), "id_photos")
    assert found_state() == before


@pytest.mark.django_db
def test_institution_outside_the_users_area_is_not_offered(
    partner_web: Client, make_org: Callable[..., Any]
) -> None:
    far = make_org("440104", OrganisationKind.RESCUE_STATION, "越秀区救助站")
    near = make_org("110105", OrganisationKind.RESCUE_STATION, "朝阳区救助站")
    html = partner_web.get(reverse("people:found_create")).content.decode()
    assert f'value="{near.pk}"' in html and "越秀区救助站" not in html
    before = found_state()
    response = partner_web.post(reverse("people:found_create"), found_post(institution=far.pk))
    assert response.status_code == 200
    assert "Select a valid choice" in field_error(response.content.decode(), "id_institution")
    assert found_state() == before


@pytest.mark.django_db
def test_second_record_of_the_same_found_person_warns_then_links_then_confirms(
    partner_web: Client,
) -> None:
    first = register(partner_web)
    before = found_state()
    warned = partner_web.post(
        reverse("people:found_create"), found_post(found_place="Near the station")
    )
    assert warned.status_code == 200
    html = warned.content.decode()
    words = text_of(warned)
    assert found_state() == before
    assert "This person may already be registered" in words
    assert f"UP-{first.pk}" in words and "aged 8–12" in words and "Female" in words
    assert "Sanlitun underpass, 2024-06-01" in words
    link = f'href="{reverse("people:found_detail", args=[first.pk])}" target="_blank"'
    assert link in html
    assert element(html, "id_found_place")["value"] == "Near the station"

    linked = register(partner_web, found_place="Near the station", link_to=str(first.pk))
    assert linked.duplicate_of_id == first.pk
    confirmed = register(partner_web, confirm_not_duplicate="on")
    assert confirmed.duplicate_of_id is None and confirmed.duplicate_checked

    detail = partner_web.get(reverse("people:found_detail", args=[first.pk])).content.decode()
    assert f'href="{reverse("people:found_detail", args=[linked.pk])}"' in detail


@pytest.mark.django_db
def test_found_person_of_another_county_is_403_and_audited(
    partner_web: Client, make_user: Callable[..., User]
) -> None:
    person = register(partner_web)
    haidian = make_user(Role.INVESTIGATOR, "110108")
    other = Client()
    other.force_login(haidian)
    assert other.get(reverse("people:found_detail", args=[person.pk])).status_code == 403
    assert other.get(reverse("people:found_edit", args=[person.pk])).status_code == 403
    posted = other.post(
        reverse("people:found_edit", args=[person.pk]),
        found_post(found_division="110108", found_place="Changed"),
    )
    assert posted.status_code == 403
    person.refresh_from_db()
    assert person.found_place == "Sanlitun underpass"
    assert (
        AuditEntry.objects.filter(
            action=AuditAction.DENIED,
            actor=haidian,
            object_type="found_person",
            object_id=str(person.pk),
        ).count()
        == 3
    )
    outside = other.post(reverse("people:found_create"), found_post())
    assert outside.status_code == 403
    message = field_error(outside.content.decode(), "id_found_division")
    assert "only for places in your jurisdiction (海淀区)" in message
    assert FoundPerson.objects.count() == 1


@pytest.mark.django_db
def test_edit_found_person_keeps_values_adds_photos_and_refuses_bad_input(
    partner_web: Client,
) -> None:
    person = register(partner_web)
    page = partner_web.get(reverse("people:found_edit", args=[person.pk]))
    html = page.content.decode()
    assert element(html, "id_found_on")["value"] == "2024-06-01"
    assert element(html, "id_found_division")["value"] == "110105"
    assert element(html, "id_given_name")["value"] == "小红"

    bad = partner_web.post(
        reverse("people:found_edit", args=[person.pk]),
        {**found_post(age_min="15", age_max="9", held_place="Ward 3"), "photos": [upload()]},
    )
    assert bad.status_code == 200
    assert "must not be below" in field_error(bad.content.decode(), "id_age_max")
    person.refresh_from_db()
    assert (person.age_min, person.held_place, person.photos.count()) == (8, "", 0)

    good = partner_web.post(
        reverse("people:found_edit", args=[person.pk]),
        {**found_post(held_place="Ward 3"), "photos": [upload()]},
    )
    assert good.status_code == 302
    person.refresh_from_db()
    assert person.held_place == "Ward 3" and person.photos.count() == 1
    assert len(stored_files()) == 1
