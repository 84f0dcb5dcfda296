"""A unified status meaning several tracker statuses on a tracker filtering one per call
(``multiple: single``): one call per tracker status, merged in the list's order, every record once
at any limit (the cursor holds each branch's position); with filter[since] emulated on top."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from unigate.mapping.transforms import parse_timestamp
from unigate.testing import ConnectorUnderTest, Simulator
from unigate_connectors.agentsmesh import simulator as agentsmesh
from unigate_connectors.codimir import simulator as codimir

from .test_since_seed_connectors import floor_of, walk

AGENTSMESH = f"/issue-tracking/collections/{agentsmesh.MAIN_REPOSITORY_ID}/tickets"


@pytest.fixture(scope="module")
def am(tmp_path_factory: pytest.TempPathFactory, databases: Callable[[], Path | str]) -> Iterator[ConnectorUnderTest]:
    tracker = ConnectorUnderTest.start(tmp_path_factory.mktemp("agentsmesh"), "agentsmesh", database=databases())
    yield tracker
    tracker.stop()


@pytest.fixture(scope="module")
def cm(tmp_path_factory: pytest.TempPathFactory, databases: Callable[[], Path | str]) -> Iterator[ConnectorUnderTest]:
    tracker = ConnectorUnderTest.start(tmp_path_factory.mktemp("codimir"), "codimir", database=databases())
    yield tracker
    tracker.stop()


def codimir_tickets(client: httpx.Client) -> str:
    return f"/issue-tracking/collections/{codimir.DEFAULT_PROJECT_ID}/tickets"


def listing_statuses(sim: Simulator, path_end: str) -> list[str]:
    return sorted({dict(r["query"]).get("status", "") for r in sim.requests()
                   if r["method"] == "GET" and r["path"].endswith(path_end)})


def stamps(records: list[dict[str, Any]], field: str) -> list[Any]:
    return [parse_timestamp(r[field]) for r in records]


@pytest.mark.parametrize("limit", [1, 4, 20, 200])
def test_open_on_agentsmesh_is_backlog_and_todo_merged_newest_created_first(am: ConnectorUnderTest, limit: int) -> None:
    with am.client() as client:
        whole, _ = walk(client, AGENTSMESH, 200)
        got, _ = walk(client, AGENTSMESH, limit, **{"filter[status]": "open"})
    ids = [r["id"] for r in got]
    assert len(ids) == len(set(ids)) and set(ids) == {r["id"] for r in whole if r["status"] == "open"} and ids
    assert stamps(got, "created_at") == sorted(stamps(got, "created_at"), reverse=True)   # the natural order


def test_each_tracker_status_is_its_own_call(am: ConnectorUnderTest) -> None:
    with am.client() as client:
        assert client.get(AGENTSMESH, params={"filter[status]": "open", "limit": 5}).status_code == 200
    assert listing_statuses(am.simulator, "/tickets") == ["backlog", "todo"]


def test_a_status_meaning_one_tracker_status_is_one_call_as_before(am: ConnectorUnderTest) -> None:
    with am.client() as client:
        body = client.get(AGENTSMESH, params={"filter[status]": "closed", "limit": 5}).json()
    assert {t["status"] for t in body["data"]} == {"closed"} and body["meta"]["cursors"]["next"]
    assert listing_statuses(am.simulator, "/tickets") == ["done"]


@pytest.mark.parametrize("limit", [1, 6, 200])
def test_open_and_since_on_codimir_merge_newest_updated_first_and_stop_at_t(cm: ConnectorUnderTest, limit: int) -> None:
    with cm.client() as client:
        path = codimir_tickets(client)
        whole, _ = walk(client, path, 200)
        since = floor_of([r for r in whole if r["status"] == "open"], 0.5)
        got, _ = walk(client, path, limit, **{"filter[status]": "open", "filter[since]": since})
    floor = parse_timestamp(since)
    expected = {r["id"] for r in whole if r["status"] == "open" and parse_timestamp(r["updated_at"]) >= floor}
    ids = [r["id"] for r in got]
    assert len(ids) == len(set(ids)) and set(ids) == expected and ids
    assert stamps(got, "updated_at") == sorted(stamps(got, "updated_at"), reverse=True)


def test_since_newest_first_reads_only_the_pages_it_serves(cm: ConnectorUnderTest) -> None:
    """Codimir sorts by updatedAt: since T reads pages newest-updated first and stops at the first
    older ticket, instead of the whole list."""
    with cm.client() as client:
        path = codimir_tickets(client)
        whole, _ = walk(client, path, 200)
        cm.simulator.clear()
        got, _ = walk(client, path, 200, **{"filter[since]": floor_of(whole, 0.05)})
    listing = [r for r in cm.simulator.requests() if r["method"] == "GET" and r["path"].endswith("/tickets")]
    assert got and len(listing) == 1 and ("sort", "updatedAt") in listing[0]["query"]
    assert len(whole) > 100   # the whole list needs more than that one page of max_limit 100


def test_a_cursor_of_a_fanned_out_list_pages_only_that_list(am: ConnectorUnderTest) -> None:
    with am.client() as client:
        cursor = client.get(AGENTSMESH, params={"filter[status]": "open", "limit": 2}).json()["meta"]["cursors"]["next"]
        response = client.get(AGENTSMESH, params={"limit": 2, "cursor": cursor})
    assert response.status_code == 400 and response.json()["type_name"] == "InvalidCursorError"


def test_the_limit_may_change_from_page_to_page(am: ConnectorUnderTest) -> None:
    """A cursor is a position in the emulated reading, not a page number: any limit resumes it."""
    params = {"filter[status]": "open", "filter[since]": "2000-01-01T00:00:00Z"}
    with am.client() as client:
        expected, _ = walk(client, AGENTSMESH, 200, **params)
        got, cursor = [], None
        for limit in [1, 5, 2, 13, 3] * 100:
            body = client.get(AGENTSMESH, params={"limit": limit, **params, **({"cursor": cursor} if cursor else {})}).json()
            got += body["data"]
            cursor = body["meta"]["cursors"]["next"]
            if cursor is None:
                break
    assert [r["id"] for r in got] == [r["id"] for r in expected] and cursor is None


# -- GitHub and GitLab: one state per call (open or closed); in_progress is an open issue with a label ---------
@pytest.mark.parametrize(("service_id", "collection"), [("github", "octocat~Hello-World"),
                                                         ("gitlab", None)])
@pytest.mark.parametrize("wanted", ["open,closed", "in_progress,closed"])
def test_statuses_of_two_states_fan_out_and_each_branch_keeps_its_unified_meaning(
        tmp_path_factory: pytest.TempPathFactory, service_id: str, collection: str | None, wanted: str) -> None:
    tracker = ConnectorUnderTest.start(tmp_path_factory.mktemp(service_id), service_id)
    try:
        with tracker.client() as client:
            collection = collection or client.get("/issue-tracking/collections", params={"limit": 1}).json()["data"][0]["id"]
            path = f"/issue-tracking/collections/{collection}/tickets"
            whole, _ = walk(client, path, 100)
            got, _ = walk(client, path, 7, **{"filter[status]": wanted})
    finally:
        tracker.stop()
    ids = [r["id"] for r in got]
    assert len(ids) == len(set(ids)) and ids
    assert set(ids) == {r["id"] for r in whole if r["status"] in wanted.split(",")}
