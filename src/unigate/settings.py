"""Gateway settings from the environment (``UNIGATE_*``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from unigate.db.url import parse_database


@dataclass(frozen=True)
class Settings:
    # UNIGATE_DATABASE: an SQLite file (a Path) or a PostgreSQL URL (a str); anything else is refused
    database: Path | str = Path(".unigate/vault.db")
    host: str = "127.0.0.1"
    port: int = 8080
    log_level: str = "info"
    transport: str = "aiohttp"   # downstream HTTP transport: aiohttp (default) or httpx
    public_url: str | None = None  # base of `links` in list responses; default: see trusted_hosts
    # Host header values `links` may be built from when public_url is unset; any other Host gets
    # links relative to the server (a Host header is the client's to choose, so never trusted blindly)
    trusted_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
    # downstream limits (unigate.downstream.pool.CallLimits)
    max_downstream_body: int = 32 * 1024 * 1024  # bytes of one tracker answer, decoded; past it: 502
    max_calls_per_connection: int = 16           # downstream calls in flight per connection (bulkhead)
    call_queue_timeout: float = 5.0              # seconds a call waits for its connection's slot; then 429
    # downstream rate-limit governance (unigate.downstream.limiter)
    rate_limit_wait: float = 10.0                # seconds a call may wait for its tracker account's budget; then 429
    redis_url: str | None = None                 # UNIGATE_REDIS_URL: budgets shared by every process; unset: this one only
    redis_prefix: str = "unigate:budget:"        # UNIGATE_REDIS_PREFIX: the budgets' Redis keys start with this
    connection_cache: int = 1024                 # connections whose state is kept (unigate.connection_state)
    # observability (unigate.observability)
    request_log: bool = True         # UNIGATE_REQUEST_LOG=off: no request is recorded (per app: app-update --no-logs)
    # UNIGATE_REQUEST_LOG_WRITER: "process" (a child process writes the log, off the request path's
    # interpreter lock) or "thread" (a thread of the gateway's process: no process to start)
    request_log_writer: str = "process"
    log_retention_days: float = 14.0  # request log rows older than this are deleted
    log_max_rows: int = 100_000       # and only the newest this many are kept
    log_format: str = "text"          # UNIGATE_LOG_FORMAT: text or json (one object per line)
    metrics: bool = True              # UNIGATE_METRICS=off: no /metrics
    tracing: bool = False             # UNIGATE_TRACING=on: an OpenTelemetry span per downstream call (extra `otel`)
    # webhooks (unigate.webhooks): the embedded poller and dispatcher of `unigate serve`
    webhooks: bool = True                    # UNIGATE_WEBHOOKS=off: neither runs in this process (`unigate worker` may)
    webhook_poll_interval: float = 300.0     # seconds between polls of a connection with subscribers
    webhook_delete_scan_every: int = 12      # native since: a full id scan (deletes) every this many polls
    webhook_scan_max_records: int = 50_000   # a full scan stops here (deletes are then not detected)
    webhook_page_size: int = 100             # limit of each list call the poller makes
    webhook_calls_per_minute: float = 60.0   # downstream calls the poller makes per connection per minute
    webhook_delivery_timeout: float = 30.0   # seconds a receiver has to answer one delivery
    webhook_retry_base: float = 10.0         # first retry after about this many seconds, then doubling
    webhook_retry_cap: float = 3600.0        # ... up to this many seconds between attempts
    webhook_retry_window: float = 86400.0    # failing this long after the event: dead letter
    webhook_max_deliveries: int = 32         # deliveries in flight at once (one per subscription)
    webhook_lease: float = 60.0              # seconds a claimed outbox row or the leader lease is held
    # delivery URLs beyond the public internet (unigate.webhooks.destination): "*" any private address,
    # else host names and CIDRs; UNIGATE_WEBHOOK_ALLOW_PRIVATE=1 (or on, *) or a comma-separated list
    webhook_allow_private: tuple[str, ...] = ()
    # UNIGATE_OAUTH_ORIGINS="https://auth.atlassian.com=http://10.0.0.5:8080,...": the OAuth2 endpoints
    # (authorize, token, post-token) of a manifest reached at another origin (an egress proxy, a simulator)
    oauth_origins: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else env
        return cls(
            database=_database(env.get("UNIGATE_DATABASE") or str(cls.database)),
            host=env.get("UNIGATE_HOST", cls.host),
            port=int(env.get("UNIGATE_PORT", cls.port)),
            log_level=env.get("UNIGATE_LOG_LEVEL", cls.log_level),
            transport=env.get("UNIGATE_TRANSPORT", cls.transport),
            public_url=env.get("UNIGATE_PUBLIC_URL") or None,
            trusted_hosts=tuple(h.strip().lower() for h in env["UNIGATE_TRUSTED_HOSTS"].split(",") if h.strip())
            if "UNIGATE_TRUSTED_HOSTS" in env else cls.trusted_hosts,
            max_downstream_body=int(env.get("UNIGATE_MAX_DOWNSTREAM_BODY", cls.max_downstream_body)),
            max_calls_per_connection=int(env.get("UNIGATE_MAX_CALLS_PER_CONNECTION", cls.max_calls_per_connection)),
            call_queue_timeout=float(env.get("UNIGATE_CALL_QUEUE_TIMEOUT", cls.call_queue_timeout)),
            rate_limit_wait=float(env.get("UNIGATE_RATE_LIMIT_WAIT", cls.rate_limit_wait)),
            redis_url=env.get("UNIGATE_REDIS_URL") or None,
            redis_prefix=env.get("UNIGATE_REDIS_PREFIX", cls.redis_prefix),
            connection_cache=int(env.get("UNIGATE_CONNECTION_CACHE", cls.connection_cache)),
            request_log=_switch(env.get("UNIGATE_REQUEST_LOG"), cls.request_log),
            request_log_writer=_log_writer(env.get("UNIGATE_REQUEST_LOG_WRITER", cls.request_log_writer)),
            log_retention_days=float(env.get("UNIGATE_LOG_RETENTION_DAYS", cls.log_retention_days)),
            log_max_rows=int(env.get("UNIGATE_LOG_MAX_ROWS", cls.log_max_rows)),
            log_format=env.get("UNIGATE_LOG_FORMAT", cls.log_format).strip().lower(),
            metrics=_switch(env.get("UNIGATE_METRICS"), cls.metrics),
            tracing=_switch(env.get("UNIGATE_TRACING"), cls.tracing),
            webhooks=_switch(env.get("UNIGATE_WEBHOOKS"), cls.webhooks),
            webhook_poll_interval=float(env.get("UNIGATE_WEBHOOK_POLL_INTERVAL", cls.webhook_poll_interval)),
            webhook_delete_scan_every=int(env.get("UNIGATE_WEBHOOK_DELETE_SCAN_EVERY", cls.webhook_delete_scan_every)),
            webhook_scan_max_records=int(env.get("UNIGATE_WEBHOOK_SCAN_MAX_RECORDS", cls.webhook_scan_max_records)),
            webhook_page_size=int(env.get("UNIGATE_WEBHOOK_PAGE_SIZE", cls.webhook_page_size)),
            webhook_calls_per_minute=float(env.get("UNIGATE_WEBHOOK_CALLS_PER_MINUTE", cls.webhook_calls_per_minute)),
            webhook_delivery_timeout=float(env.get("UNIGATE_WEBHOOK_DELIVERY_TIMEOUT", cls.webhook_delivery_timeout)),
            webhook_retry_base=float(env.get("UNIGATE_WEBHOOK_RETRY_BASE", cls.webhook_retry_base)),
            webhook_retry_cap=float(env.get("UNIGATE_WEBHOOK_RETRY_CAP", cls.webhook_retry_cap)),
            webhook_retry_window=float(env.get("UNIGATE_WEBHOOK_RETRY_WINDOW", cls.webhook_retry_window)),
            webhook_max_deliveries=int(env.get("UNIGATE_WEBHOOK_MAX_DELIVERIES", cls.webhook_max_deliveries)),
            webhook_lease=float(env.get("UNIGATE_WEBHOOK_LEASE", cls.webhook_lease)),
            webhook_allow_private=_allowed(env.get("UNIGATE_WEBHOOK_ALLOW_PRIVATE", "")),
            oauth_origins=_origins(env.get("UNIGATE_OAUTH_ORIGINS", "")),
        )


def _database(value: str) -> Path | str:
    """An SQLite file as its path (``sqlite:///x.db`` too), a PostgreSQL URL as given; else
    ``UnsupportedDatabaseError``."""
    parsed = parse_database(value)
    return parsed.path if parsed.path is not None else value.strip()


def _log_writer(value: str) -> str:
    writer = value.strip().lower()
    if writer not in ("process", "thread"):
        raise ValueError(f"UNIGATE_REQUEST_LOG_WRITER must be process or thread, not {value!r}")
    return writer


def _allowed(value: str) -> tuple[str, ...]:
    """``1``/``on``/``true``/``yes``/``*``: any private address (``("*",)``); else the listed hosts and CIDRs."""
    text = value.strip().lower()
    if text in ("on", "true", "1", "yes", "*"):
        return ("*",)
    if text in ("off", "false", "0", "no"):
        return ()
    return tuple(entry.strip() for entry in text.split(",") if entry.strip())


def _origins(value: str) -> tuple[tuple[str, str], ...]:
    """``origin=replacement`` pairs, comma-separated (each an ``http(s)://host[:port]``)."""
    pairs = []
    for item in (part.strip() for part in value.split(",")):
        origin, sep, replacement = item.partition("=")
        if not item:
            continue
        if not sep or not origin.startswith(("http://", "https://")) or not replacement.startswith(("http://", "https://")):
            raise ValueError(f"UNIGATE_OAUTH_ORIGINS: expected origin=replacement, got {item!r}")
        pairs.append((origin.strip().rstrip("/"), replacement.strip().rstrip("/")))
    return tuple(pairs)


def _switch(value: str | None, default: bool) -> bool:
    """``on``/``off`` (also true/false, 1/0, yes/no); unset or empty: the default."""
    if value is None or not value.strip():
        return default
    text = value.strip().lower()
    if text in ("on", "true", "1", "yes"):
        return True
    if text in ("off", "false", "0", "no"):
        return False
    raise ValueError(f"expected on or off, got {value!r}")

