"""LR tables over every genotype of the unknown person, for many families at once.

For a fixed family and locus the LR depends only on the unknown person's genotype, so the search
works from *tables*: ``LR[g]`` for every unordered genotype ``g`` of the unknown person (the
order of :func:`reunite.kinship.likelihood.genotype_index`). This module computes them in
float64, with θ (Balding–Nichols) and mutation folded in, by the same model as the pedigree
engine (:mod:`reunite.kinship.likelihood`): the smallest pedigree of each relationship, founders'
alleles drawn jointly, mutation on every parent–child edge (also from untyped parents), no
stationarity assumed. The tests hold every form to :func:`~reunite.kinship.likelihood.pedigree_lr`
and :func:`~reunite.kinship.plan.genotype_tables` to 1e-9.

Closed forms (numpy, vectorised over many references or families):

* **parent–child** — the reference ``A = {r1, r2}`` is a typed founder, the missing child's
  other parent an untyped founder. Under H1 the child receives ``t = (M[r1] + M[r2]) / 2`` from
  ``A`` and ``q = α M`` from the other parent, where ``α_y = (θ c_y + (1 - θ) p_y) / (1 + θ)``
  is the Balding–Nichols probability of the third founder draw after ``A``'s two (``c``: ``A``'s
  allele counts; the untransmitted allele sums out). ``h1({a, b}) = q_a t_b + q_b t_a``
  (``q_a t_a`` for a homozygote). Under H2 the unknown is drawn after ``A``:
  ``h2({a, b}) = (2) (θ c_a + (1-θ) p_a)/(1 + θ) · (θ (c_b + [a = b]) + (1-θ) p_b)/(1 + 2θ)``.
  ``P(A)`` is common to both and cancels.
* **trio** — both parents typed founders: ``t_m``, ``t_f`` as ``t`` above,
  ``h1({a, b}) = t_m[a] t_f[b] + t_m[b] t_f[a]``, and ``h2`` the 5th and 6th Balding–Nichols
  draws after the parents' four alleles (denominators ``1 + 3θ`` and ``1 + 4θ``).
* **κ relationships without mutation** (siblings, half siblings, grandparents and
  grandchildren, uncles/aunts and nephews/nieces, first cousins; a child of the missing person
  without mutation is parent–child's κ) — the exact IBD sum of :mod:`reunite.kinship.pairwise`,
  compiled (:func:`reunite.kinship.search_kernels.kappa_lr_matrix`), for every pair (reference
  genotype, unknown genotype).
* **the same with mutation** (and θ) — :func:`descent_matrix`: every way the four alleles of
  the two persons descend from founder genes (each meiosis picks one of two parental alleles),
  each gene's allele drawn jointly by Balding–Nichols (expanded over set partitions, as the
  engine does), an allele reached over ``k`` edges mutated by ``M^k``. This is the engine's
  model restricted to the genes that reach the two persons; the untransmitted ones sum out.

:func:`engine_matrix` computes the same matrices with the general engine batched over the
reference genotypes (exact by construction, slow with θ and many untyped founders): a
cross-check for the tests.

Every pairwise table depends only on the reference's genotype at the locus, so it is a *shared*
matrix ``[reference genotype × unknown genotype]``: a family's table is one row of it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from reunite.kinship.frequencies import LocusFrequencies
from reunite.kinship.likelihood import (
    UNRELATED_ID,
    _locus_data,
    _partitions,
    _prepare,
    genotype_pairs,
    likelihoods,
    unordered,
)
from reunite.kinship.mutation import MutationModel
from reunite.kinship.pairwise import KAPPA
from reunite.kinship.pedigree import Pedigree, Person

__all__ = [
    "KAPPA_NAME",
    "MISSING_ID",
    "PAIRWISE",
    "REFERENCE_ID",
    "canonical_pedigree",
    "descent_matrix",
    "engine_matrix",
    "kappa_matrix",
    "mutation_for",
    "pairwise_matrix",
    "parent_child_lr",
    "trio_lr",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: The pairwise relationships with a shared [reference × unknown] matrix: what the typed
#: reference is to the missing person. With mutation (and θ) direction matters, so a parent
#: and a child of the missing person are two hypotheses; without, they share their κ.
PAIRWISE = (
    "parent-child",
    "child",
    "full-siblings",
    "half-siblings",
    "grandparent",
    "grandchild",
    "avuncular",
    "nephew-niece",
    "first-cousins",
)
#: The κ of each pairwise hypothesis (by its name in :data:`reunite.kinship.pairwise.KAPPA`).
KAPPA_NAME = {
    "child": "parent-child",
    "grandchild": "grandparent",
    "nephew-niece": "avuncular",
}

#: The reference's and the missing person's ids in :func:`canonical_pedigree`.
REFERENCE_ID = "R"
MISSING_ID = "X"


def canonical_pedigree(
    hypothesis: str, *, reference_sex: str = "M"
) -> tuple[Pedigree, str, tuple[str, ...]]:
    """``(pedigree, missing, typed)``: the smallest pedigree of a hypothesis (as
    :func:`reunite.kinship.pedigree.relationship_pedigree`), the reference ``R`` of sex
    ``reference_sex`` (sexes play no role in a likelihood, only in the checks of amelogenin).
    ``"trio"``: the missing person ``X`` and both parents ``MO`` and ``FA`` typed."""
    spec: list[tuple[str, str, str | None, str | None]]
    other = "F" if reference_sex == "M" else "M"
    if hypothesis == "parent-child":
        parents = ("R", "P") if reference_sex == "F" else ("P", "R")
        spec = [("R", reference_sex, None, None), ("P", other, None, None), ("X", "M", *parents)]
    elif hypothesis == "child":
        spec = [("X", "M", None, None), ("P", "F", None, None), ("R", reference_sex, "P", "X")]
    elif hypothesis == "grandchild":
        spec = [
            ("X", "M", None, None),
            ("G", "F", None, None),
            ("C", "M", "G", "X"),
            ("O", "F", None, None),
            ("R", reference_sex, "O", "C"),
        ]
    elif hypothesis == "nephew-niece":
        spec = [
            ("GF", "M", None, None),
            ("GM", "F", None, None),
            ("X", "M", "GM", "GF"),
            ("S", "M", "GM", "GF"),
            ("O", "F", None, None),
            ("R", reference_sex, "O", "S"),
        ]
    elif hypothesis == "trio":
        spec = [("FA", "M", None, None), ("MO", "F", None, None), ("X", "M", "MO", "FA")]
        return _pedigree(spec), MISSING_ID, ("MO", "FA")
    elif hypothesis == "full-siblings":
        spec = [
            ("FA", "M", None, None),
            ("MO", "F", None, None),
            ("R", reference_sex, "MO", "FA"),
            ("X", "M", "MO", "FA"),
        ]
    elif hypothesis == "half-siblings":
        spec = [
            ("FA", "M", None, None),
            ("MO_R", "F", None, None),
            ("MO_X", "F", None, None),
            ("R", reference_sex, "MO_R", "FA"),
            ("X", "M", "MO_X", "FA"),
        ]
    elif hypothesis == "grandparent":
        grandparents = ("R", "G") if reference_sex == "F" else ("G", "R")
        spec = [
            ("R", reference_sex, None, None),
            ("G", other, None, None),
            ("FA", "M", *grandparents),
            ("MO", "F", None, None),
            ("X", "M", "MO", "FA"),
        ]
    elif hypothesis == "avuncular":
        spec = [
            ("GF", "M", None, None),
            ("GM", "F", None, None),
            ("R", reference_sex, "GM", "GF"),
            ("FA", "M", "GM", "GF"),
            ("MO", "F", None, None),
            ("X", "M", "MO", "FA"),
        ]
    elif hypothesis == "first-cousins":
        spec = [
            ("GF", "M", None, None),
            ("GM", "F", None, None),
            ("FA_R", "M", "GM", "GF"),
            ("FA_X", "M", "GM", "GF"),
            ("MO_R", "F", None, None),
            ("MO_X", "F", None, None),
            ("R", reference_sex, "MO_R", "FA_R"),
            ("X", "M", "MO_X", "FA_X"),
        ]
    else:
        raise ValueError(f"no canonical pedigree for {hypothesis!r}")
    return _pedigree(spec), MISSING_ID, (REFERENCE_ID,)


def _pedigree(spec: list[tuple[str, str, str | None, str | None]]) -> Pedigree:
    return Pedigree(tuple(Person(pid, sex, mo, fa) for pid, sex, mo, fa in spec))  # type: ignore[arg-type]


def mutation_for(freqs: LocusFrequencies, model: MutationModel | None) -> FloatArray:
    """The ``(n, n)`` mutation matrix the engine uses at this locus (the identity without
    mutation), over the alleles of ``freqs`` in their order."""
    n = len(freqs)
    if model is None or model.is_identity:
        return np.eye(n)
    return np.asarray(model.matrix(freqs.alleles, freqs.frequencies), dtype=np.float64)


def _counts(n: int, *alleles: IntArray) -> FloatArray:
    """``(F, n)``: how often each allele occurs among the given ``(F,)`` allele columns."""
    size = alleles[0].shape[0]
    counts = np.zeros((size, n))
    rows = np.arange(size)
    for column in alleles:
        np.add.at(counts, (rows, column), 1.0)
    return counts


def _bn_pair(
    p: FloatArray, counts: FloatArray, theta: float, drawn: int, a: IntArray, b: IntArray
) -> FloatArray:
    """``(F, C)``: P(unordered genotype {a, b}) as the next two Balding–Nichols draws after
    ``drawn`` draws with allele ``counts`` (``(F, n)``)."""
    same = a == b
    first = (theta * counts[:, a] + (1.0 - theta) * p[a]) / (1.0 + (drawn - 1) * theta)
    second = (theta * (counts[:, b] + same) + (1.0 - theta) * p[b]) / (1.0 + drawn * theta)
    return first * second * np.where(same, 1.0, 2.0)


def _transmitted(mutation: FloatArray, lo: IntArray, hi: IntArray) -> FloatArray:
    """``(F, n)``: the allele a typed parent ``{lo, hi}`` passes on, after mutation."""
    return 0.5 * (mutation[lo] + mutation[hi])


def _columns(n: int, columns: IntArray | None) -> tuple[IntArray, IntArray]:
    lo, hi = genotype_pairs(n)
    if columns is None:
        return lo, hi
    return lo[columns], hi[columns]


def parent_child_lr(
    p: FloatArray,
    mutation: FloatArray,
    theta: float,
    ref_lo: IntArray,
    ref_hi: IntArray,
    columns: IntArray | None = None,
) -> FloatArray:
    """``(F, C)``: the parent–child LR for references ``{ref_lo, ref_hi}`` (``(F,)`` allele
    indices) against every unknown genotype (or the genotype indices ``columns``)."""
    n = p.shape[0]
    a, b = _columns(n, columns)
    counts = _counts(n, ref_lo, ref_hi)
    alpha = (theta * counts + (1.0 - theta) * p) / (1.0 + theta)
    q = alpha @ mutation
    t = _transmitted(mutation, ref_lo, ref_hi)
    h1 = q[:, a] * t[:, b] + q[:, b] * t[:, a]
    h1[:, a == b] *= 0.5
    return h1 / _bn_pair(p, counts, theta, 2, a, b)


def trio_lr(
    p: FloatArray,
    mutation: FloatArray,
    theta: float,
    mother: tuple[IntArray, IntArray],
    father: tuple[IntArray, IntArray],
    columns: IntArray | None = None,
) -> FloatArray:
    """``(F, C)``: the LR that the unknown is the child of the typed ``mother`` and ``father``
    (each ``(lo, hi)`` of ``(F,)`` allele indices), for every unknown genotype (or ``columns``)."""
    n = p.shape[0]
    a, b = _columns(n, columns)
    counts = _counts(n, mother[0], mother[1], father[0], father[1])
    t_m = _transmitted(mutation, *mother)
    t_f = _transmitted(mutation, *father)
    h1 = t_m[:, a] * t_f[:, b] + t_m[:, b] * t_f[:, a]
    h1[:, a == b] *= 0.5
    return h1 / _bn_pair(p, counts, theta, 4, a, b)


def kappa_matrix(p: FloatArray, relationship: str, theta: float) -> FloatArray:
    """``(G, G)``: the κ LR (no mutation) of ``relationship`` for every (reference genotype,
    unknown genotype), by the compiled exact IBD sum of :mod:`reunite.kinship.pairwise`."""
    from reunite.kinship.search_kernels import kappa_lr_matrix

    k0, k1, k2 = KAPPA[KAPPA_NAME.get(relationship, relationship)]
    lo, hi = genotype_pairs(p.shape[0])
    out = np.empty((lo.shape[0], lo.shape[0]))
    kappa_lr_matrix(lo, hi, np.ascontiguousarray(p, dtype=np.float64), k0, k1, k2, theta, out)
    return out


def _trace(
    pedigree: Pedigree, person: str, slot: int, choice: dict[tuple[str, int], int]
) -> tuple[tuple[str, int], int]:
    """The founder gene ``(founder, slot)`` that ``person``'s allele ``slot`` (0: maternal,
    1: paternal) descends from under the meiosis ``choice``, and the number of edges."""
    length = 0
    while True:
        record = pedigree[person]
        if record.is_founder:
            return (person, slot), length
        parent = record.mother if slot == 0 else record.father
        assert parent is not None
        slot = choice[(person, slot)]
        person = parent
        length += 1


def _ancestry(pedigree: Pedigree, persons: Sequence[str]) -> list[str]:
    """The non-founders among ``persons`` and their ancestors."""
    found: list[str] = []
    stack = list(persons)
    while stack:
        person = stack.pop()
        record = pedigree[person]
        if record.is_founder or person in found:
            continue
        found.append(person)
        stack.extend(parent for parent in (record.mother, record.father) if parent is not None)
    return sorted(found)


_Descent = tuple[tuple[tuple[str, int], int], ...]


@lru_cache(maxsize=64)
def _descents(pedigree: Pedigree, persons: tuple[str, str]) -> tuple[tuple[_Descent, float], ...]:
    """Every way the four alleles (first person maternal, paternal; second person maternal,
    paternal) descend from founder genes, with its probability: each meiosis picks one of the
    parent's two alleles with probability 1/2."""
    meioses = [(person, slot) for person in _ancestry(pedigree, persons) for slot in (0, 1)]
    weight = 0.5 ** len(meioses)
    found: dict[_Descent, float] = {}
    for bits in itertools.product((0, 1), repeat=len(meioses)):
        choice = dict(zip(meioses, bits, strict=True))
        descent = tuple(
            _trace(pedigree, person, slot, choice) for person in persons for slot in (0, 1)
        )
        found[descent] = found.get(descent, 0.0) + weight
    return tuple(sorted(found.items()))


