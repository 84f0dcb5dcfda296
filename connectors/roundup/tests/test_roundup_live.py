"""Roundup through the gateway against a real tracker (connectors/roundup/tracker/start.sh), else its cassettes.

Modes (unigate.testing.live): live when the tracker runs; record with UNIGATE_RECORD_CASSETTES=1;
replay from connectors/roundup/tests/cassettes/live/ when no tracker runs. Requests carry no random or
clock values: ids, etags and timestamps come from responses, and setup only creates what is
missing, so the tests run against a tracker holding data from earlier runs.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from unigate.testing import error_of, read_pages, walk_pages
from unigate.testing.harness import CONSUMER_ID
from unigate.testing.hostile import hostile_requests, raw_request
from unigate.testing.live import LiveTracker, live_fixtures

live, client = live_fixtures("roundup")

COLLECTION = "/issue-tracking/collections/issue"
TICKETS = f"{COLLECTION}/tickets"
PAGING_TARGET = 120


def _create(client: httpx.Client, **fields: Any) -> str:
    response = client.post(TICKETS, json={"subject": "unigate test issue", **fields})
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]


def _ticket(client: httpx.Client, ticket_id: str) -> dict[str, Any]:
    response = client.get(f"{TICKETS}/{ticket_id}")
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _all_tickets(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        body = client.get(TICKETS, params={"limit": 200, **params, **({"cursor": cursor} if cursor else {})}).json()
        items += body["data"]
        cursor = body["meta"]["cursors"]["next"]
        if cursor is None:
            return items


def _tag_id(client: httpx.Client, name: str) -> str | None:
    tags = client.get(f"{COLLECTION}/tags", params={"limit": 200}).json()["data"]
    return next((t["id"] for t in tags if t["name"] == name), None)


def _raw_calls(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The downstream calls in ``_raw`` (a single call's body is ``_raw`` itself)."""
    raw = body["_raw"]
    return raw.get("calls", [{"call_id": "tickets_all", "body": raw}])


# -- collections ---------------------------------------------------------------------------------------
def test_the_tracker_is_one_collection(client: httpx.Client) -> None:
    body = client.get("/issue-tracking/collections").json()
    assert [c["id"] for c in body["data"]] == ["issue"]


@pytest.mark.parametrize("path", ["", "/tickets", "/users", "/tags"], ids=["collection", "tickets", "users", "tags"])
def test_an_unknown_collection_and_its_lists_are_not_found(client: httpx.Client, path: str) -> None:
    response = client.get(f"/issue-tracking/collections/nosuch{path}")
    assert error_of(response) == (404, "EntityNotFoundError") and "nosuch" in response.json()["detail"]


def test_an_unknown_route_is_not_found(client: httpx.Client) -> None:
    assert error_of(client.get(f"{COLLECTION}/milestones")) == (404, "EntityNotFoundError")


