"""Selectel Tickets through the gateway, against its simulator over real HTTP.

Each test is one behaviour of the connector (README "## Connector"); what the tracker received is
read back from the simulator's request log.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from unigate.testing import ConnectorUnderTest, Simulator, connector_fixtures, error_of, injected_fault_tests, walk_pages
from unigate_connectors.selectel.simulator import BASE_PATH, DEFAULT_API_KEY

COLLECTION = "/issue-tracking/collections/support"
TICKETS = f"{COLLECTION}/tickets"
MAPPED_CONSUMER = "selectel-custom-mappings"
CUSTOM_MAPPINGS = {"emails": "$.client_emails", "alias": "$.client_aliased_name"}


# -- fixtures --------------------------------------------------------------------------------------
tracker, sim, harness, client = connector_fixtures("selectel", consumers={MAPPED_CONSUMER: {"custom_mappings": CUSTOM_MAPPINGS}})


@pytest.fixture
def mapped_client(tracker: ConnectorUnderTest) -> Iterator[httpx.Client]:
    with tracker.client(MAPPED_CONSUMER) as c:
        yield c


@pytest.fixture
def selectel(sim: Simulator) -> Iterator[httpx.Client]:
    """The tracker itself, for reference data (its requests are logged too: clear after use)."""
    with httpx.Client(base_url=sim.url + BASE_PATH, headers={"X-Token": DEFAULT_API_KEY}) as c:
        yield c


# -- helpers ---------------------------------------------------------------------------------------
def tracker_tickets(selectel: httpx.Client, sim: Simulator) -> list[dict[str, Any]]:
    tickets = selectel.get("/tickets", params={"items_per_page": 1000}).json()["items"]
    sim.clear()
    return tickets


def tracker_ticket_in(selectel: httpx.Client, sim: Simulator, status: str, min_comments: int = 1) -> dict[str, Any]:
    for ticket in tracker_tickets(selectel, sim):
        if ticket["status"]["en"] == status:
            thread = selectel.get(f"/tickets/{ticket['number']}/comments").json()["items"]
            if len(thread) >= min_comments:
                sim.clear()
                return {**ticket, "comments": thread}
    raise AssertionError(f"no seeded ticket in status {status!r} with {min_comments}+ comments")


def new_ticket(client: httpx.Client, sim: Simulator, **fields: Any) -> str:
    body = {"subject": "Cloud server srv-101 unreachable", "description": "It stopped answering ping.", **fields}
    response = client.post(TICKETS, json=body)
    assert response.status_code == 201, response.text
    sim.clear()
    return response.json()["data"]["id"]


def sent(sim: Simulator) -> list[tuple[str, str]]:
    """(method, path) of every call the tracker received."""
    return [(r["method"], r["path"]) for r in sim.requests()]


def with_millis(timestamp: str) -> str:
    return timestamp.replace("Z", ".000Z")


# -- collections -------------------------------------------------------------------------------------
def test_the_account_support_desk_is_the_only_collection(client: httpx.Client, sim: Simulator) -> None:
    data = client.get("/issue-tracking/collections").json()["data"]
    assert [c["id"] for c in data] == ["support"]
    assert client.get(COLLECTION).json()["data"]["name"] == "Selectel technical support"
    assert sim.requests() == []


def test_an_unknown_collection_is_not_found_without_a_call(client: httpx.Client, sim: Simulator) -> None:
    response = client.get("/issue-tracking/collections/208417/tickets")
    assert error_of(response) == (404, "EntityNotFoundError") and sim.requests() == []


# -- paging ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("limit", [1, 7, 20, 200])
def test_paging_yields_every_ticket_once_in_the_tracker_order(
    client: httpx.Client, selectel: httpx.Client, sim: Simulator, limit: int,
) -> None:
    expected = [str(t["number"]) for t in tracker_tickets(selectel, sim)]
    ids, ended = walk_pages(client, TICKETS, limit)
    assert ended and ids == expected and len(expected) >= 250


def test_paging_by_one_yields_the_same_prefix(client: httpx.Client, selectel: httpx.Client, sim: Simulator) -> None:
    expected = [str(t["number"]) for t in tracker_tickets(selectel, sim)]
    by_one, ended = walk_pages(client, TICKETS, 1, max_pages=30)
    by_seven, _ = walk_pages(client, TICKETS, 7, max_pages=5)
    assert not ended and by_one == expected[:30] == by_seven[:30]


def test_a_page_is_one_call_with_page_and_items_per_page(client: httpx.Client, sim: Simulator) -> None:
    cursor = client.get(TICKETS, params={"limit": 20}).json()["meta"]["cursors"]["next"]
    sim.clear()
    client.get(TICKETS, params={"limit": 20, "cursor": cursor})
    assert [r["query"] for r in sim.requests()] == [[("page", "2"), ("items_per_page", "20")]]


def test_a_cursor_from_another_list_is_refused(client: httpx.Client, selectel: httpx.Client, sim: Simulator) -> None:
    ticket = tracker_ticket_in(selectel, sim, "Closed", min_comments=2)
    comments_url = f"{TICKETS}/{ticket['number']}/comments"
    cursor = client.get(comments_url, params={"limit": 1}).json()["meta"]["cursors"]["next"]
    sim.clear()
    assert error_of(client.get(TICKETS, params={"cursor": cursor})) == (400, "InvalidCursorError")
    assert sim.requests() == []


def test_a_tampered_cursor_is_refused(client: httpx.Client) -> None:
    cursor = client.get(TICKETS, params={"limit": 5}).json()["meta"]["cursors"]["next"]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    assert error_of(client.get(TICKETS, params={"cursor": tampered})) == (400, "InvalidCursorError")


# -- tickets: read -----------------------------------------------------------------------------------
def test_get_maps_the_ticket_and_takes_the_description_from_the_first_comment(
    client: httpx.Client, selectel: httpx.Client, sim: Simulator,
) -> None:
    ticket = tracker_ticket_in(selectel, sim, "Closed")
    data = client.get(f"{TICKETS}/{ticket['number']}").json()["data"]
    assert data == {
        "id": str(ticket["number"]), "subject": ticket["summary"], "description": ticket["comments"][0]["body"],
        "status": "closed", "type": None, "tags": [], "parent_id": None, "collection_id": "support",
        "created_by": "client" if ticket["is_client_author"] else "support",
        "created_at": with_millis(ticket["created_at"]), "updated_at": with_millis(ticket["updated_at"]),
        "completed_at": with_millis(ticket["closed_at"]),
    }
    number = ticket["number"]
    assert sent(sim) == [("GET", f"/support/tickets/{number}"), ("GET", f"/support/tickets/{number}/comments")]


@pytest.mark.parametrize(("selectel_status", "unified"), [
    ("Open", "open"), ("In progress", "in_progress"), ("Closed", "closed"),
    ("Awaiting reply", "Awaiting reply"), ("Resolved", "Resolved"),
])
def test_statuses_map_and_the_rest_pass_through(
    client: httpx.Client, selectel: httpx.Client, sim: Simulator, selectel_status: str, unified: str,
) -> None:
    ticket = tracker_ticket_in(selectel, sim, selectel_status)
    assert client.get(f"{TICKETS}/{ticket['number']}").json()["data"]["status"] == unified


def test_a_split_ticket_names_its_origin_as_parent(
    client: httpx.Client, selectel: httpx.Client, sim: Simulator,
) -> None:
    split = next(t for t in tracker_tickets(selectel, sim) if t["splitted_from_ticket_number"])
    data = client.get(f"{TICKETS}/{split['number']}").json()["data"]
    assert data["parent_id"] == str(split["splitted_from_ticket_number"])


def test_an_unknown_ticket_is_an_entity_not_found_with_the_trackers_error(client: httpx.Client) -> None:
    response = client.get(f"{TICKETS}/1")
    assert error_of(response) == (404, "EntityNotFoundError")
    assert response.json()["downstream_errors"][0]["code"] == "not_found"


# -- tickets: write ----------------------------------------------------------------------------------
def test_create_then_get_returns_what_was_sent(client: httpx.Client, sim: Simulator) -> None:
    sent_fields = {"subject": "S3 bucket media-7 returns 403", "description": "Public URL answers 403.",
                   "status": "open"}
    ticket_id = new_ticket(client, sim, **sent_fields, tags=[{"id": "object_storage"}])
    got = client.get(f"{TICKETS}/{ticket_id}").json()["data"]
    assert {k: got[k] for k in sent_fields} == sent_fields
    assert got["tags"] == []  # documented loss: the topic is write-only


def test_create_sends_summary_first_comment_and_topic(client: httpx.Client, sim: Simulator) -> None:
    client.post(TICKETS, json={"subject": "Invoice missing", "description": "For June.", "tags": [{"id": "billing"}]})
    assert [r["body"] for r in sim.requests()] == [
        {"summary": "Invoice missing", "comment_body": "For June.", "topic_key": "billing"}]


def test_create_without_description_is_refused_before_any_call(client: httpx.Client, sim: Simulator) -> None:
    response = client.post(TICKETS, json={"subject": "No body"})
    assert error_of(response) == (400, "RequestValidationError")
    assert "description" in response.json()["detail"] and sim.requests() == []


def test_create_with_a_blank_subject_and_no_description_names_both_before_any_call(
        client: httpx.Client, sim: Simulator) -> None:
    response = client.post(TICKETS, json={"subject": "  "})   # the manifest's `required: true` fields
    assert error_of(response) == (400, "RequestValidationError")
    assert set(response.json()["detail"]) == {"subject", "description"} and sim.requests() == []


def test_create_as_closed_creates_an_open_ticket_and_warns(client: httpx.Client, sim: Simulator) -> None:
    response = client.post(TICKETS, json={"subject": "x", "description": "y", "status": "closed"})
    assert response.status_code == 201 and [w["field"] for w in response.json()["meta"]["warnings"]] == ["status"]
    assert [(r["method"], r["path"]) for r in sim.requests()] == [("POST", f"{BASE_PATH}/tickets")]
    assert client.get(f"{TICKETS}/{response.json()['data']['id']}").json()["data"]["status"] == "open"


def test_an_unknown_topic_is_an_entity_not_found_with_the_trackers_error(client: httpx.Client) -> None:
    response = client.post(TICKETS, json={"subject": "x", "description": "y", "tags": [{"id": "no_such_topic"}]})
    assert error_of(response) == (404, "EntityNotFoundError")


def test_closing_is_one_call_to_the_close_endpoint(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(client, sim)
    assert client.patch(f"{TICKETS}/{ticket_id}", json={"status": "closed"}).status_code == 200
    assert [(r["method"], r["path"], r["body"]) for r in sim.requests()] == [
        ("POST", f"/support/tickets/{ticket_id}/close", {})]


def test_status_transitions_open_closed_open(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(client, sim)
    seen = []
    for status in ("closed", "open"):
        assert client.patch(f"{TICKETS}/{ticket_id}", json={"status": status}).status_code == 200
        seen.append(client.get(f"{TICKETS}/{ticket_id}").json()["data"]["status"])
    assert seen == ["closed", "open"]


def test_reopening_posts_the_configured_comment(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(client, sim)
    client.patch(f"{TICKETS}/{ticket_id}", json={"status": "closed"})
    sim.clear()
    client.patch(f"{TICKETS}/{ticket_id}", json={"status": "open"})
    assert [(r["path"], r["body"]) for r in sim.requests()] == [
        (f"/support/tickets/{ticket_id}/reopen", {"body": "Reopened by the client."})]
    comments = client.get(f"{TICKETS}/{ticket_id}/comments").json()["data"]
    assert comments[-1]["body"] == "Reopened by the client."


def test_closing_a_closed_ticket_is_the_trackers_400(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(client, sim)
    client.patch(f"{TICKETS}/{ticket_id}", json={"status": "closed"})
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"status": "closed"})
    assert error_of(response) == (400, "ConnectorExecutionError")
    assert response.json()["downstream_errors"][0]["code"] == "ticket_closed"


def test_statuses_only_support_sets_are_warned_about_and_not_sent(client: httpx.Client, sim: Simulator) -> None:
    response = client.patch(f"{TICKETS}/2417301", json={"status": "in_progress"})
    assert response.status_code == 200 and sim.requests() == []
    [warning] = response.json()["meta"]["warnings"]
    assert warning["field"] == "status" and "'in_progress'" in warning["message"]


@pytest.mark.parametrize("field", [{"subject": "Renamed"}, {"priority": "high"}, {"description": "Changed"}])
def test_fields_fixed_after_creation_are_warned_about_and_not_sent(client: httpx.Client, sim: Simulator,
                                                                  field: dict[str, str]) -> None:
    response = client.patch(f"{TICKETS}/2417301", json=field)
    assert response.status_code == 200 and sim.requests() == []
    assert [w["field"] for w in response.json()["meta"]["warnings"]] == list(field)


def test_a_field_fixed_after_creation_is_refused_in_strict_mode(client: httpx.Client, sim: Simulator) -> None:
    response = client.patch(f"{TICKETS}/2417301", json={"subject": "Renamed", "status": "closed"},
                            headers={"x-unigate-strict": "true"})
    assert error_of(response) == (400, "RequestValidationError")
    assert list(response.json()["detail"]) == ["subject"] and sim.requests() == []


def test_update_sends_only_the_changed_custom_field(mapped_client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(mapped_client, sim)
    body = {"custom_mappings": {"emails": ["noc@northwind-labs.ru"]}}
    assert mapped_client.patch(f"{TICKETS}/{ticket_id}", json=body).status_code == 200
    assert [(r["method"], r["path"], r["body"]) for r in sim.requests()] == [
        ("PATCH", f"/support/tickets/{ticket_id}", {"client_emails": ["noc@northwind-labs.ru"]})]


def test_custom_field_and_status_change_in_two_calls(mapped_client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(mapped_client, sim)
    mapped_client.patch(f"{TICKETS}/{ticket_id}", json={"status": "closed", "custom_mappings": {"alias": "NOC"}})
    assert [(r["method"], r["path"], r["body"]) for r in sim.requests()] == [
        ("PATCH", f"/support/tickets/{ticket_id}", {"client_aliased_name": "NOC"}),
        ("POST", f"/support/tickets/{ticket_id}/close", {}),
    ]


def test_delete_is_unsupported(client: httpx.Client, sim: Simulator) -> None:
    assert error_of(client.delete(f"{TICKETS}/2417301")) == (501, "ConnectorOperationUnsupportedError")
    assert sim.requests() == []


# -- custom mappings ---------------------------------------------------------------------------------
def test_custom_mappings_are_read_from_the_ticket(
    mapped_client: httpx.Client, selectel: httpx.Client, sim: Simulator,
) -> None:
    ticket = next(t for t in tracker_tickets(selectel, sim) if t["client_emails"])
    data = mapped_client.get(f"{TICKETS}/{ticket['number']}").json()["data"]
    assert data["custom_mappings"] == {"emails": ticket["client_emails"], "alias": ticket["client_aliased_name"]}


def test_custom_mappings_written_are_read_back(mapped_client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(mapped_client, sim)
    mapped_client.patch(f"{TICKETS}/{ticket_id}", json={"custom_mappings": {"alias": "On-call"}})
    assert mapped_client.get(f"{TICKETS}/{ticket_id}").json()["data"]["custom_mappings"]["alias"] == "On-call"


# -- comments ----------------------------------------------------------------------------------------
def test_comments_list_the_thread_oldest_first(client: httpx.Client, selectel: httpx.Client, sim: Simulator) -> None:
    ticket = tracker_ticket_in(selectel, sim, "Awaiting reply", min_comments=2)
    data = client.get(f"{TICKETS}/{ticket['number']}/comments").json()["data"]
    assert [(c["id"], c["body"]) for c in data] == [(str(c["id"]), c["body"]) for c in ticket["comments"]]
    assert data[1]["created_by"] == ("client" if ticket["comments"][1]["is_client_author"] else "support")


def test_comment_add_then_get(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(client, sim)
    comment_id = client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": "Any news?"}).json()["data"]["id"]
    data = client.get(f"{TICKETS}/{ticket_id}/comments/{comment_id}").json()["data"]
    assert (data["body"], data["created_by"]) == ("Any news?", "client")
    assert sent(sim)[0] == ("POST", f"/support/tickets/{ticket_id}/comments")


def test_a_comment_of_another_ticket_is_not_found(client: httpx.Client, sim: Simulator) -> None:
    first, second = new_ticket(client, sim), new_ticket(client, sim)
    comment_id = client.get(f"{TICKETS}/{first}/comments").json()["data"][0]["id"]
    assert error_of(client.get(f"{TICKETS}/{second}/comments/{comment_id}")) == (404, "EntityNotFoundError")


def test_commenting_a_closed_ticket_is_the_trackers_400(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(client, sim)
    client.patch(f"{TICKETS}/{ticket_id}", json={"status": "closed"})
    response = client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": "One more thing"})
    assert error_of(response) == (400, "ConnectorExecutionError")
    assert response.json()["downstream_errors"][0]["code"] == "ticket_closed"


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_comments_cannot_be_edited_or_deleted(client: httpx.Client, method: str) -> None:
    response = client.request(method, f"{TICKETS}/2417301/comments/1", json={"body": "x"})
    assert error_of(response) == (501, "ConnectorOperationUnsupportedError")


# -- users and tags ----------------------------------------------------------------------------------
def test_users_are_unsupported(client: httpx.Client) -> None:
    assert error_of(client.get(f"{COLLECTION}/users")) == (501, "ConnectorOperationUnsupportedError")


def test_tags_are_the_ticket_topics(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(f"{COLLECTION}/tags").json()["data"]
    assert {"id": "dns", "name": "DNS hosting"} in data and len(data) == 10
    assert sent(sim) == [("GET", "/support/topics")]


# -- filters and sort --------------------------------------------------------------------------------
def test_closed_filter_is_pushed_down(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"filter[status]": "closed", "limit": 50}).json()["data"]
    assert data and {t["status"] for t in data} == {"closed"}
    assert ("only_closed", "true") in sim.requests()[0]["query"]


def test_open_status_filter_is_unsupported(client: httpx.Client, sim: Simulator) -> None:
    response = client.get(TICKETS, params={"filter[status]": "open"})
    assert error_of(response) == (400, "UnsupportedFiltersError") and sim.requests() == []


def test_assignee_filter_is_unsupported(client: httpx.Client) -> None:   # since: emulated (tests/sync)
    assert error_of(client.get(TICKETS, params={"filter[assignee_id]": "1"})) == (400, "UnsupportedFiltersError")


def test_newest_first_sort_is_the_trackers_order(client: httpx.Client, selectel: httpx.Client, sim: Simulator) -> None:
    expected = [str(t["number"]) for t in tracker_tickets(selectel, sim)][:20]
    params = {"sort[by]": "created_at", "sort[direction]": "desc"}
    data = client.get(TICKETS, params=params).json()["data"]
    assert [t["id"] for t in data] == expected
    assert [t["created_at"] for t in data] == sorted((t["created_at"] for t in data), reverse=True)
    assert sim.requests()[0]["query"] == [("page", "1"), ("items_per_page", "20")]


def test_comments_sorted_oldest_first_are_the_trackers_order(
    client: httpx.Client, selectel: httpx.Client, sim: Simulator,
) -> None:
    ticket = tracker_ticket_in(selectel, sim, "Closed", min_comments=3)
    data = client.get(f"{TICKETS}/{ticket['number']}/comments", params={"sort[by]": "created_at"}).json()["data"]
    assert [c["id"] for c in data] == [str(c["id"]) for c in ticket["comments"]]


def test_comments_newest_first_is_unsupported(client: httpx.Client) -> None:
    params = {"sort[by]": "created_at", "sort[direction]": "desc"}
    assert error_of(client.get(f"{TICKETS}/2417301/comments", params=params)) == (400, "UnsupportedSortFieldError")


@pytest.mark.parametrize("sort", [{"sort[by]": "updated_at"}, {"sort[by]": "created_at", "sort[direction]": "asc"}])
def test_other_ticket_sorts_are_unsupported(client: httpx.Client, sim: Simulator, sort: dict[str, str]) -> None:
    assert error_of(client.get(TICKETS, params=sort)) == (400, "UnsupportedSortFieldError")
    assert sim.requests() == []


# -- pass_through and raw ----------------------------------------------------------------------------
def test_query_pass_through_reaches_the_tracker(client: httpx.Client, selectel: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"pass_through[q]": "invoice"}).json()["data"]
    assert ("q", "invoice") in sim.requests()[0]["query"]
    sim.clear()
    truth = selectel.get("/tickets", params={"q": "invoice", "items_per_page": 20}).json()["items"]
    assert [t["id"] for t in data] == [str(t["number"]) for t in truth] and truth


def test_body_pass_through_extends_the_create_call(client: httpx.Client, sim: Simulator) -> None:
    pass_through = [{"service_id": "selectel", "operation_id": "tickets_add",
                     "extend_paths": [{"path": "$.client_emails", "value": ["noc@northwind-labs.ru"]}]}]
    client.post(TICKETS, json={"subject": "x", "description": "y", "pass_through": pass_through})
    assert sim.requests()[0]["body"]["client_emails"] == ["noc@northwind-labs.ru"]


def test_body_pass_through_rates_the_ticket_on_close(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(client, sim)
    pass_through = [{"service_id": "selectel", "operation_id": "tickets_close",
                     "extend_object": {"score": 9, "comment": "Quick, thanks"}}]
    client.patch(f"{TICKETS}/{ticket_id}", json={"status": "closed", "pass_through": pass_through})
    assert [(r["path"], r["body"]) for r in sim.requests()] == [
        (f"/support/tickets/{ticket_id}/close", {"score": 9, "comment": "Quick, thanks"})]


def test_body_pass_through_alone_makes_the_modify_call(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(client, sim)
    pass_through = [{"service_id": "selectel", "operation_id": "tickets_update",
                     "extend_object": {"client_aliased_name": "Billing"}}]
    client.patch(f"{TICKETS}/{ticket_id}", json={"pass_through": pass_through})
    assert [(r["method"], r["body"]) for r in sim.requests()] == [("PATCH", {"client_aliased_name": "Billing"})]


def test_raw_holds_the_tracker_body_and_never_the_token(client: httpx.Client) -> None:
    response = client.get(TICKETS, params={"raw": "true", "limit": 3})
    raw = response.json()["_raw"]
    assert raw["items_per_page"] == 3 and len(raw["items"]) == 3
    assert DEFAULT_API_KEY not in response.text


# -- downstream faults: the shared contract (unigate.testing.faults) -------------------------
test_injected_fault_surfaces_as_its_typed_error = injected_fault_tests(TICKETS)
