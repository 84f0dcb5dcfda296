"""Two real ``unigate serve`` processes on one vault database, and what they talk to.

``cluster`` (module scope, once per backend: a new SQLite file, or a new schema of the test run's own
PostgreSQL database, ``unigate.testing.databases``) starts: a simulated tracker (Codimir) holding tickets, a local OAuth2
authorization server with its tracker (``unigate.simulation.oauth_server``; the test connector
``oauthtracker`` is loaded by both processes from ``tests/oauth/connector`` through
``UNIGATE_CONNECTORS_DIR``), a webhook receiver, and the two gateway processes, ``a`` and ``b``,
sharing one vault: an app, a consumer with a Codimir connection, and the app's OAuth client.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from unigate.plugins.registry import ConnectorRegistry
from unigate.simulation import BackgroundServer
from unigate.simulation.oauth_server import OAuthServer
from unigate.simulation.server import free_port
from unigate.testing.harness import Simulator
from unigate.vault.crypto import SecretBox, generate_secret_key
from unigate.vault.store import ConnectionStore

from ..webhooks.conftest import Receiver

APP, CONSUMER = "replicas-app", "replicas-consumer"
OAUTH_SERVICE, CLIENT_ID, CLIENT_SECRET = "oauthtracker", "replicas-client", "cs-replicas-secret"
APP_REDIRECT = "https://app.example/connected"
OAUTH_CONNECTOR = Path(__file__).parent.parent / "oauth" / "connector"
# the embedded webhook runner, fast (as tests/webhooks' FAST)
FAST = {"UNIGATE_WEBHOOK_POLL_INTERVAL": "0.2", "UNIGATE_WEBHOOK_RETRY_BASE": "0.05", "UNIGATE_WEBHOOK_LEASE": "3",
        "UNIGATE_WEBHOOK_CALLS_PER_MINUTE": "60000", "UNIGATE_WEBHOOK_DELIVERY_TIMEOUT": "2",
        "UNIGATE_WEBHOOK_ALLOW_PRIVATE": "127.0.0.1"}   # the receiver is on loopback: the operator's explicit opt-in


@dataclass
class Replica:
    url: str
    process: subprocess.Popen[bytes]


@dataclass
class Cluster:
    database: str
    api_key: str
    a: Replica
    b: Replica
    tracker: Simulator
    provider: OAuthServer
    provider_url: str
    receiver: Receiver

    def client(self, replica: Replica, consumer_id: str = CONSUMER, **headers: str) -> httpx.Client:
        """The app's backend talking to one replica, for ``consumer_id``."""
        return httpx.Client(base_url=replica.url, timeout=30, headers={
            "authorization": f"Bearer {self.api_key}", "x-apideck-app-id": APP,
            "x-apideck-consumer-id": consumer_id, **headers})


def make_vault(database: Path | str, key: str, tracker_url: str, profile: Any) -> str:
    """The shared vault as an operator makes it; returns the app's API key."""
    store = ConnectionStore(database, SecretBox(key))
    _, api_key = store.create_app("Replicas", app_id=APP)
    store.create_consumer(APP, CONSUMER)
    settings, credentials = profile.connection(tracker_url)
    store.create_connection(APP, CONSUMER, "codimir", settings=settings, credentials=credentials)
    store.set_oauth_client(APP, OAUTH_SERVICE, CLIENT_ID, CLIENT_SECRET, redirect_uris=[APP_REDIRECT])
    store.close()
    return api_key


def serve(database: str, key: str, *args: str) -> Replica:
    """``unigate serve [args]`` in a process of its own, on a free port; returns once ``/ready`` says so."""
    port = free_port("127.0.0.1")
    env = {**os.environ, **FAST, "UNIGATE_DATABASE": database, "UNIGATE_SECRET_KEY": key,
           "UNIGATE_SECRET_KEY_FILE": "", "UNIGATE_PORT": str(port), "UNIGATE_LOG_LEVEL": "warning",
           "UNIGATE_CONNECTORS_DIR": str(OAUTH_CONNECTOR)}
    process = subprocess.Popen([sys.executable, "-m", "unigate.cli", "serve", *args], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    replica = Replica(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"unigate serve exited with {process.returncode}"
        try:
            if httpx.get(f"{replica.url}/ready", timeout=2).status_code == 200:
                return replica
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("unigate serve did not become ready within 60 s")


def stop(replica: Replica) -> None:
    replica.process.terminate()
    try:
        replica.process.wait(15)
    except subprocess.TimeoutExpired:
        replica.process.kill()
        replica.process.wait()


@pytest.fixture(scope="module")
def cluster(module_database: Path | str) -> Iterator[Cluster]:
    profile = ConnectorRegistry.load().definitions["codimir"].sandbox()
    tracker = Simulator.start(profile.create_app())
    provider = OAuthServer()
    receiver = Receiver()
    receiver.server = BackgroundServer(receiver.app()).start()
    key, database = generate_secret_key(), module_database
    api_key = make_vault(database, key, tracker.url, profile)
    with BackgroundServer(provider.app) as provider_http:
        a, b = serve(str(database), key), serve(str(database), key)
        provider.register(CLIENT_ID, CLIENT_SECRET, [f"{a.url}/vault/callback", f"{b.url}/vault/callback"])
        try:
            yield Cluster(str(database), api_key, a, b, tracker, provider, provider_http.url, receiver)
        finally:
            stop(a)
            stop(b)
    receiver.server.stop()
    tracker.stop()


@pytest.fixture
def consumer() -> str:
    """A consumer of this test's own (OAuth tokens are never shared between tests)."""
    return f"account:{uuid.uuid4().hex[:12]}"
