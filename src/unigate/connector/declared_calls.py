"""The downstream calls a manifest declares around its operations (lookups, check calls,
read-backs, resends; listed, prepare, If-Match and then: ``spec_steps.around_calls``), as
``unigate connectors show`` lists them and pass_through may name them."""

from __future__ import annotations

from typing import Any

from unigate.mapping.spec import CheckCallSpec, MappingFile, OperationSpec
from unigate.mapping.spec_steps import around_calls


def _call(call_id: str, operation: str, method: str | None, path: str | None, note: str) -> dict[str, Any]:
    return {"call_id": call_id, "operation": operation, "method": method, "path": path, "note": note}


def _path_of(spec: MappingFile, resource: str, operation: str) -> tuple[str | None, str | None]:
    declared = spec.resources.get(resource)
    op = declared.operations.get(operation) if declared is not None else None
    return (op.method, op.path) if op is not None else (None, None)


def _read_method(spec: MappingFile, resource: str) -> str:
    """How ``resource.one`` is read when the engine reads it for a check (GraphQL: POSTed)."""
    declared = spec.resources.get(resource)
    one = declared.operations.get("one") if declared is not None else None
    return "POST" if one is not None and one.request is not None and one.request.style == "graphql" else "GET"


def step_calls(spec: MappingFile, resource: str, operation: str, op: OperationSpec, *,
               implicit: bool = True) -> list[dict[str, Any]]:
    """The calls of ``op``'s declared steps, in the order they are made; ``implicit``: with those of
    ``collection_check: <path>`` and ``collection_exists`` (reads of a declared ``one``)."""
    name = f"{resource}.{operation}"
    calls: list[dict[str, Any]] = around_calls(name, op.call_id or f"{resource}_{operation}", op)
    check = op.collection_check
    if isinstance(check, CheckCallSpec):
        calls.append(_call(check.call_id or f"{resource}_{operation}_collection_check", name, "GET", check.path,
                           "collection check: the ticket must be listed"))
    elif check is not None and implicit:
        calls.append(_call(f"{resource}_{operation}_collection_check", name, _read_method(spec, "tickets"),
                           _path_of(spec, "tickets", "one")[1],
                           "collection check: tickets.one (no call where this call reads the ticket)"))
    if op.exists_check is not None:
        calls.append(_call(op.exists_check, name, _read_method(spec, resource), _path_of(spec, resource, "one")[1],
                           f"exists check: {resource}.one"))
    if op.read_back is not None:
        calls.append(_call(op.read_back.call_id, name, "GET", op.read_back.path, "read back: the new id"))
    calls.extend(_call(r.call_id, name, *_path_of(spec, resource, "update"), f"resend {r.sent} with {resource}.update")
                 for r in op.resend)
    if op.collection_exists and implicit:
        calls.append(_call("collection_exists", name, _read_method(spec, "collections"), _path_of(spec, "collections", "one")[1],
                           "collection exists: collections.one"))
    return calls


def lookup_calls(spec: MappingFile) -> list[dict[str, Any]]:
    """The calls of the manifest's lookups (one per lookup; two lookups may share a call id)."""
    return [_call(lookup.call_id, f"(lookup {name})", "GET", lookup.path,
                  "cached per connection" if lookup.cache else "read with each use")
            for name, lookup in spec.lookups.items()]