def _descent_tensor(
    descents: tuple[tuple[_Descent, float], ...], p: FloatArray, mutation: FloatArray, theta: float
) -> FloatArray:
    """``(n, n, n, n)``: P(ordered alleles of the two persons) summed over the ``descents``.

    The distinct founder genes of a descent are drawn jointly by Balding–Nichols; as in
    :func:`reunite.kinship.likelihood._joint_founders`, the joint probability expands over the
    set partitions of the genes, a block of ``s`` genes tied to one allele ``x`` weighing
    ``(s - 1)! θ^(s - 1) (1 - θ) p_x``, over ``Π_j (1 + (j - 1) θ)``. An allele reached over
    ``k`` edges has mutated by ``M^k``."""
    # Terms with the same blocks (slots and their path lengths) are merged first.
    terms: dict[tuple[tuple[tuple[int, int], ...], ...], float] = {}
    for descent, probability in descents:
        genes = list(dict.fromkeys(gene for gene, _ in descent))
        k = len(genes)
        denominator = math.prod(1.0 + (j - 1) * theta for j in range(k))
        for partition in _partitions(k):
            weight = math.prod(
                math.factorial(len(block) - 1) * theta ** (len(block) - 1) for block in partition
            )
            if weight == 0.0:
                continue
            block_of = {genes[i]: b for b, block in enumerate(partition) for i in block}
            members: list[list[tuple[int, int]]] = [[] for _ in partition]
            for slot, (gene, length) in enumerate(descent):
                members[block_of[gene]].append((slot, length))
            key = tuple(sorted(tuple(block) for block in members if block))
            terms[key] = terms.get(key, 0.0) + probability * weight / denominator
    n = p.shape[0]
    alpha = (1.0 - theta) * p
    powers = [np.eye(n)]
    letters = "abcd"
    factors: dict[tuple[tuple[int, int], ...], FloatArray] = {}
    total = np.zeros((n, n, n, n))
    for key, coefficient in terms.items():
        for block in key:
            if block not in factors:
                # Σ_x α_x Π_slots M^length[x, slot allele]
                operands: list[FloatArray] = [alpha]
                for _, length in block:
                    while len(powers) <= length:
                        powers.append(powers[-1] @ mutation)
                    operands.append(powers[length])
                spec = "x," + ",".join("x" + letters[slot] for slot, _ in block)
                output = "".join(letters[slot] for slot, _ in block)
                factors[block] = np.einsum(f"{spec}->{output}", *operands)
        inputs = ",".join("".join(letters[slot] for slot, _ in block) for block in key)
        total += coefficient * np.einsum(f"{inputs}->abcd", *(factors[block] for block in key))
    return total


