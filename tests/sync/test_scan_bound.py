"""Filters emulated by scanning. The scan has a bound (``emulation.scan_limit``): a request that
would drop more records than that to fill its page is refused with a typed error, never answered
short (AgentsMesh, no since and no updated_at order, under a manifest bounded at 20 records). A
status fanned out on a list with no order to merge by is a scan of the whole list keeping the
statuses (AgentsMesh without its natural order)."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from unigate.kit import ConnectorDefinition, hookimpl
from unigate.mapping.transforms import parse_timestamp
from unigate.plugins.registry import ConnectorRegistry
from unigate.testing import ConnectorUnderTest, error_of
from unigate_connectors.agentsmesh import simulator

from .test_since_seed_connectors import floor_of, walk

TICKETS = f"/issue-tracking/collections/{simulator.MAIN_REPOSITORY_ID}/tickets"
BOUND = 20


def derived_registry(service_id: str, edit: Callable[[dict[str, Any]], None]) -> ConnectorRegistry:
    """Every installed connector, and ``service_id``: AgentsMesh's manifest (and simulator) after
    ``edit(tickets.all)``."""
    registry = ConnectorRegistry.load()
    original = registry.definitions["agentsmesh"]
    manifest: dict[str, Any] = yaml.safe_load(original.mapping.read_text())  # type: ignore[union-attr]
    manifest["service_id"] = service_id
    edit(manifest["resources"]["tickets"]["operations"]["all"])
    definition = dataclasses.replace(original, service_id=service_id, mapping=manifest)

    @hookimpl
    def unigate_connectors() -> list[ConnectorDefinition]:
        return [definition]

    registry.register_module(service_id, types.SimpleNamespace(__name__=f"{service_id}_test_plugin",
                                                               unigate_connectors=unigate_connectors))
    return registry


def bounded_registry() -> ConnectorRegistry:
    """``agentsmesh-bounded``: AgentsMesh with scan_limit 20."""
    return derived_registry("agentsmesh-bounded", lambda op: op.update(emulation={"scan_limit": BOUND}))


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory,
            databases: Callable[[], Path | str]) -> Iterator[ConnectorUnderTest]:
    tracker = ConnectorUnderTest.start(tmp_path_factory.mktemp("bounded"), "agentsmesh-bounded",
                                       registry=bounded_registry(), database=databases())
    yield tracker
    tracker.stop()


@pytest.fixture
def client(bounded: ConnectorUnderTest) -> Iterator[httpx.Client]:
    with bounded.client() as client:
        yield client


def test_a_since_no_ticket_meets_past_the_bound_is_refused_with_a_typed_error(client: httpx.Client) -> None:
    response = client.get(TICKETS, params={"filter[since]": "2999-01-01T00:00:00Z", "limit": 5})
    assert error_of(response) == (400, "UnsupportedFiltersError")
    detail = response.json()["detail"]
    assert detail["reason"] == "scan_limit" and detail["scan_limit"] == BOUND and detail["filter"] == "filter[since]"


def gaps(whole: list[dict[str, Any]], since: str) -> list[int]:
    """The runs of records dropped before each kept one, and after the last (in list order)."""
    runs, run = [], 0
    for record in whole:
        if parse_timestamp(record["updated_at"]) >= parse_timestamp(since):
            runs.append(run)
            run = 0
        else:
            run += 1
    return [*runs, run]


def test_the_bound_counts_dropped_records_per_request_so_paging_a_sparse_list_goes_on(client: httpx.Client) -> None:
    whole, _ = walk(client, TICKETS, 200)
    # a since dropping more than the bound in all, but never more than it between two kept tickets
    since = next(s for share in (0.5, 0.7, 0.8, 0.85, 0.9, 0.95)
                 if sum(gaps(whole, s := floor_of(whole, share))) > BOUND >= max(gaps(whole, s)))
    got, _ = walk(client, TICKETS, 1, **{"filter[since]": since})
    assert [r["id"] for r in got] == [r["id"] for r in whole if parse_timestamp(r["updated_at"]) >= parse_timestamp(since)]


def test_a_page_that_cannot_be_filled_within_the_bound_is_refused_not_shortened(client: httpx.Client) -> None:
    whole, _ = walk(client, TICKETS, 200)
    since = floor_of(whole, 0.01)   # a handful among 250+: a page of 200 would drop them all
    response = client.get(TICKETS, params={"filter[since]": since, "limit": 200})
    assert error_of(response) == (400, "UnsupportedFiltersError")


# -- a status fanned out on a list with no known order: the whole list scanned, statuses kept -------------
def unordered(op: dict[str, Any]) -> None:
    del op["sort"]


@pytest.fixture(scope="module")
def unordered_tracker(tmp_path_factory: pytest.TempPathFactory,
                      databases: Callable[[], Path | str]) -> Iterator[ConnectorUnderTest]:
    tracker = ConnectorUnderTest.start(tmp_path_factory.mktemp("unordered"), "agentsmesh-unordered",
                                       registry=derived_registry("agentsmesh-unordered", unordered), database=databases())
    yield tracker
    tracker.stop()


@pytest.mark.parametrize("limit", [1, 7, 200])
def test_without_an_order_to_merge_by_the_list_is_scanned_for_the_statuses(
        unordered_tracker: ConnectorUnderTest, limit: int) -> None:
    with unordered_tracker.client() as client:
        whole, _ = walk(client, TICKETS, 200)
        unordered_tracker.simulator.clear()
        got, _ = walk(client, TICKETS, limit, **{"filter[status]": "open"})
    assert [r["id"] for r in got] == [r["id"] for r in whole if r["status"] == "open"]   # the list's own order
    sent = {k for r in unordered_tracker.simulator.requests() for k, _ in r["query"]}
    assert "status" not in sent
