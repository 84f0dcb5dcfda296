"""A change made through the Vault API is seen at once by every gateway serving the vault: here a
second gateway (another worker, with its own vault connection and read cache, warmed first)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from unigate.app import build_gateway, create_app
from unigate.simulation import BackgroundServer
from unigate.testing import GatewayHarness, Simulator
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import CONNECTION, TICKETS, connect, error

ONE = {"limit": 1}


@pytest.fixture
def worker(harness: GatewayHarness, vault: httpx.Client) -> Iterator[httpx.Client]:
    """A client of another gateway on the same vault, acting for the test's consumer."""
    other = build_gateway(harness.gateway.settings, harness.secret_key, registry=harness.gateway.registry)
    server = BackgroundServer(create_app(other)).start()
    try:
        with httpx.Client(base_url=server.url, headers={**vault.headers, "x-apideck-service-id": "agentsmesh"},
                          timeout=30) as client:
            yield client
    finally:
        server.stop()
        other.store.close()


def test_disabling_and_enabling(vault: httpx.Client, worker: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim)
    assert worker.get(TICKETS, params=ONE).status_code == 200   # its cache holds the connection now
    vault.patch(CONNECTION, json={"enabled": False})
    error(worker.get(TICKETS, params=ONE), 422, "ConnectorDisabledError")
    vault.patch(CONNECTION, json={"enabled": True})
    assert worker.get(TICKETS, params=ONE).status_code == 200


def test_new_credentials(vault: httpx.Client, worker: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim)
    assert worker.get(TICKETS, params=ONE).status_code == 200
    vault.patch(CONNECTION, json={"settings": {"api_key": "amk_revoked"}})
    error(worker.get(TICKETS, params=ONE), 401, "ConnectorCredentialsError")
    vault.patch(CONNECTION, json={"settings": {"api_key": agentsmesh.DEFAULT_API_KEY}})
    assert worker.get(TICKETS, params=ONE).status_code == 200


def test_adding_and_deleting(vault: httpx.Client, worker: httpx.Client, sim: Simulator) -> None:
    error(worker.get(TICKETS, params=ONE), 404, "ConnectionNotFoundError")
    connect(vault, sim)
    assert worker.get(TICKETS, params=ONE).status_code == 200
    vault.delete(CONNECTION)
    error(worker.get(TICKETS, params=ONE), 404, "ConnectionNotFoundError")


def test_a_new_custom_mapping(vault: httpx.Client, worker: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim)
    assert "custom_mappings" not in worker.get(TICKETS, params=ONE).json()["data"][0]
    vault.patch(CONNECTION, json={"custom_mappings": [{"key": "slug", "value": "$.slug"}]})
    assert worker.get(TICKETS, params=ONE).json()["data"][0]["custom_mappings"]["slug"].startswith("AM-")
