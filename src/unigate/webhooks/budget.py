"""A per-connection call budget for the poller: a token bucket, paused by a tracker's 429.

Each connection may spend ``calls_per_minute`` downstream calls a minute on polling (bursts up to
a tenth of a minute's worth, at least one call); a call past the budget waits for its token. A 429
from the tracker (``ConnectorRateLimitError``) pauses the connection for its ``Retry-After``
(or a minute when it gives none): the poll stops there and resumes at the next cycle after the pause.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

DEFAULT_PAUSE = 60.0


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    paused_until: float = 0.0


@dataclass
class CallBudget:
    calls_per_minute: float
    clock: object = field(default=time.monotonic)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    @property
    def burst(self) -> float:
        return max(1.0, self.calls_per_minute / 10)

    def _bucket(self, key: str) -> _Bucket:
        now = self.clock()  # type: ignore[operator]
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        rate = self.calls_per_minute / 60.0
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * rate)
        bucket.stamp = now
        return bucket

    def wait_for(self, key: str) -> float:
        """Seconds until ``key`` may make its next call (0: now); takes the token when 0."""
        bucket = self._bucket(key)
        now = bucket.stamp
        if bucket.paused_until > now:
            return bucket.paused_until - now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) * 60.0 / self.calls_per_minute

    async def take(self, key: str) -> None:
        """Wait for a token of ``key``'s budget (or the end of its pause), then spend it."""
        while (delay := self.wait_for(key)) > 0:
            await asyncio.sleep(delay)

    def paused(self, key: str) -> bool:
        return self._bucket(key).paused_until > self._bucket(key).stamp

    def pause(self, key: str, retry_after: str | None) -> float:
        """Stop ``key``'s calls for ``Retry-After`` seconds (a number; otherwise a minute)."""
        try:
            seconds = max(0.0, float(retry_after)) if retry_after else DEFAULT_PAUSE
        except ValueError:
            seconds = DEFAULT_PAUSE
        bucket = self._bucket(key)
        bucket.paused_until = bucket.stamp + seconds
        return seconds
