"""A gateway still running with a rotated-away key says so: /health is 503 and requests name the cause.

`unigate vault rotate-key` re-encrypts the vault for a new key; a gateway started before keeps the
old one. It cannot serve (its key opens nothing), but it must not look healthy nor answer a bare
"unexpected error": the orchestrator's health check restarts it, and a client reads why.
"""

from __future__ import annotations

from pathlib import Path

from unigate.testing import ConnectorUnderTest
from unigate.vault.crypto import SecretBox, generate_secret_key
from unigate.vault.store import ConnectionStore

TICKETS = "/issue-tracking/collections/1/tickets"


def test_health_is_503_and_requests_name_the_rotated_key(tmp_path: Path, database: Path | str) -> None:
    tracker = ConnectorUnderTest.start(tmp_path, "agentsmesh", database=database)
    try:
        with tracker.harness.anonymous() as anonymous:
            assert anonymous.get("/health").json()["status"] == "ok"
        cli_store = ConnectionStore(tracker.harness.gateway.settings.database, SecretBox(tracker.harness.secret_key))
        cli_store.rotate_key(SecretBox(generate_secret_key()))  # another process, as `unigate vault rotate-key`
        cli_store.close()
        with tracker.harness.anonymous() as anonymous:
            health = anonymous.get("/health")
        assert health.status_code == 503 and "rotated" in health.json()["error"]
        with tracker.client() as client:
            response = client.get(TICKETS)
        body = response.json()
        assert (response.status_code, body["type_name"], body["message"]) == (500, "UnexpectedError",
                                                                             "Vault key rotated")
    finally:
        tracker.stop()
