"""Sync: 10,000 tickets, 50 changes. Time to detect and deliver, downstream calls per poll cycle.

    python bench/sync.py [--tickets 10000] [--changes 50]

Four ways to learn what changed, against the same tracker (bench/sync_tracker.py), all through
the gateway's own dispatch path:

- **naive full scan** (the baseline, what every client writes today): page through every ticket
  through the unified API and diff against the previous snapshot, client side;
- **virtual webhooks, full scan** (the tracker neither filters nor sorts by update time, as
  AgentsMesh): the poller's fingerprinted full scan;
- **virtual webhooks, emulated since** (the tracker sorts by update time, as Codimir): the engine
  reads newest-updated first and stops at the watermark;
- **virtual webhooks, native since** (the tracker filters by update time, as Redmine does).

For the webhooks, "detect and deliver" is one poll cycle plus delivering every event to a local
receiver (signed, recorded in the outbox); a steady cycle is one with nothing changed. Ratios are
against the naive scan measured in the same run. Then, per seed connector, the downstream calls of
a steady poll cycle on its simulator's seeded data; then ``filter[since]`` read to its end through
the unified API, native (pushed down) vs emulated by the engine (newest-updated first and stopped
at T, or a bounded scan), beside an unfiltered walk. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).parent))
from sync_tracker import SyncTracker, write_manifests

from unigate.connector.capabilities import capabilities
from unigate.connector.context import UnifiedRequest
from unigate.mapping.transforms import parse_timestamp
from unigate.plugins.registry import ConnectorRegistry
from unigate.simulation import BackgroundServer
from unigate.testing.harness import GatewayHarness
from unigate.webhooks.delivery import Deliverer
from unigate.webhooks.poller import Poller

SEED_COLLECTIONS = {"agentsmesh": "1", "codimir": "project_456"}   # each one's largest (else the first listed)
SETTINGS = {"webhooks": False, "webhook_calls_per_minute": 1e9, "webhook_page_size": 100,
            "webhook_delete_scan_every": 12, "webhook_max_deliveries": 32,
            "webhook_allow_private": ("*",)}   # the receiver is on loopback


class Counter:
    def __init__(self) -> None:
        self.received = 0

    async def handle(self, request: Request) -> Response:
        await request.body()
        self.received += 1
        return Response(status_code=200)


async def naive_scan(harness: GatewayHarness, connection: Any, previous: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A client's fallback: every page of tickets, diffed with its last snapshot; (changes, snapshot)."""
    dispatcher, snapshot, request = harness.gateway.dispatcher, {}, UnifiedRequest(
        resource="tickets", operation="all", path_params={"collection_id": "main"}, limit=100)
    while True:
        done = await dispatcher.dispatch(request, connection)
        snapshot.update({r["id"]: r for r in done.result.data})
        request.cursor = (done.cursors or {}).get("next")
        if not request.cursor:
            break
    changed = sum(1 for k, v in snapshot.items() if previous.get(k) != v) + len(set(previous) - set(snapshot))
    return changed, snapshot


async def webhook_cycle(harness: GatewayHarness, connection: Any, deliverer: Deliverer,
                        counter: Counter, expect: int) -> tuple[float, float, int, int]:
    """One poll + delivery of its events: (seconds to detect, seconds to deliver, downstream calls, events)."""
    poller = Poller(harness.gateway.dispatcher, harness.gateway.webhook_store, harness.gateway.settings)
    subs = harness.gateway.webhook_store.subscriptions("test-app")
    started, before = time.perf_counter(), counter.received
    report = await poller.poll_connection(connection, subs)
    detected = time.perf_counter()
    while counter.received - before < expect:
        await deliverer.tick()
        await deliverer.drain()
    return detected - started, time.perf_counter() - detected, report.calls, report.events


