"""The trackers an app offers its consumers (``unigate vault app-update --services``) through the Vault API:
only those are listed, each with vault.yml's ``integration_state``; the others are ``IntegrationNotFoundError``;
a connection made before the app stopped offering its tracker is listed ``disabled`` and refused by the
unified API."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from click.testing import CliRunner

from unigate.cli import main
from unigate.testing import GatewayHarness, Simulator

from .conftest import CONNECTION, TICKETS, agentsmesh_settings, connect, error

OfferingApp = Callable[[list[str] | None], httpx.Client]


@pytest.fixture
def app_offering(harness: GatewayHarness, consumer: str) -> Iterator[OfferingApp]:
    """A client of a new app offering these services (None: every installed one), for ``consumer``."""
    clients: list[httpx.Client] = []

    def make(services: list[str] | None) -> httpx.Client:
        app, api_key = harness.store.create_app("Narrow", app_id=f"app-{uuid.uuid4().hex[:10]}", services=services)
        client = httpx.Client(base_url=harness.server.url, timeout=30, headers={
            "authorization": f"Bearer {api_key}", "x-apideck-app-id": app.id, "x-apideck-consumer-id": consumer})
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def listed(vault: httpx.Client) -> dict[str, str]:
    return {c["service_id"]: c["integration_state"] for c in vault.get("/vault/connections").json()["data"]}


def app_id(vault: httpx.Client) -> str:
    return vault.headers["x-apideck-app-id"]


def test_an_app_lists_only_the_trackers_it_offers(app_offering: OfferingApp) -> None:
    vault = app_offering(["codimir", "agentsmesh"])
    assert listed(vault) == {"agentsmesh": "configured", "codimir": "configured"}


def test_an_app_offering_every_tracker_lists_every_installed_one(harness: GatewayHarness,
                                                                 app_offering: OfferingApp) -> None:
    assert sorted(listed(app_offering(None))) == sorted(harness.gateway.registry.connectors)


def test_a_tracker_the_app_does_not_offer_is_integration_not_found(harness: GatewayHarness, consumer: str,
                                                                   app_offering: OfferingApp, sim: Simulator) -> None:
    vault = app_offering(["codimir"])
    body = error(vault.get(CONNECTION), 404, "IntegrationNotFoundError")
    assert "does not offer agentsmesh" in body["detail"]
    error(vault.patch(CONNECTION, json={"settings": agentsmesh_settings(sim)}), 404, "IntegrationNotFoundError")
    error(vault.post(CONNECTION, json={"settings": agentsmesh_settings(sim)}), 404, "IntegrationNotFoundError")
    assert harness.store.find_connection(app_id(vault), consumer, "agentsmesh") is None


def test_an_oauth_only_tracker_needs_configuration_until_the_app_registers_its_client(
        app_offering: OfferingApp) -> None:
    vault = app_offering(["jira"])
    jira = vault.get("/vault/connections/issue-tracking/jira").json()["data"]
    assert (jira["integration_state"], jira["auth_type"], jira["authorize_url"]) == ("needs_configuration", "oauth2",
                                                                                     None)
    registered = vault.patch("/vault/oauth-clients/issue-tracking/jira",
                             json={"client_id": "jira-client", "client_secret": "jira-secret"})
    assert registered.status_code == 200, registered.text
    jira = vault.get("/vault/connections/issue-tracking/jira").json()["data"]
    assert jira["integration_state"] == "configured"
    assert f"/vault/authorize/jira/{app_id(vault)}?state=" in jira["authorize_url"]


def test_a_tracker_that_also_takes_a_token_is_configured_without_an_oauth_client(app_offering: OfferingApp) -> None:
    github = app_offering(["github"]).get("/vault/connections/issue-tracking/github").json()["data"]
    assert (github["integration_state"], github["auth_type"]) == ("configured", "oauth2")
    assert github["authorize_url"] is None   # the consumer types a token; no link that could only fail
    assert "access_token" in [f["id"] for f in github["form_fields"]]


def test_a_connection_to_a_tracker_the_app_stopped_offering_is_listed_disabled_and_not_used(
        harness: GatewayHarness, app_offering: OfferingApp, sim: Simulator) -> None:
    vault = app_offering(["agentsmesh", "codimir"])
    connect(vault, sim)
    operator(harness, "app-update", app_id(vault), "--services", "codimir")
    assert listed(vault) == {"agentsmesh": "disabled", "codimir": "configured"}
    stale = vault.get(CONNECTION).json()["data"]
    assert (stale["integration_state"], stale["state"]) == ("disabled", "callable")
    error(vault.get(TICKETS, params={"limit": 1}), 422, "ConnectorDisabledError")
    error(vault.get(TICKETS, params={"limit": 1}, headers={"x-apideck-service-id": "agentsmesh"}), 422,
          "ConnectorDisabledError")
    error(vault.patch(CONNECTION, json={"settings": {"organization": "other"}}), 404, "IntegrationNotFoundError")
    error(vault.post(f"{CONNECTION}/validate"), 404, "IntegrationNotFoundError")
    operator(harness, "app-update", app_id(vault), "--services", "all")
    assert vault.get(TICKETS, params={"limit": 1}).status_code == 200   # offered again: used again


def test_a_connection_to_a_tracker_no_longer_offered_can_be_deleted(harness: GatewayHarness,
                                                                    app_offering: OfferingApp, sim: Simulator) -> None:
    vault = app_offering(["agentsmesh"])
    connect(vault, sim)
    harness.store.set_services(app_id(vault), ["codimir"])
    assert vault.delete(CONNECTION).status_code == 204
    assert listed(vault) == {"codimir": "configured"}


def operator(harness: GatewayHarness, *args: str) -> None:
    """``unigate vault ...`` on the gateway's vault, as the operator runs it beside the serving gateway."""
    env = {"UNIGATE_DATABASE": str(harness.gateway.settings.database), "UNIGATE_SECRET_KEY": harness.secret_key}
    result = CliRunner().invoke(main, ["vault", *args], env=env)
    assert result.exit_code == 0, result.output
