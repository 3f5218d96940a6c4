"""The registry lists: search, filters, bad filter values, paging, htmx, query counts."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reunite.accounts.models import Division, Role, User
from reunite.audit.models import AuditAction, AuditEntry
from reunite.people.models import FoundPerson, MissingPersonReport
from reunite.people.services import (
    FoundPersonData,
    MissingReportData,
    RelativeData,
    create_found_person,
    create_missing_report,
)
from tests.functional.test_people_pages import text_of

TODAY = timezone.localdate()


def seen(year: int, month: int = 5, day: int = 1) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, 10, 0))


def add_missing(
    user: User,
    name: str,
    *,
    sex: str = "M",
    born: dt.date | None = dt.date(2015, 3, 14),
    last_seen: dt.datetime | None = None,
    code: str = "110105",
    status: str = "",
) -> MissingPersonReport:
    report = create_missing_report(
        acting_user=user,
        data=MissingReportData(
            full_name=name,
            sex=sex,
            date_of_birth=born,
            age_at_disappearance=None if born else 30,
            last_seen_at=last_seen or seen(2024),
            last_seen_division=Division.objects.get(code=code),
            last_seen_place="Test place",
            relatives=[RelativeData(name="亲属", relationship="mother")],
        ),
        confirm_not_duplicate=True,
    )
    if status:
        MissingPersonReport.objects.filter(pk=report.pk).update(status=status)
    return report


def add_found(
    user: User,
    *,
    given_name: str = "",
    sex: str = "F",
    ages: tuple[int, int] = (8, 12),
    found_on: dt.date = dt.date(2024, 6, 1),
    category: str = "street_begging",
    code: str = "110105",
) -> FoundPerson:
    return create_found_person(
        acting_user=user,
        data=FoundPersonData(
            category=category,
            sex=sex,
            found_on=found_on,
            found_division=Division.objects.get(code=code),
            age_min=ages[0],
            age_max=ages[1],
            given_name=given_name,
        ),
        confirm_not_duplicate=True,
    )


def listed(response: Any, kind: str = "missing") -> set[int]:
    """Primary keys of the records linked from a results table."""
    return {
        int(pk) for pk in re.findall(rf'href="/people/{kind}/(\d+)/"', response.content.decode())
    }


@pytest.fixture
def beijing(make_user: Callable[..., User]) -> User:
    """An investigator of the Beijing municipal bureau (sees all its districts)."""
    return make_user(Role.INVESTIGATOR, "110000")


@pytest.fixture
def bj(beijing: User) -> Client:
    client = Client()
    client.force_login(beijing)
    return client


# --------------------------------------------------------------------------- missing list


@pytest.mark.django_db
def test_missing_list_filters(beijing: User, bj: Client) -> None:
    boy = add_missing(beijing, "张小伟", born=dt.date(2015, 3, 14), last_seen=seen(2024))
    girl = add_missing(
        beijing, "王芳", sex="F", born=dt.date(1990, 1, 2), last_seen=seen(2020), code="110108"
    )
    man = add_missing(
        beijing, "李强", born=None, last_seen=seen(2010, 7, 9), code="110105", status="found_alive"
    )
    url = reverse("people:missing_list")
    assert listed(bj.get(url)) == {boy.pk, girl.pk, man.pk}
    assert listed(bj.get(url, {"sex": "F"})) == {girl.pk}
    boy_age = TODAY.year - 2015
    assert listed(bj.get(url, {"age_from": boy_age - 1, "age_to": boy_age + 1})) == {boy.pk}
    assert listed(bj.get(url, {"age_from": 30})) == {girl.pk, man.pk}
    assert listed(bj.get(url, {"division": "110108"})) == {girl.pk}
    assert listed(bj.get(url, {"division": "110105"})) == {boy.pk, man.pk}
    assert listed(bj.get(url, {"division": "110000 北京市"})) == {boy.pk, girl.pk, man.pk}
    assert listed(bj.get(url, {"date_from": "2019-01-01", "date_to": "2021-12-31"})) == {girl.pk}
    assert listed(bj.get(url, {"date_to": "2010-07-09"})) == {man.pk}
    assert listed(bj.get(url, {"status": "found_alive"})) == {man.pk}
    assert listed(bj.get(url, {"q": "wang fang", "sex": "F"})) == {girl.pk}
    assert listed(bj.get(url, {"q": "wang fang", "sex": "M"})) == set()
    assert "No report matches these filters." in text_of(bj.get(url, {"q": "nobody"}))

    row = bj.get(url, {"q": "张小伟"})
    words = text_of(row)
    case = boy.case
    assert f"MP-{boy.pk} {case.number} 张小伟 (zhang xiao wei) Male 2015 ({boy_age})" in words
    assert "2024-05-01, 朝阳区 — Test place Missing" in words
    assert AuditEntry.objects.filter(
        action=AuditAction.SEARCH, object_type="missing_report", actor=beijing
    ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"age_from": "abc"}, "Age from: Enter a whole number.", id="age-abc"),
        pytest.param({"age_to": "500"}, "Age to: Age must be between 0 and 120.", id="age-500"),
        pytest.param(
            {"age_from": "40", "age_to": "10"},
            "Age to: “Age to” must not be below “Age from”.",
            id="age-from-above-age-to",
        ),
        pytest.param(
            {"division": "999999"},
            "Last seen in (division): Unknown division code “999999”.",
            id="unknown-division",
        ),
        pytest.param(
            {"date_from": "2024-13-40"}, "Last seen from: Enter a valid date.", id="bad-date"
        ),
        pytest.param(
            {"date_from": "2024-06-01", "date_to": "2024-01-01"},
            "Last seen to: The end date must not be before the start date.",
            id="dates-reversed",
        ),
        pytest.param({"sex": "X"}, "Sex: Select a valid choice.", id="unknown-sex"),
    ],
)
def test_invalid_missing_filters_show_a_message_not_a_500(
    investigator: User, params: dict[str, str], message: str
) -> None:
    add_missing(investigator, "张小伟")
    client = Client()
    client.force_login(investigator)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get(reverse("people:missing_list"), params, headers=headers)
        assert response.status_code == 200
        words = text_of(response)
        assert "Some filters are not valid, so no search was run:" in words
        assert message in words
        assert listed(response) == set()
    assert not AuditEntry.objects.filter(action=AuditAction.SEARCH).exists()


@pytest.mark.django_db
def test_missing_list_works_with_and_without_htmx(investigator: User) -> None:
    add_missing(investigator, "张小伟")
    client = Client()
    client.force_login(investigator)
    full = client.get(reverse("people:missing_list"), {"q": "zhang"})
    html = full.content.decode()
    form = re.search(r"<form method=\"get\"[^>]*>", html)
    assert form is not None
    tag = form.group(0)
    assert f'action="{reverse("people:missing_list")}"' in tag
    assert f'hx-get="{reverse("people:missing_list")}"' in tag
    assert 'hx-trigger="keyup changed delay:300ms, change"' in tag
    assert 'hx-target="#results"' in tag and 'hx-push-url="true"' in tag
    assert re.search(r'<label for="id_q"[^>]*>Search</label>', html)
    assert re.search(r'<input type="search" name="q" value="zhang"', html)
    assert '<button type="submit">Search</button>' in html
    assert '<section id="results"' in html
    picker = re.search(r'<input type="text" name="division"[^>]*>', html)
    assert picker is not None
    for attr in (
        'list="id_division_options"',
        f'hx-get="{reverse("people:division_search")}?field=division"',
        'hx-target="#id_division_options"',
        'hx-push-url="false"',
        'hx-on:keyup="event.stopPropagation()"',
    ):
        assert attr in picker.group(0), attr
    assert '<datalist id="id_division_options"></datalist>' in html

    partial = client.get(reverse("people:missing_list"), {"q": "zhang"}, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert "<html" not in body and "<form" not in body
    assert "张小伟" in body and "1 report found." in body


@pytest.mark.django_db
def test_missing_list_pages_by_50_without_n_plus_one(
    investigator: User, django_assert_max_num_queries: Any
) -> None:
    client = Client()
    client.force_login(investigator)
    url = reverse("people:missing_list")
    add_missing(investigator, "Person Zero", born=None, last_seen=seen(2000))
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as one_row:
        assert len(listed(client.get(url))) == 1

    for i in range(1, 60):
        add_missing(investigator, f"Person {i:02d}x", born=dt.date(1990 + i % 20, 1, 1))
    # 12 today: session, user, unit, division, the audit entry (6 with savepoints), count, page.
    with django_assert_max_num_queries(14), CaptureQueriesContext(connection) as full_page:
        first = client.get(url)
    assert len(full_page.captured_queries) == len(one_row.captured_queries)
    assert len(listed(first)) == 50
    assert "60 reports found." in text_of(first)
    assert "Page 1 of 2" in text_of(first)
    assert 'href="?page=2"' in first.content.decode()

    second = client.get(url, {"page": 2})
    assert len(listed(second)) == 10
    assert (
        MissingPersonReport.objects.order_by("-last_seen_at", "-id").last().pk  # type: ignore[union-attr]
        in listed(second)
    )
    kept = client.get(url, {"q": "person", "page": "2"})
    assert 'href="?q=person&amp;page=1"' in kept.content.decode()


# --------------------------------------------------------------------------- found list


@pytest.mark.django_db
def test_found_list_filters_and_bad_values(beijing: User, bj: Client) -> None:
    child = add_found(beijing, given_name="小红", ages=(8, 12), found_on=dt.date(2024, 6, 1))
    adult = add_found(
        beijing,
        sex="M",
        ages=(40, 50),
        found_on=dt.date(2021, 2, 3),
        category="mental_illness",
        code="110108",
    )
    url = reverse("people:found_list")
    assert listed(bj.get(url), "found") == {child.pk, adult.pk}
    assert listed(bj.get(url, {"category": "mental_illness"}), "found") == {adult.pk}
    assert listed(bj.get(url, {"sex": "F"}), "found") == {child.pk}
    assert listed(bj.get(url, {"age_from": 10, "age_to": 20}), "found") == {child.pk}
    assert listed(bj.get(url, {"age_from": 45}), "found") == {adult.pk}
    assert listed(bj.get(url, {"division": "110108"}), "found") == {adult.pk}
    assert listed(bj.get(url, {"date_from": "2024-01-01"}), "found") == {child.pk}
    assert listed(bj.get(url, {"date_to": "2021-12-31"}), "found") == {adult.pk}
    assert listed(bj.get(url, {"status": "identified"}), "found") == set()
    assert listed(bj.get(url, {"q": "xiao hong"}), "found") == {child.pk}

    words = text_of(bj.get(url, {"q": "小红"}))
    assert f"UP-{child.pk} 小红 (xiao hong) Female 8–12 2024-06-01, 朝阳区" in words

    for params, message in (
        ({"age_to": "abc"}, "Age to: Enter a whole number."),
        ({"age_from": "30", "age_to": "20"}, "“Age to” must not be below “Age from”."),
        ({"date_to": "2024-13-40"}, "Found to: Enter a valid date."),
        ({"division": "12345678"}, "Unknown division code “12345678”."),
        ({"category": "astronaut"}, "Category: Select a valid choice."),
    ):
        response = bj.get(url, params)
        assert response.status_code == 200
        assert message in text_of(response), params
        assert listed(response, "found") == set()


@pytest.mark.django_db
def test_found_list_query_count_is_flat(
    investigator: User, django_assert_max_num_queries: Any
) -> None:
    client = Client()
    client.force_login(investigator)
    url = reverse("people:found_list")
    add_found(investigator, found_on=dt.date(2000, 1, 1))
    client.get(url)
    with CaptureQueriesContext(connection) as one_row:
        client.get(url)
    for i in range(1, 60):
        add_found(investigator, found_on=dt.date(2001 + i % 20, 1 + i % 12, 1), ages=(i, i + 5))
    # 12 today: session, user, unit, division, the audit entry (6 with savepoints), count, page.
    with django_assert_max_num_queries(14), CaptureQueriesContext(connection) as full_page:
        response = client.get(url)
    assert len(full_page.captured_queries) == len(one_row.captured_queries)
    assert len(listed(response, "found")) == 50


@pytest.mark.django_db
def test_partner_sees_found_list_but_not_missing_list(make_user: Callable[..., User]) -> None:
    from reunite.accounts.models import OrganisationKind

    partner = make_user(Role.PARTNER_WELFARE, "110105", OrganisationKind.WELFARE_INSTITUTION)
    client = Client()
    client.force_login(partner)
    assert client.get(reverse("people:found_list")).status_code == 200
    assert client.get(reverse("people:missing_list")).status_code == 403
    page = client.get(reverse("people:found_list")).content.decode()
    assert reverse("people:found_create") in page


# --------------------------------------------------------------------------- division picker


@pytest.mark.django_db
def test_division_search_answers_json_and_htmx(investigator: User) -> None:
    client = Client()
    client.force_login(investigator)
    url = reverse("people:division_search")

    by_han = json.loads(client.get(url, {"q": "朝阳"}).content)["results"]
    chaoyang = next(r for r in by_han if r["code"] == "110105")
    assert chaoyang["full_name"] == "北京市 朝阳区" and chaoyang["name"] == "朝阳区"
    assert len(by_han) <= 20
    assert {
        r["code"] for r in json.loads(client.get(url, {"q": "chao yang"}).content)["results"]
    } >= {"110105"}
    by_code = json.loads(client.get(url, {"q": "1101"}).content)["results"]
    assert by_code and all(r["code"].startswith("1101") or "1101" in r["name"] for r in by_code)
    assert len(json.loads(client.get(url, {"q": "1"}).content)["results"]) == 20
    assert json.loads(client.get(url, {"q": "  "}).content)["results"] == []

    htmx = client.get(
        url, {"field": "last_seen_division", "last_seen_division": "朝阳"}, HTTP_HX_REQUEST="true"
    )
    assert '<option value="110105">北京市 朝阳区 (110105)</option>' in htmx.content.decode()

    assert Client().get(url, {"q": "朝阳"}).status_code == 302
