"""GitHub through the gateway, replayed from cassettes recorded against its simulator
(re-record: `UNIGATE_RECORD_CASSETTES=1 pytest connectors/github/tests/test_github_recorded.py`)."""

from __future__ import annotations

from pathlib import Path

from unigate.testing import read_pages
from unigate.testing.cassettes import recorded_client

TICKETS = "/issue-tracking/collections/octo-org~platform/tickets"


def test_paging_reads_issues_without_pull_requests(tmp_path: Path) -> None:
    with recorded_client(tmp_path, "github", "paging") as client:
        first, second = read_pages(client, "/issue-tracking/collections/octocat~Hello-World/tickets", limit=3,
                                   max_pages=2)
    ids = [t["id"] for t in first["data"] + second["data"]]
    assert len(set(ids)) == 6 and all(i.isdigit() for i in ids)
    assert "total_count" not in first["meta"]


def test_ticket_and_comment_lifecycle(tmp_path: Path) -> None:
    with recorded_client(tmp_path, "github", "lifecycle") as client:
        ticket_id = client.post(TICKETS, json={"subject": "Recorded", "priority": "urgent", "type": "Bug",
                                               "status": "in_progress"}).json()["data"]["id"]
        client.patch(f"{TICKETS}/{ticket_id}", json={"status": "closed"})
        ticket = client.get(f"{TICKETS}/{ticket_id}").json()["data"]
        comment = client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": "Recorded comment"})
        comment_id = comment.json()["data"]["id"]
        comments = client.get(f"{TICKETS}/{ticket_id}/comments").json()["data"]
        deleted = client.delete(f"{TICKETS}/{ticket_id}/comments/{comment_id}")
    assert (ticket["subject"], ticket["priority"], ticket["status"]) == ("Recorded", "urgent", "closed")
    assert ticket["type"] == "Bug"
    assert [(c["id"], c["body"]) for c in comments] == [(comment_id, "Recorded comment")]
    assert deleted.status_code == 200


def test_users_and_tags(tmp_path: Path) -> None:
    with recorded_client(tmp_path, "github", "users_tags") as client:
        users = client.get("/issue-tracking/collections/octo-org~platform/users").json()["data"]
        one = client.get(f"/issue-tracking/collections/octo-org~platform/users/{users[0]['id']}").json()["data"]
        tags = client.get("/issue-tracking/collections/octo-org~platform/tags").json()["data"]
    assert users and one == users[0]
    assert tags and all(set(t) == {"id", "name"} for t in tags)
