"""linear's OAuth 2.0 end to end, with no internet: the vault's authorization code flow run on the
manifest's own endpoints (``https://linear.app/oauth/authorize``, ``https://api.linear.app/oauth/token``,
reached at the simulator through the operator's ``UNIGATE_OAUTH_ORIGINS``), the code exchanged with its
PKCE verifier, ``/graphql`` called with the issued token as ``Bearer`` instead of an API key, and the
token refreshed when Linear refuses it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from graphql import parse, validate

from unigate.kit import OAuthServer
from unigate.testing import GatewayHarness, Simulator
from unigate.testing.oauth import authorize, oauth_gateway, s256
from unigate_connectors.linear.simulator import create_app
from unigate_connectors.linear.tests.test_linear_connector import SCHEMA


@pytest.fixture(scope="module")
def auth() -> OAuthServer:
    return OAuthServer()


@pytest.fixture(scope="module")
def linear(auth: OAuthServer) -> Iterator[Simulator]:
    simulator = Simulator.start(create_app(issue_count=30, oauth=auth))   # Linear's auth server beside its API
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, linear: Simulator, auth: OAuthServer) -> Iterator[GatewayHarness]:
    origins = {"https://linear.app": linear.url, "https://api.linear.app": linear.url}
    harness = oauth_gateway(tmp_path_factory.mktemp("linear-oauth"), "linear", auth, origins)
    yield harness
    harness.stop()


@pytest.fixture
def vault(harness: GatewayHarness, linear: Simulator) -> Iterator[httpx.Client]:
    """The app's backend, acting for a consumer of its own; every document sent is valid."""
    with harness.client(consumer_id=f"account:{secrets.token_hex(6)}") as client:
        yield client
    sent = [r["body"]["query"] for r in linear.requests() if r["path"] == "/graphql"]
    assert [q for q in sent if validate(SCHEMA, parse(q))] == []


def teams(vault: httpx.Client) -> httpx.Response:
    return vault.get("/issue-tracking/collections", headers={"x-apideck-service-id": "linear"})


def test_authorize_goes_to_linears_authorize_with_comma_separated_scopes_and_pkce(
        vault: httpx.Client, linear: Simulator) -> None:
    url = urlsplit(authorize(vault, "linear", {"base_url": linear.url}).headers["location"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{linear.url}/oauth/authorize"   # linear.app/oauth/authorize
    assert (query["scope"], query["response_type"], query["client_id"]) == ("read,write", "code", "linear-client")
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43


def test_the_code_is_exchanged_and_graphql_is_called_with_the_token(vault: httpx.Client, linear: Simulator,
                                                                    auth: OAuthServer) -> None:
    to_linear = authorize(vault, "linear", {"base_url": linear.url})
    challenge = parse_qs(urlsplit(to_linear.headers["location"]).query)["code_challenge"][0]
    [exchange] = auth.grants("authorization_code")[-1:]
    assert exchange["status"] == 200 and s256(exchange["form"]["code_verifier"]) == challenge
    assert vault.get("/vault/connections/issue-tracking/linear").json()["data"]["state"] == "callable"
    response = teams(vault)
    assert response.status_code == 200, response.text
    assert {t["name"] for t in response.json()["data"]} >= {"Engineering"}
    [call] = [r for r in linear.requests() if r["path"] == "/graphql"][-1:]
    assert call["headers"]["authorization"].startswith("Bearer at_")   # the issued token, not an API key


def test_a_refused_token_is_refreshed_once_and_the_call_retried(vault: httpx.Client, linear: Simulator,
                                                                auth: OAuthServer) -> None:
    authorize(vault, "linear", {"base_url": linear.url})
    refreshes = len(auth.grants("refresh_token"))
    auth.expire_access_tokens()   # Linear now answers AUTHENTICATION_ERROR
    response = teams(vault)
    assert response.status_code == 200, response.text
    assert len(auth.grants("refresh_token")) == refreshes + 1
    calls = [r["headers"]["authorization"] for r in linear.requests() if r["path"] == "/graphql"][-2:]
    assert calls[0] != calls[1]
