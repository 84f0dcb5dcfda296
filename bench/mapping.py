"""Mapping throughput: our compiled engine vs precompiled jsonpath-ng on a 12-field ticket.

    python bench/mapping.py [--seconds 2]

Both sides apply the same field semantics (value maps, timestamp/id/assignee/tag transforms);
only the path evaluation differs: generated getters vs ``jsonpath_ng.ext.parse(...).find``
compiled once. Prints records/s for each and their ratio (target: >= 15). Not a test.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from typing import Any

from jsonpath_ng.ext import parse

from unigate.mapping.compiled import RecordMapping
from unigate.mapping.spec import parse_mapping
from unigate.mapping.transforms import build_transform

FIELDS: dict[str, Any] = {
    "id": {"read": "$.slug"},
    "subject": "$.title",
    "description": "$.content.markdown",
    "type": "$.type",
    "status": {"path": "$.status", "map": {"backlog": "open", "todo": "open", "in_progress": "in_progress",
                                           "in_review": "in_progress", "done": "closed"},
               "write_map": {"open": "todo", "in_progress": "in_progress", "closed": "done"}},
    "priority": {"path": "$.priority", "map": {"low": "low", "medium": "normal", "high": "high", "urgent": "urgent"}},
    "assignees": {"path": "$.assignee.id", "transform": "assignees"},
    "tags": {"path": "$.labels", "transform": "tags"},
    "parent_id": "$.parent.slug",
    "created_at": {"read": "$.created_at", "transform": "datetime"},
    "updated_at": {"read": "$.updated_at", "transform": "datetime"},
    "due_date": {"path": "$.due_date", "transform": "datetime"},
}
RECORD = {
    "id": 4242, "slug": "AM-4242", "title": "Login fails on Safari", "type": "bug", "status": "in_review",
    "priority": "high", "content": {"markdown": "Steps: open the app in Safari 17, log in."},
    "assignee": {"id": 17, "name": "Ann"}, "labels": ["frontend", "auth"], "parent": {"slug": "AM-4000"},
    "created_at": "2025-01-10T08:00:00Z", "updated_at": "2025-01-15T14:20:00.000Z", "due_date": "2025-02-01T00:00:00Z",
}


def engine_mapper() -> Callable[[dict[str, Any]], dict[str, Any]]:
    spec = {"service_id": "bench", "name": "Bench", "http": {"base_url": "http://x"}, "resources": {"tickets": {"fields": FIELDS}}}
    mapping = RecordMapping.from_spec("tickets", parse_mapping(spec, "bench").resources["tickets"])  # type: ignore[index]
    read = mapping.read
    return lambda record: read(record, {})


def jsonpath_ng_mapper() -> Callable[[dict[str, Any]], dict[str, Any]]:
    compiled = []
    for name, field in FIELDS.items():
        field = {"path": field} if isinstance(field, str) else field
        transform = field.get("transform")
        reader = build_transform(transform, {}).read if transform else None
        compiled.append((name, parse(field.get("read") or field["path"]), field.get("map"), reader))

    def read(record: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for name, expr, value_map, reader in compiled:
            matches = expr.find(record)
            value = matches[0].value if matches else None
            if value_map is not None:
                value = value_map.get(value, value)
            if reader is not None:
                value = reader(value)
            out[name] = value
        return out

    return read


def rate(mapper: Callable[[dict[str, Any]], Any], seconds: float) -> float:
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(1000):
            mapper(RECORD)
        count += 1000
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per side (default 2)")
    args = parser.parse_args()
    ours, reference = engine_mapper(), jsonpath_ng_mapper()
    assert ours(RECORD) == reference(RECORD), "both mappers must produce the same record"
    rate(ours, 0.2), rate(reference, 0.2)  # warm up
    engine, jsonpath = rate(ours, args.seconds), rate(reference, args.seconds)
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"unigate compiled mapping : {engine:>12,.0f} records/s")
    print(f"precompiled jsonpath-ng  : {jsonpath:>12,.0f} records/s")
    print(f"ratio                    : {engine / jsonpath:>12.1f}x  (target >= 15)")


if __name__ == "__main__":
    main()
