"""The ``unigate`` command: serve, sandbox, connectors, mappings check, vault administration."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path

import click
import orjson

from unigate.mapping.spec import MappingFileError, load_mapping_file
from unigate.settings import Settings
from unigate.vault.crypto import SecretKeyError, generate_secret_key, load_secret_key
from unigate.vault.store import ConnectionStore, VaultError


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")


def _secret_key() -> str:
    try:
        return load_secret_key()
    except SecretKeyError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
@click.version_option(package_name="unigate")
def main() -> None:
    """unigate: a unified Issue Tracking gateway speaking Apideck's Issue Tracking API."""


@main.command()
@click.option("--host", default=None, help="bind address (UNIGATE_HOST, default 127.0.0.1)")
@click.option("--port", type=int, default=None, help="port (UNIGATE_PORT, default 8080)")
def serve(host: str | None, port: int | None) -> None:
    """Run the gateway (vault at UNIGATE_DATABASE, key from UNIGATE_SECRET_KEY[_FILE])."""
    from unigate.app import StartupError, build_gateway, create_app
    from unigate.server import serve as serve_app

    settings = Settings.from_env()
    _configure_logging(settings.log_level)
    try:
        gateway = build_gateway(settings, _secret_key())
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None
    serve_app(create_app(gateway), host=host or settings.host, port=port or settings.port,
              log_level=settings.log_level)


@main.command()
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path(".unigate/sandbox"), show_default=True)
def sandbox(port: int, data_dir: Path) -> None:
    """Run the gateway with simulated trackers, a demo app, consumer and connections."""
    from unigate.sandbox import run_sandbox

    _configure_logging("warning")
    run_sandbox(port=port, data_dir=data_dir)


@main.command()
def connectors() -> None:
    """List installed connectors and any that failed to load."""
    from unigate.plugins.registry import ConnectorRegistry

    registry = ConnectorRegistry.load()
    for service_id, connector in sorted(registry.connectors.items()):
        supported = [f"{r}.{o}" for r in ("collections", "tickets", "comments", "users", "tags")
                     for o in ("all", "one", "add", "update", "delete") if connector.supports(r, o)]
        click.echo(f"{service_id:<14} {connector.spec.name:<20} {len(supported)} operations: {' '.join(supported)}")
    for failure in registry.failures:
        kind = "built-in" if failure.builtin else "plugin"
        click.echo(f"FAILED {failure.source} ({kind} {failure.module}): {failure.error}", err=True)
    if registry.builtin_failures:
        sys.exit(1)


@main.group()
def mappings() -> None:
    """Mapping files."""


@mappings.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def mappings_check(paths: tuple[Path, ...]) -> None:
    """Validate mapping files (default: the built-in ones); exit 1 on any error."""
    targets = list(paths) or sorted(Path(str(p)) for p in files("unigate_mappings").iterdir() if p.name.endswith(".yaml"))
    failed = False
    for path in targets:
        try:
            spec = load_mapping_file(path)
        except MappingFileError as exc:
            failed = True
            click.echo(str(exc), err=True)
            continue
        click.echo(f"ok  {path} ({spec.service_id}: {', '.join(spec.resources)})")
    sys.exit(1 if failed else 0)


# -- vault ---------------------------------------------------------------------------------------------
@main.group()
def vault() -> None:
    """Apps, consumers and connections in the vault (UNIGATE_DATABASE). Secrets are never printed."""


def _store() -> ConnectionStore:
    from unigate.app import open_store

    return open_store(Settings.from_env(), _secret_key())


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint=what)
        out[key] = value
    return out


def _echo(data: object) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


@vault.command("keygen")
def vault_keygen() -> None:
    """Print a new secret key for UNIGATE_SECRET_KEY."""
    click.echo(generate_secret_key())


@vault.command("app-create")
@click.argument("name")
@click.option("--app-id", default=None)
def app_create(name: str, app_id: str | None) -> None:
    """Create an app; prints its API key once (only a hash is stored)."""
    with _vault_errors():
        app, api_key = _store().create_app(name, app_id=app_id)
    _echo({"app_id": app.id, "name": app.name, "api_key": api_key})
    click.echo("Store the api_key now: it cannot be shown again.", err=True)


@vault.command("app-list")
def app_list() -> None:
    _echo([{"app_id": a.id, "name": a.name} for a in _store().list_apps()])


@vault.command("consumer-create")
@click.argument("app_id")
@click.argument("consumer_id")
def consumer_create(app_id: str, consumer_id: str) -> None:
    with _vault_errors():
        _store().create_consumer(app_id, consumer_id)
    _echo({"app_id": app_id, "consumer_id": consumer_id})


@vault.command("consumer-list")
@click.argument("app_id")
def consumer_list(app_id: str) -> None:
    _echo([{"consumer_id": c.id} for c in _store().list_consumers(app_id)])


_connection_options = [
    click.option("--setting", "-s", multiple=True, help="KEY=VALUE connection setting (base_url, organization...)"),
    click.option("--credential", "-c", multiple=True, help="KEY=VALUE credential (encrypted at rest)"),
    click.option("--custom-mapping", "-m", multiple=True, help="NAME=JSONPATH custom mapping"),
]


def _with_connection_options(fn):  # noqa: ANN001, ANN202
    for option in reversed(_connection_options):
        fn = option(fn)
    return fn


@vault.command("connection-create")
@click.argument("app_id")
@click.argument("consumer_id")
@click.argument("service_id")
@_with_connection_options
def connection_create(app_id: str, consumer_id: str, service_id: str, setting: tuple[str, ...],
                      credential: tuple[str, ...], custom_mapping: tuple[str, ...]) -> None:
    with _vault_errors():
        connection = _store().create_connection(
            app_id, consumer_id, service_id, settings=_pairs(setting, "--setting"),
            credentials=_pairs(credential, "--credential"), custom_mappings=_pairs(custom_mapping, "--custom-mapping"))
    _echo(connection.public_view())


@vault.command("connection-update")
@click.argument("connection_id")
@_with_connection_options
@click.option("--enable/--disable", default=None)
def connection_update(connection_id: str, setting: tuple[str, ...], credential: tuple[str, ...],
                      custom_mapping: tuple[str, ...], enable: bool | None) -> None:
    """Update a connection; given settings/credentials are merged into the current ones."""
    store = _store()
    with _vault_errors():
        current = store.get_connection(connection_id)
        connection = store.update_connection(
            connection_id,
            settings={**current.settings, **_pairs(setting, "--setting")} if setting else None,
            credentials={**current.credentials, **_pairs(credential, "--credential")} if credential else None,
            custom_mappings={**current.custom_mappings, **_pairs(custom_mapping, "--custom-mapping")} if custom_mapping else None,
            enabled=enable)
    _echo(connection.public_view())


@vault.command("connection-list")
@click.option("--app-id", default=None)
def connection_list(app_id: str | None) -> None:
    with _vault_errors():
        connections = _store().list_connections(app_id)
    _echo([c.public_view() for c in connections])


@vault.command("connection-delete")
@click.argument("connection_id")
def connection_delete(connection_id: str) -> None:
    with _vault_errors():
        _store().delete_connection(connection_id)
    _echo({"deleted": connection_id})


@contextmanager
def _vault_errors() -> Iterator[None]:
    try:
        yield
    except (VaultError, SecretKeyError) as exc:
        raise click.ClickException(str(exc)) from None


if __name__ == "__main__":
    main()
