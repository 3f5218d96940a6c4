"""Jurisdiction tree: loading real divisions, and whether a point lies in a division.

No boundary polygons ship with the registry data, only the seat coordinates of every province,
city and county.  A point is taken to lie in a division when one of its three nearest county seats
belongs to that division (a Voronoi approximation of the borders, tolerant by one neighbour) and
the nearest seat is within ``MAX_SEAT_DISTANCE_KM`` (which rules out the sea and other countries).
Account management (the second half of this module): administrators create and rename units and
create, reassign, deactivate and reset the passwords of users, all within their own jurisdiction
subtree; every change is audited, without personal data and never with a password.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from pypinyin import lazy_pinyin

from reunite.accounts.models import (
    Division,
    DivisionLevel,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from reunite.accounts.permissions import Action, can, role_allows, scope_q
from reunite.audit.models import AuditAction
from reunite.audit.services import record
from reunite.core.errors import AccessDenied, NotFound, ValidationFailed

NATION_CODE = "CN"
NEAREST_SEATS = 3
MAX_SEAT_DISTANCE_KM = 250.0
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class DivisionRow:
    code: str
    name: str
    level: DivisionLevel
    parent_code: str
    latitude: float | None
    longitude: float | None


def read_china_divisions() -> list[DivisionRow]:
    """Rows of the shipped registry (``accounts/data/divisions_cn.csv``), parents before children.

    Codes are the six-digit GB/T 2260 administrative codes.  County-level units administered
    directly by a province (``xx90xx``) hang under the province.  Units without coordinates borrow
    their parent's seat.
    """
    text = resources.files("reunite.accounts").joinpath("data/divisions_cn.csv").read_text("utf-8")
    raw = list(csv.DictReader(text.splitlines()))
    by_code = {r["adcode"][:6]: r for r in raw if not r["adcode"].startswith("99")}

    def parent_of(code: str) -> tuple[DivisionLevel, str]:
        if code[2:] == "0000":
            return DivisionLevel.PROVINCE, NATION_CODE
        if code[4:] == "00":
            return DivisionLevel.CITY, code[:2] + "0000"
        city = code[:4] + "00"
        return DivisionLevel.COUNTY, city if city in by_code else code[:2] + "0000"

    rows: list[DivisionRow] = []
    for code in sorted(by_code, key=lambda c: (parent_of(c)[0], c)):
        level, parent = parent_of(code)
        r = by_code[code]
        rows.append(
            DivisionRow(
                code=code,
                name=r["name"],
                level=level,
                parent_code=parent,
                latitude=float(r["latitude"]) if r["latitude"] else None,
                longitude=float(r["longitude"]) if r["longitude"] else None,
            )
        )
    return rows


def _latin(name: str) -> str:
    return " ".join(lazy_pinyin(name)).title().replace(" ", "")


@transaction.atomic
def load_divisions(rows: Iterable[DivisionRow] | None = None) -> int:
    """Create or update the tree from ``rows`` (default: China).  Idempotent; returns the count."""
    rows = list(rows if rows is not None else read_china_divisions())
    nation, _created = Division.objects.update_or_create(
        code=NATION_CODE,
        defaults={
            "name": "中华人民共和国",
            "name_latin": "People's Republic of China",
            "level": DivisionLevel.NATION,
            "parent": None,
            "path": f"/{NATION_CODE}/",
            "latitude": 39.9042,
            "longitude": 116.4074,
        },
    )
    existing = {d.code: d for d in Division.objects.all()}
    made: dict[str, Division] = {NATION_CODE: nation}
    to_create: list[Division] = []
    for row in rows:
        parent = made[row.parent_code]
        lat = row.latitude if row.latitude is not None else parent.latitude
        lon = row.longitude if row.longitude is not None else parent.longitude
        values = {
            "name": row.name,
            "name_latin": _latin(row.name),
            "level": row.level,
            "parent": parent,
            "path": f"{parent.path}{row.code}/",
            "latitude": lat,
            "longitude": lon,
        }
        division = existing.get(row.code)
        if division is None:
            division = Division(code=row.code, **values)
            to_create.append(division)
            # Children need the parent's primary key: flush each level as it completes.
            if row.level != DivisionLevel.COUNTY:
                division.save()
                to_create.pop()
        else:
            changed = [
                k
                for k, v in values.items()
                if (division.parent_id != parent.pk if k == "parent" else getattr(division, k) != v)
            ]
            if changed:
                for k in changed:
                    setattr(division, k, values[k])
                division.save(update_fields=changed)
        made[row.code] = division
    Division.objects.bulk_create(to_create, batch_size=500)
    _seats.cache_clear()
    return Division.objects.count()


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@lru_cache(maxsize=1)
def _seats() -> tuple[tuple[float, float, str], ...]:
    """(lat, lon, path) of every county-level (or lower) division with a seat."""
    return tuple(
        (lat, lon, path)
        for lat, lon, path in Division.objects.filter(
            level__gte=DivisionLevel.COUNTY, latitude__isnull=False, longitude__isnull=False
        ).values_list("latitude", "longitude", "path")
        if lat is not None and lon is not None
    )


def valid_coordinates(latitude: float, longitude: float) -> bool:
    return -90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0


def division_contains_point(division: Division, latitude: float, longitude: float) -> bool:
    """Whether (latitude, longitude) plausibly lies inside ``division`` (see module docstring)."""
    if not valid_coordinates(latitude, longitude):
        return False
    seats = _seats()
    if not seats:
        # No county seats loaded (a bare tree): only a distance check against the division's seat.
        if division.latitude is None or division.longitude is None:
            return True
        return haversine_km(latitude, longitude, division.latitude, division.longitude) <= (
            MAX_SEAT_DISTANCE_KM
        )
    # Cheap equirectangular distance to rank candidates, exact distance for the nearest.
    coslat = math.cos(math.radians(latitude))
    ranked = sorted(
        seats,
        key=lambda s: (s[0] - latitude) ** 2 + ((s[1] - longitude) * coslat) ** 2,
    )[:NEAREST_SEATS]
    if haversine_km(latitude, longitude, ranked[0][0], ranked[0][1]) > MAX_SEAT_DISTANCE_KM:
        return False
    return any(path.startswith(division.path) for _lat, _lon, path in ranked)


# =========================================================================== account management
#
# Role x jurisdiction as everywhere: ``Action.MANAGE_ACCOUNTS`` (administrators only) over the
# subtree of the administrator's own unit.  A unit lies in the subtree when its division does; a
# user when their unit does.  Users without a unit sit outside every subtree but the nation's.
#
# Refusals are audited (``DENIED``) *before* any transaction opens, so that rolling back the
# refused change can never roll back the record of the refusal.

MAX_ID = 2**63 - 1  # the largest primary key the databases hold; larger ids are simply not found
USER_OBJECT = "user"
ORGANISATION_OBJECT = "organisation"

# Which kinds of unit each role may belong to.
ROLE_ORGANISATION_KINDS: dict[str, frozenset[str]] = {
    Role.INVESTIGATOR: frozenset({OrganisationKind.PUBLIC_SECURITY}),
    Role.SUPERVISOR: frozenset({OrganisationKind.PUBLIC_SECURITY}),
    Role.DNA_TECHNICIAN: frozenset({OrganisationKind.FORENSIC_LAB}),
    Role.PARTNER_CIVIL_AFFAIRS: frozenset({OrganisationKind.CIVIL_AFFAIRS}),
    Role.PARTNER_HEALTH: frozenset({OrganisationKind.HEALTH}),
    Role.PARTNER_WOMENS_FEDERATION: frozenset({OrganisationKind.WOMENS_FEDERATION}),
    Role.PARTNER_WELFARE: frozenset(
        {OrganisationKind.WELFARE_INSTITUTION, OrganisationKind.RESCUE_STATION}
    ),
    Role.ADMINISTRATOR: frozenset(OrganisationKind.values),
}


def role_fits_organisation(role: str, kind: str) -> bool:
    """Whether a user with ``role`` may belong to a unit of ``kind``."""
    return kind in ROLE_ORGANISATION_KINDS.get(role, frozenset())


def role_kind_rule(role: str) -> str:
    """The rule for ``role`` in words: "Investigator: Public security bureau"."""
    kinds = ROLE_ORGANISATION_KINDS.get(role, frozenset())
    if kinds == frozenset(OrganisationKind.values):
        return _("%(role)s: a unit of any kind") % {"role": Role(role).label}
    labels = [str(OrganisationKind(k).label) for k in OrganisationKind.values if k in kinds]
    return _("%(role)s: %(kinds)s") % {"role": Role(role).label, "kinds": _(" or ").join(labels)}


@dataclass(frozen=True)
class OrganisationCreate:
    """A new unit; ``division_code`` is the code of the division it is placed at."""

    name: str
    kind: str
    division_code: str


@dataclass(frozen=True)
class UserCreate:
    """A new user account.  ``full_name`` is the display name (kept in ``first_name``)."""

    username: str
    role: str
    organisation_id: int | None
    password: str = field(repr=False)
    full_name: str = ""
    email: str = ""


@dataclass(frozen=True)
class UserAssignment:
    """The role a user acts in and the unit they act for."""

    role: str
    organisation_id: int | None


@dataclass(frozen=True)
class UserFilters:
    """Empty values mean "any"; ``active`` is True, False or None (both)."""

    role: str = ""
    organisation_id: int | None = None
    active: bool | None = None


def _deny(acting_user: User, object_type: str, object_id: object = "", **details: str) -> None:
    record(
        actor=acting_user,
        action=AuditAction.DENIED,
        object_type=object_type,
        object_id=object_id,
        details={"wanted": str(Action.MANAGE_ACCOUNTS), **details},
    )


def require_account_manager(
    *, acting_user: User, object_type: str, object_id: object = ""
) -> Division:
    """The administrator's jurisdiction; anyone else is refused (audited, ``AccessDenied``)."""
    home = acting_user.jurisdiction if role_allows(acting_user, Action.MANAGE_ACCOUNTS) else None
    if home is None:
        _deny(acting_user, object_type, object_id)
        raise AccessDenied(_("Your role may not manage accounts."))
    return home


