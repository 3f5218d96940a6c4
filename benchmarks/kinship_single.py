"""Single-case kinship speed: one pairwise LR and one both-parents pedigree LR over 20 loci.

    python benchmarks/kinship_single.py [--json PATH] [--pairs N] [--trios N] [--table ID]

Figures (microseconds per call, averaged over many *different* simulated cases, so no cache
answers a repeated question):

* ``pairwise_us`` — the compiled pairwise kernel on encoded profiles (what a batch job or the
  search engine calls): full siblings, θ = 0.01, 20 loci. Target ≤ 50 µs.
* ``pairwise_api_us`` — the same through :func:`reunite.kinship.pairwise.pairwise_lr` with
  ``Profile`` objects (validation, encoding, result object included).
* ``trio_stepwise_us`` — :func:`reunite.kinship.likelihood.pedigree_lr`: mother and father
  typed, the unknown person in the child's place, stepwise mutation (rate 0.002, rate2 1e-6,
  range 0.1), θ = 0, 20 loci, through the full API. Target ≤ 1 ms.
* ``trio_stepwise_theta_us`` — the same with θ = 0.01.
* ``*_cpu_us`` — the same per call in this process's CPU time, and ``load_average_1min``: on a
  machine shared with other work the wall-clock figures are inflated, so both are reported.
* ``plan_seconds`` — :func:`reunite.kinship.plan.plan_search` for one typed mother in a family
  of four (10,000 simulations, two candidates).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from reunite.kinship import (
    Pedigree,
    frequencies_for,
    load_table,
    parse_mutation,
    parse_profile,
)
from reunite.kinship.frequencies import FrequencyTable
from reunite.kinship.kernels import pairwise_locus_lrs
from reunite.kinship.likelihood import pedigree_lr
from reunite.kinship.pairwise import pairwise_lr
from reunite.kinship.plan import plan_search
from reunite.kinship.profiles import Profile

LOCI = 20
STEPWISE = {"model": "stepwise", "rate": 0.002, "rate2": 1e-6, "range": 0.1}


def _founder(table: FrequencyTable, loci: list[str], rng: np.random.Generator) -> dict[str, Any]:
    genotype: dict[str, Any] = {}
    for locus in loci:
        freqs = table.loci[locus]
        weights = freqs.frequencies / freqs.frequencies.sum()
        genotype[locus] = list(rng.choice(freqs.alleles, size=2, p=weights))
    return genotype


def _child(mother: dict[str, Any], father: dict[str, Any], rng: np.random.Generator) -> dict:
    return {
        locus: [mother[locus][rng.integers(2)], father[locus][rng.integers(2)]] for locus in mother
    }


def _sibling_pairs(
    table: FrequencyTable, loci: list[str], count: int, rng: np.random.Generator
) -> list[tuple[Profile, Profile]]:
    pairs = []
    for i in range(count):
        mother, father = _founder(table, loci, rng), _founder(table, loci, rng)
        pairs.append(
            (
                parse_profile(f"A{i}", _child(mother, father, rng)),
                parse_profile(f"B{i}", _child(mother, father, rng)),
            )
        )
    return pairs


def bench_pairwise(table: FrequencyTable, loci: list[str], count: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    pairs = _sibling_pairs(table, loci, count, rng)
    freqs = frequencies_for([p for pair in pairs for p in pair], table)
    ordered = list(freqs.loci)
    width = max(len(freqs.loci[locus]) for locus in ordered)
    p = np.zeros((len(ordered), width))
    for row, locus in enumerate(ordered):
        p[row, : len(freqs.loci[locus])] = freqs.loci[locus].frequencies

    def encode(profile: Profile) -> np.ndarray:
        g = np.full((len(ordered), 2), -1, dtype=np.int64)
        for row, locus in enumerate(ordered):
            genotype = profile.genotypes.get(locus)
            if genotype is not None:
                g[row] = [freqs.loci[locus].index(allele) for allele in genotype.alleles]
        return g

    encoded = [(encode(a), encode(b)) for a, b in pairs]
    out = np.empty(len(ordered))
    pairwise_locus_lrs(encoded[0][0], encoded[0][1], p, 0.25, 0.5, 0.25, 0.01, out)  # compile
    start = time.perf_counter()
    for g1, g2 in encoded:
        pairwise_locus_lrs(g1, g2, p, 0.25, 0.5, 0.25, 0.01, out)
    kernel = (time.perf_counter() - start) / len(encoded)

    pairwise_lr(pairs[0][0], pairs[0][1], freqs, "full-siblings", 0.01)
    start = time.perf_counter()
    for a, b in pairs:
        pairwise_lr(a, b, freqs, "full-siblings", 0.01)
    api = (time.perf_counter() - start) / len(pairs)
    return {"pairwise_us": kernel * 1e6, "pairwise_api_us": api * 1e6, "pairs": len(pairs)}


def bench_trio(
    table: FrequencyTable, loci: list[str], count: int, seed: int, theta: float
) -> tuple[float, float]:
    """Microseconds per call: wall clock, and this process's CPU time (which other processes
    competing for the cores inflate less)."""
    rng = np.random.default_rng(seed)
    pedigree = Pedigree.from_spec(
        [
            {"id": "MO", "sex": "F"},
            {"id": "FA", "sex": "M"},
            {"id": "MP", "sex": "M", "mother": "MO", "father": "FA"},
        ]
    )
    mutation = parse_mutation(STEPWISE)
    cases = []
    for i in range(count):
        mother, father = _founder(table, loci, rng), _founder(table, loci, rng)
        cases.append(
            (
                parse_profile("MO", mother),
                parse_profile("FA", father),
                parse_profile(f"U{i}", _child(mother, father, rng)),
            )
        )
    freqs = frequencies_for([p for case in cases for p in case], table)
    mo, fa, unknown = cases[0]
    pedigree_lr(pedigree, "MP", {"MO": mo, "FA": fa}, unknown, freqs, theta, mutation)
    start, cpu = time.perf_counter(), time.process_time()
    for mo, fa, unknown in cases:
        pedigree_lr(pedigree, "MP", {"MO": mo, "FA": fa}, unknown, freqs, theta, mutation)
    wall = (time.perf_counter() - start) / len(cases) * 1e6
    return wall, (time.process_time() - cpu) / len(cases) * 1e6


def bench_plan(table: FrequencyTable, loci: list[str], seed: int) -> float:
    rng = np.random.default_rng(seed)
    mother = parse_profile("MO", _founder(table, loci, rng))
    pedigree = Pedigree.from_spec(
        [
            {"id": "MO", "sex": "F"},
            {"id": "FA", "sex": "M"},
            {"id": "MP", "sex": "M", "mother": "MO", "father": "FA"},
            {"id": "SIB", "sex": "F", "mother": "MO", "father": "FA"},
        ]
    )
    freqs = frequencies_for([mother], table)
    start = time.perf_counter()
    plan_search(pedigree, "MP", {"MO": mother}, freqs, 0.0, parse_mutation(STEPWISE))
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--trios", type=int, default=2_000)
    parser.add_argument("--table", default="nist_us_caucasian")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    table = load_table(args.table)
    loci = list(table.loci)[:LOCI]
    figures: dict[str, Any] = {
        "table": args.table,
        "loci": len(loci),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    figures.update(bench_pairwise(table, loci, args.pairs, args.seed))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    figures["load_average_1min"] = load
    wall, cpu = bench_trio(table, loci, args.trios, args.seed, 0.0)
    figures["trio_stepwise_us"], figures["trio_stepwise_cpu_us"] = wall, cpu
    wall, cpu = bench_trio(table, loci, args.trios, args.seed, 0.01)
    figures["trio_stepwise_theta_us"], figures["trio_stepwise_theta_cpu_us"] = wall, cpu
    figures["trios"] = args.trios
    figures["plan_seconds"] = bench_plan(table, loci, args.seed)
    figures["targets"] = {"pairwise_us": 50.0, "trio_stepwise_us": 1000.0}
    for key, value in figures.items():
        print(f"{key:>24}: {value:.1f}" if isinstance(value, float) else f"{key:>24}: {value}")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
