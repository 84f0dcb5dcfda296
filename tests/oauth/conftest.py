"""OAuth2 end to end: the gateway, a local authorization server with its tracker
(``unigate.simulation.oauth_server``), and the test connector ``oauthtracker`` (connector/manifest.yaml)
which declares ``connection.oauth2``. Every step is real HTTP: the app's backend (``vault``), the
consumer's browser (``browser``: follows nothing by itself, so each redirect is seen) and the providers.

Each test authorizes a consumer of its own (``consumer``), so tests never share tokens. Each runs once on
SQLite and once on PostgreSQL (``module_database``): clients, flows and tokens are vault rows.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from unigate.plugins.registry import ConnectorRegistry
from unigate.simulation import BackgroundServer
from unigate.simulation.oauth_server import OAuthServer
from unigate.testing import GatewayHarness

SERVICE = "oauthtracker"
CONNECTION = f"/vault/connections/issue-tracking/{SERVICE}"
CLIENT = f"/vault/oauth-clients/issue-tracking/{SERVICE}"
APP_REDIRECT = "https://app.example/integrations/connected"
CLIENT_ID = "unigate-test-client"
CLIENT_SECRET = "cs_" + secrets.token_urlsafe(24)


@dataclass
class Provider:
    server: OAuthServer
    http: BackgroundServer

    @property
    def url(self) -> str:
        return self.http.url


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    server = OAuthServer()
    with BackgroundServer(server.app) as http:
        yield Provider(server, http)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, provider: Provider,
            module_database: Path | str) -> Iterator[GatewayHarness]:
    registry = ConnectorRegistry()
    registry.load_manifest_dir(Path(__file__).parent / "connector")
    assert not registry.failures, registry.failures
    harness = GatewayHarness(tmp_path_factory.mktemp("oauth"), registry=registry, database=module_database)
    provider.server.register(CLIENT_ID, CLIENT_SECRET, [f"{harness.server.url}/vault/callback"])
    with harness.client() as app:
        response = app.patch(CLIENT, json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                           "redirect_uris": [APP_REDIRECT]})
        assert response.status_code == 200, response.text
    yield harness
    harness.stop()


@pytest.fixture(autouse=True)
def provider_reset(provider: Provider) -> Iterator[None]:
    yield
    server = provider.server
    server.access_ttl, server.token_delay, server.deny_next, server.echo_in_errors = 3600.0, 0.0, False, False
    server.revoke_after_write, server.sites = False, None


@pytest.fixture
def consumer() -> str:
    return f"account:{uuid.uuid4().hex[:12]}"


@pytest.fixture
def vault(harness: GatewayHarness, consumer: str) -> Iterator[httpx.Client]:
    """The app's backend, acting for ``consumer``."""
    with harness.client(consumer_id=consumer) as client:
        yield client


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """The consumer's browser: no API key, redirects seen one by one."""
    with httpx.Client(timeout=30, follow_redirects=False) as client:
        yield client


def authorize_url(vault: httpx.Client, provider: Provider, service: str = SERVICE) -> str:
    """The consumer's connection set up with its base URL; its ``authorize_url``."""
    response = vault.patch(f"/vault/connections/issue-tracking/{service}", json={"settings": {"base_url": provider.url}})
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["authorize_url"])


@dataclass
class Hops:
    """The redirects of one authorization: gateway -> provider -> gateway callback -> app."""

    to_provider: httpx.Response
    to_callback: httpx.Response

    @property
    def callback_url(self) -> str:
        return self.to_callback.headers["location"]


def with_redirect(url: str, redirect_uri: str | None = APP_REDIRECT) -> str:
    """The authorize URL as the app sends its user there: ``redirect_uri`` added to it."""
    return url + ("&" + urlencode({"redirect_uri": redirect_uri}) if redirect_uri else "")


def start(browser: httpx.Client, url: str, redirect_uri: str | None = APP_REDIRECT) -> Hops:
    """Open the authorize URL and consent at the provider; stops before the gateway's callback."""
    to_provider = browser.get(with_redirect(url, redirect_uri))
    assert to_provider.status_code == 302, to_provider.text
    to_callback = browser.get(to_provider.headers["location"])
    assert to_callback.status_code == 302, to_callback.text
    return Hops(to_provider, to_callback)


def connect(vault: httpx.Client, browser: httpx.Client, provider: Provider, service: str = SERVICE) -> httpx.Response:
    """A full authorization; the gateway's answer to the callback (asserted to return to the app)."""
    hops = start(browser, authorize_url(vault, provider, service))
    back = browser.get(hops.callback_url)
    assert (back.status_code, back.headers.get("location")) == (302, APP_REDIRECT), back.text
    return back


def error(response: httpx.Response, status: int, type_name: str) -> dict[str, Any]:
    body = response.json()
    assert (response.status_code, body["status_code"], body["type_name"]) == (status, status, type_name), body
    return body


def tickets(vault: httpx.Client, service: str = SERVICE, **params: str) -> httpx.Response:
    return vault.get("/issue-tracking/collections/1/tickets", params=params, headers={"x-apideck-service-id": service})
