"""Exact pedigree likelihoods: the probability of the typed persons' genotypes at one locus.

The model is the one of the established software (Familias, pedprobr/forrel, Bonaparte):

* every person has an *ordered* allele pair (maternal, paternal);
* a founder's alleles are drawn from the population. With ``θ = 0`` each draw is ``p_a``,
  independently. With ``θ > 0`` **all** founder alleles of the pedigree are drawn jointly by the
  Balding–Nichols sequential formula (Balding & Nichols 1994; NRC II 1996, eq. 4.10): after ``j``
  draws of which ``x_a`` were ``a``, the next is ``a`` with probability
  ``(θ x_a + (1 - θ) p_a) / (1 + (j - 1) θ)``. The draws are exchangeable, so the order is free;
* a child receives one of its mother's two alleles (1/2 each), then mutation ``M[i, j]`` (the
  probability that transmitted allele ``i`` arrives as ``j``) — the same from its father. Mutation
  applies on every edge, also from untyped parents, and no stationarity is assumed;
* a typed person's ordered pair must show the observed unordered genotype.

**Computation.** Persons with no typed descendant (and not typed themselves) sum to 1 and are
removed first; this is exact with θ and mutation (their draws and transmissions are marginalised
out). The rest is a sum–product over a factor graph whose variables are the allele variables of
the untyped persons (``n`` values each) and one *phase* variable per typed person (which of its
alleles came from its mother: 2 values, 1 for a homozygote). Factors are the founder priors (or,
with θ > 0, one joint Balding–Nichols factor over the untyped founders' alleles, conditioned on the
typed founders' alleles drawn first, expanded over set partitions of the draws: see
:func:`_joint_founders`), and one transmission factor per parent–child edge. The sum is
evaluated by ``numpy.einsum`` along a contraction order found once per pedigree shape (variable
elimination, i.e. peeling generalised to any pedigree, marriage loops included), for all loci of
the same typing pattern at once.

**Allele lumping.** Alleles seen in no typed person may be merged into one without changing any
likelihood when the mutation matrix is *lumpable* for them (always without mutation, and for the
``equal`` and ``proportional`` models, lumpable for any allele set), as pedprobr does. With
θ this is exact too (Balding–Nichols draws aggregate like a Dirichlet).

Every input problem raises :class:`~reunite.kinship.errors.KinshipInputError`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from reunite.kinship.errors import KinshipInputError, shown
from reunite.kinship.frequencies import CaseFrequencies, LocusFrequencies
from reunite.kinship.loci import locus_sort_key
from reunite.kinship.mutation import MutationModel, MutationSpec
from reunite.kinship.pairwise import check_theta
from reunite.kinship.pedigree import Pedigree
from reunite.kinship.profiles import Genotype, Profile
from reunite.kinship.results import LRResult, combine, frequency_map

__all__ = [
    "MAX_JOINT_FOUNDERS",
    "UNRELATED_ID",
    "LocusData",
    "likelihoods",
    "locus_data",
    "locus_likelihood",
    "pedigree_lr",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Most untyped founders (ancestors of typed persons) whose alleles the θ correction draws jointly
#: (the work grows as the Bell number of twice this); beyond it the computation is refused with a
#: clear message. Typing a founder or setting θ = 0 brings such a case back in range.
MAX_JOINT_FOUNDERS = 5
#: einsum labels (numpy accepts 52).
_MAX_LABELS = 52


# ---------------------------------------------------------------------------------------------
# One locus: alleles, frequencies, mutation matrix, typed genotypes as indices
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LocusData:
    """One locus prepared for the engine.

    ``p``: frequencies ``(n,)``; ``mutation``: ``(n, n)`` matrix ``M[transmitted, received]``
    (the identity without mutation); ``genotypes``: person id → allele indices ``(a, b)``;
    ``alleles``: the allele labels (the last one ``"*"`` when lumped).
    """

    alleles: tuple[str, ...]
    p: FloatArray
    mutation: FloatArray
    genotypes: Mapping[str, tuple[int, int]]
    key: int = -1  # identifies (alleles, p, mutation) for caching; -1: not shared


_serials = itertools.count()


@dataclass(frozen=True, eq=False)
class _Prepared:
    alleles: tuple[str, ...]
    p: FloatArray
    mutation: FloatArray
    position: Mapping[int, int]  # index in the table -> index here
    key: int = field(default_factory=lambda: next(_serials))


#: Mutation models whose matrix is lumpable for any set of alleles (pedmut's "always lumpable").
_ALWAYS_LUMPABLE = frozenset({"equal", "proportional"})


def _lumps(mutation: MutationModel | None) -> bool:
    return mutation is None or mutation.is_identity or mutation.model in _ALWAYS_LUMPABLE


@lru_cache(maxsize=4096)
def _unlumped(freqs: LocusFrequencies, mutation: MutationModel | None) -> _Prepared:
    alleles = freqs.alleles
    p = np.asarray(freqs.frequencies, dtype=np.float64)
    matrix = (
        np.eye(len(alleles))
        if mutation is None or mutation.is_identity
        else np.asarray(mutation.matrix(alleles, p), dtype=np.float64)
    )
    return _Prepared(alleles, p, matrix, {i: i for i in range(len(alleles))})


@lru_cache(maxsize=8192)
def _prepare(
    freqs: LocusFrequencies, mutation: MutationModel | None, seen: frozenset[int] | None
) -> _Prepared:
    """The alleles, frequencies and matrix of a locus, lumped for ``seen`` where exact: the
    equal and proportional models are strongly lumpable for any set of alleles (pedmut's
    ``alwaysLumpable``), so the alleles nobody shows merge into one."""
    base = _unlumped(freqs, mutation)
    if seen is None or not _lumps(mutation):
        return base
    others = [i for i in range(len(base.alleles)) if i not in seen]
    if len(others) < 2:
        return base
    matrix, p, alleles = base.mutation, base.p, base.alleles
    kept = sorted(seen)
    last = len(kept)
    order = [*kept, others[0]]
    lumped = np.empty((last + 1, last + 1))
    lumped[:, :last] = matrix[np.ix_(order, kept)]
    lumped[:, last] = matrix[np.ix_(order, others)].sum(axis=1)
    return _Prepared(
        alleles=(*(alleles[i] for i in kept), "*"),
        p=np.append(p[kept], p[others].sum()),
        mutation=lumped,
        position={old: new for new, old in enumerate(kept)},
    )


def locus_data(
    freqs: LocusFrequencies,
    genotypes: Mapping[str, Genotype],
    mutation: MutationModel | None = None,
    *,
    lump: bool = True,
) -> LocusData:
    """The engine's view of one locus for the typed ``genotypes`` (person id → genotype).

    Alleles absent from ``freqs`` are an error (build case frequencies with
    :func:`reunite.kinship.frequencies.frequencies_for`, which adds them). With ``lump``, the
    alleles nobody shows are merged into one when that is exact (module docstring).
    """
    indices: dict[str, tuple[int, int]] = {}
    for person_id, genotype in genotypes.items():
        first, second = genotype.alleles
        if first not in freqs or second not in freqs:
            allele = first if first not in freqs else second
            raise KinshipInputError(
                f"allele {allele} of {person_id!r} at {freqs.locus} has no frequency in "
                f"{freqs.source}"
            )
        indices[person_id] = (freqs.index(first), freqs.index(second))
    if lump and _lumps(mutation):
        prepared = _prepare(
            freqs, mutation, frozenset(i for pair in indices.values() for i in pair)
        )
    else:
        prepared = _unlumped(freqs, mutation)
    return _locus_data(prepared, indices)


def _locus_data(prepared: _Prepared, indices: Mapping[str, tuple[int, int]]) -> LocusData:
    position = prepared.position
    return LocusData(
        alleles=prepared.alleles,
        p=prepared.p,
        mutation=prepared.mutation,
        genotypes={person: (position[a], position[b]) for person, (a, b) in indices.items()},
        key=prepared.key,
    )


# ---------------------------------------------------------------------------------------------
# The shape of a computation: which persons remain, their variables, the factors
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Factor:
    kind: str  # "mask", "prior", "edge_uu", "edge_tu", "edge_ut", "edge_tt"
    labels: tuple[int, ...]  # einsum labels of the variables, batch label excluded
    person: str = ""  # the typed person (mask) / the parent (edges)
    child: str = ""
    role: int = 0  # 0: the child's maternal allele, 1: paternal
    founder: bool = False  # mask of a typed founder (carries its prior when θ = 0)


@dataclass(frozen=True)
class _Shape:
    """A pedigree with a typing pattern and θ > 0 or not, compiled to einsum factors."""

    factors: tuple[_Factor, ...]
    typed_founders: tuple[str, ...]
    untyped_founder_labels: tuple[int, ...]
    output: tuple[int, ...]  # labels of the free persons' (maternal, paternal) alleles, or ()
    next_label: int  # the first unused label
    joint: bool  # θ > 0: founders drawn jointly


_BATCH = 0


def _kept_persons(pedigree: Pedigree, needed: Iterable[str]) -> tuple[str, ...]:
    """The persons that matter: the ``needed`` ones and all their ancestors, parents first."""
    keep: set[str] = set()
    stack = list(needed)
    while stack:
        person_id = stack.pop()
        if person_id in keep:
            continue
        keep.add(person_id)
        person = pedigree[person_id]
        stack.extend(parent for parent in (person.mother, person.father) if parent is not None)
    return tuple(person_id for person_id in pedigree.ids if person_id in keep)


@lru_cache(maxsize=1024)
def _shape(pedigree: Pedigree, typed: frozenset[str], free: tuple[str, ...], joint: bool) -> _Shape:
    needed = set(typed) | set(free)
    persons = _kept_persons(pedigree, needed)
    next_label = _BATCH + 1
    phase: dict[str, int] = {}
    alleles: dict[str, tuple[int, int]] = {}
    for person_id in persons:
        if person_id in typed:
            phase[person_id] = next_label
            next_label += 1
        else:
            alleles[person_id] = (next_label, next_label + 1)
            next_label += 2
    if next_label > _MAX_LABELS:
        raise KinshipInputError(
            f"the pedigree is too large for the exact engine: {len(persons)} persons remain "
            "after removing those without typed descendants"
        )

    factors: list[_Factor] = []
    typed_founders: list[str] = []
    untyped_founder_labels: list[int] = []
    for person_id in persons:
        person = pedigree[person_id]
        if person_id in typed:
            factors.append(
                _Factor("mask", (phase[person_id],), person=person_id, founder=person.is_founder)
            )
            if person.is_founder:
                typed_founders.append(person_id)
        elif person.is_founder:
            if joint:
                untyped_founder_labels.extend(alleles[person_id])
            else:
                factors.append(_Factor("prior", (alleles[person_id][0],)))
                factors.append(_Factor("prior", (alleles[person_id][1],)))
        if person.is_founder:
            continue
        for role, parent_id in enumerate((person.mother, person.father)):
            assert parent_id is not None
            parent_typed = parent_id in typed
            child_typed = person_id in typed
            labels: tuple[int, ...]
            if parent_typed and child_typed:
                kind, labels = "edge_tt", (phase[person_id],)
            elif parent_typed:
                kind, labels = "edge_tu", (alleles[person_id][role],)
            elif child_typed:
                kind, labels = "edge_ut", (*alleles[parent_id], phase[person_id])
            else:
                kind, labels = "edge_uu", (*alleles[parent_id], alleles[person_id][role])
            factors.append(_Factor(kind, labels, person=parent_id, child=person_id, role=role))
    output = tuple(label for person_id in free for label in alleles[person_id])
    return _Shape(
        next_label=next_label,
        factors=tuple(factors),
        typed_founders=tuple(typed_founders),
        untyped_founder_labels=tuple(untyped_founder_labels),
        output=output,
        joint=joint,
    )


# ---------------------------------------------------------------------------------------------
# Evaluation of a shape for a batch of loci
# ---------------------------------------------------------------------------------------------


def _bn_typed(draws: Sequence[IntArray], p: FloatArray, theta: float) -> FloatArray:
    """Joint probability of the typed founders' alleles per locus, drawn in order."""
    rows = np.arange(p.shape[0])
    alleles = np.stack(list(draws), axis=1)  # (B, D)
    earlier = np.tril(alleles[:, :, None] == alleles[:, None, :], k=-1).sum(axis=2)
    order = np.arange(alleles.shape[1])
    terms = (theta * earlier + (1.0 - theta) * p[rows[:, None], alleles]) / (
        1.0 + (order - 1) * theta
    )
    return np.asarray(terms.prod(axis=1), dtype=np.float64)


