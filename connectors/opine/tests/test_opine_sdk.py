"""The official SDK (apideck-unify) against Opine's simulator: the shared SDK suite with comments, deletes
and tags answering the SDK's 501 and no status filter, and the faults only a simulator injects."""

from __future__ import annotations

from unigate.testing.sdk import SdkProfile, simulated_sdk_target
from unigate.testing.sdk import test_rate_limited_tracker_is_api_error_429 as test_rate_limited_tracker_is_api_error_429
from unigate.testing.sdk import test_tracker_payment_required_is_typed_402 as test_tracker_payment_required_is_typed_402
from unigate.testing.sdk_suite import *  # noqa: F403 - the shared tests, which this module runs

NO_COMMENTS = frozenset({"comments.list", "comments.create", "comments.get", "comments.update", "comments.delete"})

PROFILES = [
    SdkProfile("opine", collection_id="organization", since_filter=True, missing_ticket_id="999999",
               create={"subject": "Printer jams", "description": "Every morning.", "type_": "bug"},
               unsupported=NO_COMMENTS | {"tickets.delete", "tags.list"}, status_filter=False,
               sort={"by": "created_at", "direction": "asc"}),
]

_sdk_trackers, sdk_target = simulated_sdk_target(PROFILES)
