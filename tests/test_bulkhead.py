"""The bulkhead: at most ``UNIGATE_MAX_CALLS_PER_CONNECTION`` downstream calls of one connection in
flight at once, so one tenant's hanging tracker holds at most that share of its service's pooled
client (200 connections) and the service's other tenants are not held up.

A call finding its connection at the cap waits ``UNIGATE_CALL_QUEUE_TIMEOUT`` seconds for a slot,
then is refused with ``ConnectorRateLimitError`` 429 and ``Retry-After: 1`` (no downstream call):
a retryable "too many requests for this connection", as SDKs treat 429s.

Scenario (run once per module): tenant A's tracker hangs; A sends 250 concurrent reads; while they
are pending, tenant B — another connection to the same service, served by the same pooled
client — reads 20 tickets from its own tracker.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from unigate.app import build_gateway, create_app
from unigate.downstream.pool import Bulkhead
from unigate.errors import ConnectorRateLimitError
from unigate.settings import Settings
from unigate.simulation import BackgroundServer
from unigate.testing import Simulator
from unigate.testing.harness import APP_ID
from unigate.vault.crypto import generate_secret_key
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import TICKETS

CAP = 16            # the default
QUEUE_WAIT = 0.5    # seconds
A_TIMEOUT = 2.0     # tenant A's connection timeout: its hanging calls end as 504s then
A_CALLS = 250


FLOOD = """
import asyncio, sys
import httpx, orjson
url, key, headers, path, calls = sys.argv[1], sys.argv[2], orjson.loads(sys.argv[3]), sys.argv[4], int(sys.argv[5])
async def run():
    limits = httpx.Limits(max_connections=calls + 10, max_keepalive_connections=calls + 10)
    async with httpx.AsyncClient(base_url=url, headers={"authorization": f"Bearer {key}"}, limits=limits,
                                 timeout=30) as client:
        answers = await asyncio.gather(*(client.get(path, headers=headers) for _ in range(calls)))
    return [(r.status_code, dict(r.headers), r.text) for r in answers]
