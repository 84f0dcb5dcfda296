"""The connector and connection a Vault API path names, whether the app offers it (its integration), and the
connection's ``ETag``/``If-Match``."""

from __future__ import annotations

from unigate.connector.base import Connector
from unigate.errors import (
    ConflictError,
    ConnectionNotFoundError,
    ConnectorNotFoundError,
    EntityNotFoundError,
    IntegrationNotFoundError,
)
from unigate.vault.models import Connection
from unigate.vault_api.context import VaultRequest
from unigate.vault_api.views import UNIFIED_API


def connector_of(ctx: VaultRequest) -> Connector:
    """The path's connector (``unified_api`` must be issue-tracking), or a typed 404."""
    unified_api, service_id = ctx.params["unified_api"], ctx.params["service_id"]
    if unified_api != UNIFIED_API:
        raise EntityNotFoundError("Unknown unified API", f"this gateway serves {UNIFIED_API}, not {unified_api!r}")
    connector = ctx.gateway.registry.connectors.get(service_id)
    if connector is None:
        installed = ", ".join(sorted(ctx.gateway.registry.connectors)) or "none"
        raise ConnectorNotFoundError("Unknown service", f"no {UNIFIED_API} connector is installed for service "
                                     f"{service_id!r}; installed: {installed}")
    return connector


def integration_of(ctx: VaultRequest) -> Connector:
    """The path's connector, which the app must offer its consumers (404 ``IntegrationNotFoundError``)."""
    connector = connector_of(ctx)
    require_integration(ctx, connector.spec.service_id)
    return connector


def require_integration(ctx: VaultRequest, service_id: str) -> None:
    if not ctx.app.enables(service_id):
        raise IntegrationNotFoundError("Integration not enabled", f"the application does not offer {service_id} to "
                                       "its consumers (the operator enables it with `unigate vault app-update "
                                       "--services`)")


def integration_state(ctx: VaultRequest, connector: Connector) -> str:
    """vault.yml's ``IntegrationState`` of ``connector`` for the app: ``disabled`` (the app does not offer it),
    ``needs_configuration`` (OAuth2 is the only way to connect it, and the app has no OAuth client for it:
    Jira Cloud before ``unigate vault oauth-client set``) or ``configured`` (a connector that also takes a
    token typed in, such as GitHub, is connectable without the app's OAuth client)."""
    service_id = connector.spec.service_id
    if not ctx.app.enables(service_id):
        return "disabled"
    declared = connector.spec.connection
    if declared.oauth2 is not None and not declared.credentials and not has_oauth_client(ctx, service_id):
        return "needs_configuration"
    return "configured"


def has_oauth_client(ctx: VaultRequest, service_id: str) -> bool:
    return ctx.gateway.store.oauth_client(ctx.app.id, service_id) is not None


def existing(ctx: VaultRequest, connector: Connector) -> Connection:
    connection = ctx.gateway.store.find_connection(ctx.app.id, ctx.consumer_id(), connector.spec.service_id)
    if connection is None:
        raise ConnectionNotFoundError("Connection not found", f"consumer {ctx.consumer_id()!r} has no "
                                      f"{connector.spec.service_id} connection for {UNIFIED_API}")
    return connection


def etag(connection: Connection) -> str:
    return f'"{connection.id}.{connection.revision}"'


def expected_revision(ctx: VaultRequest, connection: Connection) -> int | None:
    """The revision ``If-Match`` names (None: no ``If-Match``, or ``*``); a tag of another connection
    (deleted and added again since) is a conflict."""
    given = ctx.headers.get("if-match", "").strip()
    if not given or given == "*":
        return None
    for tag in (t.strip().removeprefix("W/") for t in given.split(",")):
        connection_id, _, revision = tag.strip('"').rpartition(".")
        if connection_id == connection.id and revision.isdigit():
            return int(revision)
    raise ConflictError("Connection changed", {"if-match": f"the connection is now {etag(connection)}; read it "
                                                           "again and retry"})
