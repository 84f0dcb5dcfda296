"""The author's tools on the operation context, through a connector's own implementation that uses
nothing else: path and query from templates, one page at the request's cursor and limit, the
typed not-found."""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from unigate.kit import Connector, ConnectorDefinition, OperationContext, OperationResult, hookimpl, implements
from unigate.plugins.registry import ConnectorRegistry
from unigate.testing import GatewayHarness, Simulator, error_of, walk_pages

ITEMS = [{"n": n, "title": f"Item {n}"} for n in range(1, 8)]
MANIFEST: dict[str, Any] = {
    "service_id": "toolbox", "name": "Toolbox",
    "connection": {"settings": {"base_url": {"required": True}}},
    "http": {"base_url": "{settings.base_url}"},
    "resources": {"tickets": {
        "fields": {"id": {"read": "$.n", "transform": "string"}, "subject": "$.title"},
        "operations": {"all": {"path": "/boards/{collection_id}/items", "records": "$.items",
                               "pagination": {"style": "offset", "offset_param": "skip", "limit_param": "take",
                                              "max_limit": 3}}}}},
}


class Toolbox(Connector):
    @implements("tickets.all")
    async def tickets_all(self, ctx: OperationContext) -> OperationResult:
        op = self.operation("tickets", "all")
        path, query = ctx.path(op.path or ""), ctx.query({"board": "{collection_id}"})

        async def fetch(page: list[tuple[str, str]]) -> Any:
            return await ctx.call("tickets_all", "GET", path, params=query + page)

        window = await ctx.page(fetch, op.pagination, op.records or "$")
        return OperationResult(self.map_records(ctx, window.records), next=window.next, total_count=window.total)

    @implements("tickets.one")
    async def tickets_one(self, ctx: OperationContext) -> OperationResult:
        raise ctx.not_found("Ticket", f"the toolbox has no item {ctx.request.path_params['ticket_id']!r}")


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    return [ConnectorDefinition(service_id="toolbox", mapping=MANIFEST, connector_class=Toolbox)]


@pytest.fixture(scope="module")
def tracker() -> Iterator[Simulator]:
    async def items(request: Request) -> JSONResponse:
        assert request.query_params["board"] == request.path_params["board"] == "a b"
        skip, take = int(request.query_params["skip"]), int(request.query_params["take"])
        return JSONResponse({"items": ITEMS[skip:skip + take]})

    simulator = Simulator.start(Starlette(routes=[Route("/boards/{board}/items", items)]))
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def client(tracker: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    registry = ConnectorRegistry.load()
    registry.register_module("toolbox", types.SimpleNamespace(__name__="toolbox", unigate_connectors=unigate_connectors))
    harness = GatewayHarness(Path(tmp_path_factory.mktemp("toolbox")), registry=registry)
    harness.connect("toolbox", settings={"base_url": tracker.url})
    with harness.client("toolbox") as c:
        yield c
    harness.stop()


def test_path_query_and_page_serve_every_record_once_across_tracker_pages(client: httpx.Client) -> None:
    ids, ended = walk_pages(client, "/issue-tracking/collections/a%20b/tickets", limit=2)
    assert ids == [str(n) for n in range(1, 8)] and ended


def test_not_found_is_the_typed_404(client: httpx.Client) -> None:
    assert error_of(client.get("/issue-tracking/collections/a%20b/tickets/9")) == (404, "EntityNotFoundError")
