"""Builders shared by the DNA registry's tests (``test_dna_*``): records, samples, genotypes.

Records are made through the models (fast) or the services (where the rule under test lives);
genotypes are drawn from the shipped Han Chinese frequency table, children by Mendel's rules.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

from django.utils import timezone

from reunite.accounts.models import Division, Organisation, OrganisationKind, Role, User
from reunite.dna import services
from reunite.dna.models import (
    ConsentGiver,
    ConsentScope,
    CustodyKind,
    FamilyMember,
    Profile,
    Sample,
    SampleType,
    TypingKit,
)
from reunite.kinship import CODIS_CORE_LOCI, load_table
from reunite.people.models import FoundPerson, MissingPersonReport

DATA = Path(__file__).parent / "data" / "genemapper"
BEIJING, CHAOYANG, HAIDIAN, SHANGHAI = "110000", "110105", "110108", "310000"
LOCI = CODIS_CORE_LOCI  # the 20 CODIS core loci, all in the Han table


def unit(code: str, kind: str = OrganisationKind.PUBLIC_SECURITY, name: str = "") -> Organisation:
    division = Division.objects.get(code=code)
    org, _ = Organisation.objects.get_or_create(
        division=division, name=name or f"{division.name} {kind}", defaults={"kind": kind}
    )
    return org


def user(role: str, code: str, kind: str = OrganisationKind.PUBLIC_SECURITY) -> User:
    org = unit(code, kind)
    n = User.objects.count() + 1
    made = User(username=f"dna-{role}-{code}-{n}", role=role, organisation=org)
    made.set_unusable_password()  # tests sign in with force_login: no slow password hashing
    made.save()
    return made


def technician(code: str = BEIJING) -> User:
    """A DNA technician of the forensic laboratory at ``code`` (Beijing by default)."""
    return user(Role.DNA_TECHNICIAN, code, OrganisationKind.FORENSIC_LAB)


def report(code: str = CHAOYANG, sex: str = "F") -> MissingPersonReport:
    division = Division.objects.get(code=code)
    return MissingPersonReport.objects.create(
        owning_unit=unit(code),
        division=division,
        full_name="王小花",
        sex=sex,
        last_seen_at=timezone.now() - dt.timedelta(days=400),
        last_seen_division=division,
        age_at_disappearance=6,
    )


def found_person(code: str = CHAOYANG, sex: str = "F") -> FoundPerson:
    division = Division.objects.get(code=code)
    return FoundPerson.objects.create(
        owning_unit=unit(code),
        division=division,
        category="street_begging",
        found_on=timezone.localdate() - dt.timedelta(days=30),
        found_division=division,
        age_min=10,
        age_max=14,
        sex=sex,
    )


def member(
    actor: User, report_: MissingPersonReport, relationship: str, sex: str = ""
) -> FamilyMember:
    return services.add_family_member(
        acting_user=actor,
        report_id=report_.pk,
        data=services.FamilyMemberData(relationship=relationship, sex=sex),
    )


def consent(role: str, given_by: str = ConsentGiver.DONOR) -> services.ConsentData:
    return services.ConsentData(
        given_by=given_by,
        scope=ConsentScope.FAMILY_SEARCH if role == "reference" else ConsentScope.IDENTIFICATION,
        date=timezone.localdate() - dt.timedelta(days=3),
        guardian_name="李监护" if given_by == ConsentGiver.GUARDIAN else "",
        guardian_relation="institution director" if given_by == ConsentGiver.GUARDIAN else "",
        reference="CF-1",
    )


def sample(
    actor: User,
    *,
    found: FoundPerson | None = None,
    family_member: FamilyMember | None = None,
    number: str = "",
    with_consent: bool = True,
    received: bool = True,
    receiver: User | None = None,
) -> Sample:
    """A registered sample (consent recorded, received by the lab, unless told otherwise)."""
    role = "unidentified" if found is not None else "reference"
    made = services.register_sample(
        acting_user=actor,
        data=services.SampleData(
            sample_type=SampleType.BUCCAL_SWAB,
            collected_at=timezone.now() - dt.timedelta(days=2),
            collected_by="Officer Zhao",
            found_person_id=found.pk if found is not None else None,
            family_member_id=family_member.pk if family_member is not None else None,
            number=number,
            collected_place="Station 3",
            consent=consent(role) if with_consent else None,
        ),
    )
    if received:
        services.add_custody_event(
            acting_user=receiver or actor,
            sample_id=made.pk,
            data=services.CustodyData(
                kind=CustodyKind.RECEIVED, at=timezone.now() - dt.timedelta(hours=5)
            ),
        )
    return Sample.objects.get(pk=made.pk)


# --------------------------------------------------------------------------- genotypes


def _alleles(locus: str) -> tuple[list[str], list[float]]:
    freqs = load_table("han_chinese").locus(locus)
    return list(freqs.alleles), freqs.frequencies.tolist()


def random_genotypes(rng: random.Random, loci: tuple[str, ...] = LOCI) -> dict[str, list[str]]:
    """An unrelated person: two alleles per locus drawn from the Han table."""
    result: dict[str, list[str]] = {}
    for locus in loci:
        alleles, weights = _alleles(locus)
        pair = rng.choices(alleles, weights=weights, k=2)
        result[locus] = sorted(pair, key=float)
    return result


def child_of(
    rng: random.Random, mother: dict[str, list[str]], father: dict[str, list[str]]
) -> dict[str, list[str]]:
    """A child: one allele from each parent at every locus (no mutation)."""
    return {
        locus: sorted([rng.choice(mother[locus]), rng.choice(father[locus])], key=float)
        for locus in mother
    }


def store(
    actor: User,
    sample_: Sample,
    genotypes: dict[str, Any],
    *,
    amelogenin: str | None = None,
    kit: str = TypingKit.GLOBALFILER,
) -> Profile:
    profile, _ = services.create_profile(
        acting_user=actor,
        data=services.ProfileData(
            sample_id=sample_.pk, kit=kit, genotypes=genotypes, amelogenin=amelogenin
        ),
    )
    return profile


def fixture_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()
