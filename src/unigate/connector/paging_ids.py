"""Pagination style ``ids``: a list whose ids are held by its parent (Roundup: an issue's
``messages``). The ids come from the operation's ``listed`` item (``pagination.ids``, oldest =
lowest first); a page is a slice of them, read in one call with ``id_param`` repeated per id.
"""

from __future__ import annotations

from unigate.connector.listed import values_at
from unigate.connector.paginator import PageRequest, Window
from unigate.cursor import CursorPosition
from unigate.mapping.paths import compile_path


def _numeric(value: str) -> tuple[int, int | str]:
    return (0, int(value)) if value.isdigit() else (1, value)


async def ids_window(page: PageRequest) -> Window:
    p = page.pagination
    ids = sorted((str(i) for i in values_at(p.ids or "$", page.listed or {}) if i is not None), key=_numeric)
    start = page.position.offset
    chosen = ids[start:start + page.limit]
    records = []
    if chosen:
        body = (await page.fetch([(p.id_param, i) for i in chosen])).body
        key = compile_path("$.id")
        found = {str(key.get(r)): r for r in values_at(page.records, body)}
        records = [found[i] for i in chosen if i in found]
    served = start + len(chosen)
    return Window(records, CursorPosition(offset=served) if served < len(ids) else None, len(ids))
