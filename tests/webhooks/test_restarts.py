"""Restarts lose nothing and repeat nothing: persisted watermarks, fingerprints and a leased outbox; on SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from unigate.plugins.registry import ConnectorRegistry
from unigate.simulation.server import free_port
from unigate.testing.harness import Simulator
from unigate.vault.crypto import SecretBox, generate_secret_key
from unigate.vault.store import ConnectionStore
from unigate.webhooks import events as ev
from unigate.webhooks.runner import WebhookRunner
from unigate.webhooks.store import WebhookStore

from .conftest import Receiver, Setup, fast_env, wait_for


def _create(setup: Setup, subject: str) -> str:
    with setup.tickets() as client:
        answer = client.post(setup.tickets_path, json={"subject": subject})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["data"]["id"])


def _restart(setup: Setup, between: Callable[[], object] = lambda: None) -> None:
    """Stop the runner (its memory goes), run ``between``, and start a new one on the same vault, as a
    new process would (on the gateway's event loop)."""
    gateway = setup.harness.gateway
    old = gateway.webhooks
    assert old is not None
    asyncio.run_coroutine_threadsafe(old.stop(), old._task.get_loop()).result(10)  # type: ignore[union-attr]
    gateway.webhooks = None
    between()

    async def start() -> None:
        gateway.webhooks = WebhookRunner(gateway, gateway.webhook_store).start()  # type: ignore[arg-type]

    asyncio.run_coroutine_threadsafe(start(), old._task.get_loop()).result(10)  # type: ignore[union-attr]


def test_no_duplicate_event_after_a_restart(setup: Setup, receiver: Receiver) -> None:
    setup.subscribe(receiver, "hook")
    setup.baseline()
    _create(setup, "Before the restart")
    wait_for(lambda: receiver.delivered("hook"))
    _restart(setup)
    wait_for(lambda: setup.runner.reports)            # the new runner polled ...
    later = _create(setup, "After the restart")
    delivered = wait_for(lambda: d if len(d := receiver.delivered("hook")) == 2 else None)
    assert delivered[1]["body"]["payload"]["entity_id"] == later
    assert len(receiver.received) == 2                 # ... and found nothing it had already sent


def test_changes_made_while_stopped_are_delivered_after(setup: Setup, receiver: Receiver) -> None:
    setup.subscribe(receiver, "hook")
    setup.baseline()
    missed: list[str] = []
    _restart(setup, between=lambda: missed.append(_create(setup, "While stopped")))
    [delivered] = wait_for(lambda: receiver.delivered("hook"))
    assert [delivered["body"]["payload"]["entity_id"]] == missed


# -- a real process, killed mid-delivery --------------------------------------------------------------
@contextmanager
def _serving(env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen([sys.executable, "-m", "unigate.cli", "serve"], env=env, text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def _vault(database: Path | str, key: str, simulator_url: str, receiver: Receiver) -> tuple[str, str]:
    """A vault with an app, a Codimir connection and a subscription to the receiver; (api key, app id)."""
    profile = ConnectorRegistry.load().definitions["codimir"].sandbox()
    store = ConnectionStore(database, SecretBox(key))
    _, api_key = store.create_app("Killed", app_id="killed-app")
    store.create_consumer("killed-app", "c1")
    settings, credentials = profile.connection(simulator_url)
    store.create_connection("killed-app", "c1", "codimir", settings=settings, credentials=credentials)
    store.close()
    hooks = WebhookStore(database, SecretBox(key))
    _, secret = hooks.create_subscription("killed-app", unified_api="issue-tracking", status="enabled",
                                          delivery_url=receiver.url("hook"), events=["*"])
    hooks.close()
    receiver.secrets["/hook"] = secret
    return api_key, "killed-app"


def test_a_gateway_killed_mid_delivery_loses_nothing_and_sends_no_new_duplicate(database: Path | str,
                                                                                 receiver: Receiver) -> None:
    simulator = Simulator.start(ConnectorRegistry.load().definitions["codimir"].sandbox().create_app())
    key = generate_secret_key()
    api_key, app_id = _vault(database, key, simulator.url, receiver)
    port = free_port("127.0.0.1")
    env = {**os.environ, "UNIGATE_DATABASE": str(database), "UNIGATE_SECRET_KEY": key,
           "UNIGATE_PORT": str(port), **fast_env(),
           "UNIGATE_WEBHOOK_LEASE": "1", "UNIGATE_WEBHOOK_DELIVERY_TIMEOUT": "5"}
    headers = {"authorization": f"Bearer {api_key}", "x-apideck-app-id": app_id, "x-apideck-consumer-id": "c1",
               "x-apideck-service-id": "codimir"}
    hooks = WebhookStore(database, SecretBox(key))
    try:
        with _serving(env) as first:
            wait_for(lambda: hooks.poll_state(_connection_id(database, key), "project_456").known, 30)
            receiver.delay = 30                            # the receiver holds the first delivery ...
            created = [_post(port, headers, f"Ticket {n}") for n in range(2)]
            wait_for(lambda: receiver.received, 30)
            first.send_signal(signal.SIGKILL)             # ... and the gateway dies while it waits
            first.wait()
        receiver.delay = 0
        with _serving(env):
            delivered = wait_for(lambda: d if len(d := receiver.delivered("hook")) >= 2 else None, 30)
            wait_for(lambda: all(row["delivered_at"] for row in hooks.outbox()), 30)   # each recorded after its 2xx
        keys = {item["headers"][ev.IDEMPOTENCY_HEADER] for item in receiver.received}
        assert sorted(d["body"]["payload"]["entity_id"] for d in delivered) == sorted(created)
        assert len(keys) == 2                                # the interrupted one again, under its key
        assert len(hooks.outbox()) == 2
    finally:
        hooks.close()
        simulator.stop()


def _connection_id(database: Path | str, key: str) -> str:
    store = ConnectionStore(database, SecretBox(key))
    try:
        return store.list_connections("killed-app")[0].id
    finally:
        store.close()


def _post(port: int, headers: dict[str, str], subject: str) -> str:
    answer = httpx.post(f"http://127.0.0.1:{port}/issue-tracking/collections/project_456/tickets", headers=headers,
                        json={"subject": subject}, timeout=30)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["data"]["id"])



def test_two_gateways_on_one_vault_poll_through_one_leader_and_the_other_takes_over(setup: Setup,
                                                                                  receiver: Receiver) -> None:
    from unigate.app import build_gateway, create_app
    from unigate.server import GatewayHttpProtocol
    from unigate.simulation import BackgroundServer

    first = setup.harness.gateway
    second = build_gateway(first.settings, setup.harness.secret_key, registry=first.registry)
    server = BackgroundServer(create_app(second), http=GatewayHttpProtocol, proxy_headers=False).start()
    try:
        setup.subscribe(receiver, "hook")
        runners = wait_for(lambda: [g.webhooks for g in (first, second)] if first.webhooks and second.webhooks
                           and (first.webhooks.reports or second.webhooks.reports) else None)
        time.sleep(1.0)                                      # several ticks: still only one has polled
        [leader] = [r for r in runners if r.reports]
        [follower] = [r for r in runners if r is not leader]
        asyncio.run_coroutine_threadsafe(leader.stop(), leader._task.get_loop()).result(10)   # it goes away
        wait_for(lambda: follower.reports, 15)              # the other takes over
        assert follower.leader is True
    finally:
        server.stop()
