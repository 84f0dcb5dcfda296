"""``GET /ready`` says whether the gateway can serve, and when it cannot, whether the database or the key
is wrong (a readiness probe's answer; ``/health`` stays the liveness probe)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from unigate.testing import ConnectorUnderTest
from unigate.vault.crypto import SecretBox, generate_secret_key
from unigate.vault.store import ConnectionStore


@pytest.fixture
def tracker(tmp_path: Path) -> Iterator[ConnectorUnderTest]:
    tracker = ConnectorUnderTest.start(tmp_path, "agentsmesh")
    yield tracker
    tracker.stop()


def ready(tracker: ConnectorUnderTest) -> httpx.Response:
    with tracker.harness.anonymous() as anonymous:
        return anonymous.get("/ready")


def test_a_gateway_whose_database_answers_and_key_matches_is_ready(tracker: ConnectorUnderTest) -> None:
    response = ready(tracker)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "secret_key": "ok"}}


def test_a_key_rotated_away_by_another_process_makes_it_not_ready_naming_the_key(tracker: ConnectorUnderTest) -> None:
    cli_store = ConnectionStore(tracker.harness.gateway.settings.database, SecretBox(tracker.harness.secret_key))
    cli_store.rotate_key(SecretBox(generate_secret_key()))  # as `unigate vault rotate-key` does
    cli_store.close()
    response = ready(tracker)
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["checks"]["database"]) == ("not_ready", "ok")
    assert "UNIGATE_SECRET_KEY" in body["checks"]["secret_key"]


def test_a_vault_file_gone_makes_it_not_ready_naming_the_database(tracker: ConnectorUnderTest) -> None:
    vault = Path(tracker.harness.gateway.settings.database)
    vault.rename(vault.with_name("moved.db"))   # the volume unmounted, the file removed by mistake
    try:
        response = ready(tracker)
    finally:
        vault.with_name("moved.db").rename(vault)
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"].startswith(f"the vault database file {vault} is gone")
    assert checks["secret_key"].startswith("unknown")

