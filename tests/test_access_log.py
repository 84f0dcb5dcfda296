"""The access log cannot be forged: control characters in the (percent-decoded) path are escaped."""

from __future__ import annotations

import logging
import socket
import time
from urllib.parse import urlsplit

import pytest

from unigate.testing import GatewayHarness


def raw_get(harness: GatewayHarness, target: str) -> bytes:
    """Send ``GET <target>`` as bytes on a socket: no client library normalises the path."""
    url = urlsplit(harness.server.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def access_records(caplog: pytest.LogCaptureFixture, marker: str) -> list[logging.LogRecord]:
    deadline = time.monotonic() + 5  # the line is written after the response is sent
    while time.monotonic() < deadline:
        found = [r for r in caplog.records if r.name == "unigate.access" and marker in r.getMessage()]
        if found:
            return found
        time.sleep(0.02)
    return []


def test_a_crlf_in_the_path_does_not_start_a_new_log_line(
        harness: GatewayHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="unigate.access")
    forged = "/nowhere-x7%0D%0A0000 GET /issue-tracking/forged 200 1.0ms service=admin"
    response = raw_get(harness, forged.replace(" ", "%20"))
    assert response.startswith(b"HTTP/1.1 404")
    [record] = access_records(caplog, "nowhere-x7")
    message = record.getMessage()
    assert "\r" not in message and "\n" not in message
    assert "/nowhere-x7\\r\\n0000 GET /issue-tracking/forged 200" in message
