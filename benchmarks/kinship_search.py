"""Database search speed and accuracy: every unidentified profile against every family.

    python benchmarks/kinship_search.py --references N --unknowns M [--json PATH]
        [--table han_chinese] [--threshold 10000] [--theta 0.0] [--check-references 20000]
        [--check-unknowns 2000] [--simulations 500] [--no-dask] [--seed 1]
        [--speed-families 100000] [--speed-pedigrees 2000]

A population is simulated with a shipped frequency table over the 20 CODIS core loci: ``N``
family reference profiles in families — single parents (40% of the references), trios (40%, two
parents each) and sibling pairs (20%: one typed full sibling of the missing person) — and ``M``
unidentified profiles, of which about 5% are planted true relatives (children of a single parent,
children of a trio, full siblings; every transmission mutates under the stepwise model, and a
fifth of the planted children carry one forced mutation). Unplanted families and unknowns are
unrelated persons drawn from the table. All profiles are simulated directly as encoded arrays.

Figures (``--json`` writes them all):

* ``seconds_total`` — the whole battle (all families × all unknowns, threshold ``--threshold``)
  with :func:`reunite.kinship.search.search`; ``peak_rss_mb`` the process's peak memory at its end.
* ``pairs_per_second_parent_child`` / ``_full_sibling`` and ``trio_searches_per_second`` —
  family × unknown pairs per second of each hypothesis in that battle (families are ordered by
  hypothesis; each chunk's time is shared by its families), preparation of the tables and exact
  rescoring included; ``pairs_per_cpu_second`` the same per CPU-second of the process and
  ``cores_used_on_average`` how much of the machine the battle got (on a shared machine the
  wall-clock figures drop with the others' load, the per-CPU-second ones much less).
* ``speed_by_hypothesis`` (and ``pairs_per_second_by_hypothesis``) — each hypothesis searched on
  its own against the same unknowns: ``--speed-families`` families of unrelated references for
  every closed form (parent, child, full and half sibling, grandparent, grandchild, uncle or aunt,
  nephew or niece, first cousin, both parents), and ``--speed-pedigrees`` families of two typed
  full siblings, whose tables the general pedigree engine builds (``table_seconds_per_family``,
  outside the search time). ``--speed-families 0`` skips it.
* ``numpy_baseline_pairs_per_second`` — a plain numpy table look-up over all 20 loci (no early
  exit) for parent–child, and ``speedup_vs_numpy``.
* ``recall_*`` — the share of planted relatives found, by hypothesis (and for the planted
  children with a forced mutation); ``false_candidates`` — candidates that are not planted
  pairs; ``expected_false_candidates`` — the simulated expectation
  (:func:`~reunite.kinship.search.expected_false_candidates`) and ``false_candidates_bound`` the
  bound ``pairs / threshold``.
* ``check`` — on a smaller run (``--check-references`` × ``--check-unknowns``): ``lost``, the
  pairs whose exhaustive exact LR reaches the threshold but were not reported (must be 0);
  ``max_relative_error_vs_pedigree_lr`` on sampled candidates against the single-case engine;
  ``dask_identical`` (a Dask local cluster gives the same candidates).

The machine may be shared with other work: the load average is recorded with the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from reunite.kinship import CODIS_CORE_LOCI, load_table
from reunite.kinship.likelihood import genotype_pairs, pedigree_lr
from reunite.kinship.pedigree import Pedigree, Person
from reunite.kinship.profiles import Genotype, Profile
from reunite.kinship.search import (
    HYPOTHESES,
    UNTYPED,
    ChunkResult,
    Family,
    FamilyMatrix,
    Panel,
    ProfileMatrix,
    encode_families,
    exact_log10_lr,
    expected_false_candidates,
    make_panel,
    search,
    search_dask,
)
from reunite.kinship.search_tables import PAIRWISE, mutation_for

STEPWISE = {"model": "stepwise", "rate": 0.002, "rate2": 1e-6, "range": 0.1}
PLANTED_SHARE = 0.05
FORCED_MUTATION_SHARE = 0.2
IntArray = npt.NDArray[np.int64]


class Population:
    """Allele draws and transmissions (with mutation) on the panel's allele indices."""

    def __init__(self, panel: Panel, rng: np.random.Generator) -> None:
        self.rng = rng
        self.loci = len(panel.loci)
        self.p_cum = []
        self.m_cum = []
        self.mutation = []
        for name in panel.loci:
            freqs = panel.frequencies[name]
            p = np.asarray(freqs.frequencies, dtype=np.float64)
            self.p_cum.append(np.cumsum(p / p.sum()))
            matrix = mutation_for(freqs, panel.mutation.for_locus(name))
            self.mutation.append(matrix)
            self.m_cum.append(np.cumsum(matrix, axis=1))

    def founders(self, count: int) -> IntArray:
        """``(count, L, 2)`` allele indices of unrelated persons."""
        out = np.empty((count, self.loci, 2), dtype=np.int64)
        for locus, cumulative in enumerate(self.p_cum):
            draws = np.searchsorted(cumulative, self.rng.random((count, 2)), side="right")
            out[:, locus] = np.minimum(draws, len(cumulative) - 1)
        return out

    def transmit(self, parent: IntArray) -> IntArray:
        """``(count, L)``: one allele of each parent, after the mutation model."""
        count = parent.shape[0]
        pick = self.rng.integers(0, 2, size=(count, self.loci))
        allele = np.take_along_axis(parent, pick[..., None], axis=2)[..., 0]
        out = np.empty_like(allele)
        for locus, cumulative in enumerate(self.m_cum):
            rows = cumulative[allele[:, locus]]
            u = self.rng.random(count)[:, None]
            out[:, locus] = np.minimum((rows < u).sum(axis=1), rows.shape[1] - 1)
        return out

    def force_mutation(self, alleles: IntArray) -> None:
        """Mutate one random locus of each row in place (to a different allele, in proportion
        to the mutation matrix's off-diagonal row)."""
        for row in range(alleles.shape[0]):
            locus = int(self.rng.integers(self.loci))
            a = int(alleles[row, locus])
            weights = self.mutation[locus][a].copy()
            weights[a] = 0.0
            if weights.sum() > 0.0:
                alleles[row, locus] = self.rng.choice(len(weights), p=weights / weights.sum())

    def child(self, mother: IntArray, father: IntArray) -> IntArray:
        return np.stack([self.transmit(mother), self.transmit(father)], axis=2)


