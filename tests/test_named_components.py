"""Named components (unigate.components): a manifest refers to Python by name — a transform, a
preparer, a paginator, a request builder — and the engine resolves it at load; a name nobody
registered fails the load naming the key. Through the gateway against a tiny tracker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from unigate.kit import (
    COMPONENTS,
    Connector,
    CursorPosition,
    DownstreamCall,
    OperationContext,
    PageRequest,
    Transform,
    Window,
)
from unigate.mapping.spec import MappingFileError, parse_mapping
from unigate.simulation import BackgroundServer, SimulatorControl
from unigate.testing import GatewayHarness, Simulator

from .conftest import cleared_client
from .support.manifest_gateway import manifest_gateway

TICKETS = "/issue-tracking/collections/main/tickets"
SOURCE = "tests/test_named_components.py"


def shouting(options: dict[str, Any]) -> Transform:
    return Transform(lambda v: None if v is None else str(v).upper(), lambda v: None if v is None else str(v).lower())


async def numbered(connector: Connector, ctx: OperationContext, records: list[Any],
                   options: dict[str, Any]) -> list[Any]:
    return [{**r, "title": f"{options['prefix']}{r['title']}"} for r in records]


async def two_at_a_time(page: PageRequest) -> Window:
    """Pages of two whatever the limit: ``from`` is the offset."""
    body = (await page.fetch([("from", str(page.position.offset))])).body
    items = body["items"][:2]
    served = page.position.offset + len(items)
    return Window(items, CursorPosition(offset=served) if served < body["total"] else None, body["total"])


async def by_search(ctx: OperationContext, call: DownstreamCall, options: dict[str, Any]) -> Any:
    """One issue found through the search endpoint instead of its own."""
    number = ctx.request.path_params["ticket_id"]
    return await ctx.call(call.call_id, "POST", options["path"], body={"number": number})


for kind, name, component in (("transform", "test_shouting", shouting), ("preparer", "test_numbered", numbered),
                              ("paginator", "test_two_at_a_time", two_at_a_time),
                              ("request", "test_by_search", by_search)):
    COMPONENTS.register(kind, name, component, source="tests")  # type: ignore[arg-type]

ISSUES = [{"number": str(n), "title": f"issue {n}", "realname": "" if n % 2 else f"Real {n}", "login": f"u{n}",
           "changed": "2024-05-01.10:00:00"} for n in range(1, 6)]
MAPPING: dict[str, Any] = {
    "service_id": "componented",
    "name": "Componented",
    "connection": {"settings": {"base_url": {"required": True}}},
    "http": {"base_url": "{settings.base_url}"},
    "resources": {
        "tickets": {
            "fields": {"id": "$.number", "subject": {"path": "$.title", "transform": "test_shouting"}},
            "operations": {
                "all": {"path": "/issues", "records": "$.items", "pagination": {"style": "test_two_at_a_time"},
                        "prepare": [{"use": "test_numbered", "options": {"prefix": "#"}}],
                        "filters": {"since": {"param": "changed", "format": "%Y-%m-%d.%H:%M:%S;"}}},
                "one": {"path": "/unused", "record": "$.issue", "request": {"style": "test_by_search",
                                                                          "options": {"path": "/search"}}},
            },
        },
        "users": {
            "fields": {"id": "$.number", "name": {"read": "$", "transform": {"name": "first_of",
                                                                            "paths": ["$.realname", "$.login"]}}},
            "operations": {"all": {"path": "/issues", "records": "$.items"}},
        },
        "tags": {   # a list whose total says -1 when not counted
            "fields": {"id": "$.number", "name": "$.title"},
            "operations": {"all": {"path": "/uncounted", "records": "$.items", "pagination": {
                "style": "page", "page_param": "page", "limit_param": "size", "total": "$.total", "total_unknown": -1}}},
        },
    },
}


def tracker() -> SimulatorControl:
    async def issues(request: Request) -> JSONResponse:
        start = int(request.query_params.get("from", 0))
        return JSONResponse({"items": ISSUES[start:], "total": len(ISSUES)})

    async def search(request: Request) -> JSONResponse:
        number = (await request.json())["number"]
        return JSONResponse({"issue": next(i for i in ISSUES if i["number"] == number)})

    async def uncounted(request: Request) -> JSONResponse:
        page, size = int(request.query_params["page"]), int(request.query_params["size"])
        return JSONResponse({"items": ISSUES[(page - 1) * size:page * size], "total": -1})

    return SimulatorControl(Starlette(routes=[Route("/issues", issues), Route("/search", search, methods=["POST"]),
                                              Route("/uncounted", uncounted)]))


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    control = tracker()
    simulator = Simulator(control, BackgroundServer(control).start())
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, sim: Simulator) -> Iterator[GatewayHarness]:
    gateway = manifest_gateway(Path(tmp_path_factory.mktemp("componented")), "componented", MAPPING, sim.url)
    yield gateway
    gateway.stop()


client = cleared_client()


def test_a_field_reads_through_the_transform_component_it_names(client: httpx.Client) -> None:
    assert client.get(f"{TICKETS}/3").json()["data"]["subject"] == "ISSUE 3"


def test_a_prepare_step_runs_the_preparer_component_it_names_with_its_options(client: httpx.Client) -> None:
    assert client.get(TICKETS, params={"limit": 1}).json()["data"][0]["subject"] == "#ISSUE 1"


def test_a_paginator_component_pages_the_list(client: httpx.Client, sim: Simulator) -> None:
    first = client.get(TICKETS, params={"limit": 10}).json()
    rest = client.get(TICKETS, params={"cursor": first["meta"]["cursors"]["next"]}).json()
    assert [t["id"] for t in first["data"]] == ["1", "2"] and [t["id"] for t in rest["data"]] == ["3", "4"]
    assert [r["query"] for r in sim.requests()] == [[("from", "0")], [("from", "2")]]


def test_a_request_component_builds_the_call(client: httpx.Client, sim: Simulator) -> None:
    assert client.get(f"{TICKETS}/4").json()["data"]["id"] == "4"
    assert [(r["method"], r["path"]) for r in sim.requests()] == [("POST", "/search")]


def test_first_of_reads_the_first_non_empty_path(client: httpx.Client) -> None:
    names = [u["name"] for u in client.get("/issue-tracking/collections/main/users").json()["data"]]
    assert names[:2] == ["u1", "Real 2"]


def test_a_strftime_filter_format_sends_the_trackers_own_date_syntax(client: httpx.Client, sim: Simulator) -> None:
    client.get(TICKETS, params={"filter[since]": "2024-05-01T12:00:00+02:00"})
    assert sim.requests()[0]["query"] == [("changed", "2024-05-01.10:00:00;"), ("from", "0")]


def test_a_total_the_tracker_did_not_count_is_left_out_and_paging_ends_by_a_short_page(client: httpx.Client) -> None:
    first = client.get("/issue-tracking/collections/main/tags", params={"limit": 3}).json()
    rest = client.get("/issue-tracking/collections/main/tags",
                      params={"limit": 3, "cursor": first["meta"]["cursors"]["next"]}).json()
    assert first["meta"].get("total_count") is None
    assert [t["id"] for t in first["data"] + rest["data"]] == ["1", "2", "3", "4", "5"]
    assert rest["meta"]["cursors"]["next"] is None


@pytest.mark.parametrize(("where", "key", "kind"), [
    ("fields", {"subject": {"path": "$.title", "transform": "nobody_made_this"}}, "transform"),
    ("operations", {"all": {"path": "/i", "records": "$", "prepare": [{"use": "nobody_made_this"}]}}, "preparer"),
    ("operations", {"all": {"path": "/i", "records": "$", "pagination": {"style": "nobody_made_this"}}}, "paginator"),
    ("operations", {"one": {"path": "/i", "request": {"style": "nobody_made_this"}}}, "request"),
])
def test_a_manifest_naming_an_unregistered_component_fails_to_load(where: str, key: dict[str, Any],
                                                                     kind: str) -> None:
    tickets = {"fields": {"id": "$.id"}, "operations": {"one": {"path": "/i"}}}
    tickets[where] = {**tickets[where], **key}
    with pytest.raises(MappingFileError) as failed:
        parse_mapping({**MAPPING, "resources": {"tickets": tickets}}, SOURCE)
    assert "nobody_made_this" in str(failed.value) and kind in str(failed.value)
