"""The gateway: ``build_gateway()`` wires store, registry, client pool and dispatcher; ``create_app()`` serves it."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from unigate import __version__, heap, oauth, vault_api
from unigate.api.handler import error_rate_limits, handle, refuse_oversized
from unigate.api.routes import RouteTable, check_path_params, method_not_allowed, request_segments
from unigate.connect import PREFIX as CONNECT_PREFIX
from unigate.connection_state import ConnectionStates
from unigate.cursor import CursorCodec
from unigate.disconnect import until_disconnect
from unigate.dispatch import Dispatcher
from unigate.downstream import logfilter
from unigate.downstream.pool import ClientPool, TransportWrapper
from unigate.envelope import as_unified, error_response
from unigate.errors import EntityNotFoundError, UnifiedError
from unigate.jsonutil import JSONResponse
from unigate.mapping.paths import InvalidPathError, compile_path
from unigate.observability import hooks, logs_api, metrics, tracing
from unigate.observability import logs as observed_logs
from unigate.observability.requestlog import RequestLog
from unigate.plugins.registry import ConnectorRegistry
from unigate.proxy import PROXY_PATH, proxy
from unigate.readiness import readiness
from unigate.settings import Settings
from unigate.vault.crypto import SecretBox
from unigate.vault.store import ConnectionStore, VaultError
from unigate.vault.validation import secret_settings
from unigate.webhooks import api as webhook_api
from unigate.webhooks import inbound as webhook_inbound
from unigate.webhooks.destination import Egress
from unigate.webhooks.runner import WebhookRunner
from unigate.webhooks.store import WebhookStore

log = logging.getLogger("unigate")
access_log = logging.getLogger("unigate.access")


@dataclass
class Gateway:
    settings: Settings
    store: ConnectionStore
    registry: ConnectorRegistry
    pool: ClientPool
    dispatcher: Dispatcher
    request_log: RequestLog = field(default_factory=lambda: RequestLog(":memory:", enabled=False))
    webhook_store: WebhookStore | None = None   # subscriptions, poller state, outbox (unigate.webhooks)
    webhooks: WebhookRunner | None = None       # the embedded poller + dispatcher, started with the app
    webhook_egress: Egress | None = None        # delivery URL policy; None: from settings (tests set a resolver)


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
                  registry: ConnectorRegistry | None = None,
                  wrap_transport: TransportWrapper | None = None,
                  wrap_oauth_transport: TransportWrapper | None = None) -> Gateway:
    """The gateway's parts; ``wrap_transport`` interposes on every downstream call (test cassettes),
    ``wrap_oauth_transport`` on the calls to OAuth providers (kept apart: no cassette holds a token exchange)."""
    registry = registry if registry is not None else ConnectorRegistry.load()
    broken = registry.builtin_failures
    if broken:
        lines = "\n".join(f"- {f.source} ({f.module}): {f.error}" for f in broken)
        raise StartupError(f"built-in connectors failed to load, refusing to start:\n{lines}")
    for failure in registry.failures:
        log.warning("connector %s not loaded: %s", failure.source, failure.error)
    box = SecretBox(secret_key)
    store = store or open_store(settings, secret_key)
    store.secret_settings = secret_settings(registry)  # kept out of the vault's audit trail
    pool = ClientPool.from_settings(settings, wrap_transport=wrap_transport)
    logfilter.install()  # httpx's request log line redacted like ours
    if settings.tracing:
        tracing.enable()
    dispatcher = Dispatcher(registry, pool, CursorCodec(box.derive("cursor")), ConnectionStates(settings.connection_cache))
    dispatcher.account_salt = box.derive("rate-limit-account")   # the same on every replica sharing the key
    # the webhook store and the request log share one engine (one pool), the store's own; closed at shutdown
    webhook_store = WebhookStore(store.path, box) if store.path != ":memory:" else None
    # OAuth2 flows and token refresh; refreshes single-flight across processes through the vault's leases
    dispatcher.tokens = oauth.build(store, registry, box, dict(settings.oauth_origins),
                                    wrap_transport=wrap_oauth_transport, leases=webhook_store)
    request_log = RequestLog(webhook_store.engine if webhook_store else settings.database, enabled=settings.request_log,
                             retention_days=settings.log_retention_days, max_rows=settings.log_max_rows,
                             writer=settings.request_log_writer, log_settings=(settings.log_level, settings.log_format))
    return Gateway(settings, store, registry, pool, dispatcher, request_log, webhook_store)


def create_app(gateway: Gateway, *, settle_heap: bool = False) -> GatewayApp:
    """The ASGI app; ``settle_heap`` (``unigate serve``): once started, what start-up built is frozen out
    of garbage collection (``unigate.heap``)."""
    return GatewayApp(gateway, settle_heap=settle_heap)


class GatewayApp:
    """The ASGI application: routes the unified API and ``/health``, nothing in between.

    Deliberately not a framework router with middleware layers: each request costs one table
    lookup (``RouteTable``) before ``handle``. Every response carries ``Request-Id``. Handlers raise
    errors; :meth:`_answer` is the one place an exception becomes a response: a ``UnifiedError`` in
    Apideck's error schema (unknown paths 404, wrong methods 405 included), anything else a 500
    ``UnexpectedError`` whose traceback goes to the server log only. One access-log line per request (INFO).
    """

    def __init__(self, gateway: Gateway, *, settle_heap: bool = False) -> None:
        self.gateway = gateway
        self.settle_heap = settle_heap  # see _prepare
        self.routes = RouteTable()
        self._warm_up: asyncio.Future[None] | None = None
        # paths answering GET (and HEAD) only, beside the unified API
        self._get_only: dict[str, Callable[[Scope, str], Awaitable[Response]]] = {
            "/health": self._health, "/ready": self._ready, logs_api.PATH: self._logs,  # Apideck's GET /vault/logs: the request log
            **({"/metrics": self._metrics} if gateway.settings.metrics else {}),  # no API key; no tenant ids in it
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request_id = os.urandom(16).hex()  # as unique as uuid4().hex, without building a UUID
        observed_logs.request_id.set(request_id)  # on every log line of the request (observability.logs)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        response = await self._answer(scope, receive, request_id)
        await response(scope, receive, send)
        if access_log.isEnabledFor(logging.INFO):
            # the path is percent-decoded: escape it, or a %0D%0A in it would forge log lines
            path = scope["path"].encode("unicode_escape").decode("ascii")
            access_log.info("%s %s %s %d %.1fms service=%s", request_id, scope["method"], path, response.status_code,
                            (time.perf_counter() - started) * 1000, state.get("service_id", "-"))

    async def _answer(self, scope: Scope, receive: Receive, request_id: str) -> Response:
        """The response, or the error response for what the request raised; a unified or proxied
        request (it left a trace) is then counted and queued for the request log."""
        error: UnifiedError | None = None
        try:
            response = await self._respond(scope, receive, scope["method"], request_id)
        except Exception as exc:  # noqa: BLE001 - every failure answers in the error schema; as_unified logs it
            error = as_unified(exc, request_id)
            limits = error_rate_limits(self.gateway, scope, exc)
            if limits:
                error.headers = {**limits, **error.headers}
            response = error_response(error, request_id, raw=_raw_calls(scope, exc))
        trace = scope["state"].get("trace")
        if trace is not None:
            hooks.answered(self.gateway, scope, request_id, trace, response.status_code, error)
        return response

    async def _respond(self, scope: Scope, receive: Receive, method: str, request_id: str) -> Response:
        refuse_oversized(scope)  # 431/414 before any lookup
        path = scope["path"]
        routed = method if method != "HEAD" else "GET"
        if path == PROXY_PATH:  # the Proxy API: unigate.proxy
            return await proxy(self.gateway, scope, receive, method, request_id)
        if path == "/openapi.json" or path == "/docs" or path.startswith("/docs/"):  # no auth; unigate.docs_site
            from unigate.docs_site import respond as docs

            return docs(scope, path, routed, request_id)
        get_only = self._get_only.get(path)
        if get_only is not None:
            if routed != "GET":
                raise method_not_allowed(method, path, ["GET"])
            return await get_only(scope, request_id)
        if path.startswith(CONNECT_PREFIX):  # the hosted connect page: unigate.connect (no API key: a session)
            from unigate.connect.router import respond as connect_page

            return await connect_page(self.gateway, scope, receive, method, request_id)
        if path.startswith(webhook_api.PREFIX) and self.gateway.webhook_store is not None:  # unigate.webhooks
            return await webhook_api.respond(self.gateway, scope, receive, method, request_id)
        if path.startswith(webhook_inbound.PREFIX) and self.gateway.webhook_store is not None:
            return await webhook_inbound.respond(self.gateway, scope, receive, method, request_id)
        if path.startswith(vault_api.PREFIX):  # the rest of the Vault API: unigate.vault_api
            return await vault_api.respond(self.gateway, scope, receive, method, request_id)
        return await self._unified(scope, receive, path, method, routed)

    async def _unified(self, scope: Scope, receive: Receive, path: str, method: str, routed: str) -> Response:
        matched = self.routes.match(request_segments(path, scope.get("raw_path")))
        if matched is None:
            raise EntityNotFoundError("Not found", f"no unified API route at {path}")
        methods, params = matched
        operation = methods.get(routed)
        if operation is None:
            raise method_not_allowed(method, path, list(methods))
        check_path_params(params)
        scope["path_params"] = params
        return await until_disconnect(lambda rcv: handle(self.gateway, Request(scope, rcv), *operation), receive)

    async def _metrics(self, scope: Scope, request_id: str) -> Response:
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE, headers={"request-id": request_id})

    async def _logs(self, scope: Scope, request_id: str) -> Response:
        return await logs_api.respond(self.gateway, scope, request_id)

    async def _health(self, scope: Scope, request_id: str) -> Response:
        registry = self.gateway.registry
        body: dict[str, object] = {
            "status": "ok", "version": __version__,
            "connectors": sorted(registry.connectors),
            "failed_connectors": [{"source": f.source, "error": f.error} for f in registry.failures],
        }
        # the key rotated by `unigate vault rotate-key` since we started, or the database unreadable: 503 saying which
        status, ready = await readiness(self.gateway.store)
        if status != 200:
            body.update(status="error", error=next(v for v in ready["checks"].values() if v != "ok"))
            return JSONResponse(body, status_code=503, headers={"request-id": request_id})
        return JSONResponse(body, headers={"request-id": request_id})

    async def _ready(self, scope: Scope, request_id: str) -> Response:
        status, body = await readiness(self.gateway.store)   # unigate.readiness: database and key
        return JSONResponse(body, status_code=status, headers={"request-id": request_id})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # serve /health at once; the downstream transport is imported beside it, not before
                self._warm_up = asyncio.get_running_loop().run_in_executor(None, self._prepare)
                self._start_webhooks()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.gateway.webhooks is not None:
                    await self.gateway.webhooks.stop()
                await self.gateway.pool.aclose()
                await asyncio.get_running_loop().run_in_executor(None, self.gateway.request_log.close)
                if self.gateway.webhook_store is not None:  # its pooled connections (it reconnects if used again)
                    self.gateway.webhook_store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _prepare(self) -> None:
        """Start-up's work beside the first requests: the downstream transport imported, then (served)
        start-up's objects frozen out of garbage collection."""
        self.gateway.pool.warm_up()
        if self.settle_heap:
            heap.settle()

    def _start_webhooks(self) -> None:
        """The embedded poller and dispatcher (UNIGATE_WEBHOOKS=off: not in this process)."""
        gateway = self.gateway
        if gateway.settings.webhooks and gateway.webhook_store is not None and gateway.webhooks is None:
            gateway.webhooks = WebhookRunner(gateway, gateway.webhook_store).start()


def _raw_calls(scope: Scope, exc: Exception) -> Any:
    """``_raw`` of an error answer (``raw=true``): the downstream calls made before it failed."""
    trace: hooks.Trace | None = scope["state"].get("trace")
    session = getattr(exc, "session", None)  # set by dispatch: the calls made before the error
    if trace is None or session is None:
        return None
    trace.session = session
    return hooks.raw_calls(session) if trace.raw else None