@lru_cache(maxsize=16)
def _partitions(k: int) -> tuple[tuple[tuple[int, ...], ...], ...]:
    """Every set partition of ``range(k)``, blocks in order of their first element."""
    found: list[tuple[tuple[int, ...], ...]] = []

    def extend(i: int, blocks: list[list[int]]) -> None:
        if i == k:
            found.append(tuple(tuple(block) for block in blocks))
            return
        for block in blocks:
            block.append(i)
            extend(i + 1, blocks)
            block.pop()
        blocks.append([i])
        extend(i + 1, blocks)
        blocks.pop()

    extend(0, [])
    return tuple(found)


_Blocks = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class _Orbit:
    """Set partitions of the draws that give one and the same sum–product (see
    :func:`_joint_founders`): a representative ``blocks``, how many partitions it stands for,
    and, under the swaps that keep the representative (its stabiliser), the orbits of its
    blocks and of its unordered pairs of blocks, each as (a member, the orbit's size). Every
    block orbit's member lies in one of the listed pair members (when there are two blocks or
    more)."""

    blocks: _Blocks
    size: int
    block_orbits: tuple[tuple[int, int], ...]
    pair_orbits: tuple[tuple[tuple[int, int], int], ...]


def _canonical(blocks: Iterable[Iterable[int]]) -> _Blocks:
    return tuple(sorted(tuple(sorted(block)) for block in blocks))


