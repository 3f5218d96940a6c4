"""Demo DNA data: family references, unidentified profiles and a few planted true relatives.

Called by ``reunite demo`` after the people registry's demo data exist.  For some demo missing
reports a family gives reference samples (a mother alone, a father alone, both parents, two full
siblings, or the mother and a sibling); some demo persons of unknown origin give a sample too.
Genotypes are simulated over the 20 CODIS core loci from the shipped ``han_chinese`` frequency
table: founders draw two alleles by frequency, children one allele from each parent (Mendel).
The missing person's genotype is simulated with the family but never stored as a reference;
for a handful of families a person of unknown origin *is* that missing person (their profile is
the missing person's genotype, some with a one-step mutation), so that the search has true
relatives to find.  Which ones is recorded in the ``dna_demo_seed`` audit entry (record ids
only).  A few samples are left at other steps (not yet typed, consent not yet recorded) so
that the work list has something on it.

Everything is bulk-inserted (a few hundred samples in well under a second), every profile goes
through the same canonical form, digest and QC rules as an imported one, and consent, custody
and the lab are set as the services would.  Idempotent: when demo samples exist (made by the
people demo's ``demo-seed`` account), nothing is added.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from reunite.accounts.models import Organisation, OrganisationKind, User
from reunite.audit.models import AuditAction
from reunite.audit.services import record
from reunite.dna.genotypes import CanonicalProfile, Genotypes, genotype_digest
from reunite.dna.models import (
    ConsentGiver,
    CustodyEvent,
    CustodyKind,
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
from reunite.dna.services import PSEUDONYM_ALPHABET, SCOPE_FOR_ROLE, qc_findings
from reunite.kinship import CODIS_CORE_LOCI, load_table
from reunite.people.demo import seed_user
from reunite.people.models import (
    FoundCategory,
    FoundPerson,
    FoundStatus,
    MissingPersonReport,
    MissingStatus,
    Relationship,
    ReportingRelative,
    Sex,
)

TABLE = "han_chinese"
LOCI = CODIS_CORE_LOCI
SEED_OBJECT_TYPE = "dna_demo_seed"
# Family make-ups and how often they occur: which members are typed.
FAMILY_SHAPES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("mother", 0.30, ("MO",)),
    ("father", 0.15, ("FA",)),
    ("both_parents", 0.30, ("MO", "FA")),
    ("siblings", 0.15, ("S1", "S2")),
    ("mother_and_sibling", 0.10, ("MO", "S1")),
)
GUARDIAN_CATEGORIES = {
    FoundCategory.INTELLECTUAL_DISABILITY,
    FoundCategory.MENTAL_ILLNESS,
    FoundCategory.UNDOCUMENTED_CHILD,
}


@dataclass
class DnaSeedResult:
    families: int = 0
    references: int = 0
    unidentified: int = 0
    samples: int = 0
    planted: list[tuple[int, int]] = field(default_factory=list)  # (report id, found person id)
    skipped: bool = False


# --------------------------------------------------------------------------- genetics


class Genetics:
    """Draws genotypes from one frequency table (allele lists and weights cached per locus)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        table = load_table(TABLE)
        self.alleles = {
            locus: (list(table.locus(locus).alleles), table.locus(locus).frequencies.tolist())
            for locus in LOCI
        }

    def founder(self) -> Genotypes:
        return {
            locus: sorted(self.rng.choices(alleles, weights=weights, k=2), key=float)
            for locus, (alleles, weights) in self.alleles.items()
        }

    def child(self, mother: Genotypes, father: Genotypes) -> Genotypes:
        return {
            locus: sorted(
                [self.rng.choice(mother[locus]), self.rng.choice(father[locus])], key=float
            )
            for locus in LOCI
        }

    def mutate(self, genotypes: Genotypes) -> Genotypes:
        """One allele at one locus one repeat longer or shorter (staying inside the table)."""
        mutated = {locus: list(pair) for locus, pair in genotypes.items()}
        for _attempt in range(20):
            locus = self.rng.choice(LOCI)
            index = self.rng.randrange(2)
            step = self.rng.choice((-1, 1))
            value = float(mutated[locus][index]) + step
            candidate = f"{value:g}"
            if candidate in self.alleles[locus][0]:
                mutated[locus][index] = candidate
                mutated[locus].sort(key=float)
                return mutated
        return mutated


def _amelogenin(rng: random.Random, sex: str) -> str:
    if sex == Sex.FEMALE:
        return "XX"
    if sex == Sex.MALE:
        return "XY"
    return rng.choice(("XX", "XY"))


# --------------------------------------------------------------------------- records


