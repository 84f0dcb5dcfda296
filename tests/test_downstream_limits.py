"""Every downstream call is bounded in size and in time, over either transport.

- An answer is streamed and read up to the connection's cap (``UNIGATE_MAX_DOWNSTREAM_BODY``, or
  the connection's ``max_response_bytes``): past it the connection is closed and the call is a
  ``ConnectorExecutionError`` 502; the gateway never holds more than about the cap in memory.
- The whole exchange (connect, headers, the entire body) must end within the connection's
  timeout: a tracker that keeps sending a byte now and then, too often for httpx's per-phase
  read timeout to fire, is cut at the timeout with the timeout's ``ConnectorExecutionError`` 504.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from unigate.app import build_gateway, create_app
from unigate.settings import Settings
from unigate.simulation import BackgroundServer
from unigate.testing import ConnectorUnderTest, Simulator, error_of
from unigate.testing.connector import TIMEOUT_CONSUMER
from unigate.testing.harness import APP_ID
from unigate.vault.crypto import generate_secret_key
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import TICKETS

CAP = 1024 * 1024
HUGE = 300 * 1024 * 1024  # streamed lazily by the simulator: never in anyone's memory at once
CAPPED_CONSUMER = "capped-consumer"


@pytest.fixture(scope="module", params=["aiohttp", "httpx"])
def tracker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectorUnderTest]:
    tracker = ConnectorUnderTest.start(Path(tmp_path_factory.mktemp("limits")), "agentsmesh", transport=request.param)
    tracker.connect(CAPPED_CONSUMER, settings={"max_response_bytes": CAP})
    yield tracker
    tracker.stop()


@pytest.fixture
def sim(tracker: ConnectorUnderTest) -> Iterator[Simulator]:
    assert tracker.simulator is not None
    yield tracker.simulator
    tracker.simulator.clear()


def capped_get(tracker: ConnectorUnderTest, sim: Simulator, **fault: object) -> tuple[httpx.Response, float]:
    """GET the ticket list as the capped consumer with ``fault`` injected; (response, seconds taken)."""
    with tracker.client(CAPPED_CONSUMER) as client:
        sim.fault(**fault)
        started = time.monotonic()
        response = client.get(TICKETS)
        return response, time.monotonic() - started


def test_an_answer_over_the_cap_is_a_typed_502_naming_the_cap(tracker: ConnectorUnderTest, sim: Simulator) -> None:
    response, _ = capped_get(tracker, sim, stream_bytes=HUGE)
    body = response.json()
    assert error_of(response) == (502, "ConnectorExecutionError")
    assert body["message"] == f"agentsmesh's answer exceeded {CAP} bytes; it was not read further"
    assert (body["detail"]["reason"], body["detail"]["limit_bytes"]) == ("response_too_large", CAP)


def test_an_answer_over_the_cap_ends_the_call_quickly(tracker: ConnectorUnderTest, sim: Simulator) -> None:
    response, seconds = capped_get(tracker, sim, stream_bytes=HUGE)
    assert response.status_code == 502
    assert seconds < 3.0, f"reading stopped at the cap, yet the call took {seconds:.2f}s"


def test_an_answer_over_the_cap_is_not_buffered(tracker: ConnectorUnderTest, sim: Simulator) -> None:
    """The gateway runs in this process: the peak of Python allocations while the simulator streams
    300 MB stays a small fraction of it. (Measured: about 2 MiB; up to ~9 MiB over httpx, whose
    anyio socket stream reads ahead of httpcore in bursts when tracing slows the loop.) Measured
    from a warm gateway: a connection's first request compiles its mapping."""
    with tracker.client(CAPPED_CONSUMER) as client:
        assert client.get(TICKETS, params={"limit": 1}).status_code == 200
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        response, _ = capped_get(tracker, sim, stream_bytes=HUGE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 502
    assert peak - before < 32 * CAP, f"peak {(peak - before) / 2**20:.1f} MiB above the start"


def test_an_answer_over_the_cap_has_its_connection_closed(tracker: ConnectorUnderTest, sim: Simulator) -> None:
    started = time.monotonic()
    response, _ = capped_get(tracker, sim, stream_bytes=HUGE)
    assert response.status_code == 502
    [gone] = sim.disconnects_since(started)
    assert gone["path"].endswith("/tickets")
    assert gone["sent_bytes"] < 64 * CAP  # what the socket buffers took before the gateway hung up


def test_an_announced_length_over_the_cap_is_refused_before_reading(tracker: ConnectorUnderTest,
                                                                     sim: Simulator) -> None:
    response, _ = capped_get(tracker, sim, stream_bytes=HUGE, declare_length=True)
    body = response.json()
    assert error_of(response) == (502, "ConnectorExecutionError")
    assert f"(Content-Length: {HUGE})" in body["message"]


def test_an_answer_under_the_cap_is_read_as_usual(tracker: ConnectorUnderTest) -> None:
    with tracker.client(CAPPED_CONSUMER) as client:
        response = client.get(f"{TICKETS}/AM-5")
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["id"] == "AM-5"


def test_a_tracker_dripping_bytes_is_cut_at_the_connection_timeout(tracker: ConnectorUnderTest,
                                                                   sim: Simulator) -> None:
    """A byte every 100 ms: httpx's and aiohttp's read timeouts (0.5 s between bytes) never fire."""
    with tracker.client(TIMEOUT_CONSUMER) as client:
        sim.fault(drip_ms=100)
        started = time.monotonic()
        response = client.get(TICKETS)
        seconds = time.monotonic() - started
    body = response.json()
    assert error_of(response) == (504, "ConnectorExecutionError")
    assert (body["message"], body["detail"]["reason"]) == ("agentsmesh did not answer within 0.5s", "timeout")
    assert 0.5 <= seconds < 1.5


def test_a_dripping_tracker_has_its_connection_closed_at_the_timeout(tracker: ConnectorUnderTest,
                                                                     sim: Simulator) -> None:
    started = time.monotonic()
    with tracker.client(TIMEOUT_CONSUMER) as client:
        sim.fault(drip_ms=100)
        assert client.get(TICKETS).status_code == 504
    [gone] = sim.disconnects_since(started)
    assert 0.4 <= gone["at"] - gone["received_at"] < 1.0  # the gateway's 0.5 s began a little earlier
    assert gone["sent_bytes"] <= 6


@pytest.mark.parametrize("value", [0, -1, "lots", True])
def test_an_invalid_max_response_bytes_is_a_settings_error(tracker: ConnectorUnderTest, value: object) -> None:
    consumer = f"bad-cap-{value}"
    tracker.connect(consumer, settings={"max_response_bytes": value})
    with tracker.client(consumer) as client:
        response = client.get(TICKETS)
    assert error_of(response) == (422, "ConnectionSettingsError")
    assert "max_response_bytes" in response.json()["detail"]


def test_the_limits_are_read_from_the_environment() -> None:
    settings = Settings.from_env({"UNIGATE_MAX_DOWNSTREAM_BODY": "2048", "UNIGATE_MAX_CALLS_PER_CONNECTION": "4",
                                  "UNIGATE_CALL_QUEUE_TIMEOUT": "0.25"})
    assert (settings.max_downstream_body, settings.max_calls_per_connection, settings.call_queue_timeout) == (
        2048, 4, 0.25)


def test_the_gateway_wide_cap_applies_to_every_connection(tracker: ConnectorUnderTest, sim: Simulator,
                                                          tmp_path: Path) -> None:
    """A gateway built with ``max_downstream_body`` (no connection setting) enforces it."""
    gateway = build_gateway(Settings(database=tmp_path / "vault.db", transport=tracker.harness.transport,
                                     max_downstream_body=CAP), generate_secret_key())
    server = BackgroundServer(create_app(gateway)).start()
    try:
        _, key = gateway.store.create_app("Capped app", app_id=APP_ID)
        gateway.store.create_consumer(APP_ID, "someone")
        gateway.store.create_connection(APP_ID, "someone", "agentsmesh",
                                        settings={"base_url": sim.url, "organization": agentsmesh.DEFAULT_ORG},
                                        credentials={"api_key": agentsmesh.DEFAULT_API_KEY})
        sim.fault(stream_bytes=2 * CAP)
        response = httpx.get(f"{server.url}{TICKETS}", headers={
            "authorization": f"Bearer {key}", "x-apideck-app-id": APP_ID, "x-apideck-consumer-id": "someone"})
    finally:
        server.stop()
        gateway.store.close()
    assert error_of(response) == (502, "ConnectorExecutionError")
    assert response.json()["detail"]["limit_bytes"] == CAP