sys.stdout.write(orjson.dumps(asyncio.run(run())).decode())
"""


@dataclass
class Flood:
    a_responses: list[httpx.Response]
    b_responses: list[httpx.Response]
    b_seconds: list[float]
    reached_a_tracker: int
    in_flight_after: int


def tenant(store, consumer_id: str, sim: Simulator, **settings: object) -> tuple[dict[str, str], str]:  # noqa: ANN001
    store.create_consumer(APP_ID, consumer_id)
    connection = store.create_connection(APP_ID, consumer_id, "agentsmesh",
                                         settings={"base_url": sim.url, "organization": agentsmesh.DEFAULT_ORG,
                                                   **settings},
                                         credentials={"api_key": agentsmesh.DEFAULT_API_KEY})
    return {"x-apideck-app-id": APP_ID, "x-apideck-consumer-id": consumer_id}, connection.id


@pytest.fixture(scope="module")
def flood(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flood]:
    hanging = Simulator.start(agentsmesh.create_app(ticket_count=10))
    healthy = Simulator.start(agentsmesh.create_app(ticket_count=10))
    hanging.fault(latency_ms=60_000)
    settings = Settings(database=Path(tmp_path_factory.mktemp("bulkhead")) / "vault.db",
                        max_calls_per_connection=CAP, call_queue_timeout=QUEUE_WAIT)
    gateway = build_gateway(settings, generate_secret_key())
    server = BackgroundServer(create_app(gateway)).start()
    try:
        _, key = gateway.store.create_app("Bulkhead app", app_id=APP_ID)
        a_headers, a_id = tenant(gateway.store, "tenant-a", hanging, timeout=A_TIMEOUT)
        b_headers, _ = tenant(gateway.store, "tenant-b", healthy)

        def flood_a() -> list[httpx.Response]:
            """Tenant A's 250 concurrent reads from a process of its own (another tenant is another
            process), so tenant B's timings measure the gateway, not this process's GIL."""
            answers = subprocess.run([sys.executable, "-c", FLOOD, server.url, key, orjson.dumps(a_headers).decode(),
                                      TICKETS, str(A_CALLS)], capture_output=True, text=True, timeout=120, check=True)
            return [httpx.Response(status, headers=headers, content=body.encode())
                    for status, headers, body in orjson.loads(answers.stdout)]

        with concurrent.futures.ThreadPoolExecutor(1) as tenant_a:
            a_calls = tenant_a.submit(flood_a)
            deadline = time.monotonic() + 5
            while len(hanging.requests()) < CAP and time.monotonic() < deadline:
                time.sleep(0.01)
            b_responses, b_seconds = [], []
            with httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {key}"}, timeout=30) as client:
                for _ in range(20):
                    started = time.monotonic()
                    b_responses.append(client.get(f"{TICKETS}/AM-5", headers=b_headers))
                    b_seconds.append(time.monotonic() - started)
            a_responses = a_calls.result()
        yield Flood(a_responses, b_responses, b_seconds, len(hanging.requests()), gateway.pool.bulkhead.in_flight(a_id))
    finally:
        server.stop()
        gateway.store.close()
        hanging.stop()
        healthy.stop()


def test_another_tenant_of_the_service_gets_its_answers_while_one_tracker_hangs(flood: Flood) -> None:
    assert [(r.status_code, r.json()["data"]["id"]) for r in flood.b_responses] == [(200, "AM-5")] * 20


def test_another_tenant_of_the_service_is_not_slowed_down(flood: Flood) -> None:
    assert max(flood.b_seconds) < 0.5, f"slowest of tenant B's reads: {max(flood.b_seconds):.2f}s"


def test_no_more_calls_than_the_cap_reach_the_hanging_tracker(flood: Flood) -> None:
    assert flood.reached_a_tracker == CAP


def test_calls_in_flight_at_the_cap_end_at_the_connection_timeout(flood: Flood) -> None:
    timed_out = [r.json() for r in flood.a_responses if r.status_code == 504]
    assert len(timed_out) == CAP
    assert {(b["type_name"], b["detail"]["reason"]) for b in timed_out} == {("ConnectorExecutionError", "timeout")}


def test_calls_over_the_cap_are_refused_as_rate_limited_with_retry_after(flood: Flood) -> None:
    refused = [r for r in flood.a_responses if r.status_code != 504]
    assert len(refused) == A_CALLS - CAP
    assert {(r.status_code, r.json()["type_name"], r.headers["retry-after"]) for r in refused} == {
        (429, "ConnectorRateLimitError", "1")}
    assert {r.json()["detail"]["reason"] for r in refused} == {"connection_concurrency_limit"}


def test_no_slot_is_held_once_the_calls_are_over(flood: Flood) -> None:
    assert flood.in_flight_after == 0


# -- the bulkhead itself ------------------------------------------------------------------------

def test_a_waiting_call_gets_the_slot_a_finished_call_frees() -> None:
    async def run() -> list[str]:
        bulkhead, order = Bulkhead(limit=1, wait=2.0), []
        await bulkhead.acquire("c")

        async def second() -> None:
            await bulkhead.acquire("c")
            order.append("second got the slot")
            bulkhead.release("c")

        waiting = asyncio.ensure_future(second())
        await asyncio.sleep(0.05)
        order.append("first releases")
        bulkhead.release("c")
        await waiting
        return [*order, f"in flight: {bulkhead.in_flight('c')}"]

    assert asyncio.run(run()) == ["first releases", "second got the slot", "in flight: 0"]


def test_a_call_waits_no_longer_than_the_queue_timeout() -> None:
    async def run() -> float:
        bulkhead = Bulkhead(limit=1, wait=0.2)
        await bulkhead.acquire("c")
        started = time.monotonic()
        with pytest.raises(ConnectorRateLimitError):
            await bulkhead.acquire("c")
        return time.monotonic() - started

    assert 0.2 <= asyncio.run(run()) < 0.5


def test_connections_have_separate_slots() -> None:
    async def run() -> tuple[int, int]:
        bulkhead = Bulkhead(limit=1, wait=0.0)
        await bulkhead.acquire("a")
        await bulkhead.acquire("b")
        return bulkhead.in_flight("a"), bulkhead.in_flight("b")

    assert asyncio.run(run()) == (1, 1)


def test_a_cancelled_waiter_does_not_take_a_slot() -> None:
    async def run() -> tuple[int, bool]:
        bulkhead = Bulkhead(limit=1, wait=5.0)
        await bulkhead.acquire("c")
        waiter = asyncio.ensure_future(bulkhead.acquire("c"))
        await asyncio.sleep(0.01)
        waiter.cancel()
        await asyncio.sleep(0.01)
        bulkhead.release("c")
        return bulkhead.in_flight("c"), waiter.cancelled()

    assert asyncio.run(run()) == (0, True)
