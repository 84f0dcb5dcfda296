"""Vault records as vault.yml's schemas: ``Connection`` (with ``form_fields``, ``state``, ``health``),
``ConsumerConnection``, ``Consumer`` and ``CustomMapping``. Credentials never appear: a credential
(or a setting declared ``secret``) is a ``sensitive`` form field without a value.

Connection state, as Apideck defines it (https://developers.apideck.com/guides/connection-states):
``available`` (the consumer has no connection to the connector), ``added`` (a connection lacking a
required setting or credential: health ``missing_settings``), ``authorized`` (recorded by an OAuth
flow that still needs settings), ``callable`` (complete: health ``ok``), ``invalid`` (a validation
found its credentials refused: health ``needs_auth``, until its settings or credentials change).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from unigate.mapping.spec import SettingSpec
from unigate.mapping.template import compile_template
from unigate.vault.models import Connection, ConnectionStatus, ConsumerRecord
from unigate.vault.validation import missing_names

if TYPE_CHECKING:
    from unigate.connector.base import Connector
    from unigate.plugins.registry import ConnectorRegistry

UNIFIED_API = "issue-tracking"
MAPPED_RESOURCE = "tickets"   # custom mappings apply to tickets (unigate.connector.base.mapping_for)
ACRONYMS = {"url": "URL", "api": "API", "id": "ID", "ssl": "SSL", "oauth": "OAuth"}
HEALTH = {"callable": "ok", "added": "missing_settings", "authorized": "missing_settings", "invalid": "needs_auth"}


def label(name: str) -> str:
    """A form label from a setting's name: ``api_key`` -> ``API key``, ``base_url`` -> ``Base URL``."""
    words = [ACRONYMS.get(w.lower(), w.lower()) for w in name.replace("-", "_").split("_") if w]
    if not words:
        return name
    first = words[0]
    return " ".join([first if first.isupper() or first in ACRONYMS.values() else first.capitalize(), *words[1:]])


def auth_type(connector: Connector) -> str:
    """vault.yml's ``AuthType``: ``oauth2`` (declared ``connection.oauth2``), ``basic`` (HTTP Basic),
    ``apiKey`` (other credentials) or ``none``."""
    spec = connector.spec
    if spec.connection.oauth2 is not None:
        return "oauth2"
    if spec.http.basic_auth is not None:
        return "basic"
    return "apiKey" if spec.connection.credentials else "none"


def settings_for_authorization(connector: Connector) -> list[str]:
    """The settings an OAuth2 connector's authorize and token URLs need (a self-hosted tracker's base URL)."""
    oauth2 = connector.spec.connection.oauth2
    if oauth2 is None:
        return []
    templates = [oauth2.authorize_url, oauth2.token_url, *oauth2.authorize_params.values()]
    names = {v.partition(".")[2] for t in templates for v in compile_template(t).variables if v.startswith("settings.")}
    return sorted(names)


def form_field(name: str, spec: SettingSpec, *, sensitive: bool, value: Any) -> dict[str, Any]:
    field: dict[str, Any] = {
        "id": name, "label": label(name), "placeholder": None if spec.default is None else str(spec.default),
        "description": spec.description or None,
        "type": "password" if sensitive else ("url" if name.endswith("url") else "text"),
        "required": spec.required and spec.default is None, "custom_field": False, "allow_custom_values": False,
        "disabled": False, "hidden": False, "deprecated": False, "sensitive": sensitive, "options": [],
    }
    if not sensitive and value is not None:
        field["value"] = value
    return field


def form_fields(connector: Connector, connection: Connection | None) -> list[dict[str, Any]]:
    """The connector's declared settings, then its credentials, as ``FormField``s (values of settings only)."""
    declared = connector.spec.connection
    settings = connection.settings if connection is not None else {}
    fields = [form_field(k, s, sensitive=s.secret, value=settings.get(k)) for k, s in declared.settings.items()]
    return fields + [form_field(k, s, sensitive=True, value=None) for k, s in declared.credentials.items()]


