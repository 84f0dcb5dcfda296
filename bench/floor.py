"""The hand-written Python floor for the gateway's own work (issue 18, point 4).

An ASGI app that does by hand what the gateway does for a read of AgentsMesh tickets, and nothing
else: the downstream call through the same client as the forwarder, ``orjson`` decode, a
hand-written ``dict`` mapping of the fields AgentsMesh's manifest maps (``tickets.fields`` in
connectors/agentsmesh/manifest.yaml: the same names, value maps, id strings, label objects,
assignee objects and millisecond timestamps), the same envelope (``meta`` with ``cursors`` and
``total_count``, ``links``) and ``orjson`` encode. No API key, vault, routing, parameter parsing,
request log or metrics: it is the least the work can cost in Python, which the gateway is measured
against (target: gateway <= 1.3 x the floor).
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

STATUS = {"backlog": "open", "todo": "open", "in_progress": "in_progress", "in_review": "in_progress", "done": "closed"}
PRIORITY = {"low": "low", "medium": "normal", "high": "high", "urgent": "urgent", "none": None}
UNIFIED_LIST = "/issue-tracking/collections/{}/tickets"


def _when(value: str | None) -> str | None:
    """AgentsMesh's ``2025-01-08T21:35:49Z`` as Apideck's ``2025-01-08T21:35:49.000Z``."""
    return value[:19] + ".000Z" if value and len(value) == 20 else value


def ticket(r: dict[str, Any]) -> dict[str, Any]:
    """One AgentsMesh ticket as a unified ticket, by hand."""
    assignee, labels, repository, reporter = r.get("assignee_id"), r.get("labels"), r.get("repository_id"), r.get("reporter_id")
    status, priority = r.get("status"), r.get("priority")
    return {
        "id": r.get("slug"), "subject": r.get("title"), "description": r.get("content"), "type": r.get("type"),
        "status": STATUS.get(status, status), "priority": PRIORITY.get(priority, priority),
        "assignees": [{"id": str(assignee), "username": None}] if assignee is not None else [],
        "tags": [{"id": x, "name": x} for x in labels] if labels else [],
        "parent_id": r.get("parent_slug"),
        "collection_id": str(repository) if repository is not None else None,
        "created_by": str(reporter) if reporter is not None else None,
        "created_at": _when(r.get("created_at")), "updated_at": _when(r.get("updated_at")),
    }


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"v": 1, "o": offset})).rstrip(b"=").decode()


def envelope(body: bytes, query: str) -> bytes:
    """The downstream answer (one ticket, or a page of them) as the unified response body."""
    answer = orjson.loads(body)
    out: dict[str, Any] = {"status_code": 200, "status": "OK", "service": "agentsmesh", "resource": "tickets"}
    if "ticket" in answer:
        out["operation"], out["data"] = "one", ticket(answer["ticket"])
        return orjson.dumps(out)
    data = [ticket(r) for r in answer["tickets"]]
    offset = answer.get("offset", 0) + len(data)
    following = _cursor(offset) if offset < answer.get("total", 0) else None
    current = UNIFIED_LIST.format(1) + f"?limit={len(data)}"
    out["operation"], out["data"] = "all", data
    out["meta"] = {"items_on_page": len(data), "cursors": {"previous": None, "current": None, "next": following},
                   "total_count": answer.get("total")}
    out["links"] = {"previous": None, "current": current, "next": f"{current}&cursor={following}" if following else None}
    return orjson.dumps(out)


def floor_app(client: Any, upstream: str, headers: dict[str, str]) -> Any:
    """The floor as an ASGI app: called with the downstream path, like the forwarder."""
    from starlette.responses import Response

    async def app(scope, receive, send):  # noqa: ANN001, ANN202
        query = scope["query_string"].decode("latin-1")
        response = await client.get(upstream + scope["path"] + (f"?{query}" if query else ""), headers=headers)
        await Response(envelope(response.content, query), response.status_code,
                       media_type="application/json")(scope, receive, send)

    return app
