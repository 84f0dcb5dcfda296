"""A tracker answering a redirect has not done what was asked: never a success, never followed.

A 3xx whose Location (host or path) names a sign-in page — login, signin, sso, auth, saml, oauth —
is a ``ConnectorCredentialsError`` 401 (the tracker did not accept the connection's credentials:
session expired, SSO in front of the API); any other redirect is a ``ConnectorExecutionError`` 502.
Redirects are not followed, so the connection's credentials never reach the Location's origin.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from unigate.testing import ConnectorUnderTest, Simulator, error_of
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import TICKETS

# unified operation -> (method, path, request kwargs)
OPERATIONS = {
    "create": ("POST", TICKETS, {"json": {"subject": "redirected"}}),
    "update": ("PATCH", f"{TICKETS}/AM-7", {"json": {"subject": "redirected"}}),
    "delete": ("DELETE", f"{TICKETS}/AM-9", {}),
    "list": ("GET", TICKETS, {}),
    "get": ("GET", f"{TICKETS}/AM-5", {}),
}


@pytest.fixture(scope="module", params=["aiohttp", "httpx"])
def tracker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectorUnderTest]:
    tracker = ConnectorUnderTest.start(Path(tmp_path_factory.mktemp("redirects")), "agentsmesh",
                                       transport=request.param)
    yield tracker
    tracker.stop()


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[Simulator]:
    """Another origin a tracker redirects to (an AgentsMesh that would accept the same key)."""
    simulator = Simulator.start(agentsmesh.create_app(ticket_count=10))
    yield simulator
    simulator.stop()


@pytest.fixture
def client(tracker: ConnectorUnderTest) -> Iterator[httpx.Client]:
    with tracker.client() as client:
        yield client
    assert tracker.simulator is not None
    tracker.simulator.clear()


@pytest.fixture
def sim(tracker: ConnectorUnderTest) -> Simulator:
    assert tracker.simulator is not None
    return tracker.simulator


def call(client: httpx.Client, operation: str) -> httpx.Response:
    method, path, kwargs = OPERATIONS[operation]
    return client.request(method, path, **kwargs)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_redirect_to_a_login_page_is_a_credentials_error(client: httpx.Client, sim: Simulator,
                                                           operation: str) -> None:
    sim.fault(status=302, location="/login?back_url=%2Fapi")
    response = call(client, operation)
    body = response.json()
    assert error_of(response) == (401, "ConnectorCredentialsError")
    assert body["detail"]["downstream_status"] == 302
    assert body["detail"]["location"] == f"{sim.url}/login"  # resolved, its query left out


@pytest.mark.parametrize("operation", OPERATIONS)
def test_any_other_redirect_is_an_execution_error(client: httpx.Client, sim: Simulator, operation: str) -> None:
    sim.fault(status=302, location="/maintenance")
    response = call(client, operation)
    body = response.json()
    assert error_of(response) == (502, "ConnectorExecutionError")
    assert body["message"] == f"agentsmesh answered 302, a redirect to {sim.url}/maintenance; redirects are not followed"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_redirect_target_on_another_origin_receives_nothing(client: httpx.Client, sim: Simulator,
                                                                elsewhere: Simulator, operation: str) -> None:
    elsewhere.clear()
    _method, _path, _ = OPERATIONS[operation]
    sim.fault(status=307, location=f"{elsewhere.url}/api/v1/ext/orgs/{agentsmesh.DEFAULT_ORG}/tickets")
    assert error_of(call(client, operation)) == (502, "ConnectorExecutionError")
    assert elsewhere.requests() == []


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_redirect_is_sent_once_not_retried_or_followed(client: httpx.Client, sim: Simulator,
                                                         operation: str) -> None:
    sim.fault(status=302, location="/login")
    call(client, operation)
    assert len(sim.requests()) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_every_redirect_status_is_refused(client: httpx.Client, sim: Simulator, status: int) -> None:
    sim.fault(status=status, location="/elsewhere")
    response = client.get(TICKETS)
    assert error_of(response) == (502, "ConnectorExecutionError")
    assert response.json()["detail"]["downstream_status"] == status


@pytest.mark.parametrize("location", [
    "/users/sign_in", "/sign-in", "/SSO/Start", "https://login.microsoftonline.com/tenant/saml2",
    "/oauth/authorize?client_id=x", "/auth/realms/acme/protocol/openid-connect/auth", "/saml/SSO",
])
def test_sign_in_pages_are_recognised(client: httpx.Client, sim: Simulator, location: str) -> None:
    sim.fault(status=302, location=location)
    assert error_of(client.get(TICKETS)) == (401, "ConnectorCredentialsError")


@pytest.mark.parametrize("location", ["/api/v2/tickets", "https://tracker.example.com/moved", ""])
def test_other_locations_are_not_taken_for_sign_in_pages(client: httpx.Client, sim: Simulator,
                                                         location: str) -> None:
    sim.fault(status=302, location=location)
    assert error_of(client.get(TICKETS)) == (502, "ConnectorExecutionError")


def test_the_credential_is_not_echoed_in_the_error(client: httpx.Client, sim: Simulator) -> None:
    """A tracker that puts the key it was sent into the Location gets it back redacted."""
    sim.fault(status=302, location=f"/keys/{agentsmesh.DEFAULT_API_KEY}/moved")
    response = client.get(TICKETS)
    assert agentsmesh.DEFAULT_API_KEY not in response.text
    assert response.json()["detail"]["location"].startswith(f"{sim.url}/keys/")
