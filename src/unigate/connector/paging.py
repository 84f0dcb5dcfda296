"""Serving a unified page (``limit`` items from a cursor position) from any downstream paging.

Cursor positions are absolute offsets, so a client may change ``limit`` between pages and every
record is still returned once, in order. Styles:

- ``offset``: ``offset``/``limit`` parameters; several calls when ``limit`` exceeds the
  tracker's ``max_limit``.
- ``page``: ``page``/``per_page`` parameters; the page size is the unified limit (capped), and an
  offset that is not a multiple of it starts inside a page, whose head is skipped.
- ``cursor``: a downstream token; the position is (token of the page, items already served).
- ``none``: the tracker returns everything; we slice.
- ``ids``: the ids of the operation's ``listed`` item, sliced; the page's ids read in one call
  (:mod:`unigate.connector.paging_ids`).
- any other name: a registered **paginator** component (:class:`~unigate.connector.paginator.Paginator`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from unigate.components import COMPONENTS
from unigate.connector import labels  # noqa: F401  (registers the built-in label_* transforms)
from unigate.connector.paginator import FetchPage, PageRequest, Paginator, Window
from unigate.connector.paging_ids import ids_window
from unigate.cursor import CursorPosition
from unigate.mapping.paths import MISSING, compile_path
from unigate.mapping.spec import PaginationSpec

MAX_CALLS_PER_PAGE = 50


def _select(body: Any, records_path: str) -> list[Any]:
    found = compile_path(records_path).get(body)
    if found is MISSING or found is None:
        return []
    return found if isinstance(found, list) else [found]


def _int_at(body: Any, path: str | None) -> int | None:
    if not path:
        return None
    value = compile_path(path).get(body)
    try:
        return int(value) if value is not MISSING and value is not None else None
    except (TypeError, ValueError):
        return None


async def fetch_window(
    fetch: FetchPage, pagination: PaginationSpec | None, records_path: str, position: CursorPosition, limit: int,
    keep: Callable[[list[Any]], list[Any]] | None = None, *, listed: dict[str, Any] | None = None,
    filters: dict[str, Any] | None = None, sort: dict[str, str] | None = None,
) -> Window:
    """``keep`` (unpaged lists only): the records served, of those the tracker answered."""
    style = pagination.style if pagination else "none"
    if pagination is not None and style not in ("none", "cursor", "offset", "page"):
        paginator: Paginator = ids_window if style == "ids" else COMPONENTS.get("paginator", style)
        return await paginator(PageRequest(fetch, pagination, records_path, position, limit, listed, filters or {},
                                           sort or {}))
    if style == "none" or pagination is None:
        body = (await fetch([])).body
        items = _select(body, records_path)
        items = keep(items) if keep is not None else items
        start = position.offset
        chunk = items[start:start + limit]
        more = start + limit < len(items)
        return Window(chunk, CursorPosition(offset=start + len(chunk)) if more else None, len(items))
    if style == "cursor":
        return await _token_window(fetch, pagination, records_path, position, limit)
    return await _numbered_window(fetch, pagination, records_path, position, limit, style)


async def _numbered_window(
    fetch: FetchPage, p: PaginationSpec, records_path: str, position: CursorPosition, limit: int, style: str
) -> Window:
    offset = position.offset
    collected: list[Any] = []
    total: int | None = None
    size = min(limit, p.max_limit)
    exhausted = False
    for _ in range(MAX_CALLS_PER_PAGE):
        want = limit - len(collected)
        if want <= 0:
            break
        if style == "offset":
            batch = min(want, p.max_limit)
            params = [(p.offset_param, str(offset))]
            if p.limit_param:
                params.append((p.limit_param, str(batch)))
            skip = 0
        else:
            batch = size
            page_index, skip = divmod(offset, size)
            params = [(p.page_param, str(page_index + p.first_page))]
            if p.limit_param:
                params.append((p.limit_param, str(size)))
        body = (await fetch(params)).body
        items = _select(body, records_path)
        total = _int_at(body, p.total) if p.total else total
        total = None if total is not None and total == p.total_unknown else total
        page_count = _int_at(body, p.page_count)
        served = items[skip:skip + want]
        collected.extend(served)
        offset += len(served)
        if len(items) < batch or not served:
            exhausted = True
        elif total is not None and offset >= total:
            exhausted = True
        elif style == "page" and page_count is not None and (offset // size) >= page_count:
            exhausted = True
        if exhausted:
            break
    if total is not None:
        exhausted = exhausted or offset >= total
    return Window(collected, None if exhausted else CursorPosition(offset=offset), total)


async def _token_window(
    fetch: FetchPage, p: PaginationSpec, records_path: str, position: CursorPosition, limit: int
) -> Window:
    token, skip = position.token, position.skip
    collected: list[Any] = []
    total: int | None = None
    for _ in range(MAX_CALLS_PER_PAGE):
        params: list[tuple[str, str]] = []
        if p.limit_param:
            params.append((p.limit_param, str(min(limit, p.max_limit))))
        if token:
            params.append((p.token_param, token))
        body = (await fetch(params)).body
        items = _select(body, records_path)
        total = _int_at(body, p.total) if p.total else total
        next_token = compile_path(p.next_token).get(body) if p.next_token else MISSING
        want = limit - len(collected)
        served = items[skip:skip + want]
        collected.extend(served)
        if skip + len(served) < len(items):  # stopped inside this page
            return Window(collected, CursorPosition(token=token or "", skip=skip + len(served)), total)
        if next_token is MISSING or not next_token:
            return Window(collected, None, total)
        token, skip = str(next_token), 0
        if len(collected) >= limit:
            return Window(collected, CursorPosition(token=token, skip=0), total)
    return Window(collected, CursorPosition(token=token or "", skip=skip), total)
