"""``OAuthUnderTest``: a connector's OAuth2 flow run end to end, with no internet.

The connector's own simulator is served with a local authorization server (:class:`OAuthServer`)
in front of it on the same origin (GitLab and GitHub Enterprise Server serve OAuth beside their
API); a provider on a public host the manifest names (``github.com``) is reached through
:class:`HostRoutes`, by the gateway's token calls and by the test's browser alike. So the flow
goes through the manifest's very ``authorize_url`` and ``token_url``: the Vault API's authorize link,
the provider's consent (PKCE, state), the gateway's callback and code exchange, then unified calls
with the issued access token, and its refresh::

    flow = OAuthUnderTest.start(tmp, "gitlab-server", OAuthServer())
    state.tokens = AcceptedTokens(state.tokens, flow.server, "alice")   # the tracker takes its tokens
    hops = flow.authorize("account-1", {"base_url": flow.simulator.url})
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from unigate.plugins.registry import ConnectorRegistry
from unigate.simulation import BackgroundServer
from unigate.simulation.oauth_server import OAuthServer
from unigate.testing.harness import GatewayHarness, Simulator
from unigate.testing.hostroutes import HostRoutes

APP_REDIRECT = "https://app.example/integrations/connected"


def in_front(server: OAuthServer, tracker: ASGIApp) -> ASGIApp:
    """One origin: the authorization server's two endpoints, everything else the tracker's."""
    provider, paths = Starlette(routes=server.routes()), {server.authorize_path, server.token_path}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await (provider if scope["type"] == "http" and scope["path"] in paths else tracker)(scope, receive, send)

    return app


@dataclass
class Hops:
    """One authorization as the consumer's browser saw it."""

    to_provider: httpx.URL     # the gateway's redirect: the manifest's authorize_url with the flow's parameters
    back: httpx.Response       # the gateway's answer to the provider's callback (a redirect to the app)
    redirect: httpx.Response   # the gateway's answer to the authorize link (the 302 to the provider)


def register_client(harness: GatewayHarness, service_id: str, server: OAuthServer, client_id: str) -> None:
    """``server`` knows an OAuth client ``client_id`` whose redirect URI is the gateway's callback, and the
    harness's app uses it for ``service_id`` (its own redirect: :data:`APP_REDIRECT`)."""
    secret = "cs_" + secrets.token_urlsafe(24)
    server.register(client_id, secret, [f"{harness.server.url}/vault/callback"])
    with harness.client() as app:
        made = app.patch(f"/vault/oauth-clients/issue-tracking/{service_id}",
                         json={"client_id": client_id, "client_secret": secret, "redirect_uris": [APP_REDIRECT]})
        assert made.status_code == 200, made.text


def walk(vault: httpx.Client, service_id: str, settings: dict[str, Any],
         local: Callable[[httpx.URL], httpx.URL] = lambda url: url) -> Hops:
    """The consumer's connection set up with ``settings`` through ``vault`` (the app's backend), then the
    browser's walk: the authorize link, the provider's consent (at ``local(url)``), the gateway's callback."""
    made = vault.patch(f"/vault/connections/issue-tracking/{service_id}", json={"settings": settings})
    assert made.status_code == 200, made.text
    link = made.json()["data"]["authorize_url"] + "&" + urlencode({"redirect_uri": APP_REDIRECT})
    with httpx.Client(timeout=30, follow_redirects=False) as browser:
        redirect = browser.get(link)
        assert redirect.status_code == 302, redirect.text
        at_provider = httpx.URL(redirect.headers["location"])
        consent = browser.get(local(at_provider))
        assert consent.status_code == 302, consent.text
        return Hops(at_provider, browser.get(consent.headers["location"]), redirect)


@dataclass
class OAuthUnderTest:
    service_id: str
    server: OAuthServer
    simulator: Simulator
    harness: GatewayHarness
    routes: HostRoutes
    client_id: str

    @classmethod
    def start(cls, tmp: Path, service_id: str, server: OAuthServer, *, public_hosts: tuple[str, ...] = ()) -> OAuthUnderTest:
        """The connector's sandbox simulator behind ``server``; a gateway whose app has an OAuth client for it."""
        registry = ConnectorRegistry.load()
        profile = registry.definitions[service_id].sandbox
        assert profile is not None, f"{service_id} has no sandbox"
        control = profile().create_app()
        simulator = Simulator(control, BackgroundServer(in_front(server, control)).start())
        routes = HostRoutes(dict.fromkeys(public_hosts, simulator.url))
        harness = GatewayHarness(tmp, registry=registry, wrap_oauth_transport=routes)
        register_client(harness, service_id, server, f"unigate-{service_id}")
        return cls(service_id, server, simulator, harness, routes, f"unigate-{service_id}")

    def authorize(self, consumer: str, settings: dict[str, Any]) -> Hops:
        """``consumer``'s connection set up with ``settings``, then authorized through the provider."""
        with self.harness.client(consumer_id=consumer) as vault:
            return walk(vault, self.service_id, settings, self.routes.local)

    def client(self, consumer: str) -> httpx.Client:
        return self.harness.client(self.service_id, consumer_id=consumer)

    def read_after_expiry(self, consumer: str, path: str) -> tuple[httpx.Response, int]:
        """``path`` read once the provider has expired every access token: the answer, and how many
        refresh grants it cost."""
        before = len(self.server.grants("refresh_token"))
        self.server.expire_access_tokens()
        with self.client(consumer) as client:
            response = client.get(path, params={"limit": 1})
        return response, len(self.server.grants("refresh_token")) - before

    def read_after_revocation(self, consumer: str, path: str) -> httpx.Response:
        """``path`` read once the provider has revoked every token, refresh tokens included."""
        self.server.revoke_all()
        with self.client(consumer) as client:
            return client.get(path)

    def stop(self) -> None:
        self.harness.stop()
        self.simulator.server.stop()
