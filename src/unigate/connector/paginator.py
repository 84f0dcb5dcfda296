"""The paginator contract: what a paging style gets (:class:`PageRequest`) and gives back
(:class:`Window`). The built-in styles (:mod:`unigate.connector.paging`, :mod:`unigate.connector.paging_ids`)
and registered ``paginator`` components all speak it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from unigate.cursor import CursorPosition
from unigate.downstream.client import DownstreamResponse
from unigate.mapping.spec import PaginationSpec

FetchPage = Callable[[list[tuple[str, str]]], Awaitable[DownstreamResponse]]


@dataclass
class Window:
    records: list[Any]
    next: CursorPosition | None
    total: int | None


@dataclass(frozen=True)
class PageRequest:
    """What a paginator gets: ``fetch(page_params)`` makes the list call with the operation's own
    query plus ``page_params``; ``records`` is the JSONPath of the records in an answer."""

    fetch: FetchPage
    pagination: PaginationSpec
    records: str
    position: CursorPosition
    limit: int
    listed: dict[str, Any] | None = None   # the operation's `listed` item, when declared
    filters: dict[str, Any] = field(default_factory=dict)   # the unified request's filters (status: a list)
    sort: dict[str, str] = field(default_factory=dict)      # the unified request's sort ({} when none asked)


class Paginator(Protocol):
    """A ``paginator`` component (``pagination: {style: <name>, options: {...}}``): serves ``limit``
    records from ``position`` with as many ``fetch`` calls as it needs, and says where the next
    page starts (None: no more) and the total when known."""

    async def __call__(self, page: PageRequest) -> Window: ...
