"""Request-level ``pass_through``: body JSONPath edits and extra query parameters.

Body (spec ``PassThroughBody``): a list of entries ``{service_id, operation_id?, extend_object?,
extend_paths?}``. An entry applies to a downstream call when its ``service_id`` is the
connection's service and its ``operation_id``, if given, names that call (each connector
documents its call ids; single-call operations use ``<resource>_<operation>``, e.g.
``tickets_add``). ``extend_object`` is deep-merged into the downstream body first, then each
``extend_paths`` item sets ``value`` at ``path`` (parents created). Paths are compiled when the
request is parsed, so an invalid one is a 400 before any downstream call.

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


class PassThroughError(ValueError):
    def __init__(self, index: int, message: str) -> None:
        super().__init__(f"pass_through[{index}]: {message}")
        self.index = index
        self.message = message


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
    compiled = []
    for index, entry in enumerate(entries):
        paths = []
        for item in entry.get("extend_paths") or []:
            try:
                paths.append((compile_path(item["path"]), item["value"]))
            except InvalidPathError as exc:
                raise PassThroughError(index, str(exc)) from None
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
    for ext in extensions:
        if not ext.applies_to(service_id, call_id):
            continue
        if ext.extend_object:
            deep_merge(body, ext.extend_object)
        for path, value in ext.extend_paths:
            try:
                body = path.set(body, copy.deepcopy(value))
            except InvalidPathError as exc:
                raise PassThroughError(extensions.index(ext), str(exc)) from None
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
