"""AgentsMesh connector: declarative (connectors/agentsmesh/manifest.yaml); status updates go to
``PATCH /tickets/:slug/status`` through the mapping's ``split`` call."""

from __future__ import annotations

from unigate.kit import ConnectorDefinition, SandboxProfile, hookimpl, packaged_mapping


def sandbox() -> SandboxProfile:
    """The simulator and demo connection for `unigate sandbox` and recorded tests (imported only then)."""
    from unigate_connectors.agentsmesh import simulator

    return SandboxProfile(
        create_app=simulator.create_app,
        settings={"base_url": "{url}", "organization": simulator.DEFAULT_ORG},
        credentials={"api_key": simulator.DEFAULT_API_KEY},
        curl_path=f"/issue-tracking/collections/{simulator.MAIN_REPOSITORY_ID}/tickets?limit=2",
    )


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    return [ConnectorDefinition(
        service_id="agentsmesh",
        mapping=packaged_mapping("unigate_connectors.agentsmesh", "manifest.yaml"),
        sandbox=sandbox,
    )]
