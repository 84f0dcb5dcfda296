"""Field rules (``required``, ``create_only``, ``refused``: a 400 naming the field before any call)
and ``null_as`` (what a null left in a write's body is sent as), on the tiny tracker."""

from __future__ import annotations

import httpx
import pytest

from unigate.testing import GatewayHarness, Simulator, error_of

from .tiny_fixtures import client, harness, sent, sim  # noqa: F401 - fixtures

TICKETS = "/issue-tracking/collections/alpha/tickets"


@pytest.mark.parametrize("body", [{"body": "   "}, {"body": None}, {}])
def test_a_required_field_missing_or_blank_on_create_is_refused_before_any_call(
        client: httpx.Client, sim: Simulator, body: dict) -> None:
    response = client.post(f"{TICKETS}/1/comments", json=body)
    assert error_of(response) == (400, "RequestValidationError")
    assert response.json()["detail"] == {"body": "required: send a value that is not blank"}
    assert sent(sim) == []


def test_a_required_field_may_be_left_out_of_an_update_but_not_blanked(client: httpx.Client, sim: Simulator) -> None:
    assert client.patch(f"{TICKETS}/2", json={"priority": "low"}).status_code == 200
    response = client.patch(f"{TICKETS}/2", json={"subject": ""})
    assert error_of(response) == (400, "RequestValidationError")
    assert response.json()["detail"] == {"subject": "required: send a value that is not blank"}


def test_a_create_only_field_is_refused_on_update(client: httpx.Client, sim: Simulator) -> None:
    response = client.patch(f"{TICKETS}/2", json={"type": "bug"})
    assert error_of(response) == (400, "RequestValidationError")
    assert response.json()["detail"] == {"type": "set on create only: it cannot be changed"}
    assert sent(sim) == []


def test_a_create_only_field_is_sent_on_create(client: httpx.Client, sim: Simulator) -> None:
    assert client.post(TICKETS, json={"subject": "Typed", "type": "bug"}).status_code == 201
    assert sent(sim, "POST")[0]["body"]["item"]["kind"] == "bug"


def test_a_refused_field_is_a_400_saying_why(client: httpx.Client, sim: Simulator) -> None:
    response = client.post(TICKETS, json={"subject": "Mine", "due_date": "2026-02-01"})
    assert error_of(response) == (400, "RequestValidationError")
    assert response.json()["detail"] == {"due_date": "refused: the tracker computes due dates"}
    assert sent(sim) == []


def test_null_as_sends_a_null_custom_field_as_the_trackers_empty_value(harness: GatewayHarness,
                                                                       sim: Simulator) -> None:
    with harness.client(consumer_id="by-name") as by_name:
        by_name.patch(f"{TICKETS}/3", json={"custom_mappings": {"customer": "Globex"}})
        sim.clear()
        assert by_name.patch(f"{TICKETS}/3", json={"custom_mappings": {"customer": None}}).status_code == 200
        assert [r["body"] for r in sent(sim, "PUT")] == [{"item": {"fields": [{"value": "", "id": 11}]}}]
        assert by_name.get(f"{TICKETS}/3").json()["data"]["custom_mappings"] == {"customer": None}
