"""The official SDK (apideck-unify) against Selectel's simulator: the shared SDK suite (a status update
closes, users and deletes answer the SDK's 501), and the faults only a simulator injects."""

from __future__ import annotations

from unigate.testing.sdk import SdkProfile, simulated_sdk_target
from unigate.testing.sdk import test_rate_limited_tracker_is_api_error_429 as test_rate_limited_tracker_is_api_error_429
from unigate.testing.sdk import test_tracker_payment_required_is_typed_402 as test_tracker_payment_required_is_typed_402
from unigate.testing.sdk_suite import *  # noqa: F403 - the shared tests, which this module runs

NO_USERS = frozenset({"users.list", "users.get"})

PROFILES = [
    SdkProfile("selectel", collection_id="support", since_filter=True, missing_ticket_id="999999",
               create={"subject": "Printer jams", "description": "Every morning."},
               update={"status": "closed"},
               unsupported=NO_USERS | {"tickets.delete", "comments.update", "comments.delete"},
               sort={"by": "created_at", "direction": "desc"}),
]

_sdk_trackers, sdk_target = simulated_sdk_target(PROFILES)
