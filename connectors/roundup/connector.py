"""Roundup: the quirks connectors/roundup/manifest.yaml cannot say (README "## Connector").

- Writes need the item's ETag, sent as ``If-Match``: updates and retires read it first (or use the
  one the client pinned with a body pass_through ``@etag``), and Roundup's 412 becomes a
  ``ConflictError`` (409).
- Delete = the ``retire`` action (PATCH ``@op=action``; Roundup's own DELETE, under WSGI, also needs
  a form Content-Type on an empty body). A retired issue stays readable by id but is deleted for
  the unified API: not found (404 ``EntityNotFoundError``) wherever a ticket is addressed. Only the
  (filtered) issue list leaves it out, so ``tickets_one`` and the writes (update, delete, adding a
  comment) also ask the list for the id (``GET /issue?id=N``: one more call), and the comment reads
  take the issue's messages from that list.
- Comments are ``msg`` items linked from the issue's ``messages``; adding one is create + link.
- A ticket's description is its first message (one batched ``msg`` read per page).
- Roundup dates (``2024-05-01.10:00:00``, UTC) and element bodies (``{"attributes": {...}}``).
- Clearing (JSON null is dropped by Roundup: "" clears a link, [] a multilink) and tags by id or
  name are declared in connectors/roundup/manifest.yaml (`clear`, `by: id_or_name`); a tag name is resolved here.
"""

from __future__ import annotations

import re
from datetime import timezone
from typing import Any

from unigate.connector import Connector, OperationContext, OperationResult
from unigate.connector.paging import fetch_window
from unigate.connector.query import filter_params, sort_params
from unigate.cursor import CursorPosition
from unigate.errors import ConflictError, ConnectorExecutionError, EntityNotFoundError, RequestValidationError
from unigate.mapping.passthrough import apply_body_pass_through
from unigate.mapping.transforms import TransformError, parse_timestamp

ROUNDUP_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\.\d{2}:\d{2}:\d{2}(\.\d+)?$")
DATE_KEYS = ("creation", "activity", "date")
DESCRIPTION = "_description"               # key the description (first message) is put under
MSG_FIELDS = "content,author,date,activity"


def _roundup_date_to_iso(value: Any) -> Any:
    if isinstance(value, str) and ROUNDUP_DATE.match(value):
        return f"{value[:10]}T{value[11:]}Z"
    return value


