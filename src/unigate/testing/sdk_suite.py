"""The SDK tests of ``unigate.testing.sdk`` that every connector runs, simulated or real, for a
test module to run them all with one import::

    from unigate.testing.sdk import SdkProfile, simulated_sdk_target  # or live_sdk_target
    from unigate.testing.sdk_suite import *  # noqa: F403 - the shared tests, which this module runs

    _sdk_trackers, sdk_target = simulated_sdk_target([SdkProfile("mytracker", ...)])

The simulator-only ones (``test_rate_limited_tracker_is_api_error_429``,
``test_tracker_payment_required_is_typed_402``) are imported from ``unigate.testing.sdk`` by name.
"""

from __future__ import annotations

from unigate.testing.sdk import (
    test_assignee_is_set_filtered_and_cleared,
    test_bad_limit_and_invalid_body_are_bad_requests,
    test_collections_list_and_get,
    test_comments,
    test_disabled_connection_is_unprocessable,
    test_tags_list,
    test_ticket_lifecycle,
    test_tickets_are_paged_with_next,
    test_tickets_filter_and_sort,
    test_unknown_ticket_is_not_found,
    test_unsupported_operations_are_501,
    test_users_list_and_get,
    test_wrong_api_key_is_unauthorized,
)

__all__ = [
    "test_assignee_is_set_filtered_and_cleared",
    "test_bad_limit_and_invalid_body_are_bad_requests",
    "test_collections_list_and_get",
    "test_comments",
    "test_disabled_connection_is_unprocessable",
    "test_tags_list",
    "test_ticket_lifecycle",
    "test_tickets_are_paged_with_next",
    "test_tickets_filter_and_sort",
    "test_unknown_ticket_is_not_found",
    "test_unsupported_operations_are_501",
    "test_users_list_and_get",
    "test_wrong_api_key_is_unauthorized",
]
