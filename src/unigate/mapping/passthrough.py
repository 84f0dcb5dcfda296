"""Request-level ``pass_through``: body JSONPath edits and extra query parameters.

Body (spec ``PassThroughBody``): a list of entries ``{service_id, operation_id?, extend_object?,
extend_paths?}``. An entry applies to a downstream call when its ``service_id`` is the
connection's service and its ``operation_id``, if given, names that call (each connector
documents its call ids; single-call operations use ``<resource>_<operation>``, e.g.
``tickets_add``). ``extend_object`` is deep-merged into the downstream body first, then each
``extend_paths`` item sets ``value`` at ``path`` (parents created). Paths are compiled when the
request is parsed, so an invalid one is a 400 before any downstream call. Bounded: at most
``MAX_ENTRIES`` entries and ``MAX_EXTEND_PATHS`` paths in all, each path within the bounds of
:mod:`unigate.mapping.paths` and set strictly (no list grown more than ``MAX_LIST_GROWTH`` past
its end, no string or number replaced by a parent); ``$`` itself only takes an object. A path that
cannot be set in the body it meets raises :class:`PassThroughError` naming entry and path.

Query (spec ``PassThroughQuery``): ``pass_through[search]=x`` reaches downstream as
``search=x``; nested keys keep bracket form (``pass_through[a][b]=1`` -> ``a[b]=1``).
Pass-through parameters take precedence over the parameters the mapping derives (filters,
sort, paging), so a client can always override what we send.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from unigate.mapping.paths import CompiledPath, InvalidPathError, compile_path

MAX_ENTRIES = 32
MAX_EXTEND_PATHS = 64  # over all entries


class PassThroughError(ValueError):
    """Entry ``index`` (and its ``extend_paths`` item ``item``, if that is where) is refused."""

    def __init__(self, index: int, message: str, item: int | None = None) -> None:
        super().__init__(f"pass_through[{index}]: {message}")
        self.index = index
        self.message = message
        self.item = item

    @property
    def detail(self) -> dict[str, str]:
        """For a 400's detail: ``{"pass_through[1]": "extend_paths[0]: <what is wrong>"}``."""
        what = self.message if self.item is None else f"extend_paths[{self.item}]: {self.message}"
        return {f"pass_through[{self.index}]": what}


@dataclass(frozen=True)
class BodyExtension:
    service_id: str
    operation_id: str | None
    extend_object: dict[str, Any] | None
    extend_paths: tuple[tuple[CompiledPath, Any], ...]

    def applies_to(self, service_id: str, call_id: str) -> bool:
        return self.service_id == service_id and (self.operation_id is None or self.operation_id == call_id)


def compile_body_pass_through(entries: list[dict[str, Any]]) -> list[BodyExtension]:
    """Validate and compile pass_through entries (already schema-checked)."""
    if len(entries) > MAX_ENTRIES:
        raise PassThroughError(MAX_ENTRIES, f"{len(entries)} entries; at most {MAX_ENTRIES}")
    compiled = []
    total = 0
    for index, entry in enumerate(entries):
        paths = []
        for number, item in enumerate(entry.get("extend_paths") or []):
            total += 1
            if total > MAX_EXTEND_PATHS:
                raise PassThroughError(index, f"more than {MAX_EXTEND_PATHS} extend_paths in all entries", number)
            value = item.get("value")  # null is a value: the path is set to null
            try:
                path = compile_path(item["path"])
            except InvalidPathError as exc:
                raise PassThroughError(index, str(exc), number) from None
            if not path.steps and path.is_simple and not isinstance(value, dict):
                raise PassThroughError(index, "'$' replaces the whole body: its value must be an object", number)
            paths.append((path, value))
        compiled.append(BodyExtension(entry["service_id"], entry.get("operation_id"), entry.get("extend_object"), tuple(paths)))
    return compiled


def deep_merge(target: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


def apply_body_pass_through(
    body: dict[str, Any], extensions: list[BodyExtension], service_id: str, call_id: str
) -> dict[str, Any]:
    """Apply the entries for ``call_id`` to ``body`` (mutated); raises :class:`PassThroughError`
    naming the entry and path that cannot be set in this body."""
    for index, ext in enumerate(extensions):
        if not ext.applies_to(service_id, call_id):
            continue
        if ext.extend_object:
            deep_merge(body, ext.extend_object)
        for number, (path, value) in enumerate(ext.extend_paths):
            try:
                body = path.set(body, copy.deepcopy(value), strict=True)
            except InvalidPathError as exc:
                raise PassThroughError(index, str(exc), number) from None
    return body


def flatten_query(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """``{"a": {"b": "1"}, "c": ["x", "y"]}`` -> ``[("a[b]", "1"), ("c", "x"), ("c", "y")]``."""
    out: list[tuple[str, str]] = []
    for key, value in tree.items():
        name = f"{prefix}[{key}]" if prefix else key
        if isinstance(value, dict):
            out.extend(flatten_query(value, name))
        elif isinstance(value, list):
            out.extend((name, str(v)) for v in value)
        else:
            out.append((name, "" if value is None else str(value)))
    return out
