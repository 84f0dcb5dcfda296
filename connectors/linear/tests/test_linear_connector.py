"""linear through the gateway against the Linear simulator (which executes every document against
Linear's schema with graphql-core): what clients get and what Linear receives.

Paging, filter and sort tests read team ENG (260 issues, never written here); writes go to DES.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from graphql import build_schema, parse, validate

from unigate.testing import ConnectorUnderTest, Simulator, connector_fixtures, error_of, walk_pages
from unigate_connectors.linear.simulator import API_KEY, OAUTH_TOKEN, create_app

FOLDER = Path(__file__).parent.parent
SCHEMA = build_schema((FOLDER / "spec" / "schema.subset.graphql").read_text())

tracker, sim, harness, client = connector_fixtures("linear")


def documents(node: Any) -> Iterator[str]:
    """Every GraphQL document the manifest declares (requests and component steps)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "document" and isinstance(value, str):
                yield value
            else:
                yield from documents(value)
    elif isinstance(node, list):
        for item in node:
            yield from documents(item)


def linear(sim: Simulator, query: str, **variables: Any) -> Any:
    """What Linear itself answers (ground truth), bypassing the gateway."""
    answer = httpx.post(f"{sim.url}/graphql", json={"query": query, "variables": variables},
                        headers={"Authorization": API_KEY}).json()
    assert "errors" not in answer, answer
    return answer["data"]


@pytest.fixture(scope="module")
def teams(sim: Simulator) -> dict[str, str]:
    return {t["key"]: t["id"] for t in linear(sim, "{ teams { nodes { id key } } }")["teams"]["nodes"]}


@pytest.fixture(autouse=True)
def every_document_sent_is_valid(sim: Simulator) -> Iterator[None]:
    yield
    sent = [r["body"]["query"] for r in sim.requests() if r["path"] == "/graphql"]
    assert [(q, validate(SCHEMA, parse(q))) for q in sent if validate(SCHEMA, parse(q))] == []


def tickets(teams: dict[str, str], key: str) -> str:
    return f"/issue-tracking/collections/{teams[key]}/tickets"


@pytest.fixture(scope="module")
def eng_ids(sim: Simulator, teams: dict[str, str]) -> list[str]:
    query = """query($team: ID!, $after: String) { issues(first: 250, after: $after, filter: {team: {id: {eq: $team}}})
               { nodes { id } pageInfo { hasNextPage endCursor } } }"""
    ids: list[str] = []
    after = None
    while True:
        page = linear(sim, query, team=teams["ENG"], after=after)["issues"]
        ids += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


def new_ticket(client: httpx.Client, path: str, **fields: Any) -> str:
    response = client.post(path, json={"subject": "Connector test", **fields})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


# -- the manifest's documents ---------------------------------------------------------------------
def test_every_declared_document_is_valid_against_linears_schema() -> None:
    found = list(documents(yaml.safe_load((FOLDER / "manifest.yaml").read_text())))
    assert len(found) == 17
    assert {d: validate(SCHEMA, parse(d)) for d in found if validate(SCHEMA, parse(d))} == {}


# -- paging, filters, sorts ---------------------------------------------------------------------
@pytest.mark.parametrize("limit", [7, 50, 200])
def test_relay_paging_yields_every_issue_once_in_linears_order(client: httpx.Client, teams: dict[str, str],
                                                               eng_ids: list[str], limit: int) -> None:
    ids, ended = walk_pages(client, tickets(teams, "ENG"), limit)
    assert ended and ids == eng_ids and len(set(ids)) == 260


def test_status_filter_is_state_types(client: httpx.Client, teams: dict[str, str], sim: Simulator) -> None:
    data = client.get(tickets(teams, "ENG"), params={"filter[status]": "closed", "limit": 200}).json()["data"]
    assert data and {t["status"] for t in data} == {"closed"}
    assert sim.requests()[-1]["body"]["variables"]["filter"] == {
        "team": {"id": {"eq": teams["ENG"]}}, "state": {"type": {"in": ["completed", "canceled", "duplicate"]}}}


