"""Connections over the Vault API: listed per consumer with their state, added and changed through
``settings`` (credentials included, never read back), validated, deleted."""

from __future__ import annotations

import httpx

from unigate.testing import GatewayHarness, Simulator
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import CONNECTION, TICKETS, agentsmesh_settings, connect, error


def test_every_installed_connector_is_listed_available_until_added(harness: GatewayHarness,
                                                                   vault: httpx.Client) -> None:
    listed = vault.get("/vault/connections").json()["data"]
    assert [c["service_id"] for c in listed] == sorted(harness.gateway.registry.connectors)
    assert {(c["state"], c["enabled"], c["settings"]) for c in listed} == {("available", False, None)}


def test_form_fields_come_from_the_connectors_declared_settings_and_credentials(vault: httpx.Client) -> None:
    fields = {f["id"]: f for f in vault.get(CONNECTION).json()["data"]["form_fields"]}
    assert list(fields) == ["base_url", "organization", "api_key"]
    assert fields["base_url"].items() >= {"label": "Base URL", "type": "url", "required": False, "sensitive": False,
                                          "placeholder": "https://agentsmesh.ai",
                                          "description": "AgentsMesh server URL"}.items()
    assert (fields["organization"]["required"], fields["organization"]["label"]) == (True, "Organization")
    assert fields["api_key"].items() >= {"label": "API key", "type": "password", "required": True,
                                         "sensitive": True}.items()
    assert "value" not in fields["api_key"]


def test_patch_adds_the_connection_and_the_unified_api_uses_it_at_once(vault: httpx.Client, consumer: str,
                                                                        sim: Simulator) -> None:
    error(vault.get(TICKETS, params={"limit": 1}), 404, "ConnectionNotFoundError")
    data = connect(vault, sim).json()["data"]
    assert (data["id"], data["state"], data["health"], data["enabled"]) == ("issue-tracking+agentsmesh", "callable",
                                                                             "ok", True)
    assert data["settings"] == {"base_url": sim.url, "organization": agentsmesh.DEFAULT_ORG}
    assert vault.get(TICKETS, params={"limit": 1}).status_code == 200
    assert vault.get(f"/vault/consumers/{consumer}").status_code == 200   # the consumer was added with it


def test_credentials_are_never_read_back(vault: httpx.Client, consumer: str, sim: Simulator) -> None:
    written = connect(vault, sim)
    assert "api_key" not in written.json()["data"]["settings"]
    for response in (written, vault.get(CONNECTION), vault.get("/vault/connections"),
                     vault.get(f"/vault/consumers/{consumer}"), vault.get("/vault/audit")):
        assert agentsmesh.DEFAULT_API_KEY not in response.text


def test_a_connection_without_its_credential_is_added_missing_settings(vault: httpx.Client,
                                                                       sim: Simulator) -> None:
    settings = agentsmesh_settings(sim)
    del settings["api_key"]
    data = vault.patch(CONNECTION, json={"settings": settings}).json()["data"]
    assert (data["state"], data["health"]) == ("added", "missing_settings")
    completed = vault.patch(CONNECTION, json={"settings": {"api_key": agentsmesh.DEFAULT_API_KEY}}).json()["data"]
    assert (completed["state"], completed["health"]) == ("callable", "ok")
    assert completed["settings"]["organization"] == agentsmesh.DEFAULT_ORG  # the first write kept


def test_an_unknown_setting_is_a_bad_request(vault: httpx.Client, sim: Simulator) -> None:
    body = error(vault.patch(CONNECTION, json={"settings": agentsmesh_settings(sim, colour="red")}), 400,
                 "RequestValidationError")
    assert "colour" in body["detail"]
    assert vault.get(CONNECTION).json()["data"]["state"] == "available"   # nothing stored


def test_a_bad_generic_setting_is_a_bad_request(vault: httpx.Client, sim: Simulator) -> None:
    body = error(vault.patch(CONNECTION, json={"settings": agentsmesh_settings(sim, timeout=-1)}), 400,
                 "RequestValidationError")
    assert "timeout" in body["detail"]


def test_read_only_properties_are_ignored_and_unsupported_ones_refused(vault: httpx.Client, sim: Simulator) -> None:
    accepted = vault.patch(CONNECTION, json={"settings": agentsmesh_settings(sim), "state": "callable",
                                             "form_fields": [], "name": "ignored"})
    assert accepted.json()["data"]["name"] == "AgentsMesh"
    refused = error(vault.patch(CONNECTION, json={"consent_state": "granted"}), 400, "RequestValidationError")
    assert refused["detail"] == {"consent_state": "not supported by this gateway"}
    error(vault.patch(CONNECTION, json={"enabled": "perhaps"}), 400, "RequestValidationError")


