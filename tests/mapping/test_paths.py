"""Compiled JSONPath: fast path for simple paths, jsonpath-ng for the rest, agreeing."""

from __future__ import annotations

import copy
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonpath_ng.ext import parse

from unigate.mapping.paths import MISSING, InvalidPathError, compile_path

KEYS = st.sampled_from(["a", "b", "c_1", "id", "x y"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=3))
DOCS = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
                    max_leaves=12)
STEPS = st.lists(st.one_of(KEYS, st.integers(min_value=-2, max_value=3)), max_size=4)


def render(steps: list[Any]) -> str:
    out = "$"
    for step in steps:
        if isinstance(step, int):
            out += f"[{step}]"
        elif step.isidentifier():
            out += f".{step}"
        else:
            out += f"['{step}']"
    return out


def reference_get(path: str, doc: Any) -> Any:
    matches = parse(path).find(doc)
    if not matches:
        return MISSING
    return matches[0].value if len(matches) == 1 else [m.value for m in matches]


@settings(max_examples=400, deadline=None)
@given(doc=DOCS, steps=STEPS)
def test_fast_get_agrees_with_jsonpath_ng(doc: Any, steps: list[Any]) -> None:
    path = render(steps)
    compiled = compile_path(path)
    assert compiled.is_simple
    assert compiled.get(doc) == reference_get(path, doc)


SET_STEPS = st.lists(st.one_of(KEYS, st.integers(min_value=0, max_value=3)), min_size=1, max_size=4)


def creates_a_list_inside_a_list(steps: list[Any]) -> bool:
    return any(isinstance(a, int) and isinstance(b, int) for a, b in pairwise(steps))


def empty_document_for(steps: list[Any]) -> Any:
    return [] if isinstance(steps[0], int) else {}


@settings(max_examples=300, deadline=None)
@given(steps=SET_STEPS.filter(lambda steps: not creates_a_list_inside_a_list(steps)), value=SCALARS)
def test_fast_set_agrees_with_jsonpath_ng_on_empty_documents(steps: list[Any], value: Any) -> None:
    # Paths like $[0][0].a are left out: there jsonpath-ng creates [{}] and drops the value.
    path = render(steps)
    ours = compile_path(path).set(empty_document_for(steps), value)
    assert ours == parse(path).update_or_create(empty_document_for(steps), value)


@settings(max_examples=300, deadline=None)
@given(steps=SET_STEPS, value=SCALARS)
def test_fast_set_on_an_empty_document_creates_every_parent(steps: list[Any], value: Any) -> None:
    path = compile_path(render(steps))
    assert path.get(path.set(empty_document_for(steps), value)) == value


# Documents of objects and scalars only: nothing on a path of keys can stop a write.
OBJECT_DOCS = st.dictionaries(KEYS, st.recursive(SCALARS, lambda inner: st.dictionaries(KEYS, inner, max_size=3),
                                                 max_leaves=12), max_size=4)


@settings(max_examples=200, deadline=None)
@given(doc=OBJECT_DOCS, steps=st.lists(KEYS, min_size=1, max_size=3), value=SCALARS)
def test_set_then_get_returns_the_value(doc: Any, steps: list[Any], value: Any) -> None:
    path = compile_path(render(steps))
    assert path.get(path.set(doc, value)) == value


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(KEYS, min_size=2, max_size=4), data=st.data())
def test_set_is_refused_where_a_list_stands_in_place_of_an_object(steps: list[Any], data: st.DataObject) -> None:
    depth = data.draw(st.integers(min_value=1, max_value=len(steps) - 1))
    doc: Any = data.draw(st.lists(DOCS, max_size=3))  # the list stands where steps[depth] needs an object
    for step in reversed(steps[:depth]):
        doc = {step: doc}
    before = copy.deepcopy(doc)
    with pytest.raises(InvalidPathError):
        compile_path(render(steps)).set(doc, "value")
    assert doc == before  # refused, not half-written


def test_filter_paths_use_jsonpath_ng() -> None:
    path = compile_path("$.custom_fields[?(@.id == 2)].value")
    assert not path.is_simple
    assert path.get({"custom_fields": [{"id": 1, "value": "a"}, {"id": 2, "value": "b"}]}) == "b"


def test_wildcard_returns_every_match() -> None:
    assert compile_path("$.tags[*].name").get({"tags": [{"name": "a"}, {"name": "b"}]}) == ["a", "b"]


def test_keyed_element_path_sets_the_matching_element() -> None:
    doc = {"custom_fields": [{"id": 1, "value": "a"}, {"id": 2, "value": "b"}]}
    compile_path("$.custom_fields[?(@.id == 2)].value").set(doc, "z")
    assert doc["custom_fields"] == [{"id": 1, "value": "a"}, {"id": 2, "value": "z"}]


def test_keyed_element_path_creates_the_element_in_an_empty_body() -> None:
    body = compile_path("$.issue.custom_fields[?(@.id == 7)].value").set({}, "ACME")
    assert body == {"issue": {"custom_fields": [{"id": 7, "value": "ACME"}]}}


def test_keyed_element_path_appends_beside_other_elements() -> None:
    body = {"custom_fields": [{"id": 1, "value": "a"}]}
    compile_path("$.custom_fields[?(@.name == 'Customer')].value").set(body, "ACME")
    assert body["custom_fields"] == [{"id": 1, "value": "a"}, {"name": "Customer", "value": "ACME"}]


def test_keyed_element_path_without_rest_replaces_the_element() -> None:
    body = compile_path('$.tags[?(@.name == "x")]').set({"tags": [{"name": "x"}]}, {"name": "x", "color": 1})
    assert body == {"tags": [{"name": "x", "color": 1}]}


@pytest.mark.parametrize("path", ["a.b", "$.[x", "$..[", ""])
def test_invalid_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidPathError):
        compile_path(path)


def test_compiling_is_cached() -> None:
    assert compile_path("$.a.b") is compile_path("$.a.b")
