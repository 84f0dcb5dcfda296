"""Downstream failures become typed errors: 4xx/5xx with downstream_errors, unreachable, timeout."""

from __future__ import annotations

import socket

import httpx

from unigate.testing import GatewayHarness, Simulator
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


def test_refused_connection_is_a_clear_502(harness: GatewayHarness) -> None:
    with consumer_with(harness, "refused", base_url=f"http://127.0.0.1:{closed_port()}") as c:
        body = c.get(TICKETS).json()
    assert (body["status_code"], body["type_name"]) == (502, "ConnectorExecutionError")
    assert "could not reach agentsmesh" in body["message"] and "refused" in body["message"]


def test_timeout_is_a_504(harness: GatewayHarness, sim: Simulator) -> None:
    sim.clear()
    sim.fault(latency_ms=800, path="/tickets/AM-5$")
    try:
        with consumer_with(harness, "impatient", base_url=sim.url, timeout=0.2) as c:
            body = c.get(f"{TICKETS}/AM-5").json()
    finally:
        sim.clear()
    assert (body["status_code"], body["type_name"]) == (504, "ConnectorExecutionError")
    assert "within 0.2s" in body["message"]


def test_transient_500_on_a_read_is_retried_once(client: httpx.Client, sim: Simulator) -> None:
    sim.fault(status=500, times=1)
    assert client.get(f"{TICKETS}/AM-5").json()["data"]["id"] == "AM-5"
    assert [r["path"].rsplit("/", 1)[-1] for r in sim.requests()] == ["AM-5", "AM-5"]


def test_writes_are_never_retried(client: httpx.Client, sim: Simulator) -> None:
    sim.fault(status=503, times=1, method="POST")
    assert client.post(TICKETS, json={"subject": "once"}).status_code == 502
    assert [r["method"] for r in sim.requests()] == ["POST"]
