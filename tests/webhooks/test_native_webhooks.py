"""Native webhooks: a ``webhook`` component registered by a plugin verifies and normalises what a tracker
POSTs to ``/webhooks/inbound/{service_id}/{connection}``; its events reach subscribers like the poller's."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping
from types import SimpleNamespace
from typing import Any

import httpx
import orjson
import pytest

from unigate.components import COMPONENTS
from unigate.kit import hookimpl
from unigate.vault.models import Connection
from unigate.webhooks import events as ev
from unigate.webhooks.inbound import InboundEvent

from .conftest import Receiver, Setup, wait_for

ACTIONS = {"opened": ev.CREATED, "edited": ev.UPDATED, "removed": ev.DELETED}


class FakeTrackerHooks:
    """A tracker that signs its webhooks with the connection's token, GitHub style (``sha256=<hex>``)."""

    def verify(self, headers: Mapping[str, str], body: bytes, connection: Connection) -> bool:
        key = str(connection.credentials["session_token"]).encode()
        expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, headers.get("x-fake-signature", ""))

    def normalise(self, headers: Mapping[str, str], body: bytes, connection: Connection) -> list[InboundEvent]:
        event = orjson.loads(body)
        if event["action"] not in ACTIONS:
            return []
        return [InboundEvent(ACTIONS[event["action"]], event["project"], str(event["ticket"]), event["at"])]


@hookimpl
def register_webhook_handlers() -> dict[str, Any]:
    return {"codimir": FakeTrackerHooks()}


@pytest.fixture
def native(setup: Setup) -> Iterator[Setup]:
    plugin = SimpleNamespace(__name__="fake_native_hooks", register_webhook_handlers=register_webhook_handlers)
    setup.harness.gateway.registry.register_module("fake-native-hooks", plugin)
    yield setup
    COMPONENTS.unregister_source("plugin fake-native-hooks")


def _send(setup: Setup, event: dict[str, Any], *, key: str | None = None) -> httpx.Response:
    connection = setup.harness.store.list_connections("test-app")[0]
    body = orjson.dumps(event)
    secret = (key or str(connection.credentials["session_token"])).encode()
    signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return httpx.post(f"{setup.harness.server.url}/webhooks/inbound/codimir/{connection.id}", content=body,
                      headers={"x-fake-signature": signature})


def test_a_verified_tracker_event_is_delivered_to_subscribers(native: Setup, receiver: Receiver) -> None:
    native.subscribe(receiver, "hook")
    answer = _send(native, {"action": "edited", "project": "project_456", "ticket": 42, "at": "2026-12-01T10:00:00Z"})
    assert answer.json()["data"] == {"events": 1}
    [delivery] = wait_for(lambda: receiver.delivered("hook"))
    payload = delivery["body"]["payload"]
    assert (payload["event_type"], payload["entity_id"], payload["occurred_at"], delivery["verified"]) == (
        ev.UPDATED, "42", "2026-12-01T10:00:00Z", True)


def test_a_badly_signed_tracker_event_is_refused(native: Setup, receiver: Receiver) -> None:
    native.subscribe(receiver, "hook")
    answer = _send(native, {"action": "opened", "project": "p", "ticket": 1, "at": "x"}, key="forged")
    assert (answer.status_code, answer.json()["type_name"]) == (401, "UnauthorizedError")
    assert native.harness.gateway.webhook_store.outbox() == []


def test_events_unigate_does_not_deliver_are_acknowledged_and_dropped(native: Setup, receiver: Receiver) -> None:
    native.subscribe(receiver, "hook")
    answer = _send(native, {"action": "labeled", "project": "p", "ticket": 1, "at": "x"})
    assert (answer.status_code, answer.json()["data"]) == (200, {"events": 0})


def test_a_service_without_a_handler_has_no_inbound_endpoint(setup: Setup) -> None:
    connection = setup.harness.store.list_connections("test-app")[0]
    answer = httpx.post(f"{setup.harness.server.url}/webhooks/inbound/codimir/{connection.id}", content=b"{}")
    assert (answer.status_code, answer.json()["type_name"]) == (404, "EntityNotFoundError")


def test_an_unknown_connection_has_no_inbound_endpoint(native: Setup) -> None:
    answer = httpx.post(f"{native.harness.server.url}/webhooks/inbound/codimir/no-such-connection", content=b"{}")
    assert answer.status_code == 404


def test_webhook_is_a_component_kind_plugins_register() -> None:
    from unigate.components import KINDS
    from unigate.plugins.registry import COMPONENT_HOOKS

    assert "webhook" in KINDS and COMPONENT_HOOKS["register_webhook_handlers"] == "webhook"