def _labs() -> dict[str, Organisation]:
    """The forensic laboratory of each province, by the province's path."""
    labs: dict[str, Organisation] = {}
    for lab in Organisation.objects.filter(kind=OrganisationKind.FORENSIC_LAB).select_related(
        "division"
    ):
        labs.setdefault(_province_path(lab.division.path), lab)
    return labs


def _province_path(path: str) -> str:
    parts = [p for p in path.strip("/").split("/") if p]
    return "/" + "/".join(parts[:2]) + "/"


@dataclass
class _Plan:
    """What one sample will be: donor, division, units, genotype, consent."""

    role: str
    division_id: int
    collecting_unit: Organisation
    lab: Organisation
    genotypes: Genotypes | None
    amelogenin: str
    donor_sex: str
    found_person: FoundPerson | None = None
    family_member: FamilyMember | None = None
    guardian: str = ""
    consent: bool = True
    typed: bool = True


def _pseudonyms(rng: random.Random, count: int) -> list[str]:
    taken = set(Profile.objects.values_list("pseudonym", flat=True))
    made: list[str] = []
    while len(made) < count:
        value = "P-" + "".join(rng.choice(PSEUDONYM_ALPHABET) for _ in range(6))
        if value not in taken:
            taken.add(value)
            made.append(value)
    return made


def _families(
    rng: random.Random,
    genetics: Genetics,
    reports: Sequence[MissingPersonReport],
    labs: dict[str, Organisation],
    creator: User,
) -> tuple[list[_Plan], dict[int, Genotypes]]:
    """Family members (saved) and the plans of their samples; the missing persons' genotypes."""
    relatives: dict[tuple[int, str], str] = {}
    for rel in (
        ReportingRelative.objects.filter(
            report__in=reports, relationship__in=[Relationship.MOTHER, Relationship.FATHER]
        )
        .only("report_id", "relationship", "name")
        .order_by("pk")
    ):
        relatives.setdefault((rel.report_id, rel.relationship), rel.name)
    shapes = list(FAMILY_SHAPES)
    drafts = []
    for report in reports:
        name, _weight, typed = rng.choices(shapes, weights=[s[1] for s in shapes])[0]
        drafts.append((report, name, typed))
    # Parents first (they are founders), then the missing person and siblings.
    founders: list[FamilyMember] = []
    for report, shape, _typed in drafts:
        needs_both = shape in ("both_parents", "siblings", "mother_and_sibling")
        if shape != "father" or needs_both:
            founders.append(
                FamilyMember(
                    report=report,
                    code="MO",
                    relationship=KinRelationship.MOTHER,
                    sex=Sex.FEMALE,
                    name=relatives.get((report.pk, Relationship.MOTHER), ""),
                    created_by=creator,
                )
            )
        if shape != "mother" or needs_both:
            founders.append(
                FamilyMember(
                    report=report,
                    code="FA",
                    relationship=KinRelationship.FATHER,
                    sex=Sex.MALE,
                    name=relatives.get((report.pk, Relationship.FATHER), ""),
                    created_by=creator,
                )
            )
    FamilyMember.objects.bulk_create(founders)
    parents = {(m.report_id, m.code): m for m in founders}
    children: list[FamilyMember] = []
    for report, shape, _typed in drafts:
        mother, father = parents.get((report.pk, "MO")), parents.get((report.pk, "FA"))
        links = {"mother": mother, "father": father}
        children.append(
            FamilyMember(
                report=report,
                code="MP",
                relationship=KinRelationship.MISSING_PERSON,
                sex=report.sex,
                created_by=creator,
                **links,
            )
        )
        siblings = {"siblings": 2, "mother_and_sibling": 1}.get(shape, 0)
        for n in range(1, siblings + 1):
            children.append(
                FamilyMember(
                    report=report,
                    code=f"S{n}",
                    relationship=KinRelationship.FULL_SIBLING,
                    sex=rng.choice((Sex.FEMALE, Sex.MALE)),
                    created_by=creator,
                    **links,
                )
            )
    FamilyMember.objects.bulk_create(children)
    members = {**parents, **{(m.report_id, m.code): m for m in children}}
    plans: list[_Plan] = []
    missing: dict[int, Genotypes] = {}
    for report, _shape, typed in drafts:
        mother_g, father_g = genetics.founder(), genetics.founder()
        missing[report.pk] = genetics.child(mother_g, father_g)
        lab = labs[_province_path(report.division.path)]
        for code in typed:
            member = members[(report.pk, code)]
            genotypes = (
                mother_g
                if code == "MO"
                else father_g
                if code == "FA"
                else genetics.child(mother_g, father_g)
            )
            plans.append(
                _Plan(
                    role=ProfileRole.REFERENCE,
                    division_id=report.division_id,
                    collecting_unit=report.owning_unit,
                    lab=lab,
                    genotypes=genotypes,
                    amelogenin=_amelogenin(rng, member.sex),
                    donor_sex=member.sex,
                    family_member=member,
                )
            )
    return plans, missing


