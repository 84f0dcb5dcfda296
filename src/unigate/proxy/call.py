"""One proxied call: ``/proxy`` -> the connection's tracker, bodies streamed both ways.

The connection is resolved as for the unified API (``resolve_connection``); the downstream URL is
checked against the connection's origin (``unigate.proxy.target``) before anything is opened;
the connection's credentials are injected as its connector's mapping injects them (headers,
query parameters, basic auth: the dispatcher's ``Endpoint``; an ``http.auth`` scheme completes the
request, its body read whole first to be signed: ``unigate.downstream.auth``), unless
``x-apideck-downstream-authorization`` is given, which replaces them (the mapping's other, fixed
headers are still sent).

The call first waits its turn in its tracker account's rate-limit budget (``unigate.downstream.limiter``;
a turn past ``UNIGATE_RATE_LIMIT_WAIT`` is a 429 at once) and its answer teaches the budget; a refusal
is passed back, not queued again (the bodies stream). It holds a slot of the connection's bulkhead
from before it is sent until its answer has been streamed back (or abandoned). Its whole exchange — the request body, the answer's head and
its entire body — must finish within ``x-apideck-timeout`` (or the connection's timeout), and the
answer is read at most ``Endpoint.max_body`` bytes (as on the wire). Until the first
``PREFETCH_BYTES`` of the answer have arrived nothing is sent to the client, so a timeout or an
oversized answer (or one announcing it with ``Content-Length``) before then is a typed error
(``ConnectorExecutionError`` 504 / 502); after that the answer is being streamed and the only
way left to say it failed is to close the connection before its end, which the client sees as a
truncated response (logged as a warning here).

The tracker's answer is passed back as is — status, headers (see ``unigate.proxy.headers``) and
body; redirects are passed back, never followed — with ``request-id`` and, for a 4xx/5xx,
``x-apideck-downstream-error: true``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import httpx
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from unigate.disconnect import until_disconnect
from unigate.downstream.auth import AuthRequest, ConnectionAuth
from unigate.downstream.errors import too_large_error
from unigate.downstream.logfilter import active as active_redactor
from unigate.downstream.models import Endpoint, RawCall
from unigate.downstream.redact import Redactor
from unigate.downstream.send import SendFailure, is_refusal, network_reason
from unigate.errors import (
    ConnectorExecutionError,
    MethodNotAllowedError,
    RequestHeadersValidationError,
    RequestValidationError,
)
from unigate.observability import hooks
from unigate.proxy.headers import (
    METHODS,
    downstream_method,
    forwarded_request_headers,
    returned_response_headers,
    timeout_seconds,
)
from unigate.proxy.target import Refused, resolve_target
from unigate.vault.resolve import resolve_connection

if TYPE_CHECKING:
    from unigate.app import Gateway
    from unigate.downstream.client import DownstreamSession

log = logging.getLogger("unigate.proxy")
PROXY_PATH = "/proxy"
PREFETCH_BYTES = 64 * 1024
DOWNSTREAM_ERROR_HEADER = "x-apideck-downstream-error"
NO_BODY_STATUSES = frozenset({204, 304})


async def proxy(gateway: Gateway, scope: Scope, receive: Receive, method: str, request_id: str) -> Response:
    """The answer to a request for ``/proxy``: the tracker's, or a typed error."""
    if method not in METHODS:
        raise MethodNotAllowedError(method, PROXY_PATH, METHODS)
    # counted and queued for the request log like a unified request (its status: the head sent back)
    seen = hooks.trace(scope, "proxy", method.lower())
    return await until_disconnect(lambda rcv: _call(gateway, scope, rcv, method, request_id, seen), receive)


