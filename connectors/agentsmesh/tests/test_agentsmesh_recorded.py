"""AgentsMesh through the gateway, replayed from cassettes (re-record: `make cassettes`)."""

from __future__ import annotations

from pathlib import Path

from unigate.testing import read_pages
from unigate.testing.cassettes import recorded_client

TICKETS = "/issue-tracking/collections/1/tickets"


def test_paging_reads_and_maps_tickets(tmp_path: Path) -> None:
    with recorded_client(tmp_path, "agentsmesh", "paging") as client:
        first, second = read_pages(client, TICKETS, limit=3, max_pages=2)
    ids = [t["id"] for t in first["data"] + second["data"]]
    assert ids == ["AM-260", "AM-259", "AM-258", "AM-257", "AM-256", "AM-255"]
    assert first["meta"]["total_count"] == 260
    assert {t["status"] for t in first["data"]} <= {"open", "in_progress", "closed"}


def test_ticket_lifecycle(tmp_path: Path) -> None:
    with recorded_client(tmp_path, "agentsmesh", "lifecycle") as client:
        created = client.post(TICKETS, json={"subject": "Recorded ticket", "priority": "high", "tags": [{"id": "backend"}]})
        ticket_id = created.json()["data"]["id"]
        updated = client.patch(f"{TICKETS}/{ticket_id}", json={"subject": "Recorded, renamed", "status": "closed"})
        fetched = client.get(f"{TICKETS}/{ticket_id}").json()["data"]
        deleted = client.delete(f"{TICKETS}/{ticket_id}")
        gone = client.get(f"{TICKETS}/{ticket_id}")
    assert created.status_code == 201 and updated.status_code == 200 and deleted.status_code == 200
    assert (fetched["subject"], fetched["status"], fetched["priority"]) == ("Recorded, renamed", "closed", "high")
    assert fetched["tags"] == [{"id": "backend", "name": "backend"}]
    assert gone.status_code == 404 and gone.json()["type_name"] == "EntityNotFoundError"


def test_collections(tmp_path: Path) -> None:
    with recorded_client(tmp_path, "agentsmesh", "collections") as client:
        collections = client.get("/issue-tracking/collections").json()["data"]
        one = client.get("/issue-tracking/collections/2").json()["data"]
    assert [c["id"] for c in collections] == ["1", "2", "3"]
    assert one["name"] == "web-dashboard"
