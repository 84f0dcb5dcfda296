"""Pytest fixtures: ``harness`` (a gateway per test module) and ``simulator_factory``; and the
run summary's "trackers" section (which trackers ran live, which replayed their cassettes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from unigate.testing.harness import GatewayHarness, Simulator
from unigate.testing.report import tracker_lines


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayHarness]:
    h = GatewayHarness(tmp_path_factory.mktemp("gateway"))
    yield h
    h.stop()


@pytest.fixture(scope="module")
def simulator_factory() -> Iterator[Callable[[Any], Simulator]]:
    started: list[Simulator] = []

    def start(app: Any) -> Simulator:
        sim = Simulator.start(app)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = tracker_lines()
    if lines:
        terminalreporter.section("trackers")
        for line in lines:
            terminalreporter.write_line(line)
