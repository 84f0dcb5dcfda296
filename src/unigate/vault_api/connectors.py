"""``GET /vault/connectors`` and ``GET /vault/connectors/{service_id}`` (unigate's addition to the
Vault API): the installed connectors as ``unigate connectors show --json`` describes them, with
their ``capabilities`` (each resource's operations, filters and sorts marked native, emulated or
unsupported; :mod:`unigate.connector.capabilities`).

vault.yml has no connector resource (Apideck describes connectors in a separate Connector API, not
among the specs this gateway follows); the Vault API is where unigate's management surface lives
(``/vault/audit`` too), so the listing sits beside ``/vault/connections``, same key, same envelope.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from unigate.connector.base import Connector
from unigate.connector_info import info
from unigate.errors import ConnectorNotFoundError
from unigate.vault_api.context import VaultRequest
from unigate.vault_api.envelope import ok
from unigate.vault_api.views import UNIFIED_API


def view(connector: Connector) -> dict[str, Any]:
    return {"id": connector.service_id, "unified_api": UNIFIED_API, **info(connector)}


def all_(ctx: VaultRequest) -> Response:
    registry = ctx.gateway.registry
    return ok([view(registry.connectors[s]) for s in sorted(registry.connectors)])


def one(ctx: VaultRequest) -> Response:
    service_id = ctx.params["service_id"]
    connector = ctx.gateway.registry.connectors.get(service_id)
    if connector is None:
        installed = ", ".join(sorted(ctx.gateway.registry.connectors)) or "none"
        raise ConnectorNotFoundError("Unknown service", f"no {UNIFIED_API} connector is installed for service "
                                     f"{service_id!r}; installed: {installed}")
    return ok(view(connector))
