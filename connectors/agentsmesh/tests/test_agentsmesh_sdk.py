"""The official SDK (apideck-unify) against AgentsMesh's simulator: the shared SDK suite
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
NO_USERS = frozenset({"users.list", "users.get"})

PROFILES = [
    SdkProfile("agentsmesh", collection_id="1", since_filter=True, assignee_id="2", missing_ticket_id="AM-99999",
               create={"subject": "Printer jams", "description": "Every morning.", "priority": "high",
                       "type_": "bug", "tags": [{"id": "backend"}]},
               unsupported=NO_COMMENTS | NO_USERS | {"tags.list"}),
]

_sdk_trackers, sdk_target = simulated_sdk_target(PROFILES)

__all__ = ["test_rate_limited_tracker_is_api_error_429", "test_tracker_payment_required_is_typed_402"]
