"""Realistic synthetic demo data: units, one user per role, missing reports and found persons.

Everything is made up but shaped like the real thing: the units are named the way Chinese public
security bureaus, forensic laboratories, civil-affairs offices, welfare institutions and rescue
stations are named, placed on the real division tree; names follow real surname frequencies and
the given names of each birth decade; places are the county's name with an everyday landmark,
with coordinates near the county seat (checked with ``division_contains_point``).  Telephone
numbers use the prefix 100, which no Chinese mobile network issues, so none of them can ring
anyone.

Speed: records are built as model instances and inserted with ``bulk_create``.  Each one is first
checked by the same validators the services use (``validate_missing`` / ``validate_found``) and
gets its derived fields from the same helpers (``_apply_missing`` / ``_apply_found``: name pinyin,
blind name index, birth year); the owning unit's division is its jurisdiction, and every missing
report opens its case through ``cases.services.open_cases_for_reports``.  Generated records never
trip the probable-duplicate checks: a name, birth year and place combination that would is drawn
again.  One audit entry (``demo_seed``) records each seeding that added anything.

Idempotent: units and users are found by natural key (division and name; username), records are
marked by their creator (the inactive ``demo-seed`` account) and counted, so a second run with the
same sizes adds nothing, and a larger size only tops up.  Record ``i`` is drawn from its own
random generator seeded with ``(seed, kind, i)``.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from reunite.accounts.models import Division, Organisation, OrganisationKind, Role, User
from reunite.accounts.services import NATION_CODE, division_contains_point
from reunite.audit.models import AuditAction
from reunite.audit.services import record
from reunite.cases.services import open_cases_for_reports
from reunite.core.names import has_han
from reunite.people.models import (
    Build,
    FoundCategory,
    FoundPerson,
    FoundStatus,
    MissingPersonReport,
    MissingStatus,
    Relationship,
    ReportingRelative,
)
from reunite.people.services import (
    FoundPersonData,
    MissingReportData,
    RelativeData,
    _apply_found,
    _apply_missing,
    birth_year_of,
    validate_found,
    validate_missing,
)

T = TypeVar("T")

# Published on purpose: every demo account shares it, and the demo prints it.
DEMO_PASSWORD = "Reunite-demo-2026"  # noqa: S105
SEED_USERNAME = "demo-seed"
SEED_OBJECT_TYPE = "demo_seed"
BATCH = 500
MAX_DRAWS = 40
POINT_RADIUS_KM = 5.0
KM_PER_DEGREE = 111.2

# --------------------------------------------------------------------------- the units


@dataclass(frozen=True)
class CityPlan:
    code: str
    counties: tuple[str, ...]


@dataclass(frozen=True)
class ProvincePlan:
    code: str
    cities: tuple[CityPlan, ...]
    dialects: tuple[str, ...]
    surnames: tuple[str, ...] = ()  # locally common surnames, weighted up
    municipality: bool = False  # Beijing: its public security bureau is province-level


PLAN: tuple[ProvincePlan, ...] = (
    ProvincePlan(
        "440000",
        (
            CityPlan("440100", ("440111", "440113", "440114", "440118")),
            CityPlan("440300", ("440304", "440306", "440307")),
            CityPlan("440800", ("440823", "440825", "440881", "440882")),
        ),
        ("粤语", "客家话", "潮汕话", "普通话"),
        ("陈", "林", "黄", "梁", "罗", "叶", "钟", "冯"),
    ),
    ProvincePlan(
        "510000",
        (
            CityPlan("510100", ("510106", "510107", "510121", "510129", "510185")),
            CityPlan("513400", ("513401", "513429", "513431", "513434", "513436")),
            CityPlan("511300", ("511302", "511321", "511324", "511381")),
        ),
        ("四川话", "彝语", "普通话"),
        ("杨", "罗", "何", "邓", "曾", "彭"),
    ),
    ProvincePlan(
        "530000",
        (
            CityPlan("530100", ("530102", "530111", "530128", "530181")),
            CityPlan("530600", ("530602", "530622", "530627", "530628")),
            CityPlan("532600", ("532601", "532624", "532625", "532627")),
        ),
        ("云南话", "壮语", "苗语", "彝语"),
        ("杨", "李", "罗", "陶", "熊", "龙"),
    ),
    ProvincePlan(
        "520000",
        (
            CityPlan("520100", ("520102", "520103", "520111", "520181")),
            CityPlan("520500", ("520502", "520524", "520525", "520526")),
            CityPlan("522600", ("522601", "522631", "522632", "522633")),
        ),
        ("贵州话", "苗语", "侗语", "布依语"),
        ("杨", "吴", "龙", "潘", "石", "罗"),
    ),
    ProvincePlan(
        "410000",
        (
            CityPlan("410100", ("410102", "410105", "410122", "410184")),
            CityPlan("411600", ("411602", "411625", "411628", "411681")),
            CityPlan("411400", ("411402", "411425", "411426", "411481")),
        ),
        ("河南话", "普通话"),
        ("王", "李", "张", "刘", "赵", "郭"),
    ),
    ProvincePlan(
        "430000",
        (
            CityPlan("430100", ("430102", "430104", "430121", "430181")),
            CityPlan("430500", ("430502", "430524", "430525", "430581")),
            CityPlan("431200", ("431202", "431222", "431224", "431281")),
        ),
        ("湖南话", "湘语", "苗语", "侗语"),
        ("刘", "李", "唐", "曾", "彭", "谭"),
    ),
    ProvincePlan(
        "450000",
        (
            CityPlan("450100", ("450103", "450107", "450110", "450126")),
            CityPlan("450900", ("450902", "450922", "450923", "450981")),
            CityPlan("451000", ("451002", "451022", "451031", "451081")),
        ),
        ("桂柳话", "壮语", "白话", "客家话"),
        ("韦", "覃", "黄", "莫", "蒙", "陆", "梁"),
    ),
    ProvincePlan(
        "350000",
        (
            CityPlan("350100", ("350102", "350104", "350121", "350181")),
            CityPlan("350300", ("350302", "350303", "350322")),
            CityPlan("350500", ("350502", "350524", "350582", "350583")),
        ),
        ("闽南话", "福州话", "莆仙话", "普通话"),
        ("陈", "林", "黄", "郑", "吴", "蔡", "许"),
    ),
    ProvincePlan(
        "110000",
        (CityPlan("110100", ("110105", "110106", "110108", "110114", "110115")),),
        ("普通话", "北京话"),
        municipality=True,
    ),
)

MINISTRY_NAME = "公安部刑事侦查局"
DEMO_CITY = "510100"  # the partner users work in Chengdu …
DEMO_COUNTY = "510106"  # … and the investigator at the Jinniu district bureau
DEMO_PROVINCE = "510000"


def _province_ps_name(province: Division, municipality: bool) -> str:
    return f"{province.name}公安局" if municipality else f"{province.name}公安厅"


def _county_ps_name(county: Division) -> str:
    # Districts have branch bureaus (分局); counties and county-level cities full bureaus.
    return f"{county.name}公安分局" if county.name.endswith("区") else f"{county.name}公安局"


@dataclass
class CountyUnits:
    """The units around one county: who may own a record there and who may hold a person."""

    county: Division
    province_code: str
    bureau: Organisation
    city_bureau: Organisation
    child_welfare: Organisation
    adult_welfare: Organisation
    rescue_stations: list[Organisation]
    mental_health: Organisation
    dialects: tuple[str, ...]
    surnames: tuple[str, ...]


@dataclass
class DemoUnits:
    ministry: Organisation
    by_name: dict[tuple[str, str], Organisation]  # (division code, name) -> unit
    counties: list[CountyUnits] = field(default_factory=list)

    def get(self, code: str, name: str) -> Organisation:
        return self.by_name[(code, name)]


def _unit_specs(
    divisions: dict[str, Division],
) -> list[tuple[str, str, str]]:
    """(division code, name, kind) of every demo unit."""
    ps, lab = OrganisationKind.PUBLIC_SECURITY, OrganisationKind.FORENSIC_LAB
    civil, health = OrganisationKind.CIVIL_AFFAIRS, OrganisationKind.HEALTH
    women, welfare = OrganisationKind.WOMENS_FEDERATION, OrganisationKind.WELFARE_INSTITUTION
    rescue = OrganisationKind.RESCUE_STATION
    specs: list[tuple[str, str, str]] = [(NATION_CODE, MINISTRY_NAME, ps)]
    for plan in PLAN:
        province = divisions[plan.code]
        ps_name = _province_ps_name(province, plan.municipality)
        specs += [
            (plan.code, ps_name, ps),
            (plan.code, f"{ps_name}物证鉴定中心", lab),
            (plan.code, f"{province.name}{'民政局' if plan.municipality else '民政厅'}", civil),
        ]
        for city_plan in plan.cities:
            city = divisions[city_plan.code]
            if not plan.municipality:
                specs.append((city.code, f"{city.name}公安局", ps))
            specs += [
                (city.code, f"{city.name}民政局", civil),
                (city.code, f"{city.name}卫生健康委员会", health),
                (city.code, f"{city.name}精神卫生中心", health),
                (city.code, f"{city.name}妇女联合会", women),
                (city.code, f"{city.name}儿童福利院", welfare),
                (city.code, f"{city.name}社会福利院", welfare),
                (city.code, f"{city.name}救助管理站", rescue),
            ]
            for code in city_plan.counties:
                county = divisions[code]
                specs += [
                    (code, _county_ps_name(county), ps),
                    (code, f"{county.name}民政局", civil),
                    (code, f"{county.name}救助管理站", rescue),
                ]
    return specs


def ensure_units() -> tuple[DemoUnits, int]:
    """Create the demo units that are not there yet; returns them and how many were new."""
    codes = {NATION_CODE}
    for plan in PLAN:
        codes.add(plan.code)
        for city_plan in plan.cities:
            codes.add(city_plan.code)
            codes.update(city_plan.counties)
    divisions = {d.code: d for d in Division.objects.filter(code__in=codes)}
    absent = sorted(codes - set(divisions))
    if absent:
        raise LookupError(
            f"divisions {', '.join(absent)} are not loaded (run 'reunite load_divisions')"
        )
    specs = _unit_specs(divisions)
    existing = {
        (o.division.code, o.name): o
        for o in Organisation.objects.filter(division__code__in=codes).select_related("division")
    }
    new = [
        Organisation(division=divisions[code], name=name, kind=kind)
        for code, name, kind in specs
        if (code, name) not in existing
    ]
    Organisation.objects.bulk_create(new, batch_size=BATCH)
    by_name = {
        (o.division.code, o.name): o
        for o in Organisation.objects.filter(division__code__in=codes).select_related("division")
    }
    units = DemoUnits(ministry=by_name[(NATION_CODE, MINISTRY_NAME)], by_name=by_name)
    for plan in PLAN:
        province = divisions[plan.code]
        for city_plan in plan.cities:
            city = divisions[city_plan.code]
            city_bureau = (
                units.get(plan.code, _province_ps_name(province, True))
                if plan.municipality
                else units.get(city.code, f"{city.name}公安局")
            )
            for code in city_plan.counties:
                county = divisions[code]
                units.counties.append(
                    CountyUnits(
                        county=county,
                        province_code=plan.code,
                        bureau=units.get(code, _county_ps_name(county)),
                        city_bureau=city_bureau,
                        child_welfare=units.get(city.code, f"{city.name}儿童福利院"),
                        adult_welfare=units.get(city.code, f"{city.name}社会福利院"),
                        rescue_stations=[
                            units.get(city.code, f"{city.name}救助管理站"),
                            units.get(code, f"{county.name}救助管理站"),
                        ],
                        mental_health=units.get(city.code, f"{city.name}精神卫生中心"),
                        dialects=plan.dialects,
                        surnames=plan.surnames,
                    )
                )
    return units, len(new)


# --------------------------------------------------------------------------- the users


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    unit: str


def _demo_accounts(units: DemoUnits) -> list[tuple[str, str, Organisation]]:
    chengdu = Division.objects.get(code=DEMO_CITY)
    sichuan = Division.objects.get(code=DEMO_PROVINCE)
    county = Division.objects.get(code=DEMO_COUNTY)
    dept = _province_ps_name(sichuan, False)
    return [
        ("demo-investigator", Role.INVESTIGATOR, units.get(county.code, _county_ps_name(county))),
        (
            "demo-dna-technician",
            Role.DNA_TECHNICIAN,
            units.get(sichuan.code, f"{dept}物证鉴定中心"),
        ),
        ("demo-supervisor", Role.SUPERVISOR, units.get(sichuan.code, dept)),
        (
            "demo-civil-affairs",
            Role.PARTNER_CIVIL_AFFAIRS,
            units.get(chengdu.code, f"{chengdu.name}民政局"),
        ),
        (
            "demo-health",
            Role.PARTNER_HEALTH,
            units.get(chengdu.code, f"{chengdu.name}精神卫生中心"),
        ),
        (
            "demo-womens-federation",
            Role.PARTNER_WOMENS_FEDERATION,
            units.get(chengdu.code, f"{chengdu.name}妇女联合会"),
        ),
        (
            "demo-welfare",
            Role.PARTNER_WELFARE,
            units.get(chengdu.code, f"{chengdu.name}儿童福利院"),
        ),
        ("demo-administrator", Role.ADMINISTRATOR, units.ministry),
        ("demo-ministry-supervisor", Role.SUPERVISOR, units.ministry),
    ]


def ensure_users(units: DemoUnits, password: str = DEMO_PASSWORD) -> tuple[list[DemoLogin], int]:
    """One demo account per role (and a ministry supervisor); existing accounts are kept as
    they are, password included.  Returns the logins and how many accounts were new."""
    logins: list[DemoLogin] = []
    created = 0
    for username, role, unit in _demo_accounts(units):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, role=role, organisation=unit)
            validate_password(password, user)
            user.set_password(password)
            user.save()
            created += 1
        logins.append(DemoLogin(username=user.username, role=user.role, unit=str(unit)))
    return logins, created


def seed_user() -> tuple[User, bool]:
    """The inactive account that demo records are created by: it marks them as demo data."""
    user = User.objects.filter(username=SEED_USERNAME).first()
    if user is not None:
        return user, False
    user = User(username=SEED_USERNAME, first_name="Demo data", is_active=False)
    user.set_unusable_password()
    user.save()
    return user, True


# --------------------------------------------------------------------------- names

# The most common surnames with their approximate share of the population (per mille).
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 71), ("李", 70), ("张", 67), ("刘", 54), ("陈", 46), ("杨", 31), ("黄", 22),
    ("赵", 20), ("吴", 20), ("周", 19), ("徐", 14), ("孙", 13), ("马", 12), ("朱", 12),
    ("胡", 11), ("郭", 11), ("何", 10), ("林", 10), ("罗", 9), ("高", 9), ("郑", 8),
    ("梁", 7), ("谢", 6), ("宋", 6), ("唐", 6), ("许", 5), ("韩", 5), ("邓", 5),
    ("冯", 5), ("曹", 5), ("彭", 5), ("曾", 5), ("肖", 5), ("田", 4), ("董", 4),
    ("潘", 4), ("袁", 4), ("蔡", 4), ("蒋", 4), ("余", 4), ("于", 4), ("杜", 4),
    ("叶", 4), ("程", 4), ("魏", 3), ("苏", 3), ("吕", 3), ("丁", 3), ("任", 3),
    ("卢", 3), ("姚", 3), ("沈", 3), ("钟", 3), ("姜", 3), ("崔", 3), ("谭", 3),
    ("陆", 3), ("范", 2), ("汪", 2), ("廖", 2), ("石", 2), ("金", 2), ("韦", 2),
    ("贾", 2), ("夏", 2), ("付", 2), ("方", 2), ("邹", 2), ("熊", 2), ("白", 2),
    ("孟", 2), ("秦", 2), ("邱", 2), ("侯", 2), ("江", 2), ("尹", 2), ("薛", 2),
    ("闫", 2), ("段", 2), ("雷", 2), ("龙", 2), ("黎", 2), ("史", 2), ("陶", 2),
    ("贺", 2), ("毛", 2), ("郝", 2), ("顾", 2), ("龚", 2), ("邵", 2), ("覃", 1),
    ("莫", 1), ("蒙", 1), ("向", 1), ("严", 1), ("戴", 1), ("武", 1), ("康", 1),
)  # fmt: skip

# Given names by birth era: a name says when someone was born.
GIVEN_NAMES: dict[tuple[int, str], tuple[str, ...]] = {
    (1950, "M"): ("建国", "国庆", "福生", "德明", "志华", "永福", "长顺", "树林", "玉山", "国华"),
    (1950, "F"): ("秀英", "桂英", "玉兰", "桂兰", "淑珍", "凤英", "翠花", "秀兰", "玉珍", "素芬"),
    (1965, "M"): ("建华", "伟", "军", "勇", "强", "斌", "志强", "国平", "海涛", "建军", "卫东"),
    (1965, "F"): ("丽", "红", "霞", "燕", "艳", "丽华", "春梅", "秀梅", "玉梅", "芳", "英"),
    (1985, "M"): ("磊", "涛", "鹏", "超", "杰", "浩", "俊", "宇", "飞", "鑫", "旭东", "文杰"),
    (1985, "F"): ("婷", "娜", "丹", "倩", "雪", "晶", "颖", "佳", "琳", "慧", "晓燕", "丽娟"),
    (2005, "M"): ("子轩", "浩然", "宇轩", "梓睿", "一鸣", "俊熙", "皓轩", "泽宇", "博文", "明哲"),
    (2005, "F"): ("梓涵", "欣怡", "诗涵", "一诺", "雨涵", "可馨", "梓萱", "紫涵", "佳怡", "语桐"),
}
# Single characters that combine into two-character given names.
NAME_CHARS = {
    "M": "伟强军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林洋阳文志国永海",
    "F": "芳娜敏静丽艳娟霞燕玲丹萍红婷雪慧莉佳欣怡梦琳倩晶颖秀兰英梅玉月",
}
# Yi names of Liangshan: a clan name and a personal name, in Han transcription.
YI_SURNAMES = ("吉克", "阿苏", "沙马", "马海", "俄木", "吉伍", "阿鲁", "海来", "曲比")
YI_GIVEN = {
    "M": ("石布", "拉且", "日哈", "木呷", "伍各", "尔古"),
    "F": ("阿依", "阿呷", "伍呷", "日呷", "莫色"),
}
YI_PREFECTURE = "513400"
NICKNAMES = ("小宝", "毛毛", "乐乐", "豆豆", "二娃", "幺妹", "丫丫", "小胖", "阿强", "牛牛", "妞妞")


def _weighted(rng: random.Random, pairs: Sequence[tuple[T, float]]) -> T:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _surname(rng: random.Random, local: Sequence[str]) -> str:
    if local and rng.random() < 0.3:
        return rng.choice(local)
    return _weighted(rng, SURNAMES)


def _given_name(rng: random.Random, sex: str, born: int) -> str:
    sex = sex if sex in ("M", "F") else rng.choice("MF")
    era = max([e for e in (1950, 1965, 1985, 2005) if e <= born], default=1950)
    if rng.random() < 0.55:
        return rng.choice(GIVEN_NAMES[(era, sex)])
    chars = NAME_CHARS[sex]
    if rng.random() < 0.35:
        return rng.choice(chars)
    return rng.choice(chars) + rng.choice(chars)


def _full_name(rng: random.Random, sex: str, born: int, units: CountyUnits) -> tuple[str, str]:
    """(surname, given name) of someone from ``units``' county."""
    if f"/{YI_PREFECTURE}/" in units.county.path and rng.random() < 0.5:
        return rng.choice(YI_SURNAMES), rng.choice(YI_GIVEN["F" if sex == "F" else "M"])
    return _surname(rng, units.surnames), _given_name(rng, sex, born)


