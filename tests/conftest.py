"""Gateway-level fixtures: a gateway whose demo consumer is harness to a simulated AgentsMesh
(``tracker``, ``sim``, ``harness``, ``client``; see ``unigate.testing.connector_fixtures``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
import pytest

from unigate.testing import ConnectorUnderTest, GatewayHarness, Simulator, connector_fixtures
from unigate.testing.databases import database, module_database, postgres_run, postgres_url  # noqa: F401 - fixtures
from unigate_connectors.agentsmesh import simulator as agentsmesh

COLLECTION = f"/issue-tracking/collections/{agentsmesh.MAIN_REPOSITORY_ID}"
TICKETS = f"{COLLECTION}/tickets"

tracker, sim, harness, client = connector_fixtures("agentsmesh")


def tracker_tickets(sim: Simulator, **params: Any) -> list[dict[str, Any]]:
    """AgentsMesh's own answer to ``GET /tickets`` (ground truth, bypassing the gateway).

    The request lands in the simulator's log: read it before the gateway call a test inspects,
    or after inspecting ``sim.requests()``.
    """
    url = f"{sim.url}/api/v1/ext/orgs/{agentsmesh.DEFAULT_ORG}/tickets"
    query = {"limit": -1, **params}
    return httpx.get(url, params=query, headers={"X-API-Key": agentsmesh.DEFAULT_API_KEY}).json()["tickets"]


def case_fixtures(cases: Mapping[str, Any],
                  setup: Callable[[ConnectorUnderTest], None] | None = None) -> tuple[Any, ...]:
    """Fixtures for a module run on several simulated connectors, each with its own data (``cases``:
    service id -> case): ``tracker`` (module scope, one per case: the started connector and its case,
    ``setup`` run on the connector first), ``case``, ``sim`` and a per-test ``client`` of the default
    consumer (the simulator's request log and faults reset first)."""

    @pytest.fixture(scope="module", params=list(cases), name="tracker")
    def tracker_fixture(request: pytest.FixtureRequest,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ConnectorUnderTest, Any]]:
        tracker = ConnectorUnderTest.start(tmp_path_factory.mktemp(request.param), request.param)
        if setup is not None:
            setup(tracker)
        yield tracker, cases[request.param]
        tracker.stop()

    @pytest.fixture(name="case")
    def case_fixture(tracker: tuple[ConnectorUnderTest, Any]) -> Any:
        return tracker[1]

    @pytest.fixture(name="sim")
    def sim_fixture(tracker: tuple[ConnectorUnderTest, Any]) -> Simulator:
        assert tracker[0].simulator is not None
        return tracker[0].simulator

    @pytest.fixture(name="client")
    def client_fixture(tracker: tuple[ConnectorUnderTest, Any]) -> Iterator[httpx.Client]:
        with tracker[0].client() as client:
            yield client

    return tracker_fixture, case_fixture, sim_fixture, client_fixture


def cleared_client() -> Any:
    """Fixture ``client``: a client of the module's ``harness``'s default consumer, its ``sim``'s
    request log and faults reset before and after each test."""

    @pytest.fixture(name="client")
    def client_fixture(harness: GatewayHarness, sim: Simulator) -> Iterator[httpx.Client]:
        sim.clear()
        with harness.client() as client:
            yield client
        sim.clear()

    return client_fixture