async def measure(service_id: str, tickets: int, changes: int, tmp: Path) -> dict[str, Any]:
    tracker = SyncTracker(tickets)
    counter = Counter()
    with BackgroundServer(tracker.app()) as server, \
            BackgroundServer(Starlette(routes=[Route("/hook", counter.handle, methods=["POST"])])) as receiver:
        registry = ConnectorRegistry.load(manifest_dirs=[write_manifests(tmp / "manifests")])
        harness = GatewayHarness(tmp, registry=registry, settings=SETTINGS)
        try:
            connection = harness.connect(service_id, settings={"base_url": server.url})
            harness.gateway.webhook_store.create_subscription(
                "test-app", unified_api="issue-tracking", status="enabled", delivery_url=f"{receiver.url}/hook",
                events=["*"])
            deliverer = Deliverer(harness.gateway.webhook_store, harness.gateway.settings, "bench")
            await webhook_cycle(harness, connection, deliverer, counter, 0)                 # baseline
            _, snapshot = await naive_scan(harness, connection, {})
            tracker.touch(random.Random(7).sample(sorted(tracker.tickets), changes))
            seconds, deliver, calls, events = await webhook_cycle(harness, connection, deliverer, counter, changes)
            naive_started, naive_before = time.perf_counter(), tracker.requests
            found, _ = await naive_scan(harness, connection, snapshot)
            naive = (time.perf_counter() - naive_started, tracker.requests - naive_before, found)
            steady_before = tracker.requests
            await webhook_cycle(harness, connection, deliverer, counter, 0)
            steady = tracker.requests - steady_before
            await deliverer.aclose()
        finally:
            harness.stop()
    return {"seconds": seconds, "deliver": deliver, "calls": calls, "events": events, "delivered": counter.received,
            "steady_calls": steady, "naive": naive}


async def seed_cycle(service_id: str, tmp: Path) -> tuple[str, int, int, int]:
    """A seed tracker's simulator with its seeded data: (mode, tickets, calls of a steady cycle, collections)."""
    from unigate.testing.harness import Simulator

    registry = ConnectorRegistry.load()
    profile = registry.definitions[service_id].sandbox()
    simulator = Simulator.start(profile.create_app())
    harness = GatewayHarness(tmp, registry=registry, settings=SETTINGS)
    try:
        settings, credentials = profile.connection(simulator.url)
        connection = harness.connect(service_id, settings=settings, credentials=credentials)
        store = harness.gateway.webhook_store
        poller = Poller(harness.gateway.dispatcher, store, harness.gateway.settings)
        await poller.poll_connection(connection, [])                         # baseline
        steady = await poller.poll_connection(connection, [])
        tickets = sum(len(store.poll_state(connection.id, c).fingerprints) for c in store.polled_collections(connection.id))
        return steady.mode, tickets, steady.calls, steady.collections
    finally:
        harness.stop()
        simulator.stop()


def seed_report() -> None:
    print("\nper connector, on its simulator's seeded data (a steady cycle: nothing changed):")
    print(f"{'connector':12} {'mode':9} {'collections':>11} {'tickets':>8} {'calls/cycle':>12}")
    for service_id in ("agentsmesh", "codimir", "opine", "selectel"):
        with tempfile.TemporaryDirectory() as tmp:
            mode, tickets, calls, collections = asyncio.run(seed_cycle(service_id, Path(tmp)))
        print(f"{service_id:12} {mode:9} {collections:>11} {tickets:>8} {calls:>12}")


async def since_walk(harness: GatewayHarness, connection: Any, collection: str,
                     since: str | None) -> tuple[int, int, float, str]:
    """Every page of tickets (with ``filter[since]``): (records, downstream calls, seconds, error type or "")."""
    request = UnifiedRequest(resource="tickets", operation="all", path_params={"collection_id": collection},
                             limit=100, filter={"since": since} if since else {})
    records, calls, started = 0, 0, time.perf_counter()
    while True:
        try:
            done = await harness.gateway.dispatcher.dispatch(request, connection)
        except Exception as exc:   # noqa: BLE001 - the typed refusal past the scan bound is a result here
            return records, calls, time.perf_counter() - started, type(exc).__name__
        records, calls = records + len(done.result.data), calls + len(done.session.calls)
        request.cursor = (done.cursors or {}).get("next")
        if not request.cursor:
            return records, calls, time.perf_counter() - started, ""


async def since_rows(harness: GatewayHarness, connection: Any, collection: str, since: str) -> list[str]:
    rows = []
    for label, value in (("all", None), ("since", since)):
        records, calls, seconds, error = await since_walk(harness, connection, collection, value)
        rows.append(f"{label:>5} {records:>7} {calls:>6} {seconds:>7.3f}s {error}")
    return rows


async def since_of_sync(service_id: str, tickets: int, changes: int, tmp: Path) -> list[str]:
    tracker = SyncTracker(tickets)
    with BackgroundServer(tracker.app()) as server:
        harness = GatewayHarness(tmp, registry=ConnectorRegistry.load(manifest_dirs=[write_manifests(tmp / "m")]),
                                 settings=SETTINGS)
        try:
            connection = harness.connect(service_id, settings={"base_url": server.url})
            since = tracker._stamp()
            tracker.touch(random.Random(7).sample(sorted(tracker.tickets), changes))
            return await since_rows(harness, connection, "main", since)
        finally:
            harness.stop()


