"""Bounds of compiled JSONPaths and of strict (client-supplied, pass_through) writes, on their own.
Through the gateway: tests/test_bad_input.py."""

from __future__ import annotations

import pytest

from unigate.mapping.paths import (
    MAX_INDEX,
    MAX_LIST_GROWTH,
    MAX_PATH_LENGTH,
    MAX_PATH_STEPS,
    InvalidPathError,
    compile_path,
)


def refused_path(path: str) -> str:
    with pytest.raises(InvalidPathError) as caught:
        compile_path(path)
    return str(caught.value)


def test_a_path_of_the_maximum_steps_compiles() -> None:
    assert len(compile_path("$" + ".a" * MAX_PATH_STEPS).steps) == MAX_PATH_STEPS


def test_a_path_of_one_step_more_is_refused() -> None:
    assert refused_path("$" + "[0]" * (MAX_PATH_STEPS + 1)) == f"JSONPath of {MAX_PATH_STEPS + 1} steps; at most {MAX_PATH_STEPS}"


def test_steps_inside_filters_count() -> None:
    assert "steps" in refused_path("$.a[?(@" + ".b" * MAX_PATH_STEPS + " == 1)]")


def test_dots_and_brackets_inside_quoted_names_are_not_steps() -> None:
    name = "a.b[1]" * 20
    assert compile_path(f"$['{name}']").steps == (name,)


def test_an_index_beyond_the_maximum_is_refused() -> None:
    assert refused_path(f"$.a[{MAX_INDEX + 1}]") == f"index {MAX_INDEX + 1} in JSONPath; at most {MAX_INDEX}"


def test_a_union_index_beyond_the_maximum_is_refused() -> None:
    assert "index" in refused_path(f"$.a[*].b[0,{MAX_INDEX + 1}]")


def test_a_path_longer_than_the_maximum_is_refused_and_not_echoed_whole() -> None:
    message = refused_path("$." + "a" * MAX_PATH_LENGTH)
    assert message == f"JSONPath longer than {MAX_PATH_LENGTH} characters ({MAX_PATH_LENGTH + 2})"


def test_a_path_not_starting_with_dollar_is_echoed_cut_short() -> None:
    assert len(refused_path("x" * 5000)) < 200


# -- strict set ---------------------------------------------------------------------------------

def test_strict_set_refuses_to_replace_a_string_parent() -> None:
    doc = {"title": "kept"}
    with pytest.raises(InvalidPathError, match="it holds a str"):
        compile_path("$.title.x").set(doc, 1, strict=True)
    assert doc == {"title": "kept"}


def test_lenient_set_still_replaces_a_scalar_parent_for_mapping_paths() -> None:
    assert compile_path("$.title.x").set({"title": "old"}, 1) == {"title": {"x": 1}}


def test_strict_set_creates_a_parent_where_null_stands() -> None:
    assert compile_path("$.a.b").set({"a": None}, 1, strict=True) == {"a": {"b": 1}}


def test_strict_set_refuses_to_replace_a_number_in_a_list() -> None:
    with pytest.raises(InvalidPathError, match=r"at \[0\]: it holds a int"):
        compile_path("$.a[0].b").set({"a": [5]}, 1, strict=True)


def test_strict_set_grows_a_list_up_to_the_bound() -> None:
    doc = compile_path(f"$.a[{MAX_LIST_GROWTH + 1}]").set({"a": [0]}, "v", strict=True)
    assert len(doc["a"]) == MAX_LIST_GROWTH + 2 and doc["a"][-1] == "v"


def test_strict_set_refuses_to_grow_a_list_beyond_the_bound() -> None:
    with pytest.raises(InvalidPathError, match=f"more than {MAX_LIST_GROWTH} past the end of a list of 1"):
        compile_path(f"$.a[{MAX_LIST_GROWTH + 2}]").set({"a": [0]}, "v", strict=True)


def test_strict_keyed_set_refuses_a_string_where_the_list_must_be() -> None:
    with pytest.raises(InvalidPathError, match="inside a str"):
        compile_path("$.fields[?(@.id == 7)].value").set({"fields": "x"}, 1, strict=True)


def test_a_jsonpath_ng_failure_on_a_scalar_is_an_invalid_path() -> None:
    with pytest.raises(InvalidPathError, match="cannot set"):
        compile_path("$.a[*].b").set({"a": [1]}, 1)
