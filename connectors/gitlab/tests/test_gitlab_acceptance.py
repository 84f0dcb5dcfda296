"""The connector acceptance suite (unigate.testing.acceptance) against the GitLab simulator."""

from unigate.testing import ConnectorAcceptance


class TestGitLabAcceptance(ConnectorAcceptance):
    service_id = "gitlab"
    collection_id = "43"
