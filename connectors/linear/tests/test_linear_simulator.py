"""Specification of the Linear GraphQL simulator, over real HTTP. Every document a test sends is
first validated against Linear's schema (the vendored subset) with graphql-core, so the tests
themselves speak only GraphQL that Linear accepts; the ones that must not say so."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from graphql import GraphQLSchema, build_schema, parse, validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unigate.kit import BackgroundServer
from unigate_connectors.linear.simulator import API_KEY, MAX_PAGE, OAUTH_TOKEN, State, create_app

SCHEMA = Path(__file__).parent.parent / "spec" / "schema.subset.graphql"
ISSUES = 260
ISSUE_FIELDS = """id identifier title description priority priorityLabel dueDate createdAt updatedAt
                  completedAt canceledAt archivedAt trashed url state { id name type } team { id key }
                  assignee { id name } creator { id } parent { id identifier } labels { nodes { id name } }"""


@lru_cache(maxsize=1)
def linear_schema() -> GraphQLSchema:
    return build_schema(SCHEMA.read_text())


@contextmanager
def served(**options: Any) -> Iterator[tuple[httpx.Client, State]]:
    control = create_app(issue_count=ISSUES, **options)
    with BackgroundServer(control) as server, \
            httpx.Client(base_url=server.url, headers={"Authorization": API_KEY}, timeout=10) as client:
        yield client, cast(Any, control.app).state.simulator


@pytest.fixture(scope="module")
def simulator() -> Iterator[tuple[httpx.Client, State]]:
    with served() as running:
        yield running


@pytest.fixture
def client(simulator: tuple[httpx.Client, State]) -> httpx.Client:
    return simulator[0]


@pytest.fixture
def state(simulator: tuple[httpx.Client, State]) -> State:
    return simulator[1]


def post(client: httpx.Client, query: str, variables: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    """Send a document that Linear's schema accepts (checked here first)."""
    assert validate(linear_schema(), parse(query)) == [], query
    return client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


