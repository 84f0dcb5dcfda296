"""Specification of the GitHub REST simulator, over real HTTP, every exchange checked against
GitHub's own OpenAPI description (``connectors/github/spec/``) by ``unigate.testing.vendor_spec``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import httpx
import pytest

from unigate.kit import BackgroundServer
from unigate.testing.vendor_spec import SpecCheck, SpecViolation, VendorSpec
from unigate_connectors.github.simulator import (
    DEFAULT_TOKEN,
    HIDDEN_REPO,
    MAIN_REPO,
    NO_ISSUES_REPO,
    ORG_REPO,
    State,
    create_app,
)

SPEC_DIR = Path(__file__).resolve().parent.parent / "spec"
EXAMPLES = SPEC_DIR / "examples"
BASIC = "#/components/schemas/basic-error"
# Statuses GitHub may answer on any operation (auth, rate limits, no access, conditional GETs,
# issues disabled on every issue path) without the description listing them on each one.
UNDECLARED = {304: None, 401: BASIC, 403: BASIC, 404: BASIC, 410: BASIC, 429: BASIC}
HELLO = f"/repos/{MAIN_REPO[0]}/{MAIN_REPO[1]}"
ORG = f"/repos/{ORG_REPO[0]}/{ORG_REPO[1]}"
AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def load_spec(base_path: str = "") -> VendorSpec:
    return VendorSpec.load(SPEC_DIR / "api.github.com.issues.json", base_path=base_path, undeclared=UNDECLARED)


@contextmanager
def served(base_path: str = "", **options: Any) -> Iterator[tuple[httpx.Client, SpecCheck, State]]:
    """A simulator of its own, spec-checked, and a client with the token; clean at the end."""
    control = create_app(base_path=base_path, **options)
    state: State = cast(Any, control.app).state.simulator
    checked = SpecCheck.inside(control, load_spec(base_path))
    with BackgroundServer(control) as server, \
            httpx.Client(base_url=server.url + base_path, headers=AUTH, timeout=10) as client:
        yield client, checked, state
    checked.assert_clean()


@pytest.fixture(scope="module")
def simulator() -> Iterator[tuple[httpx.Client, SpecCheck, State]]:
    with served(writes_per_minute=100_000) as running:  # the secondary limit has tests of its own
        yield running
    assert running[1].checked > 100  # the module's exchanges were all looked at


@pytest.fixture
def client(simulator: tuple[httpx.Client, SpecCheck, State]) -> Iterator[httpx.Client]:
    yield simulator[0]
    simulator[1].assert_clean()  # every exchange of this test matched GitHub's description


@pytest.fixture
def checked(simulator: tuple[httpx.Client, SpecCheck, State]) -> SpecCheck:
    return simulator[1]


@pytest.fixture
def state(simulator: tuple[httpx.Client, SpecCheck, State]) -> State:
    return simulator[2]


def hello(state: State) -> Any:
    return state.repos[MAIN_REPO[2]]


def all_pages(client: httpx.Client, url: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    response = client.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        rows += response.json()
        if "next" not in response.links:
            return rows
        response = client.get(response.links["next"]["url"])


def new_issue(client: httpx.Client, repo: str = HELLO, **fields: Any) -> dict[str, Any]:
    response = client.post(f"{repo}/issues", json={"title": "Spec issue", **fields})
    assert response.status_code == 201, response.text
    return response.json()


# -- authentication ------------------------------------------------------------------------------

def test_no_credentials_is_401_requires_authentication(client: httpx.Client) -> None:
    response = client.get("/user", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.json() == {"message": "Requires authentication", "documentation_url": "https://docs.github.com/rest",
                               "status": "401"}


def test_a_wrong_token_is_401_bad_credentials(client: httpx.Client) -> None:
    response = client.get("/user", headers={"Authorization": "Bearer ghp_wrong"})
    assert (response.status_code, response.json()["message"]) == (401, "Bad credentials")


def test_the_token_scheme_is_accepted_like_bearer(client: httpx.Client) -> None:
    response = client.get("/user", headers={"Authorization": f"token {DEFAULT_TOKEN}"})
    assert (response.status_code, response.json()["login"]) == (200, "octocat")


# -- repositories --------------------------------------------------------------------------------

def test_user_repos_lists_what_the_token_can_see(client: httpx.Client, state: State) -> None:
    names = [r["full_name"] for r in all_pages(client, "/user/repos")]
    visible = sorted((r.full_name for r in state.repos.values() if r.visible), key=str.lower)
    assert names == visible and "/".join(HIDDEN_REPO[:2]) not in names


def test_a_repository_by_name_and_by_id_is_the_same_full_repository(client: httpx.Client) -> None:
    by_name = client.get(HELLO).json()
    assert by_name["id"] == MAIN_REPO[2] and by_name["full_name"] == "octocat/Hello-World"
    assert client.get(f"/repositories/{MAIN_REPO[2]}").json() == by_name


def test_a_repository_the_token_cannot_see_is_404_not_found(client: httpx.Client) -> None:
    response = client.get(f"/repos/{HIDDEN_REPO[0]}/{HIDDEN_REPO[1]}/issues")
    assert (response.status_code, response.json()["message"]) == (404, "Not Found")


def test_a_renamed_repository_is_301_to_its_repositories_id_url(client: httpx.Client) -> None:
    response = client.get("/repos/octocat/Old-World/issues")
    target = f"{client.base_url}/repositories/{MAIN_REPO[2]}"
    assert response.status_code == 301 and response.headers["location"] == target
    assert response.json()["message"] == "Moved Permanently" and response.json()["url"] == target
    assert client.get(response.headers["location"]).json()["name"] == "Hello-World"


def test_a_repository_with_issues_disabled_is_410(client: httpx.Client) -> None:
    response = client.get(f"/repos/{NO_ISSUES_REPO[0]}/{NO_ISSUES_REPO[1]}/issues")
    assert (response.status_code, response.json()["message"]) == (410, "Issues are disabled for this repo")


def test_assignees_are_the_repositorys_collaborators(client: httpx.Client, state: State) -> None:
    assert [u["login"] for u in all_pages(client, f"{HELLO}/assignees")] == list(hello(state).collaborators)


# -- listing issues ------------------------------------------------------------------------------

def test_issue_lists_hold_pull_requests_too_marked_by_pull_request(client: httpx.Client, state: State) -> None:
    rows = all_pages(client, f"{HELLO}/issues", state="all", per_page=100)
    prs = {i["number"] for i in hello(state).issues.values() if i["pull_request"]}
    assert prs and {r["number"] for r in rows if "pull_request" in r} == prs
    assert all(r["pull_request"]["html_url"].endswith(f"/pull/{r['number']}") for r in rows if "pull_request" in r)


def test_the_default_list_is_open_issues_newest_created_first(client: httpx.Client, state: State) -> None:
    rows = all_pages(client, f"{HELLO}/issues", per_page=100)
    expected = sorted((i for i in hello(state).issues.values() if i["state"] == "open"),
                      key=lambda i: (i["created_at"], i["number"]), reverse=True)
    assert [r["number"] for r in rows] == [i["number"] for i in expected]


def test_state_closed_and_all(client: httpx.Client, state: State) -> None:
    closed = {i["number"] for i in hello(state).issues.values() if i["state"] == "closed"}
    assert {r["number"] for r in all_pages(client, f"{HELLO}/issues", state="closed", per_page=100)} == closed
    assert len(all_pages(client, f"{HELLO}/issues", state="all", per_page=100)) == len(hello(state).issues)


def test_an_unknown_state_is_422_validation_failed(client: httpx.Client, checked: SpecCheck) -> None:
    with checked.requests_unchecked():
        response = client.get(f"{HELLO}/issues", params={"state": "done"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"value": "done", "resource": "Issue", "code": "invalid", "field": "state"}]


def test_labels_filter_needs_every_label_case_insensitively(client: httpx.Client, state: State) -> None:
    rows = all_pages(client, f"{HELLO}/issues", state="all", labels="BUG,enhancement", per_page=100)
    expected = {i["number"] for i in hello(state).issues.values() if {"bug", "enhancement"} <= set(i["labels"])}
    assert {r["number"] for r in rows} == expected
    assert all({"bug", "enhancement"} <= {label["name"] for label in r["labels"]} for r in rows)


@pytest.mark.parametrize("assignee", ["hubot", "none", "*"])
def test_assignee_filter_by_login_none_or_any(client: httpx.Client, state: State, assignee: str) -> None:
    rows = all_pages(client, f"{HELLO}/issues", state="all", assignee=assignee, per_page=100)
    test = {"none": lambda a: not a, "*": bool}.get(assignee, lambda a: assignee in a)
    expected = {i["number"] for i in hello(state).issues.values() if test(i["assignees"])}
    assert expected and {r["number"] for r in rows} == expected


def test_creator_and_milestone_filters(client: httpx.Client, state: State) -> None:
    rows = all_pages(client, f"{HELLO}/issues", state="all", creator="monalisa", milestone="1", per_page=100)
    expected = {i["number"] for i in hello(state).issues.values() if i["user"] == "monalisa" and i["milestone"] == 1}
    assert expected and {r["number"] for r in rows} == expected


def test_since_keeps_issues_updated_at_or_after(client: httpx.Client, state: State) -> None:
    stamps = sorted(i["updated_at"] for i in hello(state).issues.values())
    since = stamps[len(stamps) // 2]
    rows = all_pages(client, f"{HELLO}/issues", state="all", since=since, per_page=100)
    assert {r["number"] for r in rows} == {i["number"] for i in hello(state).issues.values() if i["updated_at"] >= since}


def test_an_unreadable_since_is_422(client: httpx.Client, checked: SpecCheck) -> None:
    with checked.requests_unchecked():  # the description wants a date-time, so does the checker
        response = client.get(f"{HELLO}/issues", params={"since": "last tuesday"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"value": "last tuesday", "resource": "Issue", "code": "invalid",
                                          "field": "since"}]


def test_sort_updated_ascending(client: httpx.Client) -> None:
    rows = all_pages(client, f"{HELLO}/issues", state="all", sort="updated", direction="asc", per_page=100)
    assert [r["updated_at"] for r in rows] == sorted(r["updated_at"] for r in rows)


def test_sort_by_comments_descending(client: httpx.Client) -> None:
    counts = [r["comments"] for r in all_pages(client, f"{HELLO}/issues", state="all", sort="comments", per_page=100)]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0


def test_type_filter_on_an_organisation_repository(client: httpx.Client, state: State) -> None:
    rows = all_pages(client, f"{ORG}/issues", state="all", type="Bug")
    bug = next(t["id"] for t in state.issue_types[ORG_REPO[0]] if t["name"] == "Bug")
    expected = {i["number"] for i in state.repos[ORG_REPO[2]].issues.values() if i["type"] == bug}
    assert expected and {r["number"] for r in rows} == expected and {r["type"]["name"] for r in rows} == {"Bug"}


# -- paging --------------------------------------------------------------------------------------

@pytest.mark.parametrize("per_page", [1, 7, 30, 100])
def test_link_paging_walks_every_issue_once(client: httpx.Client, state: State, per_page: int) -> None:
    if per_page == 1:  # 300 pages: walk the closed ones only
        numbers = [r["number"] for r in all_pages(client, f"{HELLO}/issues", state="closed", per_page=1)]
        assert sorted(numbers) == sorted(i["number"] for i in hello(state).issues.values() if i["state"] == "closed")
        return
    numbers = [r["number"] for r in all_pages(client, f"{HELLO}/issues", state="all", per_page=per_page)]
    assert sorted(numbers) == sorted(hello(state).issues) and len(numbers) == len(set(numbers))


def test_the_first_page_links_next_and_last_only(client: httpx.Client, state: State) -> None:
    response = client.get(f"{HELLO}/issues", params={"state": "all", "per_page": 50})
    pages = -(-len(hello(state).issues) // 50)
    assert set(response.links) == {"next", "last"}
    assert response.links["last"]["url"].endswith(f"state=all&per_page=50&page={pages}")
    assert len(response.json()) == 50


def test_a_middle_page_links_prev_next_last_and_first(client: httpx.Client) -> None:
    response = client.get(f"{HELLO}/issues", params={"state": "all", "per_page": 50, "page": 2})
    assert set(response.links) == {"prev", "next", "last", "first"}
    assert response.links["first"]["url"].endswith("page=1") and response.links["prev"]["url"].endswith("page=1")


def test_per_page_is_capped_at_100_and_defaults_to_30(client: httpx.Client) -> None:
    with_default = client.get(f"{HELLO}/issues", params={"state": "all"}).json()
    capped = client.get(f"{HELLO}/issues", params={"state": "all", "per_page": 250}).json()
    assert (len(with_default), len(capped)) == (30, 100)


def test_a_page_past_the_end_is_empty(client: httpx.Client) -> None:
    response = client.get(f"{HELLO}/issues", params={"state": "all", "page": 99})
    assert response.json() == [] and "next" not in response.links and "first" in response.links


# -- one issue -----------------------------------------------------------------------------------

def test_get_issue_by_number(client: httpx.Client, state: State) -> None:
    stored = hello(state).issues[42]
    issue = client.get(f"{HELLO}/issues/42").json()
    assert (issue["number"], issue["id"], issue["title"], issue["state"]) == \
        (42, stored["id"], stored["title"], stored["state"])
    assert [label["name"] for label in issue["labels"]] == stored["labels"]
    assert [u["login"] for u in issue["assignees"]] == stored["assignees"]


def test_an_unknown_issue_number_is_404(client: httpx.Client) -> None:
    assert client.get(f"{HELLO}/issues/999999").status_code == 404


def test_create_issue_answers_201_with_location(client: httpx.Client, state: State) -> None:
    response = client.post(f"{HELLO}/issues", json={"title": "New one", "body": "text", "assignees": ["hubot"]})
    made = response.json()
    assert response.status_code == 201
    assert response.headers["location"] == f"{client.base_url}{HELLO}/issues/{made['number']}"
    assert hello(state).issues[made["number"]]["title"] == "New one"
    assert (made["state"], made["user"]["login"], made["assignee"]["login"]) == ("open", "octocat", "hubot")


def test_labels_are_given_by_name_and_unknown_names_are_created(client: httpx.Client, state: State) -> None:
    made = new_issue(client, labels=["bug", "needs-triage-spec"])
    assert [label["name"] for label in made["labels"]] == ["bug", "needs-triage-spec"]
    assert "needs-triage-spec" in hello(state).labels


def test_create_without_title_is_422(client: httpx.Client, checked: SpecCheck) -> None:
    with checked.requests_unchecked():
        response = client.post(f"{HELLO}/issues", json={"body": "no title"})
    assert response.status_code == 422
    assert response.json()["message"] == 'Invalid request.\n\n"title" wasn\'t supplied.'


def test_an_assignee_who_cannot_be_assigned_is_422_with_errors(client: httpx.Client) -> None:
    response = client.post(f"{HELLO}/issues", json={"title": "x", "assignees": ["wycats"]})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"value": "wycats", "resource": "Issue", "code": "invalid",
                                          "field": "assignees"}]


def test_a_milestone_number_may_come_as_a_string(client: httpx.Client) -> None:
    assert new_issue(client, milestone="2")["milestone"]["number"] == 2


def test_an_unknown_milestone_is_422(client: httpx.Client) -> None:
    response = client.post(f"{HELLO}/issues", json={"title": "x", "milestone": 77})
    assert response.json()["errors"][0] == {"value": 77, "resource": "Issue", "code": "invalid", "field": "milestone"}


def test_a_body_that_is_not_json_is_400(client: httpx.Client, checked: SpecCheck) -> None:
    with checked.requests_unchecked():
        response = client.post(f"{HELLO}/issues", content=b"{title", headers={"content-type": "application/json"})
    assert (response.status_code, response.json()["message"]) == (400, "Problems parsing JSON")


def test_close_as_not_planned_then_reopen(client: httpx.Client) -> None:
    number = new_issue(client)["number"]
    closed = client.patch(f"{HELLO}/issues/{number}", json={"state": "closed", "state_reason": "not_planned"}).json()
    assert (closed["state"], closed["state_reason"], closed["closed_by"]["login"]) == ("closed", "not_planned", "octocat")
    assert closed["closed_at"] is not None
    reopened = client.patch(f"{HELLO}/issues/{number}", json={"state": "open"}).json()
    assert (reopened["state"], reopened["state_reason"], reopened["closed_at"]) == ("open", "reopened", None)


def test_closing_without_a_reason_is_completed(client: httpx.Client) -> None:
    number = new_issue(client)["number"]
    assert client.patch(f"{HELLO}/issues/{number}", json={"state": "closed"}).json()["state_reason"] == "completed"


def test_update_replaces_labels_and_assignees_and_clears_milestone(client: httpx.Client) -> None:
    number = new_issue(client, labels=["bug"], assignees=["hubot"], milestone=1)["number"]
    updated = client.patch(f"{HELLO}/issues/{number}",
                           json={"labels": ["question"], "assignees": [], "milestone": None, "title": "Renamed"}).json()
    assert ([label["name"] for label in updated["labels"]], updated["assignees"], updated["milestone"]) == \
        (["question"], [], None)
    assert updated["title"] == "Renamed"


def test_objects_with_suggest_are_suggestions_not_changes(client: httpx.Client) -> None:
    number = new_issue(client, ORG, labels=["bug"], assignees=["hubot"], type="Task")["number"]
    updated = client.patch(f"{ORG}/issues/{number}", json={
        "labels": [{"name": "question"}, {"name": "wontfix", "suggest": True, "rationale": "stale"}],
        "assignees": [{"login": "monalisa"}, {"login": "defunkt", "suggest": True}],
        "type": {"value": "Bug", "suggest": True, "confidence": "low"}}).json()
    assert ([x["name"] for x in updated["labels"]], [a["login"] for a in updated["assignees"]], updated["type"]["name"]) \
        == (["question"], ["monalisa"], "Task")
    assert client.patch(f"{ORG}/issues/{number}", json={"type": {"value": "Bug"}}).json()["type"]["name"] == "Bug"


def test_an_update_moves_updated_at(client: httpx.Client) -> None:
    made = new_issue(client)
    assert client.patch(f"{HELLO}/issues/{made['number']}", json={"body": "b"}).json()["updated_at"] > made["updated_at"]


def test_issues_cannot_be_deleted_over_rest(client: httpx.Client, checked: SpecCheck) -> None:
    number = new_issue(client)["number"]
    assert client.delete(f"{HELLO}/issues/{number}").status_code == 404
    with pytest.raises(SpecViolation, match="has no DELETE operation"):
        checked.assert_clean()  # the description has no such operation either
    assert client.get(f"{HELLO}/issues/{number}").status_code == 200


@pytest.mark.parametrize(("flavour", "keys"), [("raw", {"body"}), ("text", {"body_text"}), ("html", {"body_html"}),
                                               ("full", {"body", "body_text", "body_html"})])
def test_the_body_comes_in_the_media_type_asked_for(client: httpx.Client, flavour: str, keys: set[str]) -> None:
    made = new_issue(client, body="Hello <b>world</b>\n\nSecond")
    issue = client.get(f"{HELLO}/issues/{made['number']}",
                       headers={"Accept": f"application/vnd.github.{flavour}+json"}).json()
    assert {k for k in ("body", "body_text", "body_html") if k in issue} == keys
    if "body_html" in keys:
        assert issue["body_html"] == "<p>Hello &lt;b&gt;world&lt;/b&gt;</p><p>Second</p>"


def test_comments_honour_the_media_type_too(client: httpx.Client) -> None:
    number = new_issue(client)["number"]
    client.post(f"{HELLO}/issues/{number}/comments", json={"body": "Me too"})
    rows = client.get(f"{HELLO}/issues/{number}/comments", headers={"Accept": "application/vnd.github.html+json"})
    assert [(c.get("body"), c["body_html"]) for c in rows.json()] == [(None, "<p>Me too</p>")]


def test_an_issues_labels_are_added_set_removed_and_cleared(client: httpx.Client, checked: SpecCheck) -> None:
    number = new_issue(client, labels=["bug"])["number"]
    url = f"{HELLO}/issues/{number}/labels"
    added = client.post(url, json={"labels": ["question", "new-by-add"]}).json()
    assert [x["name"] for x in added] == ["bug", "new-by-add", "question"]
    assert [x["name"] for x in client.put(url, json={"labels": ["wontfix"]}).json()] == ["wontfix"]
    with checked.requests_unchecked():  # a bare array: GitHub takes it (the description's prose says so), its schema not
        assert [x["name"] for x in client.post(url, json=["invalid"]).json()] == ["invalid", "wontfix"]
    assert [x["name"] for x in client.delete(f"{url}/WONTFIX").json()] == ["invalid"]
    assert client.delete(f"{url}/wontfix").json()["message"] == "Label does not exist"
    assert client.delete(url).status_code == 204 and client.get(url).json() == []


def test_assignees_are_added_and_removed_non_assignable_ones_ignored(client: httpx.Client) -> None:
    number = new_issue(client, assignees=["hubot"])["number"]
    url = f"{HELLO}/issues/{number}/assignees"
    added = client.post(url, json={"assignees": ["monalisa", "wycats"]})
    assert added.status_code == 201 and [a["login"] for a in added.json()["assignees"]] == ["hubot", "monalisa"]
    removed = client.request("DELETE", url, json={"assignees": ["hubot"]}).json()
    assert [a["login"] for a in removed["assignees"]] == ["monalisa"]


# -- issue types and sub-issues ---------------------------------------------------------------------

def test_an_organisation_repository_lists_its_issue_types(client: httpx.Client, state: State) -> None:
    names = [t["name"] for t in client.get(f"{ORG}/issue-types").json()]
    assert names == [t["name"] for t in state.issue_types[ORG_REPO[0]]] == ["Task", "Bug", "Feature"]


def test_a_user_repository_has_no_issue_types(client: httpx.Client) -> None:
    assert client.get(f"{HELLO}/issue-types").status_code == 404
    assert new_issue(client, type="Bug")["type"] is None  # dropped, as GitHub does outside organisations


def test_issue_type_is_set_by_name(client: httpx.Client) -> None:
    assert new_issue(client, ORG, type="feature")["type"]["name"] == "Feature"


def test_an_unknown_issue_type_is_422(client: httpx.Client) -> None:
    assert client.post(f"{ORG}/issues", json={"title": "x", "type": "Epic"}).status_code == 422


def test_sub_issues_by_issue_id_with_parent_and_summary(client: httpx.Client) -> None:
    parent, child = new_issue(client, ORG), new_issue(client, ORG)
    response = client.post(f"{ORG}/issues/{parent['number']}/sub_issues", json={"sub_issue_id": child["id"]})
    assert response.status_code == 201 and response.json()["sub_issues_summary"]["total"] == 1
    assert client.get(f"{ORG}/issues/{child['number']}/parent").json()["number"] == parent["number"]
    assert client.get(f"{ORG}/issues/{child['number']}").json()["parent_issue_url"] == parent["url"]
    assert [i["number"] for i in client.get(f"{ORG}/issues/{parent['number']}/sub_issues").json()] == [child["number"]]
    client.patch(f"{ORG}/issues/{child['number']}", json={"state": "closed"})
    summary = client.get(f"{ORG}/issues/{parent['number']}").json()["sub_issues_summary"]
    assert summary == {"total": 1, "completed": 1, "percent_completed": 100}


def test_remove_a_sub_issue(client: httpx.Client) -> None:
    parent, child = new_issue(client, ORG), new_issue(client, ORG)
    client.post(f"{ORG}/issues/{parent['number']}/sub_issues", json={"sub_issue_id": child["id"]})
    response = client.request("DELETE", f"{ORG}/issues/{parent['number']}/sub_issue", json={"sub_issue_id": child["id"]})
    assert response.status_code == 200 and response.json()["sub_issues_summary"]["total"] == 0
    assert client.get(f"{ORG}/issues/{child['number']}/parent").status_code == 404


def test_a_second_parent_needs_replace_parent(client: httpx.Client) -> None:
    first, second, child = new_issue(client, ORG), new_issue(client, ORG), new_issue(client, ORG)
    client.post(f"{ORG}/issues/{first['number']}/sub_issues", json={"sub_issue_id": child["id"]})
    refused = client.post(f"{ORG}/issues/{second['number']}/sub_issues", json={"sub_issue_id": child["id"]})
    assert refused.status_code == 422
    moved = client.post(f"{ORG}/issues/{second['number']}/sub_issues",
                        json={"sub_issue_id": child["id"], "replace_parent": True})
    assert moved.status_code == 201
    assert client.get(f"{ORG}/issues/{child['number']}/parent").json()["number"] == second["number"]


def test_a_sub_issue_is_named_by_id_not_number(client: httpx.Client) -> None:
    parent = new_issue(client, ORG)
    response = client.post(f"{ORG}/issues/{parent['number']}/sub_issues", json={"sub_issue_id": 3})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "sub_issue_id"


# -- comments ------------------------------------------------------------------------------------

def test_comments_of_an_issue_oldest_first_paged(client: httpx.Client, state: State) -> None:
    number = new_issue(client)["number"]
    made = [client.post(f"{HELLO}/issues/{number}/comments", json={"body": f"c{n}"}).json()["id"] for n in range(5)]
    assert [c["id"] for c in all_pages(client, f"{HELLO}/issues/{number}/comments", per_page=2)] == made
    assert [c["id"] for c in state.comments.values() if c["number"] == number and c["repo"] == MAIN_REPO[2]] == made


def test_comment_create_get_update_delete(client: httpx.Client) -> None:
    number = new_issue(client)["number"]
    response = client.post(f"{HELLO}/issues/{number}/comments", json={"body": "Me too"})
    comment = response.json()
    assert response.status_code == 201 and response.headers["location"] == comment["url"]
    assert client.get(f"{HELLO}/issues/comments/{comment['id']}").json()["body"] == "Me too"
    assert client.patch(f"{HELLO}/issues/comments/{comment['id']}", json={"body": "Edited"}).json()["body"] == "Edited"
    assert client.delete(f"{HELLO}/issues/comments/{comment['id']}").status_code == 204
    assert client.get(f"{HELLO}/issues/comments/{comment['id']}").status_code == 404
    assert client.get(f"{HELLO}/issues/{number}").json()["comments"] == 0


def test_comments_since(client: httpx.Client) -> None:
    number = new_issue(client)["number"]
    first = client.post(f"{HELLO}/issues/{number}/comments", json={"body": "a"}).json()
    second = client.post(f"{HELLO}/issues/{number}/comments", json={"body": "b"}).json()
    rows = client.get(f"{HELLO}/issues/{number}/comments", params={"since": second["created_at"]}).json()
    assert [c["id"] for c in rows] == [second["id"]] and first["created_at"] < second["created_at"]


def test_a_comment_without_body_is_422(client: httpx.Client, checked: SpecCheck) -> None:
    with checked.requests_unchecked():
        response = client.post(f"{HELLO}/issues/1/comments", json={})
    assert (response.status_code, response.json()["message"]) == (422, 'Invalid request.\n\n"body" wasn\'t supplied.')


# -- labels --------------------------------------------------------------------------------------

def test_labels_are_listed_by_name(client: httpx.Client, state: State) -> None:
    names = [label["name"] for label in all_pages(client, f"{HELLO}/labels", per_page=5)]
    assert names == sorted((label["name"] for label in hello(state).labels.values()), key=str.lower)


def test_a_label_is_read_by_its_url_encoded_name(client: httpx.Client) -> None:
    label = client.get(f"{HELLO}/labels/{quote('priority: high')}").json()
    assert (label["name"], label["color"]) == ("priority: high", "b60205")
    assert client.get(f"{HELLO}/labels/nope").status_code == 404


def test_create_a_label_and_refuse_a_duplicate(client: httpx.Client) -> None:
    response = client.post(f"{HELLO}/labels", json={"name": "spec-label", "color": "#00FF00"})
    assert response.status_code == 201 and response.json()["color"] == "00ff00"
    again = client.post(f"{HELLO}/labels", json={"name": "Spec-Label"})
    assert again.status_code == 422
    assert again.json()["errors"] == [{"resource": "Label", "code": "already_exists", "field": "name"}]


# -- conditional requests and rate limits ----------------------------------------------------------

def test_if_none_match_is_304_without_body_and_costs_no_rate_limit(client: httpx.Client) -> None:
    first = client.get(f"{HELLO}/issues/7")
    again = client.get(f"{HELLO}/issues/7", headers={"If-None-Match": first.headers["etag"]})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", first.headers["etag"])
    assert again.headers["x-ratelimit-used"] == first.headers["x-ratelimit-used"]


def test_a_changed_issue_has_a_new_etag(client: httpx.Client) -> None:
    number = new_issue(client)["number"]
    etag = client.get(f"{HELLO}/issues/{number}").headers["etag"]
    client.patch(f"{HELLO}/issues/{number}", json={"title": "changed"})
    response = client.get(f"{HELLO}/issues/{number}", headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["etag"] != etag


def test_lists_are_conditional_too(client: httpx.Client) -> None:
    etag = client.get(f"{HELLO}/labels").headers["etag"]
    assert client.get(f"{HELLO}/labels", headers={"If-None-Match": etag}).status_code == 304


def test_every_answer_carries_the_rate_limit_headers(client: httpx.Client) -> None:
    first, second = client.get("/user"), client.get("/user")
    for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-used"):
        assert name in second.headers
    assert second.headers["x-ratelimit-resource"] == "core"
    assert int(second.headers["x-ratelimit-used"]) == int(first.headers["x-ratelimit-used"]) + 1
    assert int(second.headers["x-ratelimit-remaining"]) == 5000 - int(second.headers["x-ratelimit-used"])


def test_error_answers_count_against_the_rate_limit_too(client: httpx.Client) -> None:
    first = client.get(f"{HELLO}/issues/999999")
    second = client.get(f"{HELLO}/issues/999998")
    assert (first.status_code, second.status_code) == (404, 404)
    assert int(second.headers["x-ratelimit-used"]) == int(first.headers["x-ratelimit-used"]) + 1


@pytest.mark.parametrize("status", [403, 429])
def test_the_primary_limit_exhausted_is_403_or_429_with_remaining_0(status: int) -> None:
    with served(rate_limit=2, primary_status=status, issue_count=5) as (client, _, _):
        assert [client.get("/user").status_code for _ in range(2)] == [200, 200]
        refused = client.get("/user")
    assert refused.status_code == status and refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.json()["message"] == "API rate limit exceeded for user ID 1."
    assert int(refused.headers["x-ratelimit-reset"]) > 0


def test_the_secondary_limit_on_writes_is_403_with_retry_after() -> None:
    with served(writes_per_minute=2, issue_count=5) as (client, _, _):
        assert [client.post(f"{HELLO}/labels", json={"name": f"l{n}"}).status_code for n in range(2)] == [201, 201]
        refused = client.post(f"{HELLO}/labels", json={"name": "l3"})
        assert client.get(f"{HELLO}/labels").status_code == 200  # reads are not content-creating
    assert refused.status_code == 403 and refused.headers["retry-after"] == "60"
    assert refused.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert int(refused.headers["x-ratelimit-remaining"]) > 0


@pytest.mark.parametrize("status", [403, 429])
def test_the_secondary_limit_may_come_as_403_or_429_without_retry_after(status: int) -> None:
    with served(writes_per_minute=1, secondary_status=status, secondary_retry_after=None, issue_count=5) as \
            (client, _, _):
        client.post(f"{HELLO}/labels", json={"name": "one"})
        refused = client.post(f"{HELLO}/labels", json={"name": "two"})
    assert refused.status_code == status and "retry-after" not in refused.headers
    assert "secondary rate limit" in refused.json()["message"]


def test_rate_limit_endpoint_reports_core(client: httpx.Client) -> None:
    core = client.get("/rate_limit").json()["resources"]["core"]
    assert core["limit"] == 5000 and core["remaining"] == 5000 - core["used"]


# -- Enterprise Server, seeding, faults ----------------------------------------------------------

def test_enterprise_server_serves_under_api_v3() -> None:
    with served(base_path="/api/v3", issue_count=5) as (client, checked, _):
        api = str(client.base_url).rstrip("/")
        issue = client.get(f"{HELLO}/issues/1").json()
        root = httpx.get(api.removesuffix("/api/v3") + f"{HELLO}/issues/1", headers=AUTH)
        with pytest.raises(SpecViolation, match="outside the base path /api/v3"):
            checked.assert_clean()
    assert issue["url"] == f"{api}{HELLO}/issues/1"
    assert issue["html_url"].startswith(api.removesuffix("/api/v3") + "/octocat/Hello-World/")
    assert root.status_code == 404


def test_the_same_seed_gives_the_same_data() -> None:
    def titles(seed: int) -> list[str]:
        state: State = cast(Any, create_app(seed=seed, issue_count=20).app).state.simulator
        return [i["title"] for i in state.repos[MAIN_REPO[2]].issues.values()]
    assert titles(3) == titles(3) != titles(4)


def test_faults_are_injected_through_simulator_control() -> None:
    control = create_app(issue_count=5)
    control.add_fault(path="/issues$", status=502, times=1)
    with BackgroundServer(control) as server, httpx.Client(base_url=server.url, headers=AUTH) as client:
        assert client.get(f"{HELLO}/issues").status_code == 502
        assert client.get(f"{HELLO}/issues").status_code == 200


# -- GitHub's own examples -----------------------------------------------------------------------

EXAMPLE_REQUESTS = [("issue.create.request.json", "POST", f"{HELLO}/issues", 201),
                    # the example creates "bug", one of the labels every new repository has: GitHub
                    # answers 422 already_exists there, and so does the simulator
                    ("label.create.request.json", "POST", f"{HELLO}/labels", 422),
                    ("comment.create.request.json", "POST", f"{HELLO}/issues/3/comments", 201)]


@pytest.mark.parametrize(("name", "method", "path", "status"), EXAMPLE_REQUESTS, ids=lambda v: str(v))
def test_the_descriptions_example_requests_are_accepted(name: str, method: str, path: str, status: int) -> None:
    body = json.loads((EXAMPLES / name).read_text())
    with served(issue_count=5) as (client, checked, _):
        response = client.request(method, path, json=body)
        assert response.status_code == status, response.text
        assert checked.checked == 1  # and the request matched the operation (no violation at exit)


def test_the_example_update_request_is_accepted(client: httpx.Client) -> None:
    body = json.loads((EXAMPLES / "issue.update.request.json").read_text())
    updated = client.patch(f"{HELLO}/issues/{new_issue(client)['number']}", json=body).json()
    assert (updated["title"], updated["milestone"]["number"], [x["name"] for x in updated["labels"]]) == \
        ("Found a bug", 1, ["bug"])


EXAMPLE_RESPONSES = [("issues.list.200.json", "GET", f"{HELLO}/issues"),
                     ("issue.get.200.json", "GET", f"{HELLO}/issues/1347"),
                     ("issue.create.201.json", "POST", f"{HELLO}/issues"),
                     ("comments.list.200.json", "GET", f"{HELLO}/issues/1347/comments"),
                     ("comment.get.200.json", "GET", f"{HELLO}/issues/comments/1"),
                     ("labels.list.200.json", "GET", f"{HELLO}/labels"),
                     ("assignees.list.200.json", "GET", f"{HELLO}/assignees"),
                     ("issue-types.list.200.json", "GET", f"{HELLO}/issue-types"),
                     ("issue-field-values.list.200.json", "GET", f"{ORG}/issues/1/issue-field-values"),
                     ("issue-fields.org.list.200.json", "GET", "/orgs/octo-org/issue-fields"),
                     ("repos.list-for-authenticated-user.200.json", "GET", "/user/repos")]


@pytest.mark.parametrize(("name", "method", "path"), EXAMPLE_RESPONSES, ids=lambda v: str(v))
def test_the_checker_accepts_the_descriptions_own_examples(name: str, method: str, path: str) -> None:
    status = int(name.split(".")[-2])
    load_spec().check_response(method, path, status, body=json.loads((EXAMPLES / name).read_text()))


# -- issue fields (an organisation's custom fields) ------------------------------------------------

def test_an_organisation_lists_its_issue_fields(client: httpx.Client, state: State) -> None:
    fields = client.get(f"/orgs/{ORG_REPO[0]}/issue-fields").json()
    assert [(f["name"], f["data_type"]) for f in fields] == \
        [("DRI", "text"), ("Priority", "single_select"), ("Points", "number"), ("Due Date", "date"),
         ("Area", "multi_select")]
    assert [o["name"] for o in fields[1]["options"]] == ["Urgent", "High", "Medium", "Low"]
    assert client.get("/orgs/octocat/issue-fields").status_code == 404


def test_organisation_issues_carry_their_field_values(client: httpx.Client, state: State) -> None:
    number, stored = next((n, i) for n, i in state.repos[ORG_REPO[2]].issues.items() if 2 in i["fields"])
    values = {v["issue_field_name"]: v for v in client.get(f"{ORG}/issues/{number}").json()["issue_field_values"]}
    assert values["Priority"]["value"] == stored["fields"][2]
    assert values["Priority"]["single_select_option"]["id"] == stored["fields"][2]
    assert client.get(f"{ORG}/issues/{number}/issue-field-values").json() == list(values.values())


def test_field_values_are_written_by_field_id_with_option_names(client: httpx.Client) -> None:
    made = new_issue(client, ORG, issue_field_values=[{"field_id": 2, "value": "urgent"},
                                                      {"field_id": 5, "value": ["Frontend", "Infra"]}])
    values = {v["issue_field_name"]: v for v in made["issue_field_values"]}
    assert values["Priority"]["single_select_option"]["name"] == "Urgent"
    assert (values["Area"]["value"], [o["name"] for o in values["Area"]["multi_select_options"]]) == \
        ("Frontend,Infra", ["Frontend", "Infra"])
    patched = client.patch(f"{ORG}/issues/{made['number']}", json={"issue_field_values": [{"field_id": 3, "value": 5}]})
    assert {v["issue_field_name"] for v in patched.json()["issue_field_values"]} == {"Priority", "Area", "Points"}


def test_post_adds_field_values_put_replaces_them_delete_removes_one(client: httpx.Client) -> None:
    number = new_issue(client, ORG, issue_field_values=[{"field_id": 1, "value": "hubot"}])["number"]
    url = f"{ORG}/issues/{number}/issue-field-values"
    added = client.post(url, json={"issue_field_values": [{"field_id": 4, "value": "2027-02-01"}]}).json()
    assert [(v["issue_field_name"], v["value"]) for v in added] == [("DRI", "hubot"), ("Due Date", "2027-02-01")]
    replaced = client.put(url, json={"issue_field_values": [{"field_id": 3, "value": 8}]}).json()
    assert [(v["issue_field_name"], v["value"]) for v in replaced] == [("Points", 8)]
    assert client.delete(f"{url}/3").status_code == 204
    assert client.get(url).json() == [] and client.delete(f"{url}/3").status_code == 404


@pytest.mark.parametrize("value", [{"field_id": 2, "value": "Critical"}, {"field_id": 3, "value": "many"},
                                   {"field_id": 4, "value": "31/12/2027"}, {"field_id": 99, "value": "x"}])
def test_a_value_the_field_cannot_take_is_422(client: httpx.Client, value: dict[str, Any]) -> None:
    response = client.post(f"{ORG}/issues", json={"title": "x", "issue_field_values": [value]})
    assert response.status_code == 422 and response.json()["errors"][0]["resource"] == "IssueFieldValue"


def test_field_values_are_dropped_on_a_user_repository(client: httpx.Client) -> None:
    made = new_issue(client, issue_field_values=[{"field_id": 2, "value": "High"}])
    assert "issue_field_values" not in made
    assert client.get(f"{HELLO}/issues/{made['number']}/issue-field-values").json() == []


def test_list_filter_by_field_slug_and_value(client: httpx.Client, state: State) -> None:
    rows = all_pages(client, f"{ORG}/issues", state="all", issue_field_values="priority:High")
    expected = {n for n, i in state.repos[ORG_REPO[2]].issues.items() if i["fields"].get(2) == 202}
    assert expected and {r["number"] for r in rows} == expected
