"""Engines and transactions on either backend.

Every connection is in autocommit mode at the driver (pysqlite ``isolation_level=None``, psycopg
``autocommit``); a write transaction is opened explicitly by :func:`transaction`: ``BEGIN IMMEDIATE``
on SQLite (the write lock up front, so a read-modify-write never fails on upgrade), ``BEGIN`` on
PostgreSQL (lock rows with ``select(...).with_for_update()``; SQLite ignores it, its lock is the file's).
A lone read outside a transaction sees the latest commit.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Table, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from unigate.db.url import DatabaseURL, parse_database

log = logging.getLogger("unigate.db")

BUSY_TIMEOUT = 10.0  # seconds an SQLite writer waits for another's lock before "database is locked"


def create_private(path: Path) -> None:
    """Create the SQLite file 0600 (its directory 0700) before SQLite opens it; SQLite gives the
    ``-wal`` and ``-shm`` files the database file's mode. An existing file open to others is warned about."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("the vault %s is accessible to other users (mode %o); chmod 600 it", path, mode)
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def create_engine(target: DatabaseURL | str | Path, *, pool_size: int = 5) -> Engine:
    """An engine for ``target`` (``UNIGATE_DATABASE``'s value or its parse), every connection autocommit.

    SQLite: the file created 0600, each connection with foreign keys on, WAL and a busy timeout;
    ``:memory:`` is one shared connection. PostgreSQL: a pool of ``pool_size`` (+ as many overflow)
    connections through psycopg 3, each checked before use."""
    db = target if isinstance(target, DatabaseURL) else parse_database(target)
    if not db.is_sqlite:
        return sqlalchemy.create_engine(db.url, isolation_level="AUTOCOMMIT", pool_size=pool_size,
                                        max_overflow=pool_size, pool_pre_ping=True)
    extra: dict[str, Any] = {"poolclass": StaticPool} if db.is_memory else {}
    if not db.is_memory:
        assert db.path is not None
        create_private(db.path)
    engine = sqlalchemy.create_engine(db.url, isolation_level="AUTOCOMMIT",
                                      connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT}, **extra)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
    finally:
        cursor.close()


def is_sqlite(conn: Connection | Engine) -> bool:
    return conn.dialect.name == "sqlite"


@contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """One write transaction on ``conn`` (autocommit, from :func:`create_engine`): committed if the block
    ends normally, rolled back if it raises. Not re-entrant: nest through the caller's own bookkeeping."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if is_sqlite(conn) else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.exec_driver_sql("ROLLBACK")
        raise
    conn.exec_driver_sql("COMMIT")


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """A pooled connection in a write transaction (:func:`transaction`), returned to the pool after."""
    with engine.connect() as conn, transaction(conn):
        yield conn


def upsert(conn: Connection, table: Table) -> Any:
    """``INSERT`` into ``table`` in the connection's dialect, which has ``on_conflict_do_update`` and
    ``on_conflict_do_nothing`` (SQLite and PostgreSQL spell them alike)."""
    return (sqlite_insert if is_sqlite(conn) else postgresql_insert)(table)
