"""GitLab's OAuth2 flow end to end, with no internet: the manifest's authorize and token URLs are on
the connection's base_url (gitlab.com or a self-managed instance: ``{base_url}/oauth/authorize``,
``{base_url}/oauth/token``), served here by a local authorization server in front of the simulator;
the vault's PKCE and state, the code exchange, unified calls with the issued token (GitLab's tokens
expire after two hours), and the refresh."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest

from unigate.testing import AcceptedTokens, OAuthServer, OAuthUnderTest, error_of
from unigate_connectors.gitlab.simulator import State

TICKETS = "/issue-tracking/collections/42/tickets"
GITLAB_TOKEN_TTL = 7200


@pytest.fixture(scope="module", params=["gitlab", "gitlab-server"])
def flow(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OAuthUnderTest]:
    service_id = request.param
    flow = OAuthUnderTest.start(tmp_path_factory.mktemp(service_id), service_id,
                                OAuthServer(access_ttl=GITLAB_TOKEN_TTL))
    state: State = flow.simulator.app.app.app.state.simulator
    state.tokens = AcceptedTokens(state.tokens, flow.server, "alice")   # GitLab's API takes the tokens it granted
    yield flow
    flow.stop()


@pytest.fixture
def consumer() -> str:
    return f"account:{uuid.uuid4().hex[:12]}"


def test_the_consumer_is_sent_to_the_instances_authorize_url_with_pkce_and_state(
        flow: OAuthUnderTest, consumer: str) -> None:
    hops = flow.authorize(consumer, {"base_url": flow.simulator.url})
    origin = httpx.URL(flow.simulator.url)
    assert (hops.to_provider.host, hops.to_provider.port, hops.to_provider.path) == (
        origin.host, origin.port, "/oauth/authorize")
    query = parse_qs(hops.to_provider.query.decode())
    assert query["client_id"] == [flow.client_id] and query["scope"] == ["api"]
    assert query["code_challenge_method"] == ["S256"] and query["state"][0]


def test_the_code_is_exchanged_and_the_token_reads_issues(flow: OAuthUnderTest, consumer: str) -> None:
    hops = flow.authorize(consumer, {"base_url": flow.simulator.url})
    assert hops.back.status_code == 302 and hops.back.headers["location"].startswith("https://app.example/")
    exchange = flow.server.grants("authorization_code")[-1]
    assert exchange["status"] == 200 and exchange["form"]["code_verifier"]
    flow.simulator.clear()
    with flow.client(consumer) as client:
        response = client.get(TICKETS, params={"limit": 2})
    assert response.status_code == 200, response.text
    assert {r["headers"]["authorization"][:10] for r in flow.simulator.requests()} == {"Bearer at_"}


def test_an_expired_token_is_refreshed_once_and_the_call_answered(flow: OAuthUnderTest, consumer: str) -> None:
    flow.authorize(consumer, {"base_url": flow.simulator.url})
    response, refreshes = flow.read_after_expiry(consumer, TICKETS)
    assert (response.status_code, refreshes) == (200, 1), response.text


def test_a_revoked_grant_is_a_credentials_error(flow: OAuthUnderTest, consumer: str) -> None:
    flow.authorize(consumer, {"base_url": flow.simulator.url})
    assert error_of(flow.read_after_revocation(consumer, TICKETS))[0] == 401
