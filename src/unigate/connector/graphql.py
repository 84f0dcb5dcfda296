"""GraphQL request style (manifest ``request: {style: graphql, document, variables}``).

The operation's call is ``POST <path>`` with ``{"query": document, "variables": {...}}``; its
records, record and created id are selected from the whole answer (``$.data.issues.nodes``).
Variables are templates over the request's context plus ``{body}`` (the mapped downstream body,
``{body.<key>}`` one key of it); the operation's query parameters (paging, filters) are added as
variables too, digit strings as integers (``first: 20``). An answer with ``errors`` is a typed
error by each error's ``extensions.code``: ``NOT_FOUND`` 404 ``EntityNotFoundError``,
``BAD_USER_INPUT`` 400 ``RequestValidationError``, ``UNAUTHENTICATED`` 401
``ConnectorCredentialsError``, ``FORBIDDEN`` 403, anything else 502 ``ConnectorExecutionError``.

At load, each document is parsed, and validated against the schema file the manifest names
(``http.graphql_schema``), with graphql-core (the reference implementation's port).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, build_schema, parse, validate

from unigate.errors import (
    ConnectorCredentialsError,
    ConnectorExecutionError,
    EntityNotFoundError,
    RequestValidationError,
    UnifiedError,
)
from unigate.mapping.spec_steps import RequestSpec
from unigate.mapping.template import render_value

if TYPE_CHECKING:
    from unigate.connector.context import OperationContext
    from unigate.connector.requests import DownstreamCall
    from unigate.downstream.client import DownstreamResponse
    from unigate.mapping.spec import MappingFile


async def send_graphql(ctx: OperationContext, request: RequestSpec, call: DownstreamCall) -> DownstreamResponse:
    context = {**ctx.template_context, "body": call.body or {}}
    variables = {k: render_value(v, context) for k, v in request.variables.items()}
    variables.update({k: int(v) if v.isdigit() else v for k, v in call.params})
    payload = {"query": request.document, "variables": variables}
    response = await ctx.call(call.call_id, "POST", call.path, body=payload, headers=call.headers)
    errors = response.body.get("errors") if isinstance(response.body, dict) else None
    if errors:
        raise graphql_error(ctx.service_id, call.call_id, errors)
    return response


def graphql_error(service_id: str, call_id: str, errors: list[Any]) -> UnifiedError:
    """The answer's ``errors`` as the typed error of the first one's ``extensions.code``."""
    listed: list[dict[str, Any]] = [e if isinstance(e, dict) else {"message": str(e)} for e in errors]
    downstream = [{"message": e.get("message"), "code": (e.get("extensions") or {}).get("code"),
                   "detail": e.get("path")} for e in listed]
    code = downstream[0]["code"]
    summary = "; ".join(str(e["message"]) for e in downstream if e.get("message"))
    message = f"{service_id} answered GraphQL errors: {summary}"
    detail = {"call_id": call_id, "graphql_errors": listed}
    if code == "NOT_FOUND":
        return EntityNotFoundError(message, detail, downstream_errors=downstream)
    if code == "BAD_USER_INPUT":
        return RequestValidationError(message, detail, downstream_errors=downstream)
    if code == "UNAUTHENTICATED":
        return ConnectorCredentialsError(message, detail, downstream_errors=downstream)
    status = 403 if code == "FORBIDDEN" else 502
    return ConnectorExecutionError(message, detail, status_code=status, downstream_errors=downstream)


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
