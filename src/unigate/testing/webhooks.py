"""Test support for webhooks: a real receiver verifying signatures, and the virtual webhook round trip a
connector's live tests run against its real tracker (``connectors/redmine/tests``, ``connectors/roundup/tests``).

:func:`round_trip` drives the poller and the deliverer step by step (no background runner), so a
recording of the tracker's answers replays exactly: subscribe, poll the baseline, create a ticket,
poll, update it, poll, delete it, poll (the delete-scan cycle: the gateway's settings must say
``webhook_delete_scan_every=3``), deliver, poll and deliver again (nothing new).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from unigate.simulation import BackgroundServer
from unigate.testing.harness import GatewayHarness
from unigate.testing.live import LiveTracker, live_fixtures
from unigate.webhooks import events as ev
from unigate.webhooks.delivery import Deliverer
from unigate.webhooks.destination import Egress
from unigate.webhooks.poller import Poller

# the gateway settings of a live round trip: no background runner, loopback receivers allowed
ROUND_TRIP_SETTINGS = {"webhooks": False, "webhook_allow_private": ("*",), "webhook_delete_scan_every": 3,
                       "webhook_calls_per_minute": 1e6}


@dataclass
class Receiver:
    """Records every delivery; ``down`` answers 503, ``delay`` holds each answer that many seconds,
    ``redirect`` answers 307 to that URL."""

    secrets: dict[str, str] = field(default_factory=dict)   # delivery path -> secret
    received: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False
    delay: float = 0.0
    redirect: str = ""
    server: BackgroundServer | None = None

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{name}", self.handle, methods=["POST"])])

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        secret = self.secrets.get(request.url.path, "")
        signature = request.headers.get(ev.SIGNATURE_HEADER, "")
        self.received.append({"path": request.url.path, "body": orjson.loads(body), "raw": body,
                              "headers": dict(request.headers), "verified": ev.verify(body, signature, secret),
                              "at": time.monotonic(), "answered": not self.down and not self.redirect})
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.redirect:
            return Response(status_code=307, headers={"location": self.redirect})
        return Response(status_code=503 if self.down else 200)

    def url(self, name: str) -> str:
        assert self.server is not None
        return f"{self.server.url}/{name}"

    def delivered(self, name: str) -> list[dict[str, Any]]:
        """Deliveries the receiver accepted at ``/name``, one per idempotency key (retries of one key merged)."""
        by_key: dict[str, dict[str, Any]] = {}
        for item in self.received:
            if item["path"] == f"/{name}" and item["answered"]:
                by_key.setdefault(item["headers"][ev.IDEMPOTENCY_HEADER], item)
        return list(by_key.values())



def receiver_fixture() -> Any:
    """A pytest fixture ``receiver``: a :class:`Receiver` listening on loopback for one test
    (``receiver = receiver_fixture()`` in a test module)."""

    @pytest.fixture(name="receiver")
    def fixture() -> Iterator[Receiver]:
        found = Receiver()
        found.server = BackgroundServer(found.app()).start()
        yield found
        found.server.stop()

    return fixture


@dataclass
class RoundTrip:
    """What :func:`round_trip` saw: the ticket's id and every accepted delivery about it, in order."""

    ticket_id: str
    events: list[dict[str, Any]]
    polls: list[str]                      # each poll's mode and calls, for the failure message

    @property
    def event_types(self) -> list[str]:
        return [e["body"]["payload"]["event_type"] for e in self.events]

    @property
    def idempotency_keys(self) -> set[str]:
        return {e["headers"][ev.IDEMPOTENCY_HEADER] for e in self.events}


async def round_trip(harness: GatewayHarness, client: httpx.Client, receiver: Receiver, collection_id: str,
                     fields: dict[str, Any], update: dict[str, Any]) -> RoundTrip:
    """Create, update and delete a ticket in ``collection_id`` through the gateway, polling between; every
    delivery to ``receiver`` about it."""
    connection = harness.store.list_connections("test-app")[0]
    sub = await asyncio.to_thread(client.post, "/webhook/webhooks", json={
        "unified_api": "issue-tracking", "status": "enabled", "delivery_url": receiver.url("hook"), "events": ["*"]})
    receiver.secrets["/hook"] = sub.json()["secret"]
    tickets = f"/issue-tracking/collections/{collection_id}/tickets"
    steps = Steps(harness, connection)
    await steps.poll()                                                   # the baseline
    created = await asyncio.to_thread(client.post, tickets, json=fields)
    ticket_id = str(created.json()["data"]["id"])
    await steps.poll()
    await asyncio.to_thread(client.patch, f"{tickets}/{ticket_id}", json=update)
    await steps.poll()
    await asyncio.to_thread(client.delete, f"{tickets}/{ticket_id}")
    await steps.poll()                                                   # cycle 3: the full scan finds the delete
    await steps.deliver()
    await steps.poll()                                                   # nothing new ...
    await steps.deliver()                                                # ... and nothing sent twice
    await steps.close()
    mine = [d for d in receiver.received if d["body"]["payload"]["entity_id"] == ticket_id]
    return RoundTrip(ticket_id, mine, steps.reports)


@dataclass
class Steps:
    harness: GatewayHarness
    connection: Any
    reports: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        gateway = self.harness.gateway
        assert gateway.webhook_store is not None
        self.store = gateway.webhook_store
        self.poller = Poller(gateway.dispatcher, self.store, gateway.settings)
        self.deliverer = Deliverer(self.store, gateway.settings, "round-trip", gateway.request_log,
                                   Egress.from_settings(gateway.settings))

    async def poll(self) -> None:
        subscriptions = await asyncio.to_thread(self.store.subscriptions, self.connection.app_id)
        report = await self.poller.poll_connection(self.connection, subscriptions)
        self.reports.append(f"{report.mode}: {report.calls} calls, {report.events} events")

    async def deliver(self) -> None:
        while await self.deliverer.tick():
            await self.deliverer.drain()

    async def close(self) -> None:
        await self.deliverer.aclose()


CREATED, UPDATED, DELETED = ev.CREATED, ev.UPDATED, ev.DELETED


def round_trip_tests(service_id: str, collection_id: str) -> tuple[Any, Any, Any, Any]:
    """A connector's live round trip as a test module's ``receiver, live, client, test_…``: a ticket created,
    updated and deleted in ``collection_id`` through the gateway reaches a real receiver as exactly those three
    events, one idempotency key each, signed."""
    live, client = live_fixtures(service_id, settings=ROUND_TRIP_SETTINGS)

    def test_a_created_updated_deleted_ticket_is_delivered_as_three_events_once_each(
            live: LiveTracker, client: httpx.Client, receiver: Receiver) -> None:
        trip = live.harness.server.run(round_trip(live.harness, client, receiver, collection_id,
                                                  {"subject": "Webhook round trip"},
                                                  {"subject": "Webhook round trip, renamed"}))
        assert trip.event_types == [CREATED, UPDATED, DELETED], trip.polls
        assert len(trip.idempotency_keys) == 3
        assert all(e["verified"] and e["body"]["payload"]["service_id"] == service_id for e in trip.events)

    return receiver_fixture(), live, client, test_a_created_updated_deleted_ticket_is_delivered_as_three_events_once_each

__all__ = ["CREATED", "DELETED", "ROUND_TRIP_SETTINGS", "UPDATED", "Receiver", "RoundTrip", "receiver_fixture",
           "round_trip", "round_trip_tests"]
