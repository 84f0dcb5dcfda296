"""Codimir through the gateway against its simulator: what clients get and what Codimir receives.

Paging, filter and sort tests read project WEB (260 tickets, never written here); writes go to
project OPS, so the order of WEB stays fixed for the whole module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from unigate.testing import ConnectorUnderTest, Simulator, connector_fixtures, error_of, injected_fault_tests, walk_pages
from unigate_connectors.codimir.simulator import (
    DEFAULT_API_KEY,
    DEFAULT_PROJECT_ID,
    SECURE_SESSION_COOKIE,
    SESSION_COOKIE,
    SESSION_USER_ID,
)

WEB = DEFAULT_PROJECT_ID        # 260 tickets: paging, filters, sorts (read only)
MOB = "project_457"             # session user is a plain MEMBER: cannot delete others' tickets
OPS = "project_458"             # session user is ADMIN: every write test lives here
TICKETS = f"/issue-tracking/collections/{WEB}/tickets"
OPS_TICKETS = f"/issue-tracking/collections/{OPS}/tickets"


# -- fixtures ---------------------------------------------------------------------------------
tracker, sim, harness, client = connector_fixtures("codimir", consumers={
    "custom": {"custom_mappings": {"key": "$.key", "stage": "$.stage"}}})


@pytest.fixture
def custom_client(tracker: ConnectorUnderTest) -> Iterator[httpx.Client]:
    with tracker.client("custom") as c:
        yield c


def downstream(sim: Simulator, path: str) -> Any:
    """What Codimir itself answers (ground truth), bypassing the gateway."""
    response = httpx.get(f"{sim.url}/api{path}", cookies={SESSION_COOKIE: DEFAULT_API_KEY})
    return response.json()["data"]


def new_ticket(client: httpx.Client, **fields: Any) -> str:
    response = client.post(OPS_TICKETS, json={"subject": "Connector test", **fields})
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]


def calls(sim: Simulator) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in sim.requests()]


def writes(sim: Simulator) -> list[dict[str, Any]]:
    """The simulator's requests but the reads (an update or delete first reads the ticket's project)."""
    return [r for r in sim.requests() if r["method"] != "GET"]


@pytest.fixture(scope="module")
def all_ids(sim: Simulator) -> list[str]:
    """WEB's ticket ids in Codimir's own order, read straight from the simulator."""
    pages = [downstream(sim, f"/tickets?project={WEB}&limit=100&page={page}") for page in (1, 2, 3)]
    return [ticket["id"] for page in pages for ticket in page]


# -- paging -----------------------------------------------------------------------------------
@pytest.mark.parametrize("limit", [1, 7, 20, 200])
def test_paging_yields_every_ticket_once_in_order(client: httpx.Client, all_ids: list[str], limit: int) -> None:
    ids, ended = walk_pages(client, TICKETS, limit)
    assert ended and ids == all_ids
    assert len(ids) == len(set(ids)) == 260


def test_paging_by_one_matches_the_same_prefix(client: httpx.Client, all_ids: list[str]) -> None:
    ids, ended = walk_pages(client, TICKETS, 1, max_pages=30)
    assert not ended and ids == all_ids[:30]


def test_paging_order_is_codimirs_most_recently_updated_first(client: httpx.Client, all_ids: list[str]) -> None:
    data = client.get(TICKETS, params={"limit": 200}).json()["data"]
    stamps = [t["updated_at"] for t in data]
    assert stamps == sorted(stamps, reverse=True) and [t["id"] for t in data] == all_ids[:200]


def test_last_page_has_no_next_cursor_and_reports_the_total(client: httpx.Client) -> None:
    first = client.get(TICKETS, params={"limit": 200}).json()
    last = client.get(TICKETS, params={"limit": 200, "cursor": first["meta"]["cursors"]["next"]}).json()
    assert first["meta"]["total_count"] == last["meta"]["total_count"] == 260
    assert last["meta"]["items_on_page"] == 60 and last["meta"]["cursors"]["next"] is None


def test_limit_above_100_takes_several_downstream_pages(client: httpx.Client, sim: Simulator) -> None:
    client.get(TICKETS, params={"limit": 200})
    pages = [dict(r["query"]) for r in sim.requests()]
    assert [(p["page"], p["limit"], p["project"]) for p in pages] == [("1", "100", WEB), ("2", "100", WEB)]


def test_cursor_from_another_list_is_refused(client: httpx.Client, sim: Simulator) -> None:
    foreign = client.get(OPS_TICKETS, params={"limit": 1}).json()["meta"]["cursors"]["next"]
    sim.clear()
    response = client.get(TICKETS, params={"cursor": foreign})
    assert error_of(response) == (400, "InvalidCursorError") and sim.requests() == []


def test_tampered_cursor_is_refused(client: httpx.Client) -> None:
    cursor = client.get(TICKETS, params={"limit": 1}).json()["meta"]["cursors"]["next"]
    tampered = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    assert error_of(client.get(TICKETS, params={"cursor": tampered})) == (400, "InvalidCursorError")


# -- reading tickets --------------------------------------------------------------------------
def test_get_maps_a_codimir_ticket(client: httpx.Client, sim: Simulator, all_ids: list[str]) -> None:
    truth = downstream(sim, f"/tickets/{all_ids[0]}")
    got = client.get(f"{TICKETS}/{all_ids[0]}").json()["data"]
    statuses = {"backlog": "open", "todo": "open", "in_progress": "in_progress", "in_review": "in_progress",
                "done": "closed", "cancelled": "cancelled"}
    priorities = {"lowest": "low", "low": "low", "medium": "normal", "high": "high", "highest": "urgent"}
    assert got == {
        "id": truth["id"], "subject": truth["title"], "description": truth["description"],
        "type": truth["type"].lower(), "status": statuses[truth["status"]], "priority": priorities[truth["priority"]],
        "assignees": [{"id": truth["assignee"]["id"], "username": truth["assignee"]["name"]}]
        if truth["assignee"] else [],
        "tags": [{"id": label["id"], "name": label["name"]} for label in truth["labels"]],
        "due_date": truth["dueDate"], "collection_id": WEB, "created_by": truth["reporterId"],
        "created_at": truth["createdAt"], "updated_at": truth["updatedAt"],
    }


def test_get_names_the_tickets_tags(client: httpx.Client, sim: Simulator, all_ids: list[str]) -> None:
    truth = next(t for t in (downstream(sim, f"/tickets/{i}") for i in all_ids[:20]) if len(t["labels"]) >= 2)
    tags = client.get(f"{TICKETS}/{truth['id']}").json()["data"]["tags"]
    assert tags == [{"id": label["id"], "name": label["name"]} for label in truth["labels"]]


def test_list_items_leave_tags_out_because_codimir_lists_carry_no_labels(client: httpx.Client) -> None:
    data = client.get(TICKETS, params={"limit": 5}).json()["data"]
    assert data and all("tags" not in t and "subject" in t for t in data)


def test_unknown_ticket_is_a_404_entity_not_found_with_codimirs_error(client: httpx.Client) -> None:
    response = client.get(f"{TICKETS}/ticket_999999")
    assert error_of(response) == (404, "EntityNotFoundError")
    assert response.json()["downstream_errors"] == [{"message": "Ticket not found", "code": "NOT_FOUND"}]


def test_session_token_travels_as_the_nextauth_cookie(client: httpx.Client, sim: Simulator) -> None:
    client.get(TICKETS, params={"limit": 1})
    assert sim.requests()[0]["headers"]["cookie"] == f"{SECURE_SESSION_COOKIE}={DEFAULT_API_KEY}"


# -- writing tickets --------------------------------------------------------------------------
def test_create_then_get_returns_what_was_sent(client: httpx.Client) -> None:
    label = client.get(f"/issue-tracking/collections/{OPS}/tags").json()["data"][0]
    sent = {"subject": "Faithful", "description": "Body text", "type": "bug", "status": "in_progress",
            "priority": "urgent", "assignees": [{"id": "user_107"}], "tags": [{"id": label["id"]}],
            "due_date": "2025-09-01T00:00:00.000Z"}
    ticket_id = new_ticket(client, **sent)
    got = client.get(f"{OPS_TICKETS}/{ticket_id}").json()["data"]
    assert {k: got[k] for k in sent} == {**sent, "assignees": [{"id": "user_107", "username": "Amara Okafor"}],
                                         "tags": [label]}
    assert (got["collection_id"], got["created_by"]) == (OPS, SESSION_USER_ID)


def test_create_posts_the_mapped_fields_into_the_collections_project(client: httpx.Client, sim: Simulator) -> None:
    response = client.post(OPS_TICKETS, json={"subject": "Mapped", "priority": "normal", "status": "closed"})
    assert response.status_code == 201 and response.json()["data"]["id"].startswith("ticket_")
    [request] = sim.requests()
    assert (request["method"], request["path"]) == ("POST", "/api/tickets")
    assert request["body"] == {"projectId": OPS, "title": "Mapped", "priority": "medium", "status": "done"}


def test_create_without_fields_gets_codimirs_defaults(client: httpx.Client) -> None:
    got = client.get(f"{OPS_TICKETS}/{new_ticket(client)}").json()["data"]
    assert (got["status"], got["priority"], got["type"], got["assignees"], got["tags"]) == (
        "open", "normal", "task", [], [])


def test_create_with_a_non_member_assignee_is_codimirs_400(client: httpx.Client) -> None:
    response = client.post(OPS_TICKETS, json={"subject": "x", "assignees": [{"id": "user_102"}]})
    assert error_of(response) == (400, "ConnectorExecutionError")
    body = response.json()
    assert body["downstream_errors"] == [{"message": "Invalid input data", "code": "VALIDATION_ERROR",
                                          "detail": '{"assigneeId":["Invalid assignee ID"]}'}]


def test_two_assignees_send_the_first_and_warn(client: httpx.Client, sim: Simulator) -> None:
    response = client.post(OPS_TICKETS, json={"subject": "x", "assignees": [{"id": "user_101"}, {"id": "user_107"}]})
    assert response.status_code == 201
    assert [w["field"] for w in response.json()["meta"]["warnings"]] == ["assignees"]
    assert [r["body"]["assigneeId"] for r in sim.requests() if r["method"] == "POST"] == ["user_101"]


def test_update_reads_the_ticket_then_sends_only_the_changed_fields(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(client, description="kept")
    sim.clear()
    assert client.patch(f"{OPS_TICKETS}/{ticket_id}", json={"subject": "Renamed"}).status_code == 200
    assert [(r["method"], r["path"], r["body"]) for r in sim.requests()] == [
        ("GET", f"/api/tickets/{ticket_id}", None), ("PUT", f"/api/tickets/{ticket_id}", {"title": "Renamed"})]
    got = client.get(f"{OPS_TICKETS}/{ticket_id}").json()["data"]
    assert (got["subject"], got["description"]) == ("Renamed", "kept")


def test_update_of_status_assignee_and_due_date_is_still_one_write(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(client, assignees=[{"id": "user_107"}], due_date="2025-09-01T00:00:00Z")
    sim.clear()
    client.patch(f"{OPS_TICKETS}/{ticket_id}", json={"status": "closed", "assignees": [], "due_date": None})
    assert [r["body"] for r in writes(sim)] == [{"status": "done", "assigneeId": None, "dueDate": None}]
    got = client.get(f"{OPS_TICKETS}/{ticket_id}").json()["data"]
    assert (got["status"], got["assignees"], got["due_date"]) == ("closed", [], None)


@pytest.mark.parametrize("path", [["in_progress", "closed", "open"], ["closed", "in_progress", "open"]])
def test_status_transitions_round_trip(client: httpx.Client, path: list[str]) -> None:
    ticket_id = new_ticket(client)
    seen = []
    for status in path:
        assert client.patch(f"{OPS_TICKETS}/{ticket_id}", json={"status": status}).status_code == 200
        seen.append(client.get(f"{OPS_TICKETS}/{ticket_id}").json()["data"]["status"])
    assert seen == path


def test_codimir_statuses_without_a_unified_one_pass_through_both_ways(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(client)
    sim.clear()
    client.patch(f"{OPS_TICKETS}/{ticket_id}", json={"status": "cancelled"})
    assert writes(sim)[0]["body"] == {"status": "cancelled"}
    assert client.get(f"{OPS_TICKETS}/{ticket_id}").json()["data"]["status"] == "cancelled"


def test_unknown_status_is_codimirs_validation_error(client: httpx.Client) -> None:
    response = client.patch(f"{OPS_TICKETS}/{new_ticket(client)}", json={"status": "blocked"})
    assert error_of(response) == (400, "ConnectorExecutionError")
    assert "status" in response.json()["detail"]["downstream_body"]["error"]["details"]


def test_delete_removes_the_ticket(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(client)
    sim.clear()
    response = client.delete(f"{OPS_TICKETS}/{ticket_id}")
    assert response.status_code == 200 and response.json()["data"] == {"id": ticket_id}
    assert calls(sim) == [("GET", f"/api/tickets/{ticket_id}"), ("DELETE", f"/api/tickets/{ticket_id}")]
    assert error_of(client.get(f"{OPS_TICKETS}/{ticket_id}")) == (404, "EntityNotFoundError")


def test_delete_of_someone_elses_ticket_as_plain_member_is_403(client: httpx.Client) -> None:
    tickets = client.get(f"/issue-tracking/collections/{MOB}/tickets").json()["data"]
    foreign = next(t["id"] for t in tickets if t["created_by"] != SESSION_USER_ID)
    response = client.delete(f"/issue-tracking/collections/{MOB}/tickets/{foreign}")
    assert error_of(response) == (403, "ConnectorExecutionError")
    assert response.json()["downstream_errors"][0]["code"] == "FORBIDDEN"


# -- comments ---------------------------------------------------------------------------------
def test_comments_list_maps_codimirs_comments_oldest_first(client: httpx.Client, sim: Simulator,
                                                           all_ids: list[str]) -> None:
    ticket_id = next(i for i in all_ids if downstream(sim, f"/tickets/{i}")["comments"])
    truth = downstream(sim, f"/tickets/{ticket_id}/comments")
    data = client.get(f"{TICKETS}/{ticket_id}/comments").json()["data"]
    assert data == [{"id": c["id"], "body": c["content"], "created_by": c["authorId"], "created_at": c["createdAt"],
                     "updated_at": c["updatedAt"]} for c in truth]


def test_comment_lifecycle_add_get_update_delete(client: httpx.Client, sim: Simulator) -> None:
    comments = f"{OPS_TICKETS}/{new_ticket(client)}/comments"
    sim.clear()
    comment_id = client.post(comments, json={"body": "First!"}).json()["data"]["id"]
    assert writes(sim)[0]["body"] == {"content": "First!"}
    got = client.get(f"{comments}/{comment_id}").json()["data"]
    assert (got["body"], got["created_by"]) == ("First!", SESSION_USER_ID)
    assert client.patch(f"{comments}/{comment_id}", json={"body": "Edited"}).status_code == 200
    assert client.get(f"{comments}/{comment_id}").json()["data"]["body"] == "Edited"
    assert client.delete(f"{comments}/{comment_id}").json()["data"] == {"id": comment_id}
    assert error_of(client.get(f"{comments}/{comment_id}")) == (404, "EntityNotFoundError")


def test_one_comment_is_read_from_the_ticket_in_one_call(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(client)
    comment_id = client.post(f"{OPS_TICKETS}/{ticket_id}/comments", json={"body": "x"}).json()["data"]["id"]
    sim.clear()
    client.get(f"{OPS_TICKETS}/{ticket_id}/comments/{comment_id}")
    assert calls(sim) == [("GET", f"/api/tickets/{ticket_id}")]


def test_editing_someone_elses_comment_is_403(client: httpx.Client, sim: Simulator, all_ids: list[str]) -> None:
    ticket_id, comment = next((i, c) for i in all_ids for c in downstream(sim, f"/tickets/{i}")["comments"]
                              if c["authorId"] != SESSION_USER_ID)
    response = client.patch(f"{TICKETS}/{ticket_id}/comments/{comment['id']}", json={"body": "hijack"})
    assert error_of(response) == (403, "ConnectorExecutionError")


def test_comments_cannot_be_sorted(client: httpx.Client, all_ids: list[str]) -> None:
    response = client.get(f"{TICKETS}/{all_ids[0]}/comments", params={"sort[by]": "updated_at"})
    assert error_of(response) == (400, "UnsupportedSortFieldError")


# -- collections, users, tags -----------------------------------------------------------------
def test_collections_are_the_projects_the_session_can_see(client: httpx.Client) -> None:
    data = client.get("/issue-tracking/collections", params={"sort[by]": "name"}).json()["data"]
    assert [(c["id"], c["name"]) for c in data] == [
        ("project_459", "Legacy Billing"), ("project_457", "Mobile App"),
        ("project_458", "Platform Infrastructure"), ("project_456", "Web Application")]


def test_one_collection_is_a_project(client: httpx.Client, sim: Simulator) -> None:
    got = client.get(f"/issue-tracking/collections/{WEB}").json()["data"]
    assert (got["id"], got["name"], got["description"]) == (WEB, "Web Application",
                                                           "Main customer-facing web application")
    assert calls(sim) == [("GET", f"/api/project/{WEB}")]


def test_users_are_the_projects_members(client: httpx.Client, sim: Simulator) -> None:
    truth = downstream(sim, f"/project/{WEB}/members")
    data = client.get(f"/issue-tracking/collections/{WEB}/users").json()["data"]
    assert data == [{"id": m["userId"], "name": m["user"]["name"], "email": m["user"]["email"],
                     "photo_url": m["user"]["image"]} for m in truth]


def test_one_user_is_a_member_and_a_non_member_is_404(client: httpx.Client) -> None:
    users = f"/issue-tracking/collections/{OPS}/users"
    assert client.get(f"{users}/user_107").json()["data"]["name"] == "Amara Okafor"
    assert error_of(client.get(f"{users}/user_103")) == (404, "EntityNotFoundError")


def test_tags_are_the_projects_labels(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(f"/issue-tracking/collections/{WEB}/tags").json()["data"]
    assert len(data) == 8 and {t["name"] for t in data} >= {"frontend", "backend", "security"}
    assert sim.requests()[0]["query"] == [("project", WEB)]


# -- filters and sorts ------------------------------------------------------------------------
def test_status_filter_is_pushed_down(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"filter[status]": "closed", "limit": 100}).json()["data"]
    assert ("status", "done") in sim.requests()[0]["query"]
    truth = downstream(sim, f"/tickets?project={WEB}&status=done&limit=100")
    assert [(t["id"], t["status"]) for t in data] == [(t["id"], "closed") for t in truth] and truth


def test_status_filter_takes_a_codimir_status_as_is(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"filter[status]": "in_review", "limit": 100}).json()["data"]
    assert ("status", "in_review") in sim.requests()[0]["query"]
    truth = downstream(sim, f"/tickets?project={WEB}&status=in_review&limit=100")
    assert [(t["id"], t["status"]) for t in data] == [(t["id"], "in_progress") for t in truth] and truth


def test_open_filter_is_two_codimir_statuses_one_call_each(client: httpx.Client, sim: Simulator) -> None:
    """Codimir filters one status per call: the gateway fans out (tests/sync/test_fanned_out_filters.py)."""
    data = client.get(TICKETS, params={"filter[status]": "open"}).json()["data"]
    assert data and {t["status"] for t in data} == {"open"}
    assert sorted(dict(r["query"])["status"] for r in sim.requests()) == ["backlog", "todo"]


def test_assignee_filter_is_pushed_down(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"filter[assignee_id]": "user_103", "limit": 100}).json()["data"]
    assert ("assignee", "user_103") in sim.requests()[0]["query"]
    truth = downstream(sim, f"/tickets?project={WEB}&assignee=user_103&limit=100")
    assert [(t["id"], [a["id"] for a in t["assignees"]]) for t in data] == [(t["id"], ["user_103"]) for t in truth]
    assert truth


def test_since_filter_is_emulated_newest_updated_first(client: httpx.Client, sim: Simulator) -> None:
    """Codimir has no since parameter: the gateway reads newest-updated first and stops at T."""
    data = client.get(TICKETS, params={"filter[since]": "2025-06-01T00:00:00Z", "limit": 100}).json()["data"]
    assert all(t["updated_at"] >= "2025-06-01T00:00:00" for t in data)
    assert [k for k, _ in sim.requests()[0]["query"] if k in ("sort", "order")] == ["sort", "order"]
    assert ("order", "desc") in sim.requests()[0]["query"]


@pytest.mark.parametrize(("by", "direction", "downstream_sort"), [
    ("created_at", "asc", "createdAt"), ("created_at", "desc", "createdAt"), ("updated_at", "asc", "updatedAt")])
def test_sort_is_pushed_down(client: httpx.Client, sim: Simulator, by: str, direction: str,
                             downstream_sort: str) -> None:
    data = client.get(TICKETS, params={"sort[by]": by, "sort[direction]": direction, "limit": 50}).json()["data"]
    stamps = [t[by] for t in data]
    assert stamps == sorted(stamps, reverse=direction == "desc")
    query = sim.requests()[0]["query"]
    assert ("sort", downstream_sort) in query and ("order", direction) in query


def test_sort_by_a_field_the_unified_api_lacks_is_refused_before_any_call(client: httpx.Client,
                                                                          sim: Simulator) -> None:
    response = client.get(TICKETS, params={"sort[by]": "priority"})
    assert error_of(response) == (400, "RequestValidationError") and sim.requests() == []


# -- pass_through, custom_mappings, raw --------------------------------------------------------
def test_query_pass_through_reaches_codimir(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"pass_through[search]": "CSV export", "limit": 100}).json()["data"]
    assert ("search", "CSV export") in sim.requests()[0]["query"]
    truth = downstream(sim, f"/tickets?project={WEB}&search=CSV%20export&limit=100")
    assert [(t["id"], t["subject"]) for t in data] == [(t["id"], t["title"]) for t in truth] and truth
    assert all("csv export" in t["subject"].lower() for t in data)


def test_body_pass_through_extends_the_named_call_only(client: httpx.Client, sim: Simulator) -> None:
    pass_through = [
        {"service_id": "codimir", "operation_id": "tickets_add", "extend_object": {"stage": "TESTING"},
         "extend_paths": [{"path": "$.groupId", "value": "group_104"}]},
        {"service_id": "codimir", "operation_id": "tickets_update", "extend_object": {"stage": "DEPLOYMENT"}},
    ]
    client.post(OPS_TICKETS, json={"subject": "Extended", "pass_through": pass_through})
    assert sim.requests()[0]["body"] == {"projectId": OPS, "title": "Extended", "stage": "TESTING",
                                         "groupId": "group_104"}


def test_custom_mappings_are_read_from_the_ticket(custom_client: httpx.Client, sim: Simulator,
                                                  all_ids: list[str]) -> None:
    truth = downstream(sim, f"/tickets/{all_ids[0]}")
    got = custom_client.get(f"{TICKETS}/{all_ids[0]}").json()["data"]
    assert got["custom_mappings"] == {"key": truth["key"], "stage": truth["stage"]}


def test_custom_mappings_are_written_back(custom_client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(custom_client)
    sim.clear()
    custom_client.patch(f"{OPS_TICKETS}/{ticket_id}", json={"custom_mappings": {"stage": "TESTING"}})
    assert writes(sim)[0]["body"] == {"stage": "TESTING"}
    assert custom_client.get(f"{OPS_TICKETS}/{ticket_id}").json()["data"]["custom_mappings"]["stage"] == "TESTING"


def test_raw_holds_codimirs_body_and_never_the_session_token(client: httpx.Client, all_ids: list[str]) -> None:
    response = client.get(f"{TICKETS}/{all_ids[0]}", params={"raw": "true"})
    assert response.json()["_raw"]["data"]["id"] == all_ids[0]
    assert DEFAULT_API_KEY not in response.text


# -- downstream faults: the shared contract (unigate.testing.faults) -------------------------
test_injected_fault_surfaces_as_its_typed_error = injected_fault_tests(TICKETS)


# -- the collection and the ticket in the path are honoured ------------------------------------
@pytest.fixture
def comment(client: httpx.Client, sim: Simulator) -> tuple[str, dict[str, Any]]:
    """(ticket id, comment as Codimir holds it) of a new comment on a new OPS ticket; log cleared."""
    ticket_id = new_ticket(client)
    response = client.post(f"{OPS_TICKETS}/{ticket_id}/comments", json={"body": "Mine"})
    comment_id = response.json()["data"]["id"]
    held = next(c for c in downstream(sim, f"/tickets/{ticket_id}")["comments"] if c["id"] == comment_id)
    sim.clear()
    return ticket_id, held


def test_comments_through_another_collection_are_not_found(client: httpx.Client, comment: tuple) -> None:
    ticket_id, _ = comment
    response = client.get(f"{TICKETS}/{ticket_id}/comments")
    assert error_of(response) == (404, "EntityNotFoundError") and WEB in response.json()["detail"]


def test_a_comment_through_another_collection_is_not_found(client: httpx.Client, comment: tuple) -> None:
    ticket_id, held = comment
    assert error_of(client.get(f"{TICKETS}/{ticket_id}/comments/{held['id']}")) == (404, "EntityNotFoundError")


def test_a_comment_update_through_another_collection_is_not_found_and_changes_nothing(
        client: httpx.Client, sim: Simulator, comment: tuple) -> None:
    ticket_id, held = comment
    response = client.patch(f"{TICKETS}/{ticket_id}/comments/{held['id']}", json={"body": "Hijacked"})
    assert error_of(response) == (404, "EntityNotFoundError") and writes(sim) == []
    assert [c for c in downstream(sim, f"/tickets/{ticket_id}")["comments"] if c["id"] == held["id"]] == [held]


def test_a_comment_delete_through_another_collection_is_not_found_and_deletes_nothing(
        client: httpx.Client, sim: Simulator, comment: tuple) -> None:
    ticket_id, held = comment
    response = client.delete(f"{TICKETS}/{ticket_id}/comments/{held['id']}")
    assert error_of(response) == (404, "EntityNotFoundError") and writes(sim) == []
    assert [c for c in downstream(sim, f"/tickets/{ticket_id}")["comments"] if c["id"] == held["id"]] == [held]


def test_a_comment_added_through_another_collection_is_not_found_and_not_created(
        client: httpx.Client, sim: Simulator, comment: tuple) -> None:
    ticket_id, held = comment
    response = client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": "Stray"})
    assert error_of(response) == (404, "EntityNotFoundError") and writes(sim) == []
    assert downstream(sim, f"/tickets/{ticket_id}")["comments"] == [held]


def test_a_comment_through_a_ticket_it_is_not_on_is_not_found_and_unchanged(
        client: httpx.Client, sim: Simulator, comment: tuple) -> None:
    ticket_id, held = comment
    other_ticket = new_ticket(client)
    response = client.patch(f"{OPS_TICKETS}/{other_ticket}/comments/{held['id']}", json={"body": "Hijacked"})
    assert error_of(response) == (404, "EntityNotFoundError")
    assert [c for c in downstream(sim, f"/tickets/{ticket_id}")["comments"] if c["id"] == held["id"]] == [held]


def test_reading_one_comment_checks_the_collection_on_the_ticket_it_reads(
        client: httpx.Client, sim: Simulator, comment: tuple) -> None:
    ticket_id, held = comment
    assert client.get(f"{OPS_TICKETS}/{ticket_id}/comments/{held['id']}").json()["data"]["body"] == "Mine"
    assert calls(sim) == [("GET", f"/api/tickets/{ticket_id}")]
