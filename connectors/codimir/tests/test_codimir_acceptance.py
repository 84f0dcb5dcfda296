"""The connector acceptance suite (unigate.testing.acceptance) against the Codimir simulator."""

from unigate.testing import ConnectorAcceptance


class TestCodimirAcceptance(ConnectorAcceptance):
    service_id = "codimir"
