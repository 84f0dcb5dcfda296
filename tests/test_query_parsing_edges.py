"""Query-string parsing (``unigate.api.params``) on its own: pure functions of the query string.

Each test states one rule of how the spec's query serialization is read, or what the 400 says when
it is broken. Through the gateway, the same parameters are covered by tests/test_query_params.py
and tests/test_limits.py.
"""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from unigate.api.params import (
    deep_objects,
    parse_bool,
    parse_fields_param,
    parse_filter,
    parse_limit,
    parse_sort,
    parse_strict,
)
from unigate.errors import RequestHeadersValidationError, RequestValidationError, UnsupportedFiltersError


def deep(query: str) -> dict:
    return deep_objects(QueryParams(query))


def refused(error: type[Exception], call, *args):  # noqa: ANN001, ANN002, ANN201
    with pytest.raises(error) as caught:
        call(*args)
    return caught.value


# -- deepObject parameters ------------------------------------------------------------------

def test_plain_and_malformed_keys_are_not_deep_objects() -> None:
    assert deep("limit=5&filter=open&9x[a]=1&a[b=1&a]b[=1") == {}


def test_plain_keys_between_deep_ones_are_skipped_not_the_end_of_parsing() -> None:
    assert deep("limit=5&filter[status]=open&raw=true&sort[by]=name") == \
        {"filter": {"status": "open"}, "sort": {"by": "name"}}


def test_one_bracketed_key_is_a_value_of_its_root() -> None:
    assert deep("filter[status]=open") == {"filter": {"status": "open"}}


def test_a_repeated_key_collects_every_value_in_order() -> None:
    assert deep("filter[status]=open&filter[status]=closed&filter[status]=done") == \
        {"filter": {"status": ["open", "closed", "done"]}}


@pytest.mark.parametrize("query", ["filter[status][]=open", "filter[status][0]=open"])
def test_an_array_suffix_makes_a_list_even_of_one_value(query: str) -> None:
    assert deep(query) == {"filter": {"status": ["open"]}}


def test_indexed_values_are_collected_at_their_parent_key() -> None:
    assert deep("filter[status][0]=open&filter[status][1]=closed") == {"filter": {"status": ["open", "closed"]}}


def test_nested_keys_build_nested_objects() -> None:
    assert deep("pass_through[a][b][c]=1&pass_through[a][d]=2") == \
        {"pass_through": {"a": {"b": {"c": "1"}, "d": "2"}}}


@pytest.mark.parametrize("suffix", ["[]", "[0]"])
def test_an_array_below_a_nested_key_is_a_list_there(suffix: str) -> None:
    assert deep(f"pass_through[a][b]{suffix}=1&pass_through[a][b]{suffix}=2") == \
        {"pass_through": {"a": {"b": ["1", "2"]}}}


@pytest.mark.parametrize("index", ["[]", "[0]"])
def test_an_index_inside_a_path_is_skipped(index: str) -> None:
    assert deep(f"pass_through[a]{index}[b]=1") == {"pass_through": {"a": {"b": "1"}}}


def test_a_key_may_nest_eight_levels() -> None:
    assert deep("pass_through" + "".join(f"[s{i}]" for i in range(8)) + "=1") == \
        {"pass_through": {"s0": {"s1": {"s2": {"s3": {"s4": {"s5": {"s6": {"s7": "1"}}}}}}}}}


def test_a_key_nested_deeper_is_refused_naming_its_first_level() -> None:
    error = refused(RequestValidationError, deep, "pass_through" + "".join(f"[s{i}]" for i in range(9)) + "=1")
    assert (error.message, error.detail) == ("Invalid query parameter",
                                             {"pass_through[s0]": "nested 9 levels deep; at most 8"})


def test_the_key_named_for_too_deep_a_key_is_cut_at_80_characters() -> None:
    error = refused(RequestValidationError, deep, "p" * 100 + "[a]" * 9 + "=1")
    assert error.detail == {"p" * 80: "nested 9 levels deep; at most 8"}


def test_each_root_is_its_own_object() -> None:
    assert deep("filter[status]=open&sort[by]=created_at") == \
        {"filter": {"status": "open"}, "sort": {"by": "created_at"}}


def test_a_value_where_an_object_already_is_conflicts() -> None:
    error = refused(RequestValidationError, deep, "pass_through[a][b]=1&pass_through[a]=2")
    assert error.message == "Invalid query parameter"
    assert error.detail == {"pass_through[a]": "conflicts with a nested key"}


