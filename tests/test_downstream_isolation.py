"""Downstream clients are shared by every connection of a service: they keep nothing between calls.

The trackers here are reached as ``localhost``, a host name: cookie jars accept cookies from
host names (aiohttp's ignores those from IP addresses such as 127.0.0.1 unless told otherwise), so
a jar left on would carry one tenant's session cookie into the next tenant's request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from unigate.downstream.pool import ClientPool
from unigate.simulation import BackgroundServer
from unigate.testing import GatewayHarness, Simulator
from unigate_connectors.agentsmesh import simulator as agentsmesh

TICKETS = f"/issue-tracking/collections/{agentsmesh.MAIN_REPOSITORY_ID}/tickets"
TRANSPORTS = ["aiohttp", "httpx"]


def by_host_name(url: str) -> str:
    return url.replace("127.0.0.1", "localhost")


async def sets_a_session_cookie(request: Request) -> JSONResponse:
    response = JSONResponse({"ok": True})
    response.set_cookie("session", "tenant-a-secret", path="/")
    return response


async def echoes_cookies(request: Request) -> JSONResponse:
    return JSONResponse({"cookie": request.headers.get("cookie")})


@pytest.fixture(scope="module")
def tracker() -> Iterator[BackgroundServer]:
    server = BackgroundServer(Starlette(routes=[Route("/login", sets_a_session_cookie),
                                                Route("/echo", echoes_cookies)])).start()
    yield server
    server.stop()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_cookie_set_for_one_call_is_not_sent_with_the_next(tracker: BackgroundServer, transport: str) -> None:
    url = by_host_name(tracker.url)

    async def calls() -> dict:
        pool = ClientPool(transport=transport)
        client = pool.client("tracker")
        try:
            first = await client.get(f"{url}/login")
            assert "tenant-a-secret" in first.headers.get("set-cookie", "")
            return (await client.get(f"{url}/echo")).json()
        finally:
            await pool.aclose()

    assert asyncio.run(calls()) == {"cookie": None}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_explicit_cookie_header_is_still_sent(tracker: BackgroundServer, transport: str) -> None:
    async def calls() -> dict:
        pool = ClientPool(transport=transport)
        try:
            return (await pool.client("tracker").get(f"{by_host_name(tracker.url)}/echo",
                                                     headers={"cookie": "token=t"})).json()
        finally:
            await pool.aclose()

    assert asyncio.run(calls()) == {"cookie": "token=t"}


# -- through the gateway: two tenants of one tracker ------------------------------------------

class SetsASessionCookie:
    """Like Redmine: every response sets a session cookie, named after the API key that was used."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key = dict(scope["headers"]).get(b"x-api-key", b"none")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = b"_tracker_session=session-of-" + key[-6:] + b"; path=/; HttpOnly"
                message = {**message, "headers": [*message["headers"], (b"set-cookie", cookie)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    control = agentsmesh.create_app(ticket_count=30)
    simulator = Simulator(control, BackgroundServer(SetsASessionCookie(control)).start())
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module", params=TRANSPORTS)
def harness(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            sim: Simulator) -> Iterator[GatewayHarness]:
    """A gateway (over either transport) where tenant A, our app's consumer, uses AgentsMesh."""
    gateway = GatewayHarness(Path(tmp_path_factory.mktemp("isolation")), transport=request.param)
    gateway.connect_consumer("agentsmesh", "tenant-a", tracker_settings(sim), {"api_key": agentsmesh.DEFAULT_API_KEY})
    yield gateway
    gateway.stop()


def tracker_settings(sim: Simulator) -> dict[str, str]:
    return {"base_url": by_host_name(sim.url), "organization": agentsmesh.DEFAULT_ORG}


@pytest.fixture(scope="module")
def tenant_b(harness: GatewayHarness, sim: Simulator) -> dict[str, str]:
    """Headers of tenant B: another app's consumer, with its own key, on the same AgentsMesh host."""
    _, key_b = harness.store.create_app("Tenant B's app", app_id="tenant-b-app")
    harness.store.create_consumer("tenant-b-app", "tenant-b")
    harness.store.create_connection("tenant-b-app", "tenant-b", "agentsmesh", settings=tracker_settings(sim),
                                    credentials={"api_key": agentsmesh.READ_ONLY_API_KEY})
    return {"authorization": f"Bearer {key_b}", "x-apideck-app-id": "tenant-b-app", "x-apideck-consumer-id": "tenant-b"}


def test_one_tenants_session_cookie_never_reaches_another_tenants_request(
        harness: GatewayHarness, sim: Simulator, tenant_b: dict[str, str]) -> None:
    sim.clear()
    with harness.client(consumer_id="tenant-a") as client:
        assert client.get(TICKETS, params={"limit": 2}).status_code == 200
    with harness.anonymous() as client:
        response = client.get(TICKETS, params={"limit": 2}, headers=tenant_b)
    assert response.status_code == 200, response.json()
    a_request, b_request = sim.requests()
    assert a_request["headers"]["x-api-key"] == agentsmesh.DEFAULT_API_KEY
    assert b_request["headers"]["x-api-key"] == agentsmesh.READ_ONLY_API_KEY
    assert "cookie" not in b_request["headers"]


def test_a_tenants_session_cookie_is_not_sent_back_on_its_next_request(harness: GatewayHarness,
                                                                      sim: Simulator) -> None:
    """Credentials are the connection's only: a cookie the tracker set is not a credential."""
    sim.clear()
    with harness.client(consumer_id="tenant-a") as client:
        assert client.get(f"{TICKETS}/AM-1").status_code == 200
        assert client.get(f"{TICKETS}/AM-2").status_code == 200
    assert [("cookie" in r["headers"]) for r in sim.requests()] == [False, False]
