"""Bring a database to the newest schema: Alembic revisions shipped in ``unigate.db.migrations`` (no
``alembic.ini``), run forward on SQLite and PostgreSQL in one transaction that holds a lock for its whole
length (SQLite ``BEGIN IMMEDIATE``; PostgreSQL an advisory lock), so two processes opening a new database at
once apply each revision once.

A vault made by the legacy SQLite migrations (``schema_version`` 1..7, ``unigate.db.legacy``) is
first brought to 7 by them and stamped with the baseline revision. SQLite files then carry
``schema_version`` ``LEGACY_FENCE``, so an older unigate refuses the file ("newer than this unigate knows")
instead of writing to a schema it does not know.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from unigate.db import legacy
from unigate.db.engine import is_sqlite, transaction

BASELINE = "0001"
LEGACY_FENCE = len(legacy.MIGRATIONS) + 1  # a legacy schema_version no released unigate knows
_LOCK_ID = 0x756E6967  # "unig": the PostgreSQL advisory lock migrations hold


class SchemaTooNewError(RuntimeError):
    """The database was migrated by a newer unigate; this one must not write to it."""


@functools.cache
def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    return config


@functools.cache
def head() -> str:
    """The newest revision this unigate ships."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def current(conn: Connection) -> str | None:
    """The revision the database is at (None: not under Alembic yet)."""
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Apply every pending revision (legacy vaults adopted first); returns the revision reached."""
    with engine.connect() as conn:
        if current(conn) == head():  # the common case: one read, no lock
            return head()
        with transaction(conn):
            if not is_sqlite(conn):
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_ID})")
            else:
                _adopt_legacy(conn)
            _run(conn, "upgrade")
            if is_sqlite(conn):
                _fence_legacy(conn)
        return head()


def _run(conn: Connection, what: str, revision: str = "head") -> None:
    config = _config()
    config.attributes["connection"] = conn
    try:
        getattr(command, what)(config, revision)
    except CommandError as exc:
        found = current(conn)
        raise SchemaTooNewError(f"the database is at schema revision {found}, which this unigate does not know "
                                f"(its newest is {head()}): it was migrated by a newer unigate; upgrade unigate") \
            from exc
    finally:
        config.attributes.pop("connection", None)


def _adopt_legacy(conn: Connection) -> None:
    """In the migration transaction: a legacy vault (``schema_version``, no ``alembic_version``) brought to
    the last legacy version and stamped with the baseline."""
    tables = set(inspect(conn).get_table_names())
    if "schema_version" not in tables or "alembic_version" in tables:
        return
    raw = conn.connection.dbapi_connection
    assert raw is not None
    version = int(raw.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)
    if version > len(legacy.MIGRATIONS):
        raise SchemaTooNewError(f"the vault is at legacy schema version {version}, newer than this unigate knows "
                                f"({len(legacy.MIGRATIONS)}); upgrade unigate")
    for step in range(version, len(legacy.MIGRATIONS)):
        for statement in legacy.statements(legacy.MIGRATIONS[step]):
            raw.execute(statement)
        raw.execute("INSERT INTO schema_version (version) VALUES (?)", (step + 1,))
    _run(conn, "stamp", BASELINE)


def _fence_legacy(conn: Connection) -> None:
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    if int(raw.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0) < LEGACY_FENCE:
        raw.execute("INSERT INTO schema_version (version) VALUES (?)", (LEGACY_FENCE,))