# -- a ticket through another collection: not found, never changed ---------------------------------------
def test_a_ticket_through_another_collection_is_not_found(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Only in issue")
    assert error_of(client.get(f"/issue-tracking/collections/nosuch/tickets/{ticket_id}")) == (
        404, "EntityNotFoundError")


def test_an_update_through_another_collection_is_not_found_and_changes_nothing(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Only in issue")
    before = _ticket(client, ticket_id)
    response = client.patch(f"/issue-tracking/collections/nosuch/tickets/{ticket_id}", json={"subject": "Moved"})
    assert error_of(response) == (404, "EntityNotFoundError")
    assert _ticket(client, ticket_id) == before


def test_a_delete_through_another_collection_is_not_found_and_retires_nothing(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Only in issue")
    before = _ticket(client, ticket_id)
    response = client.delete(f"/issue-tracking/collections/nosuch/tickets/{ticket_id}")
    assert error_of(response) == (404, "EntityNotFoundError")
    assert _ticket(client, ticket_id) == before


# -- tickets CRUD --------------------------------------------------------------------------------------
def test_ticket_create_then_read_maps_every_field(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Printer on fire", description="Smoke from tray 2",
                        status="in_progress", priority="high", assignees=[{"id": "1"}])
    ticket = _ticket(client, ticket_id)
    assert ticket["subject"] == "Printer on fire"
    assert ticket["description"] == "Smoke from tray 2"
    assert (ticket["status"], ticket["priority"]) == ("in_progress", "high")
    assert ticket["assignees"] == [{"id": "1", "username": "admin"}]
    assert ticket["collection_id"] == "issue" and ticket["created_by"] == "1"
    assert ticket["created_at"].endswith("Z") and ticket["updated_at"] >= ticket["created_at"]


def test_ticket_update_changes_only_the_given_fields(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Before", priority="low", assignees=[{"id": "1"}])
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"subject": "After", "status": "closed"})
    assert response.status_code == 200, response.text
    ticket = _ticket(client, ticket_id)
    assert (ticket["subject"], ticket["status"], ticket["priority"]) == ("After", "closed", "low")
    assert [a["id"] for a in ticket["assignees"]] == ["1"]


def test_ticket_update_with_null_assignees_clears_the_assignee(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Assigned", assignees=[{"id": "1"}])
    assert client.patch(f"{TICKETS}/{ticket_id}", json={"assignees": []}).status_code == 200
    assert _ticket(client, ticket_id)["assignees"] == []


def test_ticket_delete_retires_the_issue(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="To be retired")
    response = client.delete(f"{TICKETS}/{ticket_id}")
    assert response.status_code == 200, response.text
    assert error_of(client.get(f"{TICKETS}/{ticket_id}")) == (404, "EntityNotFoundError")
    newest = client.get(TICKETS, params={"limit": 5, "sort[by]": "created_at", "sort[direction]": "desc"}).json()
    assert ticket_id not in {t["id"] for t in newest["data"]}


def test_nonexistent_issue_is_an_entity_not_found_with_roundups_error(client: httpx.Client) -> None:
    response = client.get(f"{TICKETS}/999999")
    assert error_of(response) == (404, "EntityNotFoundError")
    assert response.json()["downstream_errors"][0]["message"] == "no such issue 999999"


# -- a retired issue is a deleted one: not found wherever it is addressed ---------------------------------
@pytest.fixture
def retired(client: httpx.Client) -> str:
    ticket_id = _create(client, subject="Retired", description="its first message")
    assert client.delete(f"{TICKETS}/{ticket_id}").status_code == 200
    return ticket_id


def test_updating_a_retired_issue_is_not_found(client: httpx.Client, retired: str) -> None:
    response = client.patch(f"{TICKETS}/{retired}", json={"subject": "Revived"})
    assert error_of(response) == (404, "EntityNotFoundError") and "retired" in response.json()["detail"]


def test_deleting_a_retired_issue_again_is_not_found(client: httpx.Client, retired: str) -> None:
    assert error_of(client.delete(f"{TICKETS}/{retired}")) == (404, "EntityNotFoundError")


def test_the_comments_of_a_retired_issue_are_not_found(client: httpx.Client, retired: str) -> None:
    assert error_of(client.get(f"{TICKETS}/{retired}/comments")) == (404, "EntityNotFoundError")


def test_a_comment_on_a_retired_issue_is_not_found(client: httpx.Client, retired: str) -> None:
    response = client.post(f"{TICKETS}/{retired}/comments", json={"body": "anyone?"})
    assert error_of(response) == (404, "EntityNotFoundError")


# -- paging --------------------------------------------------------------------------------------------
def _at_least(client: httpx.Client, count: int) -> None:
    """Create issues until the tracker holds ``count`` (a fresh tracker holds none; tests run in any order)."""
    existing = len(_all_tickets(client))
    for n in range(existing, count):
        _create(client, subject=f"paging issue {n + 1}")


def test_paging_120_issues_at_several_limits_has_no_gaps_or_duplicates(client: httpx.Client) -> None:
    _at_least(client, PAGING_TARGET)
    body = client.get(TICKETS, params={"limit": 1, "raw": "true"}).json()
    held = _raw_calls(body)[0]["body"]["data"]["@total_size"]   # what Roundup says it holds
    assert held >= PAGING_TARGET and body["meta"]["total_count"] == held
    walks = {}
    for limit in (25, 50, 200):
        ids, ended = walk_pages(client, TICKETS, limit)
        assert ended and len(ids) == len(set(ids)) == held, limit
        walks[limit] = ids
    assert walks[25] == walks[50] == walks[200]
    assert [int(i) for i in walks[25]] == sorted(int(i) for i in walks[25])   # Roundup's default: by id


# -- links: names and ids, resolved without per-record calls ------------------------------------------
def test_linked_status_priority_assignee_and_keywords_resolve_to_names_and_ids(client: httpx.Client) -> None:
    tag = _tag_id(client, "unigate-linked")
    if tag is None:
        _create(client, subject="keyword seed", tags=[{"name": "unigate-linked"}])
        tag = _tag_id(client, "unigate-linked")
    ticket_id = _create(client, subject="Linked", status="testing", priority="urgent",
                        assignees=[{"id": "1"}], tags=[{"id": tag}])
    ticket = _ticket(client, ticket_id)
    assert (ticket["status"], ticket["priority"]) == ("in_progress", "urgent")   # testing, critical
    assert ticket["assignees"] == [{"id": "1", "username": "admin"}]
    assert ticket["tags"] == [{"id": tag, "name": "unigate-linked"}]
    raw = client.get(f"{TICKETS}/{ticket_id}", params={"raw": "true"}).json()["_raw"]
    attributes = raw["calls"][0]["body"]["data"]["attributes"]
    assert attributes["status"]["name"] == "testing" and attributes["priority"]["name"] == "critical"


def test_listing_100_issues_resolves_links_in_one_downstream_call(client: httpx.Client) -> None:
    _at_least(client, 100)
    body = client.get(TICKETS, params={"limit": 100, "raw": "true"}).json()
    assert len(body["data"]) == 100
    assert {t["status"] for t in body["data"]} <= {"open", "in_progress", "closed", None}  # None: cleared
    calls = _raw_calls(body)
    # one list call, plus at most one batched read of the page's first messages (descriptions)
    assert [c["call_id"] for c in calls] in (["tickets_all"], ["tickets_all", "tickets_all_descriptions"])


# -- filters and sorts ---------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["closed", "open"])
def test_status_filter_returns_only_issues_of_that_status(client: httpx.Client, status: str) -> None:
    ticket_id = _create(client, subject=f"{status.title()} one", status=status)
    found = client.get(TICKETS, params={"filter[status]": status, "limit": 50, "sort[by]": "created_at",
                                        "sort[direction]": "desc"}).json()["data"]
    assert ticket_id == found[0]["id"]
    assert {t["status"] for t in found} == {status}


def test_filter_since_returns_issues_active_since(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Recent activity")
    since = _ticket(client, ticket_id)["updated_at"]
    recent = _all_tickets(client, **{"filter[since]": since})
    assert ticket_id in {t["id"] for t in recent}
    assert all(t["updated_at"] >= since for t in recent)
    assert len(recent) < client.get(TICKETS, params={"limit": 1}).json()["meta"]["total_count"]


def test_filter_assignee_id_returns_that_users_issues(client: httpx.Client) -> None:
    mine = _create(client, subject="Mine", assignees=[{"id": "1"}])
    nobody = _create(client, subject="Nobody's")
    assigned = _all_tickets(client, **{"filter[assignee_id]": "1"})
    ids = {t["id"] for t in assigned}
    assert mine in ids and nobody not in ids
    assert all(t["assignees"] == [{"id": "1", "username": "admin"}] for t in assigned)


def test_sort_created_at_desc(client: httpx.Client) -> None:
    _at_least(client, 50)
    body = client.get(TICKETS, params={"limit": 50, "sort[by]": "created_at", "sort[direction]": "desc"}).json()
    created = [t["created_at"] for t in body["data"]]
    assert created == sorted(created, reverse=True) and len(created) == 50


def test_sort_updated_at_asc(client: httpx.Client) -> None:
    _at_least(client, 50)
    body = client.get(TICKETS, params={"limit": 50, "sort[by]": "updated_at", "sort[direction]": "asc"}).json()
    updated = [t["updated_at"] for t in body["data"]]
    assert updated == sorted(updated) and len(updated) == 50


# -- raw -----------------------------------------------------------------------------------------------
def test_raw_true_returns_roundups_response(client: httpx.Client) -> None:
    body = client.get(TICKETS, params={"limit": 2, "raw": "true"}).json()
    calls = _raw_calls(body)
    assert calls[0]["call_id"] == "tickets_all"
    raw = calls[0]["body"]
    assert [i["id"] for i in raw["data"]["collection"]] == [t["id"] for t in body["data"]]
    assert "@total_size" in raw["data"]


# -- comments ------------------------------------------------------------------------------------------
def test_comments_add_then_list_in_order(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Discussed", description="First words")
    for text in ("Second", "Third"):
        response = client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": text})
        assert response.status_code == 201, response.text
    comments = client.get(f"{TICKETS}/{ticket_id}/comments").json()["data"]
    assert [c["body"] for c in comments] == ["First words", "Second", "Third"]
    assert all(c["created_by"] == "1" and c["created_at"].endswith("Z") for c in comments)
    one = client.get(f"{TICKETS}/{ticket_id}/comments/{comments[1]['id']}").json()["data"]
    assert one["body"] == "Second"


def test_comments_page_through_a_thread(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Long thread", description="c1")
    for n in range(2, 6):
        client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": f"c{n}"})
    pages = read_pages(client, f"{TICKETS}/{ticket_id}/comments", limit=2)
    assert [c["body"] for p in pages for c in p["data"]] == ["c1", "c2", "c3", "c4", "c5"]
    assert len(pages) == 3


# -- users and tags ------------------------------------------------------------------------------------
def test_users_list(client: httpx.Client) -> None:
    users = client.get(f"{COLLECTION}/users").json()["data"]
    admin = next(u for u in users if u["id"] == "1")
    assert admin["name"] == "admin" and admin["created_at"].endswith("Z")
    assert {u["id"] for u in users} >= {"1", "2"}


def test_tags_are_keywords(client: httpx.Client) -> None:
    if _tag_id(client, "unigate-listed") is None:
        _create(client, subject="keyword seed", tags=[{"name": "unigate-listed"}])
    tags = client.get(f"{COLLECTION}/tags", params={"limit": 200}).json()["data"]
    assert "unigate-listed" in {t["name"] for t in tags}
    assert all(t["id"].isdigit() for t in tags)


def test_tags_set_on_a_ticket_replace_its_keywords(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Tagged", tags=[{"name": "unigate-a"}])
    b = _tag_id(client, "unigate-b")
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"tags": [{"name": "unigate-a"}, *([{"id": b}] if b else
                                                                                             [{"name": "unigate-b"}])]})
    assert response.status_code == 200, response.text
    assert sorted(t["name"] for t in _ticket(client, ticket_id)["tags"]) == ["unigate-a", "unigate-b"]
    client.patch(f"{TICKETS}/{ticket_id}", json={"tags": []})
    assert _ticket(client, ticket_id)["tags"] == []


# -- conflicts and errors ------------------------------------------------------------------------------
def _etag(client: httpx.Client, ticket_id: str) -> str:
    raw = client.get(f"{TICKETS}/{ticket_id}", params={"raw": "true"}).json()["_raw"]
    return raw["calls"][0]["body"]["data"]["@etag"]


def test_update_with_a_stale_etag_is_a_409_conflict(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Contested")
    seen = _etag(client, ticket_id)
    assert client.patch(f"{TICKETS}/{ticket_id}", json={"subject": "Changed by someone else"}).status_code == 200
    pinned = [{"service_id": "roundup", "operation_id": "tickets_update", "extend_object": {"@etag": seen}}]
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"subject": "My change", "pass_through": pinned})
    assert error_of(response) == (409, "ConflictError")
    assert _ticket(client, ticket_id)["subject"] == "Changed by someone else"


def test_update_with_the_current_etag_pinned_succeeds(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Pinned")
    pinned = [{"service_id": "roundup", "operation_id": "tickets_update",
               "extend_object": {"@etag": _etag(client, ticket_id)}}]
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"subject": "Pinned and changed", "pass_through": pinned})
    assert response.status_code == 200, response.text
    assert _ticket(client, ticket_id)["subject"] == "Pinned and changed"


def test_downstream_validation_failure_has_downstream_errors(client: httpx.Client) -> None:
    response = client.post(TICKETS, json={"subject": "Bad status", "status": "nosuch"})
    assert error_of(response) == (400, "ConnectorExecutionError")
    errors = response.json()["downstream_errors"]
    assert errors == [{"message": "property status: 'nosuch' is not a status.", "code": "400"}]


def test_create_without_subject_is_refused_before_roundup(client: httpx.Client) -> None:
    response = client.post(TICKETS, json={"description": "no title"})
    assert error_of(response) == (400, "RequestValidationError")


def test_description_is_not_changed_after_creation_and_says_so(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Described", description="Original words")
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"description": "Rewritten"})
    assert response.status_code == 200, response.text
    [warning] = response.json()["meta"]["warnings"]
    assert warning["field"] == "description" and "first Roundup message" in warning["message"]
    assert _ticket(client, ticket_id)["description"] == "Original words"


def test_an_update_with_nothing_to_change_leaves_the_issue_alone(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Untouched")
    before = _ticket(client, ticket_id)
    response = client.patch(f"{TICKETS}/{ticket_id}", json={})
    assert response.status_code == 200 and response.json()["data"] == {"id": ticket_id}
    assert _ticket(client, ticket_id) == before


def test_an_update_roundup_refuses_is_a_typed_error_and_changes_nothing(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Stays")
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"subject": "Changed", "status": "nosuch"})
    assert error_of(response) == (400, "ConnectorExecutionError")
    assert response.json()["downstream_errors"] == [{"message": "property status: 'nosuch' is not a status.",
                                                     "code": "400"}]
    assert _ticket(client, ticket_id)["subject"] == "Stays"


def test_a_tag_by_a_new_name_creates_the_keyword(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="New keyword")
    name = f"unigate-new-{ticket_id}"  # unused by any earlier run, and taken from Roundup's answer
    assert _tag_id(client, name) is None
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"tags": [{"name": name}]})
    assert response.status_code == 200, response.text
    assert [t["name"] for t in _ticket(client, ticket_id)["tags"]] == [name]
    assert _tag_id(client, name) is not None


