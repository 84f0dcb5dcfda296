"""Recorded downstream traffic (cassettes): connector tests that run the gateway without a tracker.

A cassette sits where the gateway meets the network. :class:`CassetteTap` wraps the transport of
the gateway's downstream clients (``ClientPool(wrap_transport=...)``), so only the calls the
gateway makes to a tracker pass through it. A test's own requests to the gateway travel over real
loopback HTTP and are never recorded: on replay the whole gateway runs (routing, vault, dispatch,
connector, mapping, envelope) and only the tracker is played back.

- **record** (``UNIGATE_RECORD_CASSETTES=1``, or ``make cassettes``): calls go to the real
  transport (a simulator or a real server answers) and each exchange is written to
  ``cassettes/<name>.yaml`` beside the test module, credentials scrubbed;
- **replay** (default when no tracker runs): the cassette answers. A request matches a recording
  on method, scheme, host, port, path, query and body; each recording answers once, the first
  unplayed match first. A request the cassette lacks is answered with a connection error (the
  gateway turns it into a 502) and fails the test; so does a recording nobody asked for: at the
  end of every replayed test, every recorded exchange must have been played.

Credentials never reach a file: secret headers are dropped, every credential value is replaced by
``[REDACTED]`` in URLs, headers and bodies (the same scrubbing is applied to a request before it
is matched, so a replay needs no real credential), and ``set-cookie`` is not kept.
"""

from __future__ import annotations

import base64
import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import yaml

from unigate.downstream.redact import REDACTED
from unigate.mapping.spec import MappingFile
from unigate.testing.report import note_tracker

CASSETTES_DIR = "cassettes"   # beside the test module that uses them: <tests dir>/cassettes/


def cassettes_beside(test_file: str | Path) -> Path:
    """The cassette directory of a test module: ``cassettes/`` in the module's own directory, so a
    plugin's tests find theirs wherever the plugin is checked out."""
    return Path(test_file).resolve().parent / CASSETTES_DIR


