"""GitHub through the gateway against its simulator, every exchange held to GitHub's own OpenAPI
description (SpecCheck inside the simulator: a wrong parameter name, a body field GitHub does not
take, an answer the description does not allow fails the module).

Paging reads octocat/Hello-World (300 issues and pull requests, over 250 of them issues; never written here); writes go to
octo-org/platform.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from unigate.testing import ConnectorUnderTest, Simulator, SpecCheck, VendorSpec, error_of, walk_pages
from unigate_connectors.github.simulator import DEFAULT_TOKEN, HIDDEN_REPO, State

SPEC = Path(__file__).resolve().parent.parent / "spec" / "api.github.com.issues.json"
BASIC = "#/components/schemas/basic-error"
UNDECLARED = {304: None, 401: BASIC, 403: BASIC, 404: BASIC, 410: BASIC, 429: BASIC}
HELLO, ORG = "octocat~Hello-World", "octo-org~platform"
TICKETS = f"/issue-tracking/collections/{HELLO}/tickets"
ORG_TICKETS = f"/issue-tracking/collections/{ORG}/tickets"
API = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectorUnderTest]:
    tracker = ConnectorUnderTest.start(tmp_path_factory.mktemp("github"), "github")
    yield tracker
    tracker.stop()


@pytest.fixture(scope="module")
def sim(tracker: ConnectorUnderTest) -> Simulator:
    assert tracker.simulator is not None
    return tracker.simulator


@pytest.fixture(scope="module")
def state(sim: Simulator) -> State:
    state: State = sim.app.app.state.simulator
    state.limits.writes_per_minute = 100_000   # the secondary limit has a test of its own
    return state


@pytest.fixture(scope="module")
def checked(sim: Simulator, state: State) -> Iterator[SpecCheck]:
    spec = VendorSpec.load(SPEC, undeclared=UNDECLARED)
    check = SpecCheck.inside(sim.app, spec)
    yield check
    assert check.checked > 0   # the exchanges were looked at


@pytest.fixture
def client(tracker: ConnectorUnderTest, checked: SpecCheck) -> Iterator[httpx.Client]:
    """A gateway client; every exchange the connector made in the test must be valid per GitHub."""
    with tracker.client() as c:
        yield c
    checked.assert_clean()


def github(sim: Simulator, path: str, **params: Any) -> Any:
    """What GitHub itself answers (ground truth), bypassing the gateway."""
    response = httpx.get(f"{sim.url}{path}", params=params, headers=API)
    assert response.status_code == 200, response.text
    return response.json()


def issue_numbers(sim: Simulator, repo: str, **params: Any) -> list[str]:
    found: list[dict[str, Any]] = []
    for page in range(1, 10):
        items = github(sim, f"/repos/{repo}/issues", per_page=100, page=page, **params)
        found += items
        if len(items) < 100:
            break
    return [str(i["number"]) for i in found if "pull_request" not in i]


def new_ticket(client: httpx.Client, **fields: Any) -> str:
    response = client.post(ORG_TICKETS, json={"subject": "Connector test", **fields})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def sent(sim: Simulator, method: str) -> list[dict[str, Any]]:
    return [r for r in sim.requests() if r["method"] == method]


# -- collections ------------------------------------------------------------------------------
def test_collections_are_the_repositories_the_token_sees_with_owner_tilde_repo_ids(client: httpx.Client) -> None:
    data = client.get("/issue-tracking/collections", params={"limit": 50}).json()["data"]
    ids = {c["id"] for c in data}
    assert {HELLO, ORG} <= ids
    assert f"{HIDDEN_REPO[0]}~{HIDDEN_REPO[1]}" not in ids
    assert all("/" not in i for i in ids)


def test_a_collection_by_its_id(client: httpx.Client) -> None:
    data = client.get(f"/issue-tracking/collections/{HELLO}").json()["data"]
    assert data["id"] == HELLO and data["name"] == "octocat/Hello-World"


@pytest.mark.parametrize("hostile", ["octocat", "a~b~c", "~Hello-World"])
def test_a_collection_id_that_is_not_owner_tilde_repo_is_404_before_any_call(
        client: httpx.Client, sim: Simulator, hostile: str) -> None:
    response = client.get(f"/issue-tracking/collections/{hostile}/tickets")
    assert error_of(response) == (404, "EntityNotFoundError")
    assert sim.requests() == []


def test_a_repository_the_token_cannot_see_is_404(client: httpx.Client) -> None:
    response = client.get(f"/issue-tracking/collections/{HIDDEN_REPO[0]}~{HIDDEN_REPO[1]}/tickets")
    assert error_of(response) == (404, "EntityNotFoundError")


# -- tickets: paging without pull requests ------------------------------------------------------
@pytest.fixture(scope="module")
def all_numbers(sim: Simulator) -> list[str]:
    return issue_numbers(sim, "octocat/Hello-World", state="all")


@pytest.mark.parametrize("limit", [1, 7, 20, 100, 200])
def test_paging_yields_every_issue_once_in_order_and_no_pull_request(
        client: httpx.Client, all_numbers: list[str], limit: int) -> None:
    ids, ended = walk_pages(client, TICKETS, limit, max_pages=300)
    assert ended and ids == all_numbers
    assert len(ids) == len(set(ids)) >= 250   # issue 16: paging over at least 250 issues


def test_paging_follows_links_with_per_page_and_page(client: httpx.Client, sim: Simulator) -> None:
    client.get(TICKETS, params={"limit": 20})
    request, *more = sent(sim, "GET")   # more: the next page when pull requests took places in the first
    assert {("per_page", "20"), ("page", "1"), ("state", "all")} <= {tuple(p) for p in request["query"]}
    assert [dict(r["query"])["page"] for r in more] == [str(n) for n in range(2, 2 + len(more))]


def test_a_pull_requests_number_is_not_a_ticket(client: httpx.Client, sim: Simulator) -> None:
    pulls = [i for i in github(sim, "/repos/octocat/Hello-World/issues", per_page=100) if "pull_request" in i]
    response = client.get(f"{TICKETS}/{pulls[0]['number']}")
    assert error_of(response) == (404, "EntityNotFoundError")


# -- tickets: filters and sorts -----------------------------------------------------------------
def test_status_filter_closed_is_githubs_state(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"filter[status]": "closed", "limit": 200}).json()["data"]
    assert [t["id"] for t in data] == issue_numbers(sim, "octocat/Hello-World", state="closed")[:200]


def test_status_filters_open_and_in_progress_split_githubs_open_state_by_the_label(
        client: httpx.Client, sim: Simulator) -> None:
    in_progress = client.get(TICKETS, params={"filter[status]": "in_progress", "limit": 200}).json()["data"]
    opened = client.get(TICKETS, params={"filter[status]": "open", "limit": 200}).json()["data"]
    assert {t["status"] for t in in_progress} == {"in_progress"} and {t["status"] for t in opened} == {"open"}
    assert [t["id"] for t in in_progress] == issue_numbers(sim, "octocat/Hello-World", state="open",
                                                           labels="in progress")
    assert sorted([t["id"] for t in in_progress + opened], key=int) == sorted(
        issue_numbers(sim, "octocat/Hello-World", state="open"), key=int)


def test_since_and_assignee_filters(client: httpx.Client, sim: Simulator) -> None:
    since = "2025-03-01T00:00:00Z"
    data = client.get(TICKETS, params={"filter[since]": since, "filter[assignee_id]": "hubot",
                                       "limit": 200}).json()["data"]
    assert [t["id"] for t in data] == issue_numbers(sim, "octocat/Hello-World", state="all", since=since,
                                                     assignee="hubot")
    assert all(any(a["id"] == "hubot" for a in t["assignees"]) for t in data)


def test_sort_by_updated_at_ascending(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"sort[by]": "updated_at", "sort[direction]": "asc", "limit": 50}).json()
    expected = issue_numbers(sim, "octocat/Hello-World", state="all", sort="updated", direction="asc")
    assert [t["id"] for t in data["data"]] == expected[:50]


# -- tickets: reads -----------------------------------------------------------------------------
def test_a_ticket_reads_githubs_issue(client: httpx.Client, sim: Simulator, all_numbers: list[str]) -> None:
    number = all_numbers[0]
    issue = github(sim, f"/repos/octocat/Hello-World/issues/{number}")
    ticket = client.get(f"{TICKETS}/{number}").json()["data"]
    assert ticket["id"] == number and ticket["subject"] == issue["title"]
    assert ticket["collection_id"] == HELLO
    assert ticket["created_by"] == issue["user"]["login"]
    assert [a["id"] for a in ticket["assignees"]] == [a["login"] for a in issue["assignees"]]


def test_an_unknown_or_non_numeric_ticket_is_404(client: httpx.Client) -> None:
    assert error_of(client.get(f"{TICKETS}/999999")) == (404, "EntityNotFoundError")
    assert error_of(client.get(f"{TICKETS}/abc")) == (404, "EntityNotFoundError")


# -- tickets: writes ------------------------------------------------------------------------------
def test_create_sends_title_body_assignees_and_reads_the_issue_back(client: httpx.Client, sim: Simulator) -> None:
    number = new_ticket(client, description="Steps", assignees=[{"id": "hubot"}])
    (post,) = sent(sim, "POST")
    assert post["body"] == {"title": "Connector test", "body": "Steps", "assignees": ["hubot"]}
    ticket = client.get(f"{ORG_TICKETS}/{number}").json()["data"]
    assert ticket["description"] == "Steps" and ticket["status"] == "open"


def test_priority_and_in_progress_are_labels(client: httpx.Client, sim: Simulator) -> None:
    number = new_ticket(client, priority="high", status="in_progress")
    (post,) = sent(sim, "POST")
    assert post["body"]["state"] == "open"
    assert sorted(post["body"]["labels"]) == ["in progress", "priority: high"]
    ticket = client.get(f"{ORG_TICKETS}/{number}").json()["data"]
    assert (ticket["priority"], ticket["status"], ticket["tags"]) == ("high", "in_progress", [])


CONVENTIONS = {"in_progress_label": "doing", "priority_label_high": "P1", "priority_label_low": "P3"}


def test_label_conventions_are_the_connections_settings(tracker: ConnectorUnderTest, checked: SpecCheck,
                                                        sim: Simulator) -> None:
    tracker.connect("own-labels", settings=CONVENTIONS)
    with tracker.client("own-labels") as c:
        number = c.post(ORG_TICKETS, json={"subject": "Ours", "priority": "high", "status": "in_progress",
                                            "tags": [{"name": "in progress"}]}).json()["data"]["id"]
        assert sorted(sent(sim, "POST")[-1]["body"]["labels"]) == ["P1", "doing", "in progress"]
        ticket = c.get(f"{ORG_TICKETS}/{number}").json()["data"]
        assert (ticket["priority"], ticket["status"]) == ("high", "in_progress")
        assert ticket["tags"][0]["name"] == "in progress"   # the default's label is a plain tag here
        c.patch(f"{ORG_TICKETS}/{number}", json={"priority": "low"})
        assert sorted(sent(sim, "PATCH")[-1]["body"]["labels"]) == ["P3", "doing", "in progress"]
        listed = c.get(ORG_TICKETS, params={"filter[status]": "in_progress", "limit": 5})
    assert ("labels", "doing") in {tuple(p) for p in sent(sim, "GET")[-1]["query"]}
    assert number in [t["id"] for t in listed.json()["data"]]
    checked.assert_clean()


def test_the_default_connection_keeps_the_default_conventions(client: httpx.Client, sim: Simulator) -> None:
    number = new_ticket(client, priority="high", status="in_progress")
    assert sorted(sent(sim, "POST")[-1]["body"]["labels"]) == ["in progress", "priority: high"]
    assert client.get(f"{ORG_TICKETS}/{number}").json()["data"]["status"] == "in_progress"


@pytest.mark.parametrize("value", ["a,b", "x" * 51])
def test_a_convention_label_github_cannot_hold_is_refused_by_the_vault(
        tracker: ConnectorUnderTest, value: str) -> None:
    with tracker.harness.client(consumer_id="vault-settings") as vault:
        refused = vault.patch("/vault/connections/issue-tracking/github", json={"settings": {"in_progress_label": value}})
        accepted = vault.patch("/vault/connections/issue-tracking/github", json={"settings": {"in_progress_label": "WIP"}})
    assert (refused.status_code, refused.json()["type_name"]) == (400, "RequestValidationError"), refused.text
    assert "in_progress_label" in refused.json()["message"] + str(refused.json()["detail"])
    assert accepted.status_code == 200, accepted.text


def test_priority_is_the_organisations_issue_field_where_it_has_one(
        tracker: ConnectorUnderTest, checked: SpecCheck, sim: Simulator, state: State) -> None:
    field = next(f for f in state.issue_fields["octo-org"] if f["name"] == "Priority")
    tracker.connect("priority-field", settings={"priority_field": "Priority"})
    with tracker.client("priority-field") as c:
        number = c.post(ORG_TICKETS, json={"subject": "Fielded", "priority": "high"}).json()["data"]["id"]
        post = sent(sim, "POST")[-1]["body"]
        assert post["issue_field_values"] == [{"field_id": field["id"], "value": "High"}] and "labels" not in post
        assert c.get(f"{ORG_TICKETS}/{number}").json()["data"]["priority"] == "high"
        c.patch(f"{ORG_TICKETS}/{number}", json={"priority": "normal"})
        assert sent(sim, "PATCH")[-1]["body"]["issue_field_values"] == [{"field_id": field["id"], "value": "Medium"}]
        assert c.get(f"{ORG_TICKETS}/{number}").json()["data"]["priority"] == "normal"
        # a user's repository has no organisation fields (404): the label convention (Spoon-Knife then answers 410)
        c.post("/issue-tracking/collections/octocat~Spoon-Knife/tickets", json={"subject": "Labelled", "priority": "low"})
        assert ("GET", "/orgs/octocat/issue-fields") in [(r["method"], r["path"]) for r in sim.requests()]
        assert sent(sim, "POST")[-1]["body"]["labels"] == ["priority: low"]
    checked.assert_clean()


@pytest.fixture(scope="module")
def fielded_connection(tracker: ConnectorUnderTest) -> str:
    """A connection whose priority is the organisation's issue field ``Priority``."""
    tracker.connect("priority-clear", settings={"priority_field": "Priority"})
    return "priority-clear"


