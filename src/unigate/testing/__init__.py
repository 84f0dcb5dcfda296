"""Test support for unigate and for connector authors: a real gateway in front of simulators.

``GatewayHarness`` runs the gateway on loopback (real vault in a temp dir, real registry) and
gives a ``httpx.Client`` with the demo app's headers. Pytest fixtures in ``unigate.testing.fixtures``
(enable with ``pytest_plugins = ["unigate.testing.fixtures"]``). ``VendorSpec``, ``SpecCheck`` and
``SpecCheckTransport`` (``unigate.testing.vendor_spec``) check exchanges against a vendor's own OpenAPI.
``FaultTap`` (``unigate.testing.faulttap``) injects downstream faults with no simulator.
``OAuthServer`` (a local authorization server, its routes mountable on a simulator), ``AcceptedTokens``
(a simulator taking the tokens it issued) and ``HostRoutes`` (a provider's public host served
locally) run a connector's OAuth2 flow end to end.
``ConnectorAcceptance`` is the acceptance suite every connector runs (:mod:`unigate.testing.acceptance`,
docs/plugins.md).
"""

from unigate.simulation.oauth_server import AcceptedTokens, OAuthServer
from unigate.testing.acceptance import ConnectorAcceptance
from unigate.testing.assertions import error_of, read_pages, walk_pages
from unigate.testing.connector import ConnectorUnderTest, connector_fixtures
from unigate.testing.faults import FAULT_CASES, injected_fault_tests
from unigate.testing.faulttap import FaultTap
from unigate.testing.harness import GatewayHarness, Simulator
from unigate.testing.hostroutes import HostRoutes
from unigate.testing.live import LiveTracker, live_fixtures
from unigate.testing.oauth_flow import OAuthUnderTest
from unigate.testing.vendor_spec import SpecCheck, SpecCheckTransport, SpecViolation, VendorSpec

__all__ = [
           "FAULT_CASES",
           "AcceptedTokens",
           "ConnectorAcceptance",
           "ConnectorUnderTest",
           "FaultTap",
           "GatewayHarness",
           "HostRoutes",
           "LiveTracker",
           "OAuthServer",
           "OAuthUnderTest",
           "Simulator",
           "SpecCheck",
           "SpecCheckTransport",
           "SpecViolation",
           "VendorSpec",
           "connector_fixtures",
           "error_of",
           "injected_fault_tests",
           "live_fixtures",
           "read_pages",
           "walk_pages",
]