def _classes(
    items: Sequence[tuple[int, ...]], moves: Sequence[Mapping[int, int]]
) -> list[list[tuple[int, ...]]]:
    """The orbits of ``items`` (unordered tuples of block indices) under ``moves``, each as
    the list of its members in the order of ``items``."""
    found: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
    for item in items:
        key = min(tuple(sorted(move[i] for i in item)) for move in moves)
        found.setdefault(key, []).append(item)
    return list(found.values())


@lru_cache(maxsize=64)
def _orbits(k: int, swaps: tuple[tuple[int, int], ...]) -> tuple[_Orbit, ...]:
    """The set partitions of ``range(k)`` grouped into orbits under the group generated by the
    transpositions ``swaps`` (disjoint pairs of draws that may be exchanged), each represented
    by its first member in the order of :func:`_partitions`."""
    generators = []
    for i, j in swaps:
        permutation = list(range(k))
        permutation[i], permutation[j] = j, i
        generators.append(tuple(permutation))
    group = [tuple(range(k))]
    for generator in generators:
        group += [tuple(generator[i] for i in element) for element in group]

    def image(partition: _Blocks, permutation: Sequence[int]) -> _Blocks:
        return _canonical((permutation[i] for i in block) for block in partition)

    seen: set[_Blocks] = set()
    orbits: list[_Orbit] = []
    for partition in _partitions(k):  # each already in canonical form
        if partition in seen:
            continue
        members = {partition}
        frontier = [partition]
        while frontier:
            current = frontier.pop()
            for generator in generators:
                moved = image(current, generator)
                if moved not in members:
                    members.add(moved)
                    frontier.append(moved)
        seen |= members
        where = {i: b for b, block in enumerate(partition) for i in block}
        moves = [
            {b: where[permutation[block[0]]] for b, block in enumerate(partition)}
            for permutation in group
            if image(partition, permutation) == partition
        ]
        count = len(partition)
        pair_classes = _classes(list(itertools.combinations(range(count), 2)), moves)
        in_pairs = {b for pair_class in pair_classes for b in pair_class[0]}
        block_orbits = []
        for block_class in _classes([(b,) for b in range(count)], moves):
            chosen = next((m[0] for m in block_class if m[0] in in_pairs), block_class[0][0])
            block_orbits.append((chosen, len(block_class)))
        orbits.append(
            _Orbit(
                blocks=partition,
                size=len(members),
                block_orbits=tuple(block_orbits),
                pair_orbits=tuple(
                    ((pair_class[0][0], pair_class[0][1]), len(pair_class))
                    for pair_class in pair_classes
                ),
            )
        )
    return tuple(orbits)


