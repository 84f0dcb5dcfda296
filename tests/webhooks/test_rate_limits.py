"""Polling stays inside the tracker's limits: a per-connection call budget, and a 429 pauses it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from unigate.webhooks.budget import CallBudget

from .conftest import start_setup, wait_for


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_budget_allows_a_burst_then_one_call_per_interval() -> None:
    clock = Clock()
    budget = CallBudget(60.0, clock=clock)          # one a second, bursts of 6
    assert [budget.wait_for("c") for _ in range(6)] == [0.0] * 6
    assert budget.wait_for("c") == 1.0
    clock.now = 1.0
    assert budget.wait_for("c") == 0.0


def test_connections_have_budgets_of_their_own() -> None:
    budget = CallBudget(6.0, clock=Clock())
    budget.wait_for("a")
    assert (budget.wait_for("a"), budget.wait_for("b")) == (10.0, 0.0)


def test_a_429_pauses_the_connection_for_its_retry_after() -> None:
    clock = Clock()
    budget = CallBudget(600.0, clock=clock)
    budget.pause("c", "30")
    assert budget.wait_for("c") == 30.0
    clock.now = 30.0
    assert budget.wait_for("c") == 0.0


def test_a_429_without_a_usable_retry_after_pauses_a_minute() -> None:
    budget = CallBudget(600.0, clock=Clock())
    assert budget.pause("c", "Wed, 21 Oct 2015 07:28:00 GMT") == 60.0


def test_take_waits_for_the_token() -> None:
    budget = CallBudget(600.0)                       # ten a second, bursts of 60
    started = time.monotonic()

    async def spend() -> None:
        for _ in range(62):
            await budget.take("c")

    asyncio.run(spend())
    assert time.monotonic() - started >= 0.15


def test_the_poller_keeps_to_the_budget(tmp_path: Path, database: Path | str) -> None:
    setup = start_setup(tmp_path, database=database, webhook_calls_per_minute=60.0)   # 1 call/s, bursts of 6; polls every 0.2 s
    try:
        setup.harness.gateway.webhook_store.create_subscription(
            "test-app", unified_api="issue-tracking", status="enabled", delivery_url="http://127.0.0.1:9/x",
            events=["*"])
        setup.simulator.clear()
        time.sleep(3.0)
        assert len(setup.simulator.requests()) <= 6 + 3 + 1
    finally:
        setup.harness.stop()
        setup.simulator.stop()


def test_a_429_stops_polling_until_retry_after(tmp_path: Path, database: Path | str) -> None:
    setup = start_setup(tmp_path, database=database)
    try:
        setup.simulator.fault(path="/api/tickets", status=429, retry_after=4, times=1)
        setup.harness.gateway.webhook_store.create_subscription(
            "test-app", unified_api="issue-tracking", status="enabled", delivery_url="http://127.0.0.1:9/x",
            events=["*"])
        wait_for(lambda: any(r.paused for r in (setup.runner.reports if setup.runner else [])))
        during = len(setup.simulator.requests())
        time.sleep(1.2)                                          # six poll intervals, all inside the pause
        assert len(setup.simulator.requests()) == during
        wait_for(lambda: len(setup.simulator.requests()) > during, 10)   # and polling resumes after it
    finally:
        setup.harness.stop()
        setup.simulator.stop()
