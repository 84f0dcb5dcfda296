"""GitHub's OAuth2 flow end to end, with no internet: the manifest's own authorize and token URLs
(github: https://github.com/login/oauth/..., answered by a local authorization server through
``HostRoutes``; github-server: https://HOST/login/oauth/... on the server's origin, beside /api/v3),
the vault's PKCE and state, the code exchange, unified calls with the issued token, and its refresh
(a GitHub App's user tokens expire after 8 hours)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest

from unigate.testing import AcceptedTokens, OAuthServer, OAuthUnderTest, error_of
from unigate_connectors.github.simulator import OWNER, State

TICKETS = "/issue-tracking/collections/octocat~Hello-World/tickets"
APP_TOKEN_TTL = 8 * 3600


def provider() -> OAuthServer:
    return OAuthServer(authorize_path="/login/oauth/authorize", token_path="/login/oauth/access_token",
                       access_ttl=APP_TOKEN_TTL)


def started(tmp: pytest.TempPathFactory, service_id: str, **options: tuple[str, ...]) -> OAuthUnderTest:
    flow = OAuthUnderTest.start(tmp.mktemp(service_id), service_id, provider(), **options)
    state: State = flow.simulator.app.app.state.simulator
    state.tokens = AcceptedTokens(state.tokens, flow.server, OWNER)   # GitHub's API takes the tokens it granted
    return flow


@pytest.fixture(scope="module")
def github(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OAuthUnderTest]:
    flow = started(tmp_path_factory, "github", public_hosts=("github.com",))
    yield flow
    flow.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OAuthUnderTest]:
    flow = started(tmp_path_factory, "github-server")
    yield flow
    flow.stop()


@pytest.fixture
def consumer() -> str:
    return f"account:{uuid.uuid4().hex[:12]}"


def test_github_sends_the_consumer_to_githubs_authorize_url_with_pkce_and_state(
        github: OAuthUnderTest, consumer: str) -> None:
    hops = github.authorize(consumer, {"base_url": github.simulator.url})
    assert (hops.to_provider.scheme, hops.to_provider.host, hops.to_provider.path) == (
        "https", "github.com", "/login/oauth/authorize")
    query = parse_qs(hops.to_provider.query.decode())
    assert query["client_id"] == [github.client_id] and query["scope"] == ["repo"]
    assert query["code_challenge_method"] == ["S256"] and query["state"][0]
    assert query["redirect_uri"] == [f"{github.harness.server.url}/vault/callback"]


def test_the_code_is_exchanged_at_githubs_token_url_and_the_token_reads_issues(
        github: OAuthUnderTest, consumer: str) -> None:
    hops = github.authorize(consumer, {"base_url": github.simulator.url})
    assert hops.back.status_code == 302 and hops.back.headers["location"].startswith("https://app.example/")
    (exchange,) = [g for g in github.server.grants("authorization_code") if g["status"] == 200][-1:]
    assert exchange["form"]["code_verifier"]   # PKCE: the verifier of the challenge sent to authorize
    github.simulator.clear()
    with github.client(consumer) as client:
        response = client.get(TICKETS, params={"limit": 2})
    assert response.status_code == 200, response.text
    (call,) = github.simulator.requests()
    assert call["headers"]["authorization"].startswith("Bearer at_")


def test_an_expired_token_is_refreshed_once_and_the_call_answered(github: OAuthUnderTest, consumer: str) -> None:
    github.authorize(consumer, {"base_url": github.simulator.url})
    response, refreshes = github.read_after_expiry(consumer, TICKETS)
    assert (response.status_code, refreshes) == (200, 1), response.text


def test_a_revoked_grant_is_a_credentials_error(github: OAuthUnderTest, consumer: str) -> None:
    github.authorize(consumer, {"base_url": github.simulator.url})
    assert error_of(github.read_after_revocation(consumer, TICKETS))[0] == 401


def test_github_server_authorizes_on_the_servers_own_origin(server: OAuthUnderTest, consumer: str) -> None:
    api_root = f"{server.simulator.url}/api/v3"
    hops = server.authorize(consumer, {"base_url": api_root})
    origin = httpx.URL(server.simulator.url)
    assert (hops.to_provider.host, hops.to_provider.port, hops.to_provider.path) == (
        origin.host, origin.port, "/login/oauth/authorize")
    assert hops.back.status_code == 302, hops.back.text
    assert server.server.grants("authorization_code")[-1]["status"] == 200
    with server.client(consumer) as client:
        assert client.get(TICKETS, params={"limit": 1}).status_code == 200
