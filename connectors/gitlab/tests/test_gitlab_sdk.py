"""The official SDK (apideck-unify) against GitLab's simulator: the shared SDK suite
(``unigate.testing.sdk_suite``), plus the faults only a simulator can inject."""

from __future__ import annotations

from unigate.testing.sdk import (
    SdkProfile,
    simulated_sdk_target,
    test_rate_limited_tracker_is_api_error_429,
    test_tracker_payment_required_is_typed_402,
)
from unigate.testing.sdk_suite import *  # noqa: F403 - the shared tests, which this module runs

PROFILES = [
    SdkProfile("gitlab", collection_id="43", paging_collection="42",
               assignee_id="3", missing_ticket_id="999999", since_filter=True,
               create={"subject": "Printer jams", "description": "Every morning.", "priority": "high",
                       "type_": "incident"},
               sort={"by": "created_at", "direction": "desc"}),
]

_sdk_trackers, sdk_target = simulated_sdk_target(PROFILES)

__all__ = ["test_rate_limited_tracker_is_api_error_429", "test_tracker_payment_required_is_typed_402"]
