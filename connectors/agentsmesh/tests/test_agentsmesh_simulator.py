"""Specification of the AgentsMesh Tickets API simulator, exercised over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from unigate.kit import BackgroundServer
from unigate_connectors.agentsmesh.simulator import (
    BOARD_COLUMN_LIMIT,
    DEFAULT_API_KEY,
    DEFAULT_ORG,
    MAIN_REPOSITORY_ID,
    OTHER_ORG,
    READ_ONLY_API_KEY,
    STATUSES,
    create_app,
)

TICKETS = 260


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer(create_app(ticket_count=TICKETS)) as running:
        yield running


@pytest.fixture
def client(server: BackgroundServer) -> Iterator[httpx.Client]:
    base = f"{server.url}/api/v1/ext/orgs/{DEFAULT_ORG}"
    with httpx.Client(base_url=base, headers={"X-API-Key": DEFAULT_API_KEY}, timeout=5) as http:
        yield http


@pytest.fixture
def control(server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=5) as http:
        yield http
        http.delete("/__sim/faults")


def new_ticket(client: httpx.Client, **fields: object) -> dict:
    response = client.post("/tickets", json={"type": "task", "title": "Spec ticket", **fields})
    assert response.status_code == 201, response.text
    return response.json()["ticket"]


def validation_message(struct: str, field: str, tag: str) -> str:
    return f"Key: '{struct}.{field}' Error:Field validation for '{field}' failed on the '{tag}' tag"


# -- authentication --------------------------------------------------------------------------------

def test_missing_api_key_is_401_auth_required(client: httpx.Client) -> None:
    response = client.get("/tickets", headers={"X-API-Key": ""})
    assert response.status_code == 401
    assert response.json() == {"error": "API key is required", "code": "AUTH_REQUIRED"}


def test_key_without_amk_prefix_counts_as_missing(client: httpx.Client) -> None:
    response = client.get("/tickets", headers={"X-API-Key": "sk_live_123"})
    assert response.json() == {"error": "API key is required", "code": "AUTH_REQUIRED"}


def test_unknown_api_key_is_401_invalid_token(client: httpx.Client) -> None:
    response = client.get("/tickets", headers={"X-API-Key": "amk_not_a_real_key"})
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid API key", "code": "INVALID_TOKEN"}


def test_bearer_authorization_is_accepted_too(client: httpx.Client) -> None:
    headers = {"X-API-Key": "", "Authorization": f"Bearer {DEFAULT_API_KEY}"}
    assert client.get("/tickets/AM-42", headers=headers).json()["ticket"]["slug"] == "AM-42"


def test_unknown_org_is_404(server: BackgroundServer) -> None:
    response = httpx.get(f"{server.url}/api/v1/ext/orgs/nope/tickets",
                         headers={"X-API-Key": DEFAULT_API_KEY})
    assert response.status_code == 404
    assert response.json() == {"error": "Organization not found", "code": "RESOURCE_NOT_FOUND"}


def test_key_of_another_org_is_403(server: BackgroundServer) -> None:
    response = httpx.get(f"{server.url}/api/v1/ext/orgs/{OTHER_ORG}/tickets",
                         headers={"X-API-Key": DEFAULT_API_KEY})
    assert response.status_code == 403
    assert response.json()["code"] == "API_KEY_ORG_MISMATCH"


def test_read_only_key_cannot_write(client: httpx.Client) -> None:
    response = client.post("/tickets", json={"type": "bug", "title": "x"},
                           headers={"X-API-Key": READ_ONLY_API_KEY})
    assert response.status_code == 403
    assert response.json() == {"error": "Insufficient scope", "code": "INSUFFICIENT_SCOPE",
                               "required_scopes": ["tickets:write"]}


def test_read_only_key_can_read(client: httpx.Client) -> None:
    response = client.get("/tickets/AM-42", headers={"X-API-Key": READ_ONLY_API_KEY})
    assert response.json()["ticket"]["slug"] == "AM-42"


def test_unknown_route_is_gin_plain_text_404(client: httpx.Client) -> None:
    response = client.get("/projects")
    assert (response.status_code, response.text) == (404, "404 page not found")


# -- listing and paging ----------------------------------------------------------------------------

def test_list_defaults_to_20_and_echoes_paging(client: httpx.Client) -> None:
    body = client.get("/tickets").json()
    assert set(body) == {"tickets", "total", "limit", "offset"}
    assert (len(body["tickets"]), body["limit"], body["offset"]) == (20, 20, 0)


def test_ticket_has_documented_shape(client: httpx.Client) -> None:
    ticket = client.get("/tickets", params={"limit": 1}).json()["tickets"][0]
    documented = {"id", "slug", "type", "title", "status", "priority", "assignee_id",
                  "repository_id", "labels", "parent_slug", "created_at", "updated_at"}
    assert documented <= set(ticket)
    assert ticket["created_at"].endswith("Z") and len(ticket["created_at"]) == 20


def test_walking_all_pages_yields_every_ticket_once(client: httpx.Client) -> None:
    seen, offset, total = [], 0, None
    while total is None or offset < total:
        body = client.get("/tickets", params={"limit": 50, "offset": offset}).json()
        total = body["total"]
        seen += [t["id"] for t in body["tickets"]]
        offset += 50
    assert len(seen) == len(set(seen)) == total


def test_main_repository_holds_ticket_count_tickets(client: httpx.Client) -> None:
    body = client.get("/tickets", params={"repository_id": MAIN_REPOSITORY_ID, "limit": -1}).json()
    seeded = [t for t in body["tickets"] if t["number"] <= TICKETS]  # other tests add tickets after these
    assert sorted(t["slug"] for t in seeded) == sorted(f"AM-{n}" for n in range(1, TICKETS + 1))
    assert {t["repository_id"] for t in body["tickets"]} == {MAIN_REPOSITORY_ID}
    assert len(body["tickets"]) == body["total"]


def test_list_is_newest_created_first(client: httpx.Client) -> None:
    stamps = [t["created_at"] for t in client.get("/tickets", params={"limit": 100}).json()["tickets"]]
    assert stamps == sorted(stamps, reverse=True)


def test_filters_by_status_type_assignee_and_labels(client: httpx.Client) -> None:
    everything = client.get("/tickets", params={"limit": -1}).json()["tickets"]
    expected = [t["slug"] for t in everything if t["status"] == "done" and t["type"] == "bug"
                and t["assignee_id"] == 3 and {"backend", "api"} & set(t["labels"])]
    params: dict[str, Any] = {"status": "done", "type": "bug", "assignee_id": 3, "labels": "backend,api", "limit": -1}
    tickets = client.get("/tickets", params=params).json()["tickets"]
    assert [t["slug"] for t in tickets] == expected and expected


def test_non_integer_limit_is_400(client: httpx.Client) -> None:
    response = client.get("/tickets", params={"limit": "ten"})
    assert response.status_code == 400
    assert response.json() == {"error": 'strconv.ParseInt: parsing "ten": invalid syntax',
                               "code": "VALIDATION_FAILED"}


def test_zero_limit_means_default_and_negative_means_all(client: httpx.Client) -> None:
    assert client.get("/tickets", params={"limit": 0}).json()["limit"] == 20
    body = client.get("/tickets", params={"limit": -1}).json()
    assert len(body["tickets"]) == body["total"]


# -- single tickets --------------------------------------------------------------------------------

def test_get_ticket_by_slug(client: httpx.Client) -> None:
    response = client.get("/tickets/AM-42")
    assert response.status_code == 200
    assert response.json()["ticket"]["slug"] == "AM-42"


def test_get_unknown_slug_is_404(client: httpx.Client) -> None:
    response = client.get("/tickets/AM-99999")
    assert response.status_code == 404
    assert response.json() == {"error": "Ticket not found", "code": "RESOURCE_NOT_FOUND"}


def test_numeric_id_is_not_a_slug(client: httpx.Client) -> None:
    assert client.get("/tickets/1").status_code == 404


def test_create_returns_201_with_defaults(client: httpx.Client) -> None:
    ticket = new_ticket(client, repository_id=MAIN_REPOSITORY_ID)
    assert ticket["slug"] == f"AM-{ticket['number']}" and ticket["number"] > TICKETS
    assert (ticket["status"], ticket["priority"], ticket["parent_slug"]) == ("backlog", "none", None)


def test_create_without_repository_uses_ticket_prefix(client: httpx.Client) -> None:
    assert new_ticket(client)["slug"].startswith("TICKET-")


def test_created_ticket_is_first_in_list(client: httpx.Client) -> None:
    ticket = new_ticket(client)
    assert client.get("/tickets", params={"limit": 1}).json()["tickets"][0]["id"] == ticket["id"]


def test_create_drops_labels_unknown_to_the_org(client: httpx.Client) -> None:
    assert new_ticket(client, labels=["backend", "no-such-label"])["labels"] == ["backend"]


def test_create_requires_type_and_title(client: httpx.Client) -> None:
    response = client.post("/tickets", json={})
    assert response.status_code == 400
    assert response.json() == {"code": "VALIDATION_FAILED", "error": "\n".join([
        validation_message("CreateTicketRequest", "Type", "required"),
        validation_message("CreateTicketRequest", "Title", "required")])}


def test_create_rejects_title_over_500_chars(client: httpx.Client) -> None:
    response = client.post("/tickets", json={"type": "bug", "title": "x" * 501})
    assert response.json()["error"] == validation_message("CreateTicketRequest", "Title", "max")


def test_create_accepts_title_of_exactly_500_chars(client: httpx.Client) -> None:
    assert len(new_ticket(client, title="y" * 500)["title"]) == 500


def test_create_rejects_unknown_type_and_priority(client: httpx.Client) -> None:
    response = client.post("/tickets", json={"type": "chore", "title": "t", "priority": "p0"})
    assert response.json()["error"] == "\n".join([
        validation_message("CreateTicketRequest", "Type", "oneof"),
        validation_message("CreateTicketRequest", "Priority", "oneof")])


def test_create_rejects_wrong_json_type(client: httpx.Client) -> None:
    response = client.post("/tickets", json={"type": "bug", "title": 7})
    assert response.status_code == 400
    assert response.json()["error"] == ("json: cannot unmarshal number into Go struct field "
                                        "CreateTicketRequest.title of type string")


def test_create_rejects_malformed_json(client: httpx.Client) -> None:
    response = client.post("/tickets", content=b"<ticket/>")
    assert response.json() == {"error": "invalid character '<' looking for beginning of value",
                               "code": "VALIDATION_FAILED"}


def test_create_with_unknown_parent_is_404_without_code(client: httpx.Client) -> None:
    response = client.post("/tickets", json={"type": "task", "title": "t", "parent_slug": "AM-0"})
    assert response.status_code == 404
    assert response.json() == {"error": "Parent ticket not found"}


def test_create_sub_task_reports_parent_slug(client: httpx.Client) -> None:
    assert new_ticket(client, type="subtask", parent_slug="AM-3")["parent_slug"] == "AM-3"


def test_update_changes_only_given_fields(client: httpx.Client) -> None:
    ticket = new_ticket(client, priority="low", labels=["ui"])
    response = client.put(f"/tickets/{ticket['slug']}", json={"title": "Renamed", "priority": "urgent"})
    updated = response.json()["ticket"]
    assert (updated["title"], updated["priority"], updated["labels"]) == ("Renamed", "urgent", ["ui"])
    assert updated["updated_at"] > ticket["updated_at"]


def test_update_ignores_empty_strings(client: httpx.Client) -> None:
    ticket = new_ticket(client)
    updated = client.put(f"/tickets/{ticket['slug']}", json={"title": "", "status": ""}).json()["ticket"]
    assert (updated["title"], updated["status"]) == (ticket["title"], ticket["status"])


def test_update_null_assignee_unassigns(client: httpx.Client) -> None:
    ticket = new_ticket(client, assignee_id=2)
    updated = client.put(f"/tickets/{ticket['slug']}", json={"assignee_id": None}).json()["ticket"]
    assert updated["assignee_id"] is None


def test_update_unknown_ticket_is_404(client: httpx.Client) -> None:
    response = client.put("/tickets/AM-99999", json={"title": "x"})
    assert response.json() == {"error": "Ticket not found", "code": "RESOURCE_NOT_FOUND"}


def test_update_rejects_invalid_status(client: httpx.Client) -> None:
    response = client.put("/tickets/AM-1", json={"status": "closed"})
    assert response.status_code == 400
    assert response.json()["error"] == validation_message("UpdateTicketRequest", "Status", "oneof")


def test_patch_status_answers_message_and_moves_ticket(client: httpx.Client) -> None:
    ticket = new_ticket(client)
    response = client.patch(f"/tickets/{ticket['slug']}/status", json={"status": "in_review"})
    assert response.json() == {"message": "Status updated"}
    assert client.get(f"/tickets/{ticket['slug']}").json()["ticket"]["status"] == "in_review"


def test_patch_status_requires_status(client: httpx.Client) -> None:
    response = client.patch("/tickets/AM-1/status", json={})
    assert response.json() == {"code": "VALIDATION_FAILED", "error": validation_message(
        "UpdateTicketStatusRequest", "Status", "required")}


def test_delete_answers_message_then_ticket_is_gone(client: httpx.Client) -> None:
    ticket = new_ticket(client)
    assert client.delete(f"/tickets/{ticket['slug']}").json() == {"message": "Ticket deleted"}
    assert client.get(f"/tickets/{ticket['slug']}").status_code == 404


def test_delete_unknown_ticket_is_404(client: httpx.Client) -> None:
    assert client.delete("/tickets/AM-99999").status_code == 404


def test_deleting_a_parent_detaches_children(client: httpx.Client) -> None:
    parent = new_ticket(client, type="epic")
    child = new_ticket(client, type="subtask", parent_slug=parent["slug"])
    client.delete(f"/tickets/{parent['slug']}")
    assert client.get(f"/tickets/{child['slug']}").json()["ticket"]["parent_slug"] is None


# -- board, repositories, members, comments --------------------------------------------------------

def test_board_has_one_column_per_status_capped_at_50(client: httpx.Client) -> None:
    columns = client.get("/tickets/board").json()["board"]["columns"]
    assert [c["status"] for c in columns] == list(STATUSES)
    assert all(len(c["tickets"]) == min(c["count"], BOARD_COLUMN_LIMIT) for c in columns)
    assert all(t["status"] == c["status"] for c in columns for t in c["tickets"])


def test_board_filters_by_repository(client: httpx.Client) -> None:
    listed = client.get("/tickets", params={"repository_id": 2, "limit": -1}).json()["tickets"]
    columns = client.get("/tickets/board", params={"repository_id": 2}).json()["board"]["columns"]
    assert {c["status"]: [t["slug"] for t in c["tickets"]] for c in columns} == {
        status: [t["slug"] for t in listed if t["status"] == status] for status in STATUSES}
    assert len(listed) >= 6


def test_repositories_list_and_get(client: httpx.Client) -> None:
    repos = client.get("/repositories").json()["repositories"]
    assert [r["ticket_prefix"] for r in repos] == ["AM", "WEB", "OPS"]
    assert client.get("/repositories/2").json()["repository"]["name"] == "web-dashboard"


def test_unknown_repository_is_404(client: httpx.Client) -> None:
    response = client.get("/repositories/99")
    assert response.json() == {"error": "Repository not found", "code": "RESOURCE_NOT_FOUND"}


def test_members_list_org_users(client: httpx.Client) -> None:
    members = client.get("/members").json()["members"]
    assert len(members) >= 10 and {"id", "username", "name", "email", "role"} <= set(members[0])


def test_some_tickets_have_comments(client: httpx.Client) -> None:
    slugs = [f"AM-{n}" for n in range(1, 31)]  # seeded ones: the newest may be other tests' tickets
    totals = [client.get(f"/tickets/{slug}/comments").json()["total"] for slug in slugs]
    assert any(totals) and not all(totals)


# -- fault injection -------------------------------------------------------------------------------

def test_requests_are_recorded_with_headers(client: httpx.Client, control: httpx.Client) -> None:
    control.delete("/__sim/requests")
    client.get("/tickets", params={"status": "todo"})
    recorded = control.get("/__sim/requests").json()
    assert recorded[-1]["query"] == [["status", "todo"]]
    assert recorded[-1]["headers"]["x-api-key"] == DEFAULT_API_KEY
