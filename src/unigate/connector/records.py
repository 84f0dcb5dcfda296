"""Record conditions (``keep``): which downstream records are part of an answer.

A list whose downstream holds records that are not the unified resource (Redmine's journals
without notes are field changes, not comments) keeps those meeting every condition before it is
paged, so cursor offsets count kept records and a page is exact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from unigate.mapping.paths import MISSING, compile_path
from unigate.mapping.spec_lookups import ConditionSpec
from unigate.mapping.transforms import TransformError, parse_timestamp


def meets(record: Any, condition: ConditionSpec) -> bool:
    value = compile_path(condition.path).get(record) if isinstance(record, dict) else MISSING
    if condition.not_blank or condition.blank:
        filled = value is not MISSING and value is not None and not (isinstance(value, str) and not value.strip())
        return filled if condition.not_blank else not filled
    return value is not MISSING and str(value) == str(condition.equals)


def kept(records: list[Any], conditions: list[ConditionSpec]) -> list[Any]:
    """The records meeting every condition, in order (all of them when there is none)."""
    if not conditions:
        return records
    return [r for r in records if all(meets(r, c) for c in conditions)]


def updated_since(records: list[dict[str, Any]], since: Any) -> list[dict[str, Any]]:
    """The unified records whose ``updated_at`` is at or after ``since`` (filter ``recheck``): a record
    without a readable ``updated_at`` is kept, as the tracker chose it."""
    floor = parse_timestamp(since)
    return [r for r in records if updated_at_or_after(r, floor)]


def updated_at_or_after(record: dict[str, Any], floor: datetime) -> bool:
    """Whether a unified record was updated at or after ``floor`` (one without a readable
    ``updated_at`` is, as the tracker chose it)."""
    return not _before(record.get("updated_at"), floor)


def _before(value: Any, floor: datetime) -> bool:
    try:
        return value is not None and parse_timestamp(value) < floor
    except TransformError:
        return False
