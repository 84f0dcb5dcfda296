"""When the gateway's client goes away mid-request, the downstream call it was waiting for is
cancelled and its connection closed at once (``unigate.disconnect``): no call outlives its client,
nor holds its connection's bulkhead slot; the gateway goes on serving everyone else."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from unigate.testing import ConnectorUnderTest, Simulator
from unigate.vault.models import Connection

from .conftest import TICKETS

SLOW_MS = 10_000
LEAVER = "leaving-consumer"


@pytest.fixture(scope="module", params=["aiohttp", "httpx"])
def tracker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectorUnderTest]:
    tracker = ConnectorUnderTest.start(Path(tmp_path_factory.mktemp("leaving")), "agentsmesh", transport=request.param)
    yield tracker
    tracker.stop()


@pytest.fixture(scope="module")
def connection(tracker: ConnectorUnderTest) -> Connection:
    settings, credentials = tracker.profile.connection(tracker.url)
    return tracker.harness.connect_consumer("agentsmesh", LEAVER, settings, credentials)


@pytest.fixture
def sim(tracker: ConnectorUnderTest) -> Iterator[Simulator]:
    assert tracker.simulator is not None
    tracker.simulator.clear()
    yield tracker.simulator
    tracker.simulator.clear()


def leave_a_slow_request(tracker: ConnectorUnderTest, sim: Simulator) -> float:
    """A client that gives up after 0.3 s on a read the tracker answers in 10 s; when it gave up."""
    sim.fault(latency_ms=SLOW_MS, path="/tickets$")
    with httpx.Client(base_url=tracker.harness.server.url, headers=tracker.harness.headers(consumer_id=LEAVER),
                      timeout=0.3) as client, pytest.raises(httpx.ReadTimeout):
        client.get(TICKETS)
    return time.monotonic()


def test_the_downstream_call_is_cancelled_when_the_client_leaves(tracker: ConnectorUnderTest, sim: Simulator,
                                                                 connection: Connection) -> None:
    started = time.monotonic()
    left = leave_a_slow_request(tracker, sim)
    [gone] = sim.disconnects_since(started, wait=3.0)
    assert gone["path"].endswith("/tickets")
    assert gone["at"] - left < 1.0, f"the tracker's connection closed {gone['at'] - left:.2f}s after the client left"


def test_a_cancelled_call_gives_back_its_bulkhead_slot(tracker: ConnectorUnderTest, sim: Simulator,
                                                       connection: Connection) -> None:
    started = time.monotonic()
    leave_a_slow_request(tracker, sim)
    assert sim.disconnects_since(started, wait=3.0)
    assert tracker.harness.gateway.pool.bulkhead.in_flight(connection.id) == 0


def test_the_gateway_serves_the_next_request_after_a_client_left(tracker: ConnectorUnderTest, sim: Simulator,
                                                                 connection: Connection) -> None:
    leave_a_slow_request(tracker, sim)
    with tracker.harness.client(consumer_id=LEAVER) as client:
        response = client.get(f"{TICKETS}/AM-5")
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["id"] == "AM-5"


def test_a_request_body_still_reaches_the_handler(tracker: ConnectorUnderTest, sim: Simulator,
                                                  connection: Connection) -> None:
    """The disconnect watcher reads the request for the handler: a body sent in pieces arrives whole."""
    def pieces() -> Iterator[bytes]:
        yield b'{"subject": "sent in'
        yield b' three pieces"}'

    with tracker.harness.client(consumer_id=LEAVER) as client:
        response = client.post(TICKETS, content=pieces(), headers={"content-type": "application/json"})
    assert response.status_code == 201, response.json()
    [created] = [r for r in sim.requests() if r["method"] == "POST"]
    assert created["body"]["title"] == "sent in three pieces"
