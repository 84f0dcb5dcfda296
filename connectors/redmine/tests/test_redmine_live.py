"""Redmine through the gateway, against a real Redmine 5.0 (or its cassettes).

Live when connectors/redmine/tracker/start.sh has run (``.trackers/redmine.env``), recording with
``UNIGATE_RECORD_CASSETTES=1``, replaying ``connectors/redmine/tests/cassettes/live/`` otherwise.
Requests carry no random or clock values: ids and timestamps come from responses, so a replay
asks exactly what the recording asked. Tickets a test creates in ``demo`` are deleted at its end;
only the paging tests write to ``paging``, and only the issues missing to reach 120.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from unigate.testing import error_of, read_pages
from unigate.testing.harness import CONSUMER_ID
from unigate.testing.hostile import hostile_requests, raw_request
from unigate.testing.live import LiveTracker, live_fixtures

PROJECT = "demo"
TICKETS = f"/issue-tracking/collections/{PROJECT}/tickets"
PAGING_TICKETS = "/issue-tracking/collections/paging/tickets"
PAGING_SIZE = 120
BY_NAME = "redmine-customer-by-name"
CUSTOMER_BY_NAME = {"customer": "$.custom_fields[?(@.name == 'Customer')].value"}

live, client = live_fixtures("redmine", consumers={BY_NAME: {"custom_mappings": CUSTOMER_BY_NAME}})


# -- helpers ---------------------------------------------------------------------------------------
@pytest.fixture
def created(client: httpx.Client) -> Iterator[list[str]]:
    """Ids of tickets the test created in demo; deleted (through the gateway) when it ends."""
    ids: list[str] = []
    yield ids
    for ticket_id in reversed(ids):
        client.delete(f"{TICKETS}/{ticket_id}")


def new_ticket(client: httpx.Client, created: list[str], **fields: Any) -> str:
    response = client.post(TICKETS, json={"subject": "Printer on floor 3 jams", **fields})
    assert response.status_code == 201, response.text
    ticket_id = response.json()["data"]["id"]
    created.append(ticket_id)
    return ticket_id


def ticket(client: httpx.Client, ticket_id: str) -> dict[str, Any]:
    response = client.get(f"{TICKETS}/{ticket_id}")
    assert response.status_code == 200, response.text
    return response.json()["data"]


def listed(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = client.get(TICKETS, params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def raw_issue(body: dict[str, Any]) -> dict[str, Any]:
    """The issue in a raw=true ticket read: its ``tickets_one`` call (the other checks the project)."""
    calls = body["_raw"]["calls"]
    assert [c["call_id"] for c in calls] == ["tickets_one_collection_check", "tickets_one"]
    return calls[1]["body"]["issue"]


def member_id(client: httpx.Client, name: str) -> str:
    users = client.get(f"/issue-tracking/collections/{PROJECT}/users").json()["data"]
    return next(u["id"] for u in users if u["name"] == name)


# -- collections -----------------------------------------------------------------------------------
def test_collections_are_the_projects(client: httpx.Client) -> None:
    body = client.get("/issue-tracking/collections").json()
    ids = [c["id"] for c in body["data"]]
    assert {"demo", "paging"} <= set(ids)
    assert body["meta"]["total_count"] == len(ids)


def test_collection_one_is_read_by_identifier(client: httpx.Client) -> None:
    data = client.get(f"/issue-tracking/collections/{PROJECT}").json()["data"]
    assert data["id"] == "demo" and data["name"] == "Demo" and data["type"] == "project"
    assert data["created_at"].endswith("Z")


# -- tickets CRUD ----------------------------------------------------------------------------------
def test_ticket_is_created_with_every_writable_field(client: httpx.Client, created: list[str]) -> None:
    dana = member_id(client, "Dana Developer")
    backend = next(t for t in client.get(f"/issue-tracking/collections/{PROJECT}/tags").json()["data"]
                   if t["name"] == "Backend")
    parent = new_ticket(client, created, subject="Parent of the printer ticket")
    ticket_id = new_ticket(client, created, description="Paper jams every morning.", type="feature",
                           status="in_progress", priority="urgent", assignees=[{"id": dana}],
                           tags=[{"id": backend["id"]}], parent_id=parent, due_date="2030-01-31")
    data = ticket(client, ticket_id)
    assert data["subject"] == "Printer on floor 3 jams" and data["description"] == "Paper jams every morning."
    assert (data["type"], data["status"], data["priority"]) == ("feature", "in_progress", "urgent")
    assert data["assignees"] == [{"id": dana, "username": "Dana Developer"}]
    assert data["tags"] == [{"id": backend["id"], "name": "Backend"}]
    assert data["parent_id"] == parent and data["collection_id"] == PROJECT
    assert data["due_date"] == "2030-01-31T00:00:00.000Z" and data["completed_at"] is None
    assert data["created_by"] == "1"   # the API key's user (admin)


def test_new_ticket_gets_redmine_defaults(client: httpx.Client, created: list[str]) -> None:
    data = ticket(client, new_ticket(client, created))
    assert (data["type"], data["status"], data["priority"]) == ("bug", "open", "normal")
    assert data["assignees"] == [] and data["tags"] == [] and data["parent_id"] is None


def test_ticket_update_changes_only_the_fields_sent(client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created, description="Original description", priority="high")
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"subject": "Printer fixed?", "priority": "low"})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"id": ticket_id}
    data = ticket(client, ticket_id)
    assert (data["subject"], data["priority"], data["description"]) == ("Printer fixed?", "low",
                                                                        "Original description")


def test_closing_a_ticket_sets_completed_at(client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created)
    assert client.patch(f"{TICKETS}/{ticket_id}", json={"status": "closed"}).status_code == 200
    data = ticket(client, ticket_id)
    assert data["status"] == "closed" and data["completed_at"] is not None
    assert data["completed_at"] >= data["created_at"]


def test_null_and_empty_values_clear_fields(client: httpx.Client, created: list[str]) -> None:
    dana = member_id(client, "Dana Developer")
    tag = client.get(f"/issue-tracking/collections/{PROJECT}/tags").json()["data"][0]
    ticket_id = new_ticket(client, created, assignees=[{"id": dana}], tags=[{"id": tag["id"]}],
                           due_date="2030-01-31", description="Some text")
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"assignees": [], "tags": [], "due_date": None,
                                                            "description": None})
    assert response.status_code == 200, response.text
    data = ticket(client, ticket_id)
    assert data["assignees"] == [] and data["tags"] == [] and data["due_date"] is None
    assert data["description"] in (None, "")


def test_deleted_ticket_is_gone(client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created)
    response = client.delete(f"{TICKETS}/{ticket_id}")
    assert response.status_code == 200 and response.json()["data"] == {"id": ticket_id}
    created.remove(ticket_id)
    assert error_of(client.get(f"{TICKETS}/{ticket_id}")) == (404, "EntityNotFoundError")


def test_nonexistent_ticket_is_an_entity_not_found(client: httpx.Client) -> None:
    response = client.get(f"{TICKETS}/99999999")
    assert error_of(response) == (404, "EntityNotFoundError")
    assert response.json()["detail"] == "Redmine has no ticket '99999999' in collection 'demo'"


# -- the collection in the path is honoured ---------------------------------------------------------
OTHER_TICKETS = PAGING_TICKETS   # an existing project the test's tickets are not in


def test_a_ticket_through_another_project_is_not_found(client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created)
    response = client.get(f"{OTHER_TICKETS}/{ticket_id}")
    assert error_of(response) == (404, "EntityNotFoundError") and "'paging'" in response.json()["detail"]


def test_an_update_through_another_project_is_not_found_and_changes_nothing(client: httpx.Client,
                                                                           created: list[str]) -> None:
    ticket_id = new_ticket(client, created)
    before = ticket(client, ticket_id)
    response = client.patch(f"{OTHER_TICKETS}/{ticket_id}", json={"subject": "Moved"})
    assert error_of(response) == (404, "EntityNotFoundError")
    assert ticket(client, ticket_id) == before


def test_a_delete_through_another_project_is_not_found_and_deletes_nothing(client: httpx.Client,
                                                                          created: list[str]) -> None:
    ticket_id = new_ticket(client, created)
    before = ticket(client, ticket_id)
    assert error_of(client.delete(f"{OTHER_TICKETS}/{ticket_id}")) == (404, "EntityNotFoundError")
    assert ticket(client, ticket_id) == before


def test_comments_through_another_project_are_not_found(client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created)
    client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": "Here"})
    assert error_of(client.get(f"{OTHER_TICKETS}/{ticket_id}/comments")) == (404, "EntityNotFoundError")


def test_a_comment_edit_through_another_issue_is_not_found_and_changes_nothing(client: httpx.Client,
                                                                              created: list[str]) -> None:
    ticket_id, other_id = new_ticket(client, created), new_ticket(client, created)
    comment_id = client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": "Mine"}).json()["data"]["id"]
    response = client.patch(f"{TICKETS}/{other_id}/comments/{comment_id}", json={"body": "Hijacked"})
    assert error_of(response) == (404, "EntityNotFoundError")
    assert client.get(f"{TICKETS}/{ticket_id}/comments/{comment_id}").json()["data"]["body"] == "Mine"


def test_a_comment_delete_through_another_issue_is_not_found_and_deletes_nothing(client: httpx.Client,
                                                                                created: list[str]) -> None:
    ticket_id, other_id = new_ticket(client, created), new_ticket(client, created)
    comment_id = client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": "Mine"}).json()["data"]["id"]
    assert error_of(client.delete(f"{TICKETS}/{other_id}/comments/{comment_id}")) == (404, "EntityNotFoundError")
    assert client.get(f"{TICKETS}/{ticket_id}/comments/{comment_id}").json()["data"]["body"] == "Mine"


@pytest.mark.parametrize("path", ["", "/tickets", "/users", "/tags"], ids=["collection", "tickets", "users", "tags"])
def test_an_unknown_project_and_its_lists_are_not_found(client: httpx.Client, path: str) -> None:
    response = client.get(f"/issue-tracking/collections/nosuch{path}")
    assert error_of(response) == (404, "EntityNotFoundError")
    assert response.json()["detail"]["downstream_body"] is None   # Redmine's 404 has an empty body


def test_a_create_in_an_unknown_project_is_not_found(client: httpx.Client) -> None:
    response = client.post("/issue-tracking/collections/nosuch/tickets", json={"subject": "Nowhere"})
    assert error_of(response) == (404, "EntityNotFoundError")
    assert response.json()["detail"]["refused_with"]["status_code"] == 422


def test_an_unknown_route_is_not_found(client: httpx.Client) -> None:
    assert error_of(client.get(f"/issue-tracking/collections/{PROJECT}/milestones")) == (404, "EntityNotFoundError")


def test_redmine_422_surfaces_with_downstream_errors(client: httpx.Client) -> None:
    response = client.post(TICKETS, json={"subject": ""})
    assert error_of(response) == (422, "ConnectorExecutionError")
    assert response.json()["downstream_errors"] == [{"message": "Subject cannot be blank"}]


def test_unknown_status_is_refused_before_the_write(client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created)
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"status": "on_hold"})
    assert error_of(response) == (400, "RequestValidationError")
    assert "on_hold" in str(response.json()["detail"])
    assert ticket(client, ticket_id)["status"] == "open"


def test_raw_true_returns_the_redmine_issue(client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created)
    body = client.get(f"{TICKETS}/{ticket_id}", params={"raw": "true"}).json()
    assert body["data"]["id"] == ticket_id
    issue = raw_issue(body)   # the issue's downstream response, as Redmine sent it
    assert issue["id"] == int(ticket_id) and issue["status"]["is_closed"] is False


# -- paging ----------------------------------------------------------------------------------------
def fill_paging_project(client: httpx.Client) -> None:
    """Create the issues a fresh server's `paging` project lacks (tests run in any order)."""
    total = client.get(PAGING_TICKETS, params={"limit": 25}).json()["meta"]["total_count"]
    for n in range(total, PAGING_SIZE):
        assert client.post(PAGING_TICKETS, json={"subject": f"Paging issue {n + 1}"}).status_code == 201


