"""`unigate vault`: connections checked against the connector, `--check`, deletes, and refusals as sentences."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from unigate.app import open_store
from unigate.cli import main
from unigate.plugins.registry import ConnectorRegistry
from unigate.settings import Settings
from unigate.simulation import BackgroundServer
from unigate.vault.crypto import generate_secret_key


@pytest.fixture
def env(database: Path | str) -> dict[str, str]:
    """The CLI's environment, on a new database of each backend."""
    return {"UNIGATE_DATABASE": str(database), "UNIGATE_SECRET_KEY": generate_secret_key()}


def vault(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["vault", *args], env=env, input=input)


@pytest.fixture
def consumer(env: dict[str, str]) -> dict[str, str]:
    assert vault(env, "app-create", "Acme", "--app-id", "acme").exit_code == 0
    assert vault(env, "consumer-create", "acme", "c1").exit_code == 0
    return env


def stored(env: dict[str, str]):  # noqa: ANN201 - ConnectionStore
    return open_store(Settings.from_env(env), env["UNIGATE_SECRET_KEY"])


@pytest.fixture
def agentsmesh() -> Iterator[tuple[str, dict[str, str], dict[str, str]]]:
    """The AgentsMesh simulator: (url, settings, credentials) of a working connection."""
    profile = ConnectorRegistry.load().definitions["agentsmesh"].sandbox()
    with BackgroundServer(profile.create_app()) as server:
        settings, credentials = profile.connection(server.url)
        yield server.url, settings, credentials


def options(settings: dict[str, str], credentials: dict[str, str]) -> list[str]:
    return [*(a for k, v in settings.items() for a in ("-s", f"{k}={v}")),
            *(a for k, v in credentials.items() for a in ("-c", f"{k}={v}"))]


def test_unknown_service_is_refused_with_the_installed_connectors(consumer: dict[str, str]) -> None:
    result = vault(consumer, "connection-create", "acme", "c1", "mantis", "-s", "base_url=http://x")
    assert result.exit_code == 1
    installed = ", ".join(sorted(ConnectorRegistry.load().connectors))
    assert (f"there is no connector 'mantis'; the installed connectors are: {installed} "
            "(`unigate connectors` lists them)") in result.output


def test_missing_required_setting_is_refused_with_the_option_to_add(consumer: dict[str, str]) -> None:
    result = vault(consumer, "connection-create", "acme", "c1", "agentsmesh", "-c", "api_key=amk_x")
    assert result.exit_code == 1
    assert "agentsmesh needs the setting organization (-s organization=VALUE)" in result.output
    assert stored(consumer).list_connections() == []


def test_unknown_setting_is_refused_with_the_connectors_settings(consumer: dict[str, str]) -> None:
    result = vault(consumer, "connection-create", "acme", "c1", "agentsmesh", "-s", "organization=acme",
                   "-s", "organisation=acme", "-c", "api_key=amk_x")
    assert result.exit_code == 1
    assert ("agentsmesh has no setting organisation (its settings are: base_url, organization; every connection "
            "may also set timeout, max_response_bytes)") in result.output


def test_update_checks_the_merged_settings_and_changes_nothing_when_refused(consumer: dict[str, str]) -> None:
    created = orjson.loads(vault(consumer, "connection-create", "acme", "c1", "agentsmesh", "-s", "organization=acme",
                                 "-c", "api_key=amk_x").output)
    result = vault(consumer, "connection-update", created["id"], "-s", "timeout=-3")
    assert result.exit_code == 1
    assert "timeout must be a positive number of seconds" in result.output
    assert stored(consumer).get_connection(created["id"]).settings == {"organization": "acme"}


def test_missing_credential_is_a_warning_saying_how_to_add_it(consumer: dict[str, str]) -> None:
    result = vault(consumer, "connection-create", "acme", "c1", "agentsmesh", "-s", "organization=acme")
    assert result.exit_code == 0
    connection_id = stored(consumer).list_connections()[0].id
    assert ("warning: the connection has no api_key credential yet: its requests answer ConnectionSettingsError "
            f"until `unigate vault connection-update {connection_id} -c api_key=-`") in result.output


def test_check_reports_ok_after_one_read_through_the_gateway(consumer: dict[str, str], agentsmesh) -> None:  # noqa: ANN001
    _url, settings, credentials = agentsmesh
    result = vault(consumer, "connection-create", "acme", "c1", "agentsmesh", *options(settings, credentials), "--check")
    assert result.exit_code == 0, result.output
    connection_id = stored(consumer).list_connections()[0].id
    assert f"ok: agentsmesh connection {connection_id} listed 1 collection(s) (collections.all, limit 1)" in result.output


def test_check_reports_the_typed_error_and_keeps_the_connection(consumer: dict[str, str], agentsmesh) -> None:  # noqa: ANN001
    _url, settings, _ = agentsmesh
    result = vault(consumer, "connection-create", "acme", "c1", "agentsmesh", *options(settings, {"api_key": "amk_no"}),
                   "--check")
    assert result.exit_code == 1
    connection_id = stored(consumer).list_connections()[0].id
    assert f"agentsmesh connection {connection_id} failed its check with ConnectorCredentialsError (401)" in result.output
    assert f"The connection is saved: change it with `unigate vault connection-update {connection_id}`" in result.output
    assert "amk_no" not in result.output


