"""Selectel Tickets connector: connectors/selectel/manifest.yaml plus the quirks in ``connector.py``."""

from __future__ import annotations

from unigate.kit import ConnectorDefinition, SandboxProfile, hookimpl, packaged_mapping
from unigate_connectors.selectel.connector import SelectelConnector


def sandbox() -> SandboxProfile:
    """The simulator and demo connection for `unigate sandbox` and recorded tests (imported only then)."""
    from unigate_connectors.selectel import simulator

    return SandboxProfile(
        create_app=simulator.create_app,
        settings={"base_url": "{url}" + simulator.BASE_PATH},
        credentials={"token": simulator.DEFAULT_API_KEY},
        curl_path="/issue-tracking/collections/support/tickets?limit=2",
    )


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    return [ConnectorDefinition(
        service_id="selectel",
        mapping=packaged_mapping("unigate_connectors.selectel", "manifest.yaml"),
        connector_class=SelectelConnector,
        sandbox=sandbox,
    )]
