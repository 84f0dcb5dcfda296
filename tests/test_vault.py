"""The vault: encrypted credentials, hashed keys, versioned schema, and its CLI round trip."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from unigate.app import open_store
from unigate.cli import main
from unigate.db import SchemaTooNewError, create_engine
from unigate.db.migrate import head
from unigate.settings import Settings
from unigate.testing.databases import raw_connection, stored_bytes
from unigate.vault.crypto import SecretKeyError, generate_secret_key, load_secret_key

SECRET = "amk_super-secret-credential-value"


@pytest.fixture
def env(database: Path | str) -> dict[str, str]:
    """The CLI's environment, on a new database of each backend."""
    return {"UNIGATE_DATABASE": str(database), "UNIGATE_SECRET_KEY": generate_secret_key()}


def settings_of(env: dict[str, str]) -> Settings:
    return Settings.from_env(env)


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["vault", *args], env=env)
    return result.exit_code, result.output


def test_cli_round_trip_never_prints_or_stores_secrets_in_clear(env: dict[str, str]) -> None:
    code, out = run(env, "app-create", "Acme", "--app-id", "acme")
    assert code == 0
    api_key = orjson.loads(out[: out.rindex("}") + 1])["api_key"]
    assert run(env, "consumer-create", "acme", "customer-1")[0] == 0
    code, out = run(env, "connection-create", "acme", "customer-1", "agentsmesh", "-s", "organization=acme",
                    "-c", f"api_key={SECRET}", "-m", "team=$.team.name")
    assert code == 0, out
    created = orjson.loads(out)
    assert created["credentials"] == ["api_key"] and SECRET not in out
    code, out = run(env, "connection-list")
    assert code == 0 and SECRET not in out
    assert orjson.loads(out)[0]["custom_mappings"] == {"team": "$.team.name"}
    raw = stored_bytes(env["UNIGATE_DATABASE"])
    assert SECRET.encode() not in raw and api_key.encode() not in raw
    store = open_store(settings_of(env), env["UNIGATE_SECRET_KEY"])
    assert store.connections_of("acme", "customer-1")[0].credentials == {"api_key": SECRET}
    assert store.authenticate("acme", api_key).id == "acme"


def test_connection_update_merges_and_disables(env: dict[str, str]) -> None:
    run(env, "app-create", "Acme", "--app-id", "acme")
    run(env, "consumer-create", "acme", "c")
    connection_id = orjson.loads(run(env, "connection-create", "acme", "c", "agentsmesh", "-s", "organization=acme",
                                     "-c", "api_key=amk_k")[1])["id"]
    code, out = run(env, "connection-update", connection_id, "-s", "base_url=http://localhost:1", "--disable")
    updated = orjson.loads(out)
    assert code == 0
    assert updated["settings"] == {"organization": "acme", "base_url": "http://localhost:1"}
    assert updated["enabled"] is False


def test_invalid_custom_mapping_is_refused_when_configured(env: dict[str, str]) -> None:
    run(env, "app-create", "Acme", "--app-id", "acme")
    run(env, "consumer-create", "acme", "c")
    code, out = run(env, "connection-create", "acme", "c", "agentsmesh", "-s", "organization=acme",
                    "-m", "team=$.[broken")
    assert code == 1
    assert "custom_mappings['team']" in out and "invalid JSONPath" in out


def test_connection_for_unknown_consumer_is_refused(env: dict[str, str]) -> None:
    run(env, "app-create", "Acme", "--app-id", "acme")
    code, out = run(env, "connection-create", "acme", "ghost", "agentsmesh")
    assert code == 1
    assert "app 'acme' has no consumer 'ghost'; create it with `unigate vault consumer-create acme ghost`" in out


def test_missing_secret_key_says_how_to_provide_one(tmp_path: Path) -> None:
    code, out = run({"UNIGATE_DATABASE": str(tmp_path / "v.db"), "UNIGATE_SECRET_KEY": ""}, "app-list")
    assert code == 1 and "UNIGATE_SECRET_KEY" in out and "keygen" in out


def test_key_file_is_read(tmp_path: Path) -> None:
    key = generate_secret_key()
    (tmp_path / "key").write_text(key + "\n")
    assert load_secret_key({"UNIGATE_SECRET_KEY_FILE": str(tmp_path / "key")}) == key


def test_malformed_key_is_rejected() -> None:
    with pytest.raises(SecretKeyError, match="not a valid Fernet key"):
        load_secret_key({"UNIGATE_SECRET_KEY": "hunter2"})


def test_credentials_sealed_with_another_key_cannot_be_opened(env: dict[str, str]) -> None:
    run(env, "app-create", "Acme", "--app-id", "acme")
    run(env, "consumer-create", "acme", "c")
    run(env, "connection-create", "acme", "c", "agentsmesh", "-c", f"api_key={SECRET}")
    code, out = run({**env, "UNIGATE_SECRET_KEY": generate_secret_key()}, "connection-list")
    assert code == 1 and "cannot be decrypted with this secret key" in out


def test_schema_is_migrated_once_to_the_newest_revision(env: dict[str, str]) -> None:
    settings = settings_of(env)
    open_store(settings, env["UNIGATE_SECRET_KEY"]).close()
    store = open_store(settings, env["UNIGATE_SECRET_KEY"])
    assert store.schema_revision == head()


def test_newer_schema_than_the_code_is_refused(env: dict[str, str]) -> None:
    settings = settings_of(env)
    open_store(settings, env["UNIGATE_SECRET_KEY"]).close()
    engine = create_engine(settings.database)
    with engine.connect() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(SchemaTooNewError, match="newer unigate; upgrade unigate"):
        open_store(settings, env["UNIGATE_SECRET_KEY"])


def test_cache_sees_changes_made_by_another_process(env: dict[str, str]) -> None:
    settings = settings_of(env)
    gateway_view = open_store(settings, env["UNIGATE_SECRET_KEY"])
    cli_view = open_store(settings, env["UNIGATE_SECRET_KEY"])
    cli_view.create_app("Acme", app_id="acme")
    cli_view.create_consumer("acme", "c")
    assert gateway_view.connections_of("acme", "c") == []
    connection = cli_view.create_connection("acme", "c", "agentsmesh")
    assert [c.id for c in gateway_view.connections_of("acme", "c")] == [connection.id]
    cli_view.update_connection(connection.id, enabled=False)
    assert gateway_view.connections_of("acme", "c")[0].enabled is False



def test_a_postgresql_vault_reconnects_after_the_server_drops_its_connection(postgres_url: str) -> None:
    store = open_store(Settings.from_env({"UNIGATE_DATABASE": postgres_url}), generate_secret_key())
    _, api_key = store.create_app("Acme", app_id="acme")
    with store.transaction():  # the store's own connection, as the server knows it
        backend = store._run(text("SELECT pg_backend_pid()")).scalar()
    with raw_connection(postgres_url) as admin:  # a restart or failover, as the store sees it
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    assert store.authenticate("acme", api_key) is not None
    store.create_consumer("acme", "after-the-drop")
    assert [c.id for c in store.list_consumers("acme")] == ["after-the-drop"]
    store.close()
