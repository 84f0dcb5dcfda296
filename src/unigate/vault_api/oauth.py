"""OAuth2 in the Vault API: ``/vault/authorize/{service_id}/{application_id}`` and ``/vault/callback``
(vault.yml ``connectionsAuthorize``, ``connectionsCallback``; no API key: the consumer's browser calls
them), the ``authorize_url`` of an OAuth2 connector's connection, and the app's OAuth clients
(``/vault/oauth-clients/issue-tracking/{service_id}``: GET, PATCH to create or change, DELETE; a gateway
extension: Apideck keeps them in its dashboard). The flow itself is :mod:`unigate.oauth.flow`.

The redirects are ``302 Found``: Apideck documents 301, but a permanent redirect may be cached by the
browser, and each of these URLs is good once.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from unigate.connector.base import Connector
from unigate.errors import EntityNotFoundError, OAuthConnectorError, RequestValidationError
from unigate.oauth.flow import OAuthFlows
from unigate.vault_api import connections
from unigate.vault_api.bodies import _In, parse
from unigate.vault_api.context import VaultRequest
from unigate.vault_api.envelope import no_content, ok
from unigate.vault_api.lookup import connector_of, has_oauth_client

if TYPE_CHECKING:
    from unigate.app import Gateway

AUTHORIZE = "vault/authorize/{service_id}/{application_id}"
CALLBACK = "vault/callback"
CLIENT = "vault/oauth-clients/{unified_api}/{service_id}"


def flows(gateway: Gateway) -> OAuthFlows:
    tokens = gateway.dispatcher.tokens
    assert tokens is not None, "build_gateway sets the dispatcher's OAuth2 token manager"
    return tokens.flows


def base_url(gateway: Gateway, request: Request) -> str | None:
    """Where browsers reach the gateway: ``UNIGATE_PUBLIC_URL``, else the Host if trusted, else unknown."""
    if gateway.settings.public_url:
        return gateway.settings.public_url.rstrip("/")
    if (request.url.hostname or "").lower() in gateway.settings.trusted_hosts:
        return str(request.base_url).rstrip("/")
    return None


# -- the consumer's browser: no API key ------------------------------------------------------------------
async def authorize(gateway: Gateway, request: Request, params: dict[str, str]) -> Response:
    """Redirect to the provider's authorization page (the link's ``state`` says for whom)."""
    base = base_url(gateway, request)
    if base is None:
        raise OAuthConnectorError("Gateway URL unknown", "set UNIGATE_PUBLIC_URL (or UNIGATE_TRUSTED_HOSTS) so the "
                                  "provider can be told where /vault/callback is")
    query = request.query_params
    url = await asyncio.to_thread(flows(gateway).begin, params["service_id"], params["application_id"],
                                  query.get("state"), query.get("redirect_uri"), base, query.get("scope"))
    return RedirectResponse(url, status_code=302, headers={"cache-control": "no-store"})


async def callback(gateway: Gateway, request: Request, params: dict[str, str]) -> Response:
    """Exchange the code, store the tokens, return the browser to the app's redirect URI."""
    query = request.query_params
    redirect = await flows(gateway).complete(query.get("state"), query.get("code"), query.get("error"),
                                             query.get("error_description"))
    return RedirectResponse(redirect, status_code=302, headers={"cache-control": "no-store"})


def authorize_link(ctx: VaultRequest, connector: Connector) -> str | None:
    """A connection's ``authorize_url`` (OAuth2 connectors the app offers and has an OAuth client for, for the
    request's consumer): None where following it could only end in an error."""
    consumer_id, service_id = ctx.consumer_id(required=False), connector.spec.service_id
    offered = connector.spec.connection.oauth2 is not None and ctx.app.enables(service_id)
    if not consumer_id or not offered or not has_oauth_client(ctx, service_id):
        return None
    base = base_url(ctx.gateway, ctx.request) or ""
    return flows(ctx.gateway).authorize_link(base, ctx.app.id, consumer_id, service_id)


connections.authorize_urls.append(authorize_link)


# -- the app's OAuth clients (API key) -------------------------------------------------------------------
class OAuthClientIn(_In):
    client_id: str | None = Field(None, min_length=1, max_length=1024)
    client_secret: str | None = Field(None, min_length=1, max_length=4096)
    redirect_uris: list[str] | None = None
    scopes: list[str] | None = None


def _oauth_connector(ctx: VaultRequest) -> Connector:
    connector = connector_of(ctx)
    if connector.spec.connection.oauth2 is None:
        raise OAuthConnectorError("Connector does not support OAuth2", f"{connector.spec.service_id} declares no "
                                  "`oauth2`: its connections take credentials in their settings")
    return connector


def client_one(ctx: VaultRequest) -> Response:
    connector = _oauth_connector(ctx)
    client = ctx.gateway.store.oauth_client(ctx.app.id, connector.spec.service_id)
    if client is None:
        raise EntityNotFoundError("OAuth client not found", f"the app has no OAuth client for {connector.spec.service_id}")
    return ok(client.public_view())


def client_update(ctx: VaultRequest) -> Response:
    connector = _oauth_connector(ctx)
    body = parse(OAuthClientIn, ctx.body)
    store, service_id = ctx.gateway.store, connector.spec.service_id
    current = store.oauth_client(ctx.app.id, service_id)
    client_id = body.client_id or (current.client_id if current else None)
    if client_id is None:
        raise RequestValidationError("Invalid request body", {"client_id": "required for a new OAuth client"})
    client = store.set_oauth_client(ctx.app.id, service_id, client_id, body.client_secret,
                                    redirect_uris=body.redirect_uris, scopes=body.scopes)
    return ok(client.public_view())


def client_delete(ctx: VaultRequest) -> Response:
    connector = _oauth_connector(ctx)
    ctx.gateway.store.delete_oauth_client(ctx.app.id, connector.spec.service_id)
    return no_content()


PUBLIC: dict[str, Any] = {AUTHORIZE: authorize, CALLBACK: callback}
