"""jira-api-token and jira through the gateway, replayed from cassettes (re-record: `make cassettes`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from unigate.testing import read_pages
from unigate.testing.cassettes import recorded_client

OPS = "/issue-tracking/collections/OPS/tickets"


@pytest.mark.parametrize("service_id", ["jira-api-token", "jira"])
def test_ticket_and_comment_lifecycle(tmp_path: Path, service_id: str) -> None:
    with recorded_client(tmp_path, service_id, f"lifecycle-{service_id}") as client:
        ticket_id = client.post(OPS, json={"subject": "Recorded", "priority": "high", "type": "bug",
                                           "description": "<p>Recorded <em>here</em></p>"}).json()["data"]["id"]
        client.patch(f"{OPS}/{ticket_id}", json={"status": "closed"})
        ticket = client.get(f"{OPS}/{ticket_id}").json()["data"]
        comments = f"{OPS}/{ticket_id}/comments"
        comment_id = client.post(comments, json={"body": "Recorded comment"}).json()["data"]["id"]
        listed = client.get(comments).json()["data"]
        deleted = client.delete(f"{OPS}/{ticket_id}")
    assert (ticket["subject"], ticket["priority"], ticket["type"], ticket["status"]) == ("Recorded", "high", "bug", "closed")
    assert ticket["description"] == "<p>Recorded <em>here</em></p>" and ticket["completed_at"]
    assert [(c["id"], c["body"]) for c in listed] == [(comment_id, "<p>Recorded comment</p>")]
    assert deleted.status_code == 200


def test_paging_through_search_tokens(tmp_path: Path) -> None:
    with recorded_client(tmp_path, "jira-api-token", "paging") as client:
        pages = read_pages(client, "/issue-tracking/collections/ENG/tickets", limit=100, max_pages=3)
    ids = [t["id"] for page in pages for t in page["data"]]
    assert len(ids) == len(set(ids)) == 260 and pages[-1]["meta"]["cursors"]["next"] is None
