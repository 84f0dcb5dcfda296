"""unigate's connector acceptance suite against the Gitea simulator (docs/plugins.md)."""

from unigate.testing import ConnectorAcceptance


class TestGiteaAcceptance(ConnectorAcceptance):
    service_id = "gitea"
    collection_id = "website"
