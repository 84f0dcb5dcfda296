"""Downstream rate-limit governance: calls wait their turn within a tracker account's budget.

Every call of a connection is counted against its tracker **account**: the service, the base URL and
a fingerprint of what authenticates the calls (a keyed hash of the rendered auth headers and query:
never the secret itself), so connections sharing one token share one budget. Before a call is sent
it reserves its send time (``unigate.downstream.budget``): now, or after the window's reset or a
refusal's wait; it waits (asynchronously, first come first served) when that time is within its
**wait budget** (``UNIGATE_RATE_LIMIT_WAIT``, 10 s by default, counted from the call's first try),
and is refused at once otherwise with ``ConnectorRateLimitError`` (429, ``Retry-After``: the wait
it would have needed, and the budget's ``x-downstream-ratelimit-*``). Each answer teaches the budget
(the manifest's ``http.rate_limit`` headers; a refusal's ``Retry-After``, reset or ``default_wait``);
a refused call is queued again while its wait fits its budget, so clients see a slower answer
instead of a 429.

Where the budget lives: with ``UNIGATE_REDIS_URL`` in Redis (``RedisBudgets``), shared by every
process and replica using that Redis: one Lua script per reservation and per answer, so each is one
atomic round trip (redis-py's asyncio client; no lock, no read-modify-write race). Without it, in
this process only (``MemoryBudgets``): right for one process; several processes then each spend the
whole budget.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

from unigate.downstream.budget import MARGIN, Budget, Observation, headers_of, learn, number, reserve, reset_time
from unigate.downstream.ratelimit import refusal_wait
from unigate.errors import ConnectorRateLimitError
from unigate.mapping.spec import RateLimitSpec
from unigate.observability import metrics

log = logging.getLogger("unigate.downstream")

DEFAULT_WAIT = 10.0        # seconds a call may wait for its turn (UNIGATE_RATE_LIMIT_WAIT)
UNSAID_WAIT = 1.0          # a refusal that says nothing of when to come back (no manifest rate_limit)
LEAST_WAIT = 0.25          # a refusal blocks the account at least this long (Retry-After: 0 is no licence to hammer)


# a wait budget other than UNIGATE_RATE_LIMIT_WAIT for the calls made in this context (the webhook poller: 0)
QUEUE_WAIT: ContextVar[float | None] = ContextVar("unigate_rate_limit_wait", default=None)


class Budgets(Protocol):
    async def reserve(self, key: str, now: float, max_wait: float) -> tuple[bool, float, Budget]: ...

    async def learn(self, key: str, now: float, seen: Observation) -> None: ...

    async def aclose(self) -> None: ...


class MemoryBudgets:
    """The budgets in this process (no ``UNIGATE_REDIS_URL``): one process's calls only."""

    def __init__(self) -> None:
        self._budgets: dict[str, Budget] = {}

    async def reserve(self, key: str, now: float, max_wait: float) -> tuple[bool, float, Budget]:
        budget = self._budgets.setdefault(key, {})
        fits, wait = reserve(budget, now, max_wait)
        return fits, wait, dict(budget)

    async def learn(self, key: str, now: float, seen: Observation) -> None:
        learn(self._budgets.setdefault(key, {}), now, seen)

    def forget(self) -> None:
        """Forget everything learned (tests: each starts with a tracker it knows nothing of)."""
        self._budgets.clear()

    async def aclose(self) -> None:
        return None


def account_key(service_id: str, base_url: str, headers: dict[str, str], query: dict[str, str],
                salt: bytes) -> str:
    """The tracker account a connection's calls count against: service, base URL and a keyed hash of
    the headers and query every call carries (its credentials rendered), never the secrets themselves."""
    material = repr((sorted((k.lower(), v) for k, v in headers.items()), sorted(query.items()))).encode()
    fingerprint = hmac.new(salt, material, hashlib.sha256).hexdigest()[:24]
    return f"{service_id}|{base_url.rstrip('/')}|{fingerprint}"