def test_assignee_and_since_filters(client: httpx.Client, teams: dict[str, str], sim: Simulator) -> None:
    viewer = linear(sim, "{ viewer { id } }")["viewer"]["id"]
    data = client.get(tickets(teams, "ENG"), params={"filter[assignee_id]": viewer, "limit": 200,
                                                     "filter[since]": "2025-02-01T00:00:00Z"}).json()["data"]
    assert data and all(t["assignees"][0]["id"] == viewer and t["updated_at"] >= "2025-02-01" for t in data)


def linear_order(sim: Simulator, team: str, order_by: str) -> list[str]:
    """ENG's issue ids in Linear's own ``orderBy`` order (newest first), read directly."""
    query = """query($team: ID!, $after: String, $order: PaginationOrderBy) { issues(first: 250, after: $after,
               orderBy: $order, filter: {team: {id: {eq: $team}}}) { nodes { id } pageInfo { hasNextPage endCursor } } }"""
    ids: list[str] = []
    after = None
    while True:
        page = linear(sim, query, team=team, after=after, order=order_by)["issues"]
        ids += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize(("by", "order_by"), [("updated_at", "updatedAt"), ("created_at", "createdAt")])
@pytest.mark.parametrize(("direction", "limit"), [("desc", 7), ("desc", 100), ("asc", 7), ("asc", 100), ("asc", 200)])
def test_sort_is_linears_order_by_and_ascending_pages_backwards(client: httpx.Client, teams: dict[str, str],
                                                                sim: Simulator, by: str, order_by: str,
                                                                direction: str, limit: int) -> None:
    expected = linear_order(sim, teams["ENG"], order_by)
    sim.clear()
    ids, ended = walk_pages(client, tickets(teams, "ENG"), limit, params={"sort[by]": by, "sort[direction]": direction})
    assert ended and ids == (expected[::-1] if direction == "asc" else expected) and len(set(ids)) == 260
    sent = sim.requests()[-1]["body"]["variables"]
    assert ("last" in sent, "first" in sent) == ((True, False) if direction == "asc" else (False, True))
    assert sent.get("orderBy", "createdAt") == order_by   # created_at desc is Linear's default: nothing sent


# -- tickets --------------------------------------------------------------------------------------
def test_create_picks_the_teams_state_of_the_type_and_maps_priority(client: httpx.Client, teams: dict[str, str],
                                                                     sim: Simulator) -> None:
    labels = client.get(f"/issue-tracking/collections/{teams['DES']}/tags").json()["data"]
    ticket_id = new_ticket(client, tickets(teams, "DES"), status="in_progress", priority="urgent",
                           description="**bold**", tags=[{"id": labels[0]["id"]}], due_date="2026-05-01")
    ticket = client.get(f"{tickets(teams, 'DES')}/{ticket_id}").json()["data"]
    assert (ticket["status"], ticket["priority"], ticket["description"]) == \
        ("in_progress", "urgent", "<p><strong>bold</strong></p>")   # Markdown read as HTML
    assert [t["id"] for t in ticket["tags"]] == [labels[0]["id"]] and ticket["due_date"].startswith("2026-05-01")
    stored = linear(sim, "query($id: String!) { issue(id: $id) { priority state { name } } }", id=ticket_id)["issue"]
    assert stored == {"priority": 1, "state": {"name": "In Progress"}}


def test_an_html_description_is_stored_as_markdown_and_read_back_as_the_same_html(
        client: httpx.Client, teams: dict[str, str], sim: Simulator) -> None:
    html = ('<h2>Steps</h2><ol><li><p>log in as <code>admin</code></p></li><li><p>open <a href="https://e.com/x">'
            'the page</a></p></li></ol><p><strong>Expected</strong>: no *error*</p><pre><code class="language-sh">'
            'curl -v</code></pre>')
    ticket_id = new_ticket(client, tickets(teams, "DES"), description=html)
    stored = linear(sim, "query($id: String!) { issue(id: $id) { description } }", id=ticket_id)["issue"]["description"]
    assert stored == ("## Steps\n\n1. log in as `admin`\n2. open [the page](<https://e.com/x>)\n\n"
                      "**Expected**: no \\*error\\*\n\n```sh\ncurl -v\n```")
    assert client.get(f"{tickets(teams, 'DES')}/{ticket_id}").json()["data"]["description"] == html


