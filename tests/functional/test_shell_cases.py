"""Case pages over HTTP: scoping, denial auditing, status changes, hostile input, query counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from reunite.accounts.models import Division, Role
from reunite.audit.models import AuditAction, AuditEntry
from reunite.cases.models import Case, CaseEvent, CaseEventKind, CaseStatus, CaseType
from reunite.people.services import MissingReportData, create_missing_report

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _static_root(settings) -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def report_in(user, code: str, name: str):
    return create_missing_report(
        acting_user=user,
        data=MissingReportData(
            full_name=name,
            sex="F",
            last_seen_at=timezone.now() - dt.timedelta(days=3),
            last_seen_division=Division.objects.get(code=code),
            age_at_disappearance=9,
        ),
        confirm_not_duplicate=True,
    )


def bulk_cases(user, n: int, *, start: int = 0) -> None:
    """Many cases in the user's unit without going through report registration (fast)."""
    org = user.organisation
    Case.objects.bulk_create(
        Case(
            number=f"BULK-{start + i:05d}",
            case_type=CaseType.TRAFFICKING,
            status=CaseStatus.OPEN,
            owning_unit=org,
            division=org.division,
            opened_at=timezone.now() - dt.timedelta(minutes=start + i),
        )
        for i in range(n)
    )


def listed_numbers(response) -> set[str]:
    return {c.number for c in response.context["page"].object_list}


def test_list_is_scoped_county_versus_province(client, make_user) -> None:
    chaoyang = make_user(Role.INVESTIGATOR, "110105")
    haidian = make_user(Role.INVESTIGATOR, "110108")
    mine = report_in(chaoyang, "110105", "王小红").case
    theirs = report_in(haidian, "110108", "李明").case
    shanghai = make_user(Role.INVESTIGATOR, "310101")
    far = report_in(shanghai, "310101", "张伟").case

    client.force_login(chaoyang)
    response = client.get(reverse("cases:list"))
    assert response.status_code == 200
    assert listed_numbers(response) == {mine.number}
    html = response.content.decode()
    assert reverse("people:missing_detail", args=[mine.missing_report_id]) in html
    assert reverse("cases:detail", args=[mine.pk]) in html
    assert theirs.number not in html

    client.force_login(make_user(Role.SUPERVISOR, "110000"))
    assert listed_numbers(client.get(reverse("cases:list"))) == {mine.number, theirs.number}
    assert far.number not in client.get(reverse("cases:list")).content.decode()


def test_list_filters_by_status_and_type(client, investigator) -> None:
    a = report_in(investigator, "110105", "王小红").case
    b = report_in(investigator, "110105", "李明").case
    Case.objects.filter(pk=b.pk).update(status=CaseStatus.SOLVED)
    bulk_cases(investigator, 1)
    client.force_login(investigator)
    assert listed_numbers(client.get(reverse("cases:list"), {"status": "solved"})) == {b.number}
    assert listed_numbers(client.get(reverse("cases:list"), {"status": "active"})) == {
        a.number,
        "BULK-00000",
    }
    by_type = client.get(reverse("cases:list"), {"type": CaseType.MISSING_PERSON})
    assert listed_numbers(by_type) == {a.number, b.number}
    both = client.get(reverse("cases:list"), {"type": CaseType.MISSING_PERSON, "status": "open"})
    assert listed_numbers(both) == {a.number}
    assert 'value="open" selected' in both.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"type": "<script>alert(1)</script>"},
        {"status": "'; DROP TABLE cases_case; --"},
        {"page": "abc"},
        {"page": "-3"},
        {"page": "999999999999999999999999"},
        {"page": "0"},
    ],
)
def test_list_shrugs_off_hostile_parameters(client, investigator, params) -> None:
    report_in(investigator, "110105", "王小红")
    client.force_login(investigator)
    response = client.get(reverse("cases:list"), params)
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 1  # unknown values filter nothing
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_list_paginates_by_fifty(client, investigator) -> None:
    bulk_cases(investigator, 51)
    client.force_login(investigator)
    first = client.get(reverse("cases:list"))
    assert len(first.context["page"].object_list) == 50
    assert "BULK-00000" in first.content.decode()  # newest first
    second = client.get(reverse("cases:list"), {"page": 2, "status": "open"})
    assert listed_numbers(second) == {"BULK-00050"}
    html = first.content.decode()
    assert 'href="?page=2"' in html


