"""``limit`` is an integer from 1 to 200 (the spec's bounds), 20 when absent; anything else is a
``RequestValidationError`` (400) naming ``limit``, before any downstream call. Accepted limits
reach the tracker as its page size (AgentsMesh: ``limit``, at most 100 a page)."""

from __future__ import annotations

import httpx
import pytest

from unigate.testing import Simulator, error_of

from .conftest import TICKETS


def pages_asked(sim: Simulator) -> list[tuple[str, str]]:
    """(offset, limit) of each downstream list call."""
    return [(dict(r["query"])["offset"], dict(r["query"])["limit"]) for r in sim.requests()]


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten", "1.5", "1e2", "20x"])
def test_a_limit_outside_1_to_200_or_not_an_integer_is_refused(client: httpx.Client, sim: Simulator,
                                                               limit: str) -> None:
    response = client.get(TICKETS, params={"limit": limit})
    assert error_of(response) == (400, "RequestValidationError")
    assert "limit" in response.json()["detail"]
    assert sim.requests() == []


def test_limit_1_asks_the_tracker_for_one_ticket(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"limit": 1}).json()["data"]
    assert len(data) == 1
    assert pages_asked(sim) == [("0", "1")]


@pytest.mark.parametrize("query", [{}, {"limit": ""}, {"raw": "false"}], ids=["no_query", "empty_limit", "no_limit"])
def test_an_absent_limit_asks_for_20(client: httpx.Client, sim: Simulator, query: dict) -> None:
    assert len(client.get(TICKETS, params=query).json()["data"]) == 20
    assert pages_asked(sim) == [("0", "20")]


def test_limit_200_is_asked_as_two_pages_of_the_trackers_maximum(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"limit": 200}).json()["data"]
    assert len(data) == 200 and len({t["id"] for t in data}) == 200
    assert pages_asked(sim) == [("0", "100"), ("100", "100")]
