"""The demo seeding and the ``reunite notify`` command."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from reunite.notify import demo, services
from reunite.notify.models import Delivery, Subscriber, SubscriberKind, WebhookEndpoint
from tests.integration.test_notify_broadcast import CHENGDU, broadcast


def test_demo_seed_is_idempotent_and_sends_nothing_off_the_machine(db: None) -> None:
    assert demo.seed(count=60, seed=1) == 60
    assert demo.seed(count=60, seed=1) == 0
    people = Subscriber.objects.filter(kind=SubscriberKind.PERSON)
    assert people.count() == 60 and all(s.active for s in people)
    assert people.filter(division_path__startswith="/CN/510000/").exists()
    endpoint = WebhookEndpoint.objects.get(name=demo.DEMO_ENDPOINT_NAME)
    assert not endpoint.enabled and endpoint.url.startswith("http://127.0.0.1:")
    # The ring selection finds the demo people around Chengdu; the partner is not queued.
    assert services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 300) > 0
    assert not Delivery.objects.filter(channel="webhook").exists()


def test_notify_command_prints_stats_and_checks_arguments(db: None) -> None:
    demo.seed(count=30, seed=2)
    services.broadcast_in_circle(broadcast("m1"), *CHENGDU, 300)
    out = io.StringIO()
    call_command("notify", "stats", "alert:1", stdout=out)
    stats = json.loads(out.getvalue())
    assert stats["100km"]["queued"] == Delivery.objects.count()
    with pytest.raises(CommandError):
        call_command("notify", "worker", "--concurrency", "0")
    with pytest.raises(CommandError):
        call_command("notify", "worker", "--backend", "kafka")