@pytest.fixture
def fielded(tracker: ConnectorUnderTest, checked: SpecCheck, fielded_connection: str) -> Iterator[httpx.Client]:
    with tracker.client(fielded_connection) as c:
        yield c
    checked.assert_clean()


def test_a_null_priority_deletes_the_issue_field_value(fielded: httpx.Client, sim: Simulator, state: State) -> None:
    field = next(f for f in state.issue_fields["octo-org"] if f["name"] == "Priority")
    number = fielded.post(ORG_TICKETS, json={"subject": "Fielded", "priority": "urgent"}).json()["data"]["id"]
    sim.clear()
    cleared = fielded.patch(f"{ORG_TICKETS}/{number}", json={"priority": None})
    assert cleared.status_code == 200, cleared.text
    assert [(r["method"], r["path"]) for r in sim.requests() if r["method"] != "GET"] == [
        ("DELETE", f"/repos/octo-org/platform/issues/{number}/issue-field-values/{field['id']}")]
    assert fielded.get(f"{ORG_TICKETS}/{number}").json()["data"]["priority"] is None


def test_a_null_priority_where_the_field_has_no_value_makes_no_write(fielded: httpx.Client, sim: Simulator) -> None:
    number = fielded.post(ORG_TICKETS, json={"subject": "Unprioritised"}).json()["data"]["id"]
    sim.clear()
    assert fielded.patch(f"{ORG_TICKETS}/{number}", json={"priority": None}).status_code == 200
    assert [r["method"] for r in sim.requests()] == ["GET"] * len(sim.requests())
    assert fielded.get(f"{ORG_TICKETS}/{number}").json()["data"]["priority"] is None


