"""Declared lookups (manifest ``lookups``), a field's ``lookup`` (a unified value or a tracker name
-> the tracker's id) and ``list_lookups`` (custom fields by name -> id), on the tiny tracker."""

from __future__ import annotations

import httpx

from unigate.testing import GatewayHarness, Simulator, error_of

from .tiny_fixtures import client, harness, sent, sim  # noqa: F401 - fixtures

TICKETS = "/issue-tracking/collections/alpha/tickets"


def written(sim: Simulator) -> list[dict]:
    return [r["body"] for r in sent(sim) if r["method"] in ("POST", "PUT")]


def test_a_unified_status_is_sent_as_the_id_of_the_first_status_reading_as_it(client: httpx.Client,
                                                                               sim: Simulator) -> None:
    assert client.patch(f"{TICKETS}/2", json={"status": "in_progress"}).status_code == 200
    assert written(sim) == [{"item": {"state_id": 2}}]
    assert client.get(f"{TICKETS}/2").json()["data"]["status"] == "in_progress"


def test_a_value_is_matched_by_name_case_insensitively(client: httpx.Client, sim: Simulator) -> None:
    client.patch(f"{TICKETS}/2", json={"priority": "high"})
    assert written(sim) == [{"item": {"priority_id": 8}}]


def test_an_unknown_value_is_a_400_naming_the_known_ones_before_any_write(client: httpx.Client,
                                                                          sim: Simulator) -> None:
    response = client.patch(f"{TICKETS}/2", json={"priority": "urgent", "status": "on_hold"})
    assert error_of(response) == (400, "RequestValidationError")
    assert response.json()["detail"] == {"priority": "unknown priority 'urgent'; use Low, High",
                                         "status": "unknown status 'on_hold'; use open, in_progress, closed "
                                                   "or one of New, Doing, Done"}
    assert written(sim) == []


def test_a_lookup_is_read_once_per_connection(client: httpx.Client, sim: Simulator) -> None:
    client.patch(f"{TICKETS}/3", json={"status": "closed"})
    sim.clear()
    client.patch(f"{TICKETS}/3", json={"status": "open"})
    assert [r["path"] for r in sent(sim)] == ["/items/3"]


def test_a_custom_field_by_name_is_written_by_the_id_of_the_items_own_field(harness: GatewayHarness,
                                                                             sim: Simulator) -> None:
    sim.clear()
    with harness.client(consumer_id="by-name") as by_name:
        assert by_name.patch(f"{TICKETS}/4", json={"custom_mappings": {"customer": "ACME"}}).status_code == 200
        assert written(sim) == [{"item": {"fields": [{"value": "ACME", "id": 11}]}}]
        assert [r["path"] for r in sent(sim, "GET")] == ["/items/4"]   # not cached: the item's own fields
        assert by_name.get(f"{TICKETS}/4").json()["data"]["custom_mappings"] == {"customer": "ACME"}


def test_a_custom_field_by_name_on_create_is_looked_up_among_the_kept_fields(harness: GatewayHarness,
                                                                            sim: Simulator) -> None:
    sim.clear()
    with harness.client(consumer_id="by-name") as by_name:
        response = by_name.post(TICKETS, json={"subject": "With customer", "custom_mappings": {"customer": "Initech"}})
    assert response.status_code == 201, response.text
    assert written(sim)[0]["item"]["fields"] == [{"value": "Initech", "id": 11}]


def test_an_unknown_custom_field_name_is_a_400_naming_the_known_ones(harness: GatewayHarness, sim: Simulator) -> None:
    harness.connect_consumer("tiny", "budget", {"base_url": sim.url}, {},
                             custom_mappings={"budget": "$.fields[?(@.name == 'Budget')].value"})
    sim.clear()
    with harness.client(consumer_id="budget") as budget:
        response = budget.post(TICKETS, json={"subject": "x", "custom_mappings": {"budget": "1"}})
    assert error_of(response) == (400, "RequestValidationError")
    assert response.json()["detail"] == {"custom_mappings": "Tiny has no fields entry 'Budget'; known: Customer"}
    assert written(sim) == []
