"""Conditional GETs (manifest ``http.conditional: true``): a connection's ETag'd answers are kept,
and the same GET again carries ``If-None-Match``; a ``304 Not Modified`` is then served from the
kept body and headers (a 304 need not repeat ``Link`` or ``X-Total``). Trackers such as GitHub do
not count a 304 against the rate limit, so re-reads (the read before a write, a list polled again)
cost nothing while nothing changed.

One ``Validators`` per connection revision (it lives in the connection's ``Endpoint``), keyed by
the full request target; bounded in entries and in the size of a kept body.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import httpx

MAX_ENTRIES = 128
MAX_BODY_BYTES = 256 * 1024


class Validators:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_body: int = MAX_BODY_BYTES) -> None:
        self._entries: OrderedDict[str, tuple[str, Any, httpx.Headers]] = OrderedDict()
        self._max_entries, self._max_body = max_entries, max_body

    def headers(self, target: str) -> dict[str, str]:
        """``If-None-Match`` for a GET of ``target`` answered with an ETag before."""
        entry = self._entries.get(target)
        return {"if-none-match": entry[0]} if entry else {}

    def kept(self, target: str, headers: httpx.Headers) -> tuple[Any, httpx.Headers] | None:
        """The body kept for ``target`` and its headers updated by the 304's ``headers``, or None."""
        entry = self._entries.get(target)
        if entry is None:
            return None
        self._entries.move_to_end(target)
        merged = entry[2].copy()
        merged.update(headers)
        return entry[1], merged

    def keep(self, target: str, body: Any, headers: httpx.Headers, size: int) -> None:
        etag = headers.get("etag")
        if not etag or size > self._max_body:
            self._entries.pop(target, None)
            return
        self._entries[target] = (etag, body, headers)
        self._entries.move_to_end(target)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
