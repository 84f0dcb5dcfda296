"""Filter value templates and defaults, a status filter looked up in a declared list, sort formats
(manifest keys ``filters.<name>.value|default|lookup`` and ``sort.format``), on the tiny tracker."""

from __future__ import annotations

import httpx

from unigate.testing import Simulator, error_of

from .tiny_fixtures import client, harness, sent, sim  # noqa: F401 - fixtures

TICKETS = "/issue-tracking/collections/alpha/tickets"


def listing_query(sim: Simulator) -> list[tuple[str, str]]:
    return next(r["query"] for r in sent(sim, "GET") if r["path"] == "/items")


def test_a_filter_value_template_wraps_the_formatted_value(client: httpx.Client, sim: Simulator) -> None:
    assert client.get(TICKETS, params={"filter[since]": "2026-01-03T10:00:00Z"}).status_code == 200
    assert ("updated", ">=2026-01-03") in listing_query(sim)


def test_a_template_applies_to_plain_filters_too(client: httpx.Client, sim: Simulator) -> None:
    client.get(TICKETS, params={"filter[assignee_id]": "7"})
    assert ("assignee", "user:7") in listing_query(sim)


def test_a_filter_default_is_sent_when_the_request_has_none(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS).json()["data"]
    assert ("state", "*") in listing_query(sim)
    assert "closed" in {t["status"] for t in data}   # the tracker's own default would hide item 5


def test_status_all_sends_the_default(client: httpx.Client, sim: Simulator) -> None:
    client.get(TICKETS, params={"filter[status]": "all"})
    assert [v for k, v in listing_query(sim) if k == "state"] == ["*"]


def test_a_status_filter_sends_the_ids_of_the_looked_up_statuses(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"filter[status]": "open,closed"}).json()["data"]
    assert [v for k, v in listing_query(sim) if k == "state"] == ["1|3"]
    assert {t["status"] for t in data} == {"open", "closed"}


def test_a_status_filter_takes_a_tracker_status_name(client: httpx.Client, sim: Simulator) -> None:
    client.get(TICKETS, params={"filter[status]": "Doing"})
    assert [v for k, v in listing_query(sim) if k == "state"] == ["2"]


def test_an_unknown_status_filter_names_the_known_ones_and_lists_nothing(client: httpx.Client, sim: Simulator) -> None:
    response = client.get(TICKETS, params={"filter[status]": "on_hold"})
    assert error_of(response) == (400, "UnsupportedFiltersError")
    assert response.json()["detail"] == "tiny has no status 'on_hold'; statuses: open, in_progress, closed or one of " \
                                        "New, Doing, Done"
    assert not [r for r in sent(sim) if r["path"] == "/items"]


def test_a_sort_format_carries_field_direction_and_tie_breaker(client: httpx.Client, sim: Simulator) -> None:
    data = client.get(TICKETS, params={"sort[by]": "created_at", "sort[direction]": "desc"}).json()["data"]
    assert ("sort", "created:desc,id:desc") in listing_query(sim)
    assert data