def test_update_check_tests_the_updated_connection(consumer: dict[str, str], agentsmesh) -> None:  # noqa: ANN001
    _url, settings, credentials = agentsmesh
    created = orjson.loads(vault(consumer, "connection-create", "acme", "c1", "agentsmesh",
                                 *options(settings, {"api_key": "amk_no"})).output)
    result = vault(consumer, "connection-update", created["id"], "-c", f"api_key={credentials['api_key']}", "--check")
    assert result.exit_code == 0, result.output
    assert f"ok: agentsmesh connection {created['id']} listed" in result.output


def test_check_of_fixed_collections_reads_a_ticket_list(consumer: dict[str, str]) -> None:
    profile = ConnectorRegistry.load().definitions["selectel"].sandbox()
    with BackgroundServer(profile.create_app()) as server:
        result = vault(consumer, "connection-create", "acme", "c1", "selectel", *options(*profile.connection(server.url)),
                       "--check")
    assert result.exit_code == 0, result.output
    assert "ticket(s) of collection" in result.output and "(tickets.all, limit 1)" in result.output


def test_duplicate_app_is_a_sentence(consumer: dict[str, str]) -> None:
    result = vault(consumer, "app-create", "Again", "--app-id", "acme")
    assert result.exit_code == 1
    assert result.output == "Error: an app with id 'acme' already exists; choose another id\n"


def test_duplicate_consumer_is_a_sentence(consumer: dict[str, str]) -> None:
    result = vault(consumer, "consumer-create", "acme", "c1")
    assert result.output == "Error: app 'acme' already has a consumer 'c1'\n"


def test_consumer_of_an_unknown_app_is_a_sentence(env: dict[str, str]) -> None:
    result = vault(env, "consumer-create", "ghost-app", "c1")
    assert result.exit_code == 1
    assert result.output == "Error: there is no app 'ghost-app' (`unigate vault app-list` lists them)\n"


def test_second_connection_to_one_service_names_the_first(consumer: dict[str, str]) -> None:
    args = ["connection-create", "acme", "c1", "agentsmesh", "-s", "organization=acme", "-c", "api_key=amk_x"]
    first = orjson.loads(vault(consumer, *args).output)["id"]
    result = vault(consumer, *args)
    assert result.exit_code == 1
    assert (f"consumer 'c1' of app 'acme' is already connected to agentsmesh (connection {first}); change it with "
            f"`unigate vault connection-update {first}`") in result.output


def test_deleting_an_unknown_connection_is_a_sentence(env: dict[str, str]) -> None:
    result = vault(env, "connection-delete", "nope")
    assert result.exit_code == 1
    assert "there is no connection 'nope' (`unigate vault connection-list` lists them)" in result.output


def test_consumer_delete_removes_its_connections_only(consumer: dict[str, str]) -> None:
    vault(consumer, "consumer-create", "acme", "c2")
    for name in ("c1", "c2"):
        vault(consumer, "connection-create", "acme", name, "agentsmesh", "-s", "organization=acme", "-c", "api_key=k")
    result = vault(consumer, "consumer-delete", "acme", "c1", "--yes")
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.output) == {"app_id": "acme", "deleted_consumer": "c1", "connections_deleted": 1}
    store = stored(consumer)
    assert [c.id for c in store.list_consumers("acme")] == ["c2"]
    assert [c.consumer_id for c in store.list_connections()] == ["c2"]


def test_consumer_delete_asks_first_and_keeps_everything_on_no(consumer: dict[str, str]) -> None:
    vault(consumer, "connection-create", "acme", "c1", "agentsmesh", "-s", "organization=acme", "-c", "api_key=k")
    result = vault(consumer, "consumer-delete", "acme", "c1", input="n\n")
    assert result.exit_code == 1
    assert "Delete consumer 'c1' of app 'acme' with its 1 connection(s)? [y/N]" in result.output
    assert len(stored(consumer).list_connections()) == 1


def test_app_delete_removes_its_consumers_and_connections(consumer: dict[str, str]) -> None:
    vault(consumer, "app-create", "Other", "--app-id", "other")
    vault(consumer, "consumer-create", "other", "c1")
    for app in ("acme", "other"):
        vault(consumer, "connection-create", app, "c1", "agentsmesh", "-s", "organization=acme", "-c", "api_key=k")
    result = vault(consumer, "app-delete", "acme", input="y\n")
    assert result.exit_code == 0, result.output
    assert "Delete app 'acme' with its 1 consumer(s) and 1 connection(s)? [y/N]" in result.output
    assert orjson.loads(result.output[result.output.index("{"):]) == {
        "deleted_app": "acme", "consumers_deleted": 1, "connections_deleted": 1}
    store = stored(consumer)
    assert [a.id for a in store.list_apps()] == ["other"]
    assert [c.app_id for c in store.list_connections()] == ["other"]


def test_deleting_an_unknown_consumer_is_a_sentence(consumer: dict[str, str]) -> None:
    result = vault(consumer, "consumer-delete", "acme", "ghost", "--yes")
    assert result.exit_code == 1
    assert "app 'acme' has no consumer 'ghost'; `unigate vault consumer-list acme` lists them" in result.output
