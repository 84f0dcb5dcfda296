"""The ASGI application: ``create_app()`` wires store, registry, client pool and routes."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from unigate import __version__
from unigate.api.handler import handle
from unigate.api.routes import OPERATIONS
from unigate.cursor import CursorCodec
from unigate.dispatch import Dispatcher
from unigate.downstream.client import ClientPool
from unigate.envelope import error_response
from unigate.errors import NotFoundError, RequestValidationError, UnexpectedError
from unigate.jsonutil import JSONResponse
from unigate.mapping.paths import InvalidPathError, compile_path
from unigate.plugins.registry import ConnectorRegistry
from unigate.settings import Settings
from unigate.vault.crypto import SecretBox
from unigate.vault.store import ConnectionStore, VaultError

log = logging.getLogger("unigate")
access_log = logging.getLogger("unigate.access")


@dataclass
class Gateway:
    settings: Settings
    store: ConnectionStore
    registry: ConnectorRegistry
    pool: ClientPool
    dispatcher: Dispatcher


class StartupError(RuntimeError):
    """The gateway must not start (a broken built-in connector); the message says why."""


def validate_custom_mappings(custom_mappings: dict[str, str]) -> None:
    """Refuse invalid JSONPaths when a connection is configured, not at request time."""
    for name, path in custom_mappings.items():
        try:
            compile_path(path)
        except InvalidPathError as exc:
            raise VaultError(f"custom_mappings[{name!r}]: {exc}") from None


def open_store(settings: Settings, secret_key: str) -> ConnectionStore:
    return ConnectionStore(settings.database, SecretBox(secret_key), validate_custom_mappings=validate_custom_mappings)


def build_gateway(settings: Settings, secret_key: str, *, store: ConnectionStore | None = None,
                  registry: ConnectorRegistry | None = None) -> Gateway:
    registry = registry if registry is not None else ConnectorRegistry.load()
    broken = registry.builtin_failures
    if broken:
        lines = "\n".join(f"- {f.source} ({f.module}): {f.error}" for f in broken)
        raise StartupError(f"built-in connectors failed to load, refusing to start:\n{lines}")
    for failure in registry.failures:
        log.warning("connector %s not loaded: %s", failure.source, failure.error)
    box = SecretBox(secret_key)
    store = store or open_store(settings, secret_key)
    pool = ClientPool(transport=settings.transport)
    return Gateway(settings, store, registry, pool, Dispatcher(registry, pool, CursorCodec(box.derive("cursor"))))


def create_app(gateway: Gateway) -> Starlette:
    routes = [
        Route(path, partial(_endpoint, table=methods), methods=list(methods))
        for path, methods in OPERATIONS.items()
    ]
    routes.append(Route("/health", _health, methods=["GET"]))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await gateway.pool.aclose()

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, Exception: _unexpected},  # type: ignore[dict-item]
    )
    app.state.gateway = gateway
    app.add_middleware(RequestIdMiddleware)
    return app


async def _endpoint(request: Request, table: dict[str, tuple[str, str]]) -> Response:
    resource, operation = table[request.method]
    return await handle(request, resource, operation)


async def _health(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    return JSONResponse({
        "status": "ok", "version": __version__,
        "connectors": sorted(gateway.registry.connectors),
        "failed_connectors": [{"source": f.source, "error": f.error} for f in gateway.registry.failures],
    }, headers={"request-id": request.scope["state"]["request_id"]})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    request_id = request.scope.get("state", {}).get("request_id", "")
    if exc.status_code == 405:
        error = RequestValidationError("Method not allowed", f"{request.method} is not an operation of {request.url.path}")
        error.status_code = 405  # type: ignore[misc]
        return error_response(error, request_id)
    return error_response(NotFoundError("Not found", f"no unified API route at {request.url.path}"), request_id)


async def _unexpected(request: Request, exc: Exception) -> Response:
    request_id = request.scope.get("state", {}).get("request_id", "")
    log.exception("unexpected error in request %s", request_id, exc_info=exc)
    return error_response(UnexpectedError("Unexpected error", f"quote request id {request_id} when reporting it"), request_id)


class RequestIdMiddleware:
    """Gives every request an id, sends it back as ``Request-Id`` and logs one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"request-id"]
                message["headers"] = headers + [(b"request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info("%s %s %s %d %.1fms service=%s", request_id, scope["method"], scope["path"], status,
                                (time.perf_counter() - started) * 1000, scope["state"].get("service_id", "-"))
