"""Codimir connector: purely declarative (connectors/codimir/manifest.yaml)."""

from __future__ import annotations

from unigate.kit import ConnectorDefinition, SandboxProfile, hookimpl, packaged_mapping


def sandbox() -> SandboxProfile:
    """The simulator and demo connection for `unigate sandbox` and recorded tests (imported only then)."""
    from unigate_connectors.codimir import simulator

    return SandboxProfile(
        create_app=simulator.create_app,
        settings={"base_url": "{url}"},
        credentials={"session_token": simulator.DEFAULT_API_KEY},
        curl_path=f"/issue-tracking/collections/{simulator.DEFAULT_PROJECT_ID}/tickets?limit=2",
    )


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    return [ConnectorDefinition(
        service_id="codimir",
        mapping=packaged_mapping("unigate_connectors.codimir", "manifest.yaml"),
        sandbox=sandbox,
    )]
