"""The vault's keys: owner-only files, a wrong key refused up front, master key rotation, API key
rotation and revocation seen by a running gateway."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from unigate.app import build_gateway, create_app, open_store
from unigate.cli import main
from unigate.settings import Settings
from unigate.simulation import BackgroundServer
from unigate.simulation.server import free_port
from unigate.testing.connector import ConnectorUnderTest
from unigate.testing.databases import raw_connection
from unigate.vault.crypto import SecretBox, WrongSecretKeyError, generate_secret_key, load_secret_key
from unigate.vault.store import ConnectionStore

from .conftest import TICKETS

APP, CONSUMER = "keys-app", "keys-consumer"


@dataclass
class Vault:
    """A vault (an SQLite file or a PostgreSQL database) with one app, consumer and AgentsMesh connection, as an
    operator makes it."""

    path: Path | str
    key: str
    api_key: str
    tracker: ConnectorUnderTest

    def env(self, **extra: str) -> dict[str, str]:
        return {"UNIGATE_DATABASE": str(self.path), "UNIGATE_SECRET_KEY": self.key, "UNIGATE_SECRET_KEY_FILE": "",
                **extra}

    def cli(self, *args: str, key: str | None = None, **env: str) -> Result:
        environment = self.env(**env) if key is None else {**self.env(**env), "UNIGATE_SECRET_KEY": key}
        return CliRunner().invoke(main, ["vault", *args], env=environment)

    def open(self, key: str | None = None) -> ConnectionStore:
        return open_store(Settings(database=self.path), key or self.key)

    @contextmanager
    def gateway(self, key: str | None = None) -> Iterator[str]:
        """A gateway on this vault (as `unigate serve` builds it); yields its URL."""
        gateway = build_gateway(Settings(database=self.path), key or self.key,
                                registry=self.tracker.harness.gateway.registry)
        server = BackgroundServer(create_app(gateway)).start()
        try:
            yield server.url
        finally:
            server.stop()
            gateway.store.close()


@pytest.fixture
def vault(database: Path | str, tracker: ConnectorUnderTest) -> Vault:
    key = generate_secret_key()
    store = open_store(Settings(database=database), key)
    _, api_key = store.create_app("Keys", app_id=APP)
    store.create_consumer(APP, CONSUMER)
    settings, credentials = tracker.profile.connection(tracker.url)
    store.create_connection(APP, CONSUMER, "agentsmesh", settings=settings, credentials=credentials)
    store.close()
    return Vault(database, key, api_key, tracker)


def list_tickets(url: str, api_key: str) -> httpx.Response:
    headers = {"authorization": f"Bearer {api_key}", "x-apideck-app-id": APP, "x-apideck-consumer-id": CONSUMER}
    return httpx.get(url + TICKETS, params={"limit": 2}, headers=headers, timeout=30)


def slugs(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [ticket["id"] for ticket in response.json()["data"]]


def sealed_rows(vault: Vault) -> list[tuple[str, bytes]]:
    """Every connection's sealed credentials and the key check value, as stored."""
    with raw_connection(vault.path) as db:
        rows = db.execute(text("SELECT id, credentials FROM connections ORDER BY id")).all() + \
            db.execute(text("SELECT name, value FROM vault_meta")).all()
    return [(name, bytes(value)) for name, value in rows]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the usual umask: files would be world-readable by default
    yield
    os.umask(previous)


# -- files -----------------------------------------------------------------------------------------
def test_vault_and_its_wal_and_shm_files_are_owner_only(tmp_path: Path, open_umask: None) -> None:
    store = open_store(Settings(database=tmp_path / "data" / "vault.db"), generate_secret_key())
    store.create_app("Acme", app_id="acme")  # a write: SQLite has created -wal and -shm
    files = {name: mode(tmp_path / "data" / name) for name in ("vault.db", "vault.db-wal", "vault.db-shm")}
    store.close()
    assert files == {"vault.db": 0o600, "vault.db-wal": 0o600, "vault.db-shm": 0o600}
    assert mode(tmp_path / "data") == 0o700


def test_keygen_file_is_owner_only_and_holds_a_valid_key(tmp_path: Path, open_umask: None) -> None:
    result = CliRunner().invoke(main, ["vault", "keygen", "--file", str(tmp_path / "secret.key")])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # the key goes to the file only
    assert mode(tmp_path / "secret.key") == 0o600
    key = load_secret_key({"UNIGATE_SECRET_KEY_FILE": str(tmp_path / "secret.key")})
    assert key not in result.output


