"""Specification of the GitLab REST v4 simulator, exercised over real HTTP.

GitLab publishes no OpenAPI description of its issue endpoints (see the README), so these tests
state what GitLab's documentation says, as summarised in the project's research notes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import httpx
import pytest

from unigate.kit import BackgroundServer
from unigate_connectors.gitlab.simulator import (
    ADMIN_TOKEN,
    DEVELOPER_TOKEN,
    OWNER_TOKEN,
    PLATFORM,
    SECRET,
    State,
    create_app,
)

PLATFORM_PATH = "/projects/acme%2Fplatform"


@contextmanager
def served(token: str = OWNER_TOKEN, **options: Any) -> Iterator[tuple[httpx.Client, State]]:
    control = create_app(**options)
    state: State = cast(Any, control.app).app.state.simulator
    with BackgroundServer(control) as server, \
            httpx.Client(base_url=f"{server.url}/api/v4", headers={"PRIVATE-TOKEN": token}, timeout=10) as client:
        yield client, state


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


def platform(state: State) -> Any:
    return state.projects[PLATFORM]


def all_pages(client: httpx.Client, url: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    response = client.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        rows += response.json()
        if not response.headers.get("x-next-page"):
            return rows
        response = client.get(url, params={**params, "page": response.headers["x-next-page"]})


def new_issue(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = client.post(f"{PLATFORM_PATH}/issues", json={"title": "Spec issue", **fields})
    assert response.status_code == 201, response.text
    return response.json()


# -- authentication ------------------------------------------------------------------------------

def test_private_token_header_authenticates(client: httpx.Client) -> None:
    assert client.get("/user").json()["username"] == "alice"


def test_bearer_authorization_authenticates_too(client: httpx.Client) -> None:
    response = client.get("/user", headers={"PRIVATE-TOKEN": "", "Authorization": f"Bearer {DEVELOPER_TOKEN}"})
    assert response.json()["username"] == "bob"


@pytest.mark.parametrize("headers", [{"PRIVATE-TOKEN": ""}, {"PRIVATE-TOKEN": "glpat-wrong"}])
def test_no_or_a_wrong_token_is_401(client: httpx.Client, headers: dict[str, str]) -> None:
    response = client.get("/projects", headers=headers)
    assert (response.status_code, response.json()) == (401, {"message": "401 Unauthorized"})


def test_an_unknown_route_is_404_with_an_error_key(client: httpx.Client) -> None:
    response = client.get("/no/such/route")
    assert (response.status_code, response.json()) == (404, {"error": "404 Not Found"})


# -- projects ------------------------------------------------------------------------------------

def test_membership_projects_are_those_the_user_belongs_to(client: httpx.Client) -> None:
    rows = client.get("/projects", params={"membership": "true", "simple": "true"}).json()
    assert [p["path_with_namespace"] for p in rows] == ["acme/platform", "acme/web", "alice/sandbox"]
    assert "permissions" not in rows[0]  # simple=true


def test_a_project_by_numeric_id_or_url_encoded_path(client: httpx.Client) -> None:
    by_id = client.get(f"/projects/{PLATFORM}").json()
    assert by_id["path_with_namespace"] == "acme/platform"
    assert client.get(PLATFORM_PATH).json() == by_id
    assert by_id["permissions"]["group_access"]["access_level"] == 50


def test_a_project_the_user_is_not_a_member_of_is_404_project_not_found(client: httpx.Client) -> None:
    for ref in (SECRET, "other-group%2Fsecret"):
        response = client.get(f"/projects/{ref}/issues")
        assert (response.status_code, response.json()) == (404, {"message": "404 Project Not Found"})


def test_an_administrator_sees_every_project_without_membership(client: httpx.Client) -> None:
    response = client.get("/projects", headers={"PRIVATE-TOKEN": ADMIN_TOKEN})
    assert [p["id"] for p in response.json()] == [42, 43, 44, 45]


def test_projects_keyset_paging_links_next_with_id_after_and_no_totals(client: httpx.Client) -> None:
    ids: list[int] = []
    params: dict[str, Any] = {"pagination": "keyset", "order_by": "id", "sort": "asc", "per_page": 1, "membership": "true"}
    response = client.get("/projects", params=params)
    while True:
        assert "x-total" not in response.headers
        ids += [p["id"] for p in response.json()]
        if "next" not in response.links:
            break
        assert "id_after=" in response.links["next"]["url"]
        response = client.get(response.links["next"]["url"])
    assert ids == [42, 43, 44]


def test_members_all_includes_members_inherited_from_the_group(client: httpx.Client) -> None:
    members = {m["username"]: m["access_level"] for m in client.get(f"{PLATFORM_PATH}/members/all").json()}
    direct = {m["username"] for m in client.get(f"{PLATFORM_PATH}/members").json()}
    assert members == {"alice": 50, "bob": 30, "carol": 20, "dave": 30} and direct == {"dave"}


# -- listing issues ------------------------------------------------------------------------------

def test_issues_are_listed_by_iid_all_states_newest_first(client: httpx.Client, state: State) -> None:
    rows = all_pages(client, f"{PLATFORM_PATH}/issues", per_page=100)
    expected = sorted(platform(state).issues.values(), key=lambda i: (i["created_at"], i["id"]), reverse=True)
    assert [r["iid"] for r in rows] == [i["iid"] for i in expected]
    assert {r["state"] for r in rows} == {"opened", "closed"}


def test_state_opened(client: httpx.Client, state: State) -> None:
    rows = all_pages(client, f"{PLATFORM_PATH}/issues", state="opened", per_page=100)
    assert {r["iid"] for r in rows} == {i["iid"] for i in platform(state).issues.values() if i["state"] == "opened"}


def test_labels_filter_needs_every_label_and_knows_none_and_any(client: httpx.Client, state: State) -> None:
    issues = platform(state).issues.values()
    both = all_pages(client, f"{PLATFORM_PATH}/issues", labels="bug,priority::high", per_page=100)
    assert {r["iid"] for r in both} == {i["iid"] for i in issues if {"bug", "priority::high"} <= set(i["labels"])}
    unlabelled = all_pages(client, f"{PLATFORM_PATH}/issues", labels="None", per_page=100)
    assert {r["iid"] for r in unlabelled} == {i["iid"] for i in issues if not i["labels"]}


def test_assignee_by_id_and_by_username(client: httpx.Client, state: State) -> None:
    expected = {i["iid"] for i in platform(state).issues.values() if "bob" in i["assignees"]}
    by_id = all_pages(client, f"{PLATFORM_PATH}/issues", assignee_id=state.users["bob"], per_page=100)
    by_name = all_pages(client, f"{PLATFORM_PATH}/issues", assignee_username="bob", per_page=100)
    assert expected and {r["iid"] for r in by_id} == {r["iid"] for r in by_name} == expected


def test_updated_after_and_order_by_updated_at_ascending(client: httpx.Client, state: State) -> None:
    stamps = sorted(i["updated_at"] for i in platform(state).issues.values())
    after = stamps[len(stamps) // 2]
    rows = all_pages(client, f"{PLATFORM_PATH}/issues", updated_after=after, order_by="updated_at", sort="asc",
                     per_page=100)
    assert [r["updated_at"] for r in rows] == sorted(r["updated_at"] for r in rows)
    assert {r["iid"] for r in rows} == {i["iid"] for i in platform(state).issues.values() if i["updated_at"] >= after}


def test_iids_and_search(client: httpx.Client, state: State) -> None:
    rows = client.get(f"{PLATFORM_PATH}/issues", params=[("iids[]", "3"), ("iids[]", "5")]).json()
    assert sorted(r["iid"] for r in rows) == [3, 5]
    word = platform(state).issues[7]["title"].split()[-1]
    found = all_pages(client, f"{PLATFORM_PATH}/issues", search=word, per_page=100)
    assert 7 in {r["iid"] for r in found} and all(word.lower() in r["title"].lower() or
                                                   word.lower() in (r["description"] or "").lower() for r in found)


def test_with_labels_details_gives_label_objects(client: httpx.Client, state: State) -> None:
    iid = next(i["iid"] for i in platform(state).issues.values() if i["labels"])
    row = client.get(f"{PLATFORM_PATH}/issues", params={"iids[]": iid, "with_labels_details": "true"}).json()[0]
    assert [(x["name"], x["id"]) for x in row["labels"]] == \
        [(n, platform(state).labels[n]["id"]) for n in sorted(platform(state).issues[iid]["labels"])]


def test_an_unknown_order_by_is_400(client: httpx.Client) -> None:
    response = client.get(f"{PLATFORM_PATH}/issues", params={"order_by": "colour"})
    assert (response.status_code, response.json()) == (400, {"error": "order_by is invalid"})


# -- paging --------------------------------------------------------------------------------------

@pytest.mark.parametrize("per_page", [1, 7, 20, 100])
def test_offset_paging_walks_every_issue_once(client: httpx.Client, state: State, per_page: int) -> None:
    iids = [r["iid"] for r in all_pages(client, f"{PLATFORM_PATH}/issues", per_page=per_page)]
    assert sorted(iids) == sorted(platform(state).issues) and len(iids) == len(set(iids))


def test_paging_headers_and_link(client: httpx.Client, state: State) -> None:
    total = len(platform(state).issues)
    response = client.get(f"{PLATFORM_PATH}/issues", params={"per_page": 20, "page": 2})
    assert {k: response.headers[k] for k in ("x-page", "x-per-page", "x-next-page", "x-prev-page", "x-total",
                                             "x-total-pages")} == \
        {"x-page": "2", "x-per-page": "20", "x-next-page": "3", "x-prev-page": "1", "x-total": str(total),
         "x-total-pages": str(-(-total // 20))}
    assert set(response.links) == {"prev", "next", "first", "last"}


def test_the_default_page_size_is_20_and_the_maximum_100(client: httpx.Client) -> None:
    assert len(client.get(f"{PLATFORM_PATH}/issues").json()) == 20
    assert len(client.get(f"{PLATFORM_PATH}/issues", params={"per_page": 500}).json()) == 100


def test_above_the_count_limit_totals_and_last_are_omitted() -> None:
    with served(issue_count=30, count_limit=25) as (client, _):
        response = client.get(f"{PLATFORM_PATH}/issues", params={"per_page": 10})
        rows = all_pages(client, f"{PLATFORM_PATH}/issues", per_page=10)
    assert "x-total" not in response.headers and "x-total-pages" not in response.headers
    assert "last" not in response.links and response.headers["x-next-page"] == "2"
    assert len(rows) == 30  # x-next-page still walks them all


def test_the_last_page_has_an_empty_next_page(client: httpx.Client, state: State) -> None:
    pages = -(-len(platform(state).issues) // 100)
    response = client.get(f"{PLATFORM_PATH}/issues", params={"per_page": 100, "page": pages})
    assert response.headers["x-next-page"] == "" and "next" not in response.links


# -- one issue -----------------------------------------------------------------------------------

def test_get_issue_by_iid(client: httpx.Client, state: State) -> None:
    stored = platform(state).issues[12]
    issue = client.get(f"{PLATFORM_PATH}/issues/12").json()
    assert (issue["iid"], issue["id"], issue["title"], issue["labels"]) == \
        (12, stored["id"], stored["title"], sorted(stored["labels"]))
    assert issue["references"]["full"] == "acme/platform#12"


def test_an_unknown_iid_is_404_issue_not_found(client: httpx.Client) -> None:
    response = client.get(f"{PLATFORM_PATH}/issues/99999")
    assert (response.status_code, response.json()) == (404, {"message": "404 Issue Not Found"})


def test_create_issue_with_labels_string_assignees_due_date_and_type(client: httpx.Client, state: State) -> None:
    made = new_issue(client, description="d", labels="bug,customer-x", assignee_ids=[state.users["bob"]],
                     due_date="2027-01-31", issue_type="incident")
    assert (made["state"], made["labels"], made["due_date"], made["issue_type"]) == \
        ("opened", ["bug", "customer-x"], "2027-01-31", "incident")
    assert [a["username"] for a in made["assignees"]] == ["bob"] and made["author"]["username"] == "alice"
    assert "customer-x" in platform(state).labels  # unknown label names are created


def test_create_accepts_a_form_body(client: httpx.Client) -> None:
    response = client.post(f"{PLATFORM_PATH}/issues", data={"title": "From a form", "labels": "feature"})
    assert response.status_code == 201 and response.json()["labels"] == ["feature"]


def test_create_without_title_is_400_title_is_missing(client: httpx.Client) -> None:
    response = client.post(f"{PLATFORM_PATH}/issues", json={"description": "x"})
    assert (response.status_code, response.json()) == (400, {"error": "title is missing"})


def test_a_bad_due_date_is_400(client: httpx.Client) -> None:
    response = client.post(f"{PLATFORM_PATH}/issues", json={"title": "x", "due_date": "31/01/2027"})
    assert (response.status_code, response.json()) == (400, {"error": "due_date is invalid"})


def test_a_blank_title_on_update_is_a_message_object(client: httpx.Client) -> None:
    iid = new_issue(client)["iid"]
    response = client.put(f"{PLATFORM_PATH}/issues/{iid}", json={"title": " "})
    assert (response.status_code, response.json()) == (400, {"message": {"title": ["can't be blank"]}})


def test_state_event_close_and_reopen(client: httpx.Client) -> None:
    iid = new_issue(client)["iid"]
    closed = client.put(f"{PLATFORM_PATH}/issues/{iid}", json={"state_event": "close"}).json()
    assert (closed["state"], closed["closed_by"]["username"]) == ("closed", "alice") and closed["closed_at"]
    reopened = client.put(f"{PLATFORM_PATH}/issues/{iid}", json={"state_event": "reopen"}).json()
    assert (reopened["state"], reopened["closed_at"], reopened["closed_by"]) == ("opened", None, None)


def test_an_unknown_state_event_is_400(client: httpx.Client) -> None:
    iid = new_issue(client)["iid"]
    assert client.put(f"{PLATFORM_PATH}/issues/{iid}", json={"state_event": "resolve"}).status_code == 400


def test_add_and_remove_labels(client: httpx.Client) -> None:
    iid = new_issue(client, labels="bug")["iid"]
    updated = client.put(f"{PLATFORM_PATH}/issues/{iid}", json={"add_labels": "feature", "remove_labels": "bug"}).json()
    assert updated["labels"] == ["feature"]


def test_a_scoped_label_replaces_the_other_of_its_scope(client: httpx.Client) -> None:
    iid = new_issue(client, labels="priority::high,bug")["iid"]
    updated = client.put(f"{PLATFORM_PATH}/issues/{iid}", json={"add_labels": "priority::low"}).json()
    assert updated["labels"] == ["bug", "priority::low"]


def test_unassign_with_an_empty_list_and_drop_non_members(client: httpx.Client, state: State) -> None:
    iid = new_issue(client, assignee_ids=[state.users["bob"], state.users["erin"]])["iid"]
    assert [a["username"] for a in client.get(f"{PLATFORM_PATH}/issues/{iid}").json()["assignees"]] == ["bob"]
    assert client.put(f"{PLATFORM_PATH}/issues/{iid}", json={"assignee_ids": []}).json()["assignees"] == []


def test_only_an_owner_or_admin_may_delete_an_issue() -> None:
    with served(DEVELOPER_TOKEN, issue_count=5) as (client, state):
        refused = client.delete(f"{PLATFORM_PATH}/issues/2")
        admin = client.delete(f"{PLATFORM_PATH}/issues/3", headers={"PRIVATE-TOKEN": ADMIN_TOKEN})
        owner = client.delete(f"{PLATFORM_PATH}/issues/4", headers={"PRIVATE-TOKEN": OWNER_TOKEN})
        assert sorted(platform(state).issues) == [1, 2, 5]
        assert client.get(f"{PLATFORM_PATH}/issues/4").status_code == 404
    assert (refused.status_code, refused.json()) == (403, {"message": "403 Forbidden"})
    assert (admin.status_code, owner.status_code, owner.content) == (204, 204, b"")


# -- notes ---------------------------------------------------------------------------------------

def test_notes_list_system_notes_too_marked_system(client: httpx.Client, state: State) -> None:
    iid = next(i["iid"] for i in platform(state).issues.values() if i["state"] == "closed")
    notes = all_pages(client, f"{PLATFORM_PATH}/issues/{iid}/notes")
    stored = [n for n in state.notes.values() if (n["project"], n["iid"]) == (PLATFORM, iid)]
    assert sorted(n["id"] for n in notes) == sorted(n["id"] for n in stored)
    assert any(n["system"] and n["body"] == "closed" for n in notes)


def test_an_edit_writes_system_notes(client: httpx.Client, state: State) -> None:
    iid = new_issue(client)["iid"]
    client.put(f"{PLATFORM_PATH}/issues/{iid}",
               json={"state_event": "close", "add_labels": "bug", "assignee_ids": [state.users["carol"]]})
    bodies = [n["body"] for n in client.get(f"{PLATFORM_PATH}/issues/{iid}/notes", params={"sort": "asc"}).json()
              if n["system"]]
    assert bodies == [f"added ~{platform(state).labels['bug']['id']} label", "assigned to @carol", "closed"]


def test_notes_newest_first_by_default_and_asc_on_request(client: httpx.Client) -> None:
    iid = new_issue(client)["iid"]
    made = [client.post(f"{PLATFORM_PATH}/issues/{iid}/notes", json={"body": f"n{n}"}).json()["id"] for n in range(3)]
    assert [n["id"] for n in client.get(f"{PLATFORM_PATH}/issues/{iid}/notes").json()] == made[::-1]
    assert [n["id"] for n in client.get(f"{PLATFORM_PATH}/issues/{iid}/notes", params={"sort": "asc"}).json()] == made


def test_note_create_get_update_delete(client: httpx.Client) -> None:
    iid = new_issue(client)["iid"]
    response = client.post(f"{PLATFORM_PATH}/issues/{iid}/notes", json={"body": "Looks good"})
    note = response.json()
    assert response.status_code == 201 and (note["system"], note["noteable_iid"]) == (False, iid)
    url = f"{PLATFORM_PATH}/issues/{iid}/notes/{note['id']}"
    assert client.get(url).json()["body"] == "Looks good"
    assert client.put(url, json={"body": "Edited"}).json()["body"] == "Edited"
    assert client.get(f"{PLATFORM_PATH}/issues/{iid}").json()["user_notes_count"] == 1
    assert client.delete(url).status_code == 204
    assert client.get(url).json() == {"message": "404 Note Not Found"}


def test_a_note_without_body_is_400_body_is_missing(client: httpx.Client) -> None:
    iid = new_issue(client)["iid"]
    response = client.post(f"{PLATFORM_PATH}/issues/{iid}/notes", json={})
    assert (response.status_code, response.json()) == (400, {"error": "body is missing"})


# -- labels --------------------------------------------------------------------------------------

def test_labels_are_listed_with_their_names_as_ids(client: httpx.Client, state: State) -> None:
    names = [x["name"] for x in all_pages(client, f"{PLATFORM_PATH}/labels")]
    assert names == sorted(platform(state).labels, key=str.lower) and "priority::high" in names


def test_a_scoped_label_is_read_by_its_url_encoded_name(client: httpx.Client) -> None:
    label = client.get(f"{PLATFORM_PATH}/labels/priority%3A%3Ahigh").json()
    assert (label["name"], label["color"]) == ("priority::high", "#ff0000")


def test_create_a_label_needs_name_and_color_and_refuses_duplicates(client: httpx.Client) -> None:
    response = client.post(f"{PLATFORM_PATH}/labels", json={"name": "severity::2", "color": "#112233"})
    assert response.status_code == 201 and response.json()["name"] == "severity::2"
    assert client.post(f"{PLATFORM_PATH}/labels", json={"name": "x"}).json() == {"error": "color is missing"}
    again = client.post(f"{PLATFORM_PATH}/labels", json={"name": "severity::2", "color": "#112233"})
    assert (again.status_code, again.json()) == (409, {"message": "Label already exists"})


# -- rate limits, seeding, faults ----------------------------------------------------------------

def test_every_answer_carries_ratelimit_headers(client: httpx.Client) -> None:
    first, second = client.get("/user"), client.get("/user")
    assert int(second.headers["ratelimit-observed"]) == int(first.headers["ratelimit-observed"]) + 1
    assert int(second.headers["ratelimit-remaining"]) == 2000 - int(second.headers["ratelimit-observed"])
    assert second.headers["ratelimit-resettime"].endswith(" GMT") and int(second.headers["ratelimit-reset"]) > 0


def test_over_the_throttle_is_429_retry_later_with_retry_after() -> None:
    with served(rate_limit=2, issue_count=5) as (client, _):
        assert [client.get("/user").status_code for _ in range(2)] == [200, 200]
        refused = client.get("/user")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert (refused.headers["content-type"].split(";")[0], refused.text) == ("text/plain", "Retry later\n")
    assert refused.headers["ratelimit-remaining"] == "0"


def test_a_429_may_come_without_retry_after() -> None:
    with served(rate_limit=1, retry_after=False, issue_count=5) as (client, _):
        client.get("/user")
        refused = client.get("/user")
    assert refused.status_code == 429 and "retry-after" not in refused.headers


def test_ratelimit_headers_may_be_missing_on_ordinary_answers() -> None:
    with served(rate_headers=False, issue_count=5) as (client, _):
        response = client.get("/user")
    assert response.status_code == 200 and not [h for h in response.headers if h.startswith("ratelimit-")]


def test_the_issue_creation_limit_is_429_with_a_json_message() -> None:
    with served(issue_creates_per_minute=1, issue_count=5) as (client, state):
        assert client.post(f"{PLATFORM_PATH}/issues", json={"title": "one"}).status_code == 201
        refused = client.post(f"{PLATFORM_PATH}/issues", json={"title": "two"})
        assert len(platform(state).issues) == 6
    assert refused.status_code == 429
    assert refused.json() == {"message": {"error": "This endpoint has been requested too many times. "
                                                   "Try again later."}}


def test_the_same_seed_gives_the_same_data() -> None:
    def titles(seed: int) -> list[str]:
        state: State = cast(Any, create_app(seed=seed, issue_count=20).app).app.state.simulator
        return [i["title"] for i in state.projects[PLATFORM].issues.values()]
    assert titles(3) == titles(3) != titles(4)


def test_faults_are_injected_through_simulator_control() -> None:
    control = create_app(issue_count=5)
    control.add_fault(path="/issues$", status=503, times=1)
    with BackgroundServer(control) as server, \
            httpx.Client(base_url=f"{server.url}/api/v4", headers={"PRIVATE-TOKEN": OWNER_TOKEN}) as client:
        assert client.get(f"{PLATFORM_PATH}/issues").status_code == 503
        assert client.get(f"{PLATFORM_PATH}/issues").status_code == 200


# -- more edges ------------------------------------------------------------------------------------

def test_milestone_filter_by_title_none_and_any(client: httpx.Client, state: State) -> None:
    issues = platform(state).issues.values()
    v1 = {i["iid"] for i in issues if i["milestone"] == PLATFORM * 10 + 1}
    assert {r["iid"] for r in all_pages(client, f"{PLATFORM_PATH}/issues", milestone="v1.0", per_page=100)} == v1
    none = {r["iid"] for r in all_pages(client, f"{PLATFORM_PATH}/issues", milestone="None", per_page=100)}
    any_ = {r["iid"] for r in all_pages(client, f"{PLATFORM_PATH}/issues", milestone="Any", per_page=100)}
    assert none == {i["iid"] for i in issues if i["milestone"] is None} and none.isdisjoint(any_)
    assert none | any_ == {i["iid"] for i in issues}


@pytest.mark.parametrize("wanted", ["None", "Any"])
def test_assignee_id_none_and_any(client: httpx.Client, state: State, wanted: str) -> None:
    rows = all_pages(client, f"{PLATFORM_PATH}/issues", assignee_id=wanted, per_page=100)
    expected = {i["iid"] for i in platform(state).issues.values() if bool(i["assignees"]) == (wanted == "Any")}
    assert expected and {r["iid"] for r in rows} == expected


def test_an_unknown_state_filter_is_400(client: httpx.Client) -> None:
    response = client.get(f"{PLATFORM_PATH}/issues", params={"state": "open"})
    assert (response.status_code, response.json()) == (400, {"error": "state is invalid"})


def test_a_milestone_is_set_by_id_and_an_unknown_one_is_404(client: httpx.Client) -> None:
    made = new_issue(client, milestone_id=PLATFORM * 10 + 2)
    assert made["milestone"]["title"] == "v2.0"
    response = client.post(f"{PLATFORM_PATH}/issues", json={"title": "x", "milestone_id": 999})
    assert (response.status_code, response.json()) == (404, {"message": "404 Milestone Not Found"})


def test_a_title_over_255_characters_is_400(client: httpx.Client) -> None:
    response = client.post(f"{PLATFORM_PATH}/issues", json={"title": "x" * 256})
    assert response.json() == {"message": {"title": ["is too long (maximum is 255 characters)"]}}


def test_an_unknown_issue_type_is_400(client: httpx.Client) -> None:
    response = client.post(f"{PLATFORM_PATH}/issues", json={"title": "x", "issue_type": "epic"})
    assert (response.status_code, response.json()) == (400, {"error": "issue_type does not have a valid value"})


def test_form_arrays_use_brackets(client: httpx.Client, state: State) -> None:
    response = client.post(f"{PLATFORM_PATH}/issues",
                           data={"title": "form", "assignee_ids[]": [str(state.users["bob"]), str(state.users["dave"])]})
    assert [a["username"] for a in response.json()["assignees"]] == ["bob", "dave"]


def test_a_body_that_is_not_json_is_400(client: httpx.Client) -> None:
    response = client.post(f"{PLATFORM_PATH}/issues", content=b"{title", headers={"content-type": "application/json"})
    assert response.status_code == 400 and "error" in response.json()


def test_title_and_description_edits_write_system_notes(client: httpx.Client) -> None:
    iid = new_issue(client, title="Before")["iid"]
    client.put(f"{PLATFORM_PATH}/issues/{iid}", json={"title": "After", "description": "new"})
    bodies = [n["body"] for n in client.get(f"{PLATFORM_PATH}/issues/{iid}/notes", params={"sort": "asc"}).json()]
    assert bodies == ["changed title from **Before** to **After**", "changed the description"]


def test_another_users_note_cannot_be_edited_and_needs_a_maintainer_to_delete() -> None:
    with served(DEVELOPER_TOKEN, issue_count=5) as (client, _):
        iid = new_issue(client)["iid"]
        url = f"{PLATFORM_PATH}/issues/{iid}/notes"
        alices = client.post(url, json={"body": "mine"}, headers={"PRIVATE-TOKEN": OWNER_TOKEN}).json()
        edit = client.put(f"{url}/{alices['id']}", json={"body": "bob was here"})
        delete = client.delete(f"{url}/{alices['id']}")
        own = client.post(url, json={"body": "bob's"}).json()
        assert client.delete(f"{url}/{own['id']}").status_code == 204
    assert (edit.status_code, delete.status_code) == (403, 403)


def test_a_label_by_numeric_id_unknown_label_and_bad_color(client: httpx.Client, state: State) -> None:
    bug = platform(state).labels["bug"]
    assert client.get(f"{PLATFORM_PATH}/labels/{bug['id']}").json()["name"] == "bug"
    assert client.get(f"{PLATFORM_PATH}/labels/nope").json() == {"message": "404 Label Not Found"}
    response = client.post(f"{PLATFORM_PATH}/labels", json={"name": "c", "color": "red"})
    assert (response.status_code, response.json()) == (400, {"message": {"color": ["must be a valid color code"]}})


def test_keyset_paging_descending_and_only_by_id(client: httpx.Client) -> None:
    params: dict[str, Any] = {"pagination": "keyset", "order_by": "id", "sort": "desc", "per_page": 2, "membership": "true"}
    first = client.get("/projects", params=params)
    assert [p["id"] for p in first.json()] == [44, 43] and "id_before=43" in first.links["next"]["url"]
    assert [p["id"] for p in client.get(first.links["next"]["url"]).json()] == [42]
    refused = client.get("/projects", params={**params, "order_by": "name"})
    assert refused.status_code == 405


def test_a_non_numeric_page_is_400(client: httpx.Client) -> None:
    response = client.get(f"{PLATFORM_PATH}/issues", params={"page": "two"})
    assert (response.status_code, response.json()) == (400, {"error": "page is invalid"})


def test_dates_without_an_offset_are_utc_and_unreadable_ones_400(client: httpx.Client, state: State) -> None:
    stamp = sorted(i["created_at"] for i in platform(state).issues.values())[100]
    naive = stamp.removesuffix("Z")
    rows = all_pages(client, f"{PLATFORM_PATH}/issues", created_after=naive, per_page=100)
    assert {r["iid"] for r in rows} == {i["iid"] for i in platform(state).issues.values() if i["created_at"] >= stamp}
    response = client.get(f"{PLATFORM_PATH}/issues", params={"created_before": "soon"})
    assert (response.status_code, response.json()) == (400, {"error": "created_before is invalid"})


def test_label_lists_and_names_of_other_types_do_not_break_it(client: httpx.Client) -> None:
    assert new_issue(client, labels=["bug", 7])["labels"] == ["7", "bug"]
    response = client.post(f"{PLATFORM_PATH}/labels", json={"name": 5, "color": "#123456"})
    assert (response.status_code, response.json()) == (400, {"error": "name is invalid"})