def test_a_null_priority_with_other_fields_patches_then_deletes_the_value(fielded: httpx.Client,
                                                                        sim: Simulator) -> None:
    number = fielded.post(ORG_TICKETS, json={"subject": "Fielded", "priority": "low"}).json()["data"]["id"]
    sim.clear()
    assert fielded.patch(f"{ORG_TICKETS}/{number}", json={"priority": None, "subject": "Renamed"}).status_code == 200
    assert [r["method"] for r in sim.requests() if r["method"] != "GET"] == ["PATCH", "DELETE"]
    ticket = fielded.get(f"{ORG_TICKETS}/{number}").json()["data"]
    assert (ticket["subject"], ticket["priority"]) == ("Renamed", None)


def test_a_delete_github_refuses_after_the_patch_is_reported_partly_applied(fielded: httpx.Client,
                                                                           sim: Simulator) -> None:
    number = fielded.post(ORG_TICKETS, json={"subject": "Fielded", "priority": "high"}).json()["data"]["id"]
    sim.fault(method="DELETE", path=f"/repos/octo-org/platform/issues/{number}/issue-field-values/2", status=422,
              times=1, body={"message": "Validation Failed", "errors": [{"resource": "IssueFieldValue",
                                                                          "code": "custom", "field": "value"}]})
    response = fielded.patch(f"{ORG_TICKETS}/{number}", json={"priority": None, "subject": "Half"})
    assert error_of(response)[0] == 422
    detail = response.json()["detail"]
    assert detail["applied_calls"] == ["tickets_update"] and detail["failed_call"] == "tickets_priority_clear"
    assert fielded.get(f"{ORG_TICKETS}/{number}").json()["data"]["priority"] == "high"


