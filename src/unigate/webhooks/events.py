"""Events as Apideck delivers them: types, the payload, the body bytes and their signature.

The body is ``{"payload": IssueTrackingWebhookEvent}`` (issue-tracking.yml ``x-webhooks``), serialised
compactly with object keys sorted recursively. Apideck's receivers verify by sorting the keys of the
parsed body and hashing that; sorted compact bytes are exactly what such a receiver rebuilds, so
verifying the raw bytes and verifying the re-sorted body agree. ``x-apideck-signature`` is the
HMAC-SHA256 of the body under the subscription's secret, as lowercase hex (the 64 hex digits of the
spec's example). docs/webhooks.md shows a receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

UNIFIED_API = "issue-tracking"
CREATED = "issue-tracking.ticket.created"
UPDATED = "issue-tracking.ticket.updated"
DELETED = "issue-tracking.ticket.deleted"
EVENT_TYPES: tuple[str, ...] = (CREATED, UPDATED, DELETED)
ALL = "*"
SUBSCRIBABLE: frozenset[str] = frozenset({ALL, *EVENT_TYPES})

EVENT_TYPE_HEADER = "x-apideck-event-type"
IDEMPOTENCY_HEADER = "x-apideck-idempotency-key"
SIGNATURE_HEADER = "x-apideck-signature"


@dataclass(frozen=True)
class TicketEvent:
    """One change of one ticket of one connection, before it is addressed to subscriptions."""

    event_type: str
    service_id: str
    consumer_id: str
    app_id: str
    collection_id: str
    entity_id: str
    occurred_at: str   # ISO 8601, UTC

    def payload(self, event_id: str, public_url: str) -> dict[str, Any]:
        """The ``payload`` object (``execution_attempt`` is added per attempt)."""
        base = public_url.rstrip("/")
        return {
            "event_type": self.event_type, "unified_api": UNIFIED_API, "service_id": self.service_id,
            "consumer_id": self.consumer_id, "event_id": event_id, "entity_id": self.entity_id,
            "entity_type": "ticket",
            "entity_url": f"{base}/issue-tracking/collections/{self.collection_id}/tickets/{self.entity_id}",
            "occurred_at": self.occurred_at,
        }


def subscribed(events: list[str], event_type: str) -> bool:
    return ALL in events or event_type in events


def new_id() -> str:
    return str(uuid.uuid4())


def body(payload: dict[str, Any], attempt: int) -> bytes:
    """The bytes delivered: ``{"payload": ...}`` with ``execution_attempt``, keys sorted, compact."""
    return orjson.dumps({"payload": {**payload, "execution_attempt": attempt}}, option=orjson.OPT_SORT_KEYS)


def sign(data: bytes, secret: str) -> str:
    """``x-apideck-signature``: HMAC-SHA256 of ``data`` under ``secret``, lowercase hex."""
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def verify(data: bytes, signature: str, secret: str) -> bool:
    """Whether ``signature`` is ``data``'s (constant-time)."""
    return hmac.compare_digest(sign(data, secret), signature.strip().lower())


def headers(event_type: str, idempotency_key: str, data: bytes, secret: str) -> dict[str, str]:
    return {"content-type": "application/json", EVENT_TYPE_HEADER: event_type, IDEMPOTENCY_HEADER: idempotency_key,
            SIGNATURE_HEADER: sign(data, secret), "user-agent": "unigate-webhooks"}


def iso_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
