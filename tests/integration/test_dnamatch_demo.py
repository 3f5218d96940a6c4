"""The demo's planted true relatives are found by ``reunite dna compare --all``."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from reunite.audit.models import AuditEntry
from reunite.dna import demo, engine
from reunite.dna.models import Candidate, ComparisonRun, ComparisonRunStatus, Profile

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DNA_MATCH_SEARCH_MODE = "off"


def test_compare_all_finds_every_planted_relative_of_the_demo() -> None:
    call_command("demo", "--missing", "60", "--found", "100", "--no-serve", stdout=io.StringIO())
    planted = AuditEntry.objects.get(object_type=demo.SEED_OBJECT_TYPE).details["planted"]
    assert len(planted) >= 3
    err = io.StringIO()
    call_command("dna", "compare", "--all", stdout=io.StringIO(), stderr=err)
    run = ComparisonRun.objects.get()
    assert run.status == ComparisonRunStatus.FINISHED and run.families > 10
    found = set(Candidate.objects.values_list("report_id", "profile__sample__found_person_id"))
    params = engine.params_from_settings()
    for report_id, person_id in planted:
        profile = Profile.objects.get(sample__found_person_id=person_id)
        family = engine.load_families([report_id])[0]
        unknown = engine.load_unknowns([profile.pk])[0]
        exact = engine.exact_lr(family, unknown.profile, params)
        # Every planted relative whose exact LR reaches the threshold is a candidate.
        assert (exact.lr >= params.threshold) == ((report_id, person_id) in found), (
            report_id,
            exact.log10_lr,
        )
    recall = sum((r, p) in found for r, p in planted) / len(planted)
    assert recall >= 0.75, recall
