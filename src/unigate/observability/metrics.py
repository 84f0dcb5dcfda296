"""Prometheus metrics, served at ``GET /metrics`` (no API key; ``UNIGATE_METRICS=off`` removes it).

Labels are bounded: ``service`` (an installed connector's id), ``operation`` (``resource.operation``
of a routed request, or ``proxy.<method>``), ``status`` (an HTTP status, or a failure's kind for a
downstream call that got no answer: ``timeout``, ``connection``, ``response_too_large``). No app or
consumer id is ever a label: one time series per tenant would grow without bound and tell one
tenant's scraper about the others.

The instruments live in their own registry (``REGISTRY``, with the process and GC collectors), so
several gateways in one process (tests) share them; children are cached per label tuple, so the
request path pays a dict lookup rather than ``labels()``'s validation.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
disable_created_metrics()  # no `_created` series beside each counter: half the exposition, nothing lost
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter("unigate_requests", "Unified (and proxy) requests answered, by service, operation and status",
                   ["service", "operation", "status"], registry=REGISTRY)
REQUEST_SECONDS = Histogram("unigate_request_duration_seconds", "Time to answer a unified request",
                            ["service", "operation"], buckets=_LATENCY, registry=REGISTRY)
CALLS = Counter("unigate_downstream_calls", "Downstream calls, by service and status (or failure kind)",
                ["service", "status"], registry=REGISTRY)
CALL_SECONDS = Histogram("unigate_downstream_call_duration_seconds", "Duration of one downstream call",
                         ["service"], buckets=_LATENCY, registry=REGISTRY)
RETRIES = Counter("unigate_downstream_retries", "Downstream calls retried, by service and what was retried",
                  ["service", "reason"], registry=REGISTRY)
TIMEOUTS = Counter("unigate_downstream_timeouts", "Downstream calls that did not finish within their timeout",
                   ["service"], registry=REGISTRY)
RATE_LIMITED = Counter("unigate_downstream_rate_limited", "429 answers from trackers", ["service"],
                       registry=REGISTRY)
RATE_LIMIT_WAIT = Counter("unigate_downstream_rate_limit_wait_seconds",
                          "Seconds spent waiting on a tracker's Retry-After before retrying", ["service"],
                          registry=REGISTRY)
BULKHEAD_WAITS = Counter("unigate_bulkhead_waits", "Downstream calls that waited for a slot of their "
                         "connection (the connection was at its concurrency cap)", ["service"], registry=REGISTRY)
BULKHEAD_REFUSALS = Counter("unigate_bulkhead_refusals", "Downstream calls refused (429) after waiting "
                            "UNIGATE_CALL_QUEUE_TIMEOUT for a slot", ["service"], registry=REGISTRY)
BUDGET_QUEUED = Counter("unigate_downstream_rate_limit_queued", "Downstream calls that waited for their turn in "
                        "their tracker account's rate-limit budget", ["service"], registry=REGISTRY)
BUDGET_QUEUE_SECONDS = Histogram("unigate_downstream_rate_limit_queue_seconds", "Seconds a downstream call waited "
                                 "for its turn in its tracker account's rate-limit budget", ["service"],
                                 buckets=_LATENCY, registry=REGISTRY)
BUDGET_REFUSED = Counter("unigate_downstream_rate_limit_refused", "Downstream calls refused (429) because their "
                         "turn in the rate-limit budget came after UNIGATE_RATE_LIMIT_WAIT", ["service"],
                         registry=REGISTRY)
BUDGET_STORE_ERRORS = Counter("unigate_downstream_rate_limit_store_errors", "Rate-limit budget reads or writes "
                              "that failed (Redis unreachable): the call went on unqueued", ["service"],
                              registry=REGISTRY)
LOG_WRITTEN = Counter("unigate_request_log_written", "Requests written to the request log", registry=REGISTRY)
LOG_DROPPED = Counter("unigate_request_log_dropped", "Requests dropped from a full request-log queue (oldest "
                      "first)", registry=REGISTRY)
LOG_QUEUE = Gauge("unigate_request_log_queue", "Requests waiting to be written to the request log",
                  registry=REGISTRY)

enabled = True  # UNIGATE_METRICS=off: nothing is counted (set by build_gateway)
_children: dict[tuple[Any, ...], Any] = {}


def _child(metric: Any, *labels: str) -> Any:
    key = (metric, *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


def request(service: str, operation: str, status: int, seconds: float) -> None:
    if enabled:
        _child(REQUESTS, service, operation, str(status)).inc()
        _child(REQUEST_SECONDS, service, operation).observe(seconds)


def call(service: str, status: int | None, error: str | None, seconds: float, retried: bool) -> None:
    """One downstream call's outcome (the ``count`` hook of ``unigate.downstream.hooks``)."""
    if not enabled:
        return
    _child(CALLS, service, str(status) if status is not None else (error or "error")).inc()
    _child(CALL_SECONDS, service).observe(seconds)
    if error == "timeout":
        _child(TIMEOUTS, service).inc()
    if status == 429:
        _child(RATE_LIMITED, service).inc()


def retry(service: str, reason: str, wait: float = 0.0) -> None:
    """A downstream call about to be tried again; ``reason`` is the status retried, or ``connection``."""
    if not enabled:
        return
    _child(RETRIES, service, reason).inc()
    if reason == "429":
        _child(RATE_LIMITED, service).inc()
        _child(RATE_LIMIT_WAIT, service).inc(wait)


def bulkhead_wait(service: str) -> None:
    if enabled:
        _child(BULKHEAD_WAITS, service or "unknown").inc()


def bulkhead_refusal(service: str) -> None:
    if enabled:
        _child(BULKHEAD_REFUSALS, service or "unknown").inc()


def rate_limit_queued(service: str, seconds: float) -> None:
    if enabled:
        _child(BUDGET_QUEUED, service).inc()
        _child(BUDGET_QUEUE_SECONDS, service).observe(seconds)


def rate_limit_refused(service: str) -> None:
    if enabled:
        _child(BUDGET_REFUSED, service).inc()


def rate_limit_store_error(service: str) -> None:
    if enabled:
        _child(BUDGET_STORE_ERRORS, service).inc()


def exposition() -> bytes:
    return generate_latest(REGISTRY)
