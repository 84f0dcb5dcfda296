"""Linear's named components (the manifest declares the GraphQL documents; decisions: README.md).

- ``linear_relay`` (paginator): Relay connections, ``first``/``after`` forwards; the next page's
  cursor is ``pageInfo.endCursor`` only while ``pageInfo.hasNextPage`` (Linear answers an
  ``endCursor`` on the last page too). Linear orders newest first only, so an ascending order
  (``options.ascending: backward``) is paged from the end, ``last``/``before`` with
  ``hasPreviousPage``/``startCursor``, each page reversed: exact, no emulation.
- ``linear_state`` (preparer, writes): a unified status is a workflow-state *type*; the issue's
  team's state of that type is looked up (the step's ``document``) and sent as ``stateId``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from unigate.kit import (
    Connector,
    CursorPosition,
    OperationContext,
    PageRequest,
    RequestValidationError,
    Window,
)

MAX_CALLS = 50


def _dig(body: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        body = body.get(key) if isinstance(body, dict) else None
    return body


@dataclass(frozen=True)
class Direction:
    """The Relay arguments and page info of one paging direction."""

    size: str
    cursor: str
    more: str
    next_cursor: str
    reverse: bool


FORWARD = Direction("first", "after", "hasNextPage", "endCursor", reverse=False)
BACKWARD = Direction("last", "before", "hasPreviousPage", "startCursor", reverse=True)


def _direction(page: PageRequest) -> Direction:
    """Linear orders newest first only: with ``options.ascending: backward``, an ascending order is
    read from the end of the connection (``last``/``before``), each page reversed."""
    ascending = page.sort is not None and page.sort.get("direction") == "asc"
    if ascending and page.pagination.options.get("ascending") == "backward":
        return BACKWARD
    return Direction(page.pagination.limit_param or "first", page.pagination.token_param or "after",
                     "hasNextPage", "endCursor", reverse=False)


async def linear_relay(page: PageRequest) -> Window:
    """``options.connection``: the dotted path of the connection in the answer (``data.issues``);
    ``limit_param`` / ``token_param``: the variables (``first`` / ``after``)."""
    connection = str(page.pagination.options["connection"])
    way = _direction(page)
    token, skip = page.position.token, page.position.skip
    collected: list[Any] = []
    size = min(page.limit, page.pagination.max_limit)
    for _ in range(MAX_CALLS):
        params = [(way.size, str(size))] + ([(way.cursor, token)] if token else [])
        found = _dig((await page.fetch(params)).body, connection) or {}
        items = (found.get("nodes") or [])[::-1 if way.reverse else 1]
        served = items[skip:skip + page.limit - len(collected)]
        collected.extend(served)
        if skip + len(served) < len(items):   # stopped inside this page
            return Window(collected, CursorPosition(token=token or "", skip=skip + len(served)), None)
        info = found.get("pageInfo") or {}
        if not info.get(way.more) or not info.get(way.next_cursor):
            return Window(collected, None, None)
        token, skip = str(info[way.next_cursor]), 0
        if len(collected) >= page.limit:
            return Window(collected, CursorPosition(token=token), None)
    return Window(collected, CursorPosition(token=token or "", skip=skip), None)


# unified status -> the state types it may be, in order of preference
STATE_TYPES = {"open": ("unstarted", "backlog", "triage"), "in_progress": ("started",),
               "closed": ("completed",)}


async def linear_state(connector: Connector, ctx: OperationContext, records: list[Any],
                       options: dict[str, Any]) -> list[Any]:
    """``options``: ``document`` (variables ``team`` or ``issue``), ``states`` (dotted path of the
    team's states in its answer). A value other than open/in_progress/closed is a state name."""
    for body in records:
        wanted = body.pop("stateType", None) if isinstance(body, dict) else None
        if wanted is None:
            continue
        variables = {"team": body["teamId"]} if "teamId" in body else {"issue": ctx.request.path_params["ticket_id"]}
        answer = (await ctx.call("tickets_state_lookup", "POST", "/graphql",
                                 body={"query": options["document"], "variables": variables})).body
        if ctx.applied and ctx.applied[-1] == "tickets_state_lookup":
            ctx.applied.pop()   # a query (POSTed, as every GraphQL call): nothing was written
        states = _dig(answer, str(options["states"])) or []
        body["stateId"] = _chosen(states, str(wanted))
    return records


linear_state.calls = {"tickets_state_lookup": ("POST", "/graphql")}  # type: ignore[attr-defined]


def _chosen(states: list[dict[str, Any]], wanted: str) -> str:
    kinds = STATE_TYPES.get(wanted)
    ordered = sorted(states, key=lambda s: s.get("position") or 0)
    for kind in kinds or ():
        found = next((s for s in ordered if s.get("type") == kind), None)
        if found is not None:
            return str(found["id"])
    found = next((s for s in ordered if kinds is None and str(s.get("name")).casefold() == wanted.casefold()), None)
    if found is None:
        known = ", ".join(f"{s.get('name')} ({s.get('type')})" for s in ordered)
        raise RequestValidationError("Unknown Linear workflow state", {
            "status": f"the team has no state for {wanted!r}; its states: {known}"})
    return str(found["id"])
