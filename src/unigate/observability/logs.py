"""Log lines an operator can use: each carries the id of the request it belongs to, secrets redacted,
as text or as one JSON object per line (``UNIGATE_LOG_FORMAT=json``).

``request_id`` is a context variable set by the gateway for each request (``GatewayApp``); every
task the request starts inherits it, so the gateway's own lines, the downstream client's and those
of the libraries underneath (httpx, httpcore, aiohttp) all get it. ``configure()`` installs on the
root handler:

- ``RequestIdFilter``: ``record.request_id`` (``-`` outside a request);
- ``unigate.downstream.logfilter.RedactingFilter``: every record, whatever its logger, redacted with
  the credentials of the downstream call in progress and secret-looking parameter names;

and uvicorn is run without its own logging configuration (``log_config=None``), so its lines go
through the same handler.
"""

from __future__ import annotations

import logging
import sys
import time
from contextvars import ContextVar

import orjson

from unigate.downstream.logfilter import RedactingFilter

request_id: ContextVar[str | None] = ContextVar("unigate_request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, request_id, message; ``exc``
    with the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        created = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
        entry = {"time": created, "level": record.levelname, "logger": record.name,
                 "request_id": getattr(record, "request_id", None) or request_id.get() or "-",
                 "message": record.getMessage()}
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        return orjson.dumps(entry).decode()


def configure(level: str, fmt: str = "text") -> None:
    """Root logging for ``unigate serve``: the level, the format (``text`` or ``json``), and the request
    id and redaction filters on the handler (so they apply to every logger's records)."""
    if fmt not in ("text", "json"):
        raise ValueError(f"UNIGATE_LOG_FORMAT must be text or json, not {fmt!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
