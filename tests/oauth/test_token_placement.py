"""Where a manifest places the access token other than ``Authorization: Bearer`` (``oauth2.placement``): in a
query parameter (connector/variants/query.yaml) or a header of its own with its own format (header.yaml). The
authorization server's tracker takes the token only there (``OAuthServer.token_query``, ``token_header``), so
every call it answers, the post-token lookup included, shows where the gateway put it; and the token, however
placed, is redacted from ``_raw``, the request log and the gateway's log lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from unigate.observability import requestlog
from unigate.plugins.registry import ConnectorRegistry
from unigate.simulation import BackgroundServer
from unigate.simulation.oauth_server import OAuthServer
from unigate.testing import GatewayHarness

from .conftest import APP_REDIRECT, CLIENT_ID, CLIENT_SECRET, Provider, connect, tickets
from .test_secrets import gateway_lines, secrets_seen

QUERY, HEADER = "oauthtracker-query", "oauthtracker-header"
# how each variant's tracker takes the token (its manifest's `placement`)
TAKES = {QUERY: {"token_query": "oauth_token"}, HEADER: {"token_header": "x-tracker-token", "token_scheme": "token"}}


@pytest.fixture(scope="module")
def providers() -> Iterator[dict[str, Provider]]:
    """One authorization server and tracker per variant, taking the token only where its manifest places it."""
    with ExitStack() as stack:
        found = {}
        for service, takes in TAKES.items():
            server = OAuthServer(**takes)
            found[service] = Provider(server, stack.enter_context(BackgroundServer(server.app)))
        yield found


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, providers: dict[str, Provider],
            module_database: Path | str) -> Iterator[GatewayHarness]:
    registry = ConnectorRegistry()
    registry.load_manifest_dir(Path(__file__).parent / "connector" / "variants")
    assert not registry.failures and sorted(registry.connectors) == sorted(TAKES), registry.failures
    harness = GatewayHarness(tmp_path_factory.mktemp("placement"), registry=registry, database=module_database)
    with harness.client() as app:
        for service, provider in providers.items():
            provider.server.register(CLIENT_ID, CLIENT_SECRET, [f"{harness.server.url}/vault/callback"])
            registered = app.patch(f"/vault/oauth-clients/issue-tracking/{service}", json={
                "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [APP_REDIRECT]})
            assert registered.status_code == 200, registered.text
    yield harness
    harness.stop()


@pytest.fixture(params=[QUERY, HEADER])
def service(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def placed(service: str, providers: dict[str, Provider]) -> Provider:
    """The variant's provider, its calls forgotten at the start of the test."""
    provider = providers[service]
    provider.server.calls.clear()
    return provider


def token_in(service: str, call: dict[str, Any]) -> str | None:
    """The access token a call carried where the variant's manifest places it."""
    if service == QUERY:
        return call["query"].get("oauth_token")
    value = call["headers"].get("x-tracker-token", "")
    return value.removeprefix("token ") if value.startswith("token ") else None


def test_every_call_carries_the_token_where_the_manifest_places_it(
        service: str, placed: Provider, vault: httpx.Client, browser: httpx.Client) -> None:
    connect(vault, browser, placed, service)
    response = tickets(vault, service)
    assert response.status_code == 200, response.text
    assert [t["subject"] for t in response.json()["data"]] == ["Login fails", "Slow search"]
    calls = [c for c in placed.server.calls if c["path"].startswith(("/api/", "/oauth/accessible-resources"))]
    assert [c["path"] for c in calls] == ["/oauth/accessible-resources", "/api/cloud-7d1f/projects/1/issues"]
    issued = set(placed.server.access_tokens)
    assert [(token_in(service, c) in issued, c["authorization"], c["status"]) for c in calls] == \
        [(True, None, 200), (True, None, 200)]
    if service == HEADER:   # and the query does not carry it either
        assert all(c["query"] == {} for c in calls)


def test_a_refreshed_token_is_placed_the_same_way(service: str, placed: Provider, vault: httpx.Client,
                                                  browser: httpx.Client) -> None:
    connect(vault, browser, placed, service)
    placed.server.revoke_all(refresh=False)   # the tracker refuses the token: refreshed, then retried once
    assert tickets(vault, service).status_code == 200
    refused, retried = placed.server.tracker_calls()[-2:]
    assert (refused["status"], retried["status"]) == (401, 200)
    assert token_in(service, retried) != token_in(service, refused) and placed.server.valid(token_in(service, retried))


def test_the_placed_token_is_redacted_from_raw_the_request_log_and_the_logs(
        service: str, placed: Provider, harness: GatewayHarness, vault: httpx.Client, browser: httpx.Client,
        consumer: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    connect(vault, browser, placed, service)
    listed = tickets(vault, service, raw="true")
    missing = vault.get("/issue-tracking/collections/404/tickets", params={"raw": "true"},
                        headers={"x-apideck-service-id": service})   # the tracker's 404: each call in _raw
    assert (listed.status_code, missing.status_code) == (200, 404)
    [call] = missing.json()["_raw"]["calls"]
    if service == QUERY:
        assert call["url"].endswith("/projects/404/issues?oauth_token=%5BREDACTED%5D")
    else:
        assert call["request"]["headers"] == {"x-tracker-token": "[REDACTED]"}
    harness.gateway.request_log.flush()
    rows = harness.gateway.request_log.query(requestlog.LogFilter(consumer_id=consumer), 50)
    assert len(rows) == 2
    shown = {"raw": listed.text + missing.text, "request log": orjson.dumps([requestlog.details(r) for r in rows]).decode(),
             "log lines": "\n".join(gateway_lines(caplog.records))}
    tokens = secrets_seen(placed) | set(placed.server.access_tokens)
    assert {where: [t for t in tokens if t in text] for where, text in shown.items()} == \
        {"raw": [], "request log": [], "log lines": []}
