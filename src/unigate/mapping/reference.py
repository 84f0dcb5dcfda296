"""The manifest JSON Schema and the mapping key reference, both generated from :mod:`unigate.mapping.spec`.

Every field of every model in ``spec.py`` carries a description and examples; from them come

- :func:`manifest_schema`: the JSON Schema (draft 2020-12) of a manifest, printed by
  ``unigate mappings schema`` and shipped as ``unigate/mapping/manifest.schema.json`` for editors;
- :func:`reference_markdown`: ``docs/mapping-reference.md``, one table per model, printed by
  ``unigate mappings docs``.

``python -m unigate.mapping.reference`` rewrites both committed files (run it after changing
``spec.py``; ``tests/test_mapping_schema.py`` fails while they are stale or a key is undocumented).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from unigate.mapping import spec

SCHEMA_ID = "urn:unigate:mapping-manifest"
SCHEMA_FILE = Path(__file__).with_name("manifest.schema.json")
DRAFT = "https://json-schema.org/draft/2020-12/schema"
_STRING = {"type": "string"}


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of a manifest (``MappingFile``), with the YAML shorthands the validators accept."""
    schema = spec.MappingFile.model_json_schema()
    defs = schema["$defs"]
    # spec.FieldSpec._shorthand: a field given as a bare string is its `path`
    defs["ResourceSpec"]["properties"]["fields"]["additionalProperties"] = {
        "anyOf": [{"$ref": "#/$defs/FieldSpec"}, {**_STRING, "description": "shorthand for {path: <this>}"}]}
    # spec.ErrorSpec._listify: one JSONPath stands for a list of one
    for name in ("message", "code", "detail"):
        prop = defs["ErrorSpec"]["properties"][name]
        prop["anyOf"] = [{"type": prop.pop("type"), "items": prop.pop("items")}, _STRING]
    return {"$schema": DRAFT, "$id": SCHEMA_ID, **schema, "title": "unigate connector manifest"}


def schema_json() -> str:
    """:func:`manifest_schema` as the text of ``manifest.schema.json``."""
    return json.dumps(manifest_schema(), indent=2, ensure_ascii=False) + "\n"


def models() -> list[type[BaseModel]]:
    """The public models of ``spec.py``: every manifest key is a field of one of them."""
    return [obj for name, obj in vars(spec).items()
            if isinstance(obj, type) and issubclass(obj, BaseModel) and not name.startswith("_")
            and obj.__module__ == spec.__name__]


def undocumented_keys(among: list[type[BaseModel]] | None = None) -> list[str]:
    """``Model.field`` for each field lacking a description or examples, and ``Model (no docstring)``,
    among ``among`` (default: :func:`models`)."""
    among = models() if among is None else among
    missing = [f"{m.__name__} (no docstring)" for m in among if not (m.__doc__ or "").strip()]
    for model in among:
        for name, field in model.model_fields.items():
            lacks = [what for what, value in (("description", field.description), ("examples", field.examples))
                     if not value]
            if lacks:
                missing.append(f"{model.__name__}.{name} (no {' and no '.join(lacks)})")
    return missing


# -- the reference ---------------------------------------------------------------------------------

_HEADER = """\
# Mapping key reference

<!-- Generated from src/unigate/mapping/spec.py by `python -m unigate.mapping.reference`: do not edit.
     tests/test_mapping_schema.py fails when this file is stale. -->

Every key of a connector manifest, one table per object. The narrative guide with a full example is
[mapping-files.md](mapping-files.md); the same descriptions drive editor completion through the JSON
Schema (`unigate mappings schema`, shipped as `src/unigate/mapping/manifest.schema.json`).
The root object is [MappingFile](#mappingfile). Examples are YAML (JSON is YAML too).
"""


def reference_markdown() -> str:
    """``docs/mapping-reference.md``: per model its docstring and a table key | type | default | description | example."""
    schema = manifest_schema()
    defs = {"MappingFile": schema, **schema["$defs"]}
    order = ["MappingFile", *sorted(k for k in schema["$defs"])]
    return _HEADER + "".join(_section(name, defs[name]) for name in order)


def _section(name: str, node: dict[str, Any]) -> str:
    model: type[BaseModel] = getattr(spec, name)
    rows = [_row(key, prop, _default(model, key)) for key, prop in node["properties"].items()]
    doc = " ".join((model.__doc__ or "").split())
    return (f"\n## {name}\n\n{_cell(doc)}\n\n| key | type | default | description | example |\n"
            "|---|---|---|---|---|\n" + "".join(rows))


def _default(model: type[BaseModel], key: str) -> str:
    field = model.model_fields[key]
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    return "all defaults" if isinstance(value, BaseModel) else _code(value)


def _row(key: str, prop: dict[str, Any], default: str) -> str:
    examples = "<br>".join(_code(e) for e in prop.get("examples", ()))
    return f"| `{key}` | {_type(prop)} | {default} | {_cell(prop.get('description', ''))} | {examples} |\n"


def _type(node: dict[str, Any] | bool) -> str:
    """A schema node as a short type name; models link to their section."""
    if isinstance(node, bool):   # additionalProperties: true
        return "any"
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in node:
        return " \\| ".join(_type(n) for n in node["anyOf"])
    if "enum" in node:
        return " \\| ".join(_code(v) for v in node["enum"])
    kind = node.get("type")
    if kind == "array":
        return f"list of {_type(node.get('items', {}))}"
    if kind == "object":
        keys = node.get("propertyNames", {}).get("enum")
        key = " (" + " \\| ".join(keys) + ")" if keys else ""
        return f"map{key} of {_type(node.get('additionalProperties', {}))}"
    return str(kind) if kind else "any"


def _code(value: Any) -> str:
    """A value as inline YAML: strings bare unless YAML would read them as something else."""
    plain = isinstance(value, str) and _yaml_reads(value) == value
    return f"`{_cell(value if plain else json.dumps(value, ensure_ascii=False))}`"


def _yaml_reads(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main() -> None:
    """Rewrite the committed schema file and docs/mapping-reference.md (an editable checkout)."""
    SCHEMA_FILE.write_text(schema_json())
    docs = Path(__file__).resolve().parents[3] / "docs" / "mapping-reference.md"
    docs.write_text(reference_markdown())
    print(f"wrote {SCHEMA_FILE} and {docs}", file=sys.stderr)


if __name__ == "__main__":
    main()
