"""The demo alerts: one active with a sighting, one resolved, one draft — and only once."""

from __future__ import annotations

from typing import Any

import pytest

from reunite.alerts import demo as alerts_demo
from reunite.alerts.models import Alert, AlertStatus, Sighting
from reunite.people import demo as people_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_demo_alerts_are_seeded_once_through_the_services() -> None:
    skipped = alerts_demo.seed()
    assert skipped.alerts_created == 0 and "missing" in skipped.skipped_reason
    people_demo.seed(missing=0, found=0)
    said: list[str] = []
    result = alerts_demo.seed(progress=said.append)
    assert result.alerts_created == 3 and said
    alerts = {a.report.full_name: a for a in Alert.objects.select_related("report")}
    assert {a.status for a in alerts.values()} == {
        AlertStatus.ACTIVE,
        AlertStatus.RESOLVED,
        AlertStatus.DRAFT,
    }
    active = next(a for a in alerts.values() if a.status == AlertStatus.ACTIVE)
    assert [m.label for m in active.messages.all()] == ["100km"]
    sighting = Sighting.objects.get()
    assert sighting.alert == active and sighting.location_source == "address"
    resolved = next(a for a in alerts.values() if a.status == AlertStatus.RESOLVED)
    assert [m.msg_type for m in resolved.messages.all()][-1] == "Cancel"
    assert resolved.report.status == "found_alive"
    pending = next(a for a in alerts.values() if a.status == AlertStatus.DRAFT)
    assert pending.scope == "national" and pending.at_risk

    again = alerts_demo.seed()
    assert again.alerts_created == 0
    assert Alert.objects.count() == 3 and Sighting.objects.count() == 1