def _phone(rng: random.Random) -> str:
    # Prefix 100 is issued to no mobile network: these numbers ring nowhere.
    return f"100-{rng.randint(0, 9999):04d}-{rng.randint(0, 9999):04d}"


# --------------------------------------------------------------------------- places and dates

LANDMARKS = (
    "火车站附近", "汽车客运站", "学校门口", "集市", "菜市场", "网吧门口", "家门口",
    "幼儿园门口", "人民医院门诊楼", "人民广场", "河边", "建筑工地", "村口小卖部",
    "镇上赶集时", "公交车站", "步行街", "夜市", "工业园区", "老街", "超市门口",
)  # fmt: skip
FOUND_LANDMARKS = (
    "桥洞下", "火车站候车室", "高速公路服务区", "街头", "农贸市场", "公园长椅",
    "国道旁", "汽车站广场", "地下通道", "寺庙门口", "医院急诊室外", "废弃厂房",
)  # fmt: skip
MARKS = (
    "左眉上方有一颗黑痣", "右手背有烫伤疤痕", "门牙缺一颗", "左耳垂有小孔",
    "后颈有一块红色胎记", "头顶有一处旧伤疤", "左手小指残缺", "下巴有一道疤痕",
    "右脚有六个脚趾", "脸上有雀斑", "左眼斜视", "右臂有一块青色胎记", "额头有一道浅疤",
)  # fmt: skip


