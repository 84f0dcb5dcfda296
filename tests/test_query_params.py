"""Query parameters exactly as the spec serializes them; bad ones are typed 400s."""

from __future__ import annotations

import httpx
import pytest

from unigate.testing import Simulator
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import COLLECTION, TICKETS, tracker_tickets


def error_of(response: httpx.Response, status: int, type_name: str) -> dict:
    body = response.json()
    assert (response.status_code, body["type_name"]) == (status, type_name), body
    return body


def sent_query(sim) -> list[tuple[str, str]]:  # noqa: ANN001
    return [tuple(p) for p in sim.requests()[-1]["query"]]


def test_limit_defaults_to_20(client: httpx.Client) -> None:
    assert len(client.get(TICKETS).json()["data"]) == 20


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten"])
def test_limit_out_of_range_names_limit(client: httpx.Client, limit: str) -> None:
    body = error_of(client.get(TICKETS, params={"limit": limit}), 400, "RequestValidationError")
    assert "limit" in body["detail"]


def test_limit_200_is_served_with_downstream_pages(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"limit": 200}).json()["data"]
    assert len(data) == 200
    assert len(sim.requests()) == 2  # the mapping caps AgentsMesh pages at 100


def test_raw_must_be_boolean(client: httpx.Client) -> None:
    error_of(client.get(TICKETS, params={"raw": "maybe"}), 400, "RequestValidationError")


def test_tampered_cursor_is_invalid(client: httpx.Client) -> None:
    cursor = client.get(TICKETS, params={"limit": 2}).json()["meta"]["cursors"]["next"]
    body, mac = cursor.split(".")
    forged = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + mac
    error_of(client.get(TICKETS, params={"cursor": forged}), 400, "InvalidCursorError")


def test_garbage_cursor_is_invalid(client: httpx.Client) -> None:
    error_of(client.get(TICKETS, params={"cursor": "not-a-cursor"}), 400, "InvalidCursorError")


def test_cursor_of_another_list_is_invalid(client: httpx.Client) -> None:
    cursor = client.get("/issue-tracking/collections/2/tickets", params={"limit": 2}).json()["meta"]["cursors"]["next"]
    assert cursor
    body = error_of(client.get(TICKETS, params={"cursor": cursor}), 400, "InvalidCursorError")
    assert "another list" in body["detail"]


def test_unknown_filter_is_unsupported(client: httpx.Client) -> None:
    body = error_of(client.get(TICKETS, params={"filter[priority]": "high"}), 400, "UnsupportedFiltersError")
    assert "priority" in body["detail"]


def test_since_the_connector_cannot_push_down_is_emulated(client: httpx.Client, sim: Simulator) -> None:
    """AgentsMesh has no since parameter: the gateway scans (tests/sync/); none is sent downstream."""
    data = client.get(TICKETS, params={"filter[since]": "2025-01-01T00:00:00Z"}).json()["data"]
    assert data and all(t["updated_at"] >= "2025-01-01" for t in data)
    assert not [k for r in sim.requests() for k, _ in r["query"] if "since" in k or "updated" in k]


def test_invalid_since_is_a_validation_error(client: httpx.Client) -> None:
    error_of(client.get(TICKETS, params={"filter[since]": "last tuesday"}), 400, "RequestValidationError")


def test_status_filter_reaches_downstream_mapped(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"filter[status]": "closed"}).json()["data"]
    assert data and {t["status"] for t in data} == {"closed"}
    assert ("status", "done") in sent_query(sim)


@pytest.mark.parametrize("serialized", [{"filter[status][]": "closed"}, {"filter[status][0]": "closed"}])
def test_status_filter_array_forms_are_accepted(client: httpx.Client, sim: Simulator, serialized) -> None:  # noqa: ANN001
    data = client.get(TICKETS, params=serialized).json()["data"]
    assert ("status", "done") in sent_query(sim)
    done = [t["slug"] for t in tracker_tickets(sim, repository_id=agentsmesh.MAIN_REPOSITORY_ID, status="done")]
    assert [(t["id"], t["status"]) for t in data] == [(slug, "closed") for slug in done[:20]] and done


