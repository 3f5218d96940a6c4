"""Profiles: storing typing results, QC rules, review, purpose limitation, genotype access."""

from __future__ import annotations

import random

import pytest

from reunite.accounts.models import Role
from reunite.audit.models import AuditEntry
from reunite.core.errors import AccessDenied, ValidationFailed
from reunite.dna import services
from reunite.dna.genotypes import allele_ranges
from reunite.dna.models import CustodyKind, Profile, QcStatus, Sample, SampleStatus
from tests import dna_factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def tech():
    return f.technician()


@pytest.fixture
def investigator():
    return f.user(Role.INVESTIGATOR, f.CHAOYANG)


@pytest.fixture
def rng() -> random.Random:
    return random.Random(11)


def codes(profile: Profile) -> list[str]:
    return [r["code"] for r in Profile.objects.get(pk=profile.pk).qc_reasons]


def family_reference(investigator, tech, relationship="mother", report=None, **kwargs):
    report = report or f.report()
    member = f.member(investigator, report, relationship, kwargs.pop("sex", ""))
    return f.sample(investigator, family_member=member, receiver=tech)


# --------------------------------------------------------------------------- storing


def test_a_typing_result_is_stored_canonical_with_its_custody(investigator, tech, rng) -> None:
    sample = f.sample(investigator, found=f.found_person(sex="M"), receiver=tech)
    genotypes = f.random_genotypes(rng)
    raw = {locus.lower(): list(reversed(pair)) for locus, pair in genotypes.items()}
    profile, outcome = services.create_profile(
        acting_user=tech,
        data=services.ProfileData(
            sample_id=sample.pk, kit="globalfiler", genotypes=raw, amelogenin=["X", "Y"]
        ),
    )
    assert (
        outcome == "created" and profile.pseudonym.startswith("P-") and len(profile.pseudonym) == 8
    )
    stored = Profile.objects.get(pk=profile.pk)
    assert stored.genotypes == genotypes and list(stored.genotypes) == list(genotypes)
    assert stored.amelogenin == "XY" and stored.locus_count == 20
    assert stored.qc_status == QcStatus.PASSED and stored.qc_reasons == []
    assert stored.role == "unidentified" and stored.lab == tech.organisation
    sample.refresh_from_db()
    assert sample.status == SampleStatus.TYPED
    assert sample.custody.filter(kind=CustodyKind.TYPED).count() == 1


def test_the_same_result_again_changes_nothing_and_more_loci_extend(
    investigator, tech, rng
) -> None:
    sample = f.sample(investigator, found=f.found_person(), receiver=tech)
    full = f.random_genotypes(rng)
    part = dict(list(full.items())[:16])
    first = f.store(tech, sample, part)
    events = sample.custody.count()
    again, outcome = services.create_profile(
        acting_user=tech,
        data=services.ProfileData(sample_id=sample.pk, kit="globalfiler", genotypes=part),
    )
    assert (again.pk, outcome) == (first.pk, "unchanged") and sample.custody.count() == events
    extended, outcome = services.create_profile(
        acting_user=tech,
        data=services.ProfileData(sample_id=sample.pk, kit="globalfiler", genotypes=full),
    )
    assert (extended.pk, outcome) == (first.pk, "updated")
    assert Profile.objects.get(pk=first.pk).genotypes == full
    assert Profile.objects.count() == 1


def test_a_contradicting_result_is_refused_and_flags_the_stored_profile(
    investigator, tech, rng
) -> None:
    sample = f.sample(investigator, found=f.found_person(), receiver=tech)
    genotypes = f.random_genotypes(rng)
    stored = f.store(tech, sample, genotypes)
    other = dict(genotypes, TH01=["5", "5"] if genotypes["TH01"] != ["5", "5"] else ["6", "6"])
    with pytest.raises(services.ProfileConflict) as conflict:
        f.store(tech, sample, other)
    assert stored.pseudonym in conflict.value.message and conflict.value.status_code == 409
    kept = Profile.objects.get(pk=stored.pk)
    assert kept.genotypes == genotypes
    assert kept.qc_status == QcStatus.FLAGGED and codes(kept) == ["retyping_conflict"]
    # Another kit is another profile: the same donor, typed twice, discordant.
    second = f.store(tech, sample, other, kit="powerplex_fusion")
    assert codes(second) == ["discordant"]
    assert Profile.objects.get(pk=second.pk).qc_reasons[0]["params"]["loci"] == ["TH01"]


@pytest.mark.parametrize("state", ["no_consent", "in_transit", "withdrawn"])
def test_a_sample_that_may_not_be_typed_is_refused(investigator, tech, rng, state) -> None:
    person = f.found_person()
    sample = f.sample(
        investigator,
        found=person,
        with_consent=state != "no_consent",
        received=state != "in_transit",
        receiver=tech,
    )
    if state == "withdrawn":
        services.withdraw_consent(acting_user=investigator, sample_id=sample.pk, reason="no")
    with pytest.raises(ValidationFailed) as error:
        f.store(tech, sample, f.random_genotypes(rng))
    assert "sample" in error.value.field_errors
    assert Profile.objects.count() == 0


