"""The demo DNA data: made with the people demo, true relatives planted, idempotent."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from reunite.audit.models import AuditEntry
from reunite.dna import demo, services
from reunite.dna.genotypes import canonical_genotypes
from reunite.dna.models import FamilyMember, Profile, QcStatus, Sample

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", "--missing", "60", "--found", "100", "--no-serve", stdout=out)
    return out.getvalue()


def shares_an_allele(a: list[str], b: list[str]) -> bool:
    return bool(set(a) & set(b))


def test_the_demo_data_planted_relatives_and_a_second_run() -> None:
    """One demo run (it takes seconds), then everything about it."""
    seeded = run_demo()
    assert "Demo DNA data ready" in seeded
    check_profiles_and_families()
    check_planted_relatives()
    check_a_second_run_adds_nothing()


def check_profiles_and_families() -> None:
    entry = AuditEntry.objects.get(object_type=demo.SEED_OBJECT_TYPE)
    assert entry.details["table"] == "han_chinese" and entry.details["families"] > 10
    references = Profile.objects.filter(role="reference")
    unidentified = Profile.objects.filter(role="unidentified")
    assert references.count() > 10 and unidentified.count() > 10
    shapes = {
        frozenset(
            FamilyMember.objects.filter(report_id=r, samples__isnull=False).values_list(
                "code", flat=True
            )
        )
        for r in FamilyMember.objects.values_list("report_id", flat=True).distinct()
    }
    assert frozenset({"MO", "FA"}) in shapes and frozenset({"MO"}) in shapes
    for profile in Profile.objects.all()[:50]:
        canonical = canonical_genotypes({**profile.genotypes, "AMEL": profile.amelogenin})
        assert canonical.genotypes == profile.genotypes and profile.locus_count == 20
    assert Profile.objects.exclude(qc_status=QcStatus.PASSED).count() == 0
    assert Sample.objects.filter(profiles__isnull=True).exists()  # some wait for the lab
    pedigrees = list(services.family_pedigrees())
    assert len(pedigrees) == entry.details["families"]
    assert all(p.missing_id in p.pedigree for p in pedigrees)


def check_planted_relatives() -> None:
    planted = AuditEntry.objects.get(object_type=demo.SEED_OBJECT_TYPE).details["planted"]
    assert len(planted) >= 3  # the planted pairs are in the audit entry (ids only)
    for report_id, person_id in planted:
        found = Profile.objects.get(sample__found_person_id=person_id)
        assert services.searchable_profiles().filter(pk=found.pk).exists()
        family = services.family_pedigree(report_id)
        assert family is not None
        for code, profile_id in family.typed.items():
            relative = Profile.objects.get(pk=profile_id)
            if code in ("MO", "FA"):  # a parent shares an allele at every locus (one mutation)
                misses = [
                    locus
                    for locus in relative.genotypes
                    if not shares_an_allele(relative.genotypes[locus], found.genotypes[locus])
                ]
                assert len(misses) <= 1, (code, misses)
            assert services.may_compare(found, relative)


def check_a_second_run_adds_nothing() -> None:
    counts = (Sample.objects.count(), Profile.objects.count(), AuditEntry.objects.count())
    result = demo.seed()
    assert result.skipped
    assert (Sample.objects.count(), Profile.objects.count(), AuditEntry.objects.count()) == counts