def test_a_message_of_another_issue_is_not_found_through_this_one(client: httpx.Client) -> None:
    first = _create(client, subject="Thread one", description="said in one")
    other = _create(client, subject="Thread two", description="said in two")
    message_id = client.get(f"{TICKETS}/{first}/comments").json()["data"][0]["id"]
    response = client.get(f"{TICKETS}/{other}/comments/{message_id}")
    assert error_of(response) == (404, "EntityNotFoundError")
    assert message_id in response.json()["detail"]


def test_a_comment_without_a_body_is_refused_before_roundup(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Quiet")
    response = client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": ""})
    assert error_of(response) == (400, "RequestValidationError")
    assert [c["body"] for c in client.get(f"{TICKETS}/{ticket_id}/comments").json()["data"]] == []


def test_hostile_ids_are_refused_before_any_call_to_roundup(live: LiveTracker, client: httpx.Client) -> None:
    # replayed, the cassette of this test is empty: any downstream call would fail it
    headers = live.harness.headers(consumer_id=CONSUMER_ID)
    answers = {(method, target): raw_request(live.harness.server.url, method, target, headers)
               for method, target in hostile_requests("issue", "1")}
    assert {k: v[0] for k, v in answers.items() if v[0] != 400 or v[1]["type_name"] != "RequestValidationError"} == {}
