"""``/vault/custom-mappings/issue-tracking/{service_id}[/{target_field_id}]``: the consumer's custom
mappings on one connection (vault.yml ``customMappingsAll``, ``customMappingsOne``, ``customMappingsAdd``,
``customMappingsUpdate``, ``customMappingsDelete``).

A target field id is ``issue-tracking+tickets+<key>`` (Apideck's ``{unified_api}+{resource}+{key}``):
custom mappings apply to tickets, where ``custom_mappings.<key>`` is read from the tracker's record
at the mapping's JSONPath ``value``. ``POST`` adds one (409 ``ConflictError`` if the key is mapped),
``PATCH`` changes one (404 if not), ``DELETE`` removes one (204). Invalid JSONPaths are refused (400).
Each write is one change of the connection (its revision moves; ``If-Match`` works as for the connection).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from unigate.errors import ConflictError, EntityNotFoundError, RequestValidationError
from unigate.vault.models import Connection
from unigate.vault_api.bodies import CustomMappingIn, parse
from unigate.vault_api.context import VaultRequest
from unigate.vault_api.envelope import no_content, ok
from unigate.vault_api.lookup import connector_of, existing, expected_revision
from unigate.vault_api.views import MAPPED_RESOURCE, UNIFIED_API, mapping_view

if TYPE_CHECKING:
    from unigate.connector.base import Connector

TARGET_PREFIX = f"{UNIFIED_API}+{MAPPED_RESOURCE}+"


def target_key(target_field_id: str) -> str:
    """The key of ``issue-tracking+tickets+<key>``, or a 400 saying what a target field id is."""
    key = target_field_id.removeprefix(TARGET_PREFIX)
    if key == target_field_id or not key or "+" in key:
        raise RequestValidationError("Invalid target field id", {"target_field_id": f"{TARGET_PREFIX}<key>: custom "
                                                                 f"mappings apply to {MAPPED_RESOURCE}"})
    return key


def mappings_view(connection: Connection) -> list[dict[str, Any]]:
    return [mapping_view(k, v, connection.consumer_id) for k, v in sorted(connection.custom_mappings.items())]


def _target(ctx: VaultRequest) -> tuple[Connector, Connection, str]:
    connector = connector_of(ctx)
    return connector, existing(ctx, connector), target_key(ctx.params["target_field_id"])


def all_(ctx: VaultRequest) -> Response:
    return ok(mappings_view(existing(ctx, connector_of(ctx))))


def one(ctx: VaultRequest) -> Response:
    _, connection, key = _target(ctx)
    if key not in connection.custom_mappings:
        raise EntityNotFoundError("Custom mapping not found", f"the connection has no custom mapping {key!r}")
    return ok(mapping_view(key, connection.custom_mappings[key], connection.consumer_id))


def _write(ctx: VaultRequest, *, adding: bool | None, value: str | None) -> Connection:
    """Set (``value``) or remove (None) one mapping; ``adding``: it must not exist (True) or must (False)."""
    _, found, key = _target(ctx)

    def change(current: Connection) -> Connection:
        if adding and key in current.custom_mappings:
            raise ConflictError("Custom mapping exists", f"{key!r} is mapped already; change it with PATCH")
        if not adding and key not in current.custom_mappings:
            raise EntityNotFoundError("Custom mapping not found", f"the connection has no custom mapping {key!r}")
        mappings = {k: v for k, v in current.custom_mappings.items() if k != key}
        return replace(current, custom_mappings=mappings if value is None else {**mappings, key: value})

    return ctx.gateway.store.modify_connection(found.id, change, expected_revision=expected_revision(ctx, found))


def add(ctx: VaultRequest) -> Response:
    body = parse(CustomMappingIn, ctx.body)
    connection = _write(ctx, adding=True, value=body.value)
    key = target_key(ctx.params["target_field_id"])
    return ok(mapping_view(key, connection.custom_mappings[key], connection.consumer_id))


def update(ctx: VaultRequest) -> Response:
    body = parse(CustomMappingIn, ctx.body)
    connection = _write(ctx, adding=False, value=body.value)
    key = target_key(ctx.params["target_field_id"])
    return ok(mapping_view(key, connection.custom_mappings[key], connection.consumer_id))


def delete(ctx: VaultRequest) -> Response:
    _write(ctx, adding=False, value=None)
    return no_content()
