"""The app's strict setting from the command line: ``vault app-create --strict``, ``app-update --[no-]strict``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from unigate.app import open_store
from unigate.cli import main
from unigate.settings import Settings
from unigate.vault.crypto import generate_secret_key


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"UNIGATE_DATABASE": str(tmp_path / "vault.db"), "UNIGATE_SECRET_KEY": generate_secret_key()}


def vault(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["vault", *args], env=env)


def strict_in_vault(env: dict[str, str], app_id: str) -> bool:
    store = open_store(Settings(database=Path(env["UNIGATE_DATABASE"])), env["UNIGATE_SECRET_KEY"])
    try:
        return store.get_app(app_id).strict
    finally:
        store.close()


def test_an_app_is_not_strict_unless_created_so(env: dict[str, str]) -> None:
    assert json.loads(vault(env, "app-create", "Lax", "--app-id", "lax").stdout)["strict"] is False
    assert json.loads(vault(env, "app-create", "Tight", "--app-id", "tight", "--strict").stdout)["strict"] is True
    assert (strict_in_vault(env, "lax"), strict_in_vault(env, "tight")) == (False, True)


def test_app_update_switches_strict_on_and_off(env: dict[str, str]) -> None:
    vault(env, "app-create", "Acme", "--app-id", "acme")
    on = vault(env, "app-update", "acme", "--strict")
    assert (on.exit_code, json.loads(on.stdout)["strict"], strict_in_vault(env, "acme")) == (0, True, True)
    off = vault(env, "app-update", "acme", "--no-strict")
    assert (off.exit_code, json.loads(off.stdout)["strict"], strict_in_vault(env, "acme")) == (0, False, False)


def test_app_update_of_an_unknown_app_says_so(env: dict[str, str]) -> None:
    vault(env, "app-create", "Acme", "--app-id", "acme")
    result = vault(env, "app-update", "ghost", "--strict")
    assert result.exit_code != 0 and "there is no app 'ghost'" in result.stderr
