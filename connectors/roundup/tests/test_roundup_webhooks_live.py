"""Virtual webhooks end to end against a real Roundup (or its cassettes): a ticket created, updated and
deleted through the gateway is delivered to a real local receiver as exactly those three events, each
once per idempotency key, signed with the subscription's secret (unigate.testing.webhooks.round_trip)."""

from __future__ import annotations

from unigate.testing.webhooks import round_trip_tests

receiver, live, client, test_a_created_updated_deleted_ticket_is_delivered_as_three_events_once_each = \
    round_trip_tests("roundup", "issue")
