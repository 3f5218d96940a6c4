"""The comparison battle and the engine adapter on a real database: every stored LR equals the
single-case engine's, reruns never double, an interrupted run resumes without losing or
repeating a candidate, one run at a time, a Dask scheduler that cannot be reached."""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from reunite.audit.models import AuditEntry
from reunite.dna import battle, engine, matching, services
from reunite.dna.models import (
    Candidate,
    CandidateStatus,
    ComparisonRun,
    ComparisonRunStatus,
    HypothesisKind,
)
from reunite.kinship import load_table, parse_profile
from tests.dnamatch_support import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.DNA_MATCH_SEARCH_MODE = "off"
    settings.DNA_MATCH_CHUNK_FAMILIES = 1
    settings.DNA_MATCH_DASK_TIMEOUT = 1.0


def pairs_of(qs: Any) -> set[tuple[int, int, str, float]]:
    return {(c.report_id, c.profile_id, c.hypothesis, c.lr) for c in qs}


def run_cli(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("dna", "compare", "--all", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


LOW = 1.000001  # the lowest threshold the engine takes: every pair with LR > 1


def test_every_lr_equals_the_single_case_engine_and_none_is_lost() -> None:
    """Every (family, unknown) pair is computed by pedigree_lr too: the hits are exactly the
    pairs whose exact LR reaches the threshold, with the same LR and per-locus LRs."""
    world = build_world(unrelated=3)
    params = engine.params_from_settings()
    low = engine.SearchParams(LOW, params.theta, params.mutation, params.table)
    families = engine.load_families()
    unknowns = engine.load_unknowns()
    result = engine.search_chunk(families, unknowns, low, parallel=True)
    assert result.pairs == len(families) * len(unknowns) == 3 * 6
    hits = {(h.report_id, h.profile_id): h for h in result.hits}
    expected = set()
    for family in families:
        for unknown in unknowns:
            exact = engine.exact_lr(family, unknown.profile, low)
            if exact.lr >= LOW:
                expected.add((family.report_id, unknown.profile_id))
            hit = hits.get((family.report_id, unknown.profile_id))
            if hit is None:
                continue
            assert math.isclose(hit.lr, exact.lr, rel_tol=1e-9)
            assert math.isclose(hit.log10_lr, exact.log10_lr, rel_tol=1e-9, abs_tol=1e-12)
            assert [locus for locus, _ in hit.per_locus] == list(exact.per_locus)
            for locus, value in hit.per_locus:
                assert math.isclose(value, exact.per_locus[locus], rel_tol=1e-9)
    assert set(hits) == expected and len(expected) >= 3
    for report_id, truth in world.truth.items():
        assert (report_id, truth.pk) in hits
    # The per-family path (genotype tables and look-ups) gives the same pairs and LRs.
    per_family = engine._per_family_chunk(families, unknowns, low)
    assert {(h.report_id, h.profile_id) for h in per_family.hits} == expected
    for h in per_family.hits:
        assert math.isclose(h.lr, hits[(h.report_id, h.profile_id)].lr, rel_tol=1e-9)


def test_an_allele_the_table_lacks_goes_through_the_exact_engine() -> None:
    """An unknown with an off-table allele: the pair's case frequencies differ from the
    table's, so the adapter asks pedigree_lr itself; the result still matches it."""
    world = build_world(shapes=("trio",), unrelated=0)
    params = engine.params_from_settings()
    low = engine.SearchParams(LOW, params.theta, params.mutation, params.table)
    family = engine.load_families()[0]
    truth = engine.load_unknowns([next(iter(world.truth.values())).pk])[0]
    data: dict[str, Any] = {locus: list(g.alleles) for locus, g in truth.profile.genotypes.items()}
    data["D21S11"] = [data["D21S11"][0], "35.1"]  # not in the Han table
    odd = engine.UnknownInput(999, parse_profile("odd", data))
    result = engine.search_chunk([family], [odd, truth], low)
    exact = engine.exact_lr(family, odd.profile, low)
    assert "35.1" not in load_table("han_chinese").locus("D21S11").alleles
    odd_hits = [h for h in result.hits if h.profile_id == 999]
    if exact.lr >= LOW:
        assert len(odd_hits) == 1 and math.isclose(odd_hits[0].lr, exact.lr, rel_tol=1e-9)
    else:
        assert odd_hits == []
    assert result.pairs == 2


def test_compare_all_finds_the_relatives_and_a_rerun_does_not_double() -> None:
    world = build_world()
    out, err = run_cli()
    assert "finished" in out and "pairs/s" in err and "ETA" in err
    run = ComparisonRun.objects.get()
    assert run.status == ComparisonRunStatus.FINISHED and run.families == 3
    assert run.unknowns == 7 and run.pairs == 21 and run.chunks_total == 3
    assert run.frequency_table == "han_chinese" and run.theta == 0.01 and run.mutation
    first = pairs_of(Candidate.objects.all())
    found = {(r, p) for r, p, _h, _lr in first}
    trio = next(r for r, fam in world.families.items() if set(fam) == {"MO", "FA"})
    assert (trio, world.truth[trio].pk) in found
    assert Candidate.objects.get(report_id=trio, profile=world.truth[trio]).hypothesis_kind == (
        HypothesisKind.TRIO
    )
    # Purpose limitation: every candidate pairs a family with an unidentified profile.
    for candidate in Candidate.objects.all():
        assert candidate.profile.role == "unidentified"
        for profile_id in candidate.references.values():
            assert services.may_compare(
                candidate.profile, services.searchable_profiles().get(pk=profile_id)
            )
    assert run.candidates == len(first)
    # A second, fresh run over the same data adds nothing.
    run_cli("--fresh")
    assert pairs_of(Candidate.objects.all()) == first
    assert ComparisonRun.objects.filter(status=ComparisonRunStatus.FINISHED).count() == 2
    assert ComparisonRun.objects.order_by("-pk").first().candidates == 0


def test_an_interrupted_run_resumes_without_losing_or_doubling(settings: Any) -> None:
    build_world(shapes=("trio", "mother", "siblings", "trio"), unrelated=3, seed=5)
    # The reference answer: one uninterrupted run.
    run_cli()
    expected = pairs_of(Candidate.objects.all())
    assert expected
    Candidate.objects.all().delete()
    calls = {"n": 0}

    def stop_after_two(progress: battle.Progress) -> None:
        calls["n"] += 1
        if progress.chunks_done == 2:
            raise KeyboardInterrupt

    run = battle.start_run(acting_user=None, fresh=True)
    with pytest.raises(KeyboardInterrupt):
        battle.execute_run(run.pk, battle.InlineExecutor(), on_progress=stop_after_two)
    run.refresh_from_db()
    assert run.status == ComparisonRunStatus.INTERRUPTED and len(run.chunks_done) == 2
    partial = pairs_of(Candidate.objects.all())
    assert partial <= expected
    # The same command again resumes it (same parameters) and finishes it.
    _out, err = run_cli()
    assert f"resuming comparison run {run.pk}: 2 of 4 chunks done" in err
    run.refresh_from_db()
    assert run.status == ComparisonRunStatus.FINISHED
    assert sorted(run.chunks_done) == [0, 1, 2, 3] and len(run.chunks_done) == 4
    assert pairs_of(Candidate.objects.all()) == expected
    assert run.pairs == 4 * 7


def test_a_crashed_run_is_taken_up_after_its_heartbeat_stops() -> None:
    build_world(shapes=("mother",), unrelated=1)
    run = battle.start_run(acting_user=None)
    # The process died: the run stays "running" with an old heartbeat.
    ComparisonRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - battle.STALE_AFTER - dt.timedelta(seconds=1)
    )
    again = battle.start_run(acting_user=None)
    assert again.pk == run.pk and again.status == ComparisonRunStatus.RUNNING


def test_one_run_at_a_time() -> None:
    build_world(shapes=("mother",), unrelated=1)
    running = battle.start_run(acting_user=None)
    with pytest.raises(battle.RunInProgress, match=f"run {running.pk} is running"):
        battle.start_run(acting_user=None, fresh=True)
    with pytest.raises(CommandError, match="only one run at a time"):
        run_cli()
    assert ComparisonRun.objects.count() == 1


def test_bad_thresholds_and_arguments_are_refused() -> None:
    for bad in ("0.5", "1", "nan", "inf", "1e31", "-3"):
        with pytest.raises(CommandError, match="threshold"):
            run_cli("--threshold", bad)
    with pytest.raises(CommandError, match="--all"):
        call_command("dna", "compare", stdout=io.StringIO(), stderr=io.StringIO())
    assert not ComparisonRun.objects.exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_dask_scheduler_is_a_clear_error_and_the_run_stays_resumable() -> None:
    build_world(shapes=("mother", "trio"), unrelated=1)
    run = battle.start_run(acting_user=None)
    with pytest.raises(KeyboardInterrupt):
        battle.execute_run(
            run.pk,
            battle.InlineExecutor(),
            on_progress=lambda p: (
                (_ for _ in ()).throw(KeyboardInterrupt) if p.chunks_done == 1 else None
            ),
        )
    address = f"tcp://127.0.0.1:{_closed_port()}"
    with pytest.raises(CommandError, match="Cannot reach the Dask scheduler"):
        call_command(
            "dna", "compare", "--all", "--dask", address, stdout=io.StringIO(), stderr=io.StringIO()
        )
    run.refresh_from_db()
    assert run.status == ComparisonRunStatus.INTERRUPTED and run.chunks_done == [0]
    run_cli()
    run.refresh_from_db()
    assert run.status == ComparisonRunStatus.FINISHED


def test_dask_local_gives_the_same_candidates() -> None:
    build_world(unrelated=2, seed=3)
    run_cli()
    expected = pairs_of(Candidate.objects.all())
    Candidate.objects.all().delete()
    run_cli("--fresh", "--dask", "local")
    assert "dask:local" in ComparisonRun.objects.order_by("-pk").first().backend
    assert pairs_of(Candidate.objects.all()) == expected


def test_runs_are_audited_and_reviewed_candidates_are_left_as_signed() -> None:
    world = build_world(shapes=("trio",), unrelated=0)
    run_cli()
    candidate = Candidate.objects.get()
    Candidate.objects.filter(pk=candidate.pk).update(status=CandidateStatus.UNDER_REVIEW, lr=5.0)
    run_cli("--fresh", "--threshold", "100")
    candidate.refresh_from_db()
    assert candidate.lr == 5.0 and candidate.threshold == 10_000.0
    assert AuditEntry.objects.filter(object_type=battle.RUN_TYPE).count() >= 4
    assert world.truth


def test_expected_false_candidates_is_the_markov_bound() -> None:
    assert matching.expected_false_candidates(1_000_000, 1e4) == 100.0
    build_world(shapes=("sibling",), unrelated=2)
    outlook = battle.outlook(1e4)
    assert (outlook.families, outlook.unknowns, outlook.pairs) == (1, 3, 3)
    assert outlook.expected_false == pytest.approx(3e-4)
    # The engine's simulation with the same frequencies: unrelated profiles against the family.
    assert outlook.simulated_false is not None and 0.0 <= outlook.simulated_false < 1.0
    loose = battle.outlook(1.5)
    assert loose.expected_false == pytest.approx(2.0)
    # Same simulated persons (fixed seed): a lower threshold lets through at least as many.
    assert loose.simulated_false is not None and loose.simulated_false >= outlook.simulated_false


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the Dask process exited with status {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port} after {seconds} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


def test_a_scheduler_that_dies_mid_run_is_a_clear_error_and_nothing_is_lost_or_doubled() -> None:
    """A real scheduler and worker in their own processes; the scheduler is killed after the
    first chunk is saved. The run fails with a clear error, keeps its checkpoint, and a resumed
    run on this machine ends with exactly the candidates of an uninterrupted run."""
    build_world(shapes=("mother", "trio", "siblings"), unrelated=2, seed=5)
    run_cli()
    expected = pairs_of(Candidate.objects.all())
    assert expected
    Candidate.objects.all().delete()

    dask = str(Path(sys.executable).with_name("dask"))
    port = _closed_port()
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    worker = None
    try:
        _wait_for_port(port, scheduler)
        address = f"tcp://127.0.0.1:{port}"
        worker = subprocess.Popen(
            [dask, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        executor = battle.DaskExecutor(address, timeout=30.0)
        executor.client.wait_for_workers(1, timeout=60)
        run = battle.start_run(acting_user=None, fresh=True, backend=executor.description)

        def kill_after_first_chunk(progress: battle.Progress) -> None:
            if progress.chunks_done == 1:
                scheduler.kill()

        started = time.monotonic()
        with pytest.raises(battle.DaskUnavailable, match="Lost the Dask scheduler"):
            battle.execute_run(run.pk, executor, on_progress=kill_after_first_chunk)
        assert time.monotonic() - started < 120
        executor.close()
    finally:
        _stop(scheduler)
        if worker is not None:
            _stop(worker)
    run.refresh_from_db()
    assert run.status == ComparisonRunStatus.FAILED
    assert "Lost the Dask scheduler" in run.error and len(run.chunks_done) >= 1
    assert len(run.chunks_done) < run.chunks_total
    _out, err = run_cli()
    assert "resuming comparison run" in err
    run.refresh_from_db()
    assert run.status == ComparisonRunStatus.FINISHED
    assert pairs_of(Candidate.objects.all()) == expected


def test_a_family_the_engine_refuses_is_skipped_with_its_reason_audited_not_logged(
    caplog: Any, settings: Any
) -> None:
    """Without mutation, a typed sibling whose alleles neither typed parent carries makes the
    family impossible: the engine refuses it and the run goes on. The reason (which can quote
    alleles) is in the audit trail; the log names only the family."""
    import logging
    import random

    from tests import dna_factories as f

    settings.DNA_MATCH_MUTATION = None
    build_world(shapes=("mother",), unrelated=1)
    lab = f.technician()
    report = f.report(f.CHAOYANG, sex="F")
    rng = random.Random(3)
    for relationship, sex, amelogenin in (
        ("mother", "", "XX"),
        ("father", "", "XY"),
        ("full_sibling", "M", "XY"),
    ):
        member = f.member(lab, report, relationship, sex)
        f.store(
            lab,
            f.sample(lab, family_member=member),
            f.random_genotypes(rng),
            amelogenin=amelogenin,
        )
    caplog.set_level(logging.WARNING, logger="reunite.dna.battle")
    run_cli()
    run = ComparisonRun.objects.get()
    assert run.status == ComparisonRunStatus.FINISHED and run.families_skipped == 1
    logged = [r.getMessage() for r in caplog.records if r.name == "reunite.dna.battle"]
    assert logged == [f"comparison run {run.pk}: family MP-{report.pk} skipped"]
    skipped = AuditEntry.objects.filter(
        object_type=battle.RUN_TYPE, details__skipped_family=report.pk
    ).get()
    assert skipped.details["reason"]