def encode(alleles: IntArray) -> npt.NDArray[np.uint16]:
    """``(count, L, 2)`` allele indices → ``(count, L)`` genotype indices."""
    low = alleles.min(axis=2)
    high = alleles.max(axis=2)
    return (high * (high + 1) // 2 + low).astype(np.uint16)


class Simulated:
    """Families, unknowns and the planted pairs of one simulated database."""

    def __init__(self, panel: Panel, references: int, unknowns: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        pop = Population(panel, rng)
        n_parent = round(references * 0.4)
        n_trio = round(references * 0.2)
        n_sib = max(0, references - n_parent - 2 * n_trio)
        planted = round(unknowns * PLANTED_SHARE)
        plant = {
            "parent-child": min(n_parent, planted // 3),
            "trio": min(n_trio, planted // 3),
            "full-siblings": min(n_sib, planted - 2 * (planted // 3)),
        }
        loci = len(panel.loci)
        untyped = np.full((0, loci), UNTYPED, dtype=np.uint16)
        refs: list[npt.NDArray[np.uint16]] = []
        kinds: list[str] = []
        truth_unknowns: list[npt.NDArray[np.uint16]] = []
        truth: dict[str, list[int]] = {}  # hypothesis -> family indices of the planted unknowns
        mutated: list[bool] = []
        start = 0
        for name, count in (("parent-child", n_parent), ("trio", n_trio), ("full-siblings", n_sib)):
            k = plant[name]
            block = np.full((count, 2, loci), UNTYPED, dtype=np.uint16)
            first = pop.founders(count)
            second = pop.founders(count) if name == "trio" else None
            chosen = np.sort(rng.choice(count, size=k, replace=False)) if k else np.zeros(0, int)
            if name == "full-siblings" and k:
                mother, father = pop.founders(k), pop.founders(k)
                first[chosen] = pop.child(mother, father)
                missing = pop.child(mother, father)
                forced = np.zeros(k, dtype=bool)
            elif k:
                other = second[chosen] if second is not None else pop.founders(k)
                maternal = pop.transmit(other)
                paternal = pop.transmit(first[chosen])
                forced = rng.random(k) < FORCED_MUTATION_SHARE
                if forced.any():
                    paternal_forced = paternal[forced]
                    pop.force_mutation(paternal_forced)
                    paternal[forced] = paternal_forced
                missing = np.stack([maternal, paternal], axis=2)
            else:
                missing = np.zeros((0, loci, 2), dtype=np.int64)
                forced = np.zeros(0, dtype=bool)
            block[:, 0] = encode(first)
            if second is not None:
                block[:, 1] = encode(second)
            refs.append(block)
            kinds.extend([name] * count)
            truth_unknowns.append(encode(missing))
            truth[name] = (chosen + start).tolist()
            mutated.extend(forced.tolist())
            start += count
        del untyped
        self.references = np.concatenate(refs) if refs else np.zeros((0, 2, loci), np.uint16)
        self.kinds = kinds
        self.family_ids = tuple(f"F{i}" for i in range(len(kinds)))
        planted_rows = np.concatenate(truth_unknowns)
        strangers = encode(pop.founders(max(0, unknowns - planted_rows.shape[0])))
        everyone = np.concatenate([planted_rows, strangers])[:unknowns]
        order = rng.permutation(everyone.shape[0])
        self.unknowns = everyone[order]
        self.unknown_ids = tuple(f"U{i}" for i in range(self.unknowns.shape[0]))
        position = np.empty_like(order)
        position[order] = np.arange(order.shape[0])
        # planted pairs: (family index, unknown index, hypothesis, forced mutation)
        self.planted: list[tuple[int, int, str, bool]] = []
        row = 0
        flags = iter(mutated)
        for name in ("parent-child", "trio", "full-siblings"):
            for family in truth[name]:
                if row < unknowns:
                    self.planted.append((family, int(position[row]), name, next(flags)))
                row += 1

    def families(self, panel: Panel, limit: int | None = None) -> FamilyMatrix:
        count = len(self.kinds) if limit is None else limit
        return FamilyMatrix.from_arrays(
            panel, self.family_ids[:count], self.kinds[:count], self.references[:count]
        )

    def unknown_matrix(self, panel: Panel) -> ProfileMatrix:
        return ProfileMatrix.from_arrays(panel, self.unknown_ids, self.unknowns)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def per_hypothesis_rates(
    chunks: list[ChunkResult], families: FamilyMatrix, unknowns: int, size: int, cpu: bool
) -> dict[str, float]:
    """Pairs per second (wall clock, or per CPU-second) of each hypothesis: each chunk's time
    shared by its families."""
    seconds = dict.fromkeys(HYPOTHESES, 0.0)
    pairs = dict.fromkeys(HYPOTHESES, 0)
    for part in chunks:
        kinds = families.kinds[part.index * size : (part.index + 1) * size]
        counts = np.bincount(kinds, minlength=len(HYPOTHESES))
        spent = part.cpu_seconds if cpu else part.seconds
        for code, name in enumerate(HYPOTHESES):
            if counts[code]:
                seconds[name] += spent * counts[code] / kinds.shape[0]
                pairs[name] += int(counts[code]) * unknowns
    return {name: pairs[name] / seconds[name] for name in HYPOTHESES if seconds[name] > 0}


def numpy_baseline(
    panel: Panel, sim: Simulated, families: int, unknowns: int
) -> tuple[float, float]:
    """Pairs per second (wall clock, per CPU-second) of a plain numpy parent–child search: per
    locus, the shared LR matrix's rows for the families, indexed by the unknowns' genotypes,
    summed over all loci, then compared with the threshold."""
    from reunite.kinship.search_tables import pairwise_matrix

    chosen = [i for i, kind in enumerate(sim.kinds) if kind == "parent-child"][:families]
    refs = sim.references[chosen, 0].astype(np.int64)
    unknown = sim.unknowns[:unknowns].astype(np.int64)
    logs = []
    for name in panel.loci:
        matrix = pairwise_matrix(
            panel.frequencies[name], panel.mutation.for_locus(name), panel.theta, "parent-child"
        )
        with np.errstate(divide="ignore"):
            logs.append(np.log10(matrix).astype(np.float32))
    started = time.perf_counter()
    cpu_started = time.process_time()
    block = 256
    hits = 0
    for start in range(0, len(chosen), block):
        total = np.zeros((min(block, len(chosen) - start), unknown.shape[0]), dtype=np.float32)
        for locus, table in enumerate(logs):
            total += table[refs[start : start + block, locus]][:, unknown[:, locus]]
        hits += int((total >= 4.0).sum())
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    pairs = len(chosen) * unknown.shape[0]
    return pairs / seconds, pairs / cpu


def decode(panel: Panel, pid: str, row: npt.NDArray[np.uint16]) -> Profile:
    genotypes = {}
    for locus, name in enumerate(panel.loci):
        if int(row[locus]) == UNTYPED:
            continue
        alleles = panel.frequencies[name].alleles
        lo, hi = genotype_pairs(len(alleles))
        genotypes[name] = Genotype(alleles[lo[row[locus]]], alleles[hi[row[locus]]])
    return Profile(pid, genotypes)


def family_object(panel: Panel, sim: Simulated, index: int) -> Family:
    kind = sim.kinds[index]
    first = decode(panel, "R1", sim.references[index, 0])
    if kind == "trio":
        return Family.trio(
            sim.family_ids[index], first, decode(panel, "R2", sim.references[index, 1])
        )
    return Family.relative(sim.family_ids[index], kind, first)


def sibling_set(family_id: str, first: Profile, second: Profile) -> Family:
    """A family with two typed full siblings of the missing person: no closed form, so its
    tables come from the general pedigree engine."""
    pedigree = Pedigree(
        (
            Person("FA", "M", None, None),
            Person("MO", "F", None, None),
            Person("S1", "M", "MO", "FA"),
            Person("S2", "M", "MO", "FA"),
            Person("X", "M", "MO", "FA"),
        )
    )
    return Family(family_id, pedigree, "X", {"S1": first, "S2": second})


def timed_search(
    panel: Panel, families: FamilyMatrix, unknowns: ProfileMatrix, threshold: float
) -> dict[str, float]:
    """Pairs per second (wall clock and per CPU-second) of one search, after a warm-up."""
    search(panel, families[:64], unknowns, threshold)
    started = time.perf_counter()
    cpu_started = time.process_time()
    result = search(panel, families, unknowns, threshold)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    pairs = len(families) * len(unknowns)
    return {
        "families": len(families),
        "pairs": pairs,
        "seconds": seconds,
        "pairs_per_second": pairs / seconds,
        "pairs_per_cpu_second": pairs / cpu,
        "candidates": len(result),
    }


def speed_by_hypothesis(
    panel: Panel, unknowns: ProfileMatrix, count: int, pedigrees: int, threshold: float, seed: int
) -> dict[str, dict[str, float]]:
    """The search speed of every hypothesis on its own: ``count`` families of unrelated
    references per closed form (every pairwise relationship and the trio), and ``pedigrees``
    sibling-set families whose tables the general engine builds (timed apart)."""
    rng = np.random.default_rng(seed)
    pop = Population(panel, rng)
    loci = len(panel.loci)
    out: dict[str, dict[str, float]] = {}
    for name in (*PAIRWISE, "trio") if count else ():
        refs = np.full((count, 2, loci), UNTYPED, dtype=np.uint16)
        refs[:, 0] = encode(pop.founders(count))
        if name == "trio":
            refs[:, 1] = encode(pop.founders(count))
        ids = tuple(f"{name}-{i}" for i in range(count))
        families = FamilyMatrix.from_arrays(panel, ids, [name] * count, refs)
        out[name] = timed_search(panel, families, unknowns, threshold)
    if pedigrees:
        rows = encode(pop.founders(2 * pedigrees))
        started = time.perf_counter()
        objects = [
            sibling_set(
                f"sibset-{i}",
                decode(panel, "S1", rows[2 * i]),
                decode(panel, "S2", rows[2 * i + 1]),
            )
            for i in range(pedigrees)
        ]
        families = encode_families(panel, objects)
        tables = time.perf_counter() - started
        figures = timed_search(panel, families, unknowns, threshold)
        figures["table_seconds_per_family"] = tables / pedigrees
        out["pedigree (two full siblings)"] = figures
    return out


def check_run(
    panel: Panel, args: argparse.Namespace, threshold: float, dask: bool
) -> dict[str, Any]:
    """The exhaustive and Dask checks on a smaller simulated database."""
    sim = Simulated(panel, args.check_references, args.check_unknowns, args.seed + 1)
    families = sim.families(panel)
    unknowns = sim.unknown_matrix(panel)
    started = time.perf_counter()
    result = search(panel, families, unknowns, threshold)
    seconds = time.perf_counter() - started
    exact = exact_log10_lr(panel, families, unknowns)
    due = set(zip(*np.nonzero(exact >= math.log10(threshold)), strict=True))
    got = set(zip(result.family_index.tolist(), result.unknown_index.tolist(), strict=True))
    lost = len(due - got)
    extra = len(got - due)
    # exactness against the single-case engine on sampled candidates
    rng = np.random.default_rng(args.seed)
    sample = (
        rng.choice(len(result), size=min(20, len(result)), replace=False) if len(result) else []
    )
    worst = 0.0
    for k in sample:
        candidate = result.candidate(int(k))
        family = family_object(panel, sim, candidate.family_index)
        unknown = decode(panel, "U", sim.unknowns[candidate.unknown_index])
        single = pedigree_lr(
            family.pedigree,
            family.missing,
            family.references,
            unknown,
            panel.frequencies,
            panel.theta,
            panel.mutation,
        )
        worst = max(worst, abs(single.lr - candidate.lr) / single.lr)
    check: dict[str, Any] = {
        "references": args.check_references,
        "families": len(families),
        "unknowns": len(unknowns),
        "pairs": len(families) * len(unknowns),
        "candidates": len(result),
        "pairs_due": len(due),
        "lost": lost,
        "reported_below_threshold": extra,
        "search_seconds": seconds,
        "pedigree_lr_checked": len(sample),
        "max_relative_error_vs_pedigree_lr": worst,
    }
    if dask:
        started = time.perf_counter()
        distributed = search_dask(
            panel, families, unknowns, threshold, scheduler="local", workers=2
        )
        check["dask_seconds"] = time.perf_counter() - started
        check["dask_identical"] = distributed.keys() == result.keys() and bool(
            np.array_equal(distributed.per_locus, result.per_locus, equal_nan=True)
        )
    return check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--references", type=int, default=100_000)
    parser.add_argument("--unknowns", type=int, default=10_000)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--table", default="han_chinese")
    parser.add_argument("--threshold", type=float, default=10_000.0)
    parser.add_argument("--theta", type=float, default=0.0)
    parser.add_argument("--check-references", type=int, default=20_000)
    parser.add_argument("--check-unknowns", type=int, default=2_000)
    parser.add_argument("--simulations", type=int, default=500)
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--speed-families", type=int, default=100_000)
    parser.add_argument("--speed-pedigrees", type=int, default=2_000)
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    table = load_table(args.table)
    loci = [locus for locus in CODIS_CORE_LOCI if locus in table.loci]
    panel = make_panel(table, loci=loci, theta=args.theta, mutation=STEPWISE)
    started = time.perf_counter()
    sim = Simulated(panel, args.references, args.unknowns, args.seed)
    families = sim.families(panel)
    unknowns = sim.unknown_matrix(panel)
    simulate_seconds = time.perf_counter() - started
    print(
        f"simulated {args.references} references in {len(families)} families "
        f"{families.hypotheses()} and {len(unknowns)} unknowns ({len(sim.planted)} planted) "
        f"in {simulate_seconds:.1f} s",
        flush=True,
    )

    # warm-up: compile the kernels and build the shared matrices outside the timed battle
    search(panel, families[:64], unknowns, args.threshold)

    chunks: list[ChunkResult] = []
    size = max(1024, 40_000_000 // max(len(unknowns), 1))
    size = min(size, 65_536)
    started = time.perf_counter()
    cpu_started = time.process_time()
    result = search(
        panel, families, unknowns, args.threshold, chunk_size=size, on_chunk=chunks.append
    )
    seconds_total = time.perf_counter() - started
    cpu_total = time.process_time() - cpu_started
    peak = rss_mb()
    rates = per_hypothesis_rates(chunks, families, len(unknowns), size, cpu=False)
    cpu_rates = per_hypothesis_rates(chunks, families, len(unknowns), size, cpu=True)
    print(
        f"battle: {len(result)} candidates in {seconds_total:.1f} s, peak {peak:.0f} MB", flush=True
    )

    found = set(zip(result.family_index.tolist(), result.unknown_index.tolist(), strict=True))
    planted = {(f, u) for f, u, _, _ in sim.planted}
    recall: dict[str, float] = {}
    for name in ("parent-child", "trio", "full-siblings"):
        pairs = [(f, u) for f, u, kind, _ in sim.planted if kind == name]
        recall[name] = sum(pair in found for pair in pairs) / len(pairs) if pairs else math.nan
    forced = [(f, u) for f, u, kind, flag in sim.planted if flag and kind == "parent-child"]
    forced_trio = [(f, u) for f, u, kind, flag in sim.planted if flag and kind == "trio"]
    false_candidates = len(found - planted)

    baseline, baseline_cpu = numpy_baseline(panel, sim, min(2000, len(families)), len(unknowns))
    estimate = expected_false_candidates(
        panel,
        families,
        args.threshold,
        unknowns=len(unknowns),
        simulations=args.simulations,
        max_families=min(len(families), 100_000),
    )
    print("speed by hypothesis ...", flush=True)
    by_hypothesis = (
        speed_by_hypothesis(
            panel,
            unknowns,
            args.speed_families,
            args.speed_pedigrees,
            args.threshold,
            args.seed + 2,
        )
        if args.speed_families
        else {}
    )
    print("checks ...", flush=True)
    check = check_run(panel, args, args.threshold, not args.no_dask)

    figures: dict[str, Any] = {
        "table": args.table,
        "loci": len(loci),
        "theta": args.theta,
        "mutation": STEPWISE,
        "threshold": args.threshold,
        "references": args.references,
        "families": families.hypotheses(),
        "unknowns": len(unknowns),
        "pairs": len(families) * len(unknowns),
        "seconds_total": seconds_total,
        "pairs_per_second_all": len(families) * len(unknowns) / seconds_total,
        "pairs_per_second_parent_child": rates.get("parent-child"),
        "pairs_per_second_full_sibling": rates.get("full-siblings"),
        "trio_searches_per_second": rates.get("trio"),
        "cpu_seconds_total": cpu_total,
        "cores_used_on_average": cpu_total / seconds_total,
        "pairs_per_cpu_second": {name: cpu_rates[name] for name in cpu_rates},
        "screened_pairs": result.screened,
        "peak_rss_mb": peak,
        "candidates": len(result),
        "candidates_by_hypothesis": result.counts(),
        "planted": len(sim.planted),
        "recall_parent_child": recall["parent-child"],
        "recall_trio": recall["trio"],
        "recall_full_sibling": recall["full-siblings"],
        "recall_parent_child_forced_mutation": (
            sum(pair in found for pair in forced) / len(forced) if forced else None
        ),
        "recall_trio_forced_mutation": (
            sum(pair in found for pair in forced_trio) / len(forced_trio) if forced_trio else None
        ),
        "false_candidates": false_candidates,
        "expected_false_candidates": estimate.simulated,
        "expected_false_candidates_by_hypothesis": dict(estimate.per_hypothesis),
        "expected_false_candidates_per_query": dict(estimate.per_query),
        "false_candidates_bound": estimate.bound,
        "false_candidate_simulation": {"pairs": estimate.pairs, "hits": estimate.hits},
        "pairs_per_second_by_hypothesis": {
            name: value["pairs_per_second"] for name, value in by_hypothesis.items()
        },
        "speed_by_hypothesis": by_hypothesis,
        "numpy_baseline_pairs_per_second": baseline,
        "numpy_baseline_pairs_per_cpu_second": baseline_cpu,
        "speedup_vs_numpy": (rates.get("parent-child") or 0.0) / baseline,
        "speedup_vs_numpy_per_cpu_second": (cpu_rates.get("parent-child") or 0.0) / baseline_cpu,
        "check": check,
        "lost": check["lost"],
        "dask_identical": check.get("dask_identical"),
        "peak_rss_mb_end": rss_mb(),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
    }
    print(json.dumps(figures, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
