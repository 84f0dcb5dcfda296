"""Request bodies validated against the spec's ``Ticket`` and ``CollectionTicketComment``.

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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from unigate.errors import RequestValidationError
from unigate.mapping.passthrough import PassThroughError, compile_body_pass_through
from unigate.mapping.transforms import TransformError, parse_timestamp

MAX_BODY_BYTES = 1024 * 1024
_INT_RANGE = (-(2**63), 2**64 - 1)  # what orjson (the downstream body encoder) writes


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class AssigneeIn(_Body):
    id: str
    username: str | None = None  # readOnly


class TagIn(_Body):
    id: str | None = None
    name: str | None = None  # readOnly
    custom_mappings: dict[str, Any] | None = None  # readOnly


class ExtendPath(_Body):
    path: str
    value: Any


class PassThroughEntry(_Body):
    service_id: str
    operation_id: str | None = None
    extend_object: dict[str, Any] | None = None
    extend_paths: list[ExtendPath] | None = None


class _Writable(_Body):
    custom_mappings: dict[str, Any] | None = None
    pass_through: list[PassThroughEntry] | None = None
    # readOnly everywhere: accepted, ignored
    id: str | None = None
    created_by: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class TicketIn(_Writable):
    parent_id: str | None = None
    collection_id: str | None = None   # readOnly
    completed_at: str | None = None    # readOnly
    type: str | None = None
    subject: str | None = None
    description: str | None = None
    status: str | None = None
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    assignees: list[AssigneeIn] | None = None
    due_date: str | None = None
    tags: list[TagIn] | None = None

    @field_validator("due_date")
    @classmethod
    def _date_time(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_timestamp(value)
            except TransformError as exc:
                raise ValueError(f"must be an ISO 8601 date-time: {exc}") from None
        return value


class CommentIn(_Writable):
    body: str | None = None


READ_ONLY = {"id", "created_by", "created_at", "updated_at", "collection_id", "completed_at"}
MODELS: dict[str, type[_Writable]] = {"tickets": TicketIn, "comments": CommentIn}


def parse_body(resource: str, raw: bytes) -> tuple[dict[str, Any], list[Any]]:
    """Validate ``raw``; returns (unified fields present, compiled body pass_through)."""
    if len(raw) > MAX_BODY_BYTES:
        raise RequestValidationError("Request body too large", f"the body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}")
    if not raw.strip():
        raise RequestValidationError("Missing request body", "send a JSON object")
    model = MODELS[resource]
    try:
        parsed = model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError("Invalid request body", _describe(exc)) from None
    fields = parsed.model_fields_set - READ_ONLY - {"pass_through"}
    data = parsed.model_dump(include=fields, exclude_none=False)
    for key in ("assignees", "tags"):
        if data.get(key) is not None:
            data[key] = [{k: v for k, v in item.items() if k in ("id", "name")} for item in data[key]]
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
