"""The gateway's HTTP server: uvicorn's httptools protocol with limits on what a client can hold.

uvicorn times out idle keep-alive connections, but not a request whose head never ends: a client
that sends a header line every few seconds (slowloris) keeps its connection and its buffers
forever, and so do a few hundred such clients. ``GatewayHttpProtocol`` adds:

- a **head timeout**: the request line and headers must arrive within ``header_timeout`` seconds
  of the first byte (or of the connection opening); otherwise the server answers ``408`` and
  closes the connection;
- a **head size cap**: a request line plus headers over ``max_head_bytes`` is answered ``431``
  and the connection closed, before the application sees it (the application itself refuses
  smaller but still oversized headers in Apideck's error schema).

These two answers, like uvicorn's own ``400 Invalid HTTP request received`` for malformed
framing, come from the HTTP layer in plain text: no request reached the API, so there is no
Request-Id and no error schema to speak. Everything that reaches the application answers in
Apideck's error schema.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = 10.0
MAX_HEAD_BYTES = 64 * 1024


class GatewayHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head timeout and a head size cap (see the module doc)."""

    header_timeout: float = HEADER_TIMEOUT
    max_head_bytes: int = MAX_HEAD_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0

    @classmethod
    def configured(cls, *, header_timeout: float = HEADER_TIMEOUT,
                   max_head_bytes: int = MAX_HEAD_BYTES) -> type[GatewayHttpProtocol]:
        """A subclass with other limits (uvicorn takes the protocol as a class); the class itself for
        the default limits (a worker process of ``--workers`` must be able to import it by name)."""
        if (header_timeout, max_head_bytes) == (cls.header_timeout, cls.max_head_bytes):
            return cls
        return type("GatewayHttpProtocol", (cls,), {"header_timeout": header_timeout,
                                                    "max_head_bytes": max_head_bytes})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is a head that never arrives

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        if self._head_timer is None:
            self._arm()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.max_head_bytes and not self.transport.is_closing():
            self._refuse(431, "Request Header Fields Too Large",
                         f"the request line and headers exceed {self.max_head_bytes} bytes")

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self._refuse(408, "Request Timeout", f"the request head did not arrive within {self.header_timeout:g}s")

    def _refuse(self, status: int, reason: str, message: str) -> None:
        body = message.encode()
        self.transport.write(b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
                             b"connection: close\r\n\r\n%s" % (status, reason.encode(), len(body), body))
        self.transport.close()


def serve(app: Any, *, host: str, port: int, log_level: str = "info",
          header_timeout: float = HEADER_TIMEOUT, workers: int = 1) -> None:
    """Serve ``app`` until interrupted (``unigate serve``, ``unigate sandbox``). ``workers`` > 1: ``app``
    is the import path of an app factory (``module:function``) each worker process calls; uvicorn's
    supervisor binds the socket once, shares it with the workers and restarts one that dies."""
    # proxy_headers off: the gateway reads no client address (links use UNIGATE_PUBLIC_URL behind a
    # proxy), and uvicorn's X-Forwarded-For parsing costs every request
    # log_config=None: uvicorn's lines go to the root handler (unigate.observability.logs: request id, redaction, JSON)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, proxy_headers=False, log_config=None,
                http=GatewayHttpProtocol.configured(header_timeout=header_timeout),
                workers=workers if workers > 1 else None, factory=workers > 1)
