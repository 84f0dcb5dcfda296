"""In-memory simulator of Jira Cloud's REST API v3 (the part an issue-tracking connector uses).

Shapes follow Atlassian's OpenAPI description (the subset vendored in ``spec/``; every answer the
tests see is validated against it); behaviour the description does not fix follows the research
notes and is listed under *Assumptions* in this folder's README. Served the two ways Jira is:
on the site (``/rest/api/3/...``, Basic ``email:api_token``) and through Atlassian's API gateway
(``/ex/jira/{cloudId}/rest/api/3/...``, OAuth 2.0 Bearer; ``/oauth/token/accessible-resources``
names the cloud id).
"""

from __future__ import annotations

import base64
import binascii
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from unigate.kit import OAuthServer, SimulatorControl
from unigate_connectors.jira.atlassian_auth import auth_routes

CLOUD_ID = "3f8a1e52-7c4d-4b0e-9a61-2d5f8c3b9e07"
SITE_NAME = "unigate-sim"
API_EMAIL = "mia@unigate-sim.example"
API_TOKEN = "ATATT3xFfGF0simulatedJiraApiToken0123456789abcdef"
OAUTH_TOKEN = "eyJraWQiOiJzaW11bGF0ZWQiLCJhbGciOiJSUzI1NiJ9.jira-sim-oauth-access-token"
OTHER_CLOUD_ID = "9b0c5d3e-1111-4a2b-8c9d-000000000000"  # a site the OAuth token has no grant for
SEED_EPOCH = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
JSON = "application/json;charset=UTF-8"
API = "/rest/api/3"
UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."

# (id, key, name, colorName): Jira's own status categories
CATEGORIES = {1: ("undefined", "No Category", "medium-gray"), 2: ("new", "To Do", "blue-gray"),
              4: ("indeterminate", "In Progress", "yellow"), 3: ("done", "Done", "green")}
# status id -> (name, category id)
STATUSES = {"10000": ("To Do", 2), "3": ("In Progress", 4), "10001": ("In Review", 4), "10002": ("Done", 3),
            "1": ("Open", 2), "10003": ("Waiting for customer", 4), "5": ("Resolved", 3), "6": ("Closed", 3),
            "10004": ("Draft", 2), "10005": ("Approved", 3)}
# issue type id -> (name, subtask, hierarchyLevel)
ISSUE_TYPES = {"10001": ("Task", False, 0), "10002": ("Bug", False, 0), "10003": ("Story", False, 0),
               "10000": ("Epic", False, 1), "10004": ("Subtask", True, -1)}
# priority id -> (name, statusColor); the default scheme holds all five
PRIORITIES = {"1": ("Highest", "#d04437"), "2": ("High", "#f15C75"), "3": ("Medium", "#f79232"),
              "4": ("Low", "#707070"), "5": ("Lowest", "#999999")}
DEFAULT_PRIORITY = "3"


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to: str
    sources: tuple[str, ...] = ()  # empty: global (available from every status but its target)


@dataclass(frozen=True)
class Workflow:
    initial: str
    transitions: tuple[Transition, ...]

    def available(self, status: str) -> list[Transition]:
        return [t for t in self.transitions
                if (status in t.sources or (not t.sources and t.to != status))]


WORKFLOWS = {
    # software: To Do -> In Progress -> In Review -> Done; Done is reached from anywhere, left by Reopen
    "software": Workflow("10000", (
        Transition("11", "Start progress", "3", ("10000",)), Transition("21", "Request review", "10001", ("3",)),
        Transition("31", "Back to progress", "3", ("10001",)), Transition("41", "Done", "10002"),
        Transition("51", "Reopen", "10000", ("10002",)), Transition("61", "Stop progress", "10000", ("3",)))),
    # service desk: Open -> Waiting for customer -> Resolved -> Closed
    "support": Workflow("1", (
        Transition("711", "Respond to customer", "10003", ("1",)), Transition("721", "Customer replied", "1", ("10003",)),
        Transition("731", "Resolve", "5", ("1", "10003")), Transition("741", "Close", "6", ("5",)),
        Transition("751", "Reopen", "1", ("5", "6")))),
    # approvals: Draft -> Approved, and back; no status of the In Progress category at all
    "approval": Workflow("10004", (Transition("811", "Approve", "10005", ("10004",)),
                                   Transition("821", "Revise", "10004", ("10005",)))),
}
# key, id, name, workflow, priority ids of its scheme, issue types, member account indexes
PROJECTS = (("ENG", "10000", "Engineering", "software", ("1", "2", "3", "4", "5"),
             ("10001", "10002", "10003", "10000", "10004"), None),
            ("OPS", "10001", "Customer Operations", "support", ("2", "3", "4"), ("10001", "10002"), (0, 1, 2, 3)),
            ("LEGAL", "10002", "Legal Approvals", "approval", ("2", "3"), ("10001",), (0, 4)))
USERS = (("Mia Krystof", API_EMAIL, "Europe/Berlin"), ("Ravi Anand", "ravi@unigate-sim.example", "Asia/Kolkata"),
         ("Sofia Lindqvist", "sofia@unigate-sim.example", "Europe/Stockholm"),
         ("Tomás Ortega", "tomas@unigate-sim.example", "America/Mexico_City"),
         ("Grace Okafor", "grace@unigate-sim.example", "Africa/Lagos"),
         ("Ken Watanabe", "ken@unigate-sim.example", "Asia/Tokyo"))
LABELS = ("backend", "frontend", "api", "customer", "regression", "security", "performance", "docs", "billing")
SUMMARIES = ("Login fails with SSO", "Export to CSV drops rows", "Slow dashboard load", "Upgrade the build image",
             "Webhook retries never stop", "Typo on the pricing page", "Rotate API credentials",
             "Crash when the cart is empty", "Add dark mode", "Audit log misses deletes")
COMMENTS = ("I can reproduce this on staging.", "Fixed in the next release.", "Waiting on the customer.",
            "Could you attach the logs?", "Looks good to me.")


# -- custom fields (ids differ per site: these are this site's) -----------------------------------

@dataclass(frozen=True)
class CustomField:
    id: str
    name: str
    kind: str  # "text" | "number" | "select" | "textarea"
    options: tuple[str, ...] = ()

    @property
    def schema(self) -> dict[str, Any]:
        custom = {"text": "textfield", "number": "float", "select": "select", "textarea": "textarea"}[self.kind]
        kind = {"number": "number", "select": "option"}.get(self.kind, "string")
        return {"type": kind, "custom": f"com.atlassian.jira.plugin.system.customfieldtypes:{custom}",
                "customId": int(self.id.rsplit("_", 1)[1])}


CUSTOM_FIELDS = (CustomField("customfield_10016", "Story Points", "number"),
                 CustomField("customfield_10042", "Customer", "text"),
                 CustomField("customfield_10043", "Severity", "select", ("Critical", "Major", "Minor")),
                 CustomField("customfield_10044", "Root cause", "textarea"))
OPTION_IDS = {value: str(10100 + n) for n, value in enumerate(CUSTOM_FIELDS[2].options)}
# system fields: id -> (name, schema type, searchable, orderable)
SYSTEM_FIELDS = {
    "summary": ("Summary", "string"), "description": ("Description", "string"), "status": ("Status", "status"),
    "priority": ("Priority", "priority"), "assignee": ("Assignee", "user"), "reporter": ("Reporter", "user"),
    "creator": ("Creator", "user"), "labels": ("Labels", "array"), "duedate": ("Due date", "date"),
    "resolutiondate": ("Resolved", "datetime"), "created": ("Created", "datetime"),
    "updated": ("Updated", "datetime"), "issuetype": ("Issue Type", "issuetype"), "project": ("Project", "project"),
    "parent": ("Parent", "issuelink"), "resolution": ("Resolution", "resolution"), "comment": ("Comment", "comments-page"),
    "statuscategorychangedate": ("Status Category Changed", "datetime"),
}
EMPTY_ON_CREATE = ("description", "assignee", "duedate", "parent", "resolutiondate", *(f.id for f in CUSTOM_FIELDS))
SETTABLE = frozenset({"summary", "description", "priority", "assignee", "reporter", "labels", "duedate",
                      "issuetype", "project", "parent"}) | {f.id for f in CUSTOM_FIELDS}


