"""The authorization code flow, as the Vault API's ``/vault/authorize`` and ``/vault/callback`` run it.

1. A connection's ``authorize_url`` (:meth:`OAuthFlows.authorize_link`) names the app, consumer and
   service in a signed ``link`` state; the app sends its user there, adding ``redirect_uri``.
2. :meth:`OAuthFlows.begin` checks the link state and the redirect URI (one the app registered for the
   connector), stores a PKCE verifier as an authorization under way and answers the provider's
   authorization URL, whose ``state`` (signed, ten minutes) names that stored authorization.
3. :meth:`OAuthFlows.complete` checks the state, takes (and so deletes) the stored authorization,
   exchanges the code with the verifier, runs the manifest's post-token calls (Jira Cloud's cloud id),
   stores the tokens encrypted as the connection's credentials, marks it ``authorized`` (``callable``
   once nothing is missing) and answers the app's redirect URI.

Every refusal is one of Apideck's ``OAuth*`` errors; none carries a secret.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from unigate.connector.base import Connector
from unigate.errors import (
    IntegrationNotFoundError,
    OAuthCodeExchangeError,
    OAuthConnectorError,
    OAuthCredentialsNotFoundError,
    OAuthInvalidStateError,
    OAuthRedirectUriError,
)
from unigate.mapping.spec import OAuth2Spec
from unigate.mapping.template import TemplateError, compile_template
from unigate.oauth import pkce
from unigate.oauth.client import TokenClient, TokenEndpointError
from unigate.oauth.state import FLOW_TTL, LINK_TTL, StateSigner
from unigate.plugins.registry import ConnectorRegistry
from unigate.vault.audit import Actor, acting_as
from unigate.vault.models import OAuthClient, OAuthFlow
from unigate.vault.store import ConnectionStore

CALLBACK_PATH = "/vault/callback"
# Paths of the gateway itself a user may be sent back to without the app registering them: the hosted
# connect page appends its prefix (e.g. "/connect/"), so "Connect with ..." returns to the page.
GATEWAY_RETURN_PATHS: list[str] = []


class OAuthFlows:
    def __init__(self, store: ConnectionStore, registry: ConnectorRegistry, signer: StateSigner,
                 tokens: TokenClient, origins: dict[str, str] | None = None) -> None:
        self.store = store
        self.registry = registry
        self.signer = signer
        self.tokens = tokens
        self.origins = origins or {}   # the operator's UNIGATE_OAUTH_ORIGINS

    # -- what a connector and an app declare ------------------------------------------------------------
    def oauth2_of(self, service_id: str) -> tuple[Connector, OAuth2Spec]:
        connector = self.registry.get(service_id)
        if connector is None or connector.spec.connection.oauth2 is None:
            raise OAuthConnectorError("Connector does not support OAuth2",
                                      f"{service_id!r} is not an installed connector that declares `oauth2`")
        return connector, connector.spec.connection.oauth2

    def client(self, app_id: str, service_id: str) -> OAuthClient:
        client = self.store.oauth_client(app_id, service_id)
        if client is None:
            raise OAuthCredentialsNotFoundError(
                "OAuth client not configured", f"the app has no OAuth client for {service_id}; set one with "
                f"`unigate vault oauth-client set {app_id} {service_id}` or PUT /vault/oauth-clients/issue-tracking/"
                f"{service_id}")
        return client

    def render(self, connector: Connector, app_id: str, consumer_id: str, template: str) -> str:
        """A manifest URL or parameter rendered with the consumer's settings (declared defaults first)."""
        declared = connector.spec.connection.settings
        settings = {k: s.default for k, s in declared.items() if s.default is not None}
        found = self.store.find_connection(app_id, consumer_id, connector.service_id)
        settings.update({k: v for k, v in (found.settings if found else {}).items() if v not in (None, "")})
        try:
            return str(compile_template(template).render({"settings": settings}))
        except TemplateError as exc:
            raise OAuthConnectorError("Connection settings needed before authorization",
                                      f"{exc}; set it on the connection first (PATCH the connection's settings)") from None

    def endpoint(self, connector: Connector, app_id: str, consumer_id: str, template: str) -> str:
        """A manifest OAuth2 endpoint (authorize, token, post-token URL), rendered, at the origin the
        operator maps its own to (``UNIGATE_OAUTH_ORIGINS``; only the operator can: the token endpoint
        receives the app's client secret, so no connection setting may move it)."""
        return at_origin(self.render(connector, app_id, consumer_id, template), self.origins)

    # -- 1. the link ------------------------------------------------------------------------------------
    def authorize_link(self, base_url: str, app_id: str, consumer_id: str, service_id: str) -> str:
        state = self.signer.sign("link", LINK_TTL, app=app_id, consumer=consumer_id, service=service_id)
        return f"{base_url}/vault/authorize/{service_id}/{app_id}?{urlencode({'state': state})}"

    # -- 2. to the provider ------------------------------------------------------------------------------
    def begin(self, service_id: str, app_id: str, state: str | None, redirect_uri: str | None, base_url: str,
              scope: str | None = None) -> str:
        """The provider's authorization URL for this link ``state``."""
        claims = self.signer.verify(state, "link")
        if (claims.get("app"), claims.get("service")) != (app_id, service_id):
            raise OAuthInvalidStateError("Invalid state", "the state was issued for another app or connector")
        connector, spec = self.oauth2_of(service_id)
        client = self.client(app_id, service_id)
        if not self.store.get_app(app_id).enables(service_id):
            raise IntegrationNotFoundError("Integration not enabled", f"the application does not offer {service_id} "
                                           "to its consumers")
        redirect = allowed_redirect(client, redirect_uri, base_url)
        consumer_id = str(claims.get("consumer") or "")
        url = self.endpoint(connector, app_id, consumer_id, spec.authorize_url)
        extra = {k: self.render(connector, app_id, consumer_id, v) for k, v in spec.authorize_params.items()}
        verifier = pkce.new_verifier()
        flow = OAuthFlow(secrets.token_urlsafe(24), app_id, consumer_id, service_id, redirect,
                         base_url + CALLBACK_PATH, verifier, time.time() + FLOW_TTL)
        self.store.add_oauth_flow(flow)
        provider_state = self.signer.sign("flow", FLOW_TTL, flow=flow.id, app=app_id, consumer=consumer_id,
                                          service=service_id, redirect=redirect)
        scopes = scope.split() if scope else list(client.scopes if client.scopes is not None else spec.scopes)
        params = {"response_type": "code", "client_id": client.client_id, "redirect_uri": flow.callback_uri,
                  "state": provider_state, **({"scope": spec.scope_separator.join(scopes)} if scopes else {})}
        if spec.pkce:
            params.update(code_challenge=pkce.s256(verifier), code_challenge_method="S256")
        return url + ("&" if "?" in url else "?") + urlencode({**extra, **params})

    # -- 3. back from the provider -----------------------------------------------------------------------
    async def complete(self, state: str | None, code: str | None, error: str | None,
                       error_description: str | None) -> str:
        """Store the tokens the code is exchanged for; answers the app's redirect URI."""
        flow = await asyncio.to_thread(self._take, state)
        if error:
            described = f": {error_description}" if error_description else ""
            raise OAuthConnectorError("Authorization refused", f"{flow.service_id} answered {error}{described}"[:500])
        if not code:
            raise OAuthCodeExchangeError("No authorization code", "the callback carries no code to exchange")
        connector, spec = self.oauth2_of(flow.service_id)
        client = self.client(flow.app_id, flow.service_id)
        try:
            tokens = await self.tokens.exchange(
                spec, client, self.endpoint(connector, flow.app_id, flow.consumer_id, spec.token_url), code,
                flow.callback_uri, flow.verifier if spec.pkce else None)
        except TokenEndpointError as exc:
            raise OAuthCodeExchangeError("Code exchange failed", exc.message) from None
        settings = await self._post_token(connector, spec, flow, tokens.access_token)
        with acting_as(oauth_actor(flow.app_id, flow.consumer_id)):   # to_thread carries the context along
            await asyncio.to_thread(self.store.authorize_connection, flow.app_id, flow.consumer_id, flow.service_id,
                                    tokens.credentials(), settings)
        return flow.redirect_uri

    def _take(self, state: str | None) -> OAuthFlow:
        claims = self.signer.verify(state, "flow")
        flow = self.store.take_oauth_flow(str(claims.get("flow")))
        if flow is None:
            raise OAuthInvalidStateError("State already used", "this authorization was completed or abandoned; "
                                         "start it again from the authorize URL")
        if (flow.app_id, flow.consumer_id, flow.service_id, flow.redirect_uri) != (
                claims.get("app"), claims.get("consumer"), claims.get("service"), claims.get("redirect")):
            raise OAuthInvalidStateError("Invalid state", "the state does not match the authorization it names")
        return flow

    async def _post_token(self, connector: Connector, spec: OAuth2Spec, flow: OAuthFlow,
                          access_token: str) -> dict[str, Any]:
        if not spec.post_token:
            return {}
        urls = [self.endpoint(connector, flow.app_id, flow.consumer_id, step.url) for step in spec.post_token]
        try:
            return await self.tokens.post_token(spec, urls, access_token)
        except TokenEndpointError as exc:
            raise OAuthConnectorError("Post-authorization lookup failed", exc.message) from None


