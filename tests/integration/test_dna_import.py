"""Importing laboratory files: the real GeneMapper fixtures, the CSV, bad rows, idempotency."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from reunite.accounts.models import Role
from reunite.audit.models import AuditEntry
from reunite.core.errors import AccessDenied, ValidationFailed
from reunite.dna import imports, services
from reunite.dna.models import CustodyEvent, ImportBatch, Profile, QcStatus, Sample
from tests import dna_factories as f

pytestmark = pytest.mark.django_db

ESX17 = {"kit": "other", "kit_name": "PowerPlex ESX 17"}


@pytest.fixture
def tech():
    return f.technician()


@pytest.fixture
def investigator():
    return f.user(Role.INVESTIGATOR, f.CHAOYANG)


def run(user, content: bytes, name: str = "export.txt", **kwargs: Any) -> ImportBatch:
    options = {**ESX17, **kwargs}
    return imports.import_profiles(
        acting_user=user, data=imports.ImportData(content=content, file_name=name, **options)
    )


def rows(batch: ImportBatch, **match: Any) -> list[dict[str, Any]]:
    return [r for r in batch.rows if all(r.get(k) == v for k, v in match.items())]


def line_of(name: str, sample: str, marker: str) -> int:
    """The line of a sample × marker in a fixture, found by reading the text directly."""
    text = f.fixture_bytes(name).decode()
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        cells = line.split("\t")
        if cells[:2] == [sample, marker]:
            return number
    raise AssertionError(f"{sample} {marker} not in {name}")


def state() -> dict[str, Any]:
    return {
        "profiles": list(
            Profile.objects.order_by("pk").values_list(
                "pk", "locus_count", "qc_status", "updated_at"
            )
        ),
        "genotypes": [p.genotypes for p in Profile.objects.order_by("pk")],
        "custody": CustodyEvent.objects.count(),
        "samples": list(Sample.objects.order_by("pk").values_list("pk", "status", "updated_at")),
    }


@pytest.fixture
def ref3_samples(investigator, tech) -> dict[str, Sample]:
    """A2 (a mother), F2 (a man of unknown origin) and bc (sex unknown), received by the lab."""
    mother = f.member(investigator, f.report(), "mother")
    return {
        "A2": f.sample(investigator, family_member=mother, number="A2", receiver=tech),
        "F2": f.sample(investigator, found=f.found_person(sex="M"), number="F2", receiver=tech),
        "bc": f.sample(investigator, found=f.found_person(sex="U"), number="BC", receiver=tech),
    }


def test_reference_profiles_from_genemapper_and_reimporting_changes_nothing(
    tech, ref3_samples
) -> None:
    data = f.fixture_bytes("strvalidator_ref3.txt")
    batch = run(tech, data, "ref3.txt")
    assert (batch.rows_total, batch.rows_saved, batch.rows_bad, batch.rows_ignored) == (
        51,
        51,
        0,
        0,
    )
    assert (batch.profiles_created, batch.file_format) == (3, "genemapper")
    a2 = Profile.objects.get(sample=ref3_samples["A2"])
    f2 = Profile.objects.get(sample=ref3_samples["F2"])
    bc = Profile.objects.get(sample=ref3_samples["bc"])  # "bc" in the file, "BC" registered
    assert a2.genotypes["TH01"] == ["8", "8"] and a2.amelogenin == "XX"
    assert f2.genotypes["D10S1248"] == ["14", "14"] and f2.amelogenin == "XY"  # written once
    assert a2.genotypes["D2S441"] == ["11.3", "14"] and a2.locus_count == 16
    assert {p.qc_status for p in (a2, f2, bc)} == {QcStatus.PASSED}
    assert a2.role == "reference" and f2.role == "unidentified" and a2.import_batch_id == batch.pk
    assert rows(batch, line=2)[0] == {
        "line": 2, "sample": "A2", "locus": "AMEL", "status": "saved", "code": "saved",
        "params": {"profile": a2.pseudonym},
    }  # fmt: skip
    before = state()
    again = run(tech, data, "ref3-again.txt")
    assert (again.rows_total, again.rows_unchanged, again.rows_saved, again.rows_bad) == (
        51,
        51,
        0,
        0,
    )
    assert (again.profiles_created, again.profiles_updated, again.profiles_unchanged) == (0, 0, 3)
    assert state() == before
    assert again.file_sha256 == batch.file_sha256
    audit = AuditEntry.objects.filter(
        object_type=services.IMPORT_TYPE, object_id=str(again.pk)
    ).get()
    assert audit.details["saved"] == 0 and audit.details["unchanged"] == 51
    assert "A2" not in str(audit.details) and "11.3" not in str(audit.details)


def test_a_real_run_file_bad_rows_are_reported_by_line_and_good_rows_kept(
    investigator, tech, ref3_samples, settings
) -> None:
    settings.DNA_MIN_TYPED_LOCI = 15
    name = "strvalidator_set3.txt"
    a2_donor = ref3_samples["A2"].family_member
    dilution = f.sample(investigator, family_member=a2_donor, number="18-A2.14", receiver=tech)
    weak = f.sample(investigator, found=f.found_person(), number="38-F2.9", receiver=tech)
    empty = f.sample(investigator, found=f.found_person(), number="11-BC10", receiver=tech)
    control = f.sample(investigator, found=f.found_person(), number="01-Pos.ktr.__", receiver=tech)
    run(tech, f.fixture_bytes("strvalidator_ref3.txt"))
    batch = run(tech, f.fixture_bytes(name), "set3.txt")
    assert batch.rows_total == 680
    assert (
        batch.rows_total
        == batch.rows_saved + batch.rows_unchanged + batch.rows_bad + batch.rows_ignored
    )
    # Off-ladder calls, with their lines.
    ol = rows(batch, sample="38-F2.9", locus="D1S1656")[0]
    assert (ol["line"], ol["status"], ol["code"]) == (
        line_of(name, "38-F2.9", "D1S1656"),
        "bad",
        "off_ladder",
    )
    # A partial profile of A2's donor, typed again: stored, failing nothing but discordant.
    partial = Profile.objects.get(sample=dilution)
    assert partial.locus_count == 15 and partial.genotypes["D18S51"] == ["15", "15"]
    assert [r["code"] for r in partial.qc_reasons] == ["discordant"]
    assert partial.qc_status == QcStatus.FLAGGED
    # Too little DNA: stored, but failed.
    assert Profile.objects.get(sample=weak).qc_status == QcStatus.FAILED
    # Nothing called at all: every row ignored, no profile.
    assert not Profile.objects.filter(sample=empty).exists()
    assert {r["code"] for r in rows(batch, sample="11-BC10")} == {"untyped"}
    # A control run twice: identical rows counted once, mixtures refused.
    th01 = rows(batch, sample="01-Pos.ktr.__", locus="TH01")
    assert [(r["status"], r["code"]) for r in th01] == [
        ("saved", "saved"),
        ("ignored", "repeated_row"),
    ]
    assert th01[1]["params"] == {"first_line": th01[0]["line"]}
    mixture = rows(batch, sample="01-Pos.ktr.__", locus="D3S1358")[0]
    assert (mixture["code"], mixture["params"]) == ("mixture", {"locus": "D3S1358", "count": 3})
    assert "mixture_seen" in [r["code"] for r in Profile.objects.get(sample=control).qc_reasons]
    # Ladders and samples nobody registered: refused, by name.
    ladder = rows(batch, sample="16-Ladder__")
    assert len(ladder) == 17 and {r["code"] for r in ladder} == {"unknown_sample"}
    # Again: nothing changes.
    before = state()
    again = run(tech, f.fixture_bytes(name), "set3.txt")
    assert state() == before
    assert [r["status"] for r in again.rows if r["status"] == "saved"] == []
    assert again.rows_bad == batch.rows_bad


def test_mixtures_in_an_id_x_export_are_refused_and_flag_the_profile(investigator, tech) -> None:
    sample = f.sample(investigator, found=f.found_person(sex="M"), number="EVID1", receiver=tech)
    batch = run(tech, f.fixture_bytes("euroformix_stain.txt"), "stain.txt")
    assert batch.rows_total == 17
    assert {r["locus"] for r in rows(batch, status="saved")} == {
        "AMEL",
        "D21S11",
        "D18S51",
        "D22S1045",
        "FGA",
    }
    assert rows(batch, locus="D1S1656")[0]["params"] == {"locus": "D1S1656", "count": 5}
    assert rows(batch, locus="D1S1656")[0]["line"] == 8  # CRLF lines counted right
    profile = Profile.objects.get(sample=sample)
    assert profile.qc_status == QcStatus.FAILED  # four loci
    assert [r["code"] for r in profile.qc_reasons].count("mixture_seen") == 12


def test_the_wide_layout_is_read_and_its_ol_calls_refused(investigator, tech) -> None:
    f.sample(
        investigator,
        found=f.found_person(),
        number="4550468_20130809113_AAGG2102NL#01",
        receiver=tech,
    )
    batch = run(tech, f.fixture_bytes("lrmixstudio_genemapperSample.txt"), "mix.txt")
    assert batch.rows_total == 16 and {r["line"] for r in batch.rows} == {2}
    assert rows(batch, locus="vWA")[0]["code"] == "off_ladder"


CSV = (
    "sample_id,locus,allele1,allele2\n"  # 1
    "K-1,D3S1358,15,16\n"  # 2 saved
    "K-1,TH01,9.3,\n"  # 3 saved (homozygote)
    "K-1,vWA,OL,17\n"  # 4 off ladder
    "K-1,FGA,21,22\n"  # 5 conflicting with 6
    "K-1,FGA,21,23\n"  # 6
    "K-1,D8S1179,12,13\n"  # 7 saved
    "K-1,D8S1179,13,12\n"  # 8 repeated (same genotype)
    "K-1,DYS391,10,\n"  # 9 ignored: Y marker
    "K-1,D99S99,10,11\n"  # 10 unknown locus
    "K-1,D5S818,twelve,13\n"  # 11 malformed allele
    "K-1,D7S820,,\n"  # 12 untyped
    ",D13S317,11,12\n"  # 13 no sample
    "NOPE,TH01,6,7\n"  # 14 unknown sample
    "K-2,TH01,6,7\n"  # 15 no consent
    "K-3,TH01,6,7\n"  # 16 another jurisdiction
    "K-1,AMEL,X,\n"  # 17 saved
)


def test_the_plain_csv_with_every_kind_of_bad_row(investigator, tech) -> None:
    f.sample(investigator, found=f.found_person(), number="K-1", receiver=tech)
    f.sample(investigator, found=f.found_person(), number="K-2", with_consent=False, receiver=tech)
    shanghai_inv = f.user(Role.INVESTIGATOR, "310101")
    f.sample(shanghai_inv, found=f.found_person("310101"), number="K-3", received=False)
    batch = run(tech, CSV.encode(), "rows.csv", kit="goldeneye_20a", kit_name="ignored")
    assert batch.file_format == "csv" and batch.kit_name == ""
    outcome = {r["line"]: (r["status"], r["code"]) for r in batch.rows}
    assert outcome == {
        2: ("saved", "saved"),
        3: ("saved", "saved"),
        4: ("bad", "off_ladder"),
        5: ("bad", "conflicting_rows"),
        6: ("bad", "conflicting_rows"),
        7: ("saved", "saved"),
        8: ("ignored", "repeated_row"),
        9: ("ignored", "not_autosomal"),
        10: ("bad", "unknown_locus"),
        11: ("bad", "bad_allele"),
        12: ("ignored", "untyped"),
        13: ("bad", "no_sample"),
        14: ("bad", "unknown_sample"),
        15: ("bad", "no_consent"),
        16: ("bad", "unknown_sample"),
        17: ("saved", "saved"),
    }
    assert rows(batch, line=5)[0]["params"] == {"locus": "FGA", "lines": [5, 6]}
    profile = Profile.objects.get(sample__number="K-1")
    assert profile.genotypes == {
        "TH01": ["9.3", "9.3"],
        "D3S1358": ["15", "16"],
        "D8S1179": ["12", "13"],
    }
    assert profile.kit == "goldeneye_20a" and profile.amelogenin == "XX"
    with connection.cursor() as cursor:
        cursor.execute("SELECT rows FROM dna_importbatch WHERE id = %s", [batch.pk])
        (raw,) = cursor.fetchone()
    assert raw.startswith("enc1:") and "K-1" not in raw


def test_a_corrected_file_extends_the_profile_and_a_contradicting_one_is_held_back(
    investigator, tech
) -> None:
    sample = f.sample(investigator, found=f.found_person(), number="K-1", receiver=tech)
    first = run(tech, b"sample_id,locus,allele1,allele2\nK-1,TH01,6,7\nK-1,vWA,OL,17\n")
    assert [r["code"] for r in first.rows] == ["saved", "off_ladder"]
    fixed = run(tech, b"sample_id,locus,allele1,allele2\nK-1,TH01,6,7\nK-1,vWA,16,17\n")
    assert [(r["status"], r["code"]) for r in fixed.rows] == [
        ("unchanged", "unchanged"),
        ("saved", "saved"),
    ]
    assert fixed.profiles_updated == 1
    profile = Profile.objects.get(sample=sample)
    assert profile.genotypes == {"TH01": ["6", "7"], "vWA": ["16", "17"]}
    events = sample.custody.count()
    wrong = run(tech, b"sample_id,locus,allele1,allele2\nK-1,TH01,6,8\nK-1,FGA,20,21\n")
    assert [(r["code"], r["params"].get("locus")) for r in wrong.rows] == [
        ("conflicts_with_stored", "TH01"),
        ("held_back", None),
    ]
    profile.refresh_from_db()
    assert profile.genotypes == {"TH01": ["6", "7"], "vWA": ["16", "17"]}
    assert profile.qc_status == QcStatus.FAILED  # two loci: too few, whatever else
    assert "retyping_conflict" in [r["code"] for r in profile.qc_reasons]
    assert sample.custody.count() == events


def test_files_that_cannot_be_read_are_refused_whole(tech, settings) -> None:
    for content in (b"", b"\x00\x01binary\x02", "样本".encode("gb18030")):
        with pytest.raises(ValidationFailed) as error:
            run(tech, content)
        assert "file" in error.value.field_errors
    settings.DNA_IMPORT_MAX_BYTES = 100
    with pytest.raises(services.FileTooLarge) as too_big:
        run(tech, b"sample_id,locus,allele1,allele2\n" + b"K-1,TH01,6,7\n" * 10)
    assert too_big.value.status_code == 413
    with pytest.raises(ValidationFailed) as kit:
        run(tech, b"x", kit="other", kit_name="")
    assert "kit_name" in kit.value.field_errors
    assert ImportBatch.objects.count() == 0


def test_only_laboratory_staff_import(investigator) -> None:
    with pytest.raises(AccessDenied):
        run(investigator, f.fixture_bytes("strvalidator_ref3.txt"))
    not_a_lab = f.user(Role.DNA_TECHNICIAN, f.BEIJING)
    with pytest.raises(AccessDenied):
        run(not_a_lab, f.fixture_bytes("strvalidator_ref3.txt"))
    assert AuditEntry.objects.filter(action="denied").count() == 2


def test_an_import_is_read_back_only_by_its_laboratory(tech, ref3_samples) -> None:
    batch = run(tech, f.fixture_bytes("strvalidator_ref3.txt"))
    assert imports.get_import(acting_user=tech, batch_id=batch.pk).pk == batch.pk
    with pytest.raises(AccessDenied):
        imports.get_import(acting_user=f.technician(f.SHANGHAI), batch_id=batch.pk)
