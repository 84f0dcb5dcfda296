"""The webhook store's guarantees, on SQLite and PostgreSQL: one leader, leased claims (never one row to two
claimers, whatever the concurrency), secrets sealed and re-sealed with the vault key."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from unigate.db import open_database, schema, write
from unigate.vault.crypto import SecretBox, generate_secret_key
from unigate.vault.store import ConnectionStore
from unigate.webhooks.store import PollState, WebhookStore

Vault = tuple[Path | str, str]


@pytest.fixture
def vault(database: Path | str) -> Iterator[Vault]:
    """A new database (each backend) holding the app ``app``; (``UNIGATE_DATABASE``, secret key)."""
    engine = open_database(database)
    with write(engine) as conn:
        conn.execute(insert(schema.apps).values(id="app", name="App", api_key_hash="-"))
    engine.dispose()
    yield database, generate_secret_key()


@pytest.fixture
def stores(vault: Vault) -> Iterator[Callable[[], WebhookStore]]:
    """Makes webhook stores on the vault, each with an engine of its own (as separate processes have)."""
    made: list[WebhookStore] = []

    def make() -> WebhookStore:
        made.append(WebhookStore(vault[0], SecretBox(vault[1])))
        return made[-1]

    yield make
    for store in made:
        store.close()


def _subscribed(store: WebhookStore) -> str:
    subscription, _ = store.create_subscription("app", unified_api="issue-tracking", status="enabled",
                                                delivery_url="http://127.0.0.1:9/x", events=["*"])
    return subscription.id


def _event(sub_id: str, n: int) -> tuple[str, str, str, dict[str, Any]]:
    return sub_id, f"key-{n}", "issue-tracking.ticket.created", {"entity_id": str(n)}


def _together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """``work(0..count-1)``, each in a thread of its own, released at the same moment; their results."""
    start, results = threading.Barrier(count), [None] * count

    def run(n: int) -> None:
        start.wait()
        results[n] = work(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_one_leader_at_a_time_until_its_lease_runs_out(stores: Callable[[], WebhookStore]) -> None:
    first, second = stores(), stores()
    assert first.acquire("leader", "a", ttl=0.3) is True
    assert second.acquire("leader", "b", ttl=0.3) is False
    assert first.acquire("leader", "a", ttl=0.3) is True       # renewed by its holder
    time.sleep(0.35)
    assert second.acquire("leader", "b", ttl=0.3) is True       # taken over once it ran out


def test_of_owners_racing_for_a_free_lease_exactly_one_takes_it(stores: Callable[[], WebhookStore]) -> None:
    racers = [stores() for _ in range(6)]
    taken = _together(len(racers), lambda n: racers[n].acquire("leader", f"owner-{n}", ttl=60))
    assert taken.count(True) == 1
    assert all(not racer.acquire("leader", f"owner-{n}", ttl=60) for n, racer in enumerate(racers) if not taken[n])


def test_a_released_lease_is_taken_at_once(stores: Callable[[], WebhookStore]) -> None:
    store = stores()
    store.acquire("leader", "a", ttl=60)
    store.release_lease("leader", "a")
    assert store.acquire("leader", "b", ttl=60) is True


def test_a_claimed_row_is_not_claimed_again_before_its_lease_ends(stores: Callable[[], WebhookStore]) -> None:
    store = stores()
    sub_id = _subscribed(store)
    store.enqueue([_event(sub_id, 1)])
    now = time.time()
    assert [r.idempotency_key for r in store.claim(sub_id, "a", now, 30, 10)] == ["key-1"]
    assert store.claim(sub_id, "b", now + 1, 30, 10) == []
    assert [r.idempotency_key for r in store.claim(sub_id, "b", now + 31, 30, 10)] == ["key-1"]


def test_claimers_racing_on_one_outbox_never_get_the_same_row(stores: Callable[[], WebhookStore]) -> None:
    first = stores()
    sub_id = _subscribed(first)
    first.enqueue([_event(sub_id, n) for n in range(60)])
    claimers = [first, *(stores() for _ in range(3))]

    def drain(n: int) -> list[int]:
        got: list[int] = []
        while rows := claimers[n].claim(sub_id, f"worker-{n}", time.time(), 60, 4):
            got += [r.seq for r in rows]
        return got

    claimed = [seq for got in _together(len(claimers), drain) for seq in got]
    assert len(claimed) == len(set(claimed)) == 60


def test_claimed_rows_come_oldest_first(stores: Callable[[], WebhookStore]) -> None:
    store = stores()
    sub_id = _subscribed(store)
    store.enqueue([_event(sub_id, n) for n in range(5)])
    rows = store.claim(sub_id, "a", time.time(), 30, 3)
    assert [r.idempotency_key for r in rows] == ["key-0", "key-1", "key-2"]
    assert rows[0].payload == {"entity_id": "0"} and rows[0].attempts == 0


def test_only_the_lease_holder_records_a_delivery(stores: Callable[[], WebhookStore]) -> None:
    store = stores()
    sub_id = _subscribed(store)
    store.enqueue([_event(sub_id, 1)])
    [row] = store.claim(sub_id, "a", time.time(), 30, 10)
    store.delivered(row.seq, "someone else", 200)
    assert store.outbox()[0]["delivered_at"] is None


def test_a_failed_attempt_is_retried_later_and_the_last_one_is_a_dead_letter(stores: Callable[[], WebhookStore]) -> None:
    store = stores()
    sub_id = _subscribed(store)
    store.enqueue([_event(sub_id, 1)])
    now = time.time()
    [row] = store.claim(sub_id, "a", now, 30, 10)
    store.failed(row.seq, "a", 503, "unavailable", now + 60)
    assert store.claim(sub_id, "a", now + 1, 30, 10) == []              # backed off
    [again] = store.claim(sub_id, "a", now + 61, 30, 10)
    assert again.attempts == 1
    store.failed(again.seq, "a", None, "refused", None)
    [dead] = store.outbox(dead=True)
    assert (dead["attempts"], dead["last_status"], dead["last_error"]) == (2, None, "refused")
    assert store.replay(subscription_id=sub_id) == 1 and store.outbox(dead=True) == []
    assert [r.attempts for r in store.claim(sub_id, "a", time.time(), 30, 10)] == [0]


def test_the_same_idempotency_key_is_queued_once(stores: Callable[[], WebhookStore]) -> None:
    store = stores()
    sub_id = _subscribed(store)
    store.enqueue([_event(sub_id, 1)])
    store.enqueue([_event(sub_id, 1), _event(sub_id, 2)])
    assert sorted(r["idempotency_key"] for r in store.outbox()) == ["key-1", "key-2"]


def test_secrets_are_stored_sealed(vault: Vault, stores: Callable[[], WebhookStore]) -> None:
    store = stores()
    subscription, secret = store.create_subscription("app", unified_api="issue-tracking", status="enabled",
                                                     delivery_url="http://127.0.0.1:9/x", events=["*"])
    with store.engine.connect() as conn:
        raw = bytes(conn.execute(select(schema.webhook_subscriptions.c.secret)).scalar_one())
    assert secret.encode() not in raw and store.secret(subscription.id) == secret


def test_rotating_the_vault_key_reseals_subscription_secrets(vault: Vault) -> None:
    database, key = vault
    hooks = WebhookStore(database, SecretBox(key))
    subscription, secret = hooks.create_subscription(
        "app", unified_api="issue-tracking", status="enabled", delivery_url="http://127.0.0.1:9/x", events=["*"])
    hooks.close()
    new_key = generate_secret_key()
    vault_store = ConnectionStore(database, SecretBox(key))
    vault_store.rotate_key(SecretBox(new_key))
    vault_store.close()
    rotated = WebhookStore(database, SecretBox(new_key))
    assert rotated.secret(subscription.id) == secret
    rotated.close()


def test_a_poll_is_recorded_whole_and_read_back(stores: Callable[[], WebhookStore]) -> None:
    store = stores()
    sub_id = _subscribed(store)
    with write(store.engine) as conn:  # the watermarks belong to a connection of the vault
        conn.execute(insert(schema.consumers).values(app_id="app", id="c"))
        conn.execute(insert(schema.connections).values(id="conn", app_id="app", consumer_id="c", service_id="s",
                                                       credentials=b"-"))
    assert store.poll_state("conn", "c1").known is False and store.last_polled("conn") is None
    store.record_poll("conn", "c1", PollState("2026-01-01T00:00:00Z", 1), {"1": "f1", "2": "f2"}, [],
                      [_event(sub_id, 1)])
    store.record_poll("conn", "c1", PollState("2026-01-02T00:00:00Z", 2), {"2": "f2'", "3": "f3"}, ["1"], [])
    state = store.poll_state("conn", "c1")
    assert (state.known, state.watermark, state.cycles) == (True, "2026-01-02T00:00:00Z", 2)
    assert state.fingerprints == {"2": "f2'", "3": "f3"}
    assert store.polled_collections("conn") == ["c1"] and store.last_polled("conn") is not None
    assert [r["idempotency_key"] for r in store.outbox()] == ["key-1"]


def test_pruning_forgets_old_deliveries_and_keeps_pending_and_dead_rows(stores: Callable[[], WebhookStore]) -> None:
    store = stores()
    sub_id = _subscribed(store)
    store.enqueue([_event(sub_id, n) for n in range(3)])
    delivered, dead, _pending = store.claim(sub_id, "a", time.time(), 30, 10)
    store.delivered(delivered.seq, "a", 200)
    store.failed(dead.seq, "a", 500, "gone", None)
    assert store.prune(time.time() + 1) == 1
    assert sorted(r["idempotency_key"] for r in store.outbox()) == ["key-1", "key-2"]
