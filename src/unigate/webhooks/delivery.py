"""Delivery from the outbox: at least once, signed, with backoff, never one receiver holding up another.

Each due subscription gets its own task (at most one per subscription, ``webhook_max_deliveries`` in
all): it claims that subscription's due rows, oldest first, with a lease (``webhook_lease``), and
POSTs them in order, each within ``webhook_delivery_timeout``. A 2xx records ``delivered_at``; after
that the row is never sent again. Anything else (a status, a timeout, a refused connection) schedules
the row again after an exponential backoff with jitter (``webhook_retry_base`` doubling up to
``webhook_retry_cap``, each delay drawn between half and all of it) and pauses that subscription until
then, giving its other claimed rows back untouched; a row still failing ``webhook_retry_window``
(24 h) after its event is a dead letter (``unigate webhooks replay`` requeues it).

A process that dies mid-delivery leaves its rows leased: after the lease they are claimed again and
sent with the same idempotency key, so a receiver that deduplicates by ``x-apideck-idempotency-key``
sees each event once. Every attempt is recorded in the request log (operation ``webhook.delivery``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from unigate.downstream.models import RawCall
from unigate.downstream.redact import REDACTED, Redactor
from unigate.observability.requestlog import RequestRecord
from unigate.webhooks import events as ev
from unigate.webhooks.destination import DestinationRefused, Egress
from unigate.webhooks.store import OutboxRow, Subscription, WebhookNotFound, WebhookStore

if TYPE_CHECKING:
    from unigate.observability.requestlog import RequestLog
    from unigate.settings import Settings

log = logging.getLogger("unigate.webhooks")
CLAIM_BATCH = 50


def _forget(tasks: dict[str, asyncio.Task[None]], key: str, _done: asyncio.Task[None]) -> None:
    tasks.pop(key, None)


def backoff(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before attempt ``attempt + 1``: ``base * 2^(attempt-1)`` capped, with equal jitter."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return (rng or random).uniform(delay / 2, delay)


@dataclass
class Attempt:
    status: int | None
    error: str | None
    duration_ms: float
    started: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Deliverer:
    store: WebhookStore
    settings: Settings
    owner: str
    request_log: RequestLog | None = None
    egress: Egress | None = None   # where deliveries may go; None: from settings (UNIGATE_WEBHOOK_ALLOW_PRIVATE)
    client: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(follow_redirects=False))
    _busy: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _paused_until: dict[str, float] = field(default_factory=dict)

    async def tick(self) -> int:
        """Start a task for each due subscription not already being served or paused; returns how many."""
        now = time.time()
        started = 0
        for sub_id in await asyncio.to_thread(self.store.due_subscriptions, now):
            if sub_id in self._busy or self._paused_until.get(sub_id, 0) > now:
                continue
            if len(self._busy) >= self.settings.webhook_max_deliveries:
                break
            task = asyncio.create_task(self.serve(sub_id), name=f"webhook-delivery-{sub_id}")
            self._busy[sub_id] = task
            task.add_done_callback(functools.partial(_forget, self._busy, sub_id))
            started += 1
        return started

    async def drain(self) -> None:
        """Wait for the deliveries under way (tests, shutdown)."""
        while self._busy:
            await asyncio.gather(*list(self._busy.values()), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._busy.values()):
            task.cancel()
        await asyncio.gather(*list(self._busy.values()), return_exceptions=True)
        await self.client.aclose()

    async def serve(self, sub_id: str) -> None:
        """Deliver one subscription's due rows in order until one fails or none is due."""
        try:
            subscription = await asyncio.to_thread(self.store.subscription_by_id, sub_id)
        except WebhookNotFound:
            return
        secret = await asyncio.to_thread(self.store.secret, sub_id)
        lease = self.settings.webhook_lease + self.settings.webhook_delivery_timeout
        rows = await asyncio.to_thread(self.store.claim, sub_id, self.owner, time.time(), lease, CLAIM_BATCH)
        for index, row in enumerate(rows):
            if not await self.deliver(subscription, secret, row):
                await asyncio.to_thread(self.store.release, [r.seq for r in rows[index + 1:]], self.owner)
                return

    async def deliver(self, subscription: Subscription, secret: str, row: OutboxRow) -> bool:
        """One attempt of one row, recorded; True when the receiver took it."""
        number = row.attempts + 1
        data = ev.body(row.payload, number)
        attempt = await self.post(subscription.delivery_url, ev.headers(row.event_type, row.idempotency_key, data,
                                                                        secret), data)
        self.log_attempt(subscription, row, attempt, secret)
        if attempt.ok:
            await asyncio.to_thread(self.store.delivered, row.seq, self.owner, attempt.status or 0)
            return True
        retry_at = self.retry_at(row, number)
        if retry_at is not None:
            self._paused_until[subscription.id] = retry_at
        else:
            log.warning("webhooks: event %s to subscription %s is a dead letter after %d attempts",
                        row.idempotency_key, subscription.id, number)
        await asyncio.to_thread(self.store.failed, row.seq, self.owner, attempt.status, attempt.error or "", retry_at)
        return False

    def retry_at(self, row: OutboxRow, attempt: int) -> float | None:
        """When to try again, or None once past the retry window (a dead letter)."""
        s = self.settings
        at = time.time() + backoff(attempt, s.webhook_retry_base, s.webhook_retry_cap)
        return at if at <= row.created_at + s.webhook_retry_window else None

    async def post(self, url: str, headers: dict[str, str], data: bytes) -> Attempt:
        """One POST to the address ``url`` was just checked to resolve to (never a redirect's target)."""
        began, started = time.time(), time.perf_counter()
        status, error = None, None
        try:
            pinned = await (self.egress or Egress.from_settings(self.settings)).check(url)
            response = await asyncio.wait_for(
                self.client.post(pinned.url, content=data, headers={**headers, **pinned.headers},
                                 extensions=pinned.extensions),
                self.settings.webhook_delivery_timeout)
            status = response.status_code
            error = None if 200 <= status < 300 else f"the receiver answered {status}"
        except DestinationRefused as exc:
            error = f"delivery_url refused: {exc}"
        except (TimeoutError, httpx.HTTPError, OSError) as exc:
            error = f"timed out after {self.settings.webhook_delivery_timeout}s" \
                if isinstance(exc, asyncio.TimeoutError) else f"{type(exc).__name__}: {exc}"
        return Attempt(status, error, (time.perf_counter() - started) * 1000, began)

    def log_attempt(self, subscription: Subscription, row: OutboxRow, attempt: Attempt, secret: str) -> None:
        """The attempt in the request log: receiver status and time, the URL's query values and the secret hidden."""
        if self.request_log is None:
            return
        url = redacted_url(subscription.delivery_url)
        call = RawCall(call_id=f"{row.idempotency_key}:{row.attempts + 1}", method="POST", url=url.partition("?")[0],
                       query=[], status_code=attempt.status, body=None, duration_ms=attempt.duration_ms,
                       error=attempt.error, started_at=attempt.started)
        self.request_log.record(RequestRecord(
            request_id=call.call_id, app_id=subscription.app_id,
            consumer_id=str(row.payload.get("consumer_id", "")), service_id=str(row.payload.get("service_id", "")),
            operation="webhook.delivery", method="POST", path=url, status_code=attempt.status or 0,
            started=attempt.started, duration_ms=attempt.duration_ms, unified_api="webhook",
            error_type=None if attempt.ok else "WebhookDeliveryError", error_message=attempt.error,
            calls=[call], redactor=Redactor([secret]), base_url=url.partition("?")[0]))


def redacted_url(url: str) -> str:
    """``url`` as logged: every query value hidden (a receiver's URL often carries its own token), no fragment."""
    parts = urlsplit(url)
    query = "&".join(f"{name}={REDACTED}" for name, _ in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit(parts._replace(query=query, fragment=""))
