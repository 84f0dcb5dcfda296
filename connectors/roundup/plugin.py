"""Roundup connector (work in progress: registers nothing yet)."""

from __future__ import annotations

from unigate.plugins import ConnectorDefinition, hookimpl


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    return []
