"""Account management rules: units and users within the administrator's jurisdiction subtree."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from reunite.accounts.models import Organisation, OrganisationKind, Role, User
from reunite.accounts.services import (
    OrganisationCreate,
    UserAssignment,
    UserCreate,
    UserFilters,
    change_user_assignment,
    create_organisation,
    create_user,
    get_managed_user,
    get_organisation,
    list_organisations,
    list_users,
    organisation_choices,
    rename_organisation,
    reset_user_password,
    role_fits_organisation,
    set_user_active,
)
from reunite.audit.models import AuditAction, AuditEntry
from reunite.audit.services import verify
from reunite.core.errors import AccessDenied, NotFound, ValidationFailed
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

BEIJING, CHAOYANG, HAIDIAN, SHANGHAI_HUANGPU = "110000", "110105", "110108", "310101"
STRONG = "Plum-blossom-river-42"

PS, LAB, CIVIL, HEALTH, WOMEN, WELFARE, RESCUE = (
    OrganisationKind.PUBLIC_SECURITY,
    OrganisationKind.FORENSIC_LAB,
    OrganisationKind.CIVIL_AFFAIRS,
    OrganisationKind.HEALTH,
    OrganisationKind.WOMENS_FEDERATION,
    OrganisationKind.WELFARE_INSTITUTION,
    OrganisationKind.RESCUE_STATION,
)
# Written out independently of the service's table: role → the unit kinds it may belong to.
EXPECTED_KINDS: dict[str, set[str]] = {
    Role.INVESTIGATOR: {PS},
    Role.SUPERVISOR: {PS},
    Role.DNA_TECHNICIAN: {LAB},
    Role.PARTNER_CIVIL_AFFAIRS: {CIVIL},
    Role.PARTNER_HEALTH: {HEALTH},
    Role.PARTNER_WOMENS_FEDERATION: {WOMEN},
    Role.PARTNER_WELFARE: {WELFARE, RESCUE},
    Role.ADMINISTRATOR: {PS, LAB, CIVIL, HEALTH, WOMEN, WELFARE, RESCUE},
}


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    """The administrator of Beijing (a province-level municipality)."""
    return make_user(Role.ADMINISTRATOR, BEIJING)


def new_user(unit: Organisation, **overrides: Any) -> UserCreate:
    values: dict[str, Any] = {
        "username": "li.na",
        "role": Role.INVESTIGATOR,
        "organisation_id": unit.pk,
        "password": STRONG,
        "full_name": "李娜",
        "email": "li.na@example.ORG",
    }
    values.update(overrides)
    return UserCreate(**values)


def denials(actor: User) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=AuditAction.DENIED, actor=actor))


def entries_text() -> str:
    return json.dumps(list(AuditEntry.objects.values("details", "object_id", "object_type")))


# --------------------------------------------------------------------------- units


def test_create_unit_in_subtree_is_saved_and_audited(admin) -> None:
    unit = create_organisation(
        acting_user=admin,
        data=OrganisationCreate(name="  朝阳区   禁毒大队 ", kind=PS, division_code=CHAOYANG),
    )
    assert unit.name == "朝阳区 禁毒大队"
    assert unit.division.code == CHAOYANG and unit.kind == PS
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_type="organisation")
    assert entry.object_id == str(unit.pk) and entry.actor_id == admin.pk
    assert entry.details == {"kind": "public_security", "division": CHAOYANG}


def test_create_unit_in_another_province_is_refused_and_audited(admin) -> None:
    with pytest.raises(ValidationFailed) as failed:
        create_organisation(
            acting_user=admin,
            data=OrganisationCreate(name="黄浦分局", kind=PS, division_code=SHANGHAI_HUANGPU),
        )
    assert "outside your jurisdiction" in failed.value.field_errors["division"][0]
    assert not Organisation.objects.filter(name="黄浦分局").exists()
    [denied] = denials(admin)
    assert denied.details == {
        "wanted": "manage_accounts",
        "reason": "division_outside_jurisdiction",
    }


def test_create_unit_reports_every_bad_field(admin) -> None:
    before = Organisation.objects.count()
    with pytest.raises(ValidationFailed) as failed:
        create_organisation(
            acting_user=admin,
            data=OrganisationCreate(name="   ", kind="police_station", division_code="999999"),
        )
    errors = failed.value.field_errors
    assert set(errors) == {"name", "kind", "division"}
    assert "999999" in errors["division"][0]
    with pytest.raises(ValidationFailed) as too_long:
        create_organisation(
            acting_user=admin,
            data=OrganisationCreate(name="x" * 201, kind=PS, division_code=" "),
        )
    assert set(too_long.value.field_errors) == {"name", "division"}
    assert Organisation.objects.count() == before


def test_unit_names_are_unique_per_division_regardless_of_case(admin) -> None:
    data = OrganisationCreate(name="Chaoyang Lab", kind=LAB, division_code=CHAOYANG)
    create_organisation(acting_user=admin, data=data)
    with pytest.raises(ValidationFailed) as failed:
        create_organisation(
            acting_user=admin,
            data=OrganisationCreate(name="CHAOYANG lab", kind=PS, division_code=CHAOYANG),
        )
    assert failed.value.field_errors["name"] == ["A unit with this name already exists in 朝阳区."]
    # The same name in another division is another unit.
    other = create_organisation(
        acting_user=admin,
        data=OrganisationCreate(name="Chaoyang Lab", kind=LAB, division_code=HAIDIAN),
    )
    assert other.division.code == HAIDIAN


def test_rename_unit(admin, make_org) -> None:
    unit = make_org(CHAOYANG, PS, name="朝阳分局")
    make_org(CHAOYANG, LAB, name="朝阳实验室")
    renamed = rename_organisation(acting_user=admin, organisation_id=unit.pk, name="朝阳公安分局")
    assert Organisation.objects.get(pk=unit.pk).name == "朝阳公安分局" == renamed.name
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, object_type="organisation")
    assert entry.details == {"fields": ["name"]}
    with pytest.raises(ValidationFailed) as taken:
        rename_organisation(acting_user=admin, organisation_id=unit.pk, name="朝阳实验室")
    assert "already exists" in taken.value.field_errors["name"][0]
    with pytest.raises(ValidationFailed) as blank:
        rename_organisation(acting_user=admin, organisation_id=unit.pk, name=" ")
    assert "name" in blank.value.field_errors
    assert Organisation.objects.get(pk=unit.pk).name == "朝阳公安分局"
    # Renaming to its own name (another case included) is not a clash with itself.
    rename_organisation(acting_user=admin, organisation_id=unit.pk, name="朝阳公安分局")


def test_rename_unit_outside_or_unknown(admin, make_org) -> None:
    far = make_org(SHANGHAI_HUANGPU, PS, name="黄浦分局")
    with pytest.raises(AccessDenied):
        rename_organisation(acting_user=admin, organisation_id=far.pk, name="改名")
    assert Organisation.objects.get(pk=far.pk).name == "黄浦分局"
    assert denials(admin)[0].object_id == str(far.pk)
    for missing in (987654321, 0, -5, 2**63, 10**30):
        with pytest.raises(NotFound):
            get_organisation(acting_user=admin, organisation_id=missing)


def test_unit_list_and_choices_cover_the_subtree_only(admin, make_org, make_user) -> None:
    chaoyang = make_org(CHAOYANG, PS, name="朝阳分局")
    make_org(SHANGHAI_HUANGPU, PS, name="黄浦分局")
    make_user(Role.INVESTIGATOR, CHAOYANG)  # joins the fixture's Chaoyang unit, not 朝阳分局
    units = list(list_organisations(acting_user=admin))
    names = {u.name for u in units}
    assert "朝阳分局" in names and admin.organisation.name in names
    assert "黄浦分局" not in names
    assert all(u.division.path.startswith("/CN/110000/") for u in units)
    assert next(u for u in units if u.pk == chaoyang.pk).member_count == 0
    assert {pk for pk, _label in organisation_choices(acting_user=admin)} == {u.pk for u in units}
    county_admin = make_user(Role.ADMINISTRATOR, HAIDIAN)
    assert {u.division.code for u in list_organisations(acting_user=county_admin)} == {HAIDIAN}


# --------------------------------------------------------------------------- refusals


def _all_calls(target: User, unit: Organisation) -> dict[str, Callable[[User], object]]:
    return {
        "list_units": lambda u: list_organisations(acting_user=u),
        "unit_choices": lambda u: organisation_choices(acting_user=u),
        "get_unit": lambda u: get_organisation(acting_user=u, organisation_id=unit.pk),
        "create_unit": lambda u: create_organisation(
            acting_user=u, data=OrganisationCreate(name="新单位", kind=PS, division_code=CHAOYANG)
        ),
        "rename_unit": lambda u: rename_organisation(
            acting_user=u, organisation_id=unit.pk, name="新名"
        ),
        "list_users": lambda u: list_users(acting_user=u, filters=UserFilters()),
        "get_user": lambda u: get_managed_user(acting_user=u, user_id=target.pk),
        "create_user": lambda u: create_user(acting_user=u, data=new_user(unit)),
        "assign": lambda u: change_user_assignment(
            acting_user=u,
            user_id=target.pk,
            data=UserAssignment(role=Role.SUPERVISOR, organisation_id=unit.pk),
        ),
        "deactivate": lambda u: set_user_active(acting_user=u, user_id=target.pk, active=False),
        "reset_password": lambda u: reset_user_password(
            acting_user=u, user_id=target.pk, password=STRONG
        ),
    }


CALLS = [
    "list_units",
    "unit_choices",
    "get_unit",
    "create_unit",
    "rename_unit",
    "list_users",
    "get_user",
    "create_user",
    "assign",
    "deactivate",
    "reset_password",
]


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ADMINISTRATOR])
def test_every_other_role_is_refused_everything_and_audited(make_user, role) -> None:
    target = make_user(Role.INVESTIGATOR, CHAOYANG)
    unit = target.organisation
    ministry_staff = make_user(role, "CN")  # even at the ministry
    before_users, before_units = User.objects.count(), Organisation.objects.count()
    calls = _all_calls(target, unit)
    for name in CALLS:
        with pytest.raises(AccessDenied):
            calls[name](ministry_staff)
        assert len(denials(ministry_staff)) == CALLS.index(name) + 1, name
    assert all(d.details["wanted"] == "manage_accounts" for d in denials(ministry_staff))
    target.refresh_from_db()
    unit.refresh_from_db()
    assert target.is_active and target.role == Role.INVESTIGATOR and target.check_password(PASSWORD)
    assert unit.name != "新名"
    assert (User.objects.count(), Organisation.objects.count()) == (before_users, before_units)


def test_a_deactivated_administrator_is_refused_everything(make_user) -> None:
    target = make_user(Role.INVESTIGATOR, CHAOYANG)
    admin = make_user(Role.ADMINISTRATOR, BEIJING)
    admin.is_active = False
    admin.save()
    calls = _all_calls(target, target.organisation)
    for name in CALLS:
        with pytest.raises(AccessDenied):
            calls[name](admin)
    assert len(denials(admin)) == len(CALLS)


def test_users_of_another_province_are_out_of_reach(admin, make_user) -> None:
    target = make_user(Role.INVESTIGATOR, SHANGHAI_HUANGPU)
    calls = _all_calls(target, admin.organisation)
    for name in ["get_user", "assign", "deactivate", "reset_password"]:
        with pytest.raises(AccessDenied):
            calls[name](admin)
    assert [d.object_id for d in denials(admin)] == [str(target.pk)] * 4
    target.refresh_from_db()
    assert target.is_active and target.role == Role.INVESTIGATOR and target.check_password(PASSWORD)


@pytest.mark.parametrize("user_id", [987654321, 0, 2**63, 10**30])
def test_unknown_users_are_not_found(admin, user_id) -> None:
    with pytest.raises(NotFound):
        get_managed_user(acting_user=admin, user_id=user_id)
    with pytest.raises(NotFound):
        set_user_active(acting_user=admin, user_id=user_id, active=False)


# --------------------------------------------------------------------------- creating users


def test_create_user_saves_a_hashed_password_and_audits_no_personal_data(admin, make_org) -> None:
    unit = make_org(CHAOYANG, PS)
    user = create_user(acting_user=admin, data=new_user(unit))
    user = User.objects.get(pk=user.pk)
    assert user.username == "li.na" and user.get_full_name() == "李娜"
    assert user.email == "li.na@example.org"  # the domain part is normalised
    assert user.role == Role.INVESTIGATOR and user.organisation_id == unit.pk
    assert user.is_active and not user.is_staff and not user.is_superuser
    assert user.password.startswith("argon2") and user.check_password(STRONG)
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_type="user")
    assert entry.object_id == str(user.pk)
    assert entry.details == {"role": "investigator", "organisation": unit.pk}
    text = entries_text()
    assert STRONG not in text and "李娜" not in text and "example" not in text
    assert verify().ok


def test_create_user_needs_only_username_role_unit_and_password(admin) -> None:
    user = create_user(acting_user=admin, data=new_user(admin.organisation, full_name="", email=""))
    assert user.get_full_name() == "" and user.email == ""


@pytest.mark.parametrize("taken", ["li.na", "LI.NA", "Li.Na"])
def test_usernames_are_unique_regardless_of_case(admin, taken) -> None:
    create_user(acting_user=admin, data=new_user(admin.organisation))
    with pytest.raises(ValidationFailed) as failed:
        create_user(acting_user=admin, data=new_user(admin.organisation, username=f" {taken} "))
    assert "already taken" in failed.value.field_errors["username"][0]
    assert User.objects.filter(username__iexact="li.na").count() == 1


def test_usernames_are_unique_across_jurisdictions(admin, make_user) -> None:
    shanghai_admin = make_user(Role.ADMINISTRATOR, "310000")
    create_user(acting_user=shanghai_admin, data=new_user(shanghai_admin.organisation))
    with pytest.raises(ValidationFailed) as failed:
        create_user(acting_user=admin, data=new_user(admin.organisation, username="Li.na"))
    assert "username" in failed.value.field_errors


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("short1!", "too short"),
        ("", "Give a password"),
        ("password123", "too common"),
        ("58203947165", "entirely numeric"),
        ("li.na.beijing", "too similar"),
    ],
)
def test_weak_passwords_are_refused_and_nothing_is_saved(admin, password, fragment) -> None:
    before = User.objects.count()
    with pytest.raises(ValidationFailed) as failed:
        create_user(
            acting_user=admin,
            data=new_user(admin.organisation, username="li.na.beijing", password=password),
        )
    assert set(failed.value.field_errors) == {"password"}
    assert any(fragment in m for m in failed.value.field_errors["password"])
    assert User.objects.count() == before
    assert not AuditEntry.objects.filter(action=AuditAction.CREATE).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": "  "}, "username"),
        ({"username": "li na"}, "username"),
        ({"username": "<script>"}, "username"),
        ({"username": "x" * 151}, "username"),
        ({"email": "not-an-address"}, "email"),
        ({"full_name": "名" * 151}, "full_name"),
        ({"role": "superuser"}, "role"),
        ({"role": ""}, "role"),
        ({"organisation_id": None}, "organisation"),
        ({"organisation_id": 987654321}, "organisation"),
        ({"organisation_id": 2**63}, "organisation"),
        ({"organisation_id": -1}, "organisation"),
    ],
)
def test_bad_user_fields_are_reported_by_name(admin, overrides, field) -> None:
    before = User.objects.count()
    with pytest.raises(ValidationFailed) as failed:
        create_user(acting_user=admin, data=new_user(admin.organisation, **overrides))
    assert set(failed.value.field_errors) == {field}
    assert User.objects.count() == before


def test_user_in_a_unit_of_another_province_is_refused_and_audited(admin, make_org) -> None:
    far = make_org(SHANGHAI_HUANGPU, PS)
    with pytest.raises(ValidationFailed) as failed:
        create_user(acting_user=admin, data=new_user(far))
    assert failed.value.field_errors == {
        "organisation": ["This unit lies outside your jurisdiction."]
    }
    assert not User.objects.filter(username="li.na").exists()
    [denied] = denials(admin)
    assert denied.details["reason"] == "unit_outside_jurisdiction"


def test_role_kind_table() -> None:
    for role in Role.values:
        for kind in OrganisationKind.values:
            assert role_fits_organisation(role, kind) == (kind in EXPECTED_KINDS[role]), (
                role,
                kind,
            )
    assert not role_fits_organisation("", PS)


@pytest.mark.parametrize("role", Role.values)
def test_roles_must_belong_to_a_unit_of_a_matching_kind(admin, make_org, role) -> None:
    for kind in OrganisationKind.values:
        unit = make_org(CHAOYANG, kind)
        username = f"{role}.{kind}"
        if kind in EXPECTED_KINDS[role]:
            created = create_user(
                acting_user=admin, data=new_user(unit, username=username, role=role)
            )
            assert created.organisation_id == unit.pk
        else:
            with pytest.raises(ValidationFailed) as failed:
                create_user(acting_user=admin, data=new_user(unit, username=username, role=role))
            [message] = failed.value.field_errors["organisation"]
            assert "does not suit the role" in message
            assert str(Role(role).label) in message
            assert not User.objects.filter(username=username).exists()


# --------------------------------------------------------------------------- listing users


def test_user_list_is_scoped_and_filtered(admin, make_user, make_org) -> None:
    chaoyang = make_user(Role.INVESTIGATOR, CHAOYANG)
    haidian_lab = make_user(Role.DNA_TECHNICIAN, HAIDIAN, LAB)
    haidian_lab.is_active = False
    haidian_lab.save()
    far = make_user(Role.INVESTIGATOR, SHANGHAI_HUANGPU)
    loose = User.objects.create_user(username="no-unit", password=PASSWORD)

    def listed(acting: User, **filters: Any) -> set[int]:
        return {u.pk for u in list_users(acting_user=acting, filters=UserFilters(**filters))}

    assert listed(admin) == {admin.pk, chaoyang.pk, haidian_lab.pk}
    assert listed(admin, role=Role.DNA_TECHNICIAN) == {haidian_lab.pk}
    assert listed(admin, active=False) == {haidian_lab.pk}
    assert listed(admin, active=True) == {admin.pk, chaoyang.pk}
    assert listed(admin, organisation_id=chaoyang.organisation_id) == {chaoyang.pk}
    assert listed(admin, organisation_id=far.organisation_id) == set()
    search = AuditEntry.objects.filter(action=AuditAction.SEARCH, object_type="user").last()
    assert search is not None and search.details == {"filters": ["organisation_id"]}
    # Only the nation's administrators see users who belong to no unit.
    nation = make_user(Role.ADMINISTRATOR, "CN")
    assert {far.pk, loose.pk, admin.pk} <= listed(nation)
    assert loose.pk not in listed(admin)
    with pytest.raises(AccessDenied):
        get_managed_user(acting_user=admin, user_id=loose.pk)
    assert get_managed_user(acting_user=nation, user_id=loose.pk) == loose


# --------------------------------------------------------------------------- changing users


def test_change_role_and_unit(admin, make_user, make_org) -> None:
    target = make_user(Role.INVESTIGATOR, CHAOYANG)
    lab = make_org(HAIDIAN, LAB)
    changed = change_user_assignment(
        acting_user=admin,
        user_id=target.pk,
        data=UserAssignment(role=Role.DNA_TECHNICIAN, organisation_id=lab.pk),
    )
    target.refresh_from_db()
    assert (target.role, target.organisation_id) == (Role.DNA_TECHNICIAN, lab.pk)
    assert changed.role == Role.DNA_TECHNICIAN
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, object_type="user")
    assert entry.details == {
        "fields": ["role", "organisation"],
        "role": "dna_technician",
        "organisation": lab.pk,
    }
    # Nothing different: nothing saved, nothing audited.
    change_user_assignment(
        acting_user=admin,
        user_id=target.pk,
        data=UserAssignment(role=Role.DNA_TECHNICIAN, organisation_id=lab.pk),
    )
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE).count() == 1


def test_change_assignment_refusals(admin, make_user, make_org) -> None:
    target = make_user(Role.INVESTIGATOR, CHAOYANG)
    original = (target.role, target.organisation_id)
    with pytest.raises(ValidationFailed) as mismatch:
        change_user_assignment(
            acting_user=admin,
            user_id=target.pk,
            data=UserAssignment(role=Role.PARTNER_HEALTH, organisation_id=target.organisation_id),
        )
    assert "does not suit the role" in mismatch.value.field_errors["organisation"][0]
    far = make_org(SHANGHAI_HUANGPU, PS)
    with pytest.raises(ValidationFailed) as outside:
        change_user_assignment(
            acting_user=admin,
            user_id=target.pk,
            data=UserAssignment(role=Role.INVESTIGATOR, organisation_id=far.pk),
        )
    assert outside.value.field_errors == {
        "organisation": ["This unit lies outside your jurisdiction."]
    }
    assert denials(admin)[0].object_id == str(target.pk)
    with pytest.raises(ValidationFailed) as own:
        change_user_assignment(
            acting_user=admin,
            user_id=admin.pk,
            data=UserAssignment(role=Role.INVESTIGATOR, organisation_id=target.organisation_id),
        )
    assert "your own role" in own.value.message
    target.refresh_from_db()
    admin.refresh_from_db()
    assert (target.role, target.organisation_id) == original
    assert admin.role == Role.ADMINISTRATOR


def test_deactivate_and_reactivate(admin, make_user) -> None:
    target = make_user(Role.INVESTIGATOR, CHAOYANG)
    assert set_user_active(acting_user=admin, user_id=target.pk, active=False).is_active is False
    target.refresh_from_db()
    assert not target.is_active
    set_user_active(acting_user=admin, user_id=target.pk, active=False)  # already: no change
    assert set_user_active(acting_user=admin, user_id=target.pk, active=True).is_active is True
    details = [
        e.details for e in AuditEntry.objects.filter(action=AuditAction.UPDATE).order_by("seq")
    ]
    assert details == [
        {"fields": ["is_active"], "active": False},
        {"fields": ["is_active"], "active": True},
    ]


def test_an_administrator_cannot_deactivate_themself(admin) -> None:
    with pytest.raises(ValidationFailed) as failed:
        set_user_active(acting_user=admin, user_id=admin.pk, active=False)
    assert "your own account" in failed.value.message
    admin.refresh_from_db()
    assert admin.is_active


def test_the_last_national_administrator_stays(make_user) -> None:
    first = make_user(Role.ADMINISTRATOR, "CN")
    second = make_user(Role.ADMINISTRATOR, "CN")
    set_user_active(acting_user=first, user_id=second.pk, active=False)
    # ``second`` still holds a page open from before (its in-memory user is active): the
    # database knows it was deactivated, so ``first`` is now the last one and must stay.
    with pytest.raises(ValidationFailed) as failed:
        set_user_active(acting_user=second, user_id=first.pk, active=False)
    assert "last active administrator at the national level" in failed.value.message
    with pytest.raises(ValidationFailed):
        change_user_assignment(
            acting_user=second,
            user_id=first.pk,
            data=UserAssignment(role=Role.SUPERVISOR, organisation_id=first.organisation_id),
        )
    first.refresh_from_db()
    assert first.is_active and first.role == Role.ADMINISTRATOR
    # With another active national administrator, either may go.
    third = make_user(Role.ADMINISTRATOR, "CN")
    set_user_active(acting_user=third, user_id=first.pk, active=False)
    first.refresh_from_db()
    assert not first.is_active


def test_province_administrators_are_not_guarded_as_national_ones(make_user) -> None:
    nation = make_user(Role.ADMINISTRATOR, "CN")
    province = make_user(Role.ADMINISTRATOR, BEIJING)
    set_user_active(acting_user=nation, user_id=province.pk, active=False)
    province.refresh_from_db()
    assert not province.is_active
    with pytest.raises(AccessDenied):  # a province administrator cannot reach the ministry
        set_user_active(
            acting_user=make_user(Role.ADMINISTRATOR, BEIJING), user_id=nation.pk, active=False
        )


def test_reset_password(admin, make_user) -> None:
    target = make_user(Role.INVESTIGATOR, CHAOYANG)
    reset_user_password(acting_user=admin, user_id=target.pk, password=STRONG)
    target.refresh_from_db()
    assert target.check_password(STRONG) and not target.check_password(PASSWORD)
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, object_type="user")
    assert entry.details == {"fields": ["password"], "reset_by_administrator": True}
    assert STRONG not in entries_text()
    with pytest.raises(ValidationFailed) as weak:
        reset_user_password(acting_user=admin, user_id=target.pk, password="1234567890")
    assert weak.value.field_errors["password"]
    with pytest.raises(ValidationFailed) as own:
        reset_user_password(acting_user=admin, user_id=admin.pk, password="Another-long-one-7")
    assert "own password" in own.value.field_errors["password"][0]
    target.refresh_from_db()
    admin.refresh_from_db()
    assert target.check_password(STRONG) and admin.check_password(PASSWORD)
