"""A tracker for sync benchmarks and tests: N tickets in one project, paged, with or without ``updated_since``.

Three manifests speak to it: ``sync-native`` declares ``filter[since]`` (``updated_since``, inclusive)
and ``sort[by]=updated_at`` (as Redmine does); ``sync-sorted`` only ``sort[by]=updated_at`` (as
Codimir: the engine emulates since newest-updated first); ``sync-emulated`` neither (as AgentsMesh,
Opine, Selectel: a full scan): the same tickets, polled the three ways. ``touch(n)`` changes n tickets (new
``updated_at``), ``add`` and ``remove`` create and delete; every request is counted.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
MAX_LIMIT = 100


class SyncTracker:
    def __init__(self, count: int) -> None:
        self.clock = 0
        self.tickets: dict[int, dict[str, Any]] = {}
        self.requests = 0
        for _ in range(count):
            self.add("seeded")

    def _stamp(self) -> str:
        self.clock += 1
        return (EPOCH + datetime.timedelta(seconds=self.clock)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def add(self, title: str) -> int:
        ticket_id = len(self.tickets) + 1 if not self.tickets else max(self.tickets) + 1
        stamp = self._stamp()
        self.tickets[ticket_id] = {"id": ticket_id, "title": title, "created": stamp, "updated": stamp}
        return ticket_id

    def touch(self, ticket_ids: list[int]) -> None:
        for ticket_id in ticket_ids:
            self.tickets[ticket_id].update(title=f"changed at {self.clock}", updated=self._stamp())

    def remove(self, ticket_id: int) -> None:
        del self.tickets[ticket_id]

    async def list_tickets(self, request: Request) -> JSONResponse:
        self.requests += 1
        q = request.query_params
        page, limit = int(q.get("page", "1")), min(MAX_LIMIT, int(q.get("limit", "25")))
        rows = sorted(self.tickets.values(), key=lambda t: t["id"])
        if q.get("updated_since"):
            rows = sorted((t for t in rows if t["updated"] >= q["updated_since"]), key=lambda t: t["updated"])
        if q.get("sort") == "updated":
            rows = sorted(rows, key=lambda t: (t["updated"], t["id"]), reverse=q.get("order") == "desc")
        window = rows[(page - 1) * limit: page * limit]
        return JSONResponse({"items": window, "total": len(rows), "pages": max(1, -(-len(rows) // limit))})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/tickets", self.list_tickets)])


def manifest(service_id: str, *, native: bool, sorted_by_update: bool = False) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "path": "/tickets", "records": "$.items",
        "pagination": {"style": "page", "page_param": "page", "limit_param": "limit", "max_limit": MAX_LIMIT,
                       "total": "$.total", "page_count": "$.pages"},
    }
    if native:
        operation["filters"] = {"since": {"param": "updated_since", "format": "iso"}}
        operation["sort"] = {"fields": {"updated_at": "updated"}, "param": "sort"}
    elif sorted_by_update:
        operation["sort"] = {"fields": {"updated_at": "updated"}, "param": "sort", "direction_param": "order"}
    return {
        "service_id": service_id, "name": service_id,
        "connection": {"settings": {"base_url": {"description": "the tracker's URL", "required": True}}},
        "http": {"base_url": "{settings.base_url}"},
        "resources": {
            "collections": {"fields": {"id": "$.id", "name": "$.name"},
                            "operations": {"all": {"static": [{"id": "main", "name": "Main"}]}}},
            "tickets": {"fields": {"id": {"read": "$.id", "transform": "string"}, "subject": "$.title",
                                   "created_at": {"read": "$.created", "transform": "datetime"},
                                   "updated_at": {"read": "$.updated", "transform": "datetime"}},
                        "operations": {"all": operation}},
        },
    }


def write_manifests(directory: Path) -> Path:
    """``sync-native.yaml``, ``sync-sorted.yaml`` and ``sync-emulated.yaml`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for service_id, native, by_update in (("sync-native", True, False), ("sync-sorted", False, True),
                                          ("sync-emulated", False, False)):
        body = manifest(service_id, native=native, sorted_by_update=by_update)
        (directory / f"{service_id}.yaml").write_text(yaml.safe_dump(body))
    return directory