def _caller_dir() -> Path:
    """The cassette directory beside the first caller outside this module and contextlib."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename in (__file__, contextlib.__file__):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:   # pragma: no cover - always called from a test module
        raise RuntimeError("recorded_client needs a caller")
    return cassettes_beside(frame.f_code.co_filename)
# HTTP's own credential headers; a connector's are read from its manifest (``secret_headers``)
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
# transport details that say nothing about the exchange, or are wrong once the body is stored decoded
UNKEPT_HEADERS = frozenset({"host", "content-length", "accept-encoding", "connection", "user-agent", "accept",
                            "set-cookie", "date", "content-encoding", "transfer-encoding", "keep-alive", "server"})
DEFAULT_PORTS = {"http": 80, "https": 443}
HEADER = ("# Downstream traffic of one test, recorded by unigate.testing.cassettes (credentials scrubbed).\n"
          "# Re-record with `make cassettes`; requests to the gateway itself are never recorded.\n")


def recording() -> bool:
    return os.environ.get("UNIGATE_RECORD_CASSETTES", "") not in ("", "0")


def secret_headers(spec: MappingFile) -> frozenset[str]:
    """The headers a connector's manifest fills from its credentials (``http.headers`` whose template
    names ``{credentials.…}``; ``http.basic_auth`` sends ``authorization``), with HTTP's own: the
    headers a cassette never keeps, with no per-tracker list to maintain."""
    derived = {name.lower() for name, template in spec.http.headers.items() if "{credentials." in template}
    if spec.http.basic_auth is not None:
        derived.add("authorization")
    return SECRET_HEADERS | derived


class Scrubber:
    """Replaces every credential value with ``[REDACTED]``, longest first, and drops secret headers
    (``secret_headers``: the connector's, from its manifest; default HTTP's own)."""

    def __init__(self, secrets: list[str], headers: frozenset[str] = SECRET_HEADERS) -> None:
        self.values = sorted({s for s in secrets if s and s != REDACTED}, key=len, reverse=True)
        self.secret_headers = headers | SECRET_HEADERS

    def text(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, REDACTED)
        return text

    def data(self, data: bytes) -> bytes:
        if not self.values:
            return data
        try:
            return self.text(data.decode()).encode()
        except UnicodeDecodeError:
            return data

    def headers(self, headers: httpx.Headers) -> dict[str, str]:
        return {name: self.text(value) for name, value in headers.items()
                if name not in self.secret_headers and name not in UNKEPT_HEADERS}


def match_key(method: str, url: str, body: bytes) -> tuple[Any, ...]:
    """What a request is matched on: method, scheme, host, port, path, query (in order) and body."""
    parsed = httpx.URL(url)
    port = parsed.port or DEFAULT_PORTS.get(parsed.scheme)
    query = tuple(parse_qsl(parsed.query.decode(), keep_blank_values=True))
    return method.upper(), parsed.scheme, parsed.host, port, parsed.path, query, body


@dataclass
class Exchange:
    method: str
    url: str
    body: bytes
    headers: dict[str, str]
    status: int
    response_headers: dict[str, str]
    response_body: bytes
    played: bool = False

    @property
    def key(self) -> tuple[Any, ...]:
        return match_key(self.method, self.url, self.body)

    def describe(self) -> str:
        return f"{self.method} {self.url}" + (f" body={self.body[:120]!r}" if self.body else "")

    def to_yaml(self) -> dict[str, Any]:
        return {"request": {"method": self.method, "url": self.url, "headers": self.headers, **_body(self.body)},
                "response": {"status": self.status, "headers": self.response_headers, **_body(self.response_body)}}

    @classmethod
    def from_yaml(cls, item: dict[str, Any]) -> Exchange:
        request, response = item["request"], item["response"]
        return cls(request["method"], request["url"], _unbody(request), request.get("headers") or {},
                   response["status"], response.get("headers") or {}, _unbody(response))


def _body(data: bytes) -> dict[str, str]:
    if not data:
        return {}
    try:
        return {"body": data.decode()}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(data).decode()}


def _unbody(part: dict[str, Any]) -> bytes:
    if "body_base64" in part:
        return base64.b64decode(part["body_base64"])
    return str(part.get("body", "")).encode()


@dataclass
class Cassette:
    """One test's downstream exchanges: recorded as they happen, or loaded to be replayed."""

    path: Path
    mode: str  # "record" | "replay"
    scrubber: Scrubber
    server: str | None = None  # the tracker's base URL when recorded (a simulator's random port)
    exchanges: list[Exchange] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, path: Path, *, secrets: list[str] = (), server: str | None = None,  # type: ignore[assignment]
             headers: frozenset[str] = SECRET_HEADERS) -> Cassette:
        """Record to ``path`` when recording, else load it for replay (it must exist). ``secrets``
        are credential values, ``headers`` the secret headers (:func:`secret_headers`)."""
        scrubber = Scrubber(list(secrets), headers)
        if recording():
            return cls(path, "record", scrubber, server)
        if not path.is_file():
            raise FileNotFoundError(f"no cassette {path}: record it with `make cassettes`")
        loaded = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
        exchanges = [Exchange.from_yaml(item) for item in loaded.get("interactions") or []]
        return cls(path, "replay", scrubber, loaded.get("server"), exchanges)

    def play(self, method: str, url: str, body: bytes) -> Exchange | None:
        key = match_key(method, self.scrubber.text(url), self.scrubber.data(body))
        for exchange in self.exchanges:
            if not exchange.played and exchange.key == key:
                exchange.played = True
                return exchange
        self.unmatched.append(f"{method} {self.scrubber.text(url)}" + (f" body={body[:120]!r}" if body else ""))
        return None

    def add(self, request: httpx.Request, response: httpx.Response, body: bytes) -> None:
        scrub = self.scrubber
        self.exchanges.append(Exchange(
            request.method, scrub.text(str(request.url)), scrub.data(request.content), scrub.headers(request.headers),
            response.status_code, scrub.headers(response.headers), scrub.data(body), played=True))

    def problems(self) -> list[str]:
        """Why this replay does not match its recording (empty when every exchange was played once)."""
        unplayed = [e.describe() for e in self.exchanges if not e.played]
        out = [f"request not in the cassette: {r}" for r in self.unmatched]
        out += [f"recorded but never requested: {r}" for r in unplayed]
        return out

    def save(self) -> None:
        data: dict[str, Any] = {"server": self.server} if self.server else {}
        data["interactions"] = [e.to_yaml() for e in self.exchanges]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        dumped = yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False,
                           allow_unicode=True, width=120)
        self.path.write_text(HEADER + dumped)

    def finish(self) -> None:
        """Save a recording; check a replay (``AssertionError`` naming every mismatch)."""
        if self.mode == "record":
            self.save()
            return
        problems = self.problems()
        if problems:
            raise AssertionError(f"{self.path} does not match what the gateway "
                                 "asked downstream (re-record with `make cassettes` if the change is intended):\n- "
                                 + "\n- ".join(problems))


