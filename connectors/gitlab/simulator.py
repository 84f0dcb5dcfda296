"""In-memory simulator of GitLab's REST API v4, the part an issue-tracking connector touches.

GitLab publishes no OpenAPI description that covers issues (see this folder's README): shapes and
behaviour follow GitLab's API documentation as summarised, with its sources, in the project's
research notes on downstream APIs. Seeded deterministically.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from unigate.kit import SimulatorControl

BASE = "/api/v4"
OWNER_TOKEN = "glpat-4l1c3Own3rT0k3n00000"  # alice: Owner of the acme group
DEVELOPER_TOKEN = "glpat-b0bD3v3l0p3rT0k3n000"  # bob: Developer (may not delete issues)
ADMIN_TOKEN = "glpat-r00tAdm1nT0k3n000000"  # root: instance administrator
USERS = (("root", "Administrator"), ("alice", "Alice Owner"), ("bob", "Bob Developer"),
         ("carol", "Carol Reporter"), ("dave", "Dave Contributor"), ("erin", "Erin Outsider"))
GROUP: dict[str, Any] = {"id": 10, "name": "Acme", "path": "acme", "members": {"alice": 50, "bob": 30, "carol": 20}}
PLATFORM, WEB, SANDBOX, SECRET = 42, 43, 44, 45
PROJECTS: tuple[tuple[int, str, str, dict[str, int]], ...] = ((PLATFORM, "acme", "platform", {"dave": 30}), (WEB, "acme", "web", {}),
            (SANDBOX, "alice", "sandbox", {"alice": 50}), (SECRET, "other-group", "secret", {"erin": 50}))
LABELS = (("bug", "#d9534f"), ("feature", "#5cb85c"), ("documentation", "#428bca"),
          ("priority::high", "#ff0000"), ("priority::medium", "#ffa500"), ("priority::low", "#cccccc"),
          ("workflow::in progress", "#6699cc"), ("workflow::review", "#8e44ad"))
MILESTONES = ((1, "v1.0", "2027-03-01"), (2, "v2.0", None))
ISSUE_TYPES = ("issue", "incident", "test_case", "task")
ACCESS = {"guest": 10, "reporter": 20, "developer": 30, "maintainer": 40, "owner": 50}
SUBJECTS = ("pipeline cache", "merge request widget", "runner registration", "SAML sign-in", "wiki search",
            "container registry cleanup", "issue boards", "the Web IDE", "audit events", "webhooks")
VERBS = ("Fix", "Improve", "Document", "Investigate", "Support")
NOTES = ("Looking into it.", "Fixed on main.", "Can you add a screenshot?", "Duplicate of an older issue?",
         "Scheduled for the next milestone.")
SEED_EPOCH = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
DEFAULT_PER_PAGE, MAX_PER_PAGE = 20, 100
COUNT_LIMIT = 10_000  # above it GitLab omits x-total, x-total-pages and rel="last"
JSON = "application/json"


class GitLabError(Exception):
    """An answer GitLab gives as ``{"message": ...}`` or ``{"error": ...}`` (or, for the general
    throttle, as plain text)."""

    def __init__(self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(body))
        self.status, self.body, self.headers = status, body, headers or {}

    def response(self, headers: dict[str, str]) -> Response:
        if isinstance(self.body, str):
            return PlainTextResponse(self.body, self.status, {**headers, **self.headers})
        return _json(self.body, self.status, {**headers, **self.headers})


def _not_found(what: str) -> GitLabError:
    return GitLabError(404, {"message": f"404 {what} Not Found"})


def _missing(name: str) -> GitLabError:
    return GitLabError(400, {"error": f"{name} is missing"})


def _bad(name: str) -> GitLabError:
    return GitLabError(400, {"error": f"{name} is invalid"})


def _digits(text: str) -> bool:
    """Only ASCII digits (``str.isdigit`` takes ``²`` too, which ``int`` refuses)."""
    return text.isascii() and text.isdigit()


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- state -----------------------------------------------------------------------------------------

@dataclass
class Project:
    id: int
    namespace: str
    path: str
    members: dict[str, int]  # direct members: username -> access level
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> label
    milestones: dict[int, dict[str, Any]] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)  # iid -> issue
    created_at: str = _stamp(SEED_EPOCH - timedelta(days=300))

    @property
    def full_path(self) -> str:
        return f"{self.namespace}/{self.path}"


@dataclass
class RateLimit:
    """GitLab.com-style limits: the general throttle (``limit`` requests per 60 s, then 429 with
    Rack::Attack's plain-text ``Retry later``) and the application limit on issue creation
    (``creates`` per 60 s, then 429 with a JSON message). ``headers=False`` leaves the
    ``RateLimit-*`` headers off ordinary answers, as some GitLab set-ups do."""

    limit: int = 2000
    creates: int = 300
    observed: int = 0
    reset: int = 0
    retry_after: bool = True
    headers: bool = True
    created: list[float] = field(default_factory=list)

    def admit(self, now: float) -> dict[str, str]:
        if now >= self.reset:
            self.observed, self.reset = 0, int(now) + 60
        self.observed += 1
        headers = {"ratelimit-name": "throttle_authenticated_api", "ratelimit-limit": str(self.limit),
                   "ratelimit-observed": str(self.observed),
                   "ratelimit-remaining": str(max(self.limit - self.observed, 0)),
                   "ratelimit-reset": str(self.reset), "ratelimit-resettime": formatdate(self.reset, usegmt=True)}
        if self.observed > self.limit:
            wait = {"retry-after": str(max(self.reset - int(now), 1))} if self.retry_after else {}
            raise GitLabError(429, "Retry later\n", {**headers, **wait})
        return headers if self.headers else {}

    def admit_create(self, now: float) -> None:
        self.created = [t for t in self.created if now - t < 60]
        if len(self.created) >= self.creates:
            raise GitLabError(429, {"message": {"error": "This endpoint has been requested too many times. "
                                                         "Try again later."}})
        self.created.append(now)


@dataclass
class State:
    users: dict[str, int]
    tokens: dict[str, str]
    admins: frozenset[str]
    projects: dict[int, Project] = field(default_factory=dict)
    notes: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> note
    limits: RateLimit = field(default_factory=RateLimit)
    count_limit: int = COUNT_LIMIT
    next_issue_id: int = 5_000_001
    next_note_id: int = 9_000_001
    next_label_id: int = 300
    clock: datetime = SEED_EPOCH

    def tick(self, seconds: float = 1) -> str:
        self.clock += timedelta(seconds=seconds)
        return _stamp(self.clock)

    def access(self, project: Project, username: str) -> int:
        inherited = GROUP["members"].get(username, 0) if project.namespace == GROUP["path"] else 0
        return max(inherited, project.members.get(username, 0))

    def members(self, project: Project) -> dict[str, int]:
        names = set(project.members) | (set(GROUP["members"]) if project.namespace == GROUP["path"] else set())
        return {name: self.access(project, name) for name in sorted(names, key=self.users.__getitem__)}

    def add_label(self, project: Project, name: str, color: str = "#6699cc", description: str | None = None,
                  ) -> dict[str, Any]:
        label = {"id": self.next_label_id, "name": name, "color": color, "description": description}
        self.next_label_id += 1
        project.labels[name] = label
        return label

    def add_issue(self, project: Project, fields: dict[str, Any]) -> dict[str, Any]:
        now = _stamp(self.clock)
        issue = {"id": self.next_issue_id, "iid": max(project.issues, default=0) + 1, "title": "",
                 "description": None, "state": "opened", "labels": [], "assignees": [], "author": "alice",
                 "milestone": None, "due_date": None, "issue_type": "issue", "confidential": False,
                 "discussion_locked": None, "created_at": now, "updated_at": now, "closed_at": None,
                 "closed_by": None, **fields}
        self.next_issue_id += 1
        project.issues[issue["iid"]] = issue
        return issue

    def add_note(self, project: Project, issue: dict[str, Any], author: str, body: str,
                 system: bool = False) -> dict[str, Any]:
        now = _stamp(self.clock)
        note = {"id": self.next_note_id, "project": project.id, "iid": issue["iid"], "author": author,
                "body": body, "system": system, "created_at": now, "updated_at": now}
        self.next_note_id += 1
        self.notes[note["id"]] = note
        return note


def _seed(state: State, rng: random.Random, issue_count: int) -> None:
    for project_id, namespace, path, members in PROJECTS:
        project = Project(project_id, namespace, path, dict(members))
        state.projects[project_id] = project
        for name, color in LABELS:
            state.add_label(project, name, color)
        for number, title, due in MILESTONES:
            project.milestones[project_id * 10 + number] = {"id": project_id * 10 + number, "iid": number,
                                                            "title": title, "due_date": due}
    for project_id, count in ((PLATFORM, issue_count), (WEB, 12), (SECRET, 3)):
        _seed_issues(state, rng, state.projects[project_id], count)


def _seed_issues(state: State, rng: random.Random, project: Project, count: int) -> None:
    members = list(state.members(project))
    for _ in range(count):
        state.tick(rng.randint(1800, 40_000))
        issue = state.add_issue(project, {
            "title": f"{rng.choice(VERBS)} {rng.choice(SUBJECTS)}", "author": rng.choice(members),
            "description": rng.choice((None, "Steps are in the linked thread.", "Seen on staging.")),
            "labels": _scoped(rng.sample([n for n, _ in LABELS], rng.choice((0, 1, 1, 2, 3)))),
            "assignees": rng.sample(members, min(rng.choice((0, 1, 1, 2)), len(members))),
            "milestone": rng.choice((None, None, project.id * 10 + 1, project.id * 10 + 2)),
            "due_date": rng.choice((None, None, (SEED_EPOCH + timedelta(days=rng.randint(10, 200))).date().isoformat())),
            "issue_type": rng.choices(ISSUE_TYPES, weights=(80, 8, 2, 10))[0]})
        for _ in range(rng.choice((0, 1, 2))):
            state.add_note(project, issue, rng.choice(members), rng.choice(NOTES))
        if issue["assignees"]:
            state.add_note(project, issue, issue["author"], f"assigned to @{issue['assignees'][0]}", system=True)
        if rng.random() < 0.3:
            state.tick(3600)
            issue.update(state="closed", closed_at=_stamp(state.clock), closed_by=issue["author"])
            state.add_note(project, issue, issue["author"], "closed", system=True)
        issue["updated_at"] = _stamp(state.clock)


def _scoped(names: list[str]) -> list[str]:
    """Scoped labels (``scope::value``): an issue keeps one per scope, the last given."""
    kept: dict[str, str] = {}
    for name in names:
        kept[name.rsplit("::", 1)[0] if "::" in name else name] = name
    return sorted(kept.values())


# -- rendering -------------------------------------------------------------------------------------

@dataclass
class Render:
    web: str  # http://host:port
    state: State

    def user(self, username: str) -> dict[str, Any]:
        user_id = self.state.users[username]
        return {"id": user_id, "username": username, "name": dict(USERS)[username], "state": "active",
                "locked": False, "avatar_url": f"{self.web}/uploads/-/system/user/avatar/{user_id}/avatar.png",
                "web_url": f"{self.web}/{username}"}

    def member(self, username: str, level: int) -> dict[str, Any]:
        return {**self.user(username), "access_level": level, "created_at": _stamp(SEED_EPOCH - timedelta(days=200)),
                "expires_at": None}

    def namespace(self, project: Project) -> dict[str, Any]:
        group = project.namespace == GROUP["path"]
        return {"id": GROUP["id"] if group else 1000 + self.state.users.get(project.namespace, 0),
                "name": GROUP["name"] if group else project.namespace, "path": project.namespace,
                "kind": "group" if group else "user", "full_path": project.namespace, "parent_id": None,
                "web_url": f"{self.web}/{'groups/' if group else ''}{project.namespace}"}

    def project(self, project: Project, *, simple: bool, username: str) -> dict[str, Any]:
        web = f"{self.web}/{project.full_path}"
        rendered = {"id": project.id, "description": f"The {project.path} project", "name": project.path.title(),
                    "name_with_namespace": f"{self.namespace(project)['name']} / {project.path.title()}",
                    "path": project.path, "path_with_namespace": project.full_path, "created_at": project.created_at,
                    "default_branch": "main", "tag_list": [], "topics": [], "ssh_url_to_repo":
                    f"git@simulated:{project.full_path}.git", "http_url_to_repo": f"{web}.git", "web_url": web,
                    "readme_url": f"{web}/-/blob/main/README.md", "avatar_url": None, "forks_count": 0,
                    "star_count": 1, "last_activity_at": project.created_at, "namespace": self.namespace(project)}
        if simple:
            return rendered
        api = f"{self.web}{BASE}/projects/{project.id}"
        level = self.state.access(project, username)
        return {**rendered, "visibility": "private", "issues_enabled": True, "archived": False,
                "open_issues_count": sum(1 for i in project.issues.values() if i["state"] == "opened"),
                "_links": {"self": api, "issues": f"{api}/issues", "labels": f"{api}/labels",
                           "members": f"{api}/members"},
                "permissions": {"project_access": {"access_level": level, "notification_level": 3}
                                if project.members.get(username) else None,
                                "group_access": {"access_level": GROUP["members"][username], "notification_level": 3}
                                if project.namespace == GROUP["path"] and username in GROUP["members"] else None}}

    def label(self, project: Project, label: dict[str, Any]) -> dict[str, Any]:
        on = [i for i in project.issues.values() if label["name"] in i["labels"]]
        return {**label, "text_color": "#FFFFFF", "priority": None, "is_project_label": True, "subscribed": False,
                "open_issues_count": sum(1 for i in on if i["state"] == "opened"),
                "closed_issues_count": sum(1 for i in on if i["state"] == "closed"), "open_merge_requests_count": 0}

    def issue(self, project: Project, issue: dict[str, Any], *, label_details: bool = False) -> dict[str, Any]:
        api = f"{self.web}{BASE}/projects/{project.id}"
        milestone = project.milestones.get(issue["milestone"] or 0)
        notes = sum(1 for n in self.state.notes.values()
                    if n["project"] == project.id and n["iid"] == issue["iid"] and not n["system"])
        assignees = [self.user(u) for u in issue["assignees"]]
        return {"id": issue["id"], "iid": issue["iid"], "project_id": project.id, "title": issue["title"],
                "description": issue["description"], "state": issue["state"], "created_at": issue["created_at"],
                "updated_at": issue["updated_at"], "closed_at": issue["closed_at"],
                "closed_by": self.user(issue["closed_by"]) if issue["closed_by"] else None,
                "labels": [self.label(project, project.labels[n]) if label_details else n
                           for n in sorted(issue["labels"])],
                "milestone": {**milestone, "project_id": project.id, "state": "active"} if milestone else None,
                "assignees": assignees, "assignee": assignees[0] if assignees else None,
                "author": self.user(issue["author"]), "type": issue["issue_type"].upper(),
                "issue_type": issue["issue_type"], "user_notes_count": notes, "merge_requests_count": 0,
                "upvotes": 0, "downvotes": 0, "due_date": issue["due_date"], "confidential": issue["confidential"],
                "discussion_locked": issue["discussion_locked"], "severity": "UNKNOWN", "moved_to_id": None,
                "web_url": f"{self.web}/{project.full_path}/-/issues/{issue['iid']}",
                "references": {"short": f"#{issue['iid']}", "relative": f"#{issue['iid']}",
                               "full": f"{project.full_path}#{issue['iid']}"},
                "time_stats": {"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": None,
                               "human_total_time_spent": None},
                "task_completion_status": {"count": 0, "completed_count": 0}, "has_tasks": False,
                "_links": {"self": f"{api}/issues/{issue['iid']}", "notes": f"{api}/issues/{issue['iid']}/notes",
                           "award_emoji": f"{api}/issues/{issue['iid']}/award_emoji", "project": api}}

    def note(self, note: dict[str, Any]) -> dict[str, Any]:
        issue = self.state.projects[note["project"]].issues[note["iid"]]
        return {"id": note["id"], "type": None, "body": note["body"], "attachment": None,
                "author": self.user(note["author"]), "created_at": note["created_at"],
                "updated_at": note["updated_at"], "system": note["system"], "noteable_id": issue["id"],
                "noteable_type": "Issue", "noteable_iid": note["iid"], "project_id": note["project"],
                "resolvable": False, "confidential": False, "internal": False}


# -- request helpers ----------------------------------------------------------------------------------

def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(payload), status, headers=headers, media_type=JSON)


async def _params(request: Request) -> dict[str, Any]:
    """Query string, then a JSON or form body on top (GitLab's Grape reads all three)."""
    params: dict[str, Any] = {}
    pairs = list(request.query_params.multi_items())
    raw = await request.body()
    if raw.strip() and "json" in request.headers.get("content-type", ""):
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise GitLabError(400, {"error": "The provided content-type 'application/json' is not supported."}) \
                from None
        if not isinstance(data, dict):
            raise GitLabError(400, {"error": "body is invalid"})
        params.update(data)
    elif raw.strip():
        pairs += parse_qsl(raw.decode(), keep_blank_values=True)
    for key, value in pairs:
        if key.endswith("[]"):
            params.setdefault(key[:-2], []).append(value)
        else:
            params.setdefault(key, value)
    return params


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad(name) from None


def _paged(request: Request, rows: list[Any], count_limit: int) -> tuple[list[Any], dict[str, str]]:
    """Offset paging: x-page/x-per-page/x-next-page/x-prev-page, x-total(-pages) up to the count limit, Link."""
    q = request.query_params
    per_page = min(max(_int(q.get("per_page", DEFAULT_PER_PAGE), "per_page"), 1), MAX_PER_PAGE)
    page = max(_int(q.get("page", 1), "page"), 1)
    counted = len(rows) <= count_limit
    last = max(-(-len(rows) // per_page), 1)
    has_next = page * per_page < len(rows)
    headers = {"x-page": str(page), "x-per-page": str(per_page), "x-next-page": str(page + 1) if has_next else "",
               "x-prev-page": str(page - 1) if page > 1 else ""}
    if counted:
        headers.update({"x-total": str(len(rows)), "x-total-pages": str(last)})
    links = [(page - 1, "prev")] if page > 1 else []
    links += [(page + 1, "next")] if has_next else []
    links += [(1, "first")] + ([(last, "last")] if counted else [])
    headers["link"] = ", ".join(f'<{_with(request, page=str(n))}>; rel="{rel}"' for n, rel in links)
    return rows[(page - 1) * per_page: page * per_page], headers


def _with(request: Request, **changes: str) -> str:
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in changes] + list(changes.items())
    return str(request.url.replace(query="&".join(f"{quote(k, safe='[]')}={quote(v, safe=',:')}" for k, v in pairs)))


Handler = Callable[[Request, str], Awaitable[Response]]


# -- the app ----------------------------------------------------------------------------------------

class GitLabSimulator:
    def __init__(self, state: State, clock: Callable[[], float]) -> None:
        self.state, self.clock = state, clock

    def _username(self, request: Request) -> str:
        token = request.headers.get("private-token", "")
        if not token:
            scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
            token = bearer.strip() if scheme.lower() == "bearer" else ""
        username = self.state.tokens.get(token)
        if username is None:
            raise GitLabError(401, {"message": "401 Unauthorized"})
        return username

    def route(self, path: str, method: str, handler: Handler) -> Route:
        async def endpoint(request: Request) -> Response:
            headers: dict[str, str] = {}
            try:
                username = self._username(request)
                headers = self.state.limits.admit(self.clock())
                response = await handler(request, username)
            except GitLabError as exc:
                return exc.response(headers)
            response.headers.update(headers)
            return response
        return Route(BASE + path, endpoint, methods=[method])

    def _render(self, request: Request) -> Render:
        return Render(f"{request.url.scheme}://{request.url.netloc}", self.state)

    def _project(self, request: Request, username: str) -> Project:
        ref = unquote(request.path_params["id"])
        project = (self.state.projects.get(int(ref)) if _digits(ref) else
                   next((p for p in self.state.projects.values() if p.full_path == ref), None))
        if project is None or not (self.state.access(project, username) or username in self.state.admins):
            raise _not_found("Project")
        return project

    def _issue(self, request: Request, username: str) -> tuple[Project, dict[str, Any]]:
        project = self._project(request, username)
        raw = request.path_params["issue_iid"]
        issue = project.issues.get(int(raw)) if _digits(raw) else None
        if issue is None:
            raise _not_found("Issue")
        return project, issue

    def _note(self, request: Request, username: str) -> tuple[Project, dict[str, Any], dict[str, Any]]:
        project, issue = self._issue(request, username)
        raw = request.path_params["note_id"]
        note = self.state.notes.get(int(raw)) if _digits(raw) else None
        if note is None or (note["project"], note["iid"]) != (project.id, issue["iid"]):
            raise _not_found("Note")
        return project, issue, note

    def _require(self, project: Project, username: str, level: int) -> None:
        if username not in self.state.admins and self.state.access(project, username) < level:
            raise GitLabError(403, {"message": "403 Forbidden"})

    # -- projects, members, labels -------------------------------------------------------------------

    async def list_projects(self, request: Request, username: str) -> Response:
        q = request.query_params
        rows = [p for p in sorted(self.state.projects.values(), key=lambda p: p.id)
                if self.state.access(p, username) or (username in self.state.admins and q.get("membership") != "true")]
        render, simple = self._render(request), q.get("simple") == "true"
        if q.get("pagination") == "keyset":
            return self._keyset(request, rows, lambda p: render.project(p, simple=simple, username=username))
        page, headers = _paged(request, rows, self.state.count_limit)
        return _json([render.project(p, simple=simple, username=username) for p in page], headers=headers)

    def _keyset(self, request: Request, rows: list[Project], render: Callable[[Project], Any]) -> Response:
        """``pagination=keyset&order_by=id``: a ``Link`` rel="next" with ``id_after``, no totals."""
        q = request.query_params
        if q.get("order_by", "id") != "id":
            raise GitLabError(405, {"message": "405 Method Not Allowed"})
        per_page = min(max(_int(q.get("per_page", DEFAULT_PER_PAGE), "per_page"), 1), MAX_PER_PAGE)
        descending = q.get("sort", "asc") == "desc"
        rows = sorted(rows, key=lambda p: p.id, reverse=descending)
        if q.get("id_after"):
            rows = [p for p in rows if p.id > _int(q["id_after"], "id_after")]
        if q.get("id_before"):
            rows = [p for p in rows if p.id < _int(q["id_before"], "id_before")]
        page = rows[:per_page]
        headers = {}
        if len(rows) > per_page:
            cursor = {"id_before" if descending else "id_after": str(page[-1].id)}
            headers["link"] = f'<{_with(request, **cursor)}>; rel="next"'
        return _json([render(p) for p in page], headers=headers)

    async def get_project(self, request: Request, username: str) -> Response:
        return _json(self._render(request).project(self._project(request, username), simple=False, username=username))

    async def list_members(self, request: Request, username: str) -> Response:
        project = self._project(request, username)
        everyone = request.url.path.endswith("/all")
        members = self.state.members(project) if everyone else dict(project.members.items())
        query = request.query_params.get("query", "").lower()
        rows = [(n, lvl) for n, lvl in members.items() if query in n or query in dict(USERS)[n].lower()]
        page, headers = _paged(request, rows, self.state.count_limit)
        render = self._render(request)
        return _json([render.member(n, lvl) for n, lvl in page], headers=headers)

    async def list_labels(self, request: Request, username: str) -> Response:
        project = self._project(request, username)
        page, headers = _paged(request, sorted(project.labels.values(), key=lambda x: x["name"].lower()),
                               self.state.count_limit)
        render = self._render(request)
        return _json([render.label(project, x) for x in page], headers=headers)

    async def get_label(self, request: Request, username: str) -> Response:
        project = self._project(request, username)
        ref = unquote(request.path_params["label_id"])
        label = project.labels.get(ref) or next(
            (x for x in project.labels.values() if _digits(ref) and x["id"] == int(ref)), None)
        if label is None:
            raise _not_found("Label")
        return _json(self._render(request).label(project, label))

    async def create_label(self, request: Request, username: str) -> Response:
        project = self._project(request, username)
        self._require(project, username, ACCESS["developer"])
        params = await _params(request)
        for name in ("name", "color"):
            if not params.get(name):
                raise _missing(name)
            if not isinstance(params[name], str):
                raise _bad(name)
        if params["name"] in project.labels:
            raise GitLabError(409, {"message": "Label already exists"})
        color = str(params["color"])
        if not (len(color) == 7 and color.startswith("#")):
            raise GitLabError(400, {"message": {"color": ["must be a valid color code"]}})
        label = self.state.add_label(project, params["name"], color, params.get("description"))
        return _json(self._render(request).label(project, label), 201)

    # -- issues --------------------------------------------------------------------------------------

    async def list_issues(self, request: Request, username: str) -> Response:
        project = self._project(request, username)
        q = request.query_params
        order = q.get("order_by", "created_at")
        if order not in ("created_at", "updated_at", "due_date", "title"):
            raise _bad("order_by")
        if q.get("sort", "desc") not in ("asc", "desc"):
            raise _bad("sort")
        if q.get("state", "all") not in ("opened", "closed", "all"):
            raise _bad("state")
        rows = [i for i in project.issues.values() if _matches(self.state, i, q)]
        descending = q.get("sort", "desc") == "desc"
        present = [i for i in rows if i[order] is not None]
        present.sort(key=lambda i: (i[order], i["id"]), reverse=descending)
        rows = present + sorted((i for i in rows if i[order] is None), key=lambda i: i["id"], reverse=descending)
        page, headers = _paged(request, rows, self.state.count_limit)
        render, details = self._render(request), q.get("with_labels_details") == "true"
        return _json([render.issue(project, i, label_details=details) for i in page], headers=headers)

    async def get_issue(self, request: Request, username: str) -> Response:
        project, issue = self._issue(request, username)
        return _json(self._render(request).issue(project, issue))

    async def create_issue(self, request: Request, username: str) -> Response:
        project = self._project(request, username)
        self._require(project, username, ACCESS["guest"])
        params = await _params(request)
        if not params.get("title"):
            raise _missing("title")
        fields = self._issue_fields(project, params)
        self.state.limits.admit_create(self.clock())
        self.state.tick()
        issue = self.state.add_issue(project, {"author": username, **fields})
        return _json(self._render(request).issue(project, issue), 201)

    async def update_issue(self, request: Request, username: str) -> Response:
        project, issue = self._issue(request, username)
        self._require(project, username, ACCESS["reporter"])
        params = await _params(request)
        if "title" in params and not str(params["title"]).strip():
            raise GitLabError(400, {"message": {"title": ["can't be blank"]}})
        changes = self._issue_fields(project, params, issue)
        self.state.tick()
        for note in _system_notes(project, issue, changes, params.get("state_event")):
            self.state.add_note(project, issue, username, note, system=True)
        changes.update(_state_event(issue, params.get("state_event"), username, _stamp(self.state.clock)))
        issue.update(changes, updated_at=_stamp(self.state.clock))
        return _json(self._render(request).issue(project, issue))

    async def delete_issue(self, request: Request, username: str) -> Response:
        project, issue = self._issue(request, username)
        self._require(project, username, ACCESS["owner"])
        del project.issues[issue["iid"]]
        for note_id in [n["id"] for n in self.state.notes.values()
                        if (n["project"], n["iid"]) == (project.id, issue["iid"])]:
            del self.state.notes[note_id]
        return Response(status_code=204)

    def _issue_fields(self, project: Project, params: dict[str, Any],
                      issue: dict[str, Any] | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if "title" in params:
            if len(str(params["title"])) > 255:
                raise GitLabError(400, {"message": {"title": ["is too long (maximum is 255 characters)"]}})
            fields["title"] = str(params["title"])
        if "description" in params:
            fields["description"] = params["description"]
        labels = self._labels(project, params, issue)
        if labels is not None:
            fields["labels"] = labels
        if "assignee_ids" in params or "assignee_id" in params:
            fields["assignees"] = self._assignees(project, params)
        if "due_date" in params:
            fields["due_date"] = _due_date(params["due_date"])
        if "issue_type" in params:
            if params["issue_type"] not in ISSUE_TYPES:
                raise GitLabError(400, {"error": "issue_type does not have a valid value"})
            fields["issue_type"] = params["issue_type"]
        if "milestone_id" in params:
            fields["milestone"] = self._milestone(project, params["milestone_id"])
        for flag in ("confidential", "discussion_locked"):
            if flag in params:
                fields[flag] = params[flag] in (True, "true", "1", 1)
        return fields

    def _labels(self, project: Project, params: dict[str, Any], issue: dict[str, Any] | None) -> list[str] | None:
        """``labels`` replaces; ``add_labels``/``remove_labels`` edit; unknown names are created."""
        def names(value: Any) -> list[str]:
            items = value if isinstance(value, list) else str(value).split(",")
            return [str(n).strip() for n in items if str(n).strip()]

        if "labels" not in params and "add_labels" not in params and "remove_labels" not in params:
            return None
        current = names(params["labels"]) if "labels" in params else list(issue["labels"] if issue else [])
        current += names(params.get("add_labels", ""))
        removed = set(names(params.get("remove_labels", "")))
        kept = _scoped([n for n in current if n not in removed])
        for name in kept:
            if name not in project.labels:
                self.state.add_label(project, name)
        return kept

    def _assignees(self, project: Project, params: dict[str, Any]) -> list[str]:
        raw = params.get("assignee_ids", params.get("assignee_id"))
        ids = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
        by_id = {self.state.users[name]: name for name in self.state.members(project)}
        wanted = [_int(i, "assignee_ids") for i in ids]
        return [by_id[i] for i in wanted if i in by_id]  # GitLab drops non-members and 0 quietly

    def _milestone(self, project: Project, raw: Any) -> int | None:
        if raw in (None, "", 0, "0"):
            return None
        milestone_id = _int(raw, "milestone_id")
        if milestone_id not in project.milestones:
            raise _not_found("Milestone")
        return milestone_id

    # -- notes ---------------------------------------------------------------------------------------

    async def list_notes(self, request: Request, username: str) -> Response:
        project, issue = self._issue(request, username)
        q = request.query_params
        order = q.get("order_by", "created_at")
        if order not in ("created_at", "updated_at") or q.get("sort", "desc") not in ("asc", "desc"):
            raise _bad("order_by" if order not in ("created_at", "updated_at") else "sort")
        rows = [n for n in self.state.notes.values() if (n["project"], n["iid"]) == (project.id, issue["iid"])]
        rows.sort(key=lambda n: (n[order], n["id"]), reverse=q.get("sort", "desc") == "desc")
        page, headers = _paged(request, rows, self.state.count_limit)
        render = self._render(request)
        return _json([render.note(n) for n in page], headers=headers)

    async def get_note(self, request: Request, username: str) -> Response:
        return _json(self._render(request).note(self._note(request, username)[2]))

    async def create_note(self, request: Request, username: str) -> Response:
        project, issue = self._issue(request, username)
        params = await _params(request)
        if not params.get("body"):
            raise _missing("body")
        self.state.tick()
        note = self.state.add_note(project, issue, username, str(params["body"]))
        issue["updated_at"] = note["created_at"]
        return _json(self._render(request).note(note), 201)

    async def update_note(self, request: Request, username: str) -> Response:
        _, _, note = self._note(request, username)
        params = await _params(request)
        if not params.get("body"):
            raise _missing("body")
        if note["author"] != username and username not in self.state.admins:
            raise GitLabError(403, {"message": "403 Forbidden"})
        note.update(body=str(params["body"]), updated_at=self.state.tick())
        return _json(self._render(request).note(note))

    async def delete_note(self, request: Request, username: str) -> Response:
        project, _, note = self._note(request, username)
        if note["author"] != username:
            self._require(project, username, ACCESS["maintainer"])
        del self.state.notes[note["id"]]
        return Response(status_code=204)

    async def current_user(self, request: Request, username: str) -> Response:
        return _json({**self._render(request).user(username), "is_admin": username in self.state.admins,
                      "email": f"{username}@example.com"})

    def routes(self) -> list[Route]:
        r, project = self.route, "/projects/{id}"
        issue = f"{project}/issues/{{issue_iid}}"
        note = f"{issue}/notes/{{note_id}}"
        return [
            r("/user", "GET", self.current_user), r("/projects", "GET", self.list_projects),
            r(project, "GET", self.get_project),
            r(f"{project}/members", "GET", self.list_members), r(f"{project}/members/all", "GET", self.list_members),
            r(f"{project}/labels", "GET", self.list_labels), r(f"{project}/labels", "POST", self.create_label),
            r(f"{project}/labels/{{label_id}}", "GET", self.get_label),
            r(f"{project}/issues", "GET", self.list_issues), r(f"{project}/issues", "POST", self.create_issue),
            r(issue, "GET", self.get_issue), r(issue, "PUT", self.update_issue), r(issue, "DELETE", self.delete_issue),
            r(f"{issue}/notes", "GET", self.list_notes), r(f"{issue}/notes", "POST", self.create_note),
            r(note, "GET", self.get_note), r(note, "PUT", self.update_note), r(note, "DELETE", self.delete_note),
        ]


def _due_date(raw: Any) -> str | None:
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw)).isoformat()
    except ValueError:
        raise _bad("due_date") from None


def _state_event(issue: dict[str, Any], event: Any, username: str, now: str) -> dict[str, Any]:
    if event in (None, ""):
        return {}
    if event not in ("close", "reopen"):
        raise GitLabError(400, {"error": "state_event does not have a valid value"})
    if event == "close" and issue["state"] == "opened":
        return {"state": "closed", "closed_at": now, "closed_by": username}
    if event == "reopen" and issue["state"] == "closed":
        return {"state": "opened", "closed_at": None, "closed_by": None}
    return {}


def _system_notes(project: Project, issue: dict[str, Any], changes: dict[str, Any], event: Any) -> list[str]:
    """What GitLab writes into the issue's notes itself (``system: true``) for an edit; labels are
    referenced by id (``~123``), as GitLab stores them."""
    notes = []
    if "title" in changes and changes["title"] != issue["title"]:
        notes.append(f"changed title from **{issue['title']}** to **{changes['title']}**")
    if "description" in changes and changes["description"] != issue["description"]:
        notes.append("changed the description")
    added = [n for n in changes.get("labels", issue["labels"]) if n not in issue["labels"]]
    removed = [n for n in issue["labels"] if n not in changes.get("labels", issue["labels"])]
    if added or removed:
        def refs(verb: str, names: list[str]) -> list[str]:
            ids = " ".join(f"~{project.labels[n]['id']}" for n in names)
            return [f"{verb} {ids} label{'s' * (len(names) > 1)}"] if names else []
        notes.append(" and ".join(refs("added", added) + refs("removed", removed)))
    if "assignees" in changes and changes["assignees"] != issue["assignees"]:
        notes.append(f"assigned to {', '.join('@' + a for a in changes['assignees'])}" if changes["assignees"]
                     else "removed all assignees")
    if event == "close" and issue["state"] == "opened":
        notes.append("closed")
    if event == "reopen" and issue["state"] == "closed":
        notes.append("reopened")
    return notes


def _matches(state: State, issue: dict[str, Any], q: Any) -> bool:
    """state, labels (AND; None/Any), milestone (title; None/Any), assignee_id/_username, author_id/_username,
    iids[], search (title and description), created_/updated_ after/before, confidential, issue_type."""
    checks = (
        q.get("state", "all") in ("all", issue["state"]),
        _labels_match(q.get("labels"), issue["labels"]),
        _assignee_match(state, q, issue["assignees"]),
        q.get("author_username") in (None, issue["author"]),
        q.get("author_id") in (None, str(state.users[issue["author"]])),
        not q.getlist("iids[]") or str(issue["iid"]) in q.getlist("iids[]"),
        q.get("search", "").lower() in f"{issue['title']} {issue['description'] or ''}".lower(),
        q.get("issue_type") in (None, issue["issue_type"]),
        q.get("confidential") in (None, str(issue["confidential"]).lower()),
        _milestone_match(state, q.get("milestone"), issue),
        _time_match(q, "created", issue["created_at"]), _time_match(q, "updated", issue["updated_at"]),
    )
    return all(checks)


def _labels_match(wanted: str | None, labels: list[str]) -> bool:
    if wanted is None or wanted == "":
        return True
    if wanted in ("None", "Any"):
        return bool(labels) == (wanted == "Any")
    return {n.strip() for n in wanted.split(",")} <= set(labels)


def _assignee_match(state: State, q: Any, assignees: list[str]) -> bool:
    if q.get("assignee_username"):
        return q["assignee_username"] in assignees
    wanted = q.get("assignee_id")
    if wanted in (None, ""):
        return True
    if wanted in ("None", "Any"):
        return bool(assignees) == (wanted == "Any")
    return wanted in {str(state.users[a]) for a in assignees}


def _milestone_match(state: State, wanted: str | None, issue: dict[str, Any]) -> bool:
    if wanted is None:
        return True
    title = next((m["title"] for p in state.projects.values() for m in p.milestones.values()
                  if m["id"] == issue["milestone"]), None)
    if wanted in ("None", "Any"):
        return (title is not None) == (wanted == "Any")
    return title == wanted


def _time_match(q: Any, prefix: str, stamp: str) -> bool:
    after, before = _moment(q, f"{prefix}_after"), _moment(q, f"{prefix}_before")
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (after is None or moment >= after) and (before is None or moment <= before)


def _moment(q: Any, name: str) -> datetime | None:
    """An ISO 8601 query value; without an offset it is UTC (400 when unreadable)."""
    raw = q.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _KeepEncodedSlashes:
    """Route on the raw path with ``%2F`` kept, so ``/projects/acme%2Fplatform/issues`` reaches
    ``/projects/{id}/issues`` with ``id="acme%2Fplatform"`` (GitLab's URL-encoded project paths)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path")
        if scope["type"] == "http" and raw:
            text = raw.decode("latin-1").split("?")[0]
            scope = {**scope, "path": unquote(text.replace("%2F", "%252F").replace("%2f", "%252F"))}
        await self.app(scope, receive, send)


async def _unknown_route(request: Request, exc: Exception) -> Response:
    return _json({"error": "404 Not Found"}, 404)


def create_app(*, seed: int = 11, issue_count: int = 260, rate_limit: int = 2000, retry_after: bool = True,
               rate_headers: bool = True, issue_creates_per_minute: int = 300, count_limit: int = COUNT_LIMIT,
               clock: Callable[[], float] = time.time) -> SimulatorControl:
    """A fresh simulator with deterministic seed data, wrapped for fault injection and recording.

    ``rate_limit`` requests per minute, then 429 (with ``Retry-After`` unless ``retry_after=False``;
    ``RateLimit-*`` headers on ordinary answers unless ``rate_headers=False``);
    ``issue_creates_per_minute`` issue creations, then 429 with GitLab's JSON message;
    lists of more than ``count_limit`` rows omit their totals, as GitLab does above 10,000.
    """
    state = State(users={name: n for n, (name, _) in enumerate(USERS, start=1)},
                  tokens={OWNER_TOKEN: "alice", DEVELOPER_TOKEN: "bob", ADMIN_TOKEN: "root"},
                  admins=frozenset({"root"}),
                  limits=RateLimit(limit=rate_limit, creates=issue_creates_per_minute, retry_after=retry_after,
                                   headers=rate_headers),
                  count_limit=count_limit)
    _seed(state, random.Random(seed), issue_count)
    app = Starlette(routes=GitLabSimulator(state, clock).routes(),
                    exception_handlers={404: _unknown_route, 405: _unknown_route})
    app.state.simulator = state
    control = SimulatorControl(_KeepEncodedSlashes(app))
    return control
