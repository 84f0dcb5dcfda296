"""Request styles a manifest declares (``request``, docs/mapping-files.md): how an operation's call
is sent.

- ``rest`` (the default): the call as declared; ``content_type: form`` form-encodes the body;
  ``if_match`` sends ``If-Match`` with the item's etag (read first, unless the client pinned one in
  the body) and answers the tracker's stale-etag status (412) with a 409 ``ConflictError``;
- ``graphql``: the declared document and variables POSTed as ``{query, variables}``
  (:mod:`unigate.connector.graphql`);
- any other name: a registered **request** component (:class:`RequestBuilder`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from unigate.components import COMPONENTS
from unigate.connector.context import OperationContext
from unigate.errors import ConflictError, UnifiedError
from unigate.mapping.paths import MISSING, compile_path
from unigate.mapping.spec_steps import IfMatchSpec, RequestSpec, ThenCallSpec
from unigate.mapping.template import compile_template, render_value

if TYPE_CHECKING:
    from unigate.downstream.client import DownstreamResponse


@dataclass(frozen=True)
class DownstreamCall:
    """One call an operation makes, before its request style shapes it."""

    call_id: str
    method: str
    path: str                              # rendered, relative to the base URL
    params: list[tuple[str, str]]
    body: dict[str, Any] | None = None     # the mapped downstream body (writes)
    query_pass_through: bool = False       # the request's pass_through query applies (reads)
    headers: dict[str, str] | None = None
    pass_through_applied: bool = False     # the body already carries the request's body pass_through


class RequestBuilder(Protocol):
    """A ``request`` component: sends ``call`` (with ``ctx.call``, once or more) and returns the
    response the operation reads its records (or created id) from. ``options`` are the manifest's
    ``request.options``. A builder making calls under ids of its own says so in a ``calls``
    attribute, ``{call_id: (method, path)}`` (as a preparer does)."""

    async def __call__(self, ctx: OperationContext, call: DownstreamCall,
                       options: dict[str, Any]) -> DownstreamResponse: ...


async def send(ctx: OperationContext, request: RequestSpec | None, call: DownstreamCall,
               tracker: str) -> DownstreamResponse:
    if request is None or (request.style == "rest" and request.if_match is None):
        return await _plain(ctx, call, form=request is not None and request.content_type == "form")
    if request.style == "graphql":
        from unigate.connector.graphql import send_graphql  # late: graphql-core loads only when used
        return await send_graphql(ctx, request, call)
    if request.style != "rest":
        builder: RequestBuilder = COMPONENTS.get("request", request.style)
        return await builder(ctx, call, request.options)
    assert request.if_match is not None
    return await _with_if_match(ctx, request, request.if_match, call, tracker)


async def _plain(ctx: OperationContext, call: DownstreamCall, *, form: bool = False,
                 pass_through_applied: bool = False) -> DownstreamResponse:
    return await ctx.call(call.call_id, call.method, call.path, params=call.params, body=call.body,
                          apply_query_pass_through=call.query_pass_through, headers=call.headers,
                          pass_through_applied=pass_through_applied or call.pass_through_applied, form=form)


async def _with_if_match(ctx: OperationContext, request: RequestSpec, spec: IfMatchSpec, call: DownstreamCall,
                         tracker: str) -> DownstreamResponse:
    """The write with ``If-Match``: the etag pinned in the body (pass_through applied first), else
    a fresh read's; a stale etag is a ``ConflictError`` after ``retries`` fresh attempts."""
    body = call.body
    if body is not None and not call.pass_through_applied:
        body = ctx.with_pass_through(call.call_id, body)
    pinned = compile_path(spec.pinned).get(body) if spec.pinned and body is not None else MISSING
    etag = str(pinned) if pinned not in (MISSING, None) else await read_etag(ctx, spec, call)
    form = request.content_type == "form"
    for attempt in range(spec.retries + 1):
        sent = replace(call, body=body, headers={**(call.headers or {}), "If-Match": etag})
        try:
            return await _plain(ctx, sent, form=form, pass_through_applied=True)
        except UnifiedError as exc:
            if downstream_status(exc) not in spec.conflict:
                raise
            if attempt == spec.retries:
                raise ConflictError(f"{tracker} edit conflict: the item changed since its etag was read; "
                                    f"read it again and retry", exc.detail,
                                    downstream_errors=exc.downstream_errors) from None
            etag = await read_etag(ctx, spec, call)
    raise AssertionError("unreachable: the loop returns or raises")


async def read_etag(ctx: OperationContext, spec: IfMatchSpec, call: DownstreamCall) -> str:
    path = compile_template(spec.path).render(ctx.template_context, quote_values=True) if spec.path else call.path
    query = [(k, str(render_value(v, ctx.template_context))) for k, v in spec.query.items()]
    response = await ctx.call(spec.call_id or f"{call.call_id}_etag", "GET", path, params=query)
    found: Any = response.headers.get(spec.header) if spec.header else compile_path(spec.body or "$").get(response.body)
    return "" if found is None or found is MISSING else str(found)


def downstream_status(exc: UnifiedError) -> Any:
    """The tracker's HTTP status behind ``exc`` (None when it did not come from an answer)."""
    return exc.detail.get("downstream_status") if isinstance(exc.detail, dict) else None


async def run_then(ctx: OperationContext, calls: list[ThenCallSpec], new_id: str | None, tracker: str) -> None:
    """The calls declared to follow a create (``then``: link the new record), ``{new_id}`` its id."""
    context = {**ctx.template_context, "new_id": new_id}
    for spec in calls:
        path = compile_template(spec.path).render(context, quote_values=True)
        body = render_value(spec.body, context)
        await send(ctx, spec.request, DownstreamCall(spec.call_id, spec.method, path, [], body), tracker)
