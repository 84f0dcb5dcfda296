"""Recorded downstream interactions (vcrpy cassettes) for offline connector tests.

A recorded test runs the same code in two modes:

- **replay** (default, CI): the cassette answers every downstream call; nothing is started and
  nothing leaves the process; a call the cassette lacks fails the test;
- **record** (``UNIGATE_RECORD_CASSETTES=1``, or ``make cassettes``): the connector's simulator
  (or a real server) answers and the cassette is rewritten.

Requests match on method, path, query and body — not host or port, so recordings made against a
simulator on a random port replay anywhere. Credentials are scrubbed before anything is written:
auth headers are dropped and every credential value is replaced in URLs and bodies.
The gateway uses httpx's own transport in recorded tests (vcrpy patches it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import vcr

from unigate.downstream.redact import REDACTED

CASSETTES = Path(__file__).resolve().parents[3] / "fixtures" / "cassettes"
SECRET_HEADERS = ["authorization", "x-api-key", "x-token", "cookie", "x-redmine-api-key", "private-token",
                  "x-csrf-token"]


def recording() -> bool:
    return os.environ.get("UNIGATE_RECORD_CASSETTES", "") not in ("", "0")


def _scrubber(secrets: list[str]):  # noqa: ANN202
    values = sorted({s for s in secrets if s}, key=len, reverse=True)

    def scrub_text(text: str) -> str:
        for value in values:
            text = text.replace(value, REDACTED)
        return text

    def scrub_bytes(data: Any) -> Any:
        if isinstance(data, bytes):
            return scrub_text(data.decode("utf-8", "replace")).encode()
        if isinstance(data, str):
            return scrub_text(data)
        return data

    def request(req: Any) -> Any:
        req.uri = scrub_text(req.uri)
        req.body = scrub_bytes(req.body)
        return req

    def response(resp: dict[str, Any]) -> dict[str, Any]:
        resp["body"]["string"] = scrub_bytes(resp["body"]["string"])
        for header in list(resp.get("headers", {})):
            if header.lower() in ("set-cookie",):
                del resp["headers"][header]
        return resp

    return request, response


@contextmanager
def cassette(connector: str, name: str, *, secrets: list[str]) -> Iterator[Any]:
    """Use ``fixtures/cassettes/<connector>/<name>.yaml`` around the block."""
    scrub_request, scrub_response = _scrubber(secrets)
    recorder = vcr.VCR(
        cassette_library_dir=str(CASSETTES / connector),
        record_mode="all" if recording() else "none",
        match_on=["method", "path", "query", "raw_body"],
        filter_headers=SECRET_HEADERS,
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
    )
    with recorder.use_cassette(f"{name}.yaml", allow_playback_repeats=False) as recorded:
        yield recorded


@contextmanager
def recorded_client(tmp: Path, service_id: str, name: str) -> Iterator[Any]:
    """A gateway client for ``service_id`` whose downstream calls use a cassette.

    The connection comes from the connector's ``SandboxProfile``: its simulator answers when
    recording; replay needs nothing but the cassette.
    """
    from unigate.testing.connector import ConnectorUnderTest

    tracker = ConnectorUnderTest.start(tmp, service_id, transport="httpx", simulate=recording())
    try:
        with cassette(service_id, name, secrets=[str(v) for v in tracker.credentials.values()]), tracker.client() as c:
            yield c
    finally:
        tracker.stop()
