"""The ``fields`` query parameter: keep only the named (dot-path) fields of response data.

``fields=id,subject,tags.name`` keeps ``id``, ``subject`` and, inside each element of the
``tags`` array, ``name``. Applied last, to ``data`` of list and one responses.
"""

from __future__ import annotations

from typing import Any

FieldTree = dict[str, "FieldTree | None"]


def parse_fields(value: str) -> FieldTree:
    tree: FieldTree = {}
    for raw in value.split(","):
        parts = [p.strip() for p in raw.strip().split(".")]
        if not parts or not all(parts):
            continue
        node = tree
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part in node and node[part] is None:
                break  # the whole field is already kept
            if last:
                node[part] = None
            else:
                child = node.get(part)
                if child is None:
                    child = node[part] = {}
                node = child
    return tree


def select_fields(data: Any, tree: FieldTree) -> Any:
    if isinstance(data, list):
        return [select_fields(item, tree) for item in data]
    if not isinstance(data, dict):
        return data
    out = {}
    for key, sub in tree.items():
        if key in data:
            out[key] = data[key] if sub is None else select_fields(data[key], sub)
    return out
