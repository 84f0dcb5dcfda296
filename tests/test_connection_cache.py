"""The gateway's per-connection state (endpoint, settings, custom mappings, looked-up lists;
``unigate.connection_state``) is kept per connection revision in one bounded cache: a connection
changed in the vault is served fresh at its next request, and however many connections pass, no
more than ``UNIGATE_CONNECTION_CACHE`` of them are remembered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from unigate.testing import GatewayHarness, Simulator, error_of
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import TICKETS

SETTINGS = {"organization": agentsmesh.DEFAULT_ORG}


def connect(harness: GatewayHarness, sim: Simulator, consumer: str, api_key: str = agentsmesh.DEFAULT_API_KEY,
            **connection: object) -> str:
    made = harness.connect_consumer("agentsmesh", consumer, {**SETTINGS, "base_url": sim.url},
                                    {"api_key": api_key}, **connection)
    return made.id


def get(harness: GatewayHarness, consumer: str, path: str = TICKETS) -> httpx.Response:
    with harness.client(consumer_id=consumer) as client:
        return client.get(path, params={"limit": 1} if path == TICKETS else None)


def test_credentials_changed_in_the_vault_are_sent_at_the_next_request(harness: GatewayHarness,
                                                                         sim: Simulator) -> None:
    connection_id = connect(harness, sim, "rotating-key", api_key="amk_not_yet")
    assert error_of(get(harness, "rotating-key")) == (401, "ConnectorCredentialsError")
    harness.store.update_connection(connection_id, credentials={"api_key": agentsmesh.DEFAULT_API_KEY})
    sim.clear()
    assert get(harness, "rotating-key").status_code == 200
    assert [r["headers"]["x-api-key"] for r in sim.requests()] == [agentsmesh.DEFAULT_API_KEY]


def test_custom_mappings_changed_in_the_vault_apply_at_the_next_request(harness: GatewayHarness,
                                                                          sim: Simulator) -> None:
    connection_id = connect(harness, sim, "remapped", custom_mappings={"shown": "$.slug"})
    ticket = f"{TICKETS}/AM-3"
    assert get(harness, "remapped", ticket).json()["data"]["custom_mappings"] == {"shown": "AM-3"}
    harness.store.update_connection(connection_id, custom_mappings={"shown": "$.status"})
    status = get(harness, "remapped", ticket).json()["data"]["custom_mappings"]["shown"]
    assert status != "AM-3" and isinstance(status, str)


@pytest.fixture
def small_cache(tmp_path: Path) -> Iterator[GatewayHarness]:
    harness = GatewayHarness(tmp_path, settings={"connection_cache": 2})
    yield harness
    harness.stop()


def test_no_more_connections_are_remembered_than_the_bound(small_cache: GatewayHarness, sim: Simulator) -> None:
    consumers = [f"consumer-{n}" for n in range(5)]
    for consumer in consumers:
        connect(small_cache, sim, consumer)
        assert get(small_cache, consumer).status_code == 200
        assert len(small_cache.gateway.dispatcher.states) <= 2
    assert get(small_cache, consumers[0]).status_code == 200  # forgotten, then derived again
    assert len(small_cache.gateway.dispatcher.states) == 2
