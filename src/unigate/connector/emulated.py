"""Filters the engine serves itself when the tracker cannot be asked (docs/mapping-files.md,
"Changes since T and fanned-out filters").

- ``filter[since]`` not declared in ``filters`` (:func:`~unigate.connector.capabilities.since_mode`):
  ``sorted``: the list read newest-updated first (``updated_at desc``), ended at the first record
  updated before T; ``scan``: the list read in the asked order, records updated before T dropped,
  at most ``emulation.scan_limit`` per request (``FilterScanLimitError`` past it).
- ``filter[status]`` meaning several tracker statuses on a list filtering one per call
  (``multiple: single``): one call per status, merged in the list's order; with no known order,
  the whole list read and the unified statuses kept (bounded like a scan).

Every page comes from :mod:`unigate.connector.streams`, whose state the cursor carries: the next
page resumes the same reading, every record once, at any ``limit``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from unigate.connector.capabilities import UPDATED_DESC, merge_order, since_mode
from unigate.connector.context import OperationContext
from unigate.connector.paginator import FetchPage, Window
from unigate.connector.paging import fetch_window
from unigate.connector.query import status_param, status_values
from unigate.connector.records import kept, updated_at_or_after
from unigate.connector.streams import END, Ended, Filtered, Merged, PageStream, ScanBudget, Stream, branch_states, serve
from unigate.cursor import CursorPosition
from unigate.errors import InvalidCursorError, UnsupportedFiltersError
from unigate.mapping.spec import MappingFile, OperationSpec, PaginationSpec
from unigate.mapping.template import render_settings
from unigate.mapping.transforms import TransformError, parse_timestamp

FetchWith = Callable[[list[tuple[str, str]]], FetchPage]   # extra params (a branch's status) -> fetch
WHOLE_LIST_WINDOW = 1_000_000   # unpaged lists: one call serves every window


@dataclass
class ListPlan:
    """What ``tickets.all`` asks downstream and what the engine does itself."""

    native_filters: dict[str, Any]                  # sent as the manifest declares
    sort: dict[str, str] | None                     # the sort sent (or served by the natural order)
    since: datetime | None = None                   # emulated since: its floor
    since_stops: bool = False                       # ... read newest-updated first, stopped at T
    # fanned out: one call per tracker status, with the asked unified statuses it stands for (what a
    # paginator component sees as that call's filter[status])
    statuses: list[tuple[Any, list[str]]] = field(default_factory=list)
    kept_statuses: set[str] | None = None           # no order to merge by: unified statuses kept by a scan
    order: dict[str, str] | None = None             # the merge order of fanned-out calls

    @property
    def emulated(self) -> bool:
        return self.since is not None or bool(self.statuses) or self.kept_statuses is not None


def plan_list(spec: MappingFile, resource: str, op: OperationSpec, filters: dict[str, Any],
              sort: dict[str, str] | None) -> ListPlan:
    """Which of ``filters`` the tracker gets and which the engine serves (refusals left to
    :func:`unigate.connector.query.filter_params`, which sees the filters still undeclared)."""
    plan = ListPlan(dict(filters), sort)
    since = filters.get("since")
    mode = since_mode(spec, resource, op)
    if since is not None and mode in ("sorted", "scan"):
        plan.since = _floor(since)
        del plan.native_filters["since"]
        plan.since_stops = mode == "sorted" and sort in (None, UPDATED_DESC)
        plan.sort = UPDATED_DESC if plan.since_stops else sort
    _plan_status(spec.service_id, op, plan)
    return plan


def _plan_status(service_id: str, op: OperationSpec, plan: ListPlan) -> None:
    spec, wanted = op.filters.get("status"), plan.native_filters.get("status")
    if spec is None or wanted is None or spec.multiple != "single" or not op.emulation.fan_out:
        return
    statuses = status_values(spec, wanted, service_id)
    if len(statuses) < 2:
        return
    del plan.native_filters["status"]
    plan.order = merge_order(op, plan.sort)
    if plan.order is None:
        plan.kept_statuses = set(wanted)
    else:
        plan.statuses = [(s, [u for u in wanted if s in status_values(spec, [u], service_id)]) for s in statuses]
        plan.sort = plan.order


def _floor(since: Any) -> datetime:
    try:
        return parse_timestamp(since)
    except TransformError as exc:
        raise UnsupportedFiltersError("Invalid filter", f"filter[since]: {exc}") from None


def connection_pagination(ctx: OperationContext, pagination: PaginationSpec | None) -> PaginationSpec | None:
    """``pagination`` with its options' ``{settings.x}`` strings rendered for this connection."""
    if pagination is None or "{settings." not in str(pagination.options):
        return pagination
    options = render_settings(pagination.options, ctx.template_context.get("settings", {}))
    return pagination.model_copy(update={"options": options})


