"""Registers the Gitea connector (entry point `unigate.connectors` in pyproject.toml); imports `unigate.kit` only."""

from __future__ import annotations

from unigate.kit import ConnectorDefinition, SandboxProfile, hookimpl, packaged_mapping


def sandbox() -> SandboxProfile:
    """The simulator and its demo connection, for `unigate sandbox` and the tests (imported only there)."""
    from unigate_gitea import simulator

    return SandboxProfile(
        create_app=simulator.create_app,
        settings={"base_url": "{url}", "owner": simulator.OWNER},
        credentials={"token": simulator.TOKEN},
        curl_path="/issue-tracking/collections/website/tickets?limit=2",
    )


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    return [ConnectorDefinition(
        service_id="gitea",
        mapping=packaged_mapping("unigate_gitea", "manifest.yaml"),
        sandbox=sandbox,
    )]
