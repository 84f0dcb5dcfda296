"""Label conventions: trackers with only open/closed and labels (GitHub, GitLab) say ``in_progress``
and priority with labels; tags are the other labels. Built-in named components any manifest may use:

- ``label_status`` (transform, on the whole issue: ``read: $``): ``closed`` when ``state`` is
  ``closed``, ``in_progress`` when open with the in-progress label, else ``open``; writes the value
  as given (the connector's preparer turns it into the tracker's state and labels).
- ``label_priority`` (transform, on the label list): the level whose label the issue has, else null;
  writes the level as given.
- ``label_tags`` (transform, on the label list): the labels that are no convention as ``[{id, name}]``.
  Option ``tag_id``: ``name`` (default: a label's id is its name; writes names) or ``label`` (the
  label object's own ``id``; reads label objects only, writes ``[{id, name}]``).

All three take the options ``in_progress`` (a label name, default ``in progress``) and ``priorities``
(``{level: label}``, defaults :data:`PRIORITIES`); names compare case-insensitively.
:class:`LabelConventions` and :func:`label_names` are the same rules for a connector's preparer.

Paginators of such trackers share :func:`page_start` (a page-number cursor: ``number:size`` plus
records of that page consumed), :func:`status_label_filter` (``filter[status]`` as a label) and
:func:`is_dropped` (records a ``drop`` key marks, or carrying the hidden label).
"""

from __future__ import annotations

from typing import Any

from unigate.components import COMPONENTS
from unigate.connector.paginator import PageRequest
from unigate.mapping.transforms import Transform, TransformError

IN_PROGRESS = "in progress"
PRIORITIES = {"urgent": "priority: urgent", "high": "priority: high", "normal": "priority: normal",
              "low": "priority: low"}


class LabelConventions:
    """Which labels mean ``in_progress`` and each priority (``options``: ``in_progress``, ``priorities``)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.in_progress = str(options.get("in_progress", IN_PROGRESS))
        self.priorities = {str(k): str(v) for k, v in (options.get("priorities") or PRIORITIES).items()}
        self.priority_of = {label.casefold(): level for level, label in self.priorities.items()}

    def is_convention(self, name: str) -> bool:
        return name.casefold() == self.in_progress.casefold() or name.casefold() in self.priority_of

    def priority(self, names: list[str]) -> str | None:
        return next((self.priority_of[n.casefold()] for n in names if n.casefold() in self.priority_of), None)

    def has_in_progress(self, names: list[str]) -> bool:
        return any(n.casefold() == self.in_progress.casefold() for n in names)


def label_names(labels: Any) -> list[str]:
    """Names of labels given as objects (``{name}``) or as names."""
    names = [(label.get("name") if isinstance(label, dict) else label) for label in labels or []]
    return [str(n) for n in names if n is not None]


def _as_given(value: Any) -> Any:
    return value


def label_status(options: dict[str, Any]) -> Transform:
    conventions = LabelConventions(options)

    def read(issue: Any) -> Any:
        if not isinstance(issue, dict):
            return None
        if issue.get("state") == "closed":
            return "closed"
        return "in_progress" if conventions.has_in_progress(label_names(issue.get("labels"))) else "open"

    return Transform(read, _as_given)


def label_priority(options: dict[str, Any]) -> Transform:
    conventions = LabelConventions(options)
    return Transform(lambda labels: conventions.priority(label_names(labels)), _as_given)


def label_tags(options: dict[str, Any]) -> Transform:
    conventions, by_label_id = LabelConventions(options), options.get("tag_id", "name") == "label"

    def read(labels: Any) -> list[dict[str, Any]]:
        if by_label_id:
            return [{"id": str(label.get("id")), "name": label.get("name")} for label in labels or []
                    if isinstance(label, dict) and not conventions.is_convention(str(label.get("name")))]
        return [{"id": n, "name": n} for n in label_names(labels) if not conventions.is_convention(n)]

    def write(value: Any) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(t, dict) and (t.get("id") or t.get("name"))
                                                    for t in value):
            raise TransformError("expected a list of {id} (a label " + ("id" if by_label_id else "name")
                                 + ") or {name}")
        if by_label_id:
            return [{"id": t.get("id"), "name": t.get("name")} for t in value]
        return [str(t.get("id") or t.get("name")) for t in value]

    return Transform(read, write)


# -- paginator building blocks -------------------------------------------------------------------
def page_start(page: PageRequest) -> tuple[int, int, int]:
    """(page number, page size, records of that page already consumed) of a cursor position."""
    p, token = page.pagination, page.position.token
    if token:
        number, _, size = token.partition(":")
        return int(number), int(size), page.position.skip
    return p.first_page, min(max(page.limit, 1), p.max_limit), 0


def status_label_filter(page: PageRequest) -> tuple[list[tuple[str, str]], str | None]:
    """``filter[status]=in_progress``: asked of the tracker as its in-progress label (``labels``);
    ``open``: the open issues without it (returned as the label to drop). Pagination option
    ``in_progress``: the label. Returns (extra query parameters, hidden label or None)."""
    label = page.pagination.options.get("in_progress")
    wanted = page.filters.get("status")
    wanted = wanted if isinstance(wanted, list) else [wanted] if wanted else []
    if not label or len(wanted) != 1:
        return [], None
    if wanted[0] == "in_progress":
        return [("labels", str(label))], None
    return [], str(label) if wanted[0] == "open" else None


def is_dropped(item: Any, drop: str | None, hidden_label: str | None) -> bool:
    """A record the ``drop`` key marks (truthy), or one carrying the hidden label."""
    if not isinstance(item, dict):
        return False
    if drop and item.get(drop):
        return True
    names = (n.casefold() for n in label_names(item.get("labels")))
    return hidden_label is not None and hidden_label.casefold() in names


COMPONENTS.register("transform", "label_status", label_status)
COMPONENTS.register("transform", "label_priority", label_priority)
COMPONENTS.register("transform", "label_tags", label_tags)
