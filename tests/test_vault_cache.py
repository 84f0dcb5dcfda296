"""The vault's lookup cache is bounded: made-up ids in request headers cannot fill memory (the store's own
tests on SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from unigate.app import open_store
from unigate.settings import Settings
from unigate.testing import GatewayHarness
from unigate.testing.harness import APP_ID
from unigate.vault.crypto import SecretBox, generate_secret_key
from unigate.vault.store import ConnectionStore

from .conftest import TICKETS


def test_thousands_of_unknown_app_ids_through_the_gateway_are_not_remembered(harness: GatewayHarness) -> None:
    with harness.client("agentsmesh") as client:
        assert client.get(TICKETS, params={"limit": 1}).status_code == 200  # the real app is cached
        cached = harness.store.cached_entries
        for n in range(2000):
            response = client.get(TICKETS, headers={"x-apideck-app-id": f"made-up-{n}-" + "x" * 2000})
            assert response.status_code == 401
        assert harness.store.cached_entries <= cached
        assert client.get(TICKETS, params={"limit": 1}).json()["data"][0]["id"].startswith("AM-")


def test_unknown_consumers_of_a_real_app_are_not_remembered(database: Path | str) -> None:
    store = open_store(Settings(database=database), generate_secret_key())
    _, api_key = store.create_app("Acme", app_id="acme")
    for n in range(5000):
        app, connections = store.lookup("acme", api_key, f"nobody-{n}")
        assert app is not None and connections == []
    assert store.cached_entries == 1  # the app
    store.close()


def test_the_cache_never_holds_more_than_its_bound(database: Path | str) -> None:
    store = ConnectionStore(database, SecretBox(generate_secret_key()), cache_entries=50)
    _, api_key = store.create_app("Acme", app_id=APP_ID)
    for n in range(120):
        store.create_consumer(APP_ID, f"c{n}")
        store.create_connection(APP_ID, f"c{n}", "agentsmesh", settings={"organization": f"org{n}"})
    for n in range(120):
        _, connections = store.lookup(APP_ID, api_key, f"c{n}")
        assert store.cached_entries <= 50
        assert [c.settings["organization"] for c in connections] == [f"org{n}"]
    store.close()


def test_an_evicted_lookup_is_answered_again_from_the_vault(database: Path | str) -> None:
    store = ConnectionStore(database, SecretBox(generate_secret_key()), cache_entries=2)
    _, api_key = store.create_app("Acme", app_id=APP_ID)
    for consumer in ("first", "second", "third"):
        store.create_consumer(APP_ID, consumer)
        store.create_connection(APP_ID, consumer, "agentsmesh", settings={"organization": consumer})
    for consumer in ("first", "second", "third", "first"):
        _, connections = store.lookup(APP_ID, api_key, consumer)
        assert connections[0].settings == {"organization": consumer}
    assert store.authenticate(APP_ID, api_key) is not None
    assert store.authenticate(APP_ID, "ugk_wrong") is None
    store.close()
