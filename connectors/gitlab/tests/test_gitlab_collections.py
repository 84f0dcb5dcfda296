"""GitLab projects as collections at scale: keyset paging (``pagination=keyset&order_by=id``,
``id_after`` the cursor) so a user's project list pages past GitLab's 10,000-row offset totals with
no total and no offset; a sorted list pages by offset. A simulator of its own: 250 more projects."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from unigate.testing import Simulator, connector_fixtures, read_pages, walk_pages
from unigate_connectors.gitlab.simulator import Project, State

COLLECTIONS = "/issue-tracking/collections"
EXTRA = 250

tracker, sim, harness, client = connector_fixtures("gitlab")


@pytest.fixture(scope="module")
def project_ids(sim: Simulator) -> list[str]:
    state: State = sim.app.app.app.state.simulator
    for n in range(EXTRA):
        state.projects[1000 + n] = Project(1000 + n, "alice", f"repo-{n:03}", {"alice": 50})
    state.count_limit = 100   # offset lists above 100 rows omit their totals here (10,000 on GitLab)
    return sorted((str(p.id) for p in state.projects.values() if state.access(p, "alice")), key=int)


def projects_calls(sim: Simulator) -> list[dict[str, Any]]:
    return [dict(r["query"]) for r in sim.requests() if r["path"] == "/api/v4/projects"]


@pytest.mark.parametrize("limit", [1, 7, 20, 100, 200])
def test_every_project_once_in_id_order_by_keyset(client: httpx.Client, sim: Simulator,
                                                  project_ids: list[str], limit: int) -> None:
    sim.clear()
    ids, ended = walk_pages(client, COLLECTIONS, limit, max_pages=300)
    assert ended and ids == project_ids and len(project_ids) > EXTRA
    calls = projects_calls(sim)
    assert all(c["pagination"] == "keyset" and c["order_by"] == "id" and "page" not in c for c in calls)
    assert all(int(c["per_page"]) <= 100 for c in calls)


def test_keyset_pages_have_no_total_and_resume_after_the_last_id(
        client: httpx.Client, sim: Simulator, project_ids: list[str]) -> None:
    first, second = read_pages(client, COLLECTIONS, 30, max_pages=2)
    assert "total_count" not in first["meta"] or first["meta"]["total_count"] is None
    assert [c["id"] for c in second["data"]] == project_ids[30:60]
    assert projects_calls(sim)[-1]["id_after"] == project_ids[29]


def test_a_sorted_list_pages_by_offset(client: httpx.Client, sim: Simulator, project_ids: list[str]) -> None:
    sim.clear()
    ids: list[str] = []
    cursor = None
    for _ in range(10):
        body = client.get(COLLECTIONS, params={"limit": 100, "sort[by]": "created_at", "sort[direction]": "asc",
                                               **({"cursor": cursor} if cursor else {})}).json()
        ids += [c["id"] for c in body["data"]]
        cursor = body["meta"]["cursors"]["next"]
        if cursor is None:
            break
    assert cursor is None and sorted(ids, key=int) == project_ids
    calls = projects_calls(sim)
    assert all(c["order_by"] == "created_at" and "page" in c and "pagination" not in c for c in calls)
