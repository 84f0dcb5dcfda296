"""What is particular to Gitea, with the helpers docs/plugins.md advertises (unigate.testing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from unigate.testing import Simulator, connector_fixtures, error_of, injected_fault_tests
from unigate.testing.cassettes import recorded_client

TICKETS = "/issue-tracking/collections/website/tickets"

tracker, sim, harness, client = connector_fixtures("gitea", consumers={"stale": {"credentials": {"token": "revoked"}}})


def test_labels_change_through_their_own_call(client: httpx.Client, sim: Simulator) -> None:
    ticket_id = client.post(TICKETS, json={"subject": "Relabel me"}).json()["data"]["id"]
    labels = {t["name"]: t["id"] for t in client.get("/issue-tracking/collections/website/tags").json()["data"]}
    sim.clear()
    answer = client.patch(f"{TICKETS}/{ticket_id}", json={"subject": "Relabelled", "tags": [{"id": labels["docs"]}]})
    assert answer.status_code == 200, answer.text
    assert [(r["method"], r["path"].rsplit("/", 1)[-1], r["body"]) for r in sim.requests()] == [
        ("PATCH", ticket_id, {"title": "Relabelled"}), ("PUT", "labels", {"labels": [int(labels["docs"])]})]
    assert client.get(f"{TICKETS}/{ticket_id}").json()["data"]["tags"] == [{"id": labels["docs"], "name": "docs"}]


def test_in_progress_is_not_a_gitea_state_and_says_so(client: httpx.Client) -> None:
    ticket_id = client.post(TICKETS, json={"subject": "Busy"}).json()["data"]["id"]
    answer = client.patch(f"{TICKETS}/{ticket_id}", json={"status": "in_progress"}).json()
    assert [w["field"] for w in answer["meta"]["warnings"]] == ["status"]
    assert client.get(f"{TICKETS}/{ticket_id}").json()["data"]["status"] == "open"


def test_a_revoked_token_is_the_connections_credentials_error(tracker: Any) -> None:
    with tracker.client("stale") as stale:
        assert error_of(stale.get(TICKETS))[0] == 401


test_injected_fault_surfaces_as_its_typed_error = injected_fault_tests(TICKETS)


def test_recorded_lifecycle_replays_without_the_simulator(tmp_path: Path) -> None:
    """Replayed from tests/cassettes/lifecycle.yaml (re-record: UNIGATE_RECORD_CASSETTES=1 pytest)."""
    with recorded_client(tmp_path, "gitea", "lifecycle") as recorded:
        created = recorded.post(TICKETS, json={"subject": "Recorded", "assignees": [{"id": "bob"}]})
        ticket_id = created.json()["data"]["id"]
        read = recorded.get(f"{TICKETS}/{ticket_id}").json()["data"]
        deleted = recorded.delete(f"{TICKETS}/{ticket_id}")
    assert created.status_code == 201 and deleted.status_code == 200
    assert (read["subject"], read["assignees"]) == ("Recorded", [{"id": "bob", "username": "bob"}])
