"""One unified request end to end: resolve the connection, parse, dispatch, envelope."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from unigate.api.bodies import MAX_BODY_BYTES, parse_body
from unigate.api.params import deep_objects, parse_bool, parse_fields_param, parse_filter, parse_limit, parse_sort, parse_strict
from unigate.connector.context import UnifiedRequest
from unigate.envelope import success
from unigate.errors import RequestHeadersValidationError, RequestValidationError, UnifiedError
from unigate.jsonutil import JSONResponse
from unigate.mapping.passthrough import flatten_query
from unigate.observability import hooks
from unigate.vault.resolve import resolve_app_connection

if TYPE_CHECKING:
    from unigate.app import Gateway

MAX_HEADER_BYTES = 16 * 1024  # all request headers, counted as on the wire ("name: value\r\n")
MAX_URL_BYTES = 16 * 1024     # path and query string


def refuse_oversized(scope: Scope) -> None:
    """Raise for a request whose headers or URL exceed the caps, checked before anything else
    (routing, the vault): 431 ``RequestHeadersValidationError`` / 414 ``RequestValidationError``."""
    size = 0
    for name, value in scope["headers"]:
        size += len(name) + len(value) + 4
    if size > MAX_HEADER_BYTES:
        error: UnifiedError = RequestHeadersValidationError(
            "Request headers too large", f"the request headers are {size} bytes; the limit is {MAX_HEADER_BYTES}")
        error.status_code = 431  # type: ignore[misc]  # Request Header Fields Too Large
        raise error
    url = len(scope.get("raw_path") or scope["path"]) + len(scope.get("query_string") or b"")
    if url > MAX_URL_BYTES:
        error = RequestValidationError("Request URL too long", f"the path and query are {url} bytes; "
                                       f"the limit is {MAX_URL_BYTES}")
        error.status_code = 414  # type: ignore[misc]  # URI Too Long
        raise error


async def handle(gateway: Gateway, request: Request, resource: str, operation: str) -> Response:
    """The answer to a unified request. Errors are raised, and answered by ``GatewayApp`` (one place
    for every request); the trace in the scope tells it what the request log needs."""
    request_id: str = request.scope["state"]["request_id"]
    trace = hooks.trace(request.scope, resource, operation)
    # a plain dict of the request's headers (the first of repeated ones), cheaper to query than Headers
    headers = trace.headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(request.scope["headers"])}
    app, connection = resolve_app_connection(headers, gateway.store, gateway.registry.connectors)
    trace.connection = connection
    request.scope["state"]["service_id"] = connection.service_id
    unified = await parse_request(request, resource, operation)
    trace.raw = unified.raw
    if operation in ("add", "update"):
        unified.strict = parse_strict(headers, app.strict)
    dispatched = await gateway.dispatcher.dispatch(unified, connection)
    trace.session = dispatched.session
    url = _public_url(gateway, request) if operation == "all" else ""  # only lists have links
    body = success(unified, connection.service_id, dispatched.result, dispatched.cursors, url,
                   request.query_params.multi_items(), raw=dispatched.session.raw() if unified.raw else None)
    limits = downstream_rate_limits(dispatched.session, gateway.registry.connectors[connection.service_id].spec)
    return JSONResponse(body, status_code=body["status_code"], headers={"request-id": request_id, **limits})


def downstream_rate_limits(session: Any, spec: Any) -> dict[str, str]:
    """``http.rate_limit_headers`` of the last downstream answer carrying any, as
    ``x-downstream-ratelimit-<name>`` (a client paces itself on the tracker's budget)."""
    wanted: dict[str, str] = spec.http.rate_limit_headers
    for call in reversed(session.calls if wanted else []):
        found = {f"x-downstream-ratelimit-{name}": call.response_headers[header] for name, header in wanted.items()
                 if call.response_headers is not None and header in call.response_headers}
        if found:
            return found
    return {}


def error_rate_limits(gateway: Gateway, scope: Scope, exc: Exception) -> dict[str, str]:
    """The ``x-downstream-ratelimit-*`` headers of an error answer (a 429, a refusal, a typed error
    raised after calls went through): a client paces itself on failures too."""
    session = getattr(exc, "session", None)  # set by dispatch: the calls made before the error
    connector = gateway.registry.connectors.get(scope.get("state", {}).get("service_id", ""))
    if session is None or connector is None:
        return {}
    return downstream_rate_limits(session, connector.spec)


async def parse_request(request: Request, resource: str, operation: str) -> UnifiedRequest:
    if not request.scope.get("query_string"):  # no query: every parameter takes its default
        unified = UnifiedRequest(resource=resource, operation=operation, path_params=dict(request.path_params))
        if operation in ("add", "update"):
            unified.body, unified.pass_through_body = parse_body(resource, await read_body(request))
        return unified
    params = request.query_params
    deep = deep_objects(params)
    unified = UnifiedRequest(
        resource=resource, operation=operation, path_params=dict(request.path_params),
        raw=parse_bool(params, "raw"), fields=parse_fields_param(params),
        pass_through_query=flatten_query(deep.get("pass_through") or {}),
    )
    if operation == "all":
        unified.limit = parse_limit(params)
        unified.cursor = params.get("cursor") or None
        unified.filter = parse_filter(resource, deep)
        unified.sort = parse_sort(resource, deep)
    if operation in ("add", "update"):
        unified.body, unified.pass_through_body = parse_body(resource, await read_body(request))
    return unified


async def read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestValidationError("Request body too large", f"the body is {declared} bytes; the limit is {MAX_BODY_BYTES}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise RequestValidationError("Request body too large", f"the limit is {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _public_url(gateway: Gateway, request: Request) -> str:
    """This request's URL without query, as clients reach it: from ``UNIGATE_PUBLIC_URL`` when set;
    else from the Host header only if it names a trusted host (``UNIGATE_TRUSTED_HOSTS``); else
    relative to the server, so a forged Host header can never point a client's next page elsewhere."""
    settings = gateway.settings
    if settings.public_url:
        return settings.public_url.rstrip("/") + request.scope["path"]
    if (request.url.hostname or "").lower() in settings.trusted_hosts:
        return str(request.base_url).rstrip("/") + request.scope["path"]
    return request.scope["path"]
