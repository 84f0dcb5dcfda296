"""JSONPath compiled once into getters and setters.

Simple paths (``$``, ``$.a.b``, ``$.a[0]``, ``$['odd key'][-1]``) become a tuple of steps walked
with plain ``dict``/``list`` indexing — about 100x faster than jsonpath-ng. Anything else
(filters, wildcards, slices, recursive descent) is parsed once with jsonpath-ng's extended parser
and kept precompiled. Both behave alike (property-tested in tests/mapping/test_paths_property.py):

- ``get`` returns the single match, a list when a non-simple path matches several, or ``MISSING``;
- ``set`` writes the value, creating missing parents (dicts for names, lists padded with ``{}``
  for indices, as jsonpath-ng's ``update_or_create`` does);
- ``set(..., strict=True)`` (client-supplied paths: body ``pass_through``) refuses what the lenient
  default does for trusted mapping paths: replacing a string, number or boolean that stands where a
  parent must be, and growing a list more than ``MAX_LIST_GROWTH`` items past its end;
- every path is bounded when compiled: at most ``MAX_PATH_LENGTH`` characters, ``MAX_PATH_STEPS``
  steps and index ``MAX_INDEX``, so no path can make a document deeper than JSON encoders accept
  or pad a list to millions of items;
- a path that selects a list element by one key (``$.custom_fields[?(@.id == 7)].value``, the
  shape trackers use for custom fields) also *creates* the element when writing: ``set`` on ``{}``
  gives ``{"custom_fields": [{"id": 7, "value": ...}]}``, where jsonpath-ng would write nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise
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


MAX_PATH_LENGTH = 1024
MAX_PATH_STEPS = 32   # a step is a ``.name``, ``..`` or ``[...]``, wherever it appears
MAX_INDEX = 1000      # largest list index a path may name
MAX_LIST_GROWTH = 100  # strict set: items a list may grow past its end (padding with {})


class InvalidPathError(ValueError):
    """The string is not a JSONPath we can compile, or cannot be applied to this document; the
    message says where."""


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

    __slots__ = ("_expr", "_keyed", "path", "steps")

    def __init__(self, path: str) -> None:
        self.path = path
        self.steps = _simple_steps(path)
        self._expr = None
        self._keyed = _keyed_element(path)
        if self.steps is None:
            try:
                self._expr = _parse_jsonpath(path)
            except (JsonPathLexerError, JsonPathParserError, Exception) as exc:  # noqa: BLE001 - jsonpath-ng raises bare Exception too
                raise InvalidPathError(f"invalid JSONPath {_shown(path)}: {exc}") from None

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
                        doc = doc[step]  # type: ignore[index]  # an int: not a str
                    except IndexError:
                        return MISSING
            return doc
        matches = self._expr.find(doc)  # type: ignore[union-attr]
        if not matches:
            return MISSING
        if len(matches) == 1:
            return matches[0].value
        return [m.value for m in matches]

    def set(self, doc: Any, value: Any, *, strict: bool = False) -> Any:
        """Set ``value`` at this path in ``doc`` (mutated), creating parents. Returns ``doc``.

        ``strict``: refuse (:class:`InvalidPathError`) to replace a scalar parent other than
        ``null`` or to grow a list more than ``MAX_LIST_GROWTH`` items past its end."""
        steps = self.steps
        if steps is None:
            if self._keyed is not None:
                return _set_keyed(doc, self._keyed, value, strict)
            try:
                return self._expr.update_or_create(doc, value)  # type: ignore[union-attr]
            except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
                # jsonpath-ng fails on scalars in the way ('str' object does not support item assignment)
                raise InvalidPathError(f"cannot set {_shown(self.path)} in this document: {exc}") from None
        return _set_steps(doc, steps, value, strict)

    def __repr__(self) -> str:
        return f"CompiledPath({self.path!r})"


def _set_steps(doc: Any, steps: tuple[str | int, ...], value: Any, strict: bool = False) -> Any:
    if not steps:
        return value
    node = doc
    for step, nxt in pairwise(steps):
        node = _child(node, step, [] if type(nxt) is int else {}, strict)
    _assign(node, steps[-1], value, strict)
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


def _set_keyed(doc: Any, keyed: _Keyed, value: Any, strict: bool = False) -> Any:
    prefix, key, literal, rest = keyed
    items = _get_steps(doc, prefix)
    if type(items) is not list:
        if strict and items is not MISSING and items is not None:
            raise InvalidPathError(f"cannot select an element by {key!r} inside a {type(items).__name__}")
        items = []
        doc = _set_steps(doc, prefix, items, strict)
    for index, item in enumerate(items):
        if type(item) is dict and item.get(key) == literal:
            if not rest:
                items[index] = value
            else:
                _set_steps(item, rest, value, strict)
            return doc
    items.append(value if not rest else _set_steps({key: literal}, rest, value, strict))
    return doc


def _get_steps(doc: Any, steps: tuple[str | int, ...]) -> Any:
    for step in steps:
        try:
            doc = doc[step]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return doc


def _child(node: Any, step: str | int, empty: Any, strict: bool = False) -> Any:
    if type(step) is str:
        if type(node) is not dict:
            raise InvalidPathError(f"cannot set key {step!r} inside a {type(node).__name__}")
        child = node.get(step)
        if not isinstance(child, (dict, list)):
            if strict and child is not None:
                raise InvalidPathError(f"cannot create a parent at {step!r}: it holds a {type(child).__name__}")
            child = node[step] = empty
        return child
    _pad(node, step, strict)  # type: ignore[arg-type]  # an int: not a str
    child = node[step]
    if not isinstance(child, (dict, list)) or (isinstance(empty, list) and child == {}):
        if strict and child is not None and not isinstance(child, dict):
            raise InvalidPathError(f"cannot create a parent at [{step}]: it holds a {type(child).__name__}")
        child = node[step] = empty
    return child


def _assign(node: Any, step: str | int, value: Any, strict: bool = False) -> None:
    if type(step) is str:
        if type(node) is not dict:
            raise InvalidPathError(f"cannot set key {step!r} inside a {type(node).__name__}")
        node[step] = value
    else:
        _pad(node, step, strict)  # type: ignore[arg-type]  # an int: not a str
        node[step] = value


def _pad(node: Any, index: int, strict: bool = False) -> None:
    if type(node) is not list:
        raise InvalidPathError(f"cannot set index [{index}] inside a {type(node).__name__}")
    if index < 0:
        if -index > len(node):
            raise InvalidPathError(f"index [{index}] is out of range")
        return
    if strict and index > len(node) + MAX_LIST_GROWTH:
        raise InvalidPathError(f"index [{index}] is more than {MAX_LIST_GROWTH} past the end of a list "
                               f"of {len(node)}")
    while len(node) <= index:
        node.append({})


def _shown(path: object, limit: int = 80) -> str:
    """A path for an error message: its repr, cut short."""
    text = repr(path)
    return text if len(text) <= limit else text[:limit] + "...(" + str(len(text)) + " characters)"


def _unquoted(path: str) -> str:
    """The path with the text of quoted names and literals removed (quotes kept)."""
    out, quote = [], ""
    for char in path:
        if quote:
            if char == quote:
                quote = ""
                out.append(char)
        else:
            if char in "'\"":
                quote = char
            out.append(char)
    return "".join(out)


_STEP_MARK = re.compile(r"\[|\.+")
_INDEX_LITERAL = re.compile(r"[\[,]\s*(-?\d+)\s*(?=[\],])")  # [3], [1,3] (a union pads to its largest)


def _check_bounds(path: str) -> None:
    """Counted on the text, before parsing (jsonpath-ng's parser and evaluator recurse per step):
    each ``[`` and each run of dots outside quotes is a step, filter expressions included."""
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidPathError(f"JSONPath longer than {MAX_PATH_LENGTH} characters ({len(path)})")
    bare = _unquoted(path)
    steps = len(_STEP_MARK.findall(bare))
    if steps > MAX_PATH_STEPS:
        raise InvalidPathError(f"JSONPath of {steps} steps; at most {MAX_PATH_STEPS}")
    for m in _INDEX_LITERAL.finditer(bare):
        if abs(int(m[1])) > MAX_INDEX:
            raise InvalidPathError(f"index {m[1]} in JSONPath; at most {MAX_INDEX}")


@lru_cache(maxsize=4096)
def compile_path(path: str) -> CompiledPath:
    """Compile (once; cached) a JSONPath. Raises :class:`InvalidPathError`."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise InvalidPathError(f"JSONPath must start with '$': {_shown(path)}")
    _check_bounds(path)
    return CompiledPath(path)
