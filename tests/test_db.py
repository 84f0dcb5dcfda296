"""The store layer's foundation (``unigate.db``): which ``UNIGATE_DATABASE`` values are used and which are
refused, and migrations forward on SQLite and PostgreSQL, from nothing and from a legacy SQLite vault."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from unigate.cli import main
from unigate.db import SchemaTooNewError, UnsupportedDatabaseError, create_engine, legacy, migrate, open_database, upgrade
from unigate.db.engine import write
from unigate.db.migrate import BASELINE, LEGACY_FENCE, head
from unigate.db.schema import metadata
from unigate.settings import Settings
from unigate.vault.crypto import generate_secret_key

REFUSED = ["postgresql:", "postgresql:/var/db", "mysql://root:hunter2@db/unigate", "redis://127.0.0.1:6379/0",
           "sqlite://relative.db", "postgresql://127.0.0.1:5432", "mongodb+srv://cluster/x"]


@pytest.mark.parametrize("value", REFUSED)
def test_an_unsupported_database_url_is_refused_at_startup(value: str) -> None:
    with pytest.raises(UnsupportedDatabaseError, match="UNIGATE_DATABASE"):
        Settings.from_env({"UNIGATE_DATABASE": value})


def test_a_refused_url_never_shows_its_password() -> None:
    with pytest.raises(UnsupportedDatabaseError) as refused:
        Settings.from_env({"UNIGATE_DATABASE": "mysql://root:hunter2@db/unigate"})
    assert "hunter2" not in str(refused.value)


COMMANDS_ON_THE_DATABASE = [["vault", "app-list"], ["webhooks", "list"], ["webhooks", "outbox"]]


@pytest.mark.parametrize("command", COMMANDS_ON_THE_DATABASE, ids=" ".join)
def test_the_cli_names_the_refused_database_in_one_sentence(tmp_path: Path, command: list[str]) -> None:
    result = CliRunner().invoke(main, command, env={"UNIGATE_DATABASE": "postgresql:"})
    assert result.exit_code == 1
    assert "is not a database unigate supports" in result.output
    assert not Path("postgresql:").exists()


@pytest.mark.parametrize(("value", "expected"), [
    (".unigate/vault.db", Path(".unigate/vault.db")), ("sqlite:///data/vault.db", Path("data/vault.db")),
    ("sqlite:////srv/vault.db", Path("/srv/vault.db")), ("vault:2.db", Path("vault:2.db")),
    ("postgresql://u:p@db:5432/unigate", "postgresql://u:p@db:5432/unigate"),
    ("postgres://db/unigate", "postgres://db/unigate")])
def test_sqlite_paths_and_postgresql_urls_are_accepted(value: str, expected: Path | str) -> None:
    assert Settings.from_env({"UNIGATE_DATABASE": value}).database == expected


def _schema_drift(conn: Connection) -> list[Any]:
    """What differs between the database and ``unigate.db.schema`` (the legacy fence table aside)."""
    return [d for d in compare_metadata(MigrationContext.configure(conn), metadata)
            if not (d[0] == "remove_table" and d[1].name == "schema_version")]


def test_migrations_build_exactly_the_schema_on_both_backends(database: Path | str) -> None:
    engine = open_database(database)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head()
        assert _schema_drift(conn) == []
        assert conn.exec_driver_sql("SELECT n FROM vault_generation").scalar_one() == 0
    engine.dispose()


def test_a_change_to_a_vault_table_moves_the_generation_on_both_backends(database: Path | str) -> None:
    engine = open_database(database)
    with engine.connect() as conn:
        conn.exec_driver_sql("INSERT INTO apps (id, name, api_key_hash) VALUES ('a', 'A', 'h')")
        conn.exec_driver_sql("INSERT INTO request_log (id, ts, app_id, consumer_id, service_id, service_name,"
                             " unified_api, operation, http_method, path, base_url, status_code, execution_ms,"
                             " downstream_ms) VALUES ('r', 0, 'a', 'c', 's', 'S', 'u', 'o', 'GET', '/', '', 200, 1, 1)")
        assert conn.exec_driver_sql("SELECT n FROM vault_generation").scalar_one() == 1  # the log is not the vault
    engine.dispose()


def test_migrating_twice_changes_nothing(database: Path | str) -> None:
    engine = create_engine(database)
    assert upgrade(engine) == upgrade(engine) == head()
    engine.dispose()


def test_apps_of_a_vault_at_the_baseline_offer_every_connector_after_the_upgrade(database: Path | str) -> None:
    engine = create_engine(database)
    with write(engine) as conn:   # the vault as unigate left it before revision 0002 (apps.services)
        migrate._run(conn, "upgrade", BASELINE)
        conn.exec_driver_sql("INSERT INTO apps (id, name, api_key_hash) VALUES ('kept', 'Kept', 'h')")
    assert upgrade(engine) == head()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT id, services FROM apps").all() == [("kept", None)]
        assert _schema_drift(conn) == []
    engine.dispose()


def _legacy_vault(path: Path, version: int) -> None:
    """A vault as the legacy migrations left it at ``version``, with an app in it."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for step in range(version):
        for statement in legacy.statements(legacy.MIGRATIONS[step]):
            db.execute(statement)
        db.execute("INSERT INTO schema_version (version) VALUES (?)", (step + 1,))
    db.execute("INSERT INTO apps (id, name, api_key_hash) VALUES ('kept', 'Kept', 'h')")
    db.close()


@pytest.mark.parametrize("version", [1, 3, len(legacy.MIGRATIONS)])
def test_a_legacy_sqlite_vault_is_brought_forward_with_its_data(tmp_path: Path, version: int) -> None:
    _legacy_vault(tmp_path / "vault.db", version)
    engine = open_database(tmp_path / "vault.db")
    with engine.connect() as conn:  # the legacy DDL's spelling (REAL, inline REFERENCES) aside: the same tables
        found = inspect(conn)
        assert {t: {c["name"] for c in found.get_columns(t)} for t in found.get_table_names() if t in metadata.tables} \
            == {name: set(table.columns.keys()) for name, table in metadata.tables.items()}
        assert conn.exec_driver_sql("SELECT id FROM apps").scalars().all() == ["kept"]
    engine.dispose()
    with sqlite3.connect(tmp_path / "vault.db") as db:  # an older unigate refuses it: "newer than this unigate"
        assert db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == LEGACY_FENCE


def test_a_database_migrated_by_a_newer_unigate_is_refused(database: Path | str) -> None:
    engine = open_database(database)
    with engine.connect() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(SchemaTooNewError, match="upgrade unigate"):
        upgrade(engine)
    engine.dispose()


@pytest.mark.parametrize("command", COMMANDS_ON_THE_DATABASE, ids=" ".join)
def test_a_database_that_cannot_be_reached_is_one_sentence_without_its_password(command: list[str]) -> None:
    url = "postgresql://unigate:hunter2@127.0.0.1:1/unigate"  # nothing listens on port 1
    result = CliRunner().invoke(main, command, env={"UNIGATE_DATABASE": url,
                                                                  "UNIGATE_SECRET_KEY": generate_secret_key()})
    assert result.exit_code == 1
    assert "Error: cannot use the database postgresql+psycopg://unigate:***@127.0.0.1:1/unigate" in result.output
    assert "hunter2" not in result.output and "Traceback" not in result.output
