"""Selectel through the gateway, replayed from cassettes (re-record: `make cassettes`)."""

from __future__ import annotations

from pathlib import Path

from unigate.testing import read_pages
from unigate.testing.cassettes import recorded_client

TICKETS = "/issue-tracking/collections/support/tickets"


def test_paging_reads_and_maps_tickets(tmp_path: Path) -> None:
    with recorded_client(tmp_path, "selectel", "paging") as client:
        first, second = read_pages(client, TICKETS, limit=3, max_pages=2)
    numbers = [int(t["id"]) for t in first["data"] + second["data"]]
    assert numbers == sorted(numbers, reverse=True) and len(set(numbers)) == 6
    assert first["meta"]["total_count"] == 260


def test_ticket_close_and_comments(tmp_path: Path) -> None:
    with recorded_client(tmp_path, "selectel", "lifecycle") as client:
        ticket_id = client.post(TICKETS, json={"subject": "Recorded", "description": "First words"}).json()["data"]["id"]
        client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": "More detail"})
        closed = client.patch(f"{TICKETS}/{ticket_id}", json={"status": "closed"})
        ticket = client.get(f"{TICKETS}/{ticket_id}").json()["data"]
        comments = client.get(f"{TICKETS}/{ticket_id}/comments").json()["data"]
    assert closed.status_code == 200
    assert (ticket["subject"], ticket["description"], ticket["status"]) == ("Recorded", "First words", "closed")
    assert [c["body"] for c in comments][:2] == ["First words", "More detail"]
