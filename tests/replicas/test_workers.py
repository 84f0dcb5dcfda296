"""``unigate serve --workers N``: N worker processes share one port and one vault, and answer alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from unigate.plugins.registry import ConnectorRegistry
from unigate.testing.harness import Simulator
from unigate.vault.crypto import generate_secret_key

from .conftest import APP, CONSUMER, Replica, make_vault, serve, stop

TICKETS = "/issue-tracking/collections/project_456/tickets"


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Replica, str, Path]]:
    profile = ConnectorRegistry.load().definitions["codimir"].sandbox()
    tracker = Simulator.start(profile.create_app())
    key, database = generate_secret_key(), tmp_path_factory.mktemp("workers") / "vault.db"
    api_key = make_vault(database, key, tracker.url, profile)
    replica = serve(str(database), key, "--workers", "2")
    yield replica, api_key, database
    stop(replica)
    tracker.stop()


def _workers(pid: int) -> list[int]:
    """The worker processes uvicorn's supervisor ``pid`` spawned (not multiprocessing's resource tracker)."""
    children = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [c for c in children if b"resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes()]


def _get(replica: Replica, api_key: str, **headers: str) -> httpx.Response:
    """A request on a connection of its own (so the kernel may hand it to either worker)."""
    return httpx.get(replica.url + TICKETS, params={"limit": 1}, timeout=30, headers={
        "authorization": f"Bearer {api_key}", "x-apideck-app-id": APP, "x-apideck-consumer-id": CONSUMER, **headers})


def test_two_worker_processes_serve_under_one_supervisor(workers: tuple[Replica, str, Path]) -> None:
    replica, api_key, _ = workers
    assert len(_workers(replica.process.pid)) == 2
    assert {_get(replica, api_key).status_code for _ in range(10)} == {200}


def test_a_connection_disabled_through_one_worker_is_refused_by_all(workers: tuple[Replica, str, Path]) -> None:
    replica, api_key, _ = workers
    assert {_get(replica, api_key).status_code for _ in range(10)} == {200}
    vault = {"authorization": f"Bearer {api_key}", "x-apideck-app-id": APP, "x-apideck-consumer-id": CONSUMER}
    connection = f"{replica.url}/vault/connections/issue-tracking/codimir"
    assert httpx.patch(connection, json={"enabled": False}, headers=vault, timeout=30).status_code == 200
    try:
        answers = [_get(replica, api_key, **{"x-apideck-service-id": "codimir"}) for _ in range(10)]
    finally:
        assert httpx.patch(connection, json={"enabled": True}, headers=vault, timeout=30).status_code == 200
    assert {(a.status_code, a.json()["type_name"]) for a in answers} == {(422, "ConnectorDisabledError")}