@dataclass
class AccountLimit:
    """One session's view of its account's budget: ``admit`` before each send, ``learn`` after it."""

    budgets: Budgets
    key: str
    service_id: str
    spec: RateLimitSpec | None
    wait: float = DEFAULT_WAIT
    seen: Budget = field(default_factory=dict)   # the budget as of this session's last reservation

    async def admit(self, deadline: float) -> None:
        """Wait for this call's turn; ``ConnectorRateLimitError`` when it comes after ``deadline``
        (``time.monotonic()``), without waiting."""
        now = time.time()
        try:
            fits, wait, self.seen = await self.budgets.reserve(self.key, now, max(0.0, deadline - time.monotonic()))
        except Exception as exc:  # noqa: BLE001 - the budget store is down: calls go on unqueued
            return _store_failed(self.service_id, exc)
        if not fits:
            metrics.rate_limit_refused(self.service_id)
            raise _refusal(self.service_id, wait, self.wait, headers_of(self.seen, now))
        if wait > 0:
            metrics.rate_limit_queued(self.service_id, wait)
            await asyncio.sleep(wait)

    async def learn(self, status: int, headers: Mapping[str, str], messages: Callable[[], list[str]]) -> float | None:
        """Fold the answer into the budget; the seconds to wait when it refused the call for the rate limit."""
        now = time.time()
        seen = observe(self.spec, status, headers, now, messages)
        if seen.limit is None and seen.remaining is None and seen.wait is None:
            return None
        try:
            await self.budgets.learn(self.key, now, seen)
        except Exception as exc:  # noqa: BLE001
            _store_failed(self.service_id, exc)
        return seen.wait


def observe(spec: RateLimitSpec | None, status: int, headers: Mapping[str, str], now: float,
            messages: Callable[[], list[str]]) -> Observation:
    """What an answer says of the budget: the manifest's quota headers, and whether (and how long) it
    refused the call for the rate limit (``unigate.downstream.ratelimit.refusal_wait``)."""
    wait = None
    if status == 429 or (spec is not None and status in spec.statuses):
        said = refusal_wait(spec, status, headers, messages() if status != 429 else [], now)
        seconds = number(said)   # None: no wait said, or an HTTP date
        if said is not None or status == 429:
            wait = max(LEAST_WAIT, seconds if seconds is not None else UNSAID_WAIT)
    if spec is None:
        return Observation(wait=wait)
    remaining = number(headers.get(spec.remaining)) if spec.remaining else None
    reset = reset_time(headers.get(spec.reset), now) if spec.reset else None
    if wait is not None and remaining == 0 and reset is not None and reset < now + wait:
        # the quota's window ends before the (whole-second) Retry-After, or ended while the answer came back
        wait = max(0.0, reset - now) + MARGIN
    return Observation(number(headers.get(spec.limit)) if spec.limit else None, remaining, reset, wait)


def _refusal(service_id: str, wait: float, budget: float, headers: dict[str, str]) -> ConnectorRateLimitError:
    retry_after = str(max(1, math.ceil(wait)))
    return ConnectorRateLimitError(
        f"{service_id} is rate limiting requests; its next turn for this account is in {wait:.1f}s, past the "
        f"{budget:g}s a call may wait; retry after {retry_after}s",
        {"reason": "downstream_rate_limit", "wait_s": round(wait, 3), "wait_budget_s": budget},
        headers={"retry-after": retry_after, **headers})


def _store_failed(service_id: str, exc: Exception) -> None:
    metrics.rate_limit_store_error(service_id)
    log.warning("rate-limit budget store failed (%s); the call goes on unqueued", type(exc).__name__)


def budgets_from_url(url: str | None, prefix: str = "unigate:budget:") -> Budgets:
    """``RedisBudgets`` for a ``redis://`` URL, else ``MemoryBudgets``."""
    if not url:
        return MemoryBudgets()
    from unigate.downstream.limiter_redis import RedisBudgets

    return RedisBudgets(url, prefix)

