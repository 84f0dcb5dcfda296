"""Baseline: every table as of the legacy SQLite schema version 7 (apps, consumers, connections, vault_meta,
request_log, vault_generation and its triggers, vault_audit, connection_status, oauth_clients, oauth_flows,
webhook_subscriptions, webhook_watermarks, webhook_fingerprints, webhook_outbox, webhook_leases).

A vault made by the legacy migrations (``unigate.db.legacy``) is brought to version 7 by them and
stamped with this revision instead (``unigate.db.migrate``): its tables are these.

The tables are created from ``unigate.db.schema``, except those a later revision changed, whose revision-0001
shape is frozen here (``_FROZEN``: ``apps``, changed by 0002). A later migration that changes a table must first
freeze that table here (tests/test_db.py fails on a fresh database otherwise: this revision would create the new
shape and the later one would fail).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Column, Integer, MetaData, Table, Text, text

from unigate.db.schema import GENERATION_TABLES, metadata, utc_now

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_PG_BUMP = """
CREATE FUNCTION vault_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE vault_generation SET n = n + 1;
    PERFORM pg_notify('unigate_vault', '');
    RETURN NULL;
END $$
"""


# tables as this revision made them, where a later revision changed them (0002: apps.services)
_FROZEN = MetaData()
Table(
    "apps", _FROZEN,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("api_key_hash", Text, nullable=False),
    Column("created_at", Text, nullable=False, server_default=utc_now()),
    Column("request_log", Integer, nullable=False, server_default=text("1")),
    Column("strict", Integer, nullable=False, server_default=text("0")),
)


def upgrade() -> None:
    bind = op.get_bind()
    _FROZEN.create_all(bind)
    metadata.create_all(bind, tables=[t for t in metadata.sorted_tables if t.name not in _FROZEN.tables])
    op.execute("INSERT INTO vault_generation (n) VALUES (0)")
    if bind.dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        op.execute(_PG_BUMP)
        for table in GENERATION_TABLES:
            op.execute(f"CREATE TRIGGER {table}_generation AFTER INSERT OR UPDATE OR DELETE ON {table}"
                       " FOR EACH STATEMENT EXECUTE FUNCTION vault_generation_bump()")


def _sqlite_triggers() -> None:
    """The legacy schema's triggers, by the same names (a stamped legacy vault has exactly these)."""
    for table in GENERATION_TABLES:
        events = (("ins", "INSERT"), ("upd", "UPDATE")) if table == "vault_meta" else \
            (("ins", "INSERT"), ("upd", "UPDATE"), ("del", "DELETE"))
        for suffix, what in events:
            op.execute(f"CREATE TRIGGER {table}_{suffix} AFTER {what} ON {table} BEGIN"
                       " UPDATE vault_generation SET n = n + 1; END")