@lru_cache(maxsize=64)
def _canonical(hypothesis: str) -> tuple[Pedigree, Pedigree]:
    pedigree, _, _ = canonical_pedigree(hypothesis)
    return pedigree, pedigree.with_founder(UNRELATED_ID)


def descent_matrix(
    p: FloatArray, mutation: FloatArray, theta: float, relationship: str
) -> FloatArray:
    """``(G, G)``: the LR of a pairwise ``relationship`` for every (reference genotype, unknown
    genotype), with θ and mutation, by summing over how the four alleles descend from founder
    genes (the same model as the engine, restricted to the genes that reach the two persons)."""
    pedigree, unrelated = _canonical(relationship)
    h1 = _descent_tensor(_descents(pedigree, (REFERENCE_ID, MISSING_ID)), p, mutation, theta)
    h2 = _descent_tensor(_descents(unrelated, (REFERENCE_ID, UNRELATED_ID)), p, mutation, theta)
    return unordered(unordered(h1, 0), 1) / unordered(unordered(h2, 0), 1)


def engine_matrix(
    freqs: LocusFrequencies, model: MutationModel | None, theta: float, relationship: str
) -> FloatArray:
    """``(G, G)``: the same matrix by the general engine
    (:func:`reunite.kinship.likelihood.likelihoods` with the unknown free), batched over the
    reference genotypes; slow with θ, mutation and many untyped founders (a cross-check)."""
    pedigree, unrelated = _canonical(relationship)
    prepared = _prepare(freqs, model, None)
    n = len(freqs)
    lo, hi = genotype_pairs(n)
    batch = [
        _locus_data(prepared, {REFERENCE_ID: (int(i), int(j))})
        for i, j in zip(lo.tolist(), hi.tolist(), strict=True)
    ]
    rows: list[FloatArray] = []
    step = 64  # bounds the einsum intermediates
    for start in range(0, len(batch), step):
        part = batch[start : start + step]
        h1 = likelihoods(pedigree, part, theta, free=(MISSING_ID,))[:, :n, :n]
        h2 = likelihoods(unrelated, part, theta, free=(UNRELATED_ID,))[:, :n, :n]
        rows.append(unordered(np.asarray(h1)) / unordered(np.asarray(h2)))
    return np.concatenate(rows, axis=0)


def pairwise_matrix(
    freqs: LocusFrequencies, model: MutationModel | None, theta: float, relationship: str
) -> FloatArray:
    """``(G, G)`` float64: the LR of a pairwise ``relationship`` (one of :data:`PAIRWISE`) for
    every (reference genotype, unknown genotype) at one locus, by the fastest exact route."""
    p = np.asarray(freqs.frequencies, dtype=np.float64)
    mutation = mutation_for(freqs, model)
    if relationship == "parent-child":
        lo, hi = genotype_pairs(len(freqs))
        return parent_child_lr(p, mutation, theta, lo, hi)
    if relationship not in PAIRWISE:
        raise ValueError(f"not a pairwise relationship: {relationship!r}")
    if model is None or model.is_identity:
        return kappa_matrix(p, relationship, theta)
    return descent_matrix(p, mutation, theta, relationship)