# -- limit, booleans, fields ----------------------------------------------------------------

@pytest.mark.parametrize("query", ["", "limit="])
def test_no_limit_is_20(query: str) -> None:
    assert parse_limit(QueryParams(query)) == 20


@pytest.mark.parametrize("limit", [1, 200])
def test_the_limit_bounds_are_inclusive(limit: int) -> None:
    assert parse_limit(QueryParams(f"limit={limit}")) == limit


def test_a_limit_that_is_not_an_integer_says_what_it_got() -> None:
    error = refused(RequestValidationError, parse_limit, QueryParams("limit=ten"))
    assert (error.message, error.detail) == ("Invalid limit", {"limit": "must be an integer from 1 to 200, got 'ten'"})


@pytest.mark.parametrize("limit", [0, 201])
def test_a_limit_out_of_range_says_the_range(limit: int) -> None:
    error = refused(RequestValidationError, parse_limit, QueryParams(f"limit={limit}"))
    assert (error.message, error.detail) == ("Invalid limit", {"limit": f"must be from 1 to 200, got {limit}"})


@pytest.mark.parametrize("query", ["", "raw="])
def test_an_absent_boolean_is_false(query: str) -> None:
    assert parse_bool(QueryParams(query), "raw") is False


@pytest.mark.parametrize("value, expected", [("true", True), ("TRUE", True), ("1", True),
                                             ("false", False), ("False", False), ("0", False)])
def test_booleans_are_true_false_1_or_0_in_any_case(value: str, expected: bool) -> None:
    assert parse_bool(QueryParams(f"raw={value}"), "raw") is expected


def test_another_boolean_value_names_the_parameter_and_the_value() -> None:
    error = refused(RequestValidationError, parse_bool, QueryParams("raw=yes"), "raw")
    assert (error.message, error.detail) == ("Invalid raw", {"raw": "must be true or false, got 'yes'"})


@pytest.mark.parametrize("query", ["", "fields=", "fields=%20%20"])
def test_no_or_blank_fields_keeps_everything(query: str) -> None:
    assert parse_fields_param(QueryParams(query)) is None


def test_fields_are_parsed_into_a_tree() -> None:
    assert parse_fields_param(QueryParams("fields=id,tags.name")) == {"id": None, "tags": {"name": None}}


# -- filter ---------------------------------------------------------------------------------

def test_no_filter_is_an_empty_filter() -> None:
    assert parse_filter("tickets", {}) == {}
    assert parse_filter("tickets", {"filter": {}}) == {}


def test_an_unknown_filter_names_the_first_one_and_the_filters_there_are() -> None:
    error = refused(UnsupportedFiltersError, parse_filter, "tickets", deep("filter[zeta]=1&filter[priority]=high"))
    assert error.message == "Unsupported filter"
    assert error.detail == "filter[priority] is not a filter of tickets; filters: status, since, assignee_id"


def test_a_resource_without_filters_says_none() -> None:
    error = refused(UnsupportedFiltersError, parse_filter, "comments", deep("filter[status]=open"))
    assert error.detail == "filter[status] is not a filter of comments; filters: none"


def test_a_filter_given_as_an_object_is_refused() -> None:
    error = refused(RequestValidationError, parse_filter, "tickets", deep("filter[status][x]=open"))
    assert (error.message, error.detail) == ("Invalid filter", {"filter[status]": "must be a value, not an object"})


def test_status_values_are_split_on_commas_trimmed_and_blank_ones_dropped() -> None:
    assert parse_filter("tickets", deep("filter[status]=open,%20closed%20,,")) == {"status": ["open", "closed"]}


def test_repeated_status_values_are_each_split() -> None:
    assert parse_filter("tickets", deep("filter[status]=open,closed&filter[status]=done")) == \
        {"status": ["open", "closed", "done"]}


def test_other_filters_take_one_value() -> None:
    error = refused(RequestValidationError, parse_filter, "tickets", deep("filter[assignee_id]=1&filter[assignee_id]=2"))
    assert (error.message, error.detail) == ("Invalid filter", {"filter[assignee_id]": "takes one value"})


def test_since_and_assignee_are_kept_as_given() -> None:
    assert parse_filter("tickets", deep("filter[since]=2025-01-01T00:00:00Z&filter[assignee_id]=u-1")) == \
        {"since": "2025-01-01T00:00:00Z", "assignee_id": "u-1"}