def _point_near(rng: random.Random, county: Division) -> tuple[float, float]:
    """A point within ``POINT_RADIUS_KM`` of the county seat that lies in the county."""
    assert county.latitude is not None and county.longitude is not None
    radius = POINT_RADIUS_KM
    for _attempt in range(12):
        r = radius * math.sqrt(rng.random())
        angle = rng.uniform(0, 2 * math.pi)
        lat = county.latitude + r * math.cos(angle) / KM_PER_DEGREE
        lon = county.longitude + r * math.sin(angle) / (
            KM_PER_DEGREE * math.cos(math.radians(county.latitude))
        )
        lat, lon = round(lat, 6), round(lon, 6)
        if division_contains_point(county, lat, lon):
            return lat, lon
        radius *= 0.7
    return county.latitude, county.longitude


def _recent_date(rng: random.Random, start: dt.date, end: dt.date, skew: float = 0.6) -> dt.date:
    """A date in [start, end], more of them recent (``skew`` < 1 pushes towards ``end``)."""
    span = (end - start).days
    return start + dt.timedelta(days=int(span * rng.random() ** skew))


def _birth_date(rng: random.Random, on: dt.date, age: int) -> dt.date:
    """A date of birth that makes someone exactly ``age`` on ``on``."""
    try:
        anniversary = on.replace(year=on.year - age)
    except ValueError:  # 29 February
        anniversary = on.replace(year=on.year - age, day=28)
    return anniversary - dt.timedelta(days=rng.randint(1, 364))


