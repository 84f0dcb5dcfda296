"""``FaultTap``: downstream faults with no simulator, for a connector tested against a real tracker.

A simulator injects faults on its side of the network (``SimulatorControl``); a real server (or its
cassettes) cannot be asked to. ``FaultTap`` injects them on the gateway's side instead: it wraps the
gateway's downstream transport, where the cassette tap sits (``GatewayHarness(wrap_transport=tap)``;
outside a ``CassetteTap``, so a faulted request is answered before any recording is looked for),
and answers the next matching requests with the fault instead of passing them on::

    tap = FaultTap.for_connector(spec)           # error bodies shaped by the manifest's http.errors
    harness = GatewayHarness(tmp, wrap_transport=tap)
    tap.fault(status=429, retry_after=30)        # every request until tap.clear()
    tap.fault(status=500, path=r"/issues\\.json$", times=1)

A plan is the simulator's (:class:`~unigate.simulation.control.FaultPlan`: ``path`` regex,
``method``, ``times``; ``latency_ms``, ``status`` with ``retry_after``/``location``/``body``,
``malformed_json``, ``drop_connection``, ``stream_bytes`` with ``declare_length``, ``drip_ms``), so
``FAULT_CASES`` mean the same against either, plus two only a transport can play:
``refuse_connection`` (``httpx.ConnectError``, as from a closed port) and ``read_timeout``
(``httpx.ReadTimeout``, as from a tracker that accepted the request and never answered). A status
plan without a ``body`` answers a tracker-shaped error body: the message (and code, the status) at
the first of the manifest's ``http.errors`` paths, so the connector's error mapping reads it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, fields
from typing import Any

import httpx
import orjson

from unigate.mapping.paths import InvalidPathError, compile_path
from unigate.mapping.spec import ErrorSpec, MappingFile
from unigate.simulation.control import DRIP_MAX_BYTES, STREAM_CHUNK, FaultPlan

MESSAGE = "fault injected by unigate.testing.FaultTap"
JSON = {"content-type": "application/json"}


@dataclass
class TapFault(FaultPlan):
    """A simulator's fault plan, plus the faults only the gateway's side of the network can play."""

    refuse_connection: bool = False   # the connection is refused (httpx.ConnectError)
    read_timeout: bool = False        # the request went out and no answer came (httpx.ReadTimeout)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TapFault:
        unknown = set(data) - {f.name for f in fields(cls) if not f.name.startswith("_")}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**data)


class FaultTap:
    """A downstream transport wrapper answering matching requests with a fault (see the module docstring)."""

    def __init__(self, errors: ErrorSpec | None = None) -> None:
        self.errors = errors or ErrorSpec()
        self.faults: list[TapFault] = []
        self.answered: list[str] = []   # "METHOD url" of every request a fault answered
        self.lock = threading.Lock()    # the gateway's event loop runs in another thread than the test

    @classmethod
    def for_connector(cls, spec: MappingFile) -> FaultTap:
        """A tap whose error bodies are shaped as the connector's manifest reads them (``http.errors``)."""
        return cls(spec.http.errors)

    def __call__(self, network: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        return _FaultTransport(self, network)

    def fault(self, **plan: Any) -> TapFault:
        """Answer the matching requests (``times`` of them, default all until :meth:`clear`) with ``plan``."""
        fault = TapFault.from_json(plan)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()
            self.answered.clear()

    def take(self, request: httpx.Request) -> TapFault | None:
        """The fault that answers ``request`` (one of its ``times`` used), or None: it passes on."""
        with self.lock:
            fault = next((f for f in self.faults if f.matches(request.method, request.url.path)), None)
            if fault is not None:
                if fault.times is not None:
                    fault.times -= 1
                self.answered.append(f"{request.method} {request.url}")
            return fault

    def error_body(self, status: int) -> Any:
        """An error body the manifest's ``http.errors`` read: the message, and the status as the code."""
        body: Any = {}
        for paths, value in ((self.errors.message, f"{MESSAGE} ({status})"), (self.errors.code, status)):
            try:
                body = compile_path(paths[0]).set(body, value, strict=True) if paths else body
            except InvalidPathError:   # the code's path runs through the message: the message is enough
                continue
        return body


class _FaultTransport(httpx.AsyncBaseTransport):
    def __init__(self, tap: FaultTap, network: httpx.AsyncBaseTransport) -> None:
        self.tap, self.network = tap, network

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.tap.take(request)
        if fault is None:
            return await self.network.handle_async_request(request)
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)   # the call's deadline may end it here
        answer = play(fault, request, self.tap)
        return answer if answer is not None else await self.network.handle_async_request(request)

    async def aclose(self) -> None:
        await self.network.aclose()


def play(fault: TapFault, request: httpx.Request, tap: FaultTap) -> httpx.Response | None:
    """The faulty answer (or the exception) ``fault`` stands for; None for latency alone."""
    if fault.refuse_connection:
        raise httpx.ConnectError(f"[Errno 111] Connection refused ({MESSAGE})", request=request)
    if fault.read_timeout:
        raise httpx.ReadTimeout(f"no answer ({MESSAGE})", request=request)
    if fault.drop_connection:   # as the simulator: a response started, its connection cut mid-body
        return httpx.Response(200, headers={**JSON, "content-length": "4096"}, stream=_Dropped(), request=request)
    if fault.malformed_json:
        return httpx.Response(200, headers=JSON, content=b'{"items": [1, 2,', request=request)
    if fault.status is not None:
        headers = {**JSON, **({"retry-after": str(fault.retry_after)} if fault.retry_after else {}),
                   **({"location": fault.location} if fault.location is not None else {})}
        body = fault.body if fault.body is not None else tap.error_body(fault.status)
        return httpx.Response(fault.status, headers=headers, content=orjson.dumps(body), request=request)
    if fault.stream_bytes is not None or fault.drip_ms is not None:
        total = fault.stream_bytes if fault.stream_bytes is not None else DRIP_MAX_BYTES
        length = {"content-length": str(total)} if fault.declare_length else {}
        return httpx.Response(200, headers={**JSON, **length}, stream=_Bytes(total, fault.drip_ms), request=request)
    return None


class _Dropped(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"partial": '
        raise httpx.RemoteProtocolError(f"peer closed connection without sending complete message body ({MESSAGE})")


@dataclass
class _Bytes(httpx.AsyncByteStream):
    """``total`` bytes, produced lazily: 64 KiB chunks, or one byte every ``drip_ms`` milliseconds."""

    total: int
    drip_ms: int | None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        while sent < self.total:
            if self.drip_ms is not None:
                await asyncio.sleep(self.drip_ms / 1000)
            piece = b" " if self.drip_ms is not None else STREAM_CHUNK[: self.total - sent]
            sent += len(piece)
            yield piece
