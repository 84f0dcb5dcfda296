"""The connect page's plumbing: the session cookie, CSRF, security headers, rendering, and calling
the Vault API's handlers for the session's consumer.

- **Cookie.** ``/connect/session/<token>`` puts the token in an ``HttpOnly``, ``SameSite=Lax``
  cookie scoped to ``/connect/`` (``Secure`` over https) and redirects to the page, so the token
  leaves the address bar and history; ``Referrer-Policy: no-referrer`` keeps it out of every request
  the page makes.
- **CSRF.** Every form carries a per-session token (HMAC of the session id under a key of its own);
  a POST without it, with another, or marked cross-site by the browser (``Sec-Fetch-Site``) is refused.
- **Headers.** CSP without any script, styles only from the page and one nonce'd ``<style>`` (the
  brand colours), images only from the page and the app's logo origin, forms only to the page,
  ``frame-ancestors 'none'``; ``no-store``; ``nosniff``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import inspect
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from unigate.api.handler import read_body
from unigate.connect import PREFIX
from unigate.connect.sessions import PURPOSE, Session, unseal
from unigate.connect.theme import palette
from unigate.envelope import vault_refusal
from unigate.errors import EntityNotFoundError, RequestValidationError, UnifiedError
from unigate.vault.audit import acting_as
from unigate.vault.models import App
from unigate.vault.store import VaultError
from unigate.vault_api.context import VaultRequest
from unigate.vault_api.routes import Handler
from unigate.vault_api.views import UNIFIED_API

if TYPE_CHECKING:
    from unigate.app import Gateway

COOKIE = "unigate_connect"
CSRF_PURPOSE = "unigate connect-page csrf v1"
ACTOR_KIND = "session"   # the audit trail names a change made on the page "session:<app id>" (key_id: the session id)

templates = Environment(loader=PackageLoader("unigate.connect", "templates"), autoescape=select_autoescape(default=True),
                        trim_blocks=True, lstrip_blocks=True)
# a connection's state (docs/vault-api.md) as the page words it
templates.globals["STATES"] = {"available": "Not connected", "added": "Needs settings", "authorized": "Needs settings",
                               "callable": "Connected", "invalid": "Credentials refused"}


@dataclass
class Page:
    """One request to the connect page, for its session."""

    gateway: Gateway
    request: Request
    session: Session
    app: App
    nonce: str

    @property
    def csrf(self) -> str:
        key = self.gateway.store.derive_key(CSRF_PURPOSE)
        return hmac.new(key, self.session.id.encode(), hashlib.sha256).hexdigest()

    def vault_request(self, service_id: str | None = None, body: Any = None, **params: str) -> VaultRequest:
        """A Vault API request acting for the session's consumer (``actor_kind`` names the session)."""
        path = {"unified_api": UNIFIED_API, "service_id": service_id, **params} if service_id else dict(params)
        return VaultRequest(self.gateway, self.request, self.app, self.session.id[:12],
                            {"x-apideck-consumer-id": self.session.consumer_id}, path, body, actor_kind=ACTOR_KIND)

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        theme = self.session.theme
        html = templates.get_template(template).render(
            page=self, session=self.session, theme=theme, palette=palette(theme), nonce=self.nonce,
            csrf=self.csrf, vault_name=theme.get("vault_name") or self.app.name, **context)
        return secured(HTMLResponse(html, status_code=status), self.nonce, theme.get("logo"))


async def call(handler: Handler, ctx: VaultRequest) -> Any:
    """Run a Vault API handler as the API would (sync ones off the loop); its ``data``, or its typed error."""
    try:
        with acting_as(ctx.actor):
            if inspect.iscoroutinefunction(handler):
                response = await handler(ctx)
            else:
                response = await asyncio.to_thread(handler, ctx)
    except VaultError as exc:
        raise vault_refusal(exc) from None
    return orjson.loads(response.body)["data"] if response.body else None


def secured(response: Response, nonce: str = "", logo: str | None = None) -> Response:
    """``response`` with the page's security headers."""
    images = "'self'"
    if logo:
        parts = urlsplit(logo)
        images += f" {parts.scheme}://{parts.netloc}"
    styles = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    response.headers.update({
        "content-security-policy": f"default-src 'none'; script-src 'none'; style-src {styles}; img-src {images}; "
                                   "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        "referrer-policy": "no-referrer", "x-content-type-options": "nosniff", "x-frame-options": "DENY",
        "cache-control": "no-store", "cross-origin-opener-policy": "same-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=()",
    })
    return response


def redirect(location: str) -> Response:
    """303 See Other (after a POST, the page is fetched again with GET)."""
    return secured(RedirectResponse(location, status_code=303))


def begin(gateway: Gateway, request: Request, token: str) -> Response:
    """``/connect/session/<token>``: the token into the cookie, then the page without it in the URL."""
    session = unseal(token, gateway.store.derive_key(PURPOSE))
    start = f"{PREFIX}{UNIFIED_API}/{session.service_id}" if session.service_id else PREFIX
    response = redirect(start)
    response.set_cookie(COOKIE, token, max_age=max(1, int(session.expires_at - time.time())), path=PREFIX,
                        secure=_https(gateway, request), httponly=True, samesite="lax")
    return response


def _https(gateway: Gateway, request: Request) -> bool:
    public = gateway.settings.public_url
    return (urlsplit(public).scheme if public else request.url.scheme) == "https"


def open_page(gateway: Gateway, request: Request) -> Page:
    """The page's session from its cookie (401 without a valid one); its app must still exist."""
    token = request.cookies.get(COOKIE, "")
    session = unseal(token, gateway.store.derive_key(PURPOSE))
    try:
        app = gateway.store.get_app(session.app_id)
    except VaultError:
        raise EntityNotFoundError("Unknown application", "the application of this session no longer exists") from None
    return Page(gateway, request, session, app, base64.b64encode(os.urandom(16)).decode())


async def form(page: Page) -> dict[str, str]:
    """A POST's form fields once its CSRF token and origin check out (400 otherwise)."""
    if page.request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise RequestValidationError("Cross-site request refused", "forms of this page are sent from this page only")
    fields = dict(parse_qsl((await read_body(page.request)).decode("utf-8", "replace"), keep_blank_values=True))
    given = fields.pop("csrf", "")
    if not hmac.compare_digest(given.encode(), page.csrf.encode()):
        raise RequestValidationError("Invalid form", "the form has expired or did not come from this page: reload it")
    return fields


def problem(error: UnifiedError) -> str:
    """An error as one sentence for the page."""
    detail = error.detail
    if isinstance(detail, dict):
        detail = "; ".join(f"{k}: {v}" for k, v in detail.items())
    return f"{error.message}: {detail}" if detail else error.message
