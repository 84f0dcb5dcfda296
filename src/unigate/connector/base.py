"""``Connector``: runs the five unified operations as a mapping file declares them.

Every operation runs the declarative implementation, unless a subclass declares its own with
:func:`implements` (``@implements("tickets.update", calls=("tickets_close",))``): the genuinely
procedural, which may still call ``await self.run_declared(ctx)`` or the helpers below.
``Connector.execute`` dispatches through the declared table (``implementations``), never by name.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

from unigate.connector import moved, write_steps
from unigate.connector.context import OperationContext, OperationResult
from unigate.connector.declared_calls import lookup_calls, step_calls
from unigate.connector.declared_lookups import resolve_writes, with_status_ids
from unigate.connector.emulated import list_window, plan_list
from unigate.connector.find import find_in_pages
from unigate.connector.listed import find_listed
from unigate.connector.paginator import FetchPage
from unigate.connector.prepare import run_steps
from unigate.connector.query import filter_params, sort_params
from unigate.connector.records import kept, updated_since
from unigate.connector.requests import DownstreamCall, run_then, send
from unigate.cursor import CursorPosition
from unigate.errors import (
    ConnectorOperationUnsupportedError,
    EntityNotFoundError,
    RequestValidationError,
    UnexpectedError,
    UnifiedError,
)
from unigate.mapping.compiled import FieldWriteError, RecordMapping
from unigate.mapping.passthrough import deep_merge
from unigate.mapping.paths import MISSING, compile_path
from unigate.mapping.spec import CheckCallSpec, MappingFile, OperationSpec, PaginationSpec, ResourceSpec
from unigate.mapping.template import render_value
from unigate.unified import UNIFIED

log = logging.getLogger("unigate.connector")
Implementation = Callable[[Any, OperationContext], Awaitable[OperationResult]]
_F = TypeVar("_F", bound=Implementation)


def implements(operation: str, *, calls: tuple[str, ...] = ()) -> Callable[[_F], _F]:
    """Declare a method as a connector's own implementation of ``operation`` (``"tickets.update"``),
    making the downstream calls ``calls`` beyond those its manifest declares (what a body
    pass_through ``operation_id`` may name; ``unigate connectors show`` lists them)."""
    resource, _, op = operation.partition(".")
    if (resource, op) not in {(r, o) for r in UNIFIED.resource_names for o in UNIFIED.operation_names}:
        raise ValueError(f"{operation!r} is not a unified operation (<resource>.<operation>)")

    def mark(function: _F) -> _F:
        function.__unigate_implements__ = ((resource, op), tuple(calls))  # type: ignore[attr-defined]
        return function

    return mark


class Connector:
    # (resource, operation) -> the subclass's own implementation (@implements); filled per class
    implementations: ClassVar[dict[tuple[str, str], Implementation]] = {}
    # call ids of the downstream calls those implementations make beyond the manifest's
    code_call_ids: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = dict(cls.implementations)
        calls = list(cls.code_call_ids)
        for name, value in vars(cls).items():
            marked = getattr(value, "__unigate_implements__", None)
            if marked is not None:
                table[marked[0]] = value
                calls += marked[1]
            elif callable(value) and _looks_like_operation(name):
                raise TypeError(f"{cls.__qualname__}.{name}: declare it with @implements(\"{name.replace('_', '.', 1)}\") "
                                f"(operations are dispatched through the declared table, not by method name)")
        cls.implementations = table
        cls.code_call_ids = tuple(dict.fromkeys(calls))

    def __init__(self, spec: MappingFile) -> None:
        self.spec = spec
        self.service_id = spec.service_id
        self.mappings: dict[str, RecordMapping] = {
            name: RecordMapping.from_spec(name, resource) for name, resource in spec.resources.items()
        }
        collections = spec.resources.get("collections")
        listing = collections.operations.get("all") if collections else None
        # trackers with fixed (static) collections: other collection ids are refused before any call
        self.static_collection_ids = (frozenset(str(c.get("id")) for c in listing.static)
                                      if listing is not None and listing.static is not None else None)
        self.call_ids: tuple[str, ...] = tuple(dict.fromkeys([*_mapping_call_ids(spec), *self.code_call_ids]))

    # -- entry point -------------------------------------------------------------------------------
    async def execute(self, ctx: OperationContext) -> OperationResult:
        """Run the operation. Whatever fails after a write was applied downstream (a downstream
        error, or an exception in our or a connector's code) is answered with an error naming the
        applied calls: a :class:`UnifiedError` gains them in its detail, anything else becomes an
        ``UnexpectedError`` carrying them."""
        try:
            result = await self._execute(ctx)
        except Exception as exc:
            if isinstance(exc, UnifiedError) and self.spec.http.errors.statuses:
                await moved.add_new_id(self.spec, ctx, exc)   # a declared move: where the item went
            if not ctx.applied or getattr(exc, "partly_applied", False):
                raise
            error = partly_applied(exc, ctx, ctx.current_call, [])
            if error is exc:
                raise
            raise error from exc
        if ctx.warnings:
            result.warnings = [*(result.warnings or []), *ctx.warnings]
        return result

    async def _execute(self, ctx: OperationContext) -> OperationResult:
        request = ctx.request
        collection_id = request.path_params.get("collection_id")
        if self.static_collection_ids is not None and collection_id is not None \
                and collection_id not in self.static_collection_ids:
            raise EntityNotFoundError(
                "Collection not found", f"{self.spec.name} has the collections "
                f"{', '.join(sorted(self.static_collection_ids))}; not {collection_id!r}")
        self.check_request(ctx)
        declared = self._declared(request.resource, request.operation)
        if declared is not None and declared.listed is not None and request.operation != "one":
            await self.check_listed(ctx, declared)   # before anything is read or written
        implementation = self.implementations.get((request.resource, request.operation))
        if implementation is not None:
            return await implementation(self, ctx)
        return await self.run_declared(ctx)

    def check_request(self, ctx: OperationContext) -> None:
        """What the request asks of this connector, settled before any downstream call: body
        pass_through naming a call that does not exist, query pass_through overriding the paging
        parameters, a sort direction without a field (the list's default field), and a write's
        fields (refusals; ``meta.warnings``, or a refusal in strict mode)."""
        request = ctx.request
        for index, ext in enumerate(request.pass_through_body):
            if ext.service_id == self.service_id and ext.operation_id is not None \
                    and ext.operation_id not in self.call_ids:
                raise RequestValidationError("Invalid pass_through", {
                    f"pass_through[{index}].operation_id": f"{self.spec.name} has no call {ext.operation_id!r}; "
                                                           f"its call ids: {', '.join(self.call_ids)}"})
        if request.pass_through_query:
            paging = paging_params(self._paging(request.resource, request.operation))
            clash = sorted({k for k, _ in request.pass_through_query} & paging)
            if clash:
                raise RequestValidationError("Invalid pass_through", {
                    f"pass_through[{k}]": f"{k} is a paging parameter of {self.spec.name}, set by the gateway "
                                          f"from limit and cursor; it cannot be passed through" for k in clash})
        if request.operation == "all" and request.sort is not None and request.sort.get("by") is None:
            request.sort = self._default_sort(request.resource, request.sort.get("direction", "asc"))
        if request.operation in ("add", "update") and request.body is not None:
            op = self._declared(request.resource, request.operation)
            write_steps.check_field_rules(self.spec.resources[request.resource],
                                          request.body, creating=request.operation == "add")
            try:
                plan = ctx.mapping.plan(request.body, creating=request.operation == "add",
                                        only=op.writes if op is not None else None, tracker=self.spec.name)
            except FieldWriteError as exc:
                raise RequestValidationError("Invalid field value", {exc.field_name: exc.message}) from None
            if plan.warnings and request.strict:
                raise RequestValidationError(
                    f"{self.spec.name} cannot store {', '.join(plan.warned_fields)} as sent (strict mode)",
                    {w["field"]: w["message"] for w in plan.warnings})
            ctx.warnings = plan.warnings

    def warn(self, ctx: OperationContext, field_name: str, message: str) -> None:
        """A field a quirk connector does not store as sent: a ``meta.warnings`` entry, or (strict mode)
        a 400 naming it. Call it before the first downstream write."""
        if ctx.request.strict:
            raise RequestValidationError(f"{self.spec.name} cannot store {field_name} as sent (strict mode)",
                                         {field_name: message})
        ctx.warnings.append({"field": field_name, "message": message})

    def _default_sort(self, resource: str, direction: str) -> dict[str, str] | None:
        """A direction without a field (the SDK sends ``sort[direction]=asc`` by itself): the list's
        default field (``sort.default``, else its natural order's) in that direction. ``asc`` is the
        spec's default, not a choice: where the list cannot come ascending it comes in its own order
        (None); an explicit ``desc`` it cannot give is refused as usual (UnsupportedSortFieldError)."""
        op = self._declared(resource, "all")
        sort = op.sort if op is not None else None
        by = sort.default_field if sort is not None else None
        if sort is None or by is None:
            return None
        if direction == "asc" and by not in sort.fields and f"{by} asc" not in sort.natural:
            return None
        return {"by": by, "direction": direction}

    def _declared(self, resource: str, operation: str) -> OperationSpec | None:
        res = self.spec.resources.get(resource)
        return res.operations.get(operation) if res is not None else None

    def _paging(self, resource: str, operation: str) -> PaginationSpec | None:
        """The pagination an operation's calls use: its own, else (a ``one`` done in code by paging
        through the list, e.g. a user found among the members) the list's."""
        op = self._declared(resource, operation)
        if op is None and operation == "one":
            op = self._declared(resource, "all")
        return op.pagination if op is not None else None

    def supports(self, resource: str, operation: str) -> bool:
        if (resource, operation) in self.implementations:
            return True
        res = self.spec.resources.get(resource)
        return res is not None and operation in res.operations

    def mapping_for(self, resource: str, custom_mappings: dict[str, str],
                    settings: dict[str, Any] | None = None) -> RecordMapping:
        """``resource``'s mapping with a connection's custom mappings and, where transform options name
        connection settings (``{settings.x}``), those settings' values (kept per connection by ``ConnectionState``)."""
        base = self.mappings.get(resource) or RecordMapping(resource, {})
        if settings and base.names_settings:
            base = base.with_settings(settings)
        if resource != "tickets" or not custom_mappings:
            return base
        return base.with_custom_mappings(custom_mappings)

    # -- declarative operations -----------------------------------------------------------------------
    async def run_declared(self, ctx: OperationContext) -> OperationResult:
        request = ctx.request
        op = self.operation(request.resource, request.operation)
        runner = {"all": self.declared_all, "one": self.declared_one, "add": self.declared_add,
                  "update": self.declared_update, "delete": self.declared_delete}[request.operation]
        if request.operation == "all" and isinstance(op.collection_check, str):
            sort_params(op, request.sort, self.service_id)   # an unsupported sort: refused before the check's read
        if isinstance(op.collection_check, CheckCallSpec):
            await write_steps.in_listed_collection(self, ctx, op.collection_check)
        elif op.collection_check is not None and self._reads_ticket(ctx, op) is None:
            await self.check_ticket_collection(ctx, op.collection_check)   # before anything is written
        if op.exists_check is not None:
            await self.check_exists(ctx, op.exists_check)
        return await runner(ctx, op)

    def operation(self, resource: str, operation: str) -> OperationSpec:
        res: ResourceSpec | None = self.spec.resources.get(resource)
        op = res.operations.get(operation) if res else None
        if op is None:
            raise ConnectorOperationUnsupportedError(
                "Operation not supported",
                f"{self.spec.name} ({self.service_id}) does not support {resource}.{operation}",
            )
        return op

    def call_id(self, ctx: OperationContext, op: OperationSpec) -> str:
        return op.call_id or f"{ctx.request.resource}_{ctx.request.operation}"

    def path(self, ctx: OperationContext, template: str) -> str:
        return ctx.path(template)

    def map_records(self, ctx: OperationContext, records: list[Any]) -> list[dict[str, Any]]:
        values = ctx.mapping.render_values(ctx.template_context)
        read = ctx.mapping.read
        return [read(r, values) for r in records]

    def downstream_body(self, ctx: OperationContext, op: OperationSpec) -> dict[str, Any]:
        """Body constants of the operation, then the mapped unified body (only present fields).

        With ``wrap: $.issue`` the mapped fields (custom_mappings included) go under ``issue``.
        """
        body = self.body_constants(ctx, op)
        try:
            mapped = ctx.mapping.write(ctx.request.body or {}, creating=ctx.request.operation == "add",
                                       only=op.writes)
        except FieldWriteError as exc:
            raise RequestValidationError("Invalid field value", {exc.field_name: exc.message}) from None
        resource = self.spec.resources.get(ctx.request.resource)
        if resource is not None and resource.null_as_declared:
            mapped = write_steps.nulls_as(mapped, resource.null_as)
        if op.wrap is not None and mapped:
            mapped = compile_path(op.wrap).set({}, mapped)
        return deep_merge(body, mapped)

    def body_constants(self, ctx: OperationContext, op: OperationSpec) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for path, value in op.body.items():
            compile_path(path).set(body, render_value(value, ctx.template_context))
        return body

    async def declared_all(self, ctx: OperationContext, op: OperationSpec) -> OperationResult:
        if op.static is not None:
            return self._static_page(ctx, op)
        request = ctx.request
        op = await with_status_ids(self, ctx, op)
        plan = plan_list(self.spec, request.resource, op, request.filter, request.sort)   # what the engine emulates
        base_params = ctx.query(op.query)
        base_params += filter_params(op, plan.native_filters, self.service_id)
        base_params += sort_params(op, plan.sort, self.service_id)
        call_id = self.call_id(ctx, op)
        path = self.path(ctx, op.path or "")

        def fetch_with(extra: list[tuple[str, str]]) -> FetchPage:
            params = [p for p in base_params if p[0] not in {k for k, _ in extra}] + extra

            async def fetch(page_params: list[tuple[str, str]]) -> Any:
                return await self.send(ctx, op, DownstreamCall(call_id, op.method, path, params + page_params,
                                                               query_pass_through=True))
            return fetch

        try:
            window = await list_window(ctx, op, plan, fetch_with)
        except UnifiedError as exc:
            await self.explain_refusal(ctx, op, exc)
            raise
        if op.collection_exists and not window.records:
            await self.check_collection_exists(ctx)   # an empty page of a collection that may not exist
        records = self.map_records(ctx, await run_steps(self, ctx, op.prepare, window.records))
        for record in records if op.omit else ():
            for name in op.omit:
                record.pop(name, None)
        since = op.filters.get("since")
        if since is not None and since.recheck and request.filter.get("since") is not None:
            return OperationResult(updated_since(records, request.filter["since"]), next=window.next)
        return OperationResult(records, next=window.next, total_count=window.total)

    async def declared_one(self, ctx: OperationContext, op: OperationSpec) -> OperationResult:
        if op.static is not None:
            wanted = ctx.request.path_params.get("id") or ctx.request.path_params.get("collection_id")
            for record in self.map_records(ctx, op.static):
                if record.get("id") == wanted:
                    return OperationResult(record)
            raise EntityNotFoundError("Not found", f"{self.service_id} has no {ctx.request.resource} {wanted!r}")
        if op.pagination is not None and op.match is not None:   # no single-item endpoint: page the list
            return await self._paged_one(ctx, op)
        response = await self.call_declared(ctx, op)
        await self.check_listed(ctx, op)   # after the read: the tracker's own not-found answers first
        ticket = self._reads_ticket(ctx, op) if isinstance(op.collection_check, str) else None
        if ticket is not None:   # this call read the ticket: its collection is checked on it, no other call
            self.in_collection(ctx, op.collection_check, _select_one(response.body, ticket))  # type: ignore[arg-type]
        record = self._kept_one(ctx, op, _select_one(response.body, op.record))
        return OperationResult(self.map_records(ctx, await run_steps(self, ctx, op.prepare, [record]))[0])

    def _kept_one(self, ctx: OperationContext, op: OperationSpec, selected: Any) -> Any:
        """The record a ``one`` answers: of those ``keep`` keeps, the one ``match`` picks."""
        if op.keep:
            selected = kept(selected if isinstance(selected, list) else [selected], op.keep)
            if op.match is None:
                if not selected:
                    raise EntityNotFoundError("Not found", f"{self.spec.name} has no such {ctx.request.resource}")
                selected = selected[0]
        return self._matching(ctx, op, selected) if op.match is not None else selected

    async def check_exists(self, ctx: OperationContext, call_id: str) -> None:
        """Read the resource's ``one`` as call ``call_id``: its not-found (404) is the answer."""
        one = self.operation(ctx.request.resource, "one")
        response = await self.send(ctx, one, DownstreamCall(call_id, one.method, self.path(ctx, one.path or ""),
                                                            self._query(ctx, one)))
        self._kept_one(ctx, one, _select_one(response.body, one.record))

    async def _paged_one(self, ctx: OperationContext, op: OperationSpec) -> OperationResult:
        call_id, path, query = self.call_id(ctx, op), self.path(ctx, op.path or ""), self._query(ctx, op)

        async def fetch(page_params: list[tuple[str, str]]) -> Any:
            return await self.send(ctx, op, DownstreamCall(call_id, op.method, path, query + page_params,
                                                           query_pass_through=True))

        found = await find_in_pages(ctx, op, fetch, self.spec.name)
        return OperationResult(self.map_records(ctx, await run_steps(self, ctx, op.prepare, [found]))[0])

    async def declared_add(self, ctx: OperationContext, op: OperationSpec) -> OperationResult:
        body = self.downstream_body(ctx, op)
        await resolve_writes(self, ctx, op, body)
        body = (await run_steps(self, ctx, op.prepare, [body]))[0]
        try:
            response = await self.send(ctx, op, DownstreamCall(self.call_id(ctx, op), op.method,
                                                               self.path(ctx, op.path or ""), self._query(ctx, op), body))
        except UnifiedError as exc:
            await self.explain_refusal(ctx, op, exc)
            raise
        if op.read_back is not None:   # the write answered without the new record (204)
            return OperationResult({"id": await write_steps.read_back(self, ctx, op.read_back, body)})
        created = self.created_id(ctx, op, response.body)
        if op.resend and created is not None:
            await write_steps.resend(self, ctx, op, body, response.body, created)
        await run_then(ctx, op.then, created, self.spec.name)
        return OperationResult({"id": created})

    async def declared_update(self, ctx: OperationContext, op: OperationSpec) -> OperationResult:
        body = self.downstream_body(ctx, op)
        await resolve_writes(self, ctx, op, body)
        if body and op.prepare:
            body = (await run_steps(self, ctx, op.prepare, [body]))[0]
        calls: list[tuple[str, str, str, dict[str, Any]]] = []
        for split in op.split:
            part = {k: body.pop(k) for k in split.fields if k in body}
            if part:
                calls.append((split.call_id, split.method, self.path(ctx, split.path), part))
        main_call = self.call_id(ctx, op)
        if body or ctx.targeted(main_call):
            calls.insert(0, (main_call, op.method, self.path(ctx, op.path or ""), body))
        await self.run_calls(ctx, calls, op)  # no field to change and no pass_through: no call at all
        target = ctx.request.path_params.get("id") or ctx.request.path_params.get("ticket_id")
        return OperationResult({"id": target})

    async def declared_delete(self, ctx: OperationContext, op: OperationSpec) -> OperationResult:
        body = self.downstream_body(ctx, op) if op.body else None   # a delete made as a write (an action, blank notes)
        await self.send(ctx, op, DownstreamCall(self.call_id(ctx, op), op.method, self.path(ctx, op.path or ""),
                                                self._query(ctx, op), body))
        target = ctx.request.path_params.get("id") or ctx.request.path_params.get("ticket_id")
        return OperationResult({"id": target})

    # -- helpers for quirk connectors -----------------------------------------------------------------
    async def lookup(self, ctx: OperationContext, call_id: str, path: str, records: str, *,
                     params: list[tuple[str, str]] | None = None, ttl: float = 300.0) -> list[dict[str, Any]]:
        """A reference list (statuses, keywords...): ``GET path`` once per connection per ``ttl``
        seconds, the dicts at ``records`` in its body. See :mod:`unigate.connector.lookups`."""
        key = (ctx.connection.id, ctx.connection.revision, call_id, path, tuple(params or ()))
        cached = ctx.lookups.get(key)
        if cached is not None:
            return cached
        body = (await ctx.call(call_id, "GET", path, params=params)).body
        found = compile_path(records).get(body)
        items = [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []
        ctx.lookups.put(key, items, ttl)
        return items

    def forget(self, ctx: OperationContext, call_id: str) -> None:
        """Drop this connection's cached ``call_id`` lists (after the connector changed one)."""
        ctx.lookups.forget(ctx.connection.id, call_id)

    async def call_declared(self, ctx: OperationContext, op: OperationSpec) -> Any:
        """Make the downstream call ``op`` declares (query, pass_through query); return the response."""
        return await self.send(ctx, op, DownstreamCall(self.call_id(ctx, op), op.method, self.path(ctx, op.path or ""),
                                                       self._query(ctx, op), query_pass_through=True))

    async def check_listed(self, ctx: OperationContext, op: OperationSpec) -> None:
        """``op.listed``: 404 unless the list shows the addressed item (hidden in lists, readable by id)."""
        if op.listed is not None:
            ctx.listed = await find_listed(ctx, op.listed, self.spec.name)

    async def send(self, ctx: OperationContext, op: OperationSpec, call: DownstreamCall) -> Any:
        """``call`` sent the way ``op.request`` declares (:mod:`unigate.connector.requests`)."""
        return await send(ctx, op.request, call, self.spec.name)

    def _matching(self, ctx: OperationContext, op: OperationSpec, selected: Any) -> Any:
        assert op.match is not None
        wanted = str(render_value(op.match.value, ctx.template_context))
        getter = compile_path(op.match.path)
        for item in selected if isinstance(selected, list) else [selected]:   # a list, or one record to check
            value = getter.get(item)
            if value is not MISSING and str(value) == wanted:
                return item
        raise EntityNotFoundError("Not found", f"{self.spec.name} has no {ctx.request.resource} {wanted!r} here")

    # -- the collection (and ticket) in the path are honoured ------------------------------------------
    def _reads_ticket(self, ctx: OperationContext, op: OperationSpec) -> str | None:
        """The selector of the ticket in ``op``'s own answer when ``op`` is a read of the ticket
        (tickets.one, or a comments.one that reads the same call as tickets.one), else None."""
        request = ctx.request
        if request.operation != "one" or op.static is not None:
            return None
        if request.resource == "tickets":
            return op.record or "$"
        ticket = self.operation("tickets", "one")
        if (op.method, op.path, op.query, op.request) == (ticket.method, ticket.path, ticket.query, ticket.request):
            return ticket.record or "$"
        return None

    def in_collection(self, ctx: OperationContext, path: str, ticket: Any) -> None:
        """404 ``EntityNotFoundError`` unless ``ticket``'s collection (at ``path``) is the path's."""
        wanted = ctx.request.path_params.get("collection_id")
        if wanted is None:
            return
        found = compile_path(path).get(ticket) if isinstance(ticket, dict) else MISSING
        if found is MISSING or found is None or str(found) != wanted:
            ticket_id = ctx.request.path_params.get("ticket_id")
            raise EntityNotFoundError("Ticket not found", f"{self.spec.name} has no ticket {ticket_id!r} in collection "
                                      f"{wanted!r}" + ("" if found is MISSING or found is None else
                                                       f" (it is in collection {str(found)!r})"))

    async def check_ticket_collection(self, ctx: OperationContext, path: str) -> None:
        """Read the ticket with tickets.one (call id ``<resource>_<operation>_collection_check``) and
        check it is in the path's collection: before a write, nothing is changed when it is not."""
        one = self.operation("tickets", "one")
        call_id = f"{ctx.request.resource}_{ctx.request.operation}_collection_check"
        response = await self.send(ctx, one, DownstreamCall(call_id, one.method, self.path(ctx, one.path or ""),
                                                            self._query(ctx, one)))   # as tickets.one sends it
        self.in_collection(ctx, path, _select_one(response.body, one.record))

    async def explain_refusal(self, ctx: OperationContext, op: OperationSpec, exc: UnifiedError) -> None:
        """A list or create refused with a 4xx (not 401, 429) under ``collection_exists``: because the
        collection is not there? Its 404 is then the answer (``check_collection_exists``)."""
        if op.collection_exists and 400 <= exc.status_code < 500 and exc.status_code not in (401, 429):
            await self.check_collection_exists(ctx, refused=exc)

    async def check_collection_exists(self, ctx: OperationContext, refused: UnifiedError | None = None) -> None:
        """Read the path's collection with collections.one (call id ``collection_exists``): its 404 is
        the answer, as ``EntityNotFoundError`` (``refused``: the error it explains, kept in the detail)."""
        one = self.operation("collections", "one")
        try:
            await self.send(ctx, one, DownstreamCall("collection_exists", one.method, self.path(ctx, one.path or ""),
                                                     self._query(ctx, one)))
        except EntityNotFoundError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {"detail": exc.detail}
            if refused is not None:
                detail = {**detail, "refused_with": refused.to_dict()}
            collection_id = ctx.request.path_params.get("collection_id")
            raise EntityNotFoundError("Collection not found", {
                **detail, "collection_id": collection_id}, downstream_errors=exc.downstream_errors) from None

    async def run_calls(self, ctx: OperationContext, calls: list[tuple[str, str, str, dict[str, Any]]],
                        op: OperationSpec | None = None) -> None:
        """Run write calls in order; if one fails after others succeeded, say which were applied.

        Body pass_through is applied to every body before the first call, so an entry that cannot
        be set in a later call's body is a 400 with nothing applied."""
        prepared = [(call_id, method, path, ctx.with_pass_through(call_id, body)) for call_id, method, path, body in calls]
        done: list[str] = []
        for call_id, method, path, body in prepared:
            try:
                if op is not None and call_id == self.call_id(ctx, op) and op.request is not None:
                    await self.send(ctx, op, DownstreamCall(call_id, method, path, [], body,
                                                            pass_through_applied=True))   # its request style
                else:
                    await ctx.call(call_id, method, path, body=body, pass_through_applied=True)
            except Exception as exc:
                if not done:
                    raise
                error = partly_applied(exc, ctx, call_id, [c[0] for c in calls[len(done) + 1:]])
                if error is exc:
                    raise
                raise error from exc
            done.append(call_id)

    def created_id(self, ctx: OperationContext, op: OperationSpec, body: Any) -> str | None:
        if op.id:
            value = compile_path(op.id).get(body)
            return None if value is MISSING or value is None else str(value)
        record = _select_one(body, op.record)
        return ctx.mapping.read(record, ctx.mapping.render_values(ctx.template_context)).get("id")

    def _query(self, ctx: OperationContext, op: OperationSpec) -> list[tuple[str, str]]:
        return ctx.query(op.query)

    def _static_page(self, ctx: OperationContext, op: OperationSpec) -> OperationResult:
        records = self.map_records(ctx, render_value(op.static, ctx.template_context))
        start = ctx.position.offset
        page = records[start:start + ctx.request.limit]
        more = start + len(page) < len(records)
        return OperationResult(page, next=CursorPosition(offset=start + len(page)) if more else None,
                               total_count=len(records))


def partly_applied(exc: Exception, ctx: OperationContext, failed_call: str | None,
                   not_applied: list[str]) -> UnifiedError:
    """``exc``, raised after the writes ``ctx.applied`` succeeded, as an error that names them:
    ``detail`` gains ``applied_calls``, ``failed_call`` (None: it failed between or after calls) and
    ``not_applied``; the message says the update is partly applied."""
    applied = list(ctx.applied)
    where = f"after {', '.join(applied)} succeeded: the update is partly applied"
    extra = {"failed_call": failed_call, "applied_calls": applied, "not_applied": not_applied}
    if isinstance(exc, UnifiedError):
        error = exc
        detail = exc.detail if isinstance(exc.detail, dict) else {"detail": exc.detail}
        error.detail = {**detail, **extra}
        error.message = f"{exc.message} ({where})"
    else:
        # our bug or a connector's: the traceback goes to the log, the client learns what was written
        log.error("unexpected error in %s.%s %s", ctx.request.resource, ctx.request.operation, where, exc_info=exc)
        error = UnexpectedError(f"Unexpected error ({where})", {
            **extra, "detail": f"the gateway failed unexpectedly in {failed_call or 'its own code'} "
                               f"after applying {', '.join(applied)}; the downstream state has those changes"})
    error.partly_applied = True  # type: ignore[attr-defined]
    return error


def _looks_like_operation(name: str) -> bool:
    resource, _, operation = name.partition("_")
    return resource in UNIFIED.resource_names and operation in UNIFIED.operation_names


def _mapping_call_ids(spec: MappingFile) -> list[str]:
    """The call ids of the downstream calls a mapping file declares (as ``unigate connectors show`` lists them)."""
    ids: list[str] = []
    for resource, declared in spec.resources.items():
        for operation, op in declared.operations.items():
            if op.static is None:
                ids.append(op.call_id or f"{resource}_{operation}")
            ids.extend(split.call_id for split in op.split)
            ids.extend(call["call_id"] for call in step_calls(spec, resource, operation, op))
    return ids + [call["call_id"] for call in lookup_calls(spec)]


def paging_params(pagination: PaginationSpec | None) -> set[str]:
    """The query parameters a pagination style sets on every call."""
    if pagination is None or pagination.style == "none":
        return set()
    own = {"offset": pagination.offset_param, "page": pagination.page_param, "cursor": pagination.token_param,
           "ids": pagination.id_param}
    # a paginator component: its limit and token parameters, as its manifest entry names them
    return {p for p in (pagination.limit_param, own.get(pagination.style, pagination.token_param)) if p}


def _select_one(body: Any, selector: str | None) -> Any:
    if selector is None:
        return body
    value = compile_path(selector).get(body)
    return {} if value is MISSING else value