def test_unmapped_status_filter_passes_through(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"filter[status]": "in_review"}).json()["data"]
    assert ("status", "in_review") in sent_query(sim)
    in_review = [t["slug"] for t in tracker_tickets(sim, repository_id=agentsmesh.MAIN_REPOSITORY_ID,
                                                    status="in_review")]
    # read back through the status map: AgentsMesh's in_review is the unified in_progress
    assert [(t["id"], t["status"]) for t in data] == [(slug, "in_progress") for slug in in_review[:20]] and in_review


def test_sort_by_a_field_outside_the_spec_is_a_validation_error(client: httpx.Client) -> None:
    body = error_of(client.get(TICKETS, params={"sort[by]": "priority"}), 400, "RequestValidationError")
    assert "sort[by]" in body["detail"]


def test_sort_the_connector_cannot_do_is_unsupported(client: httpx.Client) -> None:
    # AgentsMesh lists newest first (created_at desc) and cannot be asked for another order
    error_of(client.get(TICKETS, params={"sort[by]": "created_at", "sort[direction]": "asc"}), 400,
             "UnsupportedSortFieldError")


def test_bad_sort_direction_is_a_validation_error(client: httpx.Client) -> None:
    error_of(client.get(TICKETS, params={"sort[by]": "created_at", "sort[direction]": "up"}), 400,
             "RequestValidationError")


def test_pass_through_query_reaches_downstream_and_wins(client: httpx.Client, sim: Simulator) -> None:
    response = client.get(TICKETS, params={"pass_through[labels]": "ui", "pass_through[repository_id]": "2"})
    query = sent_query(sim)
    assert ("labels", "ui") in query
    assert ("repository_id", "2") in query and ("repository_id", "1") not in query
    expected = [t["slug"] for t in tracker_tickets(sim, repository_id=2, labels="ui")]
    assert [t["id"] for t in response.json()["data"]] == expected and expected


def test_nested_pass_through_keeps_bracket_keys(client: httpx.Client, sim: Simulator) -> None:
    client.get(TICKETS, params={"pass_through[meta][team]": "core"})
    assert ("meta[team]", "core") in sent_query(sim)


def test_fields_keeps_named_fields_of_a_list(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"fields": "id,subject,tags.name", "limit": 3}).json()["data"]
    newest = tracker_tickets(sim, repository_id=agentsmesh.MAIN_REPOSITORY_ID, limit=3)
    assert data == [{"id": t["slug"], "subject": t["title"], "tags": [{"name": label} for label in t["labels"]]}
                    for t in newest]
    assert any(t["tags"] for t in data)


def test_fields_applies_to_one(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(f"{TICKETS}/AM-1", params={"fields": "id,status"}).json()["data"]
    [am1] = [t for t in tracker_tickets(sim) if t["slug"] == "AM-1"]
    unified = {"backlog": "open", "todo": "open", "in_progress": "in_progress", "in_review": "in_progress",
               "done": "closed"}
    assert data == {"id": "AM-1", "status": unified[am1["status"]]}


def test_raw_carries_the_downstream_body_without_credentials(client: httpx.Client) -> None:
    body = client.get(TICKETS, params={"limit": 1, "raw": "true"}).json()
    assert body["_raw"]["tickets"][0]["slug"] == body["data"][0]["id"]
    assert agentsmesh.DEFAULT_API_KEY not in str(body)


def test_raw_is_absent_by_default(client: httpx.Client) -> None:
    assert "_raw" not in client.get(TICKETS, params={"limit": 1}).json()


def test_collections_list(client: httpx.Client) -> None:
    body = client.get("/issue-tracking/collections").json()
    assert body["resource"] == "collections"
    assert {"1", "2", "3"} <= {c["id"] for c in body["data"]}


def test_collection_one(client: httpx.Client) -> None:
    assert client.get(COLLECTION).json()["data"]["name"] == "agentsmesh-core"