def test_a_null_priority_on_a_users_repository_removes_the_label(fielded: httpx.Client, sim: Simulator,
                                                                 state: State) -> None:
    repo = state.repo_named("octocat", "Hello-World")   # a user's: no issue fields, the labels hold the priority
    assert repo is not None
    issue = state.add_issue(repo, {"title": "Labelled", "labels": ["bug", "priority: high"]})
    try:   # removed after: the paging tests read this repository as seeded
        sim.clear()
        assert fielded.patch(f"{TICKETS}/{issue['number']}", json={"priority": None}).status_code == 200
        (patch,) = sent(sim, "PATCH")
        assert patch["body"]["labels"] == ["bug"] and sent(sim, "DELETE") == []
        assert fielded.get(f"{TICKETS}/{issue['number']}").json()["data"]["priority"] is None
    finally:
        del repo.issues[issue["number"]]


def test_an_organisation_without_that_field_keeps_the_labels(tracker: ConnectorUnderTest, sim: Simulator) -> None:
    tracker.connect("no-such-field", settings={"priority_field": "Severity"})
    with tracker.client("no-such-field") as c:
        number = c.post(ORG_TICKETS, json={"subject": "Labelled", "priority": "urgent"}).json()["data"]["id"]
        assert sent(sim, "POST")[-1]["body"]["labels"] == ["priority: urgent"]
        assert c.get(f"{ORG_TICKETS}/{number}").json()["data"]["priority"] == "urgent"


