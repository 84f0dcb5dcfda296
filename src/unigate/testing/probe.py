"""What the acceptance suite (:mod:`unigate.testing.acceptance`) stands on: a gateway in front of one
connector's tracker, what that connector declares, and a per-test probe of the unified API.

- :class:`Capabilities`: what the connector declares (operations, filters, sorts, paging
  parameters, the subject's paths, call ids), read from its manifest and ``Connector.supports``;
- :class:`DownstreamLog`: every downstream exchange the gateway makes, in every mode (simulator,
  live, recording, replay), so a check can say what reached the tracker;
- :class:`AcceptanceTarget`: the gateway connected to the connector's simulator (``SandboxProfile``)
  or real server (``LiveProfile``, through :mod:`unigate.testing.live`: cassettes beside the test),
  and who injects the fault contract's faults: the simulator, or a ``FaultTap`` on the gateway's
  downstream transport (outside the cassette: a faulted request needs no recording);
- :class:`Probe`: one test's client with the suite's vocabulary (paths, page walks, tickets it
  creates and deletes at the end, expectations whose messages say what to fix).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from unigate.connector import Connector
from unigate.connector.capabilities import capabilities
from unigate.downstream.redact import Redactor
from unigate.mapping.spec import OperationSpec
from unigate.testing.connector import TIMEOUT_CONSUMER, ConnectorUnderTest
from unigate.testing.faults import FaultInjector
from unigate.testing.faulttap import FaultTap
from unigate.testing.harness import CONSUMER_ID, GatewayHarness
from unigate.testing.live import LiveTracker, chain
from unigate.unified import UNIFIED

MAX_LIMIT = UNIFIED.limit.maximum

CUSTOM_CONSUMER = "acceptance-custom-mappings"   # connected with CUSTOM_NAME -> the subject's path
CUSTOM_NAME = "acceptance_subject"
PAGE_BUDGET = 40          # pages a small-limit walk reads at most (then its prefix is compared)
WHOLE_BUDGET = 50         # pages of MAX_LIMIT the whole list is read in at most
BASE = "/issue-tracking/collections"


class AcceptanceFailure(AssertionError):
    """A check the connector fails; the message says what to fix."""


def expect(condition: Any, message: str) -> None:
    """Fail with ``message`` (what is wrong and what to fix in the connector) unless ``condition``."""
    if not condition:
        raise AcceptanceFailure(message)


# -- what the connector declares -------------------------------------------------------------------
@dataclass(frozen=True)
class Capabilities:
    connector: Connector

    @property
    def service_id(self) -> str:
        return self.connector.service_id

    def supports(self, resource: str, operation: str) -> bool:
        return self.connector.supports(resource, operation)

    def declared(self, resource: str, operation: str) -> OperationSpec | None:
        res = self.connector.spec.resources.get(resource)
        return res.operations.get(operation) if res is not None else None

    def where(self, resource: str, operation: str) -> str:
        """The manifest key of an operation, for messages."""
        return f"resources.{resource}.operations.{operation}"

    @property
    def filters(self) -> dict[str, Any]:
        """The tickets list's filters the gateway serves, declared (native) or emulated by the engine
        (an undeclared since): name -> its capability (``mode``, ``how``)."""
        served = capabilities(self.connector)["tickets"]["filters"]
        return {name: cap for name, cap in served.items() if cap["mode"] != "unsupported"}

    def sorts(self, resource: str) -> set[tuple[str, str]]:
        """(field, direction) pairs the list serves: its sort fields both ways, its natural orders."""
        op = self.declared(resource, "all")
        sort = op.sort if op is not None else None
        if sort is None:
            return set()
        served = {(by, d) for by in sort.fields for d in ("asc", "desc")} if sort.param else set()
        return served | {tuple(order.split(" ", 1)) for order in sort.natural}  # type: ignore[misc]

    def static(self, resource: str) -> bool:
        """Whether the list is served from the manifest's ``static`` records (no downstream call)."""
        op = self.declared(resource, "all")
        return op is not None and op.static is not None

    def paging_params(self, resource: str) -> set[str]:
        op = self.declared(resource, "all")
        paging = op.pagination if op is not None else None
        if paging is None or paging.style == "none":
            return set()
        own = {"offset": paging.offset_param, "page": paging.page_param, "cursor": paging.token_param,
               "ids": paging.id_param}   # a paginator component: the token parameter it names
        return {p for p in (paging.limit_param, own.get(paging.style, paging.token_param)) if p}

    def page_size(self, resource: str) -> int:
        """The tracker's largest page (capped at the unified maximum)."""
        op = self.declared(resource, "all")
        paging = op.pagination if op is not None else None
        return min(paging.max_limit, MAX_LIMIT) if paging is not None and paging.style != "none" else MAX_LIMIT

    def limit(self, resource: str, name: str) -> int:
        """The limit a paging check uses: 1, 2, ``middle`` (half the tracker's page size plus one, so
        unified pages straddle the tracker's) or ``max`` (the unified maximum)."""
        return {"1": 1, "2": 2, "middle": self.page_size(resource) // 2 + 1, "max": MAX_LIMIT}[name]

    def subject_paths(self) -> tuple[str | None, str | None]:
        """(read, write) JSONPaths of the ticket subject in the tracker's records."""
        res = self.connector.spec.resources.get("tickets")
        subject = res.fields.get("subject") if res is not None else None
        return (subject.read_path, subject.write_path) if subject is not None else (None, None)

    def call_id(self, resource: str, operation: str) -> str:
        op = self.declared(resource, operation)
        return (op.call_id if op is not None else None) or f"{resource}_{operation}"

    def wrap(self, resource: str, operation: str) -> str | None:
        op = self.declared(resource, operation)
        return op.wrap if op is not None else None


# -- what reaches the tracker ---------------------------------------------------------------------
@dataclass
class Exchange:
    method: str
    url: httpx.URL
    body: bytes
    status: int | None
    response: bytes

    def json(self) -> Any:
        return orjson.loads(self.response) if self.response else None

    def shown(self, credentials: dict[str, Any]) -> Any:
        """The answer as ``_raw`` may show it: credential values redacted as the gateway redacts them."""
        return Redactor([str(v) for v in credentials.values() if isinstance(v, (str, int)) and v != ""]).deep(
            self.json())

    def sent(self) -> Any:
        return orjson.loads(self.body) if self.body else None

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


class DownstreamLog:
    """A transport wrapper logging every downstream exchange (give it as ``wrap_transport``)."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self.lock = threading.Lock()

    def __call__(self, network: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        return _LoggingTransport(self, network)

    def clear(self) -> None:
        with self.lock:
            self.exchanges.clear()

    def since(self, mark: int) -> list[Exchange]:
        with self.lock:
            return list(self.exchanges[mark:])

    @property
    def count(self) -> int:   # not __len__: an empty log must stay truthy as a transport wrapper
        return len(self.exchanges)


class _LoggingTransport(httpx.AsyncBaseTransport):
    def __init__(self, log: DownstreamLog, network: httpx.AsyncBaseTransport) -> None:
        self.log, self.network = log, network

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        try:
            response = await self.network.handle_async_request(request)
        except Exception:
            self._add(Exchange(request.method, request.url, body, None, b""))
            raise
        content = await response.aread()
        await response.aclose()
        self._add(Exchange(request.method, request.url, body, response.status_code, content))
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length")]
        return httpx.Response(response.status_code, headers=headers, content=content, request=request)

    def _add(self, exchange: Exchange) -> None:
        with self.log.lock:
            self.log.exchanges.append(exchange)

    async def aclose(self) -> None:
        await self.network.aclose()


# -- the gateway in front of the tracker ----------------------------------------------------------
@dataclass
class AcceptanceTarget:
    """A gateway connected to one connector's simulator or real server (or its recordings)."""

    service_id: str
    mode: str                        # "simulator" | "live" | "record" | "replay"
    harness: GatewayHarness
    log: DownstreamLog
    sandbox: ConnectorUnderTest | None = None
    live: LiveTracker | None = None
    tap: FaultTap | None = None      # the fault injector of a connector tested without its simulator
    capabilities: Capabilities = field(init=False)

    def __post_init__(self) -> None:
        self.capabilities = Capabilities(self.harness.gateway.registry.connectors[self.service_id])

    @classmethod
    def start(cls, tmp: Path, service_id: str, tracker: str, cassettes: Path) -> AcceptanceTarget:
        """``tracker``: "sandbox" (the connector's simulator) or "live" (its real server or cassettes)."""
        log = DownstreamLog()
        if tracker == "sandbox":
            sandbox = ConnectorUnderTest.start(tmp, service_id, wrap_transport=log)
            target = cls(service_id, "simulator", sandbox.harness, log, sandbox=sandbox)
        else:   # the tap answers a faulted request before the log and the cassette see it
            tap = FaultTap()
            live = LiveTracker.start(tmp, service_id, cassettes, observe=chain(tap, log))
            target = cls(service_id, live.mode, live.harness, log, live=live, tap=tap)
            tap.errors = target.capabilities.connector.spec.http.errors
            live.connect(TIMEOUT_CONSUMER, settings={"timeout": 0.5})   # as ConnectorUnderTest, for the timeout
        read_path, _ = target.capabilities.subject_paths()
        if read_path is not None:
            target.connect(CUSTOM_CONSUMER, custom_mappings={CUSTOM_NAME: read_path})
        return target

    @property
    def credentials(self) -> dict[str, Any]:
        """The default connection's credentials (the gateway hides their values in ``_raw``)."""
        if self.sandbox is not None:
            return self.sandbox.credentials
        assert self.live is not None
        return self.live.profile.connection(self.live.env)[1]

    @property
    def faults(self) -> FaultInjector:
        """Who injects downstream faults: the simulator, else the tap on the gateway's transport."""
        if self.sandbox is not None and self.sandbox.simulator is not None:
            return self.sandbox.simulator
        assert self.tap is not None
        return self.tap

    def connect(self, consumer_id: str, **connection: Any) -> None:
        (self.sandbox or self.live).connect(consumer_id, **connection)  # type: ignore[union-attr]

    @contextmanager
    def session(self, name: str, consumer_id: str = CONSUMER_ID) -> Iterator[httpx.Client]:
        """One test's client; its downstream traffic is the cassette ``name`` when live-recorded."""
        if self.sandbox is not None and self.sandbox.simulator is not None:
            self.sandbox.simulator.clear()
        if self.tap is not None:
            self.tap.clear()
        if self.live is not None:
            self.live.forget_lookups()   # each cassette holds the reference-list calls its test needs
        self.harness.gateway.dispatcher.states.clear()   # reference lists too: a fresh state per test
        self.harness.forget_rate_limits()                # and what a fault test taught the rate limiter
        recorded = self.live.recorded(name) if self.live is not None else nullcontext()
        with recorded, self.harness.client(consumer_id=consumer_id) as client:
            self.log.clear()
            yield client

    def stop(self) -> None:
        (self.sandbox or self.live).stop()  # type: ignore[union-attr]


# -- one test's view of the unified API ------------------------------------------------------------
@dataclass
class Probe:
    target: AcceptanceTarget
    client: httpx.Client
    collection_id: str | None          # configured on the test class, else the first listed
    ticket_body: dict[str, Any]        # a create the connector accepts
    created: list[tuple[str, str]] = field(default_factory=list)   # (collection, ticket) to delete at the end

    @property
    def caps(self) -> Capabilities:
        return self.target.capabilities

    @property
    def service_id(self) -> str:
        return self.target.service_id

    # -- paths -------------------------------------------------------------------------------------
    def collection(self) -> str:
        if self.collection_id is None:
            body = self.ok(self.client.get(BASE, params={"limit": 1}), "collections.all")
            expect(body["data"], f"{self.service_id} lists no collection: the suite needs one to create tickets in; "
                                 "set `collection_id` on the test class or check collections.all")
            self.collection_id = body["data"][0]["id"]
        return self.collection_id

    def tickets_path(self) -> str:
        return f"{BASE}/{self.collection()}/tickets"

    def list_path(self, resource: str, ticket_id: str | None = None) -> str:
        if resource == "collections":
            return BASE
        if resource == "comments":
            return f"{self.tickets_path()}/{ticket_id}/comments"
        return f"{BASE}/{self.collection()}/{resource}"

    # -- answers -----------------------------------------------------------------------------------
    def ok(self, response: httpx.Response, what: str, status: int = 200) -> dict[str, Any]:
        """The body of a success answer; fails naming the operation and the error the gateway gave."""
        body = _json(response)
        expect(response.status_code == status and isinstance(body, dict) and "data" in body,
               f"{what}: expected HTTP {status} with data, got {response.status_code}: {_excerpt(body)}")
        return body

    def refused(self, response: httpx.Response, status: int, type_name: str, what: str, fix: str) -> dict[str, Any]:
        body = _json(response)
        got = (response.status_code, body.get("type_name") if isinstance(body, dict) else None)
        expect(got == (status, type_name), f"{what}: expected {status} {type_name}, got {got[0]} {got[1]} "
                                           f"({_excerpt(body)}); {fix}")
        expect(body.get("status_code") == status, f"{what}: the error body's status_code is not the HTTP status")
        return body

    def walk(self, path: str, limit: int, budget: int, **params: Any) -> tuple[list[list[dict[str, Any]]], bool]:
        """Pages of a list read through ``meta.cursors.next`` (at most ``budget``); True if it ended."""
        pages: list[list[dict[str, Any]]] = []
        cursor = None
        for _ in range(budget):
            query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
            body = self.ok(self.client.get(path, params=query), f"GET {path} {query}")
            self.check_page(body, limit, path)
            pages.append(body["data"])
            cursor = body["meta"]["cursors"]["next"]
            if cursor is None:
                return pages, True
        return pages, False

    def check_page(self, body: dict[str, Any], limit: int, path: str) -> None:
        data, meta = body["data"], body.get("meta") or {}
        expect(isinstance(data, list) and len(data) <= limit,
               f"GET {path} limit={limit}: {len(data)} records on a page of {limit}: the connector must cut its "
               "window at the limit (the engine's paging helper does; an operation override must too)")
        expect(meta.get("items_on_page") == len(data), f"GET {path}: meta.items_on_page is not the page's length")
        expect(all(isinstance(r, dict) and isinstance(r.get("id"), str) and r["id"] for r in data),
               f"GET {path}: every record needs a non-empty string id; map `id` (transform: string for numbers)")

    def whole(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every record of a list, read at the unified maximum."""
        pages, ended = self.walk(path, MAX_LIMIT, WHOLE_BUDGET, **params)
        expect(ended, f"GET {path} did not end after {WHOLE_BUDGET} pages of {MAX_LIMIT}: meta.cursors.next never "
                      "becomes null (the connector's `pagination.total`/`page_count` or end detection)")
        return [record for page in pages for record in page]

    # -- tickets the test makes ----------------------------------------------------------------------
    def new_ticket(self, **fields: Any) -> tuple[str, dict[str, Any]]:
        """Create a ticket (the class's ``ticket`` body with ``fields``); (id, answer body). Deleted at the end."""
        sent = {**self.ticket_body, **fields}
        body = self.ok(self.client.post(self.tickets_path(), json=sent), f"tickets.add {sent}", status=201)
        ticket_id = body["data"].get("id")
        expect(isinstance(ticket_id, str) and ticket_id,
               f"tickets.add answered no string id ({_excerpt(body)}): declare the created id "
               f"(`{self.caps.where('tickets', 'add')}.id` or `record`) so it maps to `id`")
        self.created.append((self.collection(), ticket_id))
        return ticket_id, body

    def ticket(self, ticket_id: str, consumer_client: httpx.Client | None = None) -> dict[str, Any]:
        client = consumer_client or self.client
        return self.ok(client.get(f"{self.tickets_path()}/{ticket_id}"), f"tickets.one {ticket_id}")["data"]

    def ensure_tickets(self, count: int) -> None:
        """Create tickets until the collection holds ``count`` (a fresh tracker may hold fewer)."""
        held = len(self.whole(self.tickets_path()))
        if held >= count:
            return
        expect(self.caps.supports("tickets", "add"),
               f"the collection holds {held} tickets and the connector cannot create more: "
               f"the suite needs {count}; point `collection_id` at a fuller one")
        for n in range(held, count):
            sent = {**self.ticket_body, "subject": f"Acceptance volume {n + 1}"}
            body = self.ok(self.client.post(self.tickets_path(), json=sent), "tickets.add", status=201)
            expect(body["data"].get("id"), "tickets.add answered no id")

    def cleanup(self) -> None:
        if not self.caps.supports("tickets", "delete"):
            return
        for collection_id, ticket_id in reversed(self.created):
            self.client.delete(f"{BASE}/{collection_id}/tickets/{ticket_id}")

    # -- downstream ------------------------------------------------------------------------------------
    def mark(self) -> int:
        return self.target.log.count

    def downstream(self, mark: int) -> list[Exchange]:
        return self.target.log.since(mark)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _excerpt(body: Any) -> str:
    text = orjson.dumps(body).decode() if not isinstance(body, str) else body
    return text if len(text) <= 400 else text[:400] + "…"


def timestamp(value: Any) -> datetime | None:
    """A unified timestamp as a datetime (None when absent or not one)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
