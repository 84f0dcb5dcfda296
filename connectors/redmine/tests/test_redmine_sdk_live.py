"""The official SDK (apideck-unify) against the real Redmine (``unigate.testing.sdk``): the shared SDK suite.

Through ``unigate.testing.live``: live when the server runs (``connectors/redmine/tracker/start.sh``),
recording with ``UNIGATE_RECORD_CASSETTES=1``, replaying ``cassettes/redmine/live/sdk_*.yaml`` beside
this module otherwise (or with ``UNIGATE_LIVE_TRACKERS=off``). Requests carry no clock or random
values: ids come from responses, so a replay asks what the recording asked. Tickets the tests
create are deleted before they end.
"""

from __future__ import annotations

from datetime import UTC, datetime

from unigate.testing.sdk import SdkProfile, live_sdk_target
from unigate.testing.sdk_suite import *  # noqa: F403 - the shared tests, which this module runs

REDMINE = SdkProfile("redmine", collection_id="demo", paging_collection="paging", missing_ticket_id="99999999",
                     create={"subject": "Printer jams", "description": "Every morning.", "priority": "high",
                             "type_": "bug", "due_date": datetime(2030, 1, 31, tzinfo=UTC)},
                     since_filter=True, sort={"by": "created_at", "direction": "desc"}, assignee_id="5")

_sdk_trackers, sdk_target = live_sdk_target([REDMINE])
