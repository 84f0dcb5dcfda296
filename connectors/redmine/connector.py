"""Redmine: the quirks connectors/redmine/manifest.yaml cannot say (README "## Decisions").

- Redmine writes statuses, priorities and trackers by id (``status_id``...), and the ids belong to
  the installation: a write that sets one looks the ids up first (one GET per kind, per request:
  nothing is cached across requests, so every request is self-contained).
- Custom fields are written as ``custom_fields: [{id, value}]`` only; a connection's
  ``custom_mappings`` that select a field by name write ``{name, value}``, which this connector
  turns into the id (from the issue being updated, or ``/custom_fields.json`` on create).
- Reading a status: ``is_closed`` -> closed, a status named "In Progress" -> in_progress, any
  other open status -> open.
- The issue list needs ``status_id=*`` (Redmine lists open issues only by default), status ids for
  the status filter, ``updated_on=>=<iso>`` for ``since`` and ``sort=<field>:<dir>,id:<dir>``.
- Comments are journals that carry notes; Redmine's PUT answers 204 without the new journal, so
  ``comments.add`` reads it back; blanking a journal's notes deletes it.
- The collection in the path is honoured: issues and journals are addressed without their project,
  so every operation on a ticket (one, update, delete) or its comments first asks
  ``GET /issues.json?issue_id=N&project_id=P&subproject_id=!*&status_id=*`` (one more call, which
  also answers 404 for an unknown project): an issue of another project is not found and never
  changed. A comment update or delete also reads the issue's journals first (a journal of another
  issue is not found); a create Redmine refuses (422) is checked against the project (404 if unknown).
"""

from __future__ import annotations

from typing import Any

from unigate.connector import Connector, OperationContext, OperationResult
from unigate.connector.paging import fetch_window
from unigate.connector.query import filter_params
from unigate.cursor import CursorPosition
from unigate.errors import (ConnectorExecutionError, EntityNotFoundError, RequestValidationError, UnifiedError,
                            UnsupportedFiltersError, UnsupportedSortFieldError)
from unigate.mapping.paths import compile_path
from unigate.mapping.template import render_value
from unigate.mapping.transforms import datetime_writer

IN_PROGRESS = "in progress"          # Redmine's default status name for unified in_progress
CLOSED_NAMES = {"closed", "rejected"}  # fallback when a status carries no is_closed (before Redmine 5.0)
PRIORITY_NAMES = {"low": "low", "normal": "normal", "high": "high", "urgent": "urgent"}

# Body keys written as Redmine ids: (key, unified field, lookup call id, path, records, choices)
REFERENCES = (
    ("status", "status", "statuses_lookup", "/issue_statuses.json", "$.issue_statuses", "open, in_progress, closed"),
    ("priority", "priority", "priorities_lookup", "/enumerations/issue_priorities.json", "$.issue_priorities",
     "low, normal, high, urgent"),
    ("tracker", "type", "trackers_lookup", "/trackers.json", "$.trackers", None),
)


def _named(items: list[dict[str, Any]], wanted: Any) -> dict[str, Any] | None:
    """The item whose id (as text) or name (case-insensitive) is ``wanted``."""
    text = str(wanted).strip().casefold()
    for item in items:
        if str(item.get("id")) == text or str(item.get("name", "")).casefold() == text:
            return item
    return None


def unified_status(status: Any) -> Any:
    if not isinstance(status, dict):
        return None
    name = str(status.get("name") or "")
    closed = status.get("is_closed")
    if closed is None:
        closed = name.casefold() in CLOSED_NAMES
    if closed:
        return "closed"
    return "in_progress" if name.casefold() == IN_PROGRESS else "open"