def _tied(
    operands: list[Any],
    blocks: Sequence[Sequence[int]],
    alpha: FloatArray,
    output: Sequence[int],
    fresh: int,
) -> FloatArray:
    """The sum–product of ``operands`` with the labels of each block of ``blocks`` tied to one
    allele (named by the block's first label) weighted by ``α`` of that allele, onto ``output``
    (renamed alike; an output label tied to an earlier one gets a diagonal, with labels from
    ``fresh`` on). With no operand and no block: ones ``(B,)``."""
    rename = {name: block[0] for block in blocks for name in block}
    args: list[Any] = []
    for array, names in zip(operands[0::2], operands[1::2], strict=True):
        args.extend((array, [rename.get(name, name) for name in names]))
    for block in blocks:
        args.extend((alpha, [_BATCH, block[0]]))
    if not args:
        return np.ones(alpha.shape[0])
    out: list[int] = []
    for name in (rename.get(name, name) for name in output):
        if name in out:  # two free alleles tied: the result is diagonal in them
            args.extend((np.eye(alpha.shape[1]), [name, fresh]))
            name, fresh = fresh, fresh + 1
        out.append(name)
    return _contract(args, tuple(out))


def _block_weight(blocks: Iterable[Sequence[int]], theta: float) -> float:
    """``Π (s - 1)! θ^(s - 1)`` over the blocks (sizes ``s``) of a set partition."""
    return math.prod(math.factorial(len(block) - 1) * theta ** (len(block) - 1) for block in blocks)


def _diagonal(values: FloatArray) -> FloatArray:
    """``(..., n)`` → ``(..., n, n)`` with ``values`` on the diagonal."""
    n = values.shape[-1]
    return np.asarray(values[..., :, None] * np.eye(n), dtype=np.float64)


def _joint_founders(
    shape: _Shape,
    operands: list[Any],
    batch: Sequence[LocusData],
    p: FloatArray,
    theta: float,
    *,
    exhaustive: bool = False,
) -> FloatArray:
    """The sum over the untyped founders' alleles drawn jointly (θ > 0) after the typed ones.

    The draws ``u_1..u_k`` have joint probability ``Π_i (α_{u_i} + θ m_i) / D_i`` with
    ``α_a = θ c_a + (1 - θ) p_a`` (``c``: the typed founders' allele counts), ``m_i`` the number
    of earlier untyped draws equal to ``u_i`` and ``D_i = 1 + (j_i - 1) θ`` for draw number
    ``j_i``. Expanding the product, each term ties the draws of every block of a set partition
    to one allele: a block of size ``s`` contributes ``(s - 1)! θ^(s - 1) α_a``. So the sum is
    exact as one ordinary sum–product per set partition of the ``k`` draws (Bell(k) of them),
    which is far smaller than the ``n^k`` joint allele states.

    Two exact reductions cut the number of sum–products (``exhaustive`` evaluates every
    partition instead, as a check):

    * an untyped founder that is not free passes on either of its two alleles alike, so
      swapping them maps a partition to one with the same sum–product: one partition per orbit
      under these swaps is evaluated, weighted by the orbit's size;
    * a free founder with no descendant in the computation (the unknown person under H2) has
      its two draws taken last (they are exchangeable): given the ``m_a`` other untyped draws
      of ``a``, ``x_1 = a`` has weight ``α_a + θ m_a`` and then ``x_2 = b``
      ``α_b + θ (m_b + [a = b])``. The table so needs only the sums of ``1``, ``m_a`` and
      ``m_a m_b`` over the other draws: per partition of those (Bell(k - 2) instead of
      Bell(k)), the marginals of its pairs of blocks (:func:`_isolated_founder`).
    """
    labels = shape.untyped_founder_labels
    k = len(labels)
    if k > 2 * MAX_JOINT_FOUNDERS:
        raise KinshipInputError(
            f"the θ correction over {k // 2} untyped ancestors of the typed persons is beyond "
            f"the exact engine (at most {MAX_JOINT_FOUNDERS}); type a founder or set theta to 0"
        )
    genotypes = _genotype_arrays(batch, shape.typed_founders)
    draws = [genotypes[f][:, i] for f in shape.typed_founders for i in (0, 1)]
    start = len(draws)
    counts = np.zeros_like(p)
    rows = np.arange(len(batch))
    for allele in draws:
        counts[rows, allele] += 1.0
    alpha = theta * counts + (1.0 - theta) * p
    denominator = math.prod(1.0 + (start + i - 1) * theta for i in range(k))
    output = (_BATCH, *shape.output)
    if exhaustive:
        total: FloatArray | None = None
        for partition in _partitions(k):
            blocks = [tuple(labels[i] for i in block) for block in partition]
            term = _tied(operands, blocks, alpha, output, shape.next_label)
            term = term * _block_weight(partition, theta)
            total = term if total is None else total + term
        assert total is not None
        return total / denominator

    used = {name for names in operands[1::2] for name in names}
    free = set(shape.output)
    founders = list(zip(labels[0::2], labels[1::2], strict=True))
    isolated = [pair for pair in founders if pair[0] in free and not used & set(pair)]
    if isolated:  # the last one in the output's order; any others stay ordinary draws
        last = max(isolated, key=lambda pair: shape.output.index(pair[0]))
        others = [pair for pair in founders if pair != last]
        return _isolated_founder(shape, operands, alpha, theta, others, last) / denominator
    swaps = tuple((2 * f, 2 * f + 1) for f, pair in enumerate(founders) if not free & set(pair))
    summed: FloatArray | None = None
    for orbit in _orbits(k, swaps):
        blocks = [tuple(labels[i] for i in block) for block in orbit.blocks]
        term = _tied(operands, blocks, alpha, output, shape.next_label)
        term = term * (orbit.size * _block_weight(orbit.blocks, theta))
        summed = term if summed is None else summed + term
    assert summed is not None
    return summed / denominator


