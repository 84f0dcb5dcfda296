"""Downstream rate-limit governance through the gateway: clients of a rate-limited tracker get slower
answers, not 429s, while the wait fits ``UNIGATE_RATE_LIMIT_WAIT``; past it, a typed 429 at once.

The tracker (``unigate.simulation.budget_tracker``, manifest ``budgeted``: GitHub-style
``x-ratelimit-*`` headers, 403 "secondary rate limit" refusals, ``default_wait`` for a refusal that
says no wait) sits behind a simulated budget (``unigate.simulation.budgets``): a fixed window with
quota headers, a leaky bucket saying only ``Retry-After``, a secondary limit saying nothing.
Each test has its own tracker and gateway; bursts are concurrent clients over real HTTP.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from unigate.simulation.budget_tracker import SERVICE_ID, TICKETS, TOKEN, budget_tracker, manifest
from unigate.simulation.budgets import FixedWindow, LeakyBucket, Policy, SecondaryLimit
from unigate.testing import GatewayHarness, Simulator, error_of

from .support.manifest_gateway import manifest_gateway


class Limited:
    """A budgeted tracker behind ``policy`` and a gateway connected to it."""

    def __init__(self, tmp: Path, policy: Policy, default_wait: int = 1, **settings: Any) -> None:
        self.policy = policy
        self.sim = Simulator.start(budget_tracker(policy))
        self.gateway: GatewayHarness = manifest_gateway(tmp, SERVICE_ID, manifest(default_wait), self.sim.url,
                                                        credentials={"token": TOKEN}, settings=settings)

    def burst(self, count: int, method: str = "GET") -> list[httpx.Response]:
        """``count`` clients at once, each reading one ticket (or creating one, or reading it by ``PROXY``)."""
        async def one(client: httpx.AsyncClient, i: int) -> httpx.Response:
            if method == "POST":
                return await client.post(TICKETS, json={"subject": f"Ticket {i}"})
            if method == "PROXY":
                return await client.get("/proxy", headers={"x-apideck-downstream-url": f"/issues/{1 + i % 20}"})
            return await client.get(f"{TICKETS}/{1 + i % 20}")

        async def run() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=self.gateway.server.url, headers=self.gateway.headers(SERVICE_ID),
                                         timeout=60) as client:
                return list(await asyncio.gather(*(one(client, i) for i in range(count))))
        return asyncio.run(run())

    def metric(self, name: str) -> float:
        text = httpx.get(f"{self.gateway.server.url}/metrics", timeout=30).text
        return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
                   if s.name == name and s.labels.get("service") == SERVICE_ID)

    def stop(self) -> None:
        self.gateway.stop()
        self.sim.server.stop()


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Any]:
    started: list[Limited] = []

    def start(policy: Policy, default_wait: int = 1, **settings: Any) -> Limited:
        started.append(Limited(tmp_path / str(len(started)), policy, default_wait, **settings))
        return started[-1]
    yield start
    for one in started:
        one.stop()


def statuses(responses: list[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in responses)


# -- fixed window with quota headers --------------------------------------------------------------
def test_clients_over_a_fixed_window_are_queued_not_refused(limited: Any) -> None:
    tracker = limited(FixedWindow(limit=5, window=1))
    assert statuses(tracker.burst(20)) == [200] * 20
    assert tracker.policy.admitted == 20


def test_once_learned_the_window_is_kept_to_without_refusals(limited: Any) -> None:
    tracker = limited(FixedWindow(limit=5, window=1))
    tracker.burst(10)                                  # learns the quota, the window and its length
    refused = tracker.policy.refused
    assert statuses(tracker.burst(15)) == [200] * 15
    assert tracker.policy.refused == refused           # the tracker refused none of them


def test_a_queued_answer_carries_the_trackers_quota_headers(limited: Any) -> None:
    tracker = limited(FixedWindow(limit=3, window=1))
    last = max(tracker.burst(8), key=lambda r: r.elapsed)
    assert last.status_code == 200
    assert last.headers["x-downstream-ratelimit-limit"] == "3"
    assert int(last.headers["x-downstream-ratelimit-remaining"]) < 3
    assert int(last.headers["x-downstream-ratelimit-reset"]) >= int(time.time())


def test_queued_calls_are_counted_in_metrics(limited: Any) -> None:
    tracker = limited(FixedWindow(limit=4, window=1))
    before = tracker.metric("unigate_downstream_rate_limit_queued_total")
    tracker.burst(12)
    assert tracker.metric("unigate_downstream_rate_limit_queued_total") - before >= 4
    assert tracker.metric("unigate_downstream_rate_limit_queue_seconds_count") > 0


def test_proxied_calls_wait_their_turn_in_the_same_budget(limited: Any) -> None:
    tracker = limited(FixedWindow(limit=4, window=1))
    tracker.burst(6)                                   # unified reads learn the budget
    refused = tracker.policy.refused
    assert statuses(tracker.burst(10, method="PROXY")) == [200] * 10
    assert tracker.policy.refused == refused


# -- leaky bucket, refusals with Retry-After only ----------------------------------------------------
def test_clients_over_a_leaky_bucket_saying_only_retry_after_are_queued(limited: Any) -> None:
    tracker = limited(LeakyBucket(capacity=3, rate=4))
    assert statuses(tracker.burst(12)) == [200] * 12
    assert tracker.policy.admitted == 12


def test_writes_refused_by_the_rate_limit_are_queued_and_written_once(limited: Any) -> None:
    tracker = limited(LeakyBucket(capacity=2, rate=4))
    assert statuses(tracker.burst(6, method="POST")) == [201] * 6
    assert tracker.policy.admitted == 6                # each write reached the tracker once


# -- secondary limits without Retry-After --------------------------------------------------------
def test_a_secondary_limit_saying_no_wait_is_waited_out_for_the_manifests_default_wait(limited: Any) -> None:
    tracker = limited(SecondaryLimit(limit=2, window=1, status=403), default_wait=1)
    assert statuses(tracker.burst(6)) == [200] * 6


def test_a_wait_past_the_budget_is_the_trackers_429_at_once(limited: Any) -> None:
    tracker = limited(SecondaryLimit(limit=1, window=60, status=403), default_wait=60)
    tracker.burst(1)
    started = time.monotonic()
    response = tracker.burst(1)[0]
    assert time.monotonic() - started < 3                      # not waited: 60 s is past the 10 s budget
    assert error_of(response) == (429, "ConnectorRateLimitError")
    assert response.headers["retry-after"] == "60"
    assert "secondary rate limit" in response.json()["downstream_errors"][0]["message"]


def test_the_account_told_to_wait_is_not_called_again_until_then(limited: Any) -> None:
    tracker = limited(SecondaryLimit(limit=1, window=60, status=403), default_wait=60)
    tracker.burst(2)
    refused_before, before = tracker.policy.refused, tracker.metric("unigate_downstream_rate_limit_refused_total")
    response = tracker.burst(1)[0]
    assert error_of(response) == (429, "ConnectorRateLimitError")
    assert response.json()["detail"]["reason"] == "downstream_rate_limit"
    assert 55 <= int(response.headers["retry-after"]) <= 60
    assert int(response.headers["x-downstream-ratelimit-reset"]) >= int(time.time()) + 55
    assert tracker.policy.refused == refused_before           # the gateway answered; the tracker was spared
    assert tracker.metric("unigate_downstream_rate_limit_refused_total") - before == 1


# -- the wait budget -------------------------------------------------------------------------------
def test_calls_whose_turn_is_past_the_wait_budget_are_refused_at_once(limited: Any) -> None:
    tracker = limited(FixedWindow(limit=2, window=30), rate_limit_wait=1.0)
    tracker.burst(2)                                   # the window's quota is spent; it resets in up to 30 s
    started = time.monotonic()
    responses = tracker.burst(3)
    assert time.monotonic() - started < 5
    assert {error_of(r) for r in responses} == {(429, "ConnectorRateLimitError")}
    assert {r.headers["x-downstream-ratelimit-remaining"] for r in responses} == {"0"}
    assert all(1 <= int(r.headers["retry-after"]) <= 31 for r in responses)


# -- the budget store --------------------------------------------------------------------------------
def test_with_redis_unreachable_calls_go_on_unqueued_and_the_failure_is_counted(limited: Any) -> None:
    tracker = limited(FixedWindow(limit=100, window=1), redis_url="redis://127.0.0.1:1/0")
    before = tracker.metric("unigate_downstream_rate_limit_store_errors_total")
    assert statuses(tracker.burst(2)) == [200, 200]
    started = time.monotonic()
    assert statuses(tracker.burst(8)) == [200] * 8
    assert time.monotonic() - started < 2                  # Redis is not asked again for a while
    assert tracker.metric("unigate_downstream_rate_limit_store_errors_total") - before >= 10