def _valid_id(value: int | None) -> bool:
    return value is not None and 0 < value <= MAX_ID


def _is_nation(division: Division) -> bool:
    return division.parent_id is None


def _user_scope(acting_user: User, home: Division) -> Q:
    scope = scope_q(acting_user, Action.MANAGE_ACCOUNTS, field="organisation__division")
    if _is_nation(home):
        scope |= Q(organisation__isnull=True)
    return scope


def _may_manage_user(acting_user: User, home: Division, target: User) -> bool:
    if target.organisation is None:
        return _is_nation(home)
    return can(acting_user, Action.MANAGE_ACCOUNTS, target.organisation.division)


# --------------------------------------------------------------------------- units


def list_organisations(*, acting_user: User) -> QuerySet[Organisation]:
    """Units in the administrator's subtree with their member counts, by division then name."""
    require_account_manager(acting_user=acting_user, object_type=ORGANISATION_OBJECT)
    return (
        Organisation.objects.filter(scope_q(acting_user, Action.MANAGE_ACCOUNTS))
        .select_related("division")
        .annotate(member_count=Count("members"))
        .order_by("division__code", "name", "pk")
    )


def organisation_choices(*, acting_user: User) -> list[tuple[int, str]]:
    """(id, label) of every unit the administrator may put users in, for a select box."""
    require_account_manager(acting_user=acting_user, object_type=ORGANISATION_OBJECT)
    units = (
        Organisation.objects.filter(scope_q(acting_user, Action.MANAGE_ACCOUNTS))
        .order_by("division__code", "name", "pk")
        .values_list("pk", "name", "division__name", "division__code")
    )
    return [(pk, f"{name} — {place} ({code})") for pk, name, place, code in units]


