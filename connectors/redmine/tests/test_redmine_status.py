"""The ``redmine_status`` transform (components.py, registered by plugin.py's hook) on statuses the live
Redmine 5.0 never shows."""

from __future__ import annotations

import pytest

from unigate_connectors.redmine.plugin import register_transforms


@pytest.mark.parametrize(("status", "unified"), [
    ({"name": "Rejected"}, "closed"),             # before 5.0: no is_closed, the name says it
    ({"name": "In Progress"}, "in_progress"),
    ({"name": "Feedback", "is_closed": False}, "open"),
    ({"name": "In Progress", "is_closed": True}, "closed"),   # is_closed wins over the name
    (None, None),                                 # an issue without a status
])
def test_a_status_record_reads_as_a_unified_status(status: object, unified: str | None) -> None:
    assert register_transforms()["redmine_status"]({}).read(status) == unified