def _height(rng: random.Random, sex: str, age: int) -> int | None:
    if rng.random() < 0.3:
        return None
    if age <= 12:
        return int(52 + age * 6.5 + rng.randint(-4, 4))
    if age <= 17:
        return rng.randint(145, 178 if sex == "M" else 166)
    base = rng.randint(160, 182) if sex == "M" else rng.randint(150, 168)
    return base - (rng.randint(2, 6) if age >= 65 else 0)


def _build(rng: random.Random) -> str:
    return _weighted(
        rng, ((Build.SLIM, 3), (Build.MEDIUM, 4), (Build.HEAVY, 1), (Build.UNKNOWN, 2))
    )


# --------------------------------------------------------------------------- duplicate guard


def _han_chars(*names: str) -> frozenset[str]:
    return frozenset(ch for name in names for ch in name if has_han(ch))


class DuplicateGuard:
    """Remembers what was generated so that no new record is a probable duplicate.

    It mirrors ``people.services.find_duplicate_reports`` / ``find_duplicate_found``: a name
    query matches a record when every Han character of the name is among the record's.
    """

    def __init__(self) -> None:
        # (province, sex, birth year) -> [(name chars, all token chars)]
        self.missing: dict[tuple[str, str, int], list[tuple[frozenset[str], frozenset[str]]]] = (
            defaultdict(list)
        )
        # (province, sex) -> [(name chars, token chars, age_min, age_max)]
        self.named: dict[tuple[str, str], list[tuple[frozenset[str], frozenset[str], int, int]]] = (
            defaultdict(list)
        )
        # (county, sex, category) -> [(found_on, age_min, age_max)]
        self.weekly: dict[tuple[str, str, str], list[tuple[dt.date, int, int]]] = defaultdict(list)

    @staticmethod
    def _names_clash(
        a: frozenset[str], a_all: frozenset[str], b: frozenset[str], b_all: frozenset[str]
    ) -> bool:
        """Whether either name, searched for, would find the other record."""
        return bool(a) and bool(b) and (a <= b_all or b <= a_all)

    def missing_clashes(self, province: str, sex: str, born: int, name: str, other: str) -> bool:
        chars, every = _han_chars(name), _han_chars(name, other)
        return any(
            self._names_clash(chars, every, c, e)
            for year in (born - 1, born, born + 1)
            for c, e in self.missing.get((province, sex, year), ())
        )

    def add_missing(self, province: str, sex: str, born: int, name: str, other: str) -> None:
        self.missing[(province, sex, born)].append((_han_chars(name), _han_chars(name, other)))

    def found_clashes(
        self,
        province: str,
        county: str,
        sex: str,
        category: str,
        on: dt.date,
        lo: int,
        hi: int,
        name: str,
    ) -> bool:
        def ages(a: int, b: int) -> bool:
            return a <= hi + 2 and lo <= b + 2

        # A record without a name is searched by county and week, and finds named ones too:
        # every record keeps clear of that window, named or not.
        chars = _han_chars(name)
        if chars and any(
            ages(a, b) and self._names_clash(chars, chars, c, e)
            for c, e, a, b in self.named.get((province, sex), ())
        ):
            return True
        return any(
            abs((on - d).days) <= 7 and ages(a, b)
            for d, a, b in self.weekly.get((county, sex, category), ())
        )

    def add_found(
        self,
        province: str,
        county: str,
        sex: str,
        category: str,
        on: dt.date,
        lo: int,
        hi: int,
        name: str,
    ) -> None:
        self.weekly[(county, sex, category)].append((on, lo, hi))
        if name:
            self.named[(province, sex)].append((_han_chars(name), _han_chars(name), lo, hi))

    @classmethod
    def from_database(cls) -> DuplicateGuard:
        """A guard that knows every record already stored (decrypted here, never printed)."""
        guard = cls()
        for report in MissingPersonReport.objects.select_related("last_seen_division"):
            if report.birth_year is not None:
                guard.add_missing(
                    _province_of(report.last_seen_division),
                    report.sex,
                    report.birth_year,
                    report.full_name,
                    report.other_names,
                )
        for person in FoundPerson.objects.select_related("found_division"):
            guard.add_found(
                _province_of(person.found_division),
                person.found_division.code,
                person.sex,
                person.category,
                person.found_on,
                person.age_min,
                person.age_max,
                person.given_name,
            )
        return guard


