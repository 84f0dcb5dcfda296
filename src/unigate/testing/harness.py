"""``GatewayHarness`` and ``Simulator``: real servers on loopback for end-to-end tests."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp

from unigate.app import Gateway, build_gateway, create_app
from unigate.downstream.limiter import MemoryBudgets
from unigate.downstream.pool import TransportWrapper
from unigate.plugins.registry import ConnectorRegistry
from unigate.server import GatewayHttpProtocol
from unigate.settings import Settings
from unigate.simulation import BackgroundServer
from unigate.vault.crypto import generate_secret_key
from unigate.vault.models import Connection
from unigate.vault.store import ConnectionStore

APP_ID = "test-app"
CONSUMER_ID = "test-consumer"


@dataclass
class Simulator:
    """A simulated tracker on loopback, with access to its recorded requests and faults."""

    app: Any
    server: BackgroundServer

    @classmethod
    def start(cls, app: ASGIApp) -> Simulator:
        return cls(app, BackgroundServer(app).start())

    @property
    def url(self) -> str:
        return self.server.url

    def requests(self) -> list[dict[str, Any]]:
        return list(self.app.requests)

    def clear(self) -> None:
        self.app.requests.clear()
        self.app.clear_faults()

    def fault(self, **plan: Any) -> None:
        self.app.add_fault(**plan)

    def disconnects_since(self, started: float, wait: float = 2.0) -> list[dict[str, Any]]:
        """The requests received since ``started`` (``time.monotonic()``) whose client hung up before
        the answer, as the simulator records them; waits up to ``wait`` seconds for the first."""
        deadline = time.monotonic() + wait
        while True:
            gone = [d for d in self.app.disconnects if d["received_at"] >= started]
            if gone or time.monotonic() > deadline:
                return gone
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.stop()


@dataclass
class GatewayHarness:
    tmp: Path
    registry: ConnectorRegistry | None = None
    transport: str = "aiohttp"
    secret_key: str = field(default_factory=generate_secret_key)
    wrap_transport: TransportWrapper | None = None  # e.g. a CassetteTap: replay/record downstream traffic
    wrap_oauth_transport: TransportWrapper | None = None  # e.g. HostRoutes: a provider's public host served locally
    settings: dict[str, Any] = field(default_factory=dict)  # Settings fields other than database/transport
    database: Path | str | None = None  # UNIGATE_DATABASE (unigate.testing.databases); None: tmp/vault.db
    gateway: Gateway = field(init=False)
    server: BackgroundServer = field(init=False)
    api_key: str = field(init=False)

    def __post_init__(self) -> None:
        # the request log written by a thread unless a test asks for the writer process (a child per harness
        # would cost every test module its start-up; tests/test_request_log_process.py runs that one)
        settings = Settings(database=self.database or self.tmp / "vault.db", transport=self.transport,
                            **{"request_log_writer": "thread", **self.settings})
        self.gateway = build_gateway(settings, self.secret_key, registry=self.registry,
                                     wrap_transport=self.wrap_transport, wrap_oauth_transport=self.wrap_oauth_transport)
        # served as `unigate serve` serves it: with the head timeout and size cap
        self.server = BackgroundServer(create_app(self.gateway), http=GatewayHttpProtocol, proxy_headers=False).start()
        _, self.api_key = self.gateway.store.create_app("Test app", app_id=APP_ID)
        self.gateway.store.create_consumer(APP_ID, CONSUMER_ID)

    @property
    def store(self) -> ConnectionStore:
        return self.gateway.store

    def connect(self, service_id: str, *, consumer_id: str = CONSUMER_ID, **kwargs: Any) -> Connection:
        return self.store.create_connection(APP_ID, consumer_id, service_id, **kwargs)

    def connect_consumer(self, service_id: str, consumer_id: str, settings: dict[str, Any],
                         credentials: dict[str, Any], **connection: Any) -> Connection:
        """Connect ``consumer_id`` (created unless it is the default consumer) to ``service_id``."""
        if consumer_id != CONSUMER_ID:
            self.store.create_consumer(APP_ID, consumer_id)
        return self.connect(service_id, consumer_id=consumer_id, settings=settings, credentials=credentials,
                            **connection)

    def headers(self, service_id: str | None = None, consumer_id: str = CONSUMER_ID) -> dict[str, str]:
        headers = {"authorization": f"Bearer {self.api_key}", "x-apideck-app-id": APP_ID,
                   "x-apideck-consumer-id": consumer_id}
        if service_id:
            headers["x-apideck-service-id"] = service_id
        return headers

    def client(self, service_id: str | None = None, consumer_id: str = CONSUMER_ID) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, headers=self.headers(service_id, consumer_id), timeout=30)

    def forget_rate_limits(self) -> None:
        """Forget what the gateway learned of its trackers' rate limits (in-process budgets): a test that
        exhausted a simulated tracker's budget does not leave the next test queued behind it."""
        budgets = self.gateway.pool.budgets
        if isinstance(budgets, MemoryBudgets):
            budgets.forget()

    def anonymous(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, timeout=30)

    def stop(self) -> None:
        self.server.stop()
        self.gateway.store.close()
