"""Each ticket operation's happy path and the spec's envelope, through a simulated AgentsMesh."""

from __future__ import annotations

import httpx

from unigate.testing import Simulator
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import TICKETS, tracker_tickets


def tracker_slugs(sim: Simulator) -> list[str]:
    return [t["slug"] for t in tracker_tickets(sim, repository_id=agentsmesh.MAIN_REPOSITORY_ID)]

ENVELOPE = {"status_code", "status", "service", "resource", "operation", "data"}


def test_list_envelope(client: httpx.Client) -> None:
    response = client.get(TICKETS, params={"limit": 5})
    body = response.json()
    assert response.status_code == 200
    assert ENVELOPE | {"meta", "links"} <= set(body)
    assert (body["status"], body["service"], body["resource"], body["operation"]) == ("OK", "agentsmesh", "tickets", "all")
    assert body["meta"]["items_on_page"] == 5
    assert set(body["meta"]["cursors"]) == {"previous", "current", "next"}
    assert body["meta"]["cursors"]["previous"] is None
    assert body["links"]["next"].endswith("cursor=" + body["meta"]["cursors"]["next"])
    assert response.headers["request-id"]


def test_next_page_links_back(client: httpx.Client) -> None:
    first = client.get(TICKETS, params={"limit": 5}).json()
    second = client.get(TICKETS, params={"limit": 5, "cursor": first["meta"]["cursors"]["next"]}).json()
    assert second["meta"]["cursors"]["current"] == first["meta"]["cursors"]["next"]
    again = client.get(TICKETS, params={"limit": 5, "cursor": second["meta"]["cursors"]["previous"]}).json()
    assert [t["id"] for t in again["data"]] == [t["id"] for t in first["data"]]


def test_paging_yields_every_ticket_once_and_ends(client: httpx.Client, sim: Simulator) -> None:
    expected = tracker_slugs(sim)
    seen, cursor, pages = [], None, 0
    while True:
        body = client.get(TICKETS, params={"limit": 50, **({"cursor": cursor} if cursor else {})}).json()
        seen += [t["id"] for t in body["data"]]
        pages += 1
        cursor = body["meta"]["cursors"]["next"]
        if cursor is None:
            break
    assert seen == expected and len(set(seen)) == body["meta"]["total_count"] == len(expected) >= 260
    assert pages == -(-len(seen) // 50)


def test_changing_limit_between_pages_loses_nothing(client: httpx.Client, sim: Simulator) -> None:
    reference = tracker_slugs(sim)[:30]
    first = client.get(TICKETS, params={"limit": 7}).json()
    rest = client.get(TICKETS, params={"limit": 23, "cursor": first["meta"]["cursors"]["next"]}).json()
    assert [t["id"] for t in first["data"] + rest["data"]] == reference


def test_get_one(client: httpx.Client) -> None:
    body = client.get(f"{TICKETS}/AM-1").json()
    assert set(body) >= ENVELOPE and "links" not in body
    assert body["operation"] == "one"
    assert body["data"]["id"] == "AM-1"
    assert body["data"]["collection_id"] == "1"


def test_create_answers_201_with_the_id(client: httpx.Client) -> None:
    response = client.post(TICKETS, json={"subject": "Created in a test", "priority": "urgent", "tags": [{"id": "backend"}]})
    body = response.json()
    assert response.status_code == 201
    assert (body["status_code"], body["status"], body["operation"]) == (201, "Created", "add")
    created = client.get(f"{TICKETS}/{body['data']['id']}").json()["data"]
    assert (created["subject"], created["priority"], created["tags"]) == (
        "Created in a test", "urgent", [{"id": "backend", "name": "backend"}])


def test_update_then_get_shows_the_change(client: httpx.Client) -> None:
    ticket_id = client.post(TICKETS, json={"subject": "To update"}).json()["data"]["id"]
    body = client.patch(f"{TICKETS}/{ticket_id}", json={"subject": "Updated", "status": "in_progress"}).json()
    assert (body["operation"], body["data"]) == ("update", {"id": ticket_id})
    updated = client.get(f"{TICKETS}/{ticket_id}").json()["data"]
    assert (updated["subject"], updated["status"]) == ("Updated", "in_progress")


def test_delete_then_get_is_an_entity_not_found_404(client: httpx.Client) -> None:
    ticket_id = client.post(TICKETS, json={"subject": "To delete"}).json()["data"]["id"]
    body = client.delete(f"{TICKETS}/{ticket_id}").json()
    assert (body["operation"], body["data"]) == ("delete", {"id": ticket_id})
    gone = client.get(f"{TICKETS}/{ticket_id}")
    assert gone.status_code == 404
    assert gone.json()["type_name"] == "EntityNotFoundError"
    assert gone.json()["downstream_errors"] == [{"message": "Ticket not found", "code": "RESOURCE_NOT_FOUND"}]


def test_unsupported_operation_is_501(client: httpx.Client) -> None:
    body = client.get(f"{TICKETS}/AM-1/comments").json()
    assert (body["status_code"], body["type_name"]) == (501, "ConnectorOperationUnsupportedError")
    assert "comments.all" in body["detail"]
