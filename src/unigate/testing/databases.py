"""Databases for tests, on both backends: a new SQLite file, or a new schema in a PostgreSQL database of the
test run's own.

The PostgreSQL server is ``UNIGATE_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``, the
one our machines and CI run; ``make test`` starts it where it is installed but stopped). The server is shared
(other test runs use it at the same time): each run creates a database ``unigate_test_<random>`` and drops it at
the end; each test database is a schema ``s_<random>`` in it, reached through the URL's ``search_path``. Where no
server answers, tests that need it fail with a sentence saying so: they are never skipped.

``stored_bytes`` and ``raw_connection`` read a database whichever its backend. Fixtures (import them into a
conftest): ``database`` (a new database per test, parametrised ``sqlite``/``postgresql``), ``module_database``
(one per module and backend), ``postgres_url`` (a new PostgreSQL database per test, unparametrised).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.engine import Connection, make_url

BACKENDS = ("sqlite", "postgresql")
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"


class PostgresUnavailableError(RuntimeError):
    """The test PostgreSQL server cannot be reached; the message says which and how to get one."""


class PostgresRun:
    """The test run's own database on the test server, and fresh schemas in it."""

    def __init__(self, server: str | None = None) -> None:
        self.server = make_url(server or os.environ.get("UNIGATE_TEST_POSTGRES") or DEFAULT_SERVER) \
            .set(drivername="postgresql+psycopg")
        self.name = f"unigate_test_{secrets.token_hex(6)}"
        self._admin = sqlalchemy.create_engine(self.server, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.NullPool)
        try:
            with self._admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
        except sqlalchemy.exc.OperationalError as exc:
            shown = self.server.render_as_string(hide_password=True)
            raise PostgresUnavailableError(
                f"no PostgreSQL server at {shown} (UNIGATE_TEST_POSTGRES): the vault, API and sync suites run "
                "against PostgreSQL as well as SQLite. Start it (`scripts/postgres/start.sh`, run by `make test`) "
                f"or point UNIGATE_TEST_POSTGRES at one. {type(exc.orig).__name__}: {exc.orig}") from None
        self.url = self.server.set(database=self.name)
        self._engine = sqlalchemy.create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.NullPool)

    def new_database(self) -> str:
        """A URL (``UNIGATE_DATABASE``'s form) of an empty schema of its own."""
        schema = f"s_{secrets.token_hex(8)}"
        with self._engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = self.url.set(drivername="postgresql", query={"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def drop(self) -> None:
        self._engine.dispose()
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._admin.dispose()


@pytest.fixture(scope="session")
def postgres_run() -> Iterator[PostgresRun]:
    run = PostgresRun()
    yield run
    run.drop()


def new_database(backend: str, run: PostgresRun | None, tmp: Path) -> Path | str:
    """A new empty database of ``backend``: an SQLite file in ``tmp``, or a schema of ``run``."""
    if backend == "sqlite":
        return tmp / "vault.db"
    assert run is not None
    return run.new_database()


def _run_for(request: pytest.FixtureRequest, backend: str) -> PostgresRun | None:
    return request.getfixturevalue("postgres_run") if backend == "postgresql" else None


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """``UNIGATE_DATABASE`` of a new empty database, once per backend."""
    return new_database(request.param, _run_for(request, request.param), tmp_path)


@pytest.fixture(scope="module", params=BACKENDS)
def module_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path | str:
    """``UNIGATE_DATABASE`` of a new empty database shared by a module's tests, once per backend."""
    return new_database(request.param, _run_for(request, request.param), tmp_path_factory.mktemp("db"))


@pytest.fixture
def postgres_url(postgres_run: PostgresRun) -> str:
    """``UNIGATE_DATABASE`` of a new empty PostgreSQL database (schema)."""
    return postgres_run.new_database()


def stored_bytes(database: Path | str) -> bytes:
    """Everything stored in ``database``: every row of every table, and on SQLite the file, its WAL and its
    shared-memory index (what a secret must never appear in, in clear)."""
    from unigate.db import create_engine, parse_database
    from unigate.db.schema import metadata

    engine = create_engine(database)
    try:
        with engine.connect() as conn:
            rows = [repr(conn.execute(table.select()).all()).encode() for table in metadata.sorted_tables]
    finally:
        engine.dispose()
    parsed = parse_database(database)
    paths = (parsed.path, Path(f"{parsed.path}-wal"), Path(f"{parsed.path}-shm")) if parsed.is_sqlite else ()
    files = [p.read_bytes() for p in paths if p is not None and p.exists()]
    return b"\n".join([*rows, *files])


@contextmanager
def raw_connection(database: Path | str) -> Iterator[Connection]:
    """An autocommit connection to ``database`` for a test to read or tamper with rows directly (as an
    operator's SQL or an older unigate would), released after."""
    from unigate.db import create_engine

    engine = create_engine(database)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()