def _unidentified(
    rng: random.Random,
    genetics: Genetics,
    people: Sequence[FoundPerson],
    labs: dict[str, Organisation],
    planted: dict[int, Genotypes],
) -> list[_Plan]:
    plans: list[_Plan] = []
    for index, person in enumerate(people):
        genotypes = planted.get(person.pk) or genetics.founder()
        guardian = person.category in GUARDIAN_CATEGORIES or person.age_max < 18
        typed = person.pk in planted or index % 20 != 7  # a few wait for typing
        plans.append(
            _Plan(
                role=ProfileRole.UNIDENTIFIED,
                division_id=person.division_id,
                collecting_unit=person.owning_unit,
                lab=labs[_province_path(person.division.path)],
                genotypes=genotypes,
                amelogenin=_amelogenin(rng, person.sex),
                donor_sex=person.sex,
                found_person=person,
                guardian=(person.institution.name if person.institution else "民政局")
                if guardian
                else "",
                consent=person.pk in planted or index % 25 != 11,  # a few without consent yet
                typed=typed,
            )
        )
    return plans


def _store(
    rng: random.Random, plans: Sequence[_Plan], creator: User, now: dt.datetime
) -> tuple[int, int]:
    """Samples, custody events and profiles for the plans; returns (samples, profiles)."""
    samples: list[Sample] = []
    for index, plan in enumerate(plans):
        collected = now - dt.timedelta(days=rng.randint(20, 400), hours=rng.randint(0, 23))
        typed = plan.consent and plan.typed
        number = f"DEMO-{plan.lab.division.code}-{index + 1:05d}"
        sample = Sample(
            number=number,
            number_key=number.upper(),
            role=plan.role,
            found_person=plan.found_person,
            family_member=plan.family_member,
            division_id=plan.division_id,
            sample_type=SampleType.BLOOD
            if plan.role == ProfileRole.REFERENCE
            else SampleType.BUCCAL_SWAB,
            collected_at=collected,
            collected_by="值班民警",  # data, not interface text: "the officer on duty"
            collecting_unit=plan.collecting_unit,
            status=SampleStatus.TYPED
            if typed
            else SampleStatus.RECEIVED
            if plan.consent
            else SampleStatus.IN_TRANSIT,
            holder=plan.lab if plan.consent else plan.collecting_unit,
            created_by=creator,
        )
        if plan.consent:
            sample.consent_given_by = ConsentGiver.GUARDIAN if plan.guardian else ConsentGiver.DONOR
            sample.consent_guardian_name = plan.guardian
            sample.consent_scope = SCOPE_FOR_ROLE[plan.role]
            sample.consent_date = collected.date()
            sample.consent_recorded_by = creator
        samples.append(sample)
    Sample.objects.bulk_create(samples)
    events: list[CustodyEvent] = []
    profiles: list[Profile] = []
    pseudonyms = iter(_pseudonyms(rng, len(plans)))
    for plan, sample in zip(plans, samples, strict=True):
        steps = [
            (CustodyKind.COLLECTED, sample.collected_at, plan.collecting_unit),
            (
                CustodyKind.HANDED_OVER,
                sample.collected_at + dt.timedelta(hours=6),
                plan.collecting_unit,
            ),
        ]
        if plan.consent:
            steps.insert(
                1, (CustodyKind.CONSENT_RECORDED, sample.collected_at, plan.collecting_unit)
            )
            steps.append(
                (CustodyKind.RECEIVED, sample.collected_at + dt.timedelta(days=2), plan.lab)
            )
        if sample.status == SampleStatus.TYPED:
            steps.append((CustodyKind.TYPED, sample.collected_at + dt.timedelta(days=9), plan.lab))
        events += [
            CustodyEvent(sample=sample, kind=kind, at=at, unit=unit, recorded_by=creator)
            for kind, at, unit in steps
        ]
        if sample.status != SampleStatus.TYPED or plan.genotypes is None:
            continue
        # Drawn from the table's canonical alleles, ascending, loci in canonical order: the
        # stored form already (the tests check it against canonical_genotypes).
        canonical = CanonicalProfile(genotypes=plan.genotypes, amelogenin=plan.amelogenin)
        findings, failed = qc_findings(canonical.genotypes, canonical.amelogenin, plan.donor_sex)
        profiles.append(
            Profile(
                pseudonym=next(pseudonyms),
                sample=sample,
                role=plan.role,
                kit=TypingKit.GLOBALFILER,
                lab=plan.lab,
                genotypes=canonical.genotypes,
                amelogenin=canonical.amelogenin,
                locus_count=canonical.locus_count,
                genotype_digest=genotype_digest(canonical.genotypes),
                qc_status=QcStatus.FAILED
                if failed
                else QcStatus.FLAGGED
                if findings
                else QcStatus.PASSED,
                qc_reasons=findings,
                qc_checked_at=sample.collected_at + dt.timedelta(days=9),
                created_by=creator,
            )
        )
    CustodyEvent.objects.bulk_create(events)
    Profile.objects.bulk_create(profiles)
    return len(samples), len(profiles)


