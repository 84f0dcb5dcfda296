"""One send: a call's request out and its whole answer in, bounded in time and size.

:func:`send_once` makes one attempt; every way it can fail without an answer is one
:class:`SendFailure` whose ``kind`` says which (``timeout``, ``connection``, ``response_too_large``):
retrying (``unigate.downstream.retry``) and typed errors (``unigate.downstream.errors``) read it.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson


@dataclass(frozen=True)
class Outgoing:
    """One call as sent, the same for each of its attempts."""

    call_id: str
    method: str
    url: str                       # without the query
    query: list[tuple[str, str]]
    target: str                    # the URL with its query, encoded
    headers: dict[str, str]
    content: bytes | None


def target_of(url: str, query: list[tuple[str, str]]) -> str:
    """The URL with its query encoded as httpx would (quote_plus): httpx's own params merging costs more."""
    return f"{url}?{urlencode(query)}" if query else url


@dataclass
class Answer:
    response: httpx.Response  # closed; its body was read into ``body``
    body: bytes


class SendFailure(Exception):
    """No answer: ``timeout`` (the call's deadline, or a read timeout), ``connection`` (refused,
    unreachable, dropped) or ``response_too_large`` (``status`` and ``size`` of the refused answer)."""

    def __init__(self, kind: str, cause: BaseException | None = None, *, status: int | None = None,
                 size: int = 0, declared: bool = False) -> None:
        super().__init__(kind)
        self.kind, self.cause = kind, cause
        self.status, self.size, self.declared = status, size, declared


async def send_once(client: httpx.AsyncClient, out: Outgoing, timeout: float, max_body: int) -> Answer:
    """Send ``out`` and read its answer, all of it within ``timeout`` and at most ``max_body`` bytes."""
    try:
        return await _exchange(client, out, timeout, max_body)
    except TimeoutError as exc:  # the whole call's deadline (before OSError: TimeoutError is one)
        raise SendFailure("timeout", exc) from None
    except httpx.TimeoutException as exc:
        raise SendFailure("connection" if is_refusal(exc) else "timeout", exc) from None
    except (httpx.TransportError, OSError) as exc:
        raise SendFailure("connection", exc) from None


async def _exchange(client: httpx.AsyncClient, out: Outgoing, timeout: float, max_body: int) -> Answer:
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            request = client.build_request(out.method, out.target, content=out.content, headers=out.headers,
                                           timeout=timeout)
            response = await client.send(request, stream=True)
            try:
                return Answer(response, await read_capped(response, max_body))
            finally:
                await response.aclose()  # unread (too large, cut off): the connection is closed, not reused
                # httpx's stream wrapper and the response refer to each other: a cycle holding the
                # response, its request and the transport's (aiohttp's) objects, ~40 objects a call
                # left to the cyclic garbage collector. Cut, they go when the call's last user does.
                response.stream = _CLOSED
    except (httpx.TransportError, OSError) as exc:
        if deadline.expired():  # a transport that turned the deadline's cancellation into its own error
            raise TimeoutError from exc
        raise


async def read_capped(response: httpx.Response, limit: int) -> bytes:
    """The body, decoded, if it is at most ``limit`` bytes; nothing past the limit is kept."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise SendFailure("response_too_large", status=response.status_code, size=int(declared), declared=True)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            chunks.clear()  # not kept alive by the error's traceback
            raise SendFailure("response_too_large", status=response.status_code, size=size)
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


_CLOSED = httpx.ByteStream(b"")  # what a read, closed response's stream is replaced with


class _Invalid:
    pass


INVALID_JSON: Any = _Invalid()


def parse_body(raw: bytes) -> Any:
    """The answer's JSON; ``None`` for an empty body, ``INVALID_JSON`` for one that is not JSON."""
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return INVALID_JSON


def is_refusal(exc: httpx.TimeoutException) -> bool:
    """httpx-aiohttp reports a refused connection as ConnectTimeout; its cause tells them apart."""
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is None:
        return False
    cause = exc.__cause__
    return isinstance(cause, aiohttp.ClientConnectorError) and not isinstance(cause, aiohttp.ServerTimeoutError)


def network_reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)) or "refused" in text.lower():
        return f"connection refused or host unreachable ({text})"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        return f"the connection was closed before the response was complete ({text})"
    return text
