"""The official SDK (apideck-unify) against the real Roundup (``unigate.testing.sdk``): the shared SDK suite.

Through ``unigate.testing.live``: live when the server runs (``connectors/roundup/tracker/start.sh``),
recording with ``UNIGATE_RECORD_CASSETTES=1``, replaying ``cassettes/roundup/live/sdk_*.yaml`` beside
this module otherwise (or with ``UNIGATE_LIVE_TRACKERS=off``). Requests carry no clock or random
values: ids come from responses, so a replay asks what the recording asked. Tickets the tests
create are deleted (retired) before they end.
"""

from __future__ import annotations

from typing import Any

from apideck_unify import models

from unigate.testing.sdk import SdkProfile, SdkTarget, expect_error, get_ticket, live_sdk_target, new_ticket
from unigate.testing.sdk_suite import *  # noqa: F403 - the shared tests, which this module runs

ROUNDUP = SdkProfile("roundup", collection_id="issue", missing_ticket_id="99999999",
                     create={"subject": "Printer jams", "description": "Every morning.", "priority": "high"},
                     unsupported=frozenset({"comments.update", "comments.delete"}),
                     since_filter=True, sort={"by": "created_at", "direction": "desc"}, assignee_id="1",
                     tag_seed={"subject": "Tagged for the SDK", "tags": [{"name": "sdk-listed"}]})

_sdk_trackers, sdk_target = live_sdk_target([ROUNDUP])


def test_stale_write_is_a_conflict(sdk_target: SdkTarget) -> None:
    """An update pinned to an etag someone else's write made stale: Roundup's 412, the gateway's 409.

    The SDK has no typed exception for 409: it is an ``APIError`` (status 409, ``ConflictError``).
    """
    t = sdk_target
    ticket_id = new_ticket(t)
    try:
        seen = t.it.collection_tickets.get(ticket_id=ticket_id, **t.on, raw=True).get_ticket_response.raw
        etag = next(call["body"]["data"]["@etag"] for call in seen["calls"] if call["call_id"] == "tickets_one")
        t.it.collection_tickets.update(ticket_id=ticket_id, **t.on, subject="Changed by someone else")
        pinned: list[dict[str, Any]] = [{"service_id": "roundup", "operation_id": "tickets_update",
                                         "extend_object": {"@etag": etag}}]
        error = expect_error(models.APIError, 409, "ConflictError",
                             lambda: t.it.collection_tickets.update(ticket_id=ticket_id, **t.on, subject="Mine",
                                                                    pass_through=pinned))
        assert "412" in error.body or "etag" in error.body.lower()
        assert get_ticket(t, ticket_id).subject == "Changed by someone else"
    finally:
        t.it.collection_tickets.delete(ticket_id=ticket_id, **t.on)

