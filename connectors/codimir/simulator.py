"""A stateful in-memory simulator of Codimir's REST API (``/api/tickets``, projects, labels).

Codimir is a Next.js application: the API authenticates with the NextAuth session cookie, answers
``{"data": ...}`` (lists add ``"pagination"``), and validates with zod, whose messages the
``VALIDATION_ERROR`` details reproduce. See ``README.md`` next to this file for the assumptions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from unigate.kit import SimulatorControl
from unigate_connectors.codimir.store import (
    PRIORITIES,
    SESSION_USER_ID,
    STAGES,
    STATUSES,
    TYPES,
    WORKSPACE,
    Store,
    iso,
    number,
    parse_iso,
    seed_store,
)

BASE_URL = "https://codimir.com"
DEFAULT_API_KEY = ("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..q8Xz2vN4kR7tLwPe.Yc3Rr0bW1mVq9sJ7nKd2HfT6aGx5ZpLu"
                   "E8oQwC4iSbN1yMh3vDj.7QmWzK2pRt9XsLf4VbN6cA")
SESSION_COOKIE = "next-auth.session-token"
SECURE_SESSION_COOKIE = "__Secure-next-auth.session-token"  # the name NextAuth uses over HTTPS
DEFAULT_WORKSPACE_ID = WORKSPACE["id"]
DEFAULT_PROJECT_ID = "project_456"
DEFAULT_PROJECT_KEY = "WEB"
FORBIDDEN_PROJECT_ID = "project_460"  # private project the session user is not a member of
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
__all__ = ["BASE_URL", "DEFAULT_API_KEY", "DEFAULT_LIMIT", "DEFAULT_PROJECT_ID", "DEFAULT_PROJECT_KEY",
           "DEFAULT_WORKSPACE_ID", "FORBIDDEN_PROJECT_ID", "MAX_LIMIT", "PRIORITIES", "SECURE_SESSION_COOKIE",
           "SESSION_COOKIE", "SESSION_USER_ID", "STAGES", "STATUSES", "TYPES", "create_app"]

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")  # zod .datetime(): UTC "Z" only
PERIOD_DAYS = {"week": 7, "month": 30, "quarter": 90, "year": 365}
NOT_FOUND_PAGE = (b"<!DOCTYPE html><html><head><title>404: This page could not be found.</title></head>"
                  b"<body><h1>404</h1><h2>This page could not be found.</h2></body></html>")
Errors = dict[str, list[str]]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Errors | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def invalid(errors: Errors) -> None:
    if errors:
        raise ApiError(400, "VALIDATION_ERROR", "Invalid input data", errors)


def js_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array"}.get(type(value), "object")


def check_int(raw: str | None, name: str, default: int, errors: Errors, maximum: int | None = None) -> int:
    """``z.coerce.number().int().min(1).max(maximum)`` on a query parameter."""
    if raw is None:
        return default
    try:
        value = float(raw.strip() or 0)
    except ValueError:
        value = math.nan
    if math.isnan(value):
        errors.setdefault(name, []).append("Expected number, received nan")
    elif not value.is_integer():
        errors.setdefault(name, []).append("Expected integer, received float")
    elif value < 1:
        errors.setdefault(name, []).append("Number must be greater than or equal to 1")
    elif maximum is not None and value > maximum:
        errors.setdefault(name, []).append(f"Number must be less than or equal to {maximum}")
    else:
        return int(value)
    return default


def check_enum(value: Any, name: str, allowed: tuple[str, ...], errors: Errors) -> Any:
    if value is not None and value not in allowed:
        expected = " | ".join(f"'{a}'" for a in allowed)
        errors.setdefault(name, []).append(f"Invalid enum value. Expected {expected}, received '{value}'")
    return value


def check_string(body: dict[str, Any], name: str, errors: Errors, *, max_len: int,
                 required: str | None = None, nullable: bool = True) -> None:
    if name not in body or (body[name] is None and nullable and not required):
        if required:
            errors.setdefault(name, []).append(required)
        return
    value = body[name]
    if not isinstance(value, str):
        errors.setdefault(name, []).append(f"Expected string, received {js_type(value)}")
    elif required and not value.strip():
        errors.setdefault(name, []).append(required)
    elif len(value) > max_len:
        errors.setdefault(name, []).append(f"String must contain at most {max_len} character(s)")


class Codimir:
    """Route handlers over one :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- serialisation ------------------------------------------------------------------------
    def user(self, user_id: str | None) -> dict[str, Any] | None:
        return dict(self.store.users[user_id]) if user_id else None

    def summary(self, ticket: dict[str, Any]) -> dict[str, Any]:
        tid = ticket["id"]
        counts = {"comments": len(self.store.comments_of(tid)), **self.store.ticket_counts[tid]}
        return {**ticket, "assignee": self.user(ticket["assigneeId"]), "reporter": self.user(ticket["reporterId"]),
                "_count": counts}

    def details(self, ticket: dict[str, Any]) -> dict[str, Any]:
        out = self.summary(ticket)
        counts = out.pop("_count")
        project = self.store.projects.get(ticket["projectId"] or "")
        out.update(project=project and dict(project),
                   workspace=dict(WORKSPACE) if ticket["workspaceId"] else None,
                   group=self.store.groups.get(ticket["groupId"] or ""),
                   labels=[self.store.labels[lid] for lid in self.store.ticket_labels[ticket["id"]]],
                   comments=[self.comment(c) for c in self.store.comments_of(ticket["id"])], _count=counts)
        return out

    def comment(self, comment: dict[str, Any]) -> dict[str, Any]:
        return {**comment, "author": self.user(comment["authorId"])}

    def project(self, project: dict[str, Any]) -> dict[str, Any]:
        pid = project["id"]
        tickets = sum(1 for t in self.store.tickets.values() if t["projectId"] == pid)
        return {**project, "owner": self.user(project["ownerId"]),
                "_count": {"tickets": tickets, "members": len(self.store.members[pid])}}

    # -- lookups -------------------------------------------------------------------------------
    def ticket(self, ticket_id: str) -> dict[str, Any]:
        ticket = self.store.tickets.get(ticket_id)
        if ticket is None:
            raise ApiError(404, "NOT_FOUND", "Ticket not found")
        if not self.store.can_see(ticket["projectId"]):
            raise ApiError(403, "FORBIDDEN", "Insufficient permissions to access this ticket")
        return ticket

    def find_project(self, project_id: str) -> dict[str, Any]:
        project = self.store.projects.get(project_id)
        if project is None:
            raise ApiError(404, "NOT_FOUND", "Project not found")
        if not self.store.can_see(project_id):
            raise ApiError(403, "FORBIDDEN", "Insufficient permissions to access this project")
        return project

    def visible_tickets(self) -> list[dict[str, Any]]:
        return [t for t in self.store.tickets.values() if self.store.can_see(t["projectId"])]

    # -- tickets -------------------------------------------------------------------------------
    async def list_tickets(self, request: Request) -> Response:
        q, errors = request.query_params, Errors()
        page = check_int(q.get("page"), "page", 1, errors)
        limit = check_int(q.get("limit"), "limit", DEFAULT_LIMIT, errors, MAX_LIMIT)
        sort = check_enum(q.get("sort", "updatedAt"), "sort",
                          ("title", "priority", "status", "createdAt", "updatedAt"), errors)
        order = check_enum(q.get("order", "desc"), "order", ("asc", "desc"), errors)
        exact = {"status": ("status", STATUSES), "priority": ("priority", PRIORITIES), "type": ("type", TYPES),
                 "assignee": ("assigneeId", None), "reporter": ("reporterId", None),
                 "project": ("projectId", None), "workspace": ("workspaceId", None), "group": ("groupId", None)}
        for param, (_, allowed) in exact.items():
            if allowed:
                check_enum(q.get(param), param, allowed, errors)
        invalid(errors)
        tickets = [t for t in self.visible_tickets()
                   if all(t[f] == q[p] for p, (f, _) in exact.items() if q.get(p) is not None)
                   and matches(t, q.get("search"))]
        tickets.sort(key=lambda t: number(t["id"]))
        tickets.sort(key=lambda t: t[sort], reverse=order == "desc")
        return json_response(paginate([self.summary(t) for t in tickets], page, limit))

    async def create_ticket(self, request: Request) -> Response:
        body = await read_body(request)
        fields = self.validate_ticket(body, body.get("projectId") if isinstance(body.get("projectId"), str) else None,
                                      creating=True)
        store, now = self.store, iso(datetime.now(UTC))
        pid = fields.get("projectId")
        tid = store.next_id("ticket")
        ticket = {"id": tid, "title": fields["title"], "description": fields.get("description"),
                  "key": store.next_key(pid) if pid else None, "type": fields.get("type") or "TASK",
                  "status": fields.get("status") or "backlog", "priority": fields.get("priority") or "medium",
                  "stage": fields.get("stage") or "PLANNING", "projectId": pid, "workspaceId": DEFAULT_WORKSPACE_ID,
                  "assigneeId": fields.get("assigneeId"), "reporterId": SESSION_USER_ID,
                  "groupId": fields.get("groupId"), "dueDate": fields.get("dueDate"), "createdAt": now,
                  "updatedAt": now}
        store.tickets[tid] = ticket
        store.ticket_labels[tid] = fields.get("labelIds", [])
        store.ticket_counts[tid] = {"attachments": 0, "timeLogs": 0}
        return json_response({"data": self.details(ticket)}, 201)

    async def get_ticket(self, request: Request) -> Response:
        return json_response({"data": self.details(self.ticket(request.path_params["id"]))})

    async def update_ticket(self, request: Request) -> Response:
        ticket = self.ticket(request.path_params["id"])
        fields = self.validate_ticket(await read_body(request), ticket["projectId"], creating=False)
        return self.apply(ticket, fields)

    async def delete_ticket(self, request: Request) -> Response:
        ticket = self.ticket(request.path_params["id"])
        if ticket["reporterId"] != SESSION_USER_ID and \
                self.store.role(ticket["projectId"], SESSION_USER_ID) not in ("OWNER", "ADMIN"):
            raise ApiError(403, "FORBIDDEN", "Insufficient permissions to delete this ticket")
        del self.store.tickets[ticket["id"]]
        for cid in [c["id"] for c in self.store.comments_of(ticket["id"])]:
            del self.store.comments[cid]
        return json_response({"success": True, "message": "Ticket deleted successfully"})

    async def set_status(self, request: Request) -> Response:
        ticket, body = self.ticket(request.path_params["id"]), await read_body(request)
        errors: Errors = {}
        if body.get("status") is None:
            errors["status"] = ["Required"]
        check_enum(body.get("status"), "status", STATUSES, errors)
        invalid(errors)
        return self.apply(ticket, {"status": body["status"]})

    async def set_assignee(self, request: Request) -> Response:
        ticket, body = self.ticket(request.path_params["id"]), await read_body(request)
        if "assigneeId" not in body:
            invalid({"assigneeId": ["Required"]})
        fields = self.validate_ticket({"assigneeId": body["assigneeId"]}, ticket["projectId"], creating=False)
        return self.apply(ticket, fields)

    def apply(self, ticket: dict[str, Any], fields: dict[str, Any]) -> Response:
        if "labelIds" in fields:
            self.store.ticket_labels[ticket["id"]] = fields.pop("labelIds")
        fields.pop("projectId", None)  # tickets do not move between projects
        ticket.update(fields, updatedAt=iso(datetime.now(UTC)))
        return json_response({"data": self.details(ticket)})

    def validate_ticket(self, body: dict[str, Any], project_id: str | None, *, creating: bool) -> dict[str, Any]:
        errors: Errors = {}
        store = self.store
        if creating or "title" in body:
            check_string(body, "title", errors, max_len=255, required="Title is required", nullable=False)
        check_string(body, "description", errors, max_len=10000)
        for name, allowed in (("type", TYPES), ("status", STATUSES), ("priority", PRIORITIES), ("stage", STAGES)):
            check_enum(body.get(name), name, allowed, errors)
        if creating and body.get("projectId") is not None and not (
                known(body["projectId"], store.projects) and store.can_see(body["projectId"])):
            errors["projectId"] = ["Invalid project ID"]
        assignee = body.get("assigneeId")
        if assignee is not None and not (known(assignee, store.users) and (
                project_id not in store.projects or store.role(project_id, assignee) is not None)):
            errors["assigneeId"] = ["Invalid assignee ID"]
        if body.get("groupId") is not None and not known(body["groupId"], store.groups):
            errors["groupId"] = ["Invalid group ID"]
        due = body.get("dueDate")
        if due is not None and not (isinstance(due, str) and DATETIME.match(due)):
            errors["dueDate"] = ["Invalid datetime"]
        labels = body.get("labelIds", [])
        if not isinstance(labels, list) or not all(known(lid, store.labels) for lid in labels):
            errors["labelIds"] = ["Invalid label ID"]
        invalid(errors)
        writable = ("title", "description", "type", "status", "priority", "stage", "projectId", "assigneeId",
                    "groupId", "dueDate", "labelIds")
        fields = {k: body[k] for k in writable if k in body}
        if fields.get("title"):
            fields["title"] = fields["title"].strip()
        if fields.get("dueDate"):
            fields["dueDate"] = iso(parse_iso(fields["dueDate"]))
        if "labelIds" in fields:
            fields["labelIds"] = sorted(set(fields["labelIds"]), key=number)
        return fields

    async def search_tickets(self, request: Request) -> Response:
        q, errors = request.query_params, Errors()
        if not q.get("q", "").strip():
            errors["q"] = ["Search query is required"]
        limit = check_int(q.get("limit"), "limit", DEFAULT_LIMIT, errors, MAX_LIMIT)
        check_enum(q.get("status"), "status", STATUSES, errors)
        invalid(errors)
        term = q["q"].strip().lower()
        hits = [t for t in self.visible_tickets() if matches(t, term)
                and q.get("project") in (None, t["projectId"]) and q.get("status") in (None, t["status"])]
        hits.sort(key=lambda t: (term not in t["title"].lower(), invert(t["updatedAt"]), number(t["id"])))
        return json_response({"data": [self.summary(t) for t in hits[:limit]], "total": len(hits)})

    async def stats(self, request: Request) -> Response:
        q, errors = request.query_params, Errors()
        period = check_enum(q.get("period", "month"), "period", tuple(PERIOD_DAYS), errors)
        invalid(errors)
        end = datetime.now(UTC)
        start = iso(end - timedelta(days=PERIOD_DAYS[period]))
        tickets = [t for t in self.visible_tickets() if q.get("project") in (None, t["projectId"])
                   and q.get("assignee") in (None, t["assigneeId"])]
        done = [t for t in tickets if t["status"] == "done"]
        days = [(parse_iso(t["updatedAt"]) - parse_iso(t["createdAt"])).total_seconds() / 86400 for t in done]
        now = iso(end)
        return json_response({"data": {
            "period": period, "startDate": start, "endDate": now, "total": len(tickets),
            "byStatus": tally(tickets, "status", STATUSES), "byPriority": tally(tickets, "priority", PRIORITIES),
            "byType": tally(tickets, "type", TYPES),
            "metrics": {
                "averageCompletionTime": f"{sum(days) / len(days):.1f} days" if days else "0.0 days",
                "completionRate": round(100 * len(done) / len(tickets), 1) if tickets else 0,
                "overdue": sum(1 for t in tickets if t["dueDate"] and t["dueDate"] < now
                               and t["status"] not in ("done", "cancelled")),
                "createdThisPeriod": sum(1 for t in tickets if t["createdAt"] >= start),
                "completedThisPeriod": sum(1 for t in done if t["updatedAt"] >= start),
            }}})

    # -- comments ------------------------------------------------------------------------------
    async def list_comments(self, request: Request) -> Response:
        ticket, errors = self.ticket(request.path_params["id"]), Errors()
        page = check_int(request.query_params.get("page"), "page", 1, errors)
        limit = check_int(request.query_params.get("limit"), "limit", DEFAULT_LIMIT, errors, MAX_LIMIT)
        invalid(errors)
        comments = [self.comment(c) for c in self.store.comments_of(ticket["id"])]
        return json_response(paginate(comments, page, limit))

    async def create_comment(self, request: Request) -> Response:
        ticket, body = self.ticket(request.path_params["id"]), await read_body(request)
        content = self.validate_content(body)
        cid, now = self.store.next_id("comment"), iso(datetime.now(UTC))
        comment = {"id": cid, "content": content, "ticketId": ticket["id"], "authorId": SESSION_USER_ID,
                   "createdAt": now, "updatedAt": now}
        self.store.comments[cid] = comment
        return json_response({"data": self.comment(comment)}, 201)

    async def update_comment(self, request: Request) -> Response:
        comment = self.own_comment(request)
        comment.update(content=self.validate_content(await read_body(request)),
                       updatedAt=iso(datetime.now(UTC)))
        return json_response({"data": self.comment(comment)})

    async def delete_comment(self, request: Request) -> Response:
        del self.store.comments[self.own_comment(request)["id"]]
        return json_response({"success": True, "message": "Comment deleted successfully"})

    def own_comment(self, request: Request) -> dict[str, Any]:
        ticket = self.ticket(request.path_params["id"])
        comment = self.store.comments.get(request.path_params["commentId"])
        if comment is None or comment["ticketId"] != ticket["id"]:
            raise ApiError(404, "NOT_FOUND", "Comment not found")
        if comment["authorId"] != SESSION_USER_ID:
            raise ApiError(403, "FORBIDDEN", "Insufficient permissions to modify this comment")
        return comment

    @staticmethod
    def validate_content(body: dict[str, Any]) -> str:
        errors: Errors = {}
        check_string(body, "content", errors, max_len=10000, required="Content is required", nullable=False)
        invalid(errors)
        return str(body["content"]).strip()

    # -- projects, members, labels -------------------------------------------------------------
    async def list_projects(self, request: Request) -> Response:
        q, errors = request.query_params, Errors()
        page = check_int(q.get("page"), "page", 1, errors)
        limit = check_int(q.get("limit"), "limit", DEFAULT_LIMIT, errors, MAX_LIMIT)
        sort = check_enum(q.get("sort", "updatedAt"), "sort", ("name", "createdAt", "updatedAt"), errors)
        order = check_enum(q.get("order", "desc"), "order", ("asc", "desc"), errors)
        check_enum(q.get("status"), "status", ("active", "archived", "deleted"), errors)
        invalid(errors)
        term = (q.get("search") or "").lower()
        projects = [p for p in self.store.projects.values() if self.store.can_see(p["id"])
                    and q.get("workspace") in (None, p["workspaceId"]) and q.get("status") in (None, p["status"])
                    and (term in p["name"].lower() or term in (p["description"] or "").lower())]
        projects.sort(key=lambda p: p[sort], reverse=order == "desc")
        return json_response(paginate([self.project(p) for p in projects], page, limit))

    async def get_project(self, request: Request) -> Response:
        return json_response({"data": self.project(self.find_project(request.path_params["id"]))})

    async def list_members(self, request: Request) -> Response:
        project = self.find_project(request.path_params["id"])
        members = [{**m, "user": self.user(m["userId"])} for m in self.store.members[project["id"]]]
        return json_response({"data": members})

    async def list_labels(self, request: Request) -> Response:
        pid = request.query_params.get("project")
        labels = [label for label in self.store.labels.values() if pid in (None, label["projectId"])
                  and self.store.can_see(label["projectId"])]
        return json_response({"data": sorted(labels, key=lambda label: (label["name"], number(label["id"])))})


