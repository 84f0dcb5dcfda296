"""The gateway's OpenAPI description: Apideck's Issue Tracking contract plus unigate's additions.

``document()`` loads the vendored ``issue-tracking.yml`` (see README.md beside it for its origin
and licence) and adds, each marked ``x-unigate: true``: the gateway as the server, ``meta.warnings``
(``{field, message}``) in list, create and update responses, and the ``x-unigate-strict`` request
header on create and update operations. ``document_json()`` is the served bytes, built once.
"""

from __future__ import annotations

import copy
import hashlib
from functools import lru_cache
from importlib.resources import files
from typing import Any

import orjson
import yaml

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SPEC_FILE = "issue-tracking.yml"
STRICT_HEADER = "x-unigate-strict"

WARNING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "x-unigate": True,
    "description": "A field of the request the tracker could not store (it was dropped). Send "
                   f"`{STRICT_HEADER}: true` to have such a request refused instead.",
    "required": ["field", "message"],
    "properties": {
        "field": {"type": "string", "description": "The unified field, as a path", "example": "priority"},
        "message": {"type": "string", "description": "Why it was not stored",
                    "example": "the tracker has no priority; the value was not stored"},
    },
}

WARNINGS_DESCRIPTION = ("unigate: fields of the request the tracker could not store, one `{field, message}` each; "
                        "absent when every field was stored.")

STRICT_PARAMETER: dict[str, Any] = {
    "name": STRICT_HEADER,
    "in": "header",
    "required": False,
    "x-unigate": True,
    "description": "unigate: `true` refuses the request with 400 `RequestValidationError`, naming the field, "
                   "when a field of the body would be dropped because the tracker cannot store it (by default "
                   "the write goes ahead and the field is reported in `meta.warnings`).",
    "schema": {"type": "boolean", "default": False},
}


def _spec_text() -> str:
    return files("unigate.openapi").joinpath(SPEC_FILE).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def apideck_document() -> dict[str, Any]:
    """Apideck's description, as published (parsed once; do not modify the result)."""
    return yaml.load(_spec_text(), Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


def document() -> dict[str, Any]:
    """Apideck's description with unigate's additions (a new dict each call)."""
    spec = copy.deepcopy(apideck_document())
    spec["servers"] = [{"url": "/", "description": "this unigate gateway", "x-unigate": True}]
    schemas = spec["components"]["schemas"]
    schemas["UnigateWarning"] = copy.deepcopy(WARNING_SCHEMA)
    warning_ref = {"$ref": "#/components/schemas/UnigateWarning"}
    # lists: Apideck's Meta.warnings (workflow warnings) may also carry unigate's {field, message}
    meta_warnings = schemas["Meta"]["properties"]["warnings"]
    meta_warnings["items"] = {"anyOf": [meta_warnings["items"], warning_ref]}
    meta_warnings["description"] = f"{meta_warnings.get('description', '')} {WARNINGS_DESCRIPTION}".strip()
    meta_warnings["x-unigate"] = True
    # creates and updates: a meta with warnings
    for name, schema in schemas.items():
        if name.startswith(("Create", "Update")) and name.endswith("Response") and "properties" in schema:
            schema["properties"]["meta"] = {
                "type": "object", "x-unigate": True, "description": "unigate: response metadata",
                "properties": {"warnings": {"type": "array", "description": WARNINGS_DESCRIPTION, "items": warning_ref}},
            }
    spec["components"]["parameters"]["UnigateStrict"] = copy.deepcopy(STRICT_PARAMETER)
    for operations in spec["paths"].values():
        for method in ("post", "patch"):
            if method in operations:
                operations[method].setdefault("parameters", []).append({"$ref": "#/components/parameters/UnigateStrict"})
    spec["info"]["description"] = (
        "Served by unigate, a self-hosted gateway speaking Apideck's Issue Tracking API: Apideck's description "
        "(version " + str(spec["info"]["version"]) + ") with unigate's additions, marked `x-unigate`: "
        "`meta.warnings` of `{field, message}` and the `x-unigate-strict` header.\n\n" + spec["info"]["description"])
    return spec


@lru_cache(maxsize=1)
def document_json() -> tuple[bytes, str]:
    """(the served JSON, its ETag), built once per process."""
    body = orjson.dumps(document())
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
