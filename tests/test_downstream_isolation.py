"""Downstream clients are shared by every connection of a service: they keep nothing between calls."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from unigate.downstream.pool import ClientPool
from unigate.simulation import BackgroundServer


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


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_a_cookie_set_for_one_call_is_not_sent_with_the_next(tracker: BackgroundServer, transport: str) -> None:
    async def calls() -> dict:
        pool = ClientPool(transport=transport)
        client = pool.client("tracker")
        try:
            first = await client.get(f"{tracker.url}/login")
            assert "tenant-a-secret" in first.headers.get("set-cookie", "")
            return (await client.get(f"{tracker.url}/echo")).json()
        finally:
            await pool.aclose()

    assert asyncio.run(calls()) == {"cookie": None}


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_an_explicit_cookie_header_is_still_sent(tracker: BackgroundServer, transport: str) -> None:
    async def calls() -> dict:
        pool = ClientPool(transport=transport)
        try:
            return (await pool.client("tracker").get(f"{tracker.url}/echo", headers={"cookie": "token=t"})).json()
        finally:
            await pool.aclose()

    assert asyncio.run(calls()) == {"cookie": "token=t"}
