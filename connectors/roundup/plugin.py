"""Roundup connector: connectors/roundup/manifest.yaml and its named components (``components.py``); no Python connector (README.md)."""

from __future__ import annotations

from unigate.kit import ConnectorDefinition, LiveProfile, Preparer, TransformFactory, hookimpl, packaged_mapping
from unigate_connectors.roundup import components


@hookimpl
def register_transforms() -> dict[str, TransformFactory]:
    return {"roundup_datetime": components.roundup_datetime}


@hookimpl
def register_record_preparers() -> dict[str, Preparer]:
    return {"roundup_element": components.roundup_element,
            "roundup_keywords": components.roundup_keywords}


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    return [ConnectorDefinition(
        service_id="roundup",
        mapping=packaged_mapping("unigate_connectors.roundup", "manifest.yaml"),
        live=LiveProfile(
            env_prefix="ROUNDUP",
            settings={"base_url": "{ROUNDUP_BASE_URL}"},
            credentials={"username": "{ROUNDUP_USER}", "password": "{ROUNDUP_PASSWORD}"},
            secret_vars=("ROUNDUP_PASSWORD",),
            curl_path="/issue-tracking/collections/issue/tickets?limit=2",
        ),
    )]
