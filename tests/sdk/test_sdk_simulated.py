"""The official SDK (apideck-unify) against the four simulated trackers (``unigate.testing.sdk``).

One set of tests, run for every connector; what each connector does not support is asserted as
the SDK's 501 ``APIError``. Faults only a simulator can inject (429, a tracker's 402) live here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from unigate.testing.sdk import (
    SdkProfile,
    simulated_sdk_target,
    test_rate_limited_tracker_is_api_error_429,
    test_tracker_payment_required_is_typed_402,
)
from unigate.testing.sdk_suite import *  # noqa: F403 - the shared tests, which this module runs

NO_COMMENTS = frozenset({"comments.list", "comments.create", "comments.get", "comments.update", "comments.delete"})
NO_USERS = frozenset({"users.list", "users.get"})

PROFILES = [
    SdkProfile("agentsmesh", collection_id="1", since_filter=True, assignee_id="2", missing_ticket_id="AM-99999",
               create={"subject": "Printer jams", "description": "Every morning.", "priority": "high",
                       "type_": "bug", "tags": [{"id": "backend"}]},
               unsupported=NO_COMMENTS | NO_USERS | {"tags.list"}),
    SdkProfile("codimir", collection_id="project_458", since_filter=True, assignee_id="user_106", paging_collection="project_456",
               missing_ticket_id="ticket_999999",
               create={"subject": "Printer jams", "description": "Every morning.", "priority": "high",
                       "type_": "bug", "due_date": datetime(2030, 1, 31, tzinfo=UTC)},
               sort={"by": "created_at", "direction": "desc"}),
    SdkProfile("opine", collection_id="organization", since_filter=True, missing_ticket_id="999999",
               create={"subject": "Printer jams", "description": "Every morning.", "type_": "bug"},
               unsupported=NO_COMMENTS | {"tickets.delete", "tags.list"}, status_filter=False,
               sort={"by": "created_at", "direction": "asc"}),
    SdkProfile("selectel", collection_id="support", since_filter=True, missing_ticket_id="999999",
               create={"subject": "Printer jams", "description": "Every morning."},
               update={"status": "closed"},
               unsupported=NO_USERS | {"tickets.delete", "comments.update", "comments.delete"},
               sort={"by": "created_at", "direction": "desc"}),
]

_sdk_trackers, sdk_target = simulated_sdk_target(PROFILES)

__all__ = [  # the tests this module runs besides the shared ones (faults only a simulator injects)
    "test_rate_limited_tracker_is_api_error_429",
    "test_tracker_payment_required_is_typed_402",
]
