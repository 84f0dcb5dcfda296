"""No OAuth secret (client secret, authorization code, PKCE verifier, access or refresh token) in the
gateway's logs, its error bodies or its request log, even when the provider quotes them back; nor in clear in
the database, on either backend."""

from __future__ import annotations

import logging

import httpx
import pytest

from unigate.testing import GatewayHarness
from unigate.testing.databases import stored_bytes

from .conftest import CLIENT_SECRET, Provider, authorize_url, connect, error, start, tickets


def secrets_seen(provider: Provider) -> set[str]:
    """Every secret of the test so far, as the provider saw or issued them."""
    server = provider.server
    found = {CLIENT_SECRET, *server.access_tokens, *server.refresh_tokens}
    for call in server.calls:
        found |= {v for k, v in {**call["form"], **call["query"]}.items()
                  if k in ("code", "code_verifier", "refresh_token") and v}
    return found


def gateway_lines(records: list[logging.LogRecord]) -> list[str]:
    """What the gateway logged: records of its server's threads (the test's own clients log from the main
    thread, and the consumer's browser does see the code in the provider's redirect)."""
    return [f"{r.name} {r.getMessage()}" for r in records if r.threadName != "MainThread"]


def test_no_secret_reaches_the_logs(vault: httpx.Client, browser: httpx.Client, provider: Provider,
                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    connect(vault, browser, provider)
    provider.server.revoke_all(refresh=False)
    assert tickets(vault).status_code == 200        # refreshed after a 401
    provider.server.revoke_all()
    error(tickets(vault), 401, "ConnectorCredentialsError")   # refresh refused
    logged = "\n".join(gateway_lines(caplog.records))
    assert "HTTP Request: POST" in logged   # the token endpoint calls were logged...
    leaked = [s for s in secrets_seen(provider) if s in logged]
    assert leaked == [], [line for line in logged.splitlines() if any(s in line for s in leaked)]


def test_no_secret_in_error_bodies_when_the_provider_quotes_them(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    provider.server.echo_in_errors = True
    hops = start(browser, authorize_url(vault, provider))
    provider.server.codes.clear()
    refused_exchange = browser.get(hops.callback_url)
    error(refused_exchange, 400, "OAuthCodeExchangeError")
    connect(vault, browser, provider)
    provider.server.revoke_all()
    refused_refresh = tickets(vault)
    body = error(refused_refresh, 401, "ConnectorCredentialsError")
    assert "[REDACTED]" in body["detail"]   # the provider's description, quoted with the secret taken out
    texts = refused_exchange.text + refused_refresh.text
    assert [s for s in secrets_seen(provider) if s in texts] == []


def test_no_secret_in_the_request_log(vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    connect(vault, browser, provider)
    provider.server.revoke_all(refresh=False)
    assert tickets(vault).status_code == 200
    logs = vault.get("/vault/logs", params={"limit": 50})
    assert logs.status_code == 200, logs.text
    assert [s for s in secrets_seen(provider) if s in logs.text] == []


def test_tokens_are_encrypted_at_rest(harness: GatewayHarness, vault: httpx.Client, browser: httpx.Client,
                                      provider: Provider, consumer: str) -> None:
    """After a full authorization and a refresh (rotated tokens): no token, nor the client secret or the PKCE
    verifier, in any row (PostgreSQL, SQLite) nor in the SQLite file, its WAL or its shared-memory index."""
    connect(vault, browser, provider)
    provider.server.revoke_all(refresh=False)
    assert tickets(vault).status_code == 200          # refreshed: a second access and refresh token
    harness.gateway.request_log.flush()
    tokens = {*provider.server.access_tokens, *provider.server.refresh_tokens}
    assert len([t for t in tokens if t.startswith("rt_")]) >= 2
    stored = stored_bytes(harness.database)
    assert consumer.encode() in stored and provider.url.encode() in stored   # the scan reads what is stored
    assert [s for s in secrets_seen(provider) | tokens if s.encode() in stored] == []
    connection = harness.store.find_connection("test-app", consumer, "oauthtracker")
    assert connection is not None and connection.credentials["access_token"] in provider.server.access_tokens
