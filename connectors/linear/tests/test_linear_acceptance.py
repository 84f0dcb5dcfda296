"""The connector acceptance suite (unigate.testing.acceptance) against the Linear simulator."""

from __future__ import annotations

from unigate.testing import ConnectorAcceptance


class TestLinearAcceptance(ConnectorAcceptance):
    service_id = "linear"