def test_list_query_count_does_not_grow_with_rows(
    client, investigator, django_assert_max_num_queries
) -> None:
    bulk_cases(investigator, 3)
    client.force_login(investigator)
    with django_assert_max_num_queries(6) as few:
        assert client.get(reverse("cases:list")).status_code == 200
    bulk_cases(investigator, 45, start=100)
    with django_assert_max_num_queries(6) as many:
        assert client.get(reverse("cases:list")).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_list_refused_to_a_role_without_cases(client, make_user) -> None:
    partner = make_user(Role.PARTNER_HEALTH, "110105")
    client.force_login(partner)
    response = client.get(reverse("cases:list"))
    assert response.status_code == 403
    denied = AuditEntry.objects.get(action=AuditAction.DENIED)
    assert denied.actor_id == partner.pk and denied.object_type == "case"


def test_detail_shows_the_case_and_its_timeline(client, investigator) -> None:
    case = report_in(investigator, "110105", "王小红").case
    client.force_login(investigator)
    response = client.get(reverse("cases:detail", args=[case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert case.number in html
    assert "Missing person" in html
    assert investigator.organisation.name in html
    assert "北京市 朝阳区" in html
    assert investigator.username in html  # assigned investigator and the timeline's actor
    assert "Case opened" in html
    assert reverse("people:missing_detail", args=[case.missing_report_id]) in html
    read = AuditEntry.objects.filter(action=AuditAction.READ, object_type="case")
    assert read.filter(object_id=str(case.pk), actor=investigator).exists()


def test_detail_outside_the_jurisdiction_is_refused_and_audited(client, make_user) -> None:
    haidian = make_user(Role.INVESTIGATOR, "110108")
    case = report_in(haidian, "110108", "李明").case
    outsider = make_user(Role.INVESTIGATOR, "110105")
    client.force_login(outsider)
    response = client.get(reverse("cases:detail", args=[case.pk]))
    assert response.status_code == 403
    assert "You may not open this page" in response.content.decode()
    assert case.number not in response.content.decode()
    denied = AuditEntry.objects.get(action=AuditAction.DENIED, actor=outsider)
    assert denied.object_type == "case" and denied.object_id == str(case.pk)


@pytest.mark.parametrize("path", ["/cases/abc/", "/cases/-1/", "/cases/1.5/", "/cases/%00/"])
def test_non_numeric_ids_are_not_found(client, investigator, path) -> None:
    client.force_login(investigator)
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.parametrize("pk", [987654, 2**63 - 1, 2**63, 10**30])
def test_missing_or_huge_ids_are_not_found(client, investigator, pk) -> None:
    client.force_login(investigator)
    assert client.get(f"/cases/{pk}/").status_code == 404
    assert client.post(f"/cases/{pk}/", {"status": "closed"}).status_code == 404


def test_status_form_changes_the_status(client, investigator) -> None:
    case = report_in(investigator, "110105", "王小红").case
    client.force_login(investigator)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert '<select id="new-status" name="status"' in page
    assert '<option value="investigating">' in page
    assert '<option value="closed">' in page
    assert '<option value="open">' not in page  # the status it already has
    response = client.post(reverse("cases:detail", args=[case.pk]), {"status": "investigating"})
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    case.refresh_from_db()
    assert case.status == CaseStatus.INVESTIGATING
    event = CaseEvent.objects.filter(case=case, kind=CaseEventKind.STATUS).get()
    assert event.actor_id == investigator.pk
    followed = client.get(response["Location"]).content.decode()
    assert "The case status was changed." in followed
    assert "Open → Under investigation" in followed


def test_status_form_refuses_a_forbidden_transition(client, investigator) -> None:
    case = report_in(investigator, "110105", "王小红").case
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED)
    client.force_login(investigator)
    response = client.post(reverse("cases:detail", args=[case.pk]), {"status": "solved"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'role="alert"' in html and "cannot become" in html
    assert 'aria-invalid="true"' in html
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    bogus = client.post(reverse("cases:detail", args=[case.pk]), {"status": "<b>x</b>"})
    assert bogus.status_code == 422
    assert "<b>x</b>" not in bogus.content.decode()


def test_status_form_hidden_and_refused_without_edit_right(client, make_user) -> None:
    investigator = make_user(Role.INVESTIGATOR, "110105")
    case = report_in(investigator, "110105", "王小红").case
    technician = make_user(Role.DNA_TECHNICIAN, "110105")
    client.force_login(technician)
    page = client.get(reverse("cases:detail", args=[case.pk]))
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()
    response = client.post(reverse("cases:detail", args=[case.pk]), {"status": "closed"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert AuditEntry.objects.filter(action=AuditAction.DENIED, actor=technician).exists()


def test_status_change_needs_csrf(investigator) -> None:
    from django.test import Client

    case = report_in(investigator, "110105", "王小红").case
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(investigator)
    response = strict.post(reverse("cases:detail", args=[case.pk]), {"status": "closed"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
