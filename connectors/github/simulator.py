"""In-memory simulator of GitHub's REST API, the part an issue-tracking connector touches.

Shapes follow GitHub's own OpenAPI description (vendored in ``spec/``; the tests check every
answer against it); behaviour the description does not carry (paging, rate limits, conditional
requests, error messages) follows the notes cited in this folder's README. Seeded
deterministically: the same ``seed`` gives the same repositories, issues and comments.
"""

from __future__ import annotations

import hashlib
import html
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from unigate.kit import SimulatorControl

DEFAULT_TOKEN = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"  # GitHub's documentation example
OWNER = "octocat"  # the token's user
MAIN_REPO = ("octocat", "Hello-World", 1296269)  # the spec examples' repository
ORG_REPO = ("octo-org", "platform", 1300001)  # an organisation's: issue types, sub-issues
NO_ISSUES_REPO = ("octocat", "Spoon-Knife", 1300192)  # issues disabled -> 410
HIDDEN_REPO = ("secret-org", "vault", 1300500)  # exists, the token cannot see it -> 404
MOVED = {("octocat", "Old-World"): MAIN_REPO[2]}  # renamed -> 301 to /repositories/{id}
USERS = ("octocat", "hubot", "monalisa", "defunkt", "mojombo", "pjhyett", "wycats", "ezmobius")
COLLABORATORS = USERS[:5]
DEFAULT_LABELS: tuple[tuple[str, str, str | None], ...] = (("bug", "d73a4a", "Something isn't working"),
                  ("documentation", "0075ca", "Improvements or additions to documentation"),
                  ("duplicate", "cfd3d7", "This issue or pull request already exists"),
                  ("enhancement", "a2eeef", "New feature or request"),
                  ("good first issue", "7057ff", "Good for newcomers"),
                  ("help wanted", "008672", "Extra attention is needed"),
                  ("invalid", "e4e669", "This doesn't seem right"),
                  ("question", "d876e3", "Further information is requested"),
                  ("wontfix", "ffffff", "This will not be worked on"))
CONVENTION_LABELS: tuple[tuple[str, str, str | None], ...] = (("priority: high", "b60205", None), ("priority: low", "c2e0c6", None),
                     ("in progress", "fbca04", "Someone is on it"))
ISSUE_TYPES = (("Task", "A specific piece of work", "yellow"), ("Bug", "An unexpected problem or behavior", "red"),
               ("Feature", "A request, idea, or new functionality", "blue"))
MILESTONES = ((1, "v1.0", "2027-03-01T00:00:00Z"), (2, "v2.0", None))
# The organisation's issue fields (ids and shapes as in the description's example), with options.
ISSUE_FIELDS: tuple[tuple[int, str, str, tuple[tuple[str, str], ...]], ...] = (
    (1, "DRI", "text", ()),
    (2, "Priority", "single_select", (("Urgent", "red"), ("High", "orange"), ("Medium", "yellow"), ("Low", "gray"))),
    (3, "Points", "number", ()), (4, "Due Date", "date", ()),
    (5, "Area", "multi_select", (("Frontend", "blue"), ("Backend", "green"), ("Infra", "purple"))))
SUBJECTS = ("login fails on Safari", "dark mode", "webhook retries", "the settings page", "CSV export",
            "rate limit handling", "search results", "the mobile layout", "email notifications", "SSO")
VERBS = ("Fix", "Support", "Improve", "Document", "Investigate", "Add")
COMMENTS = ("Me too", "I can reproduce this.", "Fixed in the next release.", "Any update?", "LGTM",
            "Could you share the logs?")
SEED_EPOCH = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
API = "https://api.github.com"
DOCS = "https://docs.github.com/rest"
RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_DOCS = f"{RATE_DOCS}#about-secondary-rate-limits"
DEFAULT_PER_PAGE, MAX_PER_PAGE = 30, 100
WRITES = ("POST", "PATCH", "PUT", "DELETE")
JSON = "application/json; charset=utf-8"


class GitHubError(Exception):
    """An answer GitHub gives as ``{"message", "documentation_url", "status"[, "errors"]}``."""

    def __init__(self, status: int, message: str, *, errors: list[dict[str, Any]] | None = None,
                 docs: str = DOCS, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.headers = status, headers or {}
        self.body = {"message": message, **extra, **({"errors": errors} if errors is not None else {}),
                     "documentation_url": docs, "status": str(status)}


def _not_found() -> GitHubError:
    return GitHubError(404, "Not Found")


def _invalid(resource: str, field_name: str, code: str, value: Any = None) -> GitHubError:
    error = {"resource": resource, "code": code, "field": field_name}
    return GitHubError(422, "Validation Failed",
                       errors=[{"value": value, **error} if value is not None else error])


def _digits(text: str) -> bool:
    """Only ASCII digits (``str.isdigit`` takes ``²`` too, which ``int`` refuses)."""
    return text.isascii() and text.isdigit()


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- state -----------------------------------------------------------------------------------------

@dataclass
class Repo:
    id: int
    owner: str
    name: str
    org: bool = False
    has_issues: bool = True
    visible: bool = True
    created_at: str = _stamp(SEED_EPOCH - timedelta(days=400))
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-cased name -> label
    milestones: dict[int, dict[str, Any]] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)  # number -> stored issue
    collaborators: tuple[str, ...] = COLLABORATORS

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class RateLimits:
    """Primary (per hour, every request but 304s) and secondary (writes per minute) limits."""

    limit: int = 5000
    used: int = 0
    reset: int = 0
    primary_status: int = 403
    writes_per_minute: int = 80
    secondary_status: int = 403
    secondary_retry_after: int | None = 60
    writes: list[float] = field(default_factory=list)

    def window(self, now: float) -> None:
        if now >= self.reset:
            self.used, self.reset = 0, int(now) + 3600

    def headers(self) -> dict[str, str]:
        return {"x-ratelimit-limit": str(self.limit), "x-ratelimit-remaining": str(max(self.limit - self.used, 0)),
                "x-ratelimit-reset": str(self.reset), "x-ratelimit-used": str(self.used),
                "x-ratelimit-resource": "core"}

    def admit(self, method: str, now: float) -> None:
        """Refuse a request over either limit (GitHub's bodies, status and headers)."""
        self.window(now)
        if self.used >= self.limit:
            raise GitHubError(self.primary_status, "API rate limit exceeded for user ID 1.", docs=RATE_DOCS)
        if method in WRITES:
            self.writes = [t for t in self.writes if now - t < 60]
            if len(self.writes) >= self.writes_per_minute:
                wait = {"retry-after": str(self.secondary_retry_after)} if self.secondary_retry_after else {}
                raise GitHubError(self.secondary_status, "You have exceeded a secondary rate limit. Please wait a few minutes "
                                  "before you try again.", docs=SECONDARY_DOCS, headers=wait)
            self.writes.append(now)


