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

The pool also holds the limits every call obeys (``CallLimits``, from ``Settings``): the largest
answer read from a tracker, and the **bulkhead** — at most ``max_calls_per_connection`` calls of
one connection in flight at once, so one tenant's hanging tracker holds at most that share of
its service's client (``max_connections`` 200) and other tenants of the service are unaffected.
A call finding its connection at the cap waits up to ``call_queue_timeout`` seconds for a slot,
then fails with ``ConnectorRateLimitError`` (429, ``Retry-After: 1``), no downstream call made.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from unigate.downstream.limiter import DEFAULT_WAIT, QUEUE_WAIT, AccountLimit, Budgets, MemoryBudgets, budgets_from_url
from unigate.errors import ConnectorRateLimitError
from unigate.mapping.spec import RateLimitSpec
from unigate.observability import metrics

if TYPE_CHECKING:
    from unigate.settings import Settings

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

    @property
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


@dataclass(frozen=True)
class CallLimits:
    """What every downstream call obeys; the defaults are ``Settings``'."""

    max_body: int = 32 * 1024 * 1024       # bytes of one answer (decoded) read at most
    max_calls_per_connection: int = 16     # calls of one connection in flight at once
    call_queue_timeout: float = 5.0        # seconds a call waits for a slot of its connection

    def __post_init__(self) -> None:
        if self.max_body < 1 or self.max_calls_per_connection < 1 or self.call_queue_timeout < 0:
            raise ValueError(f"invalid downstream limits: {self}")

    @classmethod
    def from_settings(cls, settings: Settings) -> CallLimits:
        return cls(settings.max_downstream_body, settings.max_calls_per_connection, settings.call_queue_timeout)


@dataclass
class _Slots:
    in_flight: int = 0
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)


class Bulkhead:
    """At most ``limit`` calls in flight per key (connection id); the others wait their turn, in order,
    up to ``wait`` seconds. Keys with nothing in flight are forgotten."""

    def __init__(self, limit: int, wait: float) -> None:
        self.limit = limit
        self.wait = wait
        self._slots: dict[str, _Slots] = {}

    def in_flight(self, key: str) -> int:
        slots = self._slots.get(key)
        return slots.in_flight if slots else 0

    async def acquire(self, key: str, service_id: str = "") -> None:
        slots = self._slots.get(key)
        if slots is None:
            slots = self._slots[key] = _Slots()
        if slots.in_flight < self.limit and not slots.waiters:
            slots.in_flight += 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        slots.waiters.append(turn)
        metrics.bulkhead_wait(service_id)
        try:
            async with asyncio.timeout(self.wait):
                await turn
        except BaseException as exc:
            if turn.done() and not turn.cancelled():
                self.release(key)  # handed a slot just as we gave up: pass it on
            else:
                turn.cancel()
                with contextlib.suppress(ValueError):
                    slots.waiters.remove(turn)
            if isinstance(exc, TimeoutError):
                metrics.bulkhead_refusal(service_id)
                raise ConnectorRateLimitError(
                    f"too many calls to {service_id or 'the tracker'} in flight for this connection; "
                    f"retry after 1s",
                    {"reason": "connection_concurrency_limit", "limit": self.limit, "waited_s": self.wait},
                    headers={"retry-after": "1"},
                ) from None
            raise

    def release(self, key: str) -> None:
        slots = self._slots[key]
        while slots.waiters:
            turn = slots.waiters.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot passes to the next waiter; in_flight unchanged
                return
        slots.in_flight -= 1
        if slots.in_flight == 0:
            del self._slots[key]


@dataclass(frozen=True)
class ConnectionSlot:
    """``async with`` one call of one connection: a slot of the pool's bulkhead held meanwhile."""

    bulkhead: Bulkhead
    key: str
    service_id: str

    async def __aenter__(self) -> None:
        await self.bulkhead.acquire(self.key, self.service_id)

    async def __aexit__(self, *exc: object) -> None:
        self.bulkhead.release(self.key)


class ClientPool:
    """One cookie-less ``httpx.AsyncClient`` per service id, created on first use, closed with the app."""

    def __init__(self, *, max_connections: int = 200, transport: str = "aiohttp",
                 wrap_transport: TransportWrapper | None = None, limits: CallLimits | None = None,
                 budgets: Budgets | None = None, rate_limit_wait: float = DEFAULT_WAIT) -> None:
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._transport = transport
        self._wrap = wrap_transport
        self.limits = limits or CallLimits()
        self.bulkhead = Bulkhead(self.limits.max_calls_per_connection, self.limits.call_queue_timeout)
        self.budgets = budgets if budgets is not None else MemoryBudgets()   # tracker accounts' rate limits
        self.rate_limit_wait = rate_limit_wait

    @classmethod
    def from_settings(cls, settings: Settings, *, wrap_transport: TransportWrapper | None = None) -> ClientPool:
        return cls(transport=settings.transport, wrap_transport=wrap_transport,
                   limits=CallLimits.from_settings(settings),
                   budgets=budgets_from_url(settings.redis_url, settings.redis_prefix),
                   rate_limit_wait=settings.rate_limit_wait)

    def slot(self, connection_id: str, service_id: str) -> ConnectionSlot:
        """The bulkhead slot one call of ``connection_id`` holds while in flight."""
        return ConnectionSlot(self.bulkhead, connection_id, service_id)

    def account_limit(self, account: str, service_id: str, spec: RateLimitSpec | None) -> AccountLimit:
        """The rate-limit budget of the tracker account ``account`` one session's calls spend."""
        wait = QUEUE_WAIT.get()
        return AccountLimit(self.budgets, account, service_id, spec, self.rate_limit_wait if wait is None else wait)

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
        await self.budgets.aclose()
