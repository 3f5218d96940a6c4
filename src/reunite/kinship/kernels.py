"""Compiled (numba) kernels for the hot loops: pairwise LRs over encoded profiles.

Profiles are *encoded* as integer arrays: ``g[locus, 0..1]`` = the allele indices (into the
locus's frequency row) of the genotype, ``-1`` when untyped. Frequencies are one padded matrix
``p[locus, allele]``. The kernels compute exactly what :func:`reunite.kinship.pairwise.locus_lr`
computes (the same exact sum over IBD states with Balding–Nichols draws), only compiled; the tests
hold them to it. Imported lazily: numba's start-up cost is paid only when a kernel is used.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["pairwise_locus_lrs"]


@njit(cache=True, inline="always")
def _draw(allele: int, earlier: int, same: int, p_a: float, theta: float) -> float:
    """Balding–Nichols probability of the next draw: ``earlier`` draws, ``same`` of them equal."""
    return (theta * same + (1.0 - theta) * p_a) / (1.0 + (earlier - 1) * theta)


@njit(cache=True)
def _joint3(a: int, b: int, c: int, p: npt.NDArray[np.float64], theta: float) -> float:
    value = p[a]
    value *= _draw(b, 1, 1 if b == a else 0, p[b], theta)
    same = (1 if c == a else 0) + (1 if c == b else 0)
    return value * _draw(c, 2, same, p[c], theta)


@njit(cache=True)
def _joint4(a: int, b: int, c: int, d: int, p: npt.NDArray[np.float64], theta: float) -> float:
    value = _joint3(a, b, c, p, theta)
    same = (1 if d == a else 0) + (1 if d == b else 0) + (1 if d == c else 0)
    return value * _draw(d, 3, same, p[d], theta)


@njit(cache=True)
def _joint2(a: int, b: int, p: npt.NDArray[np.float64], theta: float) -> float:
    return p[a] * _draw(b, 1, 1 if b == a else 0, p[b], theta)


@njit(cache=True)
def _ibd(
    a0: int, a1: int, b0: int, b1: int, p: npt.NDArray[np.float64], theta: float
) -> tuple[float, float, float]:
    """``P(g1, g2 | k IBD)`` for k = 0, 1, 2 (the exact sum of ``pairwise``'s docstring)."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    n1 = 1 if a0 == a1 else 2
    n2 = 1 if b0 == b1 else 2
    for o1 in range(n1):
        x0 = a0 if o1 == 0 else a1
        x1 = a1 if o1 == 0 else a0
        for o2 in range(n2):
            y0 = b0 if o2 == 0 else b1
            y1 = b1 if o2 == 0 else b0
            s0 += _joint4(x0, x1, y0, y1, p, theta)
            # k = 1: position i of person 1 is IBD with position j of person 2
            if x0 == y0:
                s1 += _joint3(x0, x1, y1, p, theta)
            if x0 == y1:
                s1 += _joint3(x0, x1, y0, p, theta)
            if x1 == y0:
                s1 += _joint3(x0, x1, y1, p, theta)
            if x1 == y1:
                s1 += _joint3(x0, x1, y0, p, theta)
            # k = 2: both positions matched, straight or crossed
            if x0 == y0 and x1 == y1:
                s2 += _joint2(x0, x1, p, theta)
            if x0 == y1 and x1 == y0:
                s2 += _joint2(x0, x1, p, theta)
    return s0, s1 / 4.0, s2 / 2.0


@njit(cache=True)
def pairwise_locus_lrs(
    g1: npt.NDArray[np.int64],
    g2: npt.NDArray[np.int64],
    p: npt.NDArray[np.float64],
    k0: float,
    k1: float,
    k2: float,
    theta: float,
    out: npt.NDArray[np.float64],
) -> None:
    """``out[l]`` = the LR of (k0, k1, k2) against unrelated at locus ``l``; 1 where either
    person is untyped (``g[l, 0] < 0``)."""
    for locus in range(g1.shape[0]):
        a0 = g1[locus, 0]
        b0 = g2[locus, 0]
        if a0 < 0 or b0 < 0:
            out[locus] = 1.0
            continue
        row = p[locus]
        s0, s1, s2 = _ibd(a0, g1[locus, 1], b0, g2[locus, 1], row, theta)
        numerator = 0.0
        if k0 != 0.0:
            numerator += k0 * s0
        if k1 != 0.0:
            numerator += k1 * s1
        if k2 != 0.0:
            numerator += k2 * s2
        out[locus] = numerator / s0
