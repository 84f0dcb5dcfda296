"""In-memory simulator of the AgentsMesh external Tickets API (``/api/v1/ext/orgs/{org}/...``).

Follows the published Tickets API document; where it is silent, behaviour follows AgentsMesh's
open-source backend (gin handlers, ``apierr`` bodies ``{"error", "code"}``). Every such choice is
listed under *Assumptions* in this folder's README.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from unigate.kit import SimulatorControl

DEFAULT_ORG = "acme"
OTHER_ORG = "globex"  # exists, but no simulator key belongs to it (-> 403 API_KEY_ORG_MISMATCH)
DEFAULT_API_KEY = "amk_8c1f4e2a9b7d3f60e5a1c4b8d2f7e9a3"
READ_ONLY_API_KEY = "amk_3b9e7d1c5a2f8e40b6d3a9c1e7f5b2d4"  # scopes tickets:read, repos:read
BASE_PATH = "/api/v1/ext/orgs/{org}"
MAIN_REPOSITORY_ID = 1  # holds `ticket_count` tickets, slugs AM-1..AM-n
STATUSES = ("backlog", "todo", "in_progress", "in_review", "done")
PRIORITIES = ("low", "medium", "high", "urgent")
DEFAULT_PRIORITY = "none"  # stored when `priority` is omitted on create
TYPES = ("task", "bug", "feature", "improvement", "epic", "subtask", "story")
DEFAULT_LIMIT = 20
BOARD_COLUMN_LIMIT = 50
NO_REPOSITORY_PREFIX = "TICKET"
SEED_EPOCH = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
JSON = "application/json; charset=utf-8"

TICKET_FIELDS = ("id", "number", "slug", "type", "title", "content", "status", "priority",
                 "assignee_id", "reporter_id", "repository_id", "labels")  # then parent_slug, stamps
FULL_SCOPES = frozenset({"tickets:read", "tickets:write", "repos:read"})
READ_SCOPES = frozenset({"tickets:read", "repos:read"})
TICKETS_READ = ("tickets:read", "tickets:write")
TICKETS_WRITE = ("tickets:write",)
REPOS_READ = ("repos:read",)

LABELS = ("backend", "frontend", "auth", "api", "ui", "performance", "security", "docs",
          "infra", "database", "mobile", "tech-debt", "customer")
MEMBERS = (("alice", "Alice Moreau", "owner"), ("bruno", "Bruno Silva", "admin"),
           ("chen", "Chen Wei", "member"), ("dana", "Dana Kowalski", "member"),
           ("eitan", "Eitan Levi", "member"), ("fatima", "Fatima Zahra", "member"),
           ("gustav", "Gustav Berg", "member"), ("hana", "Hana Sato", "member"),
           ("ivan", "Ivan Petrov", "member"), ("jules", "Jules Martin", "member"),
           ("kofi", "Kofi Mensah", "member"), ("lena", "Lena Fischer", "member"))
REPOSITORIES = ((MAIN_REPOSITORY_ID, "agentsmesh-core", "AM"), (2, "web-dashboard", "WEB"),
                (3, "infra", "OPS"))
EXTRA_TICKETS = {2: 6, 3: 5, None: 3}  # small collections, plus tickets with no repository
VERBS = {"bug": ("Fix", "Investigate", "Resolve"), "feature": ("Implement", "Add", "Support"),
         "improvement": ("Improve", "Speed up", "Simplify"), "task": ("Update", "Migrate", "Audit"),
         "epic": ("Rework", "Launch"), "story": ("As a user, I can use",), "subtask": ("Wire up",)}
SUBJECTS = ("user authentication", "the kanban board", "pod scheduling", "runner heartbeats",
            "webhook delivery", "API key rotation", "the billing page", "merge request sync",
            "ticket search", "SSO login", "the CSS layout on settings", "channel notifications",
            "audit log export", "repository import", "rate limiting", "terminal reconnects",
            "label filtering", "the onboarding flow", "database migrations", "agent prompts")
DETAILS = ("Reported by a customer on the enterprise plan.", "Seen on staging since the last deploy.",
           "Blocks the next release.", "Needs a design review first.", "Low risk, small change.",
           "Reproducible about one time in five.", "Covered by an existing e2e test.")
COMMENTS = ("I can reproduce this locally.", "Pushed a fix, please review.", "Is this still needed?",
            "Moved to next sprint.", "Added logs, will check tomorrow.", "LGTM once CI is green.")


class ApiError(Exception):
    """An error answered as ``{"error": message, "code": code, ...extra}`` (code may be absent)."""

    def __init__(self, status: int, message: str, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.body = status, {"error": message, **({"code": code} if code else {}), **extra}


def _invalid(message: str) -> ApiError:
    return ApiError(400, message, "VALIDATION_FAILED")


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status, media_type=JSON)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Grant:
    org_id: int
    scopes: frozenset[str]


@dataclass
class State:
    """Everything one simulator instance knows; mutated by the handlers."""

    orgs: dict[str, int]
    keys: dict[str, Grant]
    members: list[dict[str, Any]] = field(default_factory=list)
    repositories: dict[int, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    numbers: dict[tuple[int, str], int] = field(default_factory=dict)
    next_id: int = 1
    clock: datetime = SEED_EPOCH

    def tick(self, seconds: float = 1) -> datetime:
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def add_ticket(self, org_id: int, repo_id: int | None, fields: dict[str, Any]) -> dict[str, Any]:
        prefix = self.repositories[repo_id]["ticket_prefix"] if repo_id else NO_REPOSITORY_PREFIX
        number = self.numbers.get((org_id, prefix), 0) + 1
        self.numbers[(org_id, prefix)] = number
        now = _stamp(self.clock)
        ticket = {"id": self.next_id, "organization_id": org_id, "number": number,
                  "slug": f"{prefix}-{number}", "repository_id": repo_id, "content": None,
                  "status": "backlog", "priority": DEFAULT_PRIORITY, "assignee_id": None,
                  "labels": [], "parent_id": None, "created_at": now, "updated_at": now, **fields}
        self.tickets[ticket["id"]] = ticket
        self.next_id += 1
        return ticket

    def find(self, org_id: int, slug: str) -> dict[str, Any] | None:
        return next((t for t in self.tickets.values()
                     if t["organization_id"] == org_id and t["slug"] == slug), None)

    def render(self, ticket: dict[str, Any]) -> dict[str, Any]:
        parent = self.tickets.get(ticket["parent_id"]) if ticket["parent_id"] else None
        public = {name: ticket[name] for name in TICKET_FIELDS}
        return {**public, "parent_slug": parent["slug"] if parent else None,
                "created_at": ticket["created_at"], "updated_at": ticket["updated_at"]}

    def ordered(self, org_id: int) -> list[dict[str, Any]]:
        """Tickets of an org, newest created first (id breaks ties)."""
        mine = [t for t in self.tickets.values() if t["organization_id"] == org_id]
        return sorted(mine, key=lambda t: (t["created_at"], t["id"]), reverse=True)


def _seed(state: State, rng: random.Random, ticket_count: int) -> None:
    org_id = state.orgs[DEFAULT_ORG]
    for user_id, (username, name, role) in enumerate(MEMBERS, start=1):
        state.members.append({"id": user_id, "username": username, "name": name, "role": role,
                              "email": f"{username}@{DEFAULT_ORG}.dev"})
    for repo_id, name, prefix in REPOSITORIES:
        made = _stamp(SEED_EPOCH - timedelta(days=30 - repo_id))
        state.repositories[repo_id] = {
            "id": repo_id, "organization_id": org_id, "provider_type": "github",
            "provider_base_url": "https://github.com", "external_id": str(700100 + repo_id),
            "name": name, "full_path": f"{DEFAULT_ORG}/{name}",
            "clone_url": f"https://github.com/{DEFAULT_ORG}/{name}.git", "default_branch": "main",
            "ticket_prefix": prefix, "visibility": "organization", "is_active": True,
            "created_at": made, "updated_at": made}
    slots: list[int | None] = [MAIN_REPOSITORY_ID] * ticket_count
    for extra, count in EXTRA_TICKETS.items():
        slots += [extra] * count
    rng.shuffle(slots)
    member_ids = [m["id"] for m in state.members]
    for slot in slots:
        state.tick(rng.randint(1800, 50_000))
        kind = rng.choices(TYPES, weights=(30, 25, 20, 10, 3, 4, 8))[0]
        status = rng.choices(STATUSES, weights=(25, 20, 20, 10, 25))[0]
        earlier = [t for t in state.tickets.values() if t["repository_id"] == slot]
        ticket = state.add_ticket(org_id, slot, {
            "type": kind, "status": status,
            "title": f"{rng.choice(VERBS[kind])} {rng.choice(SUBJECTS)}",
            "content": " ".join(rng.sample(DETAILS, 2)) if rng.random() < 0.8 else None,
            "priority": rng.choices((DEFAULT_PRIORITY, *PRIORITIES), weights=(15, 25, 35, 18, 7))[0],
            "assignee_id": rng.choice(member_ids) if rng.random() < 0.8 else None,
            "labels": sorted(rng.sample(LABELS, rng.choice((0, 1, 1, 2, 2, 3)))),
            "parent_id": rng.choice(earlier)["id"] if earlier and rng.random() < 0.1 else None,
            "reporter_id": rng.choice(member_ids)})
        ticket["updated_at"] = _stamp(state.clock + timedelta(minutes=rng.randint(0, 20_000)))
        if rng.random() < 0.3:
            state.comments[ticket["id"]] = [
                {"id": ticket["id"] * 10 + n, "ticket_id": ticket["id"],
                 "user_id": rng.choice(member_ids), "content": rng.choice(COMMENTS),
                 "created_at": _stamp(state.clock + timedelta(hours=n + 1))}
                for n in range(rng.randint(1, 4))]
    state.clock = max(datetime.fromisoformat(t["updated_at"]) for t in state.tickets.values())


# -- request helpers -------------------------------------------------------------------------------

def _go_kind(value: Any) -> str:
    kinds = ((bool, "bool"), (str, "string"), ((int, float), "number"), (list, "array"))
    return next((name for kind, name in kinds if isinstance(value, kind)), "object")


def _go_type_ok(value: Any, go_type: str) -> bool:
    if go_type == "string":
        return isinstance(value, str)
    if go_type == "int64":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


async def _bind(request: Request, struct: str, spec: dict[str, str]) -> dict[str, Any]:
    """Decode a JSON object the way gin's ShouldBindJSON does, with Go's error messages."""
    raw = (await request.body()).strip()
    if not raw:
        raise _invalid("EOF")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        first = chr(raw[0])
        raise _invalid(f"invalid character '{first}' looking for beginning of value"
                       if first not in '{["-0123456789tfn' else "unexpected end of JSON input") from None
    if not isinstance(data, dict):
        raise _invalid(f"json: cannot unmarshal {_go_kind(data)} into Go value of type v1.{struct}")
    for name, go_type in spec.items():
        value = data.get(name)
        if value is not None and not _go_type_ok(value, go_type):
            raise _invalid(f"json: cannot unmarshal {_go_kind(value)} into Go struct field "
                           f"{struct}.{name} of type {go_type}")
    return data


def _tag_errors(struct: str, failures: list[tuple[str, str]]) -> None:
    if failures:
        raise _invalid("\n".join(f"Key: '{struct}.{f}' Error:Field validation for '{f}' failed on "
                                 f"the '{tag}' tag" for f, tag in failures))


ENUMS = {"type": TYPES, "status": STATUSES, "priority": PRIORITIES}


def _check_enums(data: dict[str, Any], names: tuple[str, ...], failures: list[tuple[str, str]]) -> None:
    """gin ``oneof``: only non-empty values are checked (empty means "not given")."""
    for name in names:
        if data.get(name) and data[name] not in ENUMS[name]:
            failures.append((name.capitalize(), "oneof"))


def _query_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise _invalid(f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None


Handler = Callable[[Request, int], Awaitable[Response]]


# -- the app ---------------------------------------------------------------------------------------

class AgentsMeshSimulator:
    def __init__(self, state: State) -> None:
        self.state = state

    def _authorize(self, request: Request, scopes: tuple[str, ...]) -> int:
        key = request.headers.get("x-api-key", "")
        if not key.startswith("amk_"):
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            key = token if scheme == "Bearer" and token.startswith("amk_") else ""
        if not key:
            raise ApiError(401, "API key is required", "AUTH_REQUIRED")
        grant = self.state.keys.get(key)
        if grant is None:
            raise ApiError(401, "Invalid API key", "INVALID_TOKEN")
        org_id = self.state.orgs.get(request.path_params["org"])
        if org_id is None:
            raise ApiError(404, "Organization not found", "RESOURCE_NOT_FOUND")
        if org_id != grant.org_id:
            raise ApiError(403, "API key does not belong to this organization", "API_KEY_ORG_MISMATCH")
        if not grant.scopes.intersection(scopes):
            raise ApiError(403, "Insufficient scope", "INSUFFICIENT_SCOPE", required_scopes=list(scopes))
        return org_id

    def route(self, path: str, method: str, scopes: tuple[str, ...], handler: Handler) -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request, self._authorize(request, scopes))
            except ApiError as exc:
                return _json(exc.body, exc.status)
        return Route(BASE_PATH + path, endpoint, methods=[method])

    def _ticket(self, request: Request, org_id: int) -> dict[str, Any]:
        ticket = self.state.find(org_id, request.path_params["slug"])
        if ticket is None:
            raise ApiError(404, "Ticket not found", "RESOURCE_NOT_FOUND")
        return ticket

    def _references(self, org_id: int, data: dict[str, Any], ticket_id: int | None) -> dict[str, Any]:
        """Resolve assignee/parent/labels of a create or update body into stored fields."""
        changes: dict[str, Any] = {}
        if "assignee_id" in data:
            assignee = data["assignee_id"]
            if assignee is not None and assignee not in {m["id"] for m in self.state.members}:
                raise ApiError(400, "Assignee is not a member of this organization", "INVALID_INPUT")
            changes["assignee_id"] = assignee
        if "parent_slug" in data:
            slug = data["parent_slug"]
            parent = self._parent(org_id, slug) if slug else None
            if parent is not None and parent["id"] == ticket_id:
                raise ApiError(400, "A ticket cannot be its own parent", "INVALID_INPUT")
            changes["parent_id"] = parent["id"] if parent else None
        if data.get("labels") is not None:
            changes["labels"] = sorted({label for label in data["labels"] if label in LABELS})
        return changes

    def _parent(self, org_id: int, ref: str) -> dict[str, Any]:
        parent = self.state.find(org_id, ref)
        if parent is None and ref.isdigit():
            candidate = self.state.tickets.get(int(ref))
            parent = candidate if candidate and candidate["organization_id"] == org_id else None
        if parent is None:
            raise ApiError(404, "Parent ticket not found")  # this handler omits "code"
        return parent

    async def list_tickets(self, request: Request, org_id: int) -> Response:
        repo_id, assignee = _query_int(request, "repository_id"), _query_int(request, "assignee_id")
        limit = _query_int(request, "limit") or DEFAULT_LIMIT
        offset = _query_int(request, "offset") or 0
        status, kind = request.query_params.get("status"), request.query_params.get("type")
        labels = {x.strip() for x in request.query_params.get("labels", "").split(",") if x.strip()}
        rows = [t for t in self.state.ordered(org_id)
                if (repo_id is None or t["repository_id"] == repo_id)
                and (assignee is None or t["assignee_id"] == assignee)
                and (not status or t["status"] == status) and (not kind or t["type"] == kind)
                and (not labels or labels.intersection(t["labels"]))]
        start = max(offset, 0)
        page = rows[start:] if limit < 0 else rows[start:start + limit]
        return _json({"tickets": [self.state.render(t) for t in page], "total": len(rows),
                      "limit": limit, "offset": offset})

    async def board(self, request: Request, org_id: int) -> Response:
        raw = request.query_params.get("repository_id", "")
        repo_id = int(raw) if raw.lstrip("-").isdigit() else None  # unparsable -> ignored
        rows = [t for t in self.state.ordered(org_id) if repo_id is None or t["repository_id"] == repo_id]
        columns = []
        for status in STATUSES:
            matching = [t for t in rows if t["status"] == status]
            columns.append({"status": status, "count": len(matching),
                            "tickets": [self.state.render(t) for t in matching[:BOARD_COLUMN_LIMIT]]})
        return _json({"board": {"columns": columns}})

    async def get_ticket(self, request: Request, org_id: int) -> Response:
        return _json({"ticket": self.state.render(self._ticket(request, org_id))})

    async def create_ticket(self, request: Request, org_id: int) -> Response:
        struct = "CreateTicketRequest"
        data = await _bind(request, struct, {
            "repository_id": "int64", "type": "string", "title": "string", "content": "string",
            "status": "string", "priority": "string", "assignee_id": "int64", "labels": "[]string",
            "parent_slug": "string"})
        failures = [] if data.get("type") else [("Type", "required")]
        _check_enums(data, ("type",), failures)
        if not data.get("title"):
            failures.append(("Title", "required"))
        elif len(data["title"]) > 500:
            failures.append(("Title", "max"))
        _check_enums(data, ("status", "priority"), failures)
        _tag_errors(struct, failures)
        repo_id = data.get("repository_id")
        if repo_id is not None and repo_id not in self.state.repositories:
            raise ApiError(400, "Repository not found", "INVALID_INPUT")
        changes = self._references(org_id, data, None)
        self.state.tick()
        ticket = self.state.add_ticket(org_id, repo_id, {
            "type": data["type"], "title": data["title"], "content": data.get("content") or None,
            "status": data.get("status") or "backlog",
            "priority": data.get("priority") or DEFAULT_PRIORITY,
            "reporter_id": self.state.members[0]["id"], **changes})
        return _json({"ticket": self.state.render(ticket)}, 201)

    async def update_ticket(self, request: Request, org_id: int) -> Response:
        struct = "UpdateTicketRequest"
        data = await _bind(request, struct, {
            "title": "string", "type": "string", "content": "string", "status": "string",
            "priority": "string", "assignee_id": "int64", "labels": "[]string",
            "parent_slug": "string"})
        failures = [("Title", "max")] if len(data.get("title") or "") > 500 else []
        _check_enums(data, ("type", "priority", "status"), failures)
        _tag_errors(struct, failures)
        ticket = self._ticket(request, org_id)
        changes = {k: data[k] for k in ("title", "type", "status", "priority") if data.get(k)}
        if data.get("content") is not None:
            changes["content"] = data["content"] or None
        changes.update(self._references(org_id, data, ticket["id"]))
        ticket.update(changes, updated_at=_stamp(self.state.tick()))
        return _json({"ticket": self.state.render(ticket)})

    async def update_status(self, request: Request, org_id: int) -> Response:
        struct = "UpdateTicketStatusRequest"
        data = await _bind(request, struct, {"status": "string"})
        failures = [] if data.get("status") else [("Status", "required")]
        _check_enums(data, ("status",), failures)
        _tag_errors(struct, failures)
        ticket = self._ticket(request, org_id)
        ticket.update(status=data["status"], updated_at=_stamp(self.state.tick()))
        return _json({"message": "Status updated"})

    async def delete_ticket(self, request: Request, org_id: int) -> Response:
        ticket = self._ticket(request, org_id)
        del self.state.tickets[ticket["id"]]
        self.state.comments.pop(ticket["id"], None)
        for child in self.state.tickets.values():
            if child["parent_id"] == ticket["id"]:
                child["parent_id"] = None
        return _json({"message": "Ticket deleted"})

    async def list_comments(self, request: Request, org_id: int) -> Response:
        comments = self.state.comments.get(self._ticket(request, org_id)["id"], [])
        return _json({"comments": comments, "total": len(comments)})

    async def list_repositories(self, request: Request, org_id: int) -> Response:
        repos = [r for r in self.state.repositories.values() if r["organization_id"] == org_id]
        return _json({"repositories": repos})

    async def get_repository(self, request: Request, org_id: int) -> Response:
        raw = request.path_params["repo_id"]
        if not raw.isdigit():
            raise ApiError(400, "Invalid repository ID", "INVALID_INPUT")
        repo = self.state.repositories.get(int(raw))
        if repo is None or repo["organization_id"] != org_id:
            raise ApiError(404, "Repository not found", "RESOURCE_NOT_FOUND")
        return _json({"repository": repo})

    async def list_members(self, request: Request, org_id: int) -> Response:
        members = self.state.members if org_id == self.state.orgs[DEFAULT_ORG] else []
        return _json({"members": members, "total": len(members)})

    def routes(self) -> list[Route]:
        r = self.route
        return [
            r("/tickets", "GET", TICKETS_READ, self.list_tickets),
            r("/tickets", "POST", TICKETS_WRITE, self.create_ticket),
            r("/tickets/board", "GET", TICKETS_READ, self.board),
            r("/tickets/{slug}", "GET", TICKETS_READ, self.get_ticket),
            r("/tickets/{slug}", "PUT", TICKETS_WRITE, self.update_ticket),
            r("/tickets/{slug}", "DELETE", TICKETS_WRITE, self.delete_ticket),
            r("/tickets/{slug}/status", "PATCH", TICKETS_WRITE, self.update_status),
            r("/tickets/{slug}/comments", "GET", TICKETS_READ, self.list_comments),
            r("/repositories", "GET", REPOS_READ, self.list_repositories),
            r("/repositories/{repo_id}", "GET", REPOS_READ, self.get_repository),
            r("/members", "GET", TICKETS_READ, self.list_members),
        ]


async def _gin_not_found(request: Request, exc: Exception) -> Response:
    """gin answers unknown routes and wrong methods alike with a plain-text 404."""
    return PlainTextResponse("404 page not found", 404)


def create_app(*, seed: int = 7, ticket_count: int = 260,
               api_key: str = DEFAULT_API_KEY) -> SimulatorControl:
    """A fresh simulator with deterministic seed data, wrapped for fault injection/recording."""
    org_id = 1
    state = State(orgs={DEFAULT_ORG: org_id, OTHER_ORG: 2},
                  keys={api_key: Grant(org_id, FULL_SCOPES), READ_ONLY_API_KEY: Grant(org_id, READ_SCOPES)})
    _seed(state, random.Random(seed), ticket_count)
    app = Starlette(routes=AgentsMeshSimulator(state).routes(),
                    exception_handlers={404: _gin_not_found, 405: _gin_not_found})
    return SimulatorControl(app)
