"""Custom mappings over the Vault API: the consumer binds a target field (``issue-tracking+tickets+<key>``)
to a JSONPath into the tracker's ticket, and tickets carry ``custom_mappings.<key>`` at once."""

from __future__ import annotations

import httpx

from unigate.testing import Simulator

from .conftest import CONNECTION, MAPPINGS, TICKETS, connect, error

SLUG = f"{MAPPINGS}/issue-tracking+tickets+slug"


def test_add_binds_a_jsonpath_that_tickets_carry_at_once(vault: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim)
    added = vault.post(SLUG, json={"value": "$.slug"})
    assert added.status_code == 200
    assert added.json()["data"] == {"id": "issue-tracking+tickets+slug", "label": "Slug", "description": None,
                                    "value": "$.slug", "key": "slug", "required": False, "custom_field": False,
                                    "consumer_id": vault.headers["x-apideck-consumer-id"], "example": None}
    ticket = vault.get(TICKETS, params={"limit": 1}).json()["data"][0]
    assert ticket["custom_mappings"]["slug"].startswith("AM-")


def test_get_list_update_and_delete(vault: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim)
    vault.post(SLUG, json={"value": "$.slug"})
    assert vault.get(SLUG).json()["data"]["value"] == "$.slug"
    assert [m["key"] for m in vault.get(MAPPINGS).json()["data"]] == ["slug"]
    assert vault.patch(SLUG, json={"value": "$.number"}).json()["data"]["value"] == "$.number"
    assert [m["value"] for m in vault.get(f"{CONNECTION}/tickets/custom-mappings").json()["data"]] == ["$.number"]
    assert vault.get(f"{CONNECTION}/comments/custom-mappings").json()["data"] == []
    assert vault.delete(SLUG).status_code == 204
    error(vault.get(SLUG), 404, "EntityNotFoundError")
    assert "slug" not in vault.get(TICKETS, params={"limit": 1}).json()["data"][0].get("custom_mappings", {})


def test_mappings_are_also_the_connections_custom_mappings(vault: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim, custom_mappings=[{"id": "issue-tracking+tickets+slug", "value": "$.slug"},
                                         {"key": "kind", "value": "$.type"}])
    assert [m["key"] for m in vault.get(MAPPINGS).json()["data"]] == ["kind", "slug"]
    vault.patch(CONNECTION, json={"custom_mappings": [{"key": "kind", "value": None}]})
    assert [m["key"] for m in vault.get(CONNECTION).json()["data"]["custom_mappings"]] == ["slug"]


def test_an_invalid_jsonpath_is_a_bad_request(vault: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim)
    body = error(vault.post(SLUG, json={"value": "$.[unclosed"}), 400, "RequestValidationError")
    assert "custom_mappings['slug']" in body["detail"]
    error(vault.get(SLUG), 404, "EntityNotFoundError")


def test_target_field_ids_name_a_ticket_field(vault: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim)
    for wrong in ("slug", "issue-tracking+comments+slug", "issue-tracking+tickets+"):
        error(vault.post(f"{MAPPINGS}/{wrong}", json={"value": "$.slug"}), 400, "RequestValidationError")
    error(vault.get(f"{CONNECTION}/widgets/custom-mappings"), 404, "EntityNotFoundError")


def test_adding_twice_conflicts_and_updating_a_missing_one_is_not_found(vault: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim)
    vault.post(SLUG, json={"value": "$.slug"})
    error(vault.post(SLUG, json={"value": "$.number"}), 409, "ConflictError")
    error(vault.patch(f"{MAPPINGS}/issue-tracking+tickets+nothing", json={"value": "$.x"}), 404,
          "EntityNotFoundError")
    error(vault.delete(f"{MAPPINGS}/issue-tracking+tickets+nothing"), 404, "EntityNotFoundError")


def test_mapping_bodies_are_validated(vault: httpx.Client, sim: Simulator) -> None:
    connect(vault, sim)
    error(vault.post(SLUG, json={}), 400, "RequestValidationError")
    error(vault.post(SLUG, json={"value": "$.slug", "label": "x"}), 400, "RequestValidationError")


def test_mappings_need_a_connection(vault: httpx.Client) -> None:
    error(vault.get(MAPPINGS), 404, "ConnectionNotFoundError")
    error(vault.post(SLUG, json={"value": "$.slug"}), 404, "ConnectionNotFoundError")