def test_bad_alleles_and_empty_profiles_are_refused_with_the_locus_named(
    investigator, tech
) -> None:
    sample = f.sample(investigator, found=f.found_person(), receiver=tech)
    for genotypes, text in (
        ({"TH01": ["6", "7", "8"]}, "mixture at locus TH01"),
        ({"D99S1": ["6", "7"]}, "unknown locus"),
        ({"TH01": ["six", "7"]}, "malformed allele"),
        ({"TH01": []}, "No STR locus"),
    ):
        with pytest.raises(ValidationFailed) as error:
            f.store(tech, sample, genotypes)
        assert text in " ".join(error.value.field_errors["genotypes"])


def test_only_a_forensic_laboratory_stores_profiles(investigator, rng) -> None:
    sample = f.sample(investigator, found=f.found_person(), with_consent=True, received=False)
    with pytest.raises(AccessDenied):  # investigators may not type at all
        f.store(investigator, sample, f.random_genotypes(rng))
    bureau_tech = f.user(Role.DNA_TECHNICIAN, f.BEIJING)  # a technician not in a laboratory
    with pytest.raises(AccessDenied):
        f.store(bureau_tech, sample, f.random_genotypes(rng))


# --------------------------------------------------------------------------- QC


def test_too_few_loci_fails(investigator, tech, rng, settings) -> None:
    settings.DNA_MIN_TYPED_LOCI = 15
    sample = f.sample(investigator, found=f.found_person(), receiver=tech)
    profile = f.store(tech, sample, dict(list(f.random_genotypes(rng).items())[:14]))
    assert profile.qc_status == QcStatus.FAILED and codes(profile) == ["too_few_loci"]
    assert profile.qc_reasons[0]["params"] == {"count": 14, "minimum": 15}
    settings.DNA_MIN_TYPED_LOCI = 10
    other = f.store(
        tech,
        f.sample(investigator, found=f.found_person(), receiver=tech),
        dict(list(f.random_genotypes(rng).items())[:14]),
    )
    assert other.qc_status == QcStatus.PASSED


def test_implausible_alleles_and_amelogenin_against_sex_are_flagged(
    investigator, tech, rng
) -> None:
    genotypes = f.random_genotypes(rng)
    high = allele_ranges()["TH01"][1]
    genotypes["TH01"] = ["6", f"{high + 5:g}"]
    sample = f.sample(investigator, found=f.found_person(sex="F"), receiver=tech)
    profile = f.store(tech, sample, genotypes, amelogenin="XY")
    assert profile.qc_status == QcStatus.FLAGGED
    assert codes(profile) == ["implausible_allele", "amelogenin_sex"]
    reasons = Profile.objects.get(pk=profile.pk).qc_reasons
    assert reasons[0]["params"]["locus"] == "TH01"
    assert f"{high + 5:g}" not in str(reasons)  # stored reasons hold no allele


def test_identical_profiles_of_different_donors_are_flagged_within_the_purpose(
    investigator, tech, rng
) -> None:
    genotypes = f.random_genotypes(rng)
    mother_a = f.store(tech, family_reference(investigator, tech), genotypes)
    # Another family's reference with the same profile: not compared (purpose limitation).
    mother_b = f.store(tech, family_reference(investigator, tech), genotypes)
    assert mother_b.qc_status == QcStatus.PASSED
    # An unidentified person with the same profile: a reference may be compared with it.
    unknown = f.store(
        tech, f.sample(investigator, found=f.found_person(), receiver=tech), genotypes
    )
    assert unknown.qc_status == QcStatus.FLAGGED and codes(unknown) == ["duplicate", "duplicate"]
    assert {r["params"]["profile"] for r in Profile.objects.get(pk=unknown.pk).qc_reasons} == {
        mother_a.pseudonym,
        mother_b.pseudonym,
    }
    # The same unknown person registered twice (two found-person records): flagged too.
    twice = f.store(tech, f.sample(investigator, found=f.found_person(), receiver=tech), genotypes)
    assert codes(twice).count("duplicate") == 3


def test_a_reviewer_settles_a_flagged_profile(investigator, tech, rng) -> None:
    sample = f.sample(investigator, found=f.found_person(sex="F"), receiver=tech)
    profile = f.store(tech, sample, f.random_genotypes(rng), amelogenin="XY")
    assert profile.qc_status == QcStatus.FLAGGED
    with pytest.raises(ValidationFailed) as no_note:
        services.review_qc(acting_user=tech, profile_id=profile.pk, decision="passed", note=" ")
    assert "note" in no_note.value.field_errors
    with pytest.raises(AccessDenied):
        services.review_qc(
            acting_user=investigator, profile_id=profile.pk, decision="passed", note="ok"
        )
    reviewed = services.review_qc(
        acting_user=tech, profile_id=profile.pk, decision="passed", note="AMELY deletion known"
    )
    assert (
        reviewed.qc_status == QcStatus.PASSED
        and Profile.objects.searchable().filter(pk=profile.pk).exists()
    )
    with pytest.raises(ValidationFailed):  # only flagged profiles are reviewed
        services.review_qc(acting_user=tech, profile_id=profile.pk, decision="failed", note="x")
    entry = AuditEntry.objects.filter(object_type=services.PROFILE_TYPE, action="update").last()
    assert entry is not None and entry.details == {"qc": ["flagged", "passed"], "note": True}


