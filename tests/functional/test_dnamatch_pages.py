"""DNA matching pages through Django's full HTTP stack: the candidate queue, the review screen,
two analysts to confirm, the match report (HTML and PDF), the battle page with its button and
live progress; who sees what, what is audited, and hostile input on every endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from reunite.accounts.models import OrganisationKind, Role, User
from reunite.audit.models import AuditEntry
from reunite.dna import review
from reunite.dna.models import Candidate, CandidateStatus, ComparisonRun, ComparisonRunStatus
from tests import dna_factories as f
from tests.dnamatch_support import analyst, build_world, search_all
from tests.functional.test_people_pages import element, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    settings.DNA_MATCH_SEARCH_MODE = "off"
    settings.DNA_MATCH_BATTLE_MODE = "inline"
    settings.DNA_MATCH_CHUNK_FAMILIES = 1


def web(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world() -> Any:
    made = build_world(shapes=("trio", "mother"), unrelated=1)
    search_all()
    return made


def trio_candidate(world: Any) -> Candidate:
    trio = next(r for r, fam in world.families.items() if set(fam) == {"MO", "FA"})
    return Candidate.objects.get(report_id=trio, profile=world.truth[trio])


HOSTILE_IDS = ["0", "-1", "99999999999999999999", "1e3", "%00", "abc"]


def test_queue_review_confirm_and_report(world: Any) -> None:
    first, second = analyst(), analyst(Role.SUPERVISOR, f.BEIJING)
    candidate = trio_candidate(world)
    queue = web(first).get(reverse("dna:candidate_list"))
    assert queue.status_code == 200
    text = text_of(queue)
    assert f"C-{candidate.pk}" in text and candidate.profile.pseudonym in text
    assert "DNA matches" in queue.content.decode()  # the nav link
    # The review screen: both pseudonymous ids, per-locus LRs, pedigree, parameters; no alleles.
    page = web(first).get(reverse("dna:candidate_detail", args=[candidate.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert world.families[candidate.report_id]["MO"].pseudonym in html
    assert candidate.profile.pseudonym in html and "<svg" in html and "han_chinese" in html
    assert element(html, "locus-table")["<tag>"] == "table"
    mother = world.families[candidate.report_id]["MO"]
    assert "/".join(mother.genotypes["D3S1358"]) not in html
    assert AuditEntry.objects.filter(
        action="read", object_type=review.CANDIDATE_TYPE, object_id=str(candidate.pk)
    ).exists()
    url = reverse("dna:candidate_review", args=[candidate.pk])
    answer = web(first).post(url, {"decision": "confirm", "note": "15 loci fit"})
    assert answer.status_code == 302
    again = web(first).post(url, {"decision": "confirm", "note": "me again"})
    assert again.status_code == 409 and "different analyst" in text_of(again)
    # No report before the second confirmation.
    assert web(first).get(reverse("dna:candidate_report", args=[candidate.pk])).status_code == 409
    done = web(second).post(url, {"decision": "confirm", "note": "agree"}, follow=True)
    assert "Identification confirmed by two analysts" in text_of(done)
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.CONFIRMED
    report_page = web(second).get(reverse("dna:candidate_report", args=[candidate.pk]))
    html = report_page.content.decode()
    assert report_page.status_code == 200 and "<svg" in html
    assert "/".join(mother.genotypes["D3S1358"]) in html  # reference alleles, only here
    assert first.username in text_of(report_page) and second.username in text_of(report_page)
    pdf = web(second).get(reverse("dna:candidate_report_pdf", args=[candidate.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    formats = [
        e.details.get("report")
        for e in AuditEntry.objects.filter(object_type=review.CANDIDATE_TYPE, action="read")
    ]
    assert "html" in formats and "pdf" in formats


def test_who_may_see_and_do_what(world: Any) -> None:
    candidate = trio_candidate(world)
    investigator = f.user(Role.INVESTIGATOR, f.CHAOYANG)
    partner = f.user(Role.PARTNER_WELFARE, f.CHAOYANG, OrganisationKind.WELFARE_INSTITUTION)
    shanghai = analyst(code="310000")
    for user in (investigator, partner):
        client = web(user)
        assert client.get(reverse("dna:candidate_list")).status_code == 403
        assert client.get(reverse("dna:candidate_detail", args=[candidate.pk])).status_code == 403
        assert client.get(reverse("dna:battle")).status_code == 403
        assert client.get(reverse("dna:battle_progress")).status_code == 403
        assert "DNA matches" not in client.get(reverse("home")).content.decode()
    outsider = web(shanghai)
    assert outsider.get(reverse("dna:candidate_detail", args=[candidate.pk])).status_code == 403
    post = outsider.post(
        reverse("dna:candidate_review", args=[candidate.pk]), {"decision": "reject", "note": "x"}
    )
    assert post.status_code == 403
    assert outsider.get(reverse("dna:candidate_report_pdf", args=[candidate.pk])).status_code == 403
    # A DNA technician sees the battle but has no button; starting one is refused and audited.
    tech = web(analyst())
    page = tech.get(reverse("dna:battle"))
    assert page.status_code == 200 and 'id="battle-form"' not in page.content.decode()
    assert tech.post(reverse("dna:battle_start"), {"threshold": "10000"}).status_code == 403
    assert not ComparisonRun.objects.exists()
    assert AuditEntry.objects.filter(action="denied").count() >= 8
    # Signed out: to the sign-in page.
    assert Client().get(reverse("dna:candidate_list")).status_code == 302


def test_the_battle_button_runs_and_reports_progress(world: Any) -> None:
    supervisor = analyst(Role.SUPERVISOR, f.BEIJING)
    client = web(supervisor)
    page = client.get(reverse("dna:battle"))
    text = text_of(page)
    assert "2 families × 3 unidentified profiles = 6 pairs" in text
    assert "at most 0.0006 false candidates" in text
    assert "Simulated with the same frequencies" in text
    answer = client.post(reverse("dna:battle_start"), {"threshold": "10000"}, follow=True)
    assert answer.status_code == 200 and "Comparison run" in text_of(answer)
    run = ComparisonRun.objects.get()
    assert run.status == ComparisonRunStatus.FINISHED and run.trigger == "web"
    assert run.started_by == supervisor and run.pairs == 6
    progress = client.get(reverse("dna:battle_progress"), HTTP_HX_REQUEST="true")
    assert progress.status_code == 200 and "2 of 2 chunks" in text_of(progress)
    assert progress["HX-Trigger"] == "battle-stopped"
    one = client.get(reverse("dna:battle_progress"), {"run": str(run.pk)})
    assert one.status_code == 200 and f"Run {run.pk}" in text_of(one)


def test_a_second_battle_while_one_runs_is_refused(world: Any) -> None:
    from reunite.dna import battle

    running = battle.start_run(acting_user=None)
    client = web(analyst(Role.SUPERVISOR, f.BEIJING))
    answer = client.post(reverse("dna:battle_start"), {"threshold": "10000"})
    assert answer.status_code == 409 and f"run {running.pk} is running" in text_of(answer)
    assert ComparisonRun.objects.count() == 1


def test_hostile_input_on_every_endpoint(world: Any) -> None:
    candidate = trio_candidate(world)
    supervisor = web(analyst(Role.SUPERVISOR, f.BEIJING))
    tech = web(analyst())
    # Ids in the path that are not ids, or no such record.
    for path in ("/dna/matches/{}/", "/dna/matches/{}/report/", "/dna/matches/{}/report.pdf"):
        for bad in HOSTILE_IDS:
            assert tech.get(path.format(bad)).status_code == 404
        assert tech.get(path.format(987654321)).status_code == 404
    missing = tech.post("/dna/matches/987654321/review/", {"decision": "reject", "note": "x"})
    assert missing.status_code == 404
    # Query filters: garbage is a 422 with the errors shown, never a 500.
    for params in (
        {"status": "pwned"},
        {"kind": "<script>"},
        {"division": "11' OR 1=1 --"},
        {"division": "999999"},
        {"min_lr": "nan"},
        {"min_lr": "-5"},
        {"min_lr": "1e400"},
        {"page": "-1"},
    ):
        answer = tech.get(reverse("dna:candidate_list"), params)
        assert answer.status_code in (200, 422), params
        assert "<script>" not in answer.content.decode().replace("&lt;script&gt;", "")
    # Review: bad decision, empty/huge/NUL note, wrong method.
    url = reverse("dna:candidate_review", args=[candidate.pk])
    for data in (
        {},
        {"decision": "approve", "note": "x"},
        {"decision": "confirm", "note": ""},
        {"decision": "confirm", "note": "x" * 5000},
        {"decision": "confirm", "note": "a\x00b"},
        {"decision": "confirm", "note": ["", ""]},
    ):
        answer = tech.post(url, data)
        assert answer.status_code in (409, 422), data
    assert tech.get(url).status_code == 405
    assert candidate.reviews.count() <= 1
    # Battle start: thresholds out of range or not numbers.
    for threshold in ("", "abc", "0", "nan", "inf", "1e31", "-1", "1" * 400):
        answer = supervisor.post(reverse("dna:battle_start"), {"threshold": threshold})
        assert answer.status_code == 422, threshold
    assert not ComparisonRun.objects.exists()
    assert supervisor.get(reverse("dna:battle_start")).status_code == 405
    # Progress: a run id that is not one.
    for bad in ("abc", "-1", "0", "1" * 30):
        assert supervisor.get(reverse("dna:battle_progress"), {"run": bad}).status_code == 400
    assert supervisor.get(reverse("dna:battle_progress"), {"run": "424242"}).status_code == 404
    assert supervisor.post(reverse("dna:battle_progress")).status_code == 405


def test_failed_searches_show_on_the_battle_page_and_a_supervisor_retries_them(
    world: Any, settings: Any
) -> None:
    from reunite.dna import matching
    from reunite.dna.models import SearchRequest, SearchRequestStatus

    SearchRequest.objects.update(status=SearchRequestStatus.FAILED, error="OperationalError: x")
    failed = SearchRequest.objects.count()
    supervisor = web(analyst(Role.SUPERVISOR, f.BEIJING))
    page = supervisor.get(reverse("dna:battle"))
    assert f"0 waiting, {failed} failed. Last error: OperationalError." in text_of(page)
    assert element(page.content.decode(), "retry-form")["<tag>"] == "form"
    # A technician sees the count but not the button, and a POST of theirs is refused.
    tech = web(analyst())
    assert 'id="retry-form"' not in tech.get(reverse("dna:battle")).content.decode()
    assert tech.post(reverse("dna:searches_retry")).status_code == 403
    assert supervisor.get(reverse("dna:searches_retry")).status_code == 405
    assert matching.search_backlog().failed == failed
    answer = supervisor.post(reverse("dna:searches_retry"), follow=True)
    assert answer.status_code == 200
    assert f"{failed} failed searches queued again." in text_of(answer)
    assert matching.search_backlog() == matching.SearchBacklog(failed, 0, "")
