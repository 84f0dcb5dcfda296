"""An OAuth2 connector's authorization run end to end against a simulated provider, with no internet.

``oauth_gateway`` starts a gateway whose operator maps the manifest's OAuth2 origins to the simulator
(``UNIGATE_OAUTH_ORIGINS``) and registers the app's OAuth client on both sides; ``authorize`` is the
app's backend and the consumer's browser going through ``/vault/authorize`` -> the provider ->
``/vault/callback`` -> the app, each redirect seen. The provider is
:class:`unigate.simulation.oauth_server.OAuthServer`, served by the connector's simulator beside its API.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from unigate.oauth.pkce import s256
from unigate.plugins.registry import ConnectorRegistry
from unigate.simulation.oauth_server import OAuthServer
from unigate.testing.harness import GatewayHarness

__all__ = ["APP_REDIRECT", "authorize", "oauth_gateway", "s256"]   # s256: a PKCE verifier's challenge

APP_REDIRECT = "https://app.example/integrations/connected"


def oauth_gateway(tmp: Path, service_id: str, server: OAuthServer, origins: dict[str, str]) -> GatewayHarness:
    """A gateway reaching ``origins`` (the manifest's OAuth2 origins) at the simulator's, whose app has
    an OAuth client for ``service_id`` that ``server`` knows (redirect URIs: the gateway's callback)."""
    harness = GatewayHarness(tmp, registry=ConnectorRegistry.load(), settings={"oauth_origins": tuple(origins.items())})
    client_id, client_secret = f"{service_id}-client", "cs_" + secrets.token_urlsafe(24)
    server.register(client_id, client_secret, [f"{harness.server.url}/vault/callback"])
    with harness.client() as app:
        response = app.patch(f"/vault/oauth-clients/issue-tracking/{service_id}", json={
            "client_id": client_id, "client_secret": client_secret, "redirect_uris": [APP_REDIRECT]})
        assert response.status_code == 200, response.text
    return harness


def authorize(vault: httpx.Client, service_id: str, settings: dict[str, Any]) -> httpx.Response:
    """The consumer's connection given ``settings``, then its whole authorization; the gateway's
    redirect to the provider (asserted: the flow returns to the app)."""
    connection = f"/vault/connections/issue-tracking/{service_id}"
    response = vault.patch(connection, json={"settings": settings})
    assert response.status_code == 200, response.text
    link = str(response.json()["data"]["authorize_url"]) + "&" + urlencode({"redirect_uri": APP_REDIRECT})
    with httpx.Client(timeout=30, follow_redirects=False) as browser:
        to_provider = browser.get(link)
        assert to_provider.status_code == 302, to_provider.text
        to_callback = browser.get(to_provider.headers["location"])   # consent at the provider
        assert to_callback.status_code == 302, to_callback.text
        back = browser.get(to_callback.headers["location"])   # the gateway's /vault/callback
        assert (back.status_code, back.headers.get("location")) == (302, APP_REDIRECT), back.text
    return to_provider
