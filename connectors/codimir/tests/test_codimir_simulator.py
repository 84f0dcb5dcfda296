"""Specification of the Codimir simulator, exercised over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from unigate.kit import BackgroundServer
from unigate_connectors.codimir.simulator import (
    DEFAULT_API_KEY,
    DEFAULT_PROJECT_ID,
    FORBIDDEN_PROJECT_ID,
    SECURE_SESSION_COOKIE,
    SESSION_COOKIE,
    SESSION_USER_ID,
    create_app,
)

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer(create_app()) as running:
        yield running


@pytest.fixture
def client(server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, cookies={SESSION_COOKIE: DEFAULT_API_KEY}, timeout=5) as http:
        yield http
        http.delete("/__sim/faults")


@pytest.fixture
def anonymous(server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=5) as http:
        yield http


def new_ticket(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"title": "Login page crashes on mobile", "projectId": DEFAULT_PROJECT_ID, **fields}
    response = client.post("/api/tickets", json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def error_of(response: httpx.Response) -> dict[str, Any]:
    return response.json()["error"]


# -- authentication ---------------------------------------------------------------------------
def test_missing_session_cookie_is_401_unauthorized(anonymous: httpx.Client) -> None:
    response = anonymous.get("/api/tickets")
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "UNAUTHORIZED", "message": "Authentication required"}}


def test_wrong_session_token_is_401(anonymous: httpx.Client) -> None:
    response = anonymous.get("/api/tickets", headers={"Cookie": f"{SESSION_COOKIE}=expired-token"})
    assert response.status_code == 401
    assert error_of(response)["code"] == "UNAUTHORIZED"


def test_bearer_token_is_not_accepted(anonymous: httpx.Client) -> None:
    response = anonymous.get("/api/tickets", headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"})
    assert response.status_code == 401


def test_secure_cookie_name_is_accepted(anonymous: httpx.Client) -> None:
    response = anonymous.get("/api/tickets/ticket_1", headers={"Cookie": f"{SECURE_SESSION_COOKIE}={DEFAULT_API_KEY}"})
    assert response.json()["data"]["id"] == "ticket_1"


# -- listing and paging -----------------------------------------------------------------------
def test_list_defaults_to_page_1_limit_20_newest_updated_first(client: httpx.Client) -> None:
    body = client.get("/api/tickets").json()
    assert body["pagination"]["page"] == 1 and body["pagination"]["limit"] == 20
    assert len(body["data"]) == 20
    stamps = [t["updatedAt"] for t in body["data"]]
    assert stamps == sorted(stamps, reverse=True)
    assert all(TIMESTAMP.match(s) for s in stamps)


def test_list_item_carries_people_and_counts(client: httpx.Client) -> None:
    item = client.get("/api/tickets", params={"limit": 1}).json()["data"][0]
    assert set(item) >= {"id", "key", "title", "status", "priority", "type", "stage", "assignee", "reporter",
                         "_count", "createdAt", "updatedAt", "dueDate"}
    assert re.fullmatch(r"ticket_\d+", item["id"]) and re.fullmatch(r"[A-Z]+-\d+", item["key"])
    assert set(item["_count"]) == {"comments", "attachments", "timeLogs"}


def test_walking_all_pages_yields_every_project_ticket_once(client: httpx.Client) -> None:
    seen: list[str] = []
    page, total_pages = 1, 1
    while page <= total_pages:
        params: dict[str, Any] = {"project": DEFAULT_PROJECT_ID, "limit": 100, "page": page}
        body = client.get("/api/tickets", params=params).json()
        total_pages, total = body["pagination"]["totalPages"], body["pagination"]["total"]
        seen += [t["id"] for t in body["data"]]
        page += 1
    assert len(seen) == len(set(seen)) == total >= 260
    assert total_pages == -(-total // 100)


def test_page_past_the_end_is_empty_with_pagination(client: httpx.Client) -> None:
    body = client.get("/api/tickets", params={"page": 999}).json()
    assert body["data"] == [] and body["pagination"]["page"] == 999


def test_limit_above_100_is_a_validation_error(client: httpx.Client) -> None:
    response = client.get("/api/tickets", params={"limit": 101})
    assert response.status_code == 400
    assert error_of(response)["details"] == {"limit": ["Number must be less than or equal to 100"]}


def test_unknown_status_filter_is_a_validation_error(client: httpx.Client) -> None:
    response = client.get("/api/tickets", params={"status": "open"})
    assert response.status_code == 400 and "status" in error_of(response)["details"]


def test_filters_combine(client: httpx.Client) -> None:
    params: dict[str, Any] = {"status": "done", "priority": "high", "project": DEFAULT_PROJECT_ID, "limit": 100}
    data = client.get("/api/tickets", params=params).json()["data"]
    assert data and all(t["status"] == "done" and t["priority"] == "high" for t in data)


def test_sort_by_title_ascending(client: httpx.Client) -> None:
    data = client.get("/api/tickets", params={"sort": "title", "order": "asc", "limit": 50}).json()["data"]
    assert [t["title"] for t in data] == sorted(t["title"] for t in data)


def test_sort_by_priority_is_alphabetical_not_by_severity(client: httpx.Client) -> None:
    data = client.get("/api/tickets", params={"sort": "priority", "order": "asc", "limit": 100}).json()["data"]
    assert data[0]["priority"] == "high" and data[-1]["priority"] in ("low", "lowest", "medium")


def test_search_parameter_matches_title_case_insensitively(client: httpx.Client) -> None:
    data = client.get("/api/tickets", params={"search": "csv EXPORT"}).json()["data"]
    assert data and all("csv export" in t["title"].lower() for t in data)


def test_private_project_tickets_are_hidden_from_lists(client: httpx.Client) -> None:
    body = client.get("/api/tickets", params={"project": FORBIDDEN_PROJECT_ID}).json()
    assert body["pagination"] == {"page": 1, "limit": 20, "total": 0, "totalPages": 0}


# -- single tickets ---------------------------------------------------------------------------
def test_get_returns_ticket_with_details(client: httpx.Client) -> None:
    ticket = client.get("/api/tickets/ticket_1").json()["data"]
    assert ticket["id"] == "ticket_1" and ticket["key"] == "WEB-1"
    assert set(ticket) >= {"project", "workspace", "group", "labels", "comments", "_count"}
    assert ticket["_count"]["comments"] == len(ticket["comments"])


def test_get_unknown_ticket_is_404_not_found(client: httpx.Client) -> None:
    response = client.get("/api/tickets/ticket_999999")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "NOT_FOUND", "message": "Ticket not found"}}


def test_ticket_in_foreign_private_project_is_403_forbidden(client: httpx.Client) -> None:
    hidden = next(i for i in range(1, 400) if client.get(f"/api/tickets/ticket_{i}").status_code == 403)
    response = client.get(f"/api/tickets/ticket_{hidden}")
    assert error_of(response) == {"code": "FORBIDDEN", "message": "Insufficient permissions to access this ticket"}


def test_create_returns_201_with_defaults_and_next_key(client: httpx.Client) -> None:
    ticket = new_ticket(client, labelIds=["label_1"], dueDate="2024-02-15T00:00:00Z")
    assert ticket["status"] == "backlog" and ticket["priority"] == "medium" and ticket["type"] == "TASK"
    assert ticket["reporterId"] == SESSION_USER_ID and ticket["key"].startswith("WEB-")
    assert ticket["dueDate"] == "2024-02-15T00:00:00.000Z" and [lb["id"] for lb in ticket["labels"]] == ["label_1"]
    assert client.get("/api/tickets").json()["data"][0]["id"] == ticket["id"]


def test_create_without_title_reports_field_errors(client: httpx.Client) -> None:
    response = client.post("/api/tickets", json={"assigneeId": "user_999", "projectId": DEFAULT_PROJECT_ID})
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "VALIDATION_ERROR", "message": "Invalid input data", "details": {
        "title": ["Title is required"], "assigneeId": ["Invalid assignee ID"]}}}


def test_create_rejects_bad_enum_long_title_and_offset_dates(client: httpx.Client) -> None:
    body = {"title": "x" * 256, "type": "STORY", "dueDate": "2024-02-15T00:00:00+02:00"}
    details = error_of(client.post("/api/tickets", json=body))["details"]
    assert details["title"] == ["String must contain at most 255 character(s)"]
    assert details["type"][0].startswith("Invalid enum value.") and details["dueDate"] == ["Invalid datetime"]


def test_create_with_non_json_body_is_400(client: httpx.Client) -> None:
    response = client.post("/api/tickets", content=b"title=hi")
    assert response.status_code == 400 and error_of(response)["code"] == "VALIDATION_ERROR"


def test_assignee_must_be_member_of_the_project(client: httpx.Client) -> None:
    response = client.post("/api/tickets", json={"title": "t", "projectId": DEFAULT_PROJECT_ID,
                                                 "assigneeId": "user_111"})
    assert error_of(response)["details"] == {"assigneeId": ["Invalid assignee ID"]}


def test_put_updates_only_given_fields_and_bumps_updated_at(client: httpx.Client) -> None:
    ticket = new_ticket(client, description="keep me")
    updated = client.put(f"/api/tickets/{ticket['id']}", json={"title": "Renamed", "priority": "highest"})
    data = updated.json()["data"]
    assert updated.status_code == 200 and data["title"] == "Renamed" and data["priority"] == "highest"
    assert data["description"] == "keep me" and data["updatedAt"] >= ticket["updatedAt"]


def test_put_with_null_clears_optional_fields(client: httpx.Client) -> None:
    ticket = new_ticket(client, assigneeId="user_102", dueDate="2024-02-15T00:00:00Z")
    data = client.put(f"/api/tickets/{ticket['id']}", json={"assigneeId": None, "dueDate": None}).json()["data"]
    assert data["assignee"] is None and data["dueDate"] is None


def test_put_with_empty_title_is_400(client: httpx.Client) -> None:
    ticket = new_ticket(client)
    response = client.put(f"/api/tickets/{ticket['id']}", json={"title": "  "})
    assert error_of(response)["details"] == {"title": ["Title is required"]}


def test_put_unknown_ticket_is_404(client: httpx.Client) -> None:
    assert client.put("/api/tickets/ticket_999999", json={"title": "x"}).status_code == 404


def test_patch_on_ticket_is_405(client: httpx.Client) -> None:
    response = client.patch("/api/tickets/ticket_1", json={"title": "x"})
    assert response.status_code == 405 and response.content == b""
    assert {"GET", "PUT", "DELETE"} <= set(response.headers["allow"].split(", "))


def test_delete_then_get_is_404(client: httpx.Client) -> None:
    ticket = new_ticket(client)
    response = client.delete(f"/api/tickets/{ticket['id']}")
    assert response.json() == {"success": True, "message": "Ticket deleted successfully"}
    assert client.get(f"/api/tickets/{ticket['id']}").status_code == 404
    assert client.delete(f"/api/tickets/{ticket['id']}").status_code == 404


def test_delete_in_project_where_user_is_plain_member_needs_reporter(client: httpx.Client) -> None:
    foreign = next(t for t in client.get("/api/tickets", params={"project": "project_457"}).json()["data"]
                   if t["reporterId"] != SESSION_USER_ID)
    response = client.delete(f"/api/tickets/{foreign['id']}")
    assert response.status_code == 403 and error_of(response)["code"] == "FORBIDDEN"


# -- quirk endpoints --------------------------------------------------------------------------
def test_status_endpoint_changes_status(client: httpx.Client) -> None:
    ticket = new_ticket(client)
    data = client.put(f"/api/tickets/{ticket['id']}/status", json={"status": "done"}).json()["data"]
    assert data["status"] == "done"


def test_status_endpoint_rejects_unknown_status(client: httpx.Client) -> None:
    ticket = new_ticket(client)
    response = client.put(f"/api/tickets/{ticket['id']}/status", json={"status": "closed"})
    assert response.status_code == 400 and "status" in error_of(response)["details"]


def test_assignee_endpoint_assigns_and_unassigns(client: httpx.Client) -> None:
    ticket = new_ticket(client)
    assigned = client.put(f"/api/tickets/{ticket['id']}/assignee", json={"assigneeId": "user_105"}).json()["data"]
    assert assigned["assignee"]["id"] == "user_105"
    cleared = client.put(f"/api/tickets/{ticket['id']}/assignee", json={"assigneeId": None}).json()["data"]
    assert cleared["assigneeId"] is None


def test_comment_lifecycle(client: httpx.Client) -> None:
    ticket = new_ticket(client)
    created = client.post(f"/api/tickets/{ticket['id']}/comments", json={"content": "Fixed on staging"})
    comment = created.json()["data"]
    assert created.status_code == 201 and comment["author"]["id"] == SESSION_USER_ID
    assert re.fullmatch(r"comment_\d+", comment["id"])
    path = f"/api/tickets/{ticket['id']}/comments/{comment['id']}"
    assert client.patch(path, json={"content": "Edited"}).json()["data"]["content"] == "Edited"
    listed = client.get(f"/api/tickets/{ticket['id']}/comments").json()
    assert [c["content"] for c in listed["data"]] == ["Edited"] and listed["pagination"]["total"] == 1
    assert client.delete(path).json()["success"] is True
    assert client.get(f"/api/tickets/{ticket['id']}").json()["data"]["comments"] == []


def test_comment_without_content_is_400(client: httpx.Client) -> None:
    response = client.post("/api/tickets/ticket_1/comments", json={"content": ""})
    assert error_of(response)["details"] == {"content": ["Content is required"]}


def test_editing_someone_elses_comment_is_403(client: httpx.Client) -> None:
    oldest = client.get("/api/tickets", params={"limit": 100, "sort": "createdAt", "order": "asc"}).json()["data"]
    ticket = next(t for t in oldest if t["_count"]["comments"])  # seeded: other tests' tickets are the newest
    comments = client.get(f"/api/tickets/{ticket['id']}").json()["data"]["comments"]
    other = next(c for c in comments if c["authorId"] != SESSION_USER_ID)
    response = client.patch(f"/api/tickets/{ticket['id']}/comments/{other['id']}", json={"content": "x"})
    assert response.status_code == 403


def test_search_requires_q(client: httpx.Client) -> None:
    response = client.get("/api/tickets/search")
    assert error_of(response)["details"] == {"q": ["Search query is required"]}


def test_search_returns_limited_hits_and_total(client: httpx.Client) -> None:
    body = client.get("/api/tickets/search", params={"q": "dashboard", "limit": 3}).json()
    assert len(body["data"]) == 3 and body["total"] >= 3
    assert all("dashboard" in (t["title"] + (t["description"] or "")).lower() for t in body["data"])


def week_stats(client: httpx.Client) -> dict[str, Any]:
    return client.get("/api/tickets/stats", params={"period": "week", "project": DEFAULT_PROJECT_ID}).json()["data"]


def test_stats_counts_the_projects_tickets_by_enum(client: httpx.Client) -> None:
    total = client.get("/api/tickets", params={"project": DEFAULT_PROJECT_ID}).json()["pagination"]["total"]
    stats = week_stats(client)
    assert stats["period"] == "week" and stats["total"] == total >= 260
    assert sum(stats["byStatus"].values()) == sum(stats["byPriority"].values()) == total
    assert set(stats["byPriority"]) == {"lowest", "low", "medium", "high", "highest"}


def test_stats_count_the_tickets_created_in_the_period(client: httpx.Client) -> None:
    before = week_stats(client)["metrics"]["createdThisPeriod"]
    new_ticket(client)
    assert week_stats(client)["metrics"]["createdThisPeriod"] == before + 1


def test_stats_rejects_unknown_period(client: httpx.Client) -> None:
    assert client.get("/api/tickets/stats", params={"period": "day"}).status_code == 400


def test_projects_list_is_paginated_and_hides_foreign_private_projects(client: httpx.Client) -> None:
    body = client.get("/api/projects").json()
    ids = {p["id"] for p in body["data"]}
    assert DEFAULT_PROJECT_ID in ids and FORBIDDEN_PROJECT_ID not in ids
    assert body["pagination"]["total"] == len(ids)


def test_get_project_by_documented_singular_path(client: httpx.Client) -> None:
    project = client.get(f"/api/project/{DEFAULT_PROJECT_ID}").json()["data"]
    assert project["key"] == "WEB" and project["_count"]["tickets"] >= 260
    assert client.get(f"/api/projects/{DEFAULT_PROJECT_ID}").json()["data"] == project


def test_foreign_private_project_is_403_and_unknown_is_404(client: httpx.Client) -> None:
    assert client.get(f"/api/project/{FORBIDDEN_PROJECT_ID}").status_code == 403
    assert error_of(client.get("/api/project/project_1"))["message"] == "Project not found"


def test_project_members_carry_user_and_role(client: httpx.Client) -> None:
    members = client.get(f"/api/project/{DEFAULT_PROJECT_ID}/members").json()["data"]
    assert {"userId": SESSION_USER_ID, "role": "OWNER"}.items() <= members[0].items()
    assert all(m["user"]["email"] for m in members)


def test_labels_filter_by_project(client: httpx.Client) -> None:
    labels = client.get("/api/labels", params={"project": DEFAULT_PROJECT_ID}).json()["data"]
    assert len(labels) == 8 and all(lb["projectId"] == DEFAULT_PROJECT_ID for lb in labels)


def test_unknown_path_is_an_html_404(client: httpx.Client) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")


def test_same_seed_gives_same_data_and_ticket_count_sizes_the_main_project() -> None:
    listings = []
    for _ in range(2):
        with BackgroundServer(create_app(seed=3, ticket_count=30)) as small, httpx.Client(
                base_url=small.url, cookies={SESSION_COOKIE: DEFAULT_API_KEY}) as http:
            listings.append(http.get("/api/tickets", params={"project": DEFAULT_PROJECT_ID, "limit": 100}).json())
    assert listings[0] == listings[1] and listings[0]["pagination"]["total"] == 30


# -- injected faults --------------------------------------------------------------------------
def test_requests_are_recorded_with_the_session_cookie(client: httpx.Client) -> None:
    client.delete("/__sim/requests")
    client.get("/api/tickets", params={"status": "todo"})
    recorded = client.get("/__sim/requests").json()
    assert recorded[0]["query"] == [["status", "todo"]]
    assert f"{SESSION_COOKIE}={DEFAULT_API_KEY}" in recorded[0]["headers"]["cookie"]