async def _call(gateway: Gateway, scope: Scope, receive: Receive, method: str, request_id: str,
                seen: hooks.Trace) -> Response:
    header_list = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
    headers = seen.headers = dict(reversed(header_list))  # the first of repeated ones
    unified_api = headers.get("x-apideck-unified-api", "").strip() or "issue-tracking"
    connection = seen.connection = resolve_connection(headers, gateway.store, gateway.registry.connectors,
                                                      unified_api)
    scope["state"]["service_id"] = connection.service_id
    value = headers.get("x-apideck-downstream-url", "").strip()
    if not value:
        raise RequestHeadersValidationError("Missing Header: x-apideck-downstream-url",
                                            "send the URL to call, absolute or relative to the connection's "
                                            "base URL, in x-apideck-downstream-url")
    target_method = downstream_method(headers, method)
    connector = gateway.dispatcher.connector(connection.service_id)
    if gateway.dispatcher.tokens is not None:   # OAuth2: a fresh access token (no retry on 401: the body streams)
        connection = seen.connection = await gateway.dispatcher.tokens.fresh(connector, connection)
    session = seen.session = gateway.dispatcher.session(connector, connection)
    endpoint = session.endpoint
    url = _target(value, endpoint, request_id)
    timeout = timeout_seconds(headers, endpoint.timeout)
    replaced = headers.get("x-apideck-downstream-authorization", "").strip() or None
    url, out_headers = _inject(url, forwarded_request_headers(header_list), endpoint, replaced)
    body = _request_body(receive, headers, out_headers)
    active_redactor.set(endpoint.redactor)  # httpx's own log line of the call (logfilter)
    if session.limit is not None:   # its turn in the tracker account's rate-limit budget (429 past the wait)
        await session.limit.admit(time.monotonic() + session.limit.wait)
    content: AsyncIterator[bytes] | bytes | None = body
    if endpoint.auth is not None and replaced is None:   # http.auth: the scheme completes the request, last
        url, out_headers, content = await _signed(endpoint.auth, target_method, url, out_headers, body)
    return await _send(session, target_method, url, content, out_headers, _Call(
        session.service_id, target_method, url, endpoint, timeout, request_id), headers)


async def _send(session: DownstreamSession, method: str, url: httpx.URL, content: Any,
                out_headers: list[tuple[str, str]], call: _Call, client_headers: Mapping[str, str]) -> Response:
    """The call sent holding a slot of the connection's bulkhead until its answer is streamed back; the answer
    teaches the account's budget (a refusal is passed back, not queued again: the bodies stream)."""
    await session.slot.__aenter__()  # 429 ConnectorRateLimitError when the connection is at its cap
    try:
        request = session.client.build_request(method, url, content=content, headers=_encoded(out_headers),
                                               timeout=call.timeout)
        _identity_unless_asked(request, client_headers)
        response = await call.open(session.client, request, lambda: session.slot.__aexit__(None, None, None))
        session.calls.append(RawCall("proxy", method, str(url.copy_with(query=None)),
                                     parse_qsl(url.query.decode(), keep_blank_values=True), response.status_code,
                                     None, (time.perf_counter() - call.started) * 1000,
                                     request_headers=dict(out_headers), started_at=time.time()))
        if session.limit is not None:
            await session.limit.learn(response.status_code, response.headers, list)
        return response
    except BaseException:
        await session.slot.__aexit__(None, None, None)
        raise


def _target(value: str, endpoint: Endpoint, request_id: str) -> httpx.URL:
    """The URL to call, or a logged 400 when it is not the connection's origin (nothing is opened)."""
    try:
        return resolve_target(value, endpoint.base_url)
    except Refused as exc:
        shown = shown_url(endpoint.redactor, value)
        log.warning("proxy request %s refused: %s; x-apideck-downstream-url: %s", request_id, exc, shown)
        raise RequestValidationError("Downstream URL not allowed",
                                     {"reason": str(exc), "downstream_url": shown}) from None


def shown_url(redactor: Redactor, value: str) -> str:
    """A client's URL for logs and errors: secrets redacted, control characters escaped, cut at 300."""
    try:
        text = redactor.url(value)
    except ValueError:
        text = redactor.text(value)
    return text.encode("unicode_escape").decode("ascii")[:300]


