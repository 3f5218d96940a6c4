"""The kept family side of the incremental search (``matching.FamilySide``): a new unidentified
profile is screened against families encoded once and refreshed by what changed, with exactly
the candidates and LRs of a search that loads every family afresh — a family typed after the
side was built is found, a withdrawn or destroyed reference leaves at once, a QC decision takes
effect, an extended profile is encoded again, and a bulk update is seen at the next search."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from reunite.dna import engine, matching, services
from reunite.dna.models import Candidate, CustodyKind, Profile, QcStatus
from reunite.kinship import parse_profile
from reunite.kinship import search as fast
from tests import dna_factories as f
from tests.dnamatch_support import SHAPES, World, build_world

pytestmark = pytest.mark.django_db

side = matching._family_side


@pytest.fixture(autouse=True)
def _fresh_side(settings: Any) -> Iterator[None]:
    settings.DNA_MATCH_SEARCH_MODE = "off"
    side.clear()
    yield
    side.clear()


def unknown(profile: Profile) -> engine.UnknownInput:
    return engine.load_unknowns([profile.pk])[0]


def hits_of(result: engine.ChunkResult) -> dict[tuple[int, int], engine.Hit]:
    return {(h.report_id, h.profile_id): h for h in result.hits}


def same_as_without_the_side(
    person: engine.UnknownInput, params: engine.SearchParams
) -> dict[tuple[int, int], engine.Hit]:
    """Search ``person`` through the kept side and afresh; both must agree to the last bit of
    every LR, per-locus table, note, pair count and skipped family."""
    kept, _families = matching.search_unknown([person], params)
    fresh, _families = matching.search_unknown([person], params, kept=False)
    assert hits_of(kept).keys() == hits_of(fresh).keys()
    for key, hit in hits_of(kept).items():
        other = hits_of(fresh)[key]
        assert math.isclose(hit.lr, other.lr, rel_tol=1e-12)
        assert hit.per_locus == other.per_locus and hit.notes == other.notes
    assert kept.pairs == fresh.pairs
    assert sorted(kept.skipped) == sorted(fresh.skipped)
    return hits_of(kept)


def low_params() -> engine.SearchParams:
    """Every pair with LR above 1: as many candidates as the engine gives, to compare."""
    params = engine.params_from_settings()
    return engine.SearchParams(1.000001, params.theta, params.mutation, params.table)


def add_family(world: World, shape: str, seed: int) -> tuple[int, Profile]:
    """A family of ``shape`` typed now, and its missing daughter as an unidentified profile."""
    rng = random.Random(seed)
    report = f.report(f.CHAOYANG, sex="F")
    mother, father = f.random_genotypes(rng), f.random_genotypes(rng)
    for relationship, sex in SHAPES[shape]:
        member = f.member(
            world.tech, report, relationship, sex if "sibling" in relationship else ""
        )
        genotypes = (
            mother
            if relationship == "mother"
            else father
            if relationship == "father"
            else f.child_of(rng, mother, father)
        )
        f.store(
            world.tech,
            f.sample(world.tech, family_member=member),
            genotypes,
            amelogenin="XX" if sex == "F" else "XY",
        )
    girl = f.store(
        world.tech,
        f.sample(world.tech, found=f.found_person(f.CHAOYANG, sex="F")),
        f.child_of(rng, mother, father),
        amelogenin="XX",
    )
    return report.pk, girl


def test_the_kept_side_gives_exactly_the_candidates_of_a_fresh_search() -> None:
    world = build_world(shapes=("trio", "mother", "siblings", "sibling"), unrelated=4)
    params, low = engine.params_from_settings(), low_params()
    people = [*world.truth.values(), *world.unrelated]
    for person in people:
        for chosen in (params, low):
            found = same_as_without_the_side(unknown(person), chosen)
            for (report_id, profile_id), hit in found.items():  # and each is the single case's
                family = engine.load_families([report_id])[0]
                exact = engine.exact_lr(family, unknown(person).profile, chosen)
                assert profile_id == person.pk
                assert math.isclose(hit.lr, exact.lr, rel_tol=1e-9)
    for report_id, truth in world.truth.items():
        assert (report_id, truth.pk) in same_as_without_the_side(unknown(truth), params)
    assert all(side.holds(report_id) for report_id in world.families)


def test_a_side_built_with_more_loci_scores_a_person_typed_at_fewer_the_same() -> None:
    """The kept panel holds every locus some reference is typed at; a person typed at fewer
    (here 15 of the 20) is scored over the loci both have, as a fresh search does."""
    world = build_world(shapes=("trio", "siblings"), unrelated=0)
    truth = next(iter(world.truth.values()))
    typed = dict(list(unknown(truth).profile.genotypes.items())[:15])
    data = {locus: list(g.alleles) for locus, g in typed.items()}
    fewer = engine.UnknownInput(truth.pk, parse_profile("fewer", data))
    for chosen in (engine.params_from_settings(), low_params()):
        found = same_as_without_the_side(fewer, chosen)
        for hit in found.values():
            assert {locus for locus, _lr in hit.per_locus} <= set(typed)


def test_an_allele_the_table_lacks_is_searched_exactly() -> None:
    """A person with an off-table allele cannot be scored by the kept panel: the search goes
    the way of a fresh one (same result)."""
    world = build_world(shapes=("trio", "mother"), unrelated=0)
    truth = unknown(next(iter(world.truth.values())))
    data: dict[str, Any] = {locus: list(g.alleles) for locus, g in truth.profile.genotypes.items()}
    data["D21S11"] = [data["D21S11"][0], "35.1"]  # not in the Han table
    odd = engine.UnknownInput(truth.profile_id, parse_profile("odd", data))
    assert engine.screen_unknown(side.current(low_params()) or _never(), odd, low_params()) is None
    same_as_without_the_side(odd, low_params())


def _never() -> engine.EncodedFamilies:
    raise AssertionError("the side should hold these families")


def test_a_family_typed_after_the_side_was_built_is_found() -> None:
    world = build_world(shapes=("trio",), unrelated=1)
    params = engine.params_from_settings()
    same_as_without_the_side(unknown(world.unrelated[0]), params)  # builds the side
    built = side.current(params)
    assert built is not None and len(built) == 1
    for seed, shape in ((31, "mother"), (32, "siblings")):
        report_id, girl = add_family(world, shape, seed)
        assert not side.holds(report_id)
        found = same_as_without_the_side(unknown(girl), params)
        assert (report_id, girl.pk) in found
        assert side.holds(report_id)
    assert len(side.current(params) or _never()) == 3
    # And the background search stores it, LR equal to the single case's.
    matching.search_profile(girl.pk)
    candidate = Candidate.objects.get(report_id=report_id, profile=girl)
    family = engine.load_families([report_id])[0]
    exact = engine.exact_lr(family, unknown(girl).profile, params)
    assert candidate.hypothesis == "MP|S1+S2" and math.isclose(candidate.lr, exact.lr, rel_tol=1e-9)


def test_a_withdrawn_reference_leaves_the_side_at_once() -> None:
    world = build_world(shapes=("trio", "mother"), unrelated=0)
    params = engine.params_from_settings()
    mother_only = next(r for r, fam in world.families.items() if set(fam) == {"MO"})
    truth = world.truth[mother_only]
    assert (mother_only, truth.pk) in same_as_without_the_side(unknown(truth), params)
    built = side.current(params) or _never()
    rows = built.report_ids == mother_only
    assert rows.sum() == 1 and not (built.matrix.references[rows] == fast.UNTYPED).all()
    services.withdraw_consent(
        acting_user=world.tech, sample_id=world.families[mother_only]["MO"].sample_id, reason="no"
    )
    # Gone from the side before any search, its encoded genotypes overwritten in memory.
    assert not side.holds(mother_only)
    assert (built.matrix.references[rows] == fast.UNTYPED).all()
    assert same_as_without_the_side(unknown(truth), params) == {}
    refreshed = side.current(params) or _never()
    assert mother_only not in refreshed.held() and len(refreshed) == 1
    matching.search_profile(truth.pk)
    assert not Candidate.objects.filter(report_id=mother_only).exists()


def test_a_destroyed_sample_leaves_the_side_at_once() -> None:
    """Destruction makes the profiles inactive with a bulk update (no profile signal): the
    sample's own save evicts the family."""
    world = build_world(shapes=("mother",), unrelated=0)
    params = engine.params_from_settings()
    report_id, mother = next((r, fam["MO"]) for r, fam in world.families.items())
    same_as_without_the_side(unknown(world.truth[report_id]), params)
    assert side.holds(report_id)
    services.add_custody_event(
        acting_user=world.tech,
        sample_id=mother.sample_id,
        data=services.CustodyData(kind=CustodyKind.DESTROYED, at=timezone.now()),
    )
    assert not side.holds(report_id)
    assert same_as_without_the_side(unknown(world.truth[report_id]), params) == {}


