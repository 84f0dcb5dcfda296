"""A tiny tracker for the manifest-step tests: issues with an ETag each (writes need ``If-Match``,
a stale one is 412), messages linked from an issue's ``messages`` by id, retired issues readable by
id but left out of the list (as Roundup does), and bodies taken as JSON or form-encoded."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from unigate.simulation import SimulatorControl


class EtagTracker:
    def __init__(self) -> None:
        self.issues: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, int] = {}

    def add_issue(self, title: str, messages: list[str] | None = None, *, retired: bool = False) -> str:
        issue_id = str(len(self.issues) + 1)
        self.issues[issue_id] = {"id": issue_id, "title": title, "messages": messages or [], "retired": retired}
        self.versions[issue_id] = 1
        return issue_id

    def add_message(self, content: str) -> str:
        message_id = str(len(self.messages) + 1)
        self.messages[message_id] = {"id": message_id, "content": content}
        return message_id

    def etag(self, issue_id: str) -> str:
        return f'"v{self.versions[issue_id]}"'


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if request.headers.get("content-type") == "application/x-www-form-urlencoded":
        return dict(parse_qsl(raw.decode()))
    return orjson.loads(raw) if raw else {}


def etag_tracker(state: EtagTracker) -> SimulatorControl:
    def wanted(request: Request) -> list[str]:
        return [v for k, v in request.query_params.multi_items() if k == "id"]

    async def list_issues(request: Request) -> JSONResponse:
        ids = wanted(request)
        shown = [i for i in state.issues.values() if not i["retired"] and (not ids or i["id"] in ids)]
        return JSONResponse({"items": shown, "total": len(shown)})

    async def one_issue(request: Request) -> JSONResponse:
        issue_id = request.path_params["id"]
        if issue_id not in state.issues:
            return JSONResponse({"error": f"no issue {issue_id}"}, status_code=404)
        return JSONResponse({"issue": state.issues[issue_id]}, headers={"ETag": state.etag(issue_id)})

    async def create_issue(request: Request) -> JSONResponse:
        body = await _body(request)
        return JSONResponse({"id": state.add_issue(body["title"], body.get("messages"))}, status_code=201)

    async def patch_issue(request: Request) -> JSONResponse:
        issue_id = request.path_params["id"]
        if issue_id not in state.issues:
            return JSONResponse({"error": f"no issue {issue_id}"}, status_code=404)
        if request.headers.get("if-match") != state.etag(issue_id):
            return JSONResponse({"error": "precondition failed: stale etag"}, status_code=412)
        body = await _body(request)
        issue = state.issues[issue_id]
        issue["messages"] += body.pop("add_messages", [])
        issue.update({k: (v == "true" if k == "retired" else v) for k, v in body.items()})
        state.versions[issue_id] += 1
        return JSONResponse({"issue": issue})

    async def messages(request: Request) -> JSONResponse:
        if request.method == "POST":
            return JSONResponse({"id": state.add_message((await _body(request))["content"])}, status_code=201)
        return JSONResponse({"items": [state.messages[i] for i in wanted(request) if i in state.messages]})

    return SimulatorControl(Starlette(routes=[
        Route("/issues", list_issues, methods=["GET"]), Route("/issues", create_issue, methods=["POST"]),
        Route("/issues/{id}", one_issue, methods=["GET"]), Route("/issues/{id}", patch_issue, methods=["PATCH"]),
        Route("/messages", messages, methods=["GET", "POST"])]))