def test_tags_are_written_by_label_id_and_sent_as_names(client: httpx.Client, sim: Simulator) -> None:
    labels = client.get(f"/issue-tracking/collections/{ORG}/tags", params={"limit": 50}).json()["data"]
    bug = next(t for t in labels if t["name"] == "bug")
    number = new_ticket(client, tags=[{"id": bug["id"]}])
    (post,) = sent(sim, "POST")
    assert post["body"]["labels"] == ["bug"]
    assert client.get(f"{ORG_TICKETS}/{number}").json()["data"]["tags"] == [{"id": bug["id"], "name": "bug"}]


def test_tags_resolve_past_the_first_hundred_labels(tracker: ConnectorUnderTest, checked: SpecCheck,
                                                     sim: Simulator, state: State) -> None:
    repo = state.repo_named("octo-org", "platform")
    assert repo is not None
    extra = [state.add_label(repo, f"zz-area-{n:03}") for n in range(110)]   # 122 labels: two pages
    tracker.connect("many-labels")   # a connection of its own: no labels cached yet
    with tracker.client("many-labels") as c:
        created = c.post(ORG_TICKETS, json={"subject": "Far label", "tags": [{"id": str(extra[-1]["id"])}]})
    assert created.status_code == 201, created.text
    assert sent(sim, "POST")[-1]["body"]["labels"] == ["zz-area-109"]
    pages = [dict(r["query"]).get("page") for r in sent(sim, "GET") if r["path"].endswith("/labels")]
    assert pages == ["1", "2"]
    checked.assert_clean()


def test_an_unknown_tag_id_is_refused_before_any_write(client: httpx.Client, sim: Simulator) -> None:
    response = client.post(ORG_TICKETS, json={"subject": "x", "tags": [{"id": "1"}]})
    assert error_of(response) == (400, "RequestValidationError")
    assert sent(sim, "POST") == []


def test_updating_priority_keeps_the_other_labels(client: httpx.Client, sim: Simulator) -> None:
    number = new_ticket(client, priority="low", status="in_progress", tags=[{"name": "bug"}])
    sim.clear()
    assert client.patch(f"{ORG_TICKETS}/{number}", json={"priority": "urgent"}).status_code == 200
    (patch,) = sent(sim, "PATCH")
    assert sorted(patch["body"]["labels"]) == ["bug", "in progress", "priority: urgent"]
    ticket = client.get(f"{ORG_TICKETS}/{number}").json()["data"]
    assert (ticket["priority"], ticket["status"]) == ("urgent", "in_progress")


def test_closing_and_reopening(client: httpx.Client, sim: Simulator) -> None:
    number = new_ticket(client, status="in_progress")
    client.patch(f"{ORG_TICKETS}/{number}", json={"status": "closed"})
    ticket = client.get(f"{ORG_TICKETS}/{number}").json()["data"]
    assert ticket["status"] == "closed" and ticket["completed_at"]
    patches = sent(sim, "PATCH")
    assert patches[-1]["body"]["state"] == "closed" and "state_reason" not in patches[-1]["body"]   # completed
    assert "in progress" not in patches[-1]["body"]["labels"]
    client.patch(f"{ORG_TICKETS}/{number}", json={"status": "open"})
    assert client.get(f"{ORG_TICKETS}/{number}").json()["data"]["status"] == "open"


def test_an_unknown_status_or_priority_is_refused(client: httpx.Client, sim: Simulator) -> None:
    assert error_of(client.post(ORG_TICKETS, json={"subject": "x", "status": "doing"}))[0] == 400
    assert error_of(client.post(ORG_TICKETS, json={"subject": "x", "priority": "critical"}))[0] == 400
    assert sent(sim, "POST") == []


def test_issue_types_are_the_type(client: httpx.Client) -> None:
    number = new_ticket(client, type="Bug")
    assert client.get(f"{ORG_TICKETS}/{number}").json()["data"]["type"] == "Bug"


def test_delete_is_501_and_not_planned_closes_as_not_planned(client: httpx.Client, sim: Simulator) -> None:
    number = new_ticket(client)
    sim.clear()
    assert error_of(client.delete(f"{ORG_TICKETS}/{number}")) == (501, "ConnectorOperationUnsupportedError")
    assert sim.requests() == []
    client.patch(f"{ORG_TICKETS}/{number}", json={"status": "not_planned"})
    assert sent(sim, "PATCH")[-1]["body"] == {"state": "closed", "state_reason": "not_planned"}
    assert client.get(f"{ORG_TICKETS}/{number}").json()["data"]["status"] == "closed"


