"""``unigate sandbox`` and ``unigate simulate``: simulated trackers and demo data, ready for curl.

``unigate sandbox`` first binds the gateway's port (so every URL it prints answers; a port in use
is a clear error before anything is printed), then starts every installed connector's simulator
(``SandboxProfile``) on loopback, connects to the real trackers that are running (``LiveProfile``:
``connectors/*/tracker/start.sh``), creates a fresh vault in ``data_dir`` (key generated into
``data_dir/secret.key`` if absent, and said so) with a demo app whose API key is kept in
``data_dir/demo-api-key`` (the same key on every start with the same data dir), a demo consumer
connected to every tracker, prints one curl command per tracker and the demo consumer's connect-page
URL (a day-long session, as ``POST /vault/sessions`` gives one) and serves the gateway in the
foreground on the socket it bound.

``unigate simulate <service>`` runs one connector's simulator alone and prints its URL and the
settings and credentials a connection to it takes.
"""

from __future__ import annotations

import os
import shlex
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import uvicorn

from unigate.app import Gateway, build_gateway, create_app
from unigate.connect.sessions import PURPOSE, SessionIn, make_session, seal
from unigate.mapping.spec import MappingFile
from unigate.plugins.registry import ConnectorRegistry
from unigate.server import GatewayHttpProtocol
from unigate.settings import Settings
from unigate.simulation import BackgroundServer
from unigate.vault.crypto import ensure_key_file
from unigate.vault.store import new_api_key

APP_ID = "sandbox-app"
CONSUMER_ID = "demo-consumer"
API_KEY_FILE = "demo-api-key"
# the demo consumer's connect-page session: a day long, with one custom mapping to bind on its mapping screen
DEMO_SESSION = {"settings": {"session_length": "1d", "sandbox_mode": True},
                "theme": {"vault_name": "Sandbox app"},
                "custom_consumer_settings": {"custom_mappings": [
                    {"key": "tracker_priority", "label": "Tracker priority",
                     "description": "the priority as the tracker names it"}]}}


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


class PortInUseError(click.ClickException):
    """The port to serve on cannot be bound; the message says what to do."""


def bind(host: str, port: int, what: str = "the sandbox") -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port), or ``PortInUseError``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT is free; a listening one is not
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise PortInUseError(
            f"cannot serve {what} on {host}:{port}: {exc.strerror or exc}. Another process (an earlier sandbox?) "
            "may be using the port: choose another with --port PORT or UNIGATE_PORT=PORT "
            "(make sandbox PORT=PORT)") from None
    return sock


def serve_on(sock: socket.socket, app: Any, *, gateway: bool, log_level: str = "warning") -> None:
    """Serve ``app`` on the already bound ``sock`` until interrupted (as ``unigate serve`` would
    serve it when ``gateway``: with the head timeout and size cap)."""
    options: dict[str, Any] = {"http": GatewayHttpProtocol.configured(), "proxy_headers": False} if gateway else {}
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="auto", **options)
    uvicorn.Server(config).run(sockets=[sock])


def demo_api_key(data_dir: Path) -> str:
    """The demo app's API key for this data dir: read from ``demo-api-key``, or made and kept there (0600)."""
    path = data_dir / API_KEY_FILE
    if path.is_file():
        key = path.read_text().strip()
        if key.startswith("ugk_") and len(key) > 20:
            return key
    key = new_api_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (key + "\n").encode())
    finally:
        os.close(fd)
    return key


def curl_command(url: str, headers: list[str]) -> str:
    """A curl command as the sandbox prints it: ``-g`` so brackets in a query are not globbed."""
    return " ".join(["curl -sg", shlex.quote(url), *(f"-H {shlex.quote(h)}" for h in headers)])


def _filter_example(spec: MappingFile, curl_path: str) -> str | None:
    """``curl_path`` with a status filter and a sort, if the tracker's ticket list declares both."""
    tickets = spec.resources.get("tickets")
    listing = tickets.operations.get("all") if tickets is not None else None
    if listing is None or "status" not in listing.filters or listing.sort is None or "created_at" not in listing.sort.fields:
        return None
    if not curl_path.rstrip("/").endswith("/tickets") and "/tickets?" not in curl_path:
        return None
    values = listing.filters["status"].values
    # a status one downstream value stands for (a tracker filtering on one value refuses the others)
    status = next((k for k, v in values.items() if v is not None and len(v) == 1), None) if values else "open"
    if status is None:
        return None
    query = f"filter[status]={status}&sort[by]=created_at&sort[direction]=desc"
    return curl_path + ("&" if "?" in curl_path else "?") + query


