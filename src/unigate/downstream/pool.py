"""``ClientPool``: one pooled HTTP client per service, shared by all its connections, keeping nothing.

A client is shared by every connection of a service (every tenant), so it must not remember
anything one tenant's tracker told it: both cookie jars are off — httpx's (``_NoCookies``) and,
under the aiohttp transport, aiohttp's (``DummyCookieJar``). Redmine, for one, sets a session
cookie on every API response; kept, it would ride along on the next tenant's requests to the same
host. A connector that authenticates with a cookie sends it as a ``Cookie`` header from the
connection's credentials, per request.

The transport is aiohttp's, through httpx-aiohttp (``bench/transport.py``: 4.3x the default
transport's throughput at 32 clients); ``UNIGATE_TRANSPORT=httpx`` uses httpx's own.
``wrap_transport`` puts a layer between every client and the network: the only place the
gateway's downstream traffic passes, so test cassettes (``unigate.testing.cassettes``) record
and replay exactly that traffic and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

USER_AGENT = "unigate/0.1 (+https://github.com/unigate)"


class _NoCookies(httpx.Cookies):
    """A cookie store that stores nothing: what a response sets is dropped, nothing is sent."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        return None


class CookielessClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` whose cookie store stores nothing."""

    _no_cookies = _NoCookies()

    @property  # type: ignore[override]
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:  # httpx.AsyncClient.__init__ sets _cookies directly
        return None


def _aiohttp_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    import aiohttp  # imported on first use: aiohttp costs ~0.25 s of start-up
    from httpx_aiohttp import AiohttpTransport

    def session() -> aiohttp.ClientSession:  # called in the event loop, on the first request
        connector = aiohttp.TCPConnector(limit=limits.max_connections or 0,
                                         keepalive_timeout=limits.keepalive_expiry or 5.0,
                                         ssl=httpx.create_ssl_context())
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    return AiohttpTransport(limits=limits, client=session)


TransportWrapper = Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]


class ClientPool:
    """One cookie-less ``httpx.AsyncClient`` per service id, created on first use, closed with the app."""

    def __init__(self, *, max_connections: int = 200, transport: str = "aiohttp",
                 wrap_transport: TransportWrapper | None = None) -> None:
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._transport = transport
        self._wrap = wrap_transport

    def _network(self) -> httpx.AsyncBaseTransport | None:
        if self._transport == "aiohttp":
            transport: httpx.AsyncBaseTransport | None = _aiohttp_transport(self._limits)
        else:
            transport = httpx.AsyncHTTPTransport(limits=self._limits) if self._wrap else None
        return self._wrap(transport) if self._wrap and transport is not None else transport

    def client(self, service_id: str) -> httpx.AsyncClient:
        client = self._clients.get(service_id)
        if client is None:
            transport = self._network()
            client = CookielessClient(transport=transport, limits=self._limits, headers={"user-agent": USER_AGENT},
                                       follow_redirects=False)
            self._clients[service_id] = client
        return client

    def warm_up(self) -> None:
        """Import the transport now (call in a thread at start-up) rather than in the first request."""
        if self._transport == "aiohttp":
            import httpx_aiohttp  # noqa: F401

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
