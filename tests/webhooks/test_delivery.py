"""Delivery you can trust: retries while the receiver is down, dead letters and replay, isolation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from unigate.webhooks import events as ev
from unigate.webhooks.delivery import backoff

from .conftest import Receiver, Setup, start_setup, wait_for


def _create(setup: Setup, subject: str) -> str:
    with setup.tickets() as client:
        answer = client.post(setup.tickets_path, json={"subject": subject})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["data"]["id"])


def test_events_wait_while_the_receiver_is_down_and_all_arrive_after(setup: Setup, receiver: Receiver) -> None:
    setup.subscribe(receiver, "hook")
    setup.baseline()
    receiver.down = True
    created = [_create(setup, f"During outage {n}") for n in range(3)]
    wait_for(lambda: len(receiver.received) >= 4)   # the first was refused and retried
    receiver.down = False
    delivered = wait_for(lambda: d if len(d := receiver.delivered("hook")) == 3 else None)
    assert sorted(d["body"]["payload"]["entity_id"] for d in delivered) == sorted(created)


def test_retries_keep_the_idempotency_key_and_count_the_attempt(setup: Setup, receiver: Receiver) -> None:
    setup.subscribe(receiver, "hook")
    setup.baseline()
    receiver.down = True
    _create(setup, "Retried")
    wait_for(lambda: len(receiver.received) >= 2)
    receiver.down = False
    wait_for(lambda: receiver.delivered("hook"))
    attempts = receiver.received
    assert len({a["headers"][ev.IDEMPOTENCY_HEADER] for a in attempts}) == 1
    assert [a["body"]["payload"]["execution_attempt"] for a in attempts] == list(range(1, len(attempts) + 1))


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    delays = [backoff(n, 10.0, 3600.0) for n in range(1, 12)]
    assert 5.0 <= delays[0] <= 10.0 and 10.0 <= delays[1] <= 20.0 and 20.0 <= delays[2] <= 40.0
    assert all(1800.0 <= d <= 3600.0 for d in delays[9:])


def test_a_failing_event_becomes_a_dead_letter_and_replay_delivers_it(tmp_path: Path, receiver: Receiver,
                                                                     database: Path | str) -> None:
    setup = start_setup(tmp_path, database=database, webhook_retry_window=0.5)
    try:
        setup.subscribe(receiver, "hook")
        setup.baseline()
        receiver.down = True
        _create(setup, "Doomed")
        store = setup.harness.gateway.webhook_store
        [dead] = wait_for(lambda: store.outbox(dead=True))
        receiver.down = False
        _cli(setup, "webhooks", "replay", str(dead["seq"]))
        [delivered] = wait_for(lambda: receiver.delivered("hook"))
        assert delivered["headers"][ev.IDEMPOTENCY_HEADER] == dead["idempotency_key"]
    finally:
        setup.harness.stop()
        setup.simulator.stop()


def test_delivery_attempts_are_in_the_request_log(setup: Setup, receiver: Receiver) -> None:
    setup.subscribe(receiver, "hook")
    setup.baseline()
    receiver.down = True
    _create(setup, "Logged")
    wait_for(lambda: len(receiver.received) >= 2)
    receiver.down = False
    store = setup.harness.gateway.webhook_store
    wait_for(lambda: any(row["delivered_at"] for row in store.outbox()))
    setup.harness.gateway.request_log.flush()
    with setup.harness.client() as client:
        logs = client.get("/vault/logs", params={"limit": 50}).json()["data"]
    attempts = [entry for entry in logs if entry["unified_api"] == "webhook"]
    assert {entry["status_code"] for entry in attempts} == {503, 200}
    assert all(entry["path"] == receiver.url("hook") for entry in attempts)


def test_each_logged_attempt_has_its_status_and_time_and_hides_the_url_token_and_secret(setup: Setup,
                                                                                        receiver: Receiver) -> None:
    with setup.harness.client() as client:
        created = client.post("/webhook/webhooks", json={
            "unified_api": "issue-tracking", "status": "enabled", "events": ["*"],
            "delivery_url": receiver.url("hook") + "?token=receiver-token-1234&team=a"}).json()
    setup.baseline()
    receiver.down = True
    _create(setup, "Logged once refused, once taken")
    wait_for(lambda: len(receiver.received) >= 2)
    receiver.down = False
    wait_for(lambda: any(row["delivered_at"] for row in setup.harness.gateway.webhook_store.outbox()))
    setup.harness.gateway.request_log.flush()
    with setup.harness.client() as client:
        answer = client.get("/vault/logs", params={"limit": 50, "raw": "true"}).json()
    attempts = [e for e in answer["data"] if e["unified_api"] == "webhook"]
    statuses = [e["status_code"] for e in reversed(attempts)]
    assert len(attempts) == len(receiver.received)                 # every attempt, none left out
    assert (statuses[0], statuses[-1], set(statuses[1:-1]) <= {503}) == (503, 200, True)
    assert all(e["duration"] > 0 and e["execution"] >= e["duration"] - 1 for e in attempts)
    assert attempts[0]["path"] == receiver.url("hook") + "?token=[REDACTED]&team=[REDACTED]"
    assert "receiver-token-1234" not in str(answer) and created["secret"] not in str(answer)


def test_a_slow_receiver_does_not_delay_another_subscription(tmp_path: Path, receiver: Receiver,
                                                            database: Path | str) -> None:
    from unigate.simulation import BackgroundServer

    setup = start_setup(tmp_path, database=database, webhook_delivery_timeout=10.0)
    other = Receiver()
    other.server = BackgroundServer(other.app()).start()
    try:
        setup.subscribe(receiver, "slow")
        setup.subscribe(other, "fast")
        setup.baseline()
        receiver.delay = 6.0       # under the delivery timeout: each slow delivery succeeds, slowly
        for n in range(3):
            _create(setup, f"Busy {n}")
        fast = wait_for(lambda: d if len(d := other.delivered("fast")) == 3 else None)
        slow = wait_for(lambda: receiver.delivered("slow"))
        assert fast[-1]["at"] < slow[0]["at"] + receiver.delay   # all three before the slow one's first answer
        assert len(slow) == 1                                    # its others wait behind it, in order
    finally:
        other.server.stop()
        setup.harness.stop()
        setup.simulator.stop()


def _cli(setup: Setup, *args: str) -> str:
    env = {**os.environ, "UNIGATE_DATABASE": str(setup.harness.gateway.settings.database),
           "UNIGATE_SECRET_KEY": setup.harness.secret_key}
    done = subprocess.run([sys.executable, "-m", "unigate.cli", *args], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout
