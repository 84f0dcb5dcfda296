"""Cassettes hold the gateway's downstream traffic only, and a replay must match its recording.

A recording is made through the gateway against Codimir's simulator; a replay then runs a fresh
gateway with no simulator at all. Matching is on method, scheme, host, port, path, query and body;
each recording answers once; a request the cassette lacks, or a recording never asked for, fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from unigate.testing import ConnectorUnderTest
from unigate.testing.cassettes import Cassette, CassetteTap, Exchange, Scrubber

TICKETS = "/issue-tracking/collections/project_456/tickets"


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str, list[str]]]:
    """A cassette of three gateway requests to Codimir: (path, simulator URL, gateway URL, secrets)."""
    tmp = tmp_path_factory.mktemp("recording")
    tap = CassetteTap()
    tracker = ConnectorUnderTest.start(tmp, "codimir", wrap_transport=tap)
    secrets = [str(v) for v in tracker.credentials.values()]
    cassette = Cassette(tmp / "three.yaml", "record", Scrubber(secrets), server=tracker.url)
    try:
        with tap.use(cassette), tracker.client() as client:
            assert client.get(TICKETS, params={"limit": 2}).status_code == 200
            created = client.post(TICKETS, json={"subject": "Taped"})
            assert created.status_code == 201
            assert client.get(f"{TICKETS}/{created.json()['data']['id']}").status_code == 200
        yield cassette.path, tracker.url, tracker.harness.server.url, secrets
    finally:
        tracker.stop()


@pytest.fixture
def replaying(recording: tuple[Path, str, str, list[str]], tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[CassetteTap, Cassette, httpx.Client]]:
    """A gateway with no simulator behind it, its downstream answered by the recording."""
    monkeypatch.delenv("UNIGATE_RECORD_CASSETTES", raising=False)
    path, server, _, secrets = recording
    tap = CassetteTap()
    cassette = Cassette.open(path, secrets=secrets)
    tracker = ConnectorUnderTest.start(tmp_path, "codimir", simulate=False, url=server, wrap_transport=tap)
    try:
        with tracker.client() as client:
            yield tap, cassette, client
    finally:
        tracker.stop()


def test_a_recording_holds_the_trackers_traffic_and_never_the_gateways(
        recording: tuple[Path, str, str, list[str]]) -> None:
    path, server, gateway, _ = recording
    urls = [item["request"]["url"] for item in yaml.safe_load(path.read_text())["interactions"]]
    assert urls and all(url.startswith(server + "/api/") for url in urls)
    assert gateway not in path.read_text() and "/issue-tracking/" not in path.read_text()


def test_a_recording_holds_no_credential(recording: tuple[Path, str, str, list[str]]) -> None:
    path, _, _, secrets = recording
    text = path.read_text()
    assert secrets and not [s for s in secrets if s in text]
    assert "cookie" not in text.lower() and "authorization" not in text.lower()


def test_a_replay_answers_as_the_tracker_did_with_no_tracker_running(
        replaying: tuple[CassetteTap, Cassette, httpx.Client]) -> None:
    tap, cassette, client = replaying
    with tap.use(cassette):
        listed = client.get(TICKETS, params={"limit": 2})
        created = client.post(TICKETS, json={"subject": "Taped"})
        read = client.get(f"{TICKETS}/{created.json()['data']['id']}")
    assert listed.status_code == 200 and len(listed.json()["data"]) == 2
    assert created.status_code == 201
    assert read.json()["data"]["subject"] == "Taped"


def test_a_replay_fails_when_a_recorded_exchange_is_never_requested(
        replaying: tuple[CassetteTap, Cassette, httpx.Client]) -> None:
    tap, cassette, client = replaying
    with pytest.raises(AssertionError, match="recorded but never requested: POST"), tap.use(cassette):
        client.get(TICKETS, params={"limit": 2})


def test_a_request_the_cassette_lacks_gets_a_502_and_fails_the_replay(
        replaying: tuple[CassetteTap, Cassette, httpx.Client]) -> None:
    tap, cassette, client = replaying
    with pytest.raises(AssertionError, match=r"request not in the cassette: GET .*limit=3"), tap.use(cassette):
        response = client.get(TICKETS, params={"limit": 3})
        assert response.status_code == 502
        client.post(TICKETS, json={"subject": "Taped"})


def test_a_recording_answers_once(replaying: tuple[CassetteTap, Cassette, httpx.Client]) -> None:
    tap, cassette, client = replaying
    with pytest.raises(AssertionError, match="request not in the cassette: POST"), tap.use(cassette):
        client.post(TICKETS, json={"subject": "Taped"})
        assert client.post(TICKETS, json={"subject": "Taped"}).status_code == 502


RECORDED = Exchange("POST", "http://127.0.0.1:3100/issues.json?project_id=demo&limit=2", b'{"a":1}', {},
                    201, {}, b"{}")


@pytest.mark.parametrize("url, body", [
    ("https://127.0.0.1:3100/issues.json?project_id=demo&limit=2", b'{"a":1}'),   # scheme
    ("http://localhost:3100/issues.json?project_id=demo&limit=2", b'{"a":1}'),    # host
    ("http://127.0.0.1:3101/issues.json?project_id=demo&limit=2", b'{"a":1}'),    # port
    ("http://127.0.0.1:3100/issues.xml?project_id=demo&limit=2", b'{"a":1}'),     # path
    ("http://127.0.0.1:3100/issues.json?project_id=demo&limit=3", b'{"a":1}'),    # query value
    ("http://127.0.0.1:3100/issues.json?limit=2&project_id=demo", b'{"a":1}'),    # query order
    ("http://127.0.0.1:3100/issues.json?project_id=demo&limit=2", b'{"a":2}'),    # body
], ids=["scheme", "host", "port", "path", "query", "query-order", "body"])
def test_a_request_matches_only_on_every_part(url: str, body: bytes) -> None:
    cassette = Cassette(Path("x.yaml"), "replay", Scrubber([]), exchanges=[Exchange(**RECORDED.__dict__)])
    assert cassette.play("POST", url, body) is None
    assert cassette.play("GET", RECORDED.url, RECORDED.body) is None  # method
    assert cassette.play("POST", RECORDED.url, RECORDED.body) is not None


def test_a_request_is_scrubbed_before_it_is_matched() -> None:
    recorded = Exchange("GET", "http://h/api?key=[REDACTED]", b"", {}, 200, {}, b"{}")
    cassette = Cassette(Path("x.yaml"), "replay", Scrubber(["s3cret-value"]), exchanges=[recorded])
    assert cassette.play("GET", "http://h/api?key=s3cret-value", b"") is recorded


def test_secret_headers_come_from_the_manifest_and_are_never_kept() -> None:
    from unigate.mapping.spec import parse_mapping
    from unigate.testing.cassettes import secret_headers

    credentials = {name: {"required": True} for name in ("key", "user", "password")}
    spec = parse_mapping({"service_id": "acme", "name": "Acme", "connection": {"credentials": credentials}, "http": {
        "base_url": "http://acme.test", "headers": {"X-Acme-Key": "{credentials.key}", "X-Requested-With": "rest"},
        "basic_auth": {"username": "{credentials.user}", "password": "{credentials.password}"}},
        "resources": {}}, "acme")
    headers = secret_headers(spec)
    assert {"x-acme-key", "authorization", "cookie"} <= headers and "x-requested-with" not in headers
    kept = Scrubber([], headers).headers(httpx.Headers({"X-Acme-Key": "k3y", "X-Requested-With": "rest"}))
    assert kept == {"x-requested-with": "rest"}