def test_status_updates_set_completed_at(client: httpx.Client, teams: dict[str, str]) -> None:
    path = tickets(teams, "DES")
    ticket_id = new_ticket(client, path)
    assert client.patch(f"{path}/{ticket_id}", json={"status": "closed"}).status_code == 200
    ticket = client.get(f"{path}/{ticket_id}").json()["data"]
    assert ticket["status"] == "closed" and ticket["completed_at"]


def test_a_status_name_is_a_state_of_that_name_and_an_unknown_one_is_refused(client: httpx.Client,
                                                                            teams: dict[str, str]) -> None:
    path = tickets(teams, "DES")
    ticket_id = new_ticket(client, path)
    assert client.patch(f"{path}/{ticket_id}", json={"status": "Canceled"}).status_code == 200
    response = client.patch(f"{path}/{ticket_id}", json={"status": "In Review"})   # an ENG state only
    assert error_of(response) == (400, "RequestValidationError") and "Backlog (backlog)" in response.text


def test_an_identifier_addresses_the_issue(client: httpx.Client, teams: dict[str, str], sim: Simulator) -> None:
    path = tickets(teams, "DES")
    ticket_id = new_ticket(client, path)
    key = linear(sim, "query($id: String!) { issue(id: $id) { identifier } }", id=ticket_id)["issue"]["identifier"]
    assert client.get(f"{path}/{key}").json()["data"]["id"] == ticket_id


def test_assignee_and_unassign(client: httpx.Client, teams: dict[str, str]) -> None:
    path = tickets(teams, "DES")
    users = client.get(f"/issue-tracking/collections/{teams['DES']}/users").json()["data"]
    ticket_id = new_ticket(client, path, assignees=[{"id": users[0]["id"]}])
    assert client.get(f"{path}/{ticket_id}").json()["data"]["assignees"][0]["id"] == users[0]["id"]
    assert client.patch(f"{path}/{ticket_id}", json={"assignees": None}).status_code == 200
    assert client.get(f"{path}/{ticket_id}").json()["data"]["assignees"] == []


def test_delete_trashes_and_the_issue_is_then_not_found(client: httpx.Client, teams: dict[str, str]) -> None:
    path = tickets(teams, "DES")
    ticket_id = new_ticket(client, path)
    assert client.delete(f"{path}/{ticket_id}").status_code == 200
    assert error_of(client.get(f"{path}/{ticket_id}")) == (404, "EntityNotFoundError")


def test_an_issue_of_another_team_is_not_found_and_not_written(client: httpx.Client, teams: dict[str, str]) -> None:
    ticket_id = new_ticket(client, tickets(teams, "DES"))
    assert error_of(client.patch(f"{tickets(teams, 'ENG')}/{ticket_id}", json={"subject": "x"})) == \
        (404, "EntityNotFoundError")
    assert client.get(f"{tickets(teams, 'DES')}/{ticket_id}").json()["data"]["subject"] == "Connector test"


def test_an_unknown_issue_is_not_found(client: httpx.Client, teams: dict[str, str]) -> None:
    assert error_of(client.get(f"{tickets(teams, 'DES')}/DES-9999")) == (404, "EntityNotFoundError")


NO_TEAM = "/issue-tracking/collections/00000000-0000-4000-8000-000000000000/tickets"


def test_an_unknown_team_is_not_found_when_listing(client: httpx.Client) -> None:
    response = client.get(NO_TEAM)   # Linear lists nothing for it: the empty page reads the team
    assert error_of(response) == (404, "EntityNotFoundError")
    assert response.json()["downstream_errors"][0]["message"] == "Entity not found: Team"


def test_an_unknown_team_is_not_found_when_creating(client: httpx.Client) -> None:
    response = client.post(NO_TEAM, json={"subject": "x"})   # Linear: a user error, "Could not find referenced Team."
    assert error_of(response) == (404, "EntityNotFoundError")
    assert response.json()["downstream_errors"][0]["message"] == "Entity not found: Team"


