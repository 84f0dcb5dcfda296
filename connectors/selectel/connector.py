"""Selectel Tickets: the quirks mappings/selectel.yaml cannot say (README "## Connector").

- One collection (the account's support desk): other collection ids are a 404.
- Lists come in one fixed order (tickets newest first, comments oldest first): a sort asking
  for exactly that order is served, any other is ``UnsupportedSortFieldError``.
- ``filter[status]`` can only say "closed" (``only_closed``): other values are refused rather
  than sent on.
- A ticket's description is its first comment: ``tickets_one`` also reads the comment thread.
- Only status (close / reopen, each its own endpoint) and custom mappings can change after
  creation; a new ticket is always open.
- A comment has no ticket reference, so one comment is found in its ticket's thread.
"""

from __future__ import annotations

from typing import Any

from unigate.connector import Connector, OperationContext, OperationResult
from unigate.errors import (
    ConnectorExecutionError,
    RequestValidationError,
    UnsupportedFiltersError,
    UnsupportedSortFieldError,
)
from unigate.mapping.paths import MISSING, compile_path
from unigate.mapping.spec import MappingFile

# The only order Selectel lists in, per resource: (unified sort field, direction) pairs it equals.
NATURAL_ORDER: dict[str, frozenset[tuple[str, str]]] = {
    "tickets": frozenset({("created_at", "desc")}),               # number descending
    "comments": frozenset({("created_at", "asc"), ("updated_at", "asc")}),  # sent_at, never edited
}
STATUS_ACTION = "status_action"      # downstream key the mapping writes status to (close | reopen)
FIRST_COMMENT = "_first_comment"     # key tickets_one adds to the ticket for `description`
UPDATABLE_FIELDS = frozenset({"status", "custom_mappings"})