class CassetteTap:
    """The gateway's downstream transport wrapper for recorded tests; one cassette at a time.

    Give it to ``GatewayHarness(wrap_transport=tap)``; then ``with tap.use(cassette): ...``
    records or replays that block's downstream calls. A call outside any cassette is refused.
    """

    def __init__(self) -> None:
        self._current: Cassette | None = None
        self.lock = threading.Lock()  # the gateway's event loop runs in another thread than the test

    def __call__(self, network: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        return _TapTransport(self, network)

    @property
    def current(self) -> Cassette | None:
        return self._current

    @contextmanager
    def use(self, cassette: Cassette) -> Iterator[Cassette]:
        """Route downstream calls through ``cassette``; verify (replay) or save (record) it at the end."""
        self._current = cassette
        try:
            yield cassette
        except BaseException as exc:
            problems = cassette.problems() if cassette.mode == "replay" else []
            if problems:
                exc.add_note("cassette mismatches:\n- " + "\n- ".join(problems))
            raise
        finally:
            self._current = None
        cassette.finish()


class _TapTransport(httpx.AsyncBaseTransport):
    def __init__(self, tap: CassetteTap, network: httpx.AsyncBaseTransport) -> None:
        self.tap = tap
        self.network = network

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        cassette = self.tap.current
        body = await request.aread()
        if cassette is None:
            raise httpx.ConnectError(f"no cassette in use for {request.method} {request.url.copy_with(query=None)}",
                                     request=request)
        if cassette.mode == "replay":
            with self.tap.lock:
                exchange = cassette.play(request.method, str(request.url), body)
            if exchange is None:
                raise httpx.ConnectError(f"{cassette.path.name} has no recording of this request", request=request)
            return httpx.Response(exchange.status, headers=exchange.response_headers,
                                  content=exchange.response_body, request=request)
        response = await self.network.handle_async_request(request)
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        with self.tap.lock:
            cassette.add(request, response, content)
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in ("content-encoding",
                                                                                         "content-length")]
        return httpx.Response(response.status_code, headers=headers, content=content, request=request)

    async def aclose(self) -> None:
        await self.network.aclose()


@contextmanager
def recorded_client(tmp: Path, service_id: str, name: str, directory: Path | None = None) -> Iterator[httpx.Client]:
    """A gateway client for ``service_id`` whose downstream calls use the cassette ``<name>.yaml`` in
    ``directory`` (default: ``cassettes/`` beside the calling test module).

    The connection comes from the connector's ``SandboxProfile``: its simulator answers when
    recording; a replay starts no simulator and connects to the URL the recording was made at.
    """
    from unigate.testing.connector import ConnectorUnderTest

    tap = CassetteTap()
    cassette = Cassette.open((directory or _caller_dir()) / f"{name}.yaml")
    tracker = ConnectorUnderTest.start(tmp, service_id, simulate=cassette.mode == "record", wrap_transport=tap,
                                       url=cassette.server)
    note_tracker(service_id, cassette.mode, "simulator recordings")
    try:
        cassette.server = tracker.url
        spec = tracker.harness.gateway.registry.connectors[service_id].spec
        cassette.scrubber = Scrubber([str(v) for v in tracker.credentials.values()], secret_headers(spec))
        with tap.use(cassette), tracker.client() as client:
            yield client
    finally:
        tracker.stop()
