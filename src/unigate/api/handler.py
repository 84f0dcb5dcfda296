"""One unified request end to end: resolve the connection, parse, dispatch, envelope."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from unigate.api.bodies import MAX_BODY_BYTES, parse_body
from unigate.api.params import deep_objects, parse_bool, parse_fields_param, parse_filter, parse_limit, parse_sort, parse_strict
from unigate.connector.context import UnifiedRequest
from unigate.envelope import error_response, success
from unigate.errors import RequestHeadersValidationError, RequestValidationError, UnexpectedError, UnifiedError
from unigate.jsonutil import JSONResponse
from unigate.mapping.passthrough import flatten_query
from unigate.observability import hooks
from unigate.vault.crypto import WrongSecretKeyError
from unigate.vault.resolve import resolve_app_connection

if TYPE_CHECKING:
    from unigate.app import Gateway

log = logging.getLogger("unigate.api")

MAX_HEADER_BYTES = 16 * 1024  # all request headers, counted as on the wire ("name: value\r\n")
MAX_URL_BYTES = 16 * 1024     # path and query string


def oversized_request(scope: Scope) -> UnifiedError | None:
    """The error for a request whose headers or URL exceed the caps, checked before anything else
    (routing, the vault): 431 ``RequestHeadersValidationError`` / 414 ``RequestValidationError``."""
    size = 0
    for name, value in scope["headers"]:
        size += len(name) + len(value) + 4
    if size > MAX_HEADER_BYTES:
        error: UnifiedError = RequestHeadersValidationError(
            "Request headers too large", f"the request headers are {size} bytes; the limit is {MAX_HEADER_BYTES}")
        error.status_code = 431  # type: ignore[misc]  # Request Header Fields Too Large
        return error
    url = len(scope.get("raw_path") or scope["path"]) + len(scope.get("query_string") or b"")
    if url > MAX_URL_BYTES:
        error = RequestValidationError("Request URL too long", f"the path and query are {url} bytes; "
                                       f"the limit is {MAX_URL_BYTES}")
        error.status_code = 414  # type: ignore[misc]  # URI Too Long
        return error
    return None


async def handle(gateway: Gateway, request: Request, resource: str, operation: str) -> Response:
    request_id: str = request.scope["state"]["request_id"]
    started, headers, connection, unified = time.perf_counter(), None, None, None  # for hooks.answered
    try:
        # a plain dict of the request's headers (the first of repeated ones), cheaper to query than Headers
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(request.scope["headers"])}
        app, connection = resolve_app_connection(headers, gateway.store, gateway.registry.connectors)
        request.scope["state"]["service_id"] = connection.service_id
        unified = await parse_request(request, resource, operation)
        if operation in ("add", "update"):
            unified.strict = parse_strict(headers, app.strict)
        dispatched = await gateway.dispatcher.dispatch(unified, connection)
        url = _public_url(gateway, request) if operation == "all" else ""  # only lists have links
        body = success(unified, connection.service_id, dispatched.result, dispatched.cursors, url,
                       request.query_params.multi_items(), raw=dispatched.session.raw() if unified.raw else None)
        response = JSONResponse(body, status_code=body["status_code"], headers={"request-id": request_id})
        hooks.answered(gateway, request.scope, request_id, resource, operation, started, response.status_code,
                       headers, connection, dispatched.session)
        return response
    except UnifiedError as error:
        session = getattr(error, "session", None)  # set by dispatch: the calls made before the error
        hooks.answered(gateway, request.scope, request_id, resource, operation, started, error.status_code,
                       headers, connection, session, error)
        raw = hooks.raw_calls(session) if session is not None and unified is not None and unified.raw else None
        return error_response(error, request_id, raw=raw)
    except Exception as exc:  # answer in the error schema, log the traceback server-side only
        if isinstance(exc, WrongSecretKeyError):  # rotated under a running gateway: say so, not "unexpected"
            log.error("request %s: %s", request_id, exc)
            unexpected = UnexpectedError("Vault key rotated", "the gateway's secret key no longer opens the vault "
                                         "(it was rotated); the operator must restart it with the new key")
        else:
            log.exception("unexpected error in request %s", request_id)
            unexpected = UnexpectedError("Unexpected error", f"the gateway failed unexpectedly; "
                                         f"quote request id {request_id} when reporting it")
        hooks.answered(gateway, request.scope, request_id, resource, operation, started, 500, headers, connection,
                       None, unexpected)
        return error_response(unexpected, request_id)


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
