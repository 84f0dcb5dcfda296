"""No silent data loss, one policy on every simulated connector (Redmine and Roundup: their live suites).

A write with a field the tracker cannot store succeeds without it and lists it in ``meta.warnings``;
strict mode (the app's setting, or ``x-unigate-strict``, which wins) refuses it with a 400 naming the
field before any downstream call. A null on update is sent as what clears the field, or refused where
the tracker cannot clear it. A tag without id, a body pass_through naming no call and a query
pass_through overriding the paging parameters are refused before any call.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from unigate.testing import ConnectorUnderTest, Simulator, error_of
from unigate.testing.harness import APP_ID

from .conftest import case_fixtures

STRICT_APP, STRICT_CONSUMER = "strict-app", "strict-consumer"


@dataclass(frozen=True)
class Case:
    service_id: str
    collection: str
    new_ticket: dict[str, Any]          # a create body the tracker takes
    change: dict[str, Any]              # an update it stores
    unstored: dict[str, Any]            # an update field it cannot store (warned about, not sent)
    clears: tuple[str, dict[str, Any]] | None   # (unified field, what the write sends for its null)
    unclearable: str                    # a field whose null is refused
    limit_param: str                    # the paging parameter query pass_through may not override
    a_call_id: str                      # one of its call ids (the refusal lists them)


CASES = {
    "agentsmesh": Case("agentsmesh", "1", {"subject": "Policy"}, {"subject": "Changed"},
                       {"due_date": "2030-01-01T00:00:00Z"}, ("description", {"content": ""}), "subject",
                       "limit", "tickets_update_status"),
    "codimir": Case("codimir", "project_458", {"subject": "Policy"}, {"subject": "Changed"}, {"parent_id": "1"},
                    ("tags", {"labelIds": []}), "status", "limit", "tickets_update"),
    "opine": Case("opine", "organization", {"subject": "Policy"}, {"subject": "Changed"}, {"priority": "high"},
                  ("due_date", {"targetDueDate": None}), "type", "limit", "users_one"),
    "selectel": Case("selectel", "support", {"subject": "Policy", "description": "first comment"},
                     {"status": "closed"}, {"subject": "Renamed"}, None, "status", "items_per_page",
                     "tickets_close"),
}


def connect_a_strict_app(tracker: ConnectorUnderTest) -> None:
    """An app whose setting is strict, its consumer connected to the tracker; its key: ``tracker.strict_key``."""
    store = tracker.harness.store
    _, key = store.create_app("Strict app", app_id=STRICT_APP, strict=True)
    store.create_consumer(STRICT_APP, STRICT_CONSUMER)
    settings, credentials = tracker.profile.connection(tracker.url)
    store.create_connection(STRICT_APP, STRICT_CONSUMER, tracker.service_id, settings=settings,
                            credentials=credentials)
    tracker.strict_key = key  # type: ignore[attr-defined]


tracker, case, sim, client = case_fixtures(CASES, setup=connect_a_strict_app)


@pytest.fixture(name="strict_client")
def strict_client_fixture(tracker: tuple[ConnectorUnderTest, Case]) -> Iterator[httpx.Client]:
    """A client of an app whose setting is strict."""
    harness = tracker[0].harness
    headers = {**harness.headers(tracker[1].service_id), "authorization": f"Bearer {tracker[0].strict_key}",  # type: ignore[attr-defined]
               "x-apideck-app-id": STRICT_APP, "x-apideck-consumer-id": STRICT_CONSUMER}
    with httpx.Client(base_url=harness.server.url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture(name="ticket")
def ticket_fixture(client: httpx.Client, case: Case, sim: Simulator) -> str:
    """A new ticket's path; the simulator's log cleared after."""
    created = client.post(tickets(case), json=case.new_ticket)
    assert created.status_code == 201, created.text
    sim.clear()
    return f"{tickets(case)}/{created.json()['data']['id']}"


def tickets(case: Case) -> str:
    return f"/issue-tracking/collections/{case.collection}/tickets"


def writes(sim: Simulator) -> list[dict[str, Any]]:
    return [r for r in sim.requests() if r["method"] != "GET"]


def test_a_field_the_tracker_cannot_store_is_left_out_and_warned_about(client: httpx.Client, case: Case,
                                                                       sim: Simulator, ticket: str) -> None:
    response = client.patch(ticket, json={**case.change, **case.unstored})
    assert response.status_code == 200, response.text
    assert [w["field"] for w in response.json()["meta"]["warnings"]] == list(case.unstored)
    assert all(w["message"].startswith("not stored") for w in response.json()["meta"]["warnings"])
    assert writes(sim), "the rest of the write is applied"


def test_a_write_stored_in_full_has_no_warnings(client: httpx.Client, case: Case, ticket: str) -> None:
    response = client.patch(ticket, json=case.change)
    assert response.status_code == 200 and "meta" not in response.json()


def test_the_strict_header_refuses_it_before_any_call(client: httpx.Client, case: Case, sim: Simulator,
                                                      ticket: str) -> None:
    response = client.patch(ticket, json={**case.change, **case.unstored}, headers={"x-unigate-strict": "true"})
    assert error_of(response) == (400, "RequestValidationError")
    assert list(response.json()["detail"]) == list(case.unstored) and sim.requests() == []


def test_a_strict_app_refuses_it_before_any_call(strict_client: httpx.Client, case: Case, sim: Simulator,
                                                  ticket: str) -> None:
    response = strict_client.patch(ticket, json={**case.change, **case.unstored})
    assert error_of(response) == (400, "RequestValidationError")
    assert list(response.json()["detail"]) == list(case.unstored) and sim.requests() == []


def test_the_header_wins_over_the_apps_strict_setting(strict_client: httpx.Client, case: Case, sim: Simulator,
                                                      ticket: str) -> None:
    response = strict_client.patch(ticket, json={**case.change, **case.unstored},
                                   headers={"x-unigate-strict": "false"})
    assert response.status_code == 200 and [w["field"] for w in response.json()["meta"]["warnings"]] == \
        list(case.unstored)


def test_a_bad_strict_header_is_refused(client: httpx.Client, case: Case, sim: Simulator, ticket: str) -> None:
    response = client.patch(ticket, json=case.change, headers={"x-unigate-strict": "maybe"})
    assert error_of(response) == (400, "RequestHeadersValidationError")
    assert "x-unigate-strict" in response.json()["detail"] and sim.requests() == []


def test_a_null_is_sent_as_what_clears_the_field(client: httpx.Client, case: Case, sim: Simulator,
                                                 ticket: str) -> None:
    if case.clears is None:  # nothing can be cleared after creation: a null is refused before any call
        response = client.patch(ticket, json={case.unclearable: None})
        assert error_of(response) == (400, "RequestValidationError") and sim.requests() == []
        return
    field, sent = case.clears
    response = client.patch(ticket, json={field: None})
    assert response.status_code == 200 and "meta" not in response.json()
    [write] = writes(sim)
    assert write["body"] == sent


def test_a_null_the_tracker_cannot_clear_is_refused_before_any_call(client: httpx.Client, case: Case,
                                                                    sim: Simulator, ticket: str) -> None:
    response = client.patch(ticket, json={case.unclearable: None})
    assert error_of(response) == (400, "RequestValidationError")
    assert "clear" in response.json()["detail"][case.unclearable] and sim.requests() == []


def test_a_tag_without_id_is_refused_before_any_call(client: httpx.Client, case: Case, sim: Simulator) -> None:
    response = client.post(tickets(case), json={**case.new_ticket, "tags": [{"name": "backend"}]})
    assert error_of(response) == (400, "RequestValidationError")
    assert "has no id" in response.json()["detail"]["tags"] and sim.requests() == []


def test_a_body_pass_through_naming_no_call_lists_the_call_ids(client: httpx.Client, case: Case, sim: Simulator,
                                                               ticket: str) -> None:
    response = client.patch(ticket, json={**case.change, "pass_through": [
        {"service_id": case.service_id, "operation_id": "tickets_upsert", "extend_object": {"x": 1}}]})
    assert error_of(response) == (400, "RequestValidationError")
    [(where, why)] = response.json()["detail"].items()
    assert where == "pass_through[0].operation_id" and case.a_call_id in why and sim.requests() == []


def test_a_body_pass_through_for_another_service_is_not_checked(client: httpx.Client, case: Case,
                                                                ticket: str) -> None:
    response = client.patch(ticket, json={**case.change, "pass_through": [
        {"service_id": "another-service", "operation_id": "anything", "extend_object": {"x": 1}}]})
    assert response.status_code == 200, response.text


def test_a_query_pass_through_overriding_paging_is_refused(client: httpx.Client, case: Case,
                                                           sim: Simulator) -> None:
    response = client.get(tickets(case), params={f"pass_through[{case.limit_param}]": "5"})
    assert error_of(response) == (400, "RequestValidationError")
    assert list(response.json()["detail"]) == [f"pass_through[{case.limit_param}]"] and sim.requests() == []


def test_a_strict_app_is_recorded_in_the_vault(tracker: tuple[ConnectorUnderTest, Case]) -> None:
    store = tracker[0].harness.store
    assert (store.get_app(STRICT_APP).strict, store.get_app(APP_ID).strict) == (True, False)
