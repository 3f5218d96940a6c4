"""Identity fields are encrypted at rest and still searchable through the blind index."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from reunite.core.crypto import decrypt_text, encrypt_text
from reunite.people.models import MissingPersonReport
from reunite.people.services import (
    MissingFilters,
    MissingReportData,
    RelativeData,
    create_missing_report,
    search_missing,
)
from tests.conftest import days_ago


def _report(investigator, chaoyang, name: str = "王秀英") -> MissingPersonReport:
    data = MissingReportData(
        full_name=name,
        sex="F",
        last_seen_at=days_ago(3),
        last_seen_division=chaoyang,
        date_of_birth=dt.date(2012, 5, 1),
        id_number="110105201205010021",
        relatives=[RelativeData(name="王建国", relationship="father", contact="13800000000")],
    )
    return create_missing_report(acting_user=investigator, data=data)


@pytest.mark.django_db
def test_identity_and_contact_fields_are_ciphertext_in_the_database(investigator, chaoyang) -> None:
    report = _report(investigator, chaoyang)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT full_name, name_pinyin, id_number, name_index FROM people_missingpersonreport "
            "WHERE id = %s",
            [report.pk],
        )
        full_name, pinyin, id_number, index = cur.fetchone()
        cur.execute(
            "SELECT name, contact FROM people_reportingrelative WHERE report_id = %s", [report.pk]
        )
        rel_name, contact = cur.fetchone()
    for stored, plain in [
        (full_name, "王秀英"),
        (pinyin, "wang xiu ying"),
        (id_number, "110105201205010021"),
        (rel_name, "王建国"),
        (contact, "13800000000"),
    ]:
        assert stored.startswith("enc1:")
        assert plain not in stored
        assert decrypt_text(stored) == plain
    assert "wang" not in index and "王" not in index
    reloaded = MissingPersonReport.objects.get(pk=report.pk)
    assert reloaded.full_name == "王秀英"
    assert reloaded.name_pinyin == "wang xiu ying"


@pytest.mark.django_db
def test_search_by_name_works_through_the_blind_index(investigator, chaoyang) -> None:
    report = _report(investigator, chaoyang)
    _report(investigator, chaoyang, name="李娜")
    for query in ["王秀英", "wang xiuying", "wangxiuying", "Wáng", "xiu ying"]:
        found = list(search_missing(acting_user=investigator, filters=MissingFilters(text=query)))
        assert [r.pk for r in found] == [report.pk], query


@pytest.mark.django_db
def test_encrypted_fields_refuse_lookups_that_would_silently_match_nothing() -> None:
    with pytest.raises(TypeError):
        MissingPersonReport.objects.filter(full_name__icontains="王").count()


def test_key_rotation_old_ciphertext_still_decrypts(settings) -> None:
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    stored = encrypt_text("secret")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]
    assert decrypt_text(stored) == "secret"
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured):
        decrypt_text(stored)
