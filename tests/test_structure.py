"""The code's shape, as the developers' guide asks: no import cycles among unigate's modules, and no
function on the request path (api -> vault -> dispatch -> connector -> mapping -> downstream ->
envelope, and the proxy; the Vault API with its connector descriptions, webhooks, OAuth, the connect
pages, the component registry and the built-in connectors' own Python) longer than 40 lines.

Both read the source with ``ast``. An import inside ``if TYPE_CHECKING:`` is not an import; one
inside a function (deferred to break a cycle at import time) still is a dependency, and counts. A
function's length is its body's lines that hold code: its docstring, blank lines and comment-only
lines are not counted.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import unigate

ROOT = Path(unigate.__file__).parent
MAX_LINES = 40
# The request path, in the order a request crosses it (and app.py, which answers it; the proxy, the
# Vault API and what it describes connectors with, inbound webhooks, OAuth, the connect pages, and
# the component registry every manifest's components are resolved in).
CHECKED = ("app.py", "api", "vault", "dispatch.py", "connection_state.py", "connector", "mapping", "downstream",
           "envelope.py", "proxy", "vault_api", "connector_info.py", "webhooks", "oauth", "connect", "components.py")
CONNECTORS = ROOT.parents[1] / "connectors"
NOT_ON_THE_REQUEST_PATH = {"simulator.py", "store.py"}   # a connector's simulator is the tracker, in tests


def connector_code() -> list[Path]:
    """The built-in connectors' Python the gateway runs: plugin, components, connector classes."""
    return sorted(p for p in CONNECTORS.glob("*/*.py") if p.name not in NOT_ON_THE_REQUEST_PATH)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(nodes: Iterable[ast.stmt], deferred: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node):
            yield from _import_nodes(node.orelse, deferred)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if deferred:
                yield from _import_nodes(node.body, deferred)
        else:
            for block in ("body", "orelse", "finalbody", "handlers"):
                yield from _import_nodes(getattr(node, block, None) or [], deferred)


def _targets(node: ast.Import | ast.ImportFrom, module: str) -> Iterator[str]:
    """The unigate modules an import statement of ``module`` names."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:  # relative: from the module's package
        package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    for alias in node.names:
        yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


def import_graph(deferred: bool) -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        nodes = _import_nodes(ast.parse(path.read_text()).body, deferred)
        graph[module] = {t for n in nodes for t in _targets(n, module) if t in MODULES and t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each a cycle or several."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = stack[stack.index(module):]
            del stack[stack.index(module):]
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def _shown(found: list[list[str]], graph: dict[str, set[str]]) -> str:
    return "\n".join(" <-> ".join(c) + "\n    " + "; ".join(f"{m} imports {sorted(graph[m] & set(c))}" for m in c)
                     for c in found)


def test_no_import_cycle_at_import_time() -> None:
    graph = import_graph(deferred=False)
    found = cycles(graph)
    assert not found, f"modules importing each other:\n{_shown(found, graph)}"


def test_no_import_cycle_through_deferred_imports() -> None:
    graph = import_graph(deferred=True)
    found = cycles(graph)
    assert not found, f"modules depending on each other (an import in a function counts):\n{_shown(found, graph)}"


def test_the_cycle_finder_names_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def code_lines(function: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> int:
    body = function.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        body = body[1:]  # the docstring
    if not body:
        return 0
    text = lines[body[0].lineno - 1:function.end_lineno]
    return sum(1 for line in text if line.strip() and not line.strip().startswith("#"))


def long_functions(packages: Iterable[str | Path]) -> list[str]:
    """``path:line name: N lines`` of each function over the limit in ``packages`` (relative to unigate's
    package, or paths of modules)."""
    found = []
    for package in packages:
        where = ROOT / package
        for path in [where] if where.is_file() else sorted(where.rglob("*.py")):
            source = path.read_text()
            lines = source.splitlines()
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and code_lines(node, lines) > MAX_LINES:
                    found.append(f"{path.relative_to(ROOT.parents[1])}:{node.lineno} {node.name}: "
                                 f"{code_lines(node, lines)} lines")
    return found


def test_no_request_path_function_is_longer_than_40_lines() -> None:
    found = long_functions([*CHECKED, *connector_code()])
    assert not found, f"functions over {MAX_LINES} lines on the request path:\n" + "\n".join(found)


def test_the_checked_modules_exist_and_include_the_connectors_code() -> None:
    assert [name for name in CHECKED if not (ROOT / name).exists()] == []
    assert {p.name for p in connector_code()} >= {"plugin.py", "components.py", "connector.py"}


def test_the_length_counts_code_lines_only() -> None:
    source = 'def f():\n    """Doc.\n\n    More."""\n    # a comment\n\n    x = 1\n    return x\n'
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef)
    assert code_lines(function, source.splitlines()) == 2
