"""``unigate.kit.manifest_variant``: one manifest served as several connectors (GitHub.com and GitHub
Enterprise Server, GitLab.com and self-managed, Jira's OAuth and API-token connections)."""

from __future__ import annotations

from typing import Any

import pytest

from unigate.kit import manifest_variant

MANIFEST: dict[str, Any] = {
    "service_id": "acme", "name": "Acme",
    "connection": {"settings": {"base_url": {"default": "https://api.acme.example", "description": "API root"}},
                   "oauth2": {"authorize_url": "https://acme.example/authorize", "scopes": ["read"]}},
    "http": {"base_url": "{settings.base_url}", "headers": {"Accept": "application/json"}},
}


def test_a_variant_has_its_own_service_id_and_name_and_shares_the_rest() -> None:
    variant = manifest_variant(MANIFEST, "acme-server", "Acme Server")
    assert (variant["service_id"], variant["name"]) == ("acme-server", "Acme Server")
    assert {k: v for k, v in variant.items() if k not in ("service_id", "name")} == \
        {k: v for k, v in MANIFEST.items() if k not in ("service_id", "name")}


def test_a_replaced_value_replaces_what_was_at_its_path_whole() -> None:
    variant = manifest_variant(MANIFEST, "acme-server", "Acme Server",
                               {"connection.settings.base_url": {"required": True},
                                "connection.oauth2.authorize_url": "{settings.base_url|origin}/authorize"})
    assert variant["connection"]["settings"]["base_url"] == {"required": True}   # no default left behind
    assert variant["connection"]["oauth2"] == {"authorize_url": "{settings.base_url|origin}/authorize",
                                               "scopes": ["read"]}


def test_the_manifest_it_copies_is_left_as_it_was() -> None:
    variant = manifest_variant(MANIFEST, "acme-server", "Acme Server", {"http.headers": {"Accept": "text/plain"}})
    variant["connection"]["oauth2"]["scopes"].append("write")
    assert MANIFEST["http"]["headers"] == {"Accept": "application/json"}
    assert MANIFEST["connection"]["oauth2"]["scopes"] == ["read"]


def test_a_path_through_a_value_that_is_no_mapping_is_refused() -> None:
    with pytest.raises(ValueError, match=r"http.base_url.x: 'base_url' of the manifest is no mapping"):
        manifest_variant(MANIFEST, "acme-server", "Acme Server", {"http.base_url.x": 1})
