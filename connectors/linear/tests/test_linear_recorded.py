"""linear through the gateway, replayed from cassettes (re-record: `make cassettes`)."""

from __future__ import annotations

from pathlib import Path

from unigate.testing import read_pages
from unigate.testing.cassettes import recorded_client


def test_ticket_and_comment_lifecycle(tmp_path: Path) -> None:
    with recorded_client(tmp_path, "linear", "lifecycle") as client:
        teams = {t["name"]: t["id"] for t in client.get("/issue-tracking/collections").json()["data"]}
        tickets = f"/issue-tracking/collections/{teams['Design']}/tickets"
        ticket_id = client.post(tickets, json={"subject": "Recorded", "priority": "high"}).json()["data"]["id"]
        client.patch(f"{tickets}/{ticket_id}", json={"status": "in_progress"})
        ticket = client.get(f"{tickets}/{ticket_id}").json()["data"]
        comments = f"{tickets}/{ticket_id}/comments"
        comment_id = client.post(comments, json={"body": "Recorded comment"}).json()["data"]["id"]
        listed = client.get(comments).json()["data"]
        deleted = client.delete(f"{tickets}/{ticket_id}")
    assert (ticket["subject"], ticket["priority"], ticket["status"]) == ("Recorded", "high", "in_progress")
    assert [(c["id"], c["body"]) for c in listed] == [(comment_id, "<p>Recorded comment</p>")]   # Markdown read as HTML
    assert deleted.status_code == 200


def test_relay_paging(tmp_path: Path) -> None:
    with recorded_client(tmp_path, "linear", "paging") as client:
        teams = {t["name"]: t["id"] for t in client.get("/issue-tracking/collections").json()["data"]}
        pages = read_pages(client, f"/issue-tracking/collections/{teams['Engineering']}/tickets", limit=100, max_pages=4)
    ids = [t["id"] for page in pages for t in page["data"]]
    assert len(ids) == len(set(ids)) == 260 and pages[-1]["meta"]["cursors"]["next"] is None
