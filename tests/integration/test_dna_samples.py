"""Family pedigrees, samples, consent and the chain of custody (services, real database)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from reunite.accounts.models import OrganisationKind, Role
from reunite.audit.models import AuditEntry
from reunite.core.errors import AccessDenied, NotFound, ValidationFailed
from reunite.dna import services
from reunite.dna.models import (
    ConsentGiver,
    CustodyEvent,
    CustodyKind,
    FamilyMember,
    InactiveReason,
    Profile,
    Sample,
    SampleStatus,
    SampleType,
)
from reunite.kinship import Pedigree
from tests import dna_factories as f

pytestmark = pytest.mark.django_db


def denials(object_type: str) -> int:
    return AuditEntry.objects.filter(action="denied", object_type=object_type).count()


@pytest.fixture
def tech():
    return f.technician()


@pytest.fixture
def investigator():
    return f.user(Role.INVESTIGATOR, f.CHAOYANG)


# --------------------------------------------------------------------------- pedigree


def test_relatives_are_placed_in_the_pedigree_with_the_places_that_link_them(investigator) -> None:
    report = f.report(sex="F")
    sibling = f.member(investigator, report, "full_sibling", "M")
    mother = f.member(investigator, report, "mother")
    members = {m.code: m for m in FamilyMember.objects.filter(report=report)}
    assert set(members) == {"MP", "MO", "FA", "S1"}
    assert mother.pk == members["MO"].pk  # the untyped mother was there already: reused
    assert (sibling.mother_id, sibling.father_id) == (members["MO"].pk, members["FA"].pk)
    assert (members["MP"].mother_id, members["MP"].father_id) == (
        members["MO"].pk,
        members["FA"].pk,
    )
    f.member(investigator, report, "full_sibling", "F")
    f.member(investigator, report, "maternal_half_sibling", "F")
    f.member(investigator, report, "paternal_grandmother")
    uncle = f.member(investigator, report, "maternal_uncle_aunt", "M")
    child = f.member(investigator, report, "child", "M")
    codes = set(FamilyMember.objects.filter(report=report).values_list("code", flat=True))
    assert codes == {"MP", "MO", "FA", "S1", "S2", "HSM1", "PGM", "MGM", "MGF", "UAM1", "C1"}
    assert child.mother_id == members["MP"].pk  # the missing person is a woman
    assert uncle.mother.code == "MGM" and uncle.father.code == "MGF"
    pedigree = services.build_pedigree(FamilyMember.objects.filter(report=report))
    assert isinstance(pedigree, Pedigree)
    assert pedigree["HSM1"].father == "_father_of_HSM1"  # implicit other parent
    assert pedigree["FA"].mother == "PGM"
    assert pedigree.children("MP") == ("C1",)


def test_placement_rules(investigator) -> None:
    report = f.report(sex="U")
    with pytest.raises(ValidationFailed) as no_sex:
        f.member(investigator, report, "full_sibling")
    assert "sex" in no_sex.value.field_errors
    with pytest.raises(ValidationFailed) as wrong_sex:
        f.member(investigator, report, "mother", "M")
    assert "sex" in wrong_sex.value.field_errors
    with pytest.raises(ValidationFailed) as missing:
        f.member(investigator, report, "missing_person")
    assert "relationship" in missing.value.field_errors
    with pytest.raises(ValidationFailed) as child:
        f.member(investigator, report, "child", "F")  # the missing person's sex is unknown
    assert "relationship" in child.value.field_errors
    assert FamilyMember.objects.filter(report=report).count() == 0  # nothing half-made


def test_a_unit_outside_the_report_jurisdiction_is_refused_and_audited() -> None:
    report = f.report(f.CHAOYANG)
    outsider = f.user(Role.INVESTIGATOR, f.SHANGHAI)
    partner = f.user(Role.PARTNER_WELFARE, f.CHAOYANG, OrganisationKind.WELFARE_INSTITUTION)
    before = denials(services.FAMILY_TYPE)
    for user in (outsider, partner):
        with pytest.raises(AccessDenied):
            f.member(user, report, "mother")
    with pytest.raises(AccessDenied):
        services.get_family(acting_user=outsider, report_id=report.pk)
    assert denials(services.FAMILY_TYPE) == before + 3
    with pytest.raises(NotFound):
        services.get_family(acting_user=outsider, report_id=10**12)


def test_family_pedigrees_name_the_missing_person_and_the_searchable_profiles(
    investigator, tech
) -> None:
    rng = random.Random(5)
    report = f.report()
    mother, father = (
        f.member(investigator, report, "mother"),
        f.member(investigator, report, "father"),
    )
    mo, fa = f.random_genotypes(rng), f.random_genotypes(rng)
    p_mother = f.store(tech, f.sample(investigator, family_member=mother, receiver=tech), mo)
    f.store(
        tech,
        f.sample(investigator, family_member=father, receiver=tech),
        fa,
        kit="powerplex_fusion",
    )
    result = services.family_pedigree(report.pk)
    assert result is not None
    assert result.missing_id == "MP" and "MP" in result.pedigree
    assert result.pedigree["MP"].mother == "MO"
    assert result.typed == {
        "MO": p_mother.pk,
        "FA": Profile.objects.get(sample__family_member=father).pk,
    }
    # A withdrawn donor drops out; a family with no searchable reference is not yielded.
    services.withdraw_consent(
        acting_user=investigator, sample_id=p_mother.sample_id, reason="changed her mind"
    )
    assert set(services.family_pedigree(report.pk).typed) == {"FA"}  # type: ignore[union-attr]
    assert services.family_pedigree(f.report().pk) is None


# --------------------------------------------------------------------------- samples


def test_registering_a_sample_starts_its_custody_and_is_audited(investigator) -> None:
    person = f.found_person()
    sample = f.sample(investigator, found=person, number="bc-01", received=False)
    assert sample.role == "unidentified" and sample.division_id == person.division_id
    assert sample.number_key == "BC-01" and sample.status == SampleStatus.COLLECTED
    assert sample.holder == investigator.organisation
    kinds = list(sample.custody.values_list("kind", flat=True))
    assert kinds == [CustodyKind.COLLECTED, CustodyKind.CONSENT_RECORDED]
    assert sample.consent_scope == "identification"
    entry = AuditEntry.objects.filter(object_type=services.SAMPLE_TYPE, action="create").get()
    assert entry.details["donor"] == f"UP-{person.pk}"
    # Numbers are unique ignoring case, and made when left empty.
    with pytest.raises(ValidationFailed) as twice:
        f.sample(investigator, found=person, number="BC-01", received=False)
    assert "number" in twice.value.field_errors
    made = f.sample(investigator, found=person, received=False)
    assert made.number.startswith(f"S-{timezone.localdate().year}-")


def test_sample_validation_collects_every_error(investigator) -> None:
    member = f.member(investigator, f.report(), "mother")
    data = services.SampleData(
        sample_type="saliva",
        collected_at=timezone.now() + dt.timedelta(days=1),
        collected_by=" ",
        family_member_id=member.pk,
        number="bad number!",
        collected_place="x" * 301,
        consent=services.ConsentData(
            given_by="guardian",
            scope="identification",  # the wrong purpose for a family reference
            date=timezone.localdate() + dt.timedelta(days=2),
        ),
    )
    with pytest.raises(ValidationFailed) as error:
        services.register_sample(acting_user=investigator, data=data)
    assert set(error.value.field_errors) == {
        "sample_type",
        "collected_at",
        "collected_by",
        "number",
        "collected_place",
        "consent_scope",
        "consent_date",
        "consent_guardian_name",
    }
    assert Sample.objects.count() == 0


def test_the_donor_must_be_one_record_and_not_the_missing_person(investigator) -> None:
    report = f.report()
    f.member(investigator, report, "mother")
    missing = FamilyMember.objects.get(report=report, code="MP")
    base = {"sample_type": SampleType.BLOOD, "collected_at": timezone.now(), "collected_by": "A"}
    with pytest.raises(ValidationFailed):
        services.register_sample(acting_user=investigator, data=services.SampleData(**base))
    with pytest.raises(ValidationFailed):
        services.register_sample(
            acting_user=investigator,
            data=services.SampleData(**base, family_member_id=missing.pk),
        )
    with pytest.raises(NotFound):
        services.register_sample(
            acting_user=investigator, data=services.SampleData(**base, found_person_id=10**9)
        )


def test_custody_follows_its_order_and_each_role_does_its_part(investigator, tech) -> None:
    sample = f.sample(investigator, found=f.found_person(), received=False)
    now = timezone.now()

    def event(user, kind, hours_ago):
        return services.add_custody_event(
            acting_user=user,
            sample_id=sample.pk,
            data=services.CustodyData(
                kind=kind, at=now - dt.timedelta(hours=hours_ago), handler="courier 7"
            ),
        )

    event(investigator, CustodyKind.HANDED_OVER, 30)
    before = denials(services.SAMPLE_TYPE)
    with pytest.raises(AccessDenied):  # receiving is the laboratory's work
        event(investigator, CustodyKind.RECEIVED, 20)
    assert denials(services.SAMPLE_TYPE) == before + 1
    with pytest.raises(ValidationFailed) as early:
        event(tech, CustodyKind.RECEIVED, 40)  # before it was handed over
    assert "at" in early.value.field_errors
    with pytest.raises(ValidationFailed) as order:
        event(tech, CustodyKind.STORED, 20)  # not received yet
    assert "kind" in order.value.field_errors
    event(tech, CustodyKind.RECEIVED, 20)
    event(tech, CustodyKind.STORED, 19)
    sample.refresh_from_db()
    assert sample.status == SampleStatus.STORED and sample.holder == tech.organisation
    assert services.custody_kinds_for(investigator, sample) == [CustodyKind.HANDED_OVER]
    assert CustodyKind.RECEIVED not in services.custody_kinds_for(tech, sample)


def test_custody_events_are_append_only_in_the_database(investigator) -> None:
    sample = f.sample(investigator, found=f.found_person(), received=False)
    event = CustodyEvent.objects.filter(sample=sample).first()
    assert event is not None
    for statement in (
        "UPDATE dna_custodyevent SET place = 'x' WHERE id = %s",
        "DELETE FROM dna_custodyevent WHERE id = %s",
    ):
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event.pk])
    assert CustodyEvent.objects.filter(pk=event.pk, place=event.place).exists()


def test_consent_recorded_later_then_withdrawn_erases_every_profile_of_the_donor(
    investigator, tech
) -> None:
    rng = random.Random(9)
    person = f.found_person(sex="F")
    first = f.sample(investigator, found=person, with_consent=False, receiver=tech)
    with pytest.raises(ValidationFailed) as refused:
        f.store(tech, first, f.random_genotypes(rng))
    assert "sample" in refused.value.field_errors
    services.record_consent(
        acting_user=investigator,
        sample_id=first.pk,
        consent=f.consent("unidentified", ConsentGiver.GUARDIAN),
    )
    with pytest.raises(ValidationFailed):  # only once
        services.record_consent(
            acting_user=investigator, sample_id=first.pk, consent=f.consent("unidentified")
        )
    genotypes = f.random_genotypes(rng)
    one = f.store(tech, first, genotypes, amelogenin="XX")
    other = f.store(tech, f.sample(investigator, found=person, receiver=tech), genotypes)
    assert Profile.objects.searchable().filter(pk__in=[one.pk, other.pk]).count() == 2
    services.withdraw_consent(
        acting_user=investigator, sample_id=first.pk, reason="The guardian asked us to stop."
    )
    for profile in Profile.objects.filter(pk__in=[one.pk, other.pk]):
        assert not profile.active and profile.inactive_reason == InactiveReason.CONSENT_WITHDRAWN
        assert (
            profile.genotypes == {} and profile.amelogenin == "" and profile.genotype_digest == ""
        )
        assert profile.erased_at is not None and profile.pseudonym.startswith("P-")
    assert Profile.objects.searchable().count() == 0
    for sample in Sample.objects.filter(found_person=person):
        assert sample.consent_withdrawn
        assert sample.custody.filter(kind=CustodyKind.CONSENT_WITHDRAWN).count() == 1
    updates = AuditEntry.objects.filter(
        object_type=services.SAMPLE_TYPE, action="update", details__consent="withdrawn"
    )
    assert updates.count() == 2
    assert "guardian" not in str(list(updates.values_list("details", flat=True)))
    with pytest.raises(ValidationFailed):  # already withdrawn
        services.withdraw_consent(acting_user=investigator, sample_id=first.pk, reason="again")
    with pytest.raises(ValidationFailed):  # no new typing
        f.store(tech, first, genotypes)
    work = services.work_list(acting_user=tech)
    assert {s.pk for s in work.to_destroy} == {first.pk, other.sample_id}


def test_destroying_a_sample_takes_its_profiles_out_of_the_search(investigator, tech) -> None:
    sample = f.sample(investigator, found=f.found_person(), receiver=tech)
    profile = f.store(tech, sample, f.random_genotypes(random.Random(3)))
    services.add_custody_event(
        acting_user=tech,
        sample_id=sample.pk,
        data=services.CustodyData(kind=CustodyKind.DESTROYED, at=timezone.now()),
    )
    profile.refresh_from_db()
    assert not profile.active and profile.inactive_reason == InactiveReason.SAMPLE_DESTROYED
    assert profile.genotypes  # kept: no consent was withdrawn
    assert services.custody_kinds_for(tech, Sample.objects.get(pk=sample.pk)) == []


def test_personal_and_genetic_data_are_encrypted_at_rest(investigator, tech) -> None:
    report = f.report()
    member = services.add_family_member(
        acting_user=investigator,
        report_id=report.pk,
        data=services.FamilyMemberData(relationship="mother", name="刘秀英"),
    )
    sample = f.sample(investigator, family_member=member, receiver=tech)
    profile = f.store(tech, sample, {"TH01": ["9.3", "6"], "FGA": ["21", "44.2"]}, amelogenin="XX")
    with connection.cursor() as cursor:
        cursor.execute("SELECT genotypes, amelogenin FROM dna_profile WHERE id = %s", [profile.pk])
        genotypes, amelogenin = cursor.fetchone()
        cursor.execute("SELECT name FROM dna_familymember WHERE id = %s", [member.pk])
        (name,) = cursor.fetchone()
    assert genotypes.startswith("enc1:") and "44.2" not in genotypes and "TH01" not in genotypes
    assert amelogenin.startswith("enc1:") and name.startswith("enc1:") and "刘" not in name
    assert Profile.objects.get(pk=profile.pk).genotypes == {
        "TH01": ["6", "9.3"],
        "FGA": ["21", "44.2"],
    }
    with pytest.raises(TypeError):
        Profile.objects.filter(genotypes__contains="TH01").count()


def test_one_missing_person_per_family_in_the_database(investigator) -> None:
    report = f.report()
    f.member(investigator, report, "mother")
    with pytest.raises(IntegrityError), transaction.atomic():
        FamilyMember.objects.create(
            report=report, code="MP2", relationship="missing_person", sex="F"
        )