def oauth_actor(app_id: str, consumer_id: str) -> Actor:
    """Who the audit trail names for the vault changes of OAuth (tokens stored, refreshed; a connection
    marked invalid): ``oauth:<app id>``, for the consumer."""
    return Actor("oauth", app_id, None, app_id, consumer_id)


def at_origin(url: str, origins: dict[str, str]) -> str:
    """``url`` with its origin (``scheme://host[:port]``) replaced when ``origins`` maps it."""
    for origin, replacement in origins.items():
        if url == origin or url.startswith((origin + "/", origin + "?")):
            return replacement + url[len(origin):]
    return url


def allowed_redirect(client: OAuthClient, redirect_uri: str | None, base_url: str) -> str:
    """``redirect_uri`` if the app registered it for the connector, or it is a page of the gateway under one
    of ``GATEWAY_RETURN_PATHS``; none given: the first registered."""
    if redirect_uri and any(redirect_uri.startswith(base_url + path) for path in GATEWAY_RETURN_PATHS):
        return redirect_uri
    if not client.redirect_uris:
        raise OAuthRedirectUriError("No redirect URI registered", f"register the app's redirect URIs for "
                                    f"{client.service_id} with its OAuth client (--redirect-uri)")
    if not redirect_uri:
        return client.redirect_uris[0]
    if redirect_uri not in client.redirect_uris:
        raise OAuthRedirectUriError("Redirect URI not allowed", "the redirect_uri is not one the app registered "
                                    f"for {client.service_id}")
    return redirect_uri
