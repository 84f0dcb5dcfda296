"""Credentials for `vault connection-create/-update` without putting them on the command line
(stdin, a file, an environment variable), and no secret echoed when an argument is malformed."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from unigate.app import open_store
from unigate.cli import main
from unigate.settings import Settings
from unigate.vault.crypto import generate_secret_key

SECRET = "amk_kept-out-of-argv-0123456789"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"UNIGATE_DATABASE": str(tmp_path / "vault.db"), "UNIGATE_SECRET_KEY": generate_secret_key()}
    store = open_store(Settings(database=tmp_path / "vault.db"), env["UNIGATE_SECRET_KEY"])
    store.create_app("Acme", app_id="acme")
    store.create_consumer("acme", "c")
    store.close()
    return env


def create(env: dict[str, str], *args: str, stdin: str | None = None, **extra: str) -> Result:
    return CliRunner().invoke(main, ["vault", "connection-create", "acme", "c", "agentsmesh",
                                     "-s", "organization=acme", *args], env={**env, **extra}, input=stdin)


def stored(env: dict[str, str]) -> dict[str, str]:
    store = open_store(Settings(database=Path(env["UNIGATE_DATABASE"])), env["UNIGATE_SECRET_KEY"])
    try:
        [connection] = store.list_connections("acme")
        return connection.credentials
    finally:
        store.close()


def test_a_dash_reads_the_value_from_stdin(env: dict[str, str]) -> None:
    result = create(env, "-c", "api_key=-", stdin=SECRET + "\n")
    assert result.exit_code == 0, result.output
    assert stored(env) == {"api_key": SECRET}
    assert SECRET not in result.output


def test_env_prefix_reads_the_value_from_an_environment_variable(env: dict[str, str]) -> None:
    result = create(env, "-c", "api_key=env:AGENTSMESH_KEY", AGENTSMESH_KEY=SECRET)
    assert result.exit_code == 0, result.output
    assert stored(env) == {"api_key": SECRET}


def test_an_unset_environment_variable_is_named(env: dict[str, str]) -> None:
    result = create(env, "-c", "api_key=env:NOT_SET_ANYWHERE")
    assert result.exit_code == 2
    assert "'NOT_SET_ANYWHERE' (for 'api_key') is not set" in result.output


def test_a_credentials_file_of_key_value_lines(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "creds").write_text(f"# agentsmesh\napi_key={SECRET}\n\nregion = eu=west\n")
    result = create(env, "--credentials-file", str(tmp_path / "creds"))
    assert result.exit_code == 0, result.output
    assert stored(env) == {"api_key": SECRET, "region": " eu=west"}


def test_a_credentials_file_holding_json(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "creds.json").write_text(orjson.dumps({"api_key": SECRET}).decode())
    result = create(env, "--credentials-file", str(tmp_path / "creds.json"))
    assert result.exit_code == 0, result.output
    assert stored(env) == {"api_key": SECRET}


def test_credentials_file_from_stdin(env: dict[str, str]) -> None:
    result = create(env, "--credentials-file", "-", stdin=f"api_key={SECRET}\n")
    assert result.exit_code == 0, result.output
    assert stored(env) == {"api_key": SECRET}


def test_a_credential_option_overrides_the_file(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "creds").write_text("api_key=amk_from-the-file\nuser=ann\n")
    result = create(env, "--credentials-file", str(tmp_path / "creds"), "-c", "api_key=env:KEY", KEY=SECRET)
    assert result.exit_code == 0, result.output
    assert stored(env) == {"api_key": SECRET, "user": "ann"}


def test_connection_update_reads_a_rotated_credential_from_stdin(env: dict[str, str]) -> None:
    connection_id = orjson.loads(create(env, "-c", "api_key=amk_old-value-xyz").stdout)["id"]
    result = CliRunner().invoke(main, ["vault", "connection-update", connection_id, "-c", "api_key=-"], env=env,
                                input=SECRET)
    assert result.exit_code == 0, result.output
    assert stored(env) == {"api_key": SECRET}


def test_a_malformed_credential_argument_is_not_echoed(env: dict[str, str]) -> None:
    result = create(env, "-c", SECRET)  # the value typed without its KEY=
    assert result.exit_code == 2
    assert "argument 1 is not KEY=VALUE" in result.output
    assert SECRET not in result.output


def test_a_malformed_credentials_file_line_is_not_echoed(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "creds").write_text(f"api_key=ok-value-1234\n{SECRET}\n")
    result = create(env, "--credentials-file", str(tmp_path / "creds"))
    assert result.exit_code == 2
    assert "line 2 is not KEY=VALUE" in result.output
    assert SECRET not in result.output


def test_malformed_json_credentials_are_not_echoed(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "creds.json").write_text('{"api_key": "' + SECRET + '",}')
    result = create(env, "--credentials-file", str(tmp_path / "creds.json"))
    assert result.exit_code == 2
    assert "is not valid JSON (line 1" in result.output
    assert SECRET not in result.output


def test_only_one_value_can_come_from_stdin(env: dict[str, str]) -> None:
    result = create(env, "-c", "api_key=-", "-c", "password=-", stdin=SECRET)
    assert result.exit_code == 2
    assert "only one credential can be read from stdin" in result.output
    assert SECRET not in result.output
