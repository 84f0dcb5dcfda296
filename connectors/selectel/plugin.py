"""Selectel Tickets connector: mappings/selectel.yaml plus the quirks in ``connector.py``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from unigate.plugins import ConnectorDefinition, SandboxProfile, hookimpl
from unigate_connectors.selectel.connector import SelectelConnector

if TYPE_CHECKING:
    from unigate.simulation import SimulatorControl


def _simulator() -> SimulatorControl:  # built only when `unigate sandbox` runs
    from unigate_connectors.selectel import simulator

    return simulator.create_app()


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    from unigate_connectors.selectel.simulator import BASE_PATH, DEFAULT_API_KEY

    return [ConnectorDefinition(
        service_id="selectel",
        mapping=Path(str(files("unigate_mappings").joinpath("selectel.yaml"))),
        connector_class=SelectelConnector,
        sandbox=SandboxProfile(
            create_app=_simulator,
            settings={"base_url": "{url}" + BASE_PATH},
            credentials={"token": DEFAULT_API_KEY},
            curl_path="/issue-tracking/collections/support/tickets?limit=2",
        ),
    )]