# --------------------------------------------------------------------------- purpose limitation


def test_purpose_limitation_decides_what_each_profile_may_be_compared_with(
    investigator, tech, rng
) -> None:
    report_a, report_b = f.report(), f.report()
    mother_a = f.store(
        tech, family_reference(investigator, tech, report=report_a), f.random_genotypes(rng)
    )
    father_a = f.store(
        tech,
        family_reference(investigator, tech, "father", report=report_a),
        f.random_genotypes(rng),
    )
    mother_b = f.store(
        tech, family_reference(investigator, tech, report=report_b), f.random_genotypes(rng)
    )
    unknown = f.store(
        tech, f.sample(investigator, found=f.found_person(), receiver=tech), f.random_genotypes(rng)
    )
    flagged = f.store(
        tech,
        f.sample(investigator, found=f.found_person(sex="F"), receiver=tech),
        f.random_genotypes(rng),
        amelogenin="XY",
    )
    assert flagged.qc_status == QcStatus.FLAGGED

    def targets(profile: Profile) -> set[int]:
        return set(services.comparison_targets(profile).values_list("pk", flat=True))

    assert targets(mother_a) == {father_a.pk, unknown.pk}  # own family (QC) and unidentified
    assert targets(mother_b) == {unknown.pk}  # never another family's references
    assert targets(unknown) == {mother_a.pk, father_a.pk, mother_b.pk}
    assert not services.may_compare(mother_a, mother_b)
    assert services.may_compare(mother_b, unknown) and services.may_compare(unknown, mother_b)
    assert targets(flagged) == set()  # not searchable until reviewed
    assert flagged.pk not in targets(unknown) and flagged.pk not in targets(mother_a)
    services.withdraw_consent(acting_user=investigator, sample_id=mother_b.sample_id, reason="no")
    assert targets(unknown) == {mother_a.pk, father_a.pk}
    assert targets(Profile.objects.get(pk=mother_b.pk)) == set()
    assert set(services.searchable_profiles("reference").values_list("pk", flat=True)) == {
        mother_a.pk,
        father_a.pk,
    }


# --------------------------------------------------------------------------- reading


def test_genotypes_are_read_only_by_laboratory_and_supervisors_of_the_jurisdiction(
    investigator, tech, rng
) -> None:
    profile = f.store(tech, family_reference(investigator, tech), f.random_genotypes(rng))
    supervisor = f.user(Role.SUPERVISOR, f.BEIJING)
    elsewhere = f.user(Role.SUPERVISOR, f.SHANGHAI)
    for reader in (tech, supervisor):
        _read, canonical = services.get_profile_genotypes(acting_user=reader, profile_id=profile.pk)
        assert canonical.genotypes == Profile.objects.get(pk=profile.pk).genotypes
    reads = AuditEntry.objects.filter(
        object_type=services.PROFILE_TYPE, action="read", details__genotypes=True
    )
    assert reads.count() == 2
    before = AuditEntry.objects.filter(action="denied", object_type=services.PROFILE_TYPE).count()
    for reader in (investigator, elsewhere):
        with pytest.raises(AccessDenied):
            services.get_profile_genotypes(acting_user=reader, profile_id=profile.pk)
    assert (
        AuditEntry.objects.filter(action="denied", object_type=services.PROFILE_TYPE).count()
        == before + 2
    )
    # The investigator sees the profile's metadata, never its alleles.
    assert services.get_profile(acting_user=investigator, profile_id=profile.pk).pk == profile.pk
    assert not services.can_view_genotypes(investigator, profile)


def test_searches_stay_in_the_jurisdiction(investigator, tech, rng) -> None:
    here = f.store(
        tech, f.sample(investigator, found=f.found_person(), receiver=tech), f.random_genotypes(rng)
    )
    shanghai_tech = f.technician(f.SHANGHAI)
    shanghai_inv = f.user(Role.INVESTIGATOR, "310101")
    there = f.sample(shanghai_inv, found=f.found_person("310101"), receiver=shanghai_tech)
    mine = services.search_profiles(acting_user=tech, filters=services.ProfileFilters())
    assert set(mine.values_list("pk", flat=True)) == {here.pk}
    theirs = services.search_samples(acting_user=shanghai_tech, filters=services.SampleFilters())
    assert set(theirs.values_list("pk", flat=True)) == {there.pk}
    assert Sample.objects.count() == 2
    with pytest.raises(AccessDenied):
        services.get_sample(acting_user=shanghai_tech, sample_id=here.sample_id)