def _inject(url: httpx.URL, headers: list[tuple[str, str]], endpoint: Endpoint,
            authorization: str | None) -> tuple[httpx.URL, list[tuple[str, str]]]:
    """The connection's headers and query parameters added (replacing the client's of the same name);
    with ``authorization``, those carrying a credential are left out and it is sent instead."""
    injected = dict(endpoint.headers)
    query = dict(endpoint.query)
    if authorization is not None:
        secretless = endpoint.redactor.text
        injected = {k: v for k, v in injected.items() if k.lower() != "authorization" and secretless(v) == v}
        query = {k: v for k, v in query.items() if secretless(v) == v}
        injected["authorization"] = authorization
    names = {k.lower() for k in injected}
    headers = [(k, v) for k, v in headers if k not in names] + [(k.lower(), v) for k, v in injected.items()]
    if query:
        kept = [(k, v) for k, v in parse_qsl(url.query.decode("ascii"), keep_blank_values=True) if k not in query]
        url = url.copy_with(query=urlencode([*kept, *query.items()]).encode("ascii"))
    return url, headers


async def _signed(auth: ConnectionAuth, method: str, url: httpx.URL, headers: list[tuple[str, str]],
                  content: AsyncIterator[bytes] | None) -> tuple[httpx.URL, list[tuple[str, str]], bytes | None]:
    """The call as the connection's auth scheme completes it; the body read whole first: it may be signed."""
    body = None if content is None else b"".join([chunk async for chunk in content])
    query = parse_qsl(url.query.decode("ascii"), keep_blank_values=True)
    before = dict(headers)
    request = auth.request(AuthRequest(method, str(url.copy_with(query=None)), list(query), dict(before), body))
    after = {k.lower(): v for k, v in request.headers.items()}
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    headers = [(k, v) for k, v in headers if k in after and k not in changed] + list(changed.items())
    if request.query != query:
        url = url.copy_with(query=urlencode(request.query).encode("ascii"))
    return url, headers, body