def test_a_bulk_update_is_seen_at_the_next_search() -> None:
    """No signal at all (an update of rows): the refresh before the search drops the family."""
    world = build_world(shapes=("mother", "trio"), unrelated=0)
    params = engine.params_from_settings()
    report_id, mother = next((r, fam["MO"]) for r, fam in world.families.items() if len(fam) == 1)
    truth = world.truth[report_id]
    assert (report_id, truth.pk) in same_as_without_the_side(unknown(truth), params)
    Profile.objects.filter(pk=mother.pk).update(active=False)
    assert side.holds(report_id)  # nobody told the side ...
    assert same_as_without_the_side(unknown(truth), params) == {}  # ... the refresh saw it
    assert not side.holds(report_id)


def test_a_qc_decision_takes_effect() -> None:
    """A re-typing that contradicts the stored profile flags it (out of every search); the
    reviewer passes it again (back in)."""
    world = build_world(shapes=("mother",), unrelated=0)
    params = engine.params_from_settings()
    report_id, mother = next((r, fam["MO"]) for r, fam in world.families.items())
    truth = world.truth[report_id]
    assert (report_id, truth.pk) in same_as_without_the_side(unknown(truth), params)
    stored = engine.load_families([report_id])[0].references["MO"].genotypes
    conflicting = {locus: list(g.alleles) for locus, g in stored.items()}
    conflicting["TH01"] = ["5", "5"] if conflicting["TH01"] != ["5", "5"] else ["6", "6"]
    with pytest.raises(services.ProfileConflict):  # refused, and the stored one flagged
        f.store(world.tech, mother.sample, conflicting, amelogenin="XX")
    assert Profile.objects.get(pk=mother.pk).qc_status == QcStatus.FLAGGED
    assert not side.holds(report_id)
    assert same_as_without_the_side(unknown(truth), params) == {}
    services.review_qc(
        acting_user=world.tech, profile_id=mother.pk, decision=QcStatus.PASSED, note="checked"
    )
    assert (report_id, truth.pk) in same_as_without_the_side(unknown(truth), params)
    assert side.holds(report_id)


