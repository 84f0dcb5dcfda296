"""What does not exist is a 404 ``EntityNotFoundError``, and the collection in the path is honoured.

On every simulated connector (the live ones, Redmine and Roundup, have the same tests in their own
live suites): a ticket reached through a collection it does not belong to is not found and is never
changed (no write reaches the tracker, and the ticket reads the same through its own collection);
an unknown ticket, an unknown collection and an unknown route are not found. Codimir's comments
are checked the same way through their ticket's collection, and through a ticket they are not on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from unigate.testing import Simulator, error_of

from .conftest import case_fixtures


@dataclass(frozen=True)
class Case:
    service_id: str
    collection: str             # where the test's tickets are created
    other_collection: str       # a collection they are not in (on single-collection trackers: not one at all)
    unknown_collection: str
    unknown_ticket: str         # well formed, but no ticket has it
    new_ticket: dict[str, Any]  # a create body
    change: dict[str, Any]      # an update that would change the ticket
    deletes: bool = True        # the connector supports tickets.delete
    lists: list[str] = field(default_factory=lambda: ["tickets"])   # per-collection lists that must 404


CASES = {
    "agentsmesh": Case("agentsmesh", "1", "2", "999", "AM-99999", {"subject": "Membership"}, {"subject": "Changed"}),
    "codimir": Case("codimir", "project_458", "project_457", "project_999999", "ticket_999999",
                    {"subject": "Membership"}, {"subject": "Changed"}, lists=["tickets", "users", "tags"]),
    "opine": Case("opine", "organization", "other", "other", "999999", {"subject": "Membership"},
                  {"subject": "Changed"}, deletes=False, lists=["tickets", "users"]),
    "selectel": Case("selectel", "support", "other", "other", "1",
                     {"subject": "Membership", "description": "first comment"}, {"status": "closed"},
                     deletes=False, lists=["tickets", "tags"]),
}


tracker, case, sim, client = case_fixtures(CASES)


def tickets(collection: str) -> str:
    return f"/issue-tracking/collections/{collection}/tickets"


@pytest.fixture(name="ticket")
def ticket_fixture(client: httpx.Client, case: Case, sim: Simulator) -> dict[str, Any]:
    """A new ticket of ``case.collection`` as read through it; the simulator's log cleared after."""
    created = client.post(tickets(case.collection), json=case.new_ticket)
    assert created.status_code == 201, created.text
    ticket = client.get(f"{tickets(case.collection)}/{created.json()['data']['id']}").json()["data"]
    sim.clear()
    return ticket


def not_found(response: httpx.Response) -> dict[str, Any]:
    assert error_of(response) == (404, "EntityNotFoundError"), response.text
    return response.json()


def writes(sim: Simulator) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in sim.requests() if r["method"] != "GET"]


# -- a ticket through a collection it is not in ----------------------------------------------------
def test_get_through_another_collection_is_not_found(client: httpx.Client, case: Case,
                                                     ticket: dict[str, Any]) -> None:
    body = not_found(client.get(f"{tickets(case.other_collection)}/{ticket['id']}"))
    assert case.other_collection in str(body["detail"])


def test_update_through_another_collection_is_not_found_and_changes_nothing(
        client: httpx.Client, case: Case, sim: Simulator, ticket: dict[str, Any]) -> None:
    not_found(client.patch(f"{tickets(case.other_collection)}/{ticket['id']}", json=case.change))
    assert writes(sim) == []
    assert client.get(f"{tickets(case.collection)}/{ticket['id']}").json()["data"] == ticket


def test_delete_through_another_collection_is_not_found_and_deletes_nothing(
        client: httpx.Client, case: Case, sim: Simulator, ticket: dict[str, Any]) -> None:
    response = client.delete(f"{tickets(case.other_collection)}/{ticket['id']}")
    if case.deletes:
        not_found(response)
    else:  # the tracker has no delete: refused as unsupported, whatever the collection
        assert error_of(response) == (501, "ConnectorOperationUnsupportedError")
    assert writes(sim) == []
    assert client.get(f"{tickets(case.collection)}/{ticket['id']}").json()["data"] == ticket


# -- what does not exist ---------------------------------------------------------------------------
def test_an_unknown_ticket_is_not_found(client: httpx.Client, case: Case) -> None:
    body = not_found(client.get(f"{tickets(case.collection)}/{case.unknown_ticket}"))
    assert body["error"] == "Not Found"


def test_an_unknown_collection_is_not_found(client: httpx.Client, case: Case) -> None:
    not_found(client.get(f"/issue-tracking/collections/{case.unknown_collection}"))


def test_the_lists_of_an_unknown_collection_are_not_found(client: httpx.Client, case: Case) -> None:
    for resource in case.lists:
        not_found(client.get(f"/issue-tracking/collections/{case.unknown_collection}/{resource}"))


def test_a_create_in_an_unknown_collection_is_not_found_and_creates_nothing(client: httpx.Client, case: Case) -> None:
    before = client.get(tickets(case.collection), params={"limit": 1}).json()["meta"]["total_count"]
    not_found(client.post(tickets(case.unknown_collection), json=case.new_ticket))
    assert client.get(tickets(case.collection), params={"limit": 1}).json()["meta"]["total_count"] == before


def test_an_unknown_route_is_not_found(client: httpx.Client, case: Case) -> None:
    body = not_found(client.get(f"/issue-tracking/collections/{case.collection}/milestones"))
    assert "no unified API route" in body["detail"]