@pytest.mark.parametrize("limit", [25, 50, 200])
def test_paging_serves_every_issue_once(client: httpx.Client, limit: int) -> None:
    fill_paging_project(client)
    pages = read_pages(client, PAGING_TICKETS, limit)
    ids = [t["id"] for page in pages for t in page["data"]]
    total = pages[0]["meta"]["total_count"]
    assert total >= PAGING_SIZE and len(ids) == total and len(set(ids)) == total
    assert ids == sorted(ids, key=int, reverse=True)   # Redmine's default order: newest id first
    assert all(len(p["data"]) == limit for p in pages[:-1]) and pages[-1]["meta"]["cursors"]["next"] is None


def test_paging_a_sorted_list_has_no_gaps(client: httpx.Client) -> None:
    fill_paging_project(client)
    ids: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 50, "sort[by]": "created_at", "sort[direction]": "asc",
                                  **({"cursor": cursor} if cursor else {})}
        body = client.get(PAGING_TICKETS, params=params).json()
        ids += [t["id"] for t in body["data"]]
        cursor = body["meta"]["cursors"]["next"]
        if cursor is None:
            break
    assert len(ids) == len(set(ids)) == body["meta"]["total_count"] >= PAGING_SIZE
    assert ids == sorted(ids, key=int)   # creation order = id order


