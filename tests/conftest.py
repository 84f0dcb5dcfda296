"""Gateway-level fixtures: a gateway whose demo consumer is harness to a simulated AgentsMesh
(``tracker``, ``sim``, ``harness``, ``client``; see ``unigate.testing.connector_fixtures``)."""

from __future__ import annotations

from typing import Any

import httpx

from unigate.testing import Simulator, connector_fixtures
from unigate_connectors.agentsmesh import simulator as agentsmesh

COLLECTION = f"/issue-tracking/collections/{agentsmesh.MAIN_REPOSITORY_ID}"
TICKETS = f"{COLLECTION}/tickets"

tracker, sim, harness, client = connector_fixtures("agentsmesh")


def tracker_tickets(sim: Simulator, **params: Any) -> list[dict[str, Any]]:
    """AgentsMesh's own answer to ``GET /tickets`` (ground truth, bypassing the gateway).

    The request lands in the simulator's log: read it before the gateway call a test inspects,
    or after inspecting ``sim.requests()``.
    """
    url = f"{sim.url}/api/v1/ext/orgs/{agentsmesh.DEFAULT_ORG}/tickets"
    query = {"limit": -1, **params}
    return httpx.get(url, params=query, headers={"X-API-Key": agentsmesh.DEFAULT_API_KEY}).json()["tickets"]