def test_an_issue_through_an_unknown_team_is_not_found(client: httpx.Client, eng_ids: list[str]) -> None:
    assert error_of(client.get(f"{NO_TEAM}/{eng_ids[0]}")) == (404, "EntityNotFoundError")


def test_a_user_error_is_a_400_with_linears_message(client: httpx.Client, teams: dict[str, str]) -> None:
    response = client.post(tickets(teams, "DES"), json={"subject": "x", "parent_id": "DES-9999"})
    assert error_of(response) == (400, "RequestValidationError"), response.text
    assert response.json()["downstream_errors"][0]["code"] == "INVALID_INPUT"


# -- errors in the answer ---------------------------------------------------------------------------
def test_a_wrong_key_is_a_credentials_error(tracker: ConnectorUnderTest) -> None:
    tracker.harness.connect_consumer("linear", "wrong-key", {"base_url": tracker.url}, {"api_key": "lin_api_wrong"})
    with tracker.client("wrong-key") as wrong:
        response = wrong.get("/issue-tracking/collections")
    assert error_of(response) == (401, "ConnectorCredentialsError")
    # Linear's own answer, not an OAuth refresh attempt: a key connection has no token to refresh
    assert response.json()["downstream_errors"][0]["code"] == "AUTHENTICATION_ERROR"


@pytest.mark.parametrize(("extensions", "message", "typed"), [
    ({"type": "ratelimited", "code": "RATELIMITED", "userError": False}, "Rate limit exceeded",
     (429, "ConnectorRateLimitError")),
    ({"type": "authentication error", "code": "AUTHENTICATION_ERROR", "userError": False},
     "Authentication required, not authenticated", (401, "ConnectorCredentialsError")),
    ({"type": "invalid input", "code": "INVALID_INPUT", "userError": True,
      "userPresentableMessage": "Title is too long."}, "Argument Validation Error", (400, "RequestValidationError")),
    ({"type": "forbidden", "code": "FORBIDDEN", "userError": True}, "Forbidden", (400, "RequestValidationError")),
    ({"type": "internal error", "code": "INTERNAL_SERVER_ERROR", "userError": False}, "boom",
     (502, "ConnectorExecutionError")),
])
def test_errors_inside_a_200_answer_are_typed(client: httpx.Client, teams: dict[str, str], sim: Simulator,
                                               extensions: dict[str, Any], message: str, typed: tuple[int, str]) -> None:
    sim.fault(path="/graphql", status=200, body={"data": None, "errors": [{"message": message, "extensions": extensions}]})
    response = client.get(tickets(teams, "DES"))
    assert error_of(response) == typed
    assert response.json()["downstream_errors"][0]["code"] == extensions["code"]
    if extensions.get("userPresentableMessage"):
        assert extensions["userPresentableMessage"] in response.json()["message"]


def test_ratelimited_is_a_rate_limit_error(client: httpx.Client, sim: Simulator) -> None:
    sim.fault(path="/graphql", status=400, body={"errors": [{"message": "Rate limit exceeded", "extensions": {
        "type": "ratelimited", "code": "RATELIMITED", "userError": False}}]})
    assert error_of(client.get("/issue-tracking/collections")) == (429, "ConnectorRateLimitError")


# -- comments, users, tags, collections ------------------------------------------------------------
def test_comment_lifecycle(client: httpx.Client, teams: dict[str, str]) -> None:
    path = tickets(teams, "DES")
    comments = f"{path}/{new_ticket(client, path)}/comments"
    comment_id = client.post(comments, json={"body": "first"}).json()["data"]["id"]
    assert client.get(f"{comments}/{comment_id}").json()["data"]["body"] == "<p>first</p>"
    assert client.patch(f"{comments}/{comment_id}", json={"body": "<p><em>edited</em></p>"}).status_code == 200
    assert [c["body"] for c in client.get(comments).json()["data"]] == ["<p><em>edited</em></p>"]
    assert client.delete(f"{comments}/{comment_id}").status_code == 200
    assert client.get(comments).json()["data"] == []


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_comments_sort_by_creation_both_ways(client: httpx.Client, teams: dict[str, str], direction: str) -> None:
    path = tickets(teams, "DES")
    comments = f"{path}/{new_ticket(client, path)}/comments"
    made = [client.post(comments, json={"body": f"n{n}"}).json()["data"]["id"] for n in range(3)]
    ids, ended = walk_pages(client, comments, 2, params={"sort[by]": "created_at", "sort[direction]": direction})
    assert ended and ids == (made if direction == "asc" else made[::-1])   # asc: read from the end


