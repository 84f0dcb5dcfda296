"""Opine: the quirks connectors/opine/manifest.yaml cannot say (README "## Connector").

- A ticket's priority is derived: the most severe priority among its linked deals.
- A user's name is first and last name joined; there is no single-user endpoint, so one user
  is found by paging the organization's members (call id ``users_one``).
- Fields Opine cannot store (parent, assignees, the derived priority) follow the engine's policy
  (connectors/opine/manifest.yaml `notes`): not sent, listed in ``meta.warnings`` (refused in strict mode).
"""

from __future__ import annotations

from typing import Any

from unigate.connector import Connector, OperationContext, OperationResult
from unigate.connector.paging import fetch_window
from unigate.cursor import CursorPosition
from unigate.errors import EntityNotFoundError
from unigate.mapping.paths import MISSING, compile_path
from unigate.mapping.spec import MappingFile

# Unified priorities, most severe first: a ticket takes the first one among its deals'.
PRIORITY_SEVERITY = ("urgent", "high", "normal", "low")


class OpineConnector(Connector):
    code_call_ids = ("users_one",)   # users.one pages through the members (no single-user endpoint)

    def __init__(self, spec: MappingFile) -> None:
        super().__init__(spec)
        priority = spec.resources["tickets"].fields["priority"]
        self.deal_priorities = compile_path(priority.read_path or "$")
        self.priority_map: dict[Any, Any] = dict(priority.map or {})

    # -- users --------------------------------------------------------------------------------
    async def users_one(self, ctx: OperationContext) -> OperationResult:
        op = self.operation("users", "all")
        wanted = ctx.request.path_params["id"]
        path = self.path(ctx, op.path or "")

        async def fetch(page_params: list[tuple[str, str]]) -> Any:
            return await ctx.call("users_one", "GET", path, params=page_params, apply_query_pass_through=True)

        position: CursorPosition | None = CursorPosition()
        page_size = op.pagination.max_limit if op.pagination else 100
        while position is not None:
            window = await fetch_window(fetch, op.pagination, op.records or "$", position, page_size)
            for user in window.records:
                if isinstance(user, dict) and str(user.get("id")) == wanted:
                    return OperationResult(self.map_records(ctx, [user])[0])
            position = window.next
        raise EntityNotFoundError("Not found", f"{self.spec.name} has no user {wanted!r} in the organization")

    # -- engine hooks -------------------------------------------------------------------------
    def map_records(self, ctx: OperationContext, records: list[Any]) -> list[dict[str, Any]]:
        mapped = super().map_records(ctx, records)
        resource = ctx.request.resource
        for record, unified in zip(records, mapped):
            if resource == "tickets":
                unified["priority"] = self._most_severe_priority(record)
            elif resource == "users":
                unified["name"] = " ".join(n for n in (unified["first_name"], unified["last_name"]) if n) or None
        return mapped

    # -- helpers ------------------------------------------------------------------------------
    def _most_severe_priority(self, ticket: Any) -> str | None:
        found = self.deal_priorities.get(ticket)
        values = [] if found is MISSING else found if isinstance(found, list) else [found]
        unified = {self.priority_map.get(v) for v in values if v is not None}
        return next((p for p in PRIORITY_SEVERITY if p in unified), None)
