"""Downstream failures become typed errors: 4xx/5xx with downstream_errors, unreachable, timeout."""

from __future__ import annotations

import socket

import httpx
import pytest

from unigate.testing import GatewayHarness
from unigate.testing.harness import APP_ID
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import TICKETS


def consumer_with(harness: GatewayHarness, consumer_id: str, **settings) -> httpx.Client:  # noqa: ANN003
    harness.store.create_consumer(APP_ID, consumer_id)
    harness.connect("agentsmesh", consumer_id=consumer_id, credentials={"api_key": agentsmesh.DEFAULT_API_KEY},
                    settings={"organization": agentsmesh.DEFAULT_ORG, **settings})
    return harness.client(consumer_id=consumer_id)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_downstream_validation_error_carries_downstream_errors(client: httpx.Client) -> None:
    response = client.post(TICKETS, json={"subject": "x" * 600})
    body = response.json()
    assert response.status_code == 400
    assert body["type_name"] == "ConnectorExecutionError"
    assert body["detail"]["downstream_status"] == 400
    assert body["downstream_errors"] and "Title" in body["downstream_errors"][0]["message"]


def test_refused_connection_is_a_clear_502(connected: GatewayHarness) -> None:
    with consumer_with(connected, "refused", base_url=f"http://127.0.0.1:{closed_port()}") as c:
        body = c.get(TICKETS).json()
    assert (body["status_code"], body["type_name"]) == (502, "ConnectorExecutionError")
    assert "could not reach agentsmesh" in body["message"] and "refused" in body["message"]


def test_timeout_is_a_504(connected: GatewayHarness, agentsmesh_sim) -> None:  # noqa: ANN001
    agentsmesh_sim.clear()
    agentsmesh_sim.fault(latency_ms=800, path="/tickets/AM-5$")
    try:
        with consumer_with(connected, "impatient", base_url=agentsmesh_sim.url, timeout=0.2) as c:
            body = c.get(f"{TICKETS}/AM-5").json()
    finally:
        agentsmesh_sim.clear()
    assert (body["status_code"], body["type_name"]) == (504, "ConnectorExecutionError")
    assert "within 0.2s" in body["message"]


@pytest.mark.parametrize(("fault", "status", "type_name"), [
    ({"status": 500}, 502, "ConnectorExecutionError"),
    ({"status": 429, "retry_after": 30}, 429, "ConnectorRateLimitError"),
    ({"malformed_json": True}, 502, "ConnectorExecutionError"),
    ({"drop_connection": True}, 502, "ConnectorExecutionError"),
])
def test_injected_fault_is_typed(client: httpx.Client, agentsmesh_sim, fault, status, type_name) -> None:  # noqa: ANN001
    agentsmesh_sim.fault(**fault)
    response = client.get(f"{TICKETS}/AM-5")
    agentsmesh_sim.clear()
    body = response.json()
    assert (response.status_code, body["type_name"]) == (status, type_name), body
    if status == 429:
        assert response.headers["retry-after"] == "30"


def test_transient_500_on_a_read_is_retried_once(client: httpx.Client, agentsmesh_sim) -> None:  # noqa: ANN001
    agentsmesh_sim.fault(status=500, times=1)
    assert client.get(f"{TICKETS}/AM-5").status_code == 200
    assert len(agentsmesh_sim.requests()) == 2


def test_writes_are_never_retried(client: httpx.Client, agentsmesh_sim) -> None:  # noqa: ANN001
    agentsmesh_sim.fault(status=503, times=1, method="POST")
    assert client.post(TICKETS, json={"subject": "once"}).status_code == 502
    assert [r["method"] for r in agentsmesh_sim.requests()] == ["POST"]
