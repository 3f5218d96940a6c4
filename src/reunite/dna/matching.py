"""Kinship matching: candidates from the engine, and the incremental search of a saved profile.

**Candidates.** :func:`save_hits` turns the engine's hits (``dna.engine``) into
:class:`~reunite.dna.models.Candidate` rows: one per (family, unidentified profile, hypothesis),
the hypothesis being "the unidentified person is the missing person of this family pedigree, with
these relatives typed".  A rerun updates the LR of a candidate nobody has reviewed yet and leaves
reviewed ones as they were signed; it never adds a second row.  Candidates carry no allele.

**Incremental search** (issue: a saved profile is searched at once against the other side).
Whenever quality control leaves a profile *searchable* (``services.run_qc`` / ``review_qc``),
:func:`request_search` writes a :class:`~reunite.dna.models.SearchRequest` row in the same
transaction — durable: nothing is lost if the process dies — and asks, on commit, for it to be
worked off according to ``DNA_MATCH_SEARCH_MODE``:

* ``thread`` (default): a daemon worker thread of this process wakes up and works off every
  pending request (a reference: its family against every unidentified profile; an unidentified
  profile: every family against it); candidates appear within seconds;
* ``inline``: right after commit, in the same request (small databases, tests);
* ``off``: nothing happens until ``reunite dna searches`` (or a battle) runs.

A request left ``running`` by a process that died is taken up again after
:data:`STALE_REQUEST`.  An unidentified profile is screened against the family side kept
encoded in this process (:class:`FamilySide`, refreshed before every search by what changed),
so that its search takes a fraction of a second instead of a reload of every family.

The purpose limitation holds by construction: families come from ``services.family_pedigrees``
and unidentified profiles from ``services.searchable_profiles``, so a reference is compared only
with unidentified profiles and never with another family.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from reunite.accounts.models import User
from reunite.accounts.permissions import Action
from reunite.audit.models import AuditAction
from reunite.audit.services import record
from reunite.dna.engine import (
    ChunkResult,
    EncodedFamilies,
    FamilyInput,
    Hit,
    SearchParams,
    UnknownInput,
    encode_side,
    engine_name,
    family_fingerprints,
    family_ids,
    load_families,
    load_families_in_batches,
    load_unknowns,
    params_from_settings,
    reference_loci,
    screen_unknown,
    search_chunk,
    side_panel,
)
from reunite.dna.models import (
    Candidate,
    CandidateStatus,
    ComparisonRun,
    HypothesisKind,
    Profile,
    ProfileRole,
    QcStatus,
    Sample,
    SearchRequest,
    SearchRequestStatus,
)
from reunite.people.models import MissingPersonReport

log = logging.getLogger(__name__)

#: A request ``running`` for longer than this is taken to belong to a dead process.
STALE_REQUEST = dt.timedelta(minutes=10)

SEARCH_MODES = ("thread", "inline", "off")
#: How often the worker thread tries again at once after an error outside any one search (a
#: locked database), before it waits for the next save or ``reunite dna searches``.
WORKER_RETRIES = 5
#: What a rerun refreshes on a candidate nobody has reviewed yet.
UPDATED_FIELDS = (
    "hypothesis_kind",
    "pedigree",
    "references",
    "lr",
    "log10_lr",
    "per_locus",
    "notes",
    "threshold",
    "theta",
    "mutation",
    "frequency_table",
    "engine",
    "run",
    "computed_at",
)


# --------------------------------------------------------------------------- hypotheses


def hypothesis_of(family: FamilyInput) -> tuple[str, str]:
    """``(key, kind)``: the key names the pedigree's typed relatives ("MP|FA+MO"); the kind is a
    :class:`HypothesisKind` for filters and for the false-candidate warning."""
    typed = sorted(family.typed)
    key = f"{family.missing_id}|{'+'.join(typed)}"
    parents = {code for code in typed if code in ("MO", "FA")}
    siblings = {code for code in typed if code[:1] == "S" and code[1:].isdigit()}
    others = set(typed) - parents - siblings
    if others:
        kind = HypothesisKind.OTHER
    elif len(parents) == 2:
        kind = HypothesisKind.TRIO
    elif parents and siblings:
        kind = HypothesisKind.PARENT_SIBLING
    elif parents:
        kind = HypothesisKind.PARENT
    elif siblings:
        kind = HypothesisKind.SIBLINGS
    else:  # pragma: no cover - a family always has a typed relative
        kind = HypothesisKind.OTHER
    return key, kind


def expected_false_candidates(pairs: int, threshold: float) -> float:
    """Upper bound of the expected number of unrelated pairs reaching ``threshold``.

    For an unrelated pair, E[LR] = 1 under H2, so P(LR ≥ t) ≤ 1/t (Markov's inequality): among
    ``pairs`` comparisons at most ``pairs / t`` false candidates are expected.
    """
    return pairs / threshold if threshold > 0 else float(pairs)


# --------------------------------------------------------------------------- saving candidates


@dataclass
class Saved:
    created: int = 0
    updated: int = 0


def save_hits(
    hits: Sequence[Hit],
    families: Iterable[FamilyInput],
    params: SearchParams,
    *,
    run: ComparisonRun | None = None,
    source: str = "battle",
) -> Saved:
    """Store ``hits`` as candidates in the caller's transaction: new ones created, unreviewed
    ones updated (LR, table, parameters), reviewed ones left as they are."""
    saved = Saved()
    if not hits:
        return saved
    by_id = {family.report_id: family for family in families}
    report_ids = sorted({hit.report_id for hit in hits})
    profile_ids = sorted({hit.profile_id for hit in hits})
    report_division = dict(
        MissingPersonReport.objects.filter(pk__in=report_ids).values_list("pk", "division_id")
    )
    profile_division = dict(
        Profile.objects.filter(pk__in=profile_ids).values_list("pk", "sample__division_id")
    )
    existing = {
        (c.report_id, c.profile_id, c.hypothesis): c
        for c in Candidate.objects.select_for_update().filter(
            report_id__in=report_ids, profile_id__in=profile_ids
        )
    }
    now = timezone.now()
    fresh: list[Candidate] = []
    changed: list[Candidate] = []
    for hit in hits:
        family = by_id[hit.report_id]
        key, kind = hypothesis_of(family)
        values = {
            "hypothesis_kind": kind,
            "pedigree": family.pedigree.as_spec(),
            "references": dict(family.typed),
            "lr": hit.lr,
            "log10_lr": hit.log10_lr,
            "per_locus": [{"locus": locus, "lr": lr} for locus, lr in hit.per_locus],
            "notes": list(hit.notes),
            "threshold": params.threshold,
            "theta": params.theta,
            "mutation": dict(params.mutation) if params.mutation is not None else None,
            "frequency_table": params.table,
            "engine": engine_name(),
            "run": run,
            "computed_at": now,
        }
        found = existing.get((hit.report_id, hit.profile_id, key))
        if found is None:
            candidate = Candidate(
                report_id=hit.report_id,
                profile_id=hit.profile_id,
                hypothesis=key,
                source=source,
                family_division_id=report_division[hit.report_id],
                unidentified_division_id=profile_division[hit.profile_id],
                **values,
            )
            existing[(hit.report_id, hit.profile_id, key)] = candidate
            fresh.append(candidate)
        elif found.status == CandidateStatus.CANDIDATE and found not in fresh:
            for name, value in values.items():
                setattr(found, name, value)
            changed.append(found)
    Candidate.objects.bulk_create(fresh)
    if changed:
        Candidate.objects.bulk_update(changed, list(UPDATED_FIELDS))
    saved.created, saved.updated = len(fresh), len(changed)
    return saved


# --------------------------------------------------------------------------- incremental search


def search_mode() -> str:
    mode = str(getattr(settings, "DNA_MATCH_SEARCH_MODE", "thread"))
    return mode if mode in SEARCH_MODES else "thread"


def request_search(profile: Profile) -> SearchRequest | None:
    """Queue a search of ``profile`` against the other side if it is searchable now (called in
    the transaction that made it so); worked off after commit (module docstring).  A profile
    with a pending request gets no second one."""
    if not Profile.objects.searchable().filter(pk=profile.pk).exists():
        return None
    pending = SearchRequest.objects.filter(
        profile=profile, status=SearchRequestStatus.PENDING
    ).first()
    if pending is not None:
        return pending
    made = SearchRequest.objects.create(profile=profile)
    transaction.on_commit(kick)
    return made


def after_qc(profile: Profile) -> None:
    """The hook of ``services.run_qc`` / ``review_qc``: a profile that passed is searched."""
    if profile.qc_status == QcStatus.PASSED and profile.active:
        request_search(profile)


def kick() -> None:
    """Have the pending search requests worked off, as ``DNA_MATCH_SEARCH_MODE`` says."""
    mode = search_mode()
    if mode == "inline":
        process_pending()
    elif mode == "thread":
        _worker.wake()


class _Worker:
    """One daemon thread per process, woken by :func:`kick`, working off pending requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._event = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        with self._lock:
            self._event.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="reunite-dna-search", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        failures = 0
        while True:
            if not self._event.wait(timeout=30):
                with self._lock:  # idle: let the thread end; the next kick starts another
                    if not self._event.is_set():
                        self._thread = None
                        return
                continue
            self._event.clear()
            try:
                close_old_connections()
                process_pending()
                failures = 0
            except Exception as exc:  # a busy database, say: the thread must live on
                failures += 1
                log.warning(
                    "incremental DNA search worker: %s (attempt %d)", type(exc).__name__, failures
                )
                if failures <= WORKER_RETRIES:
                    # The requests stay pending: try again soon rather than at the next save.
                    time.sleep(min(5.0, 0.2 * 2**failures))
                    self._event.set()
            finally:
                connection.close()


_worker = _Worker()


def _claim() -> SearchRequest | None:
    stale = timezone.now() - STALE_REQUEST
    for request in SearchRequest.objects.filter(status=SearchRequestStatus.PENDING).order_by(
        "requested_at", "pk"
    )[:20]:
        claimed = SearchRequest.objects.filter(
            pk=request.pk, status=SearchRequestStatus.PENDING
        ).update(status=SearchRequestStatus.RUNNING, started_at=timezone.now())
        if claimed:
            request.refresh_from_db()
            return request
    dead = SearchRequest.objects.filter(
        status=SearchRequestStatus.RUNNING, started_at__lt=stale
    ).first()
    if dead is not None and SearchRequest.objects.filter(
        pk=dead.pk, status=SearchRequestStatus.RUNNING, started_at=dead.started_at
    ).update(started_at=timezone.now()):
        dead.refresh_from_db()
        return dead
    return None


def process_pending(limit: int | None = None) -> int:
    """Work off pending search requests (oldest first); returns how many were done."""
    done = 0
    while limit is None or done < limit:
        request = _claim()
        if request is None:
            break
        try:
            result = search_profile(request.profile_id)
        except Exception as exc:
            SearchRequest.objects.filter(pk=request.pk).update(
                status=SearchRequestStatus.FAILED,
                finished_at=timezone.now(),
                error=f"{type(exc).__name__}: {exc}"[:2000],
            )
            log.warning("search request %s failed: %s", request.pk, type(exc).__name__)
        else:
            SearchRequest.objects.filter(pk=request.pk).update(
                status=SearchRequestStatus.DONE,
                finished_at=timezone.now(),
                pairs=result.pairs,
                candidates=len(result.hits),
            )
        done += 1
    return done


@dataclass(frozen=True)
class SearchBacklog:
    """Incremental searches not done: waiting, and failed (with the kind of the last error,
    never its text, which may quote a profile)."""

    pending: int
    failed: int
    last_error_kind: str


#: The audit trail's name for the incremental searches (retries are recorded under it).
SEARCHES_TYPE = "dna.SearchRequest"


def search_backlog() -> SearchBacklog:
    """What the battle page and ``reunite dna searches`` show: pending and failed searches."""
    counts = {
        status: SearchRequest.objects.filter(status=status).count()
        for status in (SearchRequestStatus.PENDING, SearchRequestStatus.FAILED)
    }
    last = (
        SearchRequest.objects.filter(status=SearchRequestStatus.FAILED)
        .order_by("-finished_at", "-pk")
        .values_list("error", flat=True)
        .first()
    )
    return SearchBacklog(
        pending=counts[SearchRequestStatus.PENDING],
        failed=counts[SearchRequestStatus.FAILED],
        last_error_kind=(last or "").split(":", 1)[0],
    )


def retry_failed(*, acting_user: User | None) -> int:
    """Put every failed search of a profile that is still searchable back in the queue (a
    failure is often passing: a locked database, a process stopped mid-search) and have it
    worked off.  ``acting_user`` ``None`` is the command line; a user needs
    ``RUN_COMPARISON``.  Returns how many were queued again; recorded in the audit trail."""
    if acting_user is not None:
        from reunite.dna.services import ensure_role

        ensure_role(
            acting_user=acting_user, action=Action.RUN_COMPARISON, object_type=SEARCHES_TYPE
        )
    with transaction.atomic():
        failed = SearchRequest.objects.filter(
            status=SearchRequestStatus.FAILED,
            profile__in=Profile.objects.searchable(),
        )
        ids = list(failed.values_list("pk", flat=True))
        SearchRequest.objects.filter(pk__in=ids, status=SearchRequestStatus.FAILED).update(
            status=SearchRequestStatus.PENDING,
            started_at=None,
            finished_at=None,
            error="",
        )
        record(
            actor=acting_user,
            action=AuditAction.UPDATE,
            object_type=SEARCHES_TYPE,
            details={"retried": len(ids)},
        )
        if ids:
            transaction.on_commit(kick)
    return len(ids)


def search_profile(profile_id: int, params: SearchParams | None = None) -> ChunkResult:
    """Search one profile against the other side now and save its candidates.

    A family reference: its family (pedigree with every typed relative) against every
    searchable unidentified profile.  An unidentified profile: every family against it, through
    the kept family side (:class:`FamilySide`).  A profile that is no longer searchable is
    searched against nothing.
    """
    params = params or params_from_settings()
    profile = Profile.objects.searchable().filter(pk=profile_id).select_related("sample").first()
    if profile is None:
        return ChunkResult()
    if profile.role == ProfileRole.REFERENCE:
        member = profile.sample.family_member
        assert member is not None
        families = load_families([member.report_id])
        unknowns = load_unknowns()
        result = search_chunk(families, unknowns, params)
    else:
        unknowns = load_unknowns([profile.pk])
        result, families = search_unknown(unknowns, params)
    with transaction.atomic():
        save_hits(result.hits, families, params, source="incremental")
    return result


def search_unknown(
    unknowns: Sequence[UnknownInput], params: SearchParams, *, kept: bool = True
) -> tuple[ChunkResult, list[FamilyInput]]:
    """Every family against ``unknowns`` (one new unidentified profile): the hits and the
    families they name.

    With ``kept`` (the default) the kept family side is refreshed and screened
    (:func:`~reunite.dna.engine.screen_unknown`); the families it names, read again from the
    database, and the leftover families then go through :func:`search_chunk`, so that every
    stored LR, per-locus table and hypothesis is computed from the family as it is now, exactly
    as without the kept side.  A person the kept panel cannot score (an allele the table lacks,
    no locus in common), several people at once, or ``kept=False``: every family is loaded and
    searched as it is (the definition the kept side is tested against).
    """
    side = _family_side.current(params) if kept and len(unknowns) == 1 else None
    reports = screen_unknown(side, unknowns[0], params) if side is not None else None
    if side is None or reports is None:
        families = load_families_in_batches(family_ids())
        return search_chunk(families, unknowns, params), families
    families = [*load_families_in_batches(reports), *side.leftover]
    result = search_chunk(families, unknowns, params)
    result.pairs += (len(side.matrix) - len(reports)) * len(unknowns)
    screened = {report_id for report_id, _reason in result.skipped}
    result.skipped.extend(s for s in side.skipped if s[0] not in screened)
    return result, families


# --------------------------------------------------------------------------- the kept family side


class FamilySide:
    """The family side of the incremental search, encoded once and kept in this process.

    Encoding every family (decrypting its references, building its pedigree, its tables for the
    fast engine) is what makes a new unidentified profile's search slow; the encoded families
    change little between two searches.  :meth:`current` refreshes them first, every time: one
    cheap pass over ids, digests and change times (:func:`~reunite.dna.engine.
    family_fingerprints`, nothing decrypted) finds the families that are new, changed or gone,
    and only those are loaded and encoded again.  A family whose references bring a locus the
    kept panel lacks rebuilds the whole side; new search parameters too.

    **Purpose limitation.** A reference profile saved (withdrawn, erased, QC changed, edited)
    or its sample saved (destroyed, consent withdrawn) evicts its family at once
    (:meth:`evict`: the encoded rows are overwritten in place) and the next refresh drops or
    reloads it; a profile made unsearchable without a save signal (a bulk update) drops out at
    the next refresh, which comes before every search.  And the kept side only *screens*: the
    families it names are read again and searched by :func:`search_chunk`, so a candidate is
    always computed from the family as it is at that moment.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one refresh at a time
        self._evict_lock = threading.Lock()  # short: never waits for a refresh
        self._params: SearchParams | None = None
        self._side: EncodedFamilies | None = None
        self._prints: dict[int, int] = {}
        self._evicted: set[int] = set()

    def clear(self) -> None:
        """Forget everything kept (the next search encodes the whole side again)."""
        with self._lock, self._evict_lock:
            self._params, self._side, self._prints, self._evicted = None, None, {}, set()

    def holds(self, report_id: int) -> bool:
        """Whether the family of ``report_id`` is kept, encoded and not evicted."""
        with self._evict_lock:
            side, evicted = self._side, report_id in self._evicted
        return side is not None and not evicted and report_id in side.held()

    @property
    def is_empty(self) -> bool:
        return self._side is None

    def evict(self, report_id: int) -> None:
        """Drop the family of ``report_id`` now: its encoded rows are overwritten and the next
        refresh drops it or loads it again as it is then."""
        with self._evict_lock:
            self._evicted.add(report_id)
            side = self._side
        if side is not None:
            side.wipe(report_id)

    def current(self, params: SearchParams) -> EncodedFamilies | None:
        """The families as they are now, encoded (refreshed first); ``None`` when the fast
        engine cannot hold their loci (more than it takes)."""
        with self._lock:
            with self._evict_lock:
                evicted, self._evicted = self._evicted, set()
            prints = family_fingerprints()
            side = self._side
            if side is None or self._params != params:
                side = self._build(params, prints)
            else:
                changed = {r for r, h in prints.items() if self._prints.get(r) != h}
                drop = changed | evicted | (self._prints.keys() - prints.keys())
                if drop:
                    side = self._update(params, side.without(drop), drop, changed, prints)
            with self._evict_lock:
                self._side = side
                late = set(self._evicted)  # evicted while this refresh read the database
            for report_id in late:
                self._prints.pop(report_id, None)
                if side is not None:
                    side.wipe(report_id)
            return side

    def _build(self, params: SearchParams, prints: dict[int, int]) -> EncodedFamilies | None:
        families = load_families_in_batches(prints)
        self._params, self._prints = params, {}
        panel = side_panel(params, reference_loci(families))
        if panel is None:
            return None
        self._prints = {f.report_id: prints[f.report_id] for f in families}
        return encode_side(panel, families)

    def _update(
        self,
        params: SearchParams,
        side: EncodedFamilies,
        drop: set[int],
        changed: set[int],
        prints: dict[int, int],
    ) -> EncodedFamilies | None:
        for report_id in drop:
            self._prints.pop(report_id, None)
        families = load_families_in_batches(changed)
        panel = side_panel(params, reference_loci(families) | set(side.panel.loci))
        if panel is None or panel.key != side.panel.key:  # a new locus: encode all again
            return self._build(params, prints)
        for family in families:
            self._prints[family.report_id] = prints[family.report_id]
        return side.plus(encode_side(side.panel, families))


_family_side = FamilySide()


def _evict_family_of(sample_id: int | None) -> None:
    if sample_id is None or _family_side.is_empty:
        return
    report_id = (
        Sample.objects.filter(pk=sample_id, role=ProfileRole.REFERENCE)
        .values_list("family_member__report_id", flat=True)
        .first()
    )
    if report_id is not None:
        _family_side.evict(report_id)
        transaction.on_commit(lambda: _family_side.evict(report_id))


@receiver(post_save, sender=Profile, dispatch_uid="dna-matching-profile-saved")
@receiver(post_delete, sender=Profile, dispatch_uid="dna-matching-profile-deleted")
def _reference_profile_changed(sender: type[Profile], instance: Profile, **kwargs: object) -> None:
    """A reference profile saved or deleted: its family leaves the kept side at once."""
    if instance.role == ProfileRole.REFERENCE and not kwargs.get("created"):
        _evict_family_of(instance.sample_id)


@receiver(post_save, sender=Sample, dispatch_uid="dna-matching-sample-saved")
def _reference_sample_changed(sender: type[Sample], instance: Sample, **kwargs: object) -> None:
    """A reference sample saved (consent withdrawn, destroyed): its family leaves at once."""
    if instance.role == ProfileRole.REFERENCE and not kwargs.get("created"):
        _evict_family_of(instance.pk)
