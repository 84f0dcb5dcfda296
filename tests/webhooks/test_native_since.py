"""A poll finds changes the cheapest way the connector allows: ``filter[since]`` pushed down where declared
(native); else the list read newest-updated first and stopped at the watermark (emulated); else a full
scan comparing fingerprints. All three find the same changes (bench/sync_tracker.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from unigate.plugins.registry import ConnectorRegistry
from unigate.simulation import BackgroundServer
from unigate.testing.harness import GatewayHarness

from .conftest import FAST, Receiver, wait_for

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from sync_tracker import SyncTracker, write_manifests


class Logged(SyncTracker):
    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.queries: list[dict[str, str]] = []

    async def list_tickets(self, request: Any) -> Any:
        self.queries.append(dict(request.query_params))
        return await super().list_tickets(request)


@pytest.fixture(params=["sync-native", "sync-sorted", "sync-emulated"])
def synced(request: pytest.FixtureRequest, tmp_path: Path,
           database: Path | str) -> Iterator[tuple[str, Logged, GatewayHarness]]:
    tracker = Logged(250)
    server = BackgroundServer(tracker.app()).start()
    registry = ConnectorRegistry.load(manifest_dirs=[write_manifests(tmp_path / "manifests")])
    harness = GatewayHarness(tmp_path, registry=registry, settings={**FAST, "webhook_delete_scan_every": 1000},
                             database=database)
    harness.connect(request.param, settings={"base_url": server.url})
    yield request.param, tracker, harness
    harness.stop()
    server.stop()


def _subscribe(harness: GatewayHarness, receiver: Receiver) -> None:
    with harness.client() as client:
        answer = client.post("/webhook/webhooks", json={"unified_api": "issue-tracking", "status": "enabled",
                                                        "delivery_url": receiver.url("hook"), "events": ["*"]})
    receiver.secrets["/hook"] = answer.json()["secret"]


def test_every_way_finds_exactly_the_changed_tickets(synced: tuple[str, Logged, GatewayHarness],
                                                    receiver: Receiver) -> None:
    _, tracker, harness = synced
    _subscribe(harness, receiver)
    wait_for(lambda: harness.gateway.webhooks.reports)
    tracker.touch([7, 70, 170])
    delivered = wait_for(lambda: d if len(d := receiver.delivered("hook")) == 3 else None)
    assert sorted(int(d["body"]["payload"]["entity_id"]) for d in delivered) == [7, 70, 170]
    assert {d["body"]["payload"]["event_type"] for d in delivered} == {"issue-tracking.ticket.updated"}


def test_a_steady_poll_costs_what_its_mode_allows(synced: tuple[str, Logged, GatewayHarness],
                                                  receiver: Receiver) -> None:
    service_id, tracker, harness = synced
    _subscribe(harness, receiver)
    wait_for(lambda: len(harness.gateway.webhooks.reports) >= 3)
    later, report = tracker.queries[-1], harness.gateway.webhooks.reports[-1]
    if service_id == "sync-native":                                  # pushed down
        assert later["updated_since"] == "2026-01-01T00:04:10Z"      # the newest updated_at of the 250
        assert (report.mode, report.calls) == ("native", 1)
    elif service_id == "sync-sorted":                                # newest-updated first, stopped at once
        assert (later["sort"], later["order"], "updated_since" in later) == ("updated", "desc", False)
        assert (report.mode, report.calls) == ("emulated", 1)
    else:
        assert "updated_since" not in later and "sort" not in later
        assert (report.mode, report.calls) == ("scan", 3)            # 250 tickets, 100 a page


def test_an_emulated_poll_reads_only_the_pages_holding_changes(tmp_path: Path, receiver: Receiver) -> None:
    tracker = Logged(1000)
    server = BackgroundServer(tracker.app()).start()
    registry = ConnectorRegistry.load(manifest_dirs=[write_manifests(tmp_path / "manifests")])
    harness = GatewayHarness(tmp_path, registry=registry, settings={**FAST, "webhook_delete_scan_every": 1000})
    try:
        harness.connect("sync-sorted", settings={"base_url": server.url})
        _subscribe(harness, receiver)
        wait_for(lambda: harness.gateway.webhooks.reports)
        tracker.touch(list(range(1, 151)))                           # 150 changed: two pages of 100
        wait_for(lambda: len(receiver.delivered("hook")) == 150, 20)
        busy = [r for r in harness.gateway.webhooks.reports if r.events]   # one poll, or two if it ran mid-touch
        assert sum(r.events for r in busy) == 150
        assert {r.mode for r in busy} == {"emulated"} and max(r.calls for r in busy) <= 2   # a scan reads 10 pages
    finally:
        harness.stop()
        server.stop()


@pytest.mark.parametrize("service_id", ["sync-native", "sync-sorted"])
def test_a_since_poll_finds_deletes_at_its_full_scan_cycle(tmp_path: Path, receiver: Receiver, service_id: str) -> None:
    tracker = Logged(250)
    server = BackgroundServer(tracker.app()).start()
    registry = ConnectorRegistry.load(manifest_dirs=[write_manifests(tmp_path / "manifests")])
    harness = GatewayHarness(tmp_path, registry=registry, settings={**FAST, "webhook_delete_scan_every": 4})
    try:
        harness.connect(service_id, settings={"base_url": server.url})
        _subscribe(harness, receiver)
        wait_for(lambda: harness.gateway.webhooks.reports)
        tracker.remove(9)
        [deleted] = wait_for(lambda: receiver.delivered("hook"))
        reports = harness.gateway.webhooks.reports
        finding = next(r for r in reports if r.events)
        assert (deleted["body"]["payload"]["event_type"], deleted["body"]["payload"]["entity_id"]) == (
            "issue-tracking.ticket.deleted", "9")
        assert finding.calls == 3                                   # the full scan: 249 tickets, 100 a page
        assert {r.calls for r in reports[1:reports.index(finding)]} <= {1}   # the cycles between: one call each
    finally:
        harness.stop()
        server.stop()