def seed(
    *,
    seed: int = 7,
    families: int = 150,
    unidentified: int = 200,
    planted: int = 8,
    progress: Callable[[str], None] | None = None,
) -> DnaSeedResult:
    """Add the demo DNA data once (see the module docstring); returns what was made."""
    say = progress or (lambda _msg: None)
    result = DnaSeedResult()
    creator, _new = seed_user()
    if Sample.objects.filter(created_by=creator).exists():
        result.skipped = True
        say(_("Demo DNA samples already there: none added."))
        return result
    labs = _labs()
    in_lab_reach = Q()
    for path in labs:
        in_lab_reach |= Q(division__path__startswith=path)
    if not labs:
        result.skipped = True
        return result
    rng = random.Random(f"reunite-dna-demo:{seed}")
    genetics = Genetics(rng)
    # Draw from the ids (cheap), then load only the chosen records, without their encrypted
    # names: nothing is decrypted for nothing.
    report_ids = list(
        MissingPersonReport.objects.filter(
            in_lab_reach, created_by=creator, status=MissingStatus.MISSING
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    person_ids = list(
        FoundPerson.objects.filter(
            in_lab_reach, created_by=creator, status=FoundStatus.UNIDENTIFIED
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    picked_reports = rng.sample(report_ids, min(families, len(report_ids) // 2))
    picked_people = rng.sample(person_ids, min(unidentified, len(person_ids) // 2))
    report_by_id = (
        MissingPersonReport.objects.select_related("division", "owning_unit")
        .only("pk", "sex", "division__path", "owning_unit", "division_id")
        .in_bulk(picked_reports)
    )
    person_by_id = (
        FoundPerson.objects.select_related("division", "owning_unit", "institution")
        .only(
            "pk",
            "sex",
            "category",
            "age_max",
            "division__path",
            "division_id",
            "owning_unit",
            "institution__name",
        )
        .in_bulk(picked_people)
    )
    chosen_reports = [report_by_id[pk] for pk in picked_reports]
    chosen_people = [person_by_id[pk] for pk in picked_people]
    say(
        _("Creating demo DNA data: %(f)d families, %(u)d persons of unknown origin …")
        % {"f": len(chosen_reports), "u": len(chosen_people)}
    )
    now = timezone.now()
    with transaction.atomic():
        plans, missing = _families(rng, genetics, chosen_reports, labs, creator)
        matches: dict[int, Genotypes] = {}
        free = list(chosen_people)
        for count, report in enumerate(chosen_reports):
            if len(matches) >= planted:
                break
            person = next((p for p in free if report.sex in (Sex.UNKNOWN, p.sex)), None)
            if person is None:
                continue
            free.remove(person)
            genotypes = missing[report.pk]
            matches[person.pk] = genetics.mutate(genotypes) if count % 3 == 2 else genotypes
            result.planted.append((report.pk, person.pk))
        plans += _unidentified(rng, genetics, chosen_people, labs, matches)
        result.samples, profiles = _store(rng, plans, creator, now)
        result.families = len(chosen_reports)
        result.references = sum(p.role == ProfileRole.REFERENCE for p in plans)
        result.unidentified = sum(p.role == ProfileRole.UNIDENTIFIED for p in plans)
        record(
            actor=creator,
            action=AuditAction.CREATE,
            object_type=SEED_OBJECT_TYPE,
            details={
                "seed": seed,
                "table": TABLE,
                "families": result.families,
                "samples": result.samples,
                "profiles": profiles,
                "planted": [list(pair) for pair in result.planted],
            },
        )
    say(
        _(
            "Demo DNA data ready: %(s)d samples (%(r)d family references, %(u)d unidentified), "
            "%(p)d true relatives planted."
        )
        % {
            "s": result.samples,
            "r": result.references,
            "u": result.unidentified,
            "p": len(result.planted),
        }
    )
    return result
