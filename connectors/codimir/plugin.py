"""Codimir connector: purely declarative (mappings/codimir.yaml)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from starlette.types import ASGIApp

from unigate.plugins import ConnectorDefinition, SandboxProfile, hookimpl


def _simulator() -> ASGIApp:  # imported lazily: production gateways never load simulators
    from unigate_connectors.codimir import simulator

    return simulator.create_app()


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    from unigate_connectors.codimir.simulator import DEFAULT_API_KEY, DEFAULT_PROJECT_ID

    return [ConnectorDefinition(
        service_id="codimir",
        mapping=Path(str(files("unigate_mappings").joinpath("codimir.yaml"))),
        sandbox=SandboxProfile(
            create_app=_simulator,
            settings={"base_url": "{url}"},
            credentials={"session_token": DEFAULT_API_KEY},
            curl_path=f"/issue-tracking/collections/{DEFAULT_PROJECT_ID}/tickets?limit=2",
        ),
    )]
