"""JSONPath compiled once into getters and setters.

Simple paths (``$``, ``$.a.b``, ``$.a[0]``, ``$['odd key'][-1]``) become a tuple of steps walked
with plain ``dict``/``list`` indexing — about 100x faster than jsonpath-ng. Anything else
(filters, wildcards, slices, recursive descent) is parsed once with jsonpath-ng's extended parser
and kept precompiled. Both behave alike (property-tested in tests/mapping/test_paths_property.py):

- ``get`` returns the single match, a list when a non-simple path matches several, or ``MISSING``;
- ``set`` writes the value, creating missing parents (dicts for names, lists padded with ``{}``
  for indices, as jsonpath-ng's ``update_or_create`` does);
- a path that selects a list element by one key (``$.custom_fields[?(@.id == 7)].value``, the
  shape trackers use for custom fields) also *creates* the element when writing: ``set`` on ``{}``
  gives ``{"custom_fields": [{"id": 7, "value": ...}]}``, where jsonpath-ng would write nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext import parse as _parse_jsonpath


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

_STEP = re.compile(r"""\.([A-Za-z_][A-Za-z0-9_]*)|\[(-?\d+)\]|\['([^'\\]*)'\]|\["([^"\\]*)"\]""")


# <simple prefix>[?(@.<key> == <literal>)]<simple rest>
_KEYED_ELEMENT = re.compile(r"""^(?P<prefix>\$[^?]*?)\[\?\(?\s*@\.(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*==\s*"""
                            r"""(?:'(?P<sq>[^']*)'|"(?P<dq>[^"]*)"|(?P<num>-?\d+))\s*\)?\](?P<rest>.*)$""")


class InvalidPathError(ValueError):
    """The string is not a JSONPath we can compile; the message says where."""


def _simple_steps(path: str) -> tuple[str | int, ...] | None:
    if not path.startswith("$"):
        return None
    steps: list[str | int] = []
    pos = 1
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None:
            return None
        name, index, sq, dq = m.groups()
        steps.append(int(index) if index is not None else (name if name is not None else (sq if sq is not None else dq)))
        pos = m.end()
    return tuple(steps)


class CompiledPath:
    """A JSONPath ready to read and write documents; build with :func:`compile_path`."""

    __slots__ = ("path", "steps", "_expr", "_keyed")

    def __init__(self, path: str) -> None:
        self.path = path
        self.steps = _simple_steps(path)
        self._expr = None
        self._keyed = _keyed_element(path)
        if self.steps is None:
            try:
                self._expr = _parse_jsonpath(path)
            except (JsonPathLexerError, JsonPathParserError, Exception) as exc:  # noqa: BLE001 - jsonpath-ng raises bare Exception too
                raise InvalidPathError(f"invalid JSONPath {path!r}: {exc}") from None

    @property
    def is_simple(self) -> bool:
        return self.steps is not None

    def get(self, doc: Any) -> Any:
        steps = self.steps
        if steps is not None:
            for step in steps:
                if type(step) is str:
                    if type(doc) is not dict:
                        return MISSING
                    doc = doc.get(step, MISSING)
                    if doc is MISSING:
                        return MISSING
                else:
                    if type(doc) is not list:
                        return MISSING
                    try:
                        doc = doc[step]
                    except IndexError:
                        return MISSING
            return doc
        matches = self._expr.find(doc)  # type: ignore[union-attr]
        if not matches:
            return MISSING
        if len(matches) == 1:
            return matches[0].value
        return [m.value for m in matches]

    def set(self, doc: Any, value: Any) -> Any:
        """Set ``value`` at this path in ``doc`` (mutated), creating parents. Returns ``doc``."""
        steps = self.steps
        if steps is None:
            if self._keyed is not None:
                return _set_keyed(doc, self._keyed, value)
            return self._expr.update_or_create(doc, value)  # type: ignore[union-attr]
        return _set_steps(doc, steps, value)

    def __repr__(self) -> str:
        return f"CompiledPath({self.path!r})"


def _set_steps(doc: Any, steps: tuple[str | int, ...], value: Any) -> Any:
    if not steps:
        return value
    node = doc
    for step, nxt in zip(steps, steps[1:]):
        node = _child(node, step, [] if type(nxt) is int else {})
    _assign(node, steps[-1], value)
    return doc


_Keyed = tuple[tuple[str | int, ...], str, Any, tuple[str | int, ...]]


def _keyed_element(path: str) -> _Keyed | None:
    m = _KEYED_ELEMENT.match(path)
    if m is None:
        return None
    prefix, rest = _simple_steps(m["prefix"]), _simple_steps("$" + m["rest"])
    if prefix is None or rest is None:
        return None
    literal: Any = int(m["num"]) if m["num"] is not None else (m["sq"] if m["sq"] is not None else m["dq"])
    return prefix, m["key"], literal, rest


def _set_keyed(doc: Any, keyed: _Keyed, value: Any) -> Any:
    prefix, key, literal, rest = keyed
    items = _get_steps(doc, prefix)
    if type(items) is not list:
        items = []
        doc = _set_steps(doc, prefix, items)
    for index, item in enumerate(items):
        if type(item) is dict and item.get(key) == literal:
            if not rest:
                items[index] = value
            else:
                _set_steps(item, rest, value)
            return doc
    items.append(value if not rest else _set_steps({key: literal}, rest, value))
    return doc


def _get_steps(doc: Any, steps: tuple[str | int, ...]) -> Any:
    for step in steps:
        try:
            doc = doc[step]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return doc


def _child(node: Any, step: str | int, empty: Any) -> Any:
    if type(step) is str:
        if type(node) is not dict:
            raise InvalidPathError(f"cannot set key {step!r} inside a {type(node).__name__}")
        child = node.get(step)
        if not isinstance(child, (dict, list)):
            child = node[step] = empty
        return child
    _pad(node, step)
    child = node[step]
    if not isinstance(child, (dict, list)) or (isinstance(empty, list) and child == {}):
        child = node[step] = empty
    return child


def _assign(node: Any, step: str | int, value: Any) -> None:
    if type(step) is str:
        if type(node) is not dict:
            raise InvalidPathError(f"cannot set key {step!r} inside a {type(node).__name__}")
        node[step] = value
    else:
        _pad(node, step)
        node[step] = value


def _pad(node: Any, index: int) -> None:
    if type(node) is not list:
        raise InvalidPathError(f"cannot set index [{index}] inside a {type(node).__name__}")
    if index < 0:
        if -index > len(node):
            raise InvalidPathError(f"index [{index}] is out of range")
        return
    while len(node) <= index:
        node.append({})


@lru_cache(maxsize=4096)
def compile_path(path: str) -> CompiledPath:
    """Compile (once; cached) a JSONPath. Raises :class:`InvalidPathError`."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise InvalidPathError(f"JSONPath must start with '$': {path!r}")
    return CompiledPath(path)
