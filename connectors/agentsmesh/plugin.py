"""AgentsMesh connector: declarative (mappings/agentsmesh.yaml); status updates go to
``PATCH /tickets/:slug/status`` through the mapping's ``split`` call."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from unigate.plugins import ConnectorDefinition, SandboxProfile, hookimpl


def _simulator():  # imported lazily: production gateways never load simulators
    from unigate_connectors.agentsmesh import simulator

    return simulator.create_app()


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    from unigate_connectors.agentsmesh.simulator import DEFAULT_API_KEY, DEFAULT_ORG, MAIN_REPOSITORY_ID

    return [ConnectorDefinition(
        service_id="agentsmesh",
        mapping=Path(str(files("unigate_mappings").joinpath("agentsmesh.yaml"))),
        sandbox=SandboxProfile(
            create_app=_simulator,
            settings={"base_url": "{url}", "organization": DEFAULT_ORG},
            credentials={"api_key": DEFAULT_API_KEY},
            curl_path=f"/issue-tracking/collections/{MAIN_REPOSITORY_ID}/tickets?limit=2",
        ),
    )]