def test_unknown_service_and_unified_api_are_not_found(vault: httpx.Client) -> None:
    error(vault.get("/vault/connections/issue-tracking/no-such-tracker"), 404, "ConnectorNotFoundError")
    error(vault.get("/vault/connections/crm/agentsmesh"), 404, "EntityNotFoundError")


def test_post_adds_and_refuses_an_existing_connection(vault: httpx.Client, sim: Simulator) -> None:
    added = vault.post(CONNECTION, json={"settings": agentsmesh_settings(sim)})
    assert (added.status_code, added.json()["data"]["state"]) == (200, "callable")
    error(vault.post(CONNECTION, json={"settings": agentsmesh_settings(sim)}), 409, "ConflictError")


def test_connections_need_the_consumer_header(vault: httpx.Client) -> None:
    error(vault.get(CONNECTION, headers={"x-apideck-consumer-id": ""}), 400, "RequestHeadersValidationError")


def test_disabling_takes_effect_at_the_next_request(vault: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim)
    vault.patch(CONNECTION, json={"enabled": False})
    error(vault.get(TICKETS, params={"limit": 1}, headers={"x-apideck-service-id": "agentsmesh"}), 422,
          "ConnectorDisabledError")
    vault.patch(CONNECTION, json={"enabled": True})
    assert vault.get(TICKETS, params={"limit": 1}).status_code == 200


def test_delete_removes_the_connection_at_once(vault: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim)
    deleted = vault.delete(CONNECTION)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert vault.get(CONNECTION).json()["data"]["state"] == "available"
    error(vault.get(TICKETS, params={"limit": 1}), 404, "ConnectionNotFoundError")
    error(vault.delete(CONNECTION), 404, "ConnectionNotFoundError")


def test_changed_credentials_are_used_at_the_next_request(vault: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim)
    vault.patch(CONNECTION, json={"settings": {"api_key": "amk_revoked"}})
    error(vault.get(TICKETS, params={"limit": 1}), 401, "ConnectorCredentialsError")
    vault.patch(CONNECTION, json={"settings": {"api_key": agentsmesh.DEFAULT_API_KEY}})
    assert vault.get(TICKETS, params={"limit": 1}).status_code == 200


def test_validate_of_a_working_connection_is_callable(vault: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim)
    sim.clear()
    validated = vault.post(f"{CONNECTION}/validate", json={})
    assert validated.json() == {"status_code": 200, "status": "OK",
                                "data": {"id": "issue-tracking+agentsmesh", "state": "callable"}}
    assert len(sim.requests()) == 1   # one cheap read through the gateway


def test_validate_with_refused_credentials_makes_the_connection_invalid_until_they_change(
        vault: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim, settings=agentsmesh_settings(sim, api_key="amk_wrong"))
    assert vault.post(f"{CONNECTION}/validate").json()["data"]["state"] == "invalid"
    data = vault.get(CONNECTION).json()["data"]
    assert (data["state"], data["health"]) == ("invalid", "needs_auth")
    fixed = vault.patch(CONNECTION, json={"settings": {"api_key": agentsmesh.DEFAULT_API_KEY}}).json()["data"]
    assert fixed["state"] == "callable"


def test_validate_of_an_unreachable_tracker_answers_its_typed_error(vault: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim, settings=agentsmesh_settings(sim, base_url="http://127.0.0.1:9"))
    body = vault.post(f"{CONNECTION}/validate").json()
    assert body["type_name"] == "ConnectorExecutionError"
    assert vault.get(CONNECTION).json()["data"]["state"] == "callable"   # not a credentials problem


def test_validate_without_a_connection_is_not_found(vault: httpx.Client) -> None:
    error(vault.post(f"{CONNECTION}/validate"), 404, "ConnectionNotFoundError")


def test_validate_refuses_a_body_with_credentials(vault: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim)
    error(vault.post(f"{CONNECTION}/validate", json={"api_key": "x"}), 400, "RequestValidationError")


def test_list_for_a_consumer_shows_its_connection_and_filters_configured(vault: httpx.Client,
                                                                          sim: Simulator) -> None:
    connect(vault, sim)
    configured = vault.get("/vault/connections", params={"configured": "true"}).json()["data"]
    assert [(c["service_id"], c["state"]) for c in configured] == [("agentsmesh", "callable")]
    others = vault.get("/vault/connections", params={"configured": "false"}).json()["data"]
    assert "agentsmesh" not in [c["service_id"] for c in others]
    assert vault.get("/vault/connections", params={"api": "crm"}).json()["data"] == []


def test_connection_metadata_is_kept_and_replaced(vault: httpx.Client, sim: Simulator) -> None:
    assert connect(vault, sim, metadata={"plan": "gold"}).json()["data"]["metadata"] == {"plan": "gold"}
    assert vault.patch(CONNECTION, json={"metadata": {"plan": "free"}}).json()["data"]["metadata"] == {"plan": "free"}
    assert vault.patch(CONNECTION, json={"enabled": True}).json()["data"]["metadata"] == {"plan": "free"}
