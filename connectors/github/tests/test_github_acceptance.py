"""The connector acceptance suite (unigate.testing.acceptance) against the GitHub simulator."""

from unigate.testing import ConnectorAcceptance


class TestGitHubAcceptance(ConnectorAcceptance):
    service_id = "github"
    collection_id = "octo-org~platform"
