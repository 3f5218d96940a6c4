"""The incremental search in its default mode, ``DNA_MATCH_SEARCH_MODE = "thread"``: a profile
saved (committed) wakes the worker thread of this process, which searches it against the other
side and writes the candidate; a search that fails is recorded on its request, and the thread
lives on; the thread gives its database connection back after each batch.

The worker has its own database connection, so it only sees committed rows: these tests run
on a transactional database (``transactional_db``), which Django empties after each test.  The
session's division tree is put back afterwards with the same primary keys (other tests and
module caches hold them); on SQLite the append-only triggers of audit entries and custody
events are lifted for the emptying and laid again (PostgreSQL empties with TRUNCATE, which
row triggers do not see).
"""

from __future__ import annotations

import importlib
import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction

from reunite.accounts.models import Division
from reunite.dna import matching
from reunite.dna.models import Candidate, Profile, SearchRequest, SearchRequestStatus
from reunite.people.models import MissingPersonReport
from tests import dna_factories as f

WAIT_SECONDS = 20.0
TRIGGER_MIGRATIONS = (
    "reunite.audit.migrations.0002_append_only_triggers",
    "reunite.dna.migrations.0002_custody_append_only",
)


def _sqlite_triggers(direction: str) -> None:
    for name in TRIGGER_MIGRATIONS:
        module = importlib.import_module(name)
        with connection.cursor() as cursor:
            for sql in getattr(module, f"SQLITE_{direction}"):
                cursor.execute(sql)


@pytest.fixture
def _session_data_back(django_db_blocker: Any) -> Iterator[None]:
    """Torn down after ``transactional_db`` has emptied the database (requested before it):
    the divisions as they were, same keys; on SQLite the triggers laid again."""
    with django_db_blocker.unblock():
        divisions = list(Division.objects.order_by("level", "pk").values())
    assert divisions, "the session's division tree is missing"
    yield
    with django_db_blocker.unblock(), transaction.atomic():
        if connection.vendor == "sqlite":
            _sqlite_triggers("UP")
        Division.objects.bulk_create([Division(**row) for row in divisions], batch_size=500)


@pytest.fixture
def _emptiable(transactional_db: None) -> Iterator[None]:
    """Torn down before ``transactional_db`` empties the database (requested after it)."""
    yield
    if connection.vendor == "sqlite":
        _sqlite_triggers("DOWN")


@pytest.fixture
def committed(_session_data_back: None, transactional_db: None, _emptiable: None) -> None:
    """A database whose writes are committed and seen by the worker thread."""


