"""Opine connector: connectors/opine/manifest.yaml and its named component (``components.py``); no Python connector."""

from __future__ import annotations

from unigate.kit import ConnectorDefinition, SandboxProfile, TransformFactory, hookimpl, packaged_mapping
from unigate_connectors.opine import components


def sandbox() -> SandboxProfile:
    """The simulator and demo connection for `unigate sandbox` and recorded tests (imported only then)."""
    from unigate_connectors.opine import simulator

    return SandboxProfile(
        create_app=simulator.create_app,
        settings={"base_url": "{url}"},
        credentials={"api_key": simulator.DEFAULT_API_KEY},
        curl_path="/issue-tracking/collections/organization/tickets?limit=2",
    )


@hookimpl
def register_transforms() -> dict[str, TransformFactory]:
    return {"opine_most_severe": components.opine_most_severe}


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    return [ConnectorDefinition(
        service_id="opine",
        mapping=packaged_mapping("unigate_connectors.opine", "manifest.yaml"),
        sandbox=sandbox,
    )]
