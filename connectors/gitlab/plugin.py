"""GitLab connector: connectors/gitlab/manifest.yaml and its named components (``components.py``).

One manifest, two service ids (Apideck's): ``gitlab`` (GitLab.com) and ``gitlab-server`` (a
self-managed instance: its root URL is required). They differ in their service id, name and base
URL setting only.
"""

from __future__ import annotations

from typing import Any

import yaml

from unigate.kit import ConnectorDefinition, Paginator, Preparer, SandboxProfile, hookimpl, manifest_variant, packaged_mapping
from unigate_connectors.gitlab import components

SERVER_BASE_URL = {"description": "Root URL of the self-managed instance, without /api/v4: https://gitlab.example.com",
                   "required": True}


def sandbox() -> SandboxProfile:
    """The simulator and demo connection for `unigate sandbox` and recorded tests (imported only then)."""
    from unigate_connectors.gitlab import simulator

    return SandboxProfile(
        create_app=simulator.create_app,
        settings={"base_url": "{url}"},
        credentials={"access_token": simulator.OWNER_TOKEN},
        curl_path="/issue-tracking/collections/42/tickets?limit=2",
    )


def server(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest as ``gitlab-server``: the instance's URL is required."""
    return manifest_variant(manifest, "gitlab-server", "GitLab (self-managed)",
                            {"connection.settings.base_url": SERVER_BASE_URL})


@hookimpl
def register_record_preparers() -> dict[str, Preparer]:
    return {"gitlab_labels": components.labels_for_write}


@hookimpl
def register_paginators() -> dict[str, Paginator]:
    return {"gitlab_pages": components.next_page_header,
            "gitlab_keyset": components.keyset_pages}


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    path = packaged_mapping("unigate_connectors.gitlab", "manifest.yaml")
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        ConnectorDefinition(service_id="gitlab", mapping=path, sandbox=sandbox),
        ConnectorDefinition(service_id="gitlab-server", mapping=server(manifest), sandbox=sandbox),
    ]
