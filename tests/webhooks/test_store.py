"""The webhook store's guarantees: one leader, leased claims, secrets sealed and re-sealed with the vault key."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from unigate.vault.crypto import SecretBox, generate_secret_key
from unigate.vault.store import ConnectionStore
from unigate.webhooks.store import WebhookStore


@pytest.fixture
def vault(tmp_path: Path) -> tuple[Path, str]:
    key = generate_secret_key()
    store = ConnectionStore(tmp_path / "vault.db", SecretBox(key))
    store.create_app("App", app_id="app")
    store.close()
    return tmp_path / "vault.db", key


def _subscribed(store: WebhookStore) -> str:
    subscription, _ = store.create_subscription("app", unified_api="issue-tracking", status="enabled",
                                                delivery_url="http://127.0.0.1:9/x", events=["*"])
    return subscription.id


def test_one_leader_at_a_time_until_its_lease_runs_out(vault: tuple[Path, str]) -> None:
    path, key = vault
    first, second = WebhookStore(path, SecretBox(key)), WebhookStore(path, SecretBox(key))
    assert first.acquire("leader", "a", ttl=0.3) is True
    assert second.acquire("leader", "b", ttl=0.3) is False
    assert first.acquire("leader", "a", ttl=0.3) is True       # renewed by its holder
    time.sleep(0.35)
    assert second.acquire("leader", "b", ttl=0.3) is True       # taken over once it ran out


def test_a_released_lease_is_taken_at_once(vault: tuple[Path, str]) -> None:
    store = WebhookStore(vault[0], SecretBox(vault[1]))
    store.acquire("leader", "a", ttl=60)
    store.release_lease("leader", "a")
    assert store.acquire("leader", "b", ttl=60) is True


def test_a_claimed_row_is_not_claimed_again_before_its_lease_ends(vault: tuple[Path, str]) -> None:
    store = WebhookStore(vault[0], SecretBox(vault[1]))
    sub_id = _subscribed(store)
    store.enqueue([(sub_id, "key-1", "issue-tracking.ticket.created", {"entity_id": "1"})])
    now = time.time()
    assert [r.idempotency_key for r in store.claim(sub_id, "a", now, 30, 10)] == ["key-1"]
    assert store.claim(sub_id, "b", now + 1, 30, 10) == []
    assert [r.idempotency_key for r in store.claim(sub_id, "b", now + 31, 30, 10)] == ["key-1"]


def test_only_the_lease_holder_records_a_delivery(vault: tuple[Path, str]) -> None:
    store = WebhookStore(vault[0], SecretBox(vault[1]))
    sub_id = _subscribed(store)
    store.enqueue([(sub_id, "key-1", "issue-tracking.ticket.created", {"entity_id": "1"})])
    [row] = store.claim(sub_id, "a", time.time(), 30, 10)
    store.delivered(row.seq, "someone else", 200)
    assert store.outbox()[0]["delivered_at"] is None


def test_the_same_idempotency_key_is_queued_once(vault: tuple[Path, str]) -> None:
    store = WebhookStore(vault[0], SecretBox(vault[1]))
    sub_id = _subscribed(store)
    row = (sub_id, "key-1", "issue-tracking.ticket.created", {"entity_id": "1"})
    store.enqueue([row])
    store.enqueue([row])
    assert len(store.outbox()) == 1


def test_secrets_are_stored_sealed(vault: tuple[Path, str]) -> None:
    import sqlite3

    store = WebhookStore(vault[0], SecretBox(vault[1]))
    subscription, secret = store.create_subscription("app", unified_api="issue-tracking", status="enabled",
                                                     delivery_url="http://127.0.0.1:9/x", events=["*"])
    raw = sqlite3.connect(vault[0]).execute("SELECT secret FROM webhook_subscriptions").fetchone()[0]
    assert secret.encode() not in raw and store.secret(subscription.id) == secret


def test_rotating_the_vault_key_reseals_subscription_secrets(vault: tuple[Path, str]) -> None:
    path, key = vault
    subscription, secret = WebhookStore(path, SecretBox(key)).create_subscription(
        "app", unified_api="issue-tracking", status="enabled", delivery_url="http://127.0.0.1:9/x", events=["*"])
    new_key = generate_secret_key()
    ConnectionStore(path, SecretBox(key)).rotate_key(SecretBox(new_key))
    assert WebhookStore(path, SecretBox(new_key)).secret(subscription.id) == secret


def test_pruning_forgets_old_deliveries_and_keeps_pending_and_dead_rows(vault: tuple[Path, str]) -> None:
    store = WebhookStore(vault[0], SecretBox(vault[1]))
    sub_id = _subscribed(store)
    store.enqueue([(sub_id, f"key-{n}", "issue-tracking.ticket.created", {"entity_id": str(n)}) for n in range(3)])
    delivered, dead, _pending = store.claim(sub_id, "a", time.time(), 30, 10)
    store.delivered(delivered.seq, "a", 200)
    store.failed(dead.seq, "a", 500, "gone", None)
    assert store.prune(time.time() + 1) == 1
    assert sorted(r["idempotency_key"] for r in store.outbox()) == ["key-1", "key-2"]
