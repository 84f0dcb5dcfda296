"""What happens to a downstream call once it is made: hooks on the send.

A session reports each attempt of a call (``CallHooks.called``, with its ``RawCall``) and each
retry (``CallHooks.retried``); what is done with them is registered here rather than written into
the send: the call kept for ``raw=true`` and the request log (:func:`capture`), the call counted
(:func:`count`), its span with ``UNIGATE_TRACING=on`` (:func:`trace`) and its log line (:func:`log_line`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from unigate.downstream.models import RawCall
from unigate.observability import metrics, tracing

if TYPE_CHECKING:
    from unigate.downstream.client import DownstreamSession

log = logging.getLogger("unigate.downstream")

CallHook = Callable[["DownstreamSession", RawCall, float], None]  # (session, call, seconds it took)
RetryHook = Callable[[str, str, float], None]                      # (service id, reason, seconds to wait)


@dataclass(frozen=True)
class CallHooks:
    on_call: tuple[CallHook, ...] = ()
    on_retry: tuple[RetryHook, ...] = ()

    def called(self, session: DownstreamSession, call: RawCall, elapsed: float) -> None:
        for hook in self.on_call:
            hook(session, call, elapsed)

    def retried(self, service_id: str, reason: str, wait: float = 0.0) -> None:
        for hook in self.on_retry:
            hook(service_id, reason, wait)


def capture(session: DownstreamSession, call: RawCall, elapsed: float) -> None:
    """Keep the call: ``raw=true``, the request log and error answers read ``session.calls``."""
    session.calls.append(call)


def count(session: DownstreamSession, call: RawCall, elapsed: float) -> None:
    metrics.call(session.service_id, call.status_code, call.error, elapsed, call.retries > 0)


def trace(session: DownstreamSession, call: RawCall, elapsed: float) -> None:
    if tracing.enabled:
        tracing.call_span(session.service_id, call, session.redactor)


def log_line(session: DownstreamSession, call: RawCall, elapsed: float) -> None:
    if log.isEnabledFor(logging.INFO):  # building the redacted URL costs; only when it is logged
        log.info("downstream %s %s %s -> %s in %.1f ms", session.service_id, call.method,
                 session.redactor.url(call.full_url), call.status_code, call.duration_ms)


# every session's hooks unless it is given others
CALL_HOOKS = CallHooks(on_call=(capture, count, trace, log_line), on_retry=(metrics.retry,))
