"""Request bodies validated against the spec's ``Ticket`` and ``CollectionTicketComment``, their
pydantic models built from the unified model's object schemas (``body_models``).

Unknown fields, wrong types and non-JSON bodies are a 400 ``RequestValidationError`` whose
``detail`` maps each offending field to what is wrong. ``readOnly`` fields (``id``,
``created_at``...) are accepted and ignored, as the spec says. ``custom_mappings`` is readOnly in
the spec but writable here: values are written back to the connection's custom mapping paths.
Only the fields present in the body are returned, which is what makes PATCH partial.

Free-form values (``custom_mappings``, ``pass_through``) are refused where they could not be sent on
faithfully: integers outside 64 bits (no JSON encoder downstream writes them) and the non-finite
numbers ``NaN``/``Infinity`` (they would go out as ``null``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, create_model, field_validator

from unigate.errors import RequestValidationError
from unigate.mapping.passthrough import PassThroughError, compile_body_pass_through
from unigate.mapping.transforms import TransformError, parse_timestamp
from unigate.unified import UNIFIED, Field, ObjectSchema, UnifiedModel, literal

MAX_BODY_BYTES = 1024 * 1024
_INT_RANGE = (-(2**63), 2**64 - 1)  # what orjson (the downstream body encoder) writes
_B = TypeVar("_B", bound=BaseModel)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ExtendPath(_Body):
    path: str
    value: Any


class PassThroughEntry(_Body):
    service_id: str
    operation_id: str | None = None
    extend_object: dict[str, Any] | None = None
    extend_paths: list[ExtendPath] | None = None


class _Writable(_Body):
    """What every request body may carry besides its resource's fields."""

    custom_mappings: dict[str, Any] | None = None
    pass_through: list[PassThroughEntry] | None = None


ITEM_KEYS = ("id", "name")  # what an item of a list field (assignees, tags) is sent on with: its id, a tag's name


@dataclass(frozen=True)
class BodyModel:
    """A resource's request body: its pydantic model, the fields accepted and ignored, the list fields."""

    model: type[_Writable]
    read_only: frozenset[str]
    lists: tuple[str, ...]


def body_models(model: UnifiedModel) -> dict[str, BodyModel]:
    """The request body of each resource that has one (create or update), from its object schema."""
    return {r.name: _body_model(r.schema) for r in model.resources if r.writable}


def _body_model(schema: ObjectSchema) -> BodyModel:
    return BodyModel(_object_model(schema, _Writable), frozenset(f.name for f in schema.fields if f.read_only),
                     tuple(f.name for f in schema.fields if f.is_list))


def _object_model(schema: ObjectSchema, base: type[_B]) -> type[_B]:
    """Every field optional and nullable (a body is partial; null clears), unless ``required``; readOnly
    fields are typed like the others (accepted, then ignored); a writable date-time must parse."""
    fields: dict[str, Any] = {f.name: _annotation(f) for f in schema.fields}
    if schema.custom_mappings and "custom_mappings" not in base.model_fields:
        fields["custom_mappings"] = (dict[str, Any] | None, None)  # readOnly
    dates = [f.name for f in schema.fields if f.format == "date-time" and not f.read_only]
    validators = {"_date_time": field_validator(*dates)(_date_time)} if dates else {}
    return create_model(f"{schema.name}In", __base__=base, __validators__=validators, **fields)


def _annotation(field: Field) -> tuple[Any, Any]:
    if field.items is not None:
        kind: Any = list[_object_model(field.items, _Body)]  # type: ignore[misc]
    elif field.enum:
        kind = literal(field.enum)
    else:
        kind = str
    return (kind, ...) if field.required else (kind | None, None)


def _date_time(cls: type, value: str | None) -> str | None:
    if value is not None:
        try:
            parse_timestamp(value)
        except TransformError as exc:
            raise ValueError(f"must be an ISO 8601 date-time: {exc}") from None
    return value


BODIES = body_models(UNIFIED)


def parse_body(resource: str, raw: bytes) -> tuple[dict[str, Any], list[Any]]:
    """Validate ``raw``; returns (unified fields present, compiled body pass_through)."""
    if len(raw) > MAX_BODY_BYTES:
        raise RequestValidationError("Request body too large", f"the body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}")
    if not raw.strip():
        raise RequestValidationError("Missing request body", "send a JSON object")
    body = BODIES[resource]
    try:
        parsed = body.model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError("Invalid request body", _describe(exc)) from None
    fields = parsed.model_fields_set - body.read_only - {"pass_through"}
    data = parsed.model_dump(include=fields, exclude_none=False)
    for key in body.lists:
        if data.get(key) is not None:
            data[key] = [{k: v for k, v in item.items() if k in ITEM_KEYS} for item in data[key]]
    if data.get("custom_mappings"):
        _check_values(data["custom_mappings"], "custom_mappings")
    # exclude_unset, not exclude_none: {"path": ..., "value": null} sets null
    entries = [e.model_dump(exclude_unset=True) for e in parsed.pass_through or []]
    for index, entry in enumerate(entries):
        _check_values(entry, f"pass_through[{index}]")
    try:
        extensions = compile_body_pass_through(entries)
    except PassThroughError as exc:
        raise RequestValidationError("Invalid pass_through", exc.detail) from None
    return data, extensions


def _check_values(value: Any, where: str) -> None:
    """Refuse numbers that cannot be sent on as they are (see the module docstring)."""
    stack = [(value, where)]
    while stack:
        node, at = stack.pop()
        if isinstance(node, dict):
            stack.extend((v, f"{at}.{k}") for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(node))
        elif isinstance(node, bool) or node is None or isinstance(node, str):
            continue
        elif isinstance(node, int) and not _INT_RANGE[0] <= node <= _INT_RANGE[1]:
            raise RequestValidationError("Invalid request body", {at: "integer out of range: at most 64 bits"})
        elif isinstance(node, float) and not math.isfinite(node):
            raise RequestValidationError("Invalid request body", {at: "must be a finite number (JSON has no NaN or Infinity)"})


def _describe(exc: ValidationError) -> dict[str, str]:
    detail: dict[str, str] = {}
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"]) or "body"
        if error["type"] == "json_invalid":
            detail["body"] = f"not valid JSON: {error['msg']}"
        elif error["type"] == "extra_forbidden":
            detail[loc] = "unknown field"
        elif error["type"] == "model_type":
            detail[loc or "body"] = "must be a JSON object"
        else:
            detail[loc] = error["msg"].removeprefix("Value error, ")
    return detail


__all__ = ["MAX_BODY_BYTES", "parse_body"]
