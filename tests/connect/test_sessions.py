"""``POST /vault/sessions``: a short-lived, signed session of one consumer (optionally one service)."""

from __future__ import annotations

import time

import pytest

from unigate.connect.sessions import PURPOSE, seconds, unseal
from unigate.errors import UnauthorizedError
from unigate.testing import GatewayHarness

from .conftest import create_session


def test_a_session_is_a_url_of_the_gateway_for_the_consumer(harness: GatewayHarness, consumer: str) -> None:
    response = create_session(harness, consumer, {"consumer_metadata": {"account_name": "Acme"}})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status_code", "status", "data"}
    token = body["data"]["session_token"]
    assert body["data"]["session_uri"] == f"{harness.server.url}/connect/session/{token}"
    session = unseal(token, harness.store.derive_key(PURPOSE))
    assert (session.app_id, session.consumer_id, session.service_id) == ("test-app", consumer, None)
    assert 3590 < session.expires_at - time.time() <= 3600
    assert harness.store.consumer_record("test-app", consumer).metadata == {"account_name": "Acme"}


def test_the_body_is_optional(harness: GatewayHarness, consumer: str) -> None:
    assert create_session(harness, consumer).status_code == 200


def test_the_token_is_opaque(harness: GatewayHarness, consumer: str) -> None:
    token = create_session(harness, consumer).json()["data"]["session_token"]
    assert consumer not in token and "test-app" not in token


def test_a_session_may_be_for_one_service(harness: GatewayHarness, consumer: str) -> None:
    token = create_session(harness, consumer, {}, service_id="agentsmesh").json()["data"]["session_token"]
    assert unseal(token, harness.store.derive_key(PURPOSE)).service_id == "agentsmesh"
    refused = create_session(harness, consumer, {}, service_id="nosuchtracker")
    assert (refused.status_code, refused.json()["type_name"]) == (404, "ConnectorNotFoundError")


def test_session_length_sets_the_expiry(harness: GatewayHarness, consumer: str) -> None:
    token = create_session(harness, consumer, {"settings": {"session_length": "30m"}}).json()["data"]["session_token"]
    assert 1790 < unseal(token, harness.store.derive_key(PURPOSE)).expires_at - time.time() <= 1800


def test_an_expired_token_is_refused(harness: GatewayHarness, consumer: str) -> None:
    token = create_session(harness, consumer).json()["data"]["session_token"]
    with pytest.raises(UnauthorizedError, match="expired"):
        unseal(token, harness.store.derive_key(PURPOSE), now=time.time() + 3601)


def test_an_altered_token_or_another_key_is_refused(harness: GatewayHarness, consumer: str) -> None:
    token = create_session(harness, consumer).json()["data"]["session_token"]
    altered = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    with pytest.raises(UnauthorizedError):
        unseal(altered, harness.store.derive_key(PURPOSE))
    with pytest.raises(UnauthorizedError):
        unseal(token, harness.store.derive_key("another purpose"))


def test_the_api_key_and_the_consumer_are_required(harness: GatewayHarness, consumer: str) -> None:
    anonymous = harness.anonymous().post("/vault/sessions", json={})
    assert (anonymous.status_code, anonymous.json()["type_name"]) == (401, "UnauthorizedError")
    with harness.client() as client:
        client.headers.pop("x-apideck-consumer-id")
        missing = client.post("/vault/sessions", json={})
    assert (missing.status_code, missing.json()["type_name"]) == (400, "RequestHeadersValidationError")


@pytest.mark.parametrize(("body", "where"), [
    ({"settings": {"colour": "blue"}}, "settings.colour"),
    ({"theme": {"primary_color": "red; background: url(x)"}}, "theme.primary_color"),
    ({"theme": {"logo": "javascript:alert(1)"}}, "theme.logo"),
    ({"redirect_uri": "ftp://example.com/"}, "redirect_uri"),
    ({"settings": {"session_length": "2w"}}, "settings.session_length"),
    ({"settings": {"unified_apis": ["crm"]}}, "settings.unified_apis"),
    ({"settings": {"allow_actions": ["explode"]}}, "settings.allow_actions.0"),
    ({"custom_consumer_settings": {"custom_mappings": [{"key": "a b"}]}}, "key"),
])
def test_invalid_sessions_are_refused_naming_the_property(harness: GatewayHarness, consumer: str,
                                                          body: dict, where: str) -> None:
    refused = create_session(harness, consumer, body)
    assert (refused.status_code, refused.json()["type_name"]) == (400, "RequestValidationError")
    assert where in refused.json()["detail"]


@pytest.mark.parametrize(("text", "expected"), [("30m", 1800), ("1h", 3600), ("1h30m", 5400), ("1w", 604800)])
def test_session_lengths(text: str, expected: int) -> None:
    assert seconds(text) == expected


def test_the_session_uri_is_relative_for_an_untrusted_host(harness: GatewayHarness, consumer: str) -> None:
    with harness.client(consumer_id=consumer) as client:
        response = client.post("/vault/sessions", headers={"host": "evil.example"})
    assert response.json()["data"]["session_uri"].startswith("/connect/session/")


def test_the_official_sdk_creates_sessions(harness: GatewayHarness, consumer: str) -> None:
    from apideck_unify import Apideck

    sdk = Apideck(api_key=harness.api_key, app_id="test-app", consumer_id=consumer, server_url=harness.server.url)
    created = sdk.vault.sessions.create(session={"settings": {"show_logs": False}, "theme": {"vault_name": "Acme"}})
    assert created.create_session_response.data.session_uri.startswith(f"{harness.server.url}/connect/session/")
