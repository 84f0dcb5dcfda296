"""Virtual webhooks end to end against a real Redmine (or its cassettes): a ticket created, updated and
deleted through the gateway is delivered to a real local receiver as exactly those three events, each
once per idempotency key, signed with the subscription's secret (unigate.testing.webhooks.round_trip)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from unigate.simulation import BackgroundServer
from unigate.testing.live import LiveTracker, live_fixtures
from unigate.testing.webhooks import ROUND_TRIP_SETTINGS, Receiver, round_trip
from unigate.webhooks import events as ev

live, client = live_fixtures("redmine", settings=ROUND_TRIP_SETTINGS)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.server = BackgroundServer(found.app()).start()
    yield found
    found.server.stop()


def test_a_created_updated_deleted_ticket_is_delivered_as_three_events_once_each(
        live: LiveTracker, client: httpx.Client, receiver: Receiver) -> None:
    trip = live.harness.server.run(round_trip(live.harness, client, receiver, "demo", {"subject": "Webhook round trip"},
                                  {"subject": "Webhook round trip, renamed"}))
    assert [e["body"]["payload"]["event_type"] for e in trip.events] == [ev.CREATED, ev.UPDATED, ev.DELETED], \
        trip.polls
    assert len({e["headers"][ev.IDEMPOTENCY_HEADER] for e in trip.events}) == 3
    assert all(e["verified"] and e["body"]["payload"]["service_id"] == "redmine" for e in trip.events)
