"""Mapping-file checks of the write policy, and the compiled write's plan of what is not stored as sent."""

from __future__ import annotations

from typing import Any

import pytest

from unigate.mapping.compiled import FieldWriteError, RecordMapping
from unigate.mapping.spec import MappingFileError, parse_mapping


def spec(tickets: dict[str, Any]) -> dict[str, Any]:
    return {"service_id": "demo", "name": "Demo", "http": {"base_url": "http://x"}, "resources": {"tickets": tickets}}


def problems(tickets: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(MappingFileError) as caught:
        parse_mapping(spec(tickets), "demo.yaml")
    return caught.value.problems


def mapping(fields: dict[str, Any], notes: dict[str, str] | None = None) -> RecordMapping:
    parsed = parse_mapping(spec({"fields": fields, "notes": notes or {}}), "demo.yaml")
    return RecordMapping.from_spec("tickets", parsed.resources["tickets"])  # type: ignore[index]


def test_a_body_constant_outside_the_wrap_is_refused() -> None:
    [(where, what)] = problems({"fields": {"subject": "$.subject"}, "operations": {"add": {
        "method": "POST", "path": "/issues", "wrap": "$.issue", "body": {"$.project_id": "7"}}}})
    assert where == "resources.tickets.operations.add.body" and "$.issue.project_id" in what


def test_a_body_constant_in_place_of_the_wrap_is_refused() -> None:
    [(where, _)] = problems({"fields": {"subject": "$.subject"}, "operations": {"add": {
        "method": "POST", "path": "/issues", "wrap": "$.issue", "body": {"$.issue": {"project_id": "7"}}}}})
    assert where == "resources.tickets.operations.add.body"


def test_a_body_constant_inside_the_wrap_is_accepted() -> None:
    parse_mapping(spec({"fields": {"subject": "$.subject"}, "operations": {"add": {
        "method": "POST", "path": "/issues", "wrap": "$.issue", "body": {"$.issue.project_id": "7"}}}}), "demo.yaml")


def test_clear_on_a_read_only_field_is_refused() -> None:
    [(where, _)] = problems({"fields": {"created_by": {"read": "$.author", "clear": ""}}})
    assert where == "resources.tickets.fields.created_by.clear"


def test_notes_and_writes_must_name_unified_fields() -> None:
    found = problems({"fields": {"subject": "$.s"}, "notes": {"severity": "x"},
                      "operations": {"update": {"method": "PUT", "path": "/t", "writes": ["subject", "title"]}}})
    assert [w for w, _ in found] == ["resources.tickets.notes.severity", "resources.tickets.operations.update.writes"]


def test_a_date_only_tracker_warns_that_the_time_was_dropped() -> None:
    plan = mapping({"due_date": {"path": "$.due", "transform": "date"}}).plan({"due_date": "2030-01-02T10:30:00Z"})
    assert plan.body == {"due": "2030-01-02"}
    assert plan.warnings == [{"field": "due_date", "message": "altered: The tracker stores it as 2030-01-02T00:00:00.000Z"}]


def test_midnight_on_a_date_only_tracker_is_stored_as_sent() -> None:
    plan = mapping({"due_date": {"path": "$.due", "transform": "date"}}).plan({"due_date": "2030-01-02T00:00:00Z"})
    assert (plan.body, plan.warnings) == ({"due": "2030-01-02"}, [])


def test_a_field_without_write_path_is_warned_about_with_its_note() -> None:
    plan = mapping({"subject": "$.s"}, notes={"priority": "no priorities here"}).plan(
        {"subject": "x", "priority": "high"}, tracker="Demo")
    assert plan.body == {"s": "x"} and plan.warnings == [{"field": "priority", "message": "not stored: no priorities here"}]


def test_a_null_is_sent_as_the_declared_clear_value_on_update_and_left_out_on_create() -> None:
    m = mapping({"subject": "$.s", "description": {"path": "$.d", "clear": ""}})
    assert m.plan({"subject": "x", "description": None}).body == {"s": "x", "d": ""}
    assert m.plan({"subject": "x", "description": None}, creating=True).body == {"s": "x"}


def test_a_null_that_cannot_clear_is_refused_on_update_and_warned_about_on_create() -> None:
    m = mapping({"status": {"path": "$.st", "clear": "unsupported"}})
    with pytest.raises(FieldWriteError) as caught:
        m.plan({"status": None}, tracker="Demo")
    assert caught.value.field_name == "status" and "cannot clear status" in caught.value.message
    assert [w["field"] for w in m.plan({"status": None}, creating=True).warnings] == ["status"]


def test_a_value_outside_an_exhaustive_write_map_is_not_sent() -> None:
    m = mapping({"status": {"path": "$.action", "write_map": {"open": "reopen", "closed": "close"},
                            "write_unmapped": "drop"}})
    plan = m.plan({"status": "in_progress"}, tracker="Demo")
    assert plan.body == {} and [w["field"] for w in plan.warnings] == ["status"]


def test_tags_by_id_or_name_send_the_name_of_a_tag_without_id() -> None:
    m = mapping({"tags": {"path": "$.kw", "transform": {"name": "tags", "by": "id_or_name"}}})
    assert m.plan({"tags": [{"id": "3"}, {"name": "new"}]}).body == {"kw": ["3", "new"]}