class JiraError(Exception):
    """An ErrorCollection answer: ``{"errorMessages": [...], "errors": {field: message}}``."""

    def __init__(self, status: int, *messages: str, errors: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__("; ".join(messages) or str(errors))
        self.status, self.headers = status, headers or {}
        self.body = {"errorMessages": list(messages), "errors": errors or {}}


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(payload), status, headers=headers, media_type=JSON)


def _stamp(moment: datetime) -> str:
    """Jira's timestamp form: milliseconds and an offset without a colon."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _account_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(96):024x}"


# -- state -----------------------------------------------------------------------------------------

@dataclass
class Issue:
    id: int
    key: str
    project: str
    fields: dict[str, Any]
    comments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class State:
    users: list[dict[str, Any]] = field(default_factory=list)
    issues: dict[int, Issue] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    next_issue_id: int = 10000
    next_comment_id: int = 10000
    clock: datetime = SEED_EPOCH

    def tick(self, seconds: float = 1) -> datetime:
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def user(self, account_id: str | None) -> dict[str, Any] | None:
        return next((u for u in self.users if u["accountId"] == account_id), None)

    def members(self, project: str) -> list[dict[str, Any]]:
        indexes = next(p[6] for p in PROJECTS if p[0] == project)
        return [u for n, u in enumerate(self.users) if indexes is None or n in indexes]

    def find(self, ref: str) -> Issue | None:
        if ref.isdigit():
            return self.issues.get(int(ref))
        return next((i for i in self.issues.values() if i.key == ref.upper()), None)

    def add_issue(self, project: str, fields: dict[str, Any]) -> Issue:
        number = self.counters.get(project, 0) + 1
        self.counters[project] = number
        issue = Issue(self.next_issue_id, f"{project}-{number}", project, fields)
        self.issues[issue.id] = issue
        self.next_issue_id += 1
        return issue

    def comment(self, issue: Issue, author: str, body: dict[str, Any], at: datetime) -> dict[str, Any]:
        made = {"id": str(self.next_comment_id), "author": author, "updateAuthor": author, "body": body,
                "created": _stamp(at), "updated": _stamp(at)}
        self.next_comment_id += 1
        issue.comments.append(made)
        return made


def _paragraph(text: str) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}


def _seed(state: State, rng: random.Random, issue_count: int) -> None:
    for name, email, zone in USERS:
        state.users.append({"accountId": _account_id(rng), "displayName": name, "emailAddress": email,
                            "timeZone": zone, "active": True})
    counts = {"ENG": issue_count, "OPS": 12, "LEGAL": 3}
    for key, _, _, workflow_name, scheme, types, _ in PROJECTS:
        for _ in range(counts[key]):
            _seed_issue(state, rng, key, WORKFLOWS[workflow_name], scheme, types)
    state.clock = max(datetime.fromisoformat(i.fields["updated"].replace("+0000", "+00:00"))
                      for i in state.issues.values())


def _seed_issue(state: State, rng: random.Random, project: str, workflow: Workflow,
                scheme: tuple[str, ...], types: tuple[str, ...]) -> None:
    created = state.tick(rng.randint(600, 30_000))
    status = rng.choice([workflow.initial] + [t.to for t in workflow.transitions])
    members = state.members(project)
    kind = rng.choice([t for t in types if t != "10004"])
    parents = [i for i in state.issues.values() if i.project == project and i.fields["issuetype"] != "10004"]
    if "10004" in types and parents and rng.random() < 0.08:
        kind = "10004"
    updated = created + timedelta(minutes=rng.randint(0, 40_000))
    done = STATUSES[status][1] == 3
    fields: dict[str, Any] = {
        "summary": rng.choice(SUMMARIES), "issuetype": kind, "status": status,
        "description": _paragraph(rng.choice(SUMMARIES) + ".") if rng.random() < 0.7 else None,
        "priority": rng.choice(scheme), "assignee": rng.choice(members)["accountId"] if rng.random() < 0.75 else None,
        "reporter": rng.choice(members)["accountId"], "labels": sorted(rng.sample(LABELS, rng.choice((0, 0, 1, 2)))),
        "duedate": (created + timedelta(days=rng.randint(3, 60))).date().isoformat() if rng.random() < 0.3 else None,
        "created": _stamp(created), "updated": _stamp(updated),
        "resolutiondate": _stamp(updated) if done else None, "statuscategorychangedate": _stamp(updated),
        "parent": rng.choice(parents).id if kind == "10004" else None,
        "customfield_10016": rng.choice((None, 1.0, 2.0, 3.0, 5.0, 8.0)),
        "customfield_10042": rng.choice((None, "Acme Corp", "Globex", "Initech")),
        "customfield_10043": rng.choice((None, *CUSTOM_FIELDS[2].options)),
        "customfield_10044": None}
    fields["creator"] = fields["reporter"]
    issue = state.add_issue(project, fields)
    for n in range(rng.choice((0, 0, 1, 2, 3))):
        state.comment(issue, rng.choice(members)["accountId"], _paragraph(rng.choice(COMMENTS)),
                      created + timedelta(hours=n + 1))


# -- JQL: the subset a connector sends, parsed safely ---------------------------------------------

JQL_TOKEN = re.compile(r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|>=|<=|!~|=|>|<|~)
                           |(?P<punct>[(),])|(?P<word>cf\[\d+\]|[^\s"'(),=!<>~+;?|*%^$#@\[\]]+))""", re.X)
JQL_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}
DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
ORDERABLE = {"updated", "created", "key", "issuekey", "priority", "duedate", "summary", "id", "status"}


def _jql_error(message: str) -> JiraError:
    return JiraError(400, message)


def _tokens(jql: str) -> list[tuple[str, str]]:
    out, position = [], 0
    while position < len(jql.rstrip()):
        found = JQL_TOKEN.match(jql, position)
        if found is None or found.end() == position:
            raise _jql_error(f"Error in the JQL Query: The character '{jql[position]}' is a reserved JQL "
                             f"character. You must enclose it in a string or use the escape '\\u{ord(jql[position]):04x}' "
                             f"instead. (line 1, character {position + 1})")
        position = found.end()
        kind = found.lastgroup or "word"
        text = found.group(kind)
        out.append(("string", _unquote(text[1:-1])) if kind == "string" else (kind, text))
    return out


def _unquote(body: str) -> str:
    def replace(match: re.Match[str]) -> str:
        escaped = match.group(1)
        if len(escaped) == 5:
            return chr(int(escaped[1:], 16))
        if escaped not in JQL_ESCAPES and escaped not in ("\\", '"', "'", " "):
            raise _jql_error(f"Error in the JQL Query: '\\{escaped}' is an illegal JQL escape sequence.")
        return JQL_ESCAPES.get(escaped, escaped)
    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", replace, body, flags=re.S)


@dataclass
class JqlQuery:
    clauses: list[tuple[str, str, Any]]
    order: list[tuple[str, bool]]  # (field, descending)


