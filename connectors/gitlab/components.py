"""GitLab's named components: what its manifest cannot say in data.

- ``gitlab_pages`` (paginator): ``page``/``per_page`` paging that follows ``x-next-page`` (empty on
  the last page), with ``x-total`` as the total when GitLab sends it (it does not above 10,000
  rows: paging then still ends by ``x-next-page``), and drops the records a ``drop`` key marks
  (system notes in an issue's notes, ``system: true``); a cursor is (page number and size,
  records of it consumed), so pages stay exact when records are dropped.
- ``gitlab_keyset`` (paginator): projects (collections) by keyset, ``id_after`` the cursor, when
  no sort is asked; a sorted list falls back to ``gitlab_pages``.
- ``gitlab_labels`` (preparer): GitLab has opened/closed issues and labels; priority and
  in-progress are scoped label conventions (options ``in_progress`` and ``priorities``, as the
  manifest sets them: one label per scope, GitLab replaces ``priority::low`` by ``priority::high``
  itself), read by the gateway's built-in ``label_status``, ``label_priority`` and ``label_tags``
  transforms; tags are the other labels, their ids are their names. On a write the preparer turns ``_status`` into
  ``state_event`` and labels, ``_priority`` into a label: an update adds and removes the
  convention labels (``add_labels``/``remove_labels``) and, when tags are written, reads the
  issue's labels first to keep the convention ones.
"""

from __future__ import annotations

from typing import Any

from unigate.kit import (
    CursorPosition,
    LabelConventions,
    PageRequest,
    RequestValidationError,
    Window,
    is_dropped,
    label_names,
    page_start,
    status_label_filter,
)

STATUSES = ("open", "in_progress", "closed")
MAX_CALLS = 50
ISSUE_PATH = "/projects/{collection_id|int}/issues/{ticket_id|int}"


# -- paginator -----------------------------------------------------------------------------------
def _total(headers: Any, dropping: bool) -> int | None:
    total = headers.get("x-total", "")
    return int(total) if total.isdigit() and not dropping else None


async def next_page_header(page: PageRequest) -> Window:
    """``page``/``per_page`` paging along ``x-next-page``; records with the ``drop`` key skipped."""
    p, drop = page.pagination, page.pagination.options.get("drop")
    number, size, skip = page_start(page)
    extra, hidden_label = status_label_filter(page)
    collected: list[Any] = []
    total: int | None = None
    for _ in range(MAX_CALLS):
        response = await page.fetch([*extra, (p.page_param, str(number)), (p.limit_param or "per_page", str(size))])
        items = response.body if isinstance(response.body, list) else []
        total = _total(response.headers, bool(drop or hidden_label))   # a total of what is not dropped only
        for index in range(skip, len(items)):
            if len(collected) == page.limit:
                return Window(collected, CursorPosition(token=f"{number}:{size}", skip=index), total)
            if not is_dropped(items[index], drop, hidden_label):
                collected.append(items[index])
        following = response.headers.get("x-next-page", "")
        if not following.isdigit():
            return Window(collected, None, total)
        number, skip = int(following), 0
        if len(collected) == page.limit:
            break
    return Window(collected, CursorPosition(token=f"{number}:{size}", skip=skip), total)


KEYSET = [("pagination", "keyset"), ("order_by", "id"), ("sort", "asc")]


async def keyset_pages(page: PageRequest) -> Window:
    """GitLab's keyset paging when no sort is asked: ``pagination=keyset&order_by=id&sort=asc`` and
    ``id_after`` the last id served (the cursor), more while ``Link`` has rel="next". No totals and
    no offset ceiling (offset paging of a large list is GitLab's slow case, and past 10,000 rows it
    gives no totals anyway). A sorted list pages by offset (``gitlab_pages``): keyset takes ``id`` only."""
    if page.sort.get("by") or page.sort.get("direction"):
        return await next_page_header(page)
    token = page.position.token or ""
    after = token.removeprefix("id:") if token.startswith("id:") else None
    collected: list[Any] = []
    more = True
    for _ in range(MAX_CALLS):
        size = min(page.limit - len(collected), page.pagination.max_limit)
        response = await page.fetch([*KEYSET, ("per_page", str(size)), *([("id_after", after)] if after else [])])
        items = [i for i in response.body if isinstance(i, dict)] if isinstance(response.body, list) else []
        collected += items[:size]
        more = bool(items) and 'rel="next"' in response.headers.get("link", "")
        if not more or len(collected) >= page.limit:
            break
        after = str(collected[-1].get("id"))
    following = CursorPosition(token=f"id:{collected[-1].get('id')}") if more and collected else None
    return Window(collected, following, None)


# -- preparer ------------------------------------------------------------------------------------
_UNSET = object()


async def labels_for_write(connector: Any, ctx: Any, records: list[Any], options: dict[str, Any]) -> list[Any]:
    """A write body's ``_status``, ``_priority`` and tag names -> ``state_event`` and labels."""
    body, conventions = records[0], LabelConventions(options)
    wanted_status, wanted_priority = body.pop("_status", _UNSET), body.pop("_priority", _UNSET)
    tags_sent = body.pop("labels", _UNSET)
    if wanted_status is not _UNSET and wanted_status not in STATUSES:
        raise RequestValidationError("Invalid field value", {"status": f"one of {', '.join(STATUSES)}"})
    if wanted_status is not _UNSET:
        body["state_event"] = "close" if wanted_status == "closed" else "reopen"
    add, remove = _convention_changes(conventions, wanted_status, wanted_priority)
    if ctx.request.operation == "add":
        if body.get("state_event") == "reopen":
            del body["state_event"]   # a new issue is open; a close is sent again after the create (resend)
        names = ([] if tags_sent is _UNSET else tags_sent) + add
        if names:
            body["labels"] = ",".join(dict.fromkeys(names))
    elif tags_sent is not _UNSET:
        current = await _current_labels(connector, ctx)
        kept = [n for n in current if conventions.is_convention(n) and n not in remove]
        body["labels"] = ",".join(dict.fromkeys(tags_sent + kept + add))
    else:
        if add:
            body["add_labels"] = ",".join(add)
        if remove:
            body["remove_labels"] = ",".join(remove)
    return records


def _convention_changes(conventions: LabelConventions, wanted_status: Any,
                        wanted_priority: Any) -> tuple[list[str], list[str]]:
    """The convention labels a write adds and removes."""
    add: list[str] = []
    remove: list[str] = []
    if wanted_status == "in_progress":
        add.append(conventions.in_progress)
    elif wanted_status is not _UNSET:
        remove.append(conventions.in_progress)
    if wanted_priority is None:
        remove += list(conventions.priorities.values())
    elif wanted_priority is not _UNSET:
        if wanted_priority not in conventions.priorities:
            raise RequestValidationError("Invalid field value", {"priority": (
                f"one of {', '.join(conventions.priorities)} (labels {', '.join(conventions.priorities.values())})")})
        add.append(conventions.priorities[wanted_priority])
        remove += [v for v in conventions.priorities.values() if v != conventions.priorities[wanted_priority]]
    return add, remove


async def _current_labels(connector: Any, ctx: Any) -> list[str]:
    response = await ctx.call("tickets_update_labels", "GET", connector.path(ctx, ISSUE_PATH))
    return label_names(response.body.get("labels") if isinstance(response.body, dict) else [])


labels_for_write.calls = {"tickets_update_labels": ("GET", ISSUE_PATH)}  # type: ignore[attr-defined]
