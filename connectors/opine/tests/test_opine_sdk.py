"""The official SDK (apideck-unify) against Opine's simulator: the shared SDK suite
(``unigate.testing.sdk_suite``; what the connector does not support asserted as the SDK's 501
``APIError``), plus the faults only a simulator can inject."""

from __future__ import annotations

from unigate.testing.sdk import (
    SdkProfile,
    simulated_sdk_target,
    test_rate_limited_tracker_is_api_error_429,
    test_tracker_payment_required_is_typed_402,
)
from unigate.testing.sdk_suite import *  # noqa: F403 - the shared tests, which this module runs

NO_COMMENTS = frozenset({"comments.list", "comments.create", "comments.get", "comments.update", "comments.delete"})

PROFILES = [
    SdkProfile("opine", collection_id="organization", since_filter=True, missing_ticket_id="999999",
               create={"subject": "Printer jams", "description": "Every morning.", "type_": "bug"},
               unsupported=NO_COMMENTS | {"tickets.delete", "tags.list"}, status_filter=False,
               sort={"by": "created_at", "direction": "asc"}),
]

_sdk_trackers, sdk_target = simulated_sdk_target(PROFILES)

__all__ = ["test_rate_limited_tracker_is_api_error_429", "test_tracker_payment_required_is_typed_402"]
