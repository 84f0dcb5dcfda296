"""Opine connector: mappings/opine.yaml plus the quirks in ``connector.OpineConnector``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from unigate.plugins import ConnectorDefinition, SandboxProfile, hookimpl
from unigate_connectors.opine.connector import OpineConnector


def _simulator() -> Any:  # imported lazily: production gateways never load simulators
    from unigate_connectors.opine import simulator

    return simulator.create_app()


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    from unigate_connectors.opine.simulator import DEFAULT_API_KEY

    return [ConnectorDefinition(
        service_id="opine",
        mapping=Path(str(files("unigate_mappings").joinpath("opine.yaml"))),
        connector_class=OpineConnector,
        sandbox=SandboxProfile(
            create_app=_simulator,
            settings={"base_url": "{url}"},
            credentials={"api_key": DEFAULT_API_KEY},
            curl_path="/issue-tracking/collections/organization/tickets?limit=2",
        ),
    )]
