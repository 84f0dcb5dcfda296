"""The official SDK's ``sdk.vault.*`` against the gateway, configured as a user configures it (base
URL, API key, app id; no retries). Successes parse into the SDK's typed responses; refusals are the
typed exceptions the SDK raises for them (``unigate.testing.sdk.expect_error``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apideck_unify import Apideck, models

from unigate.testing import GatewayHarness, Simulator
from unigate.testing.sdk import expect_error, new_sdk
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import agentsmesh_settings

ON = {"service_id": "agentsmesh", "unified_api": "issue-tracking"}


@pytest.fixture
def sdk(harness: GatewayHarness) -> Iterator[Apideck]:
    with new_sdk(harness) as client:
        yield client


def connect(sdk: Apideck, sim: Simulator, consumer: str) -> models.Connection:
    updated = sdk.vault.connections.update(**ON, consumer_id=consumer, settings=agentsmesh_settings(sim))
    return updated.update_connection_response.data


def test_consumers_create_get_update_list_and_delete(sdk: Apideck, consumer: str) -> None:
    consumers = sdk.vault.consumers
    created = consumers.create(consumer_id=consumer, metadata={"account_name": "Acme"}).create_consumer_response
    assert (created.status_code, created.data.consumer_id, created.data.metadata.account_name) == (200, consumer, "Acme")
    updated = consumers.update(consumer_id=consumer, metadata={"email": "it@acme.test"}).update_consumer_response
    assert (updated.data.metadata.account_name, updated.data.metadata.email) == ("Acme", "it@acme.test")
    assert consumers.get(consumer_id=consumer).get_consumer_response.data.consumer_id == consumer
    listed = consumers.list(filter_={"consumer_id": consumer}).get_consumers_response.data
    assert [c.consumer_id for c in listed] == [consumer]
    assert consumers.delete(consumer_id=consumer).delete_consumer_response.data.consumer_id == consumer
    expect_error(models.NotFoundResponse, 404, "EntityNotFoundError", lambda: consumers.get(consumer_id=consumer))


def test_consumers_list_pages_with_the_sdks_next(sdk: Apideck, consumer: str) -> None:
    for n in range(3):
        sdk.vault.consumers.create(consumer_id=f"{consumer}-{n}")
    page = sdk.vault.consumers.list(filter_={"consumer_id": consumer}, limit=2)
    seen = []
    while page is not None:
        seen += [c.consumer_id for c in page.get_consumers_response.data]
        page = page.next()
    assert seen == [f"{consumer}-{n}" for n in range(3)]


def test_connections_list_get_update_and_delete(sdk: Apideck, sim: Simulator, consumer: str) -> None:
    listed = sdk.vault.connections.list(consumer_id=consumer).get_connections_response.data
    assert {c.state for c in listed} == {models.ConnectionState.AVAILABLE}
    connection = connect(sdk, sim, consumer)
    assert (connection.state, connection.health, connection.auth_type) == (models.ConnectionState.CALLABLE,
                                                                           models.Health.OK, models.AuthType.API_KEY)
    assert [f.id for f in connection.form_fields] == ["base_url", "organization", "api_key"]
    assert connection.form_fields[2].sensitive is True
    assert connection.settings == {"base_url": sim.url, "organization": agentsmesh.DEFAULT_ORG}
    got = sdk.vault.connections.get(**ON, consumer_id=consumer).get_connection_response.data
    assert (got.id, got.enabled) == ("issue-tracking+agentsmesh", True)
    disabled = sdk.vault.connections.update(**ON, consumer_id=consumer, enabled=False).update_connection_response
    assert disabled.data.enabled is False
    sdk.vault.connections.delete(**ON, consumer_id=consumer)
    assert sdk.vault.connections.get(**ON, consumer_id=consumer).get_connection_response.data.state == "available"


def test_validate_connection_state(sdk: Apideck, sim: Simulator, consumer: str) -> None:
    connect(sdk, sim, consumer)
    validated = sdk.vault.validate_connection.state(**ON, consumer_id=consumer).validate_connection_state_response
    assert (validated.data.id, validated.data.state) == ("issue-tracking+agentsmesh", models.ConnectionState.CALLABLE)
    sdk.vault.connections.update(**ON, consumer_id=consumer, settings={"api_key": "amk_wrong"})
    invalid = sdk.vault.validate_connection.state(**ON, consumer_id=consumer).validate_connection_state_response
    assert invalid.data.state == models.ConnectionState.INVALID


def test_custom_mappings_lists(harness: GatewayHarness, sdk: Apideck, sim: Simulator, consumer: str) -> None:
    connect(sdk, sim, consumer)
    with harness.client(consumer_id=consumer) as vault:   # the SDK leaves out custom mapping writes (x-sdk-exclude)
        vault.post("/vault/custom-mappings/issue-tracking/agentsmesh/issue-tracking+tickets+slug", json={"value": "$.slug"})
    [mapping] = sdk.vault.custom_mappings.list(**ON, consumer_id=consumer).get_custom_mappings_response.data
    assert (mapping.id, mapping.key, mapping.value) == ("issue-tracking+tickets+slug", "slug", "$.slug")
    [same] = sdk.vault.connection_custom_mappings.list(**ON, resource="tickets",
                                                       consumer_id=consumer).get_custom_mappings_response.data
    assert same == mapping


def test_refusals_are_the_sdks_typed_errors(sdk: Apideck, sim: Simulator, consumer: str) -> None:
    connections = sdk.vault.connections
    expect_error(models.BadRequestResponse, 400, "RequestValidationError",
                 lambda: connections.update(**ON, consumer_id=consumer, settings={"colour": "red"}))
    expect_error(models.NotFoundResponse, 404, "ConnectorNotFoundError",
                 lambda: connections.get(service_id="no-such-tracker", unified_api="issue-tracking", consumer_id=consumer))
    expect_error(models.NotFoundResponse, 404, "ConnectionNotFoundError",
                 lambda: sdk.vault.validate_connection.state(**ON, consumer_id=consumer))
    connect(sdk, sim, consumer)
    expect_error(models.BadRequestResponse, 400, "RequestValidationError",   # its CustomMappingInput has no key
                 lambda: connections.update(**ON, consumer_id=consumer, custom_mappings=[{"value": "$.slug"}]))


def test_a_wrong_api_key_is_unauthorized(harness: GatewayHarness) -> None:
    with new_sdk(harness, api_key="not-the-key") as stranger:
        expect_error(models.UnauthorizedResponse, 401, "UnauthorizedError", lambda: stranger.vault.consumers.list())
