"""The compiled record mapping (``unigate.mapping.compiled``) at its edges: the generated reader's
paths, value maps, inlined transforms and defaults, and the writer's maps and errors.

The reader is generated code with fast paths for the common cases; each test states what a field
reads as, whichever path the generated code takes. The main cases are in test_record_mapping.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from unigate.mapping.compiled import FieldWriteError, RecordMapping
from unigate.mapping.spec import FieldSpec


def mapping(fields: dict[str, Any]) -> RecordMapping:
    """Fields of any name (a mapping file may only name unified fields; the compiler does not care)."""
    return RecordMapping("tickets", {name: FieldSpec.model_validate(spec) for name, spec in fields.items()})


def read(fields: dict[str, Any], record: Any, values: dict[str, Any] | None = None) -> dict[str, Any]:
    return mapping(fields).read(record, values or {})


# -- paths ----------------------------------------------------------------------------------

INDEXED = {"first": "$.items[0]", "second": "$.items[1]", "third": "$.items[2]",
           "last": "$.items[-1]", "second_last": "$.items[-2]", "third_last": "$.items[-3]"}


def test_list_indexes_read_the_element_when_it_exists() -> None:
    assert read(INDEXED, {"items": ["a", "b"]}) == {"first": "a", "second": "b", "third": None,
                                                    "last": "b", "second_last": "a", "third_last": None}


def test_list_indexes_of_an_empty_list_or_a_non_list_read_as_null() -> None:
    assert set(read(INDEXED, {"items": []}).values()) == {None}
    assert set(read(INDEXED, {"items": {"0": "a"}}).values()) == {None}


def test_a_key_below_a_non_object_reads_as_null() -> None:
    assert read({"x": "$.a.b"}, {"a": "text"}) == {"x": None}
    assert read({"x": "$.a.b"}, {"a": [{"b": 1}]}) == {"x": None}


def test_keys_below_objects_are_followed() -> None:
    assert read({"x": "$.a.b.c"}, {"a": {"b": {"c": 3}}}) == {"x": 3}


def test_the_root_path_reads_the_whole_record() -> None:
    assert read({"x": "$"}, {"a": 1}) == {"x": {"a": 1}}


def test_an_index_as_the_first_step_of_an_object_record_reads_as_null() -> None:
    assert read({"x": "$[0]"}, {"a": 1}) == {"x": None}


def test_a_filter_path_reads_what_it_matches_and_null_when_nothing() -> None:
    fields = {"x": "$.items[?(@.kind == 'bug')].v"}
    assert read(fields, {"items": [{"kind": "task", "v": 1}, {"kind": "bug", "v": 2}]}) == {"x": 2}
    assert read(fields, {"items": [{"kind": "task", "v": 1}]}) == {"x": None}


def test_a_field_without_a_read_path_reads_as_null_but_is_written() -> None:
    m = mapping({"x": {"write": "$.out"}})
    assert m.read({"out": 1}, {}) == {"x": None}
    assert m.write({"x": 2}) == {"out": 2}


def test_a_value_field_reads_the_rendered_template_value() -> None:
    m = mapping({"collection_id": {"value": "{collection_id}"}, "id": "$.id"})
    values = m.render_values({"collection_id": "board-1"})
    assert values == {"collection_id": "board-1"}
    assert m.read({"id": 1}, values) == {"collection_id": "board-1", "id": 1}
    assert m.value_templates == {"collection_id": "{collection_id}"}


# -- value maps and defaults ----------------------------------------------------------------

def test_a_value_the_map_cannot_look_up_is_kept_as_it_is() -> None:
    fields = {"x": {"path": "$.v", "map": {"a": "A"}}, "y": {"path": "$.v", "map": {"a": "A"}, "unmapped": "null"}}
    assert read(fields, {"v": ["a"]}) == {"x": ["a"], "y": ["a"]}


def test_a_default_fills_a_missing_or_null_value() -> None:
    fields = {"x": {"path": "$.v", "default": "none"}}
    assert read(fields, {}) == {"x": "none"}
    assert read(fields, {"v": None}) == {"x": "none"}
    assert read(fields, {"v": 0}) == {"x": 0}


def test_a_default_fills_a_value_the_map_turned_into_null() -> None:
    assert read({"x": {"path": "$.v", "map": {"a": "A"}, "unmapped": "null", "default": "?"}}, {"v": "b"}) == {"x": "?"}


def test_array_fields_read_missing_as_empty_lists_and_other_fields_as_null() -> None:
    assert read({"tags": "$.t", "assignees": "$.a", "subject": "$.s"}, {}) == \
        {"tags": [], "assignees": [], "subject": None}


def test_array_fields_of_a_non_object_record_are_empty_lists() -> None:
    assert read({"tags": "$.t", "id": "$.id"}, "not a record") == {"tags": [], "id": None}


# -- inlined transforms ---------------------------------------------------------------------

@pytest.mark.parametrize("transform", ["string", {"name": "string"}, "id", {"name": "id"}])
def test_string_and_id_read_numbers_as_strings_and_keep_null(transform: Any) -> None:
    fields = {"a": {"path": "$.a", "transform": transform}, "b": {"path": "$.b", "transform": transform},
              "c": {"path": "$.c", "transform": transform}, "d": {"path": "$.d", "transform": transform}}
    assert read(fields, {"a": 7, "b": 1.5, "c": "x"}) == {"a": "7", "b": "1.5", "c": "x", "d": None}


def test_datetime_reads_every_form_as_the_canonical_utc_timestamp() -> None:
    fields = {k: {"path": f"$.{k}", "transform": "datetime"} for k in ("canon", "seconds", "offset", "epoch", "none")}
    assert read(fields, {"canon": "2025-01-10T08:00:00.123Z", "seconds": "2025-01-10T08:00:00Z",
                         "offset": "2025-01-10T10:00:00+02:00", "epoch": 1736496000}) == {
        "canon": "2025-01-10T08:00:00.123Z", "seconds": "2025-01-10T08:00:00.000Z",
        "offset": "2025-01-10T08:00:00.000Z", "epoch": "2025-01-10T08:00:00.000Z", "none": None}


def test_a_20_character_string_that_is_not_a_z_timestamp_is_parsed_in_full() -> None:
    assert read({"t": {"path": "$.t", "transform": "datetime"}}, {"t": "2025-01-10 08:00:00Z"}) == \
        {"t": "2025-01-10T08:00:00.000Z"}


def test_assignees_read_one_id_as_a_one_element_list() -> None:
    fields = {"assignees": {"path": "$.a", "transform": "assignees"}}
    assert read(fields, {"a": 7}) == {"assignees": [{"id": "7", "username": None}]}
    assert read(fields, {"a": "u-1"}) == {"assignees": [{"id": "u-1", "username": None}]}


def test_assignees_read_a_list_of_objects_through_their_options() -> None:
    fields = {"assignees": {"path": "$.a", "transform": {"name": "assignees", "id": "$.uid", "username": "$.login"}}}
    assert read(fields, {"a": [{"uid": 1, "login": "ann"}]}) == {"assignees": [{"id": "1", "username": "ann"}]}


def test_tags_read_labels_and_objects_and_drop_nulls() -> None:
    fields = {"tags": {"path": "$.t", "transform": {"name": "tags", "label": "$.title"}}}
    assert read(fields, {"t": ["ui", None, {"id": 3, "title": "db"}]}) == \
        {"tags": [{"id": "ui", "name": "ui"}, {"id": "3", "name": "db"}]}


def test_tags_read_a_single_label_as_a_list() -> None:
    assert read({"tags": {"path": "$.t", "transform": "tags"}}, {"t": "ui"}) == {"tags": [{"id": "ui", "name": "ui"}]}


def test_a_transform_that_is_not_inlined_is_applied_but_not_to_null() -> None:
    fields = {"a": {"path": "$.a", "transform": "boolean"}, "b": {"path": "$.b", "transform": "boolean"}}
    assert read(fields, {"a": "true"}) == {"a": True, "b": None}


# -- writing --------------------------------------------------------------------------------

def test_writing_maps_a_value_back_through_the_inverse_of_the_read_map() -> None:
    assert mapping({"type": {"path": "$.kind", "map": {"BUG": "bug"}}}).write({"type": "bug"}) == {"kind": "BUG"}


def test_an_explicit_write_map_wins_over_the_inverse_of_the_read_map() -> None:
    m = mapping({"status": {"path": "$.s", "map": {"done": "closed", "shipped": "closed"},
                            "write_map": {"closed": "done"}}})
    assert m.write({"status": "closed"}) == {"s": "done"}


def test_a_field_without_maps_is_written_as_it_is() -> None:
    assert mapping({"subject": "$.title"}).write({"subject": "s"}) == {"title": "s"}


@pytest.mark.parametrize("value", [1, 2.5, True])
def test_scalar_values_of_every_type_go_through_the_write_map(value: Any) -> None:
    m = mapping({"x": {"path": "$.x", "write_map": {str(value): "mapped"}}})
    assert m.write({"x": value}) == {"x": value}  # no key of that type: passed as is
    m = mapping({"x": {"path": "$.x", "map": {"mapped": value}}})
    assert m.write({"x": value}) == {"x": "mapped"}


def test_a_list_value_skips_the_write_map() -> None:
    assert mapping({"x": {"path": "$.x", "write_map": {"a": "A"}}}).write({"x": ["a"]}) == {"x": ["a"]}


def test_a_write_transform_error_names_the_field_and_the_reason() -> None:
    with pytest.raises(FieldWriteError) as caught:
        mapping({"due_date": {"path": "$.due", "transform": "datetime"}}).write({"due_date": "someday"})
    assert caught.value.field_name == "due_date"
    assert "'someday'" in caught.value.message  # the transform's own reason
    assert str(caught.value) == f"due_date: {caught.value.message}"


def test_an_unconfigured_custom_mapping_names_the_configured_ones() -> None:
    m = mapping({"subject": "$.title"}).with_custom_mappings({"team": "$.t", "area": "$.a"})
    with pytest.raises(FieldWriteError) as caught:
        m.write({"custom_mappings": {"nope": 1}})
    assert caught.value.field_name == "custom_mappings.nope"
    assert caught.value.message == "no custom mapping 'nope' is configured for this connection; configured: ['area', 'team']"


def test_empty_custom_mappings_write_nothing() -> None:
    assert mapping({"subject": "$.title"}).with_custom_mappings({"team": "$.t"}).write({"custom_mappings": {}}) == {}


def test_writable_lists_the_fields_with_a_write_path() -> None:
    m = mapping({"id": {"read": "$.id"}, "subject": "$.title", "x": {"write": "$.x"}, "c": {"value": "{collection_id}"}})
    assert m.writable == frozenset({"subject", "x"})


def test_a_mapping_and_its_custom_variant_keep_their_resource() -> None:
    from unigate.mapping.spec import ResourceSpec

    m = RecordMapping.from_spec("comments", ResourceSpec.model_validate({"fields": {"body": "$.text"}}))
    assert (m.resource, m.with_custom_mappings({"x": "$.x"}).resource) == ("comments", "comments")


# -- write plans: what the tracker will not store as sent -----------------------------------

PLANNED = {"subject": "$.title", "status": {"path": "$.state", "write_map": {"open": "new", "closed": "done"},
                                            "write_unmapped": "drop"},
           "tags": {"path": "$.labels", "clear": []}, "due_date": {"path": "$.due", "clear": "unsupported"},
           "description": "$.text"}


def test_fields_are_written_in_the_mappings_order_whatever_the_bodys() -> None:
    assert list(mapping(PLANNED).write({"description": "d", "subject": "s", "status": "open"})) == \
        ["title", "state", "text"]


def test_a_field_the_tracker_has_not_is_warned_about_not_sent() -> None:
    plan = mapping(PLANNED).plan({"subject": "s", "priority": "high"}, tracker="Redmine")
    assert (plan.body, plan.warnings) == ({"title": "s"}, [{"field": "priority", "message": "not stored: Redmine has no priority"}])


def test_a_mapping_note_explains_a_field_not_stored() -> None:
    m = mapping(PLANNED)
    m.notes = {"priority": "priorities are per project"}
    assert m.plan({"priority": "high"}).warnings == [{"field": "priority", "message": "not stored: priorities are per project"}]


def test_fields_outside_the_operations_writes_are_warned_about_on_create_and_on_update() -> None:
    m = mapping(PLANNED)
    assert m.plan({"subject": "s", "description": "d"}, creating=True, only=["subject"]).warnings == \
        [{"field": "description", "message": "not stored: The tracker cannot set description on create"}]
    assert m.plan({"subject": "s", "description": "d"}, only=frozenset({"subject"})).warnings == \
        [{"field": "description", "message": "not stored: The tracker cannot change description after creation"}]


def test_custom_mappings_are_not_a_field_and_do_not_stop_the_plan() -> None:
    plan = mapping(PLANNED).plan({"custom_mappings": {}, "zzz": 1, "subject": "s"})
    assert plan.body == {"title": "s"}
    assert plan.warned_fields == ["zzz"]


def test_a_value_outside_a_dropping_write_map_is_not_sent_and_warned_about() -> None:
    plan = mapping(PLANNED).plan({"status": "blocked"})
    assert (plan.body, plan.warnings) == ({}, [{"field": "status",
                                                 "message": "not stored: The tracker cannot set status 'blocked' (only open, closed)"}])


def test_a_value_outside_a_passing_write_map_is_sent_as_given() -> None:
    assert mapping({"status": {"path": "$.s", "write_map": {"open": "new"}}}).plan({"status": "blocked"}).body == \
        {"s": "blocked"}


def test_a_null_on_update_is_sent_as_the_declared_clear_value_a_fresh_copy_each_time() -> None:
    m = mapping(PLANNED)
    first = m.write({"tags": []})
    assert first == {"labels": []}
    first["labels"].append("x")
    assert m.write({"tags": None}) == {"labels": []}


def test_a_null_the_tracker_cannot_clear_is_refused_on_update() -> None:
    with pytest.raises(FieldWriteError) as caught:
        mapping(PLANNED).plan({"due_date": None}, tracker="Redmine")
    assert (caught.value.field_name, caught.value.message) == ("due_date", "Redmine cannot clear due_date: send a value")


def test_a_null_on_create_is_left_out_and_warned_about_when_the_tracker_cannot_leave_it_empty() -> None:
    plan = mapping(PLANNED).write({"due_date": None, "tags": [], "subject": None}, creating=True)
    assert plan == {}
    warnings = mapping(PLANNED).plan({"due_date": None}, creating=True).warnings
    assert warnings == [{"field": "due_date", "message": "not stored: The tracker cannot leave due_date empty; "
                                                         "the tracker's default applies"}]


def test_an_empty_list_clears_only_list_fields() -> None:
    m = mapping({"tags": {"path": "$.labels", "clear": "none"}, "subject": {"path": "$.title", "clear": "-"}})
    assert m.write({"tags": [], "subject": []}) == {"labels": "none", "title": []}


SINGLE_AND_DATE = {"assignees": {"path": "$.owner", "transform": {"name": "assignees", "write": "single"}},
                   "due_date": {"path": "$.due", "transform": {"name": "datetime", "format": "date"}}}


def test_several_items_for_a_single_valued_field_send_the_first_and_say_so() -> None:
    plan = mapping(SINGLE_AND_DATE).plan({"assignees": [{"id": "a"}, {"id": "b"}]})
    assert (plan.body, plan.warnings) == ({"owner": "a"}, [
        {"field": "assignees", "message": "partly stored: The tracker takes one; only the first (a) was sent"}])


def test_one_item_for_a_single_valued_field_is_sent_without_a_warning() -> None:
    plan = mapping(SINGLE_AND_DATE).plan({"assignees": ["a"]})
    assert (plan.body, plan.warnings) == ({"owner": "a"}, [])


def test_a_value_the_transform_alters_is_sent_altered_and_said_so() -> None:
    plan = mapping(SINGLE_AND_DATE).plan({"due_date": "2025-02-01T10:30:00Z"})
    assert (plan.body, plan.warnings) == ({"due": "2025-02-01"}, [
        {"field": "due_date", "message": "altered: The tracker stores it as 2025-02-01T00:00:00.000Z"}])


def test_a_value_the_transform_keeps_has_no_warning() -> None:
    assert mapping(SINGLE_AND_DATE).plan({"due_date": "2025-02-01T00:00:00.000Z"}).warnings == []


def test_fields_after_a_dropped_value_are_still_sent() -> None:
    assert mapping(PLANNED).plan({"status": "blocked", "description": "d"}).body == {"text": "d"}


def test_mapping_notes_explain_nulls_the_tracker_cannot_clear_or_leave_empty() -> None:
    m = mapping(PLANNED)
    m.notes = {"due_date": "Redmine keeps a due date once set"}
    with pytest.raises(FieldWriteError) as caught:
        m.plan({"due_date": None})
    assert caught.value.message == "Redmine keeps a due date once set"
    assert m.plan({"due_date": None}, creating=True).warnings == [
        {"field": "due_date", "message": "not stored: Redmine keeps a due date once set; the tracker's default applies"}]


def test_notes_come_from_the_spec_and_stay_with_the_custom_variant() -> None:
    from unigate.mapping.spec import ResourceSpec

    spec = ResourceSpec.model_validate({"fields": {"subject": "$.title"}, "notes": {"priority": "no priorities"}})
    m = RecordMapping.from_spec("tickets", spec)
    assert m.notes == m.with_custom_mappings({"x": "$.x"}).notes == {"priority": "no priorities"}


def test_an_object_clear_value_is_a_fresh_copy_each_time() -> None:
    m = mapping({"subject": {"path": "$.title", "clear": {"text": ""}}})
    first = m.write({"subject": None})
    first["title"]["text"] = "changed"
    assert m.write({"subject": None}) == {"title": {"text": ""}}


def test_fields_after_a_null_left_out_on_create_are_still_sent() -> None:
    assert mapping(PLANNED).write({"subject": None, "description": "d"}, creating=True) == {"text": "d"}


def test_several_plain_ids_for_a_single_valued_field_send_and_name_the_first() -> None:
    plan = mapping(SINGLE_AND_DATE).plan({"assignees": ["a", "b"]})
    assert (plan.body, plan.warnings) == ({"owner": "a"}, [
        {"field": "assignees", "message": "partly stored: The tracker takes one; only the first (a) was sent"}])
