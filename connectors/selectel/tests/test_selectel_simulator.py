"""Specification of the Selectel Tickets simulator, exercised over real HTTP."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import httpx
import pytest

from unigate.kit import BackgroundServer
from unigate_connectors.selectel.simulator import (
    BASE_PATH,
    DEFAULT_API_KEY,
    MAX_ITEMS_PER_PAGE,
    TOPICS,
    create_app,
)

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TICKET_KEYS = {
    "client_aliased_name", "client_emails", "closed_at", "created_at", "is_client_author",
    "is_client_read", "is_closed", "is_resolved", "number", "splitted_from_ticket_number", "status",
    "summary", "type", "updated_at", "vote",
}
COMMENT_KEYS = {
    "files", "body", "id", "is_client_author", "is_client_read", "sent_at", "splitted_at",
    "splitted_to_ticket_number", "vote",
}


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer(create_app()) as running:
        yield running


@pytest.fixture(scope="module")
def api(server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url + BASE_PATH, headers={"X-Token": DEFAULT_API_KEY}) as client:
        yield client


@pytest.fixture(autouse=True)
def no_faults(server: BackgroundServer) -> Iterator[None]:
    yield
    httpx.delete(server.url + "/__sim/faults")


def all_tickets(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    return api.get("/tickets", params={"items_per_page": MAX_ITEMS_PER_PAGE, **params}).json()["items"]


def ticket_in(api: httpx.Client, status: str) -> dict[str, Any]:
    return next(t for t in all_tickets(api) if t["status"]["en"] == status)


def new_ticket(api: httpx.Client, **extra: Any) -> dict[str, Any]:
    body = {"summary": "VM ru-9a unreachable", "comment_body": "It stopped answering ping.", **extra}
    response = api.post("/tickets", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    return error


# -- auth -------------------------------------------------------------------------------------
def test_missing_x_token_is_rejected_with_401(server: BackgroundServer) -> None:
    response = httpx.get(server.url + BASE_PATH + "/tickets")
    assert "X-Token" in assert_error(response, 401, "unauthorized")["message"]


def test_wrong_x_token_is_rejected_with_401(server: BackgroundServer) -> None:
    response = httpx.get(server.url + BASE_PATH + "/topics", headers={"X-Token": "nope_208417"})
    assert_error(response, 401, "unauthorized")


def test_authorization_bearer_header_is_not_accepted(server: BackgroundServer) -> None:
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    assert httpx.get(server.url + BASE_PATH + "/tickets", headers=headers).status_code == 401


# -- listing ----------------------------------------------------------------------------------
def test_list_defaults_to_page_1_of_10_items_with_counts(api: httpx.Client) -> None:
    body = api.get("/tickets").json()
    assert set(body) == {"item_count", "items", "items_per_page", "page", "page_count"}
    assert (body["page"], body["items_per_page"], len(body["items"])) == (1, 10, 10)
    assert body["item_count"] >= 260
    assert body["page_count"] == math.ceil(body["item_count"] / 10)
    assert set(body["items"][0]) == TICKET_KEYS


def test_walking_every_page_returns_every_ticket_exactly_once(api: httpx.Client) -> None:
    first = api.get("/tickets", params={"items_per_page": 37}).json()
    seen = [t["number"] for t in first["items"]]
    for page in range(2, first["page_count"] + 1):
        seen += [t["number"] for t in api.get("/tickets", params={"page": page, "items_per_page": 37}).json()["items"]]
    assert len(seen) == len(set(seen)) == first["item_count"]


def test_list_is_ordered_newest_ticket_number_first(api: httpx.Client) -> None:
    numbers = [t["number"] for t in all_tickets(api)]
    assert numbers == sorted(numbers, reverse=True)


def test_ticket_numbers_are_integers_with_gaps_between_them(api: httpx.Client) -> None:
    numbers = sorted(t["number"] for t in all_tickets(api))
    assert all(isinstance(n, int) for n in numbers)
    assert any(b - a > 1 for a, b in pairwise(numbers))


def test_page_past_the_end_is_empty_but_keeps_counts(api: httpx.Client) -> None:
    body = api.get("/tickets", params={"page": 999}).json()
    assert body["items"] == [] and body["page"] == 999 and body["item_count"] >= 260


@pytest.mark.parametrize(("params", "field"), [
    ({"page": 0}, "page"), ({"page": "x"}, "page"), ({"items_per_page": 0}, "items_per_page"),
    ({"items_per_page": 1001}, "items_per_page"), ({"only_opened": "maybe"}, "only_opened"), ({"q": ""}, "q"),
])
def test_invalid_list_parameters_are_400_naming_the_field(api: httpx.Client, params: dict, field: str) -> None:
    error = assert_error(api.get("/tickets", params=params), 400, "validation_error")
    assert list(error["fields"]) == [field]


def test_only_opened_excludes_closed_tickets(api: httpx.Client) -> None:
    opened = all_tickets(api, only_opened="true")
    assert opened and not any(t["is_closed"] for t in opened)


def test_only_closed_returns_only_closed_tickets(api: httpx.Client) -> None:
    closed = all_tickets(api, only_closed="True")
    assert closed and all(t["is_closed"] and t["closed_at"] for t in closed)


def test_q_searches_summaries_and_comment_bodies(api: httpx.Client) -> None:
    created = new_ticket(api, summary="Strange zebra noise", comment_body="The quokka-flux capacitor hums")
    assert [t["number"] for t in all_tickets(api, q="ZEBRA")] == [created["number"]]
    assert [t["number"] for t in all_tickets(api, q="quokka-flux")] == [created["number"]]


# -- single tickets ---------------------------------------------------------------------------
def test_get_ticket_by_number_returns_the_documented_shape(api: httpx.Client) -> None:
    number = all_tickets(api)[5]["number"]
    ticket = api.get(f"/tickets/{number}").json()
    assert ticket["number"] == number and ticket["type"] is None
    assert set(ticket["status"]) == {"en", "ru"}
    assert TIMESTAMP.match(ticket["created_at"]) and TIMESTAMP.match(ticket["updated_at"])


def test_unknown_ticket_number_is_404(api: httpx.Client) -> None:
    assert_error(api.get("/tickets/1"), 404, "not_found")


def test_non_integer_ticket_number_is_404(api: httpx.Client) -> None:
    assert_error(api.get("/tickets/abc"), 404, "not_found")


def test_create_returns_200_with_an_open_ticket_and_its_first_comment(api: httpx.Client) -> None:
    ticket = new_ticket(api, client_emails=["ops@example.com"], topic_key="cloud_servers")
    assert ticket["status"] == {"en": "Open", "ru": "Открыт"}
    assert (ticket["is_closed"], ticket["closed_at"], ticket["vote"]) == (False, None, None)
    assert ticket["client_emails"] == ["ops@example.com"]
    comments = api.get(f"/tickets/{ticket['number']}/comments").json()["items"]
    assert [c["body"] for c in comments] == ["It stopped answering ping."]
    assert comments[0]["is_client_author"] is True


def test_create_gets_a_number_above_every_existing_one(api: httpx.Client) -> None:
    highest = all_tickets(api)[0]["number"]
    assert new_ticket(api)["number"] > highest


def test_create_requires_summary_and_comment_body(api: httpx.Client) -> None:
    error = assert_error(api.post("/tickets", json={}), 400, "validation_error")
    assert error["fields"] == {"summary": ["Missing data for required field."],
                               "comment_body": ["Missing data for required field."]}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("summary", "x" * 256, "Length must be between 1 and 255."),
    ("summary", "", "Length must be between 1 and 255."),
    ("comment_body", "x" * 50001, "Length must be between 1 and 50000."),
    ("files", [], "Length must be between 1 and 10."),
    ("files", ["not-a-uuid"], "Not a valid UUID."),
    ("client_emails", ["nobody"], "Not a valid email address."),
    ("client_emails", [], "Shorter than minimum length 1."),
    ("client_aliased_name", "", "Shorter than minimum length 1."),
    ("priority", "high", "Unknown field."),
])
def test_create_validates_each_field(api: httpx.Client, field: str, value: Any, message: str) -> None:
    body = {"summary": "ok", "comment_body": "ok", field: value}
    error = assert_error(api.post("/tickets", json=body), 400, "validation_error")
    assert error["fields"] == {field: [message]}


def test_create_with_unknown_topic_key_is_404(api: httpx.Client) -> None:
    response = api.post("/tickets", json={"summary": "s", "comment_body": "b", "topic_key": "nope"})
    assert_error(response, 404, "not_found")


def test_non_json_body_is_400(api: httpx.Client) -> None:
    assert_error(api.post("/tickets", content=b"{oops"), 400, "bad_request")


def test_modify_changes_aliased_name_and_emails(api: httpx.Client) -> None:
    number = new_ticket(api)["number"]
    body = {"client_aliased_name": "On-call", "client_emails": ["a@example.com", "b@example.com"]}
    ticket = api.patch(f"/tickets/{number}", json=body).json()
    assert (ticket["client_aliased_name"], ticket["client_emails"]) == ("On-call", body["client_emails"])
    assert api.patch(f"/tickets/{number}", json={"client_aliased_name": None}).json()["client_aliased_name"] is None


def test_modify_rejects_any_other_property(api: httpx.Client) -> None:
    number = new_ticket(api)["number"]
    error = assert_error(api.patch(f"/tickets/{number}", json={"summary": "new"}), 400, "validation_error")
    assert error["fields"] == {"summary": ["Unknown field."]}


def test_modify_unknown_ticket_is_404(api: httpx.Client) -> None:
    assert_error(api.patch("/tickets/1", json={}), 404, "not_found")


def test_tickets_cannot_be_deleted(api: httpx.Client) -> None:
    number = new_ticket(api)["number"]
    assert_error(api.delete(f"/tickets/{number}"), 405, "method_not_allowed")


# -- close / reopen / evaluate ---------------------------------------------------------------
def test_close_with_score_closes_and_records_the_vote(api: httpx.Client) -> None:
    number = new_ticket(api)["number"]
    ticket = api.post(f"/tickets/{number}/close", json={"score": 9, "comment": "Thanks"}).json()
    assert ticket["is_closed"] and ticket["status"]["en"] == "Closed" and TIMESTAMP.match(ticket["closed_at"])
    assert (ticket["vote"]["score"], ticket["vote"]["comment"]) == (9, "Thanks")


def test_close_without_body_just_closes(api: httpx.Client) -> None:
    number = new_ticket(api)["number"]
    assert api.post(f"/tickets/{number}/close").json()["is_closed"] is True


def test_closing_a_closed_ticket_is_400(api: httpx.Client) -> None:
    number = all_tickets(api, only_closed="true")[0]["number"]
    assert_error(api.post(f"/tickets/{number}/close", json={}), 400, "ticket_closed")


def test_close_score_must_be_1_to_10(api: httpx.Client) -> None:
    number = new_ticket(api)["number"]
    error = assert_error(api.post(f"/tickets/{number}/close", json={"score": 11}), 400, "validation_error")
    assert list(error["fields"]) == ["score"]


def test_reopen_turns_body_into_a_comment_and_opens_the_ticket(api: httpx.Client) -> None:
    number = new_ticket(api)["number"]
    api.post(f"/tickets/{number}/close", json={})
    ticket = api.post(f"/tickets/{number}/reopen", json={"body": "It broke again"}).json()
    assert (ticket["is_closed"], ticket["closed_at"], ticket["status"]["en"]) == (False, None, "Open")
    assert api.get(f"/tickets/{number}/comments").json()["items"][-1]["body"] == "It broke again"


def test_reopen_requires_body(api: httpx.Client) -> None:
    number = all_tickets(api, only_closed="true")[0]["number"]
    error = assert_error(api.post(f"/tickets/{number}/reopen", json={}), 400, "validation_error")
    assert error["fields"] == {"body": ["Missing data for required field."]}


def test_reopening_an_open_ticket_is_400(api: httpx.Client) -> None:
    number = new_ticket(api)["number"]
    assert_error(api.post(f"/tickets/{number}/reopen", json={"body": "x"}), 400, "ticket_not_closed")


def test_evaluate_resolved_ticket_returns_and_stores_the_vote(api: httpx.Client) -> None:
    number = ticket_in(api, "Resolved")["number"]
    vote = api.post(f"/tickets/{number}/evaluate", json={"score": 10}).json()
    assert set(vote) == {"comment", "created_at", "score"} and vote["score"] == 10
    assert api.get(f"/tickets/{number}").json()["vote"] == vote


def test_evaluate_requires_a_resolved_or_closed_ticket(api: httpx.Client) -> None:
    number = new_ticket(api)["number"]
    assert_error(api.post(f"/tickets/{number}/evaluate", json={"score": 5}), 400, "ticket_not_resolved")


def test_evaluate_requires_score(api: httpx.Client) -> None:
    number = ticket_in(api, "Closed")["number"]
    error = assert_error(api.post(f"/tickets/{number}/evaluate", json={"comment": "hm"}), 400, "validation_error")
    assert list(error["fields"]) == ["score"]


# -- comments ---------------------------------------------------------------------------------
def test_comment_is_appended_to_the_ticket_thread(api: httpx.Client) -> None:
    number = new_ticket(api)["number"]
    comment = api.post(f"/tickets/{number}/comments", json={"body": "more details"}).json()
    assert set(comment) == COMMENT_KEYS and comment["is_client_author"] and comment["vote"] is None
    assert api.get(f"/tickets/{number}/comments").json()["items"][-1] == comment


def test_comment_from_client_moves_awaiting_ticket_back_to_open(api: httpx.Client) -> None:
    number = ticket_in(api, "Awaiting reply")["number"]
    api.post(f"/tickets/{number}/comments", json={"body": "Here is the info"})
    assert api.get(f"/tickets/{number}").json()["status"]["en"] == "Open"


def test_comment_on_closed_ticket_is_400(api: httpx.Client) -> None:
    number = all_tickets(api, only_closed="true")[0]["number"]
    assert_error(api.post(f"/tickets/{number}/comments", json={"body": "hi"}), 400, "ticket_closed")


def test_comment_body_is_required(api: httpx.Client) -> None:
    number = new_ticket(api)["number"]
    error = assert_error(api.post(f"/tickets/{number}/comments", json={"body": ""}), 400, "validation_error")
    assert error["fields"] == {"body": ["Length must be between 1 and 50000."]}


def test_comments_of_unknown_ticket_are_404(api: httpx.Client) -> None:
    assert_error(api.get("/tickets/1/comments"), 404, "not_found")


def test_comments_are_listed_oldest_first_without_paging(api: httpx.Client) -> None:
    number = max(all_tickets(api)[:50], key=lambda t: t["updated_at"])["number"]
    body = api.get(f"/tickets/{number}/comments").json()
    assert list(body) == ["items"]
    assert [c["sent_at"] for c in body["items"]] == sorted(c["sent_at"] for c in body["items"])


def test_find_comment_by_id(api: httpx.Client) -> None:
    number = all_tickets(api)[3]["number"]
    first = api.get(f"/tickets/{number}/comments").json()["items"][0]
    assert api.get(f"/comments/{first['id']}").json() == first


def test_unknown_comment_is_404(api: httpx.Client) -> None:
    assert_error(api.get("/comments/1"), 404, "not_found")


def test_support_comment_can_be_voted_up_or_down(api: httpx.Client) -> None:
    seeded = all_tickets(api)[-20:]  # the oldest: the newest may be other tests' tickets, with client comments only
    comments = [c for t in seeded for c in api.get(f"/tickets/{t['number']}/comments").json()["items"]]
    support = next(c for c in comments if not c["is_client_author"])
    vote = api.post(f"/comments/{support['id']}/evaluate", json={"score": -1, "comment": "Not helpful"}).json()
    assert (vote["score"], vote["comment"]) == (-1, "Not helpful")
    assert api.get(f"/comments/{support['id']}").json()["vote"] == vote


def test_comment_vote_score_must_be_1_or_minus_1(api: httpx.Client) -> None:
    number = all_tickets(api)[0]["number"]
    comment_id = api.get(f"/tickets/{number}/comments").json()["items"][0]["id"]
    error = assert_error(api.post(f"/comments/{comment_id}/evaluate", json={"score": 0}), 400, "validation_error")
    assert error["fields"] == {"score": ["Must be one of: 1, -1."]}


def test_own_comment_cannot_be_voted(api: httpx.Client) -> None:
    number = new_ticket(api)["number"]
    comment_id = api.get(f"/tickets/{number}/comments").json()["items"][0]["id"]
    assert_error(api.post(f"/comments/{comment_id}/evaluate", json={"score": 1}), 400, "own_comment")


def test_split_ticket_points_at_its_origin_and_back(api: httpx.Client) -> None:
    split = next(t for t in all_tickets(api) if t["splitted_from_ticket_number"])
    origin_comments = api.get(f"/tickets/{split['splitted_from_ticket_number']}/comments").json()["items"]
    marked = [c for c in origin_comments if c["splitted_to_ticket_number"] == split["number"]]
    assert len(marked) == 1 and TIMESTAMP.match(marked[0]["splitted_at"])


# -- topics and seed --------------------------------------------------------------------------
def test_topics_are_listed_with_key_and_localized_name(api: httpx.Client) -> None:
    body = api.get("/topics").json()
    assert body == {"items": TOPICS}
    assert all(set(t) == {"key", "name"} and set(t["name"]) == {"en", "ru"} for t in body["items"])


def test_same_seed_gives_the_same_tickets() -> None:
    pages = []
    for _ in range(2):
        with BackgroundServer(create_app(seed=3, ticket_count=15)) as other:
            headers = {"X-Token": DEFAULT_API_KEY}
            pages.append(httpx.get(other.url + BASE_PATH + "/tickets?items_per_page=15", headers=headers).json())
    assert pages[0] == pages[1] and pages[0]["item_count"] == 15
