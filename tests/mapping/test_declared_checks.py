"""``collection_check`` as a call (the ticket must be listed in its collection), ``resend`` (a value
the tracker ignores on create, sent again with an update) and the manifest checks of the declared
steps, on the tiny tracker."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from unigate.mapping.spec import MappingFileError, parse_mapping
from unigate.testing import Simulator, error_of

from .tiny_fixtures import client, harness, sent, sim  # noqa: F401 - fixtures
from .tiny_tracker import MANIFEST

TICKETS = "/issue-tracking/collections/alpha/tickets"


def test_a_ticket_listed_in_its_collection_is_read(client: httpx.Client, sim: Simulator) -> None:
    assert client.get(f"{TICKETS}/2").json()["data"]["id"] == "2"
    check = sent(sim)[0]
    assert (check["path"], check["query"]) == ("/items", [("id", "2"), ("project", "alpha"), ("state", "*")])


def test_a_ticket_of_another_collection_is_not_found(client: httpx.Client, sim: Simulator) -> None:
    response = client.get(f"{TICKETS}/6")   # item 6 is beta's
    assert error_of(response) == (404, "EntityNotFoundError")
    assert response.json()["detail"] == "Tiny has no ticket '6' in collection 'alpha'"
    assert [r["path"] for r in sent(sim)] == ["/items"]


def test_resend_sends_again_what_the_create_ignored(client: httpx.Client, sim: Simulator) -> None:
    created = client.post(TICKETS, json={"subject": "Born done", "status": "closed"}).json()["data"]["id"]
    writes = [(r["method"], r["path"], r["body"]) for r in sent(sim) if r["method"] != "GET"]
    assert writes[-1] == ("PUT", f"/items/{created}", {"item": {"state_id": 3}})
    assert client.get(f"{TICKETS}/{created}").json()["data"]["status"] == "closed"


def test_resend_makes_no_call_when_the_create_took_the_value(client: httpx.Client, sim: Simulator) -> None:
    client.post(TICKETS, json={"subject": "Born new", "status": "open"})
    assert [r["method"] for r in sent(sim) if r["method"] != "GET"] == ["POST"]


def broken(change: Any) -> list[tuple[str, str]]:
    manifest = copy.deepcopy(MANIFEST)
    change(manifest)
    with pytest.raises(MappingFileError) as caught:
        parse_mapping(manifest, "tiny.yaml")
    return caught.value.problems


def test_keep_on_a_paged_list_is_refused_by_the_manifest_check() -> None:
    def paged(m: dict) -> None:
        m["resources"]["comments"]["operations"]["all"]["pagination"] = {"style": "offset"}
    assert ("resources.comments.operations.all.keep",
            "`keep` needs `pagination: {style: none}`: offsets count kept records") in broken(paged)


def test_a_lookup_no_manifest_declares_is_refused() -> None:
    def unknown(m: dict) -> None:
        m["resources"]["tickets"]["fields"]["priority"]["lookup"]["name"] = "severities"
    assert broken(unknown) == [("resources.tickets.fields.priority.lookup.name",
                                "no lookup 'severities' is declared; lookups: ['fields', 'item_fields', "
                                "'priorities', 'states']")]


def test_only_the_status_filter_is_looked_up() -> None:
    def assignee(m: dict) -> None:
        m["resources"]["tickets"]["operations"]["all"]["filters"]["assignee_id"]["lookup"] = {"name": "states"}
    assert broken(assignee) == [("resources.tickets.operations.all.filters.assignee_id.lookup",
                                 "only the `status` filter is looked up")]


def test_a_condition_says_one_thing() -> None:
    def both(m: dict) -> None:
        m["resources"]["comments"]["operations"]["all"]["keep"] = [{"path": "$.text", "not_blank": True, "equals": 1}]
    problems = broken(both)
    assert problems[0][0].startswith("resources.comments.operations.all.keep.0")
    assert "one of `not_blank: true`, `blank: true` or `equals: <value>`" in problems[0][1]


def test_mappings_check_knows_the_transforms_plugins_register() -> None:
    # a fresh process: nothing imported the plugins before the command does
    manifest = Path(__file__).resolve().parents[2] / "connectors" / "redmine" / "manifest.yaml"
    result = subprocess.run([sys.executable, "-m", "unigate.cli", "mappings", "check", str(manifest)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "(redmine: collections, tickets, comments, users, tags)" in result.stdout
