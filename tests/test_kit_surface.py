"""unigate.kit is the whole public surface a connector needs: the built-in connectors, shaped like
third-party packages, import nothing else of unigate (their tests: unigate.kit and unigate.testing),
and come in by the same door: their components through the ``register_*`` hooks, never at import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import unigate.kit
from unigate.kit import COMPONENTS
from unigate.plugins.registry import ConnectorRegistry

CONNECTORS = Path(__file__).resolve().parents[1] / "connectors"


def unigate_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    return {n for n in names if n == "unigate" or n.startswith("unigate.")}


@pytest.mark.parametrize("connector", sorted(p.name for p in CONNECTORS.iterdir() if (p / "manifest.yaml").is_file()))
def test_a_connector_imports_only_the_kit(connector: str) -> None:
    offenders = {}
    for path in sorted((CONNECTORS / connector).rglob("*.py")):
        in_tests = "tests" in path.parts
        bad = sorted(n for n in unigate_imports(path)
                     if n != "unigate.kit" and not (in_tests and (n == "unigate.testing" or n.startswith("unigate.testing."))))
        if bad:
            offenders[str(path.relative_to(CONNECTORS))] = bad
    assert offenders == {}, "import these through unigate.kit (add a name to its __all__ if plugins need it)"


def test_every_name_the_kit_lists_is_importable_and_documented() -> None:
    for name in unigate.kit.__all__:
        value = getattr(unigate.kit, name)
        assert value is not None, name
    assert [name for name in unigate.kit.__all__ if name not in (unigate.kit.__doc__ or "")] == []


def test_no_built_in_connector_registers_a_component_at_import() -> None:
    registering = sorted(str(p.relative_to(CONNECTORS)) for p in CONNECTORS.rglob("*.py")
                         if "COMPONENTS.register(" in p.read_text())
    assert registering == [], "return the component from a register_* hook in plugin.py, as a third-party plugin does"


def test_built_in_components_come_in_through_their_plugins_register_hooks() -> None:
    ConnectorRegistry.load()
    built_in = {(kind, name): component.__module__.split(".")[1] for kind, name, component in COMPONENTS
                if getattr(component, "__module__", "").startswith("unigate_connectors.")}
    assert set(built_in.values()) == {p.parent.name for p in CONNECTORS.glob("*/components.py")}
    assert {key: COMPONENTS.source(*key) for key in built_in} == {  # type: ignore[arg-type]
        key: f"plugin {connector}" for key, connector in built_in.items()}