def _province_of(division: Division) -> str:
    parts = [p for p in division.path.strip("/").split("/") if p]
    return parts[1] if len(parts) > 1 else parts[0]


# --------------------------------------------------------------------------- missing reports

CHILD_STORIES: tuple[str, ...] = (
    "在{place}玩耍时被一名陌生男子抱走，至今下落不明。",
    "放学后没有回家，家人和老师四处寻找未果。",
    "随母亲在{place}买东西时走失，当时人很多。",
    "在{place}附近被一名操外地口音的妇女带走，有群众目击。",
    "由奶奶照看时在{place}走失，报警后多方寻找无果。",
    "父母外出打工，孩子由亲戚照看期间失踪。",
)
TEEN_STORIES: tuple[str, ...] = (
    "与家人争吵后离家出走，手机随即关机。",
    "称跟同学去外地打工，此后失去联系。",
    "最后一次被人看见是在{place}，此后再无音讯。",
    "在网上结识一名网友后离家，未再联系家人。",
)
WOMAN_STORIES: tuple[str, ...] = (
    "称有人介绍去外地工厂打工，离家后失去联系。",
    "经人介绍与一名外地男子相识，随后离家，至今音讯全无。",
    "在{place}下车后与家人失去联系，手机无法接通。",
    "与丈夫发生争执后离家，带走少量衣物。",
    "应聘网上招工信息前往外地，此后再无消息。",
)
ELDER_STORIES: tuple[str, ...] = (
    "患有阿尔茨海默病，早晨独自出门散步后未归。",
    "记忆力差，外出买菜后走失，身上未带证件。",
    "患有老年痴呆，在{place}附近走失，说不清家庭住址。",
    "在{place}等车时与子女走散，不会使用手机。",
)
ADULT_STORIES: tuple[str, ...] = (
    "外出务工后与家人失去联系，多年未归。",
    "最后一次与家人通话称在{place}，此后手机关机。",
)


@dataclass
class _MissingDraft:
    data: MissingReportData
    owner: Organisation
    status: str
    province: str
    born: int


