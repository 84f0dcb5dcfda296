"""The connector model's measures (docs/connector-model.md), computed from the tree so they cannot
drift: the real trackers' Python stays small, no connector implements a whole list, and no manifest
hands a piece of itself over to Python."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from unigate.plugins.registry import ConnectorRegistry

CONNECTORS = Path(__file__).resolve().parents[1] / "connectors"
NOT_CONNECTOR_CODE = {"simulator.py", "store.py", "__init__.py"}   # simulator (and its store): the tracker in tests


def code_lines(path: Path) -> int:
    """Lines holding code: not blank, not comments, not docstrings."""
    source = path.read_text()
    docstrings = {node.body[0].lineno for node in ast.walk(ast.parse(source))
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(getattr(node.body[0], "value", None), ast.Constant)
                  and isinstance(node.body[0].value.value, str)}
    skipped: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Expr) and node.lineno in docstrings:
            skipped |= set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    lines = {tok.start[0] for tok in tokenize.generate_tokens(io.StringIO(source).readline)
             if tok.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                                 tokenize.DEDENT, tokenize.ENDMARKER)}
    return len(lines - skipped)


def connector_python(name: str) -> int:
    folder = CONNECTORS / name
    return sum(code_lines(p) for p in folder.glob("*.py") if p.name not in NOT_CONNECTOR_CODE)


def manifests() -> list[Path]:
    return sorted(CONNECTORS.glob("*/manifest.yaml"))


@pytest.mark.parametrize("name", ["redmine", "roundup"])
def test_a_real_trackers_python_is_under_100_code_lines(name: str) -> None:
    assert connector_python(name) < 100


def test_no_connector_implements_a_whole_list() -> None:
    registry = ConnectorRegistry.load()
    lists = {service: [f"{r}.{o}" for r, o in type(c).implementations if o == "all"]
             for service, c in registry.connectors.items() if c.spec.service_id in {p.parent.name for p in manifests()}}
    assert {s: ops for s, ops in lists.items() if ops} == {}


@pytest.mark.parametrize("manifest", manifests(), ids=lambda p: p.parent.name)
def test_no_manifest_comment_says_python_replaces_it(manifest: Path) -> None:
    handing_over = re.compile(r"#.*\b(python|connector\.py)\b.*\b(replaces?|builds?|turns?|does|resolved? here)\b",
                              re.IGNORECASE)
    assert [line for line in manifest.read_text().splitlines() if handing_over.search(line)] == []
