"""Linear connector: manifest.yaml (GraphQL documents validated against spec/schema.subset.graphql)
and two named components (``components.py``)."""

from __future__ import annotations

from unigate.kit import ConnectorDefinition, Paginator, Preparer, SandboxProfile, hookimpl, packaged_mapping
from unigate_connectors.linear import components


def sandbox() -> SandboxProfile:
    """The simulator and demo connection (API key) for `unigate sandbox` and the tests."""
    from unigate_connectors.linear import simulator

    return SandboxProfile(create_app=simulator.create_app, settings={"base_url": "{url}"},
                          credentials={"api_key": simulator.API_KEY}, curl_path="/issue-tracking/collections")


@hookimpl
def register_record_preparers() -> dict[str, Preparer]:
    return {"linear_state": components.linear_state}


@hookimpl
def register_paginators() -> dict[str, Paginator]:
    return {"linear_relay": components.linear_relay}


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    return [ConnectorDefinition(service_id="linear",
                                mapping=packaged_mapping("unigate_connectors.linear", "manifest.yaml"),
                                sandbox=sandbox)]
