"""The fault contract every connector honours: an injected downstream fault surfaces as its typed error.

A fault is injected by the connector's simulator, or, for a connector tested against a real
tracker (live, recorded or replayed), by a ``FaultTap`` on the gateway's downstream transport
(:mod:`unigate.testing.faulttap`): the same ``FAULT_CASES``, the same plans, the same contract.

Shared behaviour (the downstream client's), so one parametrized test serves every connector::

    test_injected_fault_surfaces_as_its_typed_error = injected_fault_tests(TICKETS)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import pytest

from unigate.testing.assertions import error_of
from unigate.testing.connector import TIMEOUT_CONSUMER, ConnectorUnderTest
from unigate.testing.harness import CONSUMER_ID


class FaultInjector(Protocol):
    """Who plays a fault plan: a ``Simulator`` (its ``SimulatorControl``) or a ``FaultTap``."""

    def fault(self, **plan: Any) -> Any: ...

    def clear(self) -> None: ...


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
    FaultCase("unauthorized", {"status": 401}, 401, "ConnectorCredentialsError"),
    FaultCase("forbidden", {"status": 403}, 403, "ConnectorExecutionError"),
    # a Content-Length past the answer size cap (32 MiB by default): refused unread
    FaultCase("oversized_body", {"stream_bytes": 64 * 1024 * 1024, "declare_length": True}, 502,
              "ConnectorExecutionError"),
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
    check_fault(tracker.simulator, tracker.client, path, case)


def check_fault(injector: FaultInjector, client_of: Callable[[str], httpx.Client], path: str, case: FaultCase,
                message: str | None = None) -> None:
    """GET ``path`` through a client of ``client_of(consumer)`` with ``case``'s fault injected by
    ``injector`` (a simulator or a :class:`~unigate.testing.faulttap.FaultTap`): the answer is its
    typed error. ``message``: what the injected server error's body says (a tap's tracker-shaped
    body), to be found in ``downstream_errors``."""
    with client_of(case.consumer or CONSUMER_ID) as client:
        injector.fault(**case.plan)
        try:
            response = client.get(path)
        finally:
            injector.clear()
    assert error_of(response) == (case.status, case.type_name), (
        f"{case.name} downstream ({case.plan}): expected {case.status} {case.type_name}, got "
        f"{response.status_code} {response.text[:300]}; the downstream client maps this fault: a connector that "
        "catches exceptions around ctx.call (or answers from its own code) must let typed errors through")
    body = response.json()
    if case.name == "rate_limited":
        assert response.headers["retry-after"] == "30"
    if case.name == "server_error":   # the simulator's generic body ({"error": ...}) need not be the tracker's
        assert isinstance(body["downstream_errors"], list) and body["detail"]["downstream_status"] == 500
        shown = [e.get("message") or "" for e in body["downstream_errors"]]
        assert message is None or any(message in m for m in shown), (
            f"server_error: the error body {body['detail'].get('downstream_body')!r} holds {message!r} at the "
            f"manifest's `http.errors.message` path, but downstream_errors reads {shown}: check `http.errors`")
    if case.name in ("timeout", "oversized_body"):
        assert body["detail"]["reason"] == {"timeout": "timeout", "oversized_body": "response_too_large"}[case.name]
