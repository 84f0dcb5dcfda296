"""GraphQL request style (manifest ``request: {style: graphql, document, variables}``).

The operation's call is ``POST <path>`` with ``{"query": document, "variables": {...}}``; its
records, record and created id are selected from the whole answer (``$.data.issues.nodes``).
Variables are templates over the request's context plus ``{body}`` (the mapped downstream body,
``{body.<key>}`` one key of it) and ``{params.<name>}`` (the operation's query parameters: paging,
filters; digit strings as integers, a parameter given several times as a list); a variable
(or an input-object key) whose template names a parameter the request lacks is left out, with
the objects it leaves empty, so one declared ``filter`` holds only the filters asked for. A
parameter named like a variable the document declares is sent as that variable (``first: 20``).
Body ``pass_through`` applies to the mapped body (what ``{body}`` renders: ``$.title`` sets the
input's title); query ``pass_through`` parameters go on the URL. An answer with ``errors`` (with a 200, or
with the 4xx some servers answer request-level errors with) is a typed error by the first error's
``extensions.code`` (Apollo's codes, and Linear's, whose SDK reads the same field):
``NOT_FOUND`` 404 ``EntityNotFoundError`` (and Linear's ``INVALID_INPUT`` *Entity not found: X*;
in a create, a 400: the missing record is one the new one refers to),
``BAD_USER_INPUT`` / ``INVALID_INPUT`` or ``extensions.userError`` 400 ``RequestValidationError``
(the ``userPresentableMessage`` when given), ``UNAUTHENTICATED`` / ``AUTHENTICATION_ERROR`` 401
``ConnectorCredentialsError``, ``RATELIMITED`` 429 ``ConnectorRateLimitError``, ``FORBIDDEN`` 403,
anything else 502 ``ConnectorExecutionError``.

At load, each document is parsed, and validated against the schema file the manifest names
(``http.graphql_schema``), with graphql-core (the reference implementation's port).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, OperationType, build_schema, parse, validate

from unigate.errors import (
    ConnectorCredentialsError,
    ConnectorExecutionError,
    ConnectorRateLimitError,
    EntityNotFoundError,
    RequestValidationError,
    UnifiedError,
)
from unigate.mapping.spec_steps import RequestSpec
from unigate.mapping.template import TemplateError, render_value

if TYPE_CHECKING:
    from unigate.connector.context import OperationContext
    from unigate.connector.requests import DownstreamCall
    from unigate.downstream.client import DownstreamResponse
    from unigate.mapping.spec import MappingFile


async def send_graphql(ctx: OperationContext, request: RequestSpec, call: DownstreamCall) -> DownstreamResponse:
    params = params_as_variables(call.params)
    body = call.body or {}
    if call.body is not None and not call.pass_through_applied:   # body pass_through: on the mapped body
        body = ctx.with_pass_through(call.call_id, dict(call.body))
    context = {**ctx.template_context, "body": body, "params": params}
    variables = pruned(request.variables, context)
    declared = declared_variables(request.document or "")
    variables.update({k: v for k, v in params.items() if k in declared})
    payload = {"query": request.document, "variables": variables}
    try:   # query pass_through goes on the URL (a GraphQL server ignores what it does not know)
        response = await ctx.call(call.call_id, "POST", call.path, body=payload, headers=call.headers,
                                  pass_through_applied=True, apply_query_pass_through=call.query_pass_through)
    except UnifiedError as exc:   # a request-level error answered with a 4xx: its errors[] say what
        answered = exc.detail.get("downstream_body") if isinstance(exc.detail, dict) else None
        if isinstance(answered, dict) and answered.get("errors"):
            raise graphql_error(ctx.service_id, call.call_id, answered["errors"], variables=variables) from None
        raise
    errors = response.body.get("errors") if isinstance(response.body, dict) else None
    data = response.body.get("data") if isinstance(response.body, dict) else None
    failed = errors and not any((data or {}).values())
    if (failed or not is_mutation(request.document or "")) and ctx.applied and ctx.applied[-1] == call.call_id:
        ctx.applied.pop()   # a query POSTed reads, a mutation answered without data wrote nothing
    if errors:
        creating = ctx.request.operation == "add" and is_mutation(request.document or "")   # not a read of it
        raise graphql_error(ctx.service_id, call.call_id, errors, creating=creating, variables=variables)
    return response


def pruned(value: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """``value``'s templates rendered; a key whose template names a value the request does not have
    (a filter not asked for: ``{params.assignee}``) is left out, and so is an object left empty."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict):
            rendered = pruned(item, context)
            if rendered or not item:
                out[key] = rendered
            continue
        try:
            out[key] = render_value(item, context)
        except TemplateError:
            continue
    return out