def _draw_missing(
    rng: random.Random, units: Sequence[CountyUnits], today: dt.date
) -> _MissingDraft:
    where = rng.choice(units)
    group = _weighted(
        rng, (("young_child", 35), ("teen", 20), ("woman", 25), ("elder", 15), ("adult", 5))
    )
    end = today - dt.timedelta(days=1)
    if group == "young_child":
        age = _weighted(rng, [(a, 8 - a if a < 7 else 1) for a in range(13)])
        sex = "M" if rng.random() < 0.6 else "F"
        seen = _recent_date(rng, dt.date(1990, 1, 1), end, 0.75)
        stories = CHILD_STORIES
    elif group == "teen":
        age, sex = rng.randint(13, 17), rng.choice("MF")
        seen = _recent_date(rng, dt.date(1995, 1, 1), end, 0.6)
        stories = TEEN_STORIES
    elif group == "woman":
        age, sex = rng.randint(18, 45), "F"
        seen = _recent_date(rng, dt.date(1990, 1, 1), end, 0.7)
        stories = WOMAN_STORIES
    elif group == "elder":
        age, sex = rng.randint(60, 90), rng.choice("MF")
        seen = _recent_date(rng, dt.date(2008, 1, 1), end, 0.5)
        stories = ELDER_STORIES
    else:
        age, sex = rng.randint(18, 59), "M" if rng.random() < 0.7 else "F"
        seen = _recent_date(rng, dt.date(1990, 1, 1), end, 0.6)
        stories = ADULT_STORIES
    dob = _birth_date(rng, seen, age)
    seen_at = timezone.make_aware(
        dt.datetime.combine(seen, dt.time(rng.randint(6, 21), rng.choice((0, 10, 20, 30, 45))))
    )
    family, given = _full_name(rng, sex, dob.year, where)
    place = f"{where.county.name}{rng.choice(LANDMARKS)}"
    lat, lon = _point_near(rng, where.county)
    relatives = _relatives(rng, group, family, dob.year)
    data = MissingReportData(
        full_name=family + given,
        sex=sex,
        last_seen_at=seen_at,
        last_seen_division=where.county,
        other_names=rng.choice(NICKNAMES) if age < 13 and rng.random() < 0.3 else "",
        # Some families remember only the age: keep the date of birth for most.
        date_of_birth=dob if rng.random() < 0.85 else None,
        age_at_disappearance=age,
        height_cm=_height(rng, sex, age),
        build=_build(rng),
        distinguishing_marks=rng.choice(MARKS) if rng.random() < 0.4 else "",
        language_dialect=rng.choice(where.dialects) if age >= 3 else "",
        last_seen_latitude=lat,
        last_seen_longitude=lon,
        last_seen_place=place,
        circumstances=rng.choice(stories).format(place=place),
        relatives=relatives,
    )
    owner = where.bureau if rng.random() < 0.9 else where.city_bureau
    status = _weighted(
        rng,
        (
            (MissingStatus.MISSING, 86),
            (MissingStatus.FOUND_ALIVE, 11),
            (MissingStatus.FOUND_DECEASED, 2),
            (MissingStatus.WITHDRAWN, 1),
        ),
    )
    born = birth_year_of(data.date_of_birth, age, seen_at)
    assert born is not None
    return _MissingDraft(data, owner, status, where.province_code, born)


def _relatives(rng: random.Random, group: str, family: str, born: int) -> list[RelativeData]:
    options: list[tuple[str, str, int]]  # relationship, surname ("" = any), birth year
    if group in ("young_child", "teen"):
        options = [
            (Relationship.MOTHER, "", born - rng.randint(20, 32)),
            (Relationship.FATHER, family, born - rng.randint(22, 35)),
            (Relationship.GRANDPARENT, family, born - rng.randint(45, 60)),
        ]
    elif group == "elder":
        options = [
            (Relationship.CHILD, family, born + rng.randint(22, 35)),
            (Relationship.CHILD, "", born + rng.randint(22, 35)),
            (Relationship.SPOUSE, "", born + rng.randint(-5, 5)),
        ]
    else:
        options = [
            (Relationship.SPOUSE, "", born + rng.randint(-3, 8)),
            (Relationship.MOTHER, "", born - rng.randint(20, 32)),
            (Relationship.FATHER, family, born - rng.randint(22, 35)),
            (Relationship.SIBLING, family, born + rng.randint(-8, 8)),
        ]
    picked = rng.sample(options, k=1 if rng.random() < 0.55 else 2)
    result: list[RelativeData] = []
    for i, (relationship, surname, year) in enumerate(picked):
        sex = {"mother": "F", "father": "M"}.get(str(relationship), rng.choice("MF"))
        name = (surname or _weighted(rng, SURNAMES)) + _given_name(rng, sex, year)
        result.append(
            RelativeData(
                name=name,
                relationship=relationship,
                contact=_phone(rng),
                is_reporter=i == 0,
            )
        )
    return result


# --------------------------------------------------------------------------- found persons

