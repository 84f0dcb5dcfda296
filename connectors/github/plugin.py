"""GitHub connector: connectors/github/manifest.yaml and its named components (``components.py``).

One manifest, three service ids (Apideck's): ``github`` (api.github.com), ``github-server``
(GitHub Enterprise Server: the base URL ``https://HOST/api/v3`` is required) and
``github-enterprise-cloud`` (GitHub.com's API, or ``https://api.SUBDOMAIN.ghe.com`` with data
residency). They differ in their service id, name and base URL setting only, and github-server's
OAuth endpoints are on the server's own origin.
"""

from __future__ import annotations

from typing import Any

import yaml

from unigate.kit import (
    ConnectorDefinition,
    Paginator,
    Preparer,
    RequestBuilder,
    SandboxProfile,
    TransformFactory,
    hookimpl,
    manifest_variant,
    packaged_mapping,
)
from unigate_connectors.github import components

VARIANTS = {
    "github-server": ("GitHub Enterprise Server", {
        "description": "API root of the server: https://HOST/api/v3", "required": True}),
    "github-enterprise-cloud": ("GitHub Enterprise Cloud", {
        "description": "API root: https://api.github.com, or https://api.SUBDOMAIN.ghe.com with data residency",
        "default": "https://api.github.com"}),
}


def sandbox(base_path: str = "") -> SandboxProfile:
    """The simulator and demo connection for `unigate sandbox` and recorded tests (imported only then)."""
    from unigate_connectors.github import simulator

    return SandboxProfile(
        create_app=lambda: simulator.create_app(base_path=base_path),
        settings={"base_url": "{url}" + base_path},
        credentials={"access_token": simulator.DEFAULT_TOKEN},
        curl_path="/issue-tracking/collections/octocat~Hello-World/tickets?limit=2",
    )


# GitHub Enterprise Server serves OAuth on the server's own origin (https://HOST/login/oauth/...),
# beside its API root https://HOST/api/v3; GitHub.com and Enterprise Cloud keep github.com's endpoints.
SERVER_OAUTH = {"authorize_url": "{settings.base_url|origin}/login/oauth/authorize",
                "token_url": "{settings.base_url|origin}/login/oauth/access_token"}


def variant(manifest: dict[str, Any], service_id: str) -> dict[str, Any]:
    """The manifest under another service id, with that variant's name, base URL setting and, for
    github-server, OAuth endpoints on the server's origin."""
    name, base_url = VARIANTS[service_id]
    oauth = {f"connection.oauth2.{k}": v for k, v in SERVER_OAUTH.items()} if service_id == "github-server" else {}
    return manifest_variant(manifest, service_id, name, {"connection.settings.base_url": base_url, **oauth})


@hookimpl
def register_transforms() -> dict[str, TransformFactory]:
    return {"github_repository_id": components.repository_id,
            "github_number_in_url": components.number_in_url,
            "github_priority": components.issue_priority}


@hookimpl
def register_record_preparers() -> dict[str, Preparer]:
    return {"github_labels": components.labels_for_write,
            "github_issue_fields": components.issue_field_values}


@hookimpl
def register_paginators() -> dict[str, Paginator]:
    return {"github_link": components.link_pages}


@hookimpl
def register_request_builders() -> dict[str, RequestBuilder]:
    return {"github_issue_write": components.issue_write}


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    path = packaged_mapping("unigate_connectors.github", "manifest.yaml")
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        ConnectorDefinition(service_id="github", mapping=path, sandbox=sandbox),
        ConnectorDefinition(service_id="github-server", mapping=variant(manifest, "github-server"),
                            sandbox=lambda: sandbox("/api/v3")),
        ConnectorDefinition(service_id="github-enterprise-cloud",
                            mapping=variant(manifest, "github-enterprise-cloud"), sandbox=sandbox),
    ]