def _isolated_founder(
    shape: _Shape,
    operands: list[Any],
    alpha: FloatArray,
    theta: float,
    others: Sequence[tuple[int, int]],
    last: tuple[int, int],
) -> FloatArray:
    """The sum of :func:`_joint_founders` (before its denominator) when the free founder whose
    allele labels are ``last`` has no descendant, its two draws taken after the ``others``.

    With ``Z = Σ C``, ``S_a = Σ m_a C`` and ``Q_ab = Σ m_a m_b C`` over the other draws
    (``C``: the rest of the sum–product), the table is ``α_a α_b Z + θ [a = b] α_a Z +
    θ (α_a S_b + α_b S_a) + θ² (Q_ab + [a = b] S_a)``. Per partition of the other draws,
    ``m_a = Σ_i s_i [l_i = a]`` over its blocks (sizes ``s_i``, alleles ``l_i``). Returns
    ``(B, ...)`` with the axes in the order of ``shape.output``.
    """
    labels = [name for pair in others for name in pair]
    free = set(shape.output)
    swaps = tuple((2 * f, 2 * f + 1) for f, pair in enumerate(others) if not free & set(pair))
    rest = (_BATCH, *(name for name in shape.output if name not in last))
    fresh = shape.next_label
    zero: FloatArray | None = None  # Z: (B, *rest)
    first: FloatArray | None = None  # S: (B, *rest, n)
    second: FloatArray | None = None  # Q: (B, *rest, n, n)
    for orbit in _orbits(len(labels), swaps):
        blocks = [tuple(labels[i] for i in block) for block in orbit.blocks]
        weight = orbit.size * _block_weight(orbit.blocks, theta)
        if not blocks:
            zero = _tied(operands, blocks, alpha, rest, fresh) * weight
            continue
        marginal: dict[int, FloatArray] = {}
        if len(blocks) == 1:
            marginal[0] = _tied(operands, blocks, alpha, (*rest, blocks[0][0]), fresh)
            z = marginal[0].sum(axis=-1)
        for (i, j), count in orbit.pair_orbits:
            joint = _tied(operands, blocks, alpha, (*rest, blocks[i][0], blocks[j][0]), fresh)
            if not marginal:
                z = joint.sum(axis=(-2, -1))
            marginal.setdefault(i, joint.sum(axis=-1))
            marginal.setdefault(j, joint.sum(axis=-2))
            scaled = joint * (weight * count * len(blocks[i]) * len(blocks[j]))
            q = scaled + np.swapaxes(scaled, -2, -1)
            second = q if second is None else second + q
        z = z * weight
        zero = z if zero is None else zero + z
        for member, count in orbit.block_orbits:
            s = marginal[member] * (weight * count * len(blocks[member]))
            first = s if first is None else first + s
            d = _diagonal(s * len(blocks[member]))
            second = d if second is None else second + d
    assert zero is not None
    size, n = alpha.shape
    extra = (1,) * (len(rest) - 1)
    a = alpha.reshape((size, *extra, n, 1))
    b = alpha.reshape((size, *extra, 1, n))
    table = zero[..., None, None] * (a * b) + theta * _diagonal(zero[..., None] * a[..., 0])
    if first is not None:
        assert second is not None
        table = (
            table
            + theta * (a * first[..., None, :] + b * first[..., :, None])
            + theta**2 * (second + _diagonal(first))
        )
    where = shape.output.index(last[0]) + 1
    return np.asarray(np.moveaxis(table, (-2, -1), (where, where + 1)), dtype=np.float64)


_STACKS: dict[tuple[int, ...], tuple[FloatArray, FloatArray]] = {}


def _stacked(batch: Sequence[LocusData]) -> tuple[FloatArray, FloatArray]:
    """The frequencies ``(B, n)`` and matrices ``(B, n, n)`` of a batch, padded to one ``n``:
    padding alleles have frequency 0 and never arise, so they change no likelihood. Cached by
    the loci's keys when every locus has one."""
    key = tuple(data.key for data in batch)
    shared = min(key) >= 0
    if shared and key in _STACKS:
        return _STACKS[key]
    size = len(batch)
    n = max(len(data.p) for data in batch)
    p = np.zeros((size, n))
    matrix = np.zeros((size, n, n))
    matrix[:] = np.eye(n)
    for row, data in enumerate(batch):
        m = len(data.p)
        p[row, :m] = data.p
        matrix[row, :m, :m] = data.mutation
    p.flags.writeable = False
    matrix.flags.writeable = False
    if shared:
        if len(_STACKS) > 1024:
            _STACKS.clear()
        _STACKS[key] = (p, matrix)
    return p, matrix


