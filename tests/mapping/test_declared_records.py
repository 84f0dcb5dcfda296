"""``keep`` (records a list or read answers with), ``read_back`` (the id of a write answered with
204) and ``exists_check`` (a read before a write), on the tiny tracker: item 1's notes are
first, "", second, null, third."""

from __future__ import annotations

import httpx

from unigate.testing import Simulator, error_of

from .tiny_fixtures import client, harness, sent, sim  # noqa: F401 - fixtures

COMMENTS = "/issue-tracking/collections/alpha/tickets/1/comments"


def test_a_list_keeps_only_records_meeting_the_condition(client: httpx.Client) -> None:
    bodies = [c["body"] for c in client.get(COMMENTS).json()["data"]]
    assert bodies[:3] == ["first", "second", "third"]
    assert "" not in bodies and None not in bodies


def test_pages_over_kept_records_are_exact(client: httpx.Client) -> None:
    everything = [c["id"] for c in client.get(COMMENTS).json()["data"]]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get(COMMENTS, params=params).json()
        seen += [c["id"] for c in page["data"]]
        cursor = page["meta"]["cursors"]["next"]
        if cursor is None:
            break
    assert seen == everything


def test_a_read_of_a_record_not_kept_is_not_found(client: httpx.Client) -> None:
    blank = 102   # item 1's second note: ""
    assert error_of(client.get(f"{COMMENTS}/{blank}")) == (404, "EntityNotFoundError")
    assert client.get(f"{COMMENTS}/101").json()["data"]["body"] == "first"


def test_read_back_answers_the_id_of_the_newest_record_with_what_was_sent(client: httpx.Client,
                                                                          sim: Simulator) -> None:
    first = client.post(COMMENTS, json={"body": "same words"}).json()["data"]["id"]
    sim.clear()
    second = client.post(COMMENTS, json={"body": "same words"}).json()["data"]["id"]
    assert [(r["method"], r["path"]) for r in sent(sim)] == [("PUT", "/items/1"), ("GET", "/items/1")]
    assert int(second) > int(first)
    assert client.get(f"{COMMENTS}/{second}").json()["data"]["body"] == "same words"


def test_a_write_whose_read_back_finds_nothing_is_a_502(client: httpx.Client, sim: Simulator) -> None:
    sim.fault(path="^/items/1$", method="GET", status=200, body={"item": {"notes": []}}, times=1)
    response = client.post(COMMENTS, json={"body": "lost"})
    assert error_of(response) == (502, "ConnectorExecutionError")


def test_exists_check_refuses_a_write_to_a_record_of_another_parent(client: httpx.Client, sim: Simulator) -> None:
    response = client.patch("/issue-tracking/collections/alpha/tickets/2/comments/101", json={"body": "hijack"})
    assert error_of(response) == (404, "EntityNotFoundError")
    assert sent(sim, "PUT") == []
    assert client.get(f"{COMMENTS}/101").json()["data"]["body"] == "first"


def test_exists_check_lets_a_write_to_its_own_record_through(client: httpx.Client, sim: Simulator) -> None:
    note = client.post(COMMENTS, json={"body": "to edit"}).json()["data"]["id"]
    sim.clear()
    assert client.patch(f"{COMMENTS}/{note}", json={"body": "edited"}).status_code == 200
    assert [(r["method"], r["path"]) for r in sent(sim)] == [("GET", "/items/1"), ("PUT", f"/notes/{note}")]
    assert client.get(f"{COMMENTS}/{note}").json()["data"]["body"] == "edited"
