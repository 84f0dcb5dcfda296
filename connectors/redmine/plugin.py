"""Redmine connector: connectors/redmine/manifest.yaml and the ``redmine_status`` transform
(``components.py``); live tests against a real server."""

from __future__ import annotations

from unigate.kit import ConnectorDefinition, LiveProfile, TransformFactory, hookimpl, packaged_mapping
from unigate_connectors.redmine import components


@hookimpl
def register_transforms() -> dict[str, TransformFactory]:
    return {"redmine_status": components.redmine_status_transform}


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    return [ConnectorDefinition(
        service_id="redmine",
        mapping=packaged_mapping("unigate_connectors.redmine", "manifest.yaml"),
        live=LiveProfile(
            env_prefix="REDMINE",
            settings={"base_url": "{REDMINE_BASE_URL}"},
            credentials={"api_key": "{REDMINE_API_KEY}"},
            secret_vars=("REDMINE_API_KEY",),
            curl_path="/issue-tracking/collections/{REDMINE_PROJECT}/tickets?limit=2",
        ),
    )]