def get_organisation(*, acting_user: User, organisation_id: int) -> Organisation:
    require_account_manager(
        acting_user=acting_user, object_type=ORGANISATION_OBJECT, object_id=organisation_id
    )
    unit = (
        Organisation.objects.select_related("division")
        .annotate(member_count=Count("members"))
        .filter(pk=organisation_id)
        .first()
        if _valid_id(organisation_id)
        else None
    )
    if unit is None:
        raise NotFound(_("No such unit."))
    if not can(acting_user, Action.MANAGE_ACCOUNTS, unit.division):
        _deny(acting_user, ORGANISATION_OBJECT, unit.pk, reason="outside_jurisdiction")
        raise AccessDenied(_("This unit lies outside your jurisdiction."))
    return unit


def _clean_unit_name(name: str, errors: dict[str, list[str]]) -> str:
    name = " ".join(name.split())
    max_length = Organisation._meta.get_field("name").max_length or 200
    if not name:
        errors.setdefault("name", []).append(_("Give the unit a name."))
    elif len(name) > max_length:
        errors.setdefault("name", []).append(
            _("The name is too long (at most %(n)d characters).") % {"n": max_length}
        )
    return name


def _name_taken_message(division: Division) -> str:
    return _("A unit with this name already exists in %(place)s.") % {"place": division.name}


