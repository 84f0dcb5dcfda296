"""FaultTap: downstream faults injected on the gateway's side of the network, with no simulator's help.

The gateway runs for real in front of the Codimir simulator, with the tap around its downstream
transport; the simulator only shows which requests passed the tap (it injects nothing here).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from unigate.mapping.spec import ErrorSpec
from unigate.testing import ConnectorUnderTest, error_of
from unigate.testing.cassettes import Cassette, CassetteTap, Scrubber
from unigate.testing.connector import TIMEOUT_CONSUMER
from unigate.testing.faulttap import MESSAGE, FaultTap
from unigate.testing.live import chain
from unigate_connectors.codimir.simulator import DEFAULT_PROJECT_ID

TICKETS = f"/issue-tracking/collections/{DEFAULT_PROJECT_ID}/tickets"
MAX_BODY = 1_000_000


@pytest.fixture(scope="module")
def tap() -> FaultTap:
    return FaultTap()


@pytest.fixture(scope="module")
def tracker(tmp_path_factory: pytest.TempPathFactory, tap: FaultTap) -> Iterator[ConnectorUnderTest]:
    tracker = ConnectorUnderTest.start(tmp_path_factory.mktemp("codimir"), "codimir", wrap_transport=tap,
                                       settings={"max_downstream_body": MAX_BODY})
    tap.errors = tracker.harness.gateway.registry.connectors["codimir"].spec.http.errors
    yield tracker
    tracker.stop()


@pytest.fixture
def client(tracker: ConnectorUnderTest, tap: FaultTap) -> Iterator[httpx.Client]:
    tap.clear()
    with tracker.client() as client:
        yield client


def reached_tracker(tracker: ConnectorUnderTest) -> int:
    assert tracker.simulator is not None
    return len(tracker.simulator.requests())


def test_without_a_fault_requests_pass_on_to_the_tracker(tracker: ConnectorUnderTest, client: httpx.Client) -> None:
    response = client.get(TICKETS)
    assert response.status_code == 200 and response.json()["data"]
    assert reached_tracker(tracker) >= 1


def test_a_rate_limit_answers_429_with_its_retry_after_and_nothing_reaches_the_tracker(
        tracker: ConnectorUnderTest, tap: FaultTap, client: httpx.Client) -> None:
    tap.fault(status=429, retry_after=30)
    response = client.get(TICKETS)
    assert error_of(response) == (429, "ConnectorRateLimitError")
    assert response.headers["retry-after"] == "30"
    assert reached_tracker(tracker) == 0 and tap.answered


def test_a_server_error_body_is_shaped_by_the_manifests_error_paths(tap: FaultTap, client: httpx.Client) -> None:
    tap.fault(status=500)
    body = client.get(TICKETS).json()
    assert body["detail"]["downstream_body"] == {"error": {"message": f"{MESSAGE} (500)", "code": 500}}
    assert body["downstream_errors"] == [{"message": f"{MESSAGE} (500)", "code": "500"}]
    assert (body["status_code"], body["type_name"]) == (502, "ConnectorExecutionError")


def test_an_error_body_keeps_the_message_when_the_code_path_runs_through_it() -> None:
    tap = FaultTap(ErrorSpec(message=["$.error"], code=["$.error.code"]))
    assert tap.error_body(503) == {"error": f"{MESSAGE} (503)"}


def test_a_401_is_a_credentials_error(tap: FaultTap, client: httpx.Client) -> None:
    tap.fault(status=401)
    assert error_of(client.get(TICKETS)) == (401, "ConnectorCredentialsError")


def test_a_403_is_passed_on_as_an_execution_error(tap: FaultTap, client: httpx.Client) -> None:
    tap.fault(status=403)
    assert error_of(client.get(TICKETS)) == (403, "ConnectorExecutionError")


def test_latency_past_the_connections_timeout_is_a_504(tracker: ConnectorUnderTest, tap: FaultTap) -> None:
    tap.clear()
    with tracker.client(TIMEOUT_CONSUMER) as impatient:
        tap.fault(latency_ms=1500)
        response = impatient.get(TICKETS)
    assert error_of(response) == (504, "ConnectorExecutionError")
    assert response.json()["detail"]["reason"] == "timeout"


def test_a_read_timeout_is_a_504(tap: FaultTap, client: httpx.Client) -> None:
    tap.fault(read_timeout=True)
    response = client.get(TICKETS)
    assert error_of(response) == (504, "ConnectorExecutionError")
    assert response.json()["detail"]["reason"] == "timeout"


def test_a_refused_connection_is_a_502_saying_so(tap: FaultTap, client: httpx.Client) -> None:
    tap.fault(refuse_connection=True)
    response = client.get(TICKETS)
    assert error_of(response) == (502, "ConnectorExecutionError")
    assert "connection refused" in response.json()["detail"]["reason"]


def test_a_dropped_connection_is_a_502_after_its_retry(tap: FaultTap, client: httpx.Client) -> None:
    tap.fault(drop_connection=True)
    response = client.get(TICKETS)
    assert error_of(response) == (502, "ConnectorExecutionError")
    assert "closed before the response was complete" in response.json()["detail"]["reason"]
    assert len(tap.answered) == 2   # a GET is tried once more after a connection failure


def test_malformed_json_is_a_502(tap: FaultTap, client: httpx.Client) -> None:
    tap.fault(malformed_json=True)
    response = client.get(TICKETS)
    assert error_of(response) == (502, "ConnectorExecutionError")
    assert response.json()["detail"]["body_excerpt"] == '{"items": [1, 2,'


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "streamed"])
def test_an_oversized_body_is_refused_at_the_size_cap(tap: FaultTap, client: httpx.Client, declared: bool) -> None:
    tap.fault(stream_bytes=MAX_BODY * 2, declare_length=declared)
    response = client.get(TICKETS)
    assert error_of(response) == (502, "ConnectorExecutionError")
    assert response.json()["detail"]["reason"] == "response_too_large"


def test_times_limits_the_fault_to_the_next_requests(tap: FaultTap, client: httpx.Client) -> None:
    tap.fault(status=404, times=1)
    assert client.get(TICKETS).status_code == 404
    assert client.get(TICKETS).status_code == 200


def test_a_fault_for_another_path_lets_the_request_pass(tap: FaultTap, client: httpx.Client) -> None:
    tap.fault(status=500, path=r"/no-such-endpoint$")
    assert client.get(TICKETS).status_code == 200
    assert not tap.answered


def test_clear_removes_the_faults(tap: FaultTap, client: httpx.Client) -> None:
    tap.fault(status=500)
    tap.clear()
    assert client.get(TICKETS).status_code == 200


def test_an_unknown_fault_field_is_refused(tap: FaultTap) -> None:
    with pytest.raises(ValueError, match="unknown fault fields"):
        tap.fault(explode=True)


def test_outside_a_replayed_cassette_a_faulted_request_needs_no_recording(tmp_path: Path) -> None:
    faults, cassettes = FaultTap(), CassetteTap()
    tracker = ConnectorUnderTest.start(tmp_path, "codimir", simulate=False, wrap_transport=chain(faults, cassettes))
    try:
        empty = Cassette(tmp_path / "empty.yaml", "replay", Scrubber([]))
        with cassettes.use(empty), tracker.client() as client:   # its end checks nothing went unrecorded
            faults.fault(status=429, retry_after=30)
            assert error_of(client.get(TICKETS)) == (429, "ConnectorRateLimitError")
        assert empty.problems() == []
    finally:
        tracker.stop()
