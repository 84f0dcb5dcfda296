"""``/vault/connections[/issue-tracking/{service_id}[/validate]]``: a consumer's connections (vault.yml
``connectionsAll``, ``connectionsOne``, ``connectionsAdd``, ``connectionsUpdate``, ``connectionsDelete``,
``validateConnectionState``).

Every connector the app offers (``unigate vault app-update --services``; by default every installed one) is
listed for the consumer: ``available`` until the consumer adds it. Its ``integration_state`` is ``configured``,
or ``needs_configuration`` for an OAuth2 connector the app has no OAuth client for (its consumers cannot
authorize it yet). A connection the consumer made to a connector the app no longer offers is listed too, with
``integration_state`` ``disabled``: it can be read and deleted, not changed or validated, and the unified API
refuses it (``ConnectorDisabledError``). Any other connector the app does not offer is 404
``IntegrationNotFoundError``.
``settings`` carries the connector's settings *and* credentials by name, as Apideck's Vault does
(its form fields); the gateway stores the credentials encrypted and never returns them. ``PATCH``
merges what it is given into the connection (a null value removes a setting, a credential or a
custom mapping) and adds the connection if the consumer has none yet (the consumer too, if new);
``POST`` adds one and answers 409 ``ConflictError`` if it exists.

Concurrent writes: every change is applied in one write transaction to the connection as stored
at that moment (:meth:`ConnectionStore.modify_connection`), so two partial updates both land.
A client that read, changed and writes back a whole value may send the ``ETag`` it read as
``If-Match``: if the connection changed since, the write is refused with 409 ``ConflictError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from starlette.responses import Response

from unigate.connection_check import probe
from unigate.connector.base import Connector
from unigate.errors import ConflictError, ConnectorCredentialsError, EntityNotFoundError, RequestValidationError
from unigate.mapping.spec import RESOURCES
from unigate.vault.models import Connection
from unigate.vault.validation import check_connection_config, missing_names
from unigate.vault_api.bodies import ConnectionIn, parse
from unigate.vault_api.context import VaultRequest
from unigate.vault_api.custom_mappings import mappings_view, target_key
from unigate.vault_api.envelope import no_content, ok
from unigate.vault_api.lookup import (
    connector_of,
    etag,
    existing,
    expected_revision,
    integration_of,
    integration_state,
    require_integration,
)
from unigate.vault_api.views import MAPPED_RESOURCE, UNIFIED_API, connection_view, state_of

# The OAuth extension point: functions (request, connector) -> the URL the request's consumer authorizes the
# connector at, or None (not an OAuth connector); the first URL one of them gives is the `authorize_url`.
AuthorizeUrl = Callable[[VaultRequest, Connector], "str | None"]
authorize_urls: list[AuthorizeUrl] = []


def view(ctx: VaultRequest, connector: Connector, connection: Connection | None) -> dict[str, Any]:
    status = ctx.gateway.store.connection_status(connection.id) if connection is not None else None
    url = next((u for u in (f(ctx, connector) for f in authorize_urls) if u), None)
    return connection_view(ctx.gateway.registry, connector, connection, status, authorize_url=url,
                           integration_state=integration_state(ctx, connector))


def answer(ctx: VaultRequest, connector: Connector, connection: Connection) -> Response:
    return ok(view(ctx, connector, connection), headers={"etag": etag(connection)})


def all_(ctx: VaultRequest) -> Response:
    consumer_id = ctx.consumer_id(required=False)
    api = ctx.query.get("api")
    configured = ctx.query.get("configured")
    if configured not in (None, "true", "false"):
        raise RequestValidationError("Invalid query", {"configured": "true or false"})
    if api not in (None, "", UNIFIED_API):
        return ok([])
    store, registry = ctx.gateway.store, ctx.gateway.registry
    mine = {c.service_id: c for c in store.connections_of(ctx.app.id, consumer_id, UNIFIED_API)} if consumer_id else {}
    offered = [s for s in sorted(registry.connectors) if ctx.app.enables(s) or s in mine]
    listed = [(registry.connectors[s], mine.get(s)) for s in offered]
    if configured is not None:
        listed = [(k, c) for k, c in listed if (c is not None) == (configured == "true")]
    return ok([view(ctx, k, c) for k, c in listed])


def one(ctx: VaultRequest) -> Response:
    connector = connector_of(ctx)
    connection = ctx.gateway.store.find_connection(ctx.app.id, ctx.consumer_id(), connector.spec.service_id)
    if connection is None:
        require_integration(ctx, connector.spec.service_id)
        return ok(view(ctx, connector, None))
    return answer(ctx, connector, connection)


def add(ctx: VaultRequest) -> Response:
    connector = integration_of(ctx)
    body = parse(ConnectionIn, ctx.body)
    with ctx.gateway.store.transaction():
        found = ctx.gateway.store.find_connection(ctx.app.id, ctx.consumer_id(), connector.spec.service_id)
        if found is not None:
            raise ConflictError("Connection exists", f"consumer {ctx.consumer_id()!r} already has a "
                                f"{connector.spec.service_id} connection; change it with PATCH")
        connection = _create(ctx, connector, body)
    return answer(ctx, connector, connection)


def update(ctx: VaultRequest) -> Response:
    connector = integration_of(ctx)
    body = parse(ConnectionIn, ctx.body)
    store = ctx.gateway.store
    with store.transaction():
        found = store.find_connection(ctx.app.id, ctx.consumer_id(), connector.spec.service_id)
        if found is None and ctx.headers.get("if-match", "").strip():
            raise ConflictError("Connection changed", {"if-match": "the consumer has no such connection (any more)"})
        if found is None:
            connection = _create(ctx, connector, body)
        else:
            connection = store.modify_connection(found.id, lambda current: _changed(ctx, connector, current, body),
                                                 expected_revision=expected_revision(ctx, found), metadata=body.metadata)
    return answer(ctx, connector, connection)


def delete(ctx: VaultRequest) -> Response:
    connector = connector_of(ctx)
    store = ctx.gateway.store
    with store.transaction():
        connection = existing(ctx, connector)
        revision = expected_revision(ctx, connection)
        if revision is not None and revision != connection.revision:
            raise ConflictError("Connection changed", {"if-match": f"the connection is now {etag(connection)}"})
        store.delete_connection(connection.id)
    return no_content()


async def validate(ctx: VaultRequest) -> Response:
    """Check the connection: its required settings and credentials, then one read through the gateway.
    Refused credentials make it ``invalid``; other failures answer their typed error."""
    connector = integration_of(ctx)
    if ctx.body not in (None, {}):
        raise RequestValidationError("Invalid request body", {"body": "send an empty object: validation uses the "
                                                                      "stored credentials"})
    store = ctx.gateway.store
    connection = await asyncio.to_thread(existing, ctx, connector)   # the vault is read and written off the loop
    if not missing_names(ctx.gateway.registry, connection.service_id, connection.settings, connection.credentials):
        try:
            await probe(ctx.gateway.dispatcher, connection)
        except ConnectorCredentialsError as error:
            await asyncio.to_thread(store.set_connection_state, connection.id, "invalid", error.message)
        else:
            await asyncio.to_thread(store.set_connection_state, connection.id, None)
    status = await asyncio.to_thread(store.connection_status, connection.id)
    state = state_of(ctx.gateway.registry, connection, status)
    return ok({"id": f"{UNIFIED_API}+{connector.spec.service_id}", "state": state})


def mappings(ctx: VaultRequest) -> Response:
    """``GET .../{resource}/custom-mappings`` (``connectionCustomMappingsAll``): tickets' mappings."""
    connector = connector_of(ctx)
    resource = ctx.params["resource"]
    if resource not in RESOURCES:
        raise EntityNotFoundError("Unknown resource", f"{UNIFIED_API} has no resource {resource!r}; "
                                  f"its resources are: {', '.join(RESOURCES)}")
    connection = existing(ctx, connector)
    return ok(mappings_view(connection) if resource == MAPPED_RESOURCE else [])


