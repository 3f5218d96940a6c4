"""Demo alerts for ``reunite demo``: one active with a sighting, one resolved, one draft.

Everything goes through the real services, as the demo users would do it: the investigator of
the Jinniu district bureau registers three (made-up) disappearances with a drawn photo and drafts
an alert for each; the provincial supervisor — the duty officer — releases two; a member of the
public reports a sighting on the first; the second person is found, which resolves that alert.
The third stays a draft (a woman at risk, national scope) for visitors to release themselves.

Idempotent: nothing is added when the investigator has drafted an alert before.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw

from reunite.accounts.models import Division, User
from reunite.alerts import services, sightings
from reunite.alerts.models import Alert, AlertScope
from reunite.people.models import MissingPersonReport, MissingStatus
from reunite.people.services import MissingReportData, RelativeData, create_missing_report
from reunite.people.services import change_missing_status as set_report_status

DEMO_COUNTY = "510106"  # 金牛区, where the demo investigator works
INVESTIGATOR = "demo-investigator"
DUTY_OFFICER = "demo-supervisor"


@dataclass
class AlertSeedResult:
    alerts_created: int = 0
    skipped_reason: str = ""


def _portrait(shirt: str, hair: str) -> SimpleUploadedFile:
    """A drawn head-and-shoulders figure: clearly not a photo of anyone."""
    image = Image.new("RGB", (240, 300), "#e3f2fd")
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 200, 200, 360), fill=shirt)
    draw.ellipse((75, 70, 165, 175), fill="#f1c6a5")
    draw.chord((70, 55, 170, 150), 180, 360, fill=hair)
    draw.ellipse((98, 110, 108, 120), fill="#263238")
    draw.ellipse((132, 110, 142, 120), fill="#263238")
    draw.arc((105, 130, 135, 155), 20, 160, fill="#6d4c41", width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile("portrait.png", buffer.getvalue(), "image/png")


def _report(
    investigator: User,
    county: Division,
    *,
    name: str,
    sex: str,
    age: int,
    height_cm: int,
    minutes_ago: int,
    place: str,
    offset: tuple[float, float],
    photo: SimpleUploadedFile,
    now: dt.datetime,
) -> MissingPersonReport:
    assert county.latitude is not None and county.longitude is not None
    return create_missing_report(
        acting_user=investigator,
        data=MissingReportData(
            full_name=name,
            sex=sex,
            last_seen_at=now - dt.timedelta(minutes=minutes_ago),
            last_seen_division=county,
            age_at_disappearance=age,
            height_cm=height_cm,
            last_seen_latitude=round(county.latitude + offset[0], 5),
            last_seen_longitude=round(county.longitude + offset[1], 5),
            last_seen_place=place,
            circumstances="演示数据 (demo data)",
            relatives=[
                RelativeData(name="演示家长", relationship="mother", contact="100 0000 0000")
            ],
        ),
        photos=[photo],
        confirm_not_duplicate=True,
    )


def _draft(
    investigator: User, report: MissingPersonReport, description: str, **extra: object
) -> Alert:
    photo = report.photos.order_by("created_at").first()
    data = services.AlertDraftData(
        abduction_or_danger=True,
        danger_statement="演示：目击者称被陌生人带走 (demo: seen leaving with a stranger)",
        public_description=description,
        public_photo=photo.uuid if photo is not None else None,
    )
    for key, value in extra.items():
        setattr(data, key, value)
    return services.draft_alert(acting_user=investigator, report_id=report.pk, data=data)


def seed(
    *, progress: Callable[[str], None] | None = None, now: dt.datetime | None = None
) -> AlertSeedResult:
    """Create the demo alerts (once); needs the demo users of ``people.demo.seed``."""
    say = progress or (lambda _msg: None)
    investigator = User.objects.filter(username=INVESTIGATOR).first()
    officer = User.objects.filter(username=DUTY_OFFICER).first()
    county = Division.objects.filter(code=DEMO_COUNTY).first()
    if investigator is None or officer is None or county is None:
        return AlertSeedResult(skipped_reason="the demo users or divisions are missing")
    if Alert.objects.filter(drafted_by=investigator).exists():
        say(_("Demo alerts already there: none added."))
        return AlertSeedResult(skipped_reason="already seeded")
    now = now or timezone.now()
    say(_("Creating demo alerts …"))

    active = _report(
        investigator,
        county,
        name="林小雨",
        sex="F",
        age=7,
        height_cm=122,
        minutes_ago=40,
        place="金牛万达广场北门",
        offset=(0.004, -0.003),
        photo=_portrait("#e53935", "#3e2723"),
        now=now,
    )
    first = _draft(
        investigator,
        active,
        "穿红色连帽外套、蓝色牛仔裤，背粉色书包。Red hooded jacket, jeans, pink school bag.",
    )
    services.release_alert(acting_user=officer, alert_id=first.pk, now=now)
    sightings.report_sighting(
        alert_id=first.pk,
        data=sightings.SightingData(
            seen_at=now - dt.timedelta(minutes=10),
            description="在地铁站见到一个穿红外套的女孩，和一名中年男子在一起。(demo sighting)",
            where="成都市金牛区茶店子公交站",
        ),
        source_ip=None,
        now=now,
    )

    found = _report(
        investigator,
        county,
        name="赵一鸣",
        sex="M",
        age=10,
        height_cm=140,
        minutes_ago=5 * 60,
        place="沙湾路小学门口",
        offset=(-0.006, 0.005),
        photo=_portrait("#1e88e5", "#212121"),
        now=now,
    )
    second = _draft(
        investigator, found, "穿蓝色校服、白色运动鞋，戴黑框眼镜。Blue school uniform, glasses."
    )
    services.release_alert(acting_user=officer, alert_id=second.pk, now=now)
    set_report_status(
        acting_user=investigator, report_id=found.pk, status=MissingStatus.FOUND_ALIVE
    )

    woman = _report(
        investigator,
        county,
        name="陈晓梅",
        sex="F",
        age=19,
        height_cm=160,
        minutes_ago=90,
        place="成都火车北站出站口",
        offset=(0.01, 0.008),
        photo=_portrait("#8e24aa", "#4e342e"),
        now=now,
    )
    _draft(
        investigator,
        woman,
        "长发，穿白色羽绒服，拖黑色行李箱，可能被带往外省。Long hair, white down coat.",
        at_risk=True,
        scope=AlertScope.NATIONAL,
    )
    say(_("3 demo alerts: one active with a sighting, one resolved, one draft."))
    return AlertSeedResult(alerts_created=3)
