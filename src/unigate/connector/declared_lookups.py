"""Declared lookups: reference lists a manifest names (``lookups:``) and the values looked up in them.

- :func:`records_of` reads a lookup (cached per connection through ``Connector.lookup`` unless
  ``cache: false``) and keeps the records meeting its ``keep`` conditions;
- :func:`resolve_writes` turns the values of fields with a ``lookup`` (and entries of
  ``list_lookups``) in a write's downstream body into ids, before any write: an unknown value is a
  400 ``RequestValidationError`` naming the field and the known values;
- :func:`with_status_ids` gives a list operation whose status filter has a ``lookup`` the ids
  of the statuses each requested value stands for (unknown: 400 ``UnsupportedFiltersError``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unigate.connector.records import kept
from unigate.errors import RequestValidationError, UnsupportedFiltersError
from unigate.mapping.paths import MISSING, compile_path
from unigate.mapping.spec import FieldLookupSpec, ListLookupSpec, OperationSpec
from unigate.mapping.template import render_value
from unigate.mapping.transforms import build_transform

if TYPE_CHECKING:
    from unigate.connector.base import Connector
    from unigate.connector.context import OperationContext


def lookup_name(ctx: OperationContext, lookup: FieldLookupSpec) -> str:
    """The lookup ``lookup`` names for this operation (it may name one per operation)."""
    name = lookup.name if isinstance(lookup.name, str) else lookup.name.get(ctx.request.operation)  # type: ignore[call-overload]
    return name or ""


async def records_of(connector: Connector, ctx: OperationContext, lookup: FieldLookupSpec) -> list[dict[str, Any]]:
    """The records of the lookup ``lookup`` names, meeting its ``keep`` conditions."""
    spec = connector.spec.lookups[lookup_name(ctx, lookup)]
    path = connector.path(ctx, spec.path)
    params = [(k, str(render_value(v, ctx.template_context))) for k, v in spec.query.items()]
    if spec.cache:
        items = await connector.lookup(ctx, spec.call_id, path, spec.records, params=params, ttl=spec.ttl)
    else:
        found = compile_path(spec.records).get((await ctx.call(spec.call_id, "GET", path, params=params)).body)
        items = [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []
    return kept(items, spec.keep)


def unified_values(lookup: FieldLookupSpec, items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """unified value -> the records reading as it (through the ``unified`` transform), in list order."""
    if lookup.unified is None:
        return {}
    read = build_transform(lookup.unified, {}).read
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        grouped.setdefault(str(read(item)), []).append(item)
    return grouped


def by_key(lookup: FieldLookupSpec, items: list[dict[str, Any]], value: Any) -> dict[str, Any] | None:
    """The first record whose ``by`` keys hold ``value`` (as text, case-insensitive)."""
    text = str(value).strip().casefold()
    for item in items:
        if any(str(item.get(key, "")).casefold() == text for key in lookup.by):
            return item
    return None


def known(lookup: FieldLookupSpec, items: list[dict[str, Any]]) -> str:
    """The values a client may send, for an error message."""
    unified = ", ".join(unified_values(lookup, items))
    names = ", ".join(str(i.get(lookup.by[-1])) for i in items) or "none"
    return f"{unified} or one of {names}" if unified else names


def matching(lookup: FieldLookupSpec, items: list[dict[str, Any]], value: Any) -> dict[str, Any] | None:
    """A unified value's first record, else the record named ``value``."""
    readings = unified_values(lookup, items).get(str(value))
    return readings[0] if readings else by_key(lookup, items, value)


async def resolve_writes(connector: Connector, ctx: OperationContext, op: OperationSpec, body: dict[str, Any]) -> None:
    """Replace, in ``body`` (mutated), looked-up values by ids; all unknown values in one 400."""
    problems: dict[str, str] = {}
    target = compile_path(op.wrap).get(body) if op.wrap else body
    for writer in ctx.mapping.writers if isinstance(target, dict) else ():
        lookup = ctx.mapping.fields[writer.name].lookup
        value = writer.path.get(target) if lookup is not None else MISSING
        if lookup is None or value is MISSING or value is None or value == "":
            continue
        items = await records_of(connector, ctx, lookup)
        found = matching(lookup, items, value)
        if found is None:
            problems[writer.name] = f"unknown {writer.name} {value!r}; use {known(lookup, items)}"
        else:
            writer.path.set(target, compile_path(lookup.id).get(found))
    resource = connector.spec.resources[ctx.request.resource]
    for spec in resource.list_lookups:
        problems.update(await _resolve_entries(connector, ctx, spec, compile_path(spec.path).get(body)))
    if problems:
        raise RequestValidationError("Invalid field value", problems)


async def _resolve_entries(connector: Connector, ctx: OperationContext, spec: ListLookupSpec,
                           entries: Any) -> dict[str, str]:
    """Entries of a body list named by ``spec.key`` get the matched record's id at ``spec.set``."""
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or spec.key not in entry or spec.set in entry:
            continue
        items = await records_of(connector, ctx, spec.lookup)
        found = by_key(spec.lookup, items, entry[spec.key])
        if found is None:
            return {"custom_mappings": f"{connector.spec.name} has no {lookup_name(ctx, spec.lookup)} entry "
                                       f"{entry[spec.key]!r}; known: {known(spec.lookup, items)}"}
        entry[spec.set] = compile_path(spec.lookup.id).get(found)
        del entry[spec.key]
    return {}


async def with_status_ids(connector: Connector, ctx: OperationContext, op: OperationSpec) -> OperationSpec:
    """``op`` whose status filter maps each requested value to the ids of its statuses."""
    spec = op.filters.get("status")
    wanted = ctx.request.filter.get("status")
    if spec is None or spec.lookup is None or not wanted or "all" in wanted:
        return op
    items = await records_of(connector, ctx, spec.lookup)
    values: dict[str, list[Any] | None] = {}
    for unified in wanted:
        readings = unified_values(spec.lookup, items).get(unified) or [
            i for i in [by_key(spec.lookup, items, unified)] if i is not None]
        if not readings:
            raise UnsupportedFiltersError("Unsupported filter", f"{connector.service_id} has no status {unified!r}; "
                                          f"statuses: {known(spec.lookup, items)}")
        values[unified] = [compile_path(spec.lookup.id).get(i) for i in readings]
    filters = {**op.filters, "status": spec.model_copy(update={"values": values})}
    return op.model_copy(update={"filters": filters})
