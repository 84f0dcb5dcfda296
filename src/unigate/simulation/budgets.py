"""Trackers' rate limits, simulated: ``RateLimited(app, policy)`` enforces a budget in front of any
simulator (an ASGI wrapper; ``/__sim`` control paths are never limited).

Policies (each counts what it admitted and refused, for tests to check the tracker's side):

- :class:`FixedWindow`: ``limit`` requests per ``window`` seconds, windows aligned on the clock
  (as a counter per time bucket is); every answer carries ``x-ratelimit-limit``, ``-remaining`` and
  ``-reset`` (a Unix time, whole seconds up); past the limit: 429 with ``Retry-After`` (unless
  ``retry_after=False``) — GitHub's and GitLab's primary limits;
- :class:`LeakyBucket`: a bucket of ``capacity`` requests leaking ``rate`` per second; a request that
  does not fit is refused 429 with ``Retry-After`` (whole seconds until one fits) and no quota
  headers: the budget is learned from refusals alone;
- :class:`SecondaryLimit`: at most ``limit`` requests per sliding ``window`` seconds, refused with
  ``status`` (GitHub: 403) and a message naming the limit, **without** ``Retry-After`` or quota
  headers — GitHub's secondary limits, where the client must pick its own wait.

``GET /__budget`` answers the policy's counts, ``{"admitted": n, "refused": n}`` (for a tracker in
another process).
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from unigate.simulation.control import CONTROL_PREFIX

COUNTS_PATH = "/__budget"


@dataclass
class Verdict:
    """A request admitted (``status`` None) with ``headers`` added to its answer, or refused with ``status``."""

    headers: dict[str, str]
    status: int | None = None
    message: str = ""


class Policy(Protocol):
    admitted: int
    refused: int

    def admit(self, now: float) -> Verdict: ...


@dataclass
class FixedWindow:
    limit: int
    window: float = 1.0
    retry_after: bool = True
    admitted: int = 0
    refused: int = 0
    started: float = -1.0
    used: int = 0

    def admit(self, now: float) -> Verdict:
        start = math.floor(now / self.window) * self.window
        if start != self.started:
            self.started, self.used = start, 0
        self.used += 1
        ends = start + self.window
        headers = {"x-ratelimit-limit": str(self.limit), "x-ratelimit-remaining": str(max(self.limit - self.used, 0)),
                   "x-ratelimit-reset": str(math.ceil(ends))}
        if self.used <= self.limit:
            self.admitted += 1
            return Verdict(headers)
        self.refused += 1
        if self.retry_after:
            headers["retry-after"] = str(max(1, math.ceil(ends - now)))
        return Verdict(headers, 429, "API rate limit exceeded")


@dataclass
class LeakyBucket:
    capacity: int
    rate: float
    admitted: int = 0
    refused: int = 0
    level: float = 0.0
    last: float = 0.0

    def admit(self, now: float) -> Verdict:
        self.level = max(0.0, self.level - (now - self.last) * self.rate) if self.last else 0.0
        self.last = now
        if self.level + 1 <= self.capacity:
            self.level += 1
            self.admitted += 1
            return Verdict({})
        self.refused += 1
        wait = max(1, math.ceil((self.level + 1 - self.capacity) / self.rate))
        return Verdict({"retry-after": str(wait)}, 429, "Exceeded the bucket's capacity")


@dataclass
class SecondaryLimit:
    limit: int
    window: float = 1.0
    status: int = 403
    admitted: int = 0
    refused: int = 0
    times: deque[float] = field(default_factory=deque)

    def admit(self, now: float) -> Verdict:
        while self.times and now - self.times[0] >= self.window:
            self.times.popleft()
        if len(self.times) >= self.limit:
            self.refused += 1
            return Verdict({}, self.status, "You have exceeded a secondary rate limit. Please wait a few minutes "
                                            "before you try again.")
        self.times.append(now)
        self.admitted += 1
        return Verdict({})


class RateLimited:
    """``app`` behind ``policy``: refused requests never reach it; admitted ones get the policy's headers."""

    def __init__(self, app: ASGIApp, policy: Policy) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        if scope["path"] == COUNTS_PATH:
            await _answer(send, 200, {"admitted": self.policy.admitted, "refused": self.policy.refused}, [])
            return
        verdict = self.policy.admit(time.time())
        extra = [(k.encode(), v.encode()) for k, v in verdict.headers.items()]
        if verdict.status is not None:
            await _answer(send, verdict.status, {"message": verdict.message}, extra)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


async def _answer(send: Send, status: int, body: object, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), *headers]})
    await send({"type": "http.response.body", "body": orjson.dumps(body)})
