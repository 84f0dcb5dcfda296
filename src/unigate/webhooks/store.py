"""``WebhookStore``: subscriptions, poller state, the outbox and leases, in the vault database.

Its own SQLite connection (as the request log has), so the poller and the dispatcher never wait on
the vault's lock. Tables: migration 6 of :mod:`unigate.vault.migrations`. Every method is one
short transaction; the poller's result for a collection (new watermark, fingerprints, outbox rows)
is committed in one (``record_poll``), so a crash leaves either all of it or none of it.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from unigate.vault.audit import current_actor
from unigate.vault.crypto import SecretBox
from unigate.vault.migrations import migrate


class WebhookNotFound(LookupError):
    """No such subscription for this app."""


@dataclass
class Subscription:
    id: str
    app_id: str
    unified_api: str
    status: str
    delivery_url: str
    events: list[str]
    description: str | None = None
    disabled_reason: str | None = None
    created_at: str = ""
    updated_at: str = ""

    @property
    def enabled(self) -> bool:
        return self.status == "enabled"


@dataclass
class OutboxRow:
    seq: int
    subscription_id: str
    idempotency_key: str
    event_type: str
    payload: dict[str, Any]
    created_at: float
    attempts: int


@dataclass
class PollState:
    """What the poller knows of one collection of one connection."""

    watermark: str | None
    cycles: int
    fingerprints: dict[str, str] = field(default_factory=dict)
    known: bool = False   # False: never polled (the first poll is the baseline: no events)


_SUB_COLUMNS = ("id, app_id, unified_api, status, delivery_url, events, description, disabled_reason,"
                " created_at, updated_at")


def _subscription(row: tuple[Any, ...]) -> Subscription:
    return Subscription(row[0], row[1], row[2], row[3], row[4], orjson.loads(row[5]), row[6], row[7], row[8], row[9])


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


class WebhookStore:
    def __init__(self, path: str | Path, box: SecretBox) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10.0)
        self._db.execute("PRAGMA busy_timeout = 10000")
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        migrate(self._db)
        self._box = box
        self._lock = threading.RLock()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _audit(self, db: sqlite3.Connection, action: str, sub_id: str, app_id: str, changes: dict[str, Any]) -> None:
        """Record a subscription change in the vault's audit trail (never the secret), in the caller's transaction."""
        actor = current_actor()
        db.execute("INSERT INTO vault_audit (ts, actor, key_id, app_id, consumer_id, service_id, target, action, changes)"
                   " VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?, ?, ?, NULL, NULL, ?, ?, ?)",
                   (actor.label, actor.key_id, app_id, sub_id, action, orjson.dumps(changes).decode()))

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- subscriptions ------------------------------------------------------------------------
    def create_subscription(self, app_id: str, *, unified_api: str, status: str, delivery_url: str,
                            events: list[str], description: str | None = None) -> tuple[Subscription, str]:
        """A new subscription and its signing secret (returned once; stored sealed)."""
        sub_id, secret, now = secrets.token_hex(12), "whsec_" + secrets.token_urlsafe(32), _now_iso()
        with self._tx() as db:
            db.execute(f"INSERT INTO webhook_subscriptions ({_SUB_COLUMNS}, secret) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       (sub_id, app_id, unified_api, status, delivery_url, orjson.dumps(events).decode(),
                        description, None, now, now, self._box.seal({"secret": secret})))
            self._audit(db, "webhook.created", sub_id, app_id, {"status": {"to": status}, "delivery_url": {
                "to": delivery_url}, "events": {"to": events}})
        return self.subscription(app_id, sub_id), secret

    def subscription(self, app_id: str, sub_id: str) -> Subscription:
        rows = self._read(f"SELECT {_SUB_COLUMNS} FROM webhook_subscriptions WHERE app_id = ? AND id = ?",
                          (app_id, sub_id))
        if not rows:
            raise WebhookNotFound(sub_id)
        return _subscription(rows[0])

    def subscriptions(self, app_id: str | None = None, *, after: str | None = None,
                      limit: int = 1000) -> list[Subscription]:
        sql, params = f"SELECT {_SUB_COLUMNS} FROM webhook_subscriptions WHERE 1 = 1", []  # type: ignore[var-annotated]
        if app_id is not None:
            sql, params = sql + " AND app_id = ?", [*params, app_id]
        if after is not None:
            sql, params = sql + " AND id > ?", [*params, after]
        return [_subscription(r) for r in self._read(sql + " ORDER BY id LIMIT ?", (*params, limit))]

    def update_subscription(self, app_id: str, sub_id: str, changes: dict[str, Any]) -> Subscription:
        """Apply ``changes`` (description, status, delivery_url, events); enabling clears disabled_reason."""
        old = self.subscription(app_id, sub_id)
        columns = {k: (orjson.dumps(v).decode() if k == "events" else v) for k, v in changes.items()}
        if changes.get("status") == "enabled":
            columns["disabled_reason"] = None
        assignments = ", ".join(f"{k} = ?" for k in columns)
        with self._tx() as db:
            db.execute(f"UPDATE webhook_subscriptions SET {assignments}, updated_at = ? WHERE app_id = ? AND id = ?",
                       (*columns.values(), _now_iso(), app_id, sub_id))
            self._audit(db, "webhook.updated", sub_id, app_id, {k: {"from": getattr(old, k), "to": v}
                                                                for k, v in changes.items() if getattr(old, k) != v})
        return self.subscription(app_id, sub_id)

    def delete_subscription(self, app_id: str, sub_id: str) -> Subscription:
        found = self.subscription(app_id, sub_id)
        with self._tx() as db:
            db.execute("DELETE FROM webhook_subscriptions WHERE app_id = ? AND id = ?", (app_id, sub_id))
            self._audit(db, "webhook.deleted", sub_id, app_id, {})
        return found

    def secret(self, sub_id: str) -> str:
        rows = self._read("SELECT secret FROM webhook_subscriptions WHERE id = ?", (sub_id,))
        if not rows:
            raise WebhookNotFound(sub_id)
        return str(self._box.open(rows[0][0])["secret"])

    def rotate_secret(self, sub_id: str) -> str:
        """A new signing secret for the subscription (returned once); the old one stops signing."""
        secret = "whsec_" + secrets.token_urlsafe(32)
        with self._tx() as db:
            row = db.execute("UPDATE webhook_subscriptions SET secret = ? WHERE id = ? RETURNING app_id",
                             (self._box.seal({"secret": secret}), sub_id)).fetchone()
            if row is None:
                raise WebhookNotFound(sub_id)
            self._audit(db, "webhook.secret_rotated", sub_id, row[0], {})
        return secret

    def has_work(self) -> bool:
        """Whether any subscription is enabled or any row waits in the outbox (else the runner idles, no writes)."""
        return bool(self._read(
            "SELECT EXISTS (SELECT 1 FROM webhook_subscriptions WHERE status = 'enabled') OR EXISTS (SELECT 1 FROM"
            " webhook_outbox WHERE delivered_at IS NULL AND dead_at IS NULL)")[0][0])

    def enabled_apps(self) -> list[str]:
        """Apps with at least one enabled subscription: their connections are polled."""
        return [r[0] for r in self._read("SELECT DISTINCT app_id FROM webhook_subscriptions WHERE status = 'enabled'"
                                         " ORDER BY app_id")]

    # -- poller state ---------------------------------------------------------------------------
    def poll_state(self, connection_id: str, collection_id: str) -> PollState:
        rows = self._read("SELECT watermark, cycles FROM webhook_watermarks WHERE connection_id = ? AND"
                          " collection_id = ?", (connection_id, collection_id))
        if not rows:
            return PollState(None, 0)
        prints = self._read("SELECT entity_id, fingerprint FROM webhook_fingerprints WHERE connection_id = ? AND"
                            " collection_id = ?", (connection_id, collection_id))
        return PollState(rows[0][0], rows[0][1], {str(k): str(v) for k, v in prints}, known=True)

    def polled_collections(self, connection_id: str) -> list[str]:
        """The collections of a connection the poller has a watermark for."""
        return [r[0] for r in self._read("SELECT collection_id FROM webhook_watermarks WHERE connection_id = ? ORDER BY"
                                         " collection_id", (connection_id,))]

    def last_polled(self, connection_id: str) -> float | None:
        """When the connection's least recently polled collection was polled (None: never)."""
        rows = self._read("SELECT MIN(polled_at) FROM webhook_watermarks WHERE connection_id = ?", (connection_id,))
        return rows[0][0] if rows else None

    def record_poll(self, connection_id: str, collection_id: str, state: PollState, changed: dict[str, str],
                    removed: list[str], outbox: list[tuple[str, str, str, dict[str, Any]]]) -> None:
        """One poll's outcome in one transaction: the new watermark and cycle count, changed and removed
        fingerprints, and the outbox rows ``(subscription_id, idempotency_key, event_type, payload)``."""
        now = time.time()
        with self._tx() as db:
            db.execute("INSERT INTO webhook_watermarks (connection_id, collection_id, watermark, cycles, polled_at)"
                       " VALUES (?, ?, ?, ?, ?) ON CONFLICT (connection_id, collection_id) DO UPDATE SET"
                       " watermark = excluded.watermark, cycles = excluded.cycles, polled_at = excluded.polled_at",
                       (connection_id, collection_id, state.watermark, state.cycles, now))
            db.executemany("INSERT OR REPLACE INTO webhook_fingerprints VALUES (?, ?, ?, ?)",
                           [(connection_id, collection_id, k, v) for k, v in changed.items()])
            db.executemany("DELETE FROM webhook_fingerprints WHERE connection_id = ? AND collection_id = ? AND"
                           " entity_id = ?", [(connection_id, collection_id, k) for k in removed])
            db.executemany("INSERT INTO webhook_outbox (subscription_id, idempotency_key, event_type, payload,"
                           " created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
                           [(s, key, t, orjson.dumps(p).decode(), now, now) for s, key, t, p in outbox])

    # -- the outbox ------------------------------------------------------------------------------
    def enqueue(self, rows: list[tuple[str, str, str, dict[str, Any]]]) -> None:
        """Outbox rows for events that did not come from the poller (native webhooks)."""
        now = time.time()
        with self._tx() as db:
            db.executemany("INSERT OR IGNORE INTO webhook_outbox (subscription_id, idempotency_key, event_type,"
                           " payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
                           [(s, key, t, orjson.dumps(p).decode(), now, now) for s, key, t, p in rows])

    def due_subscriptions(self, now: float) -> list[str]:
        """Enabled subscriptions with rows to attempt now (a disabled one's rows wait for it)."""
        return [r[0] for r in self._read(
            "SELECT DISTINCT o.subscription_id FROM webhook_outbox o JOIN webhook_subscriptions s ON s.id ="
            " o.subscription_id WHERE s.status = 'enabled' AND o.delivered_at IS NULL AND o.dead_at IS NULL"
            " AND o.next_attempt_at <= ? AND (o.lease_until IS NULL OR o.lease_until < ?)", (now, now))]

    def subscription_by_id(self, sub_id: str) -> Subscription:
        rows = self._read(f"SELECT {_SUB_COLUMNS} FROM webhook_subscriptions WHERE id = ?", (sub_id,))
        if not rows:
            raise WebhookNotFound(sub_id)
        return _subscription(rows[0])

    def claim(self, subscription_id: str, owner: str, now: float, lease: float, limit: int) -> list[OutboxRow]:
        """Up to ``limit`` due rows of one subscription, oldest first, leased to ``owner`` until now + lease."""
        with self._tx() as db:
            rows = db.execute(
                "UPDATE webhook_outbox SET lease_owner = ?, lease_until = ? WHERE seq IN (SELECT seq FROM"
                " webhook_outbox WHERE subscription_id = ? AND delivered_at IS NULL AND dead_at IS NULL AND"
                " next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) ORDER BY seq LIMIT ?)"
                " RETURNING seq, subscription_id, idempotency_key, event_type, payload, created_at, attempts",
                (owner, now + lease, subscription_id, now, now, limit)).fetchall()
        return sorted((OutboxRow(r[0], r[1], r[2], r[3], orjson.loads(r[4]), r[5], r[6]) for r in rows),
                      key=lambda r: r.seq)

    def delivered(self, seq: int, owner: str, status: int) -> None:
        with self._tx() as db:
            db.execute("UPDATE webhook_outbox SET delivered_at = ?, attempts = attempts + 1, last_status = ?,"
                       " last_error = NULL, lease_owner = NULL, lease_until = NULL WHERE seq = ? AND lease_owner = ?",
                       (time.time(), status, seq, owner))

    def failed(self, seq: int, owner: str, status: int | None, error: str, next_attempt_at: float | None) -> None:
        """A failed attempt: retried at ``next_attempt_at``, or a dead letter when it is None."""
        dead = time.time() if next_attempt_at is None else None
        with self._tx() as db:
            db.execute("UPDATE webhook_outbox SET attempts = attempts + 1, last_status = ?, last_error = ?,"
                       " next_attempt_at = COALESCE(?, next_attempt_at), dead_at = ?, lease_owner = NULL,"
                       " lease_until = NULL WHERE seq = ? AND lease_owner = ?",
                       (status, error[:500], next_attempt_at, dead, seq, owner))

    def release(self, seqs: list[int], owner: str) -> None:
        """Give back claimed rows not attempted (their subscription's receiver just failed)."""
        with self._tx() as db:
            db.executemany("UPDATE webhook_outbox SET lease_owner = NULL, lease_until = NULL WHERE seq = ? AND"
                           " lease_owner = ?", [(s, owner) for s in seqs])

    def prune(self, before: float) -> int:
        """Delete delivered rows delivered before ``before`` (pending rows and dead letters stay); how many."""
        with self._tx() as db:
            return int(db.execute("DELETE FROM webhook_outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?",
                                  (before,)).rowcount)

    def outbox(self, *, subscription_id: str | None = None, dead: bool | None = None,
               limit: int = 100) -> list[dict[str, Any]]:
        """Outbox rows, newest first (``dead``: only dead letters, or only live rows)."""
        sql, params = "SELECT seq, subscription_id, idempotency_key, event_type, payload, created_at, attempts," \
                      " next_attempt_at, delivered_at, dead_at, last_status, last_error FROM webhook_outbox WHERE 1=1", []
        if subscription_id is not None:
            sql, params = sql + " AND subscription_id = ?", [subscription_id]
        if dead is not None:
            sql += " AND dead_at IS NOT NULL" if dead else " AND dead_at IS NULL"
        names = ("seq", "subscription_id", "idempotency_key", "event_type", "payload", "created_at", "attempts",
                 "next_attempt_at", "delivered_at", "dead_at", "last_status", "last_error")
        rows = self._read(sql + " ORDER BY seq DESC LIMIT ?", (*params, limit))
        return [{**dict(zip(names, r, strict=True)), "payload": orjson.loads(r[4])} for r in rows]

    def replay(self, *, seqs: list[int] | None = None, subscription_id: str | None = None) -> int:
        """Requeue dead letters (those named, or a subscription's, or all): attempted again at once, with a
        new 24 h window; their idempotency keys stay. Returns how many."""
        now = time.time()
        sql = "UPDATE webhook_outbox SET dead_at = NULL, attempts = 0, next_attempt_at = ?, created_at = ? WHERE" \
              " dead_at IS NOT NULL"
        params: list[Any] = [now, now]
        if seqs is not None:
            sql += f" AND seq IN ({', '.join('?' * len(seqs))})"
            params += seqs
        if subscription_id is not None:
            sql, params = sql + " AND subscription_id = ?", [*params, subscription_id]
        with self._tx() as db:
            return int(db.execute(sql, params).rowcount)

    # -- leases ------------------------------------------------------------------------------------
    def acquire(self, name: str, owner: str, ttl: float) -> bool:
        """Take or renew the lease ``name`` for ``ttl`` seconds; False while another owner holds it."""
        now = time.time()
        with self._tx() as db:
            db.execute("INSERT INTO webhook_leases (name, owner, until) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE"
                       " SET owner = excluded.owner, until = excluded.until WHERE webhook_leases.owner ="
                       " excluded.owner OR webhook_leases.until < ?", (name, owner, now + ttl, now))
            row = db.execute("SELECT owner FROM webhook_leases WHERE name = ?", (name,)).fetchone()
        return bool(row and row[0] == owner)

    def release_lease(self, name: str, owner: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM webhook_leases WHERE name = ? AND owner = ?", (name, owner))
