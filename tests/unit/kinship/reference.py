"""A slow, plain-Python pedigree likelihood by brute-force enumeration (tests only).

This is the independent implementation the fast engine is checked against (issue 3,
"Correctness"). It is written to be obviously right rather than fast: for ONE locus it lists every
assignment of an *ordered* allele pair (maternal, paternal) to every person of the pedigree and adds
up the probability of each assignment. Use it for at most 4-5 persons and 4 alleles.

The probability of one assignment is the product of

* the founders' alleles, drawn *jointly* in a fixed order (each founder's maternal then paternal
  allele, founders in the pedigree's topological order) by the Balding–Nichols sequential formula
  (Balding & Nichols 1994; NRC II 1996, eq. 4.10; the same form as pedprobr's theta correction):
  the probability that the next draw is allele ``a``, after ``n`` draws of which ``x_a`` were
  ``a``, is ``(x_a θ + (1 - θ) p_a) / (1 + (n - 1) θ)``. The first draw is therefore ``p_a``,
  the second ``a`` after an ``a`` is ``θ + (1 - θ) p_a``; with ``θ = 0`` every draw is ``p_a``.
  The draws are exchangeable, so the order of the founders does not change the result;
* for every non-founder, from its mother: one of her two alleles with probability 1/2 each, then
  mutation ``M[transmitted, received]`` (the identity when there is no mutation model); the same
  from its father. Mutation applies on every edge, also from untyped parents (no stationarity).

A typed person's ordered pair must form the observed unordered genotype; untyped persons take any
pair, which sums them out.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from reunite.kinship.pedigree import Pedigree
from reunite.kinship.profiles import Genotype

#: Id of the unknown person added as an unrelated founder under H2 (see :func:`brute_force_lr`).
UNRELATED_UNKNOWN_ID = "_unrelated_unknown_"


def _ordered_pairs(genotype: Genotype | None, alleles: Sequence[str]) -> list[tuple[int, int]]:
    """All ordered (maternal, paternal) index pairs that show ``genotype`` (all when untyped)."""
    pairs = [(m, p) for m in range(len(alleles)) for p in range(len(alleles))]
    if genotype is None:
        return pairs
    wanted = sorted(genotype.alleles)
    return [(m, p) for m, p in pairs if sorted((alleles[m], alleles[p])) == wanted]


def _founder_probability(draws: Sequence[int], freqs: Sequence[float], theta: float) -> float:
    """Joint probability of the founder allele draws, in order, by Balding–Nichols."""
    probability = 1.0
    for n, allele in enumerate(draws):  # n = the number of earlier draws
        x = draws[:n].count(allele)
        probability *= (x * theta + (1.0 - theta) * freqs[allele]) / (1.0 + (n - 1) * theta)
    return probability


def _transmission(
    parent: tuple[int, int], received: int, mutation: Sequence[Sequence[float]]
) -> float:
    """P(child receives ``received`` from a parent with alleles ``parent``)."""
    return 0.5 * mutation[parent[0]][received] + 0.5 * mutation[parent[1]][received]


def brute_force_likelihood(
    pedigree: Pedigree,
    genotypes: Mapping[str, Genotype],
    alleles: Sequence[str],
    freqs: Sequence[float],
    theta: float = 0.0,
    mutation: npt.NDArray[np.float64] | None = None,
) -> float:
    """P(the typed persons show ``genotypes``) at one locus, by enumeration (module docstring).

    ``alleles`` and ``freqs`` describe the locus (every allele of ``genotypes`` must be listed);
    ``mutation`` is the ``(n, n)`` matrix ``M[transmitted, received]`` or ``None``.
    """
    for person_id, genotype in genotypes.items():
        if person_id not in pedigree:
            raise ValueError(f"{person_id!r} is not in the pedigree")
        for allele in genotype.alleles:
            if allele not in alleles:
                raise ValueError(f"allele {allele!r} of {person_id!r} is not in the allele list")
    n = len(alleles)
    if mutation is None:
        matrix = [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
    else:
        matrix = [[float(value) for value in row] for row in mutation]
    p = [float(value) for value in freqs]

    order = pedigree.topological_order()
    founders = set(pedigree.founders())
    options = [_ordered_pairs(genotypes.get(person_id), alleles) for person_id in order]

    total = 0.0
    for assignment in itertools.product(*options):
        pairs = dict(zip(order, assignment, strict=True))
        draws = [
            allele for person_id in order if person_id in founders for allele in pairs[person_id]
        ]
        probability = _founder_probability(draws, p, theta)
        for person_id in order:
            if person_id in founders:
                continue
            person = pedigree[person_id]
            assert person.mother is not None and person.father is not None
            maternal, paternal = pairs[person_id]
            probability *= _transmission(pairs[person.mother], maternal, matrix)
            probability *= _transmission(pairs[person.father], paternal, matrix)
        total += probability
    return total


def brute_force_lr(
    pedigree: Pedigree,
    missing_id: str,
    profiles: Mapping[str, Genotype],
    unknown_profile: Genotype,
    alleles: Sequence[str],
    freqs: Sequence[float],
    theta: float = 0.0,
    mutation: npt.NDArray[np.float64] | None = None,
) -> float:
    """LR = P(data | H1) / P(data | H2) at one locus, each by :func:`brute_force_likelihood`.

    H1: ``unknown_profile`` is the genotype of ``missing_id``. H2: the unknown person is an extra
    founder, unrelated to the family (its alleles drawn jointly with the family's founders under
    θ, after them), and ``missing_id`` is untyped. ``profiles`` are the typed relatives.
    """
    if missing_id not in pedigree:
        raise ValueError(f"missing person {missing_id!r} is not in the pedigree")
    if missing_id in profiles:
        raise ValueError(f"the missing person {missing_id!r} must not have a reference profile")
    h1 = brute_force_likelihood(
        pedigree, {**profiles, missing_id: unknown_profile}, alleles, freqs, theta, mutation
    )
    unrelated = pedigree.with_founder(UNRELATED_UNKNOWN_ID)
    h2 = brute_force_likelihood(
        unrelated,
        {**profiles, UNRELATED_UNKNOWN_ID: unknown_profile},
        alleles,
        freqs,
        theta,
        mutation,
    )
    return h1 / h2