def test_keygen_file_never_overwrites_a_key(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("the operator's key\n")
    result = CliRunner().invoke(main, ["vault", "keygen", "--file", str(tmp_path / "secret.key")])
    assert result.exit_code == 1 and "refusing to overwrite" in result.output
    assert (tmp_path / "secret.key").read_text() == "the operator's key\n"


# -- a wrong key -------------------------------------------------------------------------------------
def test_opening_the_vault_with_another_key_is_refused(vault: Vault) -> None:
    with pytest.raises(WrongSecretKeyError, match="does not match the vault"):
        vault.open(generate_secret_key())


def test_build_gateway_refuses_another_key(vault: Vault) -> None:
    with pytest.raises(WrongSecretKeyError, match="refusing to use the vault with this key"):
        build_gateway(Settings(database=vault.path), generate_secret_key(),
                      registry=vault.tracker.harness.gateway.registry)


def test_serve_with_another_key_exits_with_the_reason_and_serves_nothing(vault: Vault) -> None:
    port = free_port("127.0.0.1")
    env = {**os.environ, **vault.env(UNIGATE_SECRET_KEY=generate_secret_key(), UNIGATE_PORT=str(port))}
    done = subprocess.run([sys.executable, "-m", "unigate.cli", "serve"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert "Error: the secret key does not match the vault" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_cli_write_with_another_key_is_refused_and_changes_nothing(vault: Vault) -> None:
    [connection] = vault.open().list_connections()
    result = vault.cli("connection-update", connection.id, "-c", "api_key=amk_written-with-a-wrong-key",
                       key=generate_secret_key())
    assert result.exit_code == 1
    assert "does not match the vault" in result.output
    assert vault.open().get_connection(connection.id).credentials == connection.credentials


def test_a_vault_without_a_check_value_adopts_a_key_that_opens_its_credentials(vault: Vault) -> None:
    with raw_connection(vault.path) as db:  # as a vault made before the check value existed
        db.execute(text("DELETE FROM vault_meta"))
    with pytest.raises(WrongSecretKeyError):
        vault.open(generate_secret_key())
    assert vault.open().list_connections()[0].service_id == "agentsmesh"
    with raw_connection(vault.path) as db:
        assert SecretBox(vault.key).opens(bytes(db.execute(text("SELECT value FROM vault_meta")).scalar_one()))


def test_a_new_vault_adopts_the_first_key_it_is_opened_with(database: Path | str) -> None:
    settings = Settings(database=database)
    key = generate_secret_key()
    open_store(settings, key).close()
    with pytest.raises(WrongSecretKeyError):
        open_store(settings, generate_secret_key())


# -- rotating the master key -------------------------------------------------------------------------
def test_rotate_key_keeps_connections_working_through_the_gateway(vault: Vault, tmp_path: Path) -> None:
    with vault.gateway() as url:
        before = slugs(list_tickets(url, vault.api_key))
    new_key = generate_secret_key()
    (tmp_path / "new.key").write_text(new_key)
    result = vault.cli("rotate-key", "--new-key-file", str(tmp_path / "new.key"))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    with vault.gateway(new_key) as url:
        assert slugs(list_tickets(url, vault.api_key)) == before
    with pytest.raises(WrongSecretKeyError):
        vault.open()  # the old key


def test_rotate_key_prints_only_a_generated_key(vault: Vault) -> None:
    credentials = vault.open().list_connections()[0].credentials
    result = vault.cli("rotate-key")
    assert result.exit_code == 0, result.output
    new_key = result.stdout.strip()
    assert vault.open(new_key).list_connections()[0].credentials == credentials
    assert vault.key not in result.output
    assert not any(str(value) in result.output for value in credentials.values())
    assert "cursors" in result.stderr


def test_rotate_key_from_an_environment_variable(vault: Vault) -> None:
    new_key = generate_secret_key()
    result = vault.cli("rotate-key", "--new-key-env", "NEXT_KEY", NEXT_KEY=new_key)
    assert result.exit_code == 0, result.output
    assert new_key not in result.output
    assert vault.open(new_key).list_connections()[0].service_id == "agentsmesh"


def test_rotate_key_that_fails_midway_changes_nothing(vault: Vault, tmp_path: Path) -> None:
    store = vault.open()
    store.create_consumer(APP, "second")
    store.create_connection(APP, "second", "agentsmesh", settings={"organization": "acme"},
                            credentials={"api_key": "amk_second-consumer-key"})
    store.close()
    with raw_connection(vault.path) as db:  # one row no longer opens with the vault's key
        db.execute(text("UPDATE connections SET credentials = :sealed WHERE consumer_id = 'second'"),
                   {"sealed": SecretBox(generate_secret_key()).seal({"api_key": "amk_foreign"})})
    before = sealed_rows(vault)
    result = vault.cli("rotate-key", "--write-new-key", str(tmp_path / "new.key"))
    assert result.exit_code == 1
    assert "nothing was changed" in result.output
    assert sealed_rows(vault) == before
    assert not (tmp_path / "new.key").exists()  # a key that opens nothing is not left behind


def test_a_process_still_holding_the_old_key_cannot_write_after_rotation(vault: Vault) -> None:
    stale = vault.open()
    new_key = generate_secret_key()
    vault.open().rotate_key(SecretBox(new_key))
    stale.create_consumer(APP, "late")
    with pytest.raises(WrongSecretKeyError):
        stale.create_connection(APP, "late", "agentsmesh", credentials={"api_key": "amk_late"})
    assert [c.consumer_id for c in vault.open(new_key).list_connections()] == [CONSUMER]


# -- API keys ----------------------------------------------------------------------------------------
def test_app_key_rotate_prints_a_key_that_works_and_the_old_one_stops(vault: Vault) -> None:
    with vault.gateway() as url:
        assert slugs(list_tickets(url, vault.api_key))  # served, and its app is now cached
        result = vault.cli("app-key-rotate", APP)
        assert result.exit_code == 0, result.output
        new_api_key = orjson.loads(result.stdout)["api_key"]
        assert list_tickets(url, vault.api_key).status_code == 401
        assert slugs(list_tickets(url, new_api_key))


def test_app_key_revoke_refuses_the_key_in_a_running_gateway(vault: Vault) -> None:
    with vault.gateway() as url:
        assert slugs(list_tickets(url, vault.api_key))
        result = vault.cli("app-key-revoke", APP)
        assert result.exit_code == 0, result.output
        assert orjson.loads(result.stdout) == {"app_id": APP, "api_key_revoked": True}
        response = list_tickets(url, vault.api_key)
    assert response.status_code == 401
    assert response.json()["type_name"] == "UnauthorizedError"


def test_app_key_commands_name_an_unknown_app(vault: Vault) -> None:
    for command in ("app-key-rotate", "app-key-revoke"):
        result = vault.cli(command, "no-such-app")
        assert result.exit_code == 1 and "no app 'no-such-app'" in result.output
