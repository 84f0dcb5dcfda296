"""The gateway's database, SQLite or PostgreSQL, through SQLAlchemy Core and Alembic.

Contract for every store (the vault, the request log, the webhook store and outbox):

- ``parse_database(UNIGATE_DATABASE)`` -> ``DatabaseURL`` (``backend`` ``sqlite``/``postgresql``, ``path`` of an
  SQLite file or ``:memory:``); an unsupported value raises ``UnsupportedDatabaseError`` (a ``ValueError``).
- ``open_database(value)`` -> an ``Engine`` migrated to the newest revision (``create_engine`` + ``upgrade``):
  every connection is autocommit at the driver; SQLite files are created 0600 with foreign keys, WAL and a
  10 s busy timeout; PostgreSQL goes through psycopg 3 with a small pool.
- Write with ``with write(engine) as conn:`` (or ``with transaction(conn):`` on a connection you hold):
  ``BEGIN IMMEDIATE`` on SQLite, ``BEGIN`` on PostgreSQL, committed at the end, rolled back on an exception.
  Read-modify-write: ``select(...).with_for_update()`` inside it (row locks on PostgreSQL; SQLite already
  holds the file's write lock). A lone read: ``with engine.connect() as conn:``.
- Tables are ``unigate.db.schema`` (``schema.request_log``, ``schema.webhook_outbox``, ...); timestamps as
  text with ``schema.utc_now()`` / ``schema.utc_now_ms()``; write portable Core (``insert(...).returning``,
  ``upsert(conn, table).values(...).on_conflict_do_update(...)``), not SQLite strings.
- Schema changes are new Alembic revisions in ``unigate/db/migrations/versions`` (never edit a released one).
- ``vault_generation.n`` grows with every change to apps, consumers, connections and vault_meta (triggers; on
  PostgreSQL each such statement also sends NOTIFY ``unigate_vault``): how a read cache sees other processes.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from unigate.db.engine import create_engine, is_sqlite, transaction, upsert, write
from unigate.db.migrate import SchemaTooNewError, upgrade
from unigate.db.url import DatabaseURL, UnsupportedDatabaseError, parse_database

__all__ = [
    "DatabaseURL",
    "DatabaseUnavailableError",
    "SchemaTooNewError",
    "UnsupportedDatabaseError",
    "create_engine",
    "is_sqlite",
    "open_database",
    "parse_database",
    "transaction",
    "upgrade",
    "upsert",
    "write",
]


class DatabaseUnavailableError(RuntimeError):
    """The database cannot be reached (a server down, a wrong host, password or database name)."""


def open_database(target: DatabaseURL | str | Path, *, pool_size: int = 5) -> Engine:
    """An engine on ``target`` with the schema migrated to the newest revision; ``DatabaseUnavailableError``
    (a sentence naming the database, never its password) when it cannot be reached."""
    db = target if isinstance(target, DatabaseURL) else parse_database(target)
    engine = create_engine(db, pool_size=pool_size)
    try:
        upgrade(engine)
    except OperationalError as exc:
        engine.dispose()
        raise DatabaseUnavailableError(f"cannot use the database {db} (UNIGATE_DATABASE): "
                                       f"{str(exc.orig).strip()}") from None
    except BaseException:
        engine.dispose()
        raise
    return engine