class _JqlParser:
    def __init__(self, jql: str) -> None:
        self.tokens, self.index = _tokens(jql), 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def word(self, *expected: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1].lower() in expected

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _jql_error("Error in the JQL Query: Expecting either a value, list or function but got "
                             "the end of the query.")
        self.index += 1
        return token

    def parse(self) -> JqlQuery:
        clauses: list[tuple[str, str, Any]] = []
        while self.peek() is not None and not self.word("order"):
            if clauses:
                if not self.word("and"):
                    raise _jql_error(f"Error in the JQL Query: Expecting 'AND' or 'ORDER BY' but got "
                                     f"'{self.take()[1]}'. Only AND is supported by this simulator.")
                self.take()
            clauses.append(self.clause())
        return JqlQuery(clauses, self.order_by())

    def order_by(self) -> list[tuple[str, bool]]:
        if self.peek() is None:
            return []
        self.take()
        if not self.word("by"):
            raise _jql_error("Error in the JQL Query: Expecting 'BY' after 'ORDER'.")
        self.take()
        keys = [self.sort_key()]
        while self.peek() == ("punct", ","):
            self.take()
            keys.append(self.sort_key())
        if self.peek() is not None:
            raise _jql_error(f"Error in the JQL Query: Expecting ',' but got '{self.take()[1]}'.")
        return keys

    def sort_key(self) -> tuple[str, bool]:
        name = self.take()[1].lower()
        if name not in ORDERABLE:
            raise _jql_error(f"Field '{name}' does not exist or you do not have permission to view it.")
        descending = False
        if self.word("asc", "desc"):
            descending = self.take()[1].lower() == "desc"
        return name, descending

    def clause(self) -> tuple[str, str, Any]:
        name = self.take()[1].lower()
        operator = self.operator()
        if operator in ("in", "not in"):
            if self.take() != ("punct", "("):
                raise _jql_error(f"Error in the JQL Query: Expecting '(' after '{operator}'.")
            values = [self.operand()]
            while self.peek() == ("punct", ","):
                self.take()
                values.append(self.operand())
            if self.take() != ("punct", ")"):
                raise _jql_error("Error in the JQL Query: Expecting ')' to close the list.")
            return name, operator, values
        return name, operator, self.operand()

    def operator(self) -> str:
        kind, text = self.take()
        if kind == "op":
            return text
        lowered = text.lower()
        if lowered == "not" and self.word("in"):
            self.take()
            return "not in"
        if lowered == "is":
            if self.word("not"):
                self.take()
                return "is not"
            return "is"
        if lowered == "in":
            return "in"
        raise _jql_error(f"Error in the JQL Query: Expecting operator but got '{text}'.")

    def operand(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return text
        if kind != "word":
            raise _jql_error(f"Error in the JQL Query: Expecting a value but got '{text}'.")
        if text.lower() in ("empty", "null"):
            return None
        if self.peek() == ("punct", "("):
            self.take()
            if self.take() != ("punct", ")"):
                raise _jql_error(f"Error in the JQL Query: the function '{text}' takes no arguments here.")
            return ("function", text.lower())
        return text


# -- the app ---------------------------------------------------------------------------------------

Handler = Callable[[Request, dict[str, Any]], Awaitable[Response]]


@dataclass
class RateLimit:
    """A burst limit: ``limit`` requests per ``window`` seconds (the simulator's own clock)."""

    limit: int
    window: float = 10.0
    started: float = 0.0
    used: int = 0

    def near(self) -> dict[str, str]:
        """``X-RateLimit-NearLimit: true`` on any answer once less than 20 % of the budget is left."""
        return {"X-RateLimit-NearLimit": "true"} if (self.limit - self.used) * 5 < self.limit else {}

    def spend(self) -> dict[str, str] | None:
        now = time.monotonic()
        if now - self.started >= self.window:
            self.started, self.used = now, 0
        self.used += 1
        if self.used <= self.limit:
            return None
        wait = max(1, int(self.window - (now - self.started) + 0.999))
        reset = datetime.now(UTC) + timedelta(seconds=wait)
        return {"Retry-After": str(wait), "X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"), "X-RateLimit-NearLimit": "true",
                "RateLimit-Reason": "jira-burst-based"}


