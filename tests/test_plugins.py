"""Connectors are pluggy plugins found through the `unigate.connectors` entry-point group."""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from unigate.app import StartupError, build_gateway
from unigate.cli import main
from unigate.plugins import ConnectorDefinition, hookimpl
from unigate.plugins.registry import ConnectorRegistry
from unigate.settings import Settings
from unigate.testing import GatewayHarness, Simulator
from unigate.vault.crypto import generate_secret_key

from .support.plugins import installed_plugins


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example and the broken plugin, pip-installed into a directory put on sys.path."""
    with installed_plugins(tmp_path_factory.mktemp("site"), "example_tracker", "broken_plugin") as target:
        yield target


def example_tracker() -> Starlette:
    issues = [{"number": n, "summary": f"Issue {n}", "state": ("new", "doing", "done")[n % 3]} for n in range(1, 8)]

    async def list_issues(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != "Token t0ps3cret":
            return JSONResponse({"message": "bad token"}, status_code=401)
        page, per_page = int(request.query_params["page"]), int(request.query_params["per_page"])
        return JSONResponse({"issues": issues[(page - 1) * per_page: page * per_page], "count": len(issues)})

    return Starlette(routes=[Route("/boards/{board}/issues", list_issues)])


def test_out_of_tree_connector_serves_through_the_gateway(installed: Path, tmp_path: Path) -> None:
    registry = ConnectorRegistry.load()
    assert "example" in registry.connectors
    tracker = Simulator.start(example_tracker())
    harness = GatewayHarness(tmp_path, registry=registry)
    try:
        harness.connect("example", settings={"base_url": tracker.url}, credentials={"token": "t0ps3cret"})
        with harness.client("example") as client:
            first = client.get("/issue-tracking/collections/main/tickets", params={"limit": 5}).json()
            rest = client.get("/issue-tracking/collections/main/tickets",
                              params={"limit": 5, "cursor": first["meta"]["cursors"]["next"]}).json()
        assert [t["id"] for t in first["data"] + rest["data"]] == [str(n) for n in range(1, 8)]
        assert first["data"][0] == {"id": "1", "subject": "Issue 1", "status": "in_progress"}
        assert rest["meta"]["cursors"]["next"] is None
    finally:
        harness.stop()
        tracker.stop()


def test_plugin_that_fails_to_load_is_reported_and_others_still_load(installed: Path) -> None:
    registry = ConnectorRegistry.load()
    assert {"agentsmesh", "example"} <= set(registry.connectors)
    failure = next(f for f in registry.failures if f.source == "broken")
    assert "not installed" in failure.error and not failure.builtin


def test_gateway_starts_despite_a_broken_third_party_plugin(installed: Path, tmp_path: Path) -> None:
    gateway = build_gateway(Settings(database=tmp_path / "v.db"), generate_secret_key())
    assert "broken" not in gateway.registry.connectors


def test_connectors_command_lists_loaded_and_failed(installed: Path) -> None:
    result = CliRunner().invoke(main, ["connectors"])
    assert result.exit_code == 1  # a failed plugin fails the command (a CI gate)
    assert "example" in result.output and "agentsmesh" in result.output
    assert "FAILED broken" in result.output


def _module(name: str, definitions: list[ConnectorDefinition]) -> types.ModuleType:
    module = types.ModuleType(name)

    @hookimpl
    def unigate_connectors() -> list[ConnectorDefinition]:
        return definitions

    module.unigate_connectors = unigate_connectors  # type: ignore[attr-defined]
    return module


BROKEN_MAPPING = {"service_id": "bad", "name": "Bad", "http": {"base_url": "{settings.nope}"},
                  "resources": {"tickets": {"fields": {"subject": "$.[oops"}}}}


def test_invalid_mapping_of_a_plugin_is_reported_with_its_problems() -> None:
    registry = ConnectorRegistry()
    registry.register_module("bad", _module("thirdparty_bad", [ConnectorDefinition("bad", BROKEN_MAPPING)]))
    assert "bad" not in registry.connectors
    error = registry.failures[0].error
    assert "http.base_url: unknown template variable {settings.nope}" in error
    assert "resources.tickets.fields.subject.read: invalid JSONPath" in error


def test_broken_builtin_connector_refuses_start_and_says_why(tmp_path: Path) -> None:
    registry = ConnectorRegistry()
    registry.register_module("bad", _module("unigate_connectors.bad", [ConnectorDefinition("bad", BROKEN_MAPPING)]))
    with pytest.raises(StartupError, match=r"(?s)built-in connectors failed to load.*- bad"):
        build_gateway(Settings(database=tmp_path / "v.db"), generate_secret_key(), registry=registry)


def test_duplicate_service_id_is_reported() -> None:
    registry = ConnectorRegistry.load()
    mapping = {**BROKEN_MAPPING, "service_id": "agentsmesh", "http": {"base_url": "http://x"}, "resources": {}}
    registry.register_module("copycat", _module("copycat", [ConnectorDefinition("agentsmesh", mapping)]))
    assert "already provided" in registry.failures[-1].error
