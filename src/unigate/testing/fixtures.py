"""Pytest fixtures: ``harness`` (a gateway per test module) and ``simulator_factory``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from unigate.testing.harness import GatewayHarness, Simulator


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
