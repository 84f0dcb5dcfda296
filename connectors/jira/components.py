"""Jira Cloud's named components (the manifest says the rest; decisions: README.md).

- ``jira_adf`` (transform): rich text is Atlassian Document Format in Jira, HTML in the unified
  model: ADF -> HTML on read, HTML or plain text -> ADF on write.
- ``jira_user`` (transform): assignees by ``accountId``, written ``{accountId}`` (null unassigns).
- ``jira_search`` (request): ``GET /search/jql`` with the JQL built from the operation's query,
  filter and sort parameters (named in ``options.clauses`` / ``options.order``), every value
  escaped by :func:`unigate.kit.build_jql`; dates are read by Jira in the API user's time zone,
  so a ``datetime`` clause first reads ``/myself``.
- ``jira_issue_write`` (request): the create or edit, then a status change through the
  workflow: Jira's ``status`` cannot be written, an issue moves by a transition into a status
  of the wanted category (or of that name); none available is a 400 naming the available ones.
- ``jira_custom_fields`` (preparer): custom fields by name (``/field``), so a connection's
  ``custom_mappings`` say ``$.custom['Story Points']``: read into ``custom`` (select -> its
  value, ADF textarea -> HTML), written from it to ``fields.<id>`` in the type the field takes.
- ``jira_labels`` (preparer): ``/label`` answers bare names; each becomes ``{"name": ...}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from unigate.kit import (
    COMPONENTS,
    Connector,
    DownstreamCall,
    JqlClause,
    JqlError,
    OperationContext,
    RequestValidationError,
    Transform,
    TransformError,
    adf_to_html,
    build_jql,
    html_to_adf,
    jql_datetime,
)


# -- ADF ------------------------------------------------------------------------------------------
def _read_adf(value: Any) -> Any:
    return adf_to_html(value) if isinstance(value, dict) else value


def _write_adf(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TransformError("expected HTML or plain text")
    return html_to_adf(value)


def jira_adf(options: dict[str, Any]) -> Transform:
    return Transform(_read_adf, _write_adf)


def jira_user(options: dict[str, Any]) -> Transform:
    """The built-in ``assignees`` transform (``single``) writing ``{"accountId": id}``, or null to
    unassign (Jira's ``assignee: null``)."""
    base = COMPONENTS.get("transform", "assignees")({**options, "write": "single"})

    def write(value: Any) -> Any:
        sent = base.write(value)
        return None if sent is None else {"accountId": sent}

    return Transform(base.read, write, base.item, single=True)


# -- search: JQL built from parameters --------------------------------------------------------------
async def jira_search(ctx: OperationContext, call: DownstreamCall, options: dict[str, Any]) -> Any:
    """``options``: ``clauses`` ``{param: {field, operator, datetime?}}`` (``in``: the value split
    on commas), ``order`` (the sort parameter, ``"<field> <direction>"``), ``tie_breaker``
    (a field ordered the same way after it), ``default_order``."""
    clauses: dict[str, dict[str, Any]] = options.get("clauses", {})
    where: list[JqlClause] = []
    order = str(options.get("default_order", ""))
    params: list[tuple[str, str]] = []
    for name, value in call.params:
        if name == options.get("order"):
            order = value
        elif name in clauses:
            where.append(await _clause(ctx, clauses[name], value))
        else:
            params.append((name, value))
    try:
        jql = build_jql(where, _order_by(order, options.get("tie_breaker")))
    except JqlError as exc:
        raise RequestValidationError("Invalid filter or sort", {"filter": str(exc)}) from None
    return await ctx.call(call.call_id, "GET", call.path, params=[("jql", jql), *params],
                          apply_query_pass_through=call.query_pass_through)


jira_search.calls = {"myself_time_zone": ("GET", "/myself")}  # type: ignore[attr-defined]


async def _clause(ctx: OperationContext, spec: dict[str, Any], value: str) -> JqlClause:
    operator = str(spec.get("operator", "="))
    if operator in ("in", "not in"):
        return JqlClause(spec["field"], operator, [v for v in value.split(",") if v])
    if spec.get("datetime"):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return JqlClause(spec["field"], operator, jql_datetime(moment, await _user_zone(ctx)))
    return JqlClause(spec["field"], operator, value)


async def _user_zone(ctx: OperationContext) -> ZoneInfo:
    """The API user's time zone, in which Jira reads JQL dates."""
    body = (await ctx.call("myself_time_zone", "GET", "/myself")).body
    try:
        return ZoneInfo(str((body or {}).get("timeZone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _order_by(order: str, tie_breaker: str | None) -> list[tuple[str, str]]:
    if not order:
        return []
    field, _, direction = order.partition(" ")
    keys = [(field, direction or "ASC")]
    if tie_breaker and tie_breaker != field:
        keys.append((tie_breaker, direction or "ASC"))
    return keys


# -- writes: the issue, then its status through a transition -------------------------------------
async def jira_issue_write(ctx: OperationContext, call: DownstreamCall, options: dict[str, Any]) -> Any:
    """The create (POST) or edit (PUT) without ``status``, then the transition into it. An edit
    changing only the status makes no PUT."""
    body = _parent_cleared(dict(call.body or {}))
    wanted = body.pop("status", None)
    response = None
    if call.method == "POST" or body.get("fields") or body.get("update") or _targeted(ctx, call):
        response = await ctx.call(call.call_id, call.method, call.path, params=call.params, body=body,
                                  pass_through_applied=call.pass_through_applied)
    if wanted is not None:
        issue = call.path if response is None or call.method != "POST" else f"/issue/{response.body['id']}"
        read = await move_to(ctx, issue, str(wanted))
        response = response or read
    return response


jira_issue_write.calls = {  # type: ignore[attr-defined]
    "tickets_status": ("GET", "/issue/{ticket_id}"), "tickets_transitions": ("GET", "/issue/{ticket_id}/transitions"),
    "tickets_transition": ("POST", "/issue/{ticket_id}/transitions")}


def _parent_cleared(body: dict[str, Any]) -> dict[str, Any]:
    """A null parent (``fields.parent.id: null``) as Jira removes one: ``update.parent`` ``set``
    ``{"none": true}`` (the description of ``PUT /issue``: "the parent may be removed by setting
    update.parent.set.none to true")."""
    fields = body.get("fields")
    if isinstance(fields, dict) and fields.get("parent") == {"id": None}:
        body["fields"] = {k: v for k, v in fields.items() if k != "parent"}
        body["update"] = {**(body.get("update") or {}), "parent": [{"set": {"none": True}}]}
    return body


def _targeted(ctx: OperationContext, call: DownstreamCall) -> bool:
    return any(e.applies_to(ctx.service_id, call.call_id) for e in ctx.request.pass_through_body)


def _reaches(status: dict[str, Any], wanted: str) -> bool:
    category = (status.get("statusCategory") or {}).get("key")
    return wanted.casefold() in (str(category).casefold(), str(status.get("name")).casefold())


async def move_to(ctx: OperationContext, issue: str, wanted: str) -> Any:
    """Transition ``issue`` into a status of category ``wanted`` (``new``, ``indeterminate``,
    ``done``) or named ``wanted``; nothing when it is in one already."""
    read = await ctx.call("tickets_status", "GET", issue, params=[("fields", "status")])
    status = ((read.body or {}).get("fields") or {}).get("status") or {}
    if _reaches(status, wanted):
        return read
    found = (await ctx.call("tickets_transitions", "GET", f"{issue}/transitions")).body or {}
    transitions = found.get("transitions") or []
    chosen = next((t for t in transitions if _reaches(t.get("to") or {}, wanted)), None)
    if chosen is None:
        available = [f"{t.get('name')} -> {(t.get('to') or {}).get('name')} "
                     f"({((t.get('to') or {}).get('statusCategory') or {}).get('key')})" for t in transitions]
        raise RequestValidationError(
            f"Jira's workflow has no transition from {status.get('name')!r} into a status of {wanted!r}",
            {"status": f"no transition into {wanted!r}; available: {', '.join(available) or 'none'}",
             "available_transitions": available})
    await ctx.call("tickets_transition", "POST", f"{issue}/transitions", body={"transition": {"id": chosen["id"]}})
    return read


# -- custom fields by name --------------------------------------------------------------------------
async def jira_custom_fields(connector: Connector, ctx: OperationContext, records: list[Any],
                             options: dict[str, Any]) -> list[Any]:
    fields = await connector.lookup(ctx, "fields_lookup", "/field", "$")
    custom = {f["name"]: f for f in fields if f.get("custom")}
    writing = ctx.request.operation in ("add", "update")
    for record in records:
        if isinstance(record, dict):
            _write_custom(record, custom) if writing else _read_custom(record, custom)
    return records


jira_custom_fields.calls = {"fields_lookup": ("GET", "/field")}  # type: ignore[attr-defined]


def _kind(field: dict[str, Any]) -> str:
    schema = field.get("schema") or {}
    return str(schema.get("custom", "")).rsplit(":", 1)[-1] if schema.get("type") != "option" else "select"


def _read_custom(record: dict[str, Any], custom: dict[str, dict[str, Any]]) -> None:
    stored = record.get("fields") or {}
    named: dict[str, Any] = {}
    for name, field in custom.items():
        value = stored.get(field["id"])
        if isinstance(value, dict) and _kind(field) == "select":
            value = value.get("value")
        elif isinstance(value, dict) and _kind(field) == "textarea":
            value = adf_to_html(value)
        named[name] = value
    record["custom"] = named


def _write_custom(body: dict[str, Any], custom: dict[str, dict[str, Any]]) -> None:
    named = body.pop("custom", None)
    if not isinstance(named, dict):
        return
    unknown = sorted(set(named) - set(custom))
    if unknown:
        raise RequestValidationError("Unknown Jira custom field", {
            "custom_mappings": f"no custom field named {', '.join(unknown)}; known: {', '.join(sorted(custom))}"})
    for name, value in named.items():
        field = custom[name]
        kind = _kind(field)
        if value is not None and kind == "select":
            value = {"value": value}
        elif value is not None and kind == "textarea":
            value = html_to_adf(str(value))
        body.setdefault("fields", {})[field["id"]] = value


async def jira_labels(connector: Connector, ctx: OperationContext, records: list[Any],
                      options: dict[str, Any]) -> list[Any]:
    """``GET /label`` pages plain names: each becomes a record ``{"name": label}``."""
    return [{"name": label} for label in records]
