"""The Vault API through the gateway (``unigate.vault_api``), in front of a simulated AgentsMesh
(``harness`` and ``sim``), each test once on SQLite and once on PostgreSQL (``module_database``).

Each test acts for a consumer of its own (``consumer``), so tests never see each other's
connections; ``vault`` is an HTTP client of the app for that consumer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from unigate.testing import GatewayHarness, Simulator, connector_fixtures
from unigate_connectors.agentsmesh import simulator as agentsmesh

CONNECTION = "/vault/connections/issue-tracking/agentsmesh"
MAPPINGS = "/vault/custom-mappings/issue-tracking/agentsmesh"
TICKETS = f"/issue-tracking/collections/{agentsmesh.MAIN_REPOSITORY_ID}/tickets"

tracker, sim, harness, client = connector_fixtures("agentsmesh", on_both_backends=True)


@pytest.fixture
def consumer() -> str:
    return f"account:{uuid.uuid4().hex[:12]}"


@pytest.fixture
def vault(harness: GatewayHarness, consumer: str) -> Iterator[httpx.Client]:
    with harness.client(consumer_id=consumer) as client:
        yield client


def agentsmesh_settings(sim: Simulator, **overrides: Any) -> dict[str, Any]:
    """What a consumer enters for AgentsMesh (settings and the API key, in ``settings`` as Apideck's Vault takes them)."""
    return {"base_url": sim.url, "organization": agentsmesh.DEFAULT_ORG, "api_key": agentsmesh.DEFAULT_API_KEY,
            **overrides}


def connect(vault: httpx.Client, sim: Simulator, **body: Any) -> httpx.Response:
    response = vault.patch(CONNECTION, json={"settings": agentsmesh_settings(sim), **body})
    assert response.status_code == 200, response.text
    return response


def error(response: httpx.Response, status: int, type_name: str) -> dict[str, Any]:
    """The error body, asserted to be ``status`` and ``type_name`` in Apideck's error schema."""
    body = response.json()
    assert (response.status_code, body["status_code"], body["type_name"]) == (status, status, type_name), body
    return body
