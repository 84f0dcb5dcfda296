"""GitLab's named components: what its manifest cannot say in data.

- ``gitlab_pages`` (paginator): ``page``/``per_page`` paging that follows ``x-next-page`` (empty on
  the last page), with ``x-total`` as the total when GitLab sends it (it does not above 10,000
  rows: paging then still ends by ``x-next-page``), and drops the records a ``drop`` key marks
  (system notes in an issue's notes, ``system: true``); a cursor is (page number and size,
  records of it consumed), so pages stay exact when records are dropped.
- ``gitlab_status``, ``gitlab_priority``, ``gitlab_tags`` (transforms) and ``gitlab_labels``
  (preparer): GitLab has opened/closed issues and labels; priority and in-progress are scoped
  label conventions (options ``in_progress`` and ``priorities``, defaults below: one label per
  scope, GitLab replaces ``priority::low`` by ``priority::high`` itself); tags are the other
  labels, their ids are their names. On a write the preparer turns ``_status`` into
  ``state_event`` and labels, ``_priority`` into a label: an update adds and removes the
  convention labels (``add_labels``/``remove_labels``) and, when tags are written, reads the
  issue's labels first to keep the convention ones.
"""

from __future__ import annotations

from typing import Any

from unigate.kit import (
    COMPONENTS,
    CursorPosition,
    PageRequest,
    RequestValidationError,
    Transform,
    TransformError,
    Window,
)

IN_PROGRESS = "workflow::in progress"
PRIORITIES = {"urgent": "priority::urgent", "high": "priority::high", "normal": "priority::medium",
              "low": "priority::low"}
STATUSES = ("open", "in_progress", "closed")
SOURCE = "unigate_connectors.gitlab"
MAX_CALLS = 50
ISSUE_PATH = "/projects/{collection_id|int}/issues/{ticket_id|int}"


class Conventions:
    """Which labels mean ``in_progress`` and each priority (``options``: ``in_progress``, ``priorities``)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.in_progress = str(options.get("in_progress", IN_PROGRESS))
        self.priorities = {str(k): str(v) for k, v in (options.get("priorities") or PRIORITIES).items()}
        self.priority_of = {label.casefold(): level for level, label in self.priorities.items()}

    def is_convention(self, name: str) -> bool:
        return name.casefold() == self.in_progress.casefold() or name.casefold() in self.priority_of

    def has_in_progress(self, names: list[str]) -> bool:
        return any(n.casefold() == self.in_progress.casefold() for n in names)


def label_names(labels: Any) -> list[str]:
    """Names of GitLab labels given as names or as objects (``with_labels_details``)."""
    names = [(label.get("name") if isinstance(label, dict) else label) for label in labels or []]
    return [str(n) for n in names if n is not None]


def _as_given(value: Any) -> Any:
    return value


# -- transforms ----------------------------------------------------------------------------------
def status(options: dict[str, Any]) -> Transform:
    """Reads an issue: ``closed``, ``in_progress`` (opened with the in-progress label) or ``open``."""
    conventions = Conventions(options)

    def read(issue: Any) -> Any:
        if not isinstance(issue, dict):
            return None
        if issue.get("state") == "closed":
            return "closed"
        return "in_progress" if conventions.has_in_progress(label_names(issue.get("labels"))) else "open"

    return Transform(read, _as_given)


def priority(options: dict[str, Any]) -> Transform:
    conventions = Conventions(options)

    def read(labels: Any) -> Any:
        names = label_names(labels)
        return next((conventions.priority_of[n.casefold()] for n in names if n.casefold() in conventions.priority_of),
                    None)

    return Transform(read, _as_given)


def tags(options: dict[str, Any]) -> Transform:
    """Reads the labels that are no convention as ``[{id: name, name}]``; writes their names."""
    conventions = Conventions(options)

    def read(labels: Any) -> list[dict[str, Any]]:
        return [{"id": n, "name": n} for n in label_names(labels) if not conventions.is_convention(n)]

    def write(value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(t, dict) and (t.get("id") or t.get("name"))
                                                    for t in value):
            raise TransformError("expected a list of {id} (a label's name)")
        return [str(t.get("id") or t.get("name")) for t in value]

    return Transform(read, write)


# -- paginator -----------------------------------------------------------------------------------
def _start(page: PageRequest) -> tuple[int, int, int]:
    p, token = page.pagination, page.position.token
    if token:
        number, _, size = token.partition(":")
        return int(number), int(size), page.position.skip
    return p.first_page, min(max(page.limit, 1), p.max_limit), 0


def _total(headers: Any, dropping: bool) -> int | None:
    total = headers.get("x-total", "")
    return int(total) if total.isdigit() and not dropping else None


def _status_filter(page: PageRequest) -> tuple[list[tuple[str, str]], str | None]:
    """``filter[status]=in_progress``: asked of the tracker as its in-progress label (``labels``);
    ``open``: the open issues without it (dropped here). Option ``in_progress``: the label."""
    label = page.pagination.options.get("in_progress")
    wanted = page.filters.get("status")
    wanted = wanted if isinstance(wanted, list) else [wanted] if wanted else []
    if not label or len(wanted) != 1:
        return [], None
    if wanted[0] == "in_progress":
        return [("labels", str(label))], None
    return [], str(label) if wanted[0] == "open" else None


def _dropped(item: Any, drop: str | None, hidden_label: str | None) -> bool:
    if not isinstance(item, dict):
        return False
    if drop and item.get(drop):
        return True
    names = (n.casefold() for n in label_names(item.get("labels")))
    return hidden_label is not None and hidden_label.casefold() in names


async def next_page_header(page: PageRequest) -> Window:
    """``page``/``per_page`` paging along ``x-next-page``; records with the ``drop`` key skipped."""
    p, drop = page.pagination, page.pagination.options.get("drop")
    number, size, skip = _start(page)
    extra, hidden_label = _status_filter(page)
    collected: list[Any] = []
    total: int | None = None
    for _ in range(MAX_CALLS):
        response = await page.fetch([*extra, (p.page_param, str(number)), (p.limit_param or "per_page", str(size))])
        items = response.body if isinstance(response.body, list) else []
        total = _total(response.headers, bool(drop or hidden_label))   # a total of what is not dropped only
        for index in range(skip, len(items)):
            if len(collected) == page.limit:
                return Window(collected, CursorPosition(token=f"{number}:{size}", skip=index), total)
            if not _dropped(items[index], drop, hidden_label):
                collected.append(items[index])
        following = response.headers.get("x-next-page", "")
        if not following.isdigit():
            return Window(collected, None, total)
        number, skip = int(following), 0
        if len(collected) == page.limit:
            break
    return Window(collected, CursorPosition(token=f"{number}:{size}", skip=skip), total)


# -- preparer ------------------------------------------------------------------------------------
_UNSET = object()


async def labels_for_write(connector: Any, ctx: Any, records: list[Any], options: dict[str, Any]) -> list[Any]:
    """A write body's ``_status``, ``_priority`` and tag names -> ``state_event`` and labels."""
    body, conventions = records[0], Conventions(options)
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


def _convention_changes(conventions: Conventions, wanted_status: Any,
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

COMPONENTS.register("paginator", "gitlab_pages", next_page_header, source=SOURCE)
COMPONENTS.register("transform", "gitlab_status", status, source=SOURCE)
COMPONENTS.register("transform", "gitlab_priority", priority, source=SOURCE)
COMPONENTS.register("transform", "gitlab_tags", tags, source=SOURCE)
COMPONENTS.register("preparer", "gitlab_labels", labels_for_write, source=SOURCE)
