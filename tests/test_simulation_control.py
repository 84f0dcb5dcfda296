"""The simulators' shared control layer (unigate.simulation): recording and switchable faults."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from unigate.simulation import BackgroundServer, SimulatorControl


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"path": request.url.path, "body": (await request.body()).decode()})


@pytest.fixture(scope="module")
def control() -> SimulatorControl:
    return SimulatorControl(Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST"])]))


@pytest.fixture(scope="module")
def server(control: SimulatorControl) -> Iterator[BackgroundServer]:
    with BackgroundServer(control) as running:
        yield running


@pytest.fixture
def client(server: BackgroundServer, control: SimulatorControl) -> Iterator[httpx.Client]:
    control.clear_faults()
    control.requests.clear()
    with httpx.Client(base_url=server.url) as c:
        yield c


def put_fault(client: httpx.Client, **plan: object) -> None:
    assert client.put("/__sim/faults", json=plan).status_code == 200


def test_latency_delays_the_answer(client: httpx.Client) -> None:
    put_fault(client, latency_ms=300)
    response = client.get("/tickets")
    assert response.json() == {"path": "/tickets", "body": ""} and response.elapsed.total_seconds() >= 0.3


def test_429_carries_retry_after(client: httpx.Client) -> None:
    put_fault(client, status=429, retry_after=7)
    response = client.get("/tickets")
    assert response.status_code == 429 and response.headers["retry-after"] == "7"


def test_status_fault_answers_the_given_body(client: httpx.Client) -> None:
    put_fault(client, status=500, body={"error": {"code": "BOOM"}})
    response = client.get("/tickets")
    assert (response.status_code, response.json()) == (500, {"error": {"code": "BOOM"}})


def test_malformed_json_cannot_be_decoded(client: httpx.Client) -> None:
    put_fault(client, malformed_json=True)
    response = client.get("/tickets")
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_dropped_connection_breaks_the_response(client: httpx.Client) -> None:
    put_fault(client, drop_connection=True)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/tickets")


def test_times_limits_how_often_a_fault_fires(client: httpx.Client) -> None:
    put_fault(client, status=503, times=2)
    assert [client.get("/tickets").status_code for _ in range(3)] == [503, 503, 200]


def test_path_and_method_select_the_requests_a_fault_hits(client: httpx.Client) -> None:
    put_fault(client, status=500, path="^/tickets/1$", method="POST")
    assert client.get("/tickets/1").json() == {"path": "/tickets/1", "body": ""}
    assert client.post("/tickets/2").json() == {"path": "/tickets/2", "body": ""}
    assert client.post("/tickets/1").status_code == 500


def test_deleting_faults_restores_normal_answers(client: httpx.Client) -> None:
    put_fault(client, status=500)
    client.delete("/__sim/faults")
    response = client.get("/tickets")
    assert (response.status_code, response.json()) == (200, {"path": "/tickets", "body": ""})


def test_unknown_fault_field_is_refused(client: httpx.Client) -> None:
    response = client.put("/__sim/faults", json={"status": 500, "explode": True})
    assert response.status_code == 400 and "explode" in response.json()["error"]


def test_requests_are_recorded_with_query_headers_and_body(client: httpx.Client) -> None:
    client.post("/tickets", params={"a": "1"}, json={"title": "x"}, headers={"x-api-key": "k"})
    client.post("/notes", content=b"plain text")
    first, second = client.get("/__sim/requests").json()
    assert (first["method"], first["path"], first["query"]) == ("POST", "/tickets", [["a", "1"]])
    assert first["headers"]["x-api-key"] == "k" and first["body"] == {"title": "x"}
    assert second["body"] == "plain text"


def test_the_app_still_receives_the_body(client: httpx.Client) -> None:
    assert client.post("/tickets", content=b"payload").json() == {"path": "/tickets", "body": "payload"}


def test_clearing_the_request_log(client: httpx.Client) -> None:
    client.get("/tickets")
    client.delete("/__sim/requests")
    assert client.get("/__sim/requests").json() == []


def test_unknown_control_endpoint_is_404(client: httpx.Client) -> None:
    assert client.get("/__sim/nothing").status_code == 404