CATEGORY_WEIGHTS = (
    (FoundCategory.STREET_BEGGING, 30),
    (FoundCategory.INTELLECTUAL_DISABILITY, 22),
    (FoundCategory.MENTAL_ILLNESS, 20),
    (FoundCategory.DEAF_MUTE, 8),
    (FoundCategory.PHYSICAL_DISABILITY, 8),
    (FoundCategory.UNDOCUMENTED_CHILD, 10),
    (FoundCategory.OTHER, 2),
)
CLOTHES = (
    "身穿灰色旧棉袄、黑色长裤，脚穿解放鞋",
    "穿红色上衣、蓝色牛仔裤",
    "穿一件不合身的男式西装",
    "衣衫褴褛，赤脚",
    "穿蓝白色运动校服",
    "穿碎花衬衫、黑色布鞋",
    "穿军绿色外套，背一个编织袋",
)
BEHAVIOUR = {
    FoundCategory.STREET_BEGGING: (
        "在街头乞讨，说不清家庭住址",
        "常年在车站一带乞讨，曾由一名成年男子带领",
        "随身带着一个破旧编织袋，靠捡拾废品为生",
    ),
    FoundCategory.INTELLECTUAL_DISABILITY: (
        "智力低下，只能说简单词语",
        "反应迟钝，能说出自己的小名",
        "能做简单家务，不识字，说不出父母姓名",
    ),
    FoundCategory.MENTAL_ILLNESS: (
        "精神恍惚，常自言自语",
        "情绪不稳定，问及家人时哭泣",
        "经诊断患精神分裂症，病情稳定后能简单交流",
    ),
    FoundCategory.DEAF_MUTE: (
        "不能说话，听力丧失，会简单手势",
        "聋哑，能写几个简单汉字",
    ),
    FoundCategory.PHYSICAL_DISABILITY: (
        "左腿残疾，行走需拄拐",
        "双下肢瘫痪，靠轮椅活动",
        "右手畸形，生活基本能自理",
    ),
    FoundCategory.UNDOCUMENTED_CHILD: (
        "被发现时独自哭泣，说不清父母姓名",
        "由一名自称亲戚的男子带领，无出生证明",
        "在排查中发现，无合法收养手续",
    ),
    FoundCategory.OTHER: ("身上无任何证件，自称记不起以前的事",),
}
CONDITION = ("身体状况一般，营养不良", "身体健康", "有皮肤病，已治疗", "有慢性病，需长期服药")
REMEMBERED = (
    "说老家门口有一条小河",
    "记得家附近有个火车站",
    "说小时候家里种茶叶",
    "记得村里有一座庙",
    "多次提到“{province}”",
    "说自己是坐火车从{province}来的",
)
HOME_PROVINCES = ("四川", "云南", "贵州", "河南", "湖南", "广西", "安徽", "江西", "湖北", "重庆")
NOT_HELD = ("由当地村委会安排临时照料", "暂由好心村民收留", "仍在{place}一带流浪")


@dataclass
class _FoundDraft:
    data: FoundPersonData
    owner: Organisation
    status: str
    province: str


def _found_age(rng: random.Random, category: str) -> int:
    if category == FoundCategory.UNDOCUMENTED_CHILD:
        return rng.randint(0, 14)
    if category == FoundCategory.STREET_BEGGING:
        return _weighted(
            rng, ((rng.randint(6, 16), 2), (rng.randint(17, 59), 4), (rng.randint(60, 85), 4))
        )
    if category == FoundCategory.MENTAL_ILLNESS:
        return rng.randint(18, 70)
    return rng.randint(10, 65)


def _draw_found(rng: random.Random, units: Sequence[CountyUnits], today: dt.date) -> _FoundDraft:
    where = rng.choice(units)
    category = _weighted(rng, CATEGORY_WEIGHTS)
    age = _found_age(rng, category)
    if category == FoundCategory.STREET_BEGGING:
        sex = "M" if rng.random() < 0.65 else "F"
    elif category == FoundCategory.UNDOCUMENTED_CHILD:
        sex = "M" if rng.random() < 0.55 else "F"
    else:
        sex = rng.choice("MF")
    spread = 1 if age < 6 else 2 if age < 18 else 5
    age_min, age_max = max(0, age - spread), age + spread
    found_on = _recent_date(rng, dt.date(1995, 1, 1), today, 0.55)
    place = f"{where.county.name}{rng.choice(FOUND_LANDMARKS)}"
    lat, lon = _point_near(rng, where.county)
    institution: Organisation | None
    if category == FoundCategory.UNDOCUMENTED_CHILD or age < 14:
        institution = where.child_welfare
    elif category == FoundCategory.MENTAL_ILLNESS and rng.random() < 0.7:
        institution = where.mental_health
    elif age >= 60 and rng.random() < 0.6:
        institution = where.adult_welfare
    else:
        institution = rng.choice(where.rescue_stations)
    held_place = ""
    if rng.random() < 0.1:
        institution = None
        held_place = rng.choice(NOT_HELD).format(place=place)
    speaks = category not in (FoundCategory.DEAF_MUTE,) and age >= 4
    given_name = ""
    if speaks and rng.random() < 0.25:
        given_name = (
            rng.choice(NICKNAMES)
            if rng.random() < 0.4
            else "".join(_full_name(rng, sex, today.year - age, where))
        )
    given_places = ""
    if speaks and rng.random() < 0.2:
        given_places = rng.choice(REMEMBERED).format(province=rng.choice(HOME_PROVINCES))
    description = "，".join(
        (rng.choice(CLOTHES), rng.choice(BEHAVIOUR[category]), rng.choice(CONDITION))
    )
    data = FoundPersonData(
        category=category,
        sex=sex,
        found_on=found_on,
        found_division=where.county,
        age_min=age_min,
        age_max=age_max,
        found_latitude=lat,
        found_longitude=lon,
        found_place=place,
        institution=institution,
        held_place=held_place,
        height_cm=_height(rng, sex, age),
        build=_build(rng),
        description=description + "。",
        distinguishing_marks=rng.choice(MARKS) if rng.random() < 0.35 else "",
        language_dialect=(
            "不会说话"
            if category == FoundCategory.DEAF_MUTE
            else f"口音像{rng.choice(where.dialects)}"
            if speaks and rng.random() < 0.6
            else ""
        ),
        given_name=given_name,
        given_places=given_places,
    )
    # Registered by the county bureau, or by the institution that took the person in.
    owner = institution if institution is not None and rng.random() < 0.4 else where.bureau
    status = _weighted(
        rng,
        (
            (FoundStatus.UNIDENTIFIED, 85),
            (FoundStatus.IDENTIFIED, 8),
            (FoundStatus.RETURNED_HOME, 5),
            (FoundStatus.RESETTLED, 2),
        ),
    )
    return _FoundDraft(data, owner, status, where.province_code)


