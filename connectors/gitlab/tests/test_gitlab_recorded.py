"""GitLab through the gateway, replayed from cassettes recorded against its simulator
(re-record: `UNIGATE_RECORD_CASSETTES=1 pytest connectors/gitlab/tests/test_gitlab_recorded.py`)."""

from __future__ import annotations

from pathlib import Path

from unigate.testing import read_pages
from unigate.testing.cassettes import recorded_client

TICKETS = "/issue-tracking/collections/43/tickets"


def test_paging_reads_issues_without_pull_requests(tmp_path: Path) -> None:
    with recorded_client(tmp_path, "gitlab", "paging") as client:
        first, second = read_pages(client, "/issue-tracking/collections/42/tickets", limit=3,
                                   max_pages=2)
    ids = [t["id"] for t in first["data"] + second["data"]]
    assert len(set(ids)) == 6 and all(i.isdigit() for i in ids)
    assert first["meta"]["total_count"] == 260


def test_ticket_and_comment_lifecycle(tmp_path: Path) -> None:
    with recorded_client(tmp_path, "gitlab", "lifecycle") as client:
        ticket_id = client.post(TICKETS, json={"subject": "Recorded", "priority": "urgent", "type": "incident",
                                               "status": "in_progress"}).json()["data"]["id"]
        client.patch(f"{TICKETS}/{ticket_id}", json={"status": "closed"})
        ticket = client.get(f"{TICKETS}/{ticket_id}").json()["data"]
        comment = client.post(f"{TICKETS}/{ticket_id}/comments", json={"body": "Recorded comment"})
        comment_id = comment.json()["data"]["id"]
        comments = client.get(f"{TICKETS}/{ticket_id}/comments").json()["data"]
        deleted = client.delete(f"{TICKETS}/{ticket_id}/comments/{comment_id}")
    assert (ticket["subject"], ticket["priority"], ticket["status"]) == ("Recorded", "urgent", "closed")
    assert ticket["type"] == "incident"
    assert [(c["id"], c["body"]) for c in comments] == [(comment_id, "Recorded comment")]
    assert deleted.status_code == 200


def test_users_and_tags(tmp_path: Path) -> None:
    with recorded_client(tmp_path, "gitlab", "users_tags") as client:
        users = client.get("/issue-tracking/collections/43/users").json()["data"]
        one = client.get(f"/issue-tracking/collections/43/users/{users[0]['id']}").json()["data"]
        tags = client.get("/issue-tracking/collections/43/tags").json()["data"]
    assert users and one == users[0]
    assert tags and all(set(t) == {"id", "name"} for t in tags)
