"""The connector acceptance suite (unigate.testing.acceptance) against the Opine simulator."""

from unigate.testing import ConnectorAcceptance


class TestOpineAcceptance(ConnectorAcceptance):
    service_id = "opine"
