"""The connect page's paths (``/connect/...``) and the one place its refusals become error pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope

from unigate.connect import pages
from unigate.connect.web import PREFIX, Page, begin, open_page, problem, secured, templates
from unigate.errors import EntityNotFoundError, IntegrationNotFoundError, RequestValidationError, UnifiedError
from unigate.vault_api.views import UNIFIED_API

if TYPE_CHECKING:
    from unigate.app import Gateway

Screen = Callable[..., Awaitable[Response]]
# (path after /connect/, split on "/"; "*" is the service id) -> screen per method
SCREENS: dict[tuple[str, ...], dict[str, Screen]] = {
    ("",): {"GET": pages.index},
    ("logs",): {"GET": pages.logs},
    (UNIFIED_API, "*"): {"GET": pages.connection, "POST": pages.save},
    (UNIFIED_API, "*", "validate"): {"POST": pages.validate},
    (UNIFIED_API, "*", "disconnect"): {"POST": pages.disconnect},
    (UNIFIED_API, "*", "mapping"): {"GET": pages.mapping, "POST": pages.bind},
}
STYLESHEET = files("unigate.connect").joinpath("static/connect.css").read_bytes()


def find(path: str) -> tuple[dict[str, Screen], list[str]] | None:
    parts = path.removeprefix(PREFIX).split("/")
    for pattern, screens in SCREENS.items():
        if len(pattern) == len(parts) and all(p in ("*", s) for p, s in zip(pattern, parts, strict=True)):
            return screens, [s for p, s in zip(pattern, parts, strict=True) if p == "*" and s]
    return None


async def respond(gateway: Gateway, scope: Scope, receive: Receive, method: str, request_id: str) -> Response:
    """Answer one request under ``/connect/``; a refusal is an HTML page in the error's status."""
    request = Request(scope, receive)
    try:
        response = await _respond(gateway, request, method)
    except UnifiedError as error:
        response = _error_page(error)
    response.headers["request-id"] = request_id
    return response


async def _respond(gateway: Gateway, request: Request, method: str) -> Response:
    path = request.url.path
    if path == f"{PREFIX}static/connect.css" and method in ("GET", "HEAD"):
        return secured(Response(STYLESHEET, media_type="text/css", headers={"cache-control": "max-age=3600"}))
    if path.startswith(f"{PREFIX}session/") and method in ("GET", "HEAD"):
        request.scope["path"] = f"{PREFIX}session/[token]"   # what the access log prints: never the token
        return begin(gateway, request, path.removeprefix(f"{PREFIX}session/"))
    found = find(path)
    if found is None:
        raise EntityNotFoundError("Not found", "there is no such page")
    screens, args = found
    screen = screens.get("GET" if method == "HEAD" else method)
    if screen is None:
        error = RequestValidationError("Method not allowed", f"{method} is not allowed here")
        error.status_code = 405  # type: ignore[misc]
        raise error
    if args and args[0] not in gateway.registry.connectors:
        raise EntityNotFoundError("Not found", "no such integration")
    page: Page = open_page(gateway, request)
    if args and not page.app.enables(args[0]):
        raise IntegrationNotFoundError("Not found", "the application does not offer this integration")
    return await screen(page, *args)


def _error_page(error: UnifiedError) -> Response:
    html = templates.get_template("error.html").render(error=error, sentence=problem(error), palette=None)
    response = secured(HTMLResponse(html, status_code=error.status_code))
    response.headers.update(error.headers)
    return response
