"""Record preparation steps (manifest ``prepare``, docs/mapping-files.md).

Reads: the steps run on the downstream records of a page (or the one record) before the
mapping reads them. Writes (add/update): they run on the downstream body the mapping wrote,
before it is sent. Built-in steps:

- ``attach``: related records put on each record under ``into`` (a ticket's description = its
  first message): with ``ids``, one batched call for the whole page; without, one call per record;
- ``create``: a value of the body created as its own record first, its id sent in its place.

Anything else is a named **preparer** component (``use: <name>``, :class:`Preparer`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from unigate.components import COMPONENTS
from unigate.connector.context import OperationContext
from unigate.connector.listed import values_at
from unigate.mapping.paths import MISSING, compile_path
from unigate.mapping.spec_steps import AttachSpec, CreateSpec, PrepareStepSpec
from unigate.mapping.template import compile_template, render_settings, render_value

if TYPE_CHECKING:
    from unigate.connector.base import Connector


class Preparer(Protocol):
    """A ``preparer`` component: gets the records (reads: the downstream records of a page; writes:
    ``[body]``, the downstream body) and the step's ``options``; returns the records to go on with
    (the same list changed in place, or new ones). ``connector`` gives the author's tools
    (``connector.lookup`` for cached reference lists); ``ctx.call`` makes downstream calls. A
    preparer that makes calls says so in a ``calls`` attribute, ``{call_id: (method, path)}``: they
    are then the connector's call ids (``pass_through[].operation_id``, ``unigate connectors show``)."""

    async def __call__(self, connector: Connector, ctx: OperationContext, records: list[Any],
                       options: dict[str, Any]) -> list[Any]: ...


async def run_steps(connector: Connector, ctx: OperationContext, steps: list[PrepareStepSpec],
                    records: list[Any]) -> list[Any]:
    """``records`` prepared by ``steps``, on shallow copies: the tracker's answer itself (what
    ``raw=true`` shows) never gains the keys the steps add."""
    if steps:
        records = [dict(r) if isinstance(r, dict) else r for r in records]
    for step in steps:
        if step.attach is not None:
            await attach(ctx, step.attach, records)
        elif step.create is not None:
            for body in records:
                await create(ctx, step.create, body)
        else:
            preparer: Preparer = COMPONENTS.get("preparer", step.use or "")
            records = await preparer(connector, ctx, records,
                                     render_settings(step.options, ctx.template_context.get("settings", {})))
    return records


def _numeric(value: Any) -> tuple[int, Any]:
    text = str(value)
    return (0, int(text)) if text.isdigit() else (1, text)


def _chosen(values: list[Any], pick: str) -> Any:
    """``first``/``lowest`` of ``values`` (None when empty), or all of them."""
    if pick == "all":
        return values
    if not values:
        return None
    return min(values, key=_numeric) if pick == "lowest" else values[0]


async def attach(ctx: OperationContext, spec: AttachSpec, records: list[Any]) -> None:
    targets = [r for r in records if isinstance(r, dict)]
    if spec.ids is not None:
        await _attach_batched(ctx, spec, targets)
        return
    for record in targets:
        context = {**ctx.template_context, "record": record}
        found = await _related(ctx, spec, context, [])
        record[spec.into] = _pick_related(found, spec)


def _pick_related(found: list[Any], spec: AttachSpec) -> Any:
    if spec.pick == "lowest":
        key = compile_path(spec.key)
        return min(found, key=lambda r: _numeric(key.get(r)), default=None)
    return _chosen(found, spec.pick)


async def _attach_batched(ctx: OperationContext, spec: AttachSpec, records: list[dict[str, Any]]) -> None:
    """One call for the page: ``id_param`` once per wanted id (numeric order when ``lowest``)."""
    wanted: dict[str, list[tuple[dict[str, Any], bool]]] = {}
    for record in records:
        chosen = _chosen([str(v) for v in values_at(spec.ids or "$", record)], spec.pick)
        record[spec.into] = [] if spec.pick == "all" else None
        for ident in chosen if isinstance(chosen, list) else [chosen] if chosen is not None else []:
            wanted.setdefault(ident, []).append((record, spec.pick == "all"))
    if not wanted:
        return
    ids = sorted(wanted, key=_numeric) if spec.pick == "lowest" else list(wanted)
    found = await _related(ctx, spec, ctx.template_context, [(spec.id_param, i) for i in ids])
    key = compile_path(spec.key)
    for related in found:
        for record, many in wanted.get(str(key.get(related)), []):
            if many:
                record[spec.into].append(related)
            else:
                record[spec.into] = related


async def _related(ctx: OperationContext, spec: AttachSpec, context: dict[str, Any],
                   ids: list[tuple[str, str]]) -> list[Any]:
    path = compile_template(spec.path).render(context, quote_values=True)
    query = [(k, str(render_value(v, context))) for k, v in spec.query.items()]
    response = await ctx.call(spec.call_id, "GET", path, params=ids + query)
    return values_at(spec.records, response.body)


async def create(ctx: OperationContext, spec: CreateSpec, body: dict[str, Any]) -> None:
    """The value at ``take`` (removed from ``body``) created with its own call; its id set at ``put``."""
    value = _pop(body, spec.take)
    if value is MISSING or value is None or value == "":
        return
    sent = render_value(spec.body, {**ctx.template_context, "value": value})
    path = compile_template(spec.path).render(ctx.template_context, quote_values=True)
    response = await ctx.call(spec.call_id, spec.method, path, body=sent)
    new_id = compile_path(spec.id).get(response.body)
    new_id = None if new_id is MISSING else str(new_id)
    compile_path(spec.put).set(body, [new_id] if spec.as_list else new_id)


def _pop(body: dict[str, Any], path: str) -> Any:
    steps = compile_path(path).steps or ()
    parent: Any = body
    for step in steps[:-1]:
        parent = parent.get(step) if isinstance(parent, dict) else None
    if not steps or not isinstance(parent, dict):
        return MISSING
    return parent.pop(steps[-1], MISSING)
