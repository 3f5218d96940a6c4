"""The matching side of the DNA API through Django's full HTTP stack: the candidate queue, one
candidate, the analysts' decisions (two different analysts to confirm) and comparison runs; who
may see and do what, what is audited, that no allele leaves, and hostile input on every
endpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reunite.accounts.models import OrganisationKind, Role, User
from reunite.audit.models import AuditEntry
from reunite.cases.models import CaseEvent, CaseEventKind
from reunite.cases.services import open_case_for_report
from reunite.dna import battle, review, services
from reunite.dna.models import (
    Candidate,
    CandidateReview,
    CandidateStatus,
    ComparisonRun,
    ComparisonRunStatus,
    Profile,
)
from reunite.dna.schemas import CandidateStatusFilter
from tests import dna_factories as f
from tests.dnamatch_support import analyst, build_world, search_all
from tests.functional.test_api_common import _csrf_pair

pytestmark = pytest.mark.django_db

API = "/api/dna"
UNKNOWN_ID = 987654321


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    settings.DNA_MATCH_SEARCH_MODE = "off"
    settings.DNA_MATCH_BATTLE_MODE = "inline"
    settings.DNA_MATCH_CHUNK_FAMILIES = 1


def api(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def post(client: Client, url: str, body: Any, **extra: Any) -> Any:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data=raw, content_type="application/json", **extra)


def all_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in all_keys(v)}
    return set()


@pytest.fixture
def world() -> Any:
    made = build_world(shapes=("trio", "mother"), unrelated=1)
    search_all()
    return made


def trio_candidate(world: Any) -> Candidate:
    trio = next(r for r, fam in world.families.items() if set(fam) == {"MO", "FA"})
    return Candidate.objects.get(report_id=trio, profile=world.truth[trio])


def reviews_url(candidate: Candidate) -> str:
    return f"{API}/candidates/{candidate.pk}/reviews"


def no_allele_of(world: Any, content: bytes) -> bool:
    """Whether no typed genotype (of a reference or an unidentified person) is in ``content``."""
    text = content.decode()
    profiles = [p for fam in world.families.values() for p in fam.values()]
    profiles += [*world.truth.values(), *world.unrelated]
    for profile in Profile.objects.filter(pk__in=[p.pk for p in profiles]):
        for pair in profile.genotypes.values():
            for shape in (json.dumps(list(pair)), json.dumps(list(pair), separators=(",", ":"))):
                if shape in text:
                    return False
    return True


# --------------------------------------------------------------------------- the queue


def test_the_queue_is_sorted_by_lr_filtered_paginated_and_audited(world: Any) -> None:
    tech = analyst()
    client = api(tech)
    response = client.get(f"{API}/candidates")
    assert response.status_code == 200, response.content
    page = response.json()
    expected = list(
        Candidate.objects.filter(status__in=review.OPEN_STATUSES)
        .order_by("-log10_lr", "pk")
        .values_list("pk", flat=True)
    )
    assert len(expected) >= 2
    assert [c["id"] for c in page["items"]] == expected and page["count"] == len(expected)
    lrs = [c["log10_lr"] for c in page["items"]]
    assert lrs == sorted(lrs, reverse=True)
    first = page["items"][0]
    assert first["label"] == f"C-{first['id']}" and first["family"].startswith("MP-")
    assert first["unidentified_person"].startswith("UP-")
    assert first["family_jurisdiction"] == f.CHAOYANG
    assert no_allele_of(world, response.content)
    assert AuditEntry.objects.filter(action="search", object_type=review.CANDIDATE_TYPE).exists()
    # Filters as on the queue page.
    trio = client.get(f"{API}/candidates", {"kind": "trio"}).json()
    assert {c["hypothesis_kind"] for c in trio["items"]} == {"trio"} and trio["count"] >= 1
    assert client.get(f"{API}/candidates", {"division": f.CHAOYANG}).json()["count"] == len(
        expected
    )
    assert client.get(f"{API}/candidates", {"division": f.SHANGHAI}).json()["count"] == 0
    assert client.get(f"{API}/candidates", {"min_lr": "1e300"}).json()["count"] == 0
    strongest = 10 ** page["items"][0]["log10_lr"]
    assert client.get(f"{API}/candidates", {"min_lr": strongest / 2}).json()["count"] >= 1
    second = client.get(f"{API}/candidates", {"limit": 1, "offset": 1}).json()
    assert [c["id"] for c in second["items"]] == expected[1:2] and second["count"] == len(expected)
    # Settled candidates leave the default (open) queue; ``all`` and the status bring them back.
    Candidate.objects.filter(pk=expected[0]).update(status=CandidateStatus.REJECTED)
    assert expected[0] not in [c["id"] for c in client.get(f"{API}/candidates").json()["items"]]
    every = client.get(f"{API}/candidates", {"status": "all"}).json()
    assert expected[0] in [c["id"] for c in every["items"]]
    rejected = client.get(f"{API}/candidates", {"status": "rejected"}).json()
    assert [c["id"] for c in rejected["items"]] == [expected[0]]
    # An empty parameter means "any", as a web form sends it.
    assert client.get(f"{API}/candidates", {"status": "", "kind": ""}).status_code == 200


def test_the_status_filter_knows_every_status() -> None:
    choices = set(CandidateStatusFilter.__args__)
    assert choices == {"open", "all", *CandidateStatus.values}


def test_the_queue_makes_no_query_per_row(world: Any) -> None:
    client = api(analyst())

    def queries(limit: int) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{API}/candidates", {"limit": limit})
        assert response.status_code == 200
        return len(ctx), len(response.json()["items"])

    few, one = queries(1)
    many, rows = queries(50)
    assert one == 1 and rows >= 2
    assert many == few


# --------------------------------------------------------------------------- one candidate


def test_one_candidate_is_audited_and_carries_no_allele(world: Any) -> None:
    candidate = trio_candidate(world)
    tech = analyst()
    response = api(tech).get(f"{API}/candidates/{candidate.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == candidate.pk and body["hypothesis"] == "MP|FA+MO"
    assert body["status"] == "candidate" and body["weak"] is False
    assert body["unidentified_profile"] == candidate.profile.pseudonym
    refs = {r["code"]: r for r in body["references"]}
    assert refs["MO"]["profile"] == world.families[candidate.report_id]["MO"].pseudonym
    assert refs["MO"]["relationship"] == "Mother"
    assert {p["id"] for p in body["pedigree"]} >= {"MP", "MO", "FA"}
    assert [row["locus"] for row in body["per_locus"]] == [
        row["locus"] for row in candidate.per_locus
    ]
    assert body["parameters"]["frequency_table"] == "han_chinese"
    assert body["unidentified_searchable"] is True and body["reviews"] == []
    assert body["may_review"] is True and body["may_report"] is False
    assert body["confirmations_needed"] == 2
    assert no_allele_of(world, response.content)
    assert not all_keys(body) & {"genotypes", "alleles", "amelogenin"}
    reads = AuditEntry.objects.filter(
        action="read",
        object_type=review.CANDIDATE_TYPE,
        object_id=str(candidate.pk),
        actor=tech,
    )
    assert reads.count() == 1
    api(tech).get(f"{API}/candidates/{candidate.pk}")
    assert reads.count() == 2  # every view


# --------------------------------------------------------------------------- decisions


def test_two_different_analysts_confirm_and_the_case_hears_of_it(world: Any) -> None:
    candidate = trio_candidate(world)
    investigator = f.user(Role.INVESTIGATOR, f.CHAOYANG)
    case = open_case_for_report(report=world.reports[candidate.report_id], acting_user=investigator)
    first, second = analyst(), analyst(Role.SUPERVISOR, f.BEIJING)
    url = reviews_url(candidate)
    one = post(api(first), url, {"decision": "confirm", "note": "all 20 loci fit"})
    assert one.status_code == 201, one.content
    assert one.json()["confirmed"] is False
    assert one.json()["candidate"]["status"] == "under_review"
    assert one.json()["candidate"]["already_reviewed"] is True
    assert one.json()["candidate"]["may_review"] is False
    # The same analyst again: 409, nothing recorded.
    again = post(api(first), url, {"decision": "confirm", "note": "me again"})
    assert again.status_code == 409 and "different analyst" in again.json()["detail"]
    assert CandidateReview.objects.filter(candidate=candidate).count() == 1
    two = post(api(second), url, {"decision": "confirm", "note": "agree"})
    assert two.status_code == 201, two.content
    done = two.json()
    assert done["confirmed"] is True and done["candidate"]["status"] == "confirmed"
    assert done["candidate"]["reunion_opened_at"] is not None
    assert done["candidate"]["may_report"] is True
    assert [r["analyst"] for r in done["candidate"]["reviews"]] == [
        first.get_username(),
        second.get_username(),
    ]
    assert [r["note"] for r in done["candidate"]["reviews"]] == ["all 20 loci fit", "agree"]
    event = CaseEvent.objects.get(case=case, kind=CaseEventKind.IDENTIFIED)
    assert f"C-{candidate.pk}" in event.summary and event.actor == second
    assert no_allele_of(world, two.content)
    # Settled: a third decision is refused, nothing changes.
    late = post(api(analyst()), url, {"decision": "reject", "note": "late"})
    assert late.status_code == 409
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.CONFIRMED
    assert CandidateReview.objects.filter(candidate=candidate).count() == 2
    # The case page shows the new kind in the reader's language.
    page = api(investigator).get(f"/cases/{case.pk}/")
    assert page.status_code == 200 and "Identified by DNA" in page.content.decode()
    case_api = api(investigator).get(f"/api/cases/{case.pk}").json()
    assert "identified" in {e["kind"] for e in case_api["events"]}
    # Every decision and every read in the audit trail.
    decisions = AuditEntry.objects.filter(
        action="update", object_type=review.CANDIDATE_TYPE, object_id=str(candidate.pk)
    )
    assert decisions.filter(details__decision="confirm").count() == 2


def test_one_reasoned_rejection_settles_a_candidate(world: Any) -> None:
    candidate = trio_candidate(world)
    url = reviews_url(candidate)
    blank = post(api(analyst()), url, {"decision": "reject", "note": "   "})
    assert blank.status_code == 422 and "note" in blank.json()["errors"]
    answer = post(api(analyst()), url, {"decision": "reject", "note": "amelogenin differs"})
    assert answer.status_code == 201
    assert answer.json()["candidate"]["status"] == "rejected"
    assert answer.json()["candidate"]["decided_at"] is not None
    after = post(api(analyst(Role.SUPERVISOR)), url, {"decision": "confirm", "note": "x"})
    assert after.status_code == 409 and "rejected" in after.json()["detail"].lower()
    assert CandidateReview.objects.filter(candidate=candidate).count() == 1


def test_a_withdrawn_profile_cannot_be_confirmed(world: Any) -> None:
    candidate = trio_candidate(world)
    services.withdraw_consent(
        acting_user=world.tech, sample_id=candidate.profile.sample_id, reason="asked"
    )
    tech = analyst()
    seen = api(tech).get(f"{API}/candidates/{candidate.pk}")
    assert seen.status_code == 200 and seen.json()["unidentified_searchable"] is False
    refused = post(api(tech), reviews_url(candidate), {"decision": "confirm", "note": "fits"})
    assert refused.status_code == 422 and "no longer searchable" in refused.json()["detail"]
    assert not CandidateReview.objects.filter(candidate=candidate).exists()
    # It can still be settled by a rejection.
    rejected = post(api(tech), reviews_url(candidate), {"decision": "reject", "note": "gone"})
    assert rejected.status_code == 201 and rejected.json()["candidate"]["status"] == "rejected"


# --------------------------------------------------------------------------- comparison runs


def test_a_supervisor_starts_a_run_and_follows_it(world: Any) -> None:
    supervisor = analyst(Role.SUPERVISOR, f.BEIJING)
    client = api(supervisor)
    started = post(client, f"{API}/runs", {"threshold": 10000})
    assert started.status_code == 201, started.content
    run = started.json()
    assert run["status"] == "finished" and run["trigger"] == "api"  # inline in tests
    assert run["started_by"] == supervisor.get_username() and run["pairs"] == 6
    assert run["progress"]["chunks_done"] == run["progress"]["chunks_total"] == 2
    assert run["progress"]["percent"] == 100 and run["threshold"] == 10000
    listed = client.get(f"{API}/runs").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == run["id"]
    assert client.get(f"{API}/runs", {"status": "running"}).json()["count"] == 0
    one = client.get(f"{API}/runs/{run['id']}")
    assert one.status_code == 200 and one.json()["candidates"] == run["candidates"]
    # A DNA technician sees runs but may not start one (refused and audited).
    tech = api(analyst())
    assert tech.get(f"{API}/runs").status_code == 200
    refused = post(tech, f"{API}/runs", {})
    assert refused.status_code == 403
    assert AuditEntry.objects.filter(action="denied", object_type=battle.RUN_TYPE).exists()
    assert ComparisonRun.objects.count() == 1


def test_one_run_at_a_time(world: Any) -> None:
    running = battle.start_run(acting_user=None)
    client = api(analyst(Role.SUPERVISOR, f.BEIJING))
    answer = post(client, f"{API}/runs", {})
    assert answer.status_code == 409 and f"run {running.pk} is running" in answer.json()["detail"]
    assert ComparisonRun.objects.count() == 1
    listed = client.get(f"{API}/runs", {"status": "running"}).json()
    assert [r["id"] for r in listed["items"]] == [running.pk]
    assert listed["items"][0]["started_by"] is None
    assert ComparisonRun.objects.get().status == ComparisonRunStatus.RUNNING


# --------------------------------------------------------------------------- who may


def endpoints(candidate: Candidate, run_id: int) -> list[tuple[str, str, Any]]:
    return [
        ("get", f"{API}/candidates", None),
        ("get", f"{API}/candidates/{candidate.pk}", None),
        ("post", reviews_url(candidate), {"decision": "reject", "note": "not them"}),
        ("get", f"{API}/runs", None),
        ("get", f"{API}/runs/{run_id}", None),
        ("post", f"{API}/runs", {"threshold": 10000}),
    ]


def call(client: Client, method: str, url: str, body: Any, **extra: Any) -> Any:
    if method == "get":
        return client.get(url, **extra)
    return post(client, url, body, **extra)


def stored() -> tuple[int, int, int]:
    return (
        CandidateReview.objects.count(),
        ComparisonRun.objects.count(),
        Candidate.objects.exclude(status=CandidateStatus.CANDIDATE).count(),
    )


@pytest.fixture
def finished_run(world: Any) -> ComparisonRun:
    run = battle.start_run(acting_user=None)
    executor = battle.make_executor()
    try:
        battle.execute_run(run.pk, executor)
    finally:
        executor.close()
    return run


def test_anonymous_and_deactivated_callers_get_401(world: Any, finished_run: Any) -> None:
    candidate = trio_candidate(world)
    before = stored()
    gone = analyst()
    deactivated = api(gone)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    for client in (api(None), deactivated):
        for method, url, body in endpoints(candidate, finished_run.pk):
            response = call(client, method, url, body)
            assert response.status_code == 401, (method, url, response.status_code)
            assert response.json()["detail"]
    assert stored() == before


def test_roles_without_matching_are_refused_and_audited(world: Any, finished_run: Any) -> None:
    candidate = trio_candidate(world)
    before = stored()
    investigator = f.user(Role.INVESTIGATOR, f.CHAOYANG)
    partner = f.user(Role.PARTNER_WELFARE, f.CHAOYANG, OrganisationKind.WELFARE_INSTITUTION)
    for user in (investigator, partner):
        denied = AuditEntry.objects.filter(action="denied", actor=user)
        for method, url, body in endpoints(candidate, finished_run.pk):
            response = call(api(user), method, url, body)
            assert response.status_code == 403, (user.role, method, url, response.content)
            assert response.json()["detail"]
        assert denied.count() == len(endpoints(candidate, finished_run.pk))
    assert stored() == before


def test_another_jurisdiction_sees_nothing_and_may_do_nothing(world: Any) -> None:
    candidate = trio_candidate(world)
    shanghai = analyst(code=f.SHANGHAI)
    client = api(shanghai)
    queue = client.get(f"{API}/candidates", {"status": "all"})
    assert queue.status_code == 200 and queue.json()["count"] == 0
    assert client.get(f"{API}/candidates/{candidate.pk}").status_code == 403
    refused = post(client, reviews_url(candidate), {"decision": "reject", "note": "x"})
    assert refused.status_code == 403
    assert not CandidateReview.objects.exists()
    denied = AuditEntry.objects.filter(action="denied", actor=shanghai, object_id=str(candidate.pk))
    assert denied.count() == 2
    assert not AuditEntry.objects.filter(
        action="read", actor=shanghai, object_type=review.CANDIDATE_TYPE
    ).exists()
    # Either side's jurisdiction gives access: here the unidentified person's, found in
    # Shanghai (the candidate's division is copied from the sample when it is made).
    Candidate.objects.filter(pk=candidate.pk).update(
        unidentified_division=f.found_person(f.SHANGHAI).division
    )
    assert client.get(f"{API}/candidates/{candidate.pk}").status_code == 200
    assert client.get(f"{API}/candidates").json()["count"] == 1


def test_unsafe_methods_need_the_csrf_token(world: Any) -> None:
    candidate = trio_candidate(world)
    supervisor = analyst(Role.SUPERVISOR, f.BEIJING)
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    for url, body in (
        (reviews_url(candidate), {"decision": "confirm", "note": "fits"}),
        (f"{API}/runs", {"threshold": 10000}),
    ):
        refused = post(client, url, body)
        assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert stored() == (0, 0, 0)
    cookie, token = _csrf_pair()
    client.cookies[django_settings.CSRF_COOKIE_NAME] = cookie
    accepted = post(
        client,
        reviews_url(candidate),
        {"decision": "confirm", "note": "fits"},
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 201


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    "params",
    [
        {"status": "pwned"},
        {"status": "open", "statuss": "x"},
        {"kind": "<script>"},
        {"division": "11' OR 1=1 --"},
        {"division": "999999"},  # digits, but no such division
        {"division": "1" * 40},
        {"min_lr": "nan"},
        {"min_lr": "inf"},
        {"min_lr": "-5"},
        {"min_lr": "0"},
        {"min_lr": "1e400"},
        {"min_lr": "abc"},
        {"limit": "0"},
        {"limit": "201"},
        {"offset": "-1"},
        {"offset": "x" * 5000},
    ],
)
def test_garbage_queue_filters_get_a_clear_422(world: Any, params: dict[str, str]) -> None:
    response = api(analyst()).get(f"{API}/candidates", params)
    assert response.status_code == 422, (params, response.content)
    body = response.json()
    assert body["detail"] and body["errors"]
    assert b"<script>" not in response.content


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("{", "body"),
        ("", None),
        ("[]", None),
        ('"confirm"', None),
        ('{"decision": "confirm", "note": NaN}', "body"),
        (b'{"decision": "confirm", "note": "\xff"}', "body"),
        ("[" * 5000 + "]" * 5000, "body"),
        ({"note": "fits"}, "decision"),
        ({"decision": "confirm"}, "note"),
        ({"decision": "approve", "note": "fits"}, "decision"),
        ({"decision": "take", "note": "fits"}, "decision"),
        ({"decision": "confirm", "note": ""}, "note"),
        ({"decision": "confirm", "note": "x" * 2001}, "note"),
        ({"decision": "confirm", "note": "a\x00b"}, "note"),
        ({"decision": "confirm", "note": ["fits"]}, "note"),
        ({"decision": "confirm", "note": 7}, "note"),
        ({"decision": "confirm", "note": "fits", "analyst": 1}, "analyst"),
        ({"decision": None, "note": "fits"}, "decision"),
    ],
)
def test_malformed_decisions_get_a_clear_422_and_change_nothing(
    world: Any, raw: Any, field: str | None
) -> None:
    candidate = trio_candidate(world)
    response = post(api(analyst()), reviews_url(candidate), raw)
    assert response.status_code == 422, (raw, response.content)
    body = response.json()
    assert body["detail"]
    if field is not None:
        assert field in body["errors"], body
    assert stored() == (0, 0, 0)


def test_oversize_bodies_are_refused_with_413(world: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    candidate = trio_candidate(world)
    huge = {"decision": "confirm", "note": "x" * 5000}
    response = post(api(analyst()), reviews_url(candidate), huge)
    assert response.status_code == 413 and response.json()["detail"]
    supervisor = api(analyst(Role.SUPERVISOR))
    assert post(supervisor, f"{API}/runs", {"threshold": 1e4, "x": "y" * 5000}).status_code == 413
    assert stored() == (0, 0, 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"threshold": "abc"}, "threshold"),
        ({"threshold": 0}, "threshold"),
        ({"threshold": 1}, "threshold"),
        ({"threshold": -1}, "threshold"),
        ({"threshold": 1e31}, "threshold"),
        ({"threshold": [10000]}, "threshold"),
        ({"threshold": 1e4, "dask": "tcp://evil:8786"}, "dask"),
        ('{"threshold": Infinity}', "body"),
        ("not json", "body"),
    ],
)
def test_malformed_run_starts_get_a_clear_422(world: Any, body: Any, field: str) -> None:
    response = post(api(analyst(Role.SUPERVISOR)), f"{API}/runs", body)
    assert response.status_code == 422, (body, response.content)
    assert field in response.json()["errors"]
    assert not ComparisonRun.objects.exists()


@pytest.mark.parametrize("bad", ["0", "-1", "99999999999999999999", "1e3", "abc", "%00"])
def test_ids_that_are_not_ids(world: Any, bad: str) -> None:
    client = api(analyst(Role.SUPERVISOR))
    for url in (f"{API}/candidates/{bad}", f"{API}/runs/{bad}"):
        assert client.get(url).status_code in (404, 422), url
    answer = post(client, f"{API}/candidates/{bad}/reviews", {"decision": "reject", "note": "x"})
    assert answer.status_code in (404, 422)
    assert stored() == (0, 0, 0)


def test_unknown_ids_are_404(world: Any) -> None:
    client = api(analyst(Role.SUPERVISOR))
    assert client.get(f"{API}/candidates/{UNKNOWN_ID}").status_code == 404
    assert client.get(f"{API}/runs/{UNKNOWN_ID}").status_code == 404
    answer = post(
        client, f"{API}/candidates/{UNKNOWN_ID}/reviews", {"decision": "reject", "note": "x"}
    )
    assert answer.status_code == 404 and answer.json()["detail"]
    assert client.get(f"{API}/runs", {"status": "pwned"}).status_code == 422
    assert client.get(f"{API}/runs", {"sort": "id"}).status_code == 422
    assert client.put(f"{API}/runs").status_code == 405
    assert stored() == (0, 0, 0)