def _genotype_arrays(batch: Sequence[LocusData], persons: Iterable[str]) -> dict[str, IntArray]:
    """Person id → ``(B, 2)`` allele indices, from one array built at once."""
    order = list(persons)
    if not order:
        return {}
    stacked = np.array(
        [[data.genotypes[person_id] for person_id in order] for data in batch], dtype=np.int64
    )
    return {person_id: stacked[:, i] for i, person_id in enumerate(order)}


def _operands(
    shape: _Shape, batch: Sequence[LocusData], theta: float
) -> tuple[list[Any], FloatArray, FloatArray]:
    """The einsum operands (alternating arrays and label lists), a per-locus scalar factor and
    the padded frequencies ``(B, n)``; with θ > 0 the typed founders' joint probability is in
    the scalar and the untyped founders are left to :func:`_joint_founders`."""
    size = len(batch)
    p, matrix = _stacked(batch)
    typed = {f.person for f in shape.factors if f.kind == "mask"}
    genotypes = _genotype_arrays(batch, typed)
    rows = np.arange(size)
    scalar = np.ones(size)
    half_h: FloatArray | None = None

    def transmission(parent: str) -> FloatArray:
        """``(B, n)``: what a typed parent passes on."""
        a, b = genotypes[parent][:, 0], genotypes[parent][:, 1]
        return 0.5 * (matrix[rows, a] + matrix[rows, b])

    def received(child: str, role: int) -> IntArray:
        """``(B, 2)``: the allele the typed child got in ``role``, for phase 0 and 1."""
        g = genotypes[child]
        return g if role == 0 else g[:, ::-1]

    operands: list[Any] = []
    for factor in shape.factors:
        labels = [_BATCH, *factor.labels]
        if factor.kind == "mask":
            g = genotypes[factor.person]
            array = np.empty((size, 2))
            weight = (
                p[rows, g[:, 0]] * p[rows, g[:, 1]] if factor.founder and not shape.joint else 1.0
            )
            array[:, 0] = weight
            array[:, 1] = (g[:, 0] != g[:, 1]) * weight
        elif factor.kind == "prior":
            array = p
        elif factor.kind == "edge_tt":
            t = transmission(factor.person)
            array = t[rows[:, None], received(factor.child, factor.role)]
        elif factor.kind == "edge_tu":
            array = transmission(factor.person)
        elif factor.kind in ("edge_ut", "edge_uu"):
            if half_h is None:
                half_h = 0.5 * (matrix[:, :, None, :] + matrix[:, None, :, :])
            if factor.kind == "edge_uu":
                array = half_h
            else:
                idx = received(factor.child, factor.role)  # (B, 2)
                array = np.moveaxis(half_h[rows[:, None], :, :, idx], 1, 3)
        else:  # pragma: no cover - the kinds are closed
            raise AssertionError(factor.kind)
        operands.extend((array, labels))
    if shape.joint and shape.typed_founders:
        draws = [genotypes[f][:, i] for f in shape.typed_founders for i in (0, 1)]
        typed_probability = _bn_typed(draws, p, theta)
        scalar = scalar * typed_probability
    return operands, scalar, p


#: Below this many entries in the joint index space, one direct ``einsum`` beats a planned order.
_DIRECT_LIMIT = 4096
_Step = tuple[tuple[int, ...], tuple[tuple[int, ...], ...], tuple[int, ...]]


@lru_cache(maxsize=4096)
def _plan(
    labels: tuple[tuple[int, ...], ...], dims: tuple[tuple[int, ...], ...], output: tuple[int, ...]
) -> tuple[_Step, ...] | None:
    """A contraction order for these operands: ``None`` for one direct ``einsum``, else steps
    ``(operand positions, their labels, result labels)`` applied to a working list, the
    contracted operands removed and the result appended (numpy's greedy order)."""
    size: dict[int, int] = {}
    for names, shape in zip(labels, dims, strict=True):
        size.update(zip(names, shape, strict=True))
    if math.prod(size.values()) <= _DIRECT_LIMIT:
        return None
    dummies = [np.empty(shape) for shape in dims]
    args: list[Any] = []
    for dummy, names in zip(dummies, labels, strict=True):
        args.extend((dummy, list(names)))
    path = np.einsum_path(*args, list(output), optimize="greedy")[0][1:]
    working = [tuple(names) for names in labels]
    steps: list[_Step] = []
    for positions in path:
        chosen = tuple(sorted(positions, reverse=True))
        taken = [working[i] for i in chosen]
        for i in chosen:
            working.pop(i)
        remaining = {name for names in working for name in names} | set(output)
        seen: list[int] = []
        for names in taken:
            for name in names:
                if name in remaining and name not in seen:
                    seen.append(name)
        result = tuple(seen) if working else tuple(output)
        steps.append((chosen, tuple(taken), result))
        working.append(result)
    return tuple(steps)


