"""``DownstreamSession``: one unified request's downstream calls, with typed errors.

The clients come from ``unigate.downstream.pool.ClientPool`` (one per service, cookie-less,
httpx over aiohttp). A ``DownstreamSession`` is one unified request's view of a connection: base URL and auth
headers rendered from the connection's settings and credentials, the calls made (for ``raw``
and logs), and the conversion of every failure into a typed error:

- downstream 4xx/5xx -> ``ConnectorExecutionError`` (status: the downstream 4xx, or 502 for a
  5xx) with ``downstream_errors`` read from the body by the mapping's ``http.errors`` paths;
  401 -> ``ConnectorCredentialsError`` (the stored credentials need attention);
  404 -> ``EntityNotFoundError`` (every unified operation addresses a collection, ticket, comment
  or user: a tracker's 404 says it does not exist), same ``detail`` and ``downstream_errors``;
  429 -> ``ConnectorRateLimitError`` with ``Retry-After`` passed on;
- refused connection, DNS failure, dropped connection, invalid JSON -> ``ConnectorExecutionError``
  502; timeout -> ``ConnectorExecutionError`` 504;
- a redirect (3xx) is never followed and never a success: to a sign-in page (login, signin, sso,
  auth, saml, oauth in the Location's host or path) -> ``ConnectorCredentialsError`` 401, elsewhere
  -> ``ConnectorExecutionError`` 502. Credentials therefore never travel to another origin.

Every call is bounded: its whole exchange (connect, headers and the entire body) must finish
within the connection's timeout — httpx's own timeouts are per phase, so a tracker dripping a
byte at a time would otherwise hold the call forever — and the body is streamed and read up to
``Endpoint.max_body`` bytes (decoded): past that, or when ``Content-Length`` announces more, the
connection is closed and the call fails with ``ConnectorExecutionError`` 502. A call holds a slot of
its connection's bulkhead while in flight (``unigate.downstream.pool``). When the unified request
is cancelled (its client went away) the call is cancelled with it and its connection closed.

Idempotent calls (GET) are retried once after a connection failure, a 500/502/503/504, or a 429 whose
``Retry-After`` is at most one second.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson

from unigate.downstream.logfilter import active as active_redactor
from unigate.downstream.redact import Redactor
from unigate.errors import (
    ConnectorCredentialsError,
    ConnectorExecutionError,
    ConnectorRateLimitError,
    EntityNotFoundError,
)
from unigate.mapping.paths import MISSING, compile_path
from unigate.observability import metrics, tracing

log = logging.getLogger("unigate.downstream")
RETRY_STATUSES = frozenset({500, 502, 503, 504})
DEFAULT_MAX_BODY = 32 * 1024 * 1024
# a redirect whose Location (host or path, '-' and '_' removed) contains one of these goes to a sign-in page
SIGN_IN_WORDS = ("login", "signin", "sso", "auth", "saml", "oauth")
_NO_SLOT: AbstractAsyncContextManager[Any] = nullcontext()
CAPTURE_BYTES = 9 * 1024  # of each body, for the request log (which cuts at 8 KB once redacted)


@dataclass
class RawCall:
    """One downstream call as made (``_raw``, the request log, metrics). Nothing here is redacted:
    whoever shows it redacts it with the session's ``Redactor``; bodies are kept up to ``CAPTURE_BYTES``."""

    call_id: str
    method: str
    url: str
    query: list[tuple[str, str]]
    status_code: int | None
    body: Any
    duration_ms: float
    request_headers: dict[str, str] | None = None
    request_body: bytes | None = None
    response_headers: httpx.Headers | None = None
    response_excerpt: bytes | None = None  # the first CAPTURE_BYTES of the answer's body
    response_size: int | None = None
    retries: int = 0                        # earlier attempts of this call
    error: str | None = None                # no answer: timeout, connection, response_too_large
    started_at: float = 0.0                 # time.time()

    @property
    def full_url(self) -> str:
        return str(httpx.URL(self.url, params=self.query)) if self.query else self.url


@dataclass
class DownstreamResponse:
    status_code: int
    headers: httpx.Headers
    body: Any


@dataclass
class ErrorPaths:
    message: list[str]
    code: list[str]
    detail: list[str]


