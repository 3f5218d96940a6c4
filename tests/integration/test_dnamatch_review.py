"""Review to identification: two different analysts, the reunion step on the case, the
investigators notified through a real SMTP server, the match report (HTML data and PDF), the
incremental search of a saved profile, and the audit trail."""

from __future__ import annotations

import math
from typing import Any

import pytest

from reunite.accounts.models import Role
from reunite.audit.models import AuditEntry
from reunite.cases.models import CaseEvent
from reunite.cases.services import open_case_for_report
from reunite.core.errors import AccessDenied, ValidationFailed
from reunite.dna import engine, matching, report, review, services
from reunite.dna.models import (
    Candidate,
    CandidateReview,
    CandidateStatus,
    ProfileRole,
    SearchRequest,
    SearchRequestStatus,
)
from tests import dna_factories as f
from tests.dnamatch_support import analyst, build_world, search_all, smtp_server

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.DNA_MATCH_SEARCH_MODE = "off"


def searched_world(**kwargs: Any) -> Any:
    world = build_world(**kwargs)
    search_all()
    return world


def trio_candidate(world: Any) -> Candidate:
    trio = next(r for r, fam in world.families.items() if set(fam) == {"MO", "FA"})
    return Candidate.objects.get(report_id=trio, profile=world.truth[trio])


