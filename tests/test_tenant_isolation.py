"""Tenants never reach each other's connections: an API key opens only its own app, an app only its
own consumers, a consumer only its own connections. Each refusal is a typed error (as Apideck
answers it) and no downstream call is made.

Two apps here: app A (the harness's ``test-app``, consumer ``test-consumer`` connected to AgentsMesh
with the full-access key) and app B (consumer ``b-consumer``, connected with the read-only key).
"""

from __future__ import annotations

import httpx
import pytest

from unigate.testing import GatewayHarness, Simulator, error_of
from unigate.testing.harness import APP_ID, CONSUMER_ID
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import TICKETS

APP_B = "app-b"
CONSUMER_B = "b-consumer"


@pytest.fixture(scope="module")
def key_b(harness: GatewayHarness, sim: Simulator) -> str:
    """App B's API key; app B's consumer is connected to the same tracker with its own key."""
    _, key = harness.store.create_app("App B", app_id=APP_B)
    harness.store.create_consumer(APP_B, CONSUMER_B)
    harness.store.create_connection(APP_B, CONSUMER_B, "agentsmesh",
                                    settings={"base_url": sim.url, "organization": agentsmesh.DEFAULT_ORG},
                                    credentials={"api_key": agentsmesh.READ_ONLY_API_KEY})
    return key


def get_tickets(harness: GatewayHarness, sim: Simulator, *, key: str, app_id: str, consumer_id: str,
                service_id: str | None = None) -> httpx.Response:
    sim.clear()
    headers = {"authorization": f"Bearer {key}", "x-apideck-app-id": app_id, "x-apideck-consumer-id": consumer_id}
    if service_id:
        headers["x-apideck-service-id"] = service_id
    with harness.anonymous() as client:
        return client.get(TICKETS, params={"limit": 1}, headers=headers)


def test_each_app_reads_through_its_own_connection(harness: GatewayHarness, sim: Simulator, key_b: str) -> None:
    for key, app_id, consumer_id, tracker_key in [(harness.api_key, APP_ID, CONSUMER_ID, agentsmesh.DEFAULT_API_KEY),
                                                  (key_b, APP_B, CONSUMER_B, agentsmesh.READ_ONLY_API_KEY)]:
        response = get_tickets(harness, sim, key=key, app_id=app_id, consumer_id=consumer_id)
        assert response.status_code == 200, response.json()
        assert [r["headers"]["x-api-key"] for r in sim.requests()] == [tracker_key]


def test_app_a_key_with_app_b_id_is_unauthorized(harness: GatewayHarness, sim: Simulator, key_b: str) -> None:
    response = get_tickets(harness, sim, key=harness.api_key, app_id=APP_B, consumer_id=CONSUMER_B)
    assert error_of(response) == (401, "UnauthorizedError")
    assert sim.requests() == []


def test_app_b_key_with_app_a_id_is_unauthorized(harness: GatewayHarness, sim: Simulator, key_b: str) -> None:
    response = get_tickets(harness, sim, key=key_b, app_id=APP_ID, consumer_id=CONSUMER_ID)
    assert error_of(response) == (401, "UnauthorizedError")
    assert sim.requests() == []


def test_app_a_cannot_name_a_consumer_of_app_b(harness: GatewayHarness, sim: Simulator, key_b: str) -> None:
    response = get_tickets(harness, sim, key=harness.api_key, app_id=APP_ID, consumer_id=CONSUMER_B)
    assert error_of(response) == (404, "ConnectionNotFoundError")
    assert sim.requests() == []


def test_app_a_cannot_name_a_consumer_of_app_b_with_its_service_id(harness: GatewayHarness, sim: Simulator,
                                                                   key_b: str) -> None:
    response = get_tickets(harness, sim, key=harness.api_key, app_id=APP_ID, consumer_id=CONSUMER_B,
                           service_id="agentsmesh")
    assert error_of(response) == (404, "ConnectionNotFoundError")
    assert sim.requests() == []


@pytest.fixture(scope="module")
def consumer_x(harness: GatewayHarness) -> str:
    """A consumer of app A without connections."""
    harness.store.create_consumer(APP_ID, "consumer-x")
    return "consumer-x"


@pytest.fixture(scope="module")
def consumer_y(harness: GatewayHarness, sim: Simulator) -> str:
    """A consumer of app A connected to the same tracker as the default consumer, with another key."""
    harness.connect_consumer("agentsmesh", "consumer-y", {"base_url": sim.url, "organization": agentsmesh.DEFAULT_ORG},
                             {"api_key": agentsmesh.READ_ONLY_API_KEY})
    return "consumer-y"


def test_a_consumer_without_a_connection_does_not_reach_another_consumers(harness: GatewayHarness, sim: Simulator,
                                                                          consumer_x: str, consumer_y: str) -> None:
    """Consumer X names the service that consumers of its app are connected to."""
    response = get_tickets(harness, sim, key=harness.api_key, app_id=APP_ID, consumer_id=consumer_x,
                           service_id="agentsmesh")
    assert error_of(response) == (404, "ConnectionNotFoundError")
    assert consumer_x in response.json()["detail"]
    assert sim.requests() == []


def test_two_consumers_of_one_app_each_use_their_own_credentials(harness: GatewayHarness, sim: Simulator,
                                                                  consumer_y: str) -> None:
    sent = []
    for consumer_id in [CONSUMER_ID, consumer_y, CONSUMER_ID]:
        response = get_tickets(harness, sim, key=harness.api_key, app_id=APP_ID, consumer_id=consumer_id)
        assert response.status_code == 200, response.json()
        sent += [r["headers"]["x-api-key"] for r in sim.requests()]
    assert sent == [agentsmesh.DEFAULT_API_KEY, agentsmesh.READ_ONLY_API_KEY, agentsmesh.DEFAULT_API_KEY]