@dataclass
class State:
    users: dict[str, int]
    tokens: dict[str, str]  # token -> login
    repos: dict[int, Repo] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> stored comment
    issue_types: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # org -> types
    issue_fields: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # org -> fields
    limits: RateLimits = field(default_factory=RateLimits)
    next_issue_id: int = 1_000_001
    next_comment_id: int = 2_000_001
    next_label_id: int = 208_045_946
    clock: datetime = SEED_EPOCH

    def tick(self, seconds: float = 1) -> str:
        self.clock += timedelta(seconds=seconds)
        return _stamp(self.clock)

    def repo_named(self, owner: str, name: str) -> Repo | None:
        return next((r for r in self.repos.values()
                     if r.owner.lower() == owner.lower() and r.name.lower() == name.lower()), None)

    def add_label(self, repo: Repo, name: str, color: str = "ededed", description: str | None = None,
                  default: bool = False) -> dict[str, Any]:
        label = {"id": self.next_label_id, "name": name, "color": color, "description": description,
                 "default": default}
        self.next_label_id += 1
        repo.labels[name.lower()] = label
        return label

    def add_issue(self, repo: Repo, fields: dict[str, Any]) -> dict[str, Any]:
        number = max(repo.issues, default=0) + 1
        issue = {"id": self.next_issue_id, "number": number, "title": "", "body": None, "user": OWNER,
                 "labels": [], "assignees": [], "milestone": None, "state": "open", "state_reason": None,
                 "locked": False, "closed_at": None, "closed_by": None, "created_at": _stamp(self.clock),
                 "updated_at": _stamp(self.clock), "type": None, "parent": None, "pull_request": False,
                 "fields": {}, **fields}
        self.next_issue_id += 1
        repo.issues[number] = issue
        return issue

    def add_comment(self, repo: Repo, number: int, user: str, body: str) -> dict[str, Any]:
        now = _stamp(self.clock)
        comment: dict[str, Any] = {"id": self.next_comment_id, "repo": repo.id, "number": number, "user": user, "body": body,
                   "created_at": now, "updated_at": now}
        self.next_comment_id += 1
        self.comments[comment["id"]] = comment
        return comment

    def issue_by_id(self, issue_id: int) -> tuple[Repo, dict[str, Any]] | None:
        return next(((r, i) for r in self.repos.values() for i in r.issues.values() if i["id"] == issue_id), None)


def _seed(state: State, rng: random.Random, issue_count: int) -> None:
    for owner, name, repo_id in (MAIN_REPO, ORG_REPO, NO_ISSUES_REPO, HIDDEN_REPO):
        state.repos[repo_id] = Repo(repo_id, owner, name, org=owner.endswith("-org"),
                                    has_issues=repo_id != NO_ISSUES_REPO[2], visible=repo_id != HIDDEN_REPO[2])
    for repo in state.repos.values():
        for name, color, description in DEFAULT_LABELS:
            state.add_label(repo, name, color, description, default=True)
        for name, color, description in CONVENTION_LABELS:
            state.add_label(repo, name, color, description)
        for number, title, due in MILESTONES:
            repo.milestones[number] = {"number": number, "id": repo.id * 10 + number, "title": title,
                                       "due_on": due, "state": "open"}
    state.issue_types[ORG_REPO[0]] = [
        {"id": 410 + n, "node_id": f"IT_kwDNAd3NA{n}", "name": name, "description": description, "color": color,
         "created_at": "2024-12-11T14:39:09Z", "updated_at": "2024-12-11T14:39:09Z", "is_enabled": True}
        for n, (name, description, color) in enumerate(ISSUE_TYPES)]
    state.issue_fields[ORG_REPO[0]] = [
        {"id": field_id, "node_id": f"IF_kwDN{field_id}", "name": name, "description": None, "data_type": kind,
         "visibility": "organization_members_only", "created_at": "2025-01-02T10:00:00Z",
         "updated_at": "2025-01-02T10:00:00Z",
         "options": [{"id": field_id * 100 + n, "name": option, "description": None, "color": color, "priority": n,
                      "created_at": "2025-01-02T10:00:00Z", "updated_at": "2025-01-02T10:00:00Z"}
                     for n, (option, color) in enumerate(options, start=1)] if options else None}
        for field_id, name, kind, options in ISSUE_FIELDS]
    _seed_issues(state, rng, state.repos[MAIN_REPO[2]], issue_count)
    _seed_issues(state, rng, state.repos[ORG_REPO[2]], 24)
    _seed_issues(state, rng, state.repos[HIDDEN_REPO[2]], 3)


def _seed_issues(state: State, rng: random.Random, repo: Repo, count: int) -> None:
    names = [label["name"] for label in repo.labels.values()]
    types = state.issue_types.get(repo.owner, [])
    for _ in range(count):
        state.tick(rng.randint(1800, 40_000))
        closed = rng.random() < 0.3
        issue = state.add_issue(repo, {
            "title": f"{rng.choice(VERBS)} {rng.choice(SUBJECTS)}",
            "body": rng.choice((None, "Steps to reproduce are in the description.", "cc @hubot, any idea?")),
            "user": rng.choice(USERS), "labels": sorted(rng.sample(names, rng.choice((0, 1, 1, 2)))),
            "assignees": sorted(rng.sample(repo.collaborators, rng.choice((0, 1, 1, 2)))),
            "milestone": rng.choice((None, None, 1, 2)), "pull_request": rng.random() < 0.12,
            "type": rng.choice(types)["id"] if types and rng.random() < 0.8 else None})
        if closed:
            issue.update(state="closed", state_reason=rng.choice(("completed", "completed", "not_planned")),
                         closed_at=_stamp(state.clock + timedelta(hours=5)), closed_by=OWNER)
        issue["updated_at"] = _stamp(state.clock + timedelta(minutes=rng.randint(0, 20_000)))
        siblings = [i for i in repo.issues.values() if not i["pull_request"] and i is not issue]
        if repo.org and siblings and not issue["pull_request"] and rng.random() < 0.3:
            issue["parent"] = rng.choice(siblings)["id"]
        if repo.org and not issue["pull_request"] and rng.random() < 0.7:
            issue["fields"] = {2: 200 + rng.randint(1, 4), 3: rng.choice((1, 2, 3, 5, 8))}
        for _ in range(rng.choice((0, 0, 1, 2, 3))):
            state.add_comment(repo, issue["number"], rng.choice(USERS), rng.choice(COMMENTS))
    state.clock = max(datetime.fromisoformat(i["updated_at"]) for r in state.repos.values()
                      for i in r.issues.values())


# -- rendering ---------------------------------------------------------------------------------------

MEDIA_TYPES = {"raw": ("body",), "text": ("body_text",), "html": ("body_html",),
               "full": ("body", "body_text", "body_html")}


def body_forms(accept: str) -> tuple[str, ...]:
    """Which of ``body``, ``body_text``, ``body_html`` an ``Accept`` asks for (GitHub's custom media
    types ``application/vnd.github.raw|text|html|full+json``; anything else is raw)."""
    for media_type in accept.split(","):
        name = media_type.split(";")[0].strip()
        if name.startswith("application/vnd.github.") and name.endswith("+json"):
            flavour = name.removeprefix("application/vnd.github.").removesuffix("+json")
            if flavour in MEDIA_TYPES:
                return MEDIA_TYPES[flavour]
    return MEDIA_TYPES["raw"]


def _bodies(text: str | None, forms: tuple[str, ...]) -> dict[str, Any]:
    """The body in the forms asked for; HTML is a plain rendering (escaped paragraphs), not full GFM."""
    rendered: dict[str, Any] = {}
    if "body" in forms:
        rendered["body"] = text
    if "body_text" in forms:
        rendered["body_text"] = text
    if "body_html" in forms:
        paragraphs = [p.strip() for p in (text or "").split("\n\n") if p.strip()]
        rendered["body_html"] = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs) \
            if text is not None else None
    return rendered


