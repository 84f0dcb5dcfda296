"""The fault contract every connector honours: an injected downstream fault surfaces as its typed error.

Shared behaviour (the downstream client's), so one parametrized test serves every connector::

    test_injected_fault_surfaces_as_its_typed_error = injected_fault_tests(TICKETS)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from unigate.testing.assertions import error_of
from unigate.testing.connector import TIMEOUT_CONSUMER, ConnectorUnderTest
from unigate.testing.harness import CONSUMER_ID


@dataclass(frozen=True)
class FaultCase:
    name: str
    plan: dict[str, Any]
    status: int
    type_name: str
    consumer: str | None = None   # None: the default consumer


FAULT_CASES = (
    # Retry-After above a second: reported, not retried
    FaultCase("rate_limited", {"status": 429, "retry_after": 30}, 429, "ConnectorRateLimitError"),
    FaultCase("server_error", {"status": 500}, 502, "ConnectorExecutionError"),
    FaultCase("malformed_json", {"malformed_json": True}, 502, "ConnectorExecutionError"),
    FaultCase("dropped_connection", {"drop_connection": True}, 502, "ConnectorExecutionError"),
    FaultCase("timeout", {"latency_ms": 1500}, 504, "ConnectorExecutionError", consumer=TIMEOUT_CONSUMER),
)


def injected_fault_tests(path: str) -> Any:
    """A test, parametrized over ``FAULT_CASES``, that GETs ``path`` with the fault injected."""

    @pytest.mark.parametrize("case", FAULT_CASES, ids=lambda case: case.name)
    def test_injected_fault_surfaces_as_its_typed_error(tracker: ConnectorUnderTest, case: FaultCase) -> None:
        check_injected_fault(tracker, path, case)

    return test_injected_fault_surfaces_as_its_typed_error


def check_injected_fault(tracker: ConnectorUnderTest, path: str, case: FaultCase) -> None:
    """GET ``path`` with ``case``'s fault injected in the simulator: the answer is its typed error."""
    assert tracker.simulator is not None, f"{tracker.service_id}: the fault contract needs a simulator"
    with tracker.client(case.consumer or CONSUMER_ID) as client:
        tracker.simulator.fault(**case.plan)
        response = client.get(path)
    tracker.simulator.clear()
    assert error_of(response) == (case.status, case.type_name), (
        f"{case.name} downstream ({case.plan}): expected {case.status} {case.type_name}, got "
        f"{response.status_code} {response.text[:300]}; the downstream client maps this fault: a connector that "
        "catches exceptions around ctx.call (or answers from its own code) must let typed errors through")
    body = response.json()
    if case.name == "rate_limited":
        assert response.headers["retry-after"] == "30"
    if case.name == "server_error":   # the simulator's generic body ({"error": ...}) need not be the tracker's
        assert isinstance(body["downstream_errors"], list) and body["detail"]["downstream_status"] == 500
    if case.name == "timeout":
        assert body["detail"]["reason"] == "timeout"