def create_organisation(*, acting_user: User, data: OrganisationCreate) -> Organisation:
    """Place a new unit at a division inside the administrator's subtree."""
    require_account_manager(acting_user=acting_user, object_type=ORGANISATION_OBJECT)
    errors: dict[str, list[str]] = {}
    name = _clean_unit_name(data.name, errors)
    if data.kind not in OrganisationKind.values:
        errors["kind"] = [_("Choose the kind of unit from the list.")]
    code = data.division_code.strip()
    division = Division.objects.filter(code=code).first() if code else None
    if not code:
        errors["division"] = [_("Give the code of the division the unit belongs to.")]
    elif division is None:
        errors["division"] = [_("There is no division with the code “%(code)s”.") % {"code": code}]
    elif not can(acting_user, Action.MANAGE_ACCOUNTS, division):
        _deny(acting_user, ORGANISATION_OBJECT, reason="division_outside_jurisdiction")
        errors["division"] = [_("This division lies outside your jurisdiction.")]
    if (
        division is not None
        and name
        and "division" not in errors
        and Organisation.objects.filter(division=division, name__iexact=name).exists()
    ):
        errors.setdefault("name", []).append(_name_taken_message(division))
    if errors or division is None:
        raise ValidationFailed(_("The unit was not created."), field_errors=errors)
    try:
        with transaction.atomic():
            unit = Organisation.objects.create(name=name, kind=data.kind, division=division)
            record(
                actor=acting_user,
                action=AuditAction.CREATE,
                object_type=ORGANISATION_OBJECT,
                object_id=unit.pk,
                details={"kind": unit.kind, "division": division.code},
            )
    except IntegrityError as exc:  # the same name saved a moment ago by someone else
        raise ValidationFailed(
            _("The unit was not created."), field_errors={"name": [_name_taken_message(division)]}
        ) from exc
    return unit


def rename_organisation(*, acting_user: User, organisation_id: int, name: str) -> Organisation:
    unit = get_organisation(acting_user=acting_user, organisation_id=organisation_id)
    errors: dict[str, list[str]] = {}
    name = _clean_unit_name(name, errors)
    if (
        name
        and Organisation.objects.filter(division=unit.division, name__iexact=name)
        .exclude(pk=unit.pk)
        .exists()
    ):
        errors["name"] = [_name_taken_message(unit.division)]
    if errors:
        raise ValidationFailed(_("The unit was not renamed."), field_errors=errors)
    if name == unit.name:
        return unit
    unit.name = name
    try:
        with transaction.atomic():
            unit.save(update_fields=["name"])
            record(
                actor=acting_user,
                action=AuditAction.UPDATE,
                object_type=ORGANISATION_OBJECT,
                object_id=unit.pk,
                details={"fields": ["name"]},
            )
    except IntegrityError as exc:
        raise ValidationFailed(
            _("The unit was not renamed."),
            field_errors={"name": [_name_taken_message(unit.division)]},
        ) from exc
    return unit


# --------------------------------------------------------------------------- users


def list_users(*, acting_user: User, filters: UserFilters) -> QuerySet[User]:
    """Users of units in the administrator's subtree, by username; the search is audited."""
    home = require_account_manager(acting_user=acting_user, object_type=USER_OBJECT)
    qs = User.objects.filter(_user_scope(acting_user, home)).select_related(
        "organisation__division"
    )
    if filters.role:
        qs = qs.filter(role=filters.role)
    if filters.organisation_id is not None:
        qs = (
            qs.filter(organisation_id=filters.organisation_id)
            if _valid_id(filters.organisation_id)
            else qs.none()
        )
    if filters.active is not None:
        qs = qs.filter(is_active=filters.active)
    used = [k for k, v in vars(filters).items() if v not in ("", None)]
    record(
        actor=acting_user,
        action=AuditAction.SEARCH,
        object_type=USER_OBJECT,
        details={"filters": sorted(used)},
    )
    return qs.order_by("username", "pk")


def _target_user(acting_user: User, user_id: int) -> tuple[Division, User]:
    home = require_account_manager(
        acting_user=acting_user, object_type=USER_OBJECT, object_id=user_id
    )
    target = (
        User.objects.select_related("organisation__division").filter(pk=user_id).first()
        if _valid_id(user_id)
        else None
    )
    if target is None:
        raise NotFound(_("No such user."))
    if not _may_manage_user(acting_user, home, target):
        _deny(acting_user, USER_OBJECT, target.pk, reason="outside_jurisdiction")
        raise AccessDenied(_("This user's unit lies outside your jurisdiction."))
    return home, target