@dataclass
class Urls:
    """The API root (``http://host[:port][/api/v3]``) and web root answers link to, and the body
    forms the request's ``Accept`` asked for."""

    api: str
    web: str
    forms: tuple[str, ...] = ("body",)

    def user(self, login: str, user_id: int) -> dict[str, Any]:
        u = f"{self.api}/users/{login}"
        return {"login": login, "id": user_id, "node_id": f"MDQ6VXNlcj{user_id}", "gravatar_id": "",
                "avatar_url": f"{self.web}/images/{login}.gif", "url": u, "html_url": f"{self.web}/{login}",
                "followers_url": f"{u}/followers", "following_url": f"{u}/following{{/other_user}}",
                "gists_url": f"{u}/gists{{/gist_id}}", "starred_url": f"{u}/starred{{/owner}}{{/repo}}",
                "subscriptions_url": f"{u}/subscriptions", "organizations_url": f"{u}/orgs",
                "repos_url": f"{u}/repos", "events_url": f"{u}/events{{/privacy}}",
                "received_events_url": f"{u}/received_events", "type": "User", "site_admin": False,
                "user_view_type": "public"}

    def owner(self, repo: Repo, state: State) -> dict[str, Any]:
        if repo.org:
            return {**self.user(repo.owner, repo.id + 7_000_000), "type": "Organization"}
        return self.user(repo.owner, state.users.get(repo.owner, 1))

    def repo(self, repo: Repo, state: State, *, full: bool = False) -> dict[str, Any]:
        r, web = f"{self.api}/repos/{repo.full_name}", f"{self.web}/{repo.full_name}"
        templated = {"archive": "/{archive_format}{/ref}", "assignees": "/assignees{/user}",
                     "blobs": "/git/blobs{/sha}", "branches": "/branches{/branch}",
                     "collaborators": "/collaborators{/collaborator}", "comments": "/comments{/number}",
                     "commits": "/commits{/sha}", "compare": "/compare/{base}...{head}",
                     "contents": "/contents/{+path}", "contributors": "/contributors", "deployments": "/deployments",
                     "downloads": "/downloads", "events": "/events", "forks": "/forks",
                     "git_commits": "/git/commits{/sha}", "git_refs": "/git/refs{/sha}", "git_tags": "/git/tags{/sha}",
                     "hooks": "/hooks", "issue_comment": "/issues/comments{/number}",
                     "issue_events": "/issues/events{/number}", "issues": "/issues{/number}", "keys": "/keys{/key_id}",
                     "labels": "/labels{/name}", "languages": "/languages", "merges": "/merges",
                     "milestones": "/milestones{/number}", "notifications": "/notifications{?since,all,participating}",
                     "pulls": "/pulls{/number}", "releases": "/releases{/id}", "stargazers": "/stargazers",
                     "statuses": "/statuses/{sha}", "subscribers": "/subscribers", "subscription": "/subscription",
                     "tags": "/tags", "teams": "/teams", "trees": "/git/trees{/sha}"}
        open_count = sum(1 for i in repo.issues.values() if i["state"] == "open")
        rendered: dict[str, Any] = {"id": repo.id, "node_id": f"R_kgDO{repo.id}", "name": repo.name, "full_name": repo.full_name,
                    "owner": self.owner(repo, state), "private": repo.org, "html_url": web,
                    "description": f"The {repo.name} repository", "fork": False, "url": r,
                    **{f"{k}_url": r + v for k, v in templated.items()},
                    "git_url": f"git://{web.split('://')[1]}.git", "ssh_url": f"git@simulated:{repo.full_name}.git",
                    "clone_url": f"{web}.git", "svn_url": web, "mirror_url": None, "homepage": None,
                    "language": "Python", "forks": 0, "forks_count": 0, "stargazers_count": 3, "watchers": 3,
                    "watchers_count": 3, "size": 108, "default_branch": "main", "open_issues": open_count,
                    "open_issues_count": open_count, "is_template": False, "topics": [],
                    "has_issues": repo.has_issues, "has_projects": True, "has_wiki": True, "has_pages": False,
                    "has_downloads": True, "has_discussions": False, "archived": False, "disabled": False,
                    "visibility": "private" if repo.org else "public", "license": None,
                    "pushed_at": repo.created_at, "created_at": repo.created_at, "updated_at": repo.created_at,
                    "permissions": {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True}}
        return {**rendered, "network_count": 0, "subscribers_count": 1} if full else rendered

    def label(self, repo: Repo, label: dict[str, Any]) -> dict[str, Any]:
        return {"id": label["id"], "node_id": f"LA_kwDO{label['id']}",
                "url": f"{self.api}/repos/{repo.full_name}/labels/{quote(label['name'])}", **{
                    k: label[k] for k in ("name", "description", "color", "default")}}

    def milestone(self, repo: Repo, state: State, milestone: dict[str, Any] | None) -> dict[str, Any] | None:
        if milestone is None:
            return None
        m = f"{self.api}/repos/{repo.full_name}/milestones/{milestone['number']}"
        counts = [i["state"] for i in repo.issues.values() if i["milestone"] == milestone["number"]]
        return {"url": m, "html_url": f"{self.web}/{repo.full_name}/milestone/{milestone['number']}",
                "labels_url": f"{m}/labels", "id": milestone["id"], "node_id": f"MI_kwDO{milestone['id']}",
                "number": milestone["number"], "state": milestone["state"], "title": milestone["title"],
                "description": None, "creator": self.user(OWNER, 1), "open_issues": counts.count("open"),
                "closed_issues": counts.count("closed"), "created_at": repo.created_at,
                "updated_at": repo.created_at, "closed_at": None, "due_on": milestone["due_on"]}

    def issue(self, repo: Repo, state: State, issue: dict[str, Any]) -> dict[str, Any]:
        i = f"{self.api}/repos/{repo.full_name}/issues/{issue['number']}"
        web = f"{self.web}/{repo.full_name}/{'pull' if issue['pull_request'] else 'issues'}/{issue['number']}"
        children = [c for c in repo.issues.values() if c["parent"] == issue["id"]]
        done = sum(1 for c in children if c["state"] == "closed")
        parent = state.issue_by_id(issue["parent"]) if issue["parent"] else None
        user_of = self._user_of(state)
        rendered = {
            "id": issue["id"], "node_id": f"I_kwDO{issue['id']}", "url": i,
            "repository_url": f"{self.api}/repos/{repo.full_name}", "labels_url": f"{i}/labels{{/name}}",
            "comments_url": f"{i}/comments", "events_url": f"{i}/events", "html_url": web,
            "timeline_url": f"{i}/timeline", "number": issue["number"], "state": issue["state"],
            "state_reason": issue["state_reason"], "title": issue["title"], **_bodies(issue["body"], self.forms),
            "user": user_of(issue["user"]),
            "labels": [self.label(repo, repo.labels[n.lower()]) for n in issue["labels"] if n.lower() in repo.labels],
            "assignee": user_of(issue["assignees"][0]) if issue["assignees"] else None,
            "assignees": [user_of(login) for login in issue["assignees"]],
            "milestone": self.milestone(repo, state, repo.milestones.get(issue["milestone"] or 0)),
            "locked": issue["locked"], "active_lock_reason": None,
            "comments": sum(1 for c in state.comments.values()
                            if c["repo"] == repo.id and c["number"] == issue["number"]),
            "closed_at": issue["closed_at"], "created_at": issue["created_at"], "updated_at": issue["updated_at"],
            "closed_by": user_of(issue["closed_by"]) if issue["closed_by"] else None,
            "author_association": "OWNER" if issue["user"] == repo.owner else "COLLABORATOR",
            "type": self._type(repo, state, issue["type"]),
            "sub_issues_summary": {"total": len(children), "completed": done,
                                   "percent_completed": done * 100 // len(children) if children else 0},
            "parent_issue_url": (f"{self.api}/repos/{parent[0].full_name}/issues/{parent[1]['number']}"
                                 if parent else None),
            "reactions": {"url": f"{i}/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
                          "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0}}
        if repo.org:
            rendered["issue_field_values"] = field_values(state, repo, issue)
        if issue["pull_request"]:
            p = f"{self.api}/repos/{repo.full_name}/pulls/{issue['number']}"
            rendered["pull_request"] = {"url": p, "html_url": web, "diff_url": f"{web}.diff",
                                        "patch_url": f"{web}.patch", "merged_at": None}
            rendered["draft"] = False
        return rendered

    def comment(self, repo: Repo, state: State, comment: dict[str, Any]) -> dict[str, Any]:
        return {"id": comment["id"], "node_id": f"IC_kwDO{comment['id']}",
                "url": f"{self.api}/repos/{repo.full_name}/issues/comments/{comment['id']}",
                "html_url": f"{self.web}/{repo.full_name}/issues/{comment['number']}#issuecomment-{comment['id']}",
                **_bodies(comment["body"], self.forms), "user": self._user_of(state)(comment["user"]),
                "created_at": comment["created_at"], "updated_at": comment["updated_at"],
                "issue_url": f"{self.api}/repos/{repo.full_name}/issues/{comment['number']}",
                "author_association": "OWNER" if comment["user"] == repo.owner else "COLLABORATOR"}

    def _user_of(self, state: State) -> Callable[[str], dict[str, Any]]:
        return lambda login: self.user(login, state.users[login])

    @staticmethod
    def _type(repo: Repo, state: State, type_id: int | None) -> dict[str, Any] | None:
        return next((t for t in state.issue_types.get(repo.owner, []) if t["id"] == type_id), None)


def field_values(state: State, repo: Repo, issue: dict[str, Any]) -> list[dict[str, Any]]:
    """An issue's ``issue_field_values`` as GitHub renders them (select values are option ids)."""
    out = []
    for definition in state.issue_fields.get(repo.owner, []):
        if definition["id"] not in issue["fields"]:
            continue
        raw = issue["fields"][definition["id"]]
        value: dict[str, Any] = {"issue_field_id": definition["id"], "issue_field_name": definition["name"],
                                 "node_id": f"IFV_{issue['id']}_{definition['id']}", "data_type": definition["data_type"]}
        options = {o["id"]: {k: o[k] for k in ("id", "name", "color")} for o in definition["options"] or []}
        if definition["data_type"] == "single_select":
            value.update(value=raw, single_select_option=options[raw])
        elif definition["data_type"] == "multi_select":
            value.update(value=",".join(options[i]["name"] for i in raw), multi_select_options=[options[i] for i in raw])
        else:
            value["value"] = raw
        out.append(value)
    return out


def _field_value(definition: dict[str, Any], given: Any) -> Any:
    """What is stored for a value written to a field (option names resolved to ids), or 422."""
    kind = definition["data_type"]
    names = {o["name"].lower(): o["id"] for o in definition["options"] or []}
    if kind == "single_select" and isinstance(given, str) and given.lower() in names:
        return names[given.lower()]
    if kind == "multi_select" and isinstance(given, list) and all(str(g).lower() in names for g in given):
        return [names[str(g).lower()] for g in given]
    if kind == "number" and isinstance(given, int | float) and not isinstance(given, bool):
        return given
    if kind == "date" and isinstance(given, str) and _is_date(given):
        return given
    if kind == "text" and isinstance(given, str):
        return given
    raise _invalid("IssueFieldValue", "value", "invalid", given if isinstance(given, str | int) else str(given))


def _is_date(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return False
    return True


# -- request helpers -----------------------------------------------------------------------------

def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(payload), status, headers=headers, media_type=JSON)


async def _body(request: Request, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """A JSON object body, refused the way GitHub refuses (400 unparsable, 422 schema)."""
    raw = await request.body()
    try:
        data = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise GitHubError(400, "Problems parsing JSON") from None
    if not isinstance(data, dict):
        raise GitHubError(400, "Problems parsing JSON")
    for name in required:
        if data.get(name) is None:
            raise GitHubError(422, f'Invalid request.\n\n"{name}" wasn\'t supplied.')
    return data


def _expect(data: dict[str, Any], name: str, kinds: tuple[type, ...], label: str) -> None:
    value = data.get(name)
    if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
        raise GitHubError(422, f"Invalid request.\n\nFor 'properties/{name}', {orjson.dumps(value).decode()} "
                          f"is not {label}.")


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name, "")
    return int(raw) if _digits(raw) else default


def _paged(request: Request, rows: list[Any]) -> tuple[list[Any], dict[str, str]]:
    """One page of ``rows`` and GitHub's ``Link`` header (prev, next, last, first as they apply)."""
    per_page = min(max(_int_param(request, "per_page", DEFAULT_PER_PAGE), 1), MAX_PER_PAGE)
    page = max(_int_param(request, "page", 1), 1)
    last = max((len(rows) + per_page - 1) // per_page, 1)

    def url(n: int) -> str:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "page"] + [("page", str(n))]
        return str(request.url.replace(query="&".join(f"{quote(k)}={quote(v, safe=',*:')}" for k, v in query)))

    links = []
    if page > 1:
        links.append(f'<{url(min(page - 1, last))}>; rel="prev"')
    if page < last:
        links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    if page > 1:
        links.append(f'<{url(1)}>; rel="first"')
    return rows[(page - 1) * per_page: page * per_page], ({"link": ", ".join(links)} if links else {})


def _etag(body: bytes) -> str:
    return f'W/"{hashlib.sha256(body).hexdigest()[:40]}"'


Handler = Callable[[Request, "Context"], Awaitable[Response]]


@dataclass
class Context:
    login: str
    urls: Urls


# -- the app -------------------------------------------------------------------------------------

class GitHubSimulator:
    def __init__(self, state: State, base_path: str, clock: Callable[[], float]) -> None:
        self.state, self.base_path, self.clock = state, base_path, clock

    def _login(self, request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if not token:
            raise GitHubError(401, "Requires authentication")
        login = self.state.tokens.get(token.strip()) if scheme.lower() in ("bearer", "token") else None
        if login is None:
            raise GitHubError(401, "Bad credentials")
        return login

    def _urls(self, request: Request) -> Urls:
        origin = f"{request.url.scheme}://{request.url.netloc}"
        return Urls(origin + self.base_path, origin if self.base_path else "https://github.com",
                    body_forms(request.headers.get("accept", "")))

    def route(self, path: str, method: str, handler: Handler) -> Route:
        async def endpoint(request: Request) -> Response:
            limits, admitted = self.state.limits, False
            try:
                login = self._login(request)
                limits.admit(method, self.clock())
                admitted = True
                response = await handler(request, Context(login, self._urls(request)))
            except GitHubError as exc:
                limits.window(self.clock())
                limits.used += admitted  # an error answer costs a request too; a refused one does not
                return _json(exc.body, exc.status, {**limits.headers(), **exc.headers})
            return self._conditional(request, response, limits)
        return Route(self.base_path + path, endpoint, methods=[method])

    def _conditional(self, request: Request, response: Response, limits: RateLimits) -> Response:
        """ETag on GET 200s; a matching ``If-None-Match`` is a 304 that costs no rate limit."""
        if request.method == "GET" and response.status_code == 200:
            etag = _etag(bytes(response.body))
            if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
                return Response(status_code=304, headers={"etag": etag, **limits.headers()})
            response.headers["etag"] = etag
        limits.used += 1
        response.headers.update(limits.headers())
        return response

    # -- lookups ---------------------------------------------------------------------------------

    def _repo(self, request: Request, *, issues: bool = False) -> Repo:
        owner, name = request.path_params["owner"], request.path_params["repo"]
        moved = MOVED.get((owner, name))
        if moved is not None:
            target = f"{self._urls(request).api}/repositories/{moved}"
            raise GitHubError(301, "Moved Permanently", url=target, headers={"location": target})
        repo = self.state.repo_named(owner, name)
        if repo is None or not repo.visible:
            raise _not_found()
        if issues and not repo.has_issues:
            raise GitHubError(410, "Issues are disabled for this repo")
        return repo

    def _issue(self, request: Request) -> tuple[Repo, dict[str, Any]]:
        repo = self._repo(request, issues=True)
        raw = request.path_params["issue_number"]
        issue = repo.issues.get(int(raw)) if _digits(raw) else None
        if issue is None:
            raise _not_found()
        return repo, issue

    def _comment(self, request: Request) -> tuple[Repo, dict[str, Any]]:
        repo = self._repo(request, issues=True)
        raw = request.path_params["comment_id"]
        comment = self.state.comments.get(int(raw)) if _digits(raw) else None
        if comment is None or comment["repo"] != repo.id:
            raise _not_found()
        return repo, comment

    # -- user and repositories ---------------------------------------------------------------------

    async def get_user(self, request: Request, ctx: Context) -> Response:
        user = ctx.urls.user(ctx.login, self.state.users[ctx.login])
        mine = [r for r in self.state.repos.values() if r.visible and r.owner == ctx.login]
        return _json({**user, "name": "The Octocat", "company": "@github", "blog": "https://github.blog",
                      "location": "San Francisco", "email": None, "hireable": None, "bio": None,
                      "twitter_username": None, "public_repos": len(mine), "public_gists": 0, "followers": 0,
                      "following": 0, "created_at": "2011-01-25T18:44:36Z", "updated_at": "2025-01-06T09:00:00Z",
                      "private_gists": 0, "total_private_repos": 0, "owned_private_repos": 0, "disk_usage": 0,
                      "collaborators": 0, "two_factor_authentication": True})

    async def list_repos(self, request: Request, ctx: Context) -> Response:
        visible = sorted((r for r in self.state.repos.values() if r.visible), key=lambda r: r.full_name.lower())
        by = request.query_params.get("sort", "full_name")   # created, updated, pushed: the creation time here
        direction = request.query_params.get("direction", "asc" if by == "full_name" else "desc")
        if by != "full_name":
            visible.sort(key=lambda r: r.created_at)
        if direction == "desc":
            visible.reverse()
        page, headers = _paged(request, visible)
        return _json([ctx.urls.repo(r, self.state) for r in page], headers=headers)

    async def get_repo(self, request: Request, ctx: Context) -> Response:
        return _json(ctx.urls.repo(self._repo(request), self.state, full=True))

    async def get_repo_by_id(self, request: Request, ctx: Context) -> Response:
        raw = request.path_params["repository_id"]
        repo = self.state.repos.get(int(raw)) if _digits(raw) else None
        if repo is None or not repo.visible:
            raise _not_found()
        return _json(ctx.urls.repo(repo, self.state, full=True))

    async def list_assignees(self, request: Request, ctx: Context) -> Response:
        repo = self._repo(request)
        page, headers = _paged(request, list(repo.collaborators))
        return _json([ctx.urls.user(login, self.state.users[login]) for login in page], headers=headers)

    async def rate_limit(self, request: Request, ctx: Context) -> Response:
        limits = self.state.limits
        core = {"limit": limits.limit, "used": limits.used, "remaining": max(limits.limit - limits.used, 0),
                "reset": limits.reset}
        search = {"limit": 30, "used": 0, "remaining": 30, "reset": int(self.clock()) + 60}  # not simulated
        return _json({"resources": {"core": core, "search": search}, "rate": core})

    async def list_issue_types(self, request: Request, ctx: Context) -> Response:
        repo = self._repo(request)
        if not repo.org:
            raise _not_found()
        return _json(self.state.issue_types[repo.owner])

    # -- labels ------------------------------------------------------------------------------------

    async def list_labels(self, request: Request, ctx: Context) -> Response:
        repo = self._repo(request)
        page, headers = _paged(request, sorted(repo.labels.values(), key=lambda label: label["name"].lower()))
        return _json([ctx.urls.label(repo, label) for label in page], headers=headers)

    async def get_label(self, request: Request, ctx: Context) -> Response:
        repo = self._repo(request)
        label = repo.labels.get(unquote(request.path_params["name"]).lower())
        if label is None:
            raise _not_found()
        return _json(ctx.urls.label(repo, label))

    async def create_label(self, request: Request, ctx: Context) -> Response:
        repo = self._repo(request)
        data = await _body(request, ("name",))
        _expect(data, "name", (str,), "a string")
        if data["name"].lower() in repo.labels:
            raise _invalid("Label", "name", "already_exists")
        color = str(data.get("color") or "ededed").lstrip("#")
        if len(color) != 6 or any(c not in "0123456789abcdefABCDEF" for c in color):
            raise _invalid("Label", "color", "invalid", color)
        label = self.state.add_label(repo, data["name"], color.lower(), data.get("description"))
        headers = {"location": f"{ctx.urls.api}/repos/{repo.full_name}/labels/{quote(label['name'])}"}
        return _json(ctx.urls.label(repo, label), 201, headers)

    # -- issues ------------------------------------------------------------------------------------

    async def list_issues(self, request: Request, ctx: Context) -> Response:
        repo = self._repo(request, issues=True)
        q = request.query_params
        if q.get("state", "open") not in ("open", "closed", "all"):
            raise _invalid("Issue", "state", "invalid", q["state"])
        since = _since(request)
        rows = [i for i in repo.issues.values()
                if _matches(repo, self.state, i, q) and (since is None or i["updated_at"] >= since)]
        key = {"created": "created_at", "updated": "updated_at"}.get(q.get("sort", "created"))
        rows.sort(key=(lambda i: (i[key], i["number"])) if key else
                  (lambda i: (self._comment_count(repo, i), i["number"])), reverse=q.get("direction") != "asc")
        page, headers = _paged(request, rows)
        return _json([ctx.urls.issue(repo, self.state, i) for i in page], headers=headers)

    def _comment_count(self, repo: Repo, issue: dict[str, Any]) -> int:
        return sum(1 for c in self.state.comments.values() if c["repo"] == repo.id and c["number"] == issue["number"])

    async def get_issue(self, request: Request, ctx: Context) -> Response:
        repo, issue = self._issue(request)
        return _json(ctx.urls.issue(repo, self.state, issue))

    async def create_issue(self, request: Request, ctx: Context) -> Response:
        repo = self._repo(request, issues=True)
        data = await _body(request, ("title",))
        fields = self._issue_fields(repo, data)
        fields["fields"] = fields.pop("field_updates", {})
        self.state.tick()
        issue = self.state.add_issue(repo, {"user": ctx.login, **fields})
        headers = {"location": f"{ctx.urls.api}/repos/{repo.full_name}/issues/{issue['number']}"}
        return _json(ctx.urls.issue(repo, self.state, issue), 201, headers)

    async def update_issue(self, request: Request, ctx: Context) -> Response:
        repo, issue = self._issue(request)
        data = await _body(request)
        changes = self._issue_fields(repo, data)
        if "field_updates" in changes:
            changes["fields"] = {**issue["fields"], **changes.pop("field_updates")}
        changes.update(_state_change(issue, data, ctx.login, _stamp(self.state.clock)))
        issue.update(changes, updated_at=self.state.tick())
        return _json(ctx.urls.issue(repo, self.state, issue))

    def _issue_fields(self, repo: Repo, data: dict[str, Any]) -> dict[str, Any]:
        """title, body, labels (by name, made if new), assignees (logins), milestone, type."""
        _expect(data, "title", (str, int), "a string")
        _expect(data, "body", (str,), "a string")
        for name in ("labels", "assignees"):
            _expect(data, name, (list,), "an array")
        fields: dict[str, Any] = {k: data[k] for k in ("title", "body") if k in data}
        if "title" in fields:
            fields["title"] = str(fields["title"])
        if data.get("labels") is not None:
            fields["labels"] = self._label_names(repo, data["labels"])
        assignees = data.get("assignees")
        if assignees is None and "assignee" in data:
            assignees = [data["assignee"]] if data["assignee"] else []
        if assignees is not None:
            logins = _applied(assignees, "login")
            unknown = [a for a in logins if a not in repo.collaborators]
            if unknown:
                raise _invalid("Issue", "assignees", "invalid", str(unknown[0]))
            fields["assignees"] = list(dict.fromkeys(logins))
        if "milestone" in data:
            if isinstance(data["milestone"], str) and _digits(data["milestone"]):
                data["milestone"] = int(data["milestone"])  # the description allows the number as a string
            if data["milestone"] is not None and (not isinstance(data["milestone"], int)
                                                  or data["milestone"] not in repo.milestones):
                raise _invalid("Issue", "milestone", "invalid", data["milestone"])
            fields["milestone"] = data["milestone"]
        if "type" in data and not _suggested(data["type"]):  # a name, or {value, rationale, suggest, confidence}
            given = data["type"]
            fields["type"] = self._type_id(repo, given.get("value") if isinstance(given, dict) else given)
        if data.get("issue_field_values") is not None and repo.org:  # silently dropped elsewhere
            fields["field_updates"] = self._field_updates(repo, data["issue_field_values"])
        return fields

    def _field_updates(self, repo: Repo, values: Any) -> dict[int, Any]:
        """``[{field_id, value}]`` -> stored values by field id (422 for an unknown field or value)."""
        if not isinstance(values, list) or not all(isinstance(v, dict) and "field_id" in v for v in values):
            raise GitHubError(422, "Invalid request.\n\nFor 'properties/issue_field_values', the items need "
                              "\"field_id\" and \"value\".")
        definitions = {d["id"]: d for d in self.state.issue_fields.get(repo.owner, [])}
        updates = {}
        for given in (v for v in values if not _suggested(v)):
            field_id = given["field_id"]
            definition = definitions.get(field_id) if isinstance(field_id, int) and not isinstance(field_id, bool) \
                else None
            if definition is None:
                raise _invalid("IssueFieldValue", "field_id", "invalid", field_id if isinstance(field_id, int) else
                               str(field_id))
            updates[definition["id"]] = _field_value(definition, given.get("value"))
        return updates

    def _label_names(self, repo: Repo, labels: list[Any]) -> list[str]:
        names = []
        for name in _applied(labels, "name"):
            if not isinstance(name, str) or not name:
                raise _invalid("Label", "name", "invalid", str(name))
            stored = repo.labels.get(name.lower()) or self.state.add_label(repo, name)
            names.append(stored["name"])
        return sorted(set(names), key=str.lower)

    def _type_id(self, repo: Repo, name: Any) -> int | None:
        if name is None or not repo.org:
            return None  # issue types belong to organisations; elsewhere GitHub drops the field
        found = next((t for t in self.state.issue_types[repo.owner] if t["name"].lower() == str(name).lower()), None)
        if found is None:
            raise _invalid("Issue", "type", "invalid", name)
        return int(found["id"])

    # -- an issue's labels and assignees -----------------------------------------------------------

    async def list_issue_labels(self, request: Request, ctx: Context) -> Response:
        repo, issue = self._issue(request)
        page, headers = _paged(request, [repo.labels[n.lower()] for n in issue["labels"]])
        return _json([ctx.urls.label(repo, label) for label in page], headers=headers)

    async def write_issue_labels(self, request: Request, ctx: Context) -> Response:
        """POST adds labels, PUT sets them (``{"labels": [...]}`` or a bare array); unknown names are made."""
        repo, issue = self._issue(request)
        raw = await request.body()
        try:
            data = orjson.loads(raw) if raw.strip() else {"labels": []}
        except orjson.JSONDecodeError:
            raise GitHubError(400, "Problems parsing JSON") from None
        given = data.get("labels") if isinstance(data, dict) else data
        if not isinstance(given, list):
            raise _invalid("Label", "labels", "invalid", str(given))
        names = self._label_names(repo, given)
        kept = [] if request.method == "PUT" else issue["labels"]
        issue.update(labels=sorted({*kept, *names}, key=str.lower), updated_at=self.state.tick())
        return _json([ctx.urls.label(repo, repo.labels[n.lower()]) for n in issue["labels"]])

    async def clear_issue_labels(self, request: Request, ctx: Context) -> Response:
        _, issue = self._issue(request)
        issue.update(labels=[], updated_at=self.state.tick())
        return Response(status_code=204)

    async def remove_issue_label(self, request: Request, ctx: Context) -> Response:
        repo, issue = self._issue(request)
        name = unquote(request.path_params["name"]).lower()
        if name not in {n.lower() for n in issue["labels"]}:
            raise GitHubError(404, "Label does not exist")
        issue.update(labels=[n for n in issue["labels"] if n.lower() != name], updated_at=self.state.tick())
        return _json([ctx.urls.label(repo, repo.labels[n.lower()]) for n in issue["labels"]])

    async def add_assignees(self, request: Request, ctx: Context) -> Response:
        """Adds the logins that can be assigned; others are silently ignored, as GitHub does."""
        repo, issue = self._issue(request)
        data = await _body(request)
        _expect(data, "assignees", (list,), "an array")
        added = [login for login in _applied(data.get("assignees") or [], "login") if login in repo.collaborators]
        issue.update(assignees=list(dict.fromkeys([*issue["assignees"], *added])), updated_at=self.state.tick())
        return _json(ctx.urls.issue(repo, self.state, issue), 201)

    async def remove_assignees(self, request: Request, ctx: Context) -> Response:
        repo, issue = self._issue(request)
        data = await _body(request, ("assignees",))
        _expect(data, "assignees", (list,), "an array")
        issue.update(assignees=[a for a in issue["assignees"] if a not in data["assignees"]],
                     updated_at=self.state.tick())
        return _json(ctx.urls.issue(repo, self.state, issue))

    # -- issue fields (an organisation's custom fields) ----------------------------------------------

    async def list_org_issue_fields(self, request: Request, ctx: Context) -> Response:
        fields = self.state.issue_fields.get(request.path_params["org"])
        if fields is None:
            raise _not_found()
        return _json(fields)

    async def list_field_values(self, request: Request, ctx: Context) -> Response:
        repo, issue = self._issue(request)
        page, headers = _paged(request, field_values(self.state, repo, issue))
        return _json(page, headers=headers)

    async def write_field_values(self, request: Request, ctx: Context) -> Response:
        """POST adds or changes the values given; PUT replaces them all."""
        repo, issue = self._issue(request)
        if not repo.org:
            raise _not_found()
        data = await _body(request, ("issue_field_values",))
        updates = self._field_updates(repo, data["issue_field_values"])
        issue["fields"] = updates if request.method == "PUT" else {**issue["fields"], **updates}
        issue["updated_at"] = self.state.tick()
        return _json(field_values(self.state, repo, issue))

    async def delete_field_value(self, request: Request, ctx: Context) -> Response:
        _, issue = self._issue(request)
        raw = request.path_params["issue_field_id"]
        if not _digits(raw) or int(raw) not in issue["fields"]:
            raise _not_found()
        del issue["fields"][int(raw)]
        issue["updated_at"] = self.state.tick()
        return Response(status_code=204)

    # -- sub-issues --------------------------------------------------------------------------------

    async def get_parent(self, request: Request, ctx: Context) -> Response:
        _, issue = self._issue(request)
        found = self.state.issue_by_id(issue["parent"]) if issue["parent"] else None
        if found is None:
            raise _not_found()
        return _json(ctx.urls.issue(found[0], self.state, found[1]))

    async def list_sub_issues(self, request: Request, ctx: Context) -> Response:
        repo, issue = self._issue(request)
        children = sorted((c for r in self.state.repos.values() for c in r.issues.values()
                           if c["parent"] == issue["id"]), key=lambda c: c["id"])
        page, headers = _paged(request, children)
        return _json([ctx.urls.issue(repo, self.state, c) for c in page], headers=headers)

    async def add_sub_issue(self, request: Request, ctx: Context) -> Response:
        repo, issue = self._issue(request)
        data = await _body(request, ("sub_issue_id",))
        _expect(data, "sub_issue_id", (int,), "an integer")
        found = self.state.issue_by_id(data["sub_issue_id"])
        if found is None or found[1]["pull_request"] or found[1]["id"] == issue["id"]:
            raise _invalid("Issue", "sub_issue_id", "invalid", data["sub_issue_id"])
        child = found[1]
        if child["parent"] is not None and not data.get("replace_parent"):
            raise GitHubError(422, "Validation Failed", errors=[{
                "resource": "Issue", "field": "sub_issue_id", "code": "custom",
                "message": "Issue may not contain duplicate sub-issues and Sub issue may only have one parent"}])
        child.update(parent=issue["id"], updated_at=self.state.tick())
        return _json(ctx.urls.issue(repo, self.state, issue), 201,
                     {"location": f"{ctx.urls.api}/repos/{repo.full_name}/issues/{issue['number']}/sub_issues"})

    async def remove_sub_issue(self, request: Request, ctx: Context) -> Response:
        repo, issue = self._issue(request)
        data = await _body(request, ("sub_issue_id",))
        found = self.state.issue_by_id(data["sub_issue_id"])
        if found is None or found[1]["parent"] != issue["id"]:
            raise _not_found()
        found[1].update(parent=None, updated_at=self.state.tick())
        return _json(ctx.urls.issue(repo, self.state, issue))

    # -- comments ----------------------------------------------------------------------------------

    async def list_comments(self, request: Request, ctx: Context) -> Response:
        repo, issue = self._issue(request)
        since = _since(request)
        rows = [c for c in self.state.comments.values() if c["repo"] == repo.id and c["number"] == issue["number"]
                and (since is None or c["updated_at"] >= since)]
        page, headers = _paged(request, sorted(rows, key=lambda c: c["id"]))
        return _json([ctx.urls.comment(repo, self.state, c) for c in page], headers=headers)

    async def create_comment(self, request: Request, ctx: Context) -> Response:
        repo, issue = self._issue(request)
        data = await _body(request, ("body",))
        _expect(data, "body", (str,), "a string")
        self.state.tick()
        comment = self.state.add_comment(repo, issue["number"], ctx.login, data["body"])
        issue["updated_at"] = comment["created_at"]
        return _json(ctx.urls.comment(repo, self.state, comment), 201,
                     {"location": f"{ctx.urls.api}/repos/{repo.full_name}/issues/comments/{comment['id']}"})

    async def get_comment(self, request: Request, ctx: Context) -> Response:
        repo, comment = self._comment(request)
        return _json(ctx.urls.comment(repo, self.state, comment))

    async def update_comment(self, request: Request, ctx: Context) -> Response:
        repo, comment = self._comment(request)
        data = await _body(request, ("body",))
        _expect(data, "body", (str,), "a string")
        comment.update(body=data["body"], updated_at=self.state.tick())
        return _json(ctx.urls.comment(repo, self.state, comment))

    async def delete_comment(self, request: Request, ctx: Context) -> Response:
        _, comment = self._comment(request)
        del self.state.comments[comment["id"]]
        return Response(status_code=204)

    def routes(self) -> list[Route]:
        r, repo = self.route, "/repos/{owner}/{repo}"
        issue = f"{repo}/issues/{{issue_number}}"
        return [
            r("/user", "GET", self.get_user), r("/user/repos", "GET", self.list_repos),
            r("/rate_limit", "GET", self.rate_limit),
            r("/repositories/{repository_id}", "GET", self.get_repo_by_id), r(repo, "GET", self.get_repo),
            r(f"{repo}/assignees", "GET", self.list_assignees), r(f"{repo}/issue-types", "GET", self.list_issue_types),
            r(f"{repo}/labels", "GET", self.list_labels), r(f"{repo}/labels", "POST", self.create_label),
            r(f"{repo}/labels/{{name}}", "GET", self.get_label),
            r(f"{repo}/issues", "GET", self.list_issues), r(f"{repo}/issues", "POST", self.create_issue),
            r(f"{repo}/issues/comments/{{comment_id}}", "GET", self.get_comment),
            r(f"{repo}/issues/comments/{{comment_id}}", "PATCH", self.update_comment),
            r(f"{repo}/issues/comments/{{comment_id}}", "DELETE", self.delete_comment),
            r(issue, "GET", self.get_issue), r(issue, "PATCH", self.update_issue),
            r(f"{issue}/comments", "GET", self.list_comments), r(f"{issue}/comments", "POST", self.create_comment),
            r(f"{issue}/parent", "GET", self.get_parent),
            r(f"{issue}/sub_issues", "GET", self.list_sub_issues), r(f"{issue}/sub_issues", "POST", self.add_sub_issue),
            r(f"{issue}/sub_issue", "DELETE", self.remove_sub_issue),
            r(f"{issue}/labels", "GET", self.list_issue_labels), r(f"{issue}/labels", "POST", self.write_issue_labels),
            r(f"{issue}/labels", "PUT", self.write_issue_labels), r(f"{issue}/labels", "DELETE", self.clear_issue_labels),
            r(f"{issue}/labels/{{name}}", "DELETE", self.remove_issue_label),
            r(f"{issue}/assignees", "POST", self.add_assignees), r(f"{issue}/assignees", "DELETE", self.remove_assignees),
            r("/orgs/{org}/issue-fields", "GET", self.list_org_issue_fields),
            r(f"{issue}/issue-field-values", "GET", self.list_field_values),
            r(f"{issue}/issue-field-values", "POST", self.write_field_values),
            r(f"{issue}/issue-field-values", "PUT", self.write_field_values),
            r(f"{issue}/issue-field-values/{{issue_field_id}}", "DELETE", self.delete_field_value),
        ]


def _suggested(item: Any) -> bool:
    """``{..., "suggest": true}``: a suggestion for a human to review, not applied (nor modelled)."""
    return isinstance(item, dict) and item.get("suggest") is True


def _applied(items: list[Any], key: str) -> list[Any]:
    """Names or logins given as strings or as ``{key, rationale, suggest, confidence}`` objects,
    suggestions left out."""
    return [item.get(key) if isinstance(item, dict) else item for item in items if not _suggested(item)]


def _since(request: Request) -> str | None:
    raw = request.query_params.get("since")
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid("Issue", "since", "invalid", raw) from None
    return _stamp(moment.astimezone(UTC) if moment.tzinfo else moment)  # no offset: UTC


def _matches(repo: Repo, state: State, issue: dict[str, Any], q: Any) -> bool:
    """GitHub's list filters: state, labels (AND), assignee, creator, mentioned, milestone, type, fields."""
    wanted_state = q.get("state", "open")
    if wanted_state != "all" and issue["state"] != wanted_state:
        return False
    labels = {n.strip().lower() for n in q.get("labels", "").split(",") if n.strip()}
    if not labels <= {n.lower() for n in issue["labels"]}:
        return False
    if not _star_filter(q.get("assignee"), issue["assignees"]):
        return False
    if q.get("creator") and issue["user"] != q["creator"]:
        return False
    if q.get("mentioned") and f"@{q['mentioned']}" not in (issue["body"] or ""):
        return False
    milestone = [str(issue["milestone"])] if issue["milestone"] else []
    type_name = next((t["name"] for t in state.issue_types.get(repo.owner, []) if t["id"] == issue["type"]), None)
    if not _star_filter(q.get("milestone"), milestone) or not _star_filter(q.get("type"), [type_name] if type_name else []):
        return False
    return not q.get("issue_field_values") or _fields_match(state, repo, issue, q["issue_field_values"])


def _fields_match(state: State, repo: Repo, issue: dict[str, Any], wanted: str) -> bool:
    """``field_slug:value,...`` (all must match); a slug is the field's name, lower case, runs of
    other characters as ``-`` (``Due Date`` -> ``due-date``); select fields match by option name."""
    rendered = {re.sub(r"[^a-z0-9]+", "-", v["issue_field_name"].lower()).strip("-"): v
                for v in field_values(state, repo, issue)}
    for condition in wanted.split(","):
        slug, _, value = condition.partition(":")
        found = rendered.get(slug.strip().lower())
        if found is None:
            return False
        names = [o["name"].lower() for o in found.get("multi_select_options") or []]
        if found.get("single_select_option"):
            names = [found["single_select_option"]["name"].lower()]
        if value.strip().lower() not in (names or [str(found["value"]).lower()]):
            return False
    return True


def _star_filter(wanted: str | None, values: list[str]) -> bool:
    """``none``: no value; ``*``: any value; otherwise that value (case-insensitive)."""
    if wanted is None or wanted == "":
        return True
    if wanted == "none":
        return not values
    if wanted == "*":
        return bool(values)
    return wanted.lower() in {v.lower() for v in values}


def _state_change(issue: dict[str, Any], data: dict[str, Any], login: str, now: str) -> dict[str, Any]:
    """``state`` open|closed with ``state_reason`` completed|not_planned|duplicate|reopened."""
    state, reason = data.get("state"), data.get("state_reason")
    if state is not None and state not in ("open", "closed"):
        raise GitHubError(422, f"Invalid request.\n\nFor 'properties/state', {orjson.dumps(state).decode()} "
                          "is not one of [\"open\", \"closed\"].")
    if reason is not None and reason not in ("completed", "not_planned", "duplicate", "reopened"):
        raise _invalid("Issue", "state_reason", "invalid", reason)
    target = state or issue["state"]
    if target == "closed":
        if issue["state"] == "closed" and state is None and reason is None:
            return {}
        reason = reason if reason in ("completed", "not_planned", "duplicate") else "completed"
        closing = issue["state"] != "closed"
        return {"state": "closed", "state_reason": reason, "closed_at": now if closing else issue["closed_at"],
                "closed_by": login if closing else issue["closed_by"]}
    if issue["state"] == "closed":
        return {"state": "open", "state_reason": "reopened", "closed_at": None, "closed_by": None}
    return {}


def create_app(*, seed: int = 7, issue_count: int = 300, token: str = DEFAULT_TOKEN, base_path: str = "",
               rate_limit: int = 5000, primary_status: int = 403, writes_per_minute: int = 80,
               secondary_status: int = 403, secondary_retry_after: int | None = 60,
               clock: Callable[[], float] = time.time) -> SimulatorControl:
    """A fresh simulator with deterministic seed data, wrapped for fault injection and recording.

    ``base_path="/api/v3"`` serves it as GitHub Enterprise Server does. The limits: ``rate_limit``
    requests per hour (then ``primary_status``, 403 or 429), ``writes_per_minute`` content-creating
    requests (then a secondary-limit ``secondary_status``, 403 or 429, with ``retry-after`` unless
    ``secondary_retry_after`` is None).
    """
    state = State(users={login: n for n, login in enumerate(USERS, start=1)}, tokens={token: OWNER},
                  limits=RateLimits(limit=rate_limit, primary_status=primary_status,
                                    writes_per_minute=writes_per_minute, secondary_status=secondary_status,
                                    secondary_retry_after=secondary_retry_after))
    _seed(state, random.Random(seed), issue_count)
    return SimulatorControl(simulator_app(state, base_path.rstrip("/"), clock))


def simulator_app(state: State, base_path: str = "", clock: Callable[[], float] = time.time) -> Starlette:
    """The bare Starlette app over ``state`` (``create_app`` wraps it in SimulatorControl)."""
    app = Starlette(routes=GitHubSimulator(state, base_path, clock).routes(),
                    exception_handlers={404: _unknown_route, 405: _unknown_route})
    app.state.simulator = state
    return app


async def _unknown_route(request: Request, exc: Exception) -> Response:
    return _json(GitHubError(404, "Not Found").body, 404)
