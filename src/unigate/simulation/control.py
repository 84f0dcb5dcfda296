"""Fault injection and request recording for simulated trackers.

``SimulatorControl(app)`` is an ASGI wrapper that adds control endpoints under ``/__sim``:

``GET /__sim/requests``
    every request the simulator received since the last clear, oldest first:
    ``{"method", "path", "query" (list of [key, value]), "headers" (lower-cased), "body"
    (parsed JSON or text or null)}``. Lets tests observe exactly what the gateway sent.
``DELETE /__sim/requests``
    clears the log.
``GET /__sim/disconnects`` / ``DELETE /__sim/disconnects``
    requests whose client (the gateway) closed the connection before the simulator had answered
    in full — during a ``latency_ms`` wait, a stream or a drip: ``{"method", "path", "received_at",
    "at" (``time.monotonic()`` of this process), "sent_bytes"}`` — and clearing that list.
``PUT /__sim/faults``
    installs a :class:`FaultPlan` (JSON body, fields below); ``DELETE /__sim/faults`` removes it.

A fault applies to requests whose path matches ``path`` (a regex, default: every non-control
path) and ``method`` (default: any), for the next ``times`` matching requests (default: until
removed). Kinds:

- ``latency_ms``: sleep before answering (combines with any other kind, or alone);
- ``status`` (+ optional ``retry_after`` seconds, ``location`` and ``body``): answer with that
  status, e.g. 429 with a ``Retry-After`` header, 500, or 302 with ``Location: /login``;
- ``malformed_json``: answer 200 with a body that is not valid JSON;
- ``drop_connection``: start a response and cut the connection before the body is complete;
- ``stream_bytes``: answer 200 with a body of that many bytes, produced lazily chunk by chunk
  (chunked, or with its ``Content-Length`` when ``declare_length``), stopping when the client goes;
- ``drip_ms``: answer 200 at once, then one byte of body every ``drip_ms`` milliseconds (at most
  10,000 bytes), stopping when the client goes.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from unigate.simulation.asgi import read_body, replay

CONTROL_PREFIX = "/__sim"
STREAM_CHUNK = b"x" * 65536
DRIP_MAX_BYTES = 10_000


@dataclass
class FaultPlan:
    """One injected fault; see the module docstring for the fields' meaning."""

    path: str | None = None
    method: str | None = None
    times: int | None = None
    latency_ms: int = 0
    status: int | None = None
    retry_after: int | None = None
    body: Any = None
    malformed_json: bool = False
    drop_connection: bool = False
    location: str | None = None
    stream_bytes: int | None = None
    declare_length: bool = False
    drip_ms: int | None = None
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path) if self.path else None

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method and self.method.upper() != method:
            return False
        return self._pattern is None or bool(self._pattern.search(path))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultPlan:
        allowed = {
            "path", "method", "times", "latency_ms", "status", "retry_after", "body",
            "malformed_json", "drop_connection", "location", "stream_bytes", "declare_length", "drip_ms",
        }
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**data)


