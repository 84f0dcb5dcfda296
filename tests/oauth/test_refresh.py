"""Access tokens kept fresh: refreshed ahead of expiry and once after a 401 (then the call is retried),
one refresh for many concurrent requests, and a refused refresh makes the connection ``invalid``."""

from __future__ import annotations

import asyncio

import httpx

from unigate.testing import GatewayHarness

from .conftest import CONNECTION, SERVICE, Provider, connect, error, tickets


def test_a_token_expiring_within_the_skew_is_refreshed_before_the_call(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    provider.server.access_ttl = 3   # under the manifest's refresh_skew (5 s): expiring at once
    connect(vault, browser, provider)
    provider.server.access_ttl = 3600
    before = len(provider.server.grants("refresh_token"))
    calls = len(provider.server.tracker_calls())
    assert tickets(vault).status_code == 200
    assert len(provider.server.grants("refresh_token")) == before + 1
    assert [c["status"] for c in provider.server.tracker_calls()[calls:]] == [200]   # never sent the old token


def test_a_refused_token_is_refreshed_and_the_call_retried_once(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    connect(vault, browser, provider)
    provider.server.revoke_all(refresh=False)   # the tracker refuses the access token; the refresh token is good
    before = len(provider.server.grants("refresh_token"))
    calls = len(provider.server.tracker_calls())
    response = tickets(vault)
    assert response.status_code == 200, response.text
    assert len(provider.server.grants("refresh_token")) == before + 1
    assert [c["status"] for c in provider.server.tracker_calls()[calls:]] == [401, 200]


def test_a_call_refused_again_after_the_refresh_is_not_retried_twice(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    connect(vault, browser, provider)
    provider.server.revoke_all(refresh=False)
    provider.server.access_ttl = -1   # every new token is expired on arrival: the tracker refuses it too
    calls = len(provider.server.tracker_calls())
    error(tickets(vault), 401, "ConnectorCredentialsError")
    assert [c["status"] for c in provider.server.tracker_calls()[calls:]] == [401, 401]


def test_the_rotated_refresh_token_is_the_one_used_next(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    connect(vault, browser, provider)
    for _ in range(2):
        provider.server.revoke_all(refresh=False)
        assert tickets(vault).status_code == 200
    first, second = provider.server.grants("refresh_token")[-2:]
    assert first["form"]["refresh_token"] != second["form"]["refresh_token"]
    assert (first["status"], second["status"]) == (200, 200)


def test_concurrent_requests_cause_exactly_one_refresh(
        vault: httpx.Client, browser: httpx.Client, provider: Provider, harness: GatewayHarness, consumer: str) -> None:
    provider.server.access_ttl = 3
    connect(vault, browser, provider)
    provider.server.access_ttl, provider.server.token_delay = 3600, 0.3   # a slow refresh: requests pile up
    before = len(provider.server.grants("refresh_token"))

    async def many() -> list[httpx.Response]:
        headers = harness.headers(SERVICE, consumer)
        async with httpx.AsyncClient(base_url=harness.server.url, headers=headers, timeout=30) as client:
            return await asyncio.gather(*(client.get("/issue-tracking/collections/1/tickets") for _ in range(8)))

    responses = asyncio.run(many())
    assert [r.status_code for r in responses] == [200] * 8
    assert len(provider.server.grants("refresh_token")) == before + 1


def test_a_refused_refresh_marks_the_connection_invalid_and_answers_connector_credentials_error(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    connect(vault, browser, provider)
    provider.server.revoke_all()   # access and refresh tokens revoked (the user removed the app)
    body = error(tickets(vault), 401, "ConnectorCredentialsError")
    assert "re-authorization" in body["message"].lower()
    data = vault.get(CONNECTION).json()["data"]
    assert (data["state"], data["health"]) == ("invalid", "needs_auth")


def test_authorizing_again_repairs_an_invalid_connection(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    connect(vault, browser, provider)
    provider.server.revoke_all()
    error(tickets(vault), 401, "ConnectorCredentialsError")
    connect(vault, browser, provider)
    assert vault.get(CONNECTION).json()["data"]["state"] == "callable"
    assert tickets(vault).status_code == 200


def test_a_connection_not_yet_authorized_answers_connector_credentials_error(
        vault: httpx.Client, provider: Provider) -> None:
    vault.patch(CONNECTION, json={"settings": {"base_url": provider.url, "cloud_id": "x"}})
    assert vault.get(CONNECTION).json()["data"]["state"] == "added"
    body = error(tickets(vault), 401, "ConnectorCredentialsError")
    assert "authorize_url" in body["detail"]


def test_a_proxy_call_is_made_with_a_fresh_token(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    provider.server.access_ttl = 3
    connect(vault, browser, provider)
    provider.server.access_ttl = 3600
    before = len(provider.server.grants("refresh_token"))
    response = vault.get("/proxy", headers={"x-apideck-service-id": SERVICE, "x-apideck-downstream-url": "/projects"})
    assert response.status_code == 200, response.text
    assert response.json()["projects"][0]["name"] == "Platform"
    assert len(provider.server.grants("refresh_token")) == before + 1


def test_the_audit_trail_names_oauth_for_the_tokens_it_stores_and_refreshes(
        vault: httpx.Client, browser: httpx.Client, provider: Provider, consumer: str) -> None:
    connect(vault, browser, provider)
    provider.server.revoke_all(refresh=False)
    assert tickets(vault).status_code == 200
    records = [r for r in vault.get("/vault/audit").json()["data"] if r["consumer_id"] == consumer]
    by_oauth = [r for r in records if r["actor"] == "oauth:test-app"]
    assert {r["action"] for r in by_oauth} >= {"connection.updated", "connection.state_changed"}
    assert len([r for r in by_oauth if r["action"] == "connection.updated"]) == 2   # authorized, then refreshed
    assert all("at_" not in str(r["changes"]) and "rt_" not in str(r["changes"]) for r in records)


def test_an_operation_refused_after_one_of_its_writes_went_through_is_not_run_again(
        vault: httpx.Client, browser: httpx.Client, provider: Provider) -> None:
    connect(vault, browser, provider)
    provider.server.revoke_after_write = True   # the title is written, then the token is revoked
    before, calls = len(provider.server.grants("refresh_token")), len(provider.server.tracker_calls())
    response = vault.patch("/issue-tracking/collections/1/tickets/102", headers={"x-apideck-service-id": SERVICE},
                           json={"subject": "Slow search everywhere", "status": "open"})
    body = error(response, 401, "ConnectorCredentialsError")
    assert body["detail"]["applied_calls"] == ["tickets_update"]
    made = [(c["method"], c["status"]) for c in provider.server.tracker_calls()[calls:]]
    assert made == [("PATCH", 200), ("POST", 401)]   # not run twice
    assert len(provider.server.grants("refresh_token")) == before + 1   # the token is fresh for the next call
    provider.server.revoke_after_write = False
    assert tickets(vault).status_code == 200