def _contract(operands: list[Any], output: tuple[int, ...]) -> FloatArray:
    """The sum–product of ``operands`` (arrays alternating with label lists) onto ``output``."""
    arrays: list[FloatArray] = operands[0::2]
    labels = tuple(tuple(names) for names in operands[1::2])
    steps = _plan(labels, tuple(array.shape for array in arrays), output)
    if steps is None:
        return np.asarray(np.einsum(*operands, list(output)), dtype=np.float64)
    working = list(arrays)
    for chosen, taken, result in steps:
        args: list[Any] = []
        for i, names in zip(chosen, taken, strict=True):
            args.extend((working.pop(i), list(names)))
        working.append(np.einsum(*args, list(result)))
    return np.asarray(working[-1], dtype=np.float64)


def likelihoods(
    pedigree: Pedigree,
    batch: Sequence[LocusData],
    theta: float = 0.0,
    *,
    free: Sequence[str] = (),
) -> FloatArray:
    """The likelihood of each locus of ``batch`` (all with the same typed persons) in ``pedigree``.

    Returns ``(B,)``; with ``free`` persons (untyped persons of the pedigree), ``(B, n, n, ...)``
    with two axes per free person: the likelihood with that person's ordered (maternal,
    paternal) alleles fixed to each pair — its unordered genotype ``{a, b}`` is
    ``T[a, b] + T[b, a]`` (``T[a, a]`` for a homozygote); see :func:`unordered`.
    """
    return _likelihoods(pedigree, batch, theta, free)


def _likelihoods(
    pedigree: Pedigree,
    batch: Sequence[LocusData],
    theta: float,
    free: Sequence[str],
    *,
    exhaustive: bool = False,
) -> FloatArray:
    """:func:`likelihoods`; ``exhaustive``: with θ > 0, one sum–product per set partition of
    the untyped founders' draws, without the reductions of :func:`_joint_founders` (a check)."""
    if not batch:
        return np.zeros(0)
    typed = frozenset(batch[0].genotypes)
    for data in batch:
        if frozenset(data.genotypes) != typed:
            raise ValueError("every locus of a batch must have the same typed persons")
    for person_id in typed:
        pedigree[person_id]
    free = tuple(free)
    for person_id in free:
        pedigree[person_id]
        if person_id in typed:
            raise KinshipInputError(f"the free person {person_id!r} must not be typed")
    if len(set(free)) != len(free):
        raise KinshipInputError("a free person is listed twice")
    shape = _shape(pedigree, typed, free, theta > 0.0)
    operands, scalar, p = _operands(shape, batch, theta)
    if shape.joint and shape.untyped_founder_labels:
        result = _joint_founders(shape, operands, batch, p, theta, exhaustive=exhaustive)
    elif operands:
        result = _contract(operands, (_BATCH, *shape.output))
    else:
        result = np.ones(len(batch))
    if shape.output and result.ndim == 1:  # nothing but the free persons: broadcast
        n = scalar.shape[0]
        result = np.broadcast_to(
            result.reshape((n,) + (1,) * len(shape.output)),
            (n,) + (p.shape[1],) * len(shape.output),
        )
    return result * scalar.reshape((-1,) + (1,) * (result.ndim - 1))


def locus_likelihood(
    pedigree: Pedigree,
    genotypes: Mapping[str, Genotype],
    freqs: LocusFrequencies,
    theta: float = 0.0,
    mutation: MutationModel | None = None,
    *,
    lump: bool = True,
) -> float:
    """P(the typed persons show ``genotypes``) at one locus (module docstring)."""
    data = locus_data(freqs, genotypes, mutation, lump=lump)
    value = float(likelihoods(pedigree, [data], theta)[0])
    return value if math.isfinite(value) else math.nan


# ---------------------------------------------------------------------------------------------
# Likelihood ratios: the unknown person in the missing person's place, or unrelated
# ---------------------------------------------------------------------------------------------

#: Id under which the unknown person joins the pedigree as an unrelated founder (H2).
UNRELATED_ID = "_unknown_unrelated_"


@lru_cache(maxsize=256)
def _unrelated(pedigree: Pedigree) -> Pedigree:
    """The pedigree of H2: the family plus the unknown person as an unrelated founder."""
    return pedigree.with_founder(UNRELATED_ID)


def _check_profiles(
    pedigree: Pedigree, missing: str, references: Mapping[str, Profile], unknown: Profile
) -> None:
    if not isinstance(pedigree, Pedigree):
        raise KinshipInputError(f"expected a Pedigree, got {type(pedigree).__name__}")
    if not isinstance(missing, str) or missing not in pedigree:
        raise KinshipInputError(f"the missing person {shown(missing)} is not in the pedigree")
    if not isinstance(unknown, Profile):
        raise KinshipInputError(f"expected the unknown person's Profile, got {shown(unknown)}")
    if UNRELATED_ID in pedigree:
        raise KinshipInputError(f"the id {UNRELATED_ID!r} is reserved")
    if not isinstance(references, Mapping):
        raise KinshipInputError("references must map person ids to profiles")
    for person_id, profile in references.items():
        if not isinstance(profile, Profile):
            raise KinshipInputError(f"the reference of {shown(person_id)} is not a Profile")
        if person_id not in pedigree:
            raise KinshipInputError(f"profile {shown(person_id)} belongs to nobody in the pedigree")
        if person_id == missing:
            raise KinshipInputError(
                f"the missing person {missing!r} cannot also have a reference profile"
            )
        shown_sex = profile.sex_from_amelogenin()
        if shown_sex is not None and shown_sex != pedigree[person_id].sex:
            raise KinshipInputError(
                f"sex conflict: the profile of {person_id!r} shows amelogenin "
                f"{profile.amelogenin} but the pedigree records sex {pedigree[person_id].sex!r}"
            )


