"""The connector acceptance suite (unigate.testing.acceptance) against the Agentsmesh simulator."""

from unigate.testing import ConnectorAcceptance


class TestAgentsmeshAcceptance(ConnectorAcceptance):
    service_id = "agentsmesh"
