"""When a downstream call is tried again.

Idempotent calls (GET) are retried once after a connection failure (no answer: refused, dropped),
a 500/502/503/504, or a 429 whose ``Retry-After`` is at most one second; writes never are.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from unigate.downstream.send import SendFailure

RETRY_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    retried_methods: frozenset[str] = frozenset({"GET"})
    retries: int = 1
    statuses: frozenset[int] = RETRY_STATUSES
    max_rate_limit_wait: float = 1.0  # seconds of a 429's Retry-After still worth waiting for

    def attempts(self, method: str) -> int:
        return 1 + self.retries if method in self.retried_methods else 1

    def after_failure(self, failure: SendFailure) -> bool:
        """Whether a call that got no answer is tried again (when it has attempts left)."""
        return failure.kind == "connection"

    def after_answer(self, response: httpx.Response) -> float | None:
        """Seconds to wait before trying again after this answer, or ``None``: it is the call's answer."""
        if response.status_code in self.statuses:
            return retry_delay(response)
        if response.status_code == 429:
            delay = retry_delay(response)
            return delay if delay <= self.max_rate_limit_wait else None
        return None


def retry_delay(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", "0.1")))
    except ValueError:
        return 10.0


DEFAULT_RETRY = RetryPolicy()
