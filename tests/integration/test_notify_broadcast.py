"""Broadcasting: which subscribers each ring, region and follow-up reaches, and the statistics."""

from __future__ import annotations

import random
from typing import Any

import pytest

from reunite.accounts.models import Division
from reunite.core.errors import ValidationFailed
from reunite.notify import geo, services
from reunite.notify.models import (
    Delivery,
    Subscriber,
    SubscriberKind,
    SubscriberStatus,
    WebhookEndpoint,
)

CHENGDU = (30.6598, 104.0633)


def broadcast(key: str, ring: str = "100km", topic: str = "alert:1") -> services.Broadcast:
    return services.Broadcast(
        topic=topic,
        message_key=key,
        ring=ring,
        subject="Missing child",
        text="A girl of six is missing near the People's Park.",
        url="https://reunite.example/alerts/1/",
        cap_xml="<alert/>",
    )


def person(lat: float, lon: float, *, email: str = "", phone: str = "", **extra: Any) -> Subscriber:
    sub = Subscriber(
        kind=SubscriberKind.PERSON,
        status=SubscriberStatus.ACTIVE,
        active=True,
        email=email,
        phone=phone,
        **extra,
    )
    services._place(sub, services.resolve_home(lat, lon))
    sub.save()
    return sub


def partner(endpoint: WebhookEndpoint, home: tuple[float, float] | None = None) -> Subscriber:
    sub = Subscriber(
        kind=SubscriberKind.PARTNER, status=SubscriberStatus.ACTIVE, active=True, endpoint=endpoint
    )
    services._place(sub, services.resolve_home(*home) if home else None)
    sub.save()
    return sub


@pytest.fixture
def endpoint(db: None) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        name="Partner", url="https://partner.example/hook", secret="s" * 20
    )


@pytest.fixture
def crowd(db: None) -> list[Subscriber]:
    """Sixty people scattered up to ~350 km around Chengdu, by e-mail."""
    rng = random.Random(3)
    return [
        person(CHENGDU[0] + rng.uniform(-3, 3), CHENGDU[1] + rng.uniform(-3, 3), email=f"p{i}@x.cn")
        for i in range(60)
    ]


def reached(message_key: str) -> set[int]:
    return set(
        Delivery.objects.filter(message__message_key=message_key).values_list(
            "subscriber_id", flat=True
        )
    )


def within(subs: list[Subscriber], radius: float) -> set[int]:
    return {
        s.pk
        for s in subs
        if geo.haversine_km(CHENGDU[0], CHENGDU[1], s.latitude, s.longitude) <= radius
    }


def test_rings_widen_and_reach_only_new_subscribers(crowd: list[Subscriber]) -> None:
    first = services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 100)
    assert reached("m1") == within(crowd, 100)
    assert first == len(within(crowd, 100))
    second = services.broadcast_in_circle(broadcast("m2", "200km"), *CHENGDU, 200)
    assert reached("m2") == within(crowd, 200) - within(crowd, 100)
    assert second == len(reached("m2"))
    # The same message again queues nothing twice.
    assert services.broadcast_in_circle(broadcast("m2", "200km"), *CHENGDU, 200) == 0
    # Without only_new, everyone in the circle gets it.
    services.broadcast_in_circle(broadcast("m3", "200km"), *CHENGDU, 200, only_new=False)
    assert reached("m3") == within(crowd, 200)
    assert services.count_in_circle(*CHENGDU, 200) == len(within(crowd, 200))


def test_each_channel_is_a_delivery_with_its_own_key(db: None, endpoint: WebhookEndpoint) -> None:
    both = person(*CHENGDU, email="a@b.cn", phone="+8613800000000")
    services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 50)
    rows = Delivery.objects.filter(subscriber=both)
    assert sorted(rows.values_list("channel", flat=True)) == ["email", "sms"]
    keys = set(rows.values_list("idempotency_key", flat=True))
    assert len(keys) == 2
    # Both channels of the first message count as reached: the next ring skips the person.
    assert services.broadcast_in_circle(broadcast("m2"), *CHENGDU, 100) == 0


