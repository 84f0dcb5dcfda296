"""The doors a connector comes in by: a plugin module, an entry point naming a manifest, a
directory of manifests; components added by any package through the register_* hooks."""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from unigate.components import COMPONENTS
from unigate.kit import hookimpl
from unigate.plugins.registry import ConnectorRegistry
from unigate.testing import GatewayHarness, Simulator

from .support.plugins import PLUGINS, installed_plugins

MANIFEST = (PLUGINS / "example_tracker" / "unigate_example_tracker" / "example.yaml").read_text()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The YAML-only package and the component package, pip-installed into a directory on sys.path."""
    with installed_plugins(tmp_path_factory.mktemp("site"), "yaml_only_tracker", "component_plugin") as target:
        yield target
    COMPONENTS.unregister_source("plugin components")


@pytest.fixture(scope="module")
def tracker() -> Iterator[Simulator]:
    issues = [{"number": n, "summary": f"Issue {n}", "state": "doing"} for n in range(1, 4)]

    async def list_issues(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != "Token t0ps3cret":
            return JSONResponse({"message": "bad token"}, status_code=401)
        page, per_page = int(request.query_params["page"]), int(request.query_params["per_page"])
        return JSONResponse({"issues": issues[(page - 1) * per_page: page * per_page], "count": len(issues)})

    simulator = Simulator.start(Starlette(routes=[Route("/boards/{board}/issues", list_issues)]))
    yield simulator
    simulator.stop()


def served_subjects(registry: ConnectorRegistry, service_id: str, tracker: Simulator, tmp: Path) -> list[str]:
    harness = GatewayHarness(tmp, registry=registry)
    try:
        harness.connect(service_id, settings={"base_url": tracker.url}, credentials={"token": "t0ps3cret"})
        with harness.client(service_id) as client:
            answer = client.get("/issue-tracking/collections/main/tickets")
        assert answer.status_code == 200, answer.text
        return [t["subject"] for t in answer.json()["data"]]
    finally:
        harness.stop()


def test_an_entry_point_naming_a_manifest_is_a_connector_without_python(installed: Path, tracker: Simulator,
                                                                         tmp_path: Path) -> None:
    registry = ConnectorRegistry.load()
    assert type(registry.connectors["yamlonly"]).__name__ == "Connector"   # the declarative engine, no subclass
    assert served_subjects(registry, "yamlonly", tracker, tmp_path) == ["Issue 1", "Issue 2", "Issue 3"]


def test_each_manifest_in_the_connectors_dir_is_a_connector(tracker: Simulator, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    manifests = tmp_path / "manifests"
    (manifests / "boards").mkdir(parents=True)
    (manifests / "flat.yaml").write_text(MANIFEST.replace("service_id: example", "service_id: flat"))
    (manifests / "boards" / "manifest.yaml").write_text(MANIFEST.replace("service_id: example", "service_id: boards"))
    monkeypatch.setenv("UNIGATE_CONNECTORS_DIR", str(manifests))
    registry = ConnectorRegistry.load()
    assert {"flat", "boards"} <= set(registry.connectors)
    assert served_subjects(registry, "boards", tracker, tmp_path / "gw") == ["Issue 1", "Issue 2", "Issue 3"]


def test_an_invalid_manifest_in_the_connectors_dir_is_reported_and_the_others_load(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "good.yaml").write_text(MANIFEST.replace("service_id: example", "service_id: good"))
    (tmp_path / "bad.yaml").write_text(MANIFEST.replace("service_id: example", "service_id: bad")
                                       .replace("records: $.issues", "records: $[["))
    monkeypatch.setenv("UNIGATE_CONNECTORS_DIR", str(tmp_path))
    registry = ConnectorRegistry.load()
    assert "good" in registry.connectors and "bad" not in registry.connectors
    [failure] = [f for f in registry.failures if f.source.endswith("bad.yaml")]
    assert "records" in failure.error and not failure.builtin


def test_a_connectors_dir_that_does_not_exist_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIGATE_CONNECTORS_DIR", str(tmp_path / "missing"))
    registry = ConnectorRegistry.load()
    assert [f.error for f in registry.failures] == [f"{tmp_path / 'missing'} is not a directory"]
    assert "redmine" in registry.connectors


def test_a_plugin_registers_components_every_manifest_may_name(installed: Path) -> None:
    ConnectorRegistry.load()
    shout = COMPONENTS.get("transform", "shout")
    assert shout.read("quiet") == "QUIET"
    assert COMPONENTS.source("transform", "shout") == "plugin components"


def test_a_component_name_taken_twice_fails_the_second_plugin_only(installed: Path) -> None:
    registry = ConnectorRegistry.load()

    @hookimpl
    def register_transforms() -> dict[str, object]:
        return {"shout": object()}

    registry.register_module("copycat", types.SimpleNamespace(__name__="copycat", register_transforms=register_transforms))
    [failure] = [f for f in registry.failures if f.source == "copycat"]
    assert "transform 'shout' is already registered by plugin components" in failure.error
    assert COMPONENTS.source("transform", "shout") == "plugin components"


def test_plugins_are_called_through_the_hook_relay(tracker: Simulator, tmp_path: Path) -> None:
    """pluggy dispatches the hooks: an implementation named by ``specname`` is found, which calling
    ``module.unigate_connectors()`` directly would miss."""
    from unigate.kit import ConnectorDefinition

    @hookimpl(specname="unigate_connectors")
    def connectors() -> list[ConnectorDefinition]:
        return [ConnectorDefinition(service_id="relayed", mapping=yaml_manifest("relayed"))]

    registry = ConnectorRegistry.load()
    registry.register_module("relay_test", types.SimpleNamespace(__name__="relay_test", connectors=connectors))
    assert served_subjects(registry, "relayed", tracker, tmp_path) == ["Issue 1", "Issue 2", "Issue 3"]


def yaml_manifest(service_id: str) -> dict[str, object]:
    import yaml

    return yaml.safe_load(MANIFEST.replace("service_id: example", f"service_id: {service_id}"))