def test_state_reason_reads_through_a_custom_mapping(tracker: ConnectorUnderTest, checked: SpecCheck) -> None:
    tracker.connect("reasons", custom_mappings={"state_reason": "$.state_reason"})
    with tracker.client("reasons") as c:
        number = c.post(ORG_TICKETS, json={"subject": "Won't do", "status": "not_planned"}).json()["data"]["id"]
        ticket = c.get(f"{ORG_TICKETS}/{number}").json()["data"]
    assert (ticket["status"], ticket["custom_mappings"]) == ("closed", {"state_reason": "not_planned"})
    checked.assert_clean()


def test_sub_issues_read_as_parent_id(client: httpx.Client, sim: Simulator) -> None:
    children = [i for i in github(sim, "/repos/octo-org/platform/issues", state="all", per_page=100)
                if i.get("parent_issue_url")]
    assert children
    ticket = client.get(f"{ORG_TICKETS}/{children[0]['number']}").json()["data"]
    assert ticket["parent_id"] == children[0]["parent_issue_url"].rsplit("/", 1)[1]


def parent_of(sim: Simulator, number: str) -> str | None:
    url = github(sim, f"/repos/octo-org/platform/issues/{number}").get("parent_issue_url")
    return url.rsplit("/", 1)[1] if url else None


def test_a_ticket_is_created_as_a_sub_issue_of_its_parent_id(client: httpx.Client, sim: Simulator) -> None:
    parent = new_ticket(client)
    sim.clear()
    child = new_ticket(client, parent_id=parent)
    link = sent(sim, "POST")[-1]
    assert link["path"] == f"/repos/octo-org/platform/issues/{parent}/sub_issues"
    assert link["body"] == {"sub_issue_id": github(sim, f"/repos/octo-org/platform/issues/{child}")["id"]}
    assert client.get(f"{ORG_TICKETS}/{child}").json()["data"]["parent_id"] == parent


def test_an_update_changes_the_parent_and_null_clears_it(client: httpx.Client, sim: Simulator) -> None:
    first, second = new_ticket(client), new_ticket(client)
    child = new_ticket(client, parent_id=first)
    sim.clear()
    assert client.patch(f"{ORG_TICKETS}/{child}", json={"parent_id": second}).status_code == 200
    assert sent(sim, "PATCH") == []   # only the parent changed: the issue itself is not patched
    assert sent(sim, "POST")[-1]["body"]["replace_parent"] is True
    assert parent_of(sim, child) == second
    assert client.patch(f"{ORG_TICKETS}/{child}", json={"parent_id": None}).status_code == 200
    assert sent(sim, "DELETE")[-1]["path"] == f"/repos/octo-org/platform/issues/{second}/sub_issue"
    assert parent_of(sim, child) is None


def test_the_same_parent_again_makes_no_link_call(client: httpx.Client, sim: Simulator) -> None:
    parent = new_ticket(client)
    child = new_ticket(client, parent_id=parent)
    sim.clear()
    assert client.patch(f"{ORG_TICKETS}/{child}", json={"parent_id": parent, "subject": "Renamed"}).status_code == 200
    assert [r["method"] for r in sim.requests() if r["method"] != "GET"] == ["PATCH"]


@pytest.mark.parametrize("parent", ["99999", "not-a-number", "self"])
def test_a_parent_that_is_no_other_issue_here_is_refused_before_any_write(
        client: httpx.Client, sim: Simulator, parent: str) -> None:
    number = new_ticket(client)
    sim.clear()
    response = client.patch(f"{ORG_TICKETS}/{number}", json={"parent_id": number if parent == "self" else parent,
                                                              "subject": "Never"})
    assert error_of(response) == (400, "RequestValidationError")
    assert "parent_id" in response.json()["detail"]
    assert [r["method"] for r in sim.requests()] == ["GET"] * len(sim.requests())


def test_a_pull_request_cannot_be_a_parent(client: httpx.Client, sim: Simulator) -> None:
    pull = next(i for i in github(sim, "/repos/octo-org/platform/issues", state="all", per_page=100)
                if "pull_request" in i)
    sim.clear()
    response = client.post(ORG_TICKETS, json={"subject": "x", "parent_id": str(pull["number"])})
    assert error_of(response) == (400, "RequestValidationError")
    assert sent(sim, "POST") == []


def test_a_link_github_refuses_after_the_create_is_reported_partly_applied(
        client: httpx.Client, sim: Simulator) -> None:
    parent = new_ticket(client)
    sim.fault(method="POST", path=f"/repos/octo-org/platform/issues/{parent}/sub_issues", status=422, times=1,
             body={"message": "Validation Failed", "errors": [{"resource": "Issue", "code": "custom",
                                                                "field": "sub_issue_id", "message": "Too deep"}]})
    response = client.post(ORG_TICKETS, json={"subject": "Orphan", "parent_id": parent})
    assert error_of(response)[0] == 422
    detail = response.json()["detail"]
    assert detail["applied_calls"] == ["tickets_add"] and detail["failed_call"] == "tickets_parent_link"