def matches(ticket: dict[str, Any], term: str | None) -> bool:
    """Case-insensitive substring match on title, description and key (Prisma ``mode: insensitive``)."""
    term = (term or "").lower()
    return any(term in (ticket[f] or "").lower() for f in ("title", "description", "key"))


def known(value: Any, records: dict[str, Any]) -> bool:
    return isinstance(value, str) and value in records


def invert(stamp: str) -> tuple[int, ...]:
    """Sort key putting later ISO timestamps first within an ascending sort."""
    return tuple(-ord(ch) for ch in stamp)


def tally(tickets: list[dict[str, Any]], name: str, values: tuple[str, ...]) -> dict[str, int]:
    return {v: sum(1 for t in tickets if t[name] == v) for v in values}


def paginate(items: list[Any], page: int, limit: int) -> dict[str, Any]:
    total = len(items)
    return {"data": items[(page - 1) * limit: page * limit],
            "pagination": {"page": page, "limit": limit, "total": total, "totalPages": math.ceil(total / limit)}}


async def read_body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "VALIDATION_ERROR", "Invalid request body")
    return body


Handler = Callable[[Request], Awaitable[Response]]


def by_method(handlers: dict[str, Handler]) -> Handler:
    async def dispatch(request: Request) -> Response:
        return await handlers["GET" if request.method == "HEAD" else request.method](request)

    return dispatch