def pedigree_lr(
    pedigree: Pedigree,
    missing: str,
    references: Mapping[str, Profile],
    unknown: Profile,
    frequencies: CaseFrequencies | Mapping[str, LocusFrequencies],
    theta: float = 0.0,
    mutation: MutationSpec | None = None,
) -> LRResult:
    """LR that ``unknown`` is the ``missing`` person of the family rather than unrelated to it.

    H1: the unknown person's genotypes are those of ``missing``. H2: the unknown person is an
    extra founder of the pedigree, unrelated to everyone (with θ > 0 its alleles are drawn
    jointly with the family's founders, whose relationships are kept), and ``missing`` is
    untyped. ``references`` maps person ids of the pedigree to their profiles. A locus counts
    when the unknown person and at least one reference are typed there and it has frequencies;
    other loci give LR 1 and are not listed (a typed locus without frequencies gets a note).
    A reference whose amelogenin contradicts its recorded sex is an error; the unknown person's
    amelogenin against the missing person's sex is a note (the question being decided).
    """
    _check_profiles(pedigree, missing, references, unknown)
    t = check_theta(theta)
    spec = mutation if mutation is not None else MutationSpec()
    if not isinstance(spec, MutationSpec):
        raise KinshipInputError(f"mutation must be a MutationSpec, got {type(spec).__name__}")
    by_locus = frequency_map(frequencies)
    unrelated = _unrelated(pedigree)

    notes: list[str] = []
    unknown_sex = unknown.sex_from_amelogenin()
    if unknown_sex is not None and unknown_sex != pedigree[missing].sex:
        notes.append(
            f"the unknown person's amelogenin ({unknown.amelogenin}) does not match the missing "
            f"person's recorded sex ({pedigree[missing].sex}); amelogenin is not in the LR"
        )
    groups: dict[frozenset[str], list[tuple[str, LocusData, LocusData]]] = {}
    for locus, genotype in unknown.genotypes.items():
        typed = {
            person_id: profile.genotypes[locus]
            for person_id, profile in references.items()
            if locus in profile.genotypes
        }
        if not typed:
            continue
        freqs = by_locus.get(locus)
        if freqs is None:
            notes.append(f"locus {locus} is typed but has no frequencies: left out (LR 1)")
            continue
        model = spec.for_locus(locus)
        h1 = locus_data(freqs, {**typed, missing: genotype}, model)
        unknown_pair = h1.genotypes[missing]
        h2 = LocusData(
            h1.alleles,
            h1.p,
            h1.mutation,
            {**{k: v for k, v in h1.genotypes.items() if k != missing}, UNRELATED_ID: unknown_pair},
            h1.key,
        )
        groups.setdefault(frozenset(typed), []).append((locus, h1, h2))

    per_locus: dict[str, float] = {}
    for entries in groups.values():
        l1 = likelihoods(pedigree, [entry[1] for entry in entries], t)
        l2 = likelihoods(unrelated, [entry[2] for entry in entries], t)
        for (locus, _, _), numerator, denominator in zip(entries, l1, l2, strict=True):
            if denominator <= 0.0:
                raise KinshipInputError(
                    f"at locus {locus} the reference profiles are impossible in this pedigree "
                    "(likelihood 0 even without the unknown person): check the pedigree, the "
                    "profiles, or allow mutation"
                )
            per_locus[locus] = float(numerator / denominator)
    ordered = dict(sorted(per_locus.items(), key=lambda item: locus_sort_key(item[0])))
    for locus, value in ordered.items():
        if value == 0.0:
            notes.append(f"locus {locus}: genotypes incompatible with the pedigree (LR 0)")
    return combine(ordered, notes)


# ---------------------------------------------------------------------------------------------
# Tables over every genotype of an untyped person
# ---------------------------------------------------------------------------------------------


def genotype_count(n: int) -> int:
    """The number of unordered genotypes over ``n`` alleles."""
    return n * (n + 1) // 2


def genotype_index(a: int, b: int) -> int:
    """Position of the unordered genotype ``{a, b}`` in a genotype table (``i ≤ j``, by ``j``)."""
    low, high = (a, b) if a <= b else (b, a)
    return high * (high + 1) // 2 + low


def genotype_pairs(n: int) -> tuple[IntArray, IntArray]:
    """The allele indices ``(i, j)``, ``i ≤ j``, of each position of a genotype table."""
    high, low = np.nonzero(np.tril(np.ones((n, n), dtype=bool)))
    return low.astype(np.int64), high.astype(np.int64)


def unordered(table: FloatArray, axis: int = -2) -> FloatArray:
    """Fold the ordered-pair axes ``(axis, axis + 1)`` of ``table`` into one genotype axis.

    ``{a, b}`` gets ``T[a, b] + T[b, a]`` (``T[a, a]`` once for a homozygote), in the order of
    :func:`genotype_index`.
    """
    moved = np.moveaxis(table, (axis % table.ndim, (axis % table.ndim) + 1), (-2, -1))
    n = moved.shape[-1]
    low, high = genotype_pairs(n)
    folded = moved[..., low, high] + moved[..., high, low]
    folded[..., low == high] *= 0.5
    return np.moveaxis(folded, -1, axis % table.ndim)
