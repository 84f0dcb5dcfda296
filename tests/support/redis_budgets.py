"""Redis for the rate-limit tests: the machine's (``UNIGATE_TEST_REDIS_URL``, default 127.0.0.1:6379),
shared by everyone using it, so each test's keys start with a random prefix and only those keys are
deleted after (never FLUSHALL). No Redis is a loud failure, not a skip: ``make test`` starts it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

REDIS_URL = os.environ.get("UNIGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def reachable() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is needed at {REDIS_URL} (scripts/redis/ensure.sh starts it): {exc}")
    return client


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted after."""
    client = reachable()
    prefix = f"unigate-test:{uuid.uuid4().hex}:"
    yield prefix
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()
