"""The audit log is append-only and hash-chained; verification catches edits and deletions."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from reunite.audit.models import AuditAction, AuditEntry
from reunite.audit.services import record, verify


def _fill(user, n: int = 5) -> list[AuditEntry]:
    return [
        record(actor=user, action=AuditAction.READ, object_type="missing_report", object_id=i)
        for i in range(1, n + 1)
    ]


def _drop_triggers() -> None:
    """What a database administrator bent on hiding something could do."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")
            cur.execute("DROP TRIGGER IF EXISTS audit_entry_no_delete")
        else:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # flush deferred FK checks first
            cur.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_no_change")


@pytest.mark.django_db
def test_chain_links_each_entry_to_the_previous(investigator) -> None:
    entries = _fill(investigator)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    for prev, entry in itertools.pairwise(entries):
        assert entry.prev_hash == prev.entry_hash
    result = verify()
    assert result.ok and result.entries == 5 and result.head_hash == entries[-1].entry_hash


@pytest.mark.django_db
def test_database_refuses_update_and_delete(investigator) -> None:
    entry = _fill(investigator, 2)[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(object_id="999")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert verify().ok


@pytest.mark.django_db
def test_verify_catches_an_edited_row(investigator) -> None:
    entries = _fill(investigator)
    _drop_triggers()
    with connection.cursor() as cur:
        cur.execute("UPDATE audit_auditentry SET object_id = %s WHERE seq = %s", ["42", 3])
    result = verify()
    assert not result.ok
    assert any("entry 3 was altered" in p for p in result.problems)
    with pytest.raises(CommandError, match="audit chain broken"):
        call_command("audit", "verify")
    assert entries  # the untouched entries are still there


@pytest.mark.django_db
def test_verify_catches_a_recomputed_hash_by_the_broken_link(investigator) -> None:
    """Rewriting an entry *and* its hash still breaks the link from the next entry."""
    _fill(investigator)
    _drop_triggers()
    entry = AuditEntry.objects.get(seq=2)
    entry.object_id = "777"
    from reunite.audit.services import compute_hash

    new_hash = compute_hash(entry)
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE audit_auditentry SET object_id = %s, entry_hash = %s WHERE seq = 2",
            ["777", new_hash],
        )
    problems = verify().problems
    assert any("entry 3 does not link" in p for p in problems)


@pytest.mark.django_db
def test_verify_catches_deleted_rows_in_the_middle_and_at_the_end(investigator) -> None:
    _fill(investigator, 6)
    _drop_triggers()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM audit_auditentry WHERE seq = 3")
    assert any("entries 3..3 are missing" in p for p in verify().problems)
    with connection.cursor() as cur:
        cur.execute("DELETE FROM audit_auditentry WHERE seq = 6")
    assert any("head records entry 6" in p for p in verify().problems)


@pytest.mark.django_db
def test_command_reports_an_intact_chain(investigator, capsys) -> None:
    _fill(investigator, 3)
    call_command("audit", "verify")
    assert "audit chain intact: 3 entries" in capsys.readouterr().out
