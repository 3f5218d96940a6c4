"""The DNA registry's JSON API through Django's full HTTP stack: strict input, hostile input,
jurisdiction, and the rule that alleles leave only through the audited genotype endpoint."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from reunite.accounts.models import Role, User
from reunite.audit.models import AuditEntry
from reunite.dna import services
from reunite.dna.models import FamilyMember, ImportBatch, Profile, Sample
from tests import dna_factories as f

pytestmark = pytest.mark.django_db

API = "/api/dna"


@pytest.fixture(autouse=True)
def _static_root(settings: Any) -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def api(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def post(client: Client, url: str, body: Any) -> Any:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data=raw, content_type="application/json")


@pytest.fixture
def tech() -> User:
    return f.technician()


@pytest.fixture
def investigator() -> User:
    return f.user(Role.INVESTIGATOR, f.CHAOYANG)


def sample_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sample_type": "blood",
        "collected_at": (timezone.now() - dt.timedelta(hours=3)).isoformat(),
        "collected_by": "Officer Li",
        "collected_place": "Chaoyang station",
        "consent": {
            "given_by": "donor",
            "date": timezone.localdate().isoformat(),
            "reference": "CF-9",
        },
    }
    body.update(overrides)
    return body


def all_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in all_keys(v)}
    return set()


def test_a_family_reference_end_to_end(investigator, tech) -> None:
    report = f.report()
    family = post(
        api(investigator),
        f"{API}/families/{report.pk}/members",
        {"relationship": "mother", "name": "刘秀英"},
    )
    assert family.status_code == 201, family.content
    members = {m["code"]: m for m in family.json()["members"]}
    assert members["MP"]["mother"] == "MO" and family.json()["missing_code"] == "MP"
    created = post(
        api(investigator),
        f"{API}/samples",
        sample_body(family_member=members["MO"]["id"], number="R-100"),
    )
    assert created.status_code == 201, created.content
    sample = created.json()
    assert sample["role"] == "reference" and sample["consent"]["scope"] == "family_search"
    assert sample["donor"] == {
        "label": f"MP-{report.pk}/MO",
        "found_person": None,
        "missing_report": report.pk,
        "family_member": members["MO"]["id"],
        "relationship": "mother",
    }
    received = post(
        api(tech),
        f"{API}/samples/{sample['id']}/custody",
        {"kind": "received", "at": timezone.now().isoformat()},
    )
    assert received.status_code == 201 and received.json()["status"] == "received"
    genotypes = f.random_genotypes(random.Random(1))
    typed = post(
        api(tech),
        f"{API}/profiles",
        {"sample": sample["id"], "kit": "agcu_ex22", "genotypes": genotypes, "amelogenin": "XX"},
    )
    assert typed.status_code == 201 and typed.json()["outcome"] == "created"
    assert "genotypes" not in typed.json()
    again = post(
        api(tech),
        f"{API}/profiles",
        {"sample": sample["id"], "kit": "agcu_ex22", "genotypes": genotypes},
    )
    assert again.status_code == 200 and again.json()["outcome"] == "unchanged"
    changed = dict(genotypes, TH01=["5", "5"] if genotypes["TH01"] != ["5", "5"] else ["6", "6"])
    conflict = post(
        api(tech),
        f"{API}/profiles",
        {"sample": sample["id"], "kit": "agcu_ex22", "genotypes": changed},
    )
    assert conflict.status_code == 409 and typed.json()["pseudonym"] in conflict.json()["detail"]
    read = api(tech).get(f"{API}/profiles/{typed.json()['id']}/genotypes")
    assert read.status_code == 200 and read.json()["genotypes"] == genotypes


def test_lists_and_records_never_carry_alleles(investigator, tech) -> None:
    sample = f.sample(
        investigator, family_member=f.member(investigator, f.report(), "father"), receiver=tech
    )
    profile = f.store(tech, sample, f.random_genotypes(random.Random(3)), amelogenin="XY")
    found = f.sample(investigator, found=f.found_person(), receiver=tech)
    f.store(tech, found, f.random_genotypes(random.Random(4)))
    supervisor = f.user(Role.SUPERVISOR, f.BEIJING)
    for user in (tech, supervisor, investigator):
        for url in (
            f"{API}/samples",
            f"{API}/samples/{sample.pk}",
            f"{API}/profiles",
            f"{API}/profiles?role=reference",
            f"{API}/profiles/{profile.pk}",
            f"{API}/families/{sample.family_member.report_id}",
        ):
            response = api(user).get(url)
            assert response.status_code == 200, (user.role, url, response.content)
            keys = all_keys(response.json())
            assert not keys & {"genotypes", "amelogenin", "alleles"}, (url, keys)
    assert (
        AuditEntry.objects.filter(
            object_type=services.PROFILE_TYPE, details__genotypes=True
        ).count()
        == 0
    )


def test_the_genotype_endpoint_refuses_and_audits_investigators_and_other_places(
    investigator, tech
) -> None:
    profile = f.store(
        tech,
        f.sample(investigator, found=f.found_person(), receiver=tech),
        f.random_genotypes(random.Random(6)),
    )
    url = f"{API}/profiles/{profile.pk}/genotypes"
    elsewhere = f.technician(f.SHANGHAI)
    for user in (investigator, elsewhere):
        response = api(user).get(url)
        assert response.status_code == 403 and "genotypes" not in response.json()
    denied = AuditEntry.objects.filter(
        action="denied", object_type=services.PROFILE_TYPE, object_id=str(profile.pk)
    )
    assert denied.count() == 2
    assert {e.details["wanted"] for e in denied} == {"view_genotypes"}
    assert api(None).get(url).status_code == 401
    assert api(tech).get(f"{API}/profiles/{10**15}/genotypes").status_code == 404
    assert api(tech).get(f"{API}/profiles/0/genotypes").status_code == 422
    assert api(tech).get(f"{API}/profiles/{2**64}/genotypes").status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"colour": "red"}, "colour", id="unknown-field"),
        pytest.param({"sample_type": 7}, "sample_type", id="wrong-type"),
        pytest.param({"sample_type": "saliva"}, "sample_type", id="unknown-choice"),
        pytest.param({"collected_at": "yesterday"}, "collected_at", id="bad-datetime"),
        pytest.param({"collected_by": "x" * 101}, "collected_by", id="too-long"),
        pytest.param({"collected_by": "a\x00b"}, "collected_by", id="nul"),
        pytest.param({"number": "<script>"}, "number", id="bad-number"),
        pytest.param({"found_person": True}, "found_person", id="bool-as-id"),
        pytest.param({"found_person": 2**64}, "found_person", id="huge-id"),
        pytest.param(
            {"consent": {"given_by": "donor", "date": "2024-01-01", "x": 1}},
            "consent.x",
            id="nested-unknown",
        ),
        pytest.param({"consent": "yes"}, "consent", id="consent-not-object"),
    ],
)
def test_sample_input_is_strict(investigator, body, field) -> None:
    person = f.found_person()
    response = post(
        api(investigator), f"{API}/samples", sample_body(**{"found_person": person.pk, **body})
    )
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"], response.json()
    assert Sample.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"{", id="truncated"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
        pytest.param(b'{"sample_type": NaN}', id="nan"),
        pytest.param(b"[" * 100000, id="deep"),
        pytest.param(bytes(range(256)), id="binary"),
    ],
)
def test_garbage_bodies_get_a_clear_422(investigator, raw) -> None:
    response = post(api(investigator), f"{API}/samples", raw)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_rules_come_back_per_field(investigator) -> None:
    person = f.found_person()
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    body = sample_body(found_person=person.pk, collected_at=future)
    body["consent"] = {"given_by": "guardian", "date": timezone.localdate().isoformat()}
    response = post(api(investigator), f"{API}/samples", body)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"collected_at", "consent_guardian_name"}
    both = post(
        api(investigator), f"{API}/samples", sample_body(found_person=person.pk, family_member=1)
    )
    assert both.status_code == 422 and "donor" in both.json()["errors"]


def test_wrong_jurisdiction_is_403_and_audited(investigator, tech) -> None:
    person = f.found_person()
    sample = f.sample(investigator, found=person, receiver=tech)
    outsider = f.user(Role.INVESTIGATOR, f.SHANGHAI)
    before = AuditEntry.objects.filter(action="denied").count()
    calls = [
        api(outsider).get(f"{API}/samples/{sample.pk}"),
        post(api(outsider), f"{API}/samples", sample_body(found_person=person.pk)),
        post(api(outsider), f"{API}/samples/{sample.pk}/withdraw-consent", {"reason": "x"}),
        post(
            api(outsider),
            f"{API}/samples/{sample.pk}/custody",
            {"kind": "handed_over", "at": timezone.now().isoformat()},
        ),
        post(api(outsider), f"{API}/families/{f.report().pk}/members", {"relationship": "father"}),
    ]
    assert [c.status_code for c in calls] == [403] * 5
    assert AuditEntry.objects.filter(action="denied").count() == before + 5
    partner = f.user(Role.PARTNER_HEALTH, f.CHAOYANG)
    assert api(partner).get(f"{API}/samples").status_code == 403


def test_list_queries_are_strict(tech) -> None:
    assert api(tech).get(f"{API}/samples?stauts=received").status_code == 422
    assert api(tech).get(f"{API}/samples?status=lost").status_code == 422
    assert api(tech).get(f"{API}/samples?limit=100000").status_code == 422
    assert api(tech).get(f"{API}/profiles?active=maybe").status_code == 422
    assert api(tech).get(f"{API}/samples?status=&role=").status_code == 200


def test_withdrawal_and_review_through_the_api(investigator, tech) -> None:
    sample = f.sample(investigator, found=f.found_person(sex="F"), receiver=tech)
    profile = f.store(tech, sample, f.random_genotypes(random.Random(2)), amelogenin="XY")
    reviewed = post(
        api(tech), f"{API}/profiles/{profile.pk}/qc-review", {"decision": "passed", "note": "AMELY"}
    )
    assert reviewed.status_code == 200 and reviewed.json()["qc_status"] == "passed"
    assert (
        post(
            api(tech), f"{API}/profiles/{profile.pk}/qc-review", {"decision": "maybe", "note": "x"}
        ).status_code
        == 422
    )
    withdrawn = post(
        api(investigator), f"{API}/samples/{sample.pk}/withdraw-consent", {"reason": "She asked."}
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["consent"]["withdrawn_at"]
    assert withdrawn.json()["profiles"][0]["erased"] is True
    read = api(tech).get(f"{API}/profiles/{profile.pk}/genotypes")
    assert read.status_code == 200 and read.json() == {
        "id": profile.pk,
        "pseudonym": profile.pseudonym,
        "genotypes": {},
        "amelogenin": None,
        "erased": True,
    }
    again = post(
        api(investigator), f"{API}/samples/{sample.pk}/withdraw-consent", {"reason": "again"}
    )
    assert again.status_code == 422


def upload(content: bytes, name: str = "export.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, "text/plain")


def test_imports_through_the_api(investigator, tech) -> None:
    mother = f.member(investigator, f.report(), "mother")
    f.sample(investigator, family_member=mother, number="A2", receiver=tech)
    data = f.fixture_bytes("strvalidator_ref3.txt")
    form = {"kit": "other", "kit_name": "ESX17"}
    first = api(tech).post(f"{API}/imports", {**form, "file": upload(data)})
    assert first.status_code == 201, first.content
    result = first.json()
    assert (result["rows_total"], result["rows_saved"], result["rows_bad"]) == (51, 17, 34)
    refused = [r for r in result["rows"] if r["status"] == "bad"]
    assert refused[0] == {
        "line": 19,
        "sample": "F2",
        "locus": "AMEL",
        "status": "bad",
        "code": "unknown_sample",
        "message": "No sample numbered “F2” in your jurisdiction.",
    }
    again = api(tech).post(f"{API}/imports", {**form, "file": upload(data)})
    assert again.json()["rows_unchanged"] == 17 and again.json()["rows_saved"] == 0
    assert Profile.objects.count() == 1
    read = api(tech).get(f"{API}/imports/{result['id']}")
    assert read.status_code == 200 and read.json()["rows"] == result["rows"]
    assert api(f.technician(f.SHANGHAI)).get(f"{API}/imports/{result['id']}").status_code == 403


@pytest.mark.parametrize(
    ("content", "extra", "status", "field"),
    [
        pytest.param(bytes(range(256)) * 10, {}, 422, "file", id="binary-garbage"),
        pytest.param("样本\t标记".encode("gb18030"), {}, 422, "file", id="not-utf8"),
        pytest.param(b"", {}, 422, "file", id="empty"),
        pytest.param(
            b"sample_id,locus,allele1,allele2\n",
            {"colour": "red"},
            422,
            "colour",
            id="unknown-field",
        ),
        pytest.param(
            b"sample_id,locus,allele1,allele2\n",
            {"file_format": "xml"},
            422,
            "file_format",
            id="bad-format",
        ),
        pytest.param(
            b"sample_id,locus,allele1,allele2\n", {"kit": "unknown"}, 422, "kit", id="bad-kit"
        ),
        pytest.param(
            b"sample_id,locus,allele1,allele2\n",
            {"kit_name": "x" * 101, "kit": "other"},
            422,
            "kit_name",
            id="long-kit-name",
        ),
    ],
)
def test_hostile_imports(tech, content, extra, status, field) -> None:
    form = {"kit": "globalfiler", **extra}
    response = api(tech).post(f"{API}/imports", {**form, "file": upload(content)})
    assert response.status_code == status, response.content
    assert field in response.json().get("errors", {}), response.json()
    assert ImportBatch.objects.count() == 0


def test_huge_and_missing_files(tech, settings) -> None:
    settings.DNA_IMPORT_MAX_BYTES = 1000
    big = b"sample_id,locus,allele1,allele2\n" + b"K-1,TH01,6,7\n" * 200
    response = api(tech).post(f"{API}/imports", {"kit": "globalfiler", "file": upload(big)})
    assert response.status_code == 413 and "1000" in response.json()["detail"]
    missing = api(tech).post(f"{API}/imports", {"kit": "globalfiler"})
    assert missing.status_code == 422
    extra_file = api(tech).post(
        f"{API}/imports", {"kit": "globalfiler", "file": upload(b"a"), "other": upload(b"b")}
    )
    assert extra_file.status_code == 422 and "other" in extra_file.json()["errors"]
    as_json = post(api(tech), f"{API}/imports", {"kit": "globalfiler"})
    assert as_json.status_code == 422
    assert ImportBatch.objects.count() == 0


def test_unsafe_methods_need_the_csrf_token(investigator) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(investigator)
    response = client.post(
        f"{API}/samples",
        data=json.dumps(sample_body(found_person=f.found_person().pk)),
        content_type="application/json",
    )
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


def test_family_member_input_is_strict(investigator) -> None:
    report = f.report()
    url = f"{API}/families/{report.pk}/members"
    assert post(api(investigator), url, {"relationship": "cousin"}).status_code == 422
    assert (
        post(api(investigator), url, {"relationship": "full_sibling", "sex": "X"}).status_code
        == 422
    )
    assert post(api(investigator), url, {"relationship": "full_sibling"}).status_code == 422
    assert post(api(investigator), url, {"relationship": "mother", "extra": 1}).status_code == 422
    assert FamilyMember.objects.count() == 0
    assert (
        post(
            api(investigator), f"{API}/families/{10**15}/members", {"relationship": "mother"}
        ).status_code
        == 404
    )