def test_teams_sort_by_dates_and_not_by_name(client: httpx.Client, teams: dict[str, str]) -> None:
    newest = [t["id"] for t in client.get("/issue-tracking/collections").json()["data"]]
    oldest = client.get("/issue-tracking/collections", params={"sort[by]": "created_at", "sort[direction]": "asc"})
    assert [t["id"] for t in oldest.json()["data"]] == newest[::-1] and set(newest) == set(teams.values())
    refused = client.get("/issue-tracking/collections", params={"sort[by]": "name"})   # Linear's orderBy: dates only
    assert error_of(refused) == (400, "UnsupportedSortFieldError")


def test_users_are_team_members_and_tags_include_workspace_labels(client: httpx.Client, teams: dict[str, str]) -> None:
    users = client.get(f"/issue-tracking/collections/{teams['DES']}/users").json()["data"]
    assert users and client.get(f"/issue-tracking/collections/{teams['DES']}/users/{users[0]['id']}").json()["data"] \
        == users[0]
    names = {t["name"] for t in client.get(f"/issue-tracking/collections/{teams['DES']}/tags").json()["data"]}
    assert names == {"Bug", "Feature", "Improvement", "ux"}


def test_collections_are_teams(client: httpx.Client, teams: dict[str, str]) -> None:
    collections = client.get("/issue-tracking/collections").json()["data"]
    assert {c["id"] for c in collections} == set(teams.values())
    assert client.get(f"/issue-tracking/collections/{teams['ENG']}").json()["data"]["name"] == "Engineering"


def test_linears_rate_limit_headers_are_passed_on(client: httpx.Client) -> None:
    response = client.get("/issue-tracking/collections")
    assert int(response.headers["x-downstream-ratelimit-requests-remaining"]) < \
        int(response.headers["x-downstream-ratelimit-requests-limit"]) == 5000
    assert int(response.headers["x-downstream-ratelimit-complexity"]) > 0


def test_an_oauth_connection_sends_its_token_as_bearer_instead_of_a_key(tracker: ConnectorUnderTest,
                                                                       sim: Simulator) -> None:
    tracker.harness.connect_consumer("linear", "oauth-user", {"base_url": tracker.url},
                                     {"access_token": OAUTH_TOKEN, "refresh_token": "r"})
    with tracker.client("oauth-user") as oauth:
        assert oauth.get("/issue-tracking/collections").status_code == 200
    assert {r["headers"]["authorization"] for r in sim.requests()} == {f"Bearer {OAUTH_TOKEN}"}


def test_rate_limit_headers_are_passed_on_with_an_error_too(client: httpx.Client, teams: dict[str, str]) -> None:
    response = client.get(f"{tickets(teams, 'DES')}/DES-9999")   # Linear's errors[]: Entity not found
    assert error_of(response) == (404, "EntityNotFoundError")
    assert int(response.headers["x-downstream-ratelimit-requests-limit"]) == 5000
    assert "x-downstream-ratelimit-complexity-remaining" in response.headers


def test_an_exhausted_budget_is_a_rate_limit_error_carrying_the_budget(tracker: ConnectorUnderTest) -> None:
    throttled = Simulator.start(create_app(requests_per_hour=2))   # a Linear of its own: two requests an hour
    try:
        tracker.harness.connect_consumer("linear", "throttled", {"base_url": throttled.url}, {"api_key": API_KEY})
        with tracker.client("throttled") as c:
            answers = [c.get("/issue-tracking/collections") for _ in range(3)]
    finally:
        throttled.stop()
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert error_of(answers[2]) == (429, "ConnectorRateLimitError")
    assert answers[2].headers["x-downstream-ratelimit-requests-remaining"] == "0"
    assert answers[2].headers["x-downstream-ratelimit-requests-limit"] == "2"
