"""Optional OpenTelemetry tracing: one span per downstream call (``UNIGATE_TRACING=on``).

Off by default. Needs the ``otel`` extra (``pip install unigate[otel]``: ``opentelemetry-api``); the
exporter is the operator's choice (``opentelemetry-sdk`` plus an exporter, configured the usual
OpenTelemetry way, e.g. ``opentelemetry-instrument unigate serve``). Without an SDK the API's no-op
tracer makes the spans free. Spans are made when the call is recorded, with the call's own start
and end times; their attributes are the service, method, redacted URL, status and retries: never a
credential, an app or a consumer id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unigate.downstream.models import RawCall
    from unigate.downstream.redact import Redactor

enabled = False
_tracer: Any = None


class TracingUnavailable(RuntimeError):
    pass


def enable() -> None:
    """Turn spans on (``build_gateway`` with ``UNIGATE_TRACING=on``); raise if opentelemetry-api is missing."""
    global enabled, _tracer
    try:
        from opentelemetry import trace
    except ImportError:
        raise TracingUnavailable("UNIGATE_TRACING=on needs opentelemetry-api: pip install 'unigate[otel]'") from None
    _tracer = trace.get_tracer("unigate")
    enabled = True


def disable() -> None:
    global enabled
    enabled = False


def call_span(service_id: str, call: RawCall, redactor: Redactor) -> None:
    from opentelemetry.trace import SpanKind, Status, StatusCode

    start = int(call.started_at * 1e9)
    span = _tracer.start_span(f"{service_id} {call.call_id}", kind=SpanKind.CLIENT, start_time=start)
    span.set_attribute("unigate.service", service_id)
    span.set_attribute("unigate.call_id", call.call_id)
    span.set_attribute("http.request.method", call.method)
    span.set_attribute("url.full", redactor.url(call.full_url))
    span.set_attribute("unigate.retries", call.retries)
    if call.status_code is not None:
        span.set_attribute("http.response.status_code", call.status_code)
    if call.error is not None or (call.status_code or 0) >= 400:
        span.set_status(Status(StatusCode.ERROR, call.error or str(call.status_code)))
    span.end(end_time=start + int(call.duration_ms * 1e6))
