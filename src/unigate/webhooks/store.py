"""``WebhookStore``: subscriptions, poller state, the outbox and leases, in the gateway's database
(SQLite or PostgreSQL, :mod:`unigate.db`; tables ``unigate.db.schema.webhook_*``).

Every method is one short transaction on a pooled connection of the store's engine, so the poller and the
dispatcher never wait on the vault; the poller's result for a collection (new watermark, fingerprints,
outbox rows) is committed in one (``record_poll``), so a crash leaves either all of it or none of it.

Several processes share one outbox and one leader lease safely: ``claim`` is one ``UPDATE ... WHERE seq IN
(SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`` (PostgreSQL: concurrent claimers skip each other's rows;
SQLite: the writer's lock makes it one at a time), and ``acquire`` one ``INSERT ... ON CONFLICT DO UPDATE
... WHERE`` the lease is the caller's or has run out ``RETURNING`` the owner: it took the lease iff a row
comes back.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, delete, exists, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.dml import Delete, Update

from unigate.db import DatabaseURL, open_database, schema, upsert, write
from unigate.vault.audit import current_actor
from unigate.vault.crypto import SecretBox


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


_SUBS = schema.webhook_subscriptions
_OUTBOX = schema.webhook_outbox
_MARKS = schema.webhook_watermarks
_PRINTS = schema.webhook_fingerprints
_LEASES = schema.webhook_leases
_SUB_COLUMNS = tuple(_SUBS.c[name] for name in ("id", "app_id", "unified_api", "status", "delivery_url", "events",
                                                  "description", "disabled_reason", "created_at", "updated_at"))
_OUTBOX_NAMES = ("seq", "subscription_id", "idempotency_key", "event_type", "payload", "created_at", "attempts",
                 "next_attempt_at", "delivered_at", "dead_at", "last_status", "last_error")
# rows of the outbox not yet delivered nor given up on
_PENDING = (_OUTBOX.c.delivered_at.is_(None), _OUTBOX.c.dead_at.is_(None))


def _subscription(row: Sequence[Any]) -> Subscription:
    return Subscription(row[0], row[1], row[2], row[3], row[4], orjson.loads(row[5]), row[6], row[7], row[8], row[9])


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _outbox_values(rows: list[tuple[str, str, str, dict[str, Any]]], now: float) -> list[dict[str, Any]]:
    return [{"subscription_id": s, "idempotency_key": key, "event_type": t, "payload": orjson.dumps(p).decode(),
             "created_at": now, "next_attempt_at": now} for s, key, t, p in rows]


def _due(now: float) -> tuple[ColumnElement[bool], ...]:
    """Pending outbox rows whose attempt is due and that no one holds a live lease on."""
    return (*_PENDING, _OUTBOX.c.next_attempt_at <= now,
            or_(_OUTBOX.c.lease_until.is_(None), _OUTBOX.c.lease_until < now))


class WebhookStore:
    def __init__(self, database: Engine | DatabaseURL | str | Path, box: SecretBox) -> None:
        """On ``database``: an engine the caller owns (the gateway's), or ``UNIGATE_DATABASE``'s value
        (an engine of the store's own, migrated, disposed by :meth:`close`)."""
        self._owned = not isinstance(database, Engine)
        self.engine = open_database(database) if not isinstance(database, Engine) else database
        self._box = box

    def close(self) -> None:
        if self._owned:
            self.engine.dispose()

    def _audit(self, conn: Connection, action: str, sub_id: str, app_id: str, changes: dict[str, Any]) -> None:
        """Record a subscription change in the vault's audit trail (never the secret), in the caller's transaction."""
        actor = current_actor()
        conn.execute(insert(schema.vault_audit).values(
            ts=schema.utc_now_ms(), actor=actor.label, key_id=actor.key_id, app_id=app_id, target=sub_id,
            action=action, changes=orjson.dumps(changes).decode()))

    def _read(self, statement: Select[Any]) -> list[Sequence[Any]]:
        with self.engine.connect() as conn:
            return list(conn.execute(statement).all())

    def _write(self, statement: Update | Delete) -> int:
        """One UPDATE (or DELETE) in a transaction of its own; how many rows it changed."""
        with write(self.engine) as conn:
            return int(conn.execute(statement).rowcount)

    # -- subscriptions ------------------------------------------------------------------------
    def create_subscription(self, app_id: str, *, unified_api: str, status: str, delivery_url: str,
                            events: list[str], description: str | None = None) -> tuple[Subscription, str]:
        """A new subscription and its signing secret (returned once; stored sealed)."""
        sub_id, secret, now = secrets.token_hex(12), "whsec_" + secrets.token_urlsafe(32), _now_iso()
        with write(self.engine) as conn:
            conn.execute(insert(_SUBS).values(
                id=sub_id, app_id=app_id, unified_api=unified_api, status=status, delivery_url=delivery_url,
                events=orjson.dumps(events).decode(), description=description, disabled_reason=None,
                created_at=now, updated_at=now, secret=self._box.seal({"secret": secret})))
            self._audit(conn, "webhook.created", sub_id, app_id, {"status": {"to": status}, "delivery_url": {
                "to": delivery_url}, "events": {"to": events}})
        return self.subscription(app_id, sub_id), secret

    def subscription(self, app_id: str, sub_id: str) -> Subscription:
        rows = self._read(select(*_SUB_COLUMNS).where(_SUBS.c.app_id == app_id, _SUBS.c.id == sub_id))
        if not rows:
            raise WebhookNotFound(sub_id)
        return _subscription(rows[0])

    def subscriptions(self, app_id: str | None = None, *, after: str | None = None,
                      limit: int = 1000) -> list[Subscription]:
        query = select(*_SUB_COLUMNS)
        if app_id is not None:
            query = query.where(_SUBS.c.app_id == app_id)
        if after is not None:
            query = query.where(_SUBS.c.id > after)
        return [_subscription(r) for r in self._read(query.order_by(_SUBS.c.id).limit(limit))]

    def update_subscription(self, app_id: str, sub_id: str, changes: dict[str, Any]) -> Subscription:
        """Apply ``changes`` (description, status, delivery_url, events); enabling clears disabled_reason."""
        old = self.subscription(app_id, sub_id)
        columns = {k: (orjson.dumps(v).decode() if k == "events" else v) for k, v in changes.items()}
        if changes.get("status") == "enabled":
            columns["disabled_reason"] = None
        with write(self.engine) as conn:
            conn.execute(update(_SUBS).where(_SUBS.c.app_id == app_id, _SUBS.c.id == sub_id)
                         .values(**columns, updated_at=_now_iso()))
            self._audit(conn, "webhook.updated", sub_id, app_id, {k: {"from": getattr(old, k), "to": v}
                                                                  for k, v in changes.items() if getattr(old, k) != v})
        return self.subscription(app_id, sub_id)

    def delete_subscription(self, app_id: str, sub_id: str) -> Subscription:
        found = self.subscription(app_id, sub_id)
        with write(self.engine) as conn:
            conn.execute(delete(_SUBS).where(_SUBS.c.app_id == app_id, _SUBS.c.id == sub_id))
            self._audit(conn, "webhook.deleted", sub_id, app_id, {})
        return found

    def secret(self, sub_id: str) -> str:
        rows = self._read(select(_SUBS.c.secret).where(_SUBS.c.id == sub_id))
        if not rows:
            raise WebhookNotFound(sub_id)
        return str(self._box.open(bytes(rows[0][0]))["secret"])

    def rotate_secret(self, sub_id: str) -> str:
        """A new signing secret for the subscription (returned once); the old one stops signing."""
        secret = "whsec_" + secrets.token_urlsafe(32)
        with write(self.engine) as conn:
            row = conn.execute(update(_SUBS).where(_SUBS.c.id == sub_id).values(secret=self._box.seal(
                {"secret": secret})).returning(_SUBS.c.app_id)).first()
            if row is None:
                raise WebhookNotFound(sub_id)
            self._audit(conn, "webhook.secret_rotated", sub_id, row[0], {})
        return secret

    def has_work(self) -> bool:
        """Whether any subscription is enabled or any row waits in the outbox (else the runner idles, no writes)."""
        return bool(self._read(select(or_(exists().where(_SUBS.c.status == "enabled"),
                                          exists().where(*_PENDING))))[0][0])

    def enabled_apps(self) -> list[str]:
        """Apps with at least one enabled subscription: their connections are polled."""
        return [r[0] for r in self._read(select(_SUBS.c.app_id).distinct().where(_SUBS.c.status == "enabled")
                                         .order_by(_SUBS.c.app_id))]

    # -- poller state ---------------------------------------------------------------------------
    def poll_state(self, connection_id: str, collection_id: str) -> PollState:
        key = (_MARKS.c.connection_id == connection_id, _MARKS.c.collection_id == collection_id)
        rows = self._read(select(_MARKS.c.watermark, _MARKS.c.cycles).where(*key))
        if not rows:
            return PollState(None, 0)
        prints = self._read(select(_PRINTS.c.entity_id, _PRINTS.c.fingerprint).where(
            _PRINTS.c.connection_id == connection_id, _PRINTS.c.collection_id == collection_id))
        return PollState(rows[0][0], rows[0][1], {str(k): str(v) for k, v in prints}, known=True)

    def polled_collections(self, connection_id: str) -> list[str]:
        """The collections of a connection the poller has a watermark for."""
        return [r[0] for r in self._read(select(_MARKS.c.collection_id).where(_MARKS.c.connection_id == connection_id)
                                         .order_by(_MARKS.c.collection_id))]

    def last_polled(self, connection_id: str) -> float | None:
        """When the connection's least recently polled collection was polled (None: never)."""
        rows = self._read(select(func.min(_MARKS.c.polled_at)).where(_MARKS.c.connection_id == connection_id))
        return rows[0][0] if rows else None

    def record_poll(self, connection_id: str, collection_id: str, state: PollState, changed: dict[str, str],
                    removed: list[str], outbox: list[tuple[str, str, str, dict[str, Any]]]) -> None:
        """One poll's outcome in one transaction: the new watermark and cycle count, changed and removed
        fingerprints, and the outbox rows ``(subscription_id, idempotency_key, event_type, payload)``."""
        now, key = time.time(), {"connection_id": connection_id, "collection_id": collection_id}
        with write(self.engine) as conn:
            mark = upsert(conn, _MARKS).values(**key, watermark=state.watermark, cycles=state.cycles, polled_at=now)
            conn.execute(mark.on_conflict_do_update(index_elements=list(key), set_={
                name: mark.excluded[name] for name in ("watermark", "cycles", "polled_at")}))
            if changed:
                prints = upsert(conn, _PRINTS)
                conn.execute(prints.on_conflict_do_update(index_elements=[*key, "entity_id"], set_={
                    "fingerprint": prints.excluded.fingerprint}),
                    [{**key, "entity_id": k, "fingerprint": v} for k, v in changed.items()])
            if removed:
                conn.execute(delete(_PRINTS).where(_PRINTS.c.connection_id == connection_id,
                                                   _PRINTS.c.collection_id == collection_id,
                                                   _PRINTS.c.entity_id.in_(removed)))
            if outbox:
                conn.execute(insert(_OUTBOX), _outbox_values(outbox, now))

    # -- the outbox ------------------------------------------------------------------------------
    def enqueue(self, rows: list[tuple[str, str, str, dict[str, Any]]]) -> None:
        """Outbox rows for events that did not come from the poller (native webhooks); an idempotency key
        already queued is skipped."""
        if not rows:
            return
        with write(self.engine) as conn:
            conn.execute(upsert(conn, _OUTBOX).on_conflict_do_nothing(), _outbox_values(rows, time.time()))

    def due_subscriptions(self, now: float) -> list[str]:
        """Enabled subscriptions with rows to attempt now (a disabled one's rows wait for it)."""
        return [r[0] for r in self._read(
            select(_OUTBOX.c.subscription_id).distinct().join(_SUBS, _SUBS.c.id == _OUTBOX.c.subscription_id)
            .where(_SUBS.c.status == "enabled", *_due(now)))]

    def subscription_by_id(self, sub_id: str) -> Subscription:
        rows = self._read(select(*_SUB_COLUMNS).where(_SUBS.c.id == sub_id))
        if not rows:
            raise WebhookNotFound(sub_id)
        return _subscription(rows[0])

    def claim(self, subscription_id: str, owner: str, now: float, lease: float, limit: int) -> list[OutboxRow]:
        """Up to ``limit`` due rows of one subscription, oldest first, leased to ``owner`` until now + lease.
        Rows another process is claiming at the same moment are skipped (PostgreSQL ``SKIP LOCKED``)."""
        due = (select(_OUTBOX.c.seq).where(_OUTBOX.c.subscription_id == subscription_id, *_due(now))
               .order_by(_OUTBOX.c.seq).limit(limit).with_for_update(skip_locked=True))
        claimed = (update(_OUTBOX).where(_OUTBOX.c.seq.in_(due)).values(lease_owner=owner, lease_until=now + lease)
                   .returning(*(_OUTBOX.c[n] for n in _OUTBOX_NAMES[:7])))
        with write(self.engine) as conn:
            rows = conn.execute(claimed).all()
        return sorted((OutboxRow(r[0], r[1], r[2], r[3], orjson.loads(r[4]), r[5], r[6]) for r in rows),
                      key=lambda r: r.seq)

    def _leased(self, seq: int, owner: str) -> Update:
        """An UPDATE of outbox row ``seq`` that changes it only while ``owner`` holds its lease."""
        return update(_OUTBOX).where(_OUTBOX.c.seq == seq, _OUTBOX.c.lease_owner == owner)

    def delivered(self, seq: int, owner: str, status: int) -> None:
        self._write(self._leased(seq, owner).values(
            delivered_at=time.time(), attempts=_OUTBOX.c.attempts + 1, last_status=status, last_error=None,
            lease_owner=None, lease_until=None))

    def failed(self, seq: int, owner: str, status: int | None, error: str, next_attempt_at: float | None) -> None:
        """A failed attempt: retried at ``next_attempt_at``, or a dead letter when it is None."""
        retry: dict[str, Any] = {"dead_at": time.time()} if next_attempt_at is None else {
            "dead_at": None, "next_attempt_at": next_attempt_at}
        self._write(self._leased(seq, owner).values(
            attempts=_OUTBOX.c.attempts + 1, last_status=status, last_error=error[:500], lease_owner=None,
            lease_until=None, **retry))

    def release(self, seqs: list[int], owner: str) -> None:
        """Give back claimed rows not attempted (their subscription's receiver just failed)."""
        if seqs:
            self._write(update(_OUTBOX).where(_OUTBOX.c.seq.in_(seqs), _OUTBOX.c.lease_owner == owner)
                        .values(lease_owner=None, lease_until=None))

    def prune(self, before: float) -> int:
        """Delete delivered rows delivered before ``before`` (pending rows and dead letters stay); how many."""
        return self._write(delete(_OUTBOX).where(_OUTBOX.c.delivered_at.is_not(None),
                                                 _OUTBOX.c.delivered_at < before))

    def outbox(self, *, subscription_id: str | None = None, dead: bool | None = None,
               limit: int = 100) -> list[dict[str, Any]]:
        """Outbox rows, newest first (``dead``: only dead letters, or only live rows)."""
        query = select(*(_OUTBOX.c[n] for n in _OUTBOX_NAMES))
        if subscription_id is not None:
            query = query.where(_OUTBOX.c.subscription_id == subscription_id)
        if dead is not None:
            query = query.where(_OUTBOX.c.dead_at.is_not(None) if dead else _OUTBOX.c.dead_at.is_(None))
        rows = self._read(query.order_by(_OUTBOX.c.seq.desc()).limit(limit))
        return [{**dict(zip(_OUTBOX_NAMES, r, strict=True)), "payload": orjson.loads(r[4])} for r in rows]

    def replay(self, *, seqs: list[int] | None = None, subscription_id: str | None = None) -> int:
        """Requeue dead letters (those named, or a subscription's, or all): attempted again at once, with a
        new 24 h window; their idempotency keys stay. Returns how many."""
        now = time.time()
        statement = update(_OUTBOX).where(_OUTBOX.c.dead_at.is_not(None)).values(
            dead_at=None, attempts=0, next_attempt_at=now, created_at=now)
        if seqs is not None:
            statement = statement.where(_OUTBOX.c.seq.in_(seqs))
        if subscription_id is not None:
            statement = statement.where(_OUTBOX.c.subscription_id == subscription_id)
        return self._write(statement)

    # -- leases ------------------------------------------------------------------------------------
    def acquire(self, name: str, owner: str, ttl: float) -> bool:
        """Take or renew the lease ``name`` for ``ttl`` seconds; False while another owner holds it.
        One statement: the row comes back only if it was inserted, or updated because it was the
        caller's or had run out, so two processes never both take it."""
        now = time.time()
        with write(self.engine) as conn:
            take = upsert(conn, _LEASES).values(name=name, owner=owner, until=now + ttl)
            row = conn.execute(take.on_conflict_do_update(
                index_elements=["name"], set_={"owner": take.excluded.owner, "until": take.excluded.until},
                where=or_(_LEASES.c.owner == take.excluded.owner, _LEASES.c.until < now),
            ).returning(_LEASES.c.owner)).first()
        return row is not None and row[0] == owner

    def release_lease(self, name: str, owner: str) -> None:
        self._write(delete(_LEASES).where(_LEASES.c.name == name, _LEASES.c.owner == owner))
