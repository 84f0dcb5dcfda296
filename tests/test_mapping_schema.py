"""The manifest JSON Schema and the mapping key reference: generated from spec.py, shipped, never stale.

Manifests are validated against the schema with jsonschema-rs (a JSON Schema 2020-12 validator the
test extra already installs through schemathesis); python-jsonschema is not installed.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from click.testing import CliRunner
from pydantic import BaseModel, Field

from unigate.cli import main
from unigate.mapping import reference
from unigate.mapping.reference import manifest_schema, reference_markdown, schema_json, undocumented_keys

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = sorted((ROOT / "connectors").glob("*/manifest.yaml"))
REFERENCE = ROOT / "docs" / "mapping-reference.md"
REGENERATE = "regenerate with `python -m unigate.mapping.reference`"


def _validator() -> Any:
    return jsonschema_rs.Draft202012Validator(manifest_schema())


def _errors(instance: Any) -> list[str]:
    return [f"{'.'.join(map(str, e.instance_path))}: {e.message}" for e in _validator().iter_errors(instance)]


def test_the_schema_command_prints_the_shipped_schema_file() -> None:
    result = CliRunner().invoke(main, ["mappings", "schema"])
    assert result.exit_code == 0, result.output
    assert result.output == reference.SCHEMA_FILE.read_text(), f"manifest.schema.json is stale: {REGENERATE}"


def test_the_schema_file_ships_as_package_data() -> None:
    shipped = files("unigate.mapping").joinpath("manifest.schema.json").read_text()
    assert shipped == schema_json()


def test_the_schema_command_writes_to_output(tmp_path: Path) -> None:
    target = tmp_path / "manifest.schema.json"
    result = CliRunner().invoke(main, ["mappings", "schema", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert target.read_text() == schema_json()


def test_the_schema_is_a_valid_draft_2020_12_schema_with_id_and_title() -> None:
    schema = manifest_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == reference.SCHEMA_ID
    assert schema["title"] == "unigate connector manifest"
    jsonschema_rs.meta.validate(schema)


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.parent.name)
def test_every_builtin_manifest_validates_against_the_schema(manifest: Path) -> None:
    assert _errors(yaml.safe_load(manifest.read_text())) == []


def test_the_schema_flags_a_misspelt_key() -> None:
    manifest = yaml.safe_load(MANIFESTS[0].read_text())
    next(iter(manifest["resources"].values()))["operations"]["all"]["recrods"] = "$.data"
    errors = _errors(manifest)
    assert len(errors) == 1 and "recrods" in errors[0]


def test_the_schema_accepts_the_yaml_shorthands() -> None:
    manifest = {"service_id": "acme", "name": "Acme", "http": {"base_url": "x", "errors": {"message": "$.error"}},
                "resources": {"tags": {"fields": {"id": "$.id", "name": {"read": "$.label"}}}}}
    assert _errors(manifest) == []


def test_every_key_has_a_description_and_an_example() -> None:
    assert undocumented_keys() == [], ("give each key in src/unigate/mapping/spec.py "
                                       "Field(description=..., examples=[...]) and each model a docstring")


def test_an_undocumented_key_is_reported() -> None:
    class Probe(BaseModel):
        """A model with one documented and one undocumented key."""

        documented: str = Field("", description="Documented.", examples=["x"])
        bare: str = Field("", description="No example.")

    assert undocumented_keys([Probe]) == ["Probe.bare (no examples)"]


def test_every_example_is_valid_for_its_key() -> None:
    schema = manifest_schema()
    invalid = []
    for model, node in {"MappingFile": schema, **schema["$defs"]}.items():
        for key, prop in node["properties"].items():
            validator = jsonschema_rs.Draft202012Validator({"$defs": schema["$defs"], **prop})
            invalid += [f"{model}.{key}: {example!r}" for example in prop["examples"]
                        if not validator.is_valid(example)]
    assert invalid == []


def test_the_committed_reference_is_current() -> None:
    assert REFERENCE.read_text() == reference_markdown(), f"docs/mapping-reference.md is stale: {REGENERATE}"


def test_the_docs_command_prints_the_reference() -> None:
    result = CliRunner().invoke(main, ["mappings", "docs"])
    assert result.exit_code == 0, result.output
    assert result.output == reference_markdown()


def test_the_reference_has_a_row_for_every_key_of_every_model() -> None:
    text = reference_markdown()
    sections = {part.split("\n", 1)[0]: part for part in text.split("\n## ")[1:]}
    missing = [f"{model.__name__}.{key}" for model in reference.models() for key in model.model_fields
               if f"| `{key}` |" not in sections.get(model.__name__, "")]
    assert missing == []
