"""Every table of the gateway's database as SQLAlchemy Core ``Table`` objects (the current shape; the
Alembic migrations in ``unigate.db.migrations`` build it, on SQLite and PostgreSQL alike).

Types are the portable ones: ``Text`` (JSON documents are stored as text, as they always were),
``Integer`` (booleans are 0/1, as they always were), ``LargeBinary`` for sealed secrets (BLOB / bytea),
``Float`` for epoch seconds (REAL / double precision). Timestamps shown to people are ISO-8601 text
written by :func:`utc_now` (``2026-01-01T00:00:00Z``) or :func:`utc_now_ms` (with milliseconds).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

metadata = MetaData()

# INTEGER PRIMARY KEY AUTOINCREMENT on SQLite (never reused: pagers rely on it), bigint identity on PostgreSQL
Sequence = BigInteger().with_variant(Integer(), "sqlite")


class utc_now(FunctionElement[str]):
    """Now, UTC, as ISO-8601 text to the second (``2026-01-01T00:00:00Z``), computed by the database."""

    type = Text()
    inherit_cache = True
    fraction = False


class utc_now_ms(utc_now):
    """Now, UTC, as ISO-8601 text with milliseconds (``2026-01-01T00:00:00.123Z``)."""

    inherit_cache = True
    fraction = True


@compiles(utc_now, "sqlite")
def _utc_now_sqlite(element: utc_now, compiler: SQLCompiler, **kw: Any) -> str:
    return "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')" if element.fraction else "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"


@compiles(utc_now, "postgresql")
def _utc_now_postgresql(element: utc_now, compiler: SQLCompiler, **kw: Any) -> str:
    pattern = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"' if element.fraction else 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
    return f"to_char(clock_timestamp() AT TIME ZONE 'UTC', '{pattern}')"


def _created() -> Column[str]:
    return Column("created_at", Text, nullable=False, server_default=utc_now())


apps = Table(
    "apps", metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("api_key_hash", Text, nullable=False),
    _created(),
    Column("request_log", Integer, nullable=False, server_default=text("1")),
    Column("strict", Integer, nullable=False, server_default=text("0")),
    # the connectors the app offers its consumers, a JSON list of service ids; NULL: every installed one
    Column("services", Text),
)

consumers = Table(
    "consumers", metadata,
    Column("app_id", Text, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("id", Text, nullable=False),
    Column("metadata", Text, nullable=False, server_default="{}"),
    _created(),
    Column("updated_at", Text),
    PrimaryKeyConstraint("app_id", "id"),
)

connections = Table(
    "connections", metadata,
    Column("id", Text, primary_key=True),
    Column("app_id", Text, nullable=False),
    Column("consumer_id", Text, nullable=False),
    Column("service_id", Text, nullable=False),
    Column("unified_api", Text, nullable=False, server_default="issue-tracking"),
    Column("enabled", Integer, nullable=False, server_default=text("1")),
    Column("settings", Text, nullable=False, server_default="{}"),
    Column("credentials", LargeBinary, nullable=False),
    Column("custom_mappings", Text, nullable=False, server_default="{}"),
    Column("revision", Integer, nullable=False, server_default=text("1")),
    _created(),
    Column("updated_at", Text, nullable=False, server_default=utc_now()),
    ForeignKeyConstraint(["app_id", "consumer_id"], ["consumers.app_id", "consumers.id"], ondelete="CASCADE"),
    UniqueConstraint("app_id", "consumer_id", "unified_api", "service_id"),
)

# `key_check` holds a known token sealed with the master key (a wrong key is refused at open)
vault_meta = Table(
    "vault_meta", metadata,
    Column("name", Text, primary_key=True),
    Column("value", LargeBinary, nullable=False),
)

# one row; triggers add 1 on every change to apps, consumers, connections and vault_meta, whichever
# process makes it, so a read cache can tell a vault change from a request-log commit
vault_generation = Table(
    "vault_generation", metadata,
    Column("n", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
)
GENERATION_TABLES = ("apps", "consumers", "connections", "vault_meta")

request_log = Table(
    "request_log", metadata,
    Column("seq", Sequence, primary_key=True, autoincrement=True),
    Column("id", Text, nullable=False),
    Column("ts", Float, nullable=False),
    Column("app_id", Text, nullable=False),
    Column("consumer_id", Text, nullable=False),
    Column("service_id", Text, nullable=False),
    Column("service_name", Text, nullable=False),
    Column("unified_api", Text, nullable=False),
    Column("operation", Text, nullable=False),
    Column("http_method", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("base_url", Text, nullable=False),
    Column("source_ip", Text),
    Column("status_code", Integer, nullable=False),
    Column("error_type", Text),
    Column("error_message", Text),
    Column("execution_ms", Float, nullable=False),
    Column("downstream_ms", Float, nullable=False),
    Column("calls", Text, nullable=False, server_default="[]"),
    Index("request_log_app", "app_id", "consumer_id", "seq"),
    Index("request_log_ts", "ts"),
    sqlite_autoincrement=True,
)

vault_audit = Table(
    "vault_audit", metadata,
    Column("seq", Sequence, primary_key=True, autoincrement=True),
    Column("ts", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("key_id", Text),
    Column("app_id", Text),
    Column("consumer_id", Text),
    Column("service_id", Text),
    Column("target", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("changes", Text, nullable=False, server_default="{}"),
    Index("vault_audit_app", "app_id", "seq"),
    sqlite_autoincrement=True,
)

connection_status = Table(
    "connection_status", metadata,
    Column("connection_id", Text, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True),
    Column("metadata", Text, nullable=False, server_default="{}"),
    Column("state", Text),
    Column("state_detail", Text),
    Column("checked_at", Text),
)

oauth_clients = Table(
    "oauth_clients", metadata,
    Column("app_id", Text, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("service_id", Text, nullable=False),
    Column("client_id", Text, nullable=False),
    Column("client_secret", LargeBinary, nullable=False),
    Column("redirect_uris", Text, nullable=False, server_default="[]"),
    Column("scopes", Text),
    Column("updated_at", Text, nullable=False, server_default=utc_now()),
    PrimaryKeyConstraint("app_id", "service_id"),
)

oauth_flows = Table(
    "oauth_flows", metadata,
    Column("id", Text, primary_key=True),
    Column("app_id", Text, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("consumer_id", Text, nullable=False),
    Column("service_id", Text, nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("callback_uri", Text, nullable=False),
    Column("verifier", LargeBinary, nullable=False),
    Column("expires_at", Float, nullable=False),
)

webhook_subscriptions = Table(
    "webhook_subscriptions", metadata,
    Column("id", Text, primary_key=True),
    Column("app_id", Text, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("description", Text),
    Column("unified_api", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("disabled_reason", Text),
    Column("delivery_url", Text, nullable=False),
    Column("events", Text, nullable=False),
    Column("secret", LargeBinary, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Index("webhook_subscriptions_app", "app_id", "id"),
)

webhook_watermarks = Table(
    "webhook_watermarks", metadata,
    Column("connection_id", Text, ForeignKey("connections.id", ondelete="CASCADE"), nullable=False),
    Column("collection_id", Text, nullable=False),
    Column("watermark", Text),
    Column("cycles", Integer, nullable=False, server_default=text("0")),
    Column("polled_at", Float),
    PrimaryKeyConstraint("connection_id", "collection_id"),
)

webhook_fingerprints = Table(
    "webhook_fingerprints", metadata,
    Column("connection_id", Text, nullable=False),
    Column("collection_id", Text, nullable=False),
    Column("entity_id", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    PrimaryKeyConstraint("connection_id", "collection_id", "entity_id"),
    ForeignKeyConstraint(["connection_id", "collection_id"],
                         ["webhook_watermarks.connection_id", "webhook_watermarks.collection_id"], ondelete="CASCADE"),
    sqlite_with_rowid=False,
)

_PENDING = "delivered_at IS NULL AND dead_at IS NULL"
webhook_outbox = Table(
    "webhook_outbox", metadata,
    Column("seq", Sequence, primary_key=True, autoincrement=True),
    Column("subscription_id", Text, ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False),
    Column("idempotency_key", Text, nullable=False, unique=True),
    Column("event_type", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", Float, nullable=False),
    Column("lease_owner", Text),
    Column("lease_until", Float),
    Column("delivered_at", Float),
    Column("dead_at", Float),
    Column("last_status", Integer),
    Column("last_error", Text),
    Index("webhook_outbox_due", "next_attempt_at", sqlite_where=text(_PENDING), postgresql_where=text(_PENDING)),
    Index("webhook_outbox_dead", "subscription_id", "dead_at", sqlite_where=text("dead_at IS NOT NULL"),
          postgresql_where=text("dead_at IS NOT NULL")),
    sqlite_autoincrement=True,
)

webhook_leases = Table(
    "webhook_leases", metadata,
    Column("name", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("until", Float, nullable=False),
)
