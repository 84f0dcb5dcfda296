"""GitLab through the gateway against its simulator: what clients get and what GitLab receives.

Paging, filter and sort tests read acme/platform (project 42, 260 issues, never written here);
writes go to acme/web (43), where the connection's user (alice) is an Owner.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from unigate.testing import ConnectorUnderTest, Simulator, connector_fixtures, error_of, walk_pages
from unigate_connectors.gitlab.simulator import DEVELOPER_TOKEN, OWNER_TOKEN, State

PLATFORM, WEB = "42", "43"
TICKETS = f"/issue-tracking/collections/{PLATFORM}/tickets"
WEB_TICKETS = f"/issue-tracking/collections/{WEB}/tickets"

tracker, sim, harness, client = connector_fixtures("gitlab")


@pytest.fixture(scope="module")
def state(sim: Simulator) -> State:
    state: State = sim.app.app.app.state.simulator
    return state


@pytest.fixture
def developer(tracker: ConnectorUnderTest) -> Iterator[httpx.Client]:
    tracker.harness.connect_consumer("gitlab", "developer", {"base_url": tracker.url},
                                     {"access_token": DEVELOPER_TOKEN})
    with tracker.harness.client(consumer_id="developer") as c:
        yield c


def gitlab(sim: Simulator, path: str, **params: Any) -> httpx.Response:
    """What GitLab itself answers (ground truth), bypassing the gateway."""
    response = httpx.get(f"{sim.url}/api/v4{path}", params=params, headers={"PRIVATE-TOKEN": OWNER_TOKEN})
    assert response.status_code == 200, response.text
    return response


def iids(sim: Simulator, project: str, **params: Any) -> list[str]:
    found: list[dict[str, Any]] = []
    page = "1"
    while page:
        response = gitlab(sim, f"/projects/{project}/issues", per_page=100, page=page, **params)
        found += response.json()
        page = response.headers.get("x-next-page", "")
    return [str(i["iid"]) for i in found]


def new_ticket(client: httpx.Client, **fields: Any) -> str:
    response = client.post(WEB_TICKETS, json={"subject": "Connector test", **fields})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def sent(sim: Simulator, method: str) -> list[dict[str, Any]]:
    return [r for r in sim.requests() if r["method"] == method]


# -- collections --------------------------------------------------------------------------------
def test_collections_are_the_users_projects_by_numeric_id(client: httpx.Client) -> None:
    data = client.get("/issue-tracking/collections", params={"limit": 50}).json()["data"]
    assert {c["id"]: c["name"] for c in data} == {"42": "acme/platform", "43": "acme/web", "44": "alice/sandbox"}


def test_a_collection_by_id_and_a_project_out_of_reach(client: httpx.Client) -> None:
    assert client.get("/issue-tracking/collections/42").json()["data"]["name"] == "acme/platform"
    assert error_of(client.get("/issue-tracking/collections/45")) == (404, "EntityNotFoundError")
    assert error_of(client.get("/issue-tracking/collections/acme~web/tickets")) == (404, "EntityNotFoundError")


# -- tickets: paging ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def all_iids(sim: Simulator) -> list[str]:
    return iids(sim, PLATFORM)


@pytest.mark.parametrize("limit", [1, 7, 20, 100, 200])
def test_paging_yields_every_issue_once_in_order(client: httpx.Client, all_iids: list[str], limit: int) -> None:
    ids, ended = walk_pages(client, TICKETS, limit, max_pages=300)
    assert ended and ids == all_iids and len(ids) == len(set(ids)) == 260


def test_the_total_is_gitlabs_x_total(client: httpx.Client) -> None:
    assert client.get(TICKETS, params={"limit": 5}).json()["meta"]["total_count"] == 260


def test_past_gitlabs_count_limit_paging_ends_by_x_next_page_without_totals(
        client: httpx.Client, state: State, all_iids: list[str]) -> None:
    state.count_limit = 100     # GitLab omits x-total above 10,000 rows; the simulator above 100 here
    try:
        ids, ended = walk_pages(client, TICKETS, 100)
        meta = client.get(TICKETS, params={"limit": 5}).json()["meta"]
    finally:
        state.count_limit = 10_000
    assert ended and ids == all_iids
    assert "total_count" not in meta or meta["total_count"] is None


def test_paging_sends_page_and_per_page(client: httpx.Client, sim: Simulator) -> None:
    client.get(TICKETS, params={"limit": 20})
    (request,) = sent(sim, "GET")
    assert {("per_page", "20"), ("page", "1")} <= {tuple(p) for p in request["query"]}


# -- tickets: filters and sorts -----------------------------------------------------------------
def test_status_filter_closed_is_gitlabs_state(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"filter[status]": "closed", "limit": 200}).json()["data"]
    assert [t["id"] for t in data] == iids(sim, PLATFORM, state="closed")[:200]


def test_status_filters_open_and_in_progress_split_gitlabs_opened_state_by_the_label(
        client: httpx.Client, sim: Simulator) -> None:
    in_progress = client.get(TICKETS, params={"filter[status]": "in_progress", "limit": 200}).json()
    opened = client.get(TICKETS, params={"filter[status]": "open", "limit": 200}).json()
    assert {t["status"] for t in in_progress["data"]} == {"in_progress"}
    assert {t["status"] for t in opened["data"]} == {"open"} and "total_count" not in opened["meta"]
    assert [t["id"] for t in in_progress["data"]] == iids(sim, PLATFORM, state="opened", labels="workflow::in progress")
    assert sorted([t["id"] for t in in_progress["data"] + opened["data"]], key=int) == sorted(
        iids(sim, PLATFORM, state="opened"), key=int)


def test_since_and_assignee_filters(client: httpx.Client, sim: Simulator) -> None:
    since = "2025-03-01T00:00:00Z"
    data = client.get(TICKETS, params={"filter[since]": since, "filter[assignee_id]": "3", "limit": 200}).json()
    assert [t["id"] for t in data["data"]] == iids(sim, PLATFORM, updated_after=since, assignee_id="3")


def test_sort_by_updated_at_ascending(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"sort[by]": "updated_at", "sort[direction]": "asc", "limit": 30}).json()
    assert [t["id"] for t in data["data"]] == iids(sim, PLATFORM, order_by="updated_at", sort="asc")[:30]


# -- tickets: reads and writes -----------------------------------------------------------------
def test_a_ticket_is_an_issue_by_iid(client: httpx.Client, sim: Simulator, all_iids: list[str]) -> None:
    issue = gitlab(sim, f"/projects/{PLATFORM}/issues/{all_iids[0]}").json()
    ticket = client.get(f"{TICKETS}/{all_iids[0]}").json()["data"]
    assert (ticket["id"], ticket["subject"], ticket["type"]) == (str(issue["iid"]), issue["title"], issue["issue_type"])
    assert ticket["collection_id"] == PLATFORM


def test_create_with_due_date_assignees_priority_tags_and_in_progress(client: httpx.Client, sim: Simulator) -> None:
    iid = new_ticket(client, description="Steps", due_date="2027-01-31", assignees=[{"id": "3"}], priority="high",
                     status="in_progress", tags=[{"id": "bug"}])
    (post,) = sent(sim, "POST")
    assert post["body"]["assignee_ids"] == [3] and post["body"]["due_date"] == "2027-01-31"
    assert post["body"]["labels"].split(",") == ["bug", "workflow::in progress", "priority::high"]
    ticket = client.get(f"{WEB_TICKETS}/{iid}").json()["data"]
    assert (ticket["status"], ticket["priority"], ticket["tags"]) == ("in_progress", "high",
                                                                      [{"id": "bug", "name": "bug"}])
    assert ticket["due_date"].startswith("2027-01-31")


def test_a_ticket_created_closed_is_closed_by_a_second_call(client: httpx.Client, sim: Simulator) -> None:
    iid = new_ticket(client, status="closed")
    assert [r["method"] for r in sim.requests() if r["method"] != "GET"] == ["POST", "PUT"]
    assert sent(sim, "PUT")[0]["body"] == {"state_event": "close"}
    assert client.get(f"{WEB_TICKETS}/{iid}").json()["data"]["status"] == "closed"


def test_status_is_state_event_and_the_in_progress_label(client: httpx.Client, sim: Simulator) -> None:
    iid = new_ticket(client, status="in_progress", tags=[{"id": "bug"}])
    sim.clear()
    client.patch(f"{WEB_TICKETS}/{iid}", json={"status": "closed"})
    (put,) = sent(sim, "PUT")
    assert put["body"] == {"state_event": "close", "remove_labels": "workflow::in progress"}
    ticket = client.get(f"{WEB_TICKETS}/{iid}").json()["data"]
    assert (ticket["status"], ticket["tags"]) == ("closed", [{"id": "bug", "name": "bug"}])
    client.patch(f"{WEB_TICKETS}/{iid}", json={"status": "open"})
    assert client.get(f"{WEB_TICKETS}/{iid}").json()["data"]["status"] == "open"


def test_priority_is_a_scoped_label_replacing_the_last(client: httpx.Client, sim: Simulator) -> None:
    iid = new_ticket(client, priority="low", tags=[{"id": "feature"}])
    client.patch(f"{WEB_TICKETS}/{iid}", json={"priority": "urgent"})
    ticket = client.get(f"{WEB_TICKETS}/{iid}").json()["data"]
    assert (ticket["priority"], ticket["tags"]) == ("urgent", [{"id": "feature", "name": "feature"}])


def test_label_conventions_are_the_connections_settings(tracker: ConnectorUnderTest, sim: Simulator) -> None:
    tracker.connect("own-labels", settings={"in_progress_label": "status::doing", "priority_label_high": "P::1"})
    with tracker.client("own-labels") as c:
        iid = new_ticket(c, priority="high", status="in_progress", tags=[{"id": "bug"}])
        assert sent(sim, "POST")[-1]["body"]["labels"].split(",") == ["bug", "status::doing", "P::1"]
        ticket = c.get(f"{WEB_TICKETS}/{iid}").json()["data"]
        assert (ticket["status"], ticket["priority"], ticket["tags"]) == ("in_progress", "high",
                                                                          [{"id": "bug", "name": "bug"}])
        c.patch(f"{WEB_TICKETS}/{iid}", json={"status": "open"})
        assert sent(sim, "PUT")[-1]["body"]["remove_labels"] == "status::doing"
        c.get(WEB_TICKETS, params={"filter[status]": "in_progress"})
    assert ("labels", "status::doing") in {tuple(p) for p in sent(sim, "GET")[-1]["query"]}


def test_a_convention_label_with_a_comma_is_refused_by_the_vault(tracker: ConnectorUnderTest) -> None:
    with tracker.harness.client(consumer_id="vault-settings") as vault:
        refused = vault.patch("/vault/connections/issue-tracking/gitlab",
                              json={"settings": {"priority_label_low": "low,ish"}})
    assert (refused.status_code, refused.json()["type_name"]) == (400, "RequestValidationError"), refused.text


def test_custom_mappings_read_and_write_back(tracker: ConnectorUnderTest, sim: Simulator) -> None:
    tracker.connect("mapped", custom_mappings={"confidential": "$.confidential"})
    with tracker.client("mapped") as c:
        iid = new_ticket(c, custom_mappings={"confidential": True})
        assert sent(sim, "POST")[-1]["body"]["confidential"] is True
        c.patch(f"{WEB_TICKETS}/{iid}", json={"custom_mappings": {"confidential": False}})
        assert sent(sim, "PUT")[-1]["body"] == {"confidential": False}
        assert c.get(f"{WEB_TICKETS}/{iid}").json()["data"]["custom_mappings"] == {"confidential": False}


def test_writing_tags_keeps_the_convention_labels(client: httpx.Client, sim: Simulator) -> None:
    iid = new_ticket(client, priority="high", status="in_progress", tags=[{"id": "bug"}])
    client.patch(f"{WEB_TICKETS}/{iid}", json={"tags": [{"id": "documentation"}]})
    ticket = client.get(f"{WEB_TICKETS}/{iid}").json()["data"]
    assert (ticket["priority"], ticket["status"]) == ("high", "in_progress")
    assert ticket["tags"] == [{"id": "documentation", "name": "documentation"}]


def test_delete_by_an_owner(client: httpx.Client) -> None:
    iid = new_ticket(client)
    assert client.delete(f"{WEB_TICKETS}/{iid}").status_code == 200
    assert error_of(client.get(f"{WEB_TICKETS}/{iid}")) == (404, "EntityNotFoundError")


def test_delete_by_a_developer_is_a_typed_403(client: httpx.Client, developer: httpx.Client) -> None:
    iid = new_ticket(client)
    response = developer.delete(f"{WEB_TICKETS}/{iid}")
    assert response.status_code == 403
    assert response.json()["type_name"] == "ConnectorExecutionError"
    assert response.json()["downstream_errors"]


def test_a_blank_title_is_refused_and_gitlabs_validation_errors_pass_on(client: httpx.Client) -> None:
    assert error_of(client.post(WEB_TICKETS, json={"subject": " "}))[0] == 400


# -- comments -----------------------------------------------------------------------------------
def test_comments_are_notes_without_system_notes(client: httpx.Client, sim: Simulator, all_iids: list[str]) -> None:
    for iid in all_iids[:40]:
        notes = gitlab(sim, f"/projects/{PLATFORM}/issues/{iid}/notes", per_page=100, sort="asc").json()
        if any(n["system"] for n in notes) and any(not n["system"] for n in notes):
            break
    ids, ended = walk_pages(client, f"{TICKETS}/{iid}/comments", 1)
    assert ended and ids == [str(n["id"]) for n in notes if not n["system"]]
    system = next(n for n in notes if n["system"])
    assert error_of(client.get(f"{TICKETS}/{iid}/comments/{system['id']}")) == (404, "EntityNotFoundError")


def test_comments_round_trip(client: httpx.Client) -> None:
    iid = new_ticket(client)
    comments = f"{WEB_TICKETS}/{iid}/comments"
    created = client.post(comments, json={"body": "First"})
    assert created.status_code == 201, created.text
    cid = created.json()["data"]["id"]
    client.patch(f"{comments}/{cid}", json={"body": "Edited"})
    assert client.get(f"{comments}/{cid}").json()["data"]["body"] == "Edited"
    assert client.delete(f"{comments}/{cid}").status_code == 200
    assert client.get(comments).json()["data"] == []


# -- users and tags -----------------------------------------------------------------------------
def test_users_are_the_project_members_inherited_included(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(f"/issue-tracking/collections/{PLATFORM}/users", params={"limit": 50}).json()["data"]
    members = gitlab(sim, f"/projects/{PLATFORM}/members/all", per_page=100).json()
    assert [u["id"] for u in data] == [str(m["id"]) for m in members]
    one = client.get(f"/issue-tracking/collections/{PLATFORM}/users/{members[0]['id']}").json()["data"]
    assert one["name"] == members[0]["name"]


def test_tags_are_labels_whose_ids_are_names(client: httpx.Client) -> None:
    data = client.get(f"/issue-tracking/collections/{PLATFORM}/tags", params={"limit": 50}).json()["data"]
    assert {"id": "bug", "name": "bug"} in data and all(t["id"] == t["name"] for t in data)


# -- faults -------------------------------------------------------------------------------------
def test_a_bad_token_is_a_401(tracker: ConnectorUnderTest) -> None:
    tracker.harness.connect_consumer("gitlab", "bad-token", {"base_url": tracker.url}, {"access_token": "nope"})
    with tracker.harness.client(consumer_id="bad-token") as c:
        assert error_of(c.get(TICKETS)) == (401, "ConnectorCredentialsError")


def test_gitlab_server_takes_the_instances_url(tracker: ConnectorUnderTest) -> None:
    tracker.harness.connect_consumer("gitlab-server", "self-managed", {"base_url": tracker.url},
                                     {"access_token": OWNER_TOKEN})
    with tracker.harness.client(consumer_id="self-managed") as c:
        response = c.get(TICKETS, headers={"x-apideck-service-id": "gitlab-server"}, params={"limit": 3})
    assert response.status_code == 200 and len(response.json()["data"]) == 3


# -- rate limits --------------------------------------------------------------------------------
def test_gitlabs_ratelimit_headers_are_the_downstream_ratelimit_headers(client: httpx.Client) -> None:
    response = client.get(TICKETS, params={"limit": 1})
    assert response.headers["x-downstream-ratelimit-limit"] == "2000"
    assert int(response.headers["x-downstream-ratelimit-remaining"]) < 2000
    assert int(response.headers["x-downstream-ratelimit-reset"]) > 1_700_000_000


@pytest.mark.parametrize("retry_after", [True, False])
def test_the_throttle_is_a_rate_limit_error_with_the_wait(client: httpx.Client, state: State,
                                                          retry_after: bool) -> None:
    saved = state.limits.limit, state.limits.retry_after
    state.limits.limit, state.limits.retry_after = 0, retry_after
    try:
        response = client.get(TICKETS, params={"limit": 1})
    finally:
        state.limits.limit, state.limits.retry_after = saved
    assert error_of(response) == (429, "ConnectorRateLimitError")
    assert 0 < int(response.headers["retry-after"]) <= 60   # without Retry-After: until RateLimit-Reset


def test_the_issue_creation_limit_is_a_rate_limit_error(client: httpx.Client, state: State) -> None:
    saved, state.limits.creates = state.limits.creates, 0
    try:
        response = client.post(WEB_TICKETS, json={"subject": "Too many"})
    finally:
        state.limits.creates = saved
    assert error_of(response) == (429, "ConnectorRateLimitError")
    assert response.headers["retry-after"] == "60"
    assert "too many times" in response.json()["downstream_errors"][0]["message"]


@pytest.mark.parametrize("field", ["created_at", "updated_at"])
def test_collections_sort_is_gitlabs(client: httpx.Client, sim: Simulator, field: str) -> None:
    data = client.get("/issue-tracking/collections", params={"sort[by]": field, "sort[direction]": "asc"}).json()
    order_by = {"created_at": "created_at", "updated_at": "last_activity_at"}[field]
    projects = gitlab(sim, "/projects", membership="true", order_by=order_by, sort="asc").json()
    assert [c["id"] for c in data["data"]] == [str(p["id"]) for p in projects]