async def newest_stamp(harness: GatewayHarness, connection: Any, collection: str, rank: int) -> str:
    """The ``rank``-th newest ``updated_at`` of the collection's tickets (a T with about ``rank`` changes)."""
    request = UnifiedRequest(resource="tickets", operation="all", path_params={"collection_id": collection}, limit=200)
    stamps: list[str] = []
    while True:
        done = await harness.gateway.dispatcher.dispatch(request, connection)
        stamps += [t["updated_at"] for t in done.result.data if t.get("updated_at")]
        request.cursor = (done.cursors or {}).get("next")
        if not request.cursor:
            return sorted(stamps, key=parse_timestamp, reverse=True)[min(rank, len(stamps) - 1)]


async def since_of_seed(service_id: str, tmp: Path) -> list[str]:
    from unigate.testing.harness import Simulator

    registry = ConnectorRegistry.load()
    profile = registry.definitions[service_id].sandbox()
    simulator = Simulator.start(profile.create_app())
    harness = GatewayHarness(tmp, registry=registry, settings=SETTINGS)
    try:
        settings, credentials = profile.connection(simulator.url)
        connection = harness.connect(service_id, settings=settings, credentials=credentials)
        listed = await harness.gateway.dispatcher.dispatch(UnifiedRequest(
            resource="collections", operation="all", path_params={}, limit=200), connection)
        collection = SEED_COLLECTIONS.get(service_id) or listed.result.data[0]["id"]
        since = await newest_stamp(harness, connection, collection, 10)
        how = capabilities(registry.connectors[service_id])["tickets"]["filters"]["since"]["how"]
        return [how, *await since_rows(harness, connection, collection, since)]
    finally:
        harness.stop()
        simulator.stop()


def since_report(tickets: int, changes: int) -> None:
    print(f"\nfilter[since] read to its end (limit 100) vs every ticket; {tickets} tickets, {changes} changed since T:")
    print(f"{'':20} {'walk':>5} {'records':>7} {'calls':>6} {'time':>8}")
    for service_id in ("sync-native", "sync-sorted", "sync-emulated"):
        with tempfile.TemporaryDirectory() as tmp:
            rows = asyncio.run(since_of_sync(service_id, tickets, changes, Path(tmp)))
        print("\n".join(f"{service_id if i == 0 else '':20} {row}" for i, row in enumerate(rows)))
    print("seed connectors on their simulators' seeded data, T = the 10th newest updated_at:")
    for service_id in ("agentsmesh", "codimir", "opine", "selectel"):
        with tempfile.TemporaryDirectory() as tmp:
            how, *rows = asyncio.run(since_of_seed(service_id, Path(tmp)))
        print("\n".join(f"{service_id if i == 0 else '':20} {row}" for i, row in enumerate(rows)) + f"  ({how})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=50)
    args = parser.parse_args()
    results = {}
    for service_id in ("sync-emulated", "sync-sorted", "sync-native"):
        with tempfile.TemporaryDirectory() as tmp:
            results[service_id] = asyncio.run(measure(service_id, args.tickets, args.changes, Path(tmp)))
    report(results, args.tickets, args.changes)
    seed_report()
    since_report(args.tickets, args.changes)


def report(results: dict[str, dict[str, Any]], tickets: int, changes: int) -> None:
    naive_seconds, naive_calls, naive_found = results["sync-emulated"]["naive"]
    print(f"{tickets} tickets, {changes} changed; Python {platform.python_version()} on {platform.machine()}")
    print(f"{'':34} {'detect':>8} {'deliver':>8} {'calls/cycle':>12} {'steady calls':>13} {'events':>7}  "
          "detect time, calls vs naive")
    print(f"{'naive full scan (client diff)':34} {naive_seconds:>7.3f}s {'-':>8} {naive_calls:>12} {naive_calls:>13} "
          f"{naive_found:>7}  1.00x, 1.00x")
    for label, key in (("virtual webhooks, full scan", "sync-emulated"), ("virtual webhooks, emulated since",
                                                                           "sync-sorted"),
                       ("virtual webhooks, native since", "sync-native")):
        r = results[key]
        print(f"{label:34} {r['seconds']:>7.3f}s {r['deliver']:>7.3f}s {r['calls']:>12} {r['steady_calls']:>13} "
              f"{r['delivered']:>7}  {r['seconds'] / naive_seconds:.2f}x, {r['calls'] / naive_calls:.3f}x")
    print("(deliver: every event POSTed, signed, to a local receiver and marked delivered in the outbox; the naive"
          " client only finds them)")


if __name__ == "__main__":
    main()
