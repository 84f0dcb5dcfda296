"""Running big: the poller and the dispatcher as procrastinate jobs (Postgres), for ``unigate worker
--engine procrastinate``.

Why procrastinate: it is a job queue on Postgres only (no broker to run beside it), with what this
needs built in and tested elsewhere: **locks** (a job with ``lock=X`` never runs while another with
``X`` runs: one poll per connection, one delivery task per subscription, so a subscription's events
stay in order), **queueing locks** (at most one waiting job per key: a slow tracker cannot pile up
polls), **periodic tasks** deferred once per tick whatever the number of workers, retries, and
stalled-job recovery. arq (Redis) has no locks of this kind and periodic jobs per worker process;
Celery needs a broker and a beat process. Nothing here is a scheduler of our own: procrastinate
decides which worker runs what; unigate's code is the same ``Poller`` and ``Deliverer`` the
embedded runner uses, and the outbox keeps its leases, so a job run twice delivers nothing twice.

Jobs (queue ``webhooks``):

- ``unigate.webhooks.schedule`` (periodic, every ``webhook_poll_interval`` seconds, between 1 and 5): defers a poll for each polled
  connection not polled for ``webhook_poll_interval`` seconds, and a delivery for each subscription
  with due outbox rows;
- ``unigate.webhooks.poll(connection_id)``: one poll cycle (lock and queueing lock ``poll:<id>``);
- ``unigate.webhooks.deliver(subscription_id)``: its due rows, in order (lock ``deliver:<id>``).

The vault (SQLite) stays where it is: workers on the gateway's host share it, as ``unigate serve``
workers do. ``UNIGATE_WORKER_DSN`` names the Postgres database of the queue (its schema is applied
on start).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued

from unigate.webhooks.runner import owner_id, polled_connections

if TYPE_CHECKING:
    from unigate.app import Gateway

log = logging.getLogger("unigate.webhooks")
QUEUE = "webhooks"


class WorkerContext:
    """What every job of this process shares: the gateway (vault, connectors, downstream pool)."""

    def __init__(self, gateway: Gateway) -> None:
        from unigate.webhooks.delivery import Deliverer
        from unigate.webhooks.poller import Poller

        assert gateway.webhook_store is not None
        self.gateway = gateway
        self.store = gateway.webhook_store
        self.poller = Poller(gateway.dispatcher, self.store, gateway.settings)
        self.deliverer = Deliverer(self.store, gateway.settings, owner_id(), gateway.request_log, gateway.webhook_egress)


def build_app(dsn: str, context: WorkerContext) -> procrastinate.App:
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=dsn))
    every = max(1, min(5, int(context.gateway.settings.webhook_poll_interval)))

    @app.periodic(cron=f"* * * * * */{every}", periodic_id="webhooks")
    @app.task(name="unigate.webhooks.schedule", queue=QUEUE, queueing_lock="webhooks-schedule")
    async def schedule(timestamp: int) -> None:
        await defer_due(context, poll, deliver)

    @app.task(name="unigate.webhooks.poll", queue=QUEUE)
    async def poll(connection_id: str) -> None:
        await poll_one(context, connection_id)

    @app.task(name="unigate.webhooks.deliver", queue=QUEUE)
    async def deliver(subscription_id: str) -> None:
        await context.deliverer.serve(subscription_id)

    return app


async def defer_due(context: WorkerContext, poll: Any, deliver: Any) -> None:
    """Defer the polls and deliveries that are due; one waiting job per connection or subscription."""
    interval = context.gateway.settings.webhook_poll_interval
    for connection in await asyncio.to_thread(polled_connections, context.gateway, context.store):
        last = await asyncio.to_thread(context.store.last_polled, connection.id)
        if last is None or time.time() - last >= interval:
            await _defer(poll, f"poll:{connection.id}", connection_id=connection.id)
    for sub_id in await asyncio.to_thread(context.store.due_subscriptions, time.time()):
        await _defer(deliver, f"deliver:{sub_id}", subscription_id=sub_id)


async def _defer(task: Any, key: str, **kwargs: str) -> None:
    with contextlib.suppress(AlreadyEnqueued):   # one is already waiting
        await task.configure(lock=key, queueing_lock=key).defer_async(**kwargs)


async def poll_one(context: WorkerContext, connection_id: str) -> None:
    connection = await asyncio.to_thread(context.gateway.store.get_connection, connection_id)
    subscriptions = [s for s in await asyncio.to_thread(context.store.subscriptions, connection.app_id) if s.enabled]
    report = await context.poller.poll_connection(connection, subscriptions)
    log.info("webhooks: polled %s (%s): %d calls, %d events", connection_id, report.mode, report.calls, report.events)


async def run(gateway: Gateway, dsn: str, stop: asyncio.Event) -> None:
    """Apply the queue's schema if new, then work the ``webhooks`` queue until ``stop``."""
    context = WorkerContext(gateway)
    app = build_app(dsn, context)
    async with app.open_async():
        await _apply_schema(app)
        worker = asyncio.create_task(app.run_worker_async(
            queues=[QUEUE], wait=True, install_signal_handlers=False,
            concurrency=gateway.settings.webhook_max_deliveries))
        await stop.wait()
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    await context.deliverer.aclose()


async def _apply_schema(app: procrastinate.App) -> None:
    async with app.connector.pool.connection() as connection:  # type: ignore[attr-defined]
        found = await (await connection.execute("SELECT to_regclass('procrastinate_jobs')")).fetchone()
    if found is None or found[0] is None:
        try:
            await app.schema_manager.apply_schema_async()
        except Exception:
            async with app.connector.pool.connection() as connection:  # type: ignore[attr-defined]
                found = await (await connection.execute("SELECT to_regclass('procrastinate_jobs')")).fetchone()
            if found is None or found[0] is None:
                raise
