"""With REDIS_URL set, the sign-in throttle lives in a real Redis shared by every worker."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest
from django.core.cache import caches
from django.urls import reverse

from tests.conftest import PASSWORD

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def _redis_up() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not _redis_up(), reason="no Redis at 127.0.0.1:6379"),
]


@pytest.fixture
def redis_cache(settings) -> Iterator[None]:
    prefix = f"reunite-test-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://{REDIS_HOST}:{REDIS_PORT}/0",
            "KEY_PREFIX": prefix,
        }
    }
    yield
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    caches["default"].close()


def test_throttle_counts_in_redis(client, investigator, redis_cache, settings) -> None:
    import redis

    settings.SIGNIN_THROTTLE_LIMIT = 3
    url = reverse("accounts:login")
    for _ in range(3):
        client.post(
            url, {"username": investigator.username, "password": "nope"}, REMOTE_ADDR="192.0.2.9"
        )
    blocked = client.post(
        url, {"username": investigator.username, "password": PASSWORD}, REMOTE_ADDR="192.0.2.9"
    )
    assert blocked.status_code == 429
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = [
        k.decode() for k in redis.Redis(host=REDIS_HOST, port=REDIS_PORT).scan_iter(f"{prefix}:*")
    ]
    assert any("signin:blocked:192.0.2.9" in k for k in keys), keys
