"""``GET /vault/audit`` (unigate's addition to the Vault API): the calling app's audit trail.

Each record: ``seq``, ``ts`` (UTC), ``actor`` (``api:<app id>`` with the ``key_id`` of the API key
that made the change, or ``host:<user>`` for the operator's CLI), ``consumer_id``, ``service_id``,
``target`` (a connection or consumer id), ``action`` (``connection.updated``...) and ``changes``
(field names and non-secret values; credentials by name only). Newest first; ``limit`` (1..200,
default 20), ``cursor`` (``meta.cursors.next``), ``consumer_id`` narrows to one consumer. The operator
reads every app's records with ``unigate vault audit``.
"""

from __future__ import annotations

from starlette.responses import Response

from unigate.api.params import parse_limit
from unigate.errors import RequestValidationError
from unigate.vault_api.context import VaultRequest
from unigate.vault_api.envelope import ok


def all_(ctx: VaultRequest) -> Response:
    limit = parse_limit(ctx.query)
    cursor = ctx.query.get("cursor") or None
    if cursor is not None and not (cursor.isascii() and cursor.isdigit() and len(cursor) < 19):
        raise RequestValidationError("Invalid cursor", {"cursor": "not a cursor of /vault/audit"})
    rows = ctx.gateway.store.audit_trail(app_id=ctx.app.id, consumer_id=ctx.query.get("consumer_id") or None,
                                         before_seq=int(cursor) if cursor else None, limit=limit + 1)
    page = rows[:limit]
    following = str(page[-1]["seq"]) if len(rows) > limit else None
    return ok(page, meta={"items_on_page": len(page), "cursors": {"previous": None, "current": cursor,
                                                                   "next": following}})
