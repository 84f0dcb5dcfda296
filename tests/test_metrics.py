"""GET /metrics, scraped over HTTP and parsed with prometheus_client's own parser: the counters move
by what each request did, no label carries a tenant's id, and UNIGATE_METRICS=off removes it."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from unigate.testing.connector import TIMEOUT_CONSUMER, ConnectorUnderTest
from unigate.testing.harness import APP_ID, CONSUMER_ID
from unigate_connectors.agentsmesh import simulator as agentsmesh

TICKETS = f"/issue-tracking/collections/{agentsmesh.MAIN_REPOSITORY_ID}/tickets"
ALLOWED_LABELS = {"service", "operation", "status", "reason", "le"}
# prometheus_client's process, GC and platform collectors
RUNTIME_LABELS = {"generation", "implementation", "major", "minor", "patchlevel", "version"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectorUnderTest]:
    t = ConnectorUnderTest.start(tmp_path_factory.mktemp("metrics"), "agentsmesh",
                                 settings={"max_calls_per_connection": 1, "call_queue_timeout": 0.3})
    yield t
    t.stop()


def scrape(tracker: ConnectorUnderTest) -> Samples:
    response = httpx.get(f"{tracker.harness.server.url}/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    out: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_a_read_moves_the_request_and_downstream_counters(tracker: ConnectorUnderTest) -> None:
    before = scrape(tracker)
    with tracker.client() as client:
        assert client.get(f"{TICKETS}/AM-7").status_code == 200
        assert client.get(f"{TICKETS}/AM-7").status_code == 200
        assert client.get(f"{TICKETS}/NOPE-1").status_code == 404
    after = scrape(tracker)
    ok = {"service": "agentsmesh", "operation": "tickets.one"}
    assert moved(before, after, "unigate_requests_total", **ok, status="200") == 2
    assert moved(before, after, "unigate_requests_total", **ok, status="404") == 1
    assert moved(before, after, "unigate_request_duration_seconds_count", **ok) == 3
    assert moved(before, after, "unigate_request_duration_seconds_bucket", **ok, le="+Inf") == 3
    assert moved(before, after, "unigate_request_duration_seconds_sum", **ok) > 0
    assert moved(before, after, "unigate_downstream_calls_total", service="agentsmesh", status="200") == 2
    assert moved(before, after, "unigate_downstream_calls_total", service="agentsmesh", status="404") == 1
    assert moved(before, after, "unigate_downstream_call_duration_seconds_count", service="agentsmesh") == 3


def test_retries_timeouts_and_rate_limits_are_counted(tracker: ConnectorUnderTest) -> None:
    sim = tracker.simulator
    assert sim is not None
    before = scrape(tracker)
    with tracker.client() as client:
        sim.fault(method="GET", path="/tickets/AM-7$", status=503, times=1)
        assert client.get(f"{TICKETS}/AM-7").status_code == 200  # retried once
        sim.fault(method="GET", path="/tickets/AM-6$", status=429, retry_after=0, times=2)
        assert client.get(f"{TICKETS}/AM-6").status_code == 200  # queued twice behind the limit, then answered
    with tracker.harness.client(consumer_id=TIMEOUT_CONSUMER) as slow:
        sim.fault(method="GET", path="/tickets/AM-5$", latency_ms=1500, times=1)
        assert slow.get(f"{TICKETS}/AM-5").status_code == 504
    with tracker.client() as client:
        sim.fault(method="GET", path="/tickets/AM-4$", status=429, retry_after=30, times=1)
        assert client.get(f"{TICKETS}/AM-4").status_code == 429  # a wait past the wait budget: passed on
    after = scrape(tracker)
    service = {"service": "agentsmesh"}
    assert moved(before, after, "unigate_downstream_retries_total", **service, reason="503") == 1
    assert moved(before, after, "unigate_downstream_retries_total", **service, reason="rate_limited") == 2
    assert moved(before, after, "unigate_downstream_rate_limited_total", **service) == 3  # the queued ones too
    assert moved(before, after, "unigate_downstream_calls_total", **service, status="429") == 3
    assert moved(before, after, "unigate_downstream_timeouts_total", **service) == 1
    assert moved(before, after, "unigate_downstream_calls_total", **service, status="timeout") == 1
    assert moved(before, after, "unigate_requests_total", **service, operation="tickets.one", status="504") == 1


def test_bulkhead_waits_and_refusals_are_counted(tracker: ConnectorUnderTest) -> None:
    """One call in flight per connection here: of three concurrent reads held 1 s by the tracker, one
    goes through at once and two wait; each gives up after 0.3 s (429)."""
    sim = tracker.simulator
    assert sim is not None
    before = scrape(tracker)
    with tracker.client() as client:
        sim.fault(method="GET", path="/tickets/AM-3$", latency_ms=1000)
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            statuses = sorted(pool.map(lambda _: client.get(f"{TICKETS}/AM-3").status_code, range(3)))
    assert statuses == [200, 429, 429]
    after = scrape(tracker)
    assert moved(before, after, "unigate_bulkhead_waits_total", service="agentsmesh") == 2
    assert moved(before, after, "unigate_bulkhead_refusals_total", service="agentsmesh") == 2


def test_no_label_names_a_tenant(tracker: ConnectorUnderTest) -> None:
    with tracker.client() as client:
        assert client.get(f"{TICKETS}/AM-7").status_code == 200
    text = httpx.get(f"{tracker.harness.server.url}/metrics", timeout=30).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            allowed = ALLOWED_LABELS if sample.name.startswith("unigate_") else RUNTIME_LABELS
            assert set(sample.labels) <= allowed, (sample.name, sample.labels)
    for tenant_id in (APP_ID, CONSUMER_ID, TIMEOUT_CONSUMER, tracker.harness.api_key, agentsmesh.DEFAULT_API_KEY):
        assert tenant_id not in text


def test_metrics_need_no_key_and_only_get(tracker: ConnectorUnderTest) -> None:
    assert httpx.head(f"{tracker.harness.server.url}/metrics").status_code == 200
    refused = httpx.post(f"{tracker.harness.server.url}/metrics")
    assert (refused.status_code, refused.json()["type_name"]) == (405, "RequestValidationError")


def test_metrics_off_means_no_route(tmp_path: Path) -> None:
    tracker = ConnectorUnderTest.start(tmp_path, "agentsmesh", settings={"metrics": False})
    try:
        response = httpx.get(f"{tracker.harness.server.url}/metrics", timeout=30)
        assert response.status_code == 404
        assert response.json()["type_name"] == "EntityNotFoundError"
    finally:
        tracker.stop()
