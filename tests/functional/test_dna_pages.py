"""The DNA registry's pages through Django's full HTTP stack: lab work, samples, families,
profiles, imports; who sees what, and what is audited."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reunite.accounts.models import OrganisationKind, Role, User
from reunite.audit.models import AuditEntry
from reunite.dna import services
from reunite.dna.models import FamilyMember, ImportBatch, Profile, Sample
from tests import dna_factories as f
from tests.functional.test_people_pages import element, field_error, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _static_root(settings: Any) -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def web(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def tech() -> User:
    return f.technician()


@pytest.fixture
def investigator() -> User:
    return f.user(Role.INVESTIGATOR, f.CHAOYANG)


def audited(action: str, object_type: str, **details: Any) -> int:
    entries = AuditEntry.objects.filter(action=action, object_type=object_type)
    return sum(1 for e in entries if all(e.details.get(k) == v for k, v in details.items()))


def now_local() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def test_the_nav_link_and_the_work_list_follow_the_role(tech, investigator) -> None:
    partner = f.user(Role.PARTNER_WELFARE, f.CHAOYANG, OrganisationKind.WELFARE_INSTITUTION)
    f.sample(investigator, found=f.found_person(), number="W-1", received=False)
    page = web(tech).get(reverse("dna:work_list"))
    assert page.status_code == 200
    assert element(page.content.decode(), "to-receive-heading")
    assert "W-1" in text_of(page) and reverse("dna:import_create") in page.content.decode()
    home = web(investigator).get(reverse("home"))
    assert f'href="{reverse("dna:work_list")}"' in home.content.decode()
    partner_home = web(partner).get(reverse("home")).content.decode()
    assert reverse("dna:work_list") not in partner_home
    assert web(partner).get(reverse("dna:work_list")).status_code == 403
    assert audited("denied", services.SAMPLE_TYPE) == 1
    assert (
        reverse("dna:import_create")
        not in web(investigator).get(reverse("dna:work_list")).content.decode()
    )


def test_register_a_sample_from_a_found_person_then_follow_its_custody(investigator, tech) -> None:
    person = f.found_person(sex="F")
    url = reverse("dna:sample_create") + f"?found_person={person.pk}"
    form = web(investigator).get(url)
    assert form.status_code == 200 and f"UP-{person.pk}" in text_of(form)
    assert "To identify the donor and find their family" in text_of(form)
    post: dict[str, Any] = {
        "found_person": person.pk,
        "number": "",
        "sample_type": "buccal_swab",
        "sample_type_other": "",
        "collected_at": now_local(),
        "collected_by": "Officer Wang",
        "collected_place": "Rescue station",
        "consent_given_by": "guardian",
        "consent_date": timezone.localdate().isoformat(),
        "consent_guardian_name": "",
        "consent_guardian_relation": "",
        "consent_reference": "",
    }
    refused = web(investigator).post(reverse("dna:sample_create"), post)
    assert refused.status_code == 422
    assert "required" in field_error(refused.content.decode(), "id_consent_guardian_name")
    assert Sample.objects.count() == 0
    post["consent_guardian_name"] = "院长 李"
    saved = web(investigator).post(reverse("dna:sample_create"), post)
    assert saved.status_code == 302
    sample = Sample.objects.get()
    assert saved.headers["Location"] == reverse("dna:sample_detail", args=[sample.pk])
    # Handing over with htmx: the page is told to reload.
    handed = web(investigator).post(
        reverse("dna:custody_add", args=[sample.pk]),
        {"kind": "handed_over", "at": now_local(), "handler": "courier", "place": "", "notes": ""},
        HTTP_HX_REQUEST="true",
    )
    assert handed.status_code == 204 and handed.headers["HX-Redirect"].endswith(f"/{sample.pk}/")
    # The investigator cannot receive it (403, audited); the laboratory can.
    denied = web(investigator).post(
        reverse("dna:custody_add", args=[sample.pk]),
        {"kind": "received", "at": now_local(), "handler": "", "place": "", "notes": ""},
    )
    assert denied.status_code == 403
    received = web(tech).post(
        reverse("dna:custody_add", args=[sample.pk]),
        {"kind": "received", "at": now_local(), "handler": "", "place": "Lab 2", "notes": ""},
    )
    assert received.status_code == 302
    bad = web(tech).post(
        reverse("dna:custody_add", args=[sample.pk]),
        {"kind": "received", "at": now_local(), "handler": "", "place": "", "notes": ""},
    )
    assert bad.status_code == 422 and "cannot be" in text_of(bad)
    swapped = web(tech).post(
        reverse("dna:custody_add", args=[sample.pk]),
        {"kind": "received", "at": now_local(), "handler": "", "place": "", "notes": ""},
        HTTP_HX_REQUEST="true",
    )
    assert swapped.status_code == 200 and element(swapped.content.decode(), "custody")
    assert "cannot be" in text_of(swapped)
    page = web(tech).get(reverse("dna:sample_detail", args=[sample.pk]))
    assert "院长 李" in text_of(page) and "Received" in text_of(page)
    kinds = list(sample.custody.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["collected", "consent_recorded", "handed_over", "received"]
    assert audited("read", services.SAMPLE_TYPE) >= 1


def test_a_family_is_built_on_its_page_and_a_relative_gives_a_sample(investigator) -> None:
    report = f.report()
    url = reverse("dna:family_detail", args=[report.pk])
    assert web(investigator).get(url).status_code == 200
    bad = web(investigator).post(url, {"relationship": "full_sibling", "sex": "", "name": ""})
    assert bad.status_code == 422 and "sex" in field_error(bad.content.decode(), "id_sex")
    done = web(investigator).post(url, {"relationship": "full_sibling", "sex": "F", "name": "王芳"})
    assert done.status_code == 302
    page = web(investigator).get(url)
    assert {"MP", "MO", "FA", "S1"} <= set(text_of(page).split())
    sibling = FamilyMember.objects.get(report=report, code="S1")
    link = reverse("dna:sample_create") + f"?family_member={sibling.pk}"
    assert link.replace("&", "&amp;") in page.content.decode() or link in page.content.decode()
    missing = FamilyMember.objects.get(report=report, code="MP")
    refused = web(investigator).get(reverse("dna:sample_create") + f"?family_member={missing.pk}")
    assert refused.status_code == 422 and "own belongings" in text_of(refused)
    assert Sample.objects.count() == 0
    outsider = f.user(Role.INVESTIGATOR, f.SHANGHAI)
    assert web(outsider).get(url).status_code == 403
    assert web(outsider).post(url, {"relationship": "mother"}).status_code == 403


def test_profile_page_shows_alleles_only_to_whom_may_read_them_and_audits_it(
    investigator, tech
) -> None:
    sample = f.sample(investigator, found=f.found_person(sex="F"), receiver=tech)
    genotypes = f.random_genotypes(random.Random(4))
    genotypes["TH01"] = ["9.3", "9.3"]
    profile = f.store(tech, sample, genotypes, amelogenin="XX")
    url = reverse("dna:profile_detail", args=[profile.pk])
    seen = web(tech).get(url)
    table = seen.content.decode()
    assert element(table, "genotype-table")
    assert '<th scope="row">TH01</th><td>9.3</td><td>9.3</td>' in table
    order = [m for m in genotypes]
    positions = [table.index(f'<th scope="row">{locus}</th>') for locus in order]
    assert positions == sorted(positions)  # canonical locus order
    assert audited("read", services.PROFILE_TYPE, genotypes=True) == 1
    hidden = web(investigator).get(url)
    assert hidden.status_code == 200 and "genotype-table" not in hidden.content.decode()
    assert profile.pseudonym in text_of(hidden)
    assert audited("read", services.PROFILE_TYPE, genotypes=True) == 1
    elsewhere = f.user(Role.SUPERVISOR, f.SHANGHAI)
    assert web(elsewhere).get(url).status_code == 403


def test_a_flagged_profile_is_reviewed_on_its_page(investigator, tech) -> None:
    sample = f.sample(investigator, found=f.found_person(sex="M"), receiver=tech)
    profile = f.store(tech, sample, f.random_genotypes(random.Random(2)), amelogenin="XX")
    url = reverse("dna:qc_review", args=[profile.pk])
    page = web(tech).get(reverse("dna:profile_detail", args=[profile.pk]))
    assert "does not agree with the donor's recorded sex" in text_of(page)
    empty = web(tech).post(url, {"decision": "passed", "note": ""})
    assert empty.status_code == 422
    assert web(investigator).post(url, {"decision": "passed", "note": "fine"}).status_code == 403
    done = web(tech).post(url, {"decision": "passed", "note": "AMELY deletion (confirmed)"})
    assert done.status_code == 302
    assert Profile.objects.get(pk=profile.pk).qc_status == "passed"


def test_consent_is_withdrawn_on_the_sample_page(investigator, tech) -> None:
    sample = f.sample(investigator, found=f.found_person(), receiver=tech)
    profile = f.store(tech, sample, f.random_genotypes(random.Random(8)))
    url = reverse("dna:consent_withdraw", args=[sample.pk])
    assert web(investigator).post(url, {"reason": ""}).status_code == 422
    done = web(investigator).post(url, {"reason": "The person asked us to stop."})
    assert done.status_code == 302
    profile.refresh_from_db()
    assert profile.erased_at is not None and not profile.active
    page = web(tech).get(reverse("dna:profile_detail", args=[profile.pk]))
    assert "erased when the donor withdrew consent" in text_of(page)
    assert (
        "withdraw-form"
        not in web(tech).get(reverse("dna:sample_detail", args=[sample.pk])).content.decode()
    )


def test_import_page_shows_every_row_with_its_line_and_reason(investigator, tech) -> None:
    mother = f.member(investigator, f.report(), "mother")
    f.sample(investigator, family_member=mother, number="A2", receiver=tech)
    upload = SimpleUploadedFile("ref3.txt", f.fixture_bytes("strvalidator_ref3.txt"), "text/plain")
    response = web(tech).post(
        reverse("dna:import_create"),
        {"file": upload, "kit": "other", "kit_name": "PowerPlex ESX 17", "file_format": ""},
    )
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    page = web(tech).get(response.headers["Location"])
    html = page.content.decode()
    assert element(html, "import-rows")
    assert re.search(r"<th scope=\"row\">19</th><td>F2</td><td>AMEL</td>", html)
    assert "No sample numbered “F2” in your jurisdiction." in text_of(page)
    refused_only = web(tech).get(response.headers["Location"] + "?show=bad")
    assert "A2" not in re.sub(r"<title>.*?</title>", "", refused_only.content.decode())
    assert batch.rows_saved == 17 and batch.rows_bad == 34
    # The same file again: nothing new; garbage: an error next to the file field.
    web(tech).post(
        reverse("dna:import_create"),
        {
            "file": SimpleUploadedFile("ref3.txt", f.fixture_bytes("strvalidator_ref3.txt")),
            "kit": "other",
            "kit_name": "PowerPlex ESX 17",
        },
    )
    assert Profile.objects.count() == 1
    garbage = web(tech).post(
        reverse("dna:import_create"),
        {"file": SimpleUploadedFile("x.bin", bytes(range(256))), "kit": "globalfiler"},
    )
    assert garbage.status_code == 422 and "not a text file" in field_error(
        garbage.content.decode(), "id_file"
    )
    assert web(investigator).get(reverse("dna:import_create")).status_code == 403
    assert (
        web(f.technician(f.SHANGHAI)).get(reverse("dna:import_detail", args=[batch.pk])).status_code
        == 403
    )


def test_pages_of_another_jurisdiction_are_refused_and_audited(investigator, tech) -> None:
    sample = f.sample(investigator, found=f.found_person(), receiver=tech)
    outsider = f.technician(f.SHANGHAI)
    before = audited("denied", services.SAMPLE_TYPE)
    for url in (
        reverse("dna:sample_detail", args=[sample.pk]),
        reverse("dna:sample_create") + f"?found_person={sample.found_person_id}",
    ):
        assert web(outsider).get(url).status_code == 403
    assert (
        web(outsider)
        .post(reverse("dna:consent_withdraw", args=[sample.pk]), {"reason": "x"})
        .status_code
        == 403
    )
    assert audited("denied", services.SAMPLE_TYPE) == before + 3
    assert web(tech).get(reverse("dna:sample_detail", args=[10**15])).status_code == 404
    no_donor = web(tech).get(reverse("dna:sample_create") + "?found_person=abc")
    assert no_donor.status_code == 422 and "Choose either" in text_of(no_donor)


def test_the_sample_list_filters_and_pages(investigator, tech) -> None:
    for n in range(3):
        f.sample(
            investigator, found=f.found_person(), number=f"L-{n}", received=n > 0, receiver=tech
        )
    page = web(tech).get(reverse("dna:sample_list"), {"status": "received"})
    assert "2 samples" in text_of(page) and "L-0" not in text_of(page)
    odd = web(tech).get(reverse("dna:sample_list"), {"status": "nonsense", "page": "x"})
    assert odd.status_code == 200 and "3 samples" in text_of(odd)
