"""Query-string parsing exactly as the spec serializes it.

``limit`` (1..200, default 20), ``cursor``, ``raw``, ``fields`` and the deepObject parameters
``filter[...]``, ``sort[by]``/``sort[direction]`` (the bounds, filters and sort fields are the unified
model's, ``unigate.unified``; a direction alone sorts by the list's default field)
and ``pass_through[...]`` (nested keys kept;
arrays as repeated keys, ``[]`` or ``[0]`` suffixes, or comma-separated for a list filter such as ``filter[status]``).
A deepObject key has at most ``MAX_DEEP_SEGMENTS`` bracketed segments; ``limit`` takes ASCII digits
only (Python's ``int`` would read ``٣`` as 3).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import QueryParams

from unigate.errors import RequestHeadersValidationError, RequestValidationError, UnsupportedFiltersError
from unigate.mapping.fields import FieldTree, parse_fields
from unigate.mapping.transforms import TransformError, parse_timestamp
from unigate.unified import UNIFIED, Filter, UnifiedModel

_DEEP = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\[\]]*\])+)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
STRICT_HEADER = "x-unigate-strict"
MAX_DEEP_SEGMENTS = 8  # pass_through[a][b][c]...: deeper keys are refused, not recursed into


def deep_objects(params: QueryParams) -> dict[str, dict[str, Any]]:
    """``filter[status][0]=a&pass_through[x][y]=1`` -> ``{"filter": {"status": ["a"]}, ...}``."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in params.multi_items():
        m = _DEEP.match(key)
        if not m:
            continue
        root, segments = m.group(1), _SEGMENT.findall(m.group(2))
        if len(segments) > MAX_DEEP_SEGMENTS:
            raise RequestValidationError("Invalid query parameter", {
                f"{root}[{segments[0]}]"[:80]: f"nested {len(segments)} levels deep; at most {MAX_DEEP_SEGMENTS}"})
        node: Any = out.setdefault(root, {})
        for i, seg in enumerate(segments):
            last = i == len(segments) - 1
            is_index = seg == "" or seg.isdigit()
            if is_index:
                continue  # arrays are collected at their parent key
            nxt_is_index = not last and (segments[i + 1] == "" or segments[i + 1].isdigit())
            if last or (nxt_is_index and i + 1 == len(segments) - 1):
                existing = node.get(seg)
                if existing is None:
                    node[seg] = [value] if nxt_is_index else value
                elif isinstance(existing, list):
                    existing.append(value)
                elif isinstance(existing, str):
                    node[seg] = [existing, value]
                else:
                    raise RequestValidationError("Invalid query parameter", {key: "conflicts with a nested key"})
                break
            child = node.get(seg)
            if child is None:
                child = node[seg] = {}
            elif not isinstance(child, dict):  # a value given before for the same key: never drop it
                raise RequestValidationError("Invalid query parameter", {key: "conflicts with a value given for "
                                                                              "its parent key"})
            node = child
    return out


def parse_limit(params: QueryParams, model: UnifiedModel = UNIFIED) -> int:
    raw, bounds = params.get("limit"), model.limit
    if raw is None or raw == "":
        return bounds.default
    try:
        if not raw.isascii():
            raise ValueError(raw)
        limit = int(raw)
    except ValueError:
        raise RequestValidationError("Invalid limit", {"limit": f"must be an integer from {bounds.minimum} to "
                                                                f"{bounds.maximum}, got {raw!r}"}) from None
    if not bounds.minimum <= limit <= bounds.maximum:
        raise RequestValidationError("Invalid limit", {"limit": f"must be from {bounds.minimum} to {bounds.maximum}, "
                                                                f"got {limit}"})
    return limit


def parse_bool(params: QueryParams, name: str) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return False
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise RequestValidationError(f"Invalid {name}", {name: f"must be true or false, got {raw!r}"})


def parse_fields_param(params: QueryParams) -> FieldTree | None:
    raw = params.get("fields")
    if raw is None or not raw.strip():
        return None
    return parse_fields(raw)


def parse_filter(resource: str, deep: dict[str, dict[str, Any]], model: UnifiedModel = UNIFIED) -> dict[str, Any]:
    """``filter[...]`` of a list of ``resource``: each a filter of the model's, read by its kind."""
    raw = deep.get("filter") or {}
    if not raw:
        return {}
    allowed = {f.name: f for f in model.filters.get(resource, ())}
    unknown = sorted(k for k in raw if k not in allowed)
    if unknown:
        raise UnsupportedFiltersError(
            "Unsupported filter", f"filter[{unknown[0]}] is not a filter of {resource}; "
            f"filters: {', '.join(allowed) or 'none'}",
        )
    return {name: _filter_value(allowed[name], value) for name, value in raw.items()}


def _filter_value(spec: Filter, value: Any) -> Any:
    """A ``list`` filter's values (repeated or comma-separated); the one value of any other."""
    name = f"filter[{spec.name}]"
    if isinstance(value, dict):
        raise RequestValidationError("Invalid filter", {name: "must be a value, not an object"})
    if spec.kind == "list":
        values = value if isinstance(value, list) else [value]
        return [v.strip() for item in values for v in item.split(",") if v.strip()]
    if isinstance(value, list):
        raise RequestValidationError("Invalid filter", {name: "takes one value"})
    if spec.kind == "date-time":
        try:
            parse_timestamp(value)
        except TransformError as exc:
            raise RequestValidationError("Invalid filter", {name: str(exc)}) from None
    return value


def parse_sort(resource: str, deep: dict[str, dict[str, Any]], model: UnifiedModel = UNIFIED) -> dict[str, str] | None:
    """``sort[by]`` (a sort field of the model's, or absent) and ``sort[direction]``."""
    raw = deep.get("sort")
    if not raw:
        return None
    unknown = sorted(k for k in raw if k not in ("by", "direction"))
    if unknown:
        raise RequestValidationError("Invalid sort", {f"sort[{k}]": "unknown; use sort[by] and sort[direction]" for k in unknown})
    allowed = model.sorts.get(resource)
    if allowed is None:
        raise RequestValidationError("Invalid sort", {"sort": f"{resource} cannot be sorted"})
    by, direction = raw.get("by"), raw.get("direction", model.default_direction)
    if by is not None and (not isinstance(by, str) or by not in allowed):
        raise RequestValidationError("Invalid sort", {"sort[by]": f"must be one of {', '.join(allowed)}, got {by!r}"})
    if direction not in model.sort_directions:
        raise RequestValidationError("Invalid sort", {"sort[direction]": f"must be {' or '.join(model.sort_directions)}, "
                                                                         f"got {direction!r}"})
    # a direction alone (the SDK sends sort[direction]=asc by itself): by None, the connector's default field
    return {"by": by, "direction": direction}


def parse_strict(headers: dict[str, str], default: bool) -> bool:
    """``x-unigate-strict: true|false`` (also 1/0): whether a write the tracker cannot store as sent is
    refused; absent or empty, the app's setting (``default``)."""
    raw = headers.get(STRICT_HEADER, "").strip()
    if not raw:
        return default
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise RequestHeadersValidationError(f"Invalid header: {STRICT_HEADER}",
                                        {STRICT_HEADER: f"must be true or false, got {raw[:40]!r}"})