def prepare_sandbox(*, port: int, data_dir: Path, host: str = "127.0.0.1") -> Sandbox:
    """Fresh vault, demo app (stable key) and consumer, simulators started, running real trackers connected."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key, created = ensure_key_file(data_dir / "secret.key")
    if created:
        click.echo(f"Generated a sandbox secret key at {data_dir / 'secret.key'} (never use it in production).")
    database = data_dir / "vault.db"
    for stale in (database, database.with_suffix(".db-wal"), database.with_suffix(".db-shm")):
        stale.unlink(missing_ok=True)
    registry = ConnectorRegistry.load()
    # the sandbox's webhook receivers run beside it, on loopback: allowed explicitly (docs/webhooks.md)
    gateway = build_gateway(Settings(database=database, host=host, port=port, webhook_allow_private=("*",)), key,
                            registry=registry)
    _, api_key = gateway.store.create_app("Sandbox app", app_id=APP_ID, api_key=demo_api_key(data_dir))
    gateway.store.create_consumer(APP_ID, CONSUMER_ID)
    sandbox = Sandbox(gateway, api_key)
    base = f"http://{host}:{port}"
    try:
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
                    sandbox.lines.append(f"# {name}: no server running (start one: connectors/{live.name}/tracker/start.sh)\n")
                    continue
                settings, credentials = live.connection(env)
                where, curl_path = f"real server at {env[live.env_prefix + '_BASE_URL']}", live.curl_path.format_map(env)
            else:
                continue
            gateway.store.create_connection(APP_ID, CONSUMER_ID, service_id, settings=settings, credentials=credentials)
            headers = [f"Authorization: Bearer {api_key}", f"x-apideck-app-id: {APP_ID}",
                       f"x-apideck-consumer-id: {CONSUMER_ID}", f"x-apideck-service-id: {service_id}"]
            sandbox.lines.append(f"# {name} ({where})\n{curl_command(base + curl_path, headers)}\n")
            example = _filter_example(registry.connectors[service_id].spec, curl_path)
            if example is not None and not any("filter[" in line for line in sandbox.lines):
                sandbox.lines.append(f"# {name}: filtered and sorted (curl's -g keeps the brackets as they are)\n"
                                     f"{curl_command(base + example, headers)}\n")
    except BaseException:
        sandbox.stop()
        gateway.store.close()
        raise
    for failure in registry.failures:
        click.echo(f"warning: connector {failure.source} not loaded: {failure.error}", err=True)
    return sandbox


def run_sandbox(*, port: int, data_dir: Path, host: str = "127.0.0.1") -> None:
    """Bind the port (or fail before printing anything), prepare, print, serve."""
    sock = bind(host, port)
    try:
        port = sock.getsockname()[1]  # the port bound when asked for 0
        sandbox = prepare_sandbox(port=port, data_dir=data_dir, host=host)
    except BaseException:
        sock.close()
        raise
    base = f"http://{host}:{port}"
    click.echo(f"\nunigate sandbox on {base}\napp id: {APP_ID}  api key: {sandbox.api_key}  consumer: {CONSUMER_ID}\n")
    click.echo("\n".join(sandbox.lines))
    click.echo(f"# The demo consumer's connect page (valid for a day; open it in a browser):\n"
               f"{connect_page_url(sandbox.gateway, base)}\n")
    click.echo(f"Health: curl -s {base}/health\nPress Ctrl+C to stop.\n")
    try:
        serve_on(sock, create_app(sandbox.gateway), gateway=True)
    finally:
        sock.close()
        sandbox.stop()


def connect_page_url(gateway: Gateway, base: str) -> str:
    """A connect-page session of the demo consumer, as ``POST /vault/sessions`` would give it."""
    session = make_session(APP_ID, CONSUMER_ID, None, SessionIn.model_validate(DEMO_SESSION))
    return f"{base}/connect/session/{seal(session, gateway.store.derive_key(PURPOSE))}"


def simulators(registry: ConnectorRegistry) -> list[str]:
    """The service ids whose connector ships a simulator."""
    return sorted(s for s, d in registry.definitions.items() if d.sandbox is not None)


def run_simulator(service_id: str, *, port: int, host: str = "127.0.0.1") -> None:
    """Run ``service_id``'s simulator alone (from its ``SandboxProfile``) and print how to connect to it."""
    registry = ConnectorRegistry.load()
    definition = registry.definitions.get(service_id)
    available = ", ".join(simulators(registry)) or "none"
    if definition is None:
        raise click.ClickException(f"no connector {service_id!r} is installed; the simulators are: {available}")
    if definition.sandbox is None:
        how = (f" (it is tested against a real server: connectors/{definition.live.name}/tracker/start.sh)"
               if definition.live is not None else "")
        raise click.ClickException(f"the {service_id} connector has no simulator{how}; the simulators are: {available}")
    profile = definition.sandbox()
    sock = bind(host, port, f"the {service_id} simulator")
    url = f"http://{host}:{sock.getsockname()[1]}"
    settings, credentials = profile.connection(url)
    name = registry.connectors[service_id].spec.name
    click.echo(f"{name} simulator on {url}")
    click.echo(f"settings: {' '.join(f'{k}={v}' for k, v in settings.items()) or '(none)'}")
    click.echo(f"credentials: {' '.join(f'{k}={v}' for k, v in credentials.items()) or '(none)'}")
    command = ["unigate vault connection-create <app_id> <consumer_id>", service_id,
               *(f"-s {shlex.quote(f'{k}={v}')}" for k, v in settings.items()),
               *(f"-c {shlex.quote(f'{k}={v}')}" for k, v in credentials.items())]
    click.echo(f"connect a consumer to it: {' '.join(command)}")
    click.echo("Press Ctrl+C to stop.")
    try:
        serve_on(sock, profile.create_app(), gateway=False)
    finally:
        sock.close()
