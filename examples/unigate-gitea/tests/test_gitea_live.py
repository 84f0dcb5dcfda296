"""The acceptance suite against a real Gitea (GITEA_BASE_URL, GITEA_OWNER, GITEA_TOKEN), or its cassettes.

With no server (CI), it replays tests/cassettes/acceptance/. Record against a Gitea with a
repository `website` owned by GITEA_OWNER: ``UNIGATE_RECORD_CASSETTES=1 pytest tests/test_gitea_live.py``
(these were recorded against the simulator served as a stand-in: ``unigate simulate gitea``).
"""

from unigate.testing import ConnectorAcceptance


class TestGiteaLiveAcceptance(ConnectorAcceptance):
    service_id = "gitea"
    tracker = "live"
    collection_id = "website"
