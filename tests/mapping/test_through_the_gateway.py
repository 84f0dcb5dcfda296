"""Mapping features observed end to end: custom_mappings, body pass_through, raw of multi-call ops."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from unigate.testing import ConnectorUnderTest, GatewayHarness, Simulator, connector_fixtures
from unigate.testing.harness import APP_ID
from unigate_connectors.agentsmesh import simulator as agentsmesh

TICKETS = f"/issue-tracking/collections/{agentsmesh.MAIN_REPOSITORY_ID}/tickets"


tracker, sim, harness, _ = connector_fixtures("agentsmesh", consumers={
    "custom": {"custom_mappings": {"number": "$.number", "first_label": "$.labels[0]", "nothing": "$.not.there"}}})


def tracker_ticket(sim: Simulator, slug: str) -> dict[str, Any]:
    """AgentsMesh's own record of a ticket (ground truth, bypassing the gateway)."""
    url = f"{sim.url}/api/v1/ext/orgs/{agentsmesh.DEFAULT_ORG}/tickets/{slug}"
    return httpx.get(url, headers={"X-API-Key": agentsmesh.DEFAULT_API_KEY}).json()["ticket"]


@pytest.fixture
def client(tracker: ConnectorUnderTest) -> Iterator[httpx.Client]:
    """A client of the consumer whose connection has custom mappings."""
    with tracker.client("custom") as c:
        yield c


def test_custom_mappings_are_read_under_custom_mappings(client: httpx.Client, sim: Simulator) -> None:
    truth = tracker_ticket(sim, "AM-260")  # seeded with two labels; never written in this module
    assert len(truth["labels"]) == 2
    ticket = client.get(f"{TICKETS}/AM-260").json()["data"]
    assert ticket["custom_mappings"] == {"number": 260, "first_label": truth["labels"][0], "nothing": None}


def test_custom_mappings_are_written_back(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = client.post(TICKETS, json={"subject": "Custom mapping target", "tags": [{"id": "ui"}]}).json()["data"]["id"]
    sim.clear()
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"custom_mappings": {"first_label": "auth"}})
    assert response.json()["data"] == {"id": ticket_id}
    assert [r["body"] for r in sim.requests() if r["method"] != "GET"] == [{"labels": ["auth"]}]
    assert tracker_ticket(sim, ticket_id)["labels"] == ["auth"]
    assert client.get(f"{TICKETS}/{ticket_id}").json()["data"]["custom_mappings"]["first_label"] == "auth"


def test_unknown_custom_mapping_on_write_is_a_validation_error(client: httpx.Client, sim: Simulator) -> None:
    body = client.patch(f"{TICKETS}/AM-12", json={"custom_mappings": {"team": "x"}}).json()
    assert (body["status_code"], body["type_name"]) == (400, "RequestValidationError")
    assert "custom_mappings.team" in body["detail"]
    assert sim.requests() == []


def test_changed_custom_mappings_take_effect_on_the_next_request(client: httpx.Client, harness: GatewayHarness) -> None:
    connection = harness.store.connections_of(APP_ID, "custom")[0]
    harness.store.update_connection(connection.id, custom_mappings={"slug_again": "$.slug"})
    try:
        assert client.get(f"{TICKETS}/AM-3").json()["data"]["custom_mappings"] == {"slug_again": "AM-3"}
    finally:
        harness.store.update_connection(connection.id, custom_mappings=connection.custom_mappings)


def test_body_pass_through_extends_the_downstream_body(client: httpx.Client, sim: Simulator) -> None:
    pass_through = [
        {"service_id": "agentsmesh", "extend_object": {"labels": ["backend"], "type": "bug"},
         "extend_paths": [{"path": "$.assignee_id", "value": 3}]},
        {"service_id": "jira", "extend_object": {"ignored": True}},
    ]
    response = client.post(TICKETS, json={"subject": "With pass_through", "pass_through": pass_through})
    assert response.status_code == 201, response.json()
    sent = sim.requests()[-1]["body"]
    assert sent == {"repository_id": 1, "type": "bug", "title": "With pass_through", "labels": ["backend"], "assignee_id": 3}


def test_body_pass_through_operation_id_targets_one_call(client: httpx.Client, sim: Simulator) -> None:
    pass_through = [{"service_id": "agentsmesh", "operation_id": "tickets_update_status",
                     "extend_object": {"note": "closing"}}]
    response = client.patch(f"{TICKETS}/AM-20", json={"subject": "Two calls", "status": "closed", "pass_through": pass_through})
    assert response.json()["data"] == {"id": "AM-20"}
    calls = [(r["method"], r["body"]) for r in sim.requests()]
    assert calls == [("GET", None), ("PUT", {"title": "Two calls"}), ("PATCH", {"status": "done", "note": "closing"})]


def test_raw_of_a_multi_call_update_carries_every_call(client: httpx.Client) -> None:
    body = client.patch(f"{TICKETS}/AM-21", params={"raw": "true"}, json={"subject": "Raw", "status": "in_progress"}).json()
    calls = body["_raw"]["calls"]
    assert [c["call_id"] for c in calls] == ["tickets_update_collection_check", "tickets_update", "tickets_update_status"]
    assert calls[2]["body"] == {"message": "Status updated"}


def test_failed_second_call_reports_what_was_applied(client: httpx.Client, sim: Simulator) -> None:
    sim.fault(status=500, path="/status$")
    body = client.patch(f"{TICKETS}/AM-22", json={"subject": "Half", "status": "closed"}).json()
    assert body["type_name"] == "ConnectorExecutionError"
    assert body["detail"]["applied_calls"] == ["tickets_update"]
    assert body["detail"]["failed_call"] == "tickets_update_status"
    assert "partly applied" in body["message"]
