"""The official SDK (apideck-unify) against Codimir's simulator, every operation served: the shared SDK
suite and the faults only a simulator injects."""

from __future__ import annotations

from datetime import UTC, datetime

from unigate.testing.sdk import SdkProfile, simulated_sdk_target
from unigate.testing.sdk import test_rate_limited_tracker_is_api_error_429 as test_rate_limited_tracker_is_api_error_429
from unigate.testing.sdk import test_tracker_payment_required_is_typed_402 as test_tracker_payment_required_is_typed_402
from unigate.testing.sdk_suite import *  # noqa: F403 - the shared tests, which this module runs

PROFILES = [
    SdkProfile("codimir", collection_id="project_458", since_filter=True, assignee_id="user_106", paging_collection="project_456",
               missing_ticket_id="ticket_999999",
               create={"subject": "Printer jams", "description": "Every morning.", "priority": "high",
                       "type_": "bug", "due_date": datetime(2030, 1, 31, tzinfo=UTC)},
               sort={"by": "created_at", "direction": "desc"}),
]

_sdk_trackers, sdk_target = simulated_sdk_target(PROFILES)
