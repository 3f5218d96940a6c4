"""Incremental DNA search: a new unidentified profile against a large family side.

    .venv/bin/python benchmarks/dna_incremental.py --families N --json PATH

Builds, in a fresh SQLite database under a temporary ``REUNITE_VAR_DIR`` (or ``--var-dir``), N
families of mixed shapes (one parent, both parents, one full sibling, two full siblings: the
last is a general pedigree, whose tables come from the general engine) and ``--unknowns`` M
unidentified profiles.  Reports, pedigree members, samples (consent recorded) and profiles
(canonical genotypes from the Han table, encrypted, digest, QC passed) are bulk-inserted —
real rows that the registry's own queries read — and the searches then run through
``reunite.dna.matching`` as in production (``DNA_MATCH_SEARCH_MODE=inline``: the search runs
right after the profile's transaction commits).

JSON fields (seconds are wall clock; the machine may be shared: see ``load_average``):

* ``families``, ``unknowns``, ``references``, ``build_seconds`` (bulk inserts);
* ``cold_seconds``: the first search of an unidentified profile in this process (the kept family
  side is empty: every family is loaded, decrypted and encoded, then searched);
* ``warm_seconds`` / ``warm_seconds_median``: saving one new unidentified profile through the
  services (sample registered, received, profile created: canonical form, QC, the search
  request, the search after commit) until its candidate is stored, once per planted relative;
  ``warm_search_seconds_median``: ``matching.search_profile`` alone for those profiles;
  ``warm_found``: how many of the planted relatives got their candidate (should be all);
* ``fingerprint_seconds``: the refresh's cheap pass over ids, digests and change times;
* ``after_withdrawal_seconds``: the next search after a reference's consent was withdrawn (one
  family dropped by the refresh), ``withdrawn_family_gone`` that it left the side;
* ``uncached_seconds`` (with ``--compare``): the same profile searched without the kept side
  (every family loaded and encoded, as before), and ``same_candidates`` (its hits and LRs equal
  the kept side's);
* ``family_search_seconds``: a family reference's own search (its family against every
  unidentified profile);
* ``peak_rss_mb``, ``load_average`` (1, 5, 15 min, before and after), ``python``, ``cpus``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHAPES: tuple[tuple[str, float], ...] = (
    ("mother", 0.25),
    ("father", 0.15),
    ("trio", 0.30),
    ("sibling", 0.20),
    ("siblings", 0.10),
)
BATCH = 5_000


def django_setup(var_dir: Path) -> None:
    os.environ["REUNITE_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reunite.settings")
    os.environ["DNA_MATCH_SEARCH_MODE"] = "inline"
    os.environ.pop("DATABASE_URL", None)  # a fresh SQLite file under var_dir
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_divisions", verbosity=0)


def pseudonym(prefix: str, index: int) -> str:
    from reunite.dna.services import PSEUDONYM_ALPHABET

    digits = []
    for _ in range(7):
        index, rest = divmod(index, len(PSEUDONYM_ALPHABET))
        digits.append(PSEUDONYM_ALPHABET[rest])
    return f"{prefix}-{''.join(reversed(digits))}"


def build(families: int, unknowns: int, seed: int, planted: int) -> dict[str, Any]:
    """Bulk-insert the families and unidentified profiles; returns what the measurements need."""
    from django.db import transaction
    from django.utils import timezone

    from reunite.accounts.models import Division, Organisation, OrganisationKind, Role, User
    from reunite.dna.demo import Genetics
    from reunite.dna.genotypes import genotype_digest
    from reunite.dna.models import (
        ConsentGiver,
        ConsentScope,
        FamilyMember,
        KinRelationship,
        Profile,
        ProfileRole,
        QcStatus,
        Sample,
        SampleStatus,
        SampleType,
        TypingKit,
    )
    from reunite.people.models import FoundPerson, MissingPersonReport, Sex

    rng = random.Random(seed)
    genetics = Genetics(rng)
    division = Division.objects.get(code="110105")
    police, _new = Organisation.objects.get_or_create(
        division=division, name="bench police", defaults={"kind": OrganisationKind.PUBLIC_SECURITY}
    )
    lab, _new = Organisation.objects.get_or_create(
        division=Division.objects.get(code="110000"),
        name="bench lab",
        defaults={"kind": OrganisationKind.FORENSIC_LAB},
    )
    tech = User(username="bench-technician", role=Role.DNA_TECHNICIAN, organisation=lab)
    tech.set_unusable_password()
    tech.save()
    now = timezone.now()
    collected = now - dt.timedelta(days=30)
    names, weights = zip(*SHAPES, strict=True)
    truth: list[tuple[int, dict[str, list[str]]]] = []  # (report id, missing child) of trios
    reference_pks: list[int] = []
    made = {"references": 0}

    def samples_and_profiles(
        plans: list[tuple[dict[str, Any], dict[str, list[str]], str]], role: str, start: int
    ) -> list[int]:
        samples = [
            Sample(
                number=f"BENCH-{role[0].upper()}-{start + i:08d}",
                number_key=f"BENCH-{role[0].upper()}-{start + i:08d}",
                role=role,
                division=division,
                sample_type=SampleType.BLOOD,
                collected_at=collected,
                collected_by="bench",
                collecting_unit=police,
                status=SampleStatus.TYPED,
                holder=lab,
                consent_given_by=ConsentGiver.DONOR,
                consent_scope=ConsentScope.FAMILY_SEARCH
                if role == ProfileRole.REFERENCE
                else ConsentScope.IDENTIFICATION,
                consent_date=collected.date(),
                created_by=tech,
                **donor,
            )
            for i, (donor, _genotypes, _amelogenin) in enumerate(plans)
        ]
        Sample.objects.bulk_create(samples)
        profiles = [
            Profile(
                pseudonym=pseudonym("B" if role == ProfileRole.REFERENCE else "U", start + i),
                sample=sample,
                role=role,
                kit=TypingKit.GLOBALFILER,
                lab=lab,
                genotypes=genotypes,
                amelogenin=amelogenin,
                locus_count=len(genotypes),
                genotype_digest=genotype_digest(genotypes),
                qc_status=QcStatus.PASSED,
                qc_checked_at=now,
                created_by=tech,
            )
            for i, (sample, (_donor, genotypes, amelogenin)) in enumerate(
                zip(samples, plans, strict=True)
            )
        ]
        Profile.objects.bulk_create(profiles)
        return [p.pk for p in profiles]

    for first in range(0, families, BATCH):
        count = min(BATCH, families - first)
        with transaction.atomic():
            shapes = rng.choices(names, weights=weights, k=count)
            reports = MissingPersonReport.objects.bulk_create(
                [
                    MissingPersonReport(
                        owning_unit=police,
                        division=division,
                        full_name="测试",
                        sex=Sex.FEMALE,
                        last_seen_at=now - dt.timedelta(days=400),
                        last_seen_division=division,
                        age_at_disappearance=6,
                    )
                    for _ in range(count)
                ]
            )
            founders: list[FamilyMember] = []
            for report, shape in zip(reports, shapes, strict=True):
                if shape != "father":
                    founders.append(
                        FamilyMember(
                            report=report,
                            code="MO",
                            relationship=KinRelationship.MOTHER,
                            sex=Sex.FEMALE,
                        )
                    )
                if shape != "mother":
                    founders.append(
                        FamilyMember(
                            report=report,
                            code="FA",
                            relationship=KinRelationship.FATHER,
                            sex=Sex.MALE,
                        )
                    )
            FamilyMember.objects.bulk_create(founders)
            parents = {(m.report_id, m.code): m for m in founders}
            children: list[FamilyMember] = []
            for report, shape in zip(reports, shapes, strict=True):
                links = {
                    "mother": parents.get((report.pk, "MO")),
                    "father": parents.get((report.pk, "FA")),
                }
                children.append(
                    FamilyMember(
                        report=report,
                        code="MP",
                        relationship=KinRelationship.MISSING_PERSON,
                        sex=Sex.FEMALE,
                        **links,
                    )
                )
                for n in range({"sibling": 1, "siblings": 2}.get(shape, 0)):
                    children.append(
                        FamilyMember(
                            report=report,
                            code=f"S{n + 1}",
                            relationship=KinRelationship.FULL_SIBLING,
                            sex=rng.choice((Sex.FEMALE, Sex.MALE)),
                            **links,
                        )
                    )
            FamilyMember.objects.bulk_create(children)
            members = {**parents, **{(m.report_id, m.code): m for m in children}}
            plans: list[tuple[dict[str, Any], dict[str, list[str]], str]] = []
            for report, shape in zip(reports, shapes, strict=True):
                mother, father = genetics.founder(), genetics.founder()
                typed = {
                    "mother": ("MO",),
                    "father": ("FA",),
                    "trio": ("MO", "FA"),
                    "sibling": ("S1",),
                    "siblings": ("S1", "S2"),
                }[shape]
                for code in typed:
                    member = members[(report.pk, code)]
                    genotypes = (
                        mother
                        if code == "MO"
                        else father
                        if code == "FA"
                        else genetics.child(mother, father)
                    )
                    amelogenin = "XX" if member.sex == Sex.FEMALE else "XY"
                    plans.append(({"family_member": member}, genotypes, amelogenin))
                if shape == "trio" and len(truth) < planted:
                    truth.append((report.pk, genetics.child(mother, father)))
            reference_pks.extend(
                samples_and_profiles(plans, ProfileRole.REFERENCE, made["references"])
            )
            made["references"] += len(plans)
    with transaction.atomic():
        people = FoundPerson.objects.bulk_create(
            [
                FoundPerson(
                    owning_unit=police,
                    division=division,
                    category="street_begging",
                    found_on=now.date() - dt.timedelta(days=30),
                    found_division=division,
                    age_min=10,
                    age_max=14,
                    sex=Sex.FEMALE,
                )
                for _ in range(unknowns)
            ]
        )
        unknown_pks = samples_and_profiles(
            [({"found_person": p}, genetics.founder(), "XX") for p in people],
            ProfileRole.UNIDENTIFIED,
            0,
        )
    return {
        "tech": tech,
        "police": police,
        "truth": truth,
        "references": made["references"],
        "reference_pks": reference_pks,
        "unknown_pks": unknown_pks,
    }


def save_unidentified(built: dict[str, Any], genotypes: dict[str, list[str]]) -> int:
    """Through the services, as a lab would: a found person, the sample (consent), received,
    the typing result (QC, search request, the search after commit).  Returns the profile id."""
    from django.utils import timezone

    from reunite.dna import services
    from reunite.dna.models import ConsentScope, CustodyKind, SampleType, TypingKit
    from reunite.people.models import FoundPerson

    police = built["police"]
    person = FoundPerson.objects.create(
        owning_unit=police,
        division=police.division,
        category="street_begging",
        found_on=timezone.localdate() - dt.timedelta(days=3),
        found_division=police.division,
        age_min=10,
        age_max=14,
        sex="F",
    )
    tech = built["tech"]
    sample = services.register_sample(
        acting_user=tech,
        data=services.SampleData(
            sample_type=SampleType.BUCCAL_SWAB,
            collected_at=timezone.now() - dt.timedelta(days=2),
            collected_by="bench",
            found_person_id=person.pk,
            consent=services.ConsentData(
                given_by="donor",
                scope=ConsentScope.IDENTIFICATION,
                date=timezone.localdate() - dt.timedelta(days=2),
                reference="CF-1",
            ),
        ),
    )
    services.add_custody_event(
        acting_user=tech,
        sample_id=sample.pk,
        data=services.CustodyData(
            kind=CustodyKind.RECEIVED, at=timezone.now() - dt.timedelta(hours=1)
        ),
    )
    profile, _what = services.create_profile(
        acting_user=tech,
        data=services.ProfileData(
            sample_id=sample.pk, kit=TypingKit.GLOBALFILER, genotypes=genotypes, amelogenin="XX"
        ),
    )
    return profile.pk


def keyed(hits: Any) -> dict[tuple[int, int], tuple[float, Any]]:
    return {(h.report_id, h.profile_id): (h.lr, h.per_locus) for h in hits}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=10_000)
    parser.add_argument("--unknowns", type=int, default=500)
    parser.add_argument("--planted", type=int, default=5, help="new profiles saved (warm)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--compare", action="store_true", help="also search without the side")
    parser.add_argument("--var-dir", default="", help="default: a fresh temporary directory")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="reunite-bench-dna-") as scratch:
        var_dir = Path(args.var_dir or scratch)
        var_dir.mkdir(parents=True, exist_ok=True)
        django_setup(var_dir)
        from reunite.dna import engine, matching, services
        from reunite.dna.models import Candidate

        started = time.perf_counter()
        built = build(args.families, args.unknowns, args.seed, args.planted)
        out: dict[str, Any] = {
            "families": args.families,
            "unknowns": args.unknowns,
            "references": built["references"],
            "build_seconds": round(time.perf_counter() - started, 2),
        }
        print(
            f"built {args.families} families, {built['references']} references "
            f"in {out['build_seconds']} s",
            flush=True,
        )
        params = engine.params_from_settings()
        first = built["unknown_pks"][0]
        t = time.perf_counter()
        matching.search_profile(first)
        out["cold_seconds"] = round(time.perf_counter() - t, 3)
        print(f"cold (first search, side encoded): {out['cold_seconds']} s", flush=True)
        t = time.perf_counter()
        engine.family_fingerprints()
        out["fingerprint_seconds"] = round(time.perf_counter() - t, 3)
        warm: list[float] = []
        searched: list[float] = []
        found = 0
        new_profiles: list[int] = []
        for report_id, genotypes in built["truth"]:
            t = time.perf_counter()
            pk = save_unidentified(built, genotypes)
            warm.append(time.perf_counter() - t)
            new_profiles.append(pk)
            found += Candidate.objects.filter(report_id=report_id, profile_id=pk).exists()
            t = time.perf_counter()
            matching.search_profile(pk)
            searched.append(time.perf_counter() - t)
        out["warm_seconds"] = [round(s, 3) for s in warm]
        out["warm_seconds_median"] = round(statistics.median(warm), 3) if warm else None
        out["warm_search_seconds_median"] = (
            round(statistics.median(searched), 3) if searched else None
        )
        out["warm_found"] = f"{found}/{len(built['truth'])}"
        print(
            f"warm (save + search + candidate): median {out['warm_seconds_median']} s, "
            f"search alone {out['warm_search_seconds_median']} s, found {out['warm_found']}",
            flush=True,
        )
        # A reference withdraws consent: the next search drops that family and nothing else.
        from reunite.dna.models import Profile

        gone = Profile.objects.select_related("sample__family_member").get(
            pk=built["reference_pks"][1]
        )
        services.withdraw_consent(
            acting_user=built["tech"], sample_id=gone.sample_id, reason="bench"
        )
        t = time.perf_counter()
        matching.search_profile(new_profiles[0] if new_profiles else first)
        out["after_withdrawal_seconds"] = round(time.perf_counter() - t, 3)
        out["withdrawn_family_gone"] = not matching._family_side.holds(
            gone.sample.family_member.report_id
        )
        if args.compare and new_profiles:
            person = engine.load_unknowns([new_profiles[0]])
            t = time.perf_counter()
            fresh, _families = matching.search_unknown(person, params, kept=False)
            out["uncached_seconds"] = round(time.perf_counter() - t, 3)
            kept, _families = matching.search_unknown(person, params)
            out["same_candidates"] = keyed(kept.hits) == keyed(fresh.hits)
            print(
                f"uncached (every family loaded): {out['uncached_seconds']} s, "
                f"same candidates: {out['same_candidates']}",
                flush=True,
            )
        t = time.perf_counter()
        matching.search_profile(built["reference_pks"][0])
        out["family_search_seconds"] = round(time.perf_counter() - t, 3)
        print(
            f"a family's own search against {args.unknowns + len(new_profiles)} unidentified: "
            f"{out['family_search_seconds']} s",
            flush=True,
        )
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["load_average"] = {"before": list(load_before), "after": list(os.getloadavg())}
    out["python"] = platform.python_version()
    out["cpus"] = os.cpu_count()
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
