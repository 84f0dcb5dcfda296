"""The connector acceptance suite (unigate.testing.acceptance) against the Selectel simulator."""


from unigate.testing import ConnectorAcceptance


class TestSelectelAcceptance(ConnectorAcceptance):
    service_id = "selectel"
