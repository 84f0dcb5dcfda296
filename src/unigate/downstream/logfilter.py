"""Third-party HTTP loggers print what the gateway redacts: ``RedactingFilter`` redacts them too.

httpx logs every request at INFO (``HTTP Request: GET <url> "HTTP/1.1 200 OK"``), query string
included, so a tracker that takes its credential as a query parameter (``?key=``) would have it in
the log of any deployment logging at INFO. ``install()`` (``build_gateway`` calls it) adds the
filter to the loggers of the HTTP stack. A record logged during a downstream call is redacted with
that call's ``Redactor`` (``active``, set by ``DownstreamSession.request``): every credential value
of the connection, and parameters with secret-looking names; outside a call, the latter only.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar

from unigate.downstream.redact import Redactor

# records of these loggers are rewritten; a logger's filters do not apply to its children's records
LOGGERS = ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy",
           "aiohttp", "aiohttp.client", "aiohttp.internal", "aiohttp.access", "aiohttp.server", "aiohttp.web",
           "uvicorn", "uvicorn.error", "uvicorn.access", "asyncio")
# (`unigate serve` also puts the filter on its log handler, so every logger's records pass through it:
# unigate.observability.logs.configure)
active: ContextVar[Redactor | None] = ContextVar("unigate_downstream_redactor", default=None)
_URL = re.compile(r"https?://[^\s\"'<>]+")
_NAMES_ONLY = Redactor([])


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        redactor = active.get() or _NAMES_ONLY
        try:
            message = record.getMessage()
            redacted = redactor.text(_URL.sub(lambda m: redactor.url(m.group()), message))
        except Exception:  # noqa: BLE001 - a log filter must never fail the request that logs
            message, redacted = "", _URL.sub("[URL]", redactor.text(str(record.msg)))
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_FILTER = RedactingFilter()


def install() -> None:
    """Add the filter to the HTTP stack's loggers (once, however many gateways are built)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
