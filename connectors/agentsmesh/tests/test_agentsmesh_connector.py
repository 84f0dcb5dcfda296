"""AgentsMesh through the gateway against its simulator: paging, writes, filters, faults."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from unigate.testing import Simulator, connector_fixtures, injected_fault_tests, walk_pages
from unigate_connectors.agentsmesh import simulator

TICKETS = f"/issue-tracking/collections/{simulator.MAIN_REPOSITORY_ID}/tickets"


tracker, sim, harness, client = connector_fixtures("agentsmesh")


def tracker_slugs(sim: Simulator, **params: object) -> list[str]:
    """Slugs of the main repository's tickets in AgentsMesh's own order, read straight from the simulator
    (now: other tests of this module create tickets there)."""
    url = f"{sim.url}/api/v1/ext/orgs/{simulator.DEFAULT_ORG}/tickets"
    query: dict[str, Any] = {"repository_id": simulator.MAIN_REPOSITORY_ID, "limit": -1, **params}
    tickets = httpx.get(url, params=query, headers={"X-API-Key": simulator.DEFAULT_API_KEY}).json()["tickets"]
    return [t["slug"] for t in tickets]


@pytest.mark.parametrize("limit", [1, 7, 20, 200])
def test_paging_yields_every_ticket_once_in_order(client: httpx.Client, sim: Simulator, limit: int) -> None:
    expected = tracker_slugs(sim)
    ids, ended = walk_pages(client, TICKETS, limit)
    assert ended and ids == expected
    assert len(ids) == len(set(ids)) >= 250


def test_status_transitions_round_trip(client: httpx.Client) -> None:
    ticket_id = client.post(TICKETS, json={"subject": "Transitions"}).json()["data"]["id"]
    seen = []
    for status in ("in_progress", "closed", "open"):
        assert client.patch(f"{TICKETS}/{ticket_id}", json={"status": status}).status_code == 200
        seen.append(client.get(f"{TICKETS}/{ticket_id}").json()["data"]["status"])
    assert seen == ["in_progress", "closed", "open"]


def test_create_then_get_returns_what_was_sent(client: httpx.Client) -> None:
    sent = {"subject": "Faithful", "description": "Body text", "type": "bug", "status": "in_progress",
            "priority": "low", "assignees": [{"id": "3"}], "tags": [{"id": "frontend"}], "parent_id": "AM-1"}
    ticket_id = client.post(TICKETS, json=sent).json()["data"]["id"]
    got = client.get(f"{TICKETS}/{ticket_id}").json()["data"]
    assert {k: got[k] for k in sent} == {**sent, "assignees": [{"id": "3", "username": None}],
                                         "tags": [{"id": "frontend", "name": "frontend"}]}


def test_two_assignees_send_the_first_and_warn(client: httpx.Client, sim: Simulator) -> None:
    body = client.post(TICKETS, json={"subject": "x", "assignees": [{"id": "1"}, {"id": "2"}]}).json()
    assert body["status_code"] == 201 and [w["field"] for w in body["meta"]["warnings"]] == ["assignees"]
    assert "only the first (1)" in body["meta"]["warnings"][0]["message"]
    assert [r["body"]["assignee_id"] for r in sim.requests() if r["method"] == "POST"] == [1]


def test_assignee_filter_is_pushed_down(client: httpx.Client, sim: Simulator) -> None:
    expected = tracker_slugs(sim, assignee_id=3)[:20]
    sim.clear()
    data = client.get(TICKETS, params={"filter[assignee_id]": "3"}).json()["data"]
    assert [t["id"] for t in data] == expected and len(expected) == 20
    assert {str(t["assignees"]) for t in data} == {str([{"id": "3", "username": None}])}
    assert ("assignee_id", "3") in sim.requests()[-1]["query"]


def test_open_filter_is_two_statuses_one_call_each(client: httpx.Client, sim: Simulator) -> None:
    """AgentsMesh filters one status per call: the gateway fans out (tests/sync/test_fanned_out_filters.py)."""
    data = client.get(TICKETS, params={"filter[status]": "open"}).json()["data"]
    assert data and {t["status"] for t in data} == {"open"}
    assert sorted(dict(r["query"])["status"] for r in sim.requests() if r["method"] == "GET") == ["backlog", "todo"]


@pytest.mark.parametrize("resource", ["tickets/AM-1/comments", "users", "tags"])
def test_unbacked_resources_are_unsupported(client: httpx.Client, resource: str) -> None:
    body = client.get(f"/issue-tracking/collections/1/{resource}").json()
    assert (body["status_code"], body["type_name"]) == (501, "ConnectorOperationUnsupportedError")


# -- downstream faults: the shared contract (unigate.testing.faults) -------------------------
test_injected_fault_surfaces_as_its_typed_error = injected_fault_tests(TICKETS)
