"""Headers and auth as Apideck does them: every failure a typed error telling what to fix."""

from __future__ import annotations

import httpx
import pytest

from unigate.testing import GatewayHarness, Simulator
from unigate.testing.harness import APP_ID, CONSUMER_ID
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import TICKETS


def call(harness: GatewayHarness, headers: dict[str, str]) -> httpx.Response:
    with harness.anonymous() as anonymous:
        return anonymous.get(TICKETS, headers=headers)


def assert_error(response: httpx.Response, status: int, type_name: str) -> dict:
    body = response.json()
    assert response.status_code == status, body
    assert body["status_code"] == status
    assert body["type_name"] == type_name
    assert set(body) >= {"status_code", "error", "type_name", "message", "detail", "ref"}
    assert response.headers["request-id"]
    return body


def test_missing_authorization_is_unauthorized(harness: GatewayHarness) -> None:
    headers = harness.headers()
    del headers["authorization"]
    body = assert_error(call(harness, headers), 401, "UnauthorizedError")
    assert "Bearer" in body["detail"]


def test_non_bearer_authorization_is_unauthorized(harness: GatewayHarness) -> None:
    headers = {**harness.headers(), "authorization": f"Basic {harness.api_key}"}
    assert_error(call(harness, headers), 401, "UnauthorizedError")


def test_wrong_api_key_is_unauthorized(harness: GatewayHarness) -> None:
    headers = {**harness.headers(), "authorization": "Bearer ugk_not-the-key"}
    assert_error(call(harness, headers), 401, "UnauthorizedError")


def test_key_of_another_app_is_unauthorized(harness: GatewayHarness) -> None:
    _other, other_key = harness.store.create_app("Other app", app_id="other-app-keys")
    headers = {**harness.headers(), "authorization": f"Bearer {other_key}"}  # app id still ours
    assert_error(call(harness, headers), 401, "UnauthorizedError")


def test_missing_app_id_names_the_header(harness: GatewayHarness) -> None:
    headers = harness.headers()
    del headers["x-apideck-app-id"]
    body = assert_error(call(harness, headers), 400, "RequestHeadersValidationError")
    assert "x-apideck-app-id" in body["message"]


def test_missing_consumer_id_names_the_header(harness: GatewayHarness) -> None:
    headers = harness.headers()
    del headers["x-apideck-consumer-id"]
    body = assert_error(call(harness, headers), 400, "RequestHeadersValidationError")
    assert "x-apideck-consumer-id" in body["message"]


def test_unknown_consumer_has_no_connection(harness: GatewayHarness) -> None:
    assert_error(call(harness, harness.headers(consumer_id="nobody")), 404, "ConnectionNotFoundError")


def test_unknown_service_id_is_connector_not_found(harness: GatewayHarness) -> None:
    body = assert_error(call(harness, harness.headers(service_id="mantis")), 404, "ConnectorNotFoundError")
    assert "agentsmesh" in body["detail"]


def test_known_service_without_connection_is_connection_not_found(harness: GatewayHarness) -> None:
    harness.store.create_consumer(APP_ID, "unconnected")
    assert_error(call(harness, harness.headers("agentsmesh", "unconnected")), 404, "ConnectionNotFoundError")


def assert_agentsmesh_tickets(response: httpx.Response) -> None:
    """The answer is a ticket list from the demo consumer's AgentsMesh connection (not an error)."""
    body = response.json()
    assert (response.status_code, body["service"], body["operation"]) == (200, "agentsmesh", "all"), body
    assert len(body["data"]) == 20 and {t["collection_id"] for t in body["data"]} == {"1"}


def test_service_id_not_needed_with_one_connection(harness: GatewayHarness) -> None:
    assert "x-apideck-service-id" not in harness.headers()
    assert_agentsmesh_tickets(call(harness, harness.headers()))


@pytest.fixture(scope="module")
def two_trackers(harness: GatewayHarness, sim: Simulator) -> str:
    """A consumer harness to AgentsMesh and Codimir."""
    harness.store.create_consumer(APP_ID, "two-trackers")
    harness.connect("agentsmesh", consumer_id="two-trackers", settings={"base_url": sim.url, "organization": "acme"},
                    credentials={"api_key": agentsmesh.DEFAULT_API_KEY})
    harness.connect("codimir", consumer_id="two-trackers", credentials={"session_token": "t"})
    return "two-trackers"


def test_service_id_required_with_several_connections(harness: GatewayHarness, two_trackers: str) -> None:
    body = assert_error(call(harness, harness.headers(consumer_id=two_trackers)), 400, "RequestHeadersValidationError")
    assert "x-apideck-service-id" in body["message"]
    assert "agentsmesh, codimir" in body["detail"]


def test_service_id_picks_among_several_connections(harness: GatewayHarness, two_trackers: str) -> None:
    response = call(harness, harness.headers("agentsmesh", two_trackers))
    assert response.status_code == 200 and response.json()["service"] == "agentsmesh"


def test_disabled_connection_is_reported(harness: GatewayHarness, sim: Simulator) -> None:
    harness.store.create_consumer(APP_ID, "disabled-one")
    harness.connect("agentsmesh", consumer_id="disabled-one", enabled=False,
                    settings={"base_url": sim.url, "organization": "acme"}, credentials={"api_key": "amk_x"})
    assert_error(call(harness, harness.headers("agentsmesh", "disabled-one")), 422, "ConnectorDisabledError")
    assert_error(call(harness, harness.headers(None, "disabled-one")), 404, "ConnectionNotFoundError")


def test_connection_missing_required_setting_is_a_settings_error(harness: GatewayHarness) -> None:
    harness.store.create_consumer(APP_ID, "half-configured")
    harness.connect("agentsmesh", consumer_id="half-configured", credentials={"api_key": "amk_x"})
    body = assert_error(call(harness, harness.headers(None, "half-configured")), 422, "ConnectionSettingsError")
    assert "organization" in body["detail"]


def test_health_needs_no_auth(harness: GatewayHarness) -> None:
    with harness.anonymous() as anonymous:
        response = anonymous.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "agentsmesh" in response.json()["connectors"]
    assert response.headers["request-id"]


def test_consumer_ids_are_scoped_to_their_app(harness: GatewayHarness) -> None:
    """App B has a consumer with the same id as ours; neither reaches the other's connection."""
    _, key_b = harness.store.create_app("App B", app_id="app-b")
    harness.store.create_consumer("app-b", CONSUMER_ID)
    headers_b = {**harness.headers(), "authorization": f"Bearer {key_b}", "x-apideck-app-id": "app-b"}
    assert_error(call(harness, headers_b), 404, "ConnectionNotFoundError")
    assert_agentsmesh_tickets(call(harness, harness.headers()))


def test_cursor_from_another_connector_is_invalid(harness: GatewayHarness, two_trackers: str) -> None:
    with harness.client("agentsmesh", two_trackers) as agentsmesh_client:
        cursor = agentsmesh_client.get(TICKETS, params={"limit": 2}).json()["meta"]["cursors"]["next"]
    with harness.client("codimir", two_trackers) as codimir_client:
        response = codimir_client.get(TICKETS, params={"cursor": cursor})
    body = assert_error(response, 400, "InvalidCursorError")
    assert "issued for service 'agentsmesh'" in body["detail"]