# --------------------------------------------------------------------------- seeding


@dataclass
class SeedResult:
    units_created: int = 0
    users_created: int = 0
    missing_created: int = 0
    found_created: int = 0
    cases_created: int = 0
    missing_total: int = 0
    found_total: int = 0
    logins: list[DemoLogin] = field(default_factory=list)

    @property
    def created_anything(self) -> bool:
        return any(
            (
                self.units_created,
                self.users_created,
                self.missing_created,
                self.found_created,
            )
        )


def _rng(seed: int, kind: str, index: int, draw: int) -> random.Random:
    return random.Random(f"reunite-demo:{seed}:{kind}:{index}:{draw}")


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _make_missing(
    *,
    count: int,
    start: int,
    seed: int,
    units: Sequence[CountyUnits],
    guard: DuplicateGuard,
    creator: User,
    today: dt.date,
) -> int:
    drafts: list[_MissingDraft] = []
    for index in range(start, start + count):
        for draw in range(MAX_DRAWS):
            draft = _draw_missing(_rng(seed, "missing", index, draw), units, today)
            d = draft.data
            if not guard.missing_clashes(
                draft.province, d.sex, draft.born, d.full_name, d.other_names
            ):
                break
        else:
            raise RuntimeError(f"could not draw a distinct missing report #{index}")
        validate_missing(d)
        guard.add_missing(draft.province, d.sex, draft.born, d.full_name, d.other_names)
        drafts.append(draft)
    made = 0
    for chunk in _chunks(drafts, BATCH):
        reports: list[MissingPersonReport] = []
        for draft in chunk:
            report = MissingPersonReport(
                owning_unit=draft.owner,
                division=draft.owner.division,
                created_by=creator,
                status=draft.status,
            )
            _apply_missing(report, draft.data)
            reports.append(report)
        MissingPersonReport.objects.bulk_create(reports)
        ReportingRelative.objects.bulk_create(
            [
                ReportingRelative(
                    report=report,
                    name=rel.name.strip(),
                    relationship=rel.relationship,
                    contact=rel.contact.strip(),
                    is_reporter=rel.is_reporter,
                )
                for report, draft in zip(reports, chunk, strict=True)
                for rel in draft.data.relatives
            ]
        )
        open_cases_for_reports(reports=reports, acting_user=creator)
        made += len(reports)
    return made


def _make_found(
    *,
    count: int,
    start: int,
    seed: int,
    units: Sequence[CountyUnits],
    guard: DuplicateGuard,
    creator: User,
    today: dt.date,
) -> int:
    drafts: list[_FoundDraft] = []
    for index in range(start, start + count):
        for draw in range(MAX_DRAWS):
            draft = _draw_found(_rng(seed, "found", index, draw), units, today)
            d = draft.data
            key = (draft.province, d.found_division.code, d.sex, d.category, d.found_on)
            if not guard.found_clashes(*key, d.age_min, d.age_max, d.given_name):
                break
        else:
            raise RuntimeError(f"could not draw a distinct found person #{index}")
        validate_found(d)
        guard.add_found(*key, d.age_min, d.age_max, d.given_name)
        drafts.append(draft)
    for chunk in _chunks(drafts, BATCH):
        people: list[FoundPerson] = []
        for draft in chunk:
            person = FoundPerson(
                owning_unit=draft.owner,
                division=draft.owner.division,
                created_by=creator,
                status=draft.status,
            )
            _apply_found(person, draft.data)
            people.append(person)
        FoundPerson.objects.bulk_create(people)
    return len(drafts)


def seed(
    *,
    missing: int = 2000,
    found: int = 5000,
    seed: int = 7,
    password: str = DEMO_PASSWORD,
    progress: Callable[[str], None] | None = None,
) -> SeedResult:
    """Make sure the demo units, users and at least ``missing``/``found`` demo records exist."""
    say = progress or (lambda _msg: None)
    result = SeedResult()
    today = timezone.localdate()
    with transaction.atomic():
        units, result.units_created = ensure_units()
        result.logins, result.users_created = ensure_users(units, password)
        creator, _new = seed_user()
        have_missing = MissingPersonReport.objects.filter(created_by=creator).count()
        have_found = FoundPerson.objects.filter(created_by=creator).count()
        add_missing, add_found = max(0, missing - have_missing), max(0, found - have_found)
        if not add_missing:
            say(
                _("%(have)d demo missing reports already there (%(asked)d asked for): none added.")
                % {"have": have_missing, "asked": missing}
            )
        if not add_found:
            say(
                _("%(have)d demo found persons already there (%(asked)d asked for): none added.")
                % {"have": have_found, "asked": found}
            )
        if add_missing or add_found:
            guard = DuplicateGuard.from_database()
            if add_missing:
                say(_("Creating %(n)d missing reports and their cases …") % {"n": add_missing})
                result.missing_created = _make_missing(
                    count=add_missing,
                    start=have_missing,
                    seed=seed,
                    units=units.counties,
                    guard=guard,
                    creator=creator,
                    today=today,
                )
                result.cases_created = result.missing_created
            if add_found:
                say(_("Creating %(n)d persons of unknown origin …") % {"n": add_found})
                result.found_created = _make_found(
                    count=add_found,
                    start=have_found,
                    seed=seed,
                    units=units.counties,
                    guard=guard,
                    creator=creator,
                    today=today,
                )
        result.missing_total = have_missing + result.missing_created
        result.found_total = have_found + result.found_created
        if result.created_anything:
            record(
                actor=creator,
                action=AuditAction.CREATE,
                object_type=SEED_OBJECT_TYPE,
                details={
                    "seed": seed,
                    "units": result.units_created,
                    "users": result.users_created,
                    "missing_reports": result.missing_created,
                    "found_persons": result.found_created,
                    "cases": result.cases_created,
                },
            )
    return result
