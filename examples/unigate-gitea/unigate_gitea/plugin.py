"""Registers the Gitea connector (entry point `unigate.connectors` in pyproject.toml); imports `unigate.kit` only."""

from __future__ import annotations

from unigate.kit import ConnectorDefinition, LiveProfile, SandboxProfile, hookimpl, packaged_mapping

# A real Gitea, described by GITEA_BASE_URL / GITEA_OWNER / GITEA_TOKEN (environment or
# $UNIGATE_TRACKERS_DIR/gitea.env): the live tests run against it, record cassettes, or replay them.
LIVE = LiveProfile(
    env_prefix="GITEA",
    settings={"base_url": "{GITEA_BASE_URL}", "owner": "{GITEA_OWNER}"},
    credentials={"token": "{GITEA_TOKEN}"},
    secret_vars=("GITEA_TOKEN",),
    curl_path="/issue-tracking/collections",
)


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
        live=LIVE,
    )]
