"""``filter[since]`` on the four seed connectors, whose trackers cannot be asked for it: the engine
emulates it (Codimir: read newest-updated first and stop at T; AgentsMesh, Opine, Selectel: a
bounded scan), and every page's cursor resumes the same reading, at any limit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from unigate.mapping.transforms import parse_timestamp
from unigate.testing import ConnectorUnderTest
from unigate_connectors.agentsmesh import simulator as agentsmesh
from unigate_connectors.codimir import simulator as codimir

SEEDS = ("agentsmesh", "codimir", "opine", "selectel")
# the collection with the most tickets (else the first listed)
MAIN = {"agentsmesh": str(agentsmesh.MAIN_REPOSITORY_ID), "codimir": codimir.DEFAULT_PROJECT_ID}


@pytest.fixture(scope="module", params=SEEDS)
def seed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         databases: Callable[[], Path | str]) -> Iterator[ConnectorUnderTest]:
    tracker = ConnectorUnderTest.start(tmp_path_factory.mktemp(request.param), request.param, database=databases())
    yield tracker
    tracker.stop()


@pytest.fixture
def client(seed: ConnectorUnderTest) -> Iterator[httpx.Client]:
    with seed.client() as client:
        yield client


def tickets_path(client: httpx.Client) -> str:
    service_id = client.get("/issue-tracking/collections", params={"limit": 1}).json()["service"]
    collection = MAIN.get(service_id) or \
        client.get("/issue-tracking/collections", params={"limit": 1}).json()["data"][0]["id"]
    return f"/issue-tracking/collections/{collection}/tickets"


def walk(client: httpx.Client, path: str, limit: int, **params: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every record of a list read page by page (and the page bodies)."""
    records, pages, cursor = [], [], None
    for _ in range(2000):
        response = client.get(path, params={"limit": limit, **params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        records += body["data"]
        cursor = body["meta"]["cursors"]["next"]
        if cursor is None:
            return records, pages
    raise AssertionError("the walk did not end")


def floor_of(records: list[dict[str, Any]], share: float) -> str:
    """An updated_at such that about ``share`` of ``records`` are at or after it (as the tracker wrote it)."""
    ordered = sorted(records, key=lambda r: parse_timestamp(r["updated_at"]), reverse=True)
    return ordered[int(len(ordered) * share)]["updated_at"]


def updated_since(records: list[dict[str, Any]], since: str) -> list[str]:
    return [r["id"] for r in records if parse_timestamp(r["updated_at"]) >= parse_timestamp(since)]


@pytest.mark.parametrize("limit", [1, 3, 20, 200])
def test_since_serves_every_ticket_updated_at_or_after_t_once_at_any_limit(client: httpx.Client, limit: int) -> None:
    path = tickets_path(client)
    whole, _ = walk(client, path, 200)
    since = floor_of(whole, 0.1)
    got, _ = walk(client, path, limit, **{"filter[since]": since})
    ids = [r["id"] for r in got]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(updated_since(whole, since)) and ids


def test_since_in_the_future_is_an_empty_list(client: httpx.Client) -> None:
    body = client.get(tickets_path(client), params={"filter[since]": "2999-01-01T00:00:00Z"}).json()
    assert body["data"] == [] and body["meta"]["cursors"]["next"] is None


def test_since_that_is_not_a_time_is_refused(client: httpx.Client) -> None:
    response = client.get(tickets_path(client), params={"filter[since]": "yesterday"})
    assert response.status_code == 400 and response.json()["type_name"] in ("UnsupportedFiltersError",
                                                                          "RequestValidationError")


def test_a_cursor_of_the_unfiltered_list_is_refused_by_the_filtered_one(client: httpx.Client) -> None:
    path = tickets_path(client)
    cursor = client.get(path, params={"limit": 2}).json()["meta"]["cursors"]["next"]
    response = client.get(path, params={"limit": 2, "cursor": cursor, "filter[since]": "2000-01-01T00:00:00Z"})
    assert response.status_code == 400 and response.json()["type_name"] == "InvalidCursorError"
