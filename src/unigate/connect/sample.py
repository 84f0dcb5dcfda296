"""The field-mapping screen's data: a sample ticket as the tracker sent it, its values as JSONPaths,
and the unified ticket a custom mapping would give.

The sample is read through the gateway's own dispatch with the consumer's connection (collections,
then one ticket of the chosen collection: ``tickets.all``, limit 1), so it is exactly what the
mapping reads: the record the operation's ``records`` path selects from the tracker's answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unigate.connector.context import UnifiedRequest
from unigate.dispatch import template_context
from unigate.mapping.paths import MISSING, compile_path

if TYPE_CHECKING:
    from unigate.dispatch import Dispatcher
    from unigate.vault.models import Connection

MAX_LEAVES = 300
MAX_DEPTH = 8
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Leaf:
    path: str      # a JSONPath into the record
    shown: str     # its value, as short text


@dataclass
class Sample:
    collections: list[dict[str, Any]]
    collection_id: str | None
    record: Any = None          # the downstream record (None: the collection has no ticket)


def step(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _NAME.fullmatch(key):
        return f"{path}.{key}"
    return f"{path}['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"


def leaves(record: Any, path: str = "$", depth: int = 0) -> list[Leaf]:
    """Every scalar of ``record`` with its JSONPath (at most ``MAX_LEAVES``, ``MAX_DEPTH`` deep)."""
    out: list[Leaf] = []
    if isinstance(record, dict | list) and depth < MAX_DEPTH:
        items = record.items() if isinstance(record, dict) else enumerate(record)
        for key, value in items:
            out.extend(leaves(value, step(path, key), depth + 1))
            if len(out) >= MAX_LEAVES:
                return out[:MAX_LEAVES]
    elif not isinstance(record, dict | list):
        out.append(Leaf(path, shown(record)))
    return out


def shown(value: Any, limit: int = 80) -> str:
    text = "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def fetch(dispatcher: Dispatcher, connection: Connection, collection_id: str | None) -> Sample:
    """The connection's collections and one ticket of ``collection_id`` (default: the first)."""
    listed = await dispatcher.dispatch(UnifiedRequest("collections", "all", {}, limit=50), connection)
    collections = list(listed.result.data)
    ids = [str(c["id"]) for c in collections]
    chosen = collection_id if collection_id in ids else (ids[0] if ids else None)
    sample = Sample(collections, chosen)
    if chosen is not None:
        tickets = UnifiedRequest("tickets", "all", {"collection_id": chosen}, limit=1)
        dispatched = await dispatcher.dispatch(tickets, connection)
        sample.record = _record(dispatcher, connection, dispatched.session.calls[-1].body if dispatched.session.calls
                                else None)
    return sample


def _record(dispatcher: Dispatcher, connection: Connection, body: Any) -> Any:
    """The first record of a ticket list as the tracker answered it (the operation's ``records`` path)."""
    operation = dispatcher.connector(connection.service_id).spec.resources["tickets"].operations.get("all")
    records = compile_path(operation.records).get(body) if operation is not None and operation.records else body
    if isinstance(records, list):
        return records[0] if records else None
    return None if records is MISSING else records


def preview(dispatcher: Dispatcher, connection: Connection, record: Any, mappings: dict[str, str]) -> dict[str, Any]:
    """``record`` read as a unified ticket with ``mappings`` as the connection's custom mappings."""
    connector = dispatcher.connector(connection.service_id)
    mapping = connector.mappings["tickets"].with_custom_mappings(mappings)
    return mapping.read(record, mapping.render_values(template_context(connector, connection, None)))
