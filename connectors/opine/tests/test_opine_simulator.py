"""Specification of the Opine simulator, exercised over real HTTP."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from unigate.kit import BackgroundServer, SimulatorControl
from unigate_connectors.opine.simulator import (
    DEAL_PRIORITIES,
    DEFAULT_API_KEY,
    DEFAULT_ORGANIZATION_ID,
    OTHER_ORG_API_KEY,
    READ_ONLY_API_KEY,
    TICKET_STATES,
    TICKET_TYPES,
    create_app,
)

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture(scope="module")
def control() -> SimulatorControl:
    return create_app()


@pytest.fixture(scope="module")
def server(control: SimulatorControl) -> Iterator[BackgroundServer]:
    with BackgroundServer(control) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"X-API-Key": DEFAULT_API_KEY},
                      timeout=5) as http:
        yield http


@pytest.fixture
def pristine() -> Iterator[httpx.Client]:
    """A client of a simulator of its own, holding only the seeded data (the module's is written to)."""
    with BackgroundServer(create_app()) as running, httpx.Client(
            base_url=running.url, headers={"X-API-Key": DEFAULT_API_KEY}, timeout=5) as http:
        yield http


def new_ticket(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"title": "Export fails for big workspaces", "type": "BUG", "state": "OPEN", **fields}
    response = client.post("/v1/tickets", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def labels_of(control: SimulatorControl, ticket_id: int) -> list[str]:
    return control.app.state.opine.tickets[ticket_id]["_labels"]  # type: ignore[attr-defined]


# -- auth ------------------------------------------------------------------------------------
def test_missing_api_key_is_401(server: BackgroundServer) -> None:
    response = httpx.get(f"{server.url}/v1/tickets")
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized."}


def test_wrong_api_key_is_401(server: BackgroundServer) -> None:
    response = httpx.get(f"{server.url}/v1/tickets", headers={"X-API-Key": "opine_sk_live_nope"})
    assert response.status_code == 401


def test_bearer_authorization_header_is_not_accepted(server: BackgroundServer) -> None:
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    assert httpx.get(f"{server.url}/v1/tickets", headers=headers).status_code == 401


def test_read_only_key_lists_but_cannot_write(server: BackgroundServer) -> None:
    headers = {"X-API-Key": READ_ONLY_API_KEY}
    listed = httpx.get(f"{server.url}/v1/tickets", headers=headers, params={"limit": 1}).json()
    assert [t["id"] for t in listed["items"]] == [1]
    response = httpx.put(f"{server.url}/v1/tickets/1", headers=headers, json={"title": "x"})
    assert response.status_code == 403
    error = "Forbidden. This API key is missing the 'tickets:write' scope."
    assert response.json() == {"error": error}


# -- list and pagination ---------------------------------------------------------------------
def test_list_defaults_to_limit_100_offset_0(client: httpx.Client) -> None:
    page = client.get("/v1/tickets").json()
    assert set(page) == {"items", "limit", "offset", "totalCount"}
    assert (page["limit"], page["offset"], len(page["items"])) == (100, 0, 100)
    assert page["totalCount"] >= 260


def test_walking_all_pages_yields_every_ticket_once_in_id_order(client: httpx.Client) -> None:
    total = client.get("/v1/tickets", params={"limit": 1}).json()["totalCount"]
    ids: list[int] = []
    for offset in range(0, total, 37):
        page = client.get("/v1/tickets", params={"limit": 37, "offset": offset}).json()
        ids += [item["id"] for item in page["items"]]
    assert len(ids) == total == len(set(ids))
    assert ids == sorted(ids)


def test_offset_past_the_end_returns_no_items_but_the_total(client: httpx.Client) -> None:
    page = client.get("/v1/tickets", params={"offset": 100_000}).json()
    assert page["items"] == [] and page["totalCount"] >= 260


def test_skip_is_accepted_as_an_alias_of_offset(client: httpx.Client, control: SimulatorControl) -> None:
    by_skip = client.get("/v1/tickets", params={"limit": 3, "skip": 5}).json()
    tickets = control.app.state.opine.org_tickets(DEFAULT_ORGANIZATION_ID)  # type: ignore[attr-defined]
    assert [t["id"] for t in by_skip["items"]] == [t["id"] for t in tickets[5:8]]
    assert (by_skip["offset"], by_skip["limit"]) == (5, 3)


@pytest.mark.parametrize(("limit", "code"), [("0", "too_small"), ("1001", "too_big"),
                                              ("ten", "invalid_type"), ("2.5", "invalid_type")])
def test_limit_outside_1_to_1000_is_a_validation_error(client: httpx.Client, limit: str,
                                                         code: str) -> None:
    response = client.get("/v1/tickets", params={"limit": limit})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Validation error."
    assert [(i["code"], i["path"]) for i in body["issues"]] == [(code, ["limit"])]


def test_seeded_tickets_have_the_documented_field_forms(pristine: httpx.Client) -> None:
    page = pristine.get("/v1/tickets", params={"limit": 1000}).json()
    items = page["items"]
    assert len(items) == page["totalCount"] == 260
    for ticket in items:
        assert isinstance(ticket["id"], int) and ticket["organizationId"] == 1
        assert ticket["type"] in TICKET_TYPES and ticket["state"] in TICKET_STATES
        assert TIMESTAMP.match(ticket["createdAt"]) and TIMESTAMP.match(ticket["updatedAt"])
        assert (ticket["closedAt"] is not None) == (ticket["state"] == "CLOSED")
        assert "labels" not in ticket
        for deal in ticket["linkedDeals"]:
            assert deal["priority"] in DEAL_PRIORITIES
    assert any(t["vendorEntityKey"] for t in items) and any(t["linkedDeals"] for t in items)


# -- get one ---------------------------------------------------------------------------------
def test_get_ticket_by_id(client: httpx.Client) -> None:
    ticket = client.get("/v1/tickets/7").json()
    assert ticket["id"] == 7 and "linkedDeals" in ticket and "dealAmountSum" in ticket


def test_get_ticket_by_external_id_with_eid_prefix(client: httpx.Client) -> None:
    items = client.get("/v1/tickets", params={"limit": 1000}).json()["items"]
    synced = next(t for t in items if t["vendorEntityId"])
    response = client.get(f"/v1/tickets/eid:{synced['vendorEntityId']}")
    assert response.json()["id"] == synced["id"]


def test_get_unknown_ticket_is_404(client: httpx.Client) -> None:
    response = client.get("/v1/tickets/999999")
    assert response.status_code == 404
    assert response.json() == {"error": "Ticket not found."}


def test_tickets_of_another_organization_are_invisible(client: httpx.Client) -> None:
    theirs = client.get("/v1/tickets", headers={"X-API-Key": OTHER_ORG_API_KEY}).json()
    assert theirs["totalCount"] == 5
    assert client.get(f"/v1/tickets/{theirs['items'][0]['id']}").status_code == 404


# -- create ----------------------------------------------------------------------------------
def test_create_returns_201_with_defaults(client: httpx.Client) -> None:
    ticket = new_ticket(client)
    assert ticket["organizationId"] == DEFAULT_ORGANIZATION_ID
    assert ticket["description"] is None and ticket["closedAt"] is None
    assert ticket["linkedDeals"] == [] and ticket["dealAmountSum"] == 0
    assert ticket["createdAt"] == ticket["updatedAt"] and TIMESTAMP.match(ticket["createdAt"])
    assert client.get(f"/v1/tickets/{ticket['id']}").json() == ticket


def test_create_without_required_fields_lists_every_issue(client: httpx.Client) -> None:
    response = client.post("/v1/tickets", json={})
    assert response.status_code == 400
    issues = response.json()["issues"]
    assert [(i["path"], i["code"], i["message"]) for i in issues] == [
        (["title"], "invalid_type", "Required"),
        (["type"], "invalid_type", "Required"),
        (["state"], "invalid_type", "Required"),
    ]


def test_create_title_longer_than_256_is_rejected(client: httpx.Client) -> None:
    body = {"title": "x" * 257, "type": "BUG", "state": "OPEN"}
    issue = client.post("/v1/tickets", json=body).json()["issues"][0]
    assert issue["code"] == "too_big" and issue["maximum"] == 256


def test_create_unknown_type_is_an_invalid_enum_value(client: httpx.Client) -> None:
    body = {"title": "t", "type": "INVALID", "state": "OPEN"}
    issue = client.post("/v1/tickets", json=body).json()["issues"][0]
    assert issue == {
        "received": "INVALID", "code": "invalid_enum_value", "options": list(TICKET_TYPES),
        "path": ["type"], "message": "Invalid enum value. Expected 'BUG' | 'FEATURE_REQUEST' | "
        "'IMPROVEMENT' | 'TASK', received 'INVALID'",
    }


def test_slate_description_comes_back_as_markdown(client: httpx.Client) -> None:
    slate = [
        {"type": "heading-one", "children": [{"text": "Steps"}]},
        {"type": "paragraph", "children": [{"text": "Export "}, {"text": "fails", "bold": True}]},
        {"type": "bulleted-list", "children": [
            {"type": "list-item", "children": [{"text": "open report"}]},
            {"type": "list-item", "children": [{"text": "click export"}]}]},
    ]
    ticket = new_ticket(client, description=slate)
    assert ticket["description"] == "# Steps\n\nExport **fails**\n\n- open report\n- click export"


def test_markdown_description_is_stored_verbatim(client: httpx.Client) -> None:
    assert new_ticket(client, description="*as is*")["description"] == "*as is*"


def test_slate_node_without_children_is_an_invalid_union(client: httpx.Client) -> None:
    body = {"title": "t", "type": "BUG", "state": "OPEN", "description": [{"type": "p"}]}
    issue = client.post("/v1/tickets", json=body).json()["issues"][0]
    assert (issue["code"], issue["path"]) == ("invalid_union", ["description"])


def test_target_due_date_must_be_utc_date_time(client: httpx.Client) -> None:
    for bad in ("2025-12-01", "2025-12-01T10:00:00+02:00"):
        body = {"title": "t", "type": "BUG", "state": "OPEN", "targetDueDate": bad}
        issue = client.post("/v1/tickets", json=body).json()["issues"][0]
        assert issue["message"] == "Invalid datetime"
    assert new_ticket(client, targetDueDate="2025-12-01T10:00:00Z")["targetDueDate"] == (
        "2025-12-01T10:00:00.000Z")


def test_vendor_entity_url_must_be_a_url(client: httpx.Client) -> None:
    body = {"title": "t", "type": "BUG", "state": "OPEN", "vendorEntityUrl": "not a url"}
    assert client.post("/v1/tickets", json=body).json()["issues"][0]["message"] == "Invalid url"


def test_create_with_deals_links_them_and_sums_amounts(client: httpx.Client) -> None:
    ticket = new_ticket(client, deals=[{"id": 1, "priority": "BLOCKER"}, {"id": 2}])
    assert [(d["id"], d["priority"]) for d in ticket["linkedDeals"]] == [(1, "BLOCKER"), (2, None)]
    assert ticket["dealAmountSum"] > 0


def test_create_with_unknown_deal_is_404_and_creates_nothing(client: httpx.Client) -> None:
    before = client.get("/v1/tickets", params={"limit": 1}).json()["totalCount"]
    body = {"title": "t", "type": "BUG", "state": "OPEN", "deals": [{"id": 4242}]}
    response = client.post("/v1/tickets", json=body)
    assert response.status_code == 404 and response.json() == {"error": "Deal 4242 not found."}
    assert client.get("/v1/tickets", params={"limit": 1}).json()["totalCount"] == before


def test_labels_are_stored_but_not_returned(client: httpx.Client,
                                            control: SimulatorControl) -> None:
    ticket = new_ticket(client, labels=["brand-new", "Security"])
    assert "labels" not in ticket
    assert labels_of(control, ticket["id"]) == ["brand-new", "Security"]
    state = control.app.state.opine  # type: ignore[attr-defined]
    catalogue = state.labels[DEFAULT_ORGANIZATION_ID]
    assert {"brand-new", "Security"} <= catalogue


def test_creating_a_closed_ticket_sets_closed_at(client: httpx.Client) -> None:
    ticket = new_ticket(client, state="CLOSED")
    assert ticket["closedAt"] == ticket["createdAt"]


def test_malformed_json_body_is_400(client: httpx.Client) -> None:
    response = client.post("/v1/tickets", content=b'{"title": ',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"error": "Malformed JSON in request body."}


# -- update ----------------------------------------------------------------------------------
def test_update_is_partial(client: httpx.Client) -> None:
    ticket = new_ticket(client, description="keep me")
    time.sleep(0.002)
    updated = client.put(f"/v1/tickets/{ticket['id']}", json={"title": "Renamed"}).json()
    assert updated["title"] == "Renamed" and updated["description"] == "keep me"
    assert updated["updatedAt"] > ticket["updatedAt"]


def test_update_with_null_clears_nullable_fields(client: httpx.Client,
                                                 control: SimulatorControl) -> None:
    ticket = new_ticket(client, description="d", targetDueDate="2026-01-01T00:00:00Z",
                        vendorEntityUrl="https://example.com/1", labels=["a"])
    cleared = client.put(f"/v1/tickets/{ticket['id']}", json={
        "description": None, "targetDueDate": None, "vendorEntityUrl": None, "labels": None,
    }).json()
    assert (cleared["description"], cleared["targetDueDate"], cleared["vendorEntityUrl"]) == (
        None, None, None)
    assert labels_of(control, ticket["id"]) == []


def test_update_cannot_null_the_title(client: httpx.Client) -> None:
    response = client.put("/v1/tickets/1", json={"title": None})
    assert response.status_code == 400
    assert response.json()["issues"][0]["message"] == "Expected string, received null"


def test_update_labels_replaces_all(client: httpx.Client, control: SimulatorControl) -> None:
    ticket = new_ticket(client, labels=["a", "b"])
    client.put(f"/v1/tickets/{ticket['id']}", json={"labels": ["c"]})
    assert labels_of(control, ticket["id"]) == ["c"]


def test_closing_sets_closed_at_and_reopening_clears_it(client: httpx.Client) -> None:
    ticket = new_ticket(client)
    closed = client.put(f"/v1/tickets/{ticket['id']}", json={"state": "CLOSED"}).json()
    assert closed["closedAt"] is not None
    again = client.put(f"/v1/tickets/{ticket['id']}", json={"state": "CLOSED"}).json()
    assert again["closedAt"] == closed["closedAt"]
    reopened = client.put(f"/v1/tickets/{ticket['id']}", json={"state": "IN_PROGRESS"}).json()
    assert reopened["closedAt"] is None


def test_update_deals_upserts_and_deletes_links(client: httpx.Client) -> None:
    ticket = new_ticket(client, deals=[{"id": 1, "priority": "LOW"}, {"id": 2}])
    updated = client.put(f"/v1/tickets/{ticket['id']}", json={"deals": [
        {"id": 1, "priority": "BLOCKER"}, {"id": 2, "delete": True}, {"id": 3}]}).json()
    assert [(d["id"], d["priority"]) for d in updated["linkedDeals"]] == [(1, "BLOCKER"), (3, None)]


def test_update_by_external_id(client: httpx.Client) -> None:
    items = client.get("/v1/tickets", params={"limit": 1000}).json()["items"]
    synced = next(t for t in items if t["vendorEntityId"])
    response = client.put(f"/v1/tickets/eid:{synced['vendorEntityId']}", json={"state": "OPEN"})
    assert response.status_code == 200 and response.json()["id"] == synced["id"]


def test_update_unknown_ticket_is_404(client: httpx.Client) -> None:
    response = client.put("/v1/tickets/999999", json={"title": "x"})
    assert response.status_code == 404 and response.json() == {"error": "Ticket not found."}


def test_there_is_no_delete_endpoint(client: httpx.Client) -> None:
    response = client.delete("/v1/tickets/1")
    assert response.status_code == 404 and response.json() == {"error": "Not found."}
    assert client.get("/v1/tickets/1").json()["id"] == 1


# -- users -----------------------------------------------------------------------------------
def test_organization_users_are_listed_with_paging(client: httpx.Client) -> None:
    page = client.get("/v1/organization/users", params={"limit": 3}).json()
    assert page["totalCount"] == 8 and len(page["items"]) == 3
    assert set(page["items"][0]) == {"id", "email", "firstName", "lastName", "role",
                                     "createdAt", "updatedAt"}


# -- request recording (the shared /__sim layer is tested in tests/test_simulation_control.py) --
def test_requests_are_recorded_with_headers_and_body(client: httpx.Client) -> None:
    client.delete("/__sim/requests")
    client.post("/v1/tickets", json={"title": "rec", "type": "TASK", "state": "OPEN"})
    (recorded,) = client.get("/__sim/requests").json()
    assert (recorded["method"], recorded["path"]) == ("POST", "/v1/tickets")
    assert recorded["headers"]["x-api-key"] == DEFAULT_API_KEY
    assert recorded["body"]["title"] == "rec"
