"""Only idempotent reads are retried, and only once: a GET that meets a connection failure, a
500/502/503/504 or a 429 with a ``Retry-After`` of at most a second is sent a second time; a write
(POST, PUT, PATCH, DELETE) that meets a failure or a 5xx is sent exactly once, whatever happened.
A 429 is the tracker saying it did nothing: any call refused with one is queued and sent again when
its wait fits the call's rate-limit wait budget (``unigate.downstream.limiter``, tests/test_rate_limiter.py).

Each fault here hits only the first matching request (``times=1``), so a retry would succeed:
a write that answers an error proves it was not retried, and the simulator's log counts the calls.
"""

from __future__ import annotations

import httpx
import pytest

from unigate.testing import Simulator, error_of

from .conftest import TICKETS

TRANSIENT = {
    "500": {"status": 500},
    "502": {"status": 502},
    "503": {"status": 503},
    "504": {"status": 504},
    "dropped_connection": {"drop_connection": True},
}
READ_FAULTS = {**TRANSIENT, "429_retry_after_1s": {"status": 429, "retry_after": 1}}

# unified operation -> (request kwargs, the downstream method it makes first)
WRITES = {
    "create": ("POST", TICKETS, {"json": {"subject": "written once"}}, "POST"),
    "update": ("PATCH", f"{TICKETS}/AM-7", {"json": {"subject": "written once"}}, "PUT"),
    "update_status": ("PATCH", f"{TICKETS}/AM-8", {"json": {"status": "closed"}}, "PATCH"),
    "delete": ("DELETE", f"{TICKETS}/AM-9", {}, "DELETE"),
}


@pytest.mark.parametrize("fault", TRANSIENT.values(), ids=TRANSIENT.keys())
@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_a_write_is_never_retried(client: httpx.Client, sim: Simulator, write: tuple, fault: dict) -> None:
    method, path, kwargs, downstream_method = write
    sim.fault(**fault, method=downstream_method, times=1)
    response = client.request(method, path, **kwargs)
    assert response.status_code >= 400, response.json()
    # the ticket's repository is read first (collection_check), then the write is made once
    assert [r["method"] for r in sim.requests() if r["method"] != "GET"] == [downstream_method]


# the same writes on other tickets: these succeed (the delete would leave the one above deleted)
REQUEUED_WRITES = {name: (method, path.replace("AM-", "AM-24"), kwargs, downstream)
                   for name, (method, path, kwargs, downstream) in WRITES.items()}


@pytest.mark.parametrize("write", REQUEUED_WRITES.values(), ids=REQUEUED_WRITES.keys())
def test_a_write_refused_with_a_429_is_sent_again_after_the_wait(client: httpx.Client, sim: Simulator,
                                                                  write: tuple) -> None:
    method, path, kwargs, downstream_method = write
    sim.fault(status=429, retry_after=1, method=downstream_method, times=1)
    response = client.request(method, path, **kwargs)
    assert response.status_code < 300, response.json()
    assert [r["method"] for r in sim.requests() if r["method"] != "GET"] == [downstream_method] * 2


@pytest.mark.parametrize("fault", READ_FAULTS.values(), ids=READ_FAULTS.keys())
def test_a_read_meeting_a_transient_failure_is_retried_once(client: httpx.Client, sim: Simulator,
                                                            fault: dict) -> None:
    sim.fault(**fault, times=1)
    response = client.get(f"{TICKETS}/AM-5")
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["id"] == "AM-5"
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in sim.requests()] == [("GET", "AM-5")] * 2


@pytest.mark.parametrize("fault", [{"status": 503}, {"drop_connection": True}], ids=["503", "dropped_connection"])
def test_a_read_failing_twice_is_not_retried_again(client: httpx.Client, sim: Simulator, fault: dict) -> None:
    sim.fault(**fault)
    response = client.get(f"{TICKETS}/AM-5")
    assert error_of(response) == (502, "ConnectorExecutionError")
    assert len(sim.requests()) == 2


def test_a_read_told_to_retry_after_more_than_a_second_is_not_retried(client: httpx.Client, sim: Simulator) -> None:
    sim.fault(status=429, retry_after=30, times=1)
    response = client.get(f"{TICKETS}/AM-5")
    assert error_of(response) == (429, "ConnectorRateLimitError")
    assert response.headers["retry-after"] == "30"
    assert len(sim.requests()) == 1


@pytest.mark.parametrize("status", [400, 404, 422])
def test_a_read_answered_with_a_client_error_is_not_retried(client: httpx.Client, sim: Simulator, status: int) -> None:
    sim.fault(status=status, times=1)
    assert client.get(f"{TICKETS}/AM-5").status_code == status
    assert len(sim.requests()) == 1
