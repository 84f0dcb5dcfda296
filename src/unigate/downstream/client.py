"""``DownstreamSession``: one unified request's downstream calls, with typed errors.

The clients come from ``unigate.downstream.pool.ClientPool`` (one per service, cookie-less,
httpx over aiohttp). A ``DownstreamSession`` is one unified request's view of a connection: base URL
and auth headers rendered from the connection's settings and credentials (its ``Endpoint``), and the
calls made. A call is layered:

- ``unigate.downstream.retry``: whether an attempt is tried again (idempotent calls, once);
- ``unigate.downstream.send``: one attempt, bounded: its whole exchange (connect, headers and the
  entire body) must finish within the connection's timeout — httpx's own timeouts are per phase, so
  a tracker dripping a byte at a time would otherwise hold the call forever — and the body is read
  up to ``Endpoint.max_body`` bytes (decoded);
- ``unigate.downstream.errors``: a failure or an error answer as the typed error answered;
- ``unigate.downstream.hooks``: what is done with each attempt made (kept for ``raw`` and the
  request log, counted, traced, logged).

Before each attempt a call waits its turn within its tracker account's rate-limit budget
(``unigate.downstream.limiter``: outside the bulkhead slot, so waiting holds none), and each answer
teaches the budget; an answer refusing the call for the rate limit is not the call's answer while
the wait it asks for fits the call's wait budget: the call is queued again.

A call holds a slot of its connection's bulkhead while in flight (``unigate.downstream.pool``). When
the unified request is cancelled (its client went away) the call is cancelled with it and its
connection closed.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson

from unigate.downstream.errors import answer_error, downstream_errors, failure_error
from unigate.downstream.hooks import CALL_HOOKS, CallHooks
from unigate.downstream.limiter import AccountLimit
from unigate.downstream.logfilter import active as active_redactor
from unigate.downstream.models import CAPTURE_BYTES, DownstreamResponse, Endpoint, ErrorPaths, RawCall
from unigate.downstream.redact import Redactor
from unigate.downstream.retry import DEFAULT_RETRY, RetryPolicy
from unigate.downstream.send import INVALID_JSON, Answer, Outgoing, SendFailure, parse_body, send_once, target_of

__all__ = ["DownstreamResponse", "DownstreamSession", "Endpoint", "ErrorPaths", "RawCall"]

_NO_SLOT: AbstractAsyncContextManager[Any] = nullcontext()


@dataclass
class DownstreamSession:
    service_id: str
    client: httpx.AsyncClient
    endpoint: Endpoint
    calls: list[RawCall] = field(default_factory=list)
    slot: AbstractAsyncContextManager[Any] = _NO_SLOT  # the connection's bulkhead slot (ClientPool.slot)
    retry: RetryPolicy = DEFAULT_RETRY
    hooks: CallHooks = CALL_HOOKS
    limit: AccountLimit | None = None   # the tracker account's rate-limit budget (None: calls are not governed)

    @property
    def redactor(self) -> Redactor:
        return self.endpoint.redactor

    @property
    def timeout(self) -> float:
        return self.endpoint.timeout

    async def request(self, call_id: str, method: str, path: str, *, params: list[tuple[str, str]] | None = None,
                      json: Any = None, send_body: bool = False, headers: dict[str, str] | None = None,
                      form: bool = False) -> DownstreamResponse:
        """One call: ``json`` is the body (sent even when ``None`` with ``send_body``), as a form with
        ``form`` (the manifest's ``request: {content_type: form}``)."""
        out = self._outgoing(call_id, method, path, params, _body(json, send_body, form), headers)
        # for httpx's own log line of the call (logfilter); the request's task ends with the request
        active_redactor.set(self.redactor)
        attempts, attempt = self.retry.attempts(method), 0
        deadline = time.monotonic() + (self.limit.wait if self.limit is not None else 0.0)
        while True:
            last, started = attempt + 1 >= attempts, time.perf_counter()
            sent = out if self.endpoint.auth is None else self.endpoint.auth.sign(out)   # each attempt signed anew
            try:
                answer, queued = await self._attempt(sent, deadline)
            except SendFailure as failure:
                self._record(sent, attempt, started, failure=failure)
                if last or not self.retry.after_failure(failure):
                    raise failure_error(self.service_id, self.endpoint, sent, failure) from None
                self.hooks.retried(self.service_id, failure.kind)
                attempt += 1
                continue
            if queued:   # refused for the rate limit, and its wait fits: not an attempt of the retry policy's
                self._record(sent, attempt, started, answer=answer, body=parse_body(answer.body))
                self.hooks.retried(self.service_id, "rate_limited")
                attempts, attempt = attempts + 1, attempt + 1
                continue
            delay = None if last else self.retry.after_answer(answer.response)
            if delay is None:
                return self._answered(sent, attempt, started, answer, key=out.target)
            self.hooks.retried(self.service_id, str(answer.response.status_code), delay)
            await asyncio.sleep(delay)
            attempt += 1

    async def _attempt(self, out: Outgoing, deadline: float) -> tuple[Answer, bool]:
        """One attempt, its turn in the account's budget waited for first; whether its answer refused it for
        the rate limit with a wait that fits ``deadline`` (then it is to be queued again)."""
        if self.limit is not None:
            await self.limit.admit(deadline)
        async with self.slot:
            answer = await send_once(self.client, out, self.timeout, self.endpoint.max_body)
        if self.limit is None:
            return answer, False
        wait = await self.limit.learn(answer.response.status_code, answer.response.headers, lambda: _messages(self.endpoint, answer))
        return answer, wait is not None and time.monotonic() + wait <= deadline

    def _outgoing(self, call_id: str, method: str, path: str, params: list[tuple[str, str]] | None,
                  body: tuple[bytes, str] | None, headers: dict[str, str] | None) -> Outgoing:
        url = self.endpoint.base_url.rstrip("/") + path
        query = [*self.endpoint.query.items(), *(params or [])]
        sent = {**self.endpoint.headers, **headers} if headers else dict(self.endpoint.headers)
        content = None
        if body is not None:
            content, sent["content-type"] = body
        target = target_of(url, query)
        if method == "GET" and self.endpoint.validators is not None:   # http.conditional: If-None-Match
            sent.update(self.endpoint.validators.headers(target))
        return Outgoing(call_id, method, url, query, target, sent, content)

    def _answered(self, out: Outgoing, attempt: int, started: float, answer: Answer, *, key: str) -> DownstreamResponse:
        """The answer of ``out`` (as sent); ``key``: its URL before an auth scheme signed it (ETags are kept by it)."""
        validators = self.endpoint.validators if out.method == "GET" else None
        status = answer.response.status_code
        kept = validators.kept(key, answer.response.headers) if validators and status == 304 else None
        if kept is not None:   # not modified: the answer kept with its ETag (recorded as answered: a 304)
            self._record(out, attempt, started, answer=answer, body=parse_body(answer.body))
            return DownstreamResponse(200, kept[1], kept[0])
        body = parse_body(answer.body)
        self._record(out, attempt, started, answer=answer, body=body)
        error = answer_error(self.service_id, self.endpoint, out, answer, body)
        if error is not None:
            raise error
        if validators is not None and status == 200 and body is not INVALID_JSON:
            validators.keep(key, body, answer.response.headers, len(answer.body))
        return DownstreamResponse(status, answer.response.headers, body)

    def _record(self, out: Outgoing, attempt: int, started: float, *, answer: Answer | None = None,
                body: Any = None, failure: SendFailure | None = None) -> None:
        """The attempt as a ``RawCall``, handed to the session's hooks."""
        elapsed = time.perf_counter() - started
        raw = answer.body if answer is not None else None
        status = answer.response.status_code if answer is not None else (failure.status if failure else None)
        call = RawCall(out.call_id, out.method, out.url, out.query, status, None if body is INVALID_JSON else body,
                       elapsed * 1000, out.headers, out.content[:CAPTURE_BYTES] if out.content is not None else None,
                       answer.response.headers if answer is not None else None,
                       raw[:CAPTURE_BYTES] if raw is not None else None, len(raw) if raw is not None else None,
                       attempt, failure.kind if failure is not None else None, time.time() - elapsed)
        self.hooks.called(self, call, elapsed)

    def raw(self) -> Any:
        """``_raw`` for the response: the body of each call, secrets redacted."""
        if len(self.calls) == 1 and isinstance(self.calls[0].body, dict):   # Apideck's _raw is an object
            return self.redactor.deep(self.calls[0].body)
        return {"calls": [self.redactor.deep({"call_id": c.call_id, "method": c.method,
                                              "url": self.redactor.url(c.full_url), "status_code": c.status_code,
                                              "body": c.body}) for c in self.calls]}


def _messages(endpoint: Endpoint, answer: Answer) -> list[str]:
    """The error messages of a refusal (a manifest's ``http.rate_limit.message`` names a rate limit in them)."""
    errors = downstream_errors(parse_body(answer.body), endpoint.errors)
    return [str(e["message"]) for e in errors if e.get("message")]


def _body(json: Any, send_body: bool, form: bool) -> tuple[bytes, str] | None:
    """The request body and its content type, or ``None``: no body."""
    if json is None and not send_body:
        return None
    if form:
        return urlencode(json or {}, doseq=True).encode(), "application/x-www-form-urlencoded"
    return orjson.dumps(json), "application/json"
