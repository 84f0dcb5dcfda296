"""Specification of the Jira Cloud REST v3 simulator, over real HTTP; every exchange of every test
is checked against Atlassian's own OpenAPI description (the subset vendored in ../spec)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx
import pytest

from unigate.kit import BackgroundServer
from unigate.testing.vendor_spec import SpecCheck, VendorSpec
from unigate_connectors.jira.simulator import (
    API_EMAIL,
    API_TOKEN,
    CLOUD_ID,
    OAUTH_TOKEN,
    OTHER_CLOUD_ID,
    STATUSES,
    UNBOUNDED,
    State,
    create_app,
)

SPEC = Path(__file__).parent.parent / "spec" / "swagger-v3.subset.json"
ERRORS = "#/components/schemas/ErrorCollection"
# Jira answers these on any operation (authentication, a site the token cannot reach, the burst
# limit) with an ErrorCollection, whether or not the description lists them there.
UNDECLARED = {401: ERRORS, 404: ERRORS, 429: ERRORS}
BASIC = {"Authorization": "Basic " + base64.b64encode(f"{API_EMAIL}:{API_TOKEN}".encode()).decode()}
BEARER = {"Authorization": f"Bearer {OAUTH_TOKEN}"}
API = "/rest/api/3"
ISSUES = 260


@contextmanager
def served(base_path: str = "", headers: dict[str, str] = BASIC, **options: Any) -> Iterator[tuple[httpx.Client, SpecCheck, State]]:
    control = create_app(issue_count=ISSUES, **options)
    state: State = cast(Any, control.app).state.simulator
    checked = SpecCheck.inside(control, VendorSpec.load(SPEC, base_path=base_path, undeclared=UNDECLARED),
                               skip=("/__sim", "/oauth/"))
    with BackgroundServer(control) as server, \
            httpx.Client(base_url=server.url + base_path + API, headers=headers, timeout=10) as client:
        yield client, checked, state
    checked.assert_clean()


@pytest.fixture(scope="module")
def simulator() -> Iterator[tuple[httpx.Client, SpecCheck, State]]:
    with served() as running:
        yield running
    assert running[1].checked > 0  # the exchanges were looked at (each test also asserts clean)


@pytest.fixture
def client(simulator: tuple[httpx.Client, SpecCheck, State]) -> Iterator[httpx.Client]:
    yield simulator[0]
    simulator[1].assert_clean()  # every exchange of this test matched Atlassian's description


@pytest.fixture
def checked(simulator: tuple[httpx.Client, SpecCheck, State]) -> SpecCheck:
    return simulator[1]


@pytest.fixture
def state(simulator: tuple[httpx.Client, SpecCheck, State]) -> State:
    return simulator[2]


def search(client: httpx.Client, jql: str, **params: Any) -> dict[str, Any]:
    response = client.get("/search/jql", params={"jql": jql, **params})
    assert response.status_code == 200, response.text
    return response.json()


def search_all(client: httpx.Client, jql: str, page: int, **params: Any) -> list[dict[str, Any]]:
    issues, token = [], None
    while True:
        answer = search(client, jql, maxResults=page, **({"nextPageToken": token} if token else {}), **params)
        issues += answer["issues"]
        assert len(answer["issues"]) <= page
        if answer["isLast"]:
            assert "nextPageToken" not in answer
            return issues
        token = answer["nextPageToken"]


def adf(text: str) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}


def create(client: httpx.Client, project: str = "ENG", **fields: Any) -> dict[str, Any]:
    body = {"fields": {"project": {"key": project}, "issuetype": {"name": "Task"}, "summary": "Spec issue", **fields}}
    response = client.post("/issue", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def fields_of(client: httpx.Client, key: str, *names: str) -> dict[str, Any]:
    response = client.get(f"/issue/{key}", params={"fields": ",".join(names)} if names else {})
    assert response.status_code == 200, response.text
    return response.json()["fields"]


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errorMessages", "errors"}
    return body


# -- authentication --------------------------------------------------------------------------------

def test_basic_email_and_api_token_authenticates(client: httpx.Client) -> None:
    me = client.get("/myself").json()
    assert me["emailAddress"] == API_EMAIL and me["timeZone"] == "Europe/Berlin" and me["accountType"] == "atlassian"


def test_no_credentials_is_401_with_an_error_collection(client: httpx.Client) -> None:
    body = error_of(client.get("/myself", headers={"Authorization": ""}), 401)
    assert body["errorMessages"] == ["You are not authenticated. Authentication required to perform this operation."]


def test_a_wrong_api_token_is_401(client: httpx.Client) -> None:
    wrong = "Basic " + base64.b64encode(f"{API_EMAIL}:not-the-token".encode()).decode()
    error_of(client.get("/myself", headers={"Authorization": wrong}), 401)


def test_the_oauth_token_is_not_accepted_on_the_site(client: httpx.Client) -> None:
    error_of(client.get("/myself", headers=BEARER), 401)


def test_oauth_bearer_goes_through_the_api_gateway_with_the_cloud_id() -> None:
    with served(f"/ex/jira/{CLOUD_ID}", headers=BEARER) as (client, _, _):
        me = client.get("/myself").json()
        assert me["emailAddress"] == API_EMAIL
        issue = client.get("/issue/ENG-1").json()
        assert issue["self"].endswith(f"/ex/jira/{CLOUD_ID}{API}/issue/{issue['id']}")
        error_of(client.get("/myself", headers=BASIC), 401)


def test_a_cloud_id_the_token_has_no_grant_for_is_404() -> None:
    with served(f"/ex/jira/{OTHER_CLOUD_ID}", headers=BEARER) as (client, _, _):
        error_of(client.get("/myself"), 404)


def test_accessible_resources_names_the_cloud_id(client: httpx.Client) -> None:
    root = str(client.base_url).rstrip("/").removesuffix(API)
    sites = httpx.get(f"{root}/oauth/token/accessible-resources", headers=BEARER).json()
    assert [site["id"] for site in sites] == [CLOUD_ID]
    assert "write:jira-work" in sites[0]["scopes"] and sites[0]["url"] == root
    assert httpx.get(f"{root}/oauth/token/accessible-resources").status_code == 401


# -- projects --------------------------------------------------------------------------------------

def test_project_search_pages_with_start_at(client: httpx.Client) -> None:
    first = client.get("/project/search", params={"maxResults": 2}).json()
    assert [p["key"] for p in first["values"]] == ["ENG", "LEGAL"] and first["total"] == 3
    assert first["isLast"] is False and first["nextPage"].endswith("startAt=2&maxResults=2")
    rest = client.get("/project/search", params={"maxResults": 2, "startAt": 2}).json()
    assert [p["key"] for p in rest["values"]] == ["OPS"] and rest["isLast"] is True


def test_project_search_filters_by_keys_and_query(client: httpx.Client) -> None:
    assert [p["key"] for p in client.get("/project/search", params={"keys": "OPS"}).json()["values"]] == ["OPS"]
    assert [p["key"] for p in client.get("/project/search", params={"query": "legal"}).json()["values"]] == ["LEGAL"]


def test_project_by_key_or_id(client: httpx.Client) -> None:
    by_key = client.get("/project/ENG").json()
    assert by_key["id"] == "10000" and {t["name"] for t in by_key["issueTypes"]} >= {"Task", "Bug", "Subtask"}
    assert client.get("/project/10001").json()["key"] == "OPS"
    assert error_of(client.get("/project/NOPE"), 404)["errorMessages"] == ["No project could be found with key 'NOPE'."]


def test_project_statuses_list_each_issue_types_workflow(client: httpx.Client) -> None:
    types = client.get("/project/OPS/statuses").json()
    assert {t["name"] for t in types} == {"Task", "Bug"}
    assert [s["name"] for s in types[0]["statuses"]] == ["Open", "Waiting for customer", "Resolved", "Closed"]


def test_status_categories_are_jiras_own(client: httpx.Client) -> None:
    categories = {c["key"]: c["id"] for c in client.get("/statuscategory").json()}
    assert categories == {"undefined": 1, "new": 2, "indeterminate": 4, "done": 3}


# -- search/jql ------------------------------------------------------------------------------------

def test_search_answers_ids_only_unless_fields_are_asked_for(client: httpx.Client) -> None:
    answer = search(client, "project = ENG", maxResults=3)
    assert [set(issue) for issue in answer["issues"]] == [{"id"}] * 3
    assert answer["isLast"] is False and answer["nextPageToken"]


def test_fields_parameter_selects_fields(client: httpx.Client) -> None:
    issue = search(client, "project = ENG", maxResults=1, fields="summary,status")["issues"][0]
    assert set(issue["fields"]) == {"summary", "status"} and issue["key"].startswith("ENG-")


@pytest.mark.parametrize("page", [37, 50, 100])
def test_paging_with_next_page_token_reaches_every_issue_once(client: httpx.Client, state: State, page: int) -> None:
    found = [issue["id"] for issue in search_all(client, "project = ENG ORDER BY key ASC", page)]
    expected = sorted((i for i in state.issues.values() if i.project == "ENG"), key=lambda i: int(i.key[4:]))
    assert found == [str(i.id) for i in expected] and len(found) >= 250


def test_a_page_is_at_most_100_issues_when_fields_are_asked_for(client: httpx.Client, state: State) -> None:
    assert len(search(client, "project = ENG", maxResults=500, fields="summary")["issues"]) == 100
    eng = sum(1 for issue in state.issues.values() if issue.project == "ENG")
    assert len(search(client, "project = ENG", maxResults=500)["issues"]) == eng  # ids only: up to 5000


def test_post_search_takes_the_same_query_in_a_body(client: httpx.Client) -> None:
    body = {"jql": "project = OPS ORDER BY key ASC", "maxResults": 5, "fields": ["summary"]}
    posted = client.post("/search/jql", json=body).json()
    got = search(client, "project = OPS ORDER BY key ASC", maxResults=5, fields="summary")
    assert posted == got


def test_status_category_filter(client: httpx.Client) -> None:
    issues = search_all(client, 'project = ENG AND statusCategory = "In Progress"', 100, fields="status")
    assert issues and {i["fields"]["status"]["statusCategory"]["key"] for i in issues} == {"indeterminate"}


def test_status_in_by_name(client: httpx.Client, state: State) -> None:
    issues = search_all(client, 'project = ENG AND status in ("To Do", "Done")', 100, fields="status")
    expected = [i for i in state.issues.values() if i.project == "ENG" and i.fields["status"] in ("10000", "10002")]
    assert len(issues) == len(expected) and {i["fields"]["status"]["name"] for i in issues} == {"To Do", "Done"}


def test_assignee_by_account_id_empty_and_current_user(client: httpx.Client, state: State) -> None:
    me = state.users[0]["accountId"]
    mine = search_all(client, f'project = ENG AND assignee = "{me}"', 100, fields="assignee")
    assert mine and {i["fields"]["assignee"]["accountId"] for i in mine} == {me}
    assert len(search_all(client, "project = ENG AND assignee = currentUser()", 100)) == len(mine)
    unassigned = search_all(client, "project = ENG AND assignee is EMPTY", 100, fields="assignee")
    assert unassigned and all(i["fields"]["assignee"] is None for i in unassigned)


def test_not_equal_never_matches_an_empty_field(client: httpx.Client, state: State) -> None:
    me = state.users[0]["accountId"]
    others = search_all(client, f'project = ENG AND assignee != "{me}"', 100, fields="assignee")
    assert all(i["fields"]["assignee"] not in (None,) and i["fields"]["assignee"]["accountId"] != me for i in others)


def test_labels_filter(client: httpx.Client) -> None:
    issues = search_all(client, 'project = ENG AND labels in ("security", "billing")', 100, fields="labels")
    assert issues and all({"security", "billing"} & set(i["fields"]["labels"]) for i in issues)


def test_updated_since_is_read_in_the_searching_users_time_zone(client: httpx.Client, state: State) -> None:
    eng = sorted((i for i in state.issues.values() if i.project == "ENG"), key=lambda i: i.fields["updated"])
    pivot = datetime.fromisoformat(eng[len(eng) // 2].fields["updated"].replace("+0000", "+00:00"))
    local = pivot.astimezone(ZoneInfo("Europe/Berlin")).replace(second=0, microsecond=0)
    found = search_all(client, f'project = ENG AND updated >= "{local:%Y-%m-%d %H:%M}"', 100, fields="updated")
    bound = local.astimezone(UTC)
    expected = [i for i in eng if datetime.fromisoformat(i.fields["updated"].replace("+0000", "+00:00")) >= bound]
    assert len(found) == len(expected) and len(expected) < len(eng)


def test_order_by_updated_desc_then_key(client: httpx.Client) -> None:
    issues = search(client, "project = ENG ORDER BY updated DESC, key DESC", maxResults=100, fields="updated")["issues"]
    stamps = [i["fields"]["updated"] for i in issues]
    assert stamps == sorted(stamps, reverse=True)


def test_escaped_values_are_values(client: httpx.Client) -> None:
    assert search(client, 'project = ENG AND labels = "x\\" OR project = \\"OPS"')["issues"] == []


def test_unbounded_jql_is_refused(client: httpx.Client) -> None:
    assert error_of(client.get("/search/jql", params={"jql": "ORDER BY key"}), 400)["errorMessages"] == [UNBOUNDED]
    assert error_of(client.get("/search/jql"), 400)["errorMessages"] == [UNBOUNDED]


@pytest.mark.parametrize(("jql", "message"), [
    ("projekt = ENG", "Field 'projekt' does not exist or you do not have permission to view it."),
    ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
    ("project = ENG AND status = Doing", "The value 'Doing' does not exist for the field 'status'."),
    ('updated >= "yesterday"', "Date value 'yesterday' for field 'updated' is invalid."),
    ("project = ENG OR project = OPS", "Expecting 'AND' or 'ORDER BY'"),
    ("project = E#G", "The character '#' is a reserved JQL character"),
])
def test_bad_jql_is_400_naming_the_problem(client: httpx.Client, jql: str, message: str) -> None:
    assert message in error_of(client.get("/search/jql", params={"jql": jql}), 400)["errorMessages"][0]


def test_a_page_token_belongs_to_its_query(client: httpx.Client) -> None:
    token = search(client, "project = ENG", maxResults=10)["nextPageToken"]
    response = client.get("/search/jql", params={"jql": "project = OPS", "nextPageToken": token})
    assert error_of(response, 400)["errorMessages"] == ["The provided next page token is invalid or expired."]


# -- issues ----------------------------------------------------------------------------------------

def test_create_answers_id_key_self_and_starts_in_the_workflows_initial_status(client: httpx.Client) -> None:
    made = create(client, "OPS", description=adf("Customer cannot log in"), labels=["customer"],
                  duedate="2025-03-01")
    assert made["key"].startswith("OPS-") and made["self"].endswith(f"/issue/{made['id']}")
    fields = fields_of(client, made["key"])
    assert fields["status"]["name"] == "Open" and fields["status"]["statusCategory"]["key"] == "new"
    assert fields["priority"]["name"] == "Medium" and fields["reporter"]["displayName"] == "Mia Krystof"
    assert fields["description"] == adf("Customer cannot log in") and fields["labels"] == ["customer"]
    assert fields["duedate"] == "2025-03-01" and fields["resolutiondate"] is None


def test_create_reports_every_missing_required_field(client: httpx.Client) -> None:
    body = error_of(client.post("/issue", json={"fields": {"project": {"key": "ENG"}}}), 400)
    assert body["errors"] == {"summary": "You must specify a summary of the issue.", "issuetype": "Specify an issue type"}


def test_create_needs_a_project(client: httpx.Client) -> None:
    body = error_of(client.post("/issue", json={"fields": {"summary": "x"}}), 400)
    assert body["errors"] == {"project": "Specify a valid project ID or key"}


def test_description_must_be_adf(client: httpx.Client) -> None:
    body = {"fields": {"project": {"key": "ENG"}, "issuetype": {"name": "Task"}, "summary": "x",
                       "description": "plain text"}}
    assert error_of(client.post("/issue", json=body), 400)["errors"] == {
        "description": "Operation value must be an Atlassian Document (see the Atlassian Document Format)"}


def test_status_cannot_be_set_by_editing(client: httpx.Client) -> None:
    made = create(client)
    body = error_of(client.put(f"/issue/{made['key']}", json={"fields": {"status": {"name": "Done"}}}), 400)
    assert body["errors"] == {"status": "Field 'status' cannot be set. It is not on the appropriate screen, or unknown."}


def test_priority_must_be_in_the_projects_scheme(client: httpx.Client) -> None:
    body = {"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "x",
                       "priority": {"name": "Highest"}}}
    assert error_of(client.post("/issue", json=body), 400)["errors"]["priority"].startswith(
        "The priority selected is invalid. Valid priorities for this project: High, Medium, Low.")
    assert fields_of(client, create(client, "OPS", priority={"id": "2"})["key"], "priority")["priority"]["name"] == "High"


def test_assignee_must_be_assignable_in_the_project(client: httpx.Client, state: State) -> None:
    outsider = state.users[5]["accountId"]  # not a member of OPS
    body = {"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "x",
                       "assignee": {"accountId": outsider}}}
    assert error_of(client.post("/issue", json=body), 400)["errors"] == {
        "assignee": f"User '{outsider}' cannot be assigned issues."}


def test_custom_fields_are_written_and_read_by_id(client: httpx.Client) -> None:
    made = create(client, customfield_10016=5, customfield_10042="Initech", customfield_10043={"value": "Major"},
                  customfield_10044=adf("A race in the cache"))
    fields = fields_of(client, made["key"], "customfield_10016", "customfield_10042", "customfield_10043",
                       "customfield_10044")
    assert fields["customfield_10016"] == 5.0 and fields["customfield_10042"] == "Initech"
    assert fields["customfield_10043"]["value"] == "Major" and fields["customfield_10043"]["id"] == "10101"
    assert fields["customfield_10044"] == adf("A race in the cache")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("customfield_10016", "five", "Operation value must be a number"),
    ("customfield_10043", {"value": "Blocker"}, "Option value 'Blocker' is not valid"),
    ("customfield_10044", "text", "Operation value must be an Atlassian Document"),
    ("customfield_99999", "x", "Field 'customfield_99999' cannot be set."),
])
def test_custom_field_values_are_checked(client: httpx.Client, field: str, value: Any, message: str) -> None:
    body = {"fields": {"project": {"key": "ENG"}, "issuetype": {"name": "Task"}, "summary": "x", field: value}}
    assert error_of(client.post("/issue", json=body), 400)["errors"][field].startswith(message)


def test_edit_sets_fields_and_applies_label_operations(client: httpx.Client) -> None:
    made = create(client, labels=["api", "docs"])
    response = client.put(f"/issue/{made['key']}", json={
        "fields": {"summary": "Renamed", "duedate": None},
        "update": {"labels": [{"add": "security"}, {"remove": "docs"}]}})
    assert response.status_code == 204 and response.content == b""
    fields = fields_of(client, made["key"], "summary", "labels", "duedate")
    assert fields == {"summary": "Renamed", "labels": ["api", "security"], "duedate": None}


def test_edit_with_return_issue_answers_the_issue(client: httpx.Client) -> None:
    made = create(client)
    response = client.put(f"/issue/{made['id']}", params={"returnIssue": "true"},
                          json={"fields": {"parent": {"key": "ENG-1"}}})
    assert response.status_code == 200 and response.json()["fields"]["parent"]["key"] == "ENG-1"


def test_delete_with_subtasks_needs_delete_subtasks(client: httpx.Client) -> None:
    parent = create(client)
    child = create(client, issuetype={"name": "Subtask"}, parent={"key": parent["key"]})
    assert "has subtasks" in error_of(client.delete(f"/issue/{parent['key']}"), 400)["errorMessages"][0]
    assert client.delete(f"/issue/{parent['key']}", params={"deleteSubtasks": "true"}).status_code == 204
    for key in (parent["key"], child["key"]):
        assert error_of(client.get(f"/issue/{key}"), 404)["errorMessages"] == [
            "Issue does not exist or you do not have permission to see it."]


def test_expand_names_maps_field_ids_to_names(client: httpx.Client) -> None:
    issue = client.get("/issue/ENG-2", params={"fields": "summary,customfield_10016", "expand": "names"}).json()
    assert issue["names"] == {"summary": "Summary", "customfield_10016": "Story Points"}


# -- transitions -----------------------------------------------------------------------------------

def transitions(client: httpx.Client, key: str) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in client.get(f"/issue/{key}/transitions").json()["transitions"]}


def status_of(client: httpx.Client, key: str) -> dict[str, Any]:
    return fields_of(client, key, "status", "resolutiondate")


def test_transitions_offer_the_workflows_moves_from_the_current_status(client: httpx.Client) -> None:
    made = create(client)
    moves = transitions(client, made["key"])
    assert set(moves) == {"Start progress", "Done"}
    assert moves["Start progress"]["to"]["statusCategory"]["key"] == "indeterminate"


def test_a_transition_moves_the_issue_and_done_sets_the_resolution_date(client: httpx.Client) -> None:
    made = create(client)
    for name, status, category in (("Start progress", "In Progress", "indeterminate"),
                                   ("Request review", "In Review", "indeterminate"), ("Done", "Done", "done")):
        response = client.post(f"/issue/{made['key']}/transitions",
                               json={"transition": {"id": transitions(client, made["key"])[name]["id"]}})
        assert response.status_code == 204
        fields = status_of(client, made["key"])
        assert (fields["status"]["name"], fields["status"]["statusCategory"]["key"]) == (status, category)
    assert status_of(client, made["key"])["resolutiondate"] is not None
    client.post(f"/issue/{made['key']}/transitions", json={"transition": {"id": transitions(client, made["key"])["Reopen"]["id"]}})
    assert status_of(client, made["key"])["resolutiondate"] is None


def test_a_transition_not_available_from_the_current_status_is_400(client: httpx.Client) -> None:
    made = create(client)
    response = client.post(f"/issue/{made['key']}/transitions", json={"transition": {"id": "21"}})
    assert error_of(response, 400)["errorMessages"] == ["Transition id '21' is not valid for this issue."]


def test_the_approval_workflow_has_no_in_progress_status(client: httpx.Client) -> None:
    made = create(client, "LEGAL")
    categories = {t["to"]["statusCategory"]["key"] for t in transitions(client, made["key"]).values()}
    assert categories == {"done"}
    assert {STATUSES[s][1] for s in ("10004", "10005")} == {2, 3}


# -- comments --------------------------------------------------------------------------------------

def test_comment_lifecycle_with_adf_bodies(client: httpx.Client, state: State) -> None:
    made = create(client)
    url = f"/issue/{made['key']}/comment"
    first = client.post(url, json={"body": adf("First")})
    assert first.status_code == 201 and first.json()["author"]["accountId"] == state.users[0]["accountId"]
    second = client.post(url, json={"body": adf("Second")}).json()
    page = client.get(url).json()
    assert [c["body"] for c in page["comments"]] == [adf("First"), adf("Second")] and page["total"] == 2
    assert client.get(url, params={"orderBy": "-created"}).json()["comments"][0]["id"] == second["id"]
    updated = client.put(f"{url}/{second['id']}", json={"body": adf("Edited")})
    assert updated.status_code == 200 and client.get(f"{url}/{second['id']}").json()["body"] == adf("Edited")
    assert client.delete(f"{url}/{second['id']}").status_code == 204
    assert error_of(client.get(f"{url}/{second['id']}"), 404)["errorMessages"] == [
        f"Can not find a comment for the id: {second['id']}."]


def test_comment_pages_with_start_at(client: httpx.Client) -> None:
    made = create(client)
    for n in range(5):
        client.post(f"/issue/{made['key']}/comment", json={"body": adf(f"c{n}")})
    page = client.get(f"/issue/{made['key']}/comment", params={"startAt": 3, "maxResults": 10}).json()
    assert [c["body"] for c in page["comments"]] == [adf("c3"), adf("c4")] and page["startAt"] == 3


def test_a_comment_body_must_be_adf(client: httpx.Client, checked: SpecCheck) -> None:
    made = create(client)
    with checked.requests_unchecked():  # a string body is what the description forbids
        response = client.post(f"/issue/{made['key']}/comment", json={"body": "plain"})
    assert error_of(response, 400)["errors"] == {
        "comment": "Operation value must be an Atlassian Document (see the Atlassian Document Format)"}


# -- users, labels, priorities, fields -------------------------------------------------------------

def test_assignable_users_of_a_project(client: httpx.Client, state: State) -> None:
    users = client.get("/user/assignable/search", params={"project": "OPS"}).json()
    assert [u["accountId"] for u in users] == [u["accountId"] for u in state.users[:4]]
    assert [u["displayName"] for u in client.get("/user/assignable/search",
                                                 params={"project": "ENG", "query": "grace"}).json()] == ["Grace Okafor"]
    assert "emailAddress" not in users[0]  # hidden by the users' profile visibility


def test_assignable_users_need_a_project_or_issue(client: httpx.Client) -> None:
    error_of(client.get("/user/assignable/search"), 400)
    assert len(client.get("/user/assignable/search", params={"issueKey": "LEGAL-1"}).json()) == 2


def test_labels_list_every_label_in_use(client: httpx.Client, state: State) -> None:
    page = client.get("/label").json()
    used = {label for issue in state.issues.values() for label in issue.fields["labels"]}
    assert set(page["values"]) >= used and page["isLast"] is True and page["maxResults"] == 1000


def test_priorities_and_per_project_schemes(client: httpx.Client) -> None:
    assert [p["name"] for p in client.get("/priority").json()] == ["Highest", "High", "Medium", "Low", "Lowest"]
    ops = client.get("/priority/search", params={"projectId": "10001"}).json()
    assert [p["name"] for p in ops["values"]] == ["High", "Medium", "Low"] and ops["total"] == 3


def test_fields_include_custom_fields_with_their_types(client: httpx.Client) -> None:
    fields = {f["name"]: f for f in client.get("/field").json()}
    assert fields["Story Points"]["id"] == "customfield_10016" and fields["Story Points"]["custom"] is True
    kinds = {name: fields[name]["schema"]["custom"].rsplit(":", 1)[1]
             for name in ("Story Points", "Customer", "Severity", "Root cause")}
    assert kinds == {"Story Points": "float", "Customer": "textfield", "Severity": "select", "Root cause": "textarea"}
    assert fields["Summary"]["custom"] is False and fields["Labels"]["schema"] == {"type": "array", "system": "labels",
                                                                                   "items": "string"}


# -- rate limits and faults ------------------------------------------------------------------------

def test_burst_rate_limit_is_429_with_retry_after_and_jiras_headers() -> None:
    with served(rate_limit=3, rate_window=60) as (client, _, _):
        for _ in range(3):
            assert client.get("/myself").status_code == 200
        limited = client.get("/myself")
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
        assert limited.headers["x-ratelimit-remaining"] == "0" and limited.headers["ratelimit-reason"] == "jira-burst-based"
        assert limited.json() == {"errorMessages": ["Rate limit exceeded."], "errors": {}}


def test_injected_faults_pass_through_the_control_wrapper() -> None:
    control = create_app(issue_count=1)
    with BackgroundServer(control) as server:
        control.add_fault(path="/rest/api/3/myself", status=503, retry_after=4, times=1,
                          body={"errorMessages": ["Service unavailable"], "errors": {}})
        first = httpx.get(f"{server.url}{API}/myself", headers=BASIC)
        assert first.status_code == 503 and first.headers["retry-after"] == "4"
        assert httpx.get(f"{server.url}{API}/myself", headers=BASIC).status_code == 200


# -- more of JQL, field checks and request errors ----------------------------------------------------

def keys_of(client: httpx.Client, jql: str) -> set[str]:
    return {i["key"] for i in search_all(client, jql, 100, fields="summary")}


def eng(state: State, test: Any) -> set[str]:
    return {i.key for i in state.issues.values() if i.project == "ENG" and test(i)}


@pytest.mark.parametrize(("jql", "test"), [
    ('project = ENG AND status not in ("Done", "To Do")', lambda i: i.fields["status"] not in ("10002", "10000")),
    ("project = ENG AND duedate is not EMPTY", lambda i: i.fields["duedate"] is not None),
    ('project = ENG AND priority in (Highest, "2")', lambda i: i.fields["priority"] in ("1", "2")),
    ("project = ENG AND issuetype = Bug", lambda i: i.fields["issuetype"] == "10002"),
    ("project = ENG AND labels is EMPTY", lambda i: not i.fields["labels"]),
    ('project = ENG AND summary ~ "CART"', lambda i: "cart" in i.fields["summary"].lower()),
    ('project = ENG AND statusCategory = done', lambda i: STATUSES[i.fields["status"]][1] == 3),
    ('project = ENG AND labels = "\\u0061pi"', lambda i: "api" in i.fields["labels"]),
    ('project = ENG AND labels in ("a\\\\b", "q\\"q", \'s\\\'s\', "sp\\ ace")', lambda i: False),
])
def test_jql_clauses_select_what_jira_would(client: httpx.Client, state: State, jql: str, test: Any) -> None:
    assert keys_of(client, jql) == eng(state, test)


def test_key_in_and_parent(client: httpx.Client, state: State) -> None:
    assert keys_of(client, "key in (ENG-1, ENG-2, 10002)") == {"ENG-1", "ENG-2", "ENG-3"}
    child = next(i for i in state.issues.values() if i.project == "ENG" and i.fields["parent"])
    parent = state.issues[child.fields["parent"]]
    assert child.key in keys_of(client, f"parent = {parent.key}")


def test_created_before_and_order_by_priority(client: httpx.Client) -> None:
    issues = search(client, 'project = ENG AND created < "2025-02-01" ORDER BY priority DESC, key ASC',
                    maxResults=100, fields="priority,created")["issues"]
    assert issues and all(i["fields"]["created"] < "2025-02-01" for i in issues)
    ranks = [int(i["fields"]["priority"]["id"]) for i in issues]
    assert ranks == sorted(ranks)  # Highest (1) first


@pytest.mark.parametrize(("jql", "message"), [
    ("project = ENG ORDER updated", "Expecting 'BY' after 'ORDER'."),
    ("project = ENG ORDER BY updated DESC key", "Expecting ',' but got 'key'."),
    ("project = ENG ORDER BY votes", "Field 'votes' does not exist"),
    ("project in ENG", "Expecting '(' after 'in'."),
    ("project in (ENG OPS)", "Expecting ')' to close the list."),
    ("project = ", "Expecting either a value, list or function but got the end of the query."),
    ("project ENG", "Expecting operator but got 'ENG'."),
    ("status ~ Done", "The operator '~' is not supported by the 'status' field."),
    ("assignee is Mia", "The operator 'is' only supports EMPTY or NULL."),
    ("assignee = nobody", "The value 'nobody' does not exist for the field 'assignee'."),
    ("assignee = now()", "The value 'now()' does not exist for the field 'assignee'."),
    ("key = ENG-99999", "An issue with key 'ENG-99999' does not exist for field 'key'."),
    ("project = (", "Expecting a value but got '('."),
    ('project = "\\u12"', "'\\u' is an illegal JQL escape sequence."),
])
def test_more_bad_jql(client: httpx.Client, jql: str, message: str) -> None:
    assert message in error_of(client.get("/search/jql", params={"jql": jql}), 400)["errorMessages"][0]


@pytest.mark.parametrize(("fields", "errors"), [
    ({"summary": "x" * 256}, {"summary": "Summary must be less than 255 characters."}),
    ({"labels": ["two words"]}, {"labels": "The label 'two words' contains spaces which is invalid."}),
    ({"labels": "api"}, {"labels": "Operation value must be a list of strings"}),
    ({"duedate": "01/02/2025"}, {"duedate": "Error parsing date string: 01/02/2025"}),
    ({"issuetype": {"name": "Epic"}}, {"issuetype": "The issue type selected is invalid."}),
    ({"parent": {"key": "ENG-99999"}}, {"parent": "Could not find issue by id or key."}),
    ({"priority": "High"}, {"priority": "Specify the Priority (id or name) in the string format"}),
    ({"reporter": None}, {"reporter": "Reporter is required."}),
    ({"customfield_10042": 42}, {"customfield_10042": "Operation value must be a string of at most 255 characters"}),
])
def test_field_values_are_checked_on_create(client: httpx.Client, fields: dict[str, Any], errors: dict[str, str]) -> None:
    body = {"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "x", **fields}}
    assert error_of(client.post("/issue", json=body), 400)["errors"] == errors


def test_update_operations_jira_does_not_support_are_400(client: httpx.Client, checked: SpecCheck) -> None:
    made = create(client)
    body = {"update": {"summary": [{"add": "x"}], "labels": "api"}}
    with checked.requests_unchecked():  # a bare string where the description wants a list
        response = client.put(f"/issue/{made['key']}", json=body)
    assert error_of(response, 400)["errors"] == {
        "summary": "Field 'summary' does not support the operation 'add'.", "labels": "Operations must be a list."}
    assert client.put(f"/issue/{made['key']}", json={"update": {"summary": [{"set": "Via set"}]}}).status_code == 204
    assert fields_of(client, made["key"], "summary")["summary"] == "Via set"


def test_an_issue_cannot_be_its_own_parent(client: httpx.Client) -> None:
    made = create(client)
    response = client.put(f"/issue/{made['key']}", json={"fields": {"parent": {"id": made["id"]}}})
    assert error_of(response, 400)["errors"] == {"parent": "An issue cannot be its own parent."}


def test_deleting_a_parent_keeps_its_other_children(client: httpx.Client) -> None:
    parent = create(client, issuetype={"name": "Epic"})
    story = create(client, issuetype={"name": "Story"}, parent={"key": parent["key"]})
    assert client.delete(f"/issue/{parent['key']}").status_code == 204
    assert fields_of(client, story["key"], "parent")["parent"] is None


def test_a_transition_needs_an_id(client: httpx.Client) -> None:
    made = create(client)
    response = client.post(f"/issue/{made['key']}/transitions", json={"transition": {}})
    assert error_of(response, 400)["errorMessages"] == ["'transition' identifier must be specified."]


def test_a_transition_can_set_fields_on_the_way(client: httpx.Client) -> None:
    made = create(client)
    response = client.post(f"/issue/{made['key']}/transitions",
                           json={"transition": {"id": "41"}, "fields": {"customfield_10042": "Globex"}})
    assert response.status_code == 204
    fields = fields_of(client, made["key"], "status", "customfield_10042")
    assert (fields["status"]["name"], fields["customfield_10042"]) == ("Done", "Globex")


def test_comment_errors(client: httpx.Client, checked: SpecCheck) -> None:
    made = create(client)
    url = f"/issue/{made['key']}/comment"
    with checked.requests_unchecked():  # the description lists the orderBy values
        response = client.get(url, params={"orderBy": "updated"})
    assert "Unsupported orderBy" in error_of(response, 400)["errorMessages"][0]
    assert error_of(client.post(url, json={}), 400)["errors"] == {"comment": "Comment body can not be empty!"}


def test_search_post_needs_a_numeric_max_results(client: httpx.Client, checked: SpecCheck) -> None:
    with checked.requests_unchecked():
        response = client.post("/search/jql", json={"jql": "project = ENG", "maxResults": "ten"})
    assert error_of(response, 400)["errorMessages"] == ["maxResults must be a number."]


def test_a_body_that_is_not_json_is_400(client: httpx.Client, checked: SpecCheck) -> None:
    with checked.requests_unchecked():
        response = client.post("/issue", content=b"{nope", headers={"Content-Type": "application/json"})
    assert error_of(response, 400)["errorMessages"] == ["Unexpected character: the request body is not valid JSON."]


def test_a_basic_header_that_is_not_base64_is_401(client: httpx.Client) -> None:
    assert error_of(client.get("/myself", headers={"Authorization": "Basic ***"}), 401)["errorMessages"] == [
        "Basic authentication header is not valid."]


def test_assignable_search_by_issue_and_account(client: httpx.Client, state: State) -> None:
    ravi = state.users[1]["accountId"]
    users = client.get("/user/assignable/search", params={"issueKey": "OPS-1", "accountId": ravi}).json()
    assert [u["accountId"] for u in users] == [ravi]
    assert error_of(client.get("/user/assignable/search", params={"issueKey": "OPS-999"}), 404)


def test_unknown_paths_answer_an_error_collection() -> None:
    with BackgroundServer(create_app(issue_count=1)) as server:
        response = httpx.get(f"{server.url}{API}/nope", headers=BASIC)
        assert response.status_code == 404 and response.json()["errors"] == {}