def get_managed_user(*, acting_user: User, user_id: int) -> User:
    """One user of the administrator's subtree; the read is audited."""
    _home, target = _target_user(acting_user, user_id)
    record(actor=acting_user, action=AuditAction.READ, object_type=USER_OBJECT, object_id=target.pk)
    return target


def _check_role_and_unit(
    acting_user: User,
    role: str,
    organisation_id: int | None,
    errors: dict[str, list[str]],
    *,
    object_id: object = "",
) -> Organisation | None:
    """The unit to place a user in, checked against the administrator's subtree and the role."""
    if role not in Role.values:
        errors["role"] = [_("Choose a role from the list.")]
    if organisation_id is None:
        errors["organisation"] = [_("Choose the unit the user works for.")]
        return None
    unit = (
        Organisation.objects.select_related("division").filter(pk=organisation_id).first()
        if _valid_id(organisation_id)
        else None
    )
    if unit is None:
        errors["organisation"] = [_("There is no such unit. Choose one from the list.")]
        return None
    if not can(acting_user, Action.MANAGE_ACCOUNTS, unit.division):
        _deny(acting_user, USER_OBJECT, object_id, reason="unit_outside_jurisdiction")
        errors["organisation"] = [_("This unit lies outside your jurisdiction.")]
        return None
    if role in Role.values and not role_fits_organisation(role, unit.kind):
        errors["organisation"] = [
            _("%(unit)s is a unit of kind “%(kind)s”, which does not suit the role. %(rule)s.")
            % {"unit": unit.name, "kind": unit.get_kind_display(), "rule": role_kind_rule(role)}
        ]
    return unit


def _password_errors(password: str, user: User) -> list[str]:
    if not password:
        return [_("Give a password.")]
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def create_user(*, acting_user: User, data: UserCreate) -> User:
    """A new account in a unit of the administrator's subtree, with a validated password.

    Usernames are unique without regard to case.  Nothing is saved when anything is wrong; the
    audit entry holds the role and the unit, never the password or the person's name.
    """
    require_account_manager(acting_user=acting_user, object_type=USER_OBJECT)
    errors: dict[str, list[str]] = {}
    username = User.normalize_username(data.username.strip())
    if not username:
        errors["username"] = [_("Give a username.")]
    else:
        try:
            User._meta.get_field("username").run_validators(username)
        except ValidationError as exc:
            errors["username"] = list(exc.messages)
        else:
            if User.objects.filter(username__iexact=username).exists():
                errors["username"] = [
                    _(
                        "The username “%(username)s” is already taken (usernames are compared "
                        "without regard to upper and lower case)."
                    )
                    % {"username": username}
                ]
    full_name = " ".join(data.full_name.split())
    max_name = User._meta.get_field("first_name").max_length or 150
    if len(full_name) > max_name:
        errors["full_name"] = [
            _("The name is too long (at most %(n)d characters).") % {"n": max_name}
        ]
    email = data.email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Give a valid e-mail address, or leave it empty.")]
        else:
            email = User.objects.normalize_email(email)
    unit = _check_role_and_unit(acting_user, data.role, data.organisation_id, errors)
    user = User(
        username=username, first_name=full_name, email=email, role=data.role, organisation=unit
    )
    password_errors = _password_errors(data.password, user)
    if password_errors:
        errors["password"] = password_errors
    if errors or unit is None:
        raise ValidationFailed(_("The user was not created."), field_errors=errors)
    user.set_password(data.password)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
            record(
                actor=acting_user,
                action=AuditAction.CREATE,
                object_type=USER_OBJECT,
                object_id=user.pk,
                details={"role": user.role, "organisation": unit.pk},
            )
    except IntegrityError as exc:  # the same username saved a moment ago by someone else
        raise ValidationFailed(
            _("The user was not created."),
            field_errors={"username": [_("This username is already taken.")]},
        ) from exc
    return user


_NATION_ADMIN_Q = Q(
    role=Role.ADMINISTRATOR, is_active=True, organisation__division__parent__isnull=True
)


