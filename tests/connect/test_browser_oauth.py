"""Connecting an OAuth2 tracker on the connect page, in a real browser: the consumer saves the
settings the authorization needs, clicks "Connect with ...", consents at the local authorization
server (``unigate.simulation.oauth_server``) and comes back to the page with the connection callable.
The tracker is the OAuth test connector of tests/oauth (``oauthtracker``); the app registered only its
own redirect URI: the page returns to itself (the flow's ``GATEWAY_RETURN_PATHS``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from unigate.plugins.registry import ConnectorRegistry
from unigate.simulation import BackgroundServer
from unigate.simulation.oauth_server import OAuthServer
from unigate.testing import GatewayHarness

from .conftest import session_uri

SERVICE = "oauthtracker"
PAGE = f"/connect/issue-tracking/{SERVICE}"
CLIENT_ID = "connect-page-client"
CLIENT_SECRET = "cs_" + secrets.token_urlsafe(24)
APP_REDIRECT = "https://app.example/integrations/connected"


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[OAuthServer, str]]:
    server = OAuthServer()
    with BackgroundServer(server.app) as http:
        yield server, http.url


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, provider: tuple[OAuthServer, str]) -> Iterator[GatewayHarness]:
    """A gateway with the OAuth test connector and the app's OAuth client for it."""
    registry = ConnectorRegistry()
    registry.load_manifest_dir(Path(__file__).parents[1] / "oauth" / "connector")
    harness = GatewayHarness(tmp_path_factory.mktemp("connect-oauth"), registry=registry)
    provider[0].register(CLIENT_ID, CLIENT_SECRET, [f"{harness.server.url}/vault/callback"])
    with harness.client() as app_backend:
        registered = app_backend.patch(f"/vault/oauth-clients/issue-tracking/{SERVICE}", json={
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [APP_REDIRECT]})
        assert registered.status_code == 200, registered.text
    yield harness
    harness.stop()


def state(driver: WebDriver) -> str:
    return str(driver.find_element(By.ID, "state").text)


def test_connect_an_oauth_tracker_through_the_local_authorization_server(
        driver: WebDriver, harness: GatewayHarness, provider: tuple[OAuthServer, str], consumer: str) -> None:
    driver.get(session_uri(harness, consumer, {}, service_id=SERVICE))
    assert driver.find_element(By.ID, "oauth-hint").text.startswith("Save base_url")
    driver.find_element(By.ID, "f-base_url").send_keys(provider[1])
    driver.find_element(By.ID, "save").click()
    driver.find_element(By.ID, "oauth").click()       # -> /vault/authorize -> the provider -> /vault/callback -> here
    WebDriverWait(driver, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.current_url == f"{harness.server.url}{PAGE}?notice=authorized" and "Connected" in state(d))
    assert "Authorized." in driver.find_element(By.TAG_NAME, "main").text
    with harness.client(service_id=SERVICE, consumer_id=consumer) as app_backend:
        listed = app_backend.get("/issue-tracking/collections")
    assert listed.status_code == 200 and listed.json()["data"]
    assert driver.find_element(By.ID, "f-cloud_id").get_attribute("value")   # found after the authorization