@dataclass(frozen=True)
class Endpoint:
    """What every call of one connection shares, rendered once per connection revision."""

    base_url: str
    headers: dict[str, str]
    query: dict[str, str]
    timeout: float
    errors: ErrorPaths
    redactor: Redactor
    max_body: int = DEFAULT_MAX_BODY  # bytes of one answer read at most


@dataclass
class DownstreamSession:
    service_id: str
    client: httpx.AsyncClient
    endpoint: Endpoint
    calls: list[RawCall] = field(default_factory=list)
    slot: AbstractAsyncContextManager[Any] = _NO_SLOT  # the connection's bulkhead slot (ClientPool.slot)

    @property
    def redactor(self) -> Redactor:
        return self.endpoint.redactor

    @property
    def timeout(self) -> float:
        return self.endpoint.timeout

    async def request(
        self,
        call_id: str,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        json: Any = None,
        send_body: bool = False,
        headers: dict[str, str] | None = None,
        form: bool = False,
    ) -> DownstreamResponse:
        url = self.endpoint.base_url.rstrip("/") + path
        query = [*self.endpoint.query.items(), *(params or [])]
        content = orjson.dumps(json) if (json is not None or send_body) else None
        headers = {**self.endpoint.headers, **headers} if headers else dict(self.endpoint.headers)
        if content is not None and form:   # manifest `request: {content_type: form}`
            content = urlencode(json or {}, doseq=True).encode()
            headers["content-type"] = "application/x-www-form-urlencoded"
        elif content is not None:
            headers["content-type"] = "application/json"
        # the query encoded here as httpx would (quote_plus): httpx's own params merging costs more
        target = f"{url}?{urlencode(query)}" if query else url
        attempts = 2 if method == "GET" else 1
        # for httpx's own log line of the call (logfilter); the request's task ends with the request
        active_redactor.set(self.redactor)
        for attempt in range(attempts):
            started = time.perf_counter()
            sent = (headers, content, attempt)
            try:
                async with self.slot:
                    response, raw_body = await self._exchange(method, target, content, headers)
            except _TooLarge as exc:
                self._record(call_id, method, url, query, exc.status, None, started, sent, error="response_too_large")
                limit = self.endpoint.max_body
                raise ConnectorExecutionError(
                    f"{self.service_id}'s answer exceeded {limit} bytes"
                    + (f" (Content-Length: {exc.size})" if exc.declared else "") + "; it was not read further",
                    {"call_id": call_id, "method": method, "url": self.redactor.url(url),
                     "reason": "response_too_large", "limit_bytes": limit, "downstream_status": exc.status},
                    status_code=502,
                ) from None
            except TimeoutError:  # the whole call's deadline (before OSError: TimeoutError is one)
                self._record(call_id, method, url, query, None, None, started, sent, error="timeout")
                raise self._timeout(call_id, method, url) from None
            except httpx.TimeoutException as exc:
                refused = _is_refusal(exc)
                self._record(call_id, method, url, query, None, None, started, sent,
                             error="connection" if refused else "timeout")
                if refused:
                    if attempt + 1 < attempts:
                        metrics.retry(self.service_id, "connection")
                        continue
                    raise ConnectorExecutionError(
                        f"could not reach {self.service_id}: {_network_reason(exc)}",
                        {"call_id": call_id, "method": method, "url": self.redactor.url(url),
                         "reason": _network_reason(exc)},
                        status_code=502,
                    ) from None
                raise self._timeout(call_id, method, url) from None
            except (httpx.TransportError, OSError) as exc:
                self._record(call_id, method, url, query, None, None, started, sent, error="connection")
                if attempt + 1 < attempts:
                    metrics.retry(self.service_id, "connection")
                    continue
                raise ConnectorExecutionError(
                    f"could not reach {self.service_id}: {_network_reason(exc)}",
                    {"call_id": call_id, "method": method, "url": self.redactor.url(url), "reason": _network_reason(exc)},
                    status_code=502,
                ) from None
            status = response.status_code
            if attempt + 1 < attempts and _retryable(response):
                delay = _retry_delay(response)
                metrics.retry(self.service_id, str(status), delay)
                await asyncio.sleep(delay)
                continue
            body = _parse_body(raw_body)
            self._record(call_id, method, url, query, status, body, started, sent, response, raw_body)
            if 300 <= status < 400:
                raise self._redirect(call_id, method, url, response)
            if status >= 400:
                raise self._error(call_id, method, url, response, body)
            if body is _INVALID_JSON:
                raise ConnectorExecutionError(
                    f"{self.service_id} returned a body that is not valid JSON",
                    {"call_id": call_id, "method": method, "url": self.redactor.url(url), "status": status,
                     "body_excerpt": self.redactor.text(raw_body.decode("utf-8", "replace"))[:200]},
                    status_code=502,
                )
            return DownstreamResponse(status, response.headers, body)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _exchange(self, method: str, target: str, content: bytes | None,
                        headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
        """Send one call and read its answer, all of it within the timeout and at most ``max_body`` bytes."""
        deadline = asyncio.timeout(self.timeout)
        try:
            async with deadline:
                request = self.client.build_request(method, target, content=content, headers=headers,
                                                    timeout=self.timeout)
                response = await self.client.send(request, stream=True)
                try:
                    return response, await _read_capped(response, self.endpoint.max_body)
                finally:
                    await response.aclose()  # unread (too large, cut off): the connection is closed, not reused
        except (httpx.TransportError, OSError) as exc:
            if deadline.expired():  # a transport that turned the deadline's cancellation into its own error
                raise TimeoutError from exc
            raise

    def _timeout(self, call_id: str, method: str, url: str) -> ConnectorExecutionError:
        return ConnectorExecutionError(
            f"{self.service_id} did not answer within {self.timeout:g}s",
            {"call_id": call_id, "method": method, "url": self.redactor.url(url), "reason": "timeout"},
            status_code=504,
        )

    def _redirect(self, call_id: str, method: str, url: str, response: httpx.Response) -> Exception:
        """A 3xx: never followed (the connection's credentials stay with its own origin), never a success."""
        status = response.status_code
        location = response.headers.get("location")
        try:
            target = httpx.URL(url).join(location) if location else None
        except (httpx.InvalidURL, ValueError):
            target = None
        shown = self.redactor.url(str(target.copy_with(query=None, fragment=None))) if target else location
        detail = {"call_id": call_id, "method": method, "url": self.redactor.url(url), "downstream_status": status,
                  "location": shown}
        if target is not None and _is_sign_in(target):
            return ConnectorCredentialsError(
                f"{self.service_id} redirected the call to a sign-in page ({shown}): it did not accept the "
                "connection's credentials", detail)
        return ConnectorExecutionError(
            f"{self.service_id} answered {status}, a redirect" + (f" to {shown}" if shown else "")
            + "; redirects are not followed", detail, status_code=502)

    def raw(self) -> Any:
        """``_raw`` for the response: the body of each call, secrets redacted."""
        if len(self.calls) == 1:
            return self.redactor.deep(self.calls[0].body)
        return {"calls": [self.redactor.deep({"call_id": c.call_id, "method": c.method,
                                              "url": self.redactor.url(c.full_url), "status_code": c.status_code,
                                              "body": c.body}) for c in self.calls]}

    def _record(self, call_id: str, method: str, url: str, query: list[tuple[str, str]], status: int | None,
                body: Any, started: float, sent: tuple[dict[str, str], bytes | None, int],
                response: httpx.Response | None = None, raw_body: bytes | None = None, *,
                error: str | None = None) -> None:
        elapsed = time.perf_counter() - started
        duration = elapsed * 1000
        headers, content, attempt = sent
        call = RawCall(call_id, method, url, query, status, None if body is _INVALID_JSON else body, duration,
                       headers, content[:CAPTURE_BYTES] if content is not None else None,
                       response.headers if response is not None else None,
                       raw_body[:CAPTURE_BYTES] if raw_body is not None else None,
                       len(raw_body) if raw_body is not None else None, attempt, error, time.time() - elapsed)
        self.calls.append(call)
        metrics.call(self.service_id, status, error, elapsed, attempt > 0)
        if tracing.enabled:
            tracing.call_span(self.service_id, call, self.redactor)
        if log.isEnabledFor(logging.INFO):  # building the redacted URL costs; only when it is logged
            log.info("downstream %s %s %s -> %s in %.1f ms", self.service_id, method,
                     self.redactor.url(call.full_url), status, duration)

    def _error(self, call_id: str, method: str, url: str, response: httpx.Response, body: Any) -> Exception:
        status = response.status_code
        errors = _downstream_errors(body, self.endpoint.errors)
        errors = self.redactor.deep(errors)
        detail = {"call_id": call_id, "method": method, "url": self.redactor.url(url), "downstream_status": status,
                  "downstream_body": self.redactor.deep(body if body is not _INVALID_JSON else None)}
        if status == 429:
            retry_after = response.headers.get("retry-after")
            return ConnectorRateLimitError(
                f"{self.service_id} is rate limiting requests" + (f"; retry after {retry_after}s" if retry_after else ""),
                detail, downstream_errors=errors, headers={"retry-after": retry_after} if retry_after else None,
            )
        summary = "; ".join(e["message"] for e in errors if e.get("message")) or response.reason_phrase
        if status == 401:
            return ConnectorCredentialsError(
                f"{self.service_id} rejected the connection's credentials: {summary}", detail, downstream_errors=errors)
        if status == 404:
            return EntityNotFoundError(f"{self.service_id} answered 404: {summary}", detail, downstream_errors=errors)
        return ConnectorExecutionError(
            f"{self.service_id} answered {status}: {summary}", detail,
            status_code=status if 400 <= status < 500 else 502, downstream_errors=errors,
        )


class _TooLarge(Exception):
    def __init__(self, status: int, size: int, declared: bool = False) -> None:
        self.status, self.size, self.declared = status, size, declared


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    """The body, decoded, if it is at most ``limit`` bytes; nothing past the limit is kept."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge(response.status_code, int(declared), declared=True)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            chunks.clear()  # not kept alive by the error's traceback
            raise _TooLarge(response.status_code, size)
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _is_sign_in(url: httpx.URL) -> bool:
    text = f"{url.host}{url.path}".lower().replace("-", "").replace("_", "")
    return any(word in text for word in SIGN_IN_WORDS)


class _Invalid:
    pass


_INVALID_JSON: Any = _Invalid()


def _parse_body(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _INVALID_JSON


def _retryable(response: httpx.Response) -> bool:
    if response.status_code in RETRY_STATUSES:
        return True
    return response.status_code == 429 and _retry_delay(response) <= 1.0


def _retry_delay(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", "0.1")))
    except ValueError:
        return 10.0


def _is_refusal(exc: httpx.TimeoutException) -> bool:
    """httpx-aiohttp reports a refused connection as ConnectTimeout; its cause tells them apart."""
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is None:
        return False
    cause = exc.__cause__
    return isinstance(cause, aiohttp.ClientConnectorError) and not isinstance(cause, aiohttp.ServerTimeoutError)


def _network_reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)) or "refused" in text.lower():
        return f"connection refused or host unreachable ({text})"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        return f"the connection was closed before the response was complete ({text})"
    return text


def _downstream_errors(body: Any, paths: ErrorPaths) -> list[dict[str, Any]]:
    """Read ``[{message, code, detail}]`` from an error body using the mapping's paths."""
    if body is _INVALID_JSON or body is None:
        return []
    if isinstance(body, str):
        return [{"message": body}]

    def first(candidates: list[str], objects: bool = False) -> Any:
        for candidate in candidates:
            value = compile_path(candidate).get(body)
            if value is not MISSING and value is not None and (objects or not isinstance(value, dict)):
                return value
        return None

    message, code, detail = first(paths.message), first(paths.code), first(paths.detail, objects=True)
    messages = message if isinstance(message, list) else [message]
    out = []
    for m in messages:
        entry: dict[str, Any] = {"message": m if isinstance(m, str) or m is None else orjson.dumps(m).decode()}
        if code is not None:
            entry["code"] = str(code)
        if detail is not None:
            entry["detail"] = detail if isinstance(detail, str) else orjson.dumps(detail).decode()
        out.append(entry)
    return [e for e in out if e.get("message") or e.get("code") or e.get("detail")]
