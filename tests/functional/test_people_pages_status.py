"""The "Change status" forms of the detail pages, through the Django test client."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.urls import reverse

from reunite.accounts.models import OrganisationKind, Role, User
from reunite.audit.models import AuditAction, AuditEntry
from reunite.cases.models import Case
from reunite.people.models import FoundPerson, MissingPersonReport
from reunite.people.services import (
    FoundPersonData,
    MissingReportData,
    create_found_person,
    create_missing_report,
)
from tests.conftest import days_ago, division
from tests.functional.test_people_pages import element, text_of

pytestmark = pytest.mark.django_db

NOTE = "李芳 saw her at the station; <b>call</b> 13800000000"


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


def options(html: str) -> list[str]:
    """The values offered by the status select (after the empty "choose one" option)."""
    match = re.search(r'<select id="new-status"[^>]*>(.*?)</select>', html, re.S)
    assert match, "no status select on the page"
    blank, *values = re.findall(r'<option value="([^"]*)"', match.group(1))
    assert blank == ""
    return values


def error_text(html: str, element_id: str) -> str:
    match = re.search(rf'<small id="{element_id}"[^>]*>(.*?)</small>', html, re.S)
    assert match, f"no #{element_id} on the page"
    return unescape(match.group(1)).strip()


def missing_url(report: MissingPersonReport, name: str = "missing_status") -> str:
    return reverse(f"people:{name}", args=[report.pk])


def found_url(person: FoundPerson, name: str = "found_status") -> str:
    return reverse(f"people:{name}", args=[person.pk])


def denials(user: User, object_type: str, pk: int) -> int:
    return AuditEntry.objects.filter(
        action=AuditAction.DENIED, actor=user, object_type=object_type, object_id=str(pk)
    ).count()


@pytest.fixture(autouse=True)
def _static_root(settings: Any) -> None:
    # WhiteNoise warns (an error under our warning filter) when STATIC_ROOT does not exist yet.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def web(investigator: User) -> Client:
    return signed_in(investigator)


# --------------------------------------------------------------------------- missing reports


def test_investigator_marks_a_report_found_then_reopens_it(web: Client, investigator: User) -> None:
    report = new_report(investigator)
    case = Case.objects.get(missing_report=report)
    Case.objects.filter(pk=case.pk).update(status="investigating")

    page = web.get(missing_url(report, "missing_detail"))
    html = page.content.decode()
    assert options(html) == ["found_alive", "found_deceased", "withdrawn"]
    assert element(html, "status-form")["action"] == missing_url(report)
    assert element(html, "status-note")["<tag>"] == "textarea"

    done = web.post(missing_url(report), {"status": "found_alive", "note": NOTE}, follow=True)
    assert done.redirect_chain == [(missing_url(report, "missing_detail"), 302)]
    words = text_of(done)
    assert f"The status is now “Found alive”; case {case.number} is “Solved”." in words
    assert options(done.content.decode()) == ["missing"]
    assert MissingPersonReport.objects.get(pk=report.pk).status == "found_alive"
    assert Case.objects.get(pk=case.pk).status == "solved"

    # The case timeline shows the change in words, with the note (escaped).
    timeline = web.get(reverse("cases:detail", args=[case.pk]))
    timeline_html = timeline.content.decode()
    assert f"MP-{report.pk}: Missing → Found alive" in text_of(timeline)
    assert "&lt;b&gt;call&lt;/b&gt;" in timeline_html and "<b>call</b>" not in timeline_html
    assert "Under investigation → Solved" in text_of(timeline)

    reopened = web.post(missing_url(report), {"status": "missing", "note": "Wrong person"})
    assert reopened.status_code == 302
    assert MissingPersonReport.objects.get(pk=report.pk).status == "missing"


def test_the_case_timeline_speaks_chinese(web: Client, investigator: User) -> None:
    report = new_report(investigator)
    web.post(missing_url(report), {"status": "withdrawn", "note": ""})
    case = Case.objects.get(missing_report=report)
    page = web.get(reverse("cases:detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert f"MP-{report.pk}: 未找到 → 报案已撤销" in text_of(page)
    reopen = web.post(missing_url(report), {"status": "missing"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert reopen.status_code == 422
    words = text_of(reopen)
    assert "请说明重新开启该记录的原因。" in words
    assert "重新开启报告时必填。" in words and "变更状态" in words


def test_reopening_without_a_note_shows_the_error_and_keeps_the_input(
    web: Client, investigator: User
) -> None:
    report = new_report(investigator)
    MissingPersonReport.objects.filter(pk=report.pk).update(status="withdrawn")
    response = web.post(missing_url(report), {"status": "missing", "note": "  "})
    assert response.status_code == 422
    html = response.content.decode()
    assert error_text(html, "status-note-error") == "Say why the record is reopened."
    assert '<option value="missing" selected>' in html  # the choice made is kept
    assert element(html, "status-note")["aria-invalid"] == "true"
    assert "status-note-error" in element(html, "status-note")["aria-describedby"].split()
    assert MissingPersonReport.objects.get(pk=report.pk).status == "withdrawn"

    too_long = "备" * 2001
    response = web.post(missing_url(report), {"status": "missing", "note": too_long})
    assert response.status_code == 422
    html = response.content.decode()
    assert error_text(html, "status-note-error") == "At most 2000 characters."
    assert too_long in html  # nothing the user typed is lost


@pytest.mark.parametrize(
    ("stored", "posted"),
    [("found_alive", "withdrawn"), ("missing", "missing"), ("missing", "lost"), ("missing", "")],
)
def test_a_refused_change_is_shown_at_the_select(
    web: Client, investigator: User, stored: str, posted: str
) -> None:
    report = new_report(investigator)
    MissingPersonReport.objects.filter(pk=report.pk).update(status=stored)
    response = web.post(missing_url(report), {"status": posted, "note": "why"})
    assert response.status_code == 422
    html = response.content.decode()
    message = error_text(html, "new-status-error")
    assert "cannot become" in message or message == "Not a valid status."
    assert element(html, "new-status")["aria-invalid"] == "true"
    assert MissingPersonReport.objects.get(pk=report.pk).status == stored
    assert not AuditEntry.objects.filter(
        action=AuditAction.UPDATE, object_type="missing_report"
    ).exists()


def test_other_county_supervisor_and_partner_are_refused(
    investigator: User, make_user: Callable[..., User]
) -> None:
    report = new_report(investigator)
    haidian = make_user(Role.INVESTIGATOR, "110108")
    supervisor = make_user(Role.SUPERVISOR, "110000")
    partner = make_user(Role.PARTNER_WELFARE, "110105", OrganisationKind.WELFARE_INSTITUTION)
    for user in (haidian, supervisor, partner):
        response = signed_in(user).post(missing_url(report), {"status": "withdrawn"})
        assert response.status_code == 403, user.role
        assert denials(user, "missing_report", report.pk) == 1, user.role
    assert MissingPersonReport.objects.get(pk=report.pk).status == "missing"

    # The supervisor may read the report but is offered no status form.
    page = signed_in(supervisor).get(missing_url(report, "missing_detail"))
    assert page.status_code == 200
    assert 'id="status-form"' not in page.content.decode()
    assert missing_url(report) not in page.content.decode()


def test_unknown_report_is_404_get_is_405_anonymous_is_sent_to_sign_in(
    web: Client, investigator: User
) -> None:
    report = new_report(investigator)
    unknown = web.post(reverse("people:missing_status", args=[10**9]), {"status": "x"})
    assert unknown.status_code == 404
    assert web.get(missing_url(report)).status_code == 405
    anonymous = Client().post(missing_url(report), {"status": "withdrawn"})
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith(reverse("accounts:login"))
    assert MissingPersonReport.objects.get(pk=report.pk).status == "missing"


def test_the_form_needs_the_csrf_token(investigator: User) -> None:
    report = new_report(investigator)
    client = signed_in(investigator, enforce_csrf_checks=True)
    refused = client.post(missing_url(report), {"status": "withdrawn"})
    assert refused.status_code == 403
    assert MissingPersonReport.objects.get(pk=report.pk).status == "missing"
    request = RequestFactory().get("/")
    token = get_token(request)
    client.cookies[django_settings.CSRF_COOKIE_NAME] = request.META["CSRF_COOKIE"]
    accepted = client.post(
        missing_url(report), {"status": "withdrawn", "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 302
    assert MissingPersonReport.objects.get(pk=report.pk).status == "withdrawn"


# --------------------------------------------------------------------------- found persons


def test_partner_identifies_then_resettles_a_found_person(make_user: Callable[..., User]) -> None:
    partner = make_user(Role.PARTNER_WELFARE, "110105", OrganisationKind.WELFARE_INSTITUTION)
    client = signed_in(partner)
    person = new_person(partner)
    page = client.get(found_url(person, "found_detail"))
    assert options(page.content.decode()) == ["identified"]

    done = client.post(found_url(person), {"status": "identified"}, follow=True)
    assert done.redirect_chain == [(found_url(person, "found_detail"), 302)]
    assert "The status is now “Identified”." in text_of(done)
    assert options(done.content.decode()) == ["unidentified", "returned_home", "resettled"]

    no_note = client.post(found_url(person), {"status": "unidentified"})
    assert no_note.status_code == 422
    assert error_text(no_note.content.decode(), "status-note-error") == (
        "Say why the record is reopened."
    )
    assert FoundPerson.objects.get(pk=person.pk).status == "identified"

    assert client.post(found_url(person), {"status": "resettled"}).status_code == 302
    final = client.get(found_url(person, "found_detail"))
    assert "This record's status cannot change any more." in text_of(final)
    assert 'id="new-status"' not in final.content.decode()
    again = client.post(found_url(person), {"status": "returned_home"})
    assert again.status_code == 422
    assert "cannot become" in text_of(again)
    assert FoundPerson.objects.get(pk=person.pk).status == "resettled"


def test_found_person_of_another_county_is_refused_and_audited(
    make_user: Callable[..., User],
) -> None:
    person = new_person(make_user(Role.INVESTIGATOR, "110108"), "110108")
    outsider = make_user(Role.INVESTIGATOR, "110105")
    response = signed_in(outsider).post(found_url(person), {"status": "identified"})
    assert response.status_code == 403
    assert denials(outsider, "found_person", person.pk) == 1
    assert FoundPerson.objects.get(pk=person.pk).status == "unidentified"