def test_a_since_that_is_no_timestamp_says_why() -> None:
    error = refused(RequestValidationError, parse_filter, "tickets", deep("filter[since]=last%20tuesday"))
    assert error.message == "Invalid filter"
    assert list(error.detail) == ["filter[since]"] and "last tuesday" in error.detail["filter[since]"]


# -- sort -----------------------------------------------------------------------------------

def test_no_sort_is_none() -> None:
    assert parse_sort("tickets", {}) is None


def test_sort_direction_defaults_to_ascending() -> None:
    assert parse_sort("collections", deep("sort[by]=name")) == {"by": "name", "direction": "asc"}


def test_a_descending_sort_is_kept() -> None:
    assert parse_sort("tickets", deep("sort[by]=updated_at&sort[direction]=desc")) == \
        {"by": "updated_at", "direction": "desc"}


def test_unknown_sort_keys_are_each_named() -> None:
    error = refused(RequestValidationError, parse_sort, "tickets", deep("sort[by]=created_at&sort[order]=1&sort[x]=2"))
    assert error.message == "Invalid sort"
    assert error.detail == {"sort[order]": "unknown; use sort[by] and sort[direction]",
                            "sort[x]": "unknown; use sort[by] and sort[direction]"}


def test_a_resource_that_cannot_be_sorted_says_so() -> None:
    error = refused(RequestValidationError, parse_sort, "users", deep("sort[by]=name"))
    assert (error.message, error.detail) == ("Invalid sort", {"sort": "users cannot be sorted"})


def test_a_direction_alone_leaves_the_field_to_the_list_default() -> None:
    assert parse_sort("tickets", deep("sort[direction]=desc")) == {"by": None, "direction": "desc"}


@pytest.mark.parametrize("query, got", [("sort[by]=name", "'name'"),
                                        ("sort[by]=created_at&sort[by]=updated_at",
                                         "['created_at', 'updated_at']")])
def test_sort_by_must_be_one_sortable_field_of_the_resource(query: str, got: str) -> None:
    error = refused(RequestValidationError, parse_sort, "tickets", deep(query))
    assert (error.message, error.detail) == ("Invalid sort",
                                             {"sort[by]": f"must be one of created_at, updated_at, got {got}"})


def test_a_direction_other_than_asc_or_desc_is_refused() -> None:
    error = refused(RequestValidationError, parse_sort, "tickets", deep("sort[by]=created_at&sort[direction]=up"))
    assert (error.message, error.detail) == ("Invalid sort", {"sort[direction]": "must be asc or desc, got 'up'"})


# -- x-unigate-strict -----------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, {"x-unigate-strict": ""}, {"x-unigate-strict": "  "}])
@pytest.mark.parametrize("default", [True, False])
def test_no_strict_header_is_the_apps_setting(headers: dict, default: bool) -> None:
    assert parse_strict(headers, default) is default


@pytest.mark.parametrize("value, expected", [("true", True), (" TRUE ", True), ("1", True),
                                             ("false", False), ("False", False), ("0", False)])
def test_the_strict_header_is_true_false_1_or_0_in_any_case(value: str, expected: bool) -> None:
    assert parse_strict({"x-unigate-strict": value}, not expected) is expected


def test_another_strict_value_names_the_header_and_at_most_40_characters_of_the_value() -> None:
    error = refused(RequestHeadersValidationError, parse_strict, {"x-unigate-strict": "y" * 50}, False)
    assert (error.message, error.detail) == ("Invalid header: x-unigate-strict",
                                             {"x-unigate-strict": f"must be true or false, got {'y' * 40!r}"})


def test_a_value_then_a_nested_key_under_it_is_refused_not_dropped() -> None:
    from starlette.datastructures import QueryParams

    from unigate.api.params import deep_objects
    from unigate.errors import RequestValidationError

    refusals = {}
    for query in ("pass_through[a]=1&pass_through[a][b]=2", "pass_through[a][b]=2&pass_through[a]=1"):
        with pytest.raises(RequestValidationError) as raised:
            deep_objects(QueryParams(query))
        refusals[query] = (raised.value.message, raised.value.detail)
    assert refusals == {
        "pass_through[a]=1&pass_through[a][b]=2": (
            "Invalid query parameter", {"pass_through[a][b]": "conflicts with a value given for its parent key"}),
        "pass_through[a][b]=2&pass_through[a]=1": (
            "Invalid query parameter", {"pass_through[a]": "conflicts with a nested key"}),
    }
