"""The official SDK (apideck-unify) against AgentsMesh's simulator: the shared SDK suite, comments, users
and tags answering the SDK's 501, and the faults only a simulator injects."""

from __future__ import annotations

from unigate.testing.sdk import SdkProfile, simulated_sdk_target
from unigate.testing.sdk import test_rate_limited_tracker_is_api_error_429 as test_rate_limited_tracker_is_api_error_429
from unigate.testing.sdk import test_tracker_payment_required_is_typed_402 as test_tracker_payment_required_is_typed_402
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
