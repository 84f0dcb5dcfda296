"""filter `recheck` (since): records the tracker returned but updated before the asked time are
dropped from the page (Redmine compares below the second it shows). End to end: Redmine's
acceptance suite, test_filter[since], against the real server and its cassettes."""

from __future__ import annotations

from unigate.connector.records import updated_since


def test_records_updated_before_since_are_dropped_and_those_at_it_kept() -> None:
    records = [{"id": "1", "updated_at": "2025-03-01T09:59:59Z"}, {"id": "2", "updated_at": "2025-03-01T10:00:00Z"},
               {"id": "3", "updated_at": "2025-03-01T10:00:00.500Z"}]
    assert [r["id"] for r in updated_since(records, "2025-03-01T10:00:00Z")] == ["2", "3"]


def test_a_record_without_a_readable_updated_at_is_kept_as_the_tracker_chose_it() -> None:
    records = [{"id": "1"}, {"id": "2", "updated_at": None}, {"id": "3", "updated_at": "yesterday"}]
    assert [r["id"] for r in updated_since(records, "2025-03-01T10:00:00+02:00")] == ["1", "2", "3"]
