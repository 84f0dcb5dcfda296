"""Atlassian's OAuth 2.0 (3LO) authorization server, simulated for the Jira simulator.

``auth.atlassian.com``'s ``GET /authorize`` and ``POST /oauth/token`` over
:class:`unigate.kit.OAuthServer` (registered clients and redirect URIs, codes
bound to the PKCE challenge, rotating refresh tokens: Atlassian rotates them), plus what Atlassian
adds: the authorization request must name ``audience=api.atlassian.com`` (the 3LO documentation,
developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps). Tokens it issues are accepted by the
simulated API gateway (``/ex/jira/{cloudId}``) and ``/oauth/token/accessible-resources``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from unigate.kit import OAuthServer

AUDIENCE = "api.atlassian.com"


def auth_routes(server: OAuthServer) -> list[Route]:
    async def authorize(request: Request) -> Response:
        if request.query_params.get("audience") != AUDIENCE:
            return JSONResponse({"error": "invalid_request",
                                 "error_description": f"audience is required: {AUDIENCE}"}, status_code=400)
        return await server.authorize(request)

    return [Route("/authorize", authorize), Route("/oauth/token", server.token, methods=["POST"])]
