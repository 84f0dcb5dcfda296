"""The Vault API's routes.

A route is a path pattern (literal segments and ``{name}``s) with a handler per method. Handlers
take a :class:`VaultRequest` and answer a response; plain functions run in a worker thread (the
vault is SQLite: a write may wait for another process's), ``async`` ones (validate: a downstream
call) on the loop. Every change a handler makes is recorded as the calling app's (``acting_as``).
Later parts of the Vault API (sessions, OAuth authorize and callback) add routes to ``ROUTES``; a
hosted connect page acting for a session's consumer calls the same handlers with a
:class:`VaultRequest` it builds from the session (the app, ``x-apideck-consumer-id``, ``actor_kind``),
so the page and the API share one implementation of every change.

``GET /vault/logs`` is served by :mod:`unigate.observability.logs_api`, before these routes.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope

from unigate.api.routes import check_path_params, method_not_allowed, request_segments
from unigate.connect import sessions
from unigate.errors import EntityNotFoundError
from unigate.vault.audit import acting_as
from unigate.vault_api import audit, connections, connectors, consumers, custom_mappings, oauth
from unigate.vault_api.context import VaultRequest, authenticate, json_body

if TYPE_CHECKING:
    from unigate.app import Gateway

PREFIX = "/vault/"
Handler = Callable[[VaultRequest], Response | Awaitable[Response]]
CONNECTION = "vault/connections/{unified_api}/{service_id}"
MAPPING = "vault/custom-mappings/{unified_api}/{service_id}"


@dataclass(frozen=True)
class Route:
    pattern: tuple[str, ...]
    methods: dict[str, Handler]
    public: bool = False   # no API key (OAuth redirects): handlers take (gateway, request, params)

    def match(self, segments: list[str]) -> dict[str, str] | None:
        if len(segments) != len(self.pattern):
            return None
        params = {}
        for part, segment in zip(self.pattern, segments, strict=True):
            if part.startswith("{"):
                params[part[1:-1]] = segment
            elif part != segment:
                return None
        return params


def route(path: str, *, public: bool = False, **methods: Handler) -> Route:
    return Route(tuple(path.split("/")), methods, public)


ROUTES: list[Route] = [
    route("vault/consumers", GET=consumers.all_, POST=consumers.add),
    route("vault/consumers/{consumer_id}", GET=consumers.one, PATCH=consumers.update, DELETE=consumers.delete),
    route("vault/connections", GET=connections.all_),
    route(CONNECTION, GET=connections.one, POST=connections.add, PATCH=connections.update,
          DELETE=connections.delete),
    route(f"{CONNECTION}/validate", POST=connections.validate),
    route(f"{CONNECTION}/{{resource}}/custom-mappings", GET=connections.mappings),
    route(MAPPING, GET=custom_mappings.all_),
    route(f"{MAPPING}/{{target_field_id}}", GET=custom_mappings.one, POST=custom_mappings.add,
          PATCH=custom_mappings.update, DELETE=custom_mappings.delete),
    route("vault/audit", GET=audit.all_),
    route("vault/connectors", GET=connectors.all_),   # capabilities: unigate.connector.capabilities
    route("vault/connectors/{service_id}", GET=connectors.one),
    route("vault/sessions", POST=sessions.create),   # the hosted connect page: unigate.connect
    route(oauth.AUTHORIZE, public=True, GET=oauth.authorize),  # type: ignore[arg-type]
    route(oauth.CALLBACK, public=True, GET=oauth.callback),  # type: ignore[arg-type]
    route(oauth.CLIENT, GET=oauth.client_one, PATCH=oauth.client_update, DELETE=oauth.client_delete),
]
OPTIONAL_BODY = (connections.validate, sessions.create)


def match(segments: list[str], routes: list[Route] = ROUTES) -> tuple[Route, dict[str, str]] | None:
    for candidate in routes:
        params = candidate.match(segments)
        if params is not None:
            return candidate, params
    return None


async def respond(gateway: Gateway, scope: Scope, receive: Receive, method: str, request_id: str) -> Response:
    """Answer one Vault API request. Refusals are raised and answered in the error schema by
    ``GatewayApp``, as the unified API's (a store's ``VaultError`` too: ``unigate.envelope.as_unified``)."""
    response = await _respond(gateway, scope, receive, method)
    response.headers["request-id"] = request_id
    return response


async def _respond(gateway: Gateway, scope: Scope, receive: Receive, method: str) -> Response:
    return await answer(gateway, scope, receive, method, ROUTES, "Vault API", OPTIONAL_BODY)


async def answer(gateway: Gateway, scope: Scope, receive: Receive, method: str, routes: list[Route], api: str,
                 optional_body: tuple[Handler, ...] = ()) -> Response:
    """Route one request of an API served like the Vault API (``routes``; the Webhook API too): the
    app's key, a ``VaultRequest``, the JSON body of a write, the audit actor, the handler."""
    matched = match(request_segments(scope["path"], scope.get("raw_path")), routes)
    if matched is None:
        raise EntityNotFoundError("Not found", f"no {api} route at {scope['path']}")
    found, params = matched
    handler = found.methods.get("GET" if method == "HEAD" else method)
    if handler is None:
        raise method_not_allowed(method, scope["path"], list(found.methods))
    check_path_params(params)
    if found.public:
        public = cast("Callable[[Gateway, Request, dict[str, str]], Awaitable[Response]]", handler)
        return await public(gateway, Request(scope, receive), params)
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(scope["headers"])}
    app, key_id = authenticate(gateway, headers)
    request = Request(scope, receive)
    ctx = VaultRequest(gateway, request, app, key_id, headers, params)
    if method in ("POST", "PATCH"):
        ctx.body = await json_body(request, optional=handler in optional_body)
    with acting_as(ctx.actor):   # the audit trail names the app's key
        if inspect.iscoroutinefunction(handler):
            return await handler(ctx)
        return await asyncio.to_thread(handler, ctx)  # type: ignore[arg-type]