# -- filters and sorts -----------------------------------------------------------------------------
def test_list_includes_closed_tickets_by_default(client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created, status="closed")
    assert ticket_id in [t["id"] for t in listed(client, **{"sort[by]": "created_at", "sort[direction]": "desc"})]


@pytest.mark.parametrize("status", ["open", "in_progress", "closed"])
def test_status_filter(client: httpx.Client, created: list[str], status: str) -> None:
    mine = {s: new_ticket(client, created, subject=f"Status {s}", status=s) for s in ("open", "in_progress", "closed")}
    data = listed(client, **{"filter[status]": status, "sort[by]": "created_at", "sort[direction]": "desc"})
    assert data and {t["status"] for t in data} == {status}
    assert mine[status] in [t["id"] for t in data]
    assert not {i for s, i in mine.items() if s != status} & {t["id"] for t in data}


def test_since_filter_returns_tickets_updated_from_then(client: httpx.Client, created: list[str]) -> None:
    older = new_ticket(client, created, subject="Older")
    since = ticket(client, older)["updated_at"]
    data = listed(client, **{"filter[since]": since})
    assert data and all(t["updated_at"] >= since for t in data)
    assert older in [t["id"] for t in data]
    later = listed(client, **{"filter[since]": "2999-01-01T00:00:00Z"})
    assert later == []


