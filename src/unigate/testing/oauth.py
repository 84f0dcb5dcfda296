"""An OAuth2 connector's authorization run end to end against a simulated provider, with no internet.

``oauth_gateway`` starts a gateway whose operator maps the manifest's OAuth2 origins to the simulator
(``UNIGATE_OAUTH_ORIGINS``) and registers the app's OAuth client on both sides; ``authorize`` is the
app's backend and the consumer's browser going through ``/vault/authorize`` -> the provider ->
``/vault/callback`` -> the app, each redirect seen. The provider is
:class:`unigate.simulation.oauth_server.OAuthServer`, served by the connector's simulator beside its API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from unigate.oauth.pkce import s256
from unigate.plugins.registry import ConnectorRegistry
from unigate.simulation.oauth_server import OAuthServer
from unigate.testing.harness import GatewayHarness
from unigate.testing.oauth_flow import APP_REDIRECT, register_client, walk

__all__ = ["APP_REDIRECT", "authorize", "oauth_gateway", "s256"]   # s256: a PKCE verifier's challenge


def oauth_gateway(tmp: Path, service_id: str, server: OAuthServer, origins: dict[str, str]) -> GatewayHarness:
    """A gateway reaching ``origins`` (the manifest's OAuth2 origins) at the simulator's, whose app has
    an OAuth client for ``service_id`` that ``server`` knows (redirect URIs: the gateway's callback)."""
    harness = GatewayHarness(tmp, registry=ConnectorRegistry.load(), settings={"oauth_origins": tuple(origins.items())})
    register_client(harness, service_id, server, f"{service_id}-client")
    return harness


def authorize(vault: httpx.Client, service_id: str, settings: dict[str, Any]) -> httpx.Response:
    """The consumer's connection given ``settings``, then its whole authorization; the gateway's
    redirect to the provider (asserted: the flow returns to the app)."""
    hops = walk(vault, service_id, settings)
    assert (hops.back.status_code, hops.back.headers.get("location")) == (302, APP_REDIRECT), hops.back.text
    return hops.redirect
