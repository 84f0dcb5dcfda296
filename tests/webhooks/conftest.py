"""A real receiver (a Starlette app on loopback verifying signatures) and a gateway polling a simulator; the
gateway's database is each backend in turn (``database``: SQLite, then PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from unigate.plugins.registry import ConnectorRegistry
from unigate.testing.harness import CONSUMER_ID, GatewayHarness, Simulator
from unigate.testing.webhooks import Receiver, receiver_fixture
from unigate.webhooks.destination import Egress, Resolver, system_resolve

FAST = {"webhook_poll_interval": 0.2, "webhook_retry_base": 0.05, "webhook_retry_cap": 0.2,
        "webhook_calls_per_minute": 60_000.0, "webhook_delivery_timeout": 2.0, "webhook_lease": 3.0,
        "webhook_allow_private": ("*",)}   # the receivers are on loopback: the operator's explicit opt-in


PUBLIC = "93.184.216.34"
DNS = {"receiver.example": [PUBLIC], "hooks.example": [PUBLIC], "rebind.example": ["127.0.0.1"],
       "metadata.example": ["169.254.169.254"], "split.example": [PUBLIC, "10.0.0.7"], "v6loop.example": ["::1"],
       "lan.example": ["192.168.0.9"]}


def table(entries: dict[str, list[str]]) -> Resolver:
    """A DNS answering ``*.example`` names from ``entries`` (tests never ask the internet's); ``localhost``, IP
    literals and other names through the system's resolver."""
    async def resolve(host: str, port: int) -> list[str]:
        if host in entries:
            return entries[host]
        if host.rstrip(".").endswith(".example"):
            raise OSError(f"{host}: name not known")
        return await system_resolve(host, port)
    return resolve


def fast_env() -> dict[str, str]:
    """``FAST`` as the environment of a ``unigate`` process (lists comma-separated)."""
    return {f"UNIGATE_{k.upper()}": ",".join(v) if isinstance(v, tuple) else str(v) for k, v in FAST.items()}


receiver = receiver_fixture()


@pytest.fixture
def api_harness(tmp_path: Path, database: Path | str) -> Iterator[GatewayHarness]:
    """A gateway serving the Webhook API, no runner; ``*.example`` names resolve through :data:`DNS`."""
    found = GatewayHarness(tmp_path, settings={"webhooks": False}, database=database)
    found.gateway.webhook_egress = Egress(resolve=table(DNS))
    yield found
    found.stop()


@pytest.fixture
def api(api_harness: GatewayHarness) -> Iterator[httpx.Client]:
    with api_harness.client() as client:
        yield client


@dataclass
class Setup:
    harness: GatewayHarness
    simulator: Simulator
    service_id: str
    collection_id: str

    def subscribe(self, receiver: Receiver, name: str, events: list[str] | None = None) -> str:
        """A subscription of the test app delivering to the receiver's ``/name``; returns its id."""
        with self.harness.client() as client:
            answer = client.post("/webhook/webhooks", json={
                "unified_api": "issue-tracking", "status": "enabled", "delivery_url": receiver.url(name),
                "events": events or ["*"]})
        assert answer.status_code == 201, answer.text
        receiver.secrets[f"/{name}"] = answer.json()["secret"]
        return str(answer.json()["data"]["id"])

    def tickets(self) -> httpx.Client:
        return self.harness.client(self.service_id)

    @property
    def tickets_path(self) -> str:
        return f"/issue-tracking/collections/{self.collection_id}/tickets"

    @property
    def runner(self) -> Any:
        return self.harness.gateway.webhooks

    def baseline(self, timeout: float = 10.0) -> None:
        """Wait until every collection of the connection was polled once (the baseline)."""
        wait_for(lambda: self.runner is not None and any(r.collections for r in self.runner.reports), timeout)


def wait_for(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"not true within {timeout}s")


def start_setup(tmp: Path, service_id: str = "codimir", collection_id: str = "project_456", *,
                database: Path | str | None = None, **settings: Any) -> Setup:
    registry = ConnectorRegistry.load()
    profile = registry.definitions[service_id].sandbox()
    simulator = Simulator.start(profile.create_app())
    harness = GatewayHarness(tmp, registry=registry, settings={**FAST, **settings}, database=database)
    base, credentials = profile.connection(simulator.url)
    harness.connect(service_id, settings=base, credentials=credentials)
    return Setup(harness, simulator, service_id, collection_id)


@pytest.fixture
def setup(tmp_path: Path, database: Path | str) -> Iterator[Setup]:
    found = start_setup(tmp_path, database=database)
    yield found
    found.harness.stop()
    found.simulator.stop()


__all__ = ["CONSUMER_ID", "FAST", "Receiver", "Setup", "fast_env", "start_setup", "table", "wait_for"]
