"""Jira Cloud connectors: ``jira`` (OAuth 2.0 3LO through api.atlassian.com) is manifest.yaml;
``jira-api-token`` (Basic email:token against the site) is the same manifest with
api-token.yaml's ``connection`` and ``http``. Named components: ``components.py``."""

from __future__ import annotations

from typing import Any

import yaml

from unigate.kit import (
    ConnectorDefinition,
    Preparer,
    RequestBuilder,
    SandboxProfile,
    TransformFactory,
    hookimpl,
    manifest_variant,
    packaged_mapping,
)
from unigate_connectors.jira import components

PACKAGE = "unigate_connectors.jira"


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(packaged_mapping(PACKAGE, name).read_text())
    return loaded


def api_token_manifest() -> dict[str, Any]:
    """manifest.yaml with api-token.yaml's identity and connection, its http merged over."""
    manifest, overlay = _load("manifest.yaml"), _load("api-token.yaml")
    http = {f"http.{k}": v for k, v in overlay["http"].items()}
    return manifest_variant(manifest, overlay["service_id"], overlay["name"], {"connection": overlay["connection"], **http})


def oauth_sandbox() -> SandboxProfile:
    from unigate_connectors.jira import simulator

    return SandboxProfile(create_app=simulator.create_app,
                          settings={"api_url": "{url}", "cloud_id": simulator.CLOUD_ID},
                          credentials={"access_token": simulator.OAUTH_TOKEN},
                          curl_path="/issue-tracking/collections/ENG/tickets?limit=2")


def api_token_sandbox() -> SandboxProfile:
    from unigate_connectors.jira import simulator

    return SandboxProfile(create_app=simulator.create_app, settings={"base_url": "{url}"},
                          credentials={"email": simulator.API_EMAIL, "api_token": simulator.API_TOKEN},
                          curl_path="/issue-tracking/collections/ENG/tickets?limit=2")


@hookimpl
def register_transforms() -> dict[str, TransformFactory]:
    return {"jira_adf": components.jira_adf,
            "jira_user": components.jira_user}


@hookimpl
def register_record_preparers() -> dict[str, Preparer]:
    return {"jira_labels": components.jira_labels,
            "jira_custom_fields": components.jira_custom_fields}


@hookimpl
def register_request_builders() -> dict[str, RequestBuilder]:
    return {"jira_search": components.jira_search,
            "jira_issue_write": components.jira_issue_write}


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    return [ConnectorDefinition(service_id="jira", mapping=packaged_mapping(PACKAGE, "manifest.yaml"),
                                sandbox=oauth_sandbox),
            ConnectorDefinition(service_id="jira-api-token", mapping=api_token_manifest(), sandbox=api_token_sandbox)]
