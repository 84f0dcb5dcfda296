"""jira's OAuth 2.0 (3LO) end to end, with no internet: the vault's authorization code flow run on the
manifest's own endpoints (``https://auth.atlassian.com/authorize`` and ``/oauth/token``, reached at the
simulator through the operator's ``UNIGATE_OAUTH_ORIGINS``), the code exchanged with its PKCE verifier,
the cloud id read from ``/oauth/token/accessible-resources`` into the connection's settings, the calls
made through ``{api_url}/ex/jira/{cloudId}/rest/api/3`` with the issued token, and the token refreshed
(Atlassian rotates refresh tokens) when Jira refuses it. Every Jira exchange is held to Atlassian's
description (SpecCheck).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from unigate.kit import OAuthServer
from unigate.testing import GatewayHarness, Simulator, SpecCheck, VendorSpec
from unigate.testing.oauth import authorize, oauth_gateway, s256
from unigate_connectors.jira.simulator import CLOUD_ID, create_app
from unigate_connectors.jira.tests.test_jira_connector import ERRORS, SPEC

AUTH = "https://auth.atlassian.com"   # the manifest's authorization server
CONNECTION = "/vault/connections/issue-tracking/jira"
GATEWAY = f"/ex/jira/{CLOUD_ID}/rest/api/3"


@pytest.fixture(scope="module")
def auth() -> OAuthServer:
    return OAuthServer()


@pytest.fixture(scope="module")
def jira(auth: OAuthServer) -> Iterator[Simulator]:
    simulator = Simulator.start(create_app(issue_count=30, oauth=auth))   # Atlassian's auth server beside Jira
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def checked(jira: Simulator) -> SpecCheck:
    spec = VendorSpec.load(SPEC, base_path=f"/ex/jira/{CLOUD_ID}", undeclared={401: ERRORS, 404: ERRORS, 429: ERRORS})
    return SpecCheck.inside(jira.app, spec, skip=("/__sim", "/authorize", "/oauth/"))   # not Jira's API


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, jira: Simulator, auth: OAuthServer) -> Iterator[GatewayHarness]:
    harness = oauth_gateway(tmp_path_factory.mktemp("jira-3lo"), "jira", auth, {AUTH: jira.url})
    yield harness
    harness.stop()


@pytest.fixture
def vault(harness: GatewayHarness, checked: SpecCheck) -> Iterator[httpx.Client]:
    """The app's backend, acting for a consumer of its own."""
    with harness.client(consumer_id=f"account:{secrets.token_hex(6)}") as client:
        yield client
    checked.assert_clean()


def connect(vault: httpx.Client, jira: Simulator) -> httpx.Response:
    """The consumer authorizes, its Atlassian API gateway set to the simulator; the redirect to Atlassian."""
    return authorize(vault, "jira", {"api_url": jira.url})


def tickets(vault: httpx.Client) -> httpx.Response:
    return vault.get("/issue-tracking/collections/ENG/tickets", params={"limit": 5},
                     headers={"x-apideck-service-id": "jira"})


def test_authorize_goes_to_atlassians_authorize_with_audience_consent_scopes_and_pkce(
        vault: httpx.Client, jira: Simulator) -> None:
    url = urlsplit(connect(vault, jira).headers["location"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{jira.url}/authorize"   # auth.atlassian.com/authorize
    assert (query["audience"], query["prompt"], query["response_type"]) == ("api.atlassian.com", "consent", "code")
    assert query["scope"] == "read:jira-work write:jira-work read:jira-user offline_access"
    assert query["client_id"] == "jira-client" and query["redirect_uri"].endswith("/vault/callback")
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43


def test_the_code_is_exchanged_at_atlassians_token_endpoint_with_the_pkce_verifier(
        vault: httpx.Client, jira: Simulator, auth: OAuthServer) -> None:
    challenge = parse_qs(urlsplit(connect(vault, jira).headers["location"]).query)["code_challenge"][0]
    [exchange] = auth.grants("authorization_code")[-1:]
    assert exchange["status"] == 200 and s256(exchange["form"]["code_verifier"]) == challenge
    assert exchange["form"]["client_id"] == "jira-client"   # the manifest's client_auth: body


def test_the_cloud_id_is_looked_up_and_calls_go_through_the_api_gateway_with_the_token(
        vault: httpx.Client, jira: Simulator) -> None:
    connect(vault, jira)
    data = vault.get(CONNECTION).json()["data"]
    assert (data["state"], data["settings"]["cloud_id"]) == ("callable", CLOUD_ID)
    [lookup] = [r for r in jira.requests() if r["path"] == "/oauth/token/accessible-resources"][-1:]
    response = tickets(vault)
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 5
    [search] = [r for r in jira.requests() if r["path"] == f"{GATEWAY}/search/jql"][-1:]
    assert search["headers"]["authorization"] == lookup["headers"]["authorization"]   # the issued access token
    assert search["headers"]["authorization"].startswith("Bearer at_")


def test_a_refused_token_is_refreshed_once_and_the_call_retried(vault: httpx.Client, jira: Simulator,
                                                                auth: OAuthServer) -> None:
    connect(vault, jira)
    assert tickets(vault).status_code == 200
    refreshes = len(auth.grants("refresh_token"))
    auth.expire_access_tokens()   # Jira now answers 401 to the token
    response = tickets(vault)
    assert response.status_code == 200, response.text
    assert len(auth.grants("refresh_token")) == refreshes + 1
    searches = [r for r in jira.requests() if r["path"] == f"{GATEWAY}/search/jql"][-2:]
    assert searches[0]["headers"]["authorization"] != searches[1]["headers"]["authorization"]
    assert tickets(vault).status_code == 200   # the rotated refresh token was stored: no further refresh
    assert len(auth.grants("refresh_token")) == refreshes + 1


def test_atlassian_refuses_an_authorization_without_the_audience(jira: Simulator, harness: GatewayHarness) -> None:
    query = {"client_id": "jira-client", "redirect_uri": f"{harness.server.url}/vault/callback", "response_type": "code"}
    answer = httpx.get(f"{jira.url}/authorize", params=query, follow_redirects=False)
    assert answer.status_code == 400 and "audience" in answer.json()["error_description"]


def test_without_the_operators_origin_map_the_manifests_own_endpoint_is_used(tmp_path: Path) -> None:
    harness = oauth_gateway(tmp_path, "jira", OAuthServer(), {})   # no UNIGATE_OAUTH_ORIGINS
    try:
        with harness.client(consumer_id="c") as app:
            link = app.get(CONNECTION).json()["data"]["authorize_url"]
        answer = httpx.get(link, follow_redirects=False)
    finally:
        harness.stop()
    assert answer.status_code == 302 and answer.headers["location"].startswith(f"{AUTH}/authorize?")
