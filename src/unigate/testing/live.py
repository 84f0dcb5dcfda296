"""Live tests: a connector's tests against its real tracker server, replayed when none runs.

One test body, three modes, chosen per test module from the connector's :class:`LiveProfile`:

- **live**: the server its environment describes is running (``make test`` starts it with
  ``scripts/trackers/<name>/start.sh``); the gateway calls it for real, over the production
  transport, and nothing is recorded;
- **record**: the server is running and ``UNIGATE_RECORD_CASSETTES=1``: as live, and every
  downstream exchange is written to ``fixtures/cassettes/<service>/live/<test>.yaml``
  (credentials scrubbed), with the server's non-secret variables in ``live-env.json``;
- **replay**: no server (or ``UNIGATE_LIVE_TRACKERS=off``): the cassettes answer in the tracker's
  place and the gateway runs for real, so a developer without root (or offline) runs the same
  tests. A call the cassette lacks, or a recorded call the gateway no longer makes, fails the test
  (``unigate.testing.cassettes``).

If the trackers dir holds ``<name>.env`` (the start script ran) but the server does not answer,
the tests fail instead of replaying: a server that should be up and is not is a failure, not a
reason to fall back quietly. ``connectors/redmine/tests`` shows the pattern::

    live, client = live_fixtures("redmine")

    def test_tickets_list(live, client): ...
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from unigate.downstream.redact import REDACTED
from unigate.plugins.hookspec import LiveProfile
from unigate.plugins.registry import ConnectorRegistry
from unigate.testing.cassettes import CASSETTES, Cassette, CassetteTap, recording
from unigate.testing.connector import with_consumers
from unigate.testing.harness import CONSUMER_ID, GatewayHarness
from unigate.testing.report import note_tracker


@dataclass
class LiveTracker:
    """A gateway connected to a real tracker server (or to its recordings)."""

    service_id: str
    profile: LiveProfile
    env: dict[str, str]
    mode: str  # "live" | "record" | "replay"
    harness: GatewayHarness
    tap: CassetteTap | None

    @classmethod
    def start(cls, tmp: Path, service_id: str) -> LiveTracker:
        registry = ConnectorRegistry.load()
        profile = registry.definitions[service_id].live
        if profile is None:
            raise ValueError(f"{service_id} has no LiveProfile")
        env, mode = _environment(service_id, profile)
        tap = None if mode == "live" else CassetteTap()
        harness = GatewayHarness(tmp, registry=registry, wrap_transport=tap)
        tracker = cls(service_id, profile, env, mode, harness, tap)
        tracker.connect(CONSUMER_ID)
        note_tracker(service_id, mode, env.get(profile.env_prefix + "_BASE_URL", "?"))
        return tracker

    @property
    def secrets(self) -> list[str]:
        return [self.env[name] for name in self.profile.secret_vars if self.env.get(name)]

    def connect(self, consumer_id: str, *, settings: dict[str, Any] | None = None, **connection: Any) -> None:
        """Connect ``consumer_id`` (created if new) to the server; ``settings`` override the profile's."""
        base_settings, credentials = self.profile.connection(self.env)
        self.harness.connect_consumer(self.service_id, consumer_id, {**base_settings, **(settings or {})}, credentials,
                                      **connection)

    def client(self, consumer_id: str = CONSUMER_ID) -> httpx.Client:
        return self.harness.client(consumer_id=consumer_id)

    def forget_lookups(self) -> None:
        """Empty the connector's per-connection reference-list cache (``Connector.lookup``)."""
        self.harness.gateway.registry.connectors[self.service_id].lookups.clear()

    def recorded(self, name: str) -> Any:
        """The cassette context for one test (nothing in live mode)."""
        if self.tap is None:
            return nullcontext()
        return self.tap.use(Cassette.open(CASSETTES / self.service_id / "live" / f"{name}.yaml", secrets=self.secrets))

    def stop(self) -> None:
        self.harness.stop()


def _env_path(service_id: str) -> Path:
    return CASSETTES / service_id / "live-env.json"


def _environment(service_id: str, profile: LiveProfile) -> tuple[dict[str, str], str]:
    env = profile.environment()
    forced_replay = os.environ.get("UNIGATE_LIVE_TRACKERS") == "off"
    if not forced_replay and profile.running(env):
        if recording():
            recorded = {k: (REDACTED if k in profile.secret_vars else v) for k, v in sorted(env.items())}
            _env_path(service_id).parent.mkdir(parents=True, exist_ok=True)
            _env_path(service_id).write_text(json.dumps(recorded, indent=2) + "\n")
            return env, "record"
        return env, "live"
    env_file = Path(os.environ.get("UNIGATE_TRACKERS_DIR", ".trackers")) / f"{profile.name}.env"
    if env_file.is_file() and not forced_replay:
        pytest.fail(f"{env_file} says a {service_id} server runs at {env.get(profile.env_prefix + '_BASE_URL')}, "
                    f"but it does not answer; start it again or run scripts/trackers/{profile.name}/stop.sh")
    if recording():
        pytest.fail(f"UNIGATE_RECORD_CASSETTES=1 needs a running {service_id} server "
                    f"(scripts/trackers/{profile.name}/start.sh)")
    if not _env_path(service_id).is_file():
        pytest.fail(f"no {service_id} server is running and no recording exists ({_env_path(service_id)})")
    return json.loads(_env_path(service_id).read_text()), "replay"


def live_fixtures(service_id: str, consumers: dict[str, dict[str, Any]] | None = None) -> tuple[Any, ...]:
    """Fixtures ``live`` (module scope: a :class:`LiveTracker`) and ``client`` (per test, inside its cassette).

    ``consumers`` adds consumers with their own connection options, as in ``connector_fixtures``.
    """

    @pytest.fixture(scope="module", name="live")
    def live_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveTracker]:
        yield from with_consumers(LiveTracker.start(tmp_path_factory.mktemp(service_id), service_id), consumers)

    @pytest.fixture(name="client")
    def client_fixture(live: LiveTracker, request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
        live.forget_lookups()  # each test's cassette holds the reference-list calls it needs
        with live.recorded(request.node.name), live.client() as client:
            yield client

    return live_fixture, client_fixture
