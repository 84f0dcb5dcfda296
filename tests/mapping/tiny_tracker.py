"""A tiny tracker for the mapping features a Redmine-like API needs (tests/mapping/test_declared_*.py).

Like Redmine it lists open items by default (``state=*`` for all), takes a status *id* and
ignores it on create, answers 204 to a note (no id), has notes without text (field changes) and
edits notes at ``/notes/{id}`` (blank text deletes one), addresses items without their project,
and ignores JSON null (``""`` clears). Its reference lists: ``/states``, ``/priorities``,
``/fields`` (custom fields of items and of projects). Each request is recorded (``SimulatorControl``).
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from unigate.kit import COMPONENTS, Transform
from unigate.simulation import SimulatorControl

STATES = [{"id": 1, "name": "New", "closed": False}, {"id": 2, "name": "Doing", "closed": False},
          {"id": 3, "name": "Done", "closed": True}]
PRIORITIES = [{"id": 7, "name": "Low"}, {"id": 8, "name": "High"}]
FIELDS = [{"id": 11, "name": "Customer", "kind": "item"}, {"id": 12, "name": "Budget", "kind": "project"}]
PROJECTS = ("alpha", "beta")


class TinyTracker:
    def __init__(self) -> None:
        self.items: dict[int, dict[str, Any]] = {}
        self.next_id = 100
        for n in range(1, 6):   # alpha: items 1-5 (5 is Done), beta: item 6; item 1 has notes, two blank
            self.add({"project": "alpha", "subject": f"Item {n}"})
        self.items[5]["state"] = STATES[2]
        self.add({"project": "beta", "subject": "Beta item"})
        for text in ("first", "", "second", None, "third"):
            self.note(1, text)

    def add(self, body: dict[str, Any]) -> dict[str, Any]:
        number = len(self.items) + 1
        item = {"id": number, "project": body["project"], "subject": body.get("subject"),
                "state": next(s for s in STATES if s["id"] == 1), "priority_id": body.get("priority_id"),
                "fields": [], "notes": [],
                "created": f"2026-01-{number:02d}T00:00:00Z"}
        self.items[number] = item
        self.set_fields(item, body.get("fields", []))
        return item

    @staticmethod
    def set_fields(item: dict[str, Any], given: list[dict[str, Any]]) -> None:
        """Custom fields are written by id only; an item holds every item field, with its name."""
        values = {f["id"]: f["value"] for f in item["fields"]} | {f["id"]: f.get("value") for f in given}
        item["fields"] = [{"id": f["id"], "name": f["name"], "value": values.get(f["id"]) or None}
                          for f in FIELDS if f["kind"] == "item"]

    def note(self, item_id: int, text: str | None) -> None:
        self.next_id += 1
        self.items[item_id]["notes"].append({"id": self.next_id, "text": text})

    def update(self, item: dict[str, Any], body: dict[str, Any]) -> None:
        for key, value in body.items():
            if value is None:
                continue   # JSON null is ignored, as Redmine does
            if key == "state_id":
                item["state"] = next(s for s in STATES if s["id"] == value)
            elif key == "note":
                self.note(item["id"], value)
            elif key == "fields":
                self.set_fields(item, value)
            else:
                item[key] = value


def create_app() -> SimulatorControl:
    tracker = TinyTracker()

    def item_or_404(request: Request) -> dict[str, Any] | None:
        return tracker.items.get(int(request.path_params["item"]))

    async def listing(request: Request) -> Response:
        query = request.query_params
        items = [i for i in tracker.items.values() if i["project"] == query.get("project", i["project"])]
        if "id" in query:
            items = [i for i in items if str(i["id"]) == query["id"]]
        state = query.get("state")
        if state != "*":
            wanted = {int(s) for s in state.split("|")} if state else {s["id"] for s in STATES if not s["closed"]}
            items = [i for i in items if i["state"]["id"] in wanted]
        return JSONResponse({"items": items, "total": len(items)})

    async def one(request: Request) -> Response:
        item = item_or_404(request)
        return JSONResponse({"item": item}) if item else Response(status_code=404)

    async def create(request: Request) -> Response:
        body = (await request.json())["item"]
        if body.get("project") not in PROJECTS:
            return JSONResponse({"error": "Project is invalid"}, status_code=422)
        return JSONResponse({"item": tracker.add(body)}, status_code=201)

    async def update(request: Request) -> Response:
        item = item_or_404(request)
        if item is None:
            return Response(status_code=404)
        tracker.update(item, (await request.json())["item"])
        return Response(status_code=204)

    async def edit_note(request: Request) -> Response:
        text = (await request.json())["note"]["note"]
        for item in tracker.items.values():
            for note in item["notes"]:
                if note["id"] == request.path_params["note"]:
                    if text.strip():
                        note["text"] = text
                    else:
                        item["notes"].remove(note)
                    return Response(status_code=204)
        return Response(status_code=404)

    async def project(request: Request) -> Response:
        name = request.path_params["project"]
        return JSONResponse({"project": {"key": name}}) if name in PROJECTS else Response(status_code=404)

    def constant(body: dict[str, Any]) -> Any:
        async def answer(request: Request) -> Response:
            return JSONResponse(body)
        return answer

    return SimulatorControl(Starlette(routes=[
        Route("/states", constant({"states": STATES})),
        Route("/priorities", constant({"priorities": PRIORITIES})),
        Route("/fields", constant({"fields": FIELDS})),
        Route("/projects/{project}", project),
        Route("/items", listing),
        Route("/items", create, methods=["POST"]),
        Route("/items/{item:int}", one),
        Route("/items/{item:int}", update, methods=["PUT"]),
        Route("/notes/{note:int}", edit_note, methods=["PUT"]),
    ]))


def tiny_state(state: Any) -> Any:
    """The ``tiny_state`` transform: a state record -> unified status."""
    if not isinstance(state, dict):
        return None
    return "closed" if state.get("closed") else "in_progress" if state.get("name") == "Doing" else "open"


if not COMPONENTS.has("transform", "tiny_state"):   # a read-only transform: writes the value as given
    COMPONENTS.register("transform", "tiny_state", lambda options: Transform(tiny_state, lambda value: value),
                        source="tests.mapping.tiny_tracker")


MANIFEST: dict[str, Any] = {
    "service_id": "tiny",
    "name": "Tiny",
    "connection": {"settings": {"base_url": {"required": True}}},
    "http": {"base_url": "{settings.base_url}", "errors": {"message": "$.error"}},
    "lookups": {
        "states": {"call_id": "states_lookup", "path": "/states", "records": "$.states"},
        "priorities": {"call_id": "priorities_lookup", "path": "/priorities", "records": "$.priorities"},
        "fields": {"call_id": "fields_lookup", "path": "/fields", "records": "$.fields",
                   "keep": [{"path": "$.kind", "equals": "item"}]},
        "item_fields": {"call_id": "fields_lookup", "path": "/items/{ticket_id}", "records": "$.item.fields",
                        "cache": False},
    },
    "resources": {
        "collections": {"fields": {"id": "$.key"},
                        "operations": {"one": {"path": "/projects/{collection_id}", "record": "$.project"}}},
        "tickets": {
            "null_as": "",
            "list_lookups": [{"path": "$.item.fields", "key": "name",
                              "lookup": {"name": {"add": "fields", "update": "item_fields"}, "by": ["name"]}}],
            "fields": {
                "id": {"read": "$.id", "transform": "string"},
                "subject": {"path": "$.subject", "required": True},
                "status": {"read": "$.state", "write": "$.state_id", "transform": "tiny_state",
                           "lookup": {"name": "states", "unified": "tiny_state"}},
                "priority": {"read": "$.priority_id", "write": "$.priority_id",
                             "lookup": {"name": "priorities", "by": ["id", "name"]}},
                "collection_id": {"read": "$.project"},
                "type": {"path": "$.kind", "create_only": True},
                "due_date": {"path": "$.due", "refused": "the tracker computes due dates"},
                "created_at": {"read": "$.created"},
            },
            "operations": {
                "all": {"path": "/items", "query": {"project": "{collection_id}"}, "records": "$.items",
                        "pagination": {"style": "none"},
                        "filters": {"status": {"param": "state", "separator": "|", "default": "*",
                                               "lookup": {"name": "states", "unified": "tiny_state"}},
                                    "since": {"param": "updated", "format": "date", "value": ">={value}"},
                                    "assignee_id": {"param": "assignee", "value": "user:{value}"}},
                        "sort": {"param": "sort", "fields": {"created_at": "created"},
                                 "format": "{field}:{direction},id:{direction}"}},
                "one": {"path": "/items/{ticket_id}", "record": "$.item",
                        "collection_check": {"path": "/items", "query": {"id": "{ticket_id}", "project":
                                             "{collection_id}", "state": "*"}, "records": "$.items",
                                             "match": {"path": "$.id", "value": "{ticket_id}"}}},
                "add": {"method": "POST", "path": "/items", "wrap": "$.item", "record": "$.item",
                        "body": {"$.item.project": "{collection_id}"}, "collection_exists": True,
                        "resend": [{"call_id": "tickets_add_state", "sent": "$.item.state_id",
                                    "created": "$.item.state.id"}]},
                "update": {"method": "PUT", "path": "/items/{ticket_id}", "wrap": "$.item"},
            },
        },
        "comments": {
            "fields": {"id": {"read": "$.id", "transform": "string"},
                       "body": {"read": "$.text", "write": "$.note", "required": True}},
            "operations": {
                "all": {"path": "/items/{ticket_id}", "records": "$.item.notes", "pagination": {"style": "none"},
                        "keep": [{"path": "$.text", "not_blank": True}]},
                "one": {"path": "/items/{ticket_id}", "record": "$.item.notes",
                        "match": {"path": "$.id", "value": "{id}"}, "keep": [{"path": "$.text", "not_blank": True}]},
                "add": {"method": "PUT", "path": "/items/{ticket_id}", "wrap": "$.item",
                        "read_back": {"call_id": "comments_add_lookup", "path": "/items/{ticket_id}",
                                      "records": "$.item.notes", "match": "$.text", "sent": "$.item.note"}},
                "update": {"method": "PUT", "path": "/notes/{id}", "wrap": "$.note",
                           "exists_check": "comments_update_note_check"},
            },
        },
    },
}
