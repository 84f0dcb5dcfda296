"""An in-memory Gitea (API v1) for the tests and `unigate sandbox`, written from Gitea's API docs.

What the connector uses, answered as Gitea answers it: ``Authorization: token <token>``; lists as
bare JSON arrays paged by ``page`` (from 1) and ``limit`` (default 30, at most 50) with the total
in ``X-Total-Count``; issues open-only unless ``state=all|closed``, newest first, ``since`` (updated
at or after) and ``assigned_by`` (a login); ``PATCH`` of an issue answers 201; labels are replaced
with ``PUT .../labels``; errors are ``{"message", "url"}``. ``SimulatorControl`` adds the fault
injection unigate's fault contract uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from unigate.kit import SimulatorControl

OWNER = "acme"
TOKEN = "gitea-example-token-5f2c9a"
DEFAULT_LIMIT, MAX_LIMIT = 30, 50
EPOCH = datetime(2025, 3, 1, tzinfo=UTC)
API = "/api/v1"


class GiteaError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _user(number: int, login: str, name: str) -> dict[str, Any]:
    return {"id": number, "login": login, "full_name": name, "email": f"{login}@example.org",
            "avatar_url": f"https://gitea.example.org/avatars/{login}"}


@dataclass
class Repo:
    name: str
    description: str
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    labels: list[dict[str, Any]] = field(default_factory=list)
    collaborators: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Gitea:
    repos: dict[str, Repo] = field(default_factory=dict)
    clock: int = 0
    next_id: int = 100

    def now(self) -> str:
        self.clock += 1
        return (EPOCH + timedelta(seconds=self.clock)).isoformat().replace("+00:00", "Z")

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    @classmethod
    def seeded(cls) -> Gitea:
        gitea = cls()
        people = [_user(2, "alice", "Alice Liddell"), _user(3, "bob", "Bob Marley")]
        for name, count in (("website", 9), ("api", 2)):
            repo = gitea.repos[name] = Repo(name, f"The {name} of Acme", collaborators=people,
                                            labels=[{"id": gitea.new_id(), "name": n, "color": "ee0701"}
                                                    for n in ("bug", "docs")])
            for n in range(1, count + 1):
                gitea.create(repo, {"title": f"{name} issue {n}", "body": f"Details of {name} issue {n}",
                                    "assignees": ["alice"] if n % 3 == 0 else [],
                                    "labels": [repo.labels[0]["id"]] if n % 2 else []})
                if n % 4 == 0:
                    gitea.edit(repo, n, {"state": "closed"})
        return gitea

    def repo(self, owner: str, name: str) -> Repo:
        if owner != OWNER or name not in self.repos:
            raise GiteaError(404, "The target couldn't be found.")
        return self.repos[name]

    def create(self, repo: Repo, body: dict[str, Any]) -> dict[str, Any]:
        if not str(body.get("title") or "").strip():
            raise GiteaError(422, "[Title]: Required")
        number = max(repo.issues, default=0) + 1
        stamp = self.now()
        repo.issues[number] = {"id": self.new_id(), "number": number, "title": "", "body": "", "state": "open",
                               "user": {"login": OWNER}, "labels": [], "assignees": None, "due_date": None,
                               "created_at": stamp, "updated_at": stamp, "closed_at": None}
        self.set_labels(repo, number, body.get("labels") or [], stamp)
        return self.edit(repo, number, {k: v for k, v in body.items() if k != "labels"}, stamp)

    def issue(self, repo: Repo, index: str | int) -> dict[str, Any]:
        found = repo.issues.get(int(index)) if str(index).isdigit() else None
        if found is None:
            raise GiteaError(404, "The target couldn't be found.")
        return found

    def edit(self, repo: Repo, index: str | int, body: dict[str, Any], stamp: str | None = None) -> dict[str, Any]:
        issue = self.issue(repo, index)
        stamp = stamp or self.now()
        for key in ("title", "body", "due_date"):
            if key in body:
                issue[key] = body[key]
        if "state" in body:
            if body["state"] not in ("open", "closed"):
                raise GiteaError(422, "state must be open or closed")
            issue["closed_at"] = stamp if body["state"] == "closed" else None
            issue["state"] = body["state"]
        if "assignees" in body:
            logins = {u["login"]: u for u in repo.collaborators}
            unknown = [login for login in body["assignees"] or [] if login not in logins]
            if unknown:
                raise GiteaError(422, f"user does not exist [name: {unknown[0]}]")
            issue["assignees"] = [logins[login] for login in body["assignees"]] or None
        issue["updated_at"] = stamp
        return issue

    def set_labels(self, repo: Repo, index: str | int, ids: list[Any], stamp: str | None = None) -> list[Any]:
        issue = self.issue(repo, index)
        by_id = {label["id"]: label for label in repo.labels}
        if any(i not in by_id for i in ids):
            raise GiteaError(422, "label does not exist")
        issue["labels"] = [by_id[i] for i in ids]
        issue["updated_at"] = stamp or self.now()
        return issue["labels"]


def paged(request: Request, items: list[Any]) -> Response:
    page = max(int(request.query_params.get("page", 1)), 1)
    limit = min(max(int(request.query_params.get("limit", DEFAULT_LIMIT)), 1), MAX_LIMIT)
    return JSONResponse(items[(page - 1) * limit: page * limit], headers={"X-Total-Count": str(len(items))})


def create_app() -> SimulatorControl:
    gitea = Gitea.seeded()

    def api(fn: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            if request.headers.get("authorization") != f"token {TOKEN}":
                return JSONResponse({"message": "token is required", "url": str(request.url)}, status_code=401)
            body = await request.json() if request.method in ("POST", "PATCH", "PUT") else None
            params = request.path_params
            try:
                repo = gitea.repo(params["owner"], params["repo"]) if "repo" in params else None
                return fn(request, repo, body)
            except GiteaError as exc:
                return JSONResponse({"message": exc.message, "url": str(request.url)}, status_code=exc.status)
        return endpoint

    def repos(request: Request, _: Any, __: Any) -> Response:
        if request.path_params["owner"] != OWNER:
            raise GiteaError(404, "The target couldn't be found.")
        return paged(request, [_repo_json(r) for r in gitea.repos.values()])

    def issues(request: Request, repo: Repo, body: Any) -> Response:
        if request.method == "POST":
            return JSONResponse(gitea.create(repo, body), status_code=201)
        q = request.query_params
        state, since, login = q.get("state", "open"), q.get("since"), q.get("assigned_by")
        found = [i for i in sorted(repo.issues.values(), key=lambda i: -i["number"])
                 if state in ("all", i["state"]) and (since is None or _at(i["updated_at"]) >= _at(since))
                 and (login is None or login in [a["login"] for a in i["assignees"] or []])]
        return paged(request, found)

    def issue(request: Request, repo: Repo, body: Any) -> Response:
        index = request.path_params["index"]
        if request.method == "DELETE":
            gitea.issue(repo, index)
            del repo.issues[int(index)]
            return Response(status_code=204)
        if request.method == "PATCH":
            return JSONResponse(gitea.edit(repo, index, body), status_code=201)
        return JSONResponse(gitea.issue(repo, index))

    def labels_of(request: Request, repo: Repo, body: Any) -> Response:
        return JSONResponse(gitea.set_labels(repo, request.path_params["index"], body.get("labels") or []))

    def comments(request: Request, repo: Repo, body: Any) -> Response:
        number = gitea.issue(repo, request.path_params["index"])["number"]
        thread = repo.comments.setdefault(number, [])
        if request.method == "GET":
            return JSONResponse(thread)
        if not str(body.get("body") or "").strip():
            raise GiteaError(422, "[Body]: Required")
        stamp = gitea.now()
        comment = {"id": gitea.new_id(), "body": body["body"], "user": {"login": OWNER},
                   "created_at": stamp, "updated_at": stamp}
        thread.append(comment)
        return JSONResponse(comment, status_code=201)

    repo_path = API + "/repos/{owner}/{repo}"
    routes = [
        Route(API + "/users/{owner}/repos", api(repos)),
        Route(repo_path, api(lambda r, repo, b: JSONResponse(_repo_json(repo)))),
        Route(repo_path + "/issues", api(issues), methods=["GET", "POST"]),
        Route(repo_path + "/issues/{index}", api(issue), methods=["GET", "PATCH", "DELETE"]),
        Route(repo_path + "/issues/{index}/labels", api(labels_of), methods=["PUT"]),
        Route(repo_path + "/issues/{index}/comments", api(comments), methods=["GET", "POST"]),
        Route(repo_path + "/collaborators", api(lambda r, repo, b: paged(r, repo.collaborators))),
        Route(repo_path + "/labels", api(lambda r, repo, b: paged(r, repo.labels))),
    ]
    return SimulatorControl(Starlette(routes=routes))


def _repo_json(repo: Repo) -> dict[str, Any]:
    return {"name": repo.name, "full_name": f"{OWNER}/{repo.name}", "description": repo.description,
            "created_at": EPOCH.isoformat().replace("+00:00", "Z"), "updated_at": EPOCH.isoformat().replace("+00:00", "Z")}


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)