def test_assignee_filter(client: httpx.Client, created: list[str]) -> None:
    dana = member_id(client, "Dana Developer")
    assigned = new_ticket(client, created, subject="For Dana", assignees=[{"id": dana}])
    new_ticket(client, created, subject="For nobody")
    data = listed(client, **{"filter[assignee_id]": dana})
    assert assigned in [t["id"] for t in data]
    assert all(t["assignees"] == [{"id": dana, "username": "Dana Developer"}] for t in data)


@pytest.mark.parametrize("by", ["created_at", "updated_at"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort(client: httpx.Client, created: list[str], by: str, direction: str) -> None:
    first = new_ticket(client, created, subject="Sorted first")
    second = new_ticket(client, created, subject="Sorted second")
    assert client.patch(f"{TICKETS}/{first}", json={"description": "touched after the second"}).status_code == 200
    data = listed(client, **{"sort[by]": by, "sort[direction]": direction})
    # Redmine shows whole seconds but sorts by the stored sub-second value: compare the timestamps only
    values = [t[by] for t in data]
    assert values == sorted(values, reverse=direction == "desc")
    ids = [t["id"] for t in data]
    earlier, later = (first, second) if by == "created_at" else (second, first)
    assert (ids.index(earlier) < ids.index(later)) == (direction == "asc")


# -- comments --------------------------------------------------------------------------------------
def test_comment_is_added_and_listed(client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created)
    response = client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": "Replaced the roller."})
    assert response.status_code == 201, response.text
    comment_id = response.json()["data"]["id"]
    body = client.get(f"{TICKETS}/{ticket_id}/comments").json()
    assert [(c["id"], c["body"], c["created_by"]) for c in body["data"]] == [(comment_id, "Replaced the roller.", "1")]
    assert body["meta"]["total_count"] == 1
    one = client.get(f"{TICKETS}/{ticket_id}/comments/{comment_id}").json()["data"]
    assert one["body"] == "Replaced the roller."


def test_field_changes_are_not_comments(client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created)
    assert client.patch(f"{TICKETS}/{ticket_id}", json={"priority": "high"}).status_code == 200   # a journal
    client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": "Only this is a comment."})
    data = client.get(f"{TICKETS}/{ticket_id}/comments").json()["data"]
    assert [c["body"] for c in data] == ["Only this is a comment."]


def test_comment_is_updated(client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created)
    comment_id = client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": "Draft"}).json()["data"]["id"]
    response = client.patch(f"{TICKETS}/{ticket_id}/comments/{comment_id}", json={"body": "Final words"})
    assert response.status_code == 200, response.text
    assert client.get(f"{TICKETS}/{ticket_id}/comments/{comment_id}").json()["data"]["body"] == "Final words"


def test_comment_is_deleted(client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created)
    comment_id = client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": "Oops"}).json()["data"]["id"]
    assert client.delete(f"{TICKETS}/{ticket_id}/comments/{comment_id}").status_code == 200
    assert client.get(f"{TICKETS}/{ticket_id}/comments").json()["data"] == []
    assert error_of(client.get(f"{TICKETS}/{ticket_id}/comments/{comment_id}")) == (404, "EntityNotFoundError")


def test_blank_comment_is_refused(client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created)
    response = client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": "  "})
    assert error_of(response) == (400, "RequestValidationError")


# -- custom fields ---------------------------------------------------------------------------------
@pytest.fixture
def by_name(live: LiveTracker, client: httpx.Client) -> Iterator[httpx.Client]:
    """A consumer whose connection maps custom field "Customer" by name (needs ``client``: the cassette)."""
    with live.client(BY_NAME) as c:
        yield c


def test_custom_field_is_read_by_name(by_name: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(by_name, created, custom_mappings={"customer": "ACME Corp"})
    assert ticket(by_name, ticket_id)["custom_mappings"] == {"customer": "ACME Corp"}
    listed_ticket = next(t for t in listed(by_name) if t["id"] == ticket_id)
    assert listed_ticket["custom_mappings"] == {"customer": "ACME Corp"}


def test_custom_field_is_written_back_by_name(by_name: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(by_name, created)
    assert ticket(by_name, ticket_id)["custom_mappings"] == {"customer": None}
    response = by_name.patch(f"{TICKETS}/{ticket_id}", json={"custom_mappings": {"customer": "Globex"}})
    assert response.status_code == 200, response.text
    assert ticket(by_name, ticket_id)["custom_mappings"] == {"customer": "Globex"}


def test_custom_field_is_written_back_by_id(live: LiveTracker, client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created)
    raw = raw_issue(client.get(f"{TICKETS}/{ticket_id}", params={"raw": "true"}).json())
    field_id = next(f["id"] for f in raw["custom_fields"] if f["name"] == "Customer")
    live.connect("redmine-customer-by-id", custom_mappings={"customer": f"$.custom_fields[?(@.id == {field_id})].value"})
    with live.client("redmine-customer-by-id") as by_id:
        response = by_id.patch(f"{TICKETS}/{ticket_id}", json={"custom_mappings": {"customer": "Initech"}})
        assert response.status_code == 200, response.text
        assert ticket(by_id, ticket_id)["custom_mappings"] == {"customer": "Initech"}


def test_unknown_custom_field_name_is_refused(live: LiveTracker, client: httpx.Client, created: list[str]) -> None:
    live.connect("redmine-no-such-field", custom_mappings={"x": "$.custom_fields[?(@.name == 'No such field')].value"})
    ticket_id = new_ticket(client, created)
    with live.client("redmine-no-such-field") as other:
        response = other.patch(f"{TICKETS}/{ticket_id}", json={"custom_mappings": {"x": "1"}})
    assert error_of(response) == (400, "RequestValidationError")
    assert "No such field" in str(response.json()["detail"])


# -- users and tags --------------------------------------------------------------------------------
def test_users_are_the_project_members(client: httpx.Client) -> None:
    body = client.get(f"/issue-tracking/collections/{PROJECT}/users").json()
    assert {"Dana Developer", "Redmine Admin"} <= {u["name"] for u in body["data"]}
    assert body["meta"]["total_count"] == len(body["data"])
    dana = member_id(client, "Dana Developer")
    assert client.get(f"/issue-tracking/collections/{PROJECT}/users/{dana}").json()["data"]["name"] == "Dana Developer"


def test_non_member_user_is_a_404(client: httpx.Client) -> None:
    assert error_of(client.get(f"/issue-tracking/collections/{PROJECT}/users/99999")) == (404, "EntityNotFoundError")


def test_tags_are_the_issue_categories(client: httpx.Client) -> None:
    names = [t["name"] for t in client.get(f"/issue-tracking/collections/{PROJECT}/tags").json()["data"]]
    assert {"Backend", "Frontend"} <= set(names)


def test_a_ticket_takes_one_tag_only_the_first_with_a_warning(client: httpx.Client, created: list[str]) -> None:
    first, second = client.get(f"/issue-tracking/collections/{PROJECT}/tags").json()["data"][:2]
    response = client.post(TICKETS, json={"subject": "Two tags", "tags": [{"id": first["id"]}, {"id": second["id"]}]})
    assert response.status_code == 201, response.text
    created.append(response.json()["data"]["id"])
    [warning] = response.json()["meta"]["warnings"]
    assert warning["field"] == "tags" and f"only the first ({first['id']})" in warning["message"]
    assert [t["id"] for t in ticket(client, response.json()["data"]["id"])["tags"]] == [first["id"]]


# -- the write policy: nulls Redmine cannot clear, values it alters ----------------------------------
@pytest.mark.parametrize("field", ["subject", "status", "priority", "type"])
def test_a_null_redmine_cannot_clear_is_refused_before_any_call(client: httpx.Client, created: list[str],
                                                                field: str) -> None:
    ticket_id = new_ticket(client, created)
    response = client.patch(f"{TICKETS}/{ticket_id}", json={field: None})
    assert error_of(response) == (400, "RequestValidationError") and "cannot clear" in response.json()["detail"][field]
    assert ticket(client, ticket_id)["subject"] == "Printer on floor 3 jams"


def test_a_due_time_redmine_drops_is_warned_about(client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created)
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"due_date": "2030-02-01T15:30:00Z"})
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["warnings"] == [
        {"field": "due_date", "message": "altered: Redmine stores it as 2030-02-01T00:00:00.000Z"}]
    assert ticket(client, ticket_id)["due_date"] == "2030-02-01T00:00:00.000Z"


def test_strict_mode_refuses_a_due_time_redmine_would_drop(client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created, due_date="2030-03-01")
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"due_date": "2030-02-01T15:30:00Z"},
                            headers={"x-unigate-strict": "true"})
    assert error_of(response) == (400, "RequestValidationError") and list(response.json()["detail"]) == ["due_date"]
    assert ticket(client, ticket_id)["due_date"] == "2030-03-01T00:00:00.000Z"


