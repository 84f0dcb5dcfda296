"""Alembic's environment for unigate's own migrations, run by ``unigate.db.migrate.upgrade`` only: the
connection (already inside the caller's transaction) comes in ``config.attributes["connection"]``."""

from __future__ import annotations

from alembic import context

from unigate.db.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, transaction_per_migration=False,
                  transactional_ddl=False)  # the caller's BEGIN ... COMMIT holds all of it
context.run_migrations()
