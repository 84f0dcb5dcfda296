"""Roundup and the write policy, against the real tracker (else its cassettes): what clears a property
(Roundup drops JSON null silently: "" clears a link, [] a multilink), what cannot be cleared, and what
Roundup cannot store (meta.warnings; refused in strict mode)."""

from __future__ import annotations

from typing import Any

import httpx

from unigate.testing import error_of
from unigate.testing.live import live_fixtures

live, client = live_fixtures("roundup")

TICKETS = "/issue-tracking/collections/issue/tickets"


def _create(client: httpx.Client, **fields: Any) -> str:
    response = client.post(TICKETS, json={"subject": "unigate write policy", **fields})
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]


def _ticket(client: httpx.Client, ticket_id: str) -> dict[str, Any]:
    return client.get(f"{TICKETS}/{ticket_id}").json()["data"]


def test_nulls_clear_status_priority_assignee_and_tags(client: httpx.Client) -> None:
    ticket_id = _create(client, status="in_progress", priority="high", assignees=[{"id": "1"}],
                        tags=[{"name": "unigate-policy"}])
    before = _ticket(client, ticket_id)
    assert (before["status"], before["priority"], len(before["assignees"]), len(before["tags"])) == (
        "in_progress", "high", 1, 1)
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"status": None, "priority": None, "assignees": None,
                                                           "tags": None})
    assert response.status_code == 200 and "meta" not in response.json()
    after = _ticket(client, ticket_id)
    assert (after["status"], after["priority"], after["assignees"], after["tags"]) == (None, None, [], [])


def test_a_null_subject_is_refused_before_roundup(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Keeps its title")
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"subject": None})
    assert error_of(response) == (400, "RequestValidationError") and "subject" in response.json()["detail"]
    assert _ticket(client, ticket_id)["subject"] == "Keeps its title"


def test_what_roundup_cannot_store_is_left_out_and_warned_about(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Warned", description="first message")
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"subject": "Warned, renamed", "description": "edited",
                                                           "due_date": "2030-01-01T00:00:00Z"})
    assert response.status_code == 200, response.text
    warnings = {w["field"]: w["message"] for w in response.json()["meta"]["warnings"]}
    assert list(warnings) == ["description", "due_date"] and "first Roundup message" in warnings["description"]
    after = _ticket(client, ticket_id)
    assert (after["subject"], after["description"]) == ("Warned, renamed", "first message")


def test_strict_mode_refuses_what_roundup_cannot_store(client: httpx.Client) -> None:
    ticket_id = _create(client, subject="Strict")
    response = client.patch(f"{TICKETS}/{ticket_id}", json={"subject": "Strict, renamed", "due_date": "2030-01-01"},
                            headers={"x-unigate-strict": "true"})
    assert error_of(response) == (400, "RequestValidationError") and list(response.json()["detail"]) == ["due_date"]
    assert _ticket(client, ticket_id)["subject"] == "Strict"
