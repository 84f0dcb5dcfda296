"""Bodies validated against the spec's schemas; bad ones never reach the tracker."""

from __future__ import annotations

import httpx
import pytest

from unigate.api.bodies import MAX_BODY_BYTES
from unigate.testing import Simulator

from .conftest import TICKETS


def rejected(response: httpx.Response, sim: Simulator) -> dict:
    body = response.json()
    assert (response.status_code, body["type_name"]) == (400, "RequestValidationError"), body
    assert not [r for r in sim.requests() if r["method"] != "GET"], "nothing may be written downstream"
    return body


def test_unknown_field_is_named(client: httpx.Client, sim: Simulator) -> None:
    body = rejected(client.post(TICKETS, json={"subject": "x", "severity": "high"}), sim)
    assert body["detail"] == {"severity": "unknown field"}


def test_wrong_types_are_each_named(client: httpx.Client, sim: Simulator) -> None:
    body = rejected(client.post(TICKETS, json={"subject": 42, "priority": "blocker", "assignees": "me"}), sim)
    assert set(body["detail"]) == {"subject", "priority", "assignees"}


def test_nested_wrong_type_names_the_path(client: httpx.Client, sim: Simulator) -> None:
    body = rejected(client.post(TICKETS, json={"subject": "x", "assignees": [{"id": 5}]}), sim)
    assert "assignees.0.id" in body["detail"]


def test_non_json_body(client: httpx.Client, sim: Simulator) -> None:
    body = rejected(client.post(TICKETS, content=b"subject=x", headers={"content-type": "text/plain"}), sim)
    assert "JSON" in body["detail"]["body"]


def test_json_that_is_not_an_object(client: httpx.Client, sim: Simulator) -> None:
    rejected(client.post(TICKETS, json=["subject"]), sim)


def test_empty_body(client: httpx.Client, sim: Simulator) -> None:
    rejected(client.post(TICKETS, content=b""), sim)


def test_oversized_body(client: httpx.Client, sim: Simulator) -> None:
    body = rejected(client.post(TICKETS, json={"subject": "x", "description": "y" * MAX_BODY_BYTES}), sim)
    assert "too large" in body["message"]


def test_invalid_due_date(client: httpx.Client, sim: Simulator) -> None:
    body = rejected(client.post(TICKETS, json={"subject": "x", "due_date": "soon"}), sim)
    assert "due_date" in body["detail"]


def test_invalid_pass_through_path_names_the_entry(client: httpx.Client, sim: Simulator) -> None:
    entry = {"service_id": "agentsmesh", "extend_paths": [{"path": "$.ok", "value": 1}]}
    bad = {"service_id": "agentsmesh", "extend_paths": [{"path": "$[oops", "value": 1}]}
    body = rejected(client.post(TICKETS, json={"subject": "x", "pass_through": [entry, bad]}), sim)
    assert "pass_through[1]" in body["detail"]


def test_read_only_fields_are_ignored(client: httpx.Client, sim: Simulator) -> None:
    response = client.post(TICKETS, json={"subject": "Read-only test", "id": "AM-9999", "created_at": "2020-01-01T00:00:00Z",
                                          "collection_id": "3", "completed_at": None})
    assert response.status_code == 201, response.json()
    sent = sim.requests()[-1]["body"]
    assert sent == {"repository_id": 1, "type": "task", "title": "Read-only test"}


def test_update_sends_only_present_fields(client: httpx.Client, sim: Simulator) -> None:
    assert client.patch(f"{TICKETS}/AM-2", json={"subject": "Only the subject"}).status_code == 200
    writes = [r for r in sim.requests() if r["method"] != "GET"]
    assert [(r["method"], r["body"]) for r in writes] == [("PUT", {"title": "Only the subject"})]


def test_update_of_status_only_calls_the_status_endpoint(client: httpx.Client, sim: Simulator) -> None:
    assert client.patch(f"{TICKETS}/AM-3", json={"status": "closed"}).status_code == 200
    writes = [(r["method"], r["path"].rsplit("/", 1)[-1], r["body"]) for r in sim.requests() if r["method"] != "GET"]
    assert writes == [("PATCH", "status", {"status": "done"})]


@pytest.mark.parametrize("method", ["put", "post"])
def test_wrong_method_is_405_in_the_error_schema(client: httpx.Client, method: str) -> None:
    response = getattr(client, method)(f"{TICKETS}/AM-1", json={})
    assert response.status_code == 405
    assert response.json()["status_code"] == 405
    assert response.headers["request-id"]


def test_unknown_route_is_404_in_the_error_schema(client: httpx.Client) -> None:
    response = client.get("/issue-tracking/projects")
    assert response.status_code == 404
    assert response.json()["type_name"] == "EntityNotFoundError"
