"""Which connection a request acts on, read from its headers (``unigate.vault.resolve``), through the
gateway: how lenient the header parsing is, and what each refusal says, word for word — the
message and detail are how a client learns which header to fix.

The demo consumer (``test-consumer``) has one AgentsMesh connection; consumers made here have
none, two, or a disabled one. Status and type of each refusal are covered by
tests/test_headers_and_auth.py, tests/test_connection_state.py and tests/test_tenant_isolation.py.
"""

from __future__ import annotations

import httpx
import pytest

from unigate.errors import ConnectionNotFoundError, ConnectorNotFoundError, RequestHeadersValidationError
from unigate.testing import GatewayHarness, Simulator
from unigate.testing.harness import APP_ID, CONSUMER_ID
from unigate.vault.resolve import resolve_connection
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import TICKETS


def get(harness: GatewayHarness, headers: dict[str, str]) -> httpx.Response:
    with harness.anonymous() as anonymous:
        return anonymous.get(TICKETS, params={"limit": 1}, headers=headers)


def refusal(response: httpx.Response, status: int, type_name: str) -> tuple[str, str]:
    body = response.json()
    assert (response.status_code, body["type_name"]) == (status, type_name), body
    return body["message"], body["detail"]


def served_by_agentsmesh(response: httpx.Response) -> bool:
    body = response.json()
    return response.status_code == 200 and body["service"] == "agentsmesh" and len(body["data"]) == 1


@pytest.fixture(scope="module")
def agentsmesh_settings(sim: Simulator) -> dict:
    return {"base_url": sim.url, "organization": agentsmesh.DEFAULT_ORG}


@pytest.fixture(scope="module")
def two_trackers(harness: GatewayHarness, agentsmesh_settings: dict) -> str:
    harness.connect_consumer("agentsmesh", "resolve-two", agentsmesh_settings, {"api_key": agentsmesh.DEFAULT_API_KEY})
    harness.connect("codimir", consumer_id="resolve-two", credentials={"session_token": "t"})
    return "resolve-two"


@pytest.fixture(scope="module")
def only_disabled(harness: GatewayHarness, agentsmesh_settings: dict) -> str:
    harness.connect_consumer("agentsmesh", "resolve-disabled", agentsmesh_settings,
                             {"api_key": agentsmesh.DEFAULT_API_KEY}, enabled=False)
    return "resolve-disabled"


# -- Authorization --------------------------------------------------------------------------

def test_no_authorization_says_how_to_send_the_key(harness: GatewayHarness) -> None:
    headers = {k: v for k, v in harness.headers().items() if k != "authorization"}
    assert refusal(get(harness, headers), 401, "UnauthorizedError") == \
        ("Missing authentication", "send your API key as `Authorization: Bearer <api key>`")


@pytest.mark.parametrize("authorization", ["Basic {key}", "Bearer", "Bearer \"\"", "{key}"])
def test_anything_but_bearer_and_a_key_says_the_expected_form(harness: GatewayHarness, authorization: str) -> None:
    headers = {**harness.headers(), "authorization": authorization.format(key=harness.api_key)}
    assert refusal(get(harness, headers), 401, "UnauthorizedError") == \
        ("Invalid authentication", "the Authorization header must be `Bearer <api key>`")


@pytest.mark.parametrize("authorization", ["bearer {key}", "BEARER {key}", "Bearer  {key}", "Bearer \"{key}\""])
def test_the_scheme_is_case_insensitive_and_the_key_may_be_padded_or_quoted(harness: GatewayHarness,
                                                                             authorization: str) -> None:
    headers = {**harness.headers(), "authorization": authorization.format(key=harness.api_key)}
    assert served_by_agentsmesh(get(harness, headers))


def test_a_key_may_begin_and_end_with_any_character_of_its_alphabet(harness: GatewayHarness) -> None:
    """Only surrounding spaces and quotes are taken off a key (here one that begins and ends with X):
    the request gets past the key check to the consumer's (missing) connection."""
    harness.store.create_app("X app", app_id="x-app", api_key="Xugk_ends_with_X")
    harness.store.create_consumer("x-app", "x-consumer")
    headers = {"authorization": "Bearer Xugk_ends_with_X", "x-apideck-app-id": "x-app",
               "x-apideck-consumer-id": "x-consumer"}
    assert refusal(get(harness, headers), 404, "ConnectionNotFoundError")[0] == "Connection not found"


def test_a_key_not_of_the_named_app_says_so(harness: GatewayHarness) -> None:
    headers = {**harness.headers(), "authorization": "Bearer ugk_not-the-key"}
    assert refusal(get(harness, headers), 401, "UnauthorizedError") == \
        ("Unauthorized", "the API key is not valid for this application (x-apideck-app-id)")


def test_a_wrong_key_is_refused_before_a_missing_consumer_is_mentioned(harness: GatewayHarness) -> None:
    headers = {**harness.headers(), "authorization": "Bearer ugk_not-the-key"}
    del headers["x-apideck-consumer-id"]
    assert refusal(get(harness, headers), 401, "UnauthorizedError")[0] == "Unauthorized"


# -- app and consumer ids -------------------------------------------------------------------

