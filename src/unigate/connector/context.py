"""What a connector operation receives (``OperationContext``) and returns (``OperationResult``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from unigate.connector.lookups import LookupCache
from unigate.connector.paginator import FetchPage, Window
from unigate.connector.paging import fetch_window
from unigate.cursor import CursorPosition
from unigate.errors import EntityNotFoundError, RequestValidationError
from unigate.mapping.fields import FieldTree
from unigate.mapping.passthrough import BodyExtension, PassThroughError, apply_body_pass_through
from unigate.mapping.template import compile_template, render_value

if TYPE_CHECKING:
    from unigate.downstream.client import DownstreamResponse, DownstreamSession
    from unigate.mapping.compiled import RecordMapping
    from unigate.mapping.spec import PaginationSpec
    from unigate.vault.models import Connection


@dataclass
class UnifiedRequest:
    """A parsed, validated unified request (built by ``unigate.api.parse``)."""

    resource: str                     # collections | tickets | comments | users | tags
    operation: str                    # all | one | add | update | delete
    path_params: dict[str, str]       # collection_id, ticket_id, id
    limit: int = 20
    cursor: str | None = None
    raw: bool = False
    fields: FieldTree | None = None
    filter: dict[str, Any] = field(default_factory=dict)
    sort: dict[str, str] | None = None
    pass_through_query: list[tuple[str, str]] = field(default_factory=list)
    body: dict[str, Any] | None = None
    pass_through_body: list[BodyExtension] = field(default_factory=list)
    # a write with a field the tracker cannot store as sent: refused (400) instead of meta.warnings
    strict: bool = False

    @property
    def scope(self) -> str:
        """What a cursor is bound to: the list and its parents."""
        parents = "/".join(f"{k}={v}" for k, v in sorted(self.path_params.items()))
        return f"{self.resource}:{parents}"


@dataclass
class OperationResult:
    data: Any
    next: CursorPosition | None = None
    previous: CursorPosition | None = None
    current: CursorPosition | None = None
    total_count: int | None = None
    warnings: list[dict[str, Any]] | None = None


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class OperationContext:
    request: UnifiedRequest
    connection: Connection
    session: DownstreamSession
    mapping: RecordMapping            # this resource's mapping, with the connection's custom_mappings
    template_context: dict[str, Any]  # settings, credentials, path params
    position: CursorPosition          # decoded cursor (offset 0 when none)
    # call ids of the writes that succeeded downstream, in order: if the operation fails after one,
    # ``Connector.execute`` reports them (nothing half-applied silently)
    applied: list[str] = field(default_factory=list)
    current_call: str | None = None   # the call under way (None between calls)
    # add/update: fields not stored as sent, ``{"field", "message"}`` each (the response's meta.warnings)
    warnings: list[dict[str, str]] = field(default_factory=list)
    # the addressed item as its list shows it (manifest `listed`; None when not declared)
    listed: dict[str, Any] | None = None
    lookups: LookupCache = field(default_factory=LookupCache)  # the connection's (unigate.connection_state)

    @property
    def service_id(self) -> str:
        return self.connection.service_id

    # -- the author's tools (a connector's own implementation needs nothing else) -----------------
    def path(self, template: str) -> str:
        """A downstream path from a template (``/issues/{ticket_id}.json``, ``{settings.x}``), every
        value percent-encoded as one path segment."""
        return compile_template(template).render(self.template_context, quote_values=True)

    def query(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        """Query parameters from templates (``{"project_id": "{collection_id}"}``), in order."""
        return [(k, str(render_value(v, self.template_context))) for k, v in values.items()]

    async def page(self, fetch: FetchPage, pagination: PaginationSpec | None, records: str = "$") -> Window:
        """One page of a list at the request's cursor and limit: ``fetch(page_params)`` makes one
        downstream call with the paging parameters added; the window says the records, the next
        position (None at the end) and the total when the tracker counts it."""
        return await fetch_window(fetch, pagination, records, self.position, self.request.limit)

    def not_found(self, what: str, detail: str) -> EntityNotFoundError:
        """The typed 404 for an item the tracker does not have (raise it): ``what`` is the unified
        kind ("Ticket"), ``detail`` says what was looked for where."""
        return EntityNotFoundError(f"{what} not found", detail)

    async def call(
        self,
        call_id: str,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: dict[str, Any] | None = None,
        apply_query_pass_through: bool = False,
        headers: dict[str, str] | None = None,
        pass_through_applied: bool = False,
        form: bool = False,
    ) -> DownstreamResponse:
        """One downstream call: body pass_through entries for ``call_id`` are applied here (unless
        ``pass_through_applied``: the body came from :meth:`with_pass_through`).
        ``headers`` are added to the connection's for this call only (``If-Match``, ``Accept``);
        ``form`` sends the body form-encoded instead of as JSON.
        A write that succeeds is recorded in ``applied``."""
        self.current_call = call_id
        if body is not None and not pass_through_applied:
            body = self.with_pass_through(call_id, body)
        query = list(params or [])
        if apply_query_pass_through and self.request.pass_through_query:
            overridden = {k for k, _ in self.request.pass_through_query}
            query = [(k, v) for k, v in query if k not in overridden] + self.request.pass_through_query
        response = await self.session.request(call_id, method, path, params=query, json=body,
                                              send_body=body is not None, headers=headers, form=form)
        if method.upper() not in READ_METHODS:
            self.applied.append(call_id)
        self.current_call = None
        return response

    def targeted(self, call_id: str) -> bool:
        """Whether a body pass_through entry of the request applies to ``call_id`` (one naming it, or
        one naming no call): the call is then made even when no mapped field changed."""
        return any(e.applies_to(self.service_id, call_id) for e in self.request.pass_through_body)

    def with_pass_through(self, call_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` (mutated) with the request's body pass_through for ``call_id``; a path that
        cannot be set in it is a 400 naming the entry and path. Connectors making several writes
        apply it to every body before the first call (see ``Connector.run_calls``)."""
        try:
            return apply_body_pass_through(body, self.request.pass_through_body, self.service_id, call_id)
        except PassThroughError as exc:
            raise RequestValidationError("Invalid pass_through", {
                key: f"{what} (in the body of downstream call {call_id})" for key, what in exc.detail.items()}) from None