def _encoded(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Bytes as they came (the client's were read as latin-1); httpx would encode a str as ASCII only."""
    return [(k.encode("latin-1"), _latin1_or_utf8(v)) for k, v in headers]


def _latin1_or_utf8(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:  # a connection's own value beyond latin-1
        return value.encode("utf-8")


def _identity_unless_asked(request: httpx.Request, client_headers: Mapping[str, str]) -> None:
    """The answer goes back byte for byte: compressed only if the client said it accepts that."""
    if "accept-encoding" not in client_headers:
        request.headers["accept-encoding"] = "identity"


def _request_body(receive: Receive, client_headers: Mapping[str, str],
                  out_headers: list[tuple[str, str]]) -> AsyncIterator[bytes] | None:
    """The client's body as it arrives (``None`` when it sends none); its length passed on when declared."""
    declared = client_headers.get("content-length", "").strip()
    if not declared and "transfer-encoding" not in client_headers:
        return None
    if declared.isascii() and declared.isdigit():
        out_headers.append(("content-length", str(int(declared))))
    return _read(receive)


async def _read(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


class _Call:
    """The downstream exchange of one proxied request and the typed errors before its answer starts."""

    def __init__(self, service_id: str, method: str, url: httpx.URL, endpoint: Endpoint, timeout: float,
                 request_id: str) -> None:
        self.service_id, self.method, self.url, self.endpoint = service_id, method, url, endpoint
        self.timeout, self.request_id = timeout, request_id
        self.shown = endpoint.redactor.url(str(url))
        self.started = time.perf_counter()
        self.deadline = asyncio.get_running_loop().time() + timeout

    async def open(self, client: httpx.AsyncClient, request: httpx.Request, release: Any) -> Response:
        response: httpx.Response | None = None
        try:
            async with asyncio.timeout_at(self.deadline):
                response = await client.send(request, stream=True)
                chunks, rest = await self._prefetch(response)
        except BaseException as exc:  # noqa: BLE001 - closes the response, then re-raises as a typed error
            if response is not None:
                await response.aclose()
            raise self._error(exc) from None
        log.info("proxy %s %s %s %s -> %s in %.1f ms (head)", self.request_id, self.service_id, self.method,
                 self.shown, response.status_code, (time.perf_counter() - self.started) * 1000)
        return ProxyResponse(self, response, chunks, rest, release)

    async def _prefetch(self, response: httpx.Response) -> tuple[list[bytes], AsyncIterator[bytes] | None]:
        """The answer's first ``PREFETCH_BYTES`` (or all of it: then no rest), within the size cap."""
        limit = self.endpoint.max_body
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise SendFailure("response_too_large", status=response.status_code, size=int(declared), declared=True)
        chunks: list[bytes] = []
        size = 0
        stream = response.aiter_raw()
        async for chunk in stream:
            size += len(chunk)
            if size > limit:
                raise SendFailure("response_too_large", status=response.status_code, size=size)
            chunks.append(chunk)
            if size >= PREFETCH_BYTES:
                return chunks, stream
        return chunks, None

    def _error(self, exc: BaseException) -> BaseException:
        detail: dict[str, Any] = {"method": self.method, "url": self.shown}
        if isinstance(exc, SendFailure):
            return too_large_error(self.service_id, self.endpoint.max_body, exc, detail)
        if isinstance(exc, TimeoutError) or (isinstance(exc, httpx.TimeoutException) and not is_refusal(exc)):
            return ConnectorExecutionError(f"{self.service_id} did not answer within {self.timeout * 1000:g} ms",
                                           {**detail, "reason": "timeout", "timeout_ms": round(self.timeout * 1000)},
                                           status_code=504)
        if isinstance(exc, (httpx.TransportError, OSError)):
            reason = self.endpoint.redactor.text(network_reason(exc))
            return ConnectorExecutionError(f"could not reach {self.service_id}: {reason}",
                                           {**detail, "reason": reason}, status_code=502)
        return exc

    def abandoned(self, why: str, sent: int) -> None:
        log.warning("proxy request %s: %s's answer to %s %s was cut off after %d bytes: %s", self.request_id,
                    self.service_id, self.method, self.shown, sent, why)


class ProxyResponse(Response):
    """The tracker's answer, streamed to the client; the downstream response is closed and the
    connection's bulkhead slot released when it is done (or the client has gone)."""

    def __init__(self, call: _Call, upstream: httpx.Response, chunks: list[bytes],
                 rest: AsyncIterator[bytes] | None, release: Any) -> None:
        self.status_code = upstream.status_code
        self.background = None
        self._call, self._upstream, self._chunks, self._rest, self._release = call, upstream, chunks, rest, release
        headers = [(k, v) for k, v in returned_response_headers(
            (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in upstream.headers.raw)
            if not k.startswith("x-apideck-") and k != "request-id"]
        if self.status_code not in NO_BODY_STATUSES:
            length = sum(map(len, chunks)) if rest is None else _declared_length(upstream)
            if length is not None:
                headers.append(("content-length", str(length)))
        headers.append(("request-id", call.request_id))
        if self.status_code >= 400:
            headers.append((DOWNSTREAM_ERROR_HEADER, "true"))
        self.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            pump = asyncio.ensure_future(self._pump(send))
            gone = asyncio.ensure_future(_client_gone(receive))
            try:
                await asyncio.wait({pump, gone}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (pump, gone):
                    task.cancel()
                await asyncio.gather(pump, gone, return_exceptions=True)
            if not pump.cancelled() and pump.exception() is not None:
                raise pump.exception()  # type: ignore[misc]
        finally:
            await self._upstream.aclose()
            await self._release()

    async def _pump(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if self.status_code in NO_BODY_STATUSES:
            await send({"type": "http.response.body", "body": b""})
            return
        sent = 0
        for chunk in self._chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            sent += len(chunk)
        if self._rest is not None:
            call, limit = self._call, self._call.endpoint.max_body
            try:
                async with asyncio.timeout_at(call.deadline):
                    async for chunk in self._rest:
                        if sent + len(chunk) > limit:
                            call.abandoned(f"it exceeded {limit} bytes", sent)
                            return  # the response left incomplete: the server closes the connection
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                        sent += len(chunk)
            except TimeoutError:
                call.abandoned(f"the call's {call.timeout * 1000:g} ms ran out", sent)
                return
            except (httpx.TransportError, OSError) as exc:
                call.abandoned(call.endpoint.redactor.text(network_reason(exc)), sent)
                return
        await send({"type": "http.response.body", "body": b""})


def _declared_length(response: httpx.Response) -> int | None:
    declared = response.headers.get("content-length", "")
    return int(declared) if declared.isascii() and declared.isdigit() else None


async def _client_gone(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