def data(client: httpx.Client, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = post(client, query, variables)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


def errors(response: httpx.Response, status: int = 200) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    return response.json()["errors"]


def team_id(client: httpx.Client, key: str) -> str:
    return data(client, "query($k: String!) { teams(filter: {key: {eq: $k}}) { nodes { id } } }", {"k": key})[
        "teams"]["nodes"][0]["id"]


def state_id(client: httpx.Client, team: str, kind: str) -> str:
    query = """query($t: ID!, $k: String!) { workflowStates(filter: {team: {id: {eq: $t}}, type: {eq: $k}}) {
                 nodes { id name } } }"""
    return data(client, query, {"t": team_id(client, team), "k": kind})["workflowStates"]["nodes"][0]["id"]


def create_issue(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    query = f"mutation($i: IssueCreateInput!) {{ issueCreate(input: $i) {{ success issue {{ {ISSUE_FIELDS} }} }} }}"
    payload = data(client, query, {"i": {"teamId": team_id(client, "ENG"), "title": "Spec issue", **fields}})
    assert payload["issueCreate"]["success"] is True
    return payload["issueCreate"]["issue"]


def update_issue(client: httpx.Client, ident: str, **fields: Any) -> dict[str, Any]:
    query = f"mutation($id: String!, $i: IssueUpdateInput!) {{ issueUpdate(id: $id, input: $i) {{ issue {{ {ISSUE_FIELDS} }} }} }}"
    return data(client, query, {"id": ident, "i": fields})["issueUpdate"]["issue"]


def all_issues(client: httpx.Client, first: int, filt: dict[str, Any]) -> list[dict[str, Any]]:
    query = """query($first: Int, $after: String, $f: IssueFilter) {
                 issues(first: $first, after: $after, filter: $f) { nodes { id identifier }
                        pageInfo { hasNextPage endCursor } } }"""
    found, after = [], None
    while True:
        chunk = data(client, query, {"first": first, "after": after, "f": filt})["issues"]
        found += chunk["nodes"]
        assert len(chunk["nodes"]) <= first
        if not chunk["pageInfo"]["hasNextPage"]:
            return found
        after = chunk["pageInfo"]["endCursor"]


# -- authentication and the GraphQL layer -----------------------------------------------------------

def test_a_personal_api_key_goes_without_a_prefix(client: httpx.Client) -> None:
    assert data(client, "{ viewer { name email admin isMe } }")["viewer"] == {
        "name": "Ada Byron", "email": "ada@unigate-sim.example", "admin": True, "isMe": True}


def test_an_oauth_token_goes_as_bearer(client: httpx.Client) -> None:
    response = post(client, "{ viewer { name } }", Authorization=f"Bearer {OAUTH_TOKEN}")
    assert response.json() == {"data": {"viewer": {"name": "Ada Byron"}}}


@pytest.mark.parametrize("header", ["", "lin_api_wrong", f"Bearer {API_KEY}", OAUTH_TOKEN])
def test_other_credentials_are_an_authentication_error(client: httpx.Client, header: str) -> None:
    [error] = errors(post(client, "{ viewer { id } }", Authorization=header), 400)
    assert error["extensions"]["type"] == "authentication error"
    assert error["extensions"]["code"] == "AUTHENTICATION_ERROR"


def test_a_field_linear_does_not_have_fails_validation(client: httpx.Client) -> None:
    query = "{ issues { nodes { id estimatePoints } } }"
    assert validate(linear_schema(), parse(query))  # the schema itself refuses it
    [error] = errors(client.post("/graphql", json={"query": query}), 400)
    assert error["message"] == "Cannot query field 'estimatePoints' on type 'Issue'. Did you mean 'estimate'?"
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_an_argument_linear_does_not_have_fails_validation(client: httpx.Client) -> None:
    [error] = errors(client.post("/graphql", json={"query": "{ issues(limit: 5) { nodes { id } } }"}), 400)
    assert error["message"] == "Unknown argument 'limit' on field 'Query.issues'. Did you mean 'first' or 'last'?"


def test_a_syntax_error_is_a_parse_failure(client: httpx.Client) -> None:
    [error] = errors(client.post("/graphql", json={"query": "{ issues { nodes { id } }"}), 400)
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED" and error["message"].startswith("Syntax Error")


def test_a_body_without_a_query_is_a_bad_request(client: httpx.Client) -> None:
    assert errors(client.post("/graphql", content=b"not json"), 400)[0]["extensions"]["code"] == "BAD_REQUEST"


def test_a_variable_of_the_wrong_type_is_bad_user_input(client: httpx.Client) -> None:
    query = "mutation($i: IssueCreateInput!) { issueCreate(input: $i) { success } }"
    response = post(client, query, {"i": {"teamId": team_id(client, "ENG"), "title": "x", "priority": "high"}})
    [error] = errors(response, 400)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "priority" in error["message"]


# -- teams, states, users, labels -------------------------------------------------------------------

def test_teams_are_the_collections(client: httpx.Client) -> None:
    teams = data(client, "{ teams { nodes { key name issueCount defaultIssueState { name type } } } }")["teams"]["nodes"]
    assert {t["key"]: t["defaultIssueState"]["type"] for t in teams} == {"ENG": "unstarted", "DES": "unstarted"}


def test_each_team_has_its_own_workflow_states(client: httpx.Client) -> None:
    query = "query($id: String!) { team(id: $id) { states { nodes { name type position } } } }"
    eng = data(client, query, {"id": team_id(client, "ENG")})["team"]["states"]["nodes"]
    des = data(client, query, {"id": team_id(client, "DES")})["team"]["states"]["nodes"]
    assert {s["type"] for s in eng} == {"triage", "backlog", "unstarted", "started", "completed", "canceled", "duplicate"}
    assert {s["type"] for s in des} == {"backlog", "unstarted", "started", "completed", "canceled"}


def test_workflow_states_filtered_by_team_and_type(client: httpx.Client) -> None:
    query = """query($t: ID!) { workflowStates(filter: {team: {id: {eq: $t}}, type: {in: ["started"]}}) {
                 nodes { name team { key } } } }"""
    nodes = data(client, query, {"t": team_id(client, "ENG")})["workflowStates"]["nodes"]
    assert sorted(n["name"] for n in nodes) == ["In Progress", "In Review"] and {n["team"]["key"] for n in nodes} == {"ENG"}


def test_users(client: httpx.Client) -> None:
    users = data(client, "{ users { nodes { name displayName active } } }")["users"]["nodes"]
    assert len(users) == 6 and all(u["active"] for u in users)


def test_labels_of_the_workspace_and_of_a_team(client: httpx.Client) -> None:
    everything = data(client, "{ issueLabels { nodes { name team { key } } } }")["issueLabels"]["nodes"]
    assert {(label["name"], (label["team"] or {}).get("key")) for label in everything} == {
        ("Bug", None), ("Feature", None), ("Improvement", None), ("backend", "ENG"), ("frontend", "ENG"), ("ux", "DES")}
    query = "query($id: String!) { team(id: $id) { labels { nodes { name } } } }"
    assert {label["name"] for label in data(client, query, {"id": team_id(client, "DES")})["team"]["labels"]["nodes"]} == {
        "Bug", "Feature", "Improvement", "ux"}


# -- issues: reading and paging ---------------------------------------------------------------------

@pytest.mark.parametrize("first", [50, 100, MAX_PAGE])
def test_relay_paging_reaches_every_issue_of_a_team_once(client: httpx.Client, state: State, first: int) -> None:
    found = all_issues(client, first, {"team": {"key": {"eq": "ENG"}}})
    eng = [i for i in state.of("Issue") if i.links["team"] == state.get("Team", "ENG").id
           and not i.values.get("archivedAt") and not i.values.get("_deleted")]
    assert len(found) == len(eng) >= 250 and len({i["id"] for i in found}) == len(found)


def test_the_default_page_is_50(client: httpx.Client) -> None:
    chunk = data(client, "{ issues { nodes { id } pageInfo { hasNextPage hasPreviousPage } } }")["issues"]
    assert len(chunk["nodes"]) == 50 and chunk["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False}


def test_a_page_larger_than_the_maximum_is_invalid_input(client: httpx.Client) -> None:
    [error] = errors(post(client, "{ issues(first: 251) { nodes { id } } }"))
    assert error["extensions"]["type"] == "invalid input" and error["path"] == ["issues"]


def test_paging_backwards_with_last_and_before(client: httpx.Client) -> None:
    forward = data(client, "{ issues(first: 6) { nodes { id } } }")["issues"]["nodes"]
    query = "query($b: String) { issues(last: 2, before: $b) { nodes { id } pageInfo { hasPreviousPage } } }"
    back = data(client, query, {"b": forward[5]["id"]})["issues"]
    assert [n["id"] for n in back["nodes"]] == [forward[3]["id"], forward[4]["id"]]
    assert back["pageInfo"]["hasPreviousPage"] is True


def test_issues_are_newest_first_and_can_be_ordered_by_update(client: httpx.Client) -> None:
    created = [n["createdAt"] for n in data(client, "{ issues(first: 100) { nodes { createdAt } } }")["issues"]["nodes"]]
    assert created == sorted(created, reverse=True)
    updated = [n["updatedAt"] for n in data(
        client, "{ issues(first: 100, orderBy: updatedAt) { nodes { updatedAt } } }")["issues"]["nodes"]]
    assert updated == sorted(updated, reverse=True)


def test_filter_by_state_type(client: httpx.Client) -> None:
    filt = {"team": {"key": {"eq": "ENG"}}, "state": {"type": {"in": ["completed", "canceled"]}}}
    query = "query($f: IssueFilter) { issues(first: 250, filter: $f) { nodes { state { type } } } }"
    nodes = data(client, query, {"f": filt})["issues"]["nodes"]
    assert nodes and {n["state"]["type"] for n in nodes} == {"completed", "canceled"}


def test_filter_by_updated_at(client: httpx.Client, state: State) -> None:
    stamps = sorted(i.updatedAt for i in state.of("Issue") if not i.archivedAt and not i.values.get("_deleted"))
    pivot = stamps[len(stamps) // 2]
    query = "query($f: IssueFilter) { issues(first: 250, filter: $f) { nodes { updatedAt } } }"
    nodes = all_issues(client, 250, {"updatedAt": {"gte": pivot}})
    assert len(nodes) == sum(1 for s in stamps if s >= pivot)
    assert all(n["updatedAt"] >= pivot for n in data(client, query, {"f": {"updatedAt": {"gte": pivot}}})["issues"]["nodes"])


def test_filter_by_assignee_or_no_assignee(client: httpx.Client, state: State) -> None:
    bao = next(u for u in state.of("User") if u.displayName == "bao").id
    query = "query($f: IssueFilter) { issues(first: 250, filter: $f) { nodes { assignee { id } } } }"
    mine = data(client, query, {"f": {"assignee": {"id": {"eq": bao}}}})["issues"]["nodes"]
    assert mine and {n["assignee"]["id"] for n in mine} == {bao}
    nobody = data(client, query, {"f": {"assignee": {"null": True}}})["issues"]["nodes"]
    assert nobody and all(n["assignee"] is None for n in nobody)


def test_filter_by_label_priority_and_or(client: httpx.Client) -> None:
    query = """query($f: IssueFilter) { issues(first: 100, filter: $f) {
                 nodes { priority labels(first: 10) { nodes { name } } } } }"""
    filt = {"labels": {"some": {"name": {"eq": "Bug"}}}, "or": [{"priority": {"eq": 1}}, {"priority": {"eq": 2}}]}
    nodes = data(client, query, {"f": filt})["issues"]["nodes"]
    assert nodes and all("Bug" in {label["name"] for label in n["labels"]["nodes"]} and n["priority"] in (1, 2) for n in nodes)


def test_an_issue_by_uuid_or_by_identifier(client: httpx.Client) -> None:
    query = "query($id: String!) { issue(id: $id) { id identifier } }"
    by_key = data(client, query, {"id": "ENG-12"})["issue"]
    assert data(client, query, {"id": by_key["id"]})["issue"] == by_key and by_key["identifier"] == "ENG-12"


def test_an_unknown_issue_is_entity_not_found_inside_a_200(client: httpx.Client) -> None:
    response = post(client, 'query { issue(id: "ENG-99999") { id } }')
    assert response.json()["data"] is None
    [error] = errors(response)
    assert error["message"] == "Entity not found: Issue" and error["extensions"]["userError"] is True


# -- issues: writing --------------------------------------------------------------------------------

def test_create_starts_in_the_teams_default_state_by_the_viewer(client: httpx.Client) -> None:
    issue = create_issue(client)
    assert issue["identifier"].startswith("ENG-") and issue["state"]["type"] == "unstarted"
    assert issue["priority"] == 0 and issue["priorityLabel"] == "No priority" and issue["creator"]["id"]


def test_create_with_every_field(client: httpx.Client, state: State) -> None:
    parent = create_issue(client)
    bug = next(label for label in state.of("IssueLabel") if label.name == "Bug").id
    carmen = next(u for u in state.of("User") if u.displayName == "carmen").id
    issue = create_issue(client, description="**Steps**", priority=1, stateId=state_id(client, "ENG", "started"),
                         labelIds=[bug], assigneeId=carmen, dueDate="2025-05-01", parentId=parent["id"])
    assert (issue["priorityLabel"], issue["state"]["type"], issue["dueDate"]) == ("Urgent", "started", "2025-05-01")
    assert [label["name"] for label in issue["labels"]["nodes"]] == ["Bug"] and issue["assignee"]["id"] == carmen
    assert issue["parent"]["identifier"] == parent["identifier"] and issue["description"] == "**Steps**"


@pytest.mark.parametrize(("fields", "presentable"), [
    ({"title": "  "}, "Title must not be empty."),
    ({"priority": 7}, "Priority must be an integer between 0 and 4."),
    ({"dueDate": "tomorrow"}, "dueDate 'tomorrow' is not a valid date."),
])
def test_create_refuses_bad_input_as_invalid_input(client: httpx.Client, fields: dict[str, Any], presentable: str) -> None:
    query = "mutation($i: IssueCreateInput!) { issueCreate(input: $i) { success } }"
    [error] = errors(post(client, query, {"i": {"teamId": team_id(client, "ENG"), "title": "x", **fields}}))
    assert error["extensions"]["type"] == "invalid input" and error["extensions"]["userPresentableMessage"] == presentable


def test_a_state_of_another_team_is_refused(client: httpx.Client) -> None:
    query = "mutation($i: IssueCreateInput!) { issueCreate(input: $i) { success } }"
    variables = {"i": {"teamId": team_id(client, "ENG"), "title": "x", "stateId": state_id(client, "DES", "started")}}
    [error] = errors(post(client, query, variables))
    assert error["extensions"]["userPresentableMessage"] == "The workflow state does not belong to the issue's team."


def test_moving_to_a_completed_state_stamps_completed_at_and_back_clears_it(client: httpx.Client) -> None:
    issue = create_issue(client)
    done = update_issue(client, issue["id"], stateId=state_id(client, "ENG", "completed"))
    assert done["state"]["type"] == "completed" and done["completedAt"] is not None
    canceled = update_issue(client, issue["id"], stateId=state_id(client, "ENG", "canceled"))
    assert canceled["completedAt"] is None and canceled["canceledAt"] is not None
    reopened = update_issue(client, issue["identifier"], stateId=state_id(client, "ENG", "unstarted"))
    assert reopened["completedAt"] is None and reopened["canceledAt"] is None


def test_update_labels_by_adding_and_removing_and_unassign(client: httpx.Client, state: State) -> None:
    ids = {label.name: label.id for label in state.of("IssueLabel")}
    issue = create_issue(client, labelIds=[ids["Bug"], ids["backend"]], assigneeId=state.of("User")[1].id)
    changed = update_issue(client, issue["id"], addedLabelIds=[ids["frontend"]], removedLabelIds=[ids["Bug"]],
                           assigneeId=None, title="Renamed")
    assert sorted(label["name"] for label in changed["labels"]["nodes"]) == ["backend", "frontend"]
    assert changed["assignee"] is None and changed["title"] == "Renamed" and changed["updatedAt"] > issue["updatedAt"]


def test_archive_hides_an_issue_from_lists_unless_archived_are_included(client: httpx.Client) -> None:
    issue = create_issue(client, title="Archive me")
    archived = data(client, 'mutation($id: String!) { issueArchive(id: $id) { success entity { archivedAt } } }',
                    {"id": issue["id"]})["issueArchive"]
    assert archived["success"] and archived["entity"]["archivedAt"]
    query = """query($f: IssueFilter, $a: Boolean) { issues(filter: $f, includeArchived: $a) { nodes { id } } }"""
    mine = {"id": {"eq": issue["id"]}}
    assert data(client, query, {"f": mine})["issues"]["nodes"] == []
    assert data(client, query, {"f": mine, "a": True})["issues"]["nodes"] == [{"id": issue["id"]}]
    data(client, 'mutation($id: String!) { issueUnarchive(id: $id) { success } }', {"id": issue["id"]})
    assert data(client, query, {"f": mine})["issues"]["nodes"] == [{"id": issue["id"]}]


def test_delete_trashes_and_permanent_delete_removes(client: httpx.Client) -> None:
    issue = create_issue(client)
    query = "mutation($id: String!, $p: Boolean) { issueDelete(id: $id, permanentlyDelete: $p) { success entity { trashed } } }"
    assert data(client, query, {"id": issue["id"]})["issueDelete"] == {"success": True, "entity": {"trashed": True}}
    assert data(client, query, {"id": issue["id"], "p": True})["issueDelete"] == {"success": True, "entity": None}
    [error] = errors(post(client, "query($id: String!) { issue(id: $id) { id } }", {"id": issue["id"]}))
    assert error["message"] == "Entity not found: Issue"


# -- comments ---------------------------------------------------------------------------------------

COMMENT = "id body editedAt user { name } issue { identifier }"


def test_comment_lifecycle(client: httpx.Client) -> None:
    issue = create_issue(client)
    made = data(client, f"mutation($i: CommentCreateInput!) {{ commentCreate(input: $i) {{ success comment {{ {COMMENT} }} }} }}",
                {"i": {"issueId": issue["identifier"], "body": "Looks **good**"}})["commentCreate"]["comment"]
    assert made["user"]["name"] == "Ada Byron" and made["issue"]["identifier"] == issue["identifier"]
    update = f"mutation($id: String!, $i: CommentUpdateInput!) {{ commentUpdate(id: $id, input: $i) {{ comment {{ {COMMENT} }} }} }}"
    edited = data(client, update, {"id": made["id"], "i": {"body": "Edited"}})["commentUpdate"]["comment"]
    assert edited["body"] == "Edited" and edited["editedAt"] is not None
    listed = data(client, "query($id: String!) { issue(id: $id) { comments { nodes { body } } } }", {"id": issue["id"]})
    assert listed["issue"]["comments"]["nodes"] == [{"body": "Edited"}]
    gone = data(client, "mutation($id: String!) { commentDelete(id: $id) { success entityId } }", {"id": made["id"]})
    assert gone["commentDelete"] == {"success": True, "entityId": made["id"]}
    assert data(client, "query($id: String!) { issue(id: $id) { comments { nodes { id } } } }",
                {"id": issue["id"]})["issue"]["comments"]["nodes"] == []


def test_only_the_author_edits_a_comment(client: httpx.Client, state: State) -> None:
    foreign = next(c for c in state.of("Comment") if c.links["user"] != state.of("User")[0].id)
    query = "mutation($id: String!, $i: CommentUpdateInput!) { commentUpdate(id: $id, input: $i) { success } }"
    [error] = errors(post(client, query, {"id": foreign.id, "i": {"body": "mine now"}}))
    assert error["extensions"]["type"] == "forbidden"


def test_an_empty_comment_is_invalid_input(client: httpx.Client) -> None:
    issue = create_issue(client)
    query = "mutation($i: CommentCreateInput!) { commentCreate(input: $i) { success } }"
    [error] = errors(post(client, query, {"i": {"issueId": issue["id"], "body": ""}}))
    assert error["extensions"]["userPresentableMessage"] == "Comment body must not be empty."


# -- complexity and rate limits ---------------------------------------------------------------------

def test_each_answer_carries_the_querys_complexity_and_the_budgets(client: httpx.Client) -> None:
    response = post(client, "{ issues(first: 10) { nodes { id title } } }")
    assert response.headers["x-complexity"] == "13"  # 1 + 10 * (1 + 2 * 0.1)
    for kind in ("requests", "complexity"):
        assert int(response.headers[f"x-ratelimit-{kind}-remaining"]) < int(response.headers[f"x-ratelimit-{kind}-limit"])
        assert int(response.headers[f"x-ratelimit-{kind}-reset"]) > 1_700_000_000_000  # epoch milliseconds


def test_a_query_over_the_complexity_limit_is_refused(client: httpx.Client) -> None:
    response = post(client, "{ issues(first: 250) { nodes { comments(first: 100) { nodes { id body } } } } }")
    [error] = errors(response, 400)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX" and int(response.headers["x-complexity"]) > 10_000


def test_the_request_budget_runs_out_as_ratelimited() -> None:
    with served(requests_per_hour=2) as (client, _):
        for _ in range(2):
            assert post(client, "{ viewer { id } }").status_code == 200
        response = post(client, "{ viewer { id } }")
        [error] = errors(response, 400)
        assert error["extensions"]["type"] == "ratelimited" and error["extensions"]["code"] == "RATELIMITED"
        assert response.headers["x-ratelimit-requests-remaining"] == "0"


def test_the_complexity_budget_runs_out_as_ratelimited() -> None:
    with served(complexity_per_hour=20) as (client, _):
        assert post(client, "{ issues(first: 10) { nodes { id title } } }").status_code == 200
        response = post(client, "{ issues(first: 10) { nodes { id title } } }")
        assert errors(response, 400)[0]["extensions"]["code"] == "RATELIMITED"
        assert response.headers["x-ratelimit-complexity-remaining"] == "7"


def test_the_oauth_token_has_a_budget_of_its_own() -> None:
    with served(requests_per_hour=1) as (client, _):
        assert post(client, "{ viewer { id } }").status_code == 200
        assert post(client, "{ viewer { id } }", Authorization=f"Bearer {OAUTH_TOKEN}").status_code == 200


# -- more of the query language ---------------------------------------------------------------------

def test_fragments_are_resolved_and_counted(client: httpx.Client) -> None:
    query = """fragment Core on Issue { id title }
               query { issues(first: 10) { nodes { ...Core ... on Issue { identifier } } } }"""
    response = post(client, query)
    nodes = response.json()["data"]["issues"]["nodes"]
    assert len(nodes) == 10 and set(nodes[0]) == {"id", "title", "identifier"}
    assert response.headers["x-complexity"] == "14"  # 1 + 10 * (1 + 3 * 0.1)


def test_durations_and_string_comparators(client: httpx.Client, state: State) -> None:
    query = "query($f: IssueFilter) { issues(first: 250, filter: $f) { nodes { title } } }"
    recent = data(client, query, {"f": {"createdAt": {"gt": "-P5200W"}, "title": {"containsIgnoreCase": "MODE"}}})
    titles = {n["title"] for n in recent["issues"]["nodes"]}
    assert titles == {"Dark mode contrast"}
    assert data(client, query, {"f": {"createdAt": {"gt": "P1W"}}})["issues"]["nodes"] == []  # a week from now


def test_a_filter_on_something_not_stored_is_refused_by_name(client: httpx.Client) -> None:
    query = 'query { issues(filter: {cycle: {number: {eq: 3}}}) { nodes { id } } }'
    [error] = errors(post(client, query))
    assert error["message"] == "Filtering Issue by 'cycle' is not modelled by this simulator"


def test_a_comparator_on_a_field_not_stored_is_refused_too(client: httpx.Client) -> None:
    [error] = errors(post(client, "query { users(filter: {isMe: {eq: true}}) { nodes { id } } }"))
    assert error["message"] == "Filtering User by 'isMe' is not modelled by this simulator"
    assert data(client, 'query { workflowStates(filter: {updatedAt: {gt: "2020-01-01T00:00:00Z"}}) { nodes { id } } }')


def test_a_cursor_from_elsewhere_is_invalid_input(client: httpx.Client) -> None:
    [error] = errors(post(client, 'query { issues(after: "not-a-cursor") { nodes { id } } }'))
    assert error["extensions"]["type"] == "invalid input"


def test_labels_and_children_of_an_issue(client: httpx.Client, state: State) -> None:
    parent = create_issue(client)
    create_issue(client, parentId=parent["id"], title="Child one")
    query = "query($id: String!) { issue(id: $id) { children { nodes { title parent { id } } } } }"
    children = data(client, query, {"id": parent["id"]})["issue"]["children"]["nodes"]
    assert children == [{"title": "Child one", "parent": {"id": parent["id"]}}]
    filt = {"children": {"some": {"title": {"eq": "Child one"}}}, "id": {"eq": parent["id"]}}
    assert data(client, "query($f: IssueFilter) { issues(filter: $f) { nodes { id } } }", {"f": filt})[
        "issues"]["nodes"] == [{"id": parent["id"]}]


# -- any filter Linear's schema accepts is answered, never an internal error ------------------------

anything = st.one_of(st.text(max_size=12), st.sampled_from(["-P2W", "P1D", "2025-02-01T00:00:00Z", "2025-02-01"]))
numbers = st.one_of(st.integers(-2, 6), st.floats(-1, 5, allow_nan=False))
string_comparator = st.dictionaries(st.sampled_from(["eq", "neq", "contains", "containsIgnoreCase", "startsWith",
                                                     "endsWith", "notContains", "eqIgnoreCase"]),
                                    st.text(max_size=6), max_size=2)
date_comparator = st.dictionaries(st.sampled_from(["eq", "gt", "gte", "lt", "lte", "neq"]), anything, max_size=2)
number_comparator = st.dictionaries(st.sampled_from(["eq", "gt", "gte", "lt", "lte", "neq"]), numbers, max_size=2)
leaf_filters = st.fixed_dictionaries({}, optional={
    "title": string_comparator, "updatedAt": date_comparator, "createdAt": date_comparator,
    "dueDate": st.dictionaries(st.sampled_from(["gt", "lt", "null"]), anything | st.booleans(), max_size=1),
    "priority": number_comparator, "number": number_comparator,
    "state": st.fixed_dictionaries({"type": st.fixed_dictionaries({"in": st.lists(st.sampled_from(
        ["backlog", "unstarted", "started", "completed", "canceled", "triage", "nope"]), max_size=3)})}),
    "assignee": st.fixed_dictionaries({}, optional={"null": st.booleans(), "name": string_comparator}),
    "labels": st.fixed_dictionaries({}, optional={"some": st.fixed_dictionaries({"name": string_comparator}),
                                                  "length": number_comparator}),
})
issue_filters = st.recursive(leaf_filters, lambda inner: st.fixed_dictionaries(
    {}, optional={"and": st.lists(inner, max_size=2), "or": st.lists(inner, max_size=2)}), max_leaves=4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filt=issue_filters)
def test_any_issue_filter_is_answered_or_refused_as_input(client: httpx.Client, filt: dict[str, Any]) -> None:
    response = post(client, "query($f: IssueFilter) { issues(first: 20, filter: $f) { nodes { id } } }", {"f": filt})
    body = response.json()
    assert response.status_code in (200, 400), body
    assert all(e["extensions"]["type"] in ("invalid input", "graphql error") for e in body.get("errors", [])), body