def test_saving_a_profile_queues_a_search_and_finds_the_relative(
    django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    """Incremental search: every profile that passes QC gets a durable request; inline mode
    works it off right after commit, and the candidate is there."""
    settings.DNA_MATCH_SEARCH_MODE = "inline"
    with django_capture_on_commit_callbacks(execute=True):
        world = build_world(shapes=("trio",), unrelated=1)
    requests = SearchRequest.objects.all()
    assert requests.count() == 4  # MO, FA, the missing person, one unrelated
    assert set(requests.values_list("status", flat=True)) == {SearchRequestStatus.DONE}
    report_id = next(iter(world.families))
    candidate = Candidate.objects.get(report_id=report_id, profile=world.truth[report_id])
    assert candidate.source == "incremental" and candidate.run is None
    assert candidate.lr >= 1e4 and candidate.hypothesis == "MP|FA+MO"
    family = engine.load_families([report_id])[0]
    unknown = engine.load_unknowns([world.truth[report_id].pk])[0]
    exact = engine.exact_lr(family, unknown.profile, engine.params_from_settings())
    assert math.isclose(candidate.lr, exact.lr, rel_tol=1e-9)
    for row in candidate.per_locus:
        assert math.isclose(row["lr"], exact.per_locus[row["locus"]], rel_tol=1e-9)
    # The same profiles again: nothing doubles.
    for profile in [*world.families[report_id].values(), world.truth[report_id]]:
        matching.search_profile(profile.pk)
    assert (
        Candidate.objects.filter(report_id=report_id, profile=world.truth[report_id]).count() == 1
    )


def test_a_withdrawn_or_failed_profile_is_not_searched() -> None:
    world = build_world(shapes=("mother",), unrelated=0)
    truth = next(iter(world.truth.values()))
    services.withdraw_consent(acting_user=world.tech, sample_id=truth.sample_id, reason="asked")
    matching.process_pending()
    assert not Candidate.objects.exists()
    assert matching.search_profile(truth.pk).pairs == 0


def test_failed_searches_are_counted_and_a_supervisor_queues_them_again(
    django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    """A search that failed (here: a frequency table that is not there) stays failed and
    counted until a supervisor (or ``reunite dna searches --retry-failed``) queues it again; a
    withdrawn profile's failed search is not revived; the retry is audited."""
    world = build_world(shapes=("mother",), unrelated=1)
    settings.DNA_MATCH_FREQUENCY_TABLE = "no_such_table"
    assert matching.process_pending() == 3
    backlog = matching.search_backlog()
    assert (backlog.pending, backlog.failed) == (0, 3)
    assert backlog.last_error_kind == "KinshipInputError"
    unrelated = world.unrelated[0]
    services.withdraw_consent(acting_user=world.tech, sample_id=unrelated.sample_id, reason="asked")
    settings.DNA_MATCH_FREQUENCY_TABLE = "han_chinese"
    technician = analyst(Role.DNA_TECHNICIAN)
    with pytest.raises(AccessDenied):
        matching.retry_failed(acting_user=technician)
    assert matching.search_backlog().failed == 3
    settings.DNA_MATCH_SEARCH_MODE = "inline"
    with django_capture_on_commit_callbacks(execute=True):
        retried = matching.retry_failed(acting_user=analyst(Role.SUPERVISOR))
    assert retried == 2  # the withdrawn profile's search stays failed
    backlog = matching.search_backlog()
    assert (backlog.pending, backlog.failed) == (0, 1)
    report_id = next(iter(world.families))
    assert Candidate.objects.filter(report_id=report_id, profile=world.truth[report_id]).exists()
    trail = AuditEntry.objects.filter(object_type=matching.SEARCHES_TYPE)
    assert [e.action for e in trail.order_by("pk")] == ["denied", "update"]
    assert trail.order_by("pk").last().details == {"retried": 2}


def test_two_different_analysts_confirm_and_the_case_and_investigators_hear_of_it(
    settings: Any,
) -> None:
    world = searched_world(shapes=("trio",), unrelated=1)
    candidate = trio_candidate(world)
    report_ = world.reports[candidate.report_id]
    investigator = f.user(Role.INVESTIGATOR, f.CHAOYANG)
    investigator.email = "inv@example.test"
    investigator.save()
    colleague = f.user(Role.INVESTIGATOR, f.CHAOYANG)
    colleague.email = "colleague@example.test"
    colleague.save()
    case = open_case_for_report(report=report_, acting_user=investigator)
    case.owning_unit = colleague.organisation
    case.save()
    first, second = analyst(), analyst(Role.SUPERVISOR, f.BEIJING)
    outcome = review.review_candidate(
        acting_user=first, candidate_id=candidate.pk, decision="confirm", note="all loci fit"
    )
    assert outcome.candidate.status == CandidateStatus.UNDER_REVIEW and not outcome.confirmed
    # The same analyst a second time is refused, and nothing changes.
    with pytest.raises(review.SameAnalyst, match="different analyst"):
        review.review_candidate(
            acting_user=first, candidate_id=candidate.pk, decision="confirm", note="again"
        )
    assert CandidateReview.objects.filter(candidate=candidate).count() == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with smtp_server() as box:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", box.port
        from django.test.utils import CaptureQueriesContext  # noqa: F401 - keeps import order

        outcome = review.review_candidate(
            acting_user=second, candidate_id=candidate.pk, decision="confirm", note="agree"
        )
        # on_commit does not fire inside the test transaction: run the hook as commit would.
        sent = review.notify_investigators(candidate.pk)
    assert outcome.confirmed and outcome.candidate.status == CandidateStatus.CONFIRMED
    assert sent == 2
    recipients = sorted(m["To"] for m in box.messages)
    assert recipients == ["colleague@example.test", "inv@example.test"]
    body = box.messages[0].get_payload(decode=True).decode()
    assert f"MP-{candidate.report_id}" in body and f"C-{candidate.pk}" in body
    assert "王小花" not in body and "D3S1358" not in body
    candidate.refresh_from_db()
    assert candidate.reunion_opened_at is not None and candidate.notified == 2
    event = CaseEvent.objects.filter(case=case).order_by("-pk").first()
    assert f"C-{candidate.pk}" in event.summary and "reunion" in event.summary
    # Closed: no third decision.
    with pytest.raises(review.CandidateClosed):
        review.review_candidate(
            acting_user=analyst(), candidate_id=candidate.pk, decision="reject", note="late"
        )
    decisions = AuditEntry.objects.filter(object_type=review.CANDIDATE_TYPE, action="update")
    assert decisions.count() >= 3


def test_a_rejection_settles_and_bad_decisions_are_refused() -> None:
    world = searched_world(shapes=("mother",), unrelated=0)
    candidate = Candidate.objects.get()
    tech = analyst()
    for decision, note in (("maybe", "x"), ("confirm", "   "), ("confirm", "a\x00b")):
        with pytest.raises(ValidationFailed):
            review.review_candidate(
                acting_user=tech, candidate_id=candidate.pk, decision=decision, note=note
            )
    outsider = analyst(code="310000")  # Shanghai: neither side's jurisdiction
    with pytest.raises(AccessDenied):
        review.review_candidate(
            acting_user=outsider, candidate_id=candidate.pk, decision="reject", note="no"
        )
    assert AuditEntry.objects.filter(action="denied", object_type=review.CANDIDATE_TYPE).exists()
    investigator = f.user(Role.INVESTIGATOR, f.CHAOYANG)
    with pytest.raises(AccessDenied):
        review.get_candidate(acting_user=investigator, candidate_id=candidate.pk)
    review.review_candidate(
        acting_user=tech, candidate_id=candidate.pk, decision="reject", note="sex differs"
    )
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.REJECTED and candidate.decided_at
    assert world.tech


def test_a_profile_withdrawn_after_the_search_cannot_be_confirmed() -> None:
    world = searched_world(shapes=("mother",), unrelated=0)
    candidate = Candidate.objects.get()
    truth = next(iter(world.truth.values()))
    services.withdraw_consent(acting_user=world.tech, sample_id=truth.sample_id, reason="asked")
    with pytest.raises(ValidationFailed, match="no longer searchable"):
        review.review_candidate(
            acting_user=analyst(), candidate_id=candidate.pk, decision="confirm", note="fits"
        )


def test_the_match_report_and_its_pdf() -> None:
    world = searched_world(shapes=("trio",), unrelated=0)
    candidate = trio_candidate(world)
    first, second = analyst(), analyst(Role.SUPERVISOR, f.BEIJING)
    with pytest.raises(report.NotConfirmed):
        report.build_report(acting_user=first, candidate_id=candidate.pk)
    for who in (first, second):
        review.review_candidate(
            acting_user=who, candidate_id=candidate.pk, decision="confirm", note="fits"
        )
    data = report.build_report(acting_user=first, candidate_id=candidate.pk, fmt="pdf")
    assert data.unknown_pseudonym == world.truth[candidate.report_id].pseudonym
    assert {r.code for r in data.references} == {"MO", "FA"}
    mother = world.families[candidate.report_id]["MO"]
    row = next(r for r in data.rows if r.locus == "D3S1358")
    assert row.references[data.references.index(next(r for r in data.references if r.code == "FA"))]
    assert "/".join(mother.genotypes["D3S1358"]) in row.references
    assert [s.analyst for s in data.signatures] == [first.username, second.username]
    assert {n.code for n in data.drawing.nodes} == {"MO", "FA", "MP"}
    assert len(data.drawing.edges) == 2
    pdf = report.render_pdf(data)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1500
    reads = AuditEntry.objects.filter(
        object_type=review.CANDIDATE_TYPE, action="read", object_id=str(candidate.pk)
    )
    assert any(e.details.get("report") == "pdf" and e.details.get("genotypes") for e in reads)
    assert report.ascii_text("四川省公安厅") == "si chuan sheng gong an ting"
    assert report.ascii_text("Ωmega") == "?mega"


def test_the_queue_is_sorted_filtered_scoped_and_audited() -> None:
    searched_world(shapes=("trio", "mother", "siblings"), unrelated=2, seed=4)
    tech = analyst()
    everything = list(review.candidate_queue(acting_user=tech, filters=review.CandidateFilters()))
    assert everything and [c.log10_lr for c in everything] == sorted(
        (c.log10_lr for c in everything), reverse=True
    )
    trios = review.candidate_queue(
        acting_user=tech, filters=review.CandidateFilters(kind="trio", min_lr=1e4)
    )
    assert trios.count() >= 1 and all(c.hypothesis_kind == "trio" for c in trios)
    elsewhere = review.candidate_queue(
        acting_user=tech, filters=review.CandidateFilters(division="310000")
    )
    assert elsewhere.count() == 0
    shanghai = analyst(code="310000")
    assert (
        review.candidate_queue(acting_user=shanghai, filters=review.CandidateFilters()).count() == 0
    )
    for bad in (
        review.CandidateFilters(status="nope"),
        review.CandidateFilters(kind="cousins"),
        review.CandidateFilters(division="999999"),
        review.CandidateFilters(min_lr=float("nan")),
        review.CandidateFilters(min_lr=-1.0),
    ):
        with pytest.raises(ValidationFailed):
            review.candidate_queue(acting_user=tech, filters=bad)
    assert AuditEntry.objects.filter(action="search", object_type=review.CANDIDATE_TYPE).exists()
    assert all(c.profile.role == ProfileRole.UNIDENTIFIED for c in everything)


def test_the_searches_command_retries_failed_searches_and_reports_the_backlog(
    settings: Any,
) -> None:
    import io

    from django.core.management import call_command

    build_world(shapes=("mother",), unrelated=0)
    settings.DNA_MATCH_FREQUENCY_TABLE = "no_such_table"
    out = io.StringIO()
    call_command("dna", "searches", stdout=out)
    assert "2 search request(s) worked off; 0 pending, 2 failed (last: KinshipInputError)" in (
        out.getvalue()
    )
    settings.DNA_MATCH_FREQUENCY_TABLE = "han_chinese"
    out = io.StringIO()
    call_command("dna", "searches", "--retry-failed", stdout=out)
    assert "2 failed search request(s) queued again" in out.getvalue()
    assert "2 search request(s) worked off; 0 pending, 0 failed" in out.getvalue()
    assert Candidate.objects.count() == 1
