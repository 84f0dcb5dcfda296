"""Native webhooks: a tracker POSTs its own event; a handler verifies it and says what changed.

``POST /webhooks/inbound/{service_id}/{connection_id}`` (no API key: the tracker calls it; the
handler's signature check is the authentication). The handler is the ``webhook`` component named
by the service id (a plugin's ``register_webhook_handlers`` hook). Verified events are addressed
to the connection's app's enabled subscriptions and go through the same outbox, signing and
retries as the poller's. Answers: 200 ``{"data": {"events": n}}``; 404 for an unknown service,
connection or a service without a handler; 401 when the handler refuses the signature.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope

from unigate.api.handler import read_body
from unigate.api.routes import check_path_params, request_segments
from unigate.components import COMPONENTS
from unigate.errors import EntityNotFoundError, RequestValidationError, UnauthorizedError
from unigate.vault.store import VaultError
from unigate.vault_api.envelope import ok
from unigate.webhooks import events as ev

if TYPE_CHECKING:
    from unigate.app import Gateway
    from unigate.vault.models import Connection

PREFIX = "/webhooks/inbound/"


@dataclass(frozen=True)
class InboundEvent:
    """One change a tracker reported, in unified terms."""

    event_type: str          # one of unigate.webhooks.events.EVENT_TYPES
    collection_id: str
    entity_id: str           # the unified ticket id
    occurred_at: str         # ISO 8601


class WebhookHandler(Protocol):
    """The ``webhook`` component: what a connector with native webhooks provides."""

    def verify(self, headers: Mapping[str, str], body: bytes, connection: Connection) -> bool:
        """Whether the request really comes from the tracker (its signature, with the connection's secret)."""

    def normalise(self, headers: Mapping[str, str], body: bytes, connection: Connection) -> list[InboundEvent]:
        """The unified events the request reports (none for events unigate does not deliver)."""


async def respond(gateway: Gateway, scope: Scope, receive: Receive, method: str, request_id: str) -> Response:
    """Answer one inbound webhook; refusals are raised and answered in the error schema by ``GatewayApp``."""
    response = await _respond(gateway, scope, receive, method)
    response.headers["request-id"] = request_id
    return response


async def _respond(gateway: Gateway, scope: Scope, receive: Receive, method: str) -> Response:
    segments = request_segments(scope["path"], scope.get("raw_path"))
    if len(segments) != 4 or method != "POST":
        raise EntityNotFoundError("Not found", "POST /webhooks/inbound/{service_id}/{connection_id}")
    service_id, connection_id = segments[2], segments[3]
    check_path_params({"service_id": service_id, "connection_id": connection_id})
    handler, connection = await asyncio.to_thread(_target, gateway, service_id, connection_id)
    body = await read_body(Request(scope, receive))
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    if not handler.verify(headers, body, connection):
        raise UnauthorizedError("Invalid signature", f"the request is not signed as {service_id} signs its webhooks")
    try:
        found = handler.normalise(headers, body, connection)
    except ValueError as exc:
        raise RequestValidationError("Invalid webhook body", str(exc)) from None
    count = await asyncio.to_thread(enqueue, gateway, connection, found)
    runner = getattr(gateway, "webhooks", None)
    if runner is not None and runner.leader:
        await runner.deliverer.tick()
    return ok({"events": count})


def _target(gateway: Gateway, service_id: str, connection_id: str) -> tuple[WebhookHandler, Connection]:
    if not COMPONENTS.has("webhook", service_id):
        raise EntityNotFoundError("Not found", f"{service_id} has no native webhook handler")
    try:
        connection = gateway.store.get_connection(connection_id)
    except VaultError:
        connection = None
    if connection is None or connection.service_id != service_id or not connection.enabled:
        raise EntityNotFoundError("Not found", f"no enabled {service_id} connection {connection_id!r}")
    return COMPONENTS.get("webhook", service_id), connection


def enqueue(gateway: Gateway, connection: Connection, found: list[InboundEvent]) -> int:
    """Outbox rows for ``found``, one per enabled subscription of the app that wants each; returns the events."""
    from unigate.webhooks.poller import public_base

    store = gateway.webhook_store
    assert store is not None   # the inbound route is served only with a webhook store
    subscriptions = [s for s in store.subscriptions(connection.app_id) if s.enabled]
    rows = []
    for item in found:
        if item.event_type not in ev.EVENT_TYPES:
            continue
        event = ev.TicketEvent(item.event_type, connection.service_id, connection.consumer_id, connection.app_id,
                               item.collection_id, item.entity_id, item.occurred_at)
        payload = event.payload(ev.new_id(), public_base(gateway.settings))
        rows += [(s.id, ev.new_id(), item.event_type, payload) for s in subscriptions
                 if ev.subscribed(s.events, item.event_type)]
    store.enqueue(rows)
    return len(found)