@pytest.mark.parametrize("value", [None, ""], ids=["absent", "empty"])
@pytest.mark.parametrize(("header", "hint"), [
    ("x-apideck-app-id", "send the id of your application in x-apideck-app-id"),
    ("x-apideck-consumer-id", "send the id of the consumer to act for in x-apideck-consumer-id"),
], ids=["app", "consumer"])
def test_no_app_or_consumer_id_names_the_header(harness: GatewayHarness, header: str, hint: str,
                                                value: str | None) -> None:
    headers = {k: v for k, v in harness.headers().items() if k != header}
    if value is not None:
        headers[header] = value
    assert refusal(get(harness, headers), 400, "RequestHeadersValidationError") == (f"Missing Header: {header}", hint)


# Over HTTP the server strips spaces around header values before the gateway sees them; the
# resolver does so too for callers that hand it headers directly. These call it with the gateway's
# own store and connectors.

def test_ids_and_key_are_read_without_surrounding_spaces(harness: GatewayHarness) -> None:
    headers = {"authorization": f"Bearer  {harness.api_key} ", "x-apideck-app-id": f"  {APP_ID} ",
               "x-apideck-consumer-id": f" {CONSUMER_ID}  ", "x-apideck-service-id": " agentsmesh "}
    connection = resolve_connection(headers, harness.store, harness.gateway.registry.connectors)
    assert (connection.consumer_id, connection.service_id) == (CONSUMER_ID, "agentsmesh")


def test_a_blank_app_id_is_no_app_id(harness: GatewayHarness) -> None:
    with pytest.raises(RequestHeadersValidationError) as caught:
        resolve_connection({**harness.headers(), "x-apideck-app-id": "   "}, harness.store, harness.gateway.registry.connectors)
    assert caught.value.message == "Missing Header: x-apideck-app-id"


def test_a_blank_consumer_id_is_no_consumer_id(harness: GatewayHarness) -> None:
    with pytest.raises(RequestHeadersValidationError) as caught:
        resolve_connection({**harness.headers(), "x-apideck-consumer-id": "  "}, harness.store,
                           harness.gateway.registry.connectors)
    assert caught.value.message == "Missing Header: x-apideck-consumer-id"


def test_a_blank_service_id_counts_as_none(harness: GatewayHarness) -> None:
    connection = resolve_connection({**harness.headers(), "x-apideck-service-id": "  "}, harness.store,
                                    harness.gateway.registry.connectors)
    assert (connection.consumer_id, connection.service_id) == (CONSUMER_ID, "agentsmesh")


# -- service id and connections -------------------------------------------------------------

def test_an_unknown_service_lists_the_installed_ones(harness: GatewayHarness) -> None:
    installed = ", ".join(sorted(harness.gateway.registry.connectors))
    assert "agentsmesh" in installed
    assert refusal(get(harness, harness.headers("mantis")), 404, "ConnectorNotFoundError") == \
        ("Unknown service", f"no issue-tracking connector is installed for service 'mantis'; installed: {installed}")


def test_with_no_connector_installed_the_list_says_none(harness: GatewayHarness) -> None:
    with pytest.raises(ConnectorNotFoundError) as caught:
        resolve_connection(harness.headers("mantis"), harness.store, {})
    assert caught.value.detail == "no issue-tracking connector is installed for service 'mantis'; installed: none"


def test_a_named_service_without_a_connection_names_consumer_and_service(harness: GatewayHarness) -> None:
    assert refusal(get(harness, harness.headers("codimir")), 404, "ConnectionNotFoundError") == \
        ("Connection not found", f"consumer '{CONSUMER_ID}' has no codimir connection for issue-tracking")


def test_the_named_service_picks_its_connection_among_several(harness: GatewayHarness, two_trackers: str) -> None:
    assert served_by_agentsmesh(get(harness, harness.headers("agentsmesh", two_trackers)))


def test_several_connections_and_no_service_id_lists_them(harness: GatewayHarness, two_trackers: str) -> None:
    assert refusal(get(harness, harness.headers(consumer_id=two_trackers)), 400, "RequestHeadersValidationError") == \
        ("Missing Header: x-apideck-service-id",
         f"consumer '{two_trackers}' has several issue-tracking connections (agentsmesh, codimir); "
         "choose one with x-apideck-service-id")


def test_a_disabled_connection_named_says_to_enable_it(harness: GatewayHarness, only_disabled: str) -> None:
    assert refusal(get(harness, harness.headers("agentsmesh", only_disabled)), 422, "ConnectorDisabledError") == \
        ("Connection disabled",
         f"the agentsmesh connection of consumer '{only_disabled}' is disabled; enable it to use it")


def test_only_disabled_connections_and_no_service_id_is_no_enabled_connection(harness: GatewayHarness,
                                                                               only_disabled: str) -> None:
    assert refusal(get(harness, harness.headers(consumer_id=only_disabled)), 404, "ConnectionNotFoundError") == \
        ("Connection not found", f"consumer '{only_disabled}' has no enabled issue-tracking connection")


def test_connections_are_looked_up_for_the_unified_api_asked_for(harness: GatewayHarness) -> None:
    """The demo consumer's AgentsMesh connection is an issue-tracking one: asked for CRM, it has none."""
    with pytest.raises(ConnectionNotFoundError) as caught:
        resolve_connection(harness.headers(), harness.store, harness.gateway.registry.connectors, unified_api="crm")
    assert caught.value.detail == f"consumer '{CONSUMER_ID}' has no enabled crm connection"
