"""``unigate webhooks ...`` (subscriptions, the outbox, dead letters, replay) and ``unigate worker``."""

from __future__ import annotations

import asyncio
import datetime
import signal
from typing import TYPE_CHECKING

import click
import orjson

from unigate.cli_common import configure_logging as _configure_logging
from unigate.cli_common import secret_key as _secret_key
from unigate.cli_common import settings as _settings
from unigate.db import DatabaseUnavailableError

if TYPE_CHECKING:
    from unigate.app import Gateway
    from unigate.webhooks.store import WebhookStore


def _store() -> WebhookStore:
    from unigate.vault.crypto import SecretBox
    from unigate.webhooks.store import WebhookStore

    try:
        return WebhookStore(_settings().database, SecretBox(_secret_key()))
    except DatabaseUnavailableError as exc:
        raise click.ClickException(str(exc)) from None


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@click.group()
def webhooks() -> None:
    """Webhook subscriptions, their outbox and dead letters (docs/webhooks.md)."""


@webhooks.command("list")
@click.option("--app", "app_id", default=None, help="only this app's subscriptions")
def list_subscriptions(app_id: str | None) -> None:
    """Subscriptions: id, app, status, events, delivery URL."""
    for s in _store().subscriptions(app_id):
        click.echo(f"{s.id}  {s.app_id}  {s.status:<8}  {','.join(s.events)}  {s.delivery_url}")


@webhooks.command("outbox")
@click.option("--subscription", default=None, help="only this subscription's rows")
@click.option("--dead", is_flag=True, help="only dead letters")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
def outbox(subscription: str | None, dead: bool, limit: int, as_json: bool) -> None:
    """Outbox rows, newest first: delivered, pending (next attempt) or dead."""
    for row in _store().outbox(subscription_id=subscription, dead=True if dead else None, limit=limit):
        if as_json:
            click.echo(orjson.dumps(row).decode())
            continue
        state = "delivered " + _when(row["delivered_at"]) if row["delivered_at"] else \
            "DEAD " + _when(row["dead_at"]) if row["dead_at"] else "next " + _when(row["next_attempt_at"])
        click.echo(f"{row['seq']:>6}  {row['subscription_id']}  {row['event_type']:<30}  attempts={row['attempts']}"
                   f"  {state}  {row['last_error'] or ''}")


@webhooks.command("replay")
@click.argument("seqs", nargs=-1, type=int)
@click.option("--subscription", default=None, help="replay this subscription's dead letters")
@click.option("--all", "everything", is_flag=True, help="replay every dead letter")
def replay(seqs: tuple[int, ...], subscription: str | None, everything: bool) -> None:
    """Requeue dead letters (by outbox seq, a subscription's, or --all); the running gateway delivers them
    with their original idempotency keys."""
    if not seqs and subscription is None and not everything:
        raise click.UsageError("name outbox seqs, --subscription ID or --all")
    count = _store().replay(seqs=list(seqs) or None, subscription_id=subscription)
    click.echo(f"{count} dead letter(s) requeued")


@webhooks.command("rotate-secret")
@click.argument("subscription_id")
def rotate_secret(subscription_id: str) -> None:
    """Give a subscription a new signing secret (printed once)."""
    from unigate.webhooks.store import WebhookNotFound

    try:
        click.echo(_store().rotate_secret(subscription_id))
    except WebhookNotFound:
        raise click.ClickException(f"no webhook subscription {subscription_id!r}") from None


@click.command()
@click.option("--engine", type=click.Choice(["embedded", "procrastinate"]), default="embedded", show_default=True,
              help="embedded: the runner of `unigate serve` without HTTP (one leader through the vault); "
                   "procrastinate: jobs on a Postgres queue, any number of workers (extra `worker`)")
@click.option("--dsn", envvar="UNIGATE_WORKER_DSN", show_envvar=True, default=None,
              help="Postgres connection string of the procrastinate queue")
def worker(engine: str, dsn: str | None) -> None:
    """Poll and deliver webhooks without serving HTTP (run `unigate serve` with UNIGATE_WEBHOOKS=off beside it).
    docs/webhooks.md: running big."""
    from unigate.app import build_gateway

    if engine == "procrastinate" and not dsn:
        raise click.UsageError("--engine procrastinate needs --dsn or UNIGATE_WORKER_DSN (a Postgres database)")
    if engine == "procrastinate":
        try:
            import procrastinate  # noqa: F401
        except ImportError:
            raise click.ClickException("--engine procrastinate needs the `worker` extra: "
                                       "pip install 'unigate[worker]'") from None
    settings = _settings()
    _configure_logging(settings.log_level, settings.log_format)
    gateway = build_gateway(settings, _secret_key())
    asyncio.run(_work(gateway, engine, dsn))


async def _work(gateway: Gateway, engine: str, dsn: str | None) -> None:
    from unigate.webhooks.runner import WebhookRunner

    assert gateway.webhook_store is not None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    click.echo(f"unigate worker ({engine}) polling every {gateway.settings.webhook_poll_interval:g}s; "
               "Press Ctrl+C to stop")
    if engine == "procrastinate":
        from unigate.webhooks import jobs

        await jobs.run(gateway, dsn or "", stop)
    else:
        runner = WebhookRunner(gateway, gateway.webhook_store).start()
        await stop.wait()
        await runner.stop()
    await gateway.pool.aclose()
    gateway.request_log.close()
