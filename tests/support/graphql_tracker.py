"""A tiny GraphQL tracker (schema: graphql_tracker.graphql), served with graphql-core: issues with
cursor paging, create and update; errors carry ``extensions.code`` (NOT_FOUND, BAD_USER_INPUT)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphql import GraphQLError, build_schema, graphql
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from unigate.simulation import SimulatorControl

SCHEMA = build_schema((Path(__file__).parent / "graphql_tracker.graphql").read_text())


class Issues:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = [{"id": f"I-{n}", "title": f"Issue {n}", "state": "todo"}
                                            for n in range(1, 6)]

    def issue(self, info: Any, id: str) -> dict[str, Any]:
        found = next((i for i in self.items if i["id"] == id), None)
        if found is None:
            raise GraphQLError(f"no issue {id}", extensions={"code": "NOT_FOUND"})
        return found

    def issues(self, info: Any, first: int, after: str | None = None) -> dict[str, Any]:
        start = int(after.removeprefix("c")) if after else 0
        end = start + first
        more = end < len(self.items)
        return {"nodes": self.items[start:end], "pageInfo": {"hasNextPage": more, "endCursor": f"c{end}" if more else None}}

    def createIssue(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        issue = {"id": f"I-{len(self.items) + 1}", "state": "todo", **self._checked(input)}
        self.items.append(issue)
        return {"issue": issue}

    def updateIssue(self, info: Any, id: str, input: dict[str, Any]) -> dict[str, Any]:
        issue = self.issue(info, id)
        issue.update(self._checked(input))
        return {"issue": issue}

    @staticmethod
    def _checked(values: dict[str, Any]) -> dict[str, Any]:
        if "title" in values and not values["title"]:
            raise GraphQLError("title must not be blank", extensions={"code": "BAD_USER_INPUT"})
        return values


def graphql_tracker(issues: Issues) -> SimulatorControl:
    async def endpoint(request: Request) -> JSONResponse:
        payload = await request.json()
        result = await graphql(SCHEMA, payload["query"], root_value=issues, variable_values=payload.get("variables"))
        return JSONResponse(result.formatted)

    return SimulatorControl(Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])]))
