"""A client cannot hold the gateway's connections: heads must arrive in time and within a size.

The gateway is served as ``unigate serve`` serves it (``GatewayHttpProtocol``), here with a 0.5 s
head timeout. These answers come from the HTTP layer, in plain text, before any request exists.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import pytest

from unigate.app import create_app
from unigate.server import GatewayHttpProtocol
from unigate.simulation import BackgroundServer
from unigate.testing import GatewayHarness

HEAD_TIMEOUT = 0.5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundServer]:
    harness = GatewayHarness(tmp_path_factory.mktemp("slow"))
    protocol = GatewayHttpProtocol.configured(header_timeout=HEAD_TIMEOUT, max_head_bytes=8192)
    with BackgroundServer(create_app(harness.gateway), http=protocol) as served:
        yield served
    harness.stop()


def connect(server: BackgroundServer) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=5)
    sock.settimeout(5)
    return sock


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_a_head_dripped_line_by_line_is_cut_with_a_408(server: BackgroundServer) -> None:
    sock = connect(server)
    started = time.monotonic()
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: gateway\r\n")
    answer = b""
    try:
        for n in range(40):  # one header line every 0.1 s: 4 s if nothing cuts it
            sock.sendall(b"X-Drip-%d: x\r\n" % n)
            time.sleep(0.1)
    except OSError:  # the server closed the connection
        pass
    answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < HEAD_TIMEOUT + 2


def test_a_connection_that_sends_nothing_is_closed(server: BackgroundServer) -> None:
    sock = connect(server)
    started = time.monotonic()
    assert read_all(sock).startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < HEAD_TIMEOUT + 2


def test_a_head_over_the_size_cap_is_a_431(server: BackgroundServer) -> None:
    sock = connect(server)
    with contextlib.suppress(OSError):
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: gateway\r\n" + b"X-Big: " + b"a" * 10_000 + b"\r\n\r\n")
    assert read_all(sock).startswith(b"HTTP/1.1 431 ")


def test_a_prompt_client_keeps_its_connection_for_several_requests(server: BackgroundServer) -> None:
    sock = connect(server)
    for _ in range(3):
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n")
        head = sock.recv(65536)
        assert head.startswith(b"HTTP/1.1 200 ")
        time.sleep(HEAD_TIMEOUT * 0.6)  # idle between requests: the keep-alive timeout's business
    sock.close()
