"""`unigate connectors` as a CI gate, and `unigate connectors show <service>` generated from the connector."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from unigate.cli import main
from unigate.plugins.registry import ConnectorRegistry

PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture
def broken_plugin_installed(tmp_path: Path) -> Iterator[Path]:
    """tests/plugins/broken_plugin pip-installed into a directory put on sys.path (as in test_plugins.py)."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(PLUGINS / "broken_plugin")], check=True)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    yield target
    sys.path.remove(str(target))
    importlib.invalidate_caches()


def test_connectors_exits_non_zero_when_a_plugin_failed_to_load(broken_plugin_installed: Path) -> None:
    result = CliRunner().invoke(main, ["connectors"])
    assert result.exit_code == 1
    assert "FAILED broken (plugin unigate_broken_plugin" in result.output
    assert "1 connector(s) failed to load" in result.output
    assert "agentsmesh" in result.output  # the others are still listed


def test_connectors_exits_zero_when_every_connector_loaded() -> None:
    assert not ConnectorRegistry.load().failures  # precondition: nothing broken installed here
    result = CliRunner().invoke(main, ["connectors"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("agentsmesh     AgentsMesh")


def test_show_lists_settings_with_required_defaults_and_credentials_as_secret() -> None:
    result = CliRunner().invoke(main, ["connectors", "show", "agentsmesh"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "  base_url      optional, default https://agentsmesh.ai — AgentsMesh server URL" in lines
    assert any(line.startswith("  organization  required — organisation slug") for line in lines)
    assert any(line.startswith("  api_key  required, secret — API key") for line in lines)


def test_show_lists_operations_filters_and_call_ids_of_a_declarative_connector() -> None:
    output = CliRunner().invoke(main, ["connectors", "show", "agentsmesh"]).output
    assert "  tickets      all one add update delete" in output
    assert "  tickets.all      status (closed, in_progress, open); assignee_id" in output
    assert re.search(r"\n  tickets_update_status +tickets.update +PATCH /tickets/\{ticket_id\}/status \(fields status\)\n",
                     output), output


def test_show_names_the_quirk_operations_and_sorts_of_a_connector_with_code() -> None:
    output = CliRunner().invoke(main, ["connectors", "show", "selectel"]).output
    assert "connector class: unigate_connectors.selectel.connector.SelectelConnector" in output
    assert "in connector code (beyond the mapping file): tickets.add tickets.update" in output
    assert "  tickets.all      no sort[by]; natural order created_at desc" in output
    assert "  comments.all     no sort[by]; natural order created_at asc, updated_at asc" in output


def test_show_of_a_manifest_first_connector_names_no_connector_code() -> None:
    output = CliRunner().invoke(main, ["connectors", "show", "redmine"]).output
    assert "connector class: unigate.connector.base.Connector" in output
    assert "in connector code" not in output


def test_show_json_is_the_mapping_file_of_the_connector() -> None:
    registry = ConnectorRegistry.load()
    spec = registry.connectors["codimir"].spec
    data = orjson.loads(CliRunner().invoke(main, ["connectors", "show", "codimir", "--json"]).output)
    assert [s["name"] for s in data["settings"]] == list(spec.connection.settings)
    assert [c["name"] for c in data["credentials"]] == list(spec.connection.credentials)
    assert data["operations"] == {r: list(res.operations) for r, res in spec.resources.items()}
    # every call the connector may make: what a body pass_through `operation_id` may name
    assert {c["call_id"] for c in data["calls"]} == set(registry.connectors["codimir"].call_ids)


def test_show_of_an_unknown_service_names_the_installed_ones() -> None:
    result = CliRunner().invoke(main, ["connectors", "show", "mantis"])
    assert result.exit_code == 1
    installed = sorted(ConnectorRegistry.load().connectors)
    assert f"no connector 'mantis' is installed; installed: {', '.join(installed)}" in result.output


def test_show_says_which_lists_are_fixed_in_the_mapping_file_and_make_no_call() -> None:
    output = CliRunner().invoke(main, ["connectors", "show", "opine"]).output
    assert "collections.all     (1 record(s) fixed in the mapping file, no call)" in output
    assert "  tickets.all      no sort[by]; natural order created_at asc" in output


def test_show_lists_the_call_ids_an_own_implementation_declares_under_its_operation() -> None:
    from unigate.cli import main

    result = CliRunner().invoke(main, ["connectors", "show", "selectel", "--json"])
    assert result.exit_code == 0, result.output
    calls = {c["call_id"]: c for c in orjson.loads(result.output)["calls"]}
    assert calls["tickets_reopen"]["operation"] == "tickets.update"
    assert "own implementation" in calls["tickets_reopen"]["note"]


def test_show_lists_the_calls_a_preparer_component_says_it_makes() -> None:
    result = CliRunner().invoke(main, ["connectors", "show", "roundup", "--json"])
    calls = {c["call_id"]: c for c in orjson.loads(result.output)["calls"]}
    assert (calls["tickets_keywords_add"]["method"], calls["tickets_keywords_add"]["path"]) == ("POST", "/keyword")
    assert calls["tickets_keywords_add"]["note"] == "prepare: roundup_keywords (component)"


def test_show_lists_the_calls_a_manifest_declares_around_its_operations() -> None:
    result = CliRunner().invoke(main, ["connectors", "show", "redmine", "--json"])
    calls = {c["call_id"]: c for c in orjson.loads(result.output)["calls"]}
    assert (calls["statuses_lookup"]["operation"], calls["statuses_lookup"]["path"]) == (
        "(lookup statuses)", "/issue_statuses.json")
    assert (calls["comments_add_lookup"]["operation"], calls["comments_add_lookup"]["note"]) == (
        "comments.add", "read back: the new id")
    assert calls["tickets_add_status"]["method"] == "PUT"
    assert calls["comments_update_journal_check"]["path"] == "/issues/{ticket_id}.json"
