"""Every transform, both directions, and its errors."""

from __future__ import annotations

import pytest

from unigate.mapping.transforms import TransformError, build_transform, parse_timestamp, read_datetime

CANONICAL = "2025-01-10T08:00:00.000Z"


@pytest.mark.parametrize("value", [
    "2025-01-10T08:00:00Z", "2025-01-10T08:00:00.000Z", "2025-01-10T08:00:00", "2025-01-10 08:00:00",
    "2025-01-10T10:00:00+02:00", "2025-01-10T03:00:00-05:00", "2025-01-10T08:00:00.000000+00:00",
    1736496000, 1736496000.0, "1736496000", 1736496000000, "Fri, 10 Jan 2025 08:00:00 GMT",
])
def test_timestamps_in_common_forms_read_as_iso_utc_with_z(value: object) -> None:
    assert read_datetime(value) == CANONICAL


def test_date_only_reads_as_midnight_utc() -> None:
    assert read_datetime("2025-01-10") == "2025-01-10T00:00:00.000Z"


def test_milliseconds_are_kept() -> None:
    assert read_datetime("2025-01-10T08:00:00.123456Z") == "2025-01-10T08:00:00.123Z"


@pytest.mark.parametrize("value", [None, ""])
def test_empty_timestamps_read_as_null(value: object) -> None:
    assert read_datetime(value) is None


def test_unparseable_timestamp_passes_through_rather_than_being_lost() -> None:
    assert read_datetime("next sprint") == "next sprint"


@pytest.mark.parametrize(("fmt", "expected"), [
    ("iso", "2025-01-10T08:00:00Z"), ("iso_ms", CANONICAL), ("date", "2025-01-10"),
    ("epoch", 1736496000), ("epoch_ms", 1736496000000),
])
def test_timestamps_write_in_the_downstream_format(fmt: str, expected: object) -> None:
    assert build_transform("datetime", {"format": fmt}).write("2025-01-10T10:00:00+02:00") == expected


def test_writing_a_non_timestamp_is_an_error() -> None:
    with pytest.raises(TransformError, match="timestamp"):
        build_transform("datetime", {}).write("tomorrow")


def test_boolean_is_not_a_timestamp() -> None:
    with pytest.raises(TransformError):
        parse_timestamp(True)


@pytest.mark.parametrize(("value", "expected"), [(42, "42"), (4.0, "4"), ("AM-1", "AM-1"), (None, None)])
def test_ids_read_as_strings(value: object, expected: object) -> None:
    assert build_transform("string", {}).read(value) == expected


@pytest.mark.parametrize(("value", "expected"), [("42", 42), ("AM-1", "AM-1"), (7, 7)])
def test_id_writes_digit_strings_as_integers(value: object, expected: object) -> None:
    assert build_transform("id", {}).write(value) == expected


def test_integer_write_rejects_non_numbers() -> None:
    with pytest.raises(TransformError, match="integer"):
        build_transform("integer", {}).write("abc")


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("0", False), (1, True), (None, None)])
def test_boolean_reads(value: object, expected: object) -> None:
    assert build_transform("boolean", {}).read(value) is expected


def test_scalar_assignee_reads_as_a_list_of_objects() -> None:
    assert build_transform("assignees", {}).read(10) == [{"id": "10", "username": None}]


def test_assignee_objects_read_with_sub_paths() -> None:
    transform = build_transform("assignees", {"id": "$.id", "username": "$.login"})
    assert transform.read([{"id": 1, "login": "ann"}, {"id": 2, "login": "bo"}]) == [
        {"id": "1", "username": "ann"}, {"id": "2", "username": "bo"}]


def test_null_assignee_reads_as_empty_list() -> None:
    assert build_transform("assignees", {}).read(None) == []


def test_single_assignee_writes_a_scalar_and_refuses_two() -> None:
    transform = build_transform("assignees", {"id_type": "integer"})
    assert transform.write([{"id": "10"}]) == 10
    assert transform.write([]) is None
    with pytest.raises(TransformError, match="single"):
        transform.write([{"id": "1"}, {"id": "2"}])


def test_assignees_write_as_objects_when_asked() -> None:
    transform = build_transform("assignees", {"write": "objects", "id": "$.user.id"})
    assert transform.write([{"id": "u1"}, {"id": "u2"}]) == [{"user": {"id": "u1"}}, {"user": {"id": "u2"}}]


def test_label_strings_read_as_tags() -> None:
    assert build_transform("tags", {}).read(["a", "b"]) == [{"id": "a", "name": "a"}, {"id": "b", "name": "b"}]


def test_tag_objects_read_with_sub_paths() -> None:
    transform = build_transform("tags", {"id": "$.id", "label": "$.title"})
    assert transform.read([{"id": 3, "title": "bug"}]) == [{"id": "3", "name": "bug"}]


def test_tags_write_their_ids() -> None:
    assert build_transform("tags", {}).write([{"id": "bug"}, {"id": "ui"}]) == ["bug", "ui"]


def test_tags_write_refuses_a_non_list() -> None:
    with pytest.raises(TransformError):
        build_transform("tags", {}).write("bug")
