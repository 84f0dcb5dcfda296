"""Vault records as plain dataclasses. ``Connection.credentials`` is decrypted, in memory only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class App:
    id: str
    name: str
    strict: bool = False   # writes a tracker cannot store as sent are refused, not warned about
    services: tuple[str, ...] | None = None   # the connectors it offers its consumers; None: every installed one

    def enables(self, service_id: str) -> bool:
        """Whether the app offers ``service_id`` to its consumers (``unigate vault app-update --services``)."""
        return self.services is None or service_id in self.services


@dataclass(frozen=True)
class Consumer:
    app_id: str
    id: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Connection:
    id: str
    app_id: str
    consumer_id: str
    service_id: str
    unified_api: str
    enabled: bool
    settings: dict[str, Any]
    credentials: dict[str, Any] = field(repr=False)
    custom_mappings: dict[str, str]
    revision: int

    def public_view(self) -> dict[str, Any]:
        """What may be printed or returned: everything but credential values."""
        return {
            "id": self.id,
            "app_id": self.app_id,
            "consumer_id": self.consumer_id,
            "service_id": self.service_id,
            "unified_api": self.unified_api,
            "enabled": self.enabled,
            "settings": self.settings,
            "credentials": sorted(self.credentials),
            "custom_mappings": self.custom_mappings,
        }


@dataclass(frozen=True)
class ConsumerRecord:
    """A consumer as the Vault API shows it: its metadata and when it was created and last modified."""

    app_id: str
    id: str
    metadata: dict[str, Any]
    created: str
    modified: str


@dataclass(frozen=True)
class ConnectionStatus:
    """What the Vault API reports beside a connection: its metadata, when it was created and updated,
    and the state a validation (or an OAuth flow) last left it in (None: none recorded)."""

    metadata: dict[str, Any]
    created_at: str
    updated_at: str
    state: str | None = None
    state_detail: str | None = None
    checked_at: str | None = None


@dataclass(frozen=True)
class OAuthClient:
    """An app's OAuth client at one connector's provider (``client_secret`` decrypted, in memory only)."""

    app_id: str
    service_id: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: tuple[str, ...] = ()
    scopes: tuple[str, ...] | None = None   # None: the connector manifest's

    def public_view(self) -> dict[str, Any]:
        return {"app_id": self.app_id, "service_id": self.service_id, "client_id": self.client_id,
                "client_secret": "set", "redirect_uris": list(self.redirect_uris),
                "scopes": None if self.scopes is None else list(self.scopes)}


@dataclass(frozen=True)
class OAuthFlow:
    """One authorization under way: who authorizes which connector, where to return, the PKCE verifier."""

    id: str
    app_id: str
    consumer_id: str
    service_id: str
    redirect_uri: str
    callback_uri: str
    verifier: str = field(repr=False)
    expires_at: float = 0.0
