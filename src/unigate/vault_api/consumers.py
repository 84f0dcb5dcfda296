"""``/vault/consumers[/{consumer_id}]``: an app's consumers (vault.yml ``consumersAll``, ``consumersAdd``,
``consumersOne``, ``consumersUpdate``, ``consumersDelete``).

``POST`` upserts, as Apideck's Vault does ("Vault will upsert a consumer based on your ID"): a new
id is created, a known one gets the given metadata merged in; both answer 200. ``PATCH`` merges
metadata (a null value removes a key). ``DELETE`` deletes the consumer with its connections.
The list pages by ``cursor`` (``meta.cursors.next``) and ``limit``, in id order; ``filter[consumer_id]``
matches an id prefix, ``filter[search]`` a substring of the id or metadata.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from unigate.api.params import deep_objects, parse_limit
from unigate.errors import EntityNotFoundError, RequestValidationError
from unigate.vault.models import ConsumerRecord
from unigate.vault_api.bodies import CreateConsumerIn, UpdateConsumerIn, parse
from unigate.vault_api.context import VaultRequest
from unigate.vault_api.envelope import ok
from unigate.vault_api.views import UNIFIED_API, consumer_connection_view, consumer_view

PATH = "/vault/consumers"


def _record(ctx: VaultRequest, consumer_id: str) -> ConsumerRecord:
    record = ctx.gateway.store.consumer_record(ctx.app.id, consumer_id)
    if record is None:
        raise EntityNotFoundError("Consumer not found", f"app {ctx.app.id!r} has no consumer {consumer_id!r}")
    return record


def _summary(ctx: VaultRequest, record: ConsumerRecord) -> dict[str, Any]:
    store = ctx.gateway.store
    services = [c.service_id for c in store.connections_of(ctx.app.id, record.id, UNIFIED_API)]
    return consumer_view(record, services, store.consumer_request_count(ctx.app.id, record.id))


def _full(ctx: VaultRequest, record: ConsumerRecord) -> dict[str, Any]:
    """``Consumer``: the summary with its connections."""
    store, registry = ctx.gateway.store, ctx.gateway.registry
    connections = [consumer_connection_view(registry, registry.connectors[c.service_id], c, store.connection_status(c.id))
                   for c in store.connections_of(ctx.app.id, record.id, UNIFIED_API) if c.service_id in registry.connectors]
    return {**_summary(ctx, record), "connections": connections}


def add(ctx: VaultRequest) -> Response:
    body = parse(CreateConsumerIn, ctx.body)
    metadata = body.metadata.model_dump(exclude_none=True) if body.metadata is not None else None
    record, _ = ctx.gateway.store.upsert_consumer(ctx.app.id, body.consumer_id, metadata)
    return ok(_full(ctx, record))


def one(ctx: VaultRequest) -> Response:
    return ok(_full(ctx, _record(ctx, ctx.params["consumer_id"])))


def update(ctx: VaultRequest) -> Response:
    body = parse(UpdateConsumerIn, ctx.body)
    consumer_id = ctx.params["consumer_id"]
    _record(ctx, consumer_id)
    metadata = body.metadata.model_dump(exclude_unset=True) if body.metadata is not None else {}
    return ok(_full(ctx, ctx.gateway.store.update_consumer(ctx.app.id, consumer_id, metadata)))


def delete(ctx: VaultRequest) -> Response:
    consumer_id = ctx.params["consumer_id"]
    _record(ctx, consumer_id)
    ctx.gateway.store.delete_consumer(ctx.app.id, consumer_id)
    return ok({"consumer_id": consumer_id})


def all_(ctx: VaultRequest) -> Response:
    limit = parse_limit(ctx.query)
    cursor = ctx.query.get("cursor") or None
    given = deep_objects(ctx.query).get("filter") or {}
    prefix, search = _filter_value(given, "consumer_id"), _filter_value(given, "search")
    records = ctx.gateway.store.consumer_records(ctx.app.id, after=_decode(cursor) if cursor else None,
                                                 limit=limit + 1, prefix=prefix, search=search)
    page = records[:limit]
    following = _encode(page[-1].id) if len(records) > limit else None
    cursors = {"previous": None, "current": cursor, "next": following}
    kept = [(k, v) for k, v in ctx.query.multi_items() if k != "cursor"]

    def link(c: str | None) -> str:
        query = kept + ([("cursor", c)] if c else [])
        return PATH + ("?" + urlencode(query) if query else "")

    links = {"previous": None, "current": link(cursor), "next": link(following) if following else None}
    return ok([_summary(ctx, r) for r in page], meta={"items_on_page": len(page), "cursors": cursors}, links=links)


def _filter_value(given: dict[str, Any], key: str) -> str | None:
    value = given.get(key)
    if value is not None and not isinstance(value, str):
        raise RequestValidationError("Invalid filter", {f"filter[{key}]": "a single value"})
    return value or None


def _encode(consumer_id: str) -> str:
    return base64.urlsafe_b64encode(f"consumer:{consumer_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):
        text = ""
    prefix, sep, consumer_id = text.partition(":")
    if prefix != "consumer" or not sep:
        raise RequestValidationError("Invalid cursor", {"cursor": "not a cursor of /vault/consumers"})
    return consumer_id
