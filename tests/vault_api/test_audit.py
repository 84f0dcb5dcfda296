"""Every vault change is recorded: who (the app and its API key's id, or the operator on the host),
when, and what changed (field names and non-secret values; credentials by name only)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner

from unigate.cli import main
from unigate.testing import GatewayHarness, Simulator
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import CONNECTION, MAPPINGS, connect


def trail(vault: httpx.Client, consumer: str) -> list[dict]:  # type: ignore[type-arg]
    response = vault.get("/vault/audit", params={"consumer_id": consumer, "limit": 50})
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["data"]))   # oldest first


def test_api_changes_are_recorded_as_the_app_and_its_key(harness: GatewayHarness, vault: httpx.Client,
                                                         consumer: str, sim: Simulator) -> None:
    connect(vault, sim)
    vault.post(f"{MAPPINGS}/issue-tracking+tickets+slug", json={"value": "$.slug"})
    vault.delete(CONNECTION)
    records = trail(vault, consumer)
    assert [r["action"] for r in records] == ["consumer.created", "connection.created", "connection.updated",
                                              "connection.deleted"]
    key_id = hashlib.sha256(harness.api_key.encode()).hexdigest()[:12]
    assert {(r["actor"], r["key_id"], r["app_id"]) for r in records} == {("api:test-app", key_id, "test-app")}
    created = records[1]
    assert created["service_id"] == "agentsmesh"
    assert created["changes"] == {"settings": {"base_url": {"to": sim.url}, "organization": {"to": agentsmesh.DEFAULT_ORG}},
                                  "credentials": {"api_key": "set"}, "enabled": {"to": True}}
    assert records[2]["changes"] == {"custom_mappings": {"slug": {"to": "$.slug"}}}


def test_changed_settings_are_recorded_from_and_to(vault: httpx.Client, consumer: str, sim: Simulator) -> None:
    connect(vault, sim)
    vault.patch(CONNECTION, json={"settings": {"timeout": 20}, "enabled": False})
    assert trail(vault, consumer)[-1]["changes"] == {"settings": {"timeout": {"to": 20}},
                                                     "enabled": {"from": True, "to": False}}


def test_credentials_are_recorded_by_name_only(vault: httpx.Client, consumer: str, sim: Simulator) -> None:
    connect(vault, sim)
    vault.patch(CONNECTION, json={"settings": {"api_key": "amk_new_secret_value"}})
    vault.patch(CONNECTION, json={"settings": {"api_key": None}})
    records = trail(vault, consumer)
    assert [r["changes"] for r in records[-2:]] == [{"credentials": {"api_key": "changed"}},
                                                    {"credentials": {"api_key": "removed"}}]
    text = orjson.dumps(records).decode()
    assert "amk_new_secret_value" not in text and agentsmesh.DEFAULT_API_KEY not in text


def test_settings_declared_secret_are_recorded_without_their_value(harness: GatewayHarness, vault: httpx.Client,
                                                                   consumer: str, sim: Simulator) -> None:
    declared = harness.store.secret_settings
    harness.store.secret_settings = lambda service_id: frozenset({"organization"})  # as a manifest's `secret: true`
    try:
        connect(vault, sim)
    finally:
        harness.store.secret_settings = declared
    assert trail(vault, consumer)[-1]["changes"]["settings"]["organization"] == {"to": "[secret]"}


def test_an_app_reads_only_its_own_records(harness: GatewayHarness, vault: httpx.Client, consumer: str,
                                           sim: Simulator) -> None:
    connect(vault, sim)
    other_id = f"auditor-{consumer[-6:]}"
    _, other_key = harness.store.create_app("Other", app_id=other_id)
    seen = vault.get("/vault/audit", headers={"authorization": f"Bearer {other_key}", "x-apideck-app-id": other_id})
    assert {r["app_id"] for r in seen.json()["data"]} == {other_id}


def test_audit_pages_newest_first(vault: httpx.Client, consumer: str, sim: Simulator) -> None:
    connect(vault, sim)
    first = vault.get("/vault/audit", params={"consumer_id": consumer, "limit": 1}).json()
    assert first["data"][0]["action"] == "connection.created"
    following = vault.get("/vault/audit", params={"consumer_id": consumer, "limit": 1,
                                                  "cursor": first["meta"]["cursors"]["next"]}).json()
    assert following["data"][0]["action"] == "consumer.created"


# -- the operator's view: `unigate vault audit` -----------------------------------------------------------
@pytest.fixture
def env(database: Path | str) -> Iterator[dict[str, str]]:
    from unigate.vault.crypto import generate_secret_key

    yield {"UNIGATE_DATABASE": str(database), "UNIGATE_SECRET_KEY": generate_secret_key()}


def cli(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, ["vault", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_cli_lists_every_change_with_the_host_user(env: dict[str, str]) -> None:
    cli(env, "app-create", "Acme", "--app-id", "acme")
    cli(env, "consumer-create", "acme", "c1")
    lines = cli(env, "audit").splitlines()
    assert [line.split()[1] for line in lines] == ["consumer.created", "app.created"]
    assert all(" by host:" in line for line in lines)
    records = [orjson.loads(line) for line in cli(env, "audit", "--json", "--app-id", "acme").splitlines()]
    assert records[0]["consumer_id"] == "c1" and records[0]["actor"].startswith("host:")


def test_the_cli_records_connection_updates_it_makes(env: dict[str, str]) -> None:
    cli(env, "app-create", "Acme", "--app-id", "acme")
    cli(env, "consumer-create", "acme", "c1")
    created = orjson.loads(cli(env, "connection-create", "acme", "c1", "agentsmesh", "-s", "organization=acme",
                               "-c", "api_key=amk_cli_secret"))
    cli(env, "connection-update", created["id"], "-s", "organization=other")
    [latest] = [orjson.loads(line) for line in cli(env, "audit", "--json", "--limit", "1").splitlines()]
    assert (latest["action"], latest["changes"]) == ("connection.updated",
                                                     {"settings": {"organization": {"from": "acme", "to": "other"}}})
    assert "amk_cli_secret" not in cli(env, "audit", "--json")
