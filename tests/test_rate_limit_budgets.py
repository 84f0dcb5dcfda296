"""A tracker account's budget, as each store keeps it: in this process (``MemoryBudgets``) and in Redis
(``RedisBudgets``, a Lua script per reservation and per answer). Both stores are run through the same
cases, and given the same answers they hand out the same send times.

Times are given, not read from the clock: ``NOW`` is a Unix time, each answer says what a tracker's
would (quota headers, a refusal's wait).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator

import pytest

from unigate.downstream.budget import MARGIN, Observation, headers_of, reset_time
from unigate.downstream.limiter import Budgets, MemoryBudgets, account_key
from unigate.downstream.limiter_redis import RedisBudgets

from .support.redis_budgets import REDIS_URL, redis_prefix  # noqa: F401  (fixture)

NOW = 1_800_000_000.0
KEY = "budgeted|http://tracker|fingerprint"


@pytest.fixture(params=["memory", "redis"])
def budgets(request: pytest.FixtureRequest) -> Iterator[Budgets]:
    if request.param == "memory":
        yield MemoryBudgets()
    else:
        yield RedisBudgets(REDIS_URL, request.getfixturevalue("redis_prefix"))


def run(coroutine):  # noqa: ANN001, ANN201
    return asyncio.run(coroutine)


async def reservations(budgets: Budgets, count: int, now: float = NOW, max_wait: float = 10.0) -> list[float]:
    waits = []
    for _ in range(count):
        fits, wait, _ = await budgets.reserve(KEY, now, max_wait)
        waits.append(round(wait, 6) if fits else -1.0)
    await budgets.aclose()
    return waits


def test_a_budget_it_knows_nothing_of_sends_at_once(budgets: Budgets) -> None:
    assert run(reservations(budgets, 5)) == [0.0] * 5


def test_a_window_with_nothing_left_sends_after_its_reset(budgets: Budgets) -> None:
    async def scenario() -> list[float]:
        await budgets.learn(KEY, NOW, Observation(limit=3, remaining=0, reset=NOW + 2))
        return await reservations(budgets, 4)

    # the next window opens at the reset: its quota (3) goes first, the fourth call waits a window more,
    # whose length is not known yet: it is sent when the budget learns more (at the reset, optimistically)
    assert run(scenario()) == [2 + MARGIN] * 4


def test_the_learned_window_paces_the_calls_over_the_following_windows(budgets: Budgets) -> None:
    async def scenario() -> list[float]:
        # two windows' answers, one after the other: a window is 1 s long
        await budgets.learn(KEY, NOW - 0.5, Observation(limit=2, remaining=1, reset=NOW))
        await budgets.learn(KEY, NOW, Observation(limit=2, remaining=1, reset=NOW + 1))
        return await reservations(budgets, 6)

    assert run(scenario()) == [0.0, 1 + MARGIN, 1 + MARGIN, 2 + MARGIN, 2 + MARGIN, 3 + MARGIN]


def test_a_turn_past_the_wait_budget_is_refused_and_not_spent(budgets: Budgets) -> None:
    async def scenario() -> list[float]:
        await budgets.learn(KEY, NOW, Observation(wait=30))
        refused = await budgets.reserve(KEY, NOW, 10.0)
        assert refused[:2] == (False, 30.0)
        return await reservations(budgets, 2, max_wait=60.0)

    assert run(scenario()) == [30.0, 30.0]


def test_a_refusal_blocks_the_account_for_its_wait(budgets: Budgets) -> None:
    async def scenario() -> list[float]:
        await budgets.learn(KEY, NOW, Observation(wait=1.5))
        return await reservations(budgets, 2, now=NOW + 0.5)

    assert run(scenario()) == [1.0, 1.0]


def test_the_tracker_counting_more_than_the_gateway_lowers_what_is_left(budgets: Budgets) -> None:
    async def scenario() -> list[float]:
        await budgets.learn(KEY, NOW, Observation(limit=10, remaining=9, reset=NOW + 60))
        await budgets.learn(KEY, NOW, Observation(limit=10, remaining=1, reset=NOW + 60))  # others spend it too
        return await reservations(budgets, 2, max_wait=100.0)

    assert run(scenario()) == [0.0, 60 + MARGIN]


def test_both_stores_hand_out_the_same_turns(redis_prefix: str) -> None:
    rng = random.Random(7)
    steps = [(rng.random() < 0.3, rng.choice([None, 0, 1, 2]), rng.random() * 3) for _ in range(60)]

    async def replay(budgets: Budgets) -> list[tuple[bool, float]]:
        out, now = [], NOW
        for learns, remaining, advance in steps:
            now += advance / 10
            if learns:
                reset = NOW + 3 * (1 + int((now - NOW) / 3))
                await budgets.learn(KEY, now, Observation(3, remaining, reset if remaining is not None
                                                          else None, 1.0 if remaining == 0 else None))
            fits, wait, _ = await budgets.reserve(KEY, now, 2.0)
            out.append((fits, round(wait, 6)))
        await budgets.aclose()
        return out

    assert run(replay(MemoryBudgets())) == run(replay(RedisBudgets(REDIS_URL, redis_prefix)))


# -- what answers say ------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    ("1800000060", NOW + 60),                  # a Unix time (GitHub, GitLab)
    ("60", NOW + 60),                          # seconds from now (the IETF draft's RateLimit-Reset)
    ("2027-01-15T08:01Z", 1_800_000_060.0),    # an ISO 8601 date (Jira)
    ("soon", None), ("", None), (None, None), ("2027-01-15T08:01", None),   # no zone: not a time
])
def test_a_reset_header_is_read_as_a_unix_time(value: str | None, expected: float | None) -> None:
    assert reset_time(value, NOW) == expected


def test_the_budget_shows_as_apideck_ratelimit_headers() -> None:
    budget = {"L": 5000.0, "left": -2.0, "closes": NOW + 30.2, "blocked": NOW + 10}
    assert headers_of(budget, NOW) == {"x-downstream-ratelimit-limit": "5000", "x-downstream-ratelimit-remaining": "0",
                                       "x-downstream-ratelimit-reset": str(int(NOW) + 31)}
    assert headers_of({}, NOW) == {}


def test_connections_sharing_credentials_share_an_account_and_its_key_holds_no_secret() -> None:
    salt = b"k" * 32
    one = account_key("github", "https://api.github.com/", {"Authorization": "Bearer ghp_secret1"}, {}, salt)
    assert one == account_key("github", "https://api.github.com", {"authorization": "Bearer ghp_secret1"}, {}, salt)
    assert one != account_key("github", "https://api.github.com", {"Authorization": "Bearer ghp_secret2"}, {}, salt)
    assert one != account_key("github", "https://ghe.example.com", {"Authorization": "Bearer ghp_secret1"}, {}, salt)
    assert "secret" not in one and one.startswith("github|https://api.github.com|")
