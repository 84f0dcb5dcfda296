"""What the gateway leaves to Python's cyclic garbage collector (docs/benchmarks.md, "The gateway's own
CPU against a hand-written floor").

A downstream call's response must be freed when its last user drops it, not left in a reference cycle
for the collector: ~40 objects a call (the response, its request, the transport's objects) made young
collections more frequent and were promoted into the old generation, whose full collections walked the
whole heap. And ``unigate serve`` freezes what start-up built out of the collector (``unigate.heap``).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from unigate.app import build_gateway, create_app
from unigate.downstream.pool import ClientPool
from unigate.downstream.send import Outgoing, send_once
from unigate.settings import Settings
from unigate.simulation import BackgroundServer
from unigate.vault.crypto import generate_secret_key
from unigate_connectors.agentsmesh import simulator as agentsmesh

TRANSPORTS = ["aiohttp", "httpx"]


@pytest.fixture(scope="module")
def tracker() -> Iterator[BackgroundServer]:
    server = BackgroundServer(agentsmesh.create_app()).start()
    yield server
    server.stop()


def responses_left_to_the_collector(calls: int, tracker: BackgroundServer, transport: str) -> list[httpx.Response]:
    """The downstream responses of ``calls`` calls that only the cyclic garbage collector would free."""
    target = f"{tracker.url}/api/v1/ext/orgs/acme/tickets/AM-7"
    outgoing = Outgoing("tickets_one", "GET", target, [], target, {"x-api-key": agentsmesh.DEFAULT_API_KEY}, None)

    async def call() -> None:
        pool = ClientPool(transport=transport)
        try:
            for _ in range(calls):
                answer = await send_once(pool.client("agentsmesh"), outgoing, 10.0, 1 << 20)
                assert answer.response.status_code == 200
        finally:
            await pool.aclose()

    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds unreachable is kept in gc.garbage, to look at
    try:
        asyncio.run(call())
        gc.collect()
        return [o for o in gc.garbage if isinstance(o, httpx.Response)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_downstream_response_is_freed_without_the_cyclic_collector(tracker: BackgroundServer, transport: str) -> None:
    assert responses_left_to_the_collector(5, tracker, transport) == []


def test_a_served_gateway_freezes_what_start_up_built(tmp_path: Path) -> None:
    gateway = build_gateway(Settings(database=tmp_path / "vault.db"), generate_secret_key())
    app = create_app(gateway, settle_heap=True)
    server = BackgroundServer(app).start()
    try:
        assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
        for _ in range(200):  # the warm-up runs beside the first requests
            if gc.get_freeze_count() > 0:
                break
            time.sleep(0.01)
        assert gc.get_freeze_count() > 10_000  # the imported modules and the registry, at least
    finally:
        server.stop()
        gateway.store.close()
        gc.unfreeze()  # the rest of the test session collects as before
