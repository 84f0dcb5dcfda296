"""Virtual webhooks end to end against a real Roundup (or its cassettes): a ticket created, updated and
deleted through the gateway is delivered to a real local receiver as exactly those three events, each
once per idempotency key, signed with the subscription's secret (unigate.testing.webhooks.round_trip)."""

from __future__ import annotations

import httpx

from unigate.testing.live import LiveTracker, live_fixtures
from unigate.testing.webhooks import CREATED, DELETED, ROUND_TRIP_SETTINGS, UPDATED, Receiver, receiver_fixture, round_trip

receiver = receiver_fixture()
live, client = live_fixtures("roundup", settings=ROUND_TRIP_SETTINGS)


def test_a_created_updated_deleted_ticket_is_delivered_as_three_events_once_each(
        live: LiveTracker, client: httpx.Client, receiver: Receiver) -> None:
    trip = live.harness.server.run(round_trip(
        live.harness, client, receiver, "issue", {"subject": "Webhook round trip"}, {"subject": "Webhook round trip, renamed"}))
    assert trip.event_types == [CREATED, UPDATED, DELETED], trip.polls
    assert len(trip.idempotency_keys) == 3
    assert all(e["verified"] and e["body"]["payload"]["service_id"] == "roundup" for e in trip.events)
