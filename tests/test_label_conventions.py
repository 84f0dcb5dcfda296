"""The built-in label-convention transforms (``label_status``, ``label_priority``, ``label_tags``):
for trackers with only open/closed issues and labels, in-progress and priority are labels and tags
the other labels. Resolved by name, as a manifest names them (GitHub's and GitLab's manifests use
them end to end, against their simulators and cassettes)."""

from __future__ import annotations

import pytest

from unigate.kit import COMPONENTS, LabelConventions, TransformError, label_names
from unigate.mapping.transforms import build_transform

GITLAB = {"in_progress": "workflow::in progress", "priorities": {"high": "priority::high", "low": "priority::low"}}


def test_they_are_registered_components_every_manifest_may_name() -> None:
    assert all(COMPONENTS.has("transform", name) for name in ("label_status", "label_priority", "label_tags"))


def test_status_is_closed_when_the_issue_is_closed_whatever_its_labels() -> None:
    status = build_transform("label_status", GITLAB)
    assert status.read({"state": "closed", "labels": ["workflow::in progress"]}) == "closed"


def test_status_is_in_progress_when_open_with_the_in_progress_label_in_any_case() -> None:
    status = build_transform("label_status", GITLAB)
    assert status.read({"state": "opened", "labels": [{"name": "Workflow::In Progress"}]}) == "in_progress"
    assert status.read({"state": "opened", "labels": ["bug"]}) == "open"


def test_priority_is_the_level_whose_label_the_issue_has() -> None:
    priority = build_transform("label_priority", GITLAB)
    assert priority.read(["bug", "priority::low"]) == "low"
    assert priority.read(["bug"]) is None


def test_priority_defaults_to_priority_colon_level_labels() -> None:
    assert build_transform("label_priority", {}).read([{"name": "priority: urgent"}]) == "urgent"


def test_tags_are_the_labels_that_are_no_convention_named_by_name() -> None:
    tags = build_transform("label_tags", GITLAB)
    assert tags.read(["bug", "priority::high", "workflow::in progress"]) == [{"id": "bug", "name": "bug"}]
    assert tags.write([{"id": "bug"}, {"name": "ui"}]) == ["bug", "ui"]


def test_tags_by_label_id_read_label_objects_and_write_ids_and_names() -> None:
    tags = build_transform("label_tags", {"tag_id": "label"})
    labels = [{"id": 7, "name": "bug"}, {"id": 8, "name": "priority: high"}, {"id": 9, "name": "in progress"}]
    assert tags.read(labels) == [{"id": "7", "name": "bug"}]
    assert tags.write([{"id": "7"}]) == [{"id": "7", "name": None}]


def test_tags_refuse_anything_but_a_list_of_ids_or_names() -> None:
    with pytest.raises(TransformError):
        build_transform("label_tags", {}).write(["bug"])


def test_a_preparer_uses_the_same_conventions() -> None:
    conventions = LabelConventions(GITLAB)
    assert conventions.is_convention("Priority::High") and not conventions.is_convention("bug")
    assert conventions.priority(label_names([{"name": "priority::high"}])) == "high"