async def list_window(ctx: OperationContext, op: OperationSpec, plan: ListPlan, fetch_with: FetchWith) -> Window:
    """The page at the request's cursor: the tracker's paging, or (the plan emulates a filter) streams."""
    if plan.emulated:
        return await emulated_window(ctx, op, plan, fetch_with)
    if ctx.position.state is not None:
        raise InvalidCursorError("Invalid cursor", "this cursor was issued for the list with other filters; "
                                 "cursors only page the list they came from")
    return await fetch_window(fetch_with([]), connection_pagination(ctx, op.pagination), op.records or "$",
                              ctx.position, ctx.request.limit,
                              keep=lambda items: kept(items, op.keep), listed=ctx.listed, filters=ctx.request.filter,
                              sort=ctx.request.sort)


async def emulated_window(ctx: OperationContext, op: OperationSpec, plan: ListPlan, fetch_with: FetchWith) -> Window:
    """The page at the request's cursor of the list ``plan`` describes."""
    position = ctx.position
    if position.state is None and (position.offset or position.token):
        raise InvalidCursorError("Invalid cursor", "this cursor was issued for the list without the filters now "
                                 "asked; cursors only page the list they came from")
    unified = _reader(ctx)
    budget = ScanBudget(op.emulation.scan_limit, _what(plan), ctx.service_id)
    stream = _stream(ctx, op, plan, fetch_with, unified, budget)
    records, state = await serve(stream, ctx.request.limit)
    return Window(records, None if state is None else CursorPosition(state=state), None)


def _stream(ctx: OperationContext, op: OperationSpec, plan: ListPlan, fetch_with: FetchWith,
            unified: Callable[[Any], dict[str, Any]], budget: ScanBudget) -> Stream:
    state = ctx.position.state
    if not plan.statuses:
        return _branch(ctx, op, plan, (fetch_with([]), plan.native_filters), unified, budget, state)
    assert plan.order is not None
    spec = op.filters["status"]
    states = branch_states(state, len(plan.statuses))
    branches: list[Stream] = [
        Ended() if at is END else _branch(ctx, op, plan, (fetch_with([status_param(spec, status)]),
                                                          {**plan.native_filters, "status": asked}), unified, budget, at)
        for (status, asked), at in zip(plan.statuses, states, strict=True)]
    by = plan.order["by"]
    return Merged(branches, key=lambda raw: _sort_key(unified(raw).get(by)), reverse=plan.order["direction"] == "desc")


def _branch(ctx: OperationContext, op: OperationSpec, plan: ListPlan, call: tuple[FetchPage, dict[str, Any]],
            unified: Callable[[Any], dict[str, Any]], budget: ScanBudget, state: Any) -> Stream:
    """One downstream reading (the list, or one status of it: ``call`` is its fetch and the filters a
    paginator component sees), filtered as the plan says."""
    fetch, filters = call
    size = op.pagination.max_limit if op.pagination is not None and op.pagination.style != "none" else WHOLE_LIST_WINDOW

    async def read(position: Any) -> Window:
        return await fetch_window(fetch, connection_pagination(ctx, op.pagination), op.records or "$", position, size,
                                  keep=lambda items: kept(items, op.keep), listed=ctx.listed,
                                  filters=filters)

    stream: Stream = PageStream(read, state)
    if plan.since is not None:
        floor = plan.since
        stream = Filtered(stream, lambda raw: updated_at_or_after(unified(raw), floor),
                          stop=plan.since_stops, budget=budget)
    if plan.kept_statuses is not None:
        wanted = plan.kept_statuses
        stream = Filtered(stream, lambda raw: unified(raw).get("status") in wanted, stop=False, budget=budget)
    return stream


def _reader(ctx: OperationContext) -> Callable[[Any], dict[str, Any]]:
    """A downstream record as its unified fields (before ``prepare``: what the filters compare)."""
    values = ctx.mapping.render_values(ctx.template_context)
    read = ctx.mapping.read
    return lambda raw: read(raw, values)


def _sort_key(value: Any) -> tuple[int, Any]:
    """Comparable across records: timestamps as instants, anything else as text; missing first."""
    if value is None:
        return (0, "")
    try:
        return (2, parse_timestamp(value))
    except (TransformError, TypeError, ValueError):
        return (1, str(value))


def _what(plan: ListPlan) -> str:
    return "filter[since]" if plan.since is not None else "filter[status]"
