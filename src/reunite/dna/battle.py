"""The comparison battle: every family against every unidentified profile, resumable.

:func:`start_run` opens a :class:`~reunite.dna.models.ComparisonRun` (or takes up the last
interrupted or failed one with the same parameters); :func:`execute_run` works through its chunks
on an :class:`Executor` — in this process (the engine's kernels on every core) or on a Dask
cluster — and saves each chunk's candidates together with the chunk's checkpoint in one
transaction.  Whatever stops a run (Ctrl-C, a crash, a Dask scheduler that goes away), what was
saved is complete and what was not is redone on the next start: nothing lost, nothing doubled
(candidates are unique per family, profile and hypothesis as well).

Only one run may be ``running`` (a partial unique index).  A run whose heartbeat is older than
:data:`STALE_AFTER` belongs to a process that died: the next start marks it interrupted and
resumes it.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, wait
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from reunite.accounts.models import User
from reunite.accounts.permissions import Action, can
from reunite.audit.models import AuditAction
from reunite.audit.services import record
from reunite.core.errors import AccessDenied, DomainError, ValidationFailed
from reunite.dna.engine import (
    PEDIGREE_HYPOTHESIS,
    ChunkResult,
    FamilyInput,
    SearchParams,
    UnknownInput,
    engine_name,
    family_ids,
    load_families,
    load_unknowns,
    params_from_settings,
    search_chunk,
    simulated_false_candidates,
)
from reunite.dna.matching import expected_false_candidates, save_hits
from reunite.dna.models import ComparisonRun, ComparisonRunStatus

log = logging.getLogger(__name__)

RUN_TYPE = "dna_comparison_run"
STALE_AFTER = dt.timedelta(minutes=15)
MIN_THRESHOLD = 1.0
MAX_THRESHOLD = 1e30


class RunInProgress(DomainError):
    """A second comparison run while one is running."""

    status_code = 409


class DaskUnavailable(DomainError):
    """The Dask scheduler cannot be reached (the run stays resumable)."""

    status_code = 503


# --------------------------------------------------------------------------- parameters


def check_threshold(value: float) -> float:
    """A usable LR threshold, or ``ValidationFailed`` (field ``threshold``)."""
    if not isinstance(value, int | float) or not math.isfinite(value):
        msg = _("Enter a number.")
        raise ValidationFailed(msg, field_errors={"threshold": [msg]})
    if not MIN_THRESHOLD < value <= MAX_THRESHOLD:
        msg = _("The LR threshold must lie above %(low)s and at most %(high)s.") % {
            "low": "1",
            "high": "1e30",
        }
        raise ValidationFailed(msg, field_errors={"threshold": [msg]})
    return float(value)


def params_for(threshold: float | None) -> SearchParams:
    if threshold is not None:
        check_threshold(threshold)
    return params_from_settings(threshold)


def chunk_size() -> int:
    return max(1, int(getattr(settings, "DNA_MATCH_CHUNK_FAMILIES", 1000)))


def chunk_bounds(ids: Sequence[int], size: int) -> list[list[int]]:
    """Report-id ranges ``[first, last]`` of ``size`` families each, in ascending order."""
    return [[ids[i], ids[min(i + size, len(ids)) - 1]] for i in range(0, len(ids), size)]


#: Families sampled for the simulated false-candidate figure (scaled to the whole database).
SIMULATION_FAMILIES = 2000


@dataclass(frozen=True)
class Outlook:
    """What a battle would compare now, and the false candidates to expect at ``threshold``:
    the bound pairs ÷ threshold and, where the engine provides it, the simulated figure."""

    families: int
    unknowns: int
    pairs: int
    threshold: float
    expected_false: float
    simulated_false: float | None = None


def simulated_false(ids: Sequence[int], unknowns: int, params: SearchParams) -> float | None:
    """The engine's simulated false candidates for ``unknowns`` × the families ``ids``: on an
    even sample of at most :data:`SIMULATION_FAMILIES` families, scaled up; cached ten minutes."""
    if not ids or not unknowns:
        return None
    from reunite.dna.models import Profile

    latest = Profile.objects.aggregate(at=Max("updated_at"), pk=Max("pk"))
    stamp = latest["at"].timestamp() if latest["at"] else 0
    key = (
        f"dna-false-{len(ids)}-{ids[-1]}-{unknowns}-{latest['pk']}-{stamp}-"
        f"{params.threshold!r}-{params.theta!r}-{params.table}"
    )
    cached = cache.get(key)
    if cached is not None:
        return float(cached) if cached >= 0 else None
    step = max(1, math.ceil(len(ids) / SIMULATION_FAMILIES))
    sample = list(ids[::step])
    value = simulated_false_candidates(load_families(sample), unknowns, params)
    if value is not None:
        value *= len(ids) / len(sample)
    cache.set(key, -1.0 if value is None else value, 600)
    return value


def outlook(threshold: float | None = None, *, simulate: bool = True) -> Outlook:
    from reunite.dna.models import ProfileRole
    from reunite.dna.services import searchable_profiles

    params = params_for(threshold)
    ids = family_ids()
    unknowns = searchable_profiles(ProfileRole.UNIDENTIFIED).count()
    pairs = len(ids) * unknowns
    return Outlook(
        families=len(ids),
        unknowns=unknowns,
        pairs=pairs,
        threshold=params.threshold,
        expected_false=expected_false_candidates(pairs, params.threshold),
        simulated_false=simulated_false(ids, unknowns, params) if simulate else None,
    )


# --------------------------------------------------------------------------- starting


def _same_params(run: ComparisonRun, params: SearchParams) -> bool:
    return (
        run.threshold == params.threshold
        and run.theta == params.theta
        and run.mutation == (dict(params.mutation) if params.mutation else None)
        and run.frequency_table == params.table
    )


def _mark_stale() -> None:
    """A ``running`` run without a heartbeat for :data:`STALE_AFTER` died with its process."""
    cutoff = timezone.now() - STALE_AFTER
    ComparisonRun.objects.filter(
        status=ComparisonRunStatus.RUNNING, heartbeat_at__lt=cutoff
    ).update(
        status=ComparisonRunStatus.INTERRUPTED,
        error="the process running it stopped without a word (no heartbeat)",
    )


def running_run() -> ComparisonRun | None:
    return ComparisonRun.objects.filter(status=ComparisonRunStatus.RUNNING).first()


def _refuse_second(current: ComparisonRun) -> RunInProgress:
    who = current.started_by.get_username() if current.started_by else _("the command line")
    return RunInProgress(
        _(
            "Comparison run %(id)s is running (started %(when)s by %(who)s); only one run at a "
            "time. Wait for it to finish."
        )
        % {
            "id": current.pk,
            "when": timezone.localtime(current.started_at).strftime("%Y-%m-%d %H:%M"),
            "who": who,
        }
    )


def start_run(
    *,
    acting_user: User | None,
    threshold: float | None = None,
    trigger: str = "cli",
    backend: str = "",
    fresh: bool = False,
) -> ComparisonRun:
    """Open a run (or take up the last resumable one with the same parameters, unless
    ``fresh``).  ``acting_user`` ``None`` is the command line (system use).  Raises
    :class:`RunInProgress` while another run is running, ``AccessDenied`` (audited) for a user
    without ``RUN_COMPARISON``, ``ValidationFailed`` for a bad threshold."""
    if acting_user is not None and not can(acting_user, Action.RUN_COMPARISON):
        record(
            actor=acting_user,
            action=AuditAction.DENIED,
            object_type=RUN_TYPE,
            details={"wanted": str(Action.RUN_COMPARISON)},
        )
        raise AccessDenied(_("Only supervisors start a comparison run."))
    params = params_for(threshold)
    _mark_stale()
    now = timezone.now()
    try:
        with transaction.atomic():
            current = running_run()
            if current is not None:
                raise _refuse_second(current)
            previous = None
            if not fresh:
                previous = (
                    ComparisonRun.objects.select_for_update()
                    .filter(
                        status__in=[ComparisonRunStatus.INTERRUPTED, ComparisonRunStatus.FAILED]
                    )
                    .order_by("-started_at", "-pk")
                    .first()
                )
                if previous is not None and not _same_params(previous, params):
                    previous = None
            if previous is not None:
                run = previous
                run.status = ComparisonRunStatus.RUNNING
                run.heartbeat_at = now
                run.backend = backend or run.backend
                run.error = ""
                run.save(update_fields=["status", "heartbeat_at", "backend", "error"])
                resumed = True
            else:
                ids = family_ids()
                run = ComparisonRun.objects.create(
                    started_by=acting_user,
                    trigger=trigger,
                    started_at=now,
                    heartbeat_at=now,
                    threshold=params.threshold,
                    theta=params.theta,
                    mutation=dict(params.mutation) if params.mutation else None,
                    frequency_table=params.table,
                    hypotheses=[PEDIGREE_HYPOTHESIS],
                    engine=engine_name(),
                    backend=backend,
                    chunk_bounds=chunk_bounds(ids, chunk_size()),
                    families=len(ids),
                )
                resumed = False
    except IntegrityError:  # another process started one between our check and insert
        current = running_run()
        if current is None:  # pragma: no cover - it finished in between
            raise RunInProgress(_("Another comparison run started at the same moment.")) from None
        raise _refuse_second(current) from None
    record(
        actor=acting_user,
        action=AuditAction.UPDATE if resumed else AuditAction.CREATE,
        object_type=RUN_TYPE,
        object_id=run.pk,
        details={
            "resumed": resumed,
            "trigger": trigger,
            "threshold": params.threshold,
            "chunks": run.chunks_total,
            "done": len(run.chunks_done),
        },
    )
    return run


# --------------------------------------------------------------------------- executors


class Executor(Protocol):
    """Where chunks are computed: ``run`` yields ``(index, result)`` as chunks complete."""

    description: str

    def run(
        self,
        chunks: Iterator[tuple[int, list[FamilyInput]]],
        unknowns: Sequence[UnknownInput],
        params: SearchParams,
    ) -> Iterator[tuple[int, ChunkResult]]: ...

    def close(self) -> None: ...


class InlineExecutor:
    """Chunks one after the other in this process; the engine's numba threads use every
    core."""

    description = "inline"

    def run(
        self,
        chunks: Iterator[tuple[int, list[FamilyInput]]],
        unknowns: Sequence[UnknownInput],
        params: SearchParams,
    ) -> Iterator[tuple[int, ChunkResult]]:
        for index, families in chunks:
            yield index, search_chunk(families, unknowns, params, parallel=True)

    def close(self) -> None:
        pass


def _first_completed(futures: list[Any]) -> set[Any]:
    done, _rest = wait(futures, return_when=FIRST_COMPLETED)
    return set(done)


def _bounded(
    submit: Callable[[list[FamilyInput]], Any],
    chunks: Iterator[tuple[int, list[FamilyInput]]],
    in_flight: int,
    first_completed: Callable[[list[Any]], set[Any]] = _first_completed,
) -> Iterator[tuple[int, ChunkResult]]:
    """Keep ``in_flight`` chunks submitted; yield each as it completes (memory stays bounded:
    only the families of the chunks in flight are loaded).  ``first_completed`` waits on the
    futures of the pool in use (concurrent.futures or Dask)."""
    pending: dict[Any, int] = {}
    exhausted = False
    while True:
        while not exhausted and len(pending) < in_flight:
            try:
                index, families = next(chunks)
            except StopIteration:
                exhausted = True
                break
            pending[submit(families)] = index
        if not pending:
            return
        for future in first_completed(list(pending)):
            index = pending.pop(future)
            yield index, future.result()


class DaskExecutor:
    """A Dask distributed cluster: ``local`` (a LocalCluster on this machine) or the address
    of a scheduler (``tcp://HOST:8786``).  The unknown profiles are scattered once."""

    def __init__(self, address: str, *, timeout: float | None = None) -> None:
        from distributed import Client, LocalCluster

        self.address = address
        self.description = f"dask:{address}"
        self.cluster: Any = None
        if timeout is None:
            timeout = float(getattr(settings, "DNA_MATCH_DASK_TIMEOUT", 10.0))
        try:
            if address == "local":
                self.cluster = LocalCluster(
                    n_workers=max(1, min(os.cpu_count() or 1, 4)),
                    threads_per_worker=1,
                    processes=False,
                    dashboard_address=":0",  # a free port: never collides with 8787
                )
                self.client = Client(self.cluster, timeout=timeout)
            else:
                self.client = Client(address, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            if self.cluster is not None:
                self.cluster.close()
            raise DaskUnavailable(
                _("Cannot reach the Dask scheduler at %(address)s: %(reason)s")
                % {"address": address, "reason": str(exc) or type(exc).__name__}
            ) from exc

    def run(
        self,
        chunks: Iterator[tuple[int, list[FamilyInput]]],
        unknowns: Sequence[UnknownInput],
        params: SearchParams,
    ) -> Iterator[tuple[int, ChunkResult]]:
        from distributed import wait as dask_wait

        def first_completed(futures: list[Any]) -> set[Any]:
            done, _rest = dask_wait(futures, return_when="FIRST_COMPLETED")
            return set(done)

        shared = self.client.scatter(list(unknowns), broadcast=True)
        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        results = _bounded(
            lambda families: self.client.submit(search_chunk, families, shared, params, pure=False),
            chunks,
            workers * 2,
            first_completed,
        )
        return self._watched(results)

    def _watched(
        self, results: Iterator[tuple[int, ChunkResult]]
    ) -> Iterator[tuple[int, ChunkResult]]:
        """The chunks' results; a scheduler lost mid-run (its futures cancelled, its connection
        closed) becomes :class:`DaskUnavailable`, so that the run fails with a clear message and
        resumes from its last checkpoint."""
        from distributed.client import FuturesCancelledError
        from distributed.comm.core import CommClosedError

        try:
            yield from results
        except (FuturesCancelledError, CancelledError, CommClosedError, OSError) as exc:
            raise DaskUnavailable(
                _("Lost the Dask scheduler at %(address)s mid-run: %(reason)s")
                % {"address": self.address, "reason": type(exc).__name__}
            ) from exc

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(*, dask: str | None = None) -> Executor:
    """The executor the settings or the command line ask for: a Dask cluster when one is named
    (``DaskUnavailable`` when it cannot be reached), otherwise this process, whose engine runs
    its kernels on every core (numba threads)."""
    address = dask if dask is not None else str(getattr(settings, "DNA_MATCH_DASK", ""))
    if address:
        return DaskExecutor(address)
    return InlineExecutor()


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Progress:
    """Where a run stands: chunks and pairs done, the rate of this session and the ETA."""

    run_id: int
    status: str
    chunks_done: int
    chunks_total: int
    pairs_done: int
    pairs_total: int
    candidates: int
    seconds: float
    pairs_per_second: float
    eta_seconds: float | None

    @property
    def fraction(self) -> float:
        return self.chunks_done / self.chunks_total if self.chunks_total else 1.0

    @property
    def percent(self) -> int:
        return int(self.fraction * 100)


def progress_of(
    run: ComparisonRun, *, session_pairs: int = 0, session_seconds: float = 0.0
) -> Progress:
    """The progress of ``run``; the rate is that of the pairs done since it (re)started."""
    total_pairs = run.families * run.unknowns
    rate = session_pairs / session_seconds if session_seconds > 0 else 0.0
    if rate <= 0 and run.duration_seconds > 0:
        rate = run.pairs / run.duration_seconds
    remaining = max(0, total_pairs - run.pairs)
    eta = remaining / rate if rate > 0 else None
    if run.status == ComparisonRunStatus.FINISHED:
        eta = 0.0
    return Progress(
        run_id=run.pk,
        status=run.status,
        chunks_done=len(run.chunks_done),
        chunks_total=run.chunks_total,
        pairs_done=run.pairs,
        pairs_total=total_pairs,
        candidates=run.candidates,
        seconds=run.duration_seconds,
        pairs_per_second=rate,
        eta_seconds=eta,
    )


def _chunks(run: ComparisonRun) -> Iterator[tuple[int, list[FamilyInput]]]:
    """The chunks not yet done, each with its families loaded from the database (lazily: only
    the chunks in flight are in memory)."""
    ids = family_ids()  # ascending
    done = set(run.chunks_done)
    for index, (first, last) in enumerate(run.chunk_bounds):
        if index in done:
            continue
        wanted = ids[bisect_left(ids, first) : bisect_right(ids, last)]
        yield index, load_families(wanted) if wanted else []


def _save_chunk(
    run_id: int,
    index: int,
    result: ChunkResult,
    families: Sequence[FamilyInput],
    params: SearchParams,
    seconds: float,
) -> ComparisonRun:
    """One chunk's candidates and checkpoint, atomically (a chunk already recorded as done —
    a duplicate delivery — changes nothing)."""
    with transaction.atomic():
        run = ComparisonRun.objects.select_for_update().get(pk=run_id)
        if index in run.chunks_done:
            return run
        saved = save_hits(result.hits, families, params, run=run, source="battle")
        run.chunks_done = [*run.chunks_done, index]
        run.pairs += result.pairs
        run.candidates += saved.created
        run.families_skipped += len(result.skipped)
        run.duration_seconds += seconds
        run.heartbeat_at = timezone.now()
        run.save(
            update_fields=[
                "chunks_done",
                "pairs",
                "candidates",
                "families_skipped",
                "duration_seconds",
                "heartbeat_at",
            ]
        )
    for report_id, reason in result.skipped:
        # The engine's reason can quote alleles: it goes to the audit trail, not to the log.
        log.warning("comparison run %s: family MP-%s skipped", run_id, report_id)
        record(
            actor=None,
            action=AuditAction.UPDATE,
            object_type=RUN_TYPE,
            object_id=run_id,
            details={"skipped_family": report_id, "reason": reason},
        )
    return run


def _finish(run_id: int, status: str, error: str = "") -> ComparisonRun:
    ComparisonRun.objects.filter(pk=run_id, status=ComparisonRunStatus.RUNNING).update(
        status=status,
        error=error[:4000],
        finished_at=timezone.now() if status == ComparisonRunStatus.FINISHED else None,
        heartbeat_at=timezone.now(),
    )
    return ComparisonRun.objects.get(pk=run_id)


def execute_run(
    run_id: int,
    executor: Executor,
    *,
    on_progress: Callable[[Progress], None] | None = None,
) -> ComparisonRun:
    """Work through the run's remaining chunks on ``executor``.

    Ends ``finished``; ``interrupted`` on Ctrl-C (``KeyboardInterrupt`` is re-raised after the
    checkpoint is safe); ``failed`` with the error on anything else (re-raised).  Either way the
    chunks saved stay saved and the next start resumes after them.
    """
    run = ComparisonRun.objects.get(pk=run_id)
    params = SearchParams(
        threshold=run.threshold,
        theta=run.theta,
        mutation=run.mutation,
        table=run.frequency_table,
    )
    unknowns = load_unknowns()
    if run.unknowns != len(unknowns):
        run.unknowns = len(unknowns)
        run.save(update_fields=["unknowns"])
    loaded: dict[int, list[FamilyInput]] = {}

    def remember() -> Iterator[tuple[int, list[FamilyInput]]]:
        for index, families in _chunks(run):
            loaded[index] = families
            yield index, families

    started = time.monotonic()
    last = started
    session_pairs = 0
    try:
        if on_progress is not None:
            on_progress(progress_of(run))
        for index, result in executor.run(remember(), unknowns, params):
            now = time.monotonic()
            run = _save_chunk(run_id, index, result, loaded.pop(index, []), params, now - last)
            last = now
            session_pairs += result.pairs
            if on_progress is not None:
                on_progress(
                    progress_of(run, session_pairs=session_pairs, session_seconds=now - started)
                )
    except KeyboardInterrupt:
        _finish(run_id, ComparisonRunStatus.INTERRUPTED, "interrupted (Ctrl-C)")
        raise
    except Exception as exc:
        _finish(run_id, ComparisonRunStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    run = _finish(run_id, ComparisonRunStatus.FINISHED)
    record(
        actor=run.started_by,
        action=AuditAction.UPDATE,
        object_type=RUN_TYPE,
        object_id=run.pk,
        details={
            "status": run.status,
            "pairs": run.pairs,
            "candidates": run.candidates,
            "families_skipped": run.families_skipped,
        },
    )
    return run


def run_in_background(run_id: int) -> threading.Thread:
    """Execute a started run in a daemon thread of this process (the supervisor's button)."""

    def target() -> None:
        executor: Executor | None = None
        try:
            close_old_connections()
            executor = make_executor()
            execute_run(run_id, executor)
        except Exception:  # recorded on the run by execute_run; keep the thread quiet
            log.exception("comparison run %s failed", run_id)
            try:
                _finish(run_id, ComparisonRunStatus.FAILED, "could not start its executor")
            except Exception:  # pragma: no cover - the database itself is gone
                log.exception("comparison run %s: could not record the failure", run_id)
        finally:
            if executor is not None:
                executor.close()
            connection.close()

    thread = threading.Thread(target=target, name=f"reunite-dna-run-{run_id}", daemon=True)
    thread.start()
    return thread


def launch(run_id: int) -> None:
    """Execute a run started from the web: in a background thread (``DNA_MATCH_BATTLE_MODE``
    ``thread``, the default) or right away in the request (``inline``: tests, tiny data)."""
    if str(getattr(settings, "DNA_MATCH_BATTLE_MODE", "thread")) == "inline":
        executor = make_executor()
        try:
            execute_run(run_id, executor)
        finally:
            executor.close()
        return
    run_in_background(run_id)


def recent_runs(limit: int = 20) -> list[ComparisonRun]:
    return list(
        ComparisonRun.objects.select_related("started_by").order_by("-started_at", "-pk")[:limit]
    )