def wait_for(what: Callable[[], bool], seconds: float = WAIT_SECONDS) -> bool:
    """Poll ``what`` every 0.1 s until it holds or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if what():
                return True
        except OperationalError:  # SQLite in memory: a table the worker writes, for a moment
            pass
        time.sleep(0.1)
    return False


def settled() -> bool:
    """No search request waiting or running."""
    return not SearchRequest.objects.filter(
        status__in=[SearchRequestStatus.PENDING, SearchRequestStatus.RUNNING]
    ).exists()


def a_family(rng: random.Random) -> tuple[MissingPersonReport, dict[str, list[str]]]:
    """A missing girl's typed mother and father; returns the report and the girl's genotypes."""
    lab = f.technician()
    report = f.report(f.CHAOYANG, sex="F")
    mother, father = f.random_genotypes(rng), f.random_genotypes(rng)
    for relationship, genotypes, amelogenin in (("mother", mother, "XX"), ("father", father, "XY")):
        member = f.member(lab, report, relationship)
        f.store(lab, f.sample(lab, family_member=member), genotypes, amelogenin=amelogenin)
    return report, f.child_of(rng, mother, father)


def an_unidentified_girl(genotypes: dict[str, list[str]]) -> Profile:
    lab = f.technician()
    sample = f.sample(lab, found=f.found_person(f.CHAOYANG, sex="F"))
    return f.store(lab, sample, genotypes, amelogenin="XX")


def test_a_saved_profile_is_searched_by_the_worker_thread(committed: None, settings: Any) -> None:
    settings.DNA_MATCH_SEARCH_MODE = "off"  # the family is typed first, nobody searching yet
    report, girl = a_family(random.Random(21))
    assert SearchRequest.objects.filter(status=SearchRequestStatus.PENDING).count() == 2
    settings.DNA_MATCH_SEARCH_MODE = "thread"  # the default
    found = an_unidentified_girl(girl)  # committed: wakes the worker
    assert wait_for(
        lambda: settled() and Candidate.objects.filter(report=report, profile=found).exists()
    ), "the background search did not finish within 20 s"
    candidate = Candidate.objects.get(report=report, profile=found)
    assert candidate.source == "incremental" and candidate.hypothesis == "MP|FA+MO"
    assert candidate.lr >= settings.DNA_MATCH_THRESHOLD
    done = SearchRequest.objects.get(profile=found)
    assert done.status == SearchRequestStatus.DONE and not done.error
    assert done.candidates == 1 and done.pairs == 1  # one family against this one profile
    assert done.started_at is not None and done.finished_at >= done.started_at
    # The family's own requests, queued while nobody searched, were worked off as well.
    assert set(SearchRequest.objects.values_list("status", flat=True)) == {SearchRequestStatus.DONE}


def test_a_failing_search_is_recorded_and_the_worker_lives_on(
    committed: None, settings: Any, caplog: Any
) -> None:
    settings.DNA_MATCH_SEARCH_MODE = "off"
    _report, girl = a_family(random.Random(22))
    SearchRequest.objects.update(status=SearchRequestStatus.DONE)  # the family: not under test
    settings.DNA_MATCH_SEARCH_MODE = "thread"
    settings.DNA_MATCH_FREQUENCY_TABLE = "no_such_table"  # the engine refuses to search
    caplog.set_level(logging.WARNING, logger="reunite.dna.matching")
    first = an_unidentified_girl(girl)
    assert wait_for(settled), "the background search did not end within 20 s"
    failed = SearchRequest.objects.get(profile=first)
    assert failed.status == SearchRequestStatus.FAILED
    assert "no_such_table" in failed.error and failed.finished_at is not None
    assert not Candidate.objects.exists()
    ours = [r for r in caplog.records if r.name == "reunite.dna.matching"]
    # (a worker retry after a locked in-memory SQLite table may be logged too: type only)
    logged = [r for r in ours if r.getMessage().startswith("search request")]
    assert [r.levelname for r in logged] == ["WARNING"]
    assert f"search request {failed.pk} failed" in logged[0].getMessage()
    assert not any("no_such_table" in r.getMessage() for r in ours)  # types only: no data
    # The same thread takes the next profile once the table is right again.
    settings.DNA_MATCH_FREQUENCY_TABLE = "han_chinese"
    second = an_unidentified_girl(f.random_genotypes(random.Random(23)))
    assert wait_for(
        lambda: (
            settled()
            and SearchRequest.objects.get(profile=second).status == SearchRequestStatus.DONE
        )
    ), "the worker did not take the next request within 20 s"
    assert SearchRequest.objects.get(profile=first).status == SearchRequestStatus.FAILED


def _other_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        (count,) = cursor.fetchone()
    return int(count)


def test_the_worker_gives_its_connection_back(committed: None, settings: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("an in-memory SQLite test database ignores close(): seen on PostgreSQL")
    assert wait_for(lambda: _other_backends() == 0), "a connection from an earlier test is open"
    settings.DNA_MATCH_SEARCH_MODE = "off"
    report, girl = a_family(random.Random(24))
    settings.DNA_MATCH_SEARCH_MODE = "thread"
    found = an_unidentified_girl(girl)
    assert wait_for(lambda: settled() and Candidate.objects.filter(profile=found).exists())
    worker = matching._worker._thread
    assert worker is not None and worker.is_alive()  # idle, waiting for the next profile
    assert wait_for(lambda: _other_backends() == 0, seconds=5), "the worker kept its connection"
    assert Candidate.objects.get(profile=found).report_id == report.pk