@lru_cache(maxsize=256)
def declared_variables(document: str) -> frozenset[str]:
    try:
        parsed = parse(document)
    except GraphQLError:
        return frozenset()
    return frozenset(v.variable.name.value for d in parsed.definitions
                     for v in getattr(d, "variable_definitions", None) or ())


@lru_cache(maxsize=256)
def is_mutation(document: str) -> bool:
    try:
        parsed = parse(document)
    except GraphQLError:
        return True
    return any(getattr(d, "operation", None) == OperationType.MUTATION for d in parsed.definitions)


def params_as_variables(params: list[tuple[str, str]]) -> dict[str, Any]:
    """Query parameters as variables: digit strings as integers, a repeated name as a list."""
    variables: dict[str, Any] = {}
    for key, text in params:
        value: Any = int(text) if text.isdigit() else text
        if key in variables:
            previous = variables[key]
            variables[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            variables[key] = value
    return variables


def graphql_error(service_id: str, call_id: str, errors: list[Any], *, creating: bool = False,
                  variables: dict[str, Any] | None = None) -> UnifiedError:
    """The answer's ``errors`` as the typed error of the first one's ``extensions.code``;
    ``creating``: a not-found is of a record the new one refers to (a 400, not a 404). The detail
    carries the variables sent (which id was not found)."""
    listed: list[dict[str, Any]] = [e if isinstance(e, dict) else {"message": str(e)} for e in errors]
    downstream = [{"message": e.get("message"), "code": (e.get("extensions") or {}).get("code"),
                   "detail": ".".join(str(p) for p in e["path"]) if isinstance(e.get("path"), list) else None}
                  for e in listed]   # Apideck's detail is a string: the field's path, issueCreate.issue
    first = listed[0].get("extensions") or {}
    code = downstream[0]["code"]
    summary = "; ".join(str(e["message"]) for e in downstream if e.get("message"))
    message = f"{service_id} answered GraphQL errors: {summary}"
    detail = {"call_id": call_id, "graphql_errors": listed, **({"variables": variables} if variables else {})}
    not_found = code == "NOT_FOUND" or (code == "INVALID_INPUT" and str(downstream[0]["message"]).startswith(NOT_FOUND))
    if not_found and not creating:
        return EntityNotFoundError(message, detail, downstream_errors=downstream)
    if not_found or code in USER_ERRORS or first.get("userError") is True:
        presentable = first.get("userPresentableMessage")
        return RequestValidationError(f"{service_id}: {presentable}" if presentable else message, detail,
                                      downstream_errors=downstream)
    if code in ("UNAUTHENTICATED", "AUTHENTICATION_ERROR"):
        return ConnectorCredentialsError(message, detail, downstream_errors=downstream)
    if code == "RATELIMITED":
        return ConnectorRateLimitError(message, detail, downstream_errors=downstream)
    status = 403 if code == "FORBIDDEN" else 502
    return ConnectorExecutionError(message, detail, status_code=status, downstream_errors=downstream)


NOT_FOUND = "Entity not found"   # Linear: {"message": "Entity not found: Issue", "code": "INVALID_INPUT"}
USER_ERRORS = frozenset({"BAD_USER_INPUT", "INVALID_INPUT"})


def document_problems(spec: MappingFile, source: str) -> list[tuple[str, str]]:
    """Each declared GraphQL document parsed, and validated against ``http.graphql_schema`` (a
    file beside the manifest) when named: ``(key path, message)`` per problem."""
    problems: list[tuple[str, str]] = []
    schema = None
    if spec.http.graphql_schema is not None:
        path = Path(source).parent / spec.http.graphql_schema
        try:
            schema = build_schema(path.read_text())
        except (OSError, GraphQLError, TypeError) as exc:
            return [("http.graphql_schema", f"cannot read the schema {path}: {exc}")]
    for where, request in _graphql_requests(spec):
        try:
            document = parse(request.document or "")
        except GraphQLError as exc:
            problems.append((f"{where}.document", f"not a GraphQL document: {exc.message}"))
            continue
        if schema is not None:
            problems.extend((f"{where}.document", f"invalid against {spec.http.graphql_schema}: {e.message}")
                            for e in validate(schema, document))
    return problems


def _graphql_requests(spec: MappingFile) -> list[tuple[str, RequestSpec]]:
    found: list[tuple[str, RequestSpec]] = []
    for rname, resource in spec.resources.items():
        for oname, op in resource.operations.items():
            if op.request is not None and op.request.style == "graphql":
                found.append((f"resources.{rname}.operations.{oname}.request", op.request))
    return found