def _link_id(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return None if value is None else str(value)


class RoundupConnector(Connector):
    # beyond the mapping's calls: descriptions (first messages), retired checks, etags, keywords, message links
    code_call_ids = ("tickets_all_descriptions", "tickets_one_retired", "tickets_one_description",
                     "tickets_add_description", "tickets_keywords", "tickets_keywords_add",
                     "tickets_update_retired", "tickets_update_etag", "tickets_delete_retired", "tickets_delete_etag",
                     "comments_all_ids", "comments_one_ids", "comments_add_retired", "comments_add_etag",
                     "comments_add_link")

    # -- reading: normalise Roundup's shapes before the declarative mapping -----------------------------
    def map_records(self, ctx: OperationContext, records: list[Any]) -> list[dict[str, Any]]:
        flat = [self._flatten(r) for r in records]
        mapped = super().map_records(ctx, flat)
        if ctx.request.resource == "users":
            for raw, unified in zip(flat, mapped):
                unified["name"] = unified.get("name") or raw.get("username")
        return mapped

    @staticmethod
    def _flatten(record: Any) -> Any:
        """Element bodies ``{id, type, attributes, @etag}`` -> ``{id, **attributes}``; dates to ISO."""
        if not isinstance(record, dict):
            return record
        if isinstance(record.get("attributes"), dict):
            record = {"id": record.get("id"), **record["attributes"], **{k: v for k, v in record.items()
                                                                        if k.startswith("_")}}
        else:
            record = dict(record)
        for key in DATE_KEYS:
            if key in record:
                record[key] = _roundup_date_to_iso(record[key])
        return record

    # -- tickets -------------------------------------------------------------------------------------
    async def tickets_all(self, ctx: OperationContext) -> OperationResult:
        op = self.operation("tickets", "all")
        request = ctx.request
        params = [(k, str(v)) for k, v in op.query.items()]
        params += [(k, f"{_roundup_date(v)};" if k == op.filters["since"].param else v)
                   for k, v in filter_params(op, request.filter, self.service_id)]
        params += sort_params(op, request.sort, self.service_id)
        path = self.path(ctx, op.path or "")

        async def fetch(page_params: list[tuple[str, str]]) -> Any:
            response = await ctx.call("tickets_all", "GET", path, params=params + page_params,
                                      apply_query_pass_through=True)
            data = response.body.get("data") if isinstance(response.body, dict) else None
            if isinstance(data, dict) and data.get("@total_size") == -1:   # "more than the row limit"
                data.pop("@total_size")
            return response

        window = await fetch_window(fetch, op.pagination, op.records or "$", ctx.position, request.limit)
        await self._add_descriptions(ctx, window.records, "tickets_all_descriptions")
        return OperationResult(self.map_records(ctx, window.records), next=window.next, total_count=window.total)

    async def tickets_one(self, ctx: OperationContext) -> OperationResult:
        op = self.operation("tickets", "one")
        ticket_id = ctx.request.path_params["ticket_id"]
        response = await self.call_declared(ctx, op)
        record = self._flatten(response.body["data"])
        await self._listed(ctx, "tickets_one_retired")   # a retired issue still answers GET /issue/{id}
        await self._add_descriptions(ctx, [record], "tickets_one_description")
        return OperationResult(self.map_records(ctx, [record])[0])

    async def tickets_add(self, ctx: OperationContext) -> OperationResult:
        body = ctx.request.body or {}
        if not body.get("subject"):
            raise RequestValidationError("Missing required fields", {
                "subject": f"required by {self.spec.name}: an issue needs a title (the tracker's web form requires "
                           f"it; its REST API would store an untitled issue)"})
        op = self.operation("tickets", "add")
        downstream = self.downstream_body(ctx, op)
        await self._resolve_keywords(ctx, downstream)
        description = downstream.pop(DESCRIPTION, None)
        if description:
            message = await ctx.call("tickets_add_description", "POST", "/msg", body=self._message(ctx, description))
            downstream["messages"] = [message.body["data"]["id"]]
        response = await ctx.call("tickets_add", op.method, self.path(ctx, op.path or ""), body=downstream)
        return OperationResult({"id": self.created_id(ctx, op, response.body)})

    async def tickets_update(self, ctx: OperationContext) -> OperationResult:
        op = self.operation("tickets", "update")
        downstream = self.downstream_body(ctx, op)   # no description: the mapping's `writes` leave it out (warned)
        ticket_id = ctx.request.path_params["ticket_id"]
        await self._listed(ctx, "tickets_update_retired")   # before anything is written
        if not downstream and not self._pass_through(ctx, "tickets_update"):
            return OperationResult({"id": ticket_id})
        await self._resolve_keywords(ctx, downstream)
        await self._write_with_etag(ctx, "tickets_update", "PATCH", self.path(ctx, op.path or ""), downstream)
        return OperationResult({"id": ticket_id})

    async def tickets_delete(self, ctx: OperationContext) -> OperationResult:
        op = self.operation("tickets", "delete")
        await self._listed(ctx, "tickets_delete_retired")   # retiring a retired issue: not found
        await self._write_with_etag(ctx, "tickets_delete", "PATCH", self.path(ctx, op.path or ""),
                                    {"@op": "action", "@action_name": "retire"})
        return OperationResult({"id": ctx.request.path_params["ticket_id"]})

    async def _resolve_keywords(self, ctx: OperationContext, downstream: dict[str, Any]) -> None:
        """Tags given by name: Roundup links only existing keywords, so a missing one is created
        (the keyword list, cached per connection, plus one create per new name; nothing when all
        tags come by id)."""
        names = [k for k in downstream.get("keyword") or [] if not k.isdigit()]
        if not names:
            return
        keywords = await self.lookup(ctx, "tickets_keywords", "/keyword", "$.data.collection",
                                     params=[("@fields", "name")])   # cached per connection
        ids = {k.get("name"): str(k.get("id")) for k in keywords}
        for name in dict.fromkeys(names):
            if name not in ids:
                created = await ctx.call("tickets_keywords_add", "POST", "/keyword", body={"name": name})
                ids[name] = str(created.body["data"]["id"])
                self.forget(ctx, "tickets_keywords")
        downstream["keyword"] = [k if k.isdigit() else ids[k] for k in downstream["keyword"]]

    # -- comments (messages) ---------------------------------------------------------------------------
    async def comments_all(self, ctx: OperationContext) -> OperationResult:
        ids = await self._message_ids(ctx, "comments_all_ids")
        start, limit = ctx.position.offset, ctx.request.limit
        page_ids = ids[start:start + limit]
        messages = await self._messages(ctx, page_ids, "comments_all") if page_ids else []
        served = start + len(page_ids)
        return OperationResult(self.map_records(ctx, messages),
                               next=CursorPosition(offset=served) if served < len(ids) else None,
                               total_count=len(ids))

    async def comments_one(self, ctx: OperationContext) -> OperationResult:
        wanted = ctx.request.path_params["id"]
        if wanted not in await self._message_ids(ctx, "comments_one_ids"):
            raise EntityNotFoundError("Not found", f"{self.spec.name} issue "
                                      f"{ctx.request.path_params['ticket_id']} has no message {wanted!r}")
        response = await self.call_declared(ctx, self.operation("comments", "one"))
        return OperationResult(self.map_records(ctx, [response.body["data"]])[0])

    async def comments_add(self, ctx: OperationContext) -> OperationResult:
        body = ctx.request.body or {}
        if not body.get("body"):
            raise RequestValidationError("Missing required fields", {"body": "a message needs content"})
        issue = self.path(ctx, "/issue/{ticket_id}")
        await self._listed(ctx, "comments_add_retired")   # a retired issue takes no comment
        etag = await self._etag(ctx, "comments_add_etag", issue)   # also: 404 before a message is created
        message = await ctx.call("comments_add", "POST", "/msg", body=self._message(ctx, body["body"]))
        message_id = str(message.body["data"]["id"])
        link = {"@op": "add", "messages": [message_id]}
        for attempt in range(2):   # adding to `messages` commutes: one retry with a fresh etag is safe
            try:
                await ctx.call("comments_add_link", "PATCH", issue, body=link, headers={"If-Match": etag})
                break
            except ConnectorExecutionError as exc:
                if _downstream_status(exc) != 412:
                    raise
                if attempt:
                    raise self._conflict(exc, f"message {message_id} was created but could not be linked to the "
                                              f"issue, which kept changing") from None
                etag = await self._etag(ctx, "comments_add_etag", issue)
        return OperationResult({"id": message_id})

    # -- helpers ---------------------------------------------------------------------------------------
    def _message(self, ctx: OperationContext, content: str) -> dict[str, Any]:
        """A new msg: Roundup's REST API sets neither author nor date, and the nosy reactor needs an author."""
        return {"content": content, "author": ctx.template_context["credentials"]["username"], "date": "."}

    async def _message_ids(self, ctx: OperationContext, call_id: str) -> list[str]:
        """The issue's message ids, from the issue list (so a retired issue is not found)."""
        issue = await self._listed(ctx, call_id, fields="messages")
        ids = [_link_id(m) for m in issue.get("messages") or []]
        return sorted((i for i in ids if i), key=int)

    async def _listed(self, ctx: OperationContext, call_id: str, fields: str = "id") -> dict[str, Any]:
        """The path's issue as the issue list shows it (``GET /issue?id=N``); a retired or unknown
        issue is not listed: 404 ``EntityNotFoundError``."""
        ticket_id = ctx.request.path_params["ticket_id"]
        listed = await ctx.call(call_id, "GET", "/issue", params=[("id", ticket_id), ("@fields", fields)])
        for issue in listed.body["data"]["collection"]:
            if str(issue.get("id")) == ticket_id:
                return issue
        raise EntityNotFoundError("Not found", f"{self.spec.name} has no issue {ticket_id!r} (retired issues are "
                                  "deleted ones)")

    async def _messages(self, ctx: OperationContext, ids: list[str], call_id: str) -> list[dict[str, Any]]:
        """The messages ``ids`` in one call (``msg?id=1&id=2``; content inline with @verbose=3)."""
        response = await ctx.call(call_id, "GET", "/msg", params=[*(("id", i) for i in ids),
                                                                  ("@fields", MSG_FIELDS), ("@verbose", "3")])
        found = {str(m.get("id")): m for m in response.body["data"]["collection"]}
        return [found[i] for i in ids if i in found]

    async def _add_descriptions(self, ctx: OperationContext, records: list[Any], call_id: str) -> None:
        firsts: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            ids = sorted((i for i in map(_link_id, record.get("messages") or []) if i), key=int)
            record[DESCRIPTION] = None
            if ids:
                firsts.setdefault(ids[0], []).append(record)
        if not firsts:
            return
        for message in await self._messages(ctx, sorted(firsts, key=int), call_id):
            for record in firsts.get(str(message.get("id")), []):
                record[DESCRIPTION] = message.get("content")

    async def _etag(self, ctx: OperationContext, call_id: str, path: str) -> str:
        response = await ctx.call(call_id, "GET", path, params=[("@fields", "id")])
        return response.body["data"]["@etag"]

    def _pass_through(self, ctx: OperationContext, call_id: str) -> dict[str, Any]:
        return apply_body_pass_through({}, ctx.request.pass_through_body, self.service_id, call_id)

    async def _write_with_etag(self, ctx: OperationContext, call_id: str, method: str, path: str,
                               body: dict[str, Any]) -> None:
        """The write with ``If-Match``: the etag the client pinned (pass_through ``@etag``) or the current one."""
        etag = self._pass_through(ctx, call_id).get("@etag") or await self._etag(ctx, f"{call_id}_etag", path)
        try:
            await ctx.call(call_id, method, path, body=body, headers={"If-Match": str(etag)})
        except ConnectorExecutionError as exc:
            if _downstream_status(exc) == 412:
                raise self._conflict(exc, "the issue changed since its etag was read; read it again and retry") from None
            raise

    def _conflict(self, exc: ConnectorExecutionError, why: str) -> ConflictError:
        return ConflictError(f"{self.spec.name} edit conflict: {why}", exc.detail,
                             downstream_errors=exc.downstream_errors)


def _downstream_status(exc: ConnectorExecutionError) -> Any:
    return exc.detail.get("downstream_status") if isinstance(exc.detail, dict) else None


def _roundup_date(value: str) -> str:
    """An ISO timestamp as Roundup's filter syntax (UTC)."""
    try:
        moment = parse_timestamp(value)
    except TransformError:
        return value
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d.%H:%M:%S")