def test_an_extended_profile_is_encoded_again() -> None:
    """A reference typed at 16 loci, later extended to 20: the side uses the 20."""
    rng = random.Random(41)
    world = build_world(shapes=(), unrelated=0)
    report = f.report(f.CHAOYANG, sex="F")
    mother, father = f.random_genotypes(rng), f.random_genotypes(rng)
    member = f.member(world.tech, report, "mother")
    sample = f.sample(world.tech, family_member=member)
    first = dict(list(mother.items())[:16])
    profile = f.store(world.tech, sample, first, amelogenin="XX")
    girl = f.store(
        world.tech,
        f.sample(world.tech, found=f.found_person(f.CHAOYANG, sex="F")),
        f.child_of(rng, mother, father),
        amelogenin="XX",
    )
    low = low_params()
    before = same_as_without_the_side(unknown(girl), low)[(report.pk, girl.pk)]
    assert len(before.per_locus) == 16
    f.store(world.tech, sample, mother, amelogenin="XX")  # the same kit again, more loci
    assert Profile.objects.get(pk=profile.pk).locus_count == 20
    after = same_as_without_the_side(unknown(girl), low)[(report.pk, girl.pk)]
    assert len(after.per_locus) == 20 and after.lr != before.lr


def test_new_parameters_encode_the_side_again() -> None:
    world = build_world(shapes=("trio",), unrelated=0)
    truth = next(iter(world.truth.values()))
    params = engine.params_from_settings()
    same_as_without_the_side(unknown(truth), params)
    other = engine.SearchParams(params.threshold, 0.03, params.mutation, params.table)
    assert side.current(other) is not side.current(params)
    same_as_without_the_side(unknown(truth), other)