# -- writing -------------------------------------------------------------------------------------------
def _split(connector: Connector, given: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``settings`` as sent -> (settings, credentials): names the connector declares as credentials go
    to the (encrypted) credentials."""
    declared = connector.spec.connection.credentials
    given = given or {}
    return ({k: v for k, v in given.items() if k not in declared}, {k: v for k, v in given.items() if k in declared})


def _merged(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in {**current, **changes}.items() if v is not None}


def _mapping_changes(body: ConnectionIn) -> dict[str, str | None]:
    changes: dict[str, str | None] = {}
    for index, entry in enumerate(body.custom_mappings or []):
        key = entry.key or (target_key(entry.id) if entry.id else None)
        if not key:
            raise RequestValidationError("Invalid request body", {f"custom_mappings.{index}": "name its target "
                                                                  "field with id or key"})
        changes[key] = entry.value
    return changes


def _changed(ctx: VaultRequest, connector: Connector, current: Connection, body: ConnectionIn) -> Connection:
    """``current`` with the body merged in, checked against the connector (unknown names are refused;
    missing required ones are allowed: the connection is ``added`` until they come)."""
    settings, credentials = _split(connector, body.settings)
    new = replace(current, settings=_merged(current.settings, settings),
                  credentials=_merged(current.credentials, credentials),
                  custom_mappings=_merged(current.custom_mappings, _mapping_changes(body)),
                  enabled=current.enabled if body.enabled is None else body.enabled)
    check_connection_config(ctx.gateway.registry, current.service_id, new.settings, new.credentials,
                            allow_missing=True)
    return new


def _create(ctx: VaultRequest, connector: Connector, body: ConnectionIn) -> Connection:
    """A new connection from the body (the consumer created first if new), in the caller's transaction."""
    store, consumer_id, service_id = ctx.gateway.store, ctx.consumer_id(), connector.spec.service_id
    store.upsert_consumer(ctx.app.id, consumer_id)
    blank = Connection("", ctx.app.id, consumer_id, service_id, UNIFIED_API, True, {}, {}, {}, 0)
    new = _changed(ctx, connector, blank, body)
    connection = store.create_connection(ctx.app.id, consumer_id, service_id, settings=new.settings,
                                         credentials=new.credentials, custom_mappings=new.custom_mappings,
                                         enabled=new.enabled)
    if body.metadata:
        connection = store.modify_connection(connection.id, lambda c: c, metadata=body.metadata)
    return connection
