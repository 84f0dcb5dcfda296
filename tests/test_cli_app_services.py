"""The connectors an app offers its consumers, from the command line: ``vault app-create --services``,
``app-update --services ID,ID|all``; every installed one unless the operator says otherwise."""

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
def env(database: Path | str) -> dict[str, str]:
    """The CLI's environment on a new database of each backend, with the app ``acme``."""
    env = {"UNIGATE_DATABASE": str(database), "UNIGATE_SECRET_KEY": generate_secret_key()}
    assert vault(env, "app-create", "Acme", "--app-id", "acme").exit_code == 0
    return env


def vault(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["vault", *args], env=env)


def offered(env: dict[str, str]) -> tuple[str, ...] | None:
    store = open_store(Settings.from_env(env), env["UNIGATE_SECRET_KEY"])
    try:
        return store.get_app("acme").services
    finally:
        store.close()


def test_an_app_offers_every_installed_connector_unless_told_otherwise(env: dict[str, str]) -> None:
    assert offered(env) is None
    listed = json.loads(vault(env, "app-list").stdout)
    assert listed == [{"app_id": "acme", "name": "Acme", "services": "all"}]


def test_app_update_narrows_the_services_and_all_widens_them_again(env: dict[str, str]) -> None:
    narrowed = vault(env, "app-update", "acme", "--services", "codimir, agentsmesh")
    assert (narrowed.exit_code, json.loads(narrowed.stdout)["services"]) == (0, ["agentsmesh", "codimir"])
    assert offered(env) == ("agentsmesh", "codimir")
    widened = vault(env, "app-update", "acme", "--services", "all")
    assert (widened.exit_code, json.loads(widened.stdout)["services"], offered(env)) == (0, "all", None)


def test_app_update_without_services_keeps_them(env: dict[str, str]) -> None:
    vault(env, "app-update", "acme", "--services", "agentsmesh")
    assert json.loads(vault(env, "app-update", "acme", "--no-logs").stdout)["services"] == ["agentsmesh"]
    assert offered(env) == ("agentsmesh",)


def test_app_create_takes_the_services(env: dict[str, str]) -> None:
    created = vault(env, "app-create", "Narrow", "--app-id", "narrow", "--services", "opine")
    assert (created.exit_code, json.loads(created.stdout)["services"]) == (0, ["opine"])


def test_an_unknown_service_is_refused_with_the_installed_ones_and_nothing_changes(env: dict[str, str]) -> None:
    result = vault(env, "app-update", "acme", "--services", "agentsmesh,mantis")
    assert result.exit_code == 1
    assert "there is no connector 'mantis'; the installed connectors are: agentsmesh, codimir" in result.stderr
    assert offered(env) is None


def test_an_empty_list_is_refused(env: dict[str, str]) -> None:
    result = vault(env, "app-update", "acme", "--services", " , ")
    assert result.exit_code == 2 and "name at least one service id, or 'all'" in result.stderr
    assert offered(env) is None


def test_the_change_is_audited_from_and_to(env: dict[str, str]) -> None:
    vault(env, "app-update", "acme", "--services", "agentsmesh")
    vault(env, "app-update", "acme", "--services", "agentsmesh")   # no change: no record
    trail = [json.loads(line) for line in vault(env, "audit", "--app-id", "acme", "--json").stdout.splitlines()]
    changed = [r["changes"] for r in trail if r["action"] == "app.updated"]
    assert changed == [{"services": {"from": "all", "to": ["agentsmesh"]}}]
