"""Compiled record mappings: read, write, value maps, defaults, templates, round trips."""

from __future__ import annotations

from typing import Any

import pytest

from unigate.mapping.compiled import FieldWriteError, RecordMapping
from unigate.mapping.spec import parse_mapping

FIELDS: dict[str, Any] = {
    "id": {"read": "$.key"},
    "subject": "$.fields.summary",
    "description": "$.fields.body.text",
    "type": {"path": "$.fields.kind", "map": {"BUG": "bug", "FEAT": "feature"}},
    "status": {"path": "$.state", "map": {"new": "open", "wip": "in_progress", "done": "closed", "wontfix": "closed"},
               "write_map": {"open": "new", "in_progress": "wip", "closed": "done"}},
    "priority": {"path": "$.prio", "map": {1: "low", 2: "normal", 3: "high", 4: "urgent"}, "unmapped": "null"},
    "assignees": {"path": "$.owners", "transform": {"name": "assignees", "write": "list", "id": "$.id", "username": "$.name"}},
    "tags": {"path": "$.labels", "transform": "tags"},
    "due_date": {"path": "$.due", "transform": {"name": "datetime", "format": "date"}},
    "created_at": {"read": "$.created", "transform": "datetime"},
    "updated_at": {"read": "$.updated", "transform": "datetime", "default": "1970-01-01T00:00:00.000Z"},
    "parent_id": {"path": "$.parent[0].key"},
    "collection_id": {"value": "{collection_id}"},
    "created_by": {"read": "$.reporter.id", "transform": "string"},
}
RECORD = {
    "key": "T-1", "fields": {"summary": "Crash", "body": {"text": "It crashes"}, "kind": "BUG"}, "state": "wip",
    "prio": 3, "owners": [{"id": 7, "name": "ann"}], "labels": ["ui"], "due": "2025-02-01",
    "created": 1736496000, "parent": [{"key": "T-0"}], "reporter": {"id": 9},
}


def mapping(fields: dict[str, Any] = FIELDS, resource: str = "tickets") -> RecordMapping:
    spec = {"service_id": "demo", "name": "Demo", "http": {"base_url": "http://x"},
            "resources": {resource: {"fields": fields}}}
    return RecordMapping.from_spec(resource, parse_mapping(spec, "demo.yaml").resources[resource])  # type: ignore[index]


def test_read_maps_every_field() -> None:
    assert mapping().read(RECORD, {"collection_id": "board-1"}) == {
        "id": "T-1", "subject": "Crash", "description": "It crashes", "type": "bug", "status": "in_progress",
        "priority": "high", "assignees": [{"id": "7", "username": "ann"}], "tags": [{"id": "ui", "name": "ui"}],
        "due_date": "2025-02-01T00:00:00.000Z", "created_at": "2025-01-10T08:00:00.000Z",
        "updated_at": "1970-01-01T00:00:00.000Z", "parent_id": "T-0", "collection_id": "board-1", "created_by": "9",
    }


def test_missing_paths_read_as_null_and_arrays_as_empty() -> None:
    data = mapping().read({"key": "T-2"}, {"collection_id": "c"})
    assert data["subject"] is None and data["parent_id"] is None
    assert data["assignees"] == [] and data["tags"] == []


def test_unmapped_status_passes_the_original_through() -> None:
    assert mapping().read({**RECORD, "state": "blocked"}, {"collection_id": "c"})["status"] == "blocked"


def test_unmapped_value_can_read_as_null() -> None:
    assert mapping().read({**RECORD, "prio": 9}, {"collection_id": "c"})["priority"] is None


def test_non_dict_record_reads_as_nulls() -> None:
    assert mapping().read(["not", "a", "record"], {"collection_id": "c"})["id"] is None


def test_write_sends_only_present_fields() -> None:
    assert mapping().write({"status": "closed"}) == {"state": "done"}


def test_write_creates_nested_parents() -> None:
    assert mapping().write({"description": "deep", "parent_id": "T-9"}) == {
        "fields": {"body": {"text": "deep"}}, "parent": [{"key": "T-9"}]}


def test_unmapped_write_value_passes_through() -> None:
    assert mapping().write({"status": "blocked"}) == {"state": "blocked"}


def test_write_error_names_the_field() -> None:
    with pytest.raises(FieldWriteError) as info:
        mapping().write({"due_date": "someday"})
    assert info.value.field_name == "due_date"


def test_read_only_fields_are_not_written() -> None:
    assert mapping().write({"created_at": "2025-01-01T00:00:00Z", "subject": "s"}) == {"fields": {"summary": "s"}}


def test_round_trip_of_a_ticket_with_every_writable_field() -> None:
    unified = {"subject": "Crash", "description": "It crashes", "type": "bug", "status": "in_progress",
               "priority": "urgent", "assignees": [{"id": "7"}], "tags": [{"id": "ui"}],
               "due_date": "2025-02-01T00:00:00.000Z", "parent_id": "T-0"}
    downstream = mapping().write(unified)
    back = mapping().read({"key": "T-3", **downstream}, {"collection_id": "c"})
    assert {k: back[k] for k in unified} == {**unified, "assignees": [{"id": "7", "username": None}],
                                            "tags": [{"id": "ui", "name": "ui"}]}


def test_custom_mappings_read_under_custom_mappings() -> None:
    custom = mapping().with_custom_mappings({"team": "$.fields.team.name", "first_label": "$.labels[0]",
                                             "missing": "$.nope", "ids": "$.owners[*].id"})
    assert custom.read({**RECORD, "fields": {"team": {"name": "core"}}}, {"collection_id": "c"})["custom_mappings"] == {
        "team": "core", "first_label": "ui", "missing": None, "ids": 7}


def test_custom_mappings_write_back_to_their_paths() -> None:
    custom = mapping().with_custom_mappings({"team": "$.fields.team.name"})
    assert custom.write({"subject": "s", "custom_mappings": {"team": "ops"}}) == {
        "fields": {"summary": "s", "team": {"name": "ops"}}}


def test_writing_an_unconfigured_custom_mapping_is_an_error() -> None:
    with pytest.raises(FieldWriteError, match="no custom mapping 'nope'"):
        mapping().with_custom_mappings({"team": "$.t"}).write({"custom_mappings": {"nope": 1}})
