"""jira-api-token through the gateway against the Jira simulator: what clients get and what Jira
receives. Every exchange the connector makes is held to Atlassian's OpenAPI description (SpecCheck).

Paging, filter and sort tests read project ENG (260 issues, never written here); writes go to OPS
and LEGAL.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from unigate.testing import ConnectorUnderTest, Simulator, SpecCheck, VendorSpec, connector_fixtures, error_of, walk_pages
from unigate_connectors.jira.simulator import API_EMAIL, API_TOKEN, create_app

SPEC = Path(__file__).parent.parent / "spec" / "swagger-v3.subset.json"
ERRORS = "#/components/schemas/ErrorCollection"
BASIC = {"Authorization": "Basic " + base64.b64encode(f"{API_EMAIL}:{API_TOKEN}".encode()).decode()}
ENG = "/issue-tracking/collections/ENG/tickets"
OPS = "/issue-tracking/collections/OPS/tickets"
LEGAL = "/issue-tracking/collections/LEGAL/tickets"

tracker, sim, harness, client = connector_fixtures("jira-api-token", consumers={"custom": {"custom_mappings": {
    "points": "$.custom['Story Points']", "customer": "$.custom.Customer", "severity": "$.custom.Severity",
    "root_cause": "$.custom['Root cause']"}}})


@pytest.fixture(scope="module")
def checked(sim: Simulator) -> SpecCheck:
    return SpecCheck.inside(sim.app, VendorSpec.load(SPEC, undeclared={401: ERRORS, 404: ERRORS, 429: ERRORS}),
                            skip=("/__sim",))


@pytest.fixture(autouse=True)
def spec_clean(checked: SpecCheck) -> Iterator[None]:
    yield
    checked.assert_clean()   # every exchange of the test matched Atlassian's description


@pytest.fixture
def custom_client(tracker: ConnectorUnderTest) -> Iterator[httpx.Client]:
    with tracker.client("custom") as c:
        yield c


def jira(sim: Simulator, path: str, **params: Any) -> Any:
    """What Jira itself answers (ground truth), bypassing the gateway."""
    return httpx.get(f"{sim.url}/rest/api/3{path}", params=params, headers=BASIC).json()


def sent(sim: Simulator, path: str) -> list[dict[str, Any]]:
    return [r for r in sim.requests() if r["path"] == f"/rest/api/3{path}"]


def jql_sent(sim: Simulator) -> list[str]:
    return [dict(r["query"])["jql"] for r in sent(sim, "/search/jql")]


def new_ticket(client: httpx.Client, tickets: str = OPS, **fields: Any) -> str:
    response = client.post(tickets, json={"subject": "Connector test", **fields})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


@pytest.fixture(scope="module")
def eng_ids(sim: Simulator) -> list[str]:
    found = jira(sim, "/search/jql", jql="project = ENG ORDER BY created DESC, key DESC", maxResults=5000)
    return [issue["id"] for issue in found["issues"]]


# -- paging, filters, sorts (JQL) ---------------------------------------------------------------------
@pytest.mark.parametrize("limit", [7, 50, 100, 200])
def test_paging_yields_every_issue_once_newest_first(client: httpx.Client, eng_ids: list[str], limit: int) -> None:
    ids, ended = walk_pages(client, ENG, limit)
    assert ended and ids == eng_ids and len(set(ids)) == 260


def test_lists_use_the_enhanced_search_with_page_tokens(client: httpx.Client, sim: Simulator) -> None:
    walk_pages(client, ENG, 100)
    searches = [r for r in sim.requests() if "/search" in r["path"]]
    assert {r["path"] for r in searches} == {"/rest/api/3/search/jql"}   # never the deprecated /search
    assert [("nextPageToken" in str(r)) for r in searches] == [False, True, True]


def test_status_filter_is_a_status_category_clause(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(ENG, params={"filter[status]": "closed", "limit": 100}).json()["data"]
    assert data and {t["status"] for t in data} == {"closed"}
    assert all(t["completed_at"] for t in data)
    assert 'statusCategory in ("done")' in jql_sent(sim)[0]


def test_a_hostile_filter_value_stays_one_quoted_value(client: httpx.Client, sim: Simulator) -> None:
    hostile = 'x" OR project = OPS ORDER BY key'
    response = client.get(ENG, params={"filter[assignee_id]": hostile})
    # Jira reads the whole text as one user (none such), not as a clause and an order
    assert response.status_code == 400 and "does not exist for the field 'assignee'" in response.text
    assert jql_sent(sim) == ['project = "ENG" AND assignee = "x\\" OR project = OPS ORDER BY key" '
                             'ORDER BY created DESC, key DESC']


def test_since_is_read_in_the_api_users_time_zone(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(ENG, params={"filter[since]": "2025-01-06T09:30:00Z", "limit": 200}).json()["data"]
    assert data and all(t["updated_at"] >= "2025-01-06T09:30:00" for t in data)
    assert 'updated >= "2025-01-06 10:30"' in jql_sent(sim)[0]   # Europe/Berlin, the API user's zone


def test_sort_by_updated_ascending(client: httpx.Client) -> None:
    data = client.get(ENG, params={"sort[by]": "updated_at", "sort[direction]": "asc", "limit": 50}).json()["data"]
    stamps = [t["updated_at"] for t in data]
    assert stamps == sorted(stamps)


def test_an_undeclared_filter_is_refused(client: httpx.Client) -> None:
    assert error_of(client.get(ENG, params={"filter[priority]": "high"})) == (400, "UnsupportedFiltersError")


# -- tickets --------------------------------------------------------------------------------------
def test_create_reads_back_with_html_description_stored_as_adf(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(client, description="<p>Steps: <strong>log in</strong></p><ul><li>one</li></ul>",
                           priority="high", type="bug", tags=[{"id": "api"}], due_date="2026-03-01")
    ticket = client.get(f"{OPS}/{ticket_id}").json()["data"]
    assert ticket["description"] == "<p>Steps: <strong>log in</strong></p><ul><li><p>one</p></li></ul>"
    assert (ticket["priority"], ticket["type"], ticket["status"]) == ("high", "bug", "open")
    assert [t["id"] for t in ticket["tags"]] == ["api"] and ticket["due_date"].startswith("2026-03-01")
    stored = jira(sim, f"/issue/{ticket_id}", fields="description")["fields"]["description"]
    assert stored["type"] == "doc" and stored["content"][0]["content"][1]["marks"] == [{"type": "strong"}]


def test_plain_text_becomes_adf_paragraphs(client: httpx.Client) -> None:
    ticket_id = new_ticket(client, description="first line\n\nsecond")
    assert client.get(f"{OPS}/{ticket_id}").json()["data"]["description"] == "<p>first line</p><p>second</p>"


def test_a_status_write_moves_through_transitions(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(client)
    for status in ("in_progress", "closed", "open"):
        assert client.patch(f"{OPS}/{ticket_id}", json={"status": status}).status_code == 200
        ticket = client.get(f"{OPS}/{ticket_id}").json()["data"]
        assert ticket["status"] == status
    assert [r["method"] for r in sim.requests() if r["path"].endswith("/transitions")].count("POST") == 3
    assert not [r for r in sim.requests() if r["method"] == "PUT"]   # a status change alone makes no edit


def test_a_create_in_a_status_transitions_after_creating(client: httpx.Client) -> None:
    ticket = client.get(f"{OPS}/{new_ticket(client, status='closed')}").json()["data"]
    assert ticket["status"] == "closed" and ticket["completed_at"]


def test_a_status_the_workflow_cannot_reach_names_the_available_transitions(client: httpx.Client) -> None:
    ticket_id = new_ticket(client, LEGAL)
    response = client.patch(f"{LEGAL}/{ticket_id}", json={"status": "in_progress"})
    assert error_of(response) == (400, "RequestValidationError")
    assert "Approve -> Approved (done)" in response.text


def test_a_status_already_reached_makes_no_transition(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(client)
    sim.clear()
    assert client.patch(f"{OPS}/{ticket_id}", json={"status": "open"}).status_code == 200
    assert not [r for r in sim.requests() if r["path"].endswith("/transitions")]


def test_assignee_by_account_id_and_unassign(client: httpx.Client) -> None:
    users = client.get("/issue-tracking/collections/OPS/users").json()["data"]
    ticket_id = new_ticket(client, assignees=[{"id": users[1]["id"]}])
    assert [a["id"] for a in client.get(f"{OPS}/{ticket_id}").json()["data"]["assignees"]] == [users[1]["id"]]
    assert client.patch(f"{OPS}/{ticket_id}", json={"assignees": None}).status_code == 200
    assert client.get(f"{OPS}/{ticket_id}").json()["data"]["assignees"] == []


def test_a_priority_outside_the_projects_scheme_is_jiras_400(client: httpx.Client) -> None:
    response = client.post(LEGAL, json={"subject": "x", "priority": "low"})
    assert response.status_code == 400
    assert "Valid priorities for this project: High, Medium" in str(response.json()["downstream_errors"])


def test_an_issue_of_another_project_is_not_found(client: httpx.Client) -> None:
    ticket_id = new_ticket(client)
    assert error_of(client.get(f"{LEGAL}/{ticket_id}")) == (404, "EntityNotFoundError")
    assert error_of(client.delete(f"{LEGAL}/{ticket_id}")) == (404, "EntityNotFoundError")


UNKNOWN = "/issue-tracking/collections/NOPE/tickets"


def test_an_unknown_project_is_not_found_when_listing(client: httpx.Client) -> None:
    response = client.get(UNKNOWN)   # Jira: 400 "The value 'NOPE' does not exist for the field 'project'."
    assert error_of(response) == (404, "EntityNotFoundError")
    assert response.json()["downstream_errors"] == [{"message": "No project could be found with key 'NOPE'."}]


def test_an_unknown_project_is_not_found_when_creating(client: httpx.Client, sim: Simulator) -> None:
    response = client.post(UNKNOWN, json={"subject": "x"})   # Jira: 400 "Specify a valid project ID or key"
    assert error_of(response) == (404, "EntityNotFoundError")
    assert "No project could be found with key 'NOPE'." in str(response.json()["downstream_errors"])
    assert [r["method"] for r in sent(sim, "/issue")] == ["POST"]   # refused: nothing was created


def test_an_issue_through_an_unknown_project_is_not_found(client: httpx.Client, eng_ids: list[str]) -> None:
    assert error_of(client.get(f"{UNKNOWN}/{eng_ids[0]}")) == (404, "EntityNotFoundError")


def test_delete(client: httpx.Client) -> None:
    ticket_id = new_ticket(client)
    assert client.delete(f"{OPS}/{ticket_id}").status_code == 200
    assert error_of(client.get(f"{OPS}/{ticket_id}")) == (404, "EntityNotFoundError")


def test_parent_id_reads_and_writes(client: httpx.Client) -> None:
    parent = new_ticket(client)
    child = new_ticket(client, parent_id=parent)
    assert client.get(f"{OPS}/{child}").json()["data"]["parent_id"] == parent


def test_a_null_parent_id_removes_the_parent_through_update_set_none(client: httpx.Client, sim: Simulator) -> None:
    child = new_ticket(client, parent_id=new_ticket(client))
    assert client.patch(f"{OPS}/{child}", json={"parent_id": None}).status_code == 200
    assert client.get(f"{OPS}/{child}").json()["data"]["parent_id"] is None
    [edit] = [r for r in sent(sim, f"/issue/{child}") if r["method"] == "PUT"]
    assert edit["body"]["update"] == {"parent": [{"set": {"none": True}}]} and "parent" not in edit["body"]["fields"]


def test_a_subtasks_parent_cannot_be_removed(client: httpx.Client) -> None:
    parent = new_ticket(client, ENG)   # ENG has subtasks; its 260 issues are left as found
    subtask = new_ticket(client, ENG, parent_id=parent, type="subtask")
    try:
        response = client.patch(f"{ENG}/{subtask}", json={"parent_id": None})
        assert error_of(response) == (400, "ConnectorExecutionError")
        assert "cannot be removed" in str(response.json()["downstream_errors"])
        assert client.get(f"{ENG}/{subtask}").json()["data"]["parent_id"] == parent
    finally:
        assert [client.delete(f"{ENG}/{i}").status_code for i in (subtask, parent)] == [200, 200]


# -- custom fields by name --------------------------------------------------------------------------
def test_custom_fields_are_read_and_written_by_name(custom_client: httpx.Client, sim: Simulator) -> None:
    ticket_id = new_ticket(custom_client, custom_mappings={
        "points": 5, "customer": "ACME", "severity": "Major", "root_cause": "<p>a <em>race</em></p>"})
    read = custom_client.get(f"{OPS}/{ticket_id}").json()["data"]["custom_mappings"]
    assert read == {"points": 5.0, "customer": "ACME", "severity": "Major", "root_cause": "<p>a <em>race</em></p>"}
    stored = jira(sim, f"/issue/{ticket_id}")["fields"]
    assert stored["customfield_10043"]["value"] == "Major" and stored["customfield_10044"]["type"] == "doc"


def test_an_unknown_custom_field_name_is_refused(tracker: ConnectorUnderTest) -> None:
    tracker.connect("typo", custom_mappings={"x": "$.custom['Story Pints']"})
    with tracker.client("typo") as typo:
        response = typo.post(OPS, json={"subject": "x", "custom_mappings": {"x": 1}})
    assert error_of(response) == (400, "RequestValidationError") and "Story Points" in response.text


# -- comments, users, tags, collections ------------------------------------------------------------
def test_comment_lifecycle_in_html(client: httpx.Client) -> None:
    ticket_id = new_ticket(client)
    comments = f"{OPS}/{ticket_id}/comments"
    comment_id = client.post(comments, json={"body": "<p>Seen <code>500</code></p>"}).json()["data"]["id"]
    assert client.get(f"{comments}/{comment_id}").json()["data"]["body"] == "<p>Seen <code>500</code></p>"
    assert client.patch(f"{comments}/{comment_id}", json={"body": "edited"}).status_code == 200
    assert [c["body"] for c in client.get(comments).json()["data"]] == ["<p>edited</p>"]
    assert client.delete(f"{comments}/{comment_id}").status_code == 200
    assert client.get(comments).json()["data"] == []


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_comments_sort_by_creation_both_ways(client: httpx.Client, sim: Simulator, direction: str) -> None:
    comments = f"{OPS}/{new_ticket(client)}/comments"
    made = [client.post(comments, json={"body": f"<p>{n}</p>"}).json()["data"]["id"] for n in range(3)]
    ids, ended = walk_pages(client, comments, 2, params={"sort[by]": "created_at", "sort[direction]": direction})
    assert ended and ids == (made if direction == "asc" else made[::-1])
    listed = [dict(r["query"]) for r in sim.requests() if r["method"] == "GET" and r["path"].endswith("/comment")]
    assert listed[-1].get("orderBy") == {"asc": None, "desc": "-created"}[direction]   # asc: Jira's own order


@pytest.mark.parametrize(("direction", "names"), [("asc", ["Customer Operations", "Engineering", "Legal Approvals"]),
                                                  ("desc", ["Legal Approvals", "Engineering", "Customer Operations"])])
def test_collections_sort_by_name(client: httpx.Client, direction: str, names: list[str]) -> None:
    data = client.get("/issue-tracking/collections", params={"sort[by]": "name", "sort[direction]": direction}).json()
    assert [c["name"] for c in data["data"]] == names
    refused = client.get("/issue-tracking/collections", params={"sort[by]": "updated_at"})   # projects have no dates
    assert error_of(refused) == (400, "UnsupportedSortFieldError")


def test_users_are_the_projects_assignable_users(client: httpx.Client, sim: Simulator) -> None:
    users = client.get("/issue-tracking/collections/OPS/users").json()["data"]
    assert [u["id"] for u in users] == [u["accountId"] for u in jira(sim, "/user/assignable/search", project="OPS")]
    assert client.get(f"/issue-tracking/collections/OPS/users/{users[0]['id']}").json()["data"] == users[0]


def test_tags_are_labels(client: httpx.Client) -> None:
    tags = client.get("/issue-tracking/collections/ENG/tags").json()["data"]
    assert {"backend", "security"} <= {t["id"] for t in tags} and all(t["id"] == t["name"] for t in tags)


def test_collections_are_projects(client: httpx.Client) -> None:
    collections = client.get("/issue-tracking/collections").json()["data"]
    assert [c["id"] for c in collections] == ["ENG", "LEGAL", "OPS"]   # by key
    assert client.get("/issue-tracking/collections/OPS").json()["data"]["name"] == "Customer Operations"


# -- the transition table: every category each workflow has is reachable from a new issue ------------
@pytest.mark.parametrize(("project", "status", "reachable"), [
    ("ENG", "in_progress", True), ("ENG", "closed", True), ("ENG", "open", True),
    ("OPS", "in_progress", True), ("OPS", "closed", True), ("OPS", "open", True),
    ("LEGAL", "in_progress", False), ("LEGAL", "closed", True), ("LEGAL", "open", True)])
def test_transition_table(client: httpx.Client, project: str, status: str, reachable: bool) -> None:
    tickets = f"/issue-tracking/collections/{project}/tickets"
    ticket_id = new_ticket(client, tickets)
    try:   # ENG's 260 issues are what the paging tests read: leave it as found
        response = client.patch(f"{tickets}/{ticket_id}", json={"status": status})
        if reachable:
            assert response.status_code == 200, response.text
            assert client.get(f"{tickets}/{ticket_id}").json()["data"]["status"] == status
        else:
            assert error_of(response) == (400, "RequestValidationError")
            assert response.json()["detail"]["available_transitions"] == ["Approve -> Approved (done)"]
    finally:
        assert client.delete(f"{tickets}/{ticket_id}").status_code == 200


# -- rate limits: the tracker's headers on errors too ------------------------------------------------
def test_rate_limit_headers_are_passed_on_with_errors(tracker: ConnectorUnderTest) -> None:
    throttled = Simulator.start(create_app(issue_count=5, rate_limit=6, rate_window=600))   # a Jira of its own
    try:
        tracker.harness.connect_consumer("jira-api-token", "throttled", {"base_url": throttled.url},
                                         tracker.credentials)
        with tracker.client("throttled") as c:
            answers = [c.get(f"{OPS}/OPS-99999") for _ in range(7)]
    finally:
        throttled.stop()
    statuses = [a.status_code for a in answers]
    assert 404 in statuses and statuses[-1] == 429
    near = [a for a in answers if a.status_code == 404 and "x-downstream-ratelimit-near-limit" in a.headers]
    assert near and near[-1].headers["x-downstream-ratelimit-near-limit"] == "true"   # a 404 near the limit
    refused = answers[-1]
    assert error_of(refused) == (429, "ConnectorRateLimitError") and refused.headers["retry-after"]
    assert (refused.headers["x-downstream-ratelimit-limit"], refused.headers["x-downstream-ratelimit-remaining"]) \
        == ("6", "0")
    assert refused.headers["x-downstream-ratelimit-reset"]
