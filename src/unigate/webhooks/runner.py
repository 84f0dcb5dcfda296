"""The embedded runner: poller and dispatcher inside ``unigate serve``, one leader at a time.

Every gateway process sharing a vault runs a :class:`WebhookRunner`; only the holder of the lease
``webhooks-leader`` in ``webhook_leases`` polls and delivers. The leader renews the lease every
tick; if it dies, another process takes over once the lease (``webhook_lease`` seconds) has run
out. Outbox rows are claimed with their own leases, so even two leaders at once (a clock jump)
would not deliver a row twice within a lease.

Each connection of an app with an enabled subscription is polled every ``webhook_poll_interval``
seconds in its own task (a slow tracker never delays another's poll); deliveries run per
subscription (:class:`~unigate.webhooks.delivery.Deliverer`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from unigate.webhooks.delivery import Deliverer, _forget
from unigate.webhooks.poller import CycleReport, Poller
from unigate.webhooks.store import WebhookStore

if TYPE_CHECKING:
    from unigate.app import Gateway
    from unigate.vault.models import Connection

log = logging.getLogger("unigate.webhooks")
LEADER = "webhooks-leader"


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"


@dataclass
class WebhookRunner:
    gateway: Gateway
    store: WebhookStore
    owner: str = field(default_factory=owner_id)
    poller: Poller = field(init=False)
    deliverer: Deliverer = field(init=False)
    reports: list[CycleReport] = field(default_factory=list)   # the latest polls (tests, bench)
    _next_poll: dict[str, float] = field(default_factory=dict)
    _polling: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _pruned_at: float = 0.0
    leader: bool = False

    def __post_init__(self) -> None:
        settings = self.gateway.settings
        self.poller = Poller(self.gateway.dispatcher, self.store, settings)
        self.deliverer = Deliverer(self.store, settings, self.owner, self.gateway.request_log, self.gateway.webhook_egress)

    @property
    def tick_seconds(self) -> float:
        return max(0.02, min(1.0, self.gateway.settings.webhook_poll_interval / 4))

    def start(self) -> WebhookRunner:
        self._task = asyncio.create_task(self._run(), name="unigate-webhooks")
        return self

    async def stop(self) -> None:
        """Stop polling and delivering; what is under way is cancelled (its rows' leases run out)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for task in list(self._polling.values()):
            task.cancel()
        await asyncio.gather(*self._polling.values(), return_exceptions=True)
        await self.deliverer.aclose()
        if self.leader:
            await asyncio.to_thread(self.store.release_lease, LEADER, self.owner)

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhooks: tick failed")
            await asyncio.sleep(self.tick_seconds)

    async def tick(self) -> None:
        """Renew leadership; as leader, start due polls and deliveries. Nothing subscribed, nothing queued: idle
        (no lease taken, no write)."""
        if not await asyncio.to_thread(self.store.has_work):
            return
        ttl = self.gateway.settings.webhook_lease
        self.leader = await asyncio.to_thread(self.store.acquire, LEADER, self.owner, ttl)
        if not self.leader:
            return
        await self.start_polls()
        await self.deliverer.tick()
        await self.prune()

    async def prune(self) -> None:
        """At most once a minute: forget rows delivered longer ago than the request log's retention."""
        if time.monotonic() - self._pruned_at < 60:
            return
        self._pruned_at = time.monotonic()
        days = self.gateway.settings.log_retention_days
        await asyncio.to_thread(self.store.prune, time.time() - days * 86400)

    async def start_polls(self) -> None:
        now = time.monotonic()
        for connection in await asyncio.to_thread(self.polled_connections):
            if connection.id in self._polling or self._next_poll.get(connection.id, 0) > now:
                continue
            self._next_poll[connection.id] = now + self.gateway.settings.webhook_poll_interval
            task = asyncio.create_task(self.poll(connection), name=f"webhook-poll-{connection.id}")
            self._polling[connection.id] = task
            task.add_done_callback(functools.partial(_forget, self._polling, connection.id))

    def polled_connections(self) -> list[Connection]:
        return polled_connections(self.gateway, self.store)

    async def poll(self, connection: Connection) -> None:
        try:
            subscriptions = await asyncio.to_thread(self.store.subscriptions, connection.app_id)
            report = await self.poller.poll_connection(connection, [s for s in subscriptions if s.enabled])
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a tracker failing is logged; the next cycle tries again
            log.warning("webhooks: polling connection %s (%s) failed: %s", connection.id, connection.service_id, exc)
            return
        self.reports = [*self.reports[-99:], report]
        if report.events:
            await self.deliverer.tick()   # deliver now, not at the next tick


def polled_connections(gateway: Gateway, store: WebhookStore) -> list[Connection]:
    """Enabled issue-tracking connections, with an installed connector, of apps with a subscriber."""
    found = []
    for app_id in store.enabled_apps():
        found += [c for c in gateway.store.list_connections(app_id)
                  if c.enabled and c.unified_api == "issue-tracking" and c.service_id in gateway.registry.connectors]
    return found
