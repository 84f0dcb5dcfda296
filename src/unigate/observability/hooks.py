"""What the request handler calls once a unified request is answered: metrics and the request log."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from unigate.downstream.client import RawCall
from unigate.errors import UnauthorizedError, UnifiedError
from unigate.observability import metrics
from unigate.observability.requestlog import RequestRecord, exchange

if TYPE_CHECKING:
    from unigate.app import Gateway
    from unigate.downstream.client import DownstreamSession
    from unigate.vault.models import Connection


def answered(gateway: Gateway, scope: Mapping[str, Any], request_id: str, resource: str, operation: str,
             started: float, status: int, headers: Mapping[str, str] | None, connection: Connection | None,
             session: DownstreamSession | None = None, error: BaseException | None = None) -> None:
    """Count the request and queue it for the request log.

    A request is logged once its app is known to be the caller's: it resolved to a connection, or
    failed to after the API key was accepted (no such consumer or connection, service not chosen).
    Unauthenticated requests are counted, not logged: nobody could read them, and anyone could fill
    the log with them."""
    elapsed = time.perf_counter() - started
    service_id = connection.service_id if connection is not None else "none"
    name = f"{resource}.{operation}"
    metrics.request(service_id, name, status, elapsed)
    log = gateway.request_log
    if not log.enabled:
        return
    if connection is not None:
        app_id, consumer_id = connection.app_id, connection.consumer_id
    else:
        app_id = (headers or {}).get("x-apideck-app-id", "").strip()
        if not app_id or isinstance(error, UnauthorizedError) or not isinstance(error, UnifiedError):
            return
        consumer_id = (headers or {}).get("x-apideck-consumer-id", "").strip()
        service_id = (headers or {}).get("x-apideck-service-id", "").strip()
        if service_id not in gateway.registry.connectors:
            service_id = ""
    connector = gateway.registry.connectors.get(service_id) if service_id else None
    client = scope.get("client")
    host = (headers or {}).get("host", "")
    log.record(RequestRecord(
        request_id=request_id, app_id=app_id, consumer_id=consumer_id, service_id=service_id,
        operation=name, method=scope["method"], path=scope["path"], status_code=status,
        started=time.time() - elapsed, duration_ms=elapsed * 1000,
        error_type=getattr(error, "type_name", type(error).__name__) if error is not None else None,
        error_message=getattr(error, "message", None) or (str(error) if error is not None else None),
        calls=[_unparsed(c) for c in session.calls] if session is not None else (),
        redactor=session.redactor if session is not None else None,
        service_name=connector.spec.name if connector is not None else service_id,
        base_url=host, source_ip=client[0] if client else None,
    ))


def _unparsed(call: RawCall) -> RawCall:
    """The call without its parsed body (the log keeps the body's bytes): a page of parsed tickets
    waiting in the queue would be work for every garbage collection until it is written."""
    if call.body is None:
        return call
    return RawCall(call.call_id, call.method, call.url, call.query, call.status_code, None, call.duration_ms,
                   call.request_headers, call.request_body, call.response_headers, call.response_excerpt,
                   call.response_size, call.retries, call.error, call.started_at)


def raw_calls(session: DownstreamSession) -> dict[str, Any]:
    """``_raw`` of an error: each downstream call's request and response, redacted, bodies capped."""
    return {"calls": [exchange(c, session.redactor) for c in session.calls]}
