"""Redmine's named component: the ``redmine_status`` transform (a status record -> unified status).

Redmine's statuses belong to the installation; ``is_closed`` is the one reliable flag. A status
reads ``closed`` when closed, ``in_progress`` when named "In Progress" (Redmine's default name),
else ``open``. Before Redmine 5.0 a status carries no ``is_closed``: the names Closed and
Rejected then read as closed. The manifest reads ``status`` through it and matches unified status
values to ``GET /issue_statuses.json`` records through it (``lookup: {unified: redmine_status}``).
"""

from __future__ import annotations

from typing import Any

from unigate.kit import Transform

IN_PROGRESS = "in progress"
CLOSED_NAMES = {"closed", "rejected"}


def redmine_status(status: Any) -> Any:
    if not isinstance(status, dict):
        return None
    name = str(status.get("name") or "").casefold()
    closed = status.get("is_closed")
    if closed is None:
        closed = name in CLOSED_NAMES
    if closed:
        return "closed"
    return "in_progress" if name == IN_PROGRESS else "open"


def _as_given(value: Any) -> Any:
    return value


def redmine_status_transform(options: dict[str, Any]) -> Transform:
    """The component: reads with :func:`redmine_status`; writes the value as given (the field's
    ``lookup`` turns it into a status id)."""
    return Transform(redmine_status, _as_given)
