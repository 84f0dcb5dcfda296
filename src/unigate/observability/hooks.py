"""What the gateway does once a unified or proxied request is answered: metrics and the request log.

The request's handler keeps a :class:`Trace` in ``scope["state"]["trace"]`` as it learns who called
and which connection it acts on; ``GatewayApp`` calls :func:`answered` with it once the response
(or the error response) is ready, whether the request succeeded or failed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unigate.errors import UnauthorizedError, UnifiedError
from unigate.observability import metrics
from unigate.observability.requestlog import RequestRecord, exchange

if TYPE_CHECKING:
    from unigate.app import Gateway
    from unigate.downstream.client import DownstreamSession
    from unigate.vault.models import Connection


@dataclass
class Trace:
    """What the request log needs of a request, as far as it got."""

    resource: str
    operation: str
    started: float
    headers: dict[str, str] | None = None
    connection: Connection | None = None
    session: DownstreamSession | None = None
    raw: bool = False  # raw=true: an error answer carries the downstream calls made


def trace(scope: Mapping[str, Any], resource: str, operation: str) -> Trace:
    """A new trace of the request, kept in its scope for :func:`answered`."""
    started = Trace(resource, operation, time.perf_counter())
    scope["state"]["trace"] = started
    return started


def answered(gateway: Gateway, scope: Mapping[str, Any], request_id: str, trace: Trace, status: int,
             error: BaseException | None = None) -> None:
    """Count the request and queue it for the request log.

    A request is logged once its app is known to be the caller's: it resolved to a connection, or
    failed to after the API key was accepted (no such consumer or connection, service not chosen).
    Unauthenticated requests are counted, not logged: nobody could read them, and anyone could fill
    the log with them."""
    elapsed = time.perf_counter() - trace.started
    headers, session = trace.headers, trace.session
    service_id = trace.connection.service_id if trace.connection is not None else "none"
    name = f"{trace.resource}.{trace.operation}"
    metrics.request(service_id, name, status, elapsed)
    log = gateway.request_log
    who = _caller(gateway, trace, error) if log.enabled else None
    if who is None:
        return
    app_id, consumer_id, service_id = who
    connector = gateway.registry.connectors.get(service_id) if service_id else None
    client = scope.get("client")
    host = (headers or {}).get("host", "")
    log.record(RequestRecord(
        request_id=request_id, app_id=app_id, consumer_id=consumer_id, service_id=service_id,
        operation=name, method=scope["method"], path=scope["path"], status_code=status,
        started=time.time() - elapsed, duration_ms=elapsed * 1000,
        error_type=getattr(error, "type_name", type(error).__name__) if error is not None else None,
        error_message=getattr(error, "message", None) or (str(error) if error is not None else None),
        calls=session.calls if session is not None else (),
        redactor=session.redactor if session is not None else None,
        service_name=connector.spec.name if connector is not None else service_id,
        base_url=host, source_ip=client[0] if client else None,
    ))


def _caller(gateway: Gateway, trace: Trace, error: BaseException | None) -> tuple[str, str, str] | None:
    """(app id, consumer id, service id) the request is logged under, or ``None``: not logged."""
    if trace.connection is not None:
        return trace.connection.app_id, trace.connection.consumer_id, trace.connection.service_id
    headers = trace.headers or {}
    app_id = headers.get("x-apideck-app-id", "").strip()
    if not app_id or isinstance(error, UnauthorizedError) or not isinstance(error, UnifiedError):
        return None
    service_id = headers.get("x-apideck-service-id", "").strip()
    known = service_id if service_id in gateway.registry.connectors else ""
    return app_id, headers.get("x-apideck-consumer-id", "").strip(), known


def raw_calls(session: DownstreamSession) -> dict[str, Any]:
    """``_raw`` of an error: each downstream call's request and response, redacted, bodies capped."""
    return {"calls": [exchange(c, session.redactor) for c in session.calls]}
