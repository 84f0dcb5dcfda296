"""Request-level ``pass_through`` (``unigate.mapping.passthrough``) on its own: pure functions.

Which entries apply to a downstream call, how ``extend_object`` merges and ``extend_paths`` set,
what an invalid entry says, and how query pass-through is flattened. Through the gateway:
tests/test_request_bodies.py and tests/test_query_params.py.
"""

from __future__ import annotations

import pytest

from unigate.mapping.passthrough import (
    BodyExtension,
    PassThroughError,
    apply_body_pass_through,
    compile_body_pass_through,
    deep_merge,
    flatten_query,
)


def apply(body: dict, entries: list[dict], service: str = "redmine", call: str = "tickets_add") -> dict:
    return apply_body_pass_through(body, compile_body_pass_through(entries), service, call)


# -- which entries apply --------------------------------------------------------------------

def test_an_entry_without_operation_id_applies_to_every_call_of_its_service() -> None:
    ext = BodyExtension("redmine", None, None, ())
    assert ext.applies_to("redmine", "tickets_add") and ext.applies_to("redmine", "comments_update")


def test_an_entry_with_operation_id_applies_to_that_call_only() -> None:
    ext = BodyExtension("redmine", "tickets_add", None, ())
    assert ext.applies_to("redmine", "tickets_add")
    assert not ext.applies_to("redmine", "tickets_update")


def test_an_entry_never_applies_to_another_service() -> None:
    assert not BodyExtension("redmine", None, None, ()).applies_to("roundup", "tickets_add")
    assert not BodyExtension("redmine", "tickets_add", None, ()).applies_to("roundup", "tickets_add")


def test_entries_for_other_services_or_calls_leave_the_body_alone() -> None:
    entries = [{"service_id": "roundup", "extend_object": {"x": 1}},
               {"service_id": "redmine", "operation_id": "tickets_update", "extend_paths": [{"path": "$.y", "value": 2}]}]
    assert apply({"subject": "s"}, entries) == {"subject": "s"}


def test_an_entry_naming_this_call_applies_to_it() -> None:
    assert apply({}, [{"service_id": "redmine", "operation_id": "tickets_add", "extend_object": {"a": 1}}]) == {"a": 1}


def test_entries_after_one_that_does_not_apply_still_apply() -> None:
    entries = [{"service_id": "roundup", "extend_object": {"x": 1}}, {"service_id": "redmine", "extend_object": {"y": 2}}]
    assert apply({}, entries) == {"y": 2}


# -- extend_object and extend_paths ---------------------------------------------------------

def test_extend_object_is_merged_into_nested_objects_keeping_their_other_keys() -> None:
    body = {"issue": {"subject": "s", "custom": {"a": 1}}}
    assert apply(body, [{"service_id": "redmine", "extend_object": {"issue": {"custom": {"b": 2}, "x": [1]}}}]) == \
        {"issue": {"subject": "s", "custom": {"a": 1, "b": 2}, "x": [1]}}


def test_extend_object_replaces_a_non_object_value() -> None:
    assert deep_merge({"a": 1, "b": {"c": 1}}, {"a": {"x": 1}, "b": 2}) == {"a": {"x": 1}, "b": 2}


def test_merged_values_are_copies_of_the_entry() -> None:
    extra = {"a": {"list": [1]}}
    merged = deep_merge({}, extra)
    merged["a"]["list"].append(2)
    assert extra == {"a": {"list": [1]}}


def test_extend_paths_set_values_creating_parents() -> None:
    entries = [{"service_id": "redmine", "extend_paths": [{"path": "$.issue.custom_fields[1].value", "value": "v"},
                                                          {"path": "$.flag", "value": True}]}]
    assert apply({"issue": {"subject": "s"}}, entries) == \
        {"issue": {"subject": "s", "custom_fields": [{}, {"value": "v"}]}, "flag": True}


def test_extend_paths_apply_after_extend_object() -> None:
    entries = [{"service_id": "redmine", "extend_object": {"a": 1}, "extend_paths": [{"path": "$.a", "value": 2}]}]
    assert apply({}, entries) == {"a": 2}


def test_later_entries_win_over_earlier_ones() -> None:
    entries = [{"service_id": "redmine", "extend_object": {"a": 1}}, {"service_id": "redmine", "extend_object": {"a": 2}}]
    assert apply({}, entries) == {"a": 2}


def test_a_set_value_is_a_copy_so_one_compiled_entry_serves_many_calls() -> None:
    compiled = compile_body_pass_through([{"service_id": "redmine",
                                           "extend_paths": [{"path": "$.meta", "value": {"tags": ["a"]}}]}])
    first = apply_body_pass_through({}, compiled, "redmine", "tickets_add")
    first["meta"]["tags"].append("b")
    assert apply_body_pass_through({}, compiled, "redmine", "tickets_add") == {"meta": {"tags": ["a"]}}