def guarded(handler: Handler, api_key: str) -> Handler:
    """Session check (NextAuth cookie, either name) and the ``{"error": {...}}`` envelope."""

    async def endpoint(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE) or request.cookies.get(SECURE_SESSION_COOKIE)
        try:
            if token != api_key:
                raise ApiError(401, "UNAUTHORIZED", "Authentication required")
            return await handler(request)
        except ApiError as exc:
            error: dict[str, Any] = {"code": exc.code, "message": exc.message}
            if exc.details:
                error["details"] = exc.details
            return json_response({"error": error}, exc.status)

    return endpoint


async def next_style_error(request: Request, exc: Exception) -> Response:
    """Next.js answers unknown paths with its HTML 404 page and wrong methods with an empty 405."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return Response(b"", status_code=405, headers=exc.headers)
    return Response(NOT_FOUND_PAGE, status_code=404, media_type="text/html; charset=utf-8")


def create_app(*, seed: int = 7, ticket_count: int = 260, api_key: str = DEFAULT_API_KEY) -> SimulatorControl:
    api = Codimir(seed_store(seed, ticket_count))
    table: dict[str, dict[str, Handler]] = {  # static segments before [id], as Next.js resolves them
        "/api/tickets": {"GET": api.list_tickets, "POST": api.create_ticket},
        "/api/tickets/search": {"GET": api.search_tickets},
        "/api/tickets/stats": {"GET": api.stats},
        "/api/tickets/{id}": {"GET": api.get_ticket, "PUT": api.update_ticket, "DELETE": api.delete_ticket},
        "/api/tickets/{id}/status": {"PUT": api.set_status},
        "/api/tickets/{id}/assignee": {"PUT": api.set_assignee},
        "/api/tickets/{id}/comments": {"GET": api.list_comments, "POST": api.create_comment},
        "/api/tickets/{id}/comments/{commentId}": {"PATCH": api.update_comment, "DELETE": api.delete_comment},
        "/api/projects": {"GET": api.list_projects},
        "/api/project/{id}": {"GET": api.get_project},
        "/api/projects/{id}": {"GET": api.get_project},
        "/api/project/{id}/members": {"GET": api.list_members},
        "/api/projects/{id}/members": {"GET": api.list_members},
        "/api/labels": {"GET": api.list_labels},
    }
    routes = [Route(path, guarded(by_method(handlers), api_key), methods=list(handlers))
              for path, handlers in table.items()]
    app = Starlette(routes=routes, exception_handlers={404: next_style_error, 405: next_style_error})
    return SimulatorControl(app)
