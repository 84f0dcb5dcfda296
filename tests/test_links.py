"""``links`` never point where a forged Host header says: a configured public URL, a trusted host, or relative.

A list's ``links.next`` is what a client follows for the next page; built from any Host header,
an attacker who controls that header (a shared proxy, a cache) could send the next page's request,
with the client's API key, to a host of their choosing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from unigate.settings import Settings
from unigate.testing import ConnectorUnderTest

TICKETS = "/issue-tracking/collections/1/tickets"


@pytest.fixture(scope="module")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectorUnderTest]:
    started = ConnectorUnderTest.start(tmp_path_factory.mktemp("links"), "agentsmesh")
    yield started
    started.stop()


def links(client: httpx.Client, host: str) -> dict[str, str | None]:
    response = client.get(TICKETS, params={"limit": 2}, headers={"host": host})
    assert response.status_code == 200, response.text
    return response.json()["links"]


def test_an_untrusted_host_header_gets_links_relative_to_the_server(tracker: ConnectorUnderTest) -> None:
    with tracker.client() as client:
        found = links(client, "attacker.example")
    assert found["current"] == f"{TICKETS}?limit=2"
    assert found["next"] is not None and found["next"].startswith(f"{TICKETS}?")
    assert "attacker" not in str(found)


def test_a_trusted_host_header_gets_absolute_links(tracker: ConnectorUnderTest) -> None:
    port = tracker.harness.server.port
    with tracker.client() as client:
        found = links(client, f"localhost:{port}")
    assert found["current"] == f"http://localhost:{port}{TICKETS}?limit=2"


def test_a_configured_public_url_wins_over_any_host_header(tmp_path: Path) -> None:
    tracker = ConnectorUnderTest.start(tmp_path, "agentsmesh", settings={"public_url": "https://gateway.example.com/"})
    try:
        with tracker.client() as client:
            found = links(client, "attacker.example")
    finally:
        tracker.stop()
    assert found["current"] == f"https://gateway.example.com{TICKETS}?limit=2"


def test_trusted_hosts_come_from_the_environment() -> None:
    assert Settings.from_env({"UNIGATE_TRUSTED_HOSTS": "gw.internal, API.example.com"}).trusted_hosts == (
        "gw.internal", "api.example.com")
    assert Settings.from_env({}).trusted_hosts == ("localhost", "127.0.0.1", "::1")
