"""``ConnectorUnderTest``: one connector, its simulator and a gateway connected to it.

Built from the connector's own ``SandboxProfile`` (simulator factory, settings, credentials), so a
connector's tests say only what is particular to them::

    tracker, sim, harness, client = connector_fixtures(
        "opine", consumers={"custom": {"custom_mappings": {"key": "$.vendorEntityKey"}}})

gives module-scoped ``tracker``/``sim``/``harness`` fixtures and a per-test ``client`` of the
default consumer whose simulator request log and faults are reset first. Besides the default
consumer, ``TIMEOUT_CONSUMER`` is connected with a 0.5 s downstream timeout, for timeout tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from unigate.downstream.pool import TransportWrapper
from unigate.plugins.hookspec import SandboxProfile
from unigate.plugins.registry import ConnectorRegistry
from unigate.testing.harness import CONSUMER_ID, GatewayHarness, Simulator

TIMEOUT_CONSUMER = "impatient-consumer"


@dataclass
class ConnectorUnderTest:
    service_id: str
    profile: SandboxProfile
    harness: GatewayHarness
    simulator: Simulator | None
    url: str

    @classmethod
    def start(cls, tmp: Path, service_id: str, *, transport: str = "aiohttp", simulate: bool = True,
              url: str | None = None, wrap_transport: TransportWrapper | None = None,
              settings: dict[str, Any] | None = None, registry: ConnectorRegistry | None = None,
              database: Path | str | None = None) -> ConnectorUnderTest:
        """Start the simulator (unless ``simulate`` is false: cassette replay) and a connected gateway.

        Without a simulator the connection points at ``url`` (where a recording was made).
        ``settings`` are gateway ``Settings`` fields (e.g. ``public_url``); ``registry`` defaults to
        every installed connector; ``database`` the gateway's ``UNIGATE_DATABASE`` (default a file in ``tmp``).
        """
        registry = registry or ConnectorRegistry.load()
        definition = registry.definitions[service_id]
        if definition.sandbox is None:
            raise ValueError(f"{service_id} has no SandboxProfile to test against")
        profile = definition.sandbox()
        simulator = Simulator.start(profile.create_app()) if simulate else None
        url = simulator.url if simulator else (url or f"http://{service_id}.recorded.invalid")
        harness = GatewayHarness(tmp, registry=registry, transport=transport, wrap_transport=wrap_transport,
                                 settings=settings or {}, database=database)
        tracker = cls(service_id, profile, harness, simulator, url)
        tracker.connect(CONSUMER_ID)
        tracker.connect(TIMEOUT_CONSUMER, settings={"timeout": 0.5})
        return tracker

    @property
    def credentials(self) -> dict[str, Any]:
        return self.profile.connection(self.url)[1]

    def connect(self, consumer_id: str, *, settings: dict[str, Any] | None = None,
                credentials: dict[str, Any] | None = None, **connection: Any) -> None:
        """Connect ``consumer_id`` (created if new) to the simulator; ``settings`` and ``credentials``
        override the profile's (``credentials={"api_key": "wrong"}``: a connection the tracker refuses)."""
        base_settings, base_credentials = self.profile.connection(self.url)
        self.harness.connect_consumer(self.service_id, consumer_id, {**base_settings, **(settings or {})},
                                      {**base_credentials, **(credentials or {})}, **connection)

    def client(self, consumer_id: str = CONSUMER_ID) -> httpx.Client:
        """A client of ``consumer_id``; the simulator's request log and faults (and the gateway's learned rate limits) are reset first."""
        if self.simulator is not None:
            self.simulator.clear()
        self.harness.forget_rate_limits()
        return self.harness.client(consumer_id=consumer_id)

    def stop(self) -> None:
        self.harness.stop()
        if self.simulator is not None:
            self.simulator.stop()


def with_consumers(tracker: Any, consumers: dict[str, dict[str, Any]] | None) -> Iterator[Any]:
    """A module fixture's body: connect the extra ``consumers``, hand out the tracker, stop it after."""
    for consumer_id, options in (consumers or {}).items():
        tracker.connect(consumer_id, **options)
    yield tracker
    tracker.stop()


def _tracker_fixture(service_id: str, consumers: dict[str, dict[str, Any]] | None, on_both_backends: bool) -> Any:
    if not on_both_backends:
        @pytest.fixture(scope="module", name="tracker")
        def tracker_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectorUnderTest]:
            yield from with_consumers(ConnectorUnderTest.start(tmp_path_factory.mktemp(service_id), service_id),
                                      consumers)
        return tracker_fixture

    @pytest.fixture(scope="module", name="tracker")
    def tracker_on_fixture(tmp_path_factory: pytest.TempPathFactory,
                           module_database: Path | str) -> Iterator[ConnectorUnderTest]:
        yield from with_consumers(ConnectorUnderTest.start(tmp_path_factory.mktemp(service_id), service_id,
                                                           database=module_database), consumers)
    return tracker_on_fixture


def connector_fixtures(service_id: str, consumers: dict[str, dict[str, Any]] | None = None, *,
                       on_both_backends: bool = False) -> tuple[Any, ...]:
    """Fixtures ``tracker``, ``sim``, ``harness`` (module scope) and ``client`` for a connector's tests.

    ``consumers`` adds consumers with their own connection options (``settings`` and ``credentials``
    overrides, ``custom_mappings``): ``{"slow": {"settings": {"timeout": 0.5}}}``. ``on_both_backends``: the
    gateway's database is ``module_database`` (``unigate.testing.databases``), so each test runs on SQLite and
    on PostgreSQL.
    """
    tracker_fixture = _tracker_fixture(service_id, consumers, on_both_backends)

    @pytest.fixture(scope="module", name="sim")
    def sim_fixture(tracker: ConnectorUnderTest) -> Simulator:
        assert tracker.simulator is not None
        return tracker.simulator

    @pytest.fixture(scope="module", name="harness")
    def harness_fixture(tracker: ConnectorUnderTest) -> GatewayHarness:
        return tracker.harness

    @pytest.fixture(name="client")
    def client_fixture(tracker: ConnectorUnderTest) -> Iterator[httpx.Client]:
        with tracker.client() as client:
            yield client
        if tracker.simulator is not None:   # the faults a test planned end with it (a fault lasts until cleared):
            tracker.simulator.app.clear_faults()   # module fixtures set up before the next client ask the tracker

    return tracker_fixture, sim_fixture, harness_fixture, client_fixture
