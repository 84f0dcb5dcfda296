"""Opine through the gateway, replayed from cassettes (re-record: `make cassettes`)."""

from __future__ import annotations

from pathlib import Path

from unigate.testing import read_pages
from unigate.testing.cassettes import recorded_client

TICKETS = "/issue-tracking/collections/organization/tickets"


def test_paging_reads_and_maps_tickets(tmp_path: Path) -> None:
    with recorded_client(tmp_path, "opine", "paging") as client:
        first, second = read_pages(client, TICKETS, limit=3, max_pages=2)
    ids = [int(t["id"]) for t in first["data"] + second["data"]]
    assert ids == sorted(ids) and len(set(ids)) == 6
    assert first["meta"]["total_count"] == 260


def test_ticket_lifecycle(tmp_path: Path) -> None:
    with recorded_client(tmp_path, "opine", "lifecycle") as client:
        ticket_id = client.post(TICKETS, json={"subject": "Recorded", "type": "bug", "description": "**Steps**"}).json()["data"]["id"]
        client.patch(f"{TICKETS}/{ticket_id}", json={"status": "closed"})
        ticket = client.get(f"{TICKETS}/{ticket_id}").json()["data"]
        users = client.get("/issue-tracking/collections/organization/users").json()["data"]
    assert (ticket["subject"], ticket["type"], ticket["status"], ticket["description"]) == ("Recorded", "bug", "closed", "**Steps**")
    assert ticket["completed_at"] is not None
    assert users and all(u["name"] for u in users)
