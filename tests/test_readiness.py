"""``GET /ready`` says whether the gateway can serve, and when it cannot, whether the database or the key
is wrong (a readiness probe's answer; ``/health`` stays the liveness probe). On both backends; a
database gone is shown the way each goes: an SQLite file removed, a PostgreSQL schema dropped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from unigate.testing import ConnectorUnderTest
from unigate.vault.crypto import SecretBox, generate_secret_key
from unigate.vault.store import ConnectionStore


def _started(tmp_path: Path, database: Path | str) -> Iterator[ConnectorUnderTest]:
    tracker = ConnectorUnderTest.start(tmp_path, "agentsmesh", database=database)
    yield tracker
    tracker.stop()


@pytest.fixture
def tracker(tmp_path: Path, database: Path | str) -> Iterator[ConnectorUnderTest]:
    """A gateway on a new database of each backend."""
    yield from _started(tmp_path, database)


@pytest.fixture
def sqlite_tracker(tmp_path: Path) -> Iterator[ConnectorUnderTest]:
    yield from _started(tmp_path, tmp_path / "vault.db")


@pytest.fixture
def postgres_tracker(tmp_path: Path, postgres_url: str) -> Iterator[ConnectorUnderTest]:
    yield from _started(tmp_path, postgres_url)


def ready(tracker: ConnectorUnderTest, path: str = "/ready") -> httpx.Response:
    with tracker.harness.anonymous() as anonymous:
        return anonymous.get(path)


def test_a_gateway_whose_database_answers_and_key_matches_is_ready(tracker: ConnectorUnderTest) -> None:
    response = ready(tracker)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "secret_key": "ok"}}


def test_a_key_rotated_away_by_another_process_makes_it_not_ready_naming_the_key(tracker: ConnectorUnderTest) -> None:
    cli_store = ConnectionStore(tracker.harness.gateway.settings.database, SecretBox(tracker.harness.secret_key))
    cli_store.rotate_key(SecretBox(generate_secret_key()))  # as `unigate vault rotate-key` does
    cli_store.close()
    response = ready(tracker)
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["checks"]["database"]) == ("not_ready", "ok")
    assert "UNIGATE_SECRET_KEY" in body["checks"]["secret_key"]


def test_a_vault_file_gone_makes_it_not_ready_naming_the_database(sqlite_tracker: ConnectorUnderTest) -> None:
    tracker = sqlite_tracker
    vault = Path(tracker.harness.gateway.settings.database)
    vault.rename(vault.with_name("moved.db"))   # the volume unmounted, the file removed by mistake
    try:
        response, health = ready(tracker), ready(tracker, "/health")
    finally:
        vault.with_name("moved.db").rename(vault)
    assert (response.status_code, health.status_code) == (503, 503)
    checks = response.json()["checks"]
    assert checks["database"].startswith(f"the vault database file {vault} is gone")
    assert checks["secret_key"].startswith("unknown")
    assert health.json()["error"] == checks["database"]   # the liveness answer names it too



def test_a_database_that_cannot_be_read_makes_it_not_ready_naming_the_database(
        postgres_tracker: ConnectorUnderTest, postgres_url: str) -> None:
    url = make_url(postgres_url)
    schema = url.query["options"].removeprefix("-csearch_path=")
    engine = create_engine(url.set(drivername="postgresql+psycopg", query={}))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')   # the vault's tables are gone
    engine.dispose()
    response = ready(postgres_tracker)
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"].startswith("the vault database cannot be read: ")
    assert checks["secret_key"].startswith("unknown")
