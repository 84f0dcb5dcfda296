"""Opine through the gateway against its simulator: the connector's decision table as tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from unigate.testing import ConnectorUnderTest, Simulator, connector_fixtures, error_of, injected_fault_tests, walk_pages
from unigate_connectors.opine.simulator import DEFAULT_API_KEY, DEFAULT_ORGANIZATION_ID, OpineState

COLLECTION = "/issue-tracking/collections/organization"
TICKETS = f"{COLLECTION}/tickets"
USERS = f"{COLLECTION}/users"
CUSTOM_CONSUMER = "custom-consumer"
CUSTOM_MAPPINGS = {"vendor_key": "$.vendorEntityKey", "vendor_url": "$.vendorEntityUrl"}


tracker, sim, harness, client = connector_fixtures("opine", consumers={CUSTOM_CONSUMER: {"custom_mappings": CUSTOM_MAPPINGS}})


@pytest.fixture
def custom_client(tracker: ConnectorUnderTest) -> Iterator[httpx.Client]:
    with tracker.client(CUSTOM_CONSUMER) as c:
        yield c


def opine(sim: Simulator) -> OpineState:
    return sim.app.app.state.opine


def opine_ticket_ids(sim: Simulator) -> list[str]:
    return [str(t["id"]) for t in opine(sim).org_tickets(DEFAULT_ORGANIZATION_ID)]


def create(client: httpx.Client, **fields: Any) -> str:
    response = client.post(TICKETS, json={"subject": "Export fails for big workspaces", **fields})
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]


# -- collections --------------------------------------------------------------------------------
def test_the_organization_is_the_only_collection(client: httpx.Client, sim: Simulator) -> None:
    body = client.get("/issue-tracking/collections").json()
    assert [c["id"] for c in body["data"]] == ["organization"]
    assert client.get(COLLECTION).json()["data"]["name"] == "Opine organization"
    assert sim.requests() == []


def test_tickets_of_an_unknown_collection_are_not_found(client: httpx.Client, sim: Simulator) -> None:
    response = client.get("/issue-tracking/collections/other/tickets")
    assert error_of(response) == (404, "EntityNotFoundError") and sim.requests() == []


# -- listing and paging -------------------------------------------------------------------------
@pytest.mark.parametrize("limit", [1, 7, 20, 200])
def test_paging_yields_every_ticket_once_in_creation_order(client: httpx.Client, sim: Simulator,
                                                           limit: int) -> None:
    ids, ended = walk_pages(client, TICKETS, limit)
    assert ended and ids == opine_ticket_ids(sim)
    assert len(set(ids)) == len(ids) >= 250


def test_paging_by_one_serves_the_first_tickets_in_creation_order(client: httpx.Client, sim: Simulator) -> None:
    by_one, ended = walk_pages(client, TICKETS, 1, max_pages=30)
    assert not ended and by_one == opine_ticket_ids(sim)[:30]


def test_last_page_has_no_next_cursor_and_counts_every_ticket(client: httpx.Client, sim: Simulator) -> None:
    first = client.get(TICKETS, params={"limit": 200}).json()
    last = client.get(TICKETS, params={"limit": 200, "cursor": first["meta"]["cursors"]["next"]}).json()
    assert last["meta"]["cursors"]["next"] is None
    assert last["meta"]["total_count"] == len(opine_ticket_ids(sim))


def test_a_page_is_one_opine_call_with_limit_and_offset(client: httpx.Client, sim: Simulator) -> None:
    first = client.get(TICKETS, params={"limit": 50}).json()
    sim.clear()
    client.get(TICKETS, params={"limit": 50, "cursor": first["meta"]["cursors"]["next"]})
    [call] = sim.requests()
    assert (call["method"], call["path"], call["query"]) == ("GET", "/v1/tickets", [("offset", "50"), ("limit", "50")])
    assert call["headers"]["x-api-key"] == DEFAULT_API_KEY


def test_a_cursor_from_another_list_is_refused(client: httpx.Client, sim: Simulator) -> None:
    users_cursor = client.get(USERS, params={"limit": 2}).json()["meta"]["cursors"]["next"]
    sim.clear()
    response = client.get(TICKETS, params={"cursor": users_cursor})
    assert error_of(response) == (400, "InvalidCursorError") and sim.requests() == []


def test_a_tampered_cursor_is_refused(client: httpx.Client) -> None:
    cursor = client.get(TICKETS, params={"limit": 2}).json()["meta"]["cursors"]["next"]
    tampered = ("A" if cursor[0] != "A" else "B") + cursor[1:]
    assert error_of(client.get(TICKETS, params={"cursor": tampered})) == (400, "InvalidCursorError")


# -- filters and sort ---------------------------------------------------------------------------
@pytest.mark.parametrize("name, value", [("status", "open"), ("assignee_id", "1")])   # since: emulated (tests/sync)
def test_opine_cannot_filter_tickets(client: httpx.Client, sim: Simulator, name: str, value: str) -> None:
    response = client.get(TICKETS, params={f"filter[{name}]": value})
    assert error_of(response) == (400, "UnsupportedFiltersError") and sim.requests() == []


def test_sorting_by_creation_ascending_is_the_natural_order(client: httpx.Client, sim: Simulator) -> None:
    body = client.get(TICKETS, params={"limit": 5, "sort[by]": "created_at", "sort[direction]": "asc"}).json()
    assert [t["id"] for t in body["data"]] == opine_ticket_ids(sim)[:5]
    assert [k for k, _ in sim.requests()[0]["query"]] == ["offset", "limit"]


@pytest.mark.parametrize("by, direction", [("created_at", "desc"), ("updated_at", "asc")])
def test_other_sorts_are_unsupported(client: httpx.Client, sim: Simulator, by: str, direction: str) -> None:
    response = client.get(TICKETS, params={"sort[by]": by, "sort[direction]": direction})
    assert error_of(response) == (400, "UnsupportedSortFieldError") and sim.requests() == []


def test_query_pass_through_lands_downstream(client: httpx.Client, sim: Simulator) -> None:
    client.get(TICKETS, params={"limit": 3, "pass_through[include]": "deals"})
    assert ("include", "deals") in sim.requests()[0]["query"]


# -- reading one ticket -------------------------------------------------------------------------
def test_get_maps_a_closed_ticket_with_linked_deals(client: httpx.Client, sim: Simulator) -> None:
    source = next(t for t in opine(sim).org_tickets(DEFAULT_ORGANIZATION_ID)
                  if t["state"] == "CLOSED" and t["_deals"] and t["description"])
    data = client.get(f"{TICKETS}/{source['id']}").json()["data"]
    most_severe = min(("BLOCKER", "HIGH", "MEDIUM", "LOW").index(d["priority"]) for d in source["_deals"].values())
    assert data == {
        "id": str(source["id"]), "collection_id": "organization", "subject": source["title"],
        "description": source["description"], "type": source["type"].lower().replace("feature_request", "feature"),
        "status": "closed", "priority": ("urgent", "high", "normal", "low")[most_severe], "tags": [],
        "due_date": source["targetDueDate"], "completed_at": source["closedAt"],
        "created_by": str(source["createdByUserId"]), "created_at": source["createdAt"],
        "updated_at": source["updatedAt"],
    }


def test_a_ticket_without_linked_deals_has_no_priority(client: httpx.Client, sim: Simulator) -> None:
    source = next(t for t in opine(sim).org_tickets(DEFAULT_ORGANIZATION_ID) if not t["_deals"])
    assert client.get(f"{TICKETS}/{source['id']}").json()["data"]["priority"] is None


def test_a_synced_ticket_is_reachable_by_its_vendor_entity_id(client: httpx.Client, sim: Simulator) -> None:
    source = next(t for t in opine(sim).org_tickets(DEFAULT_ORGANIZATION_ID) if t["vendorEntityId"])
    data = client.get(f"{TICKETS}/eid:{source['vendorEntityId']}").json()["data"]
    assert data["id"] == str(source["id"])


def test_a_missing_ticket_is_a_404_with_opines_message(client: httpx.Client) -> None:
    response = client.get(f"{TICKETS}/999999")
    assert error_of(response) == (404, "EntityNotFoundError")
    assert response.json()["downstream_errors"] == [{"message": "Ticket not found."}]


def test_raw_holds_the_downstream_body_and_never_the_api_key(client: httpx.Client) -> None:
    response = client.get(f"{TICKETS}/1", params={"raw": "true"})
    assert response.json()["_raw"]["id"] == 1 and "linkedDeals" in response.json()["_raw"]
    assert DEFAULT_API_KEY not in response.text


# -- creating -----------------------------------------------------------------------------------
def test_create_then_get_returns_what_was_sent_except_write_only_tags(client: httpx.Client) -> None:
    sent = {"subject": "SSO login fails", "description": "**Steps**\n\n- open the app", "type": "bug",
            "status": "in_progress", "due_date": "2025-12-01T10:30:00.000Z"}
    ticket_id = create(client, **sent, tags=[{"id": "enterprise"}])
    got = client.get(f"{TICKETS}/{ticket_id}").json()["data"]
    assert {k: got[k] for k in sent} == sent
    assert got["tags"] == []  # documented loss: Opine never returns labels


def test_create_sends_labels_and_opines_required_state_and_type(client: httpx.Client, sim: Simulator) -> None:
    create(client, subject="Label me", tags=[{"id": "enterprise"}, {"id": "Q4"}])
    [call] = sim.requests()
    assert (call["method"], call["path"]) == ("POST", "/v1/tickets")
    assert call["body"] == {"title": "Label me", "state": "OPEN", "type": "FEATURE_REQUEST",
                            "labels": ["enterprise", "Q4"]}


def test_create_leaves_out_nulls_which_opine_refuses(client: httpx.Client, sim: Simulator) -> None:
    create(client, subject="No details", description=None, due_date=None)
    assert sim.requests()[0]["body"] == {"title": "No details", "state": "OPEN", "type": "FEATURE_REQUEST"}


def test_a_type_opine_lacks_is_its_400_with_the_validation_issues(client: httpx.Client) -> None:
    response = client.post(TICKETS, json={"subject": "Epic", "type": "epic"})
    assert error_of(response) == (400, "ConnectorExecutionError")
    [error] = response.json()["downstream_errors"]
    assert error["message"] == "Validation error." and "invalid_enum_value" in error["detail"]


def test_body_pass_through_for_tickets_add_links_deals_and_sets_priority(client: httpx.Client,
                                                                       sim: Simulator) -> None:
    deals = [{"id": 1, "priority": "LOW"}, {"id": 2, "priority": "HIGH"}]
    ticket_id = create(client, subject="Deal-linked", pass_through=[
        {"service_id": "opine", "operation_id": "tickets_add", "extend_object": {"deals": deals}}])
    assert sim.requests()[0]["body"]["deals"] == deals
    assert client.get(f"{TICKETS}/{ticket_id}").json()["data"]["priority"] == "high"


# -- updating -----------------------------------------------------------------------------------
def test_update_sends_only_the_changed_fields_in_one_put(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = create(client, subject="Before", description="Kept")
    sim.clear()
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"subject": "After"})
    assert response.json()["data"] == {"id": ticket_id}
    assert [(r["method"], r["path"], r["body"]) for r in sim.requests()] == [
        ("PUT", f"/v1/tickets/{ticket_id}", {"title": "After"})]
    assert client.get(f"{TICKETS}/{ticket_id}").json()["data"]["description"] == "Kept"


def test_status_transitions_set_and_clear_completed_at(client: httpx.Client) -> None:
    ticket_id = create(client, subject="Transitions")
    seen = []
    for status in ("in_progress", "closed", "open"):
        assert client.patch(f"{TICKETS}/{ticket_id}", json={"status": status}).status_code == 200
        data = client.get(f"{TICKETS}/{ticket_id}").json()["data"]
        seen.append((data["status"], data["completed_at"] is not None))
    assert seen == [("in_progress", False), ("closed", True), ("open", False)]


@pytest.mark.parametrize("field, value", [("priority", "high"), ("assignees", [{"id": "1"}]),
                                          ("parent_id", "1")])
def test_fields_opine_cannot_store_are_warned_about_and_not_sent(client: httpx.Client, sim: Simulator,
                                                                 field: str, value: Any) -> None:
    response = client.patch(f"{TICKETS}/1", json={field: value})
    assert response.status_code == 200 and [w["field"] for w in response.json()["meta"]["warnings"]] == [field]
    assert sim.requests() == []   # nothing else to write: no call


def test_a_field_opine_cannot_store_is_refused_in_strict_mode(client: httpx.Client, sim: Simulator) -> None:
    response = client.patch(f"{TICKETS}/1", json={"subject": "Strict", "priority": "high"},
                            headers={"x-unigate-strict": "true"})
    assert error_of(response) == (400, "RequestValidationError")
    assert "derived from the priorities of the linked deals" in response.json()["detail"]["priority"]
    assert sim.requests() == []


def test_empty_assignees_and_null_priority_are_not_sent_and_warned_about(client: httpx.Client,
                                                                         sim: Simulator) -> None:
    response = client.patch(f"{TICKETS}/1", json={"subject": "Still one", "assignees": [], "priority": None})
    assert response.status_code == 200 and sim.requests()[0]["body"] == {"title": "Still one"}
    assert [w["field"] for w in response.json()["meta"]["warnings"]] == ["priority", "assignees"]


def test_body_pass_through_extend_paths_lands_in_the_put(client: httpx.Client, sim: Simulator) -> None:
    client.patch(f"{TICKETS}/1", json={"status": "open", "pass_through": [
        {"service_id": "opine", "operation_id": "tickets_update",
         "extend_paths": [{"path": "$.vendorEntityUrl", "value": "https://example.com/t/1"}]}]})
    assert sim.requests()[0]["body"] == {"state": "OPEN", "vendorEntityUrl": "https://example.com/t/1"}


def test_body_pass_through_for_another_call_is_not_applied(client: httpx.Client, sim: Simulator) -> None:
    client.patch(f"{TICKETS}/1", json={"status": "open", "pass_through": [
        {"service_id": "opine", "operation_id": "tickets_add", "extend_object": {"labels": ["x"]}}]})
    assert sim.requests()[0]["body"] == {"state": "OPEN"}


def test_delete_is_unsupported(client: httpx.Client, sim: Simulator) -> None:
    response = client.delete(f"{TICKETS}/1")
    assert error_of(response) == (501, "ConnectorOperationUnsupportedError") and sim.requests() == []


# -- custom mappings ----------------------------------------------------------------------------
def test_custom_mappings_are_read_from_the_opine_ticket(custom_client: httpx.Client, sim: Simulator) -> None:
    source = next(t for t in opine(sim).org_tickets(DEFAULT_ORGANIZATION_ID) if t["vendorEntityKey"])
    data = custom_client.get(f"{TICKETS}/{source['id']}").json()["data"]
    assert data["custom_mappings"] == {"vendor_key": source["vendorEntityKey"],
                                       "vendor_url": source["vendorEntityUrl"]}


def test_custom_mappings_are_written_to_their_paths(custom_client: httpx.Client, sim: Simulator) -> None:
    ticket_id = create(custom_client, custom_mappings={"vendor_url": "https://example.com/t/9"})
    assert sim.requests()[0]["body"]["vendorEntityUrl"] == "https://example.com/t/9"
    data = custom_client.get(f"{TICKETS}/{ticket_id}").json()["data"]
    assert data["custom_mappings"] == {"vendor_key": None, "vendor_url": "https://example.com/t/9"}


# -- users, and what Opine lacks ----------------------------------------------------------------
def test_users_are_the_organization_members_with_full_names(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(USERS, params={"limit": 200}).json()["data"]
    members = [u for u in opine(sim).users.values() if u["_org"] == DEFAULT_ORGANIZATION_ID]
    assert [(u["id"], u["name"]) for u in data] == [(str(m["id"]), f"{m['firstName']} {m['lastName']}")
                                                    for m in members]


def test_one_user_is_found_among_the_members(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(f"{USERS}/3").json()["data"]
    assert data["email"] == opine(sim).users[3]["email"]
    assert [(r["path"], r["query"]) for r in sim.requests()] == [
        ("/v1/organization/users", [("offset", "0"), ("limit", "1000")])]


def test_a_user_of_another_organization_is_not_found(client: httpx.Client, sim: Simulator) -> None:
    other = next(u for u in opine(sim).users.values() if u["_org"] != DEFAULT_ORGANIZATION_ID)
    assert error_of(client.get(f"{USERS}/{other['id']}")) == (404, "EntityNotFoundError")


@pytest.mark.parametrize("path", [f"{TICKETS}/1/comments", f"{COLLECTION}/tags"])
def test_comments_and_tags_are_unsupported(client: httpx.Client, path: str) -> None:
    assert error_of(client.get(path)) == (501, "ConnectorOperationUnsupportedError")


# -- downstream faults: the shared contract (unigate.testing.faults) -------------------------
test_injected_fault_surfaces_as_its_typed_error = injected_fault_tests(TICKETS)