def test_inactive_subscribers_and_disabled_endpoints_get_nothing(
    db: None, endpoint: WebhookEndpoint
) -> None:
    person(*CHENGDU, email="pending@x.cn").__class__.objects.update(
        status=SubscriberStatus.PENDING, active=False
    )
    paused = WebhookEndpoint.objects.create(
        name="Paused", url="https://p.example/", secret="x" * 20
    )
    paused.enabled = False
    paused.save()
    partner(paused, CHENGDU)
    assert services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 50) == 0


def test_nationwide_partners_receive_every_message(
    crowd: list[Subscriber], endpoint: WebhookEndpoint
) -> None:
    national = partner(endpoint)
    far = Division.objects.get(code="650102")  # Ürümqi, far from every ring
    assert far.latitude is not None
    services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 100)
    services.broadcast_in_circle(broadcast("m2", "200km"), *CHENGDU, 200)
    services.broadcast_to_reached(broadcast("m3", "cancel"))
    for key in ("m1", "m2", "m3"):
        assert national.pk in reached(key)


def test_region_broadcast_selects_the_province(crowd: list[Subscriber]) -> None:
    beijing = person(39.9, 116.4, email="bj@x.cn")
    services.broadcast_in_region(broadcast("m1", "province"), "/CN/510000/")
    sichuan = {s.pk for s in crowd if s.division_path.startswith("/CN/510000/")}
    assert sichuan and reached("m1") == sichuan
    services.broadcast_in_region(broadcast("m2", "nation"), None)
    assert beijing.pk in reached("m2")
    assert reached("m2") == {s.pk for s in crowd} - sichuan | {beijing.pk}


def test_follow_ups_go_to_everyone_reached_and_no_one_else(crowd: list[Subscriber]) -> None:
    services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 100)
    services.broadcast_in_circle(broadcast("m2", "200km"), *CHENGDU, 200)
    gone = next(iter(within(crowd, 100)))
    Subscriber.objects.filter(pk=gone).update(status=SubscriberStatus.OPTED_OUT, active=False)
    count = services.broadcast_to_reached(broadcast("m3", "cancel"))
    assert reached("m3") == within(crowd, 200) - {gone}
    assert count == len(reached("m3"))
    # Another alert's follow-up reaches nobody of this one.
    assert services.broadcast_to_reached(broadcast("x1", "cancel", topic="alert:2")) == 0


def test_delivery_stats_per_ring(crowd: list[Subscriber]) -> None:
    services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 100)
    services.broadcast_in_circle(broadcast("m2", "200km"), *CHENGDU, 200)
    some = Delivery.objects.filter(ring="100km").first()
    assert some is not None
    Delivery.objects.filter(pk=some.pk).update(status="delivered")
    stats = services.delivery_stats("alert:1")
    assert stats["100km"] == {
        "queued": len(within(crowd, 100)) - 1,
        "delivered": 1,
        "failed": 0,
        "dead": 0,
    }
    assert stats["200km"]["queued"] == len(within(crowd, 200) - within(crowd, 100))
    assert services.delivery_stats("alert:none") == {}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"text": "x" * 361}, "text"),
        ({"text": ""}, "text"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"topic": "t" * 101}, "topic"),
        ({"cap_xml": ""}, "cap_xml"),
    ],
)
def test_bad_broadcasts_are_refused(db: None, changes: dict[str, str], field: str) -> None:
    values = {**broadcast("m1").__dict__, **changes}
    with pytest.raises(ValidationFailed) as caught:
        services.broadcast_in_circle(services.Broadcast(**values), *CHENGDU, 100)
    assert field in caught.value.field_errors


@pytest.mark.parametrize(
    ("lat", "lon", "radius"),
    [(float("nan"), 104.0, 100), (30.0, float("inf"), 100), (95.0, 104.0, 100), (30, 104, 0)],
)
def test_bad_circles_are_refused(db: None, lat: float, lon: float, radius: float) -> None:
    with pytest.raises(ValidationFailed):
        services.broadcast_in_circle(broadcast("m1"), lat, lon, radius)


@pytest.mark.parametrize("path", ["CN", "/CN/51'0000/", "/CN/510000", "' OR 1=1 --"])
def test_bad_region_paths_are_refused(db: None, path: str) -> None:
    with pytest.raises(ValidationFailed):
        services.broadcast_in_region(broadcast("m1"), path)
