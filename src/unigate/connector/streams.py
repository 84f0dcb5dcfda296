"""A downstream list read record by record, with a position exact after every record taken.

The engine's emulated filters (:mod:`unigate.connector.emulated`) serve a unified page from
streams: :class:`PageStream` reads the list a window of fixed size at a time (any paging style),
:class:`Filtered` keeps the records a predicate accepts (stopping at the first it refuses, or
scanning past them within a budget), :class:`Merged` merges several ordered streams. A stream's
``state()`` is JSON data saying where the next record is (None: the stream has ended); the cursor
carries it (``CursorPosition.state``), so the next page resumes the same reading exactly:

- a page stream: ``{"p": <paging position payload>, "k": <records of that window already taken>}``
  (the window at ``p`` is read again with the same size and its first ``k`` records skipped);
- a merge: ``{"b": [<each branch's state, null when it has ended>]}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from unigate.connector.paginator import Window
from unigate.cursor import CursorPosition, position_from
from unigate.errors import FilterScanLimitError, InvalidCursorError

END = object()       # the stream has no more records
UNKNOWN = object()   # a cheap peek could not tell without another downstream call
ReadWindow = Callable[[CursorPosition], Awaitable[Window]]


class Stream(Protocol):
    async def peek(self, cheap: bool = False) -> Any:
        """The next record (not taken), ``END``, or (``cheap``: no downstream call) ``UNKNOWN``."""

    def take(self) -> Any:
        """Take the record ``peek`` answered."""

    def state(self) -> Any:
        """Where the stream stands after the records taken (None: ended)."""


class PageStream:
    """The list, a window of ``read``'s fixed size at a time, from ``state`` (None: from the start)."""

    def __init__(self, read: ReadWindow, state: Any = None) -> None:
        self._read = read
        self._at, self._skip = _page_state(state)
        self._records: list[Any] = []
        self._index = 0
        self._next: CursorPosition | None = None
        self._loaded = False

    async def _fill(self, cheap: bool) -> bool | None:
        """Whether a record is buffered (None: only a downstream call could tell)."""
        while self._index >= len(self._records):
            if self._loaded and self._next is None:
                return False
            if cheap:
                return None
            at = self._next if self._loaded and self._next is not None else self._at
            window = await self._read(at)
            self._index, self._skip = (0 if self._loaded else self._skip), 0
            self._at, self._records, self._next, self._loaded = at, window.records, window.next, True
        return True

    async def peek(self, cheap: bool = False) -> Any:
        buffered = await self._fill(cheap)
        if buffered is None:
            return UNKNOWN
        return self._records[self._index] if buffered else END

    def take(self) -> Any:
        record = self._records[self._index]
        self._index += 1
        return record

    def state(self) -> Any:
        if not self._loaded:
            return {"p": self._at.to_payload(), "k": self._skip}
        if self._index < len(self._records):
            return {"p": self._at.to_payload(), "k": self._index}
        return None if self._next is None else {"p": self._next.to_payload(), "k": 0}


class Ended:
    """A stream with no record (a merge branch a cursor says has ended)."""

    async def peek(self, cheap: bool = False) -> Any:
        return END

    def take(self) -> Any:
        raise IndexError("an ended stream has no record")

    def state(self) -> Any:
        return None


@dataclass
class ScanBudget:
    """How many records the filtered streams of one request may read and drop (shared by branches)."""

    limit: int
    what: str            # the emulated filter, for the error ("filter[since]")
    service_id: str
    dropped: int = 0

    def spend(self) -> None:
        self.dropped += 1
        if self.dropped > self.limit:
            raise FilterScanLimitError("Filter scan limit exceeded", {
                "reason": "scan_limit", "scan_limit": self.limit, "filter": self.what,
                "detail": f"{self.service_id} cannot apply {self.what} itself; the gateway read and dropped more than "
                          f"{self.limit} records without filling the page (emulation.scan_limit). Narrow the "
                          f"request (a later since, other filters) or raise the bound"})


class Filtered:
    """The records of ``inner`` that ``accept`` keeps. ``stop``: the first refused record ends the
    stream (the list is ordered so that none after it is kept); else refused records are skipped,
    each spending ``budget``."""

    def __init__(self, inner: Stream, accept: Callable[[Any], bool], *, stop: bool, budget: ScanBudget | None) -> None:
        self._inner, self._accept, self._stop, self._budget = inner, accept, stop, budget
        self._ended = False

    async def peek(self, cheap: bool = False) -> Any:
        while not self._ended:
            record = await self._inner.peek(cheap)
            if record is END or record is UNKNOWN or self._accept(record):
                return record
            if self._stop:
                self._ended = True
                break
            self._inner.take()
            if self._budget is not None:
                self._budget.spend()
        return END

    def take(self) -> Any:
        return self._inner.take()

    def state(self) -> Any:
        return None if self._ended else self._inner.state()


class Merged:
    """Several streams, each ordered by ``key`` (``reverse``: descending), merged in that order;
    ties go to the earlier branch."""

    def __init__(self, branches: list[Stream], key: Callable[[Any], Any], reverse: bool) -> None:
        self._branches, self._key, self._reverse = branches, key, reverse
        self._chosen: int | None = None

    async def peek(self, cheap: bool = False) -> Any:
        best: tuple[int, Any] | None = None
        for index, branch in enumerate(self._branches):
            record = await branch.peek(cheap)
            if record is UNKNOWN:
                return UNKNOWN
            if record is not END and (best is None or self._before(record, best[1])):
                best = (index, record)
        self._chosen = best[0] if best is not None else None
        return best[1] if best is not None else END

    def _before(self, record: Any, other: Any) -> bool:
        mine, theirs = self._key(record), self._key(other)
        return mine > theirs if self._reverse else mine < theirs

    def take(self) -> Any:
        assert self._chosen is not None, "take() without a peek() answering a record"
        return self._branches[self._chosen].take()

    def state(self) -> Any:
        states = [branch.state() for branch in self._branches]
        return None if all(s is None for s in states) else {"b": states}


async def serve(stream: Stream, limit: int) -> tuple[list[Any], Any]:
    """Up to ``limit`` records and the state after them (None: nothing follows, as far as the
    records already read show; a page may then be followed by an empty last one)."""
    records: list[Any] = []
    while len(records) < limit:
        record = await stream.peek()
        if record is END:
            return records, None
        records.append(stream.take())
    return records, None if await stream.peek(cheap=True) is END else stream.state()


def branch_states(state: Any, count: int) -> list[Any]:
    """Each branch's state in a merge's ``state`` (None: start every branch; ``Ended()`` for a null)."""
    if state is None:
        return [None] * count
    branches = state.get("b") if isinstance(state, dict) else None
    if not isinstance(branches, list) or len(branches) != count:
        raise InvalidCursorError("Invalid cursor", "this cursor was issued for another list; "
                                 "cursors only page the list they came from")
    return [b if b is not None else END for b in branches]


def _page_state(state: Any) -> tuple[CursorPosition, int]:
    if state is None:
        return CursorPosition(), 0
    if not isinstance(state, dict) or not isinstance(state.get("p"), dict) or not isinstance(state.get("k"), int):
        raise InvalidCursorError("Invalid cursor", "this cursor was issued for another list; "
                                 "cursors only page the list they came from")
    return position_from(state["p"]), max(0, state["k"])
