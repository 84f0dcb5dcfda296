"""Nothing half-applied silently: when an update has made one write downstream and then fails —
downstream, or inside the gateway (our code, a connector's code) — the answer names the writes
that were applied, whatever the failure was.

Two real situations, both around AgentsMesh's update: the main ``PUT /tickets/:slug`` and the
``split`` call ``PATCH /tickets/:slug/status`` (``tickets_update_status``).

- the declarative split (``Connector.run_calls``) whose status call fails in the gateway's
  downstream transport layer (the pool's ``wrap_transport`` hook, which test cassettes use too,
  raising as a bug there would);
- a quirk connector registered here, as a plugin author writes one, that makes both calls itself
  and then maps the status call's answer with a path AgentsMesh does not send (KeyError).
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from unigate.connector import Connector, implements
from unigate.connector.context import OperationContext, OperationResult
from unigate.plugins import ConnectorDefinition, hookimpl, packaged_mapping
from unigate.plugins.registry import ConnectorRegistry
from unigate.testing import ConnectorUnderTest, GatewayHarness, Simulator, error_of
from unigate_connectors.agentsmesh import simulator as agentsmesh

from .conftest import cleared_client

TICKETS = f"/issue-tracking/collections/{agentsmesh.MAIN_REPOSITORY_ID}/tickets"


def tracker_ticket(sim: Simulator, slug: str) -> dict[str, Any]:
    """AgentsMesh's own record of a ticket (ground truth, bypassing the gateway)."""
    url = f"{sim.url}/api/v1/ext/orgs/{agentsmesh.DEFAULT_ORG}/tickets/{slug}"
    return httpx.get(url, headers={"X-API-Key": agentsmesh.DEFAULT_API_KEY}).json()["ticket"]


def writes(sim: Simulator) -> list[tuple[str, str]]:
    return [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in sim.requests() if r["method"] != "GET"]


# -- the declarative split call, failing in the gateway's transport layer ----------------------

class StatusCallBreaks(httpx.AsyncBaseTransport):
    """Between the pooled client and the network: the status call raises, as a bug there would."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/status"):
            raise RuntimeError("bug in the transport layer")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture(scope="module")
def broken_transport(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectorUnderTest]:
    tracker = ConnectorUnderTest.start(tmp_path_factory.mktemp("agentsmesh-broken"), "agentsmesh",
                                       wrap_transport=StatusCallBreaks)
    yield tracker
    tracker.stop()


def test_a_split_update_failing_in_the_gateway_after_the_first_call_names_the_applied_call(
        broken_transport: ConnectorUnderTest) -> None:
    sim = broken_transport.simulator
    assert sim is not None
    before = tracker_ticket(sim, "AM-40")
    with broken_transport.client() as client:
        response = client.patch(f"{TICKETS}/AM-40", json={"subject": "Half there", "status": "closed"})
    body = response.json()
    assert error_of(response) == (500, "UnexpectedError")
    assert body["message"] == "Unexpected error (after tickets_update succeeded: the update is partly applied)"
    assert {k: body["detail"][k] for k in ("failed_call", "applied_calls", "not_applied")} == {
        "failed_call": "tickets_update_status", "applied_calls": ["tickets_update"], "not_applied": []}
    after = tracker_ticket(sim, "AM-40")  # what the answer says is what the tracker holds
    assert (after["title"], after["status"]) == ("Half there", before["status"])


def test_a_split_update_failing_in_the_gateway_at_the_first_call_is_a_plain_500(
        broken_transport: ConnectorUnderTest) -> None:
    with broken_transport.client() as client:
        response = client.patch(f"{TICKETS}/AM-41", json={"status": "closed"})  # the status call alone
    body = response.json()
    assert error_of(response) == (500, "UnexpectedError")
    assert "partly applied" not in body["message"]
    assert "applied_calls" not in str(body.get("detail"))


# -- a quirk connector whose mapping of the second call's answer raises --------------------------

class StatusReadBack(Connector):
    """AgentsMesh's update made by hand, then the new status read from the status call's answer,
    which AgentsMesh does not send (it answers ``{"message": "Status updated"}``)."""

    @implements("tickets.update")
    async def tickets_update(self, ctx: OperationContext) -> OperationResult:
        op = self.operation("tickets", "update")
        body = self.downstream_body(ctx, op)
        split = op.split[0]
        status = {k: body.pop(k) for k in split.fields if k in body}
        await ctx.call(self.call_id(ctx, op), op.method, self.path(ctx, op.path or ""), body=body)
        answer = await ctx.call(split.call_id, split.method, self.path(ctx, split.path), body=status)
        return OperationResult({"id": ctx.request.path_params["ticket_id"], "status": answer.body["ticket"]["status"]})


SERVICE = "agentsmesh-readback"


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    mapping = yaml.safe_load(packaged_mapping("unigate_connectors.agentsmesh", "manifest.yaml").read_text())
    return [ConnectorDefinition(service_id=SERVICE, mapping={**mapping, "service_id": SERVICE},
                                connector_class=StatusReadBack)]


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator.start(agentsmesh.create_app())
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, sim: Simulator) -> Iterator[GatewayHarness]:
    registry = ConnectorRegistry.load()
    registry.register_module(SERVICE, types.SimpleNamespace(__name__="readback_test_plugin",
                                                            unigate_connectors=unigate_connectors))
    gateway = GatewayHarness(Path(tmp_path_factory.mktemp(SERVICE)), registry=registry)
    gateway.connect(SERVICE, settings={"base_url": sim.url, "organization": agentsmesh.DEFAULT_ORG},
                    credentials={"api_key": agentsmesh.DEFAULT_API_KEY})
    yield gateway
    gateway.stop()


client = cleared_client()


def test_an_exception_in_connector_code_after_both_writes_names_them(client: httpx.Client, sim: Simulator) -> None:
    response = client.patch(f"{TICKETS}/AM-42", json={"subject": "Both written", "status": "closed"})
    body = response.json()
    assert error_of(response) == (500, "UnexpectedError")
    assert body["message"] == ("Unexpected error (after tickets_update, tickets_update_status succeeded: "
                               "the update is partly applied)")
    assert {k: body["detail"][k] for k in ("failed_call", "applied_calls", "not_applied")} == {
        "failed_call": None, "applied_calls": ["tickets_update", "tickets_update_status"], "not_applied": []}
    assert writes(sim) == [("PUT", "AM-42"), ("PATCH", "status")]
    after = tracker_ticket(sim, "AM-42")
    assert (after["title"], after["status"]) == ("Both written", "done")


def test_a_downstream_failure_in_connector_code_after_a_write_names_it(client: httpx.Client, sim: Simulator) -> None:
    # not through run_calls: the connector makes its calls itself; the report is the same
    sim.fault(status=500, path="/status$")
    response = client.patch(f"{TICKETS}/AM-43", json={"subject": "First only", "status": "closed"})
    body = response.json()
    assert body["type_name"] == "ConnectorExecutionError"
    assert "(after tickets_update succeeded: the update is partly applied)" in body["message"]
    assert (body["detail"]["failed_call"], body["detail"]["applied_calls"]) == ("tickets_update_status", ["tickets_update"])


def test_an_exception_before_any_write_is_not_called_partly_applied(client: httpx.Client, sim: Simulator) -> None:
    sim.fault(status=500, path="/AM-44$")  # the first write fails: nothing was applied
    body = client.patch(f"{TICKETS}/AM-44", json={"subject": "Nothing", "status": "closed"}).json()
    assert body["type_name"] == "ConnectorExecutionError"
    assert "partly applied" not in body["message"]
    assert "applied_calls" not in body["detail"]
