"""A gateway serving a test connector given by its manifest (and optional connector class),
registered the way a plugin registers, beside every installed connector."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

from unigate.kit import Connector, ConnectorDefinition, hookimpl
from unigate.plugins.registry import ConnectorRegistry
from unigate.testing import GatewayHarness


def manifest_gateway(tmp: Path, service_id: str, mapping: Path | dict[str, Any], url: str, *,
                     connector_class: type[Connector] | None = None,
                     credentials: dict[str, Any] | None = None, **harness: Any) -> GatewayHarness:
    """A running gateway whose demo consumer is connected to ``url`` (setting ``base_url``)."""

    @hookimpl
    def unigate_connectors() -> list[ConnectorDefinition]:
        return [ConnectorDefinition(service_id=service_id, mapping=mapping, connector_class=connector_class)]

    registry = ConnectorRegistry.load()
    registry.register_module(service_id, types.SimpleNamespace(__name__=f"{service_id}_test_plugin",
                                                               unigate_connectors=unigate_connectors))
    gateway = GatewayHarness(tmp, registry=registry, **harness)
    gateway.connect(service_id, settings={"base_url": url}, credentials=credentials or {})
    return gateway
