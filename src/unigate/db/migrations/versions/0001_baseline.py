"""Baseline: every table as of the legacy SQLite schema version 7 (apps, consumers, connections, vault_meta,
request_log, vault_generation and its triggers, vault_audit, connection_status, oauth_clients, oauth_flows,
webhook_subscriptions, webhook_watermarks, webhook_fingerprints, webhook_outbox, webhook_leases).

A vault made by the legacy migrations (``unigate.db.legacy``) is brought to version 7 by them and
stamped with this revision instead (``unigate.db.migrate``): its tables are these.

The tables are created from ``unigate.db.schema`` as it stands for this revision. A later migration that
changes a table must first freeze that table's revision-0001 shape here (tests/test_db_migrations.py fails
on a fresh database otherwise: this revision would create the new shape and the later one would fail).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from unigate.db.schema import GENERATION_TABLES, metadata

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


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind)
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
