"""``DownstreamSession``: one unified request's downstream calls, with typed errors.

The clients come from ``unigate.downstream.pool.ClientPool`` (one per service, cookie-less,
httpx over aiohttp). A ``DownstreamSession`` is one unified request's view of a connection: base URL and auth
headers rendered from the connection's settings and credentials, the calls made (for ``raw``
and logs), and the conversion of every failure into a typed error:

- downstream 4xx/5xx -> ``ConnectorExecutionError`` (status: the downstream 4xx, or 502 for a
  5xx) with ``downstream_errors`` read from the body by the mapping's ``http.errors`` paths;
  401 -> ``ConnectorCredentialsError`` (the stored credentials need attention);
  429 -> ``ConnectorRateLimitError`` with ``Retry-After`` passed on;
- refused connection, DNS failure, dropped connection, invalid JSON -> ``ConnectorExecutionError``
  502; timeout -> ``ConnectorExecutionError`` 504.

Idempotent calls (GET) are retried once after a connection failure, a 500/502/503/504, or a 429 whose
``Retry-After`` is at most one second.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
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
)
from unigate.mapping.paths import MISSING, compile_path

log = logging.getLogger("unigate.downstream")
RETRY_STATUSES = frozenset({500, 502, 503, 504})


@dataclass
class RawCall:
    call_id: str
    method: str
    url: str
    query: list[tuple[str, str]]
    status_code: int | None
    body: Any
    duration_ms: float

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


@dataclass
class DownstreamSession:
    service_id: str
    client: httpx.AsyncClient
    endpoint: Endpoint
    calls: list[RawCall] = field(default_factory=list)

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
    ) -> DownstreamResponse:
        url = self.endpoint.base_url.rstrip("/") + path
        query = [*self.endpoint.query.items(), *(params or [])]
        content = orjson.dumps(json) if (json is not None or send_body) else None
        headers = {**self.endpoint.headers, **headers} if headers else dict(self.endpoint.headers)
        if content is not None:
            headers["content-type"] = "application/json"
        # the query encoded here as httpx would (quote_plus): httpx's own params merging costs more
        target = f"{url}?{urlencode(query)}" if query else url
        attempts = 2 if method == "GET" else 1
        # for httpx's own log line of the call (logfilter); the request's task ends with the request
        active_redactor.set(self.redactor)
        for attempt in range(attempts):
            started = time.perf_counter()
            try:
                response = await self.client.request(
                    method, target, content=content, headers=headers, timeout=self.timeout
                )
                raw_body = response.content
            except httpx.TimeoutException as exc:
                self._record(call_id, method, url, query, None, None, started)
                if _is_refusal(exc):
                    if attempt + 1 < attempts:
                        continue
                    raise ConnectorExecutionError(
                        f"could not reach {self.service_id}: {_network_reason(exc)}",
                        {"call_id": call_id, "method": method, "url": self.redactor.url(url),
                         "reason": _network_reason(exc)},
                        status_code=502,
                    ) from None
                raise ConnectorExecutionError(
                    f"{self.service_id} did not answer within {self.timeout:g}s",
                    {"call_id": call_id, "method": method, "url": self.redactor.url(url), "reason": "timeout"},
                    status_code=504,
                ) from None
            except (httpx.TransportError, OSError) as exc:
                self._record(call_id, method, url, query, None, None, started)
                if attempt + 1 < attempts:
                    continue
                raise ConnectorExecutionError(
                    f"could not reach {self.service_id}: {_network_reason(exc)}",
                    {"call_id": call_id, "method": method, "url": self.redactor.url(url), "reason": _network_reason(exc)},
                    status_code=502,
                ) from None
            status = response.status_code
            if attempt + 1 < attempts and _retryable(response):
                await asyncio.sleep(_retry_delay(response))
                continue
            body = _parse_body(raw_body)
            self._record(call_id, method, url, query, status, body, started)
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

    def raw(self) -> Any:
        """``_raw`` for the response: the body of each call, secrets redacted."""
        if len(self.calls) == 1:
            return self.redactor.deep(self.calls[0].body)
        return {"calls": [self.redactor.deep({"call_id": c.call_id, "method": c.method,
                                              "url": self.redactor.url(c.full_url), "status_code": c.status_code,
                                              "body": c.body}) for c in self.calls]}

    def _record(self, call_id: str, method: str, url: str, query: list[tuple[str, str]], status: int | None,
                body: Any, started: float) -> None:
        duration = (time.perf_counter() - started) * 1000
        call = RawCall(call_id, method, url, query, status, None if body is _INVALID_JSON else body, duration)
        self.calls.append(call)
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
        return ConnectorExecutionError(
            f"{self.service_id} answered {status}: {summary}", detail,
            status_code=status if 400 <= status < 500 else 502, downstream_errors=errors,
        )


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
