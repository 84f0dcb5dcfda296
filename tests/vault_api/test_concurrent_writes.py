"""Concurrent writes to one connection never lose a write.

Each change is merged into the connection as stored when it is written, inside one write
transaction, so partial updates racing from many requests (and from another process's vault
connection, as the CLI has) all land; a client that sends the ``ETag`` it read as ``If-Match`` has
its write refused with 409 ``ConflictError`` if the connection changed since.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import httpx

from unigate.app import open_store
from unigate.testing import GatewayHarness, Simulator

from .conftest import CONNECTION, MAPPINGS, connect, error

WRITERS = 16


def together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` at once, each on a thread of its own released by one barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def client_of(harness: GatewayHarness, vault: httpx.Client) -> httpx.Client:
    return httpx.Client(base_url=harness.server.url, headers=dict(vault.headers), timeout=30)


def test_racing_partial_updates_all_land(harness: GatewayHarness, vault: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim)
    revision = int(vault.get(CONNECTION).headers["etag"].strip('"').rpartition(".")[2])

    def add(n: int) -> Callable[[], int]:
        def call() -> int:
            with client_of(harness, vault) as client:
                return client.post(f"{MAPPINGS}/issue-tracking+tickets+field{n}", json={"value": f"$.f{n}"}).status_code
        return call

    assert together([add(n) for n in range(WRITERS)]) == [200] * WRITERS
    after = vault.get(CONNECTION)
    assert {m["key"]: m["value"] for m in after.json()["data"]["custom_mappings"]} == {
        f"field{n}": f"$.f{n}" for n in range(WRITERS)}
    assert after.headers["etag"].endswith(f'.{revision + WRITERS}"')


def test_writes_from_another_process_and_the_api_interleave_without_loss(
        harness: GatewayHarness, vault: httpx.Client, sim: Simulator) -> None:
    """Another vault connection (the CLI's, another worker's) changes the same connection meanwhile."""
    connect(vault, sim)
    other = open_store(harness.gateway.settings, harness.secret_key)
    connection_id = harness.store.find_connection("test-app", vault.headers["x-apideck-consumer-id"],
                                                  "agentsmesh").id

    def api(n: int) -> Callable[[], int]:
        def call() -> int:
            with client_of(harness, vault) as client:
                return client.patch(CONNECTION, json={"custom_mappings": [{"key": f"api{n}", "value": "$.id"}]}).status_code
        return call

    def cli(n: int) -> Callable[[], int]:
        def call() -> int:
            other.modify_connection(connection_id, lambda c: replace(c, custom_mappings={**c.custom_mappings,
                                                                                          f"cli{n}": "$.id"}))
            return 200
        return call

    try:
        assert together([f(n) for n in range(WRITERS // 2) for f in (api, cli)]) == [200] * WRITERS
    finally:
        other.close()
    keys = {m["key"] for m in vault.get(CONNECTION).json()["data"]["custom_mappings"]}
    assert keys == {f"{side}{n}" for n in range(WRITERS // 2) for side in ("api", "cli")}


def test_if_match_with_the_current_etag_writes_and_moves_the_etag(vault: httpx.Client, sim: Simulator) -> None:
    tag = connect(vault, sim).headers["etag"]
    written = vault.patch(CONNECTION, json={"enabled": False}, headers={"if-match": tag})
    assert written.status_code == 200
    assert written.headers["etag"] not in (tag, None)


def test_if_match_with_a_stale_etag_is_a_conflict_and_changes_nothing(vault: httpx.Client, sim: Simulator) -> None:
    stale = connect(vault, sim).headers["etag"]
    vault.patch(CONNECTION, json={"settings": {"timeout": 20}})
    error(vault.patch(CONNECTION, json={"settings": {"timeout": 5}}, headers={"if-match": stale}), 409, "ConflictError")
    error(vault.delete(CONNECTION, headers={"if-match": stale}), 409, "ConflictError")
    assert vault.get(CONNECTION).json()["data"]["settings"]["timeout"] == 20


def test_an_etag_of_a_deleted_connection_does_not_match_its_successor(vault: httpx.Client, sim: Simulator) -> None:
    old = connect(vault, sim).headers["etag"]
    vault.delete(CONNECTION)
    connect(vault, sim)
    error(vault.patch(CONNECTION, json={"enabled": False}, headers={"if-match": old}), 409, "ConflictError")


def test_of_two_writes_sending_the_same_etag_exactly_one_wins(harness: GatewayHarness, vault: httpx.Client,
                                                              sim: Simulator) -> None:
    tag = connect(vault, sim).headers["etag"]

    def write(timeout: int) -> Callable[[], int]:
        def call() -> int:
            with client_of(harness, vault) as client:
                return client.patch(CONNECTION, json={"settings": {"timeout": timeout}},
                                    headers={"if-match": tag}).status_code
        return call

    assert sorted(together([write(5), write(9)])) == [200, 409]


def test_if_match_on_a_connection_that_does_not_exist_is_a_conflict(vault: httpx.Client, sim: Simulator) -> None:
    error(vault.patch(CONNECTION, json={"enabled": False}, headers={"if-match": "*"}), 409, "ConflictError")
    assert vault.get(CONNECTION).json()["data"]["state"] == "available"   # not added


def test_a_write_that_changes_nothing_keeps_the_etag(vault: httpx.Client, sim: Simulator) -> None:
    tag = connect(vault, sim).headers["etag"]
    assert vault.patch(CONNECTION, json={"enabled": True}).headers["etag"] == tag
