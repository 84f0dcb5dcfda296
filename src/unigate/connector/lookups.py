"""``LookupCache``: a tracker's reference lists (statuses, priorities, keywords...) kept per connection.

Quirk connectors resolve names to ids through lists that change rarely; fetching them on every
write (or, worse, per record) would multiply downstream calls. ``Connector.lookup`` serves them
from here: one entry per (connection id, connection revision, call id, path, query), kept for
``ttl`` seconds, so a connection whose credentials or settings change starts afresh and two
connections never share an answer. ``Connector.forget`` drops a list the connector itself just
changed (a keyword it created). The cache is bounded: past ``max_entries`` the oldest goes.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

LookupKey = tuple[str, int, str, str, tuple[tuple[str, str], ...]]


class LookupCache:
    def __init__(self, *, max_entries: int = 4096, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[LookupKey, tuple[float, list[dict[str, Any]]]] = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock

    def get(self, key: LookupKey) -> list[dict[str, Any]] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._entries[key]
            return None
        return value

    def put(self, key: LookupKey, value: list[dict[str, Any]], ttl: float) -> None:
        self._entries[key] = (self._clock() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def forget(self, connection_id: str, call_id: str) -> None:
        for key in [k for k in self._entries if k[0] == connection_id and k[2] == call_id]:
            del self._entries[key]

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