class RedmineConnector(Connector):
    # -- the collection in the path --------------------------------------------------------------------
    async def execute(self, ctx: OperationContext) -> OperationResult:
        if "ticket_id" in ctx.request.path_params and "collection_id" in ctx.request.path_params:
            await self._in_project(ctx)   # before anything is read or written
        return await super().execute(ctx)

    async def _in_project(self, ctx: OperationContext) -> None:
        """404 ``EntityNotFoundError`` unless the path's issue is in the path's project itself (a
        subproject's issues are not listed in it either); Redmine's own 404 for an unknown project."""
        params = ctx.request.path_params
        ticket_id, project = params["ticket_id"], params["collection_id"]
        call_id = f"{ctx.request.resource}_{ctx.request.operation}_collection_check"
        found = await ctx.call(call_id, "GET", "/issues.json", params=[
            ("issue_id", ticket_id), ("project_id", project), ("subproject_id", "!*"), ("status_id", "*")])
        issues = found.body.get("issues") if isinstance(found.body, dict) else None
        if not any(isinstance(i, dict) and str(i.get("id")) == ticket_id for i in issues or []):
            raise EntityNotFoundError("Ticket not found", f"Redmine has no issue {ticket_id!r} in project {project!r}")

    # beyond the mapping's calls: reference lookups, the status follow-up of a create, a comment's id read back
    code_call_ids = ("statuses_lookup", "priorities_lookup", "trackers_lookup", "custom_fields_lookup",
                     "tickets_add_status", "comments_add_lookup")

    # -- reading ------------------------------------------------------------------------------------
    def map_records(self, ctx: OperationContext, records: list[Any]) -> list[dict[str, Any]]:
        mapped = super().map_records(ctx, records)
        if ctx.request.resource == "tickets":
            for raw, record in zip(records, mapped):
                if "status" in record and isinstance(raw, dict):
                    record["status"] = unified_status(raw.get("status"))
        return mapped

    # -- tickets ------------------------------------------------------------------------------------
    async def tickets_all(self, ctx: OperationContext) -> OperationResult:
        op = self.operation("tickets", "all")
        request = ctx.request
        filters = dict(request.filter)
        status, since = filters.pop("status", None), filters.pop("since", None)
        params = [(k, str(render_value(v, ctx.template_context))) for k, v in op.query.items()]
        params += filter_params(op, filters, self.service_id)            # assignee_id
        params.append((op.filters["status"].param, await self._status_filter(ctx, status)))
        if since is not None:
            params.append((op.filters["since"].param, ">=" + datetime_writer("iso")(since)))
        params += self._sort(op, request.sort)
        call_id, path = self.call_id(ctx, op), self.path(ctx, op.path or "")

        async def fetch(page_params: list[tuple[str, str]]) -> Any:
            return await ctx.call(call_id, op.method, path, params=params + page_params, apply_query_pass_through=True)

        window = await fetch_window(fetch, op.pagination, op.records or "$", ctx.position, request.limit)
        return OperationResult(self.map_records(ctx, window.records), next=window.next, total_count=window.total)

    async def tickets_add(self, ctx: OperationContext) -> OperationResult:
        op = self.operation("tickets", "add")
        body = self.downstream_body(ctx, op)
        issue = body.setdefault("issue", {})
        await self._resolve_issue(ctx, issue, ticket_id=None)
        try:
            response = await ctx.call(self.call_id(ctx, op), op.method, self.path(ctx, op.path or ""), body=body)
        except UnifiedError as exc:
            if exc.status_code == 422:   # "Project cannot be blank": an unknown project is a 404
                await self.check_collection_exists(ctx, refused=exc)
            raise
        created = self.created_id(ctx, op, response.body)
        # Redmine creates every issue in its tracker's default status unless the workflow has
        # "new issue" transitions (the default data has none), silently ignoring status_id: set it now.
        wanted = issue.get("status_id")
        got = compile_path("$.issue.status.id").get(response.body)
        if wanted is not None and created is not None and got != wanted:
            update = self.operation("tickets", "update")
            path = (update.path or "").replace("{ticket_id}", created)   # created: Redmine's integer id
            await ctx.call("tickets_add_status", "PUT", path, body={"issue": {"status_id": wanted}})
        return OperationResult({"id": created})

    async def tickets_update(self, ctx: OperationContext) -> OperationResult:
        op = self.operation("tickets", "update")
        ticket_id = ctx.request.path_params["ticket_id"]
        body = self.downstream_body(ctx, op)
        call_id = self.call_id(ctx, op)
        targeted = any(e.applies_to(self.service_id, call_id) for e in ctx.request.pass_through_body)
        if body.get("issue"):
            await self._resolve_issue(ctx, body["issue"], ticket_id=ticket_id)
        if body or targeted:
            await ctx.call(call_id, op.method, self.path(ctx, op.path or ""), body=body)
        return OperationResult({"id": ticket_id})

    # -- comments (journals with notes) ----------------------------------------------------------------
    async def comments_all(self, ctx: OperationContext) -> OperationResult:
        notes = await self._notes(ctx, self.operation("comments", "all"))
        start = ctx.position.offset
        page = notes[start:start + ctx.request.limit]
        more = start + len(page) < len(notes)
        return OperationResult(self.map_records(ctx, page), total_count=len(notes),
                               next=CursorPosition(offset=start + len(page)) if more else None)

    async def comments_one(self, ctx: OperationContext) -> OperationResult:
        wanted = ctx.request.path_params["id"]
        for journal in await self._notes(ctx, self.operation("comments", "one")):
            if str(journal.get("id")) == wanted:
                return OperationResult(self.map_records(ctx, [journal])[0])
        raise EntityNotFoundError("Not found", f"Redmine issue {ctx.request.path_params['ticket_id']} has no "
                                  f"comment (journal with notes) {wanted!r}")

    async def comments_update(self, ctx: OperationContext) -> OperationResult:
        await self._journal_of_issue(ctx, "comments_update_journal_check")   # PUT /journals/{id} names no issue
        return await self.run_declared(ctx)

    async def comments_add(self, ctx: OperationContext) -> OperationResult:
        op = self.operation("comments", "add")
        body = self.downstream_body(ctx, op)
        text = body.get("issue", {}).get("notes")
        if not isinstance(text, str) or not text.strip():
            raise RequestValidationError("Missing required fields", {
                "body": "required: Redmine records a comment only when the note is not blank"})
        await ctx.call(self.call_id(ctx, op), op.method, self.path(ctx, op.path or ""), body=body)
        # 204 No Content: the newest journal of the issue with these notes is the one just written
        one = self.operation("comments", "one")
        issue = await ctx.call("comments_add_lookup", "GET", self.path(ctx, one.path or ""),
                               params=self._query(ctx, one))
        mine = [j for j in self._journals(issue.body, one.record) if j.get("notes") == text]
        if not mine:
            raise ConnectorExecutionError("Comment not found after it was added", {
                "detail": "Redmine accepted the note but the issue's journals do not show it"}, status_code=502)
        return OperationResult({"id": str(max(int(j["id"]) for j in mine))})

    async def comments_delete(self, ctx: OperationContext) -> OperationResult:
        # Redmine destroys a journal whose notes become blank (and keeps one that also changed fields,
        # which then is no longer a comment); there is no DELETE /journals/{id}.
        await self._journal_of_issue(ctx, "comments_delete_journal_check")   # PUT /journals/{id} names no issue
        op = self.operation("comments", "delete")
        body = self.downstream_body(ctx, op)
        await ctx.call(self.call_id(ctx, op), op.method, self.path(ctx, op.path or ""), body=body)
        return OperationResult({"id": ctx.request.path_params["id"]})

    # -- helpers ------------------------------------------------------------------------------------
    async def _journal_of_issue(self, ctx: OperationContext, call_id: str) -> None:
        """404 ``EntityNotFoundError`` unless the path's comment is a journal with notes of the path's issue."""
        one = self.operation("comments", "one")
        wanted = ctx.request.path_params["id"]
        response = await ctx.call(call_id, "GET", self.path(ctx, one.path or ""), params=self._query(ctx, one))
        notes = [j for j in self._journals(response.body, one.record) if (j.get("notes") or "").strip()]
        if not any(str(j.get("id")) == wanted for j in notes):
            raise EntityNotFoundError("Not found", f"Redmine issue {ctx.request.path_params['ticket_id']} has no "
                                      f"comment (journal with notes) {wanted!r}")

    async def _notes(self, ctx: OperationContext, op: Any) -> list[dict[str, Any]]:
        response = await self.call_declared(ctx, op)
        return [j for j in self._journals(response.body, op.record or op.records) if (j.get("notes") or "").strip()]

    @staticmethod
    def _journals(body: Any, selector: str | None) -> list[dict[str, Any]]:
        found = compile_path(selector or "$").get(body)
        return [j for j in found if isinstance(j, dict)] if isinstance(found, list) else []

    async def _lookup(self, ctx: OperationContext, call_id: str, path: str, records: str) -> list[dict[str, Any]]:
        """An installation-wide list (statuses, priorities, trackers, custom fields): cached per connection."""
        return await self.lookup(ctx, call_id, path, records)

    async def _statuses(self, ctx: OperationContext) -> list[dict[str, Any]]:
        return await self._lookup(ctx, "statuses_lookup", "/issue_statuses.json", "$.issue_statuses")

    async def _status_filter(self, ctx: OperationContext, wanted: list[str] | None) -> str:
        """``status_id`` for the unified status filter: ``*`` (all), or the ids joined with ``|``."""
        if not wanted or "all" in wanted:
            return "*"   # Redmine's own default is open issues only
        statuses = await self._statuses(ctx)
        ids: list[str] = []
        for unified in wanted:
            matching = [s for s in statuses if unified_status(s) == unified] if unified in (
                "open", "in_progress", "closed") else [s for s in [_named(statuses, unified)] if s]
            if not matching:
                raise UnsupportedFiltersError("Unsupported filter", f"redmine has no status {unified!r}; statuses: "
                                              f"open, in_progress, closed or one of "
                                              f"{', '.join(str(s.get('name')) for s in statuses)}")
            ids += [str(s["id"]) for s in matching]
        return "|".join(dict.fromkeys(ids))

    def _sort(self, op: Any, sort: dict[str, str] | None) -> list[tuple[str, str]]:
        if not sort or not sort.get("by"):
            return []
        by, direction = sort["by"], sort.get("direction", "asc")
        fields = op.sort.fields if op.sort else {}
        if by not in fields:
            raise UnsupportedSortFieldError("Unsupported sort field", f"redmine cannot sort tickets by {by}; "
                                            f"supported: {', '.join(fields)}")
        direction = "desc" if direction == "desc" else "asc"
        # id breaks ties (many issues share a second), so pages never overlap
        return [(op.sort.param, f"{fields[by]}:{direction},id:{direction}")]

    async def _resolve_issue(self, ctx: OperationContext, issue: dict[str, Any], ticket_id: str | None) -> None:
        """Unified status/priority/type and custom fields by name -> the ids Redmine takes.

        Redmine ignores a JSON ``null`` (``assigned_to_id: null`` leaves the assignee in place):
        clearing takes an empty string. The mapping's ``clear`` says so for its fields; a custom
        field's null is sent as ``""`` here.
        """
        problems: dict[str, str] = {}
        for entry in issue.get("custom_fields") or []:
            if isinstance(entry, dict) and entry.get("value", "") is None:
                entry["value"] = ""
        for key, unified, call_id, path, records, choices in REFERENCES:
            if key not in issue:
                continue
            value = issue.pop(key)
            known = await self._lookup(ctx, call_id, path, records)
            found = self._reference_for(key, known, value)
            if found is not None:
                issue[f"{key}_id"] = found["id"]
            elif choices:
                problems[unified] = (f"unknown {unified} {value!r}; use {choices} or one of "
                                     f"{', '.join(str(k.get('name')) for k in known)}")
            else:
                problems[unified] = (f"unknown {unified} {value!r}; Redmine trackers: "
                                     f"{', '.join(str(k.get('name')).lower() for k in known)}")
        fields = issue.get("custom_fields")
        if isinstance(fields, list) and any(isinstance(f, dict) and "id" not in f for f in fields):
            known = await self._custom_fields(ctx, ticket_id)
            for entry in fields:
                if isinstance(entry, dict) and "id" not in entry:
                    name = entry.pop("name", None)
                    found = _named(known, name) if name is not None else None
                    if found is None:
                        problems["custom_mappings"] = (
                            f"Redmine has no custom field named {name!r} for this issue; known: "
                            f"{', '.join(str(f.get('name')) for f in known) or 'none'}")
                    else:
                        entry["id"] = found["id"]
        if problems:
            raise RequestValidationError("Invalid field value", problems)

    @classmethod
    def _reference_for(cls, key: str, known: list[dict[str, Any]], value: Any) -> dict[str, Any] | None:
        if key == "status":
            return cls._status_for(known, value)
        if value is None:
            return None
        return _named(known, PRIORITY_NAMES.get(str(value), value) if key == "priority" else value)

    @staticmethod
    def _status_for(statuses: list[dict[str, Any]], value: Any) -> dict[str, Any] | None:
        if value in ("open", "in_progress", "closed"):   # the first (by position) status that reads as it
            return next((s for s in statuses if unified_status(s) == value), None)
        return _named(statuses, value) if value is not None else None

    async def _custom_fields(self, ctx: OperationContext, ticket_id: str | None) -> list[dict[str, Any]]:
        """Custom fields a name can refer to: the issue's own on update; all issue fields on create."""
        if ticket_id is not None:
            one = self.operation("tickets", "one")   # this issue's own: read now, not cached
            found = compile_path("$.issue.custom_fields").get(
                (await ctx.call("custom_fields_lookup", "GET", self.path(ctx, one.path or ""))).body)
            return [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []
        fields = await self._lookup(ctx, "custom_fields_lookup", "/custom_fields.json", "$.custom_fields")
        return [f for f in fields if f.get("customized_type") == "issue"]