def _is_nation_admin(user: User) -> bool:
    return (
        user.is_active
        and user.role == Role.ADMINISTRATOR
        and user.organisation is not None
        and _is_nation(user.organisation.division)
    )


def _locked_for_change(user_id: int) -> tuple[User, int]:
    """Lock the user and every active national administrator (in one ordered query, so two
    administrators changing each other cannot deadlock); return the fresh user and how many
    other active national administrators there are.  Call inside a transaction."""
    rows = list(
        User.objects.select_for_update(of=("self",))
        .select_related("organisation__division")
        .filter(Q(pk=user_id) | _NATION_ADMIN_Q)
        .order_by("pk")
    )
    target = next(u for u in rows if u.pk == user_id)
    return target, sum(1 for u in rows if u.pk != user_id)


def _last_nation_admin_error() -> ValidationFailed:
    return ValidationFailed(
        _(
            "This is the last active administrator at the national level; the nation would be "
            "left without anyone to manage its accounts. Appoint another one first."
        )
    )


def change_user_assignment(*, acting_user: User, user_id: int, data: UserAssignment) -> User:
    """Give a user another role and/or unit, both within the administrator's reach."""
    _home, target = _target_user(acting_user, user_id)
    if target.pk == acting_user.pk:
        raise ValidationFailed(
            _("You cannot change your own role or unit; ask another administrator.")
        )
    errors: dict[str, list[str]] = {}
    unit = _check_role_and_unit(
        acting_user, data.role, data.organisation_id, errors, object_id=target.pk
    )
    if errors or unit is None:
        raise ValidationFailed(_("The user was not changed."), field_errors=errors)
    with transaction.atomic():
        target, other_nation_admins = _locked_for_change(target.pk)
        changed = [
            name
            for name, differs in (
                ("role", target.role != data.role),
                ("organisation", target.organisation_id != unit.pk),
            )
            if differs
        ]
        if not changed:
            return target
        was_nation_admin = _is_nation_admin(target)
        target.role = data.role
        target.organisation = unit
        if was_nation_admin and not _is_nation_admin(target) and other_nation_admins == 0:
            raise _last_nation_admin_error()
        target.save(update_fields=changed)
        record(
            actor=acting_user,
            action=AuditAction.UPDATE,
            object_type=USER_OBJECT,
            object_id=target.pk,
            details={"fields": changed, "role": target.role, "organisation": unit.pk},
        )
    return target


def set_user_active(*, acting_user: User, user_id: int, active: bool) -> User:
    """Deactivate (signs the user out at once, keeps the history) or reactivate an account.

    Nobody deactivates their own account, nor the last active national administrator.
    """
    _home, target = _target_user(acting_user, user_id)
    if target.pk == acting_user.pk and not active:
        raise ValidationFailed(_("You cannot deactivate your own account."))
    with transaction.atomic():
        target, other_nation_admins = _locked_for_change(target.pk)
        if target.is_active == active:
            return target
        if not active and _is_nation_admin(target) and other_nation_admins == 0:
            raise _last_nation_admin_error()
        target.is_active = active
        target.save(update_fields=["is_active"])
        record(
            actor=acting_user,
            action=AuditAction.UPDATE,
            object_type=USER_OBJECT,
            object_id=target.pk,
            details={"fields": ["is_active"], "active": active},
        )
    return target


def reset_user_password(*, acting_user: User, user_id: int, password: str) -> User:
    """An administrator sets a new (validated) password; the user's sessions end with it."""
    _home, target = _target_user(acting_user, user_id)
    if target.pk == acting_user.pk:
        raise ValidationFailed(
            _("Change your own password on your account page."),
            field_errors={"password": [_("Change your own password on your account page.")]},
        )
    errors = _password_errors(password, target)
    if errors:
        raise ValidationFailed(
            _("The password was not changed."), field_errors={"password": errors}
        )
    target.set_password(password)
    with transaction.atomic():
        target.save(update_fields=["password"])
        record(
            actor=acting_user,
            action=AuditAction.UPDATE,
            object_type=USER_OBJECT,
            object_id=target.pk,
            details={"fields": ["password"], "reset_by_administrator": True},
        )
    return target


def record_own_password_change(*, acting_user: User) -> None:
    """Audit that a user changed their own password (Django's form checked and saved it)."""
    record(
        actor=acting_user,
        action=AuditAction.UPDATE,
        object_type=USER_OBJECT,
        object_id=acting_user.pk,
        details={"fields": ["password"]},
    )