class SelectelConnector(Connector):
    def __init__(self, spec: MappingFile) -> None:
        super().__init__(spec)
        self.collection_ids = frozenset(str(c["id"]) for c in self.operation("collections", "all").static or [])

    async def execute(self, ctx: OperationContext) -> OperationResult:
        request = ctx.request
        if request.resource != "collections":
            self._require_known_collection(request.path_params["collection_id"])
        if request.operation == "all" and request.sort:
            self._require_natural_order(request.resource, request.sort)
            request.sort = None  # the tracker's own order: no parameter to send
        return await super().execute(ctx)

    # -- tickets --------------------------------------------------------------------------------
    async def tickets_all(self, ctx: OperationContext) -> OperationResult:
        op = self.operation("tickets", "all")
        declared = op.filters["status"].values or {}
        refused = [s for s in ctx.request.filter.get("status", []) if s != "all" and s not in declared]
        if refused:
            raise UnsupportedFiltersError(
                "Unsupported filter", f"{self.spec.name} can only list closed tickets (or all); "
                f"it cannot filter by status {', '.join(refused)}",
            )
        return await self.declared_all(ctx, op)

    async def tickets_one(self, ctx: OperationContext) -> OperationResult:
        op = self.operation("tickets", "one")
        path = self.path(ctx, op.path or "")
        ticket = (await ctx.call("tickets_one", "GET", path, apply_query_pass_through=True)).body
        thread = (await ctx.call("tickets_one_comments", "GET", self._comments_path(ctx))).body
        comments = self._comment_records(thread)
        record = {**ticket, FIRST_COMMENT: comments[0] if comments else None}
        return OperationResult(self.map_records(ctx, [record])[0])

    async def tickets_add(self, ctx: OperationContext) -> OperationResult:
        body = ctx.request.body or {}
        missing = [name for name in ("subject", "description") if not body.get(name)]
        if missing:
            raise RequestValidationError("Missing required fields", {
                name: f"required by {self.spec.name} (the description becomes the first comment)" for name in missing})
        op = self.operation("tickets", "add")
        downstream = self.downstream_body(ctx, op)
        if downstream.pop(STATUS_ACTION, None) not in (None, "reopen"):
            raise RequestValidationError("Invalid field value", {
                "status": f"a new {self.spec.name} ticket is always open; close it with an update"})
        response = await ctx.call(self.call_id(ctx, op), op.method, self.path(ctx, op.path or ""), body=downstream)
        return OperationResult({"id": self.created_id(ctx, op, response.body)})

    async def tickets_update(self, ctx: OperationContext) -> OperationResult:
        fixed = sorted(set(ctx.request.body or {}) - UPDATABLE_FIELDS)
        if fixed:
            raise RequestValidationError("Field cannot be changed", {
                name: f"{self.spec.name} cannot change this after creation; updatable: status, custom_mappings"
                for name in fixed})
        op = self.operation("tickets", "update")
        changes = self.downstream_body(ctx, op)
        action = changes.pop(STATUS_ACTION, None)
        call_id = self.call_id(ctx, op)
        calls: list[tuple[str, str, str, dict[str, Any]]] = []
        if changes or self._targeted_by_pass_through(ctx, call_id):
            calls.append((call_id, op.method, self.path(ctx, op.path or ""), changes))
        if action is not None:
            calls.append(self._status_call(ctx, action))
        await self.run_calls(ctx, calls)
        return OperationResult({"id": ctx.request.path_params["ticket_id"]})

    # -- comments -------------------------------------------------------------------------------
    async def comments_one(self, ctx: OperationContext) -> OperationResult:
        thread = (await ctx.call("comments_one", "GET", self._comments_path(ctx), apply_query_pass_through=True)).body
        wanted = ctx.request.path_params["id"]
        for comment in self._comment_records(thread):
            if isinstance(comment, dict) and str(comment.get("id")) == wanted:
                return OperationResult(self.map_records(ctx, [comment])[0])
        raise ConnectorExecutionError(
            "Not found", f"{self.spec.name} ticket {ctx.request.path_params['ticket_id']} has no comment {wanted!r}",
            status_code=404)

    # -- helpers --------------------------------------------------------------------------------
    def _require_known_collection(self, collection_id: str) -> None:
        if collection_id not in self.collection_ids:
            raise ConnectorExecutionError(
                "Not found", f"{self.spec.name} has one collection, {', '.join(sorted(self.collection_ids))}; "
                f"not {collection_id!r}", status_code=404)

    def _require_natural_order(self, resource: str, sort: dict[str, str]) -> None:
        natural = NATURAL_ORDER.get(resource, frozenset())
        if (sort["by"], sort["direction"]) not in natural:
            served = ", ".join(f"{by} {direction}" for by, direction in sorted(natural)) or "none"
            raise UnsupportedSortFieldError(
                "Unsupported sort field", f"{self.spec.name} lists {resource} in one order only "
                f"({served}); cannot sort by {sort['by']} {sort['direction']}")

    def _comments_path(self, ctx: OperationContext) -> str:
        return self.path(ctx, self.operation("comments", "all").path or "")

    def _comment_records(self, thread: Any) -> list[Any]:
        found = compile_path(self.operation("comments", "all").records or "$").get(thread)
        if found is MISSING or found is None:
            return []
        return found if isinstance(found, list) else [found]

    def _status_call(self, ctx: OperationContext, action: Any) -> tuple[str, str, str, dict[str, Any]]:
        ticket_path = self.path(ctx, self.operation("tickets", "one").path or "")
        if action == "close":
            return "tickets_close", "POST", f"{ticket_path}/close", {}
        if action == "reopen":
            comment = ctx.template_context["settings"]["reopen_comment"]
            return "tickets_reopen", "POST", f"{ticket_path}/reopen", {"body": comment}
        raise RequestValidationError("Invalid field value", {
            "status": f"{self.spec.name} lets a client only close (closed) or reopen (open) a ticket; "
                      f"support sets the other statuses; got {action!r}"})

    def _targeted_by_pass_through(self, ctx: OperationContext, call_id: str) -> bool:
        """A body pass_through naming this call asks for it even when no mapped field changed."""
        return any(e.operation_id == call_id and e.applies_to(ctx.service_id, call_id)
                   for e in ctx.request.pass_through_body)
