"""What the official SDK sends is accepted: a sort direction alone; and a 405 says what is allowed.

Explicit nulls, warnings and strict mode are in ``tests/test_warnings_and_strict.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from unigate.testing import ConnectorUnderTest, Simulator

from .conftest import TICKETS


@pytest.mark.parametrize("method, path, allowed", [
    ("put", f"{TICKETS}/AM-1", "DELETE, GET, HEAD, PATCH"),
    ("delete", TICKETS, "GET, HEAD, POST"),
    ("post", "/issue-tracking/collections", "GET, HEAD"),
    ("post", "/health", "GET, HEAD"),
])
def test_a_405_lists_the_routes_methods_in_allow(client: httpx.Client, sim: Simulator, method: str, path: str,
                                                 allowed: str) -> None:
    response = client.request(method.upper(), path, json={})
    assert (response.status_code, response.headers["allow"]) == (405, allowed)
    assert response.json()["type_name"] == "RequestValidationError" and sim.requests() == []


# -- sort[direction] without sort[by] (the SDK sends sort[direction]=asc by itself) --------------------
def test_a_direction_alone_sorts_by_the_lists_default_field(client: httpx.Client, sim: Simulator) -> None:
    """AgentsMesh lists newest created first: desc alone is that order, asked for with no parameter."""
    alone = client.get(TICKETS, params={"sort[direction]": "desc", "limit": 5})
    explicit = client.get(TICKETS, params={"sort[by]": "created_at", "sort[direction]": "desc", "limit": 5})
    assert alone.status_code == 200 and alone.json()["data"] == explicit.json()["data"]
    assert [dict(r["query"]).get("sort") for r in sim.requests()] == [None, None]


def test_asc_alone_is_the_lists_own_order_where_it_cannot_come_ascending(client: httpx.Client,
                                                                         sim: Simulator) -> None:
    alone = client.get(TICKETS, params={"sort[direction]": "asc", "limit": 5})
    unsorted = client.get(TICKETS, params={"limit": 5})
    assert alone.status_code == 200 and alone.json()["data"] == unsorted.json()["data"]


@pytest.fixture(scope="module", name="codimir")
def codimir_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectorUnderTest]:
    tracker = ConnectorUnderTest.start(tmp_path_factory.mktemp("codimir"), "codimir")
    yield tracker
    tracker.stop()


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_a_direction_alone_is_sent_with_the_default_field_where_the_tracker_sorts(
        codimir: ConnectorUnderTest, direction: str) -> None:
    """Codimir's default order is updatedAt desc: a direction alone sorts by updated_at."""
    with codimir.client() as client:
        response = client.get("/issue-tracking/collections/project_456/tickets",
                              params={"sort[direction]": direction, "limit": 3})
    assert response.status_code == 200, response.text
    assert codimir.simulator is not None
    [call] = [r for r in codimir.simulator.requests() if r["path"] == "/api/tickets"]
    query = dict(call["query"])
    assert (query["sort"], query["order"]) == ("updatedAt", direction)
