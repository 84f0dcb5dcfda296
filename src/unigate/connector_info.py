"""What ``unigate connectors show <service>`` prints: a connector described from its mapping file
and class (settings, credentials, operations, filters, sorts, downstream call ids), so the
description cannot drift from what the gateway does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from unigate.connector.base import Connector
from unigate.connector.capabilities import capabilities
from unigate.connector.declared_calls import lookup_calls, step_calls
from unigate.mapping.spec import OPERATIONS, RESOURCES, MappingFile, OperationSpec, SettingSpec

# settings every connection may set, read by the dispatcher rather than by a mapping file
GENERIC_SETTINGS: dict[str, SettingSpec] = {
    "timeout": SettingSpec(description="seconds for one downstream exchange (overrides the mapping's timeout)"),
    "max_response_bytes": SettingSpec(description="largest tracker answer read, in bytes "
                                                  "(overrides UNIGATE_MAX_DOWNSTREAM_BODY)"),
}


def _setting(name: str, spec: SettingSpec) -> dict[str, Any]:
    return {"name": name, "required": spec.required and spec.default is None, "default": spec.default,
            "secret": spec.secret, "description": spec.description}


def graphql_operation(document: str | None) -> str:
    """``query Issues`` (the document's first operation), for call tables."""
    found = re.match(r"\s*(query|mutation|subscription)\s*(\w*)", document or "")
    return f"GraphQL {found.group(1)} {found.group(2)}".rstrip() if found else "GraphQL query"


def info(connector: Connector) -> dict[str, Any]:
    """The connector as data (``unigate connectors show --json``)."""
    spec, cls = connector.spec, type(connector)
    operations: dict[str, list[str]] = {}
    for resource, operation in _supported(connector):
        operations.setdefault(resource, []).append(operation)
    declared = list(_declared(connector))
    return {
        "service_id": spec.service_id,
        "name": spec.name,
        "website": spec.website,
        "connector_class": f"{cls.__module__}.{cls.__qualname__}",
        "settings": [_setting(k, s) for k, s in spec.connection.settings.items()],
        "generic_settings": [_setting(k, s) for k, s in GENERIC_SETTINGS.items()],
        "credentials": [_setting(k, s) for k, s in spec.connection.credentials.items()],
        "operations": operations,
        "quirk_operations": [f"{r}.{o}" for r, o in _supported(connector) if (r, o) in cls.implementations],
        "filters": {name: _filters(op) for name, op in declared if op.filters},
        "sorts": {name: {"by": sorted(op.sort.fields), "natural": list(op.sort.natural)} for name, op in declared
                  if op.sort is not None and (op.sort.fields or op.sort.natural)},
        "calls": _calls(connector),
        "capabilities": capabilities(connector),
    }


def _supported(connector: Connector) -> Iterator[tuple[str, str]]:
    """(resource, operation) of each operation the connector serves, in the unified model's order."""
    return ((r, o) for r in RESOURCES for o in OPERATIONS if connector.supports(r, o))


def _operation(spec: MappingFile, resource: str, operation: str) -> OperationSpec | None:
    declared = spec.resources.get(resource)
    return declared.operations.get(operation) if declared is not None else None


def _declared(connector: Connector) -> Iterator[tuple[str, OperationSpec]]:
    """``resource.operation`` and its manifest entry, for each operation served that the manifest declares."""
    for resource, operation in _supported(connector):
        op = _operation(connector.spec, resource, operation)
        if op is not None:
            yield f"{resource}.{operation}", op


def _filters(op: OperationSpec) -> list[dict[str, Any]]:
    return [{"filter": f, "param": s.param, "values": sorted(s.values) if s.values is not None else None,
             "strict": s.strict} for f, s in op.filters.items()]


def _calls(connector: Connector) -> list[dict[str, Any]]:
    """Every downstream call the connector may make, by operation: its own implementations' declared
    calls, the manifest's, the lookups', then the ids its Python sets directly."""
    spec, cls = connector.spec, type(connector)
    calls: list[dict[str, Any]] = []
    for resource, operation in _supported(connector):
        name = f"{resource}.{operation}"
        implementation = cls.implementations.get((resource, operation))
        if implementation is not None:
            calls.extend({"call_id": call_id, "operation": name, "method": None, "path": None,
                          "note": "made by the connector's own implementation; see its README"}
                         for call_id in implementation.__unigate_implements__[1])  # type: ignore[attr-defined]
        op = _operation(spec, resource, operation)
        if op is not None:
            calls.extend(_declared_calls(spec, resource, operation, op))
    calls.extend(lookup_calls(spec))
    declared_ids = {c["call_id"] for c in calls}
    calls.extend({"call_id": call_id, "operation": "(connector code)", "method": None, "path": None,
                  "note": "made by the connector's Python; see its README"}   # set directly by a subclass
                 for call_id in cls.code_call_ids if call_id not in declared_ids)
    return calls


def _declared_calls(spec: MappingFile, resource: str, operation: str, op: OperationSpec) -> list[dict[str, Any]]:
    """The calls the manifest declares for one operation: its own, its split calls and its steps'."""
    name = f"{resource}.{operation}"
    if op.static is not None:
        return [{"call_id": None, "operation": name, "method": None, "path": None,
                 "note": f"{len(op.static)} record(s) fixed in the mapping file, no call"}]
    graphql = op.request is not None and op.request.style == "graphql"
    calls = [{"call_id": op.call_id or f"{resource}_{operation}", "operation": name,
              "method": "POST" if graphql else op.method, "path": op.path,
              "note": graphql_operation(op.request.document) if graphql else None}]  # type: ignore[union-attr]
    calls += [{"call_id": split.call_id, "operation": name, "method": split.method, "path": split.path,
               "note": f"fields {', '.join(split.fields)}"} for split in op.split]
    return calls + step_calls(spec, resource, operation, op)


def _settings_lines(entries: list[dict[str, Any]], *, credentials: bool = False) -> list[str]:
    if not entries:
        return ["  (none)"]
    width = max(len(e["name"]) for e in entries)
    lines = []
    for e in entries:
        flags = ["required" if e["required"] else "optional"]
        if e["secret"] or credentials:
            flags.append("secret")
        if e["default"] is not None:
            flags.append(f"default {e['default']}")
        lines.append(f"  {e['name']:<{width}}  {', '.join(flags)}" + (f" — {e['description']}" if e["description"] else ""))
    return lines


def describe(connector: Connector) -> str:
    """The connector as text (``unigate connectors show``)."""
    data = info(connector)
    out = [f"{data['service_id']}: {data['name']}" + (f" ({data['website']})" if data["website"] else ""),
           f"connector class: {data['connector_class']}", "",
           "settings (vault connection-create -s KEY=VALUE):", *_settings_lines(data["settings"]),
           "  every connection may also set:", *(f"  {line}" for line in _settings_lines(data["generic_settings"])),
           "", "credentials (vault connection-create -c KEY=-, encrypted at rest):",
           *_settings_lines(data["credentials"], credentials=True), "", "operations:"]
    out += [f"  {resource:<12} {' '.join(ops)}" for resource, ops in data["operations"].items()]
    if data["quirk_operations"]:
        out.append(f"  in connector code (beyond the mapping file): {' '.join(data['quirk_operations'])}")
    out += ["", "filters (filter[NAME]=VALUE):"]
    out += [f"  {op:<16} " + "; ".join(
        f["filter"] + (f" ({', '.join(f['values'])})" if f["values"] else "") for f in entries)
        for op, entries in data["filters"].items()] or ["  (none)"]
    out += ["", "sorts (sort[by]=FIELD&sort[direction]=asc|desc):"]
    out += [f"  {op:<16} " + (f"by {', '.join(s['by'])}" if s["by"] else "no sort[by]")
            + (f"; natural order {', '.join(s['natural'])}" if s["natural"] else "")
            for op, s in data["sorts"].items()] or ["  (none)"]
    out += ["", "capabilities (native: the tracker does it; emulated: the gateway does it over the tracker's calls):"]
    out += _capability_lines(data["capabilities"])
    out += ["", "downstream calls (pass_through[].operation_id):"]
    width = max([len(c["call_id"] or "-") for c in data["calls"]] or [1])
    for call in data["calls"]:
        where = f"{call['method']} {call['path']}" if call["method"] else ""
        note = f" ({call['note']})" if call["note"] else ""
        out.append(f"  {call['call_id'] or '-':<{width}}  {call['operation']:<18} {where}{note}".rstrip())
    return "\n".join(out)


def _capability_lines(caps: dict[str, Any]) -> list[str]:
    lines = []
    for resource, entry in caps.items():
        for kind in ("operations", "filters", "sorts"):
            marked = [f"{name} {item['mode']}" for name, item in entry[kind].items()]
            if marked:
                lines.append(f"  {resource + ' ' + kind:<20} " + "; ".join(marked))
        lines += [f"  {'':<20}   {kind[:-1]} {name}: {item['how']}" for kind in ("filters",)
                  for name, item in entry[kind].items() if item["mode"] == "emulated"]
    return lines


# -- the README's generated call table ---------------------------------------------------------------
BEGIN_CALLS = "<!-- BEGIN GENERATED: downstream calls (unigate connectors readme --write; do not edit) -->"
END_CALLS = "<!-- END GENERATED: downstream calls -->"


def calls_markdown(connector: Connector) -> str:
    """The connector's downstream calls as a Markdown table: what ``pass_through[].operation_id``
    may name, generated from the manifest (and the class) like ``unigate connectors show``."""
    rows = ["| call id | unified operation | downstream request | note |", "|---|---|---|---|"]
    for call in info(connector)["calls"]:
        path = (call["path"] or "").replace("|", "\\|")   # a pipe in a cell splits it, code span or not
        request = f"`{call['method']} {path}`" if call["method"] else ""
        call_id = f"`{call['call_id']}`" if call["call_id"] else "—"
        rows.append(f"| {call_id} | {call['operation']} | {request} | {call['note'] or ''} |")
    return "\n".join(rows)


def with_calls_table(readme: str, connector: Connector) -> str:
    """``readme`` with its generated block replaced by the current table (ValueError: no block)."""
    start, end = readme.find(BEGIN_CALLS), readme.find(END_CALLS)
    if start < 0 or end < start:
        raise ValueError(f"the README has no generated calls block: add the lines\n{BEGIN_CALLS}\n{END_CALLS}")
    return readme[:start] + BEGIN_CALLS + "\n" + calls_markdown(connector) + "\n" + readme[end:]
