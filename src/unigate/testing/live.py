"""Live tests: a connector's tests against its real tracker server, replayed when none runs.

One test body, three modes, chosen per test module from the connector's :class:`LiveProfile`:

- **live**: the server its environment describes is running (``make test`` starts it with
  ``connectors/<name>/tracker/start.sh``); the gateway calls it for real, over the production
  transport, and nothing is recorded;
- **record**: the server is running and ``UNIGATE_RECORD_CASSETTES=1``: as live, and every
  downstream exchange is written to ``cassettes/live/<test>.yaml`` beside the test module
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

from unigate.downstream.pool import TransportWrapper
from unigate.downstream.redact import REDACTED
from unigate.plugins.hookspec import LiveProfile
from unigate.plugins.registry import ConnectorRegistry
from unigate.testing.cassettes import Cassette, CassetteTap, cassettes_beside, recording, secret_headers
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
    cassettes: Path

    @classmethod
    def start(cls, tmp: Path, service_id: str, cassettes: Path, *,
              observe: TransportWrapper | None = None, settings: dict[str, Any] | None = None) -> LiveTracker:
        """Connect a gateway to the server, or to its recordings in ``cassettes`` (``live/<test>.yaml``
        and ``live-env.json``, the server's environment when they were made). ``observe`` wraps the
        downstream transport outside the cassette (it sees what the gateway sends, in every mode);
        ``settings`` are the gateway's (``Settings`` fields)."""
        registry = ConnectorRegistry.load()
        profile = registry.definitions[service_id].live
        if profile is None:
            raise ValueError(f"{service_id} has no LiveProfile")
        env, mode = _environment(service_id, profile, cassettes / "live-env.json")
        tap = None if mode == "live" else CassetteTap()
        harness = GatewayHarness(tmp, registry=registry, wrap_transport=chain(observe, tap), settings=settings or {})
        tracker = cls(service_id, profile, env, mode, harness, tap, cassettes)
        tracker.connect(CONSUMER_ID)
        note_tracker(service_id, mode, env.get(profile.env_prefix + "_BASE_URL", "?"))
        return tracker

    @property
    def secrets(self) -> list[str]:
        return [self.env[name] for name in self.profile.secret_vars if self.env.get(name)]

    def connect(self, consumer_id: str, *, settings: dict[str, Any] | None = None,
                credentials: dict[str, Any] | None = None, **connection: Any) -> None:
        """Connect ``consumer_id`` (created if new) to the server; ``settings`` and ``credentials``
        override the profile's."""
        base_settings, base_credentials = self.profile.connection(self.env)
        self.harness.connect_consumer(self.service_id, consumer_id, {**base_settings, **(settings or {})},
                                      {**base_credentials, **(credentials or {})}, **connection)

    def client(self, consumer_id: str = CONSUMER_ID) -> httpx.Client:
        return self.harness.client(consumer_id=consumer_id)

    def forget_lookups(self) -> None:
        """Empty the gateway's per-connection state, reference lists (``Connector.lookup``) included."""
        self.harness.gateway.dispatcher.states.clear()

    def recorded(self, name: str) -> Any:
        """The cassette context for one test (nothing in live mode)."""
        if self.tap is None:
            return nullcontext()
        spec = self.harness.gateway.registry.connectors[self.service_id].spec
        return self.tap.use(Cassette.open(self.cassettes / "live" / f"{name}.yaml", secrets=self.secrets,
                                          headers=secret_headers(spec)))

    def stop(self) -> None:
        self.harness.stop()


def chain(outer: TransportWrapper | None, inner: TransportWrapper | None) -> TransportWrapper | None:
    """One transport wrapper: ``outer`` around ``inner`` around the network (either may be None)."""
    if outer is None or inner is None:
        return outer or inner
    return lambda network: outer(inner(network))


def _environment(service_id: str, profile: LiveProfile, env_path: Path) -> tuple[dict[str, str], str]:
    env = profile.environment()
    forced_replay = os.environ.get("UNIGATE_LIVE_TRACKERS") == "off"
    if not forced_replay and profile.running(env):
        if recording():
            recorded = {k: (REDACTED if k in profile.secret_vars else v) for k, v in sorted(env.items())}
            env_path.parent.mkdir(parents=True, exist_ok=True)
            env_path.write_text(json.dumps(recorded, indent=2) + "\n")
            return env, "record"
        return env, "live"
    env_file = Path(os.environ.get("UNIGATE_TRACKERS_DIR", ".trackers")) / f"{profile.name}.env"
    if env_file.is_file() and not forced_replay:
        pytest.fail(f"{env_file} says a {service_id} server runs at {env.get(profile.env_prefix + '_BASE_URL')}, "
                    f"but it does not answer; start it again or run connectors/{profile.name}/tracker/stop.sh")
    if recording():
        pytest.fail(f"UNIGATE_RECORD_CASSETTES=1 needs a running {service_id} server "
                    f"(connectors/{profile.name}/tracker/start.sh)")
    if not env_path.is_file():
        pytest.fail(f"no {service_id} server is running and no recording exists ({env_path})")
    return json.loads(env_path.read_text()), "replay"


def live_fixtures(service_id: str, consumers: dict[str, dict[str, Any]] | None = None,
                  settings: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """Fixtures ``live`` (module scope: a :class:`LiveTracker`) and ``client`` (per test, inside its cassette).

    ``consumers`` adds consumers with their own connection options, as in ``connector_fixtures``;
    ``settings`` are the gateway's.
    """

    @pytest.fixture(scope="module", name="live")
    def live_fixture(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[LiveTracker]:
        tracker = LiveTracker.start(tmp_path_factory.mktemp(service_id), service_id, cassettes_beside(request.path),
                                    settings=settings)
        yield from with_consumers(tracker, consumers)

    @pytest.fixture(name="client")
    def client_fixture(live: LiveTracker, request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
        live.forget_lookups()  # each test's cassette holds the reference-list calls it needs
        with live.recorded(request.node.name), live.client() as client:
            yield client

    return live_fixture, client_fixture