class SimulatorControl:
    """ASGI wrapper adding ``/__sim`` control endpoints, request recording and faults."""

    def __init__(self, app: ASGIApp, *, record: bool = True) -> None:
        self.app = app
        self.record = record
        self.requests: list[dict[str, Any]] = []
        self.faults: list[FaultPlan] = []
        self.disconnects: list[dict[str, Any]] = []

    # -- direct (in-process) control, for tests that hold the object ----------------------
    def add_fault(self, **kwargs: Any) -> FaultPlan:
        plan = FaultPlan.from_json(kwargs)
        self.faults.append(plan)
        return plan

    def clear_faults(self) -> None:
        self.faults.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        body = await read_body(receive)
        if path.startswith(CONTROL_PREFIX):
            await self._control(scope, body, send)
            return
        method: str = scope["method"]
        if self.record:
            self.requests.append(_describe(scope, body))
        plan = next((f for f in self.faults if f.matches(method, path)), None)
        if plan is not None:
            if plan.times is not None:
                plan.times -= 1
            if plan.stream_bytes is not None or plan.drip_ms is not None or plan.latency_ms:
                await self._answer_slowly(plan, scope, body, receive, send)
                return
            if await _apply_fault(plan, send):
                return
        await self.app(scope, replay(body), send)

    async def _answer_slowly(self, plan: FaultPlan, scope: Scope, body: bytes, receive: Receive,
                             send: Send) -> None:
        """Latency, streams and drips, watching for the client to go away meanwhile (then recorded)."""
        received_at = time.monotonic()
        gone = asyncio.ensure_future(_disconnected(receive))
        sent = 0

        def went_away() -> None:
            self.disconnects.append({"method": scope["method"], "path": scope["path"], "received_at": received_at,
                                     "at": time.monotonic(), "sent_bytes": sent})
        try:
            if plan.latency_ms:
                await asyncio.wait({gone}, timeout=plan.latency_ms / 1000)
                if gone.done():
                    went_away()
                    return
            if plan.stream_bytes is None and plan.drip_ms is None:
                if not await _apply_fault(plan, send):
                    await self.app(scope, replay(body), send)
                return
            total = plan.stream_bytes if plan.stream_bytes is not None else DRIP_MAX_BYTES
            headers = [(b"content-type", b"application/json")]
            if plan.declare_length:
                headers.append((b"content-length", str(total).encode()))
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            while sent < total:
                if plan.drip_ms is not None:
                    await asyncio.wait({gone}, timeout=plan.drip_ms / 1000)
                else:
                    await asyncio.sleep(0)  # a send to a client that is gone returns at once
                if gone.done():
                    went_away()
                    return
                piece = b" " if plan.drip_ms is not None else STREAM_CHUNK[: total - sent]
                await send({"type": "http.response.body", "body": piece, "more_body": True})
                sent += len(piece)
            await send({"type": "http.response.body", "body": b""})
        finally:
            gone.cancel()

    async def _control(self, scope: Scope, body: bytes, send: Send) -> None:
        method, path = scope["method"], scope["path"]
        if path == f"{CONTROL_PREFIX}/requests" and method == "GET":
            await _send_json(send, 200, self.requests)
        elif path == f"{CONTROL_PREFIX}/requests" and method == "DELETE":
            self.requests.clear()
            await _send_json(send, 200, {"cleared": True})
        elif path == f"{CONTROL_PREFIX}/faults" and method == "PUT":
            try:
                self.faults.append(FaultPlan.from_json(orjson.loads(body or b"{}")))
            except (ValueError, TypeError, re.error) as exc:
                await _send_json(send, 400, {"error": str(exc)})
                return
            await _send_json(send, 200, {"faults": len(self.faults)})
        elif path == f"{CONTROL_PREFIX}/faults" and method == "DELETE":
            self.faults.clear()
            await _send_json(send, 200, {"faults": 0})
        elif path == f"{CONTROL_PREFIX}/disconnects" and method == "GET":
            await _send_json(send, 200, self.disconnects)
        elif path == f"{CONTROL_PREFIX}/disconnects" and method == "DELETE":
            self.disconnects.clear()
            await _send_json(send, 200, {"cleared": True})
        else:
            await _send_json(send, 404, {"error": "unknown simulator control endpoint"})


async def _apply_fault(plan: FaultPlan, send: Send) -> bool:
    """Send the faulty response; False when the plan is latency only."""
    if plan.drop_connection:
        await send({
            "type": "http.response.start", "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        })
        await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
        raise ConnectionAbortedError("simulated dropped connection")
    if plan.malformed_json:
        await _send_raw(send, 200, b'{"items": [1, 2,', b"application/json")
        return True
    if plan.status is not None:
        headers = [(b"retry-after", str(plan.retry_after).encode())] if plan.retry_after else []
        if plan.location is not None:
            headers.append((b"location", plan.location.encode()))
        body = plan.body if plan.body is not None else {"error": f"simulated {plan.status}"}
        await _send_raw(send, plan.status, orjson.dumps(body), b"application/json", headers)
        return True
    return False


async def _disconnected(receive: Receive) -> None:
    """Returns when the client has gone (after the request's body was read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _describe(scope: Scope, body: bytes) -> dict[str, Any]:
    from urllib.parse import parse_qsl

    parsed: Any
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = body.decode("utf-8", "replace")
    return {
        "method": scope["method"],
        "path": scope["path"],
        "query": parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True),
        "headers": {k.decode().lower(): v.decode() for k, v in scope["headers"]},
        "body": parsed,
    }


async def _send_json(send: Send, status: int, payload: Any) -> None:
    await _send_raw(send, status, orjson.dumps(payload), b"application/json")


async def _send_raw(
    send: Send, status: int, body: bytes, content_type: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})
