"""One manifest, several connectors: a variant is the manifest under another service id and name,
with a few values replaced (GitHub.com and GitHub Enterprise Server, Jira's OAuth and API-token
connections). A plugin returns each variant as its own ``ConnectorDefinition(mapping=<dict>)``."""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from typing import Any


def manifest_variant(manifest: Mapping[str, Any], service_id: str, name: str,
                     replace: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A deep copy of ``manifest`` as ``service_id`` named ``name``, each value of ``replace`` set at its
    dotted key path (``{"connection.settings.base_url": {"required": True}}``; a path's segments name
    mapping keys and hold no dot), replacing what was there whole; the rest is shared."""
    variant = deepcopy(dict(manifest))
    variant.update(service_id=service_id, name=name)
    for path, value in (replace or {}).items():
        *parents, key = path.split(".")
        target = variant
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ValueError(f"{path}: {part!r} of the manifest is no mapping")
        target[key] = deepcopy(value)
    return variant
