"""The official SDK (apideck-unify) against linear and its simulator (unigate.testing.sdk)."""

from __future__ import annotations

from typing import Any

from unigate.testing.sdk import SdkProfile, simulated_sdk_target
from unigate.testing.sdk_suite import *  # noqa: F403 - the shared tests, which this module runs
from unigate_connectors.linear.simulator import create_app


def _seeded() -> tuple[str, str]:
    """Team DES's id and the viewer's, as the sandbox's simulator (the same seed) has them."""
    app: Any = create_app().app
    state = app.state.simulator
    team = next(t.values["id"] for t in state.of("Team") if t.values["key"] == "DES")
    return str(team), str(state.of("User")[0].values["id"])


TEAM, VIEWER = _seeded()
_sdk_trackers, sdk_target = simulated_sdk_target([SdkProfile(
    "linear", collection_id=TEAM, missing_ticket_id="DES-99999", assignee_id=VIEWER, since_filter=True,
    sort={"by": "created_at", "direction": "asc"},   # orderBy createdAt, read from the end (last/before)
    create={"subject": "Printer jams", "description": "<p>Every morning.</p>", "priority": "high"},
    comment="<p>Seen it too</p>", edited_comment="<p>Seen it twice</p>")])   # Markdown read as HTML
