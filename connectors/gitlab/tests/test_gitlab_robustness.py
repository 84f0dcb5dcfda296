"""Whatever a client sends, the GitLab simulator refuses or answers; it never fails (no 5xx).

GitLab publishes no description to generate requests from (see the README), so hypothesis sends
arbitrary values for every parameter the simulator reads, as query strings and as JSON bodies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unigate.kit import BackgroundServer
from unigate_connectors.gitlab.simulator import OWNER_TOKEN, create_app

ISSUE_FIELDS = ["title", "description", "labels", "add_labels", "remove_labels", "assignee_ids", "assignee_id",
                "due_date", "issue_type", "milestone_id", "confidential", "discussion_locked", "state_event"]
LIST_FIELDS = ["state", "labels", "milestone", "assignee_id", "assignee_username", "author_id", "author_username",
               "search", "created_after", "created_before", "updated_after", "updated_before", "confidential",
               "issue_type", "order_by", "sort", "page", "per_page", "with_labels_details"]
# (method, path, a valid request the generated values are laid over, the parameter names to vary)
CALLS: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("GET", "/projects", {}, ["membership", "simple", "pagination", "order_by", "sort", "id_after", "id_before",
                              "page", "per_page"]),
    ("GET", "/projects/acme%2Fplatform/issues", {}, LIST_FIELDS),
    ("POST", "/projects/acme%2Fplatform/issues", {"title": "generated"}, ISSUE_FIELDS),
    ("PUT", "/projects/acme%2Fplatform/issues/2", {}, ISSUE_FIELDS),
    ("GET", "/projects/acme%2Fplatform/issues/2/notes", {}, ["sort", "order_by", "page", "per_page"]),
    ("POST", "/projects/acme%2Fplatform/issues/2/notes", {"body": "generated"}, ["body"]),
    ("POST", "/projects/acme%2Fplatform/labels", {"color": "#123456"}, ["name", "color", "description"]),
    ("GET", "/projects/acme%2Fplatform/members/all", {}, ["query", "page", "per_page"])]
SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.sampled_from(
    ["close", "reopen", "2027-01-31", "None", "Any", "bug,priority::high", "keyset", "id", "desc", "0", "-1", "²", "#a1b2c3"])
VALUES = SCALARS | st.lists(SCALARS, max_size=3) | st.dictionaries(st.text(max_size=4), SCALARS, max_size=2)


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with BackgroundServer(create_app(issue_count=10, rate_limit=10**6, issue_creates_per_minute=10**6)) as server, \
            httpx.Client(base_url=f"{server.url}/api/v4", headers={"PRIVATE-TOKEN": OWNER_TOKEN}, timeout=10) as http:
        yield http


def as_query(params: dict[str, Any]) -> list[tuple[str, str | int | float | bool | None]]:
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for name, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, "" if item is None else str(item)))
    return pairs


@pytest.mark.parametrize(("method", "path", "valid", "names"), CALLS, ids=[f"{m} {p}" for m, p, _, _ in CALLS])
def test_arbitrary_parameters_are_refused_or_answered_never_failed(client: httpx.Client, method: str, path: str,
                                                                   valid: dict[str, Any], names: list[str]) -> None:
    statuses: list[int] = []

    @settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(varied=st.dictionaries(st.sampled_from(names), VALUES, max_size=4))
    def run(varied: dict[str, Any]) -> None:
        params = {**valid, **varied}
        if method == "GET":
            response = client.get(path, params=as_query(params))
        else:
            response = client.request(method, path, json=params)
        statuses.append(response.status_code)
        assert response.status_code < 500, (method, path, params, response.text[:300])

    run()
    assert len(statuses) == 40 and min(statuses) < 300  # some were valid and answered
