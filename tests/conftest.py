"""Gateway-level fixtures: a gateway whose demo consumer is harness to a simulated AgentsMesh
(``tracker``, ``sim``, ``harness``, ``client``; see ``unigate.testing.connector_fixtures``)."""

from __future__ import annotations

from unigate.testing import connector_fixtures
from unigate_connectors.agentsmesh import simulator as agentsmesh

COLLECTION = f"/issue-tracking/collections/{agentsmesh.MAIN_REPOSITORY_ID}"
TICKETS = f"{COLLECTION}/tickets"

tracker, sim, harness, client = connector_fixtures("agentsmesh")
