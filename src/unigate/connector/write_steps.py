"""Declared steps around a write: field rules, ``null_as``, read-back, resend, check calls.

- :func:`check_field_rules`: ``required`` (sent on create, never blank), ``create_only`` and
  ``refused`` fields: a 400 ``RequestValidationError`` naming each field, before any call;
- :func:`nulls_as`: the nulls a mapped body still holds, sent as the resource's ``null_as``;
- :func:`read_back`: the new id of a write that answers without it (Redmine's 204 on a note);
- :func:`resend`: values the tracker ignored on create, sent again with the resource's update;
- :func:`in_listed_collection`: ``collection_check`` as a call whose list must hold the ticket.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from unigate.errors import ConnectorExecutionError, EntityNotFoundError, RequestValidationError
from unigate.mapping.paths import MISSING, compile_path
from unigate.mapping.spec import CheckCallSpec, OperationSpec, ReadBackSpec, ResourceSpec
from unigate.mapping.template import quote_segment, render_value

if TYPE_CHECKING:
    from unigate.connector.base import Connector
    from unigate.connector.context import OperationContext


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_field_rules(resource: ResourceSpec, body: dict[str, Any], creating: bool) -> None:
    problems: dict[str, str] = {}
    for name, spec in resource.fields.items():
        given = name in body
        if spec.refused is not None and given:
            problems[name] = f"refused: {spec.refused}"
        elif spec.create_only and given and not creating:
            problems[name] = "set on create only: it cannot be changed"
        elif spec.required and ((creating and not given) or (given and _blank(body[name]))):
            problems[name] = "required: send a value that is not blank"
    if problems:
        raise RequestValidationError("Invalid field value", problems)


def nulls_as(value: Any, replacement: Any) -> Any:
    """``value`` with every null inside it (dict values, list items) replaced."""
    if value is None:
        return replacement
    if isinstance(value, dict):
        return {k: nulls_as(v, replacement) for k, v in value.items()}
    if isinstance(value, list):
        return [nulls_as(v, replacement) for v in value]
    return value


def _query(ctx: OperationContext, query: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, str(render_value(v, ctx.template_context))) for k, v in query.items()]


async def read_back(connector: Connector, ctx: OperationContext, spec: ReadBackSpec, sent: dict[str, Any]) -> str:
    """The id of the newest record holding what was sent at ``spec.sent``."""
    wanted = compile_path(spec.sent).get(sent)
    response = await ctx.call(spec.call_id, "GET", connector.path(ctx, spec.path), params=_query(ctx, spec.query))
    found = compile_path(spec.records).get(response.body)
    records = [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []
    mine = [r for r in records if compile_path(spec.match).get(r) == wanted]
    if not mine:
        raise ConnectorExecutionError("Record not found after it was added", {
            "detail": f"{connector.spec.name} accepted the write but {spec.call_id} does not show it"}, status_code=502)
    return str(compile_path(spec.id).get(mine[-1]))


_NEW_ID = re.compile(r"\{(?:ticket_id|id)(?:\|[a-z]+)?\}")   # the update's id, filters too: {ticket_id|int}


async def resend(connector: Connector, ctx: OperationContext, op: OperationSpec, sent: dict[str, Any],
                 answer: Any, created: str) -> None:
    """Send again, with the resource's update, each ``resend`` value the created record did not get."""
    update = connector.operation(ctx.request.resource, "update")
    path = _NEW_ID.sub(quote_segment(created), update.path or "")
    for spec in op.resend:
        wanted = compile_path(spec.sent).get(sent)
        if wanted is MISSING or wanted is None or compile_path(spec.created).get(answer) == wanted:
            continue
        body = compile_path(spec.sent).set({}, wanted)
        await ctx.call(spec.call_id, update.method, connector.path(ctx, path), body=body)


async def in_listed_collection(connector: Connector, ctx: OperationContext, check: CheckCallSpec) -> None:
    """404 ``EntityNotFoundError`` unless the check call's list holds the path's ticket."""
    request = ctx.request
    call_id = check.call_id or f"{request.resource}_{request.operation}_collection_check"
    response = await ctx.call(call_id, "GET", connector.path(ctx, check.path), params=_query(ctx, check.query))
    found = compile_path(check.records).get(response.body)
    wanted = str(render_value(check.match["value"], ctx.template_context))
    getter = compile_path(check.match["path"])
    records = found if isinstance(found, list) else []
    if not any(isinstance(r, dict) and str(getter.get(r)) == wanted for r in records):
        raise EntityNotFoundError("Ticket not found", f"{connector.spec.name} has no ticket "
                                  f"{request.path_params.get('ticket_id')!r} in collection "
                                  f"{request.path_params.get('collection_id')!r}")
