"""A local OAuth2 authorization server with a small protected tracker behind it, for end-to-end tests.

Authorization server (RFC 6749, RFC 7636, RFC 7009):

- ``GET /oauth/authorize``: checks the client and its registered redirect URI, then consents at once
  (``deny_next`` answers ``access_denied`` instead) and redirects with a code valid ``code_ttl`` seconds,
  bound to the client, the redirect URI and the PKCE challenge (``S256`` or ``plain``).
- ``POST /oauth/token``: ``authorization_code`` (code single-use, redirect URI and PKCE verifier checked)
  and ``refresh_token`` (rotation: the refresh token used is revoked, a new one issued); client auth by
  HTTP Basic or form fields. Errors as RFC 6749 §5.2 says: 400 ``{"error", "error_description"}``, 401
  ``invalid_client`` with ``WWW-Authenticate``. ``token_delay`` slows it down (single-flight tests).
- ``POST /oauth/revoke``: revokes an access or refresh token.
- ``GET /oauth/accessible-resources``: the sites the token reaches (Atlassian's cloud id lookup); ``sites = []``
  answers none, as for a user who granted no site (the connection is then ``authorized``, its cloud id missing).

The tracker (``/api/{cloud_id}/projects``, ``/api/{cloud_id}/projects/{id}/issues``) wants a valid,
unexpired, unrevoked access token as ``Authorization: Bearer``, else 401; or, for a manifest placing the
token elsewhere, only where ``token_query`` (a query parameter) or ``token_header`` and ``token_scheme``
(a header ``<scheme> <token>``, or the bare token when the scheme is empty) say.

Test controls are plain methods and attributes (``expire_access_tokens``, ``revoke_all``,
``access_ttl``...); ``calls`` records each request (method, path, form or query, status).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLOUD_ID = "cloud-7d1f"
PROJECTS = [{"id": "1", "name": "Platform"}, {"id": "2", "name": "Mobile"}]
ISSUES = {"1": [{"id": "101", "title": "Login fails", "state": "open"},
                {"id": "102", "title": "Slow search", "state": "closed"}], "2": []}


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    scope: str
    challenge: str | None
    method: str
    expires_at: float


@dataclass
class Token:
    client_id: str
    scope: str
    expires_at: float | None
    revoked: bool = False


@dataclass
class OAuthServer:
    """The authorization server's state and controls; ``app`` serves it."""

    clients: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorize_path: str = "/oauth/authorize"   # GitHub: /login/oauth/authorize
    token_path: str = "/oauth/token"           # GitHub: /login/oauth/access_token
    access_ttl: float = 3600.0
    code_ttl: float = 60.0
    token_delay: float = 0.0
    deny_next: bool = False
    echo_in_errors: bool = False   # error descriptions quote what was sent (as some providers do)
    revoke_after_write: bool = False   # a successful write revokes the access tokens (a token revoked mid-operation)
    token_header: str = "authorization"   # where the tracker takes the access token: this header...
    token_scheme: str = "Bearer"          # ...as "<scheme> <token>" ("": the bare token)
    token_query: str | None = None        # or this query parameter only
    sites: list[dict[str, Any]] | None = None   # what accessible-resources answers (None: the one site; []: none granted)
    codes: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, Token] = field(default_factory=dict)
    refresh_tokens: dict[str, Token] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    tracker_issues: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: copy.deepcopy(ISSUES))

    def register(self, client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
        self.clients[client_id] = {"secret": client_secret, "redirect_uris": list(redirect_uris)}

    # -- controls --------------------------------------------------------------------------------------
    def expire_access_tokens(self) -> None:
        for token in self.access_tokens.values():
            token.expires_at = time.time() - 1

    def revoke_all(self, *, refresh: bool = True) -> None:
        for token in [*self.access_tokens.values(), *(self.refresh_tokens.values() if refresh else [])]:
            token.revoked = True

    def grants(self, grant_type: str) -> list[dict[str, Any]]:
        """The token requests of one grant type, as received."""
        return [c for c in self.calls if c["path"] == self.token_path and c["form"].get("grant_type") == grant_type]

    def tracker_calls(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["path"].startswith("/api/")]

    # -- the app ---------------------------------------------------------------------------------------
    @cached_property
    def app(self) -> Starlette:
        return Starlette(routes=[
            *self.routes(),
            Route("/oauth/revoke", self.revoke, methods=["POST"]),
            Route("/oauth/accessible-resources", self.resources),
            Route("/api/{cloud_id}/projects", self.projects), Route("/api/{cloud_id}/projects/{id}/issues", self.issues),
            Route("/api/{cloud_id}/projects/{id}/issues/{issue}", self.update_issue, methods=["PATCH"]),
            Route("/api/{cloud_id}/projects/{id}/issues/{issue}/transition", self.transition, methods=["POST"]),
        ])

    def routes(self) -> list[Route]:
        """The authorization and token endpoints, to serve on another app (a tracker's simulator)."""
        return [Route(self.authorize_path, self.authorize), Route(self.token_path, self.token, methods=["POST"])]

    def valid(self, access_token: str) -> bool:
        """``access_token`` was issued here and is neither expired nor revoked."""
        token = self.access_tokens.get(access_token)
        return token is not None and not token.revoked and (token.expires_at is None or token.expires_at >= time.time())

    def _record(self, request: Request, status: int, form: dict[str, str] | None = None) -> None:
        self.calls.append({"method": request.method, "path": request.url.path, "query": dict(request.query_params),
                           "form": form or {}, "authorization": request.headers.get("authorization"),
                           "headers": dict(request.headers), "status": status})

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        client = self.clients.get(q.get("client_id", ""))
        if client is None or q.get("redirect_uri") not in client["redirect_uris"]:
            self._record(request, 400)   # never redirect to an unverified URI (RFC 6749 §4.1.2.1)
            return JSONResponse({"error": "invalid_request", "error_description": "unknown client or redirect_uri"},
                                status_code=400)
        redirect, state = q["redirect_uri"], q.get("state")
        if self.deny_next or q.get("response_type") != "code":
            self.deny_next = False
            error = "access_denied" if q.get("response_type") == "code" else "unsupported_response_type"
            self._record(request, 302)
            return RedirectResponse(_with(redirect, error=error, error_description="The user denied access",
                                          state=state), status_code=302)
        code = secrets.token_urlsafe(24)
        self.codes[code] = Grant(q["client_id"], redirect, q.get("scope", ""), q.get("code_challenge"),
                                 q.get("code_challenge_method", "plain"), time.time() + self.code_ttl)
        self._record(request, 302)
        return RedirectResponse(_with(redirect, code=code, state=state), status_code=302)

    async def token(self, request: Request) -> Response:
        form = await _form(request)
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        response = self._token(request, form)
        self._record(request, response.status_code, form)
        return response

    def _token(self, request: Request, form: dict[str, str]) -> Response:
        client_id, basic = self._client(request, form)
        if client_id is None:
            headers = {"www-authenticate": 'Basic realm="oauth"'} if basic else {}
            return _error("invalid_client", "client authentication failed", 401, headers)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._code_grant(client_id, form)
        if grant_type == "refresh_token":
            return self._refresh_grant(client_id, form)
        return _error("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")

    def _client(self, request: Request, form: dict[str, str]) -> tuple[str | None, bool]:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None, True
            client_id, secret, basic = unquote(user), unquote(password), True
        else:
            client_id, secret, basic = form.get("client_id", ""), form.get("client_secret", ""), False
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(client["secret"], secret):
            return None, basic
        return client_id, basic

    def _code_grant(self, client_id: str, form: dict[str, str]) -> Response:
        code = form.get("code", "")
        grant = self.codes.pop(code, None)   # single use, whatever happens next
        echo = f" ({code})" if self.echo_in_errors else ""
        if grant is None or grant.client_id != client_id or grant.expires_at < time.time():
            return _error("invalid_grant", f"the authorization code is invalid, used or expired{echo}")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _error("invalid_grant", "redirect_uri does not match the authorization request")
        if grant.challenge is not None and not _pkce_ok(grant, form.get("code_verifier")):
            return _error("invalid_grant", f"PKCE verification failed{echo}")
        return self._issue(client_id, grant.scope)

    def _refresh_grant(self, client_id: str, form: dict[str, str]) -> Response:
        presented = form.get("refresh_token", "")
        token = self.refresh_tokens.get(presented)
        echo = f" ({presented})" if self.echo_in_errors else ""
        if token is None or token.revoked or token.client_id != client_id:
            return _error("invalid_grant", f"the refresh token is invalid or revoked{echo}")
        token.revoked = True   # rotation: a refresh token is good once
        return self._issue(client_id, token.scope)

    def _issue(self, client_id: str, scope: str) -> Response:
        access, refresh = "at_" + secrets.token_urlsafe(24), "rt_" + secrets.token_urlsafe(24)
        self.access_tokens[access] = Token(client_id, scope, time.time() + self.access_ttl)
        self.refresh_tokens[refresh] = Token(client_id, scope, None)
        return JSONResponse({"access_token": access, "token_type": "Bearer", "expires_in": self.access_ttl,
                             "refresh_token": refresh, "scope": scope},
                            headers={"cache-control": "no-store", "pragma": "no-cache"})

    async def revoke(self, request: Request) -> Response:
        form = await _form(request)
        presented = form.get("token", "")
        for table in (self.access_tokens, self.refresh_tokens):
            if presented in table:
                table[presented].revoked = True
        self._record(request, 200, form)
        return Response(status_code=200)   # RFC 7009 §2.2: 200 whether or not the token was known

    def presented(self, request: Request) -> str | None:
        """The access token where the tracker takes it (``token_query``, else ``token_header``), or None."""
        if self.token_query is not None:
            return request.query_params.get(self.token_query)
        value = request.headers.get(self.token_header)
        if value is None or not self.token_scheme:
            return value
        scheme, _, token = value.partition(" ")
        return token if scheme.lower() == self.token_scheme.lower() else None

    def _bearer(self, request: Request) -> Token | None:
        token = self.access_tokens.get(self.presented(request) or "")
        if token is None or token.revoked or (token.expires_at is not None and token.expires_at < time.time()):
            return None
        return token

    def _protected(self, request: Request, body: Any) -> Response:
        if self._bearer(request) is None:
            self._record(request, 401)
            return JSONResponse({"message": "invalid or expired access token"}, status_code=401,
                                headers={"www-authenticate": 'Bearer error="invalid_token"'})
        self._record(request, 200)
        return JSONResponse(body)

    async def resources(self, request: Request) -> Response:
        site = str(request.base_url).rstrip("/")
        granted = [{"id": CLOUD_ID, "url": site, "name": "Simulated site", "scopes": ["read", "write"]}]
        return self._protected(request, granted if self.sites is None else self.sites)

    async def projects(self, request: Request) -> Response:
        if request.path_params["cloud_id"] != CLOUD_ID:
            return JSONResponse({"message": "no such site"}, status_code=404)
        return self._protected(request, {"projects": PROJECTS})

    async def issues(self, request: Request) -> Response:
        issues = self.tracker_issues.get(request.path_params["id"])
        if issues is None or request.path_params["cloud_id"] != CLOUD_ID:
            return JSONResponse({"message": "no such project"}, status_code=404)
        return self._protected(request, {"issues": issues})


    async def update_issue(self, request: Request) -> Response:
        return await self._write(request, lambda issue, body: issue.update(
            {k: v for k, v in body.items() if k in ("title",)}))

    async def transition(self, request: Request) -> Response:
        return await self._write(request, lambda issue, body: issue.update(state=str(body.get("state", issue["state"]))))

    async def _write(self, request: Request, change: Any) -> Response:
        issue = next((i for i in self.tracker_issues.get(request.path_params["id"], []) if i["id"] == request.path_params["issue"]),
                     None)
        if issue is None:
            return JSONResponse({"message": "no such issue"}, status_code=404)
        if self._bearer(request) is None:
            return self._protected(request, None)
        body = await request.json()
        change(issue, body if isinstance(body, dict) else {})
        self._record(request, 200)
        if self.revoke_after_write:
            self.revoke_all(refresh=False)
        return JSONResponse(issue)


def _pkce_ok(grant: Grant, verifier: str | None) -> bool:
    if not verifier:
        return False
    if grant.method == "S256":
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        return secrets.compare_digest(digest, grant.challenge or "")
    return secrets.compare_digest(verifier, grant.challenge or "")


def _with(url: str, **params: str | None) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return url + ("&" if "?" in url else "?") + query


def _error(error: str, description: str, status: int = 400, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status,
                        headers={"cache-control": "no-store", **(headers or {})})


async def _form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (without python-multipart, which form() needs)."""
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))


class AcceptedTokens(dict[str, str]):
    """A simulator's ``token -> user`` table that also takes the access tokens ``server`` issued, as
    ``user``: the tracker behind the authorization server accepts what it granted, until it expires."""

    def __init__(self, known: dict[str, str], server: OAuthServer, user: str) -> None:
        super().__init__(known)
        self.server, self.user = server, user

    def get(self, token: str, default: Any = None) -> Any:
        found = super().get(token)
        if found is not None:
            return found
        return self.user if self.server.valid(token) else default
