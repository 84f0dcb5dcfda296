"""A disabled connection answers ``ConnectorDisabledError`` (422) when named by service id, and
counts as no connection when not; it makes no downstream call. Enabling or disabling a connection
takes effect at the next request."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from unigate.testing import GatewayHarness, Simulator, error_of
from unigate.testing.harness import APP_ID
from unigate.vault.models import Connection
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import TICKETS

CONSUMER = "switched-consumer"


@pytest.fixture(scope="module")
def connection(harness: GatewayHarness, sim: Simulator) -> Connection:
    """A consumer whose only connection (AgentsMesh) is disabled."""
    return harness.connect_consumer("agentsmesh", CONSUMER, {"base_url": sim.url, "organization": agentsmesh.DEFAULT_ORG},
                                    {"api_key": agentsmesh.DEFAULT_API_KEY}, enabled=False)


@pytest.fixture
def disabled(harness: GatewayHarness, sim: Simulator, connection: Connection) -> Iterator[Connection]:
    """The connection, disabled at the start and at the end of the test; the simulator's log cleared."""
    harness.store.update_connection(connection.id, enabled=False)
    sim.clear()
    yield connection
    harness.store.update_connection(connection.id, enabled=False)


def get(harness: GatewayHarness, service_id: str | None) -> httpx.Response:
    with harness.client(service_id, consumer_id=CONSUMER) as client:
        return client.get(TICKETS, params={"limit": 1})


def test_a_disabled_connection_named_by_service_id_is_connector_disabled(harness: GatewayHarness, sim: Simulator,
                                                                        disabled: Connection) -> None:
    response = get(harness, "agentsmesh")
    assert error_of(response) == (422, "ConnectorDisabledError")
    assert "disabled" in response.json()["detail"]
    assert sim.requests() == []


def test_a_disabled_connection_not_named_counts_as_no_connection(harness: GatewayHarness, sim: Simulator,
                                                                 disabled: Connection) -> None:
    response = get(harness, None)
    assert error_of(response) == (404, "ConnectionNotFoundError")
    assert sim.requests() == []


@pytest.mark.parametrize("service_id", ["agentsmesh", None], ids=["named", "not_named"])
def test_an_enabled_connection_serves_at_the_next_request(harness: GatewayHarness, sim: Simulator,
                                                          disabled: Connection, service_id: str | None) -> None:
    assert get(harness, service_id).status_code != 200
    harness.store.update_connection(disabled.id, enabled=True)
    response = get(harness, service_id)
    assert response.status_code == 200, response.json()
    assert [r["headers"]["x-api-key"] for r in sim.requests()] == [agentsmesh.DEFAULT_API_KEY]


def test_disabling_a_connection_in_use_refuses_the_next_request(harness: GatewayHarness, sim: Simulator,
                                                                disabled: Connection) -> None:
    harness.store.update_connection(disabled.id, enabled=True)
    assert get(harness, "agentsmesh").status_code == 200
    harness.store.update_connection(disabled.id, enabled=False)
    sim.clear()
    assert error_of(get(harness, "agentsmesh")) == (422, "ConnectorDisabledError")
    assert sim.requests() == []


def test_a_disabled_connection_beside_an_enabled_one_needs_no_service_id(harness: GatewayHarness,
                                                                         sim: Simulator) -> None:
    """Only enabled connections count when choosing without x-apideck-service-id."""
    harness.store.create_consumer(APP_ID, "one-of-two-enabled")
    harness.connect("codimir", consumer_id="one-of-two-enabled", credentials={"session_token": "t"}, enabled=False)
    harness.connect("agentsmesh", consumer_id="one-of-two-enabled",
                    settings={"base_url": sim.url, "organization": agentsmesh.DEFAULT_ORG},
                    credentials={"api_key": agentsmesh.DEFAULT_API_KEY})
    sim.clear()
    with harness.client(consumer_id="one-of-two-enabled") as client:
        response = client.get(TICKETS, params={"limit": 1})
    assert response.status_code == 200, response.json()
    assert response.json()["service"] == "agentsmesh"
    assert len(sim.requests()) == 1
