"""Mapping files are validated on load; `unigate mappings check` reports file, key path and problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from unigate.cli import main
from unigate.mapping.spec import MappingFileError, load_mapping_file

GOOD = """
service_id: tiny
name: Tiny
connection: {credentials: {token: {required: true}}}
http: {base_url: "https://tiny.example", headers: {Authorization: "Bearer {credentials.token}"}}
resources:
  tickets:
    fields: {id: {read: $.id, transform: string}, subject: $.title}
    operations: {all: {path: /tickets, records: $.items, pagination: {style: offset}}}
"""


def write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(MappingFileError) as info:
        load_mapping_file(write(tmp_path, text))
    return str(info.value)


def test_good_file_loads(tmp_path: Path) -> None:
    assert load_mapping_file(write(tmp_path, GOOD)).service_id == "tiny"


def test_unknown_key_is_named_with_its_path(tmp_path: Path) -> None:
    error = problems_of(tmp_path, GOOD.replace("records: $.items", "records: $.items, pagenation: {}"))
    assert "resources.tickets.operations.all.pagenation: Extra inputs are not permitted" in error
    assert "m.yaml" in error


def test_unknown_unified_field(tmp_path: Path) -> None:
    assert "'title' is not a field of unified tickets" in problems_of(tmp_path, GOOD.replace("subject: $.title", "title: $.title"))


def test_bad_jsonpath(tmp_path: Path) -> None:
    assert "resources.tickets.fields.subject.read: invalid JSONPath" in problems_of(tmp_path, GOOD.replace("$.title", "'$.[title'"))


def test_unknown_transform(tmp_path: Path) -> None:
    assert "unknown transform 'stringly'" in problems_of(tmp_path, GOOD.replace("transform: string", "transform: stringly"))


def test_unknown_template_variable(tmp_path: Path) -> None:
    broken = GOOD.replace("credentials.token}", "credentials.secret}")
    assert "unknown template variable {credentials.secret}" in problems_of(tmp_path, broken)


def test_ambiguous_value_map_needs_write_map(tmp_path: Path) -> None:
    text = GOOD.replace("subject: $.title", "subject: $.title, status: {path: $.s, map: {a: open, b: open}}")
    assert "add `write_map`" in problems_of(tmp_path, text)


def test_list_operation_needs_records(tmp_path: Path) -> None:
    assert "needs `records`" in problems_of(tmp_path, GOOD.replace("records: $.items, ", ""))


def test_not_yaml(tmp_path: Path) -> None:
    assert "not valid YAML" in problems_of(tmp_path, "service_id: [unclosed")


def test_check_command_passes_good_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["mappings", "check", str(write(tmp_path, GOOD))])
    assert result.exit_code == 0 and "ok" in result.output


def test_check_command_fails_on_a_broken_file(tmp_path: Path) -> None:
    good, bad = write(tmp_path, GOOD, "good.yaml"), write(tmp_path, GOOD.replace("$.title", "'$.[x'"), "bad.yaml")
    result = CliRunner().invoke(main, ["mappings", "check", str(good), str(bad)])
    assert result.exit_code == 1
    assert "bad.yaml: resources.tickets.fields.subject.read" in result.output


def test_check_command_defaults_to_the_built_in_files() -> None:
    result = CliRunner().invoke(main, ["mappings", "check"])
    assert result.exit_code == 0, result.output
    assert "agentsmesh/manifest.yaml" in result.output


def test_basic_auth_templates_are_checked(tmp_path: Path) -> None:
    text = GOOD.replace('headers: {Authorization: "Bearer {credentials.token}"}',
                        'basic_auth: {username: "{credentials.user}", password: "{credentials.token}"}')
    assert "http.basic_auth.username: unknown template variable {credentials.user}" in problems_of(tmp_path, text)


def test_wrap_cannot_be_combined_with_split(tmp_path: Path) -> None:
    text = GOOD.replace("operations: {", 'operations: {update: {method: PUT, path: "/t/{ticket_id}", wrap: $.issue, '
                        'split: [{call_id: s, fields: [state], path: "/t/{ticket_id}/state"}]}, ')
    assert "cannot be combined with `wrap`" in problems_of(tmp_path, text)
