"""Selectel Tickets: the quirks connectors/selectel/manifest.yaml cannot say (README "## Connector").

- Only status (close / reopen, each its own endpoint) and custom mappings can change after
  creation (connectors/selectel/manifest.yaml `writes`: other fields are warned about, not sent); a new ticket is
  always open (a closed status on create is warned about, not sent).
"""

from __future__ import annotations

from typing import Any

from unigate.kit import Connector, OperationContext, OperationResult, RequestValidationError, implements

STATUS_ACTION = "status_action"      # downstream key the mapping writes status to (close | reopen)


class SelectelConnector(Connector):
    # -- tickets --------------------------------------------------------------------------------
    @implements("tickets.add")
    async def tickets_add(self, ctx: OperationContext) -> OperationResult:
        """The create, its status kept out of the body: a new ticket is always open (the manifest's
        ``required`` fields, subject and description, are checked before)."""
        op = self.operation("tickets", "add")
        downstream = self.downstream_body(ctx, op)
        if downstream.pop(STATUS_ACTION, None) not in (None, "reopen"):
            self.warn(ctx, "status", f"not stored: a new {self.spec.name} ticket is always open; "
                                     f"close it with an update")
        response = await ctx.call(self.call_id(ctx, op), op.method, ctx.path(op.path or ""), body=downstream)
        return OperationResult({"id": self.created_id(ctx, op, response.body)})

    @implements("tickets.update", calls=("tickets_close", "tickets_reopen"))   # the status actions
    async def tickets_update(self, ctx: OperationContext) -> OperationResult:
        op = self.operation("tickets", "update")
        changes = self.downstream_body(ctx, op)
        action = changes.pop(STATUS_ACTION, None)
        call_id = self.call_id(ctx, op)
        calls: list[tuple[str, str, str, dict[str, Any]]] = []
        if changes or ctx.targeted(call_id):
            calls.append((call_id, op.method, ctx.path(op.path or ""), changes))
        if action is not None:
            calls.append(self._status_call(ctx, action))
        await self.run_calls(ctx, calls)
        return OperationResult({"id": ctx.request.path_params["ticket_id"]})

    # -- helpers --------------------------------------------------------------------------------
    def _status_call(self, ctx: OperationContext, action: Any) -> tuple[str, str, str, dict[str, Any]]:
        ticket_path = ctx.path(self.operation("tickets", "one").path or "")
        if action == "close":
            return "tickets_close", "POST", f"{ticket_path}/close", {}
        if action == "reopen":
            comment = ctx.template_context["settings"]["reopen_comment"]
            return "tickets_reopen", "POST", f"{ticket_path}/reopen", {"body": comment}
        raise RequestValidationError("Invalid field value", {
            "status": f"{self.spec.name} lets a client only close (closed) or reopen (open) a ticket; "
                      f"support sets the other statuses; got {action!r}"})