def visible_settings(connector: Connector, connection: Connection) -> dict[str, Any]:
    """The connection's settings without those declared ``secret``."""
    secret = {k for k, s in connector.spec.connection.settings.items() if s.secret}
    return {k: v for k, v in connection.settings.items() if k not in secret}


def state_of(registry: ConnectorRegistry, connection: Connection | None, status: ConnectionStatus | None) -> str:
    if connection is None:
        return "available"
    if status is not None and status.state == "invalid":
        return "invalid"
    if missing_names(registry, connection.service_id, connection.settings, connection.credentials):
        return "authorized" if status is not None and status.state == "authorized" else "added"
    return "callable"


def epoch_ms(stamp: str | None) -> float | None:
    if not stamp:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000


def mapping_view(key: str, value: str, consumer_id: str) -> dict[str, Any]:
    """A ``CustomMapping``: target field ``issue-tracking+tickets+<key>``, its JSONPath ``value``."""
    return {"id": f"{UNIFIED_API}+{MAPPED_RESOURCE}+{key}", "label": label(key), "description": None, "value": value,
            "key": key, "required": False, "custom_field": False, "consumer_id": consumer_id, "example": None}


def connection_view(registry: ConnectorRegistry, connector: Connector, connection: Connection | None,
                    status: ConnectionStatus | None, *, authorize_url: str | None = None,
                    integration_state: str = "configured") -> dict[str, Any]:
    """A ``Connection`` (``connection`` None: ``available``, not yet added). ``authorize_url``: where an
    OAuth connector's consumer authorizes (None until the connector declares OAuth). ``integration_state``:
    the app's integration of the connector (``unigate.vault_api.lookup.integration_state``)."""
    spec = connector.spec
    state = state_of(registry, connection, status)
    view: dict[str, Any] = {
        "id": f"{UNIFIED_API}+{spec.service_id}", "service_id": spec.service_id, "name": spec.name,
        "unified_api": UNIFIED_API, "state": state, "integration_state": integration_state,
        "auth_type": auth_type(connector), "status": "live",
        "enabled": connection.enabled if connection is not None else False,
        "authorize_url": authorize_url, "revoke_url": None,
        "settings": visible_settings(connector, connection) if connection is not None else None,
        "metadata": (status.metadata or None) if status is not None else None,
        "form_fields": form_fields(connector, connection), "configuration": [], "configurable_resources": [],
        "validation_support": True, "schema_support": False,
        "settings_required_for_authorization": settings_for_authorization(connector),
        "custom_mappings": [mapping_view(k, v, connection.consumer_id) for k, v in connection.custom_mappings.items()]
        if connection is not None else [],
    }
    if spec.website:
        view["website"] = spec.website
    if connection is not None and status is not None:
        view.update(health=HEALTH[state], created_at=epoch_ms(status.created_at), updated_at=epoch_ms(status.updated_at))
    return view


def consumer_connection_view(registry: ConnectorRegistry, connector: Connector, connection: Connection,
                             status: ConnectionStatus) -> dict[str, Any]:
    """A ``ConsumerConnection`` (inside ``Consumer.connections``; its dates are ISO strings)."""
    state = state_of(registry, connection, status)
    return {"id": f"{UNIFIED_API}+{connection.service_id}", "name": connector.spec.name,
            "service_id": connection.service_id, "unified_api": UNIFIED_API, "consumer_id": connection.consumer_id,
            "auth_type": auth_type(connector), "enabled": connection.enabled,
            "settings": visible_settings(connector, connection), "metadata": status.metadata or None,
            "created_at": status.created_at, "updated_at": status.updated_at, "state": state, "health": HEALTH[state]}


def consumer_view(record: ConsumerRecord, services: list[str], request_count: int) -> dict[str, Any]:
    """A consumer as ``GetConsumersResponse`` lists it (``Consumer`` adds ``connections``)."""
    return {"consumer_id": record.id, "application_id": record.app_id, "metadata": record.metadata,
            "aggregated_request_count": request_count, "created": record.created, "modified": record.modified,
            "services": services}