# -- comments -----------------------------------------------------------------------------------
def test_comments_round_trip(client: httpx.Client) -> None:
    number = new_ticket(client)
    comments = f"{ORG_TICKETS}/{number}/comments"
    created = client.post(comments, json={"body": "First"})
    assert created.status_code == 201, created.text
    cid = created.json()["data"]["id"]
    assert [c["body"] for c in client.get(comments).json()["data"]] == ["First"]
    client.patch(f"{comments}/{cid}", json={"body": "Edited"})
    assert client.get(f"{comments}/{cid}").json()["data"]["body"] == "Edited"
    assert client.delete(f"{comments}/{cid}").status_code == 200
    assert client.get(comments).json()["data"] == []


def test_a_comment_of_another_issue_is_404_and_not_written(client: httpx.Client, sim: Simulator) -> None:
    one, other = new_ticket(client), new_ticket(client)
    cid = client.post(f"{ORG_TICKETS}/{one}/comments", json={"body": "Mine"}).json()["data"]["id"]
    sim.clear()
    assert error_of(client.get(f"{ORG_TICKETS}/{other}/comments/{cid}"))[0] == 404
    assert error_of(client.patch(f"{ORG_TICKETS}/{other}/comments/{cid}", json={"body": "x"}))[0] == 404
    assert error_of(client.delete(f"{ORG_TICKETS}/{other}/comments/{cid}"))[0] == 404
    assert [r["method"] for r in sim.requests()] == ["GET", "GET", "GET"]


# -- users and tags -----------------------------------------------------------------------------
def test_users_are_the_assignable_users_by_login(client: httpx.Client) -> None:
    data = client.get(f"/issue-tracking/collections/{HELLO}/users").json()["data"]
    assert [u["id"] for u in data] == ["octocat", "hubot", "monalisa", "defunkt", "mojombo"]
    assert client.get(f"/issue-tracking/collections/{HELLO}/users/hubot").json()["data"]["name"] == "hubot"
    assert error_of(client.get(f"/issue-tracking/collections/{HELLO}/users/wycats"))[0] == 404


