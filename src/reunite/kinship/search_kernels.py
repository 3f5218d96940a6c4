"""Compiled (numba) kernels of the database search (:mod:`reunite.kinship.search`).

Imported lazily, like :mod:`reunite.kinship.kernels`: numba's start-up cost is paid only when a
search runs. Shapes and dtypes are stated on each kernel; the callers in
:mod:`reunite.kinship.search` build the arrays.

**The screen.** Each family has, per informative locus, a *row*: ``log10 LR`` (float32) for
every unknown genotype column of the search, plus one last column of 0 for an untyped unknown
(LR 1). The rows of all families lie in one flat array ``values``; ``row_offset[f, k]`` is where
family ``f``'s ``k``-th row starts and ``row_locus[f, k]`` the locus it belongs to, loci ordered
so that the most discriminating come first. ``suffix[f, k]`` is the largest sum the rows
``k, k+1, ...`` can still add (the sum of their maxima, never negative). For each unknown the
kernel adds the rows' entries at the unknown's columns and stops as soon as the partial sum plus
``suffix`` falls below the threshold: the pair can no longer reach it. This exit is exact (no
pair that could reach the threshold is dropped), so it doubles as the mutation-tolerant
prefilter of a parent–child search: a locus where the two share no allele costs its exact,
finite log10 LR under the mutation model instead of an exclusion, and the pair goes on only
while the rest could still make up for it.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from reunite.kinship.kernels import _ibd

__all__ = [
    "kappa_lr_matrix",
    "order_rows",
    "plan_shared_rows",
    "screen_parallel",
    "screen_serial",
    "trio_rows",
]

#: Genotype index of an untyped locus (as :data:`reunite.kinship.search.UNTYPED`).
UNTYPED = 0xFFFF


@njit(cache=True)
def kappa_lr_matrix(
    lo: npt.NDArray[np.int64],
    hi: npt.NDArray[np.int64],
    p: npt.NDArray[np.float64],
    k0: float,
    k1: float,
    k2: float,
    theta: float,
    out: npt.NDArray[np.float64],
) -> None:
    """``out[r, c]`` (float64, ``(G, G)``) = the LR of κ = (k0, k1, k2) against unrelated for
    reference genotype ``r`` and unknown genotype ``c`` (alleles ``lo[g] ≤ hi[g]``), the same
    exact IBD sum as :func:`reunite.kinship.kernels.pairwise_locus_lrs`."""
    count = lo.shape[0]
    for r in range(count):
        for c in range(count):
            s0, s1, s2 = _ibd(lo[r], hi[r], lo[c], hi[c], p, theta)
            numerator = 0.0
            if k0 != 0.0:
                numerator += k0 * s0
            if k1 != 0.0:
                numerator += k1 * s1
            if k2 != 0.0:
                numerator += k2 * s2
            out[r, c] = numerator / s0


@njit(cache=True, nogil=True)
def trio_rows(
    p: npt.NDArray[np.float64],
    mutation: npt.NDArray[np.float64],
    theta: float,
    mother: npt.NDArray[np.int64],
    father: npt.NDArray[np.int64],
    col_lo: npt.NDArray[np.int64],
    col_hi: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    cap: float,
    log_out: npt.NDArray[np.float32],
    stats: npt.NDArray[np.float64],
) -> float:
    """The float32 log10 trio rows of one locus for many families, with their statistics.

    ``mother``/``father`` ``(F, 2)`` allele indices; ``col_lo``/``col_hi`` the alleles of the
    ``C`` unknown genotype columns; ``weights`` ``(C + 1,)`` the unknowns' share per column (the
    last: untyped). Writes ``log_out (F, C + 1)``: log10 of the closed form of
    :func:`reunite.kinship.search_tables.trio_lr`, operation for operation, and 0 for the untyped
    column; and per family ``stats[f]`` = (largest and smallest log10 over the columns in use,
    expected shortfall from the largest, capped at ``cap``). Returns the largest finite
    ``|log10|``.
    """
    n = p.shape[0]
    columns = col_lo.shape[0]
    t_m = np.empty(n)
    t_f = np.empty(n)
    logs = np.empty(columns + 1)
    scale = 0.0
    for i in range(mother.shape[0]):
        m0, m1 = mother[i, 0], mother[i, 1]
        f0, f1 = father[i, 0], father[i, 1]
        for x in range(n):
            t_m[x] = 0.5 * (mutation[m0, x] + mutation[m1, x])
            t_f[x] = 0.5 * (mutation[f0, x] + mutation[f1, x])
        for j in range(columns):
            a = col_lo[j]
            b = col_hi[j]
            h1 = t_m[a] * t_f[b] + t_m[b] * t_f[a]
            same = 1.0 if a == b else 0.0
            if a == b:
                h1 *= 0.5
            if theta > 0.0:
                c_a = (m0 == a) + (m1 == a) + (f0 == a) + (f1 == a)
                c_b = (m0 == b) + (m1 == b) + (f0 == b) + (f1 == b)
            else:
                c_a = 0
                c_b = 0
            first = (theta * c_a + (1.0 - theta) * p[a]) / (1.0 + 3.0 * theta)
            second = (theta * (c_b + same) + (1.0 - theta) * p[b]) / (1.0 + 4.0 * theta)
            lr = h1 / (first * second * (1.0 if a == b else 2.0))
            logs[j] = math.log10(lr) if lr > 0.0 else -math.inf
        logs[columns] = 0.0
        top = -math.inf
        bottom = math.inf
        for j in range(columns + 1):
            log_out[i, j] = logs[j]
            if weights[j] > 0.0:
                top = max(top, logs[j])
                bottom = min(bottom, logs[j])
            if logs[j] > -math.inf:
                scale = max(scale, abs(logs[j]))
        shortfall = 0.0
        for j in range(columns + 1):
            if weights[j] > 0.0:
                gap = top - logs[j] if top > -math.inf else cap
                shortfall += weights[j] * min(gap, cap)
        stats[i, 0] = top
        stats[i, 1] = bottom
        stats[i, 2] = shortfall
    return scale


@njit(cache=True, nogil=True)
def plan_shared_rows(
    kinds: npt.NDArray[np.uint8],
    refs: npt.NDArray[np.uint16],
    slot_of: npt.NDArray[np.int64],
    trio_code: int,
    parent_slot: int,
    base: npt.NDArray[np.int64],
    stat_base: npt.NDArray[np.int64],
    widths: npt.NDArray[np.int64],
    top: npt.NDArray[np.float64],
    bottom: npt.NDArray[np.float64],
    shortfall: npt.NDArray[np.float64],
    offset: npt.NDArray[np.int64],
    rowmax: npt.NDArray[np.float64],
    rowmin: npt.NDArray[np.float64],
    deficit: npt.NDArray[np.float64],
    local: npt.NDArray[np.bool_],
) -> None:
    """Point every (family, locus) of a pairwise hypothesis at its row of the shared matrix.

    ``kinds`` ``(F,)`` hypothesis codes; ``refs`` ``(F, 2, L)`` genotypes; ``slot_of[code]``
    the shared matrix of a code (-1: none); ``base``/``stat_base`` ``(S, L)``: where each
    matrix's cells and per-row statistics (``top``, ``bottom``, ``shortfall``) start. A trio
    with one parent typed at a locus uses the parent–child matrix (``parent_slot``); with both,
    ``local[f, l]`` is set (its row is computed apart). Writes ``offset`` (left at -1 where
    nothing is typed) and the row statistics.
    """
    for f in range(kinds.shape[0]):
        kind = kinds[f]
        for locus in range(refs.shape[2]):
            first = refs[f, 0, locus]
            second = refs[f, 1, locus]
            slot = -1
            genotype = 0
            if kind == trio_code:
                if first != UNTYPED and second != UNTYPED:
                    local[f, locus] = True
                elif first != UNTYPED:
                    slot, genotype = parent_slot, first
                elif second != UNTYPED:
                    slot, genotype = parent_slot, second
            elif slot_of[kind] >= 0 and first != UNTYPED:
                slot, genotype = slot_of[kind], first
            if slot >= 0:
                offset[f, locus] = base[slot, locus] + genotype * widths[locus]
                at = stat_base[slot, locus] + genotype
                rowmax[f, locus] = top[at]
                rowmin[f, locus] = bottom[at]
                deficit[f, locus] = shortfall[at]


@njit(cache=True, nogil=True)
def order_rows(
    offset: npt.NDArray[np.int64],
    rowmax: npt.NDArray[np.float64],
    rowmin: npt.NDArray[np.float64],
    deficit: npt.NDArray[np.float64],
    log_threshold: float,
    row_offset: npt.NDArray[np.int64],
    row_locus: npt.NDArray[np.int64],
    row_count: npt.NDArray[np.int64],
    suffix: npt.NDArray[np.float64],
    first: npt.NDArray[np.int64],
) -> None:
    """Order each family's rows for the screen and bound what the rest can add.

    Rows (loci with ``offset >= 0``) go by decreasing expected shortfall ``deficit`` (ties
    in locus order); ``suffix[f, k]`` (float64, ``(F, L + 1)``) is the sum of ``rowmax`` of
    rows ``k, k+1, ...``; ``first[f]`` is how many rows the kernel adds before its first test:
    not before an unknown could fall out at all (every row at its ``rowmin``), nor before the
    typical one would (the expected shortfalls reach the budget ``suffix[f, 0] -
    log_threshold``), and at least two — a speed choice only, every test being exact.
    """
    loci = offset.shape[1]
    order = np.empty(loci, dtype=np.int64)
    for f in range(offset.shape[0]):
        count = 0
        for locus in range(loci):
            if offset[f, locus] >= 0:
                # insertion, stable: after every row with an equal or larger shortfall
                k = count
                while k > 0 and deficit[f, order[k - 1]] < deficit[f, locus]:
                    order[k] = order[k - 1]
                    k -= 1
                order[k] = locus
                count += 1
        row_count[f] = count
        for k in range(loci):
            row_locus[f, k] = order[k] if k < count else 0
            row_offset[f, k] = offset[f, order[k]] if k < count else -1
        suffix[f, loci] = 0.0
        total = 0.0
        for k in range(loci - 1, -1, -1):
            if k < count:
                total += rowmax[f, order[k]]
            suffix[f, k] = total
        budget = suffix[f, 0] - log_threshold
        possible = count
        likely = count
        worst = 0.0
        expected = 0.0
        for k in range(count):
            worst += rowmin[f, order[k]]
            expected += deficit[f, order[k]]
            if possible == count and worst + suffix[f, k + 1] < log_threshold:
                possible = k + 1
            if likely == count and expected >= budget:
                likely = k + 1
        first[f] = min(max(max(possible, likely), 2), count)


@njit(cache=True, nogil=True)
def _scan_family(
    values: npt.NDArray[np.float32],
    offsets: npt.NDArray[np.int64],
    loci: npt.NDArray[np.int64],
    rows: int,
    suffix: npt.NDArray[np.float32],
    first: int,
    cells: npt.NDArray[np.uint16],
    threshold: np.float32,
    start: int,
    out_unknown: npt.NDArray[np.int64],
    out_score: npt.NDArray[np.float32],
    fill: bool,
) -> int:
    """Screen every unknown against one family; returns the number of passes, and with
    ``fill`` writes them (unknown index, screened sum) from ``start`` on.

    Breadth first: the family's first ``first`` rows are added for every unknown without a test
    (tight loops over ``cells``, laid out locus by locus: two rows per pass, or one pass fused
    with the test when ``first ≤ 2``); then the unknowns that can still reach the threshold are
    compacted, and each further row is added to the survivors only, compacting again after each.
    The sums are formed in locus order, left to right, whatever the path. (Measured on this
    kind of data: wider passes, or padding short ones, were slower.)
    """
    if rows == 0 or suffix[0] < threshold:
        return 0
    count = cells.shape[1]
    partial = np.empty(count, dtype=np.float32)
    survivors = np.empty(count, dtype=np.int64)
    depth = min(max(first, 1), rows)
    limit = threshold - suffix[depth]
    alive = 0
    if depth <= 2:
        b0 = offsets[0]
        c0 = cells[loci[0]]
        b1 = offsets[depth - 1]
        c1 = cells[loci[depth - 1]]
        for u in range(count):
            value = values[b0 + c0[u]]
            if depth == 2:
                value += values[b1 + c1[u]]
            survivors[alive] = u
            partial[alive] = value
            alive += 1 if value >= limit else 0
    else:
        b0 = offsets[0]
        c0 = cells[loci[0]]
        for u in range(count):
            partial[u] = values[b0 + c0[u]]
        k = 1
        while k + 1 < depth:
            b0 = offsets[k]
            c0 = cells[loci[k]]
            b1 = offsets[k + 1]
            c1 = cells[loci[k + 1]]
            for u in range(count):
                partial[u] = (partial[u] + values[b0 + c0[u]]) + values[b1 + c1[u]]
            k += 2
        if k < depth:
            b0 = offsets[k]
            c0 = cells[loci[k]]
            for u in range(count):
                partial[u] += values[b0 + c0[u]]
        for u in range(count):
            value = partial[u]
            survivors[alive] = u
            partial[alive] = value
            alive += 1 if value >= limit else 0
    k = depth
    while k < rows and alive > 0:
        base = offsets[k]
        column = cells[loci[k]]
        k += 1
        limit = threshold - suffix[k]
        kept = 0
        for j in range(alive):
            u = survivors[j]
            value = partial[j] + values[base + column[u]]
            survivors[kept] = u
            partial[kept] = value
            kept += 1 if value >= limit else 0
        alive = kept
    if fill:
        for j in range(alive):
            out_unknown[start + j] = survivors[j]
            out_score[start + j] = partial[j]
    return alive


@njit(cache=True, parallel=True, nogil=True)
def screen_parallel(
    values: npt.NDArray[np.float32],
    row_offset: npt.NDArray[np.int64],
    row_locus: npt.NDArray[np.int64],
    row_count: npt.NDArray[np.int64],
    suffix: npt.NDArray[np.float32],
    first: npt.NDArray[np.int64],
    cells: npt.NDArray[np.uint16],
    threshold: float,
    families: npt.NDArray[np.int64],
    starts: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
    out_unknown: npt.NDArray[np.int64],
    out_score: npt.NDArray[np.float32],
    fill: bool,
) -> None:
    """Screen the ``families`` (indices into the row arrays) against every unknown, in parallel
    over families.

    ``values`` float32 flat rows; ``row_offset``/``row_locus`` ``(F, L)`` int64;
    ``row_count`` ``(F,)``; ``suffix`` ``(F, L + 1)`` float32; ``first`` ``(F,)``: rows to add
    before the first test; ``cells`` ``(L, U)`` uint16 (each unknown's column per locus, the
    untyped column where untyped). ``counts[i]`` gets the number of unknowns whose screened sum
    reaches ``threshold`` for ``families[i]``; with ``fill``, their unknown indices and sums are
    written to ``out_*`` from ``starts[i]`` on.
    """
    limit = np.float32(threshold)
    for i in prange(families.shape[0]):
        f = families[i]
        counts[i] = _scan_family(
            values,
            row_offset[f],
            row_locus[f],
            row_count[f],
            suffix[f],
            first[f],
            cells,
            limit,
            starts[i],
            out_unknown,
            out_score,
            fill,
        )


@njit(cache=True, nogil=True)
def screen_serial(
    values: npt.NDArray[np.float32],
    row_offset: npt.NDArray[np.int64],
    row_locus: npt.NDArray[np.int64],
    row_count: npt.NDArray[np.int64],
    suffix: npt.NDArray[np.float32],
    first: npt.NDArray[np.int64],
    cells: npt.NDArray[np.uint16],
    threshold: float,
    families: npt.NDArray[np.int64],
    starts: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
    out_unknown: npt.NDArray[np.int64],
    out_score: npt.NDArray[np.float32],
    fill: bool,
) -> None:
    """:func:`screen_parallel` on one thread, releasing the GIL (for Dask worker threads,
    which must not start numba's own thread pool from several threads at once)."""
    limit = np.float32(threshold)
    for i in range(families.shape[0]):
        f = families[i]
        counts[i] = _scan_family(
            values,
            row_offset[f],
            row_locus[f],
            row_count[f],
            suffix[f],
            first[f],
            cells,
            limit,
            starts[i],
            out_unknown,
            out_score,
            fill,
        )
