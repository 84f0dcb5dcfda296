"""The authorization code flow with PKCE: /vault/authorize -> the provider -> /vault/callback -> the app."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from unigate.oauth import flow, pkce
from unigate.simulation.oauth_server import CLOUD_ID
from unigate.testing import GatewayHarness

from .conftest import CLIENT_ID, CONNECTION, Provider, authorize_url, connect, error, start, tickets, with_redirect


def test_an_oauth_connector_offers_an_authorize_url(vault: httpx.Client) -> None:
    data = vault.get(CONNECTION).json()["data"]
    assert (data["auth_type"], data["state"]) == ("oauth2", "available")
    assert data["settings_required_for_authorization"] == ["base_url"]
    assert urlsplit(data["authorize_url"]).path == "/vault/authorize/oauthtracker/test-app"
    assert "state" in parse_qs(urlsplit(data["authorize_url"]).query)


def test_authorize_redirects_to_the_provider_with_pkce_and_the_manifest_parameters(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    to_provider = browser.get(with_redirect(authorize_url(vault, provider)))
    assert to_provider.status_code == 302
    url = urlsplit(to_provider.headers["location"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.url}/oauth/authorize"
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["scope"] == "read write offline_access"
    assert (query["audience"], query["prompt"]) == ("api.tracker.test", "consent")
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["redirect_uri"].endswith("/vault/callback")


def test_full_flow_makes_the_connection_callable_and_its_calls_carry_the_token(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    connect(vault, browser, provider)
    data = vault.get(CONNECTION).json()["data"]
    assert (data["state"], data["health"]) == ("callable", "ok")
    assert data["settings"]["cloud_id"] == CLOUD_ID   # the post-token lookup's answer
    response = tickets(vault)
    assert response.status_code == 200, response.text
    assert [t["subject"] for t in response.json()["data"]] == ["Login fails", "Slow search"]
    [call] = provider.server.tracker_calls()[-1:]
    assert call["authorization"].startswith("Bearer at_") and call["status"] == 200


def test_authorized_until_the_setting_the_authorization_did_not_find_is_set(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    provider.server.sites = []   # the user granted no site: the post-token lookup finds no cloud id
    connect(vault, browser, provider)
    data = vault.get(CONNECTION).json()["data"]
    assert (data["state"], data["health"]) == ("authorized", "missing_settings")
    assert "cloud_id" not in data["settings"] and data["settings"]["base_url"] == provider.url
    error(tickets(vault), 422, "ConnectionSettingsError")
    completed = vault.patch(CONNECTION, json={"settings": {"cloud_id": CLOUD_ID}})
    assert completed.status_code == 200, completed.text
    assert (completed.json()["data"]["state"], completed.json()["data"]["health"]) == ("callable", "ok")
    assert tickets(vault).status_code == 200   # with the tokens the authorization stored


def test_the_code_is_exchanged_with_the_pkce_verifier_of_its_challenge(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    hops = start(browser, authorize_url(vault, provider))
    challenge = parse_qs(urlsplit(hops.to_provider.headers["location"]).query)["code_challenge"][0]
    browser.get(hops.callback_url)
    [exchange] = provider.server.grants("authorization_code")[-1:]
    assert pkce.s256(exchange["form"]["code_verifier"]) == challenge
    assert exchange["authorization"].startswith("Basic ")   # the manifest's client_auth: basic
    assert "client_secret" not in exchange["form"]


@pytest.fixture
def connect_page_returns() -> Iterator[str]:
    """A page of the gateway registered as a return path (as the hosted connect page registers its own)."""
    flow.GATEWAY_RETURN_PATHS.append("/connect/")
    yield "/connect/"
    flow.GATEWAY_RETURN_PATHS.remove("/connect/")


def test_a_page_of_the_gateway_under_a_registered_return_path_needs_no_registration(
        vault: httpx.Client, browser: httpx.Client, provider: Provider, harness: GatewayHarness,
        connect_page_returns: str) -> None:
    page = f"{harness.server.url}{connect_page_returns}issue-tracking/oauthtracker"
    hops = start(browser, authorize_url(vault, provider), redirect_uri=page)
    back = browser.get(hops.callback_url)
    assert (back.status_code, back.headers["location"]) == (302, page)
    elsewhere = with_redirect(authorize_url(vault, provider), "https://elsewhere.example/connect/x")
    assert browser.get(elsewhere).json()["type_name"] == "OAuthRedirectUriError"
