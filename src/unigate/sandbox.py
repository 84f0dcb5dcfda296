"""``unigate sandbox``: the gateway with simulated trackers and demo data, ready for curl.

Starts every installed connector's simulator (``SandboxProfile``) on loopback, connects to the
real trackers that are running (``LiveProfile``: ``scripts/trackers/*/start.sh``), creates a fresh
vault in ``data_dir`` (key generated into ``data_dir/secret.key`` if absent, and said so), a demo
app, a demo consumer connected to every simulated tracker, prints one curl command per tracker
and serves the gateway in the foreground.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

import click

from unigate.app import Gateway, build_gateway, create_app
from unigate.plugins.registry import ConnectorRegistry
from unigate.server import serve
from unigate.settings import Settings
from unigate.simulation import BackgroundServer
from unigate.vault.crypto import ensure_key_file

APP_ID = "sandbox-app"
CONSUMER_ID = "demo-consumer"


@dataclass
class Sandbox:
    """A prepared sandbox: the gateway, its demo credentials, the simulators it started, what to print."""

    gateway: Gateway
    api_key: str
    servers: list[BackgroundServer] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def prepare_sandbox(*, port: int, data_dir: Path, host: str = "127.0.0.1") -> Sandbox:
    """Fresh vault, demo app and consumer, simulators started, running real trackers connected."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key, created = ensure_key_file(data_dir / "secret.key")
    if created:
        click.echo(f"Generated a sandbox secret key at {data_dir / 'secret.key'} (never use it in production).")
    database = data_dir / "vault.db"
    for stale in (database, database.with_suffix(".db-wal"), database.with_suffix(".db-shm")):
        stale.unlink(missing_ok=True)
    registry = ConnectorRegistry.load()
    gateway = build_gateway(Settings(database=database, host=host, port=port), key, registry=registry)
    _, api_key = gateway.store.create_app("Sandbox app", app_id=APP_ID)
    gateway.store.create_consumer(APP_ID, CONSUMER_ID)
    sandbox = Sandbox(gateway, api_key)
    base = f"http://{host}:{port}"
    for service_id, definition in sorted(registry.definitions.items()):
        name = registry.connectors[service_id].spec.name
        if definition.sandbox is not None:
            profile = definition.sandbox()
            server = BackgroundServer(profile.create_app()).start()
            sandbox.servers.append(server)
            settings, credentials = profile.connection(server.url)
            where, curl_path = f"simulated at {server.url}", profile.curl_path
        elif definition.live is not None:
            live = definition.live
            env = live.environment()
            if not live.running(env):
                sandbox.lines.append(f"# {name}: no server running (start one: scripts/trackers/{live.name}/start.sh)\n")
                continue
            settings, credentials = live.connection(env)
            where, curl_path = f"real server at {env[live.env_prefix + '_BASE_URL']}", live.curl_path.format_map(env)
        else:
            continue
        gateway.store.create_connection(APP_ID, CONSUMER_ID, service_id, settings=settings, credentials=credentials)
        headers = [f"Authorization: Bearer {api_key}", f"x-apideck-app-id: {APP_ID}",
                   f"x-apideck-consumer-id: {CONSUMER_ID}", f"x-apideck-service-id: {service_id}"]
        curl = " ".join(["curl -s", shlex.quote(base + curl_path), *(f"-H {shlex.quote(h)}" for h in headers)])
        sandbox.lines.append(f"# {name} ({where})\n{curl}\n")
    for failure in registry.failures:
        click.echo(f"warning: connector {failure.source} not loaded: {failure.error}", err=True)
    return sandbox


def run_sandbox(*, port: int, data_dir: Path, host: str = "127.0.0.1") -> None:
    sandbox = prepare_sandbox(port=port, data_dir=data_dir, host=host)
    base = f"http://{host}:{port}"
    click.echo(f"\nunigate sandbox on {base}\napp id: {APP_ID}  api key: {sandbox.api_key}  consumer: {CONSUMER_ID}\n")
    click.echo("\n".join(sandbox.lines))
    click.echo(f"Health: curl -s {base}/health\nPress Ctrl+C to stop.\n")
    try:
        serve(create_app(sandbox.gateway), host=host, port=port, log_level="warning")
    finally:
        sandbox.stop()
