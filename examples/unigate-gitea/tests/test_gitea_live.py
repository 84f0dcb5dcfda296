"""Against a real Gitea (GITEA_BASE_URL, GITEA_OWNER, GITEA_TOKEN), or its cassettes when none runs.

With no server (CI), these replay tests/cassettes/ (the acceptance suite's under acceptance/).
Record against a Gitea with a repository `website` owned by GITEA_OWNER:
``UNIGATE_RECORD_CASSETTES=1 pytest tests/test_gitea_live.py`` (these were recorded against the
simulator served as a stand-in: ``unigate simulate gitea``).
"""

import httpx

from unigate.testing import ConnectorAcceptance, LiveTracker, live_fixtures

live, client = live_fixtures("gitea")


class TestGiteaLiveAcceptance(ConnectorAcceptance):
    service_id = "gitea"
    tracker = "live"
    collection_id = "website"


def test_repositories_are_named_by_their_owner(live: LiveTracker, client: httpx.Client) -> None:
    owner = live.env["GITEA_OWNER"]
    data = client.get("/issue-tracking/collections").json()["data"]
    assert "website" in [c["id"] for c in data]
    assert [c["name"] for c in data] == [f"{owner}/{c['id']}" for c in data]
