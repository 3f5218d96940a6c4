"""The audit log page: who may read it, what it shows, chain verification, hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from reunite.accounts.models import Role
from reunite.audit.models import AuditAction, AuditEntry
from reunite.audit.services import record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _static_root(settings) -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def seqs(response) -> list[int]:
    return [e.seq for e in response.context["page"].object_list]


def test_investigator_is_refused_and_the_refusal_audited(client, investigator) -> None:
    client.force_login(investigator)
    response = client.get(reverse("audit:list"))
    assert response.status_code == 403
    assert "You may not open this page" in response.content.decode()
    denied = AuditEntry.objects.get(action=AuditAction.DENIED)
    assert denied.actor_id == investigator.pk and denied.object_type == "audit_entry"
    # The navigation does not offer the page either.
    home = client.get(reverse("home")).content.decode()
    assert reverse("audit:list") not in home


def test_supervisor_reads_newest_first_with_an_intact_chain(client, make_user) -> None:
    chief = make_user(Role.SUPERVISOR, "110000")
    colleague = make_user(Role.INVESTIGATOR, "110105")
    client.force_login(chief)  # entry 1: the sign-in
    for i in range(3):
        record(actor=colleague, action=AuditAction.READ, object_type="missing_report", object_id=i)
    response = client.get(reverse("audit:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "The audit chain is intact" in html
    assert response.context["chain"].ok
    assert seqs(response) == [5, 4, 3, 2, 1]
    entries = response.context["page"].object_list
    # Reading the log was itself logged, on top; the sign-in at the bottom.
    assert entries[0].action == AuditAction.SEARCH and entries[0].actor_id == chief.pk
    assert entries[4].action == AuditAction.LOGIN and entries[4].actor_id == chief.pk
    assert colleague.username in html
    assert 'aria-current="page"' in html  # the navigation marks the section


def test_filters_by_action_and_record_type(client, make_user) -> None:
    chief = make_user(Role.SUPERVISOR, "110000")
    colleague = make_user(Role.INVESTIGATOR, "110105")
    record(actor=colleague, action=AuditAction.READ, object_type="missing_report", object_id=1)
    record(actor=colleague, action=AuditAction.READ, object_type="found_person", object_id=2)
    record(actor=colleague, action=AuditAction.CREATE, object_type="found_person", object_id=3)
    client.force_login(chief)
    reads = client.get(reverse("audit:list"), {"action": "read"})
    assert seqs(reads) == [2, 1]
    found = client.get(reverse("audit:list"), {"type": "found_person"})
    assert seqs(found) == [3, 2]
    both = client.get(reverse("audit:list"), {"type": "found_person", "action": "create"})
    assert seqs(both) == [3]
    assert '<option value="found_person" selected>' in both.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"action": "explode"},
        {"type": "no_such_type"},
        {"type": "<img src=x onerror=alert(1)>"},
        {"page": "lots"},
        {"page": "-1"},
        {"page": "10000000000000000000000"},
    ],
)
def test_hostile_parameters_are_harmless(client, make_user, params) -> None:
    chief = make_user(Role.SUPERVISOR, "110000")
    record(actor=chief, action=AuditAction.READ, object_type="missing_report", object_id=1)
    client.force_login(chief)
    response = client.get(reverse("audit:list"), params)
    assert response.status_code == 200
    # Nothing filtered away: the entry, the sign-in and this page's own search.
    assert response.context["page"].paginator.count == 3
    assert "<img src=x" not in response.content.decode()


def test_paginates(client, make_user) -> None:
    chief = make_user(Role.SUPERVISOR, "110000")
    for i in range(60):
        record(actor=chief, action=AuditAction.READ, object_type="case", object_id=i)
    client.force_login(chief)
    first = client.get(reverse("audit:list"))
    assert len(first.context["page"].object_list) == 50
    second = client.get(reverse("audit:list"), {"page": 2})
    # 60 entries, the sign-in and one search per page view.
    assert seqs(second) == list(range(13, 0, -1))


def test_scope_follows_the_jurisdiction(client, make_user) -> None:
    beijing_chief = make_user(Role.SUPERVISOR, "110000")
    shanghai = make_user(Role.INVESTIGATOR, "310101")
    beijing = make_user(Role.INVESTIGATOR, "110105")
    record(actor=shanghai, action=AuditAction.READ, object_type="case", object_id=1)
    record(actor=beijing, action=AuditAction.READ, object_type="case", object_id=2)
    record(actor=None, action=AuditAction.LOGIN_FAILED, source_ip="192.0.2.1")
    client.force_login(beijing_chief)
    actors = {e.actor_id for e in client.get(reverse("audit:list")).context["page"].object_list}
    assert actors == {beijing.pk, beijing_chief.pk}

    ministry = make_user(Role.SUPERVISOR, "CN")
    client.force_login(ministry)
    entries = client.get(reverse("audit:list")).context["page"].object_list
    assert {e.actor_id for e in entries} == {
        shanghai.pk,
        beijing.pk,
        beijing_chief.pk,
        ministry.pk,
        None,
    }


def test_administrator_may_read_it(client, make_user) -> None:
    client.force_login(make_user(Role.ADMINISTRATOR, "110000"))
    assert client.get(reverse("audit:list")).status_code == 200


def test_a_broken_chain_is_shown(client, make_user) -> None:
    chief = make_user(Role.SUPERVISOR, "110000")
    client.force_login(chief)
    for i in range(3):
        record(actor=chief, action=AuditAction.READ, object_type="case", object_id=i)
    # A tamperer rewrites the head row (it has no trigger): the next entry, this page's own
    # search, then links to a hash that no entry has.
    with connection.cursor() as cur:
        cur.execute("UPDATE audit_auditchainhead SET entry_hash = %s", ["f" * 64])
    response = client.get(reverse("audit:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "The audit chain is broken" in html
    assert 'role="alert"' in html
    assert not response.context["chain"].ok
    assert "entry 5 does not link to its predecessor" in html