def test_tags_are_the_repositorys_labels(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(f"/issue-tracking/collections/{HELLO}/tags", params={"limit": 50}).json()["data"]
    labels = github(sim, "/repos/octocat/Hello-World/labels", per_page=100)
    assert [(t["id"], t["name"]) for t in data] == [(str(label["id"]), label["name"]) for label in labels]


# -- faults -------------------------------------------------------------------------------------
def test_a_bad_token_is_a_401(tracker: ConnectorUnderTest, checked: SpecCheck) -> None:
    tracker.harness.connect_consumer("github", "bad-token", {"base_url": tracker.url}, {"access_token": "nope"})
    with tracker.harness.client(consumer_id="bad-token") as c:
        assert error_of(c.get(TICKETS))[0] == 401
    checked.assert_clean()


# -- rate limits --------------------------------------------------------------------------------
@contextmanager
def limits(state: State, **changed: Any) -> Iterator[None]:
    saved = {name: getattr(state.limits, name) for name in changed}
    for name, value in changed.items():
        setattr(state.limits, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(state.limits, name, value)
        state.limits.writes.clear()


def test_githubs_quota_headers_are_the_downstream_ratelimit_headers(client: httpx.Client) -> None:
    response = client.get(TICKETS, params={"limit": 1})
    assert response.headers["x-downstream-ratelimit-limit"] == "5000"
    assert int(response.headers["x-downstream-ratelimit-remaining"]) < 5000
    assert int(response.headers["x-downstream-ratelimit-reset"]) > 1_700_000_000


@pytest.mark.parametrize("status", [403, 429])
@pytest.mark.parametrize("retry_after", [60, None])
def test_a_secondary_limit_is_a_rate_limit_error_with_the_wait(
        client: httpx.Client, state: State, status: int, retry_after: int | None) -> None:
    with limits(state, writes_per_minute=0, secondary_status=status, secondary_retry_after=retry_after):
        response = client.post(ORG_TICKETS, json={"subject": "Too fast"})
    assert error_of(response) == (429, "ConnectorRateLimitError")
    assert response.headers["retry-after"] == "60"   # GitHub: without Retry-After, wait at least a minute
    assert "secondary rate limit" in response.json()["downstream_errors"][0]["message"]


@pytest.mark.parametrize("status", [403, 429])
def test_an_exhausted_quota_is_a_rate_limit_error_until_the_reset(client: httpx.Client, state: State,
                                                                   status: int) -> None:
    with limits(state, limit=state.limits.used, primary_status=status):
        response = client.get(TICKETS, params={"limit": 1})
    assert error_of(response) == (429, "ConnectorRateLimitError")
    assert 0 < int(response.headers["retry-after"]) <= 3600
    assert response.headers["x-downstream-ratelimit-remaining"] == "0"


# -- errors -------------------------------------------------------------------------------------
def test_a_422_passes_githubs_validation_errors_on(client: httpx.Client) -> None:
    response = client.post(ORG_TICKETS, json={"subject": "x", "assignees": [{"id": "wycats"}]})
    assert error_of(response) == (422, "ConnectorExecutionError")
    assert response.json()["downstream_errors"][0]["message"] == "Validation Failed"


def test_issue_field_values_read_and_write_back_through_custom_mappings(
        tracker: ConnectorUnderTest, checked: SpecCheck, sim: Simulator) -> None:
    tracker.connect("fields", custom_mappings={"dri": "$.issue_field_values[?(@.issue_field_id == 1)].value"})
    with tracker.client("fields") as c:
        created = c.post(ORG_TICKETS, json={"subject": "Owned", "custom_mappings": {"dri": "monalisa"}})
        number = created.json()["data"]["id"]
        assert sent(sim, "POST")[-1]["body"]["issue_field_values"] == [{"field_id": 1, "value": "monalisa"}]
        c.patch(f"{ORG_TICKETS}/{number}", json={"custom_mappings": {"dri": "hubot"}})
        ticket = c.get(f"{ORG_TICKETS}/{number}").json()["data"]
    assert ticket["custom_mappings"] == {"dri": "hubot"}
    checked.assert_clean()


def test_issues_disabled_is_a_410_saying_so_with_githubs_message(client: httpx.Client) -> None:
    response = client.get("/issue-tracking/collections/octocat~Spoon-Knife/tickets")
    assert error_of(response) == (410, "ConnectorExecutionError")
    assert "issues are disabled in this repository" in response.json()["message"]
    assert response.json()["downstream_errors"][0]["message"] == "Issues are disabled for this repo"


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_a_moved_repository_is_not_followed_and_the_error_names_its_new_collection_id(
        client: httpx.Client, sim: Simulator, method: str) -> None:
    old = "/issue-tracking/collections/octocat~Old-World/tickets"
    response = client.get(old) if method == "GET" else client.patch(f"{old}/1", json={"subject": "Lost"})
    assert error_of(response) == (404, "EntityNotFoundError")
    body = response.json()
    assert body["detail"]["moved_to"] == {"repository_id": "1296269", "collection_id": HELLO}
    assert body["downstream_errors"][0]["message"] == "Moved Permanently"
    assert HELLO in body["message"]
    assert {r["method"] for r in sim.requests()} == {"GET"}   # nothing written through the move
    assert sim.requests()[-1]["path"] == "/repositories/1296269"


# -- conditional requests -----------------------------------------------------------------------
def test_a_re_read_is_conditional_and_a_304_costs_no_rate_limit(client: httpx.Client, sim: Simulator,
                                                                 all_numbers: list[str]) -> None:
    first = client.get(f"{TICKETS}/{all_numbers[3]}")
    again = client.get(f"{TICKETS}/{all_numbers[3]}")
    assert again.json()["data"] == first.json()["data"]
    assert "if-none-match" in sim.requests()[1]["headers"]
    assert again.headers["x-downstream-ratelimit-remaining"] == first.headers["x-downstream-ratelimit-remaining"]


def test_a_changed_issue_is_read_anew(client: httpx.Client) -> None:
    number = new_ticket(client)
    assert client.get(f"{ORG_TICKETS}/{number}").json()["data"]["subject"] == "Connector test"
    client.patch(f"{ORG_TICKETS}/{number}", json={"subject": "Renamed"})
    assert client.get(f"{ORG_TICKETS}/{number}").json()["data"]["subject"] == "Renamed"


# -- pass_through -------------------------------------------------------------------------------
def test_pass_through_query_reaches_github_but_not_its_paging_parameters(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"pass_through[labels]": "bug", "limit": 100}).json()["data"]
    assert data and all(any(t["name"] == "bug" for t in ticket["tags"]) for ticket in data)
    assert ("labels", "bug") in {tuple(p) for p in sim.requests()[0]["query"]}
    for paging in ("page", "per_page"):
        assert error_of(client.get(TICKETS, params={f"pass_through[{paging}]": "5"}))[0] == 400


@pytest.mark.parametrize("field", ["name", "created_at", "updated_at"])
def test_collections_sort_is_githubs(client: httpx.Client, sim: Simulator, field: str) -> None:
    data = client.get("/issue-tracking/collections", params={"sort[by]": field, "sort[direction]": "desc"}).json()
    github_sort = {"name": "full_name", "created_at": "created", "updated_at": "updated"}[field]
    repos = github(sim, "/user/repos", sort=github_sort, direction="desc")
    assert [c["id"] for c in data["data"]] == [r["full_name"].replace("/", "~") for r in repos]
