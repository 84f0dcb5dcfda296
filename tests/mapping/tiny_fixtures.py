"""Fixtures for the declared-feature tests: the tiny tracker (``sim``), a gateway connected to it
through its manifest (``harness``; consumer ``by-name`` maps custom field Customer by name) and a
per-test ``client`` whose tracker request log is reset."""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from unigate.kit import ConnectorDefinition, hookimpl
from unigate.plugins.registry import ConnectorRegistry
from unigate.testing import GatewayHarness, Simulator

from .tiny_tracker import MANIFEST, create_app

CUSTOMER = {"customer": "$.fields[?(@.name == 'Customer')].value"}


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    return [ConnectorDefinition(service_id="tiny", mapping=MANIFEST)]


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator.start(create_app())
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, sim: Simulator) -> Iterator[GatewayHarness]:
    registry = ConnectorRegistry.load()
    registry.register_module("tiny", types.SimpleNamespace(__name__="tiny_test_plugin",
                                                           unigate_connectors=unigate_connectors))
    gateway = GatewayHarness(Path(tmp_path_factory.mktemp("tiny")), registry=registry)
    gateway.connect_consumer("tiny", "test-consumer", {"base_url": sim.url}, {})
    gateway.connect_consumer("tiny", "by-name", {"base_url": sim.url}, {}, custom_mappings=CUSTOMER)
    yield gateway
    gateway.stop()


@pytest.fixture
def client(harness: GatewayHarness, sim: Simulator) -> Iterator[httpx.Client]:
    sim.clear()
    with harness.client() as c:
        yield c


def sent(sim: Simulator, method: str | None = None) -> list[dict[str, Any]]:
    """The tracker's requests (of ``method``), without the control ones."""
    return [r for r in sim.requests() if method is None or r["method"] == method]
