"""Request headers -> the one ``Connection`` a unified request acts on, or a typed error.

``Authorization: Bearer <key>`` must be the key of the app named by ``x-apideck-app-id``;
``x-apideck-consumer-id`` names the consumer within that app (so one app never reaches another
app's consumers, nor one consumer another's connections); ``x-apideck-service-id`` picks among
the consumer's enabled connections of the unified API and is required only when there are
several. A connection to a connector the app no longer offers (``unigate vault app-update --services``)
is not used: 422 ``ConnectorDisabledError``, as Apideck answers for "a connector that has since been
disabled".
"""

from __future__ import annotations

from collections.abc import Mapping

from unigate.errors import (
    ConnectionNotFoundError,
    ConnectorDisabledError,
    ConnectorNotFoundError,
    RequestHeadersValidationError,
    UnauthorizedError,
)
from unigate.vault.models import App, Connection
from unigate.vault.store import ConnectionStore


def app_credentials(headers: Mapping[str, str]) -> tuple[str, str]:
    """(API key, app id) from ``Authorization: Bearer <key>`` and ``x-apideck-app-id``, or the typed error."""
    authorization = headers.get("authorization", "")
    scheme, _, api_key = authorization.partition(" ")
    api_key = api_key.strip().strip('"')
    if not authorization:
        raise UnauthorizedError("Missing authentication", "send your API key as `Authorization: Bearer <api key>`")
    if scheme.lower() != "bearer" or not api_key:
        raise UnauthorizedError("Invalid authentication", "the Authorization header must be `Bearer <api key>`")
    app_id = headers.get("x-apideck-app-id", "").strip()
    if not app_id:
        raise RequestHeadersValidationError("Missing Header: x-apideck-app-id",
                                            "send the id of your application in x-apideck-app-id")
    return api_key, app_id


def resolve_connection(
    headers: Mapping[str, str], store: ConnectionStore, known_services: Mapping[str, object],
    unified_api: str = "issue-tracking",
) -> Connection:
    return resolve_app_connection(headers, store, known_services, unified_api)[1]


def resolve_app_connection(
    headers: Mapping[str, str], store: ConnectionStore, known_services: Mapping[str, object],
    unified_api: str = "issue-tracking",
) -> tuple[App, Connection]:
    """The app (its settings, e.g. ``strict``) and the connection a request acts on."""
    api_key, app_id = app_credentials(headers)
    consumer_id = headers.get("x-apideck-consumer-id", "").strip()
    app, connections = store.lookup(app_id, api_key, consumer_id, unified_api)
    if app is None:
        raise UnauthorizedError("Unauthorized", "the API key is not valid for this application (x-apideck-app-id)")
    if not consumer_id:
        raise RequestHeadersValidationError("Missing Header: x-apideck-consumer-id",
                                            "send the id of the consumer to act for in x-apideck-consumer-id")
    service_id = headers.get("x-apideck-service-id", "").strip() or None
    if service_id is not None and service_id not in known_services:
        raise ConnectorNotFoundError("Unknown service", f"no issue-tracking connector is installed for service "
                                     f"{service_id!r}; installed: {', '.join(sorted(known_services)) or 'none'}")
    if service_id is not None:
        match = [c for c in connections if c.service_id == service_id]
        if not match:
            raise ConnectionNotFoundError("Connection not found", f"consumer {consumer_id!r} has no {service_id} "
                                          f"connection for {unified_api}")
        if not match[0].enabled:
            raise ConnectorDisabledError("Connection disabled", f"the {service_id} connection of consumer "
                                         f"{consumer_id!r} is disabled; enable it to use it")
        if not app.enables(service_id):
            raise _not_offered([service_id])
        return app, match[0]
    enabled = [c for c in connections if c.enabled and app.enables(c.service_id)]
    if not enabled:
        stale = [c.service_id for c in connections if c.enabled]   # all of connectors the app no longer offers
        if stale:
            raise _not_offered(stale)
        raise ConnectionNotFoundError("Connection not found", f"consumer {consumer_id!r} has no enabled "
                                      f"{unified_api} connection")
    if len(enabled) > 1:
        raise RequestHeadersValidationError(
            "Missing Header: x-apideck-service-id",
            f"consumer {consumer_id!r} has several {unified_api} connections "
            f"({', '.join(c.service_id for c in enabled)}); choose one with x-apideck-service-id",
        )
    return app, enabled[0]


def _not_offered(service_ids: list[str]) -> ConnectorDisabledError:
    return ConnectorDisabledError("Integration disabled", f"the application no longer offers {', '.join(service_ids)} "
                                  "to its consumers (`unigate vault app-update --services`)")
