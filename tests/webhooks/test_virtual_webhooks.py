"""Virtual webhooks end to end: tickets changed in a simulated tracker reach a real receiver, signed, once."""

from __future__ import annotations

import time
from typing import Any

from unigate.webhooks import events as ev

from .conftest import CONSUMER_ID, Receiver, Setup, wait_for


def _create(setup: Setup, subject: str) -> str:
    with setup.tickets() as client:
        answer = client.post(setup.tickets_path, json={"subject": subject})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["data"]["id"])


def _events(receiver: Receiver, name: str, count: int) -> list[dict[str, Any]]:
    return wait_for(lambda: d if len(d := receiver.delivered(name)) >= count else None)


def test_create_update_delete_are_delivered_once_each_in_order(setup: Setup, receiver: Receiver) -> None:
    setup.subscribe(receiver, "hook")
    setup.baseline()
    ticket_id = _create(setup, "Login fails")
    _events(receiver, "hook", 1)
    with setup.tickets() as client:
        assert client.patch(f"{setup.tickets_path}/{ticket_id}", json={"status": "closed"}).status_code == 200
        _events(receiver, "hook", 2)
        assert client.delete(f"{setup.tickets_path}/{ticket_id}").status_code == 200
    delivered = _events(receiver, "hook", 3)
    assert [d["headers"][ev.EVENT_TYPE_HEADER] for d in delivered] == [ev.CREATED, ev.UPDATED, ev.DELETED]
    assert {d["body"]["payload"]["entity_id"] for d in delivered} == {ticket_id}


def test_no_event_repeats_over_later_polls(setup: Setup, receiver: Receiver) -> None:
    setup.subscribe(receiver, "hook")
    setup.baseline()
    _create(setup, "Once")
    _events(receiver, "hook", 1)
    polls = len(setup.runner.reports)
    wait_for(lambda: len(setup.runner.reports) >= polls + 5)   # five more polls
    assert len(receiver.received) == 1


def test_existing_tickets_are_the_baseline_not_events(setup: Setup, receiver: Receiver) -> None:
    setup.subscribe(receiver, "hook")
    setup.baseline()
    polls = len(setup.runner.reports)
    wait_for(lambda: len(setup.runner.reports) >= polls + 3)
    assert receiver.received == []


def test_every_delivery_is_signed_with_the_subscription_secret(setup: Setup, receiver: Receiver) -> None:
    setup.subscribe(receiver, "hook")
    setup.baseline()
    _create(setup, "Signed")
    [delivery] = _events(receiver, "hook", 1)
    assert delivery["verified"] is True
    assert ev.verify(delivery["raw"], delivery["headers"][ev.SIGNATURE_HEADER], "another secret") is False


def test_the_payload_is_apideck_s_event(setup: Setup, receiver: Receiver) -> None:
    setup.subscribe(receiver, "hook")
    setup.baseline()
    ticket_id = _create(setup, "Payload")
    [delivery] = _events(receiver, "hook", 1)
    payload = delivery["body"]["payload"]
    assert {k: v for k, v in payload.items() if k not in ("event_id", "occurred_at", "entity_url")} == {
        "event_type": ev.CREATED, "unified_api": "issue-tracking", "service_id": "codimir",
        "consumer_id": CONSUMER_ID, "entity_id": ticket_id, "entity_type": "ticket", "execution_attempt": 1}
    assert payload["entity_url"].endswith(f"/issue-tracking/collections/project_456/tickets/{ticket_id}")


def test_a_subscription_gets_only_the_events_it_names(setup: Setup, receiver: Receiver) -> None:
    setup.subscribe(receiver, "deletes", events=[ev.DELETED])
    setup.subscribe(receiver, "all")
    setup.baseline()
    ticket_id = _create(setup, "Short-lived")
    _events(receiver, "all", 1)
    with setup.tickets() as client:
        assert client.delete(f"{setup.tickets_path}/{ticket_id}").status_code == 200
    _events(receiver, "all", 2)
    [only] = _events(receiver, "deletes", 1)
    assert only["headers"][ev.EVENT_TYPE_HEADER] == ev.DELETED


def test_the_body_matches_the_spec_s_webhook_event_schema(setup: Setup, receiver: Receiver) -> None:
    from pathlib import Path

    import jsonschema_rs
    import yaml

    import unigate

    from .test_api import json_schema

    spec = yaml.safe_load((Path(unigate.__file__).parent / "openapi/issue-tracking.yml").read_text())
    ticket_created = spec["x-webhooks"]["TicketCreated"]["post"]["requestBody"]["content"]["application/json"]
    schema = {"$defs": json_schema(spec["components"]["schemas"]), **json_schema(ticket_created["schema"])}
    setup.subscribe(receiver, "hook")
    setup.baseline()
    _create(setup, "Schema")
    [delivery] = _events(receiver, "hook", 1)
    assert [str(e) for e in jsonschema_rs.validator_for(schema).iter_errors(delivery["body"])] == []
    assert set(delivery["body"]["payload"]) == {"event_type", "unified_api", "service_id", "consumer_id", "event_id",
                                                "entity_id", "entity_type", "entity_url", "execution_attempt",
                                                "occurred_at"}


def test_a_scan_that_comes_back_short_reports_no_deletes(setup: Setup, receiver: Receiver) -> None:
    setup.subscribe(receiver, "hook")
    setup.baseline()
    polls = len(setup.runner.reports)
    # the first page of each of the 4 projects comes back empty, once: 100 of project_456's tickets go unseen
    setup.simulator.fault(path="/api/tickets$", method="GET", times=4, status=200,
                          body={"data": [], "pagination": {"total": 0, "totalPages": 1}})
    wait_for(lambda: len(setup.runner.reports) >= polls + 3)   # the short scan asked about each, then two more
    time.sleep(0.5)
    assert receiver.received == []

