"""``vault connection-create/-update --check``: one cheap read through the gateway's dispatch.

The check lists the connection's collections (one record); for a tracker whose collections are
fixed in its mapping file (no downstream call) it lists one ticket of the first collection
instead, so the tracker is always asked once. The answer is ``ok`` or the typed error the
gateway would answer a client with, as one sentence.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import orjson

from unigate.connector.context import UnifiedRequest
from unigate.dispatch import Dispatcher
from unigate.errors import UnifiedError
from unigate.vault.models import Connection

if TYPE_CHECKING:
    from unigate.app import Gateway


async def probe(dispatcher: Dispatcher, connection: Connection) -> str:
    """One cheap read through ``dispatcher`` with ``connection``: what it read, as a phrase; raises the
    typed error the gateway would answer (the Vault API's validate answers with it too)."""
    connector = dispatcher.connector(connection.service_id)
    collections = UnifiedRequest("collections", "all", {}, limit=1)
    listed = (await dispatcher.dispatch(collections, connection)).result.data
    if connector.static_collection_ids is None:
        return f"listed {len(listed)} collection(s) (collections.all, limit 1)"
    if not listed:
        return "the tracker has no collections"
    collection_id = str(listed[0]["id"])
    tickets = UnifiedRequest("tickets", "all", {"collection_id": collection_id}, limit=1)
    found = (await dispatcher.dispatch(tickets, connection)).result.data
    return f"listed {len(found)} ticket(s) of collection {collection_id} (tickets.all, limit 1)"


def check_connection(gateway: Gateway, connection: Connection) -> tuple[bool, str]:
    """(ok, sentence) for one read through ``gateway``'s dispatch with ``connection``; closes its clients."""

    async def read() -> str:
        try:
            return await probe(gateway.dispatcher, connection)
        finally:
            await gateway.pool.aclose()

    try:
        what = asyncio.run(read())
    except UnifiedError as error:
        detail = error.detail if isinstance(error.detail, str) else orjson.dumps(error.detail).decode()
        detail = f": {detail}" if error.detail else ""
        return False, (f"{connection.service_id} connection {connection.id} failed its check with "
                       f"{error.type_name} ({error.status_code}): {error.message}{detail}")
    except Exception as exc:  # noqa: BLE001 - reported, as the gateway would answer a 500
        return False, (f"{connection.service_id} connection {connection.id} failed its check with an unexpected "
                       f"{type(exc).__name__}")
    return True, f"ok: {connection.service_id} connection {connection.id} {what}"