# -- reference lists ---------------------------------------------------------------------------------
def called(response: httpx.Response) -> list[str]:
    """The call ids of a raw=true write (one call answers its body alone)."""
    raw = response.json().get("_raw")
    return [c["call_id"] for c in raw["calls"]] if isinstance(raw, dict) and "calls" in raw else ["<one call>"]


def test_status_ids_are_looked_up_once_per_connection(client: httpx.Client, created: list[str]) -> None:
    ticket_id = new_ticket(client, created)
    first = client.patch(f"{TICKETS}/{ticket_id}", params={"raw": "true"}, json={"status": "in_progress"})
    second = client.patch(f"{TICKETS}/{ticket_id}", params={"raw": "true"}, json={"status": "closed"})
    assert first.status_code == second.status_code == 200, second.text
    assert "statuses_lookup" in called(first)
    assert "statuses_lookup" not in called(second)
    assert ticket(client, ticket_id)["status"] == "closed"


def test_hostile_ids_are_refused_before_any_call_to_redmine(live: LiveTracker, client: httpx.Client) -> None:
    # replayed, the cassette of this test is empty: any downstream call would fail it
    headers = live.harness.headers(consumer_id=CONSUMER_ID)
    answers = {(method, target): raw_request(live.harness.server.url, method, target, headers)
               for method, target in hostile_requests("demo", "1")}
    assert {k: v[0] for k, v in answers.items() if v[0] != 400 or v[1]["type_name"] != "RequestValidationError"} == {}
