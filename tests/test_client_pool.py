"""``ClientPool``: the downstream clients, as a tracker on loopback sees them, on both transports.

Cookies (the jars are off) are covered by tests/test_downstream_isolation.py; here: one client per
service, what every request carries, redirects, the connection bound, the transport hook, closing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import httpx
import pytest
from httpx_aiohttp import AiohttpTransport
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from unigate.downstream.pool import USER_AGENT, Bulkhead, CallLimits, ClientPool
from unigate.errors import ConnectorRateLimitError
from unigate.observability import metrics
from unigate.settings import Settings
from unigate.simulation import BackgroundServer

TRANSPORTS = ["aiohttp", "httpx"]


class InFlight:
    """Counts the requests the tracker is serving at once."""

    def __init__(self) -> None:
        self.now = self.most = 0
        self.lock = threading.Lock()

    async def slow(self, request: Request) -> JSONResponse:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        await asyncio.sleep(0.25)
        with self.lock:
            self.now -= 1
        return JSONResponse({"ok": True})


IN_FLIGHT = InFlight()


async def headers(request: Request) -> JSONResponse:
    return JSONResponse({"user-agent": request.headers.get("user-agent")})


async def moved(request: Request) -> RedirectResponse:
    return RedirectResponse("/headers", status_code=302)


@pytest.fixture(scope="module")
def tracker() -> Iterator[str]:
    server = BackgroundServer(Starlette(routes=[Route("/headers", headers), Route("/moved", moved),
                                                Route("/slow", IN_FLIGHT.slow)])).start()
    yield server.url
    server.stop()


def run(coro):  # noqa: ANN001, ANN201
    return asyncio.run(coro)


def test_a_service_gets_one_client_for_all_its_calls() -> None:
    pool = ClientPool(transport="httpx")
    assert pool.client("redmine") is pool.client("redmine")


def test_each_service_gets_its_own_client() -> None:
    pool = ClientPool(transport="httpx")
    assert pool.client("redmine") is not pool.client("roundup")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_request_names_the_gateway_as_its_user_agent(tracker: str, transport: str) -> None:
    async def call() -> dict:
        pool = ClientPool(transport=transport)
        try:
            return (await pool.client("t").get(f"{tracker}/headers")).json()
        finally:
            await pool.aclose()
    assert run(call()) == {"user-agent": USER_AGENT}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_redirect_is_answered_not_followed(tracker: str, transport: str) -> None:
    async def call() -> httpx.Response:
        pool = ClientPool(transport=transport)
        try:
            return await pool.client("t").get(f"{tracker}/moved")
        finally:
            await pool.aclose()
    response = run(call())
    assert (response.status_code, response.headers["location"]) == (302, "/headers")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_max_connections_bounds_the_requests_in_flight_to_a_tracker(tracker: str, transport: str) -> None:
    async def calls() -> list[int]:
        pool = ClientPool(max_connections=2, transport=transport)
        try:
            responses = await asyncio.gather(*(pool.client("t").get(f"{tracker}/slow") for _ in range(5)))
            return [r.status_code for r in responses]
        finally:
            await pool.aclose()
    IN_FLIGHT.most = 0
    assert run(calls()) == [200] * 5
    assert IN_FLIGHT.most == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_transport_wrapper_sees_every_downstream_request(tracker: str, transport: str) -> None:
    seen: list[str] = []

    class Tap(httpx.AsyncBaseTransport):
        def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
            self.inner = inner

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request.url.path)
            return await self.inner.handle_async_request(request)

        async def aclose(self) -> None:
            await self.inner.aclose()

    async def call() -> dict:
        pool = ClientPool(transport=transport, wrap_transport=Tap)
        try:
            return (await pool.client("t").get(f"{tracker}/headers")).json()
        finally:
            await pool.aclose()
    assert run(call()) == {"user-agent": USER_AGENT}
    assert seen == ["/headers"]


def test_closing_the_pool_closes_every_client_and_forgets_them() -> None:
    async def close() -> tuple[list[bool], bool]:
        pool = ClientPool(transport="httpx")
        clients = [pool.client("a"), pool.client("b")]
        await pool.aclose()
        fresh = pool.client("a")
        try:
            return [c.is_closed for c in clients], fresh in clients or fresh.is_closed
        finally:
            await pool.aclose()
    assert run(close()) == ([True, True], False)


# -- call limits ----------------------------------------------------------------------------

@pytest.mark.parametrize("limits", [{"max_body": 0}, {"max_calls_per_connection": 0}, {"call_queue_timeout": -0.1}])
def test_call_limits_below_their_minimum_are_refused(limits: dict) -> None:
    with pytest.raises(ValueError, match="invalid downstream limits"):
        CallLimits(**limits)


def test_call_limits_at_their_minimum_are_accepted() -> None:
    assert CallLimits(max_body=1, max_calls_per_connection=1, call_queue_timeout=0) == CallLimits(1, 1, 0)


def test_the_pool_takes_its_call_limits_from_the_settings() -> None:
    settings = Settings(max_downstream_body=1000, max_calls_per_connection=3, call_queue_timeout=0.5)
    pool = ClientPool.from_settings(settings)
    assert pool.limits == CallLimits(max_body=1000, max_calls_per_connection=3, call_queue_timeout=0.5)
    assert (pool.bulkhead.limit, pool.bulkhead.wait) == (3, 0.5)


# Which transport a client runs on is not visible in what a tracker receives (the tests above pass on
# both); the client's transport object is the only witness.

def test_the_default_transport_is_aiohttps() -> None:
    assert isinstance(ClientPool().client("t")._transport, AiohttpTransport)


def test_the_httpx_transport_is_httpxs_own() -> None:
    assert isinstance(ClientPool(transport="httpx").client("t")._transport, httpx.AsyncHTTPTransport)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_pool_takes_its_transport_from_the_settings(transport: str) -> None:
    expected = AiohttpTransport if transport == "aiohttp" else httpx.AsyncHTTPTransport
    assert isinstance(ClientPool.from_settings(Settings(transport=transport)).client("t")._transport, expected)


def test_a_pool_from_the_settings_keeps_the_transport_wrapper(tracker: str) -> None:
    seen: list[str] = []

    def tap(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        class Tap(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                seen.append(request.url.path)
                return await inner.handle_async_request(request)

            async def aclose(self) -> None:
                await inner.aclose()
        return Tap()

    async def call() -> int:
        pool = ClientPool.from_settings(Settings(transport="httpx"), wrap_transport=tap)
        try:
            return (await pool.client("t").get(f"{tracker}/headers")).status_code
        finally:
            await pool.aclose()
    assert run(call()) == 200
    assert seen == ["/headers"]


# -- the bulkhead: slots per connection (more in tests/test_bulkhead.py) ---------------------

def waits_and_refusals(service: str) -> tuple[float, float]:
    sample = metrics.REGISTRY.get_sample_value
    return (sample("unigate_bulkhead_waits_total", {"service": service}) or 0.0,
            sample("unigate_bulkhead_refusals_total", {"service": service}) or 0.0)


def test_a_connection_holds_up_to_its_limit_of_slots_at_once() -> None:
    async def fill() -> tuple[int, bool]:
        bulkhead = Bulkhead(limit=2, wait=0.05)
        await bulkhead.acquire("c1")
        await bulkhead.acquire("c1")
        third = asyncio.create_task(bulkhead.acquire("c1"))
        await asyncio.sleep(0.01)
        waiting = not third.done()
        third.cancel()
        return bulkhead.in_flight("c1"), waiting
    assert run(fill()) == (2, True)


def test_releasing_one_of_several_slots_keeps_the_others() -> None:
    async def release() -> list[int]:
        bulkhead = Bulkhead(limit=3, wait=0.05)
        for _ in range(3):
            await bulkhead.acquire("c1")
        counts = []
        for _ in range(3):
            bulkhead.release("c1")
            counts.append(bulkhead.in_flight("c1"))
        return counts
    assert run(release()) == [2, 1, 0]


def test_a_waiter_cancelled_after_being_handed_the_slot_passes_it_on() -> None:
    async def race() -> tuple[bool, int]:
        bulkhead = Bulkhead(limit=1, wait=5)
        await bulkhead.acquire("c1")
        waiter = asyncio.create_task(bulkhead.acquire("c1"))
        await asyncio.sleep(0)           # the waiter is queued
        bulkhead.release("c1")           # ... and handed the slot
        waiter.cancel()                  # ... but cancelled before it could run
        try:
            await waiter
        except asyncio.CancelledError:
            cancelled = True
        else:
            cancelled = False
        return cancelled, bulkhead.in_flight("c1")
    assert run(race()) == (True, 0)


def test_a_call_refused_at_the_limit_names_its_service_and_is_counted_under_it() -> None:
    async def refused() -> ConnectorRateLimitError:
        pool = ClientPool(limits=CallLimits(max_calls_per_connection=1, call_queue_timeout=0.01))
        async with pool.slot("conn-1", "redmine-bulkhead"):
            with pytest.raises(ConnectorRateLimitError) as caught:
                async with pool.slot("conn-1", "redmine-bulkhead"):
                    pass
        return caught.value
    before = waits_and_refusals("redmine-bulkhead")
    error = run(refused())
    assert error.message == "too many calls to redmine-bulkhead in flight for this connection; retry after 1s"
    assert error.detail == {"reason": "connection_concurrency_limit", "limit": 1, "waited_s": 0.01}
    assert error.headers == {"retry-after": "1"}
    assert waits_and_refusals("redmine-bulkhead") == (before[0] + 1, before[1] + 1)


def test_a_call_refused_without_a_service_names_the_tracker() -> None:
    async def refused() -> ConnectorRateLimitError:
        bulkhead = Bulkhead(limit=1, wait=0.01)
        await bulkhead.acquire("c1")
        with pytest.raises(ConnectorRateLimitError) as caught:
            await bulkhead.acquire("c1")
        return caught.value
    assert run(refused()).message == "too many calls to the tracker in flight for this connection; retry after 1s"
