"""What the flow refuses, each with its Apideck ``OAuth*`` error: state, redirect URI, code exchange."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx

from unigate.testing import GatewayHarness

from .conftest import (
    CLIENT,
    CLIENT_SECRET,
    CONNECTION,
    Provider,
    authorize_url,
    connect,
    error,
    start,
    with_redirect,
)


def _replace_state(url: str, state: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = state
    return parts._replace(query="&".join(f"{k}={v}" for k, v in query.items())).geturl()


def _state(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def test_a_code_delivered_to_another_authorization_fails_the_pkce_check(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    url = authorize_url(vault, provider)
    first, second = start(browser, url), start(browser, url)
    code = parse_qs(urlsplit(first.callback_url).query)["code"][0]
    injected = _replace_state(first.callback_url, _state(second.callback_url))   # code of one, state of the other
    assert parse_qs(urlsplit(injected).query)["code"][0] == code
    body = error(browser.get(injected), 400, "OAuthCodeExchangeError")
    assert "PKCE verification failed" in body["detail"]
    assert vault.get(CONNECTION).json()["data"]["state"] == "added"


def test_a_tampered_state_is_refused(vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    hops = start(browser, authorize_url(vault, provider))
    state = _state(hops.callback_url)
    payload, _, signature = state.partition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    error(browser.get(_replace_state(hops.callback_url, forged)), 400, "OAuthInvalidStateError")


def test_a_tampered_authorize_link_is_refused(vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    url = authorize_url(vault, provider)
    forged = _replace_state(url, _state(url)[:-3] + "abc")
    error(browser.get(with_redirect(forged)), 400, "OAuthInvalidStateError")


def test_an_expired_state_is_refused(vault: httpx.Client, browser: httpx.Client, provider: Provider,
                                     harness: GatewayHarness) -> None:
    hops = start(browser, authorize_url(vault, provider))
    signer = harness.gateway.dispatcher.tokens.flows.signer  # type: ignore[union-attr]
    signer.clock = lambda: time.time() + 11 * 60   # the provider state lives ten minutes
    try:
        body = error(browser.get(hops.callback_url), 400, "OAuthInvalidStateError")
    finally:
        signer.clock = time.time
    assert body["message"] == "State expired"


def test_a_replayed_callback_is_refused(vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    hops = start(browser, authorize_url(vault, provider))
    assert browser.get(hops.callback_url).status_code == 302
    body = error(browser.get(hops.callback_url), 400, "OAuthInvalidStateError")
    assert body["message"] == "State already used"


def test_a_redirect_uri_the_app_did_not_register_is_refused(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    url = with_redirect(authorize_url(vault, provider), "https://evil.example/steal")
    body = error(browser.get(url), 400, "OAuthRedirectUriError")
    assert "location" not in body and "evil" not in body["detail"]


def test_a_link_of_another_app_is_refused(vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    url = authorize_url(vault, provider).replace("/oauthtracker/test-app", "/oauthtracker/other-app")
    error(browser.get(with_redirect(url)), 400, "OAuthInvalidStateError")


def test_an_app_without_an_oauth_client_gets_oauth_credentials_not_found(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    url = authorize_url(vault, provider)
    saved = vault.get(CLIENT).json()["data"]
    assert vault.delete(CLIENT).status_code == 204
    try:
        error(browser.get(with_redirect(url)), 400, "OAuthCredentialsNotFoundError")
    finally:
        vault.patch(CLIENT, json={"client_id": saved["client_id"], "client_secret": CLIENT_SECRET,
                                  "redirect_uris": saved["redirect_uris"]})


def test_a_link_to_a_tracker_the_app_no_longer_offers_gets_integration_not_found(
        harness: GatewayHarness, vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    url = authorize_url(vault, provider)
    harness.store.set_services("test-app", ["jira"])
    try:
        error(browser.get(with_redirect(url)), 404, "IntegrationNotFoundError")
        assert vault.get(CONNECTION).json()["data"]["authorize_url"] is None
    finally:
        harness.store.set_services("test-app", None)


def test_a_denied_authorization_answers_oauth_connector_error(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    provider.server.deny_next = True
    hops = start(browser, authorize_url(vault, provider))
    body = error(browser.get(hops.callback_url), 400, "OAuthConnectorError")
    assert "access_denied" in body["detail"]
    assert vault.get(CONNECTION).json()["data"]["state"] == "added"


def test_a_refused_code_exchange_answers_oauth_code_exchange_error(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    hops = start(browser, authorize_url(vault, provider))
    provider.server.codes.clear()   # the provider no longer knows the code (expired)
    body = error(browser.get(hops.callback_url), 400, "OAuthCodeExchangeError")
    assert "invalid_grant" in body["detail"]


def test_authorizing_again_replaces_the_tokens(vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    connect(vault, browser, provider)
    first = provider.server.grants("authorization_code")[-1]
    connect(vault, browser, provider)
    assert provider.server.grants("authorization_code")[-1] is not first
    assert vault.get(CONNECTION).json()["data"]["state"] == "callable"


def test_authorizing_before_the_settings_the_urls_need_answers_oauth_connector_error(
        vault: httpx.Client, browser: httpx.Client) -> None:
    url = vault.get(CONNECTION).json()["data"]["authorize_url"]   # no connection yet: no base_url
    body = error(browser.get(with_redirect(url)), 400, "OAuthConnectorError")
    assert "settings.base_url" in body["detail"]