def test_a_compiled_entry_keeps_its_fields() -> None:
    [ext] = compile_body_pass_through([{"service_id": "redmine", "operation_id": "tickets_add",
                                        "extend_object": {"a": 1}, "extend_paths": [{"path": "$.b", "value": 2}]}])
    assert (ext.service_id, ext.operation_id, ext.extend_object) == ("redmine", "tickets_add", {"a": 1})
    assert [(p.path, v) for p, v in ext.extend_paths] == [("$.b", 2)]


# -- invalid entries ------------------------------------------------------------------------

def refusal(entries: list[dict], body: dict | None = None) -> PassThroughError:
    with pytest.raises(PassThroughError) as caught:
        apply({} if body is None else body, entries)
    return caught.value


def test_a_scalar_in_the_body_is_not_replaced_by_a_parent_the_path_needs() -> None:
    error = refusal([{"service_id": "redmine", "extend_paths": [{"path": "$.subject.x", "value": 1}]}], {"subject": "s"})
    assert error.detail == {"pass_through[0]": "extend_paths[0]: cannot create a parent at 'subject': it holds a str"}


def test_the_whole_body_may_be_replaced_by_an_object_only() -> None:
    assert apply({"a": 1}, [{"service_id": "redmine", "extend_paths": [{"path": "$", "value": {"b": 2}}]}]) == {"b": 2}
    error = refusal([{"service_id": "redmine", "extend_paths": [{"path": "$.a", "value": 1}, {"path": "$", "value": 1}]}])
    assert error.detail == {"pass_through[0]": "extend_paths[1]: '$' replaces the whole body: its value must be an object"}


def test_32_entries_are_accepted_and_a_33rd_refused() -> None:
    assert len(compile_body_pass_through([{"service_id": "redmine"}] * 32)) == 32
    error = refusal([{"service_id": "redmine"}] * 33)
    assert error.detail == {"pass_through[32]": "33 entries; at most 32"}


def test_64_extend_paths_over_all_entries_are_accepted_and_a_65th_refused() -> None:
    forty = {"service_id": "redmine", "extend_paths": [{"path": f"$.f{i}", "value": i} for i in range(40)]}
    twenty_four = {"service_id": "redmine", "extend_paths": [{"path": f"$.g{i}", "value": i} for i in range(24)]}
    assert len(apply({}, [forty, twenty_four])) == 64
    error = refusal([forty, {**twenty_four, "extend_paths": [*twenty_four["extend_paths"], {"path": "$.h", "value": 0}]}])
    assert error.detail == {"pass_through[1]": "extend_paths[24]: more than 64 extend_paths in all entries"}

def test_an_invalid_path_names_its_entry_when_compiled() -> None:
    with pytest.raises(PassThroughError) as caught:
        compile_body_pass_through([{"service_id": "redmine"}, {"service_id": "redmine",
                                                               "extend_paths": [{"path": "issue.x", "value": 1}]}])
    assert caught.value.index == 1
    assert str(caught.value) == f"pass_through[1]: {caught.value.message}"
    assert caught.value.detail == {"pass_through[1]": f"extend_paths[0]: {caught.value.message}"}
    assert "must start with '$'" in caught.value.message


def test_a_path_that_cannot_be_set_in_this_body_names_its_entry_when_applied() -> None:
    entries = [{"service_id": "redmine", "extend_object": {"a": 1}},
               {"service_id": "redmine", "extend_paths": [{"path": "$.items[-2]", "value": 1}]}]
    with pytest.raises(PassThroughError) as caught:
        apply({"items": ["only"]}, entries)
    assert caught.value.detail == {"pass_through[1]": "extend_paths[0]: index [-2] is out of range"}


# -- query pass-through ---------------------------------------------------------------------

def test_flat_query_values_keep_their_names() -> None:
    assert flatten_query({"search": "x", "page": 2}) == [("search", "x"), ("page", "2")]


def test_nested_query_keys_keep_bracket_form() -> None:
    assert flatten_query({"a": {"b": {"c": "1"}, "d": "2"}}) == [("a[b][c]", "1"), ("a[d]", "2")]


def test_a_list_is_repeated_keys() -> None:
    assert flatten_query({"c": ["x", 1], "a": {"b": ["y"]}}) == [("c", "x"), ("c", "1"), ("a[b]", "y")]


def test_a_null_query_value_is_sent_empty() -> None:
    assert flatten_query({"q": None}) == [("q", "")]
