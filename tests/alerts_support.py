"""Helpers shared by the alerts tests: a recent disappearance with a photo, a complete draft."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from reunite.accounts.models import Division, User
from reunite.alerts import services
from reunite.alerts.models import Alert
from reunite.people.models import MissingPersonReport
from reunite.people.services import MissingReportData, create_missing_report

JINNIU = "510106"  # 金牛区, Chengdu
SICHUAN = "510000"
DESCRIPTION = "穿红色连帽外套、蓝色牛仔裤，背粉色书包，扎马尾辫。"


def png(size: tuple[int, int] = (40, 50), color: str = "teal") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return SimpleUploadedFile("face.png", buffer.getvalue(), "image/png")


def seat(code: str) -> tuple[float, float]:
    division = Division.objects.get(code=code)
    assert division.latitude is not None and division.longitude is not None
    return division.latitude, division.longitude


def make_report(
    user: User,
    *,
    code: str = JINNIU,
    minutes_ago: float = 30,
    age: int = 7,
    sex: str = "F",
    name: str = "林小雨",
    photo: bool = True,
    coordinates: bool = True,
    now: dt.datetime | None = None,
    **extra: Any,
) -> MissingPersonReport:
    lat, lon = seat(code)
    return create_missing_report(
        acting_user=user,
        data=MissingReportData(
            full_name=name,
            sex=sex,
            last_seen_at=(now or timezone.now()) - dt.timedelta(minutes=minutes_ago),
            last_seen_division=Division.objects.get(code=code),
            age_at_disappearance=age,
            height_cm=122,
            last_seen_latitude=round(lat + 0.003, 5) if coordinates else None,
            last_seen_longitude=round(lon - 0.002, 5) if coordinates else None,
            last_seen_place="万达广场北门",
            **extra,
        ),
        photos=[png()] if photo else [],
        confirm_not_duplicate=True,
    )


def complete_data(report: MissingPersonReport, **overrides: Any) -> services.AlertDraftData:
    """A draft that meets every criterion."""
    photo = report.photos.order_by("created_at").first()
    data = services.AlertDraftData(
        abduction_or_danger=True,
        danger_statement="A witness saw her led away by a stranger.",
        public_description=DESCRIPTION,
        public_photo=photo.uuid if photo is not None else None,
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def draft(user: User, report: MissingPersonReport, **overrides: Any) -> Alert:
    return services.draft_alert(
        acting_user=user, report_id=report.pk, data=complete_data(report, **overrides)
    )
