"""Manifest steps around an operation's call, through the gateway against a tiny tracker
(tests/support/etag_tracker.py): `prepare` (attach, create), `listed`, `request` (If-Match, form
bodies), `then` (create + link) and pagination style `ids` (docs/mapping-files.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from unigate.simulation import BackgroundServer
from unigate.testing import GatewayHarness, Simulator, error_of

from .conftest import cleared_client
from .support.etag_tracker import EtagTracker, etag_tracker
from .support.manifest_gateway import manifest_gateway

TICKETS = "/issue-tracking/collections/main/tickets"
LISTED = {"call_id": "tickets_listed", "path": "/issues", "query": {"id": "{ticket_id}"}, "records": "$.items",
          "match": {"path": "$.id", "value": "{ticket_id}"}, "why": "retired items are deleted ones"}
FIRST = {"into": "first", "call_id": "tickets_first", "path": "/messages", "records": "$.items",
         "ids": "$.messages", "pick": "lowest"}
IF_MATCH = {"header": "ETag", "pinned": "$.etag"}
MAPPING = {
    "service_id": "etagger",
    "name": "Etagger",
    "connection": {"settings": {"base_url": {"required": True}}},
    "http": {"base_url": "{settings.base_url}", "errors": {"message": "$.error"}},
    "resources": {
        "tickets": {
            "fields": {"id": "$.id", "subject": "$.title",
                       "description": {"read": "$.first.content", "write": "$.first"}},
            "operations": {
                "all": {"path": "/issues", "records": "$.items", "prepare": [{"attach": FIRST}]},
                "one": {"path": "/issues/{ticket_id}", "record": "$.issue", "listed": LISTED,
                        "prepare": [{"attach": {**FIRST, "call_id": "tickets_one_first"}}]},
                "add": {"method": "POST", "path": "/issues", "id": "$.id", "prepare": [{"create": {
                    "take": "$.first", "call_id": "tickets_add_first", "path": "/messages",
                    "body": {"content": "{value}"}, "id": "$.id", "put": "$.messages", "as_list": True}}]},
                "update": {"method": "PATCH", "path": "/issues/{ticket_id}", "listed": LISTED,
                           "request": {"if_match": IF_MATCH}},
                "delete": {"method": "PATCH", "path": "/issues/{ticket_id}", "body": {"$.retired": "true"},
                           "listed": LISTED, "request": {"content_type": "form", "if_match": IF_MATCH}},
            },
        },
        "comments": {
            "fields": {"id": "$.id", "body": "$.content"},
            "operations": {
                "all": {"path": "/messages", "records": "$.items", "listed": {**LISTED, "call_id": "comments_ids"},
                        "pagination": {"style": "ids", "ids": "$.messages"}},
                "add": {"method": "POST", "path": "/messages", "id": "$.id", "then": [{
                    "call_id": "comments_link", "path": "/issues/{ticket_id}", "body": {"add_messages": ["{new_id}"]},
                    "request": {"if_match": {"header": "ETag", "retries": 1}}}]},
            },
        },
    },
}


@pytest.fixture(scope="module")
def state() -> EtagTracker:
    return EtagTracker()


@pytest.fixture(scope="module")
def sim(state: EtagTracker) -> Iterator[Simulator]:
    control = etag_tracker(state)
    simulator = Simulator(control, BackgroundServer(control).start())
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, sim: Simulator) -> Iterator[GatewayHarness]:
    gateway = manifest_gateway(Path(tmp_path_factory.mktemp("etagger")), "etagger", MAPPING, sim.url)
    yield gateway
    gateway.stop()


client = cleared_client()


def calls(sim: Simulator) -> list[tuple[str, str]]:
    return [(r["method"], r["path"] + ("?" + "&".join(f"{k}={v}" for k, v in r["query"]) if r["query"] else ""))
            for r in sim.requests()]


def issue(state: EtagTracker, *contents: str, retired: bool = False) -> str:
    return state.add_issue("An issue", [state.add_message(c) for c in contents], retired=retired)


# -- prepare: attach ----------------------------------------------------------------------------------
def test_attach_reads_the_related_records_of_a_whole_page_in_one_call(client: httpx.Client, sim: Simulator,
                                                                       state: EtagTracker) -> None:
    first, second = issue(state, "said first", "said later"), issue(state, "another")
    tickets = {t["id"]: t for t in client.get(TICKETS).json()["data"]}
    assert tickets[first]["description"] == "said first" and tickets[second]["description"] == "another"
    assert [c for c in calls(sim) if c[1].startswith("/messages")] == [("GET", f"/messages?{_ids(state)}")]


def _ids(state: EtagTracker) -> str:
    wanted = sorted((min(i["messages"], key=int) for i in state.issues.values()
                     if i["messages"] and not i["retired"]), key=int)
    return "&".join(f"id={i}" for i in wanted)


def test_attach_on_one_record_puts_null_when_it_has_no_related_record(client: httpx.Client,
                                                                      state: EtagTracker) -> None:
    ticket_id = issue(state)
    assert client.get(f"{TICKETS}/{ticket_id}").json()["data"]["description"] is None


# -- prepare: create ----------------------------------------------------------------------------------
def test_create_makes_the_value_its_own_record_and_sends_its_id(client: httpx.Client, sim: Simulator,
                                                                state: EtagTracker) -> None:
    response = client.post(TICKETS, json={"subject": "New", "description": "the first words"})
    created = state.issues[response.json()["data"]["id"]]
    assert [state.messages[m]["content"] for m in created["messages"]] == ["the first words"]
    assert [r["body"] for r in sim.requests()] == [{"content": "the first words"},
                                                   {"title": "New", "messages": created["messages"]}]


# -- listed: hidden in lists, readable by id --------------------------------------------------------------
def test_an_item_the_list_hides_is_not_found_though_readable_by_id(client: httpx.Client,
                                                                   state: EtagTracker) -> None:
    response = client.get(f"{TICKETS}/{issue(state, retired=True)}")
    assert error_of(response) == (404, "EntityNotFoundError") and "retired" in response.json()["detail"]


@pytest.mark.parametrize("write", ["update", "delete", "comment"])
def test_a_write_to_an_item_the_list_hides_is_not_found_after_only_the_list_call(
        client: httpx.Client, sim: Simulator, state: EtagTracker, write: str) -> None:
    ticket_id = issue(state, retired=True)
    send = {"update": lambda: client.patch(f"{TICKETS}/{ticket_id}", json={"subject": "x"}),
            "delete": lambda: client.delete(f"{TICKETS}/{ticket_id}"),
            "comment": lambda: client.get(f"{TICKETS}/{ticket_id}/comments")}[write]
    assert error_of(send()) == (404, "EntityNotFoundError")
    assert calls(sim) == [("GET", f"/issues?id={ticket_id}")]


# -- request: If-Match, form bodies -------------------------------------------------------------------------
def test_if_match_sends_the_etag_a_read_of_the_item_answers(client: httpx.Client, sim: Simulator,
                                                            state: EtagTracker) -> None:
    ticket_id = issue(state)
    assert client.patch(f"{TICKETS}/{ticket_id}", json={"subject": "Renamed"}).status_code == 200
    patch = [r for r in sim.requests() if r["method"] == "PATCH"]
    assert patch[0]["headers"]["if-match"] == '"v1"' and state.issues[ticket_id]["title"] == "Renamed"


def test_an_etag_the_client_pinned_wins_over_a_read(client: httpx.Client, sim: Simulator,
                                                   state: EtagTracker) -> None:
    ticket_id = issue(state)
    pinned = {"service_id": "etagger", "operation_id": "tickets_update", "extend_object": {"etag": '"v1"'}}
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"subject": "Pinned", "pass_through": [pinned]})
    assert response.status_code == 200
    assert [c[0] for c in calls(sim)] == ["GET", "PATCH"]   # the list check; no etag read


def test_a_stale_etag_is_a_409_conflict_and_nothing_changes(client: httpx.Client, state: EtagTracker) -> None:
    ticket_id = issue(state)
    stale = {"service_id": "etagger", "operation_id": "tickets_update", "extend_object": {"etag": '"v0"'}}
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"subject": "Lost", "pass_through": [stale]})
    assert error_of(response) == (409, "ConflictError") and state.issues[ticket_id]["title"] == "An issue"


def test_a_form_content_type_sends_the_body_form_encoded(client: httpx.Client, sim: Simulator,
                                                         state: EtagTracker) -> None:
    ticket_id = issue(state)
    assert client.delete(f"{TICKETS}/{ticket_id}").status_code == 200
    patch = next(r for r in sim.requests() if r["method"] == "PATCH")
    assert patch["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert patch["body"] == "retired=true" and state.issues[ticket_id]["retired"]


# -- then: create + link; pagination style ids ------------------------------------------------------------
def test_then_links_the_created_record_to_its_parent(client: httpx.Client, state: EtagTracker) -> None:
    ticket_id = issue(state, "opening")
    created = client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": "a reply"}).json()["data"]["id"]
    assert state.issues[ticket_id]["messages"][-1] == created


def test_then_retries_a_conflict_once_with_a_fresh_etag(client: httpx.Client, sim: Simulator,
                                                        state: EtagTracker) -> None:
    ticket_id = issue(state)
    sim.fault(method="PATCH", path=f"^/issues/{ticket_id}$", status=412, body={"error": "stale"}, times=1)
    created = client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": "kept"}).json()["data"]["id"]
    assert state.issues[ticket_id]["messages"] == [created]
    assert [c[0] for c in calls(sim)] == ["POST", "GET", "PATCH", "GET", "PATCH"]   # create, etag, link x2


def test_ids_paging_reads_each_page_of_the_listed_items_ids_in_one_call(client: httpx.Client, sim: Simulator,
                                                                       state: EtagTracker) -> None:
    ticket_id = issue(state, "one", "two", "three")
    first = client.get(f"{TICKETS}/{ticket_id}/comments", params={"limit": 2}).json()
    rest = client.get(f"{TICKETS}/{ticket_id}/comments",
                      params={"limit": 2, "cursor": first["meta"]["cursors"]["next"]}).json()
    assert [c["body"] for c in first["data"] + rest["data"]] == ["one", "two", "three"]
    assert rest["meta"]["cursors"]["next"] is None
    assert sum(1 for c in calls(sim) if c[1].startswith("/messages")) == 2
