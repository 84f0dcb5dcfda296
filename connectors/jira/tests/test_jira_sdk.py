"""The official SDK (apideck-unify) against jira-api-token and its simulator (unigate.testing.sdk)."""

from __future__ import annotations

from typing import Any

from unigate.testing.sdk import SdkProfile, simulated_sdk_target
from unigate.testing.sdk_suite import *  # noqa: F403 - the shared tests, which this module runs
from unigate_connectors.jira.simulator import create_app


def _assignable_in_ops() -> str:
    app: Any = create_app().app
    state = app.state.simulator   # the same seed as the sandbox's simulator
    return str(state.members("OPS")[1]["accountId"])


_sdk_trackers, sdk_target = simulated_sdk_target([SdkProfile(
    "jira-api-token", collection_id="OPS", paging_collection="ENG", missing_ticket_id="999999",
    assignee_id=_assignable_in_ops(), since_filter=True, sort={"by": "created_at", "direction": "asc"},
    create={"subject": "Printer jams", "description": "<p>Every morning.</p>", "priority": "high",
            "type_": "bug", "tags": [{"id": "customer"}]},
    comment="<p>Seen it too</p>", edited_comment="<p>Seen it twice</p>")])   # rich text: HTML on read

