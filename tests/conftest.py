"""Gateway-level fixtures: a gateway with the demo consumer connected to a simulated AgentsMesh."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from unigate.testing import GatewayHarness, Simulator
from unigate_connectors.agentsmesh import simulator as agentsmesh

COLLECTION = f"/issue-tracking/collections/{agentsmesh.MAIN_REPOSITORY_ID}"
TICKETS = f"{COLLECTION}/tickets"


@pytest.fixture(scope="module")
def agentsmesh_sim(simulator_factory) -> Simulator:  # noqa: ANN001
    return simulator_factory(agentsmesh.create_app())


@pytest.fixture(scope="module")
def connected(harness: GatewayHarness, agentsmesh_sim: Simulator) -> GatewayHarness:
    harness.connect("agentsmesh", settings={"base_url": agentsmesh_sim.url, "organization": agentsmesh.DEFAULT_ORG},
                    credentials={"api_key": agentsmesh.DEFAULT_API_KEY})
    return harness


@pytest.fixture
def client(connected: GatewayHarness, agentsmesh_sim: Simulator) -> Iterator[httpx.Client]:
    agentsmesh_sim.clear()
    with connected.client() as c:
        yield c
