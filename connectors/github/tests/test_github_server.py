"""github-server: the same connector against GitHub Enterprise Server's API root (``/api/v3``),
every exchange held to the description served under that root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from unigate.testing import ConnectorUnderTest, SpecCheck, VendorSpec, error_of, walk_pages

SPEC = Path(__file__).resolve().parent.parent / "spec" / "api.github.com.issues.json"
BASIC = "#/components/schemas/basic-error"
TICKETS = "/issue-tracking/collections/octo-org~platform/tickets"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ConnectorUnderTest, SpecCheck]]:
    tracker = ConnectorUnderTest.start(tmp_path_factory.mktemp("github-server"), "github-server")
    assert tracker.simulator is not None
    spec = VendorSpec.load(SPEC, base_path="/api/v3", undeclared={304: None, 401: BASIC, 403: BASIC, 404: BASIC})
    checked = SpecCheck.inside(tracker.simulator.app, spec)
    yield tracker, checked
    tracker.stop()
    checked.assert_clean()


def test_the_connection_needs_the_servers_api_root(server: tuple[ConnectorUnderTest, SpecCheck]) -> None:
    tracker, _ = server
    tracker.harness.connect_consumer("github-server", "no-url", {}, {"access_token": "x"})
    with tracker.harness.client(consumer_id="no-url") as client:
        response = client.get(TICKETS)
    assert error_of(response) == (422, "ConnectionSettingsError") and "base_url" in response.json()["detail"]


def test_tickets_are_read_and_written_under_api_v3(server: tuple[ConnectorUnderTest, SpecCheck]) -> None:
    tracker, checked = server
    with tracker.client() as client:
        ids, ended = walk_pages(client, TICKETS, 50)
        created = client.post(TICKETS, json={"subject": "On the server", "priority": "low"})
        assert created.status_code == 201, created.text
        number = created.json()["data"]["id"]
        assert client.get(f"{TICKETS}/{number}").json()["data"]["priority"] == "low"
        assert error_of(client.get(f"{TICKETS}/999999")) == (404, "EntityNotFoundError")
    assert ended and ids
    assert tracker.simulator is not None
    assert all(r["path"].startswith("/api/v3/") for r in tracker.simulator.requests())
    checked.assert_clean()
