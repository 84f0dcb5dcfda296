"""``one`` found by paging a list (manifest: a `one` with `pagination`, `records` and `match`):
for trackers without a single-item endpoint (Opine's organization members). The list is read page
by page (the pagination's `max_limit` per page) until an item matches; none: 404."""

from __future__ import annotations

from typing import Any

from unigate.connector.context import OperationContext
from unigate.connector.paginator import FetchPage
from unigate.connector.paging import fetch_window
from unigate.cursor import CursorPosition
from unigate.errors import EntityNotFoundError
from unigate.mapping.paths import MISSING, compile_path
from unigate.mapping.spec import OperationSpec
from unigate.mapping.template import render_value


async def find_in_pages(ctx: OperationContext, op: OperationSpec, fetch: FetchPage, tracker: str) -> Any:
    assert op.match is not None and op.pagination is not None
    wanted = str(render_value(op.match.value, ctx.template_context))
    getter = compile_path(op.match.path)
    position: CursorPosition | None = CursorPosition()
    while position is not None:
        window = await fetch_window(fetch, op.pagination, op.records or "$", position, op.pagination.max_limit)
        for item in window.records:
            value = getter.get(item)
            if value is not MISSING and str(value) == wanted:
                return item
        position = window.next
    raise EntityNotFoundError("Not found", f"{tracker} has no {ctx.request.resource} {wanted!r}")