class JiraSimulator:
    def __init__(self, state: State, rate_limit: RateLimit | None, oauth: OAuthServer | None = None) -> None:
        self.state, self.rate_limit, self.oauth = state, rate_limit, oauth

    def bearer_ok(self, request: Request) -> bool:
        """The fixed ``OAUTH_TOKEN``, or a live token of the simulated Atlassian authorization server."""
        if request.headers.get("authorization") == f"Bearer {OAUTH_TOKEN}":
            return True
        header = request.headers.get("authorization", "")
        return self.oauth is not None and header.startswith("Bearer ") and self.oauth.valid(header[7:])

    async def accessible_resources(self, request: Request) -> Response:
        """Atlassian's ``GET https://api.atlassian.com/oauth/token/accessible-resources``."""
        if not self.bearer_ok(request):
            return _json({"code": 401, "message": "Unauthorized"}, 401)
        return _json([{"id": CLOUD_ID, "url": str(request.base_url).rstrip("/"), "name": SITE_NAME,
                       "scopes": ["read:jira-work", "write:jira-work", "read:jira-user", "offline_access"],
                       "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png"}])

    # -- plumbing ----------------------------------------------------------------------------------
    def route(self, path: str, method: str, handler: Handler) -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                self._throttle()
                me = self._authenticate(request)
                response = await handler(request, me)
            except JiraError as exc:
                response = _json(exc.body, exc.status, exc.headers)
            if self.rate_limit is not None:
                response.headers.update(self.rate_limit.near())
            return response
        return Route(API + path, endpoint, methods=[method])

    def _throttle(self) -> None:
        if self.rate_limit is not None:
            headers = self.rate_limit.spend()
            if headers is not None:
                raise JiraError(429, "Rate limit exceeded.", headers=headers)

    def _authenticate(self, request: Request) -> dict[str, Any]:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        cloud = request.path_params.get("cloud_id")
        if cloud is not None:
            if scheme.lower() != "bearer" or not self.bearer_ok(request):
                raise JiraError(401, "Unauthorized; scope does not match")
            if cloud != CLOUD_ID:
                raise JiraError(404, "Site not found or the token has no access to it.")
            return self.state.users[0]
        if scheme.lower() != "basic":
            raise JiraError(401, "You are not authenticated. Authentication required to perform this operation.")
        try:
            email, _, token = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise JiraError(401, "Basic authentication header is not valid.") from None
        user = next((u for u in self.state.users if u["emailAddress"] == email), None)
        if user is None or token != API_TOKEN or user is not self.state.users[0]:
            raise JiraError(401, "You are not authenticated. Authentication required to perform this operation.")
        return user

    def base(self, request: Request) -> str:
        root = str(request.base_url).rstrip("/")
        cloud = request.path_params.get("cloud_id")
        return f"{root}/ex/jira/{cloud}{API}" if cloud else root + API

    async def _body(self, request: Request) -> dict[str, Any]:
        try:
            data = orjson.loads(await request.body() or b"null")
        except orjson.JSONDecodeError:
            raise JiraError(400, "Unexpected character: the request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise JiraError(400, "Can not deserialize the request body: a JSON object is expected.")
        return data

    def _issue(self, request: Request) -> Issue:
        issue = self.state.find(request.path_params["issue"])
        if issue is None:
            raise JiraError(404, "Issue does not exist or you do not have permission to see it.")
        return issue

    # -- renderers ---------------------------------------------------------------------------------
    def user_json(self, request: Request, account_id: str | None, *, full: bool = False) -> dict[str, Any] | None:
        user = self.state.user(account_id)
        if user is None:
            return None
        base = self.base(request)
        avatar = f"https://avatar-management.example/initials/{user['displayName'][:2].upper()}.png"
        out = {"self": f"{base}/user?accountId={user['accountId']}", "accountId": user["accountId"],
               "accountType": "atlassian", "displayName": user["displayName"], "active": user["active"],
               "timeZone": user["timeZone"], "avatarUrls": {f"{n}x{n}": f"{avatar}?size={n}" for n in (16, 24, 32, 48)}}
        if full:
            out.update(emailAddress=user["emailAddress"], locale="en_US")
        return out

    def status_json(self, request: Request, status_id: str) -> dict[str, Any]:
        name, category = STATUSES[status_id]
        base = self.base(request)
        return {"self": f"{base}/status/{status_id}", "id": status_id, "name": name, "description": "",
                "iconUrl": f"{base.rsplit(API, 1)[0]}/images/icons/statuses/generic.png",
                "statusCategory": self.category_json(request, category)}

    def category_json(self, request: Request, category: int) -> dict[str, Any]:
        key, name, color = CATEGORIES[category]
        return {"self": f"{self.base(request)}/statuscategory/{category}", "id": category, "key": key,
                "name": name, "colorName": color}

    def priority_json(self, request: Request, priority_id: str) -> dict[str, Any]:
        name, color = PRIORITIES[priority_id]
        base = self.base(request)
        return {"self": f"{base}/priority/{priority_id}", "id": priority_id, "name": name,
                "iconUrl": f"{base.rsplit(API, 1)[0]}/images/icons/priorities/{name.lower()}.svg",
                "statusColor": color, "description": f"{name} priority", "isDefault": priority_id == DEFAULT_PRIORITY}

    def issuetype_json(self, request: Request, type_id: str) -> dict[str, Any]:
        name, subtask, level = ISSUE_TYPES[type_id]
        return {"self": f"{self.base(request)}/issuetype/{type_id}", "id": type_id, "name": name,
                "description": "", "subtask": subtask, "hierarchyLevel": level,
                "iconUrl": f"{self.base(request).rsplit(API, 1)[0]}/images/icons/issuetypes/{name.lower()}.svg"}

    def project_ref(self, request: Request, key: str) -> dict[str, Any]:
        _, pid, name, *_ = _project(key)
        return {"self": f"{self.base(request)}/project/{pid}", "id": pid, "key": key, "name": name,
                "projectTypeKey": "software", "simplified": False}

    def field_value(self, request: Request, issue: Issue, name: str) -> Any:
        value: Any = issue.fields.get(name)
        if name in ("assignee", "reporter", "creator"):
            return self.user_json(request, value)
        renderers: dict[str, Callable[[], Any]] = {
            "status": lambda: self.status_json(request, value),
            "priority": lambda: self.priority_json(request, value),
            "issuetype": lambda: self.issuetype_json(request, value),
            "project": lambda: self.project_ref(request, issue.project),
            "parent": lambda: self.parent_json(request, value),
            "resolution": lambda: {"id": "10000", "name": "Done", "description": "Work has been completed."}
            if issue.fields.get("resolutiondate") else None,
            "comment": lambda: self.comments_page(request, issue, 0, 100, False),
            "customfield_10043": lambda: {"self": f"{self.base(request)}/customFieldOption/{OPTION_IDS[value]}",
                                          "id": OPTION_IDS[value], "value": value} if value else None,
        }
        return renderers[name]() if name in renderers else value

    def parent_json(self, request: Request, parent_id: int | None) -> dict[str, Any] | None:
        parent = self.state.issues.get(parent_id) if parent_id else None
        if parent is None:
            return None
        return {"id": str(parent.id), "key": parent.key, "self": f"{self.base(request)}/issue/{parent.id}",
                "fields": {"summary": parent.fields["summary"],
                           "status": self.status_json(request, parent.fields["status"]),
                           "issuetype": self.issuetype_json(request, parent.fields["issuetype"])}}

    def issue_json(self, request: Request, issue: Issue, wanted: list[str] | None,
                   expand: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
        out: dict[str, Any] = {"expand": "renderedFields,names,schema,operations,editmeta,changelog,transitions",
                               "id": str(issue.id), "self": f"{self.base(request)}/issue/{issue.id}", "key": issue.key}
        if wanted is not None:
            out["fields"] = {name: self.field_value(request, issue, name) for name in wanted}
        if "names" in expand:
            out["names"] = {name: _field_name(name) for name in wanted or []}
        if "transitions" in expand:
            out["transitions"] = self.transitions_json(request, issue)
        return out

    def comment_json(self, request: Request, issue: Issue, comment: dict[str, Any]) -> dict[str, Any]:
        return {"self": f"{self.base(request)}/issue/{issue.id}/comment/{comment['id']}", "id": comment["id"],
                "author": self.user_json(request, comment["author"]), "body": comment["body"],
                "updateAuthor": self.user_json(request, comment["updateAuthor"]),
                "created": comment["created"], "updated": comment["updated"], "jsdPublic": True}

    def comments_page(self, request: Request, issue: Issue, start: int, size: int, newest_first: bool) -> dict[str, Any]:
        rows = sorted(issue.comments, key=lambda c: (c["created"], int(c["id"])), reverse=newest_first)
        page = rows[start:start + size]
        return {"startAt": start, "maxResults": size, "total": len(rows),
                "comments": [self.comment_json(request, issue, c) for c in page]}

    def transitions_json(self, request: Request, issue: Issue) -> list[dict[str, Any]]:
        workflow = _workflow(issue.project)
        return [{"id": t.id, "name": t.name, "to": self.status_json(request, t.to), "hasScreen": False,
                 "isGlobal": not t.sources, "isInitial": False, "isAvailable": True, "isConditional": False,
                 "isLooped": False} for t in workflow.available(issue.fields["status"])]

    def project_json(self, request: Request, key: str, *, full: bool) -> dict[str, Any]:
        _, pid, name, workflow, _, types, _ = _project(key)
        base = self.base(request)
        out = {**self.project_ref(request, key), "style": "classic", "isPrivate": False,
               "avatarUrls": {f"{n}x{n}": f"{base.rsplit(API, 1)[0]}/secure/projectavatar?pid={pid}&size={n}"
                              for n in (16, 24, 32, 48)},
               "projectCategory": {"self": f"{base}/projectCategory/10000", "id": "10000", "name": workflow,
                                   "description": f"Projects on the {workflow} workflow"}}
        if full:
            out.update(description=f"The {name} project.", assigneeType="UNASSIGNED",
                       lead=self.user_json(request, self.state.users[0]["accountId"]),
                       issueTypes=[self.issuetype_json(request, t) for t in types])
        return out


def _project(key: str) -> tuple[Any, ...]:
    found = next((p for p in PROJECTS if p[0] == key.upper() or p[1] == key), None)
    if found is None:
        raise JiraError(404, f"No project could be found with key '{key}'.")
    return found


def _workflow(project: str) -> Workflow:
    return WORKFLOWS[_project(project)[3]]


def _field_name(field_id: str) -> str:
    custom = next((f for f in CUSTOM_FIELDS if f.id == field_id), None)
    return custom.name if custom else SYSTEM_FIELDS.get(field_id, (field_id,))[0]


ALL_FIELDS = tuple(SYSTEM_FIELDS) + tuple(f.id for f in CUSTOM_FIELDS)
NAVIGABLE = tuple(name for name in ALL_FIELDS if name != "comment")


def _wanted_fields(raw: list[str], default: tuple[str, ...] | None) -> list[str] | None:
    """Jira's ``fields`` parameter: names, ``*all``, ``*navigable``, ``-name`` exclusions."""
    names = [part.strip() for value in raw for part in value.split(",") if part.strip()]
    if not names:
        return list(default) if default is not None else None
    chosen: list[str] = []
    for name in names:
        if name in ("*all", "*navigable"):
            chosen += [n for n in (ALL_FIELDS if name == "*all" else NAVIGABLE) if n not in chosen]
        elif not name.startswith("-") and name in ALL_FIELDS and name not in chosen:
            chosen.append(name)
    excluded = {name[1:] for name in names if name.startswith("-")}
    return [name for name in chosen if name not in excluded]


# -- JQL evaluation --------------------------------------------------------------------------------

def _no_value(value: Any, name: str) -> JiraError:
    return JiraError(400, f"The value '{value}' does not exist for the field '{name}'.")


def _by_name_or_id(table: dict[str, tuple[Any, ...]], value: Any, name: str) -> str:
    text = str(value)
    if text in table:
        return text
    found = next((key for key, row in table.items() if str(row[0]).lower() == text.lower()), None)
    if found is None:
        raise _no_value(value, name)
    return found


class JqlEvaluator:
    """Turns parsed clauses into a predicate over issues, for the user searching (dates in their zone)."""

    def __init__(self, state: State, me: dict[str, Any]) -> None:
        self.state, self.me, self.zone = state, me, ZoneInfo(me["timeZone"])

    def resolve(self, name: str, value: Any) -> Any:
        """An operand as the canonical value stored on issues (raises Jira's error for unknown ones)."""
        if value is None:
            return None
        if name == "project":
            text = str(value)
            project = next((p for p in PROJECTS if text.upper() == p[0] or text == p[1] or text.lower() == p[2].lower()), None)
            if project is None:
                raise _no_value(value, name)
            return project[0]
        if name == "status":
            return _by_name_or_id(STATUSES, value, name)
        if name == "statuscategory":
            found = next((cid for cid, row in CATEGORIES.items()
                          if str(value).lower() in (str(cid), row[0], row[1].lower())), None)
            if found is None:
                raise _no_value(value, name)
            return found
        if name in ("assignee", "reporter", "creator"):
            return self._user(value, name)
        if name == "priority":
            return _by_name_or_id(PRIORITIES, value, name)
        if name in ("issuetype", "type"):
            return _by_name_or_id(ISSUE_TYPES, value, name)
        if name in ("key", "issuekey", "id", "parent"):
            issue = self.state.find(str(value))
            if issue is None:
                raise JiraError(400, f"An issue with key '{value}' does not exist for field '{name}'.")
            return issue.id
        return value  # labels, summary

    def _user(self, value: Any, name: str) -> str:
        if value == ("function", "currentuser"):
            return self.me["accountId"]
        if isinstance(value, tuple) or self.state.user(str(value)) is None:
            raise _no_value(value if not isinstance(value, tuple) else f"{value[1]}()", name)
        return str(value)

    def stored(self, issue: Issue, name: str) -> Any:
        fields = issue.fields
        return {"project": lambda: issue.project, "statuscategory": lambda: STATUSES[fields["status"]][1],
                "type": lambda: fields["issuetype"], "key": lambda: issue.id, "issuekey": lambda: issue.id,
                "id": lambda: issue.id}.get(name, lambda: fields.get(name))()

    def date(self, value: Any, name: str) -> datetime:
        for form in DATE_FORMATS:
            try:
                return datetime.strptime(str(value), form).replace(tzinfo=self.zone)
            except ValueError:
                continue
        raise JiraError(400, f"Date value '{value}' for field '{name}' is invalid. Valid formats include: "
                             "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
                             "format e.g. '-5d', '4w 2d'.")

    def predicate(self, clause: tuple[str, str, Any]) -> Callable[[Issue], bool]:
        name, operator, value = clause
        if name not in JQL_FIELDS:
            raise JiraError(400, f"Field '{name}' does not exist or you do not have permission to view it.")
        if operator not in JQL_FIELDS[name]:
            raise JiraError(400, f"The operator '{operator}' is not supported by the '{name}' field.")
        if name in DATE_FIELDS and operator not in ("is", "is not"):
            return self._date_predicate(name, operator, value)
        if operator in ("is", "is not"):
            if value is not None:
                raise JiraError(400, f"The operator '{operator}' only supports EMPTY or NULL.")
            return lambda issue: _empty(self.stored(issue, name)) == (operator == "is")
        if operator == "~":
            return lambda issue: str(value).lower() in str(self.stored(issue, name) or "").lower()
        wanted = {self.resolve(name, v) for v in (value if isinstance(value, list) else [value])}
        negate = operator in ("!=", "not in")
        return lambda issue: _matches(self.stored(issue, name), wanted, negate)

    def _date_predicate(self, name: str, operator: str, value: Any) -> Callable[[Issue], bool]:
        bound = self.date(value, name)
        compare = {">=": lambda a: a >= bound, ">": lambda a: a > bound, "<=": lambda a: a <= bound,
                   "<": lambda a: a < bound, "=": lambda a: a == bound, "!=": lambda a: a != bound}[operator]

        def test(issue: Issue) -> bool:
            raw = issue.fields.get(name)
            if raw is None:
                return False
            moment = datetime.fromisoformat(raw.replace("+0000", "+00:00")) if "T" in raw \
                else datetime.fromisoformat(raw).replace(tzinfo=self.zone)
            return compare(moment)
        return test


def _empty(stored: Any) -> bool:
    return stored is None or stored == [] or stored == ""


def _matches(stored: Any, wanted: set[Any], negate: bool) -> bool:
    values = set(stored) if isinstance(stored, list) else {stored}
    if negate:
        return not _empty(stored) and not values & wanted  # != never matches an empty field
    return bool(values & wanted)


EQUALITY = ("=", "!=", "in", "not in", "is", "is not")
DATE_FIELDS = frozenset({"updated", "created", "duedate", "resolutiondate"})
EQUALITY_FIELDS = ("project", "status", "statuscategory", "assignee", "reporter", "creator", "labels", "priority",
                   "issuetype", "type", "key", "issuekey", "id", "parent")
JQL_FIELDS = {**dict.fromkeys(EQUALITY_FIELDS, EQUALITY),
              **dict.fromkeys(DATE_FIELDS, (">=", ">", "<=", "<", "=", "!=", "is", "is not")), "summary": ("~",)}


def _sort_value(issue: Issue, name: str) -> Any:
    if name in ("key", "issuekey", "id"):
        return (issue.project, int(issue.key.rsplit("-", 1)[1])) if name != "id" else issue.id
    if name == "priority":
        return -int(issue.fields["priority"])  # DESC: Highest first
    if name == "status":
        return STATUSES[issue.fields["status"]][0]
    return issue.fields.get(name) or ""


def _ordered(issues: list[Issue], order: list[tuple[str, bool]]) -> list[Issue]:
    rows = sorted(issues, key=lambda i: i.id, reverse=True)  # no ORDER BY: newest first
    for name, descending in reversed(order):
        rows.sort(key=lambda i: _sort_value(i, name), reverse=descending)
    return rows


def _page_token(offset: int, jql: str) -> str:
    raw = orjson.dumps({"o": offset, "q": binascii.crc32(jql.encode())})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_token(token: str, jql: str) -> int:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["q"] == binascii.crc32(jql.encode()) and isinstance(data["o"], int) and data["o"] >= 0:
            return int(data["o"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        pass
    raise JiraError(400, "The provided next page token is invalid or expired.")


def _lenient_int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name, "")
    return int(raw) if re.fullmatch(r"-?\d{1,9}", raw) else default


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise JiraError(400, f"The '{name}' parameter must be a number.") from None
    if not -(2 ** 63) <= value < 2 ** 63:   # Jira parses a Java long: beyond it the request is refused
        raise JiraError(400, f"The '{name}' parameter must be a number.")
    return value


# -- writing fields --------------------------------------------------------------------------------

CANNOT_SET = "Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
NOT_ADF = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"


def _is_adf(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "doc" and value.get("version") == 1 \
        and isinstance(value.get("content"), list)


def _ref(value: Any, *keys: str) -> str | None:
    """``{"id": ...}`` / ``{"name": ...}`` / ``{"key": ...}`` / ``{"accountId": ...}`` -> the first given."""
    if not isinstance(value, dict):
        return None
    return next((str(value[k]) for k in keys if isinstance(value.get(k), (str, int)) and value.get(k) != ""), None)


class FieldWriter:
    """Validates and converts the ``fields`` of a create or edit the way Jira's field managers do."""

    def __init__(self, state: State, project: str) -> None:
        self.state, self.project = state, project
        _, _, _, _, self.scheme, self.types, _ = _project(project)

    def convert(self, name: str, value: Any) -> Any:
        """The stored value, or raise ValueError with Jira's message for that field."""
        custom = next((f for f in CUSTOM_FIELDS if f.id == name), None)
        if custom is not None:
            return self.custom(custom, value)
        if name not in SETTABLE or name == "project":
            raise ValueError(CANNOT_SET.format(name=name))
        return getattr(self, f"set_{name}")(value)

    def set_summary(self, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("You must specify a summary of the issue.")
        if len(value) > 255:
            raise ValueError("Summary must be less than 255 characters.")
        return value

    def set_description(self, value: Any) -> Any:
        if value is not None and not _is_adf(value):
            raise ValueError(NOT_ADF)
        return value

    def set_priority(self, value: Any) -> str:
        ref = _ref(value, "id", "name")
        if ref is None:
            raise ValueError("Specify the Priority (id or name) in the string format")
        found = next((pid for pid in self.scheme if ref in (pid, PRIORITIES[pid][0])), None)
        if found is None:
            raise ValueError(f"The priority selected is invalid. Valid priorities for this project: "
                             f"{', '.join(PRIORITIES[p][0] for p in self.scheme)}.")
        return found

    def _user(self, value: Any) -> str | None:
        if value is None:
            return None
        ref = _ref(value, "accountId", "id")
        if ref is None or self.state.user(ref) is None:
            raise ValueError(f"Specified user does not exist or you do not have required permissions: {ref}")
        return ref

    def set_assignee(self, value: Any) -> str | None:
        account = self._user(value)
        if account is not None and all(u["accountId"] != account for u in self.state.members(self.project)):
            raise ValueError(f"User '{account}' cannot be assigned issues.")
        return account

    def set_reporter(self, value: Any) -> str | None:
        if value is None:
            raise ValueError("Reporter is required.")
        return self._user(value)

    def set_labels(self, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("Operation value must be a list of strings")
        for label in value:
            if not label or any(c.isspace() for c in label) or len(label) > 255:
                raise ValueError(f"The label '{label}' contains spaces which is invalid.")
        return sorted(set(value))

    def set_duedate(self, value: Any) -> str | None:
        if value is None:
            return None
        try:
            return datetime.strptime(str(value), "%Y-%m-%d").date().isoformat()
        except ValueError:
            raise ValueError(f"Error parsing date string: {value}") from None

    def set_issuetype(self, value: Any) -> str:
        ref = _ref(value, "id", "name")
        found = next((t for t in self.types if ref in (t, ISSUE_TYPES[t][0])), None)
        if found is None:
            raise ValueError("Specify an issue type" if ref is None else "The issue type selected is invalid.")
        return found

    def set_parent(self, value: Any) -> int | None:
        if value is None or value == {"none": True}:   # update.parent.set.none removes it
            return None
        ref = _ref(value, "key", "id")
        parent = self.state.find(ref) if ref else None
        if parent is None:
            raise ValueError("Could not find issue by id or key.")
        return parent.id

    def custom(self, custom: CustomField, value: Any) -> Any:
        if value is None:
            return None
        if custom.kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError("Operation value must be a number")
            return float(value)
        if custom.kind == "text":
            if not isinstance(value, str) or len(value) > 255:
                raise ValueError("Operation value must be a string of at most 255 characters")
            return value
        if custom.kind == "textarea":
            if not _is_adf(value):
                raise ValueError(NOT_ADF)
            return value
        ref = _ref(value, "value", "id")
        found = next((o for o in custom.options if ref in (o, OPTION_IDS[o])), None)
        if found is None:
            raise ValueError(f"Option value '{ref}' is not valid")
        return found

    def apply(self, target: dict[str, Any], fields: dict[str, Any], update: dict[str, Any]) -> dict[str, str]:
        """Write ``fields`` and ``update`` operations into ``target``; the per-field errors."""
        errors: dict[str, str] = {}
        for name, value in fields.items():
            self._write(target, name, value, errors)
        for name, operations in update.items():
            if not isinstance(operations, list):
                errors[name] = "Operations must be a list."
                continue
            for operation in operations:
                self._operate(target, name, operation, errors)
        return errors

    def _write(self, target: dict[str, Any], name: str, value: Any, errors: dict[str, str]) -> None:
        try:
            target[name] = self.convert(name, value)
        except ValueError as exc:
            errors[name] = str(exc)

    def _operate(self, target: dict[str, Any], name: str, operation: Any, errors: dict[str, str]) -> None:
        verb = next(iter(operation), None) if isinstance(operation, dict) and len(operation) == 1 else None
        if verb == "set":
            self._write(target, name, operation["set"], errors)
        elif verb in ("add", "remove") and name == "labels" and not isinstance(operation[verb], str):
            errors[name] = "Operation value must be a string"
        elif verb in ("add", "remove") and name == "labels":
            current = set(target.get("labels") or [])
            change = {operation[verb]}
            self._write(target, name, sorted(current | change if verb == "add" else current - change), errors)
        else:
            errors[name] = f"Field '{name}' does not support the operation '{verb}'."


# -- endpoints -------------------------------------------------------------------------------------

class JiraApi(JiraSimulator):
    async def search(self, request: Request, me: dict[str, Any]) -> Response:
        params = request.query_params
        query = {"jql": params.get("jql", ""), "nextPageToken": params.get("nextPageToken"),
                 "maxResults": _int_param(request, "maxResults", 50), "fields": params.getlist("fields"),
                 "expand": params.get("expand", "")}
        return _json(self._search(request, me, query))

    async def search_post(self, request: Request, me: dict[str, Any]) -> Response:
        body = await self._body(request)
        max_results = body.get("maxResults", 50)
        if not isinstance(max_results, int):
            raise JiraError(400, "maxResults must be a number.")
        query = {"jql": str(body.get("jql") or ""), "nextPageToken": body.get("nextPageToken"),
                 "maxResults": max_results, "fields": list(body.get("fields") or []),
                 "expand": str(body.get("expand") or "")}
        return _json(self._search(request, me, query))

    def _search(self, request: Request, me: dict[str, Any], query: dict[str, Any]) -> dict[str, Any]:
        parsed = _JqlParser(query["jql"]).parse()
        if not parsed.clauses:
            raise JiraError(400, UNBOUNDED)
        evaluator = JqlEvaluator(self.state, me)
        tests = [evaluator.predicate(c) for c in parsed.clauses]
        rows = _ordered([i for i in self.state.issues.values() if all(t(i) for t in tests)], parsed.order)
        wanted = _wanted_fields(query["fields"], None)
        ceiling = 5000 if not wanted else 100  # fewer per page when fields are asked for
        size = min(max(query["maxResults"], 1), ceiling) if query["maxResults"] > 0 else 50
        start = _read_token(query["nextPageToken"], query["jql"]) if query["nextPageToken"] else 0
        page = rows[start:start + size]
        expand = set(query["expand"].split(",")) if query["expand"] else set()
        out: dict[str, Any] = {"issues": [self._search_hit(request, i, wanted, expand) for i in page]}
        if start + size < len(rows):
            out["nextPageToken"] = _page_token(start + size, query["jql"])
        out["isLast"] = start + size >= len(rows)
        return out

    def _search_hit(self, request: Request, issue: Issue, wanted: list[str] | None, expand: set[str]) -> dict[str, Any]:
        if wanted is None:
            return {"id": str(issue.id)}  # /search/jql answers ids only unless fields are asked for
        return self.issue_json(request, issue, wanted, expand)

    async def get_issue(self, request: Request, me: dict[str, Any]) -> Response:
        issue = self._issue(request)
        wanted = _wanted_fields(request.query_params.getlist("fields"), ALL_FIELDS)
        expand = set(request.query_params.get("expand", "").split(","))
        return _json(self.issue_json(request, issue, wanted, expand))

    async def create_issue(self, request: Request, me: dict[str, Any]) -> Response:
        body = await self._body(request)
        given = _fields(body)
        project_ref = _ref(given.get("project"), "id", "key")
        project = next((p[0] for p in PROJECTS if project_ref in (p[0], p[1])), None) if project_ref else None
        if project is None:
            raise JiraError(400, errors={"project": "Specify a valid project ID or key"})
        now = _stamp(self.state.tick())
        stored: dict[str, Any] = {"status": _workflow(project).initial, "priority": DEFAULT_PRIORITY,
                                  "reporter": me["accountId"], "creator": me["accountId"], "labels": [],
                                  "created": now, "updated": now, "statuscategorychangedate": now,
                                  **dict.fromkeys(EMPTY_ON_CREATE)}
        errors = FieldWriter(self.state, project).apply(
            stored, {k: v for k, v in given.items() if k != "project"}, _update_ops(body))
        for name, message in (("summary", "You must specify a summary of the issue."),
                              ("issuetype", "Specify an issue type")):
            if name not in given and name not in errors:
                errors[name] = message
        if errors:
            raise JiraError(400, errors=errors)
        issue = self.state.add_issue(project, stored)
        return _json({"id": str(issue.id), "key": issue.key, "self": f"{self.base(request)}/issue/{issue.id}"}, 201)

    async def edit_issue(self, request: Request, me: dict[str, Any]) -> Response:
        issue = self._issue(request)
        body = await self._body(request)
        given = _fields(body)
        changed = dict(issue.fields)
        errors = FieldWriter(self.state, issue.project).apply(changed, given, _update_ops(body))
        if "parent" in given and changed.get("parent") == issue.id:
            errors["parent"] = "An issue cannot be its own parent."
        if changed.get("parent") is None and changed["issuetype"] == "10004":   # "for standard issue types"
            errors["parent"] = "A subtask must have a parent; it cannot be removed."
        if errors:
            raise JiraError(400, errors=errors)
        issue.fields = {**changed, "updated": _stamp(self.state.tick())}
        if request.query_params.get("returnIssue") == "true":
            return _json(self.issue_json(request, issue, list(ALL_FIELDS)))
        return Response(status_code=204)

    async def delete_issue(self, request: Request, me: dict[str, Any]) -> Response:
        issue = self._issue(request)
        children = [i for i in self.state.issues.values() if i.fields.get("parent") == issue.id]
        subtasks = [c for c in children if c.fields["issuetype"] == "10004"]
        if subtasks and request.query_params.get("deleteSubtasks") != "true":
            raise JiraError(400, f"The issue '{issue.key}' has subtasks. To delete it, set deleteSubtasks=true.")
        for child in children:
            if child in subtasks:
                del self.state.issues[child.id]
            else:
                child.fields["parent"] = None
        del self.state.issues[issue.id]
        return Response(status_code=204)

    async def get_transitions(self, request: Request, me: dict[str, Any]) -> Response:
        issue = self._issue(request)
        return _json({"expand": "transitions", "transitions": self.transitions_json(request, issue)})

    async def do_transition(self, request: Request, me: dict[str, Any]) -> Response:
        issue = self._issue(request)
        body = await self._body(request)
        wanted = _ref(body.get("transition"), "id")
        if wanted is None:
            raise JiraError(400, "'transition' identifier must be specified.")
        transition = next((t for t in _workflow(issue.project).available(issue.fields["status"])
                           if t.id == wanted), None)
        if transition is None:
            raise JiraError(400, f"Transition id '{wanted}' is not valid for this issue.")
        changed = dict(issue.fields)
        errors = FieldWriter(self.state, issue.project).apply(changed, _fields(body), _update_ops(body))
        if errors:
            raise JiraError(400, errors=errors)
        issue.fields = changed
        self._move(issue, transition.to)
        return Response(status_code=204)

    def _move(self, issue: Issue, status: str) -> None:
        now = _stamp(self.state.tick())
        before, after = STATUSES[issue.fields["status"]][1], STATUSES[status][1]
        issue.fields.update(status=status, updated=now)
        if before != after:
            issue.fields["statuscategorychangedate"] = now
            issue.fields["resolutiondate"] = now if after == 3 else None

    async def list_comments(self, request: Request, me: dict[str, Any]) -> Response:
        issue = self._issue(request)
        order = request.query_params.get("orderBy", "created")
        if order.lstrip("+-") != "created":
            raise JiraError(400, f"Unsupported orderBy value: '{order}'. Valid values: created, -created, +created.")
        start = max(_int_param(request, "startAt", 0), 0)
        size = min(max(_int_param(request, "maxResults", 100), 0), 100)
        return _json(self.comments_page(request, issue, start, size, order.startswith("-")))

    def _comment(self, request: Request, issue: Issue) -> dict[str, Any]:
        ident = request.path_params["comment"]
        found = next((c for c in issue.comments if c["id"] == ident), None)
        if found is None:
            raise JiraError(404, f"Can not find a comment for the id: {ident}.")
        return found

    async def _comment_body(self, request: Request) -> dict[str, Any]:
        body = (await self._body(request)).get("body")
        if body is None:
            raise JiraError(400, errors={"comment": "Comment body can not be empty!"})
        if not _is_adf(body):
            raise JiraError(400, errors={"comment": NOT_ADF})
        return body

    async def add_comment(self, request: Request, me: dict[str, Any]) -> Response:
        issue = self._issue(request)
        body = await self._comment_body(request)
        made = self.state.comment(issue, me["accountId"], body, self.state.tick())
        return _json(self.comment_json(request, issue, made), 201)

    async def get_comment(self, request: Request, me: dict[str, Any]) -> Response:
        issue = self._issue(request)
        return _json(self.comment_json(request, issue, self._comment(request, issue)))

    async def update_comment(self, request: Request, me: dict[str, Any]) -> Response:
        issue = self._issue(request)
        comment = self._comment(request, issue)
        body = await self._comment_body(request)
        comment.update(body=body, updateAuthor=me["accountId"], updated=_stamp(self.state.tick()))
        return _json(self.comment_json(request, issue, comment))

    async def delete_comment(self, request: Request, me: dict[str, Any]) -> Response:
        issue = self._issue(request)
        issue.comments.remove(self._comment(request, issue))
        return Response(status_code=204)

    async def assignable(self, request: Request, me: dict[str, Any]) -> Response:
        params = request.query_params
        project = params.get("project")
        issue_ref = params.get("issueKey") or params.get("issueId")
        if issue_ref:
            issue = self.state.find(issue_ref)
            if issue is None:
                raise JiraError(404, "Issue does not exist or you do not have permission to see it.")
            project = issue.project
        if not project:
            raise JiraError(400, "At least one of the parameters 'project', 'issueKey' or 'issueId' is required.")
        needle = params.get("query", "").lower()
        users = [u for u in self.state.members(_project(project)[0])
                 if needle in u["displayName"].lower() or u["emailAddress"].lower().startswith(needle)]
        if params.get("accountId"):
            users = [u for u in users if u["accountId"] == params["accountId"]]
        start, size = max(_int_param(request, "startAt", 0), 0), max(_int_param(request, "maxResults", 50), 0)
        return _json([self.user_json(request, u["accountId"]) for u in users[start:start + size]])

    async def labels(self, request: Request, me: dict[str, Any]) -> Response:
        used = {label for issue in self.state.issues.values() for label in issue.fields["labels"]}
        values = sorted(used | set(LABELS))
        start, size = max(_int_param(request, "startAt", 0), 0), max(_int_param(request, "maxResults", 1000), 1)
        page = values[start:start + size]
        return _json({"self": f"{self.base(request)}/label?startAt={start}&maxResults={size}", "startAt": start,
                      "maxResults": size, "total": len(values), "isLast": start + size >= len(values),
                      "values": page})

    async def priorities(self, request: Request, me: dict[str, Any]) -> Response:
        return _json([self.priority_json(request, pid) for pid in PRIORITIES])

    async def priority_search(self, request: Request, me: dict[str, Any]) -> Response:
        projects = [part for value in request.query_params.getlist("projectId") for part in value.split(",") if part]
        ids = list(PRIORITIES)
        if projects:
            schemes = [_project(p)[4] for p in projects]
            ids = [pid for pid in PRIORITIES if all(pid in scheme for scheme in schemes)]
        name = request.query_params.get("priorityName", "").lower()
        ids = [pid for pid in ids if name in PRIORITIES[pid][0].lower()]
        # the description types these two as strings and declares no 400: unreadable ones are ignored
        start, size = max(_lenient_int(request, "startAt", 0), 0), max(_lenient_int(request, "maxResults", 50), 1)
        return _json({"self": f"{self.base(request)}/priority/search?startAt={start}&maxResults={size}",
                      "startAt": start, "maxResults": size, "total": len(ids), "isLast": start + size >= len(ids),
                      "values": [self.priority_json(request, pid) for pid in ids[start:start + size]]})

    async def fields(self, request: Request, me: dict[str, Any]) -> Response:
        system = [{"id": name, "key": name, "name": label, "custom": False, "orderable": name in SETTABLE,
                   "navigable": name != "comment", "searchable": True, "clauseNames": [name],
                   "schema": {"type": kind, "system": name, **({"items": "string"} if kind == "array" else {})}}
                  for name, (label, kind) in SYSTEM_FIELDS.items()]
        custom = [{"id": f.id, "key": f.id, "name": f.name, "custom": True, "orderable": True, "navigable": True,
                   "searchable": True, "clauseNames": [f"cf[{f.schema['customId']}]", f.name], "schema": f.schema}
                  for f in CUSTOM_FIELDS]
        return _json(system + custom)

    async def myself(self, request: Request, me: dict[str, Any]) -> Response:
        return _json(self.user_json(request, me["accountId"], full=True))

    async def project_search(self, request: Request, me: dict[str, Any]) -> Response:
        params = request.query_params
        keys = {k.upper() for value in params.getlist("keys") for k in value.split(",") if k}
        needle = params.get("query", "").lower()
        rows = [p[0] for p in PROJECTS if (not keys or p[0] in keys)
                and (needle in p[0].lower() or needle in p[2].lower())]
        order = params.get("orderBy", "key")
        if order.lstrip("+-") in ("key", "name"):
            rows.sort(key=lambda k: _project(k)[0 if order.lstrip("+-") == "key" else 2].lower(),
                      reverse=order.startswith("-"))
        start = max(_int_param(request, "startAt", 0), 0)
        size = min(max(_int_param(request, "maxResults", 50), 1), 100)
        base = f"{self.base(request)}/project/search"
        out = {"self": f"{base}?startAt={start}&maxResults={size}", "startAt": start, "maxResults": size,
               "total": len(rows), "isLast": start + size >= len(rows),
               "values": [self.project_json(request, k, full=False) for k in rows[start:start + size]]}
        if not out["isLast"]:
            out["nextPage"] = f"{base}?startAt={start + size}&maxResults={size}"
        return _json(out)

    async def get_project(self, request: Request, me: dict[str, Any]) -> Response:
        return _json(self.project_json(request, _project(request.path_params["project"])[0], full=True))

    async def project_statuses(self, request: Request, me: dict[str, Any]) -> Response:
        _, _, _, workflow_name, _, types, _ = _project(request.path_params["project"])
        workflow = WORKFLOWS[workflow_name]
        statuses = list(dict.fromkeys([workflow.initial, *(t.to for t in workflow.transitions)]))
        return _json([{"self": f"{self.base(request)}/issuetype/{t}", "id": t, "name": ISSUE_TYPES[t][0],
                       "subtask": ISSUE_TYPES[t][1], "statuses": [self.status_json(request, s) for s in statuses]}
                      for t in types])

    async def status_categories(self, request: Request, me: dict[str, Any]) -> Response:
        return _json([self.category_json(request, cid) for cid in CATEGORIES])

    def routes(self) -> list[Route]:
        r = self.route
        return [
            r("/search/jql", "GET", self.search), r("/search/jql", "POST", self.search_post),
            r("/issue", "POST", self.create_issue),
            r("/issue/{issue}", "GET", self.get_issue), r("/issue/{issue}", "PUT", self.edit_issue),
            r("/issue/{issue}", "DELETE", self.delete_issue),
            r("/issue/{issue}/transitions", "GET", self.get_transitions),
            r("/issue/{issue}/transitions", "POST", self.do_transition),
            r("/issue/{issue}/comment", "GET", self.list_comments), r("/issue/{issue}/comment", "POST", self.add_comment),
            r("/issue/{issue}/comment/{comment}", "GET", self.get_comment),
            r("/issue/{issue}/comment/{comment}", "PUT", self.update_comment),
            r("/issue/{issue}/comment/{comment}", "DELETE", self.delete_comment),
            r("/user/assignable/search", "GET", self.assignable), r("/label", "GET", self.labels),
            r("/priority", "GET", self.priorities), r("/priority/search", "GET", self.priority_search),
            r("/field", "GET", self.fields), r("/myself", "GET", self.myself),
            r("/project/search", "GET", self.project_search), r("/project/{project}", "GET", self.get_project),
            r("/project/{project}/statuses", "GET", self.project_statuses),
            r("/statuscategory", "GET", self.status_categories),
        ]


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    given = body.get("fields")
    return given if isinstance(given, dict) else {}


def _update_ops(body: dict[str, Any]) -> dict[str, Any]:
    update = body.get("update")
    return update if isinstance(update, dict) else {}


async def _not_found(request: Request, exc: Exception) -> Response:
    return _json({"errorMessages": ["null for uri: " + str(request.url)], "errors": {}}, 404)


def create_app(*, seed: int = 11, issue_count: int = 260, rate_limit: int | None = None,
               rate_window: float = 10.0, oauth: OAuthServer | None = None) -> SimulatorControl:
    """A fresh simulator with deterministic seed data (``issue_count`` issues in ENG), wrapped for
    fault injection; ``rate_limit`` requests per ``rate_window`` seconds turns on Jira's burst 429;
    ``oauth``: Atlassian's authorization server too (``/authorize``, ``/oauth/token``: atlassian_auth),
    whose access tokens the gateway side accepts besides ``OAUTH_TOKEN``."""
    state = State()
    _seed(state, random.Random(seed), issue_count)
    api = JiraApi(state, RateLimit(rate_limit, rate_window) if rate_limit else None, oauth)
    routes = api.routes()
    app = Starlette(routes=[*routes, Mount("/ex/jira/{cloud_id}", routes=routes),
                            Route("/oauth/token/accessible-resources", api.accessible_resources),
                            *(auth_routes(oauth) if oauth is not None else [])],
                    exception_handlers={404: _not_found, 405: _not_found})
    app.state.simulator = state
    return SimulatorControl(app)
