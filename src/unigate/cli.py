"""The ``unigate`` command: serve, sandbox, connectors, mappings check, new-connector, vault administration."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from unigate import cli_common
from unigate.db import DatabaseUnavailableError
from unigate.mapping.spec import MappingFileError, load_mapping_file
from unigate.unified import UNIFIED
from unigate.vault.crypto import SecretBox, SecretKeyError, generate_secret_key, load_secret_key, write_key_file
from unigate.vault.models import App, Connection
from unigate.vault.store import ConnectionStore, VaultError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from unigate.observability.requestlog import LogFilter
    from unigate.plugins.registry import ConnectorRegistry
    from unigate.vault.models import Connection


_configure_logging = cli_common.configure_logging
_settings = cli_common.settings
_secret_key = cli_common.secret_key


@click.group()
@click.version_option(package_name="unigate")
def main() -> None:
    """unigate: a unified Issue Tracking gateway speaking Apideck's Issue Tracking API."""


@main.command()
@click.option("--host", default=None, help="bind address (UNIGATE_HOST, default 127.0.0.1)")
@click.option("--port", type=int, default=None, help="port (UNIGATE_PORT, default 8080)")
@click.option("--workers", type=click.IntRange(min=1), default=1, envvar="UNIGATE_WORKERS", show_envvar=True,
              show_default=True, help="worker processes sharing the port and the vault (about one per core)")
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Run the gateway (vault at UNIGATE_DATABASE, key from UNIGATE_SECRET_KEY[_FILE])."""
    from unigate.app import StartupError, build_gateway, create_app
    from unigate.server import serve as serve_app

    settings = _settings()
    _configure_logging(settings.log_level, settings.log_format)
    from unigate.observability import metrics

    metrics.enabled = settings.metrics  # off: nothing counted in this process, and no /metrics route
    try:  # with --workers, this checks what each worker will build, and the workers build their own
        gateway = build_gateway(settings, _secret_key())
    # a broken connector; a key that does not open the vault; UNIGATE_TRACING=on without the otel extra
    except (StartupError, SecretKeyError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    if workers > 1:
        from unigate.workers import APP

        for part in (gateway.store, gateway.request_log, gateway.webhook_store):
            if part is not None:
                part.close()
    serve_app(create_app(gateway, settle_heap=True) if workers == 1 else APP, host=host or settings.host, port=port or settings.port,
              log_level=settings.log_level, workers=workers)


@main.command()
@click.option("--port", type=int, default=8080, show_default=True, envvar="UNIGATE_PORT", show_envvar=True,
              help="port of the gateway (0: any free port); bound before anything is printed")
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path(".unigate/sandbox"), show_default=True,
              help="vault, secret key and the demo API key (the same key on every start with this directory)")
def sandbox(port: int, data_dir: Path) -> None:
    """Run the gateway with simulated trackers, a demo app, consumer and connections."""
    from unigate.sandbox import run_sandbox

    _configure_logging("warning")
    run_sandbox(port=port, data_dir=data_dir)


@main.command()
@click.argument("service")
@click.option("--port", type=int, default=0, help="port of the simulator (default: any free port)")
def simulate(service: str, port: int) -> None:
    """Run one connector's simulator alone; prints its URL and the settings and credentials to
    connect to it."""
    from unigate.sandbox import run_simulator

    _configure_logging("warning")
    run_simulator(service, port=port)




@main.group(invoke_without_command=True)
@click.pass_context
def connectors(ctx: click.Context) -> None:
    """List installed connectors and any that failed to load; exit 1 if any failed (a CI gate).

    `unigate connectors show SERVICE` describes one connector."""
    if ctx.invoked_subcommand is not None:
        return
    from unigate.plugins.registry import ConnectorRegistry

    registry = ConnectorRegistry.load()
    for service_id, connector in sorted(registry.connectors.items()):
        supported = [f"{r}.{o}" for r in UNIFIED.resource_names for o in UNIFIED.operation_names if connector.supports(r, o)]
        click.echo(f"{service_id:<14} {connector.spec.name:<20} {len(supported)} operations: {' '.join(supported)}")
    for failure in registry.failures:
        kind = "built-in" if failure.builtin else "plugin"
        click.echo(f"FAILED {failure.source} ({kind} {failure.module}): {failure.error}", err=True)
    if registry.failures:
        click.echo(f"{len(registry.failures)} connector(s) failed to load", err=True)
        sys.exit(1)


@connectors.command("readme")
@click.argument("service")
@click.argument("readme", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--write", is_flag=True, help="rewrite the file's generated block (default: check it, exit 1 if stale)")
def connectors_readme(service: str, readme: Path, write: bool) -> None:
    """Check (or --write) the generated downstream-call table in a connector's README."""
    from unigate.connector_info import with_calls_table
    from unigate.plugins.registry import ConnectorRegistry

    connector = ConnectorRegistry.load().get(service)
    if connector is None:
        raise click.ClickException(f"no connector {service!r} is installed")
    text = readme.read_text()
    try:
        current = with_calls_table(text, connector)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if write:
        readme.write_text(current)
    elif current != text:
        raise click.ClickException(f"{readme}: the downstream-call table is stale; run "
                                   f"`unigate connectors readme {service} {readme} --write`")


@connectors.command("show")
@click.argument("service")
@click.option("--json", "as_json", is_flag=True, help="print the description as JSON")
def connectors_show(service: str, as_json: bool) -> None:
    """Settings and credentials, operations, filters, sorts and downstream call ids of a connector
    (read from its mapping file and class, so they are always current)."""
    from unigate.connector_info import describe, info
    from unigate.plugins.registry import ConnectorRegistry

    registry = ConnectorRegistry.load()
    connector = registry.get(service)
    if connector is None:
        raise click.ClickException(f"no connector {service!r} is installed; installed: "
                                   f"{', '.join(sorted(registry.connectors)) or 'none'}")
    if as_json:
        _echo(info(connector))
    else:
        click.echo(describe(connector))


@main.group()
def mappings() -> None:
    """Mapping files."""


@mappings.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def mappings_check(paths: tuple[Path, ...]) -> None:
    """Validate mapping files (default: the built-in connectors' manifests); exit 1 on any error.
    Installed plugins are loaded first: the components they register (transforms...) are names a
    manifest may use."""
    _registry()
    targets = list(paths) or sorted(Path(str(files("unigate_connectors"))).glob("*/manifest.yaml"))
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


@mappings.command("schema")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the schema to FILE instead of printing it")
def mappings_schema(output: Path | None) -> None:
    """Print the JSON Schema (draft 2020-12) of a manifest, for editors (yaml-language-server)."""
    from unigate.mapping.reference import schema_json

    _emit(schema_json(), output)


@mappings.command("docs")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the reference to FILE instead of printing it")
def mappings_docs(output: Path | None) -> None:
    """Print the mapping key reference (docs/mapping-reference.md) generated from the schema."""
    from unigate.mapping.reference import reference_markdown

    _emit(reference_markdown(), output)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)


@main.command("new-connector")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="where to create unigate-NAME/")
def new_connector(name: str, directory: Path) -> None:
    """Scaffold a connector package NAME (manifest, plugin, simulator, README, acceptance tests)."""
    from unigate.scaffold import ScaffoldError, scaffold

    try:
        root = scaffold(name, directory)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {root}\nnext: cd {root} && pip install -e '.[test]' && pytest   (guide: docs/plugins.md)")


# -- vault ---------------------------------------------------------------------------------------------
@main.group()
def vault() -> None:
    """Apps, consumers and connections in the vault (UNIGATE_DATABASE). Secrets are never printed,
    except an API key or secret key when it is created."""


def _store() -> ConnectionStore:
    from unigate.app import open_store

    with _vault_errors():  # a key that does not open the vault is refused before any write
        return open_store(_settings(), _secret_key())


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint=what)
        out[key] = value
    return out


def _credentials(values: tuple[str, ...], credentials_file: str | None) -> dict[str, str]:
    """Credentials from ``--credentials-file`` then ``-c`` (later wins). Error messages name the
    key or line, never a value: a malformed argument may be a secret typed in the wrong place."""
    out: dict[str, str] = {}
    stdin_used = False
    if credentials_file is not None:
        if credentials_file == "-":
            stdin_used = True
            text, source = sys.stdin.read(), "stdin"
        else:
            try:
                text, source = Path(credentials_file).read_text(), credentials_file
            except OSError as exc:
                raise click.BadParameter(f"cannot read {credentials_file}: {exc.strerror}",
                                         param_hint="--credentials-file") from None
        out.update(_parse_credentials(text, source))
    for number, item in enumerate(values, start=1):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"argument {number} is not KEY=VALUE (it is not shown: it may be a secret)",
                                     param_hint="--credential")
        if value == "-":
            if stdin_used:
                raise click.BadParameter("only one credential can be read from stdin", param_hint="--credential")
            stdin_used = True
            if sys.stdin.isatty():  # typed: not echoed
                value = click.prompt(f"{key}", hide_input=True, default="", show_default=False)
            else:
                value = sys.stdin.read().rstrip("\r\n")
            if not value:
                raise click.BadParameter(f"stdin was empty: no value for {key!r}", param_hint="--credential")
        elif value.startswith("env:"):
            name = value[4:]
            value = os.environ.get(name, "")
            if not value:
                raise click.BadParameter(f"environment variable {name!r} (for {key!r}) is not set or empty",
                                         param_hint="--credential")
        out[key] = value
    return out


def _parse_credentials(text: str, source: str) -> dict[str, str]:
    """A JSON object of strings, or KEY=VALUE lines (blank lines and ``#`` comments skipped; the
    value is everything after the first ``=``, up to the line end)."""
    if text.lstrip().startswith("{"):
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise click.BadParameter(f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno})",
                                     param_hint="--credentials-file") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise click.BadParameter(f"{source}: expected a JSON object of string values",
                                     param_hint="--credentials-file")
        return data
    out = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{source} line {number} is not KEY=VALUE (it is not shown: it may be a "
                                     "secret)", param_hint="--credentials-file")
        out[key.strip()] = value
    return out


def _echo(data: object) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


@vault.command("keygen")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the key to this new file (mode 0600) for UNIGATE_SECRET_KEY_FILE instead of printing it")
def vault_keygen(path: Path | None) -> None:
    """Print a new secret key for UNIGATE_SECRET_KEY (or write it to a file with --file)."""
    key = generate_secret_key()
    if path is None:
        click.echo(key)
        return
    try:
        write_key_file(path, key)
    except FileExistsError:
        raise click.ClickException(f"{path} exists; refusing to overwrite a key") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from None
    click.echo(f"wrote a new secret key to {path} (mode 600)", err=True)


@vault.command("rotate-key")
@click.option("--new-key-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="read the new key from this file (e.g. made by `keygen --file`)")
@click.option("--new-key-env", metavar="NAME", default=None, help="read the new key from environment variable NAME")
@click.option("--write-new-key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="generate the new key and write it to this new file (mode 0600) instead of printing it")
def rotate_key(new_key_file: Path | None, new_key_env: str | None, write_new_key: Path | None) -> None:
    """Re-encrypt every credential with a new secret key, in one transaction.

    The current key comes from UNIGATE_SECRET_KEY[_FILE]. The new key is read from --new-key-file
    or --new-key-env, or generated: then it is printed (the only output on stdout) or written to
    --write-new-key. On any failure nothing changes. Afterwards only the new key opens the vault:
    restart the gateway with it. Pagination cursors issued before are no longer valid.
    """
    if sum(option is not None for option in (new_key_file, new_key_env, write_new_key)) > 1:
        raise click.UsageError("give at most one of --new-key-file, --new-key-env, --write-new-key")
    store = _store()
    with _vault_errors():
        if new_key_file is not None:
            new_key = load_secret_key({"UNIGATE_SECRET_KEY_FILE": str(new_key_file)})
        elif new_key_env is not None:
            if not os.environ.get(new_key_env):
                raise click.ClickException(f"environment variable {new_key_env!r} is not set or empty")
            new_key = load_secret_key({"UNIGATE_SECRET_KEY": os.environ[new_key_env]})
        else:
            new_key = generate_secret_key()
    if new_key == _secret_key():
        raise click.ClickException("the new key is the current key; nothing was changed")
    if write_new_key is not None:
        try:
            write_key_file(write_new_key, new_key)
        except FileExistsError:
            raise click.ClickException(f"{write_new_key} exists; refusing to overwrite a key") from None
    try:
        with _vault_errors():
            count = store.rotate_key(SecretBox(new_key))
    except BaseException:
        if write_new_key is not None:
            write_new_key.unlink(missing_ok=True)  # the key we wrote opens nothing
        raise
    if new_key_file is None and new_key_env is None and write_new_key is None:
        click.echo(new_key)
    where = f" (written to {write_new_key})" if write_new_key is not None else ""
    click.echo(f"re-encrypted the credentials of {count} connection(s) with the new key{where}. Only the new key "
               "opens the vault now: set UNIGATE_SECRET_KEY[_FILE] to it and restart the gateway. Pagination "
               "cursors issued with the old key are no longer valid.", err=True)


SERVICES_HELP = ("the connectors the app offers its consumers, comma-separated service ids (`unigate connectors` "
                 "lists them), or 'all' (the default): the Vault API and the connect page list only these, the "
                 "unified API refuses the others")


def _chosen_services(value: str) -> list[str] | None:
    """``--services``: None for ``all``, else the service ids, each an installed connector."""
    from unigate.vault.validation import check_service

    if value.strip().lower() == "all":
        return None
    services = [s.strip() for s in value.split(",") if s.strip()]
    if not services:
        raise click.BadParameter("name at least one service id, or 'all'", param_hint="--services")
    registry = _registry()
    with _vault_errors():
        for service_id in services:
            check_service(registry, service_id)
    return services


def _app_view(app: App) -> dict[str, object]:
    return {"app_id": app.id, "name": app.name, "strict": app.strict,
            "services": "all" if app.services is None else list(app.services)}


@vault.command("app-create")
@click.argument("name")
@click.option("--app-id", default=None)
@click.option("--strict", is_flag=True, help="refuse writes a tracker cannot store as sent (400) instead of "
              "answering them with meta.warnings; a request's x-unigate-strict header wins")
@click.option("--services", default="all", show_default=True, metavar="ID,ID|all", help=SERVICES_HELP)
def app_create(name: str, app_id: str | None, strict: bool, services: str) -> None:
    """Create an app; prints its API key once (only a hash is stored)."""
    chosen = _chosen_services(services)
    with _vault_errors():
        app, api_key = _store().create_app(name, app_id=app_id, strict=strict, services=chosen)
    _echo({**_app_view(app), "api_key": api_key})
    click.echo("Store the api_key now: it cannot be shown again.", err=True)


@vault.command("app-key-rotate")
@click.argument("app_id")
def app_key_rotate(app_id: str) -> None:
    """Give an app a new API key, printed once; the old key stops working at once (also for a
    running gateway)."""
    with _vault_errors():
        api_key = _store().rotate_api_key(app_id)
    _echo({"app_id": app_id, "api_key": api_key})
    click.echo("Store the api_key now: it cannot be shown again. The previous key no longer works.", err=True)


@vault.command("app-key-revoke")
@click.argument("app_id")
def app_key_revoke(app_id: str) -> None:
    """Revoke an app's API key: every request with it is refused (401) until app-key-rotate."""
    with _vault_errors():
        _store().revoke_api_key(app_id)
    _echo({"app_id": app_id, "api_key_revoked": True})


@vault.command("app-delete")
@click.argument("app_id")
@click.option("--yes", "-y", is_flag=True, help="do not ask for confirmation")
def app_delete(app_id: str, yes: bool) -> None:
    """Delete an app with all its consumers and their connections (credentials included)."""
    store = _store()
    with _vault_errors():
        store.require_app(app_id)
        if not yes:
            consumers = len(store.list_consumers(app_id))
            connections = len(store.list_connections(app_id))
            click.confirm(f"Delete app {app_id!r} with its {consumers} consumer(s) and {connections} connection(s)?",
                          abort=True)
        consumers, connections = store.delete_app(app_id)
    _echo({"deleted_app": app_id, "consumers_deleted": consumers, "connections_deleted": connections})


@vault.command("app-list")
def app_list() -> None:
    _echo([{"app_id": a.id, "name": a.name, "services": _app_view(a)["services"]} for a in _store().list_apps()])


@vault.command("app-update")
@click.argument("app_id")
@click.option("--logs/--no-logs", "logs", default=None,
              help="record the app's requests in the request log (GET /vault/logs, `unigate logs`), or not")
@click.option("--strict/--no-strict", "strict", default=None,
              help="refuse writes a tracker cannot store as sent (400) instead of answering them with "
                   "meta.warnings; a request's x-unigate-strict header wins")
@click.option("--services", default=None, metavar="ID,ID|all", help=SERVICES_HELP)
def app_update(app_id: str, logs: bool | None, strict: bool | None, services: str | None) -> None:
    """Change an app's settings; a running gateway follows at once."""
    chosen = _chosen_services(services) if services is not None else None
    store = _store()
    with _vault_errors():
        store.require_app(app_id)
        if logs is not None:
            store.set_request_log(app_id, logs)
        if strict is not None:
            store.set_strict(app_id, strict)
        if services is not None:
            store.set_services(app_id, chosen)
        app = store.get_app(app_id)
        _echo({"app_id": app_id, "logs": store.request_log_enabled(app_id), "strict": app.strict,
               "services": _app_view(app)["services"]})


@main.command()
@click.option("--app", "app_id", default=None, help="only this app's requests")
@click.option("--consumer", "consumer_id", default=None, help="only this consumer's requests")
@click.option("--service", "service_id", default=None, help="only requests to this service (connector id)")
@click.option("--status", "status_codes", type=int, multiple=True, help="only answers with this status (repeatable)")
@click.option("--limit", "-n", type=click.IntRange(1, 10_000), default=20, show_default=True,
              help="the newest N requests")
@click.option("--follow", "-f", is_flag=True, help="then print new requests as they are logged (Ctrl-C stops)")
@click.option("--calls", is_flag=True, help="also each downstream call (method, URL, status, duration, retries)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per request, its calls included "
              "(request and response headers and bodies, redacted)")
@click.option("--interval", type=float, default=1.0, show_default=True, hidden=True)
def logs(app_id: str | None, consumer_id: str | None, service_id: str | None, status_codes: tuple[int, ...],
         limit: int, follow: bool, calls: bool, as_json: bool, interval: float) -> None:
    """The request log (UNIGATE_DATABASE), oldest of the newest N first; --follow polls for more.

    No secret key is needed: the log holds no credential (they are redacted before it is written)."""
    import time

    from unigate.observability import requestlog

    engine = _log_database()
    flt = requestlog.LogFilter(app_id=app_id, consumer_id=consumer_id, service_id=service_id,
                               status_codes=list(status_codes))
    rows = list(reversed(_log_rows(engine, flt, limit)))
    last = 0
    try:
        while True:
            for row in rows:
                _print_log(row, calls, as_json)
                last = max(last, row["seq"])
            if not follow:
                return
            sys.stdout.flush()
            time.sleep(interval)
            flt.after_seq = last
            rows = _log_rows(engine, flt, 1000)
    except KeyboardInterrupt:
        return
    finally:
        engine.dispose()


def _log_database() -> Engine:
    """An engine on UNIGATE_DATABASE (migrated, as every vault command does), or a sentence saying why not."""
    from unigate.db import open_database

    database = _settings().database
    if isinstance(database, Path) and not database.exists():
        raise click.ClickException(f"there is no vault at {database} (UNIGATE_DATABASE)")
    with _vault_errors():  # a database that cannot be reached: one sentence naming it
        return open_database(database)


def _log_rows(engine: Engine, flt: LogFilter, limit: int) -> list[dict[str, Any]]:
    from unigate.observability import requestlog

    with engine.connect() as conn:
        return requestlog.query(conn, flt, limit)


def _print_log(row: dict[str, Any], calls: bool, as_json: bool) -> None:
    from unigate.observability import requestlog

    if as_json:
        entry = {**requestlog.apideck_log(row), "app_id": row["app_id"], "unigate": requestlog.details(row)}
        click.echo(orjson.dumps(entry).decode())
        return
    log = requestlog.apideck_log(row)
    error = f" {row['error_type']}: {row['error_message']}" if row["error_type"] else ""
    click.echo(f"{log['timestamp']} {row['id']} {row['app_id']} {row['consumer_id']} {row['service_id'] or '-'} "
               f"{row['operation']} {row['http_method']} {row['path']} -> {row['status_code']} "
               f"{row['execution_ms']:.1f}ms (downstream {row['downstream_ms']:.1f}ms){error}")
    if calls:
        for call in requestlog.details(row)["calls"]:
            response = call.get("response") or {}
            outcome = response.get("status_code") or call.get("error", "no answer")
            retries = f" retries={call['retries']}" if call.get("retries") else ""
            click.echo(f"    {call['call_id']} {call['method']} {call['url']} -> {outcome} "
                       f"{call['duration_ms']:.1f}ms{retries}")


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
    store = _store()
    with _vault_errors():
        store.require_app(app_id)
    _echo([{"consumer_id": c.id} for c in store.list_consumers(app_id)])


@vault.command("consumer-delete")
@click.argument("app_id")
@click.argument("consumer_id")
@click.option("--yes", "-y", is_flag=True, help="do not ask for confirmation")
def consumer_delete(app_id: str, consumer_id: str, yes: bool) -> None:
    """Delete a consumer with its connections (credentials included)."""
    store = _store()
    with _vault_errors():
        store.require_consumer(app_id, consumer_id)
        if not yes:
            connections = len(store.connections_of(app_id, consumer_id))
            click.confirm(f"Delete consumer {consumer_id!r} of app {app_id!r} with its {connections} "
                          "connection(s)?", abort=True)
        connections = store.delete_consumer(app_id, consumer_id)
    _echo({"app_id": app_id, "deleted_consumer": consumer_id, "connections_deleted": connections})


_connection_options = [
    click.option("--setting", "-s", multiple=True, help="KEY=VALUE connection setting (base_url, organization...)"),
    click.option("--credential", "-c", multiple=True,
                 help="KEY=VALUE credential (encrypted at rest). VALUE '-' reads the value from stdin (one "
                      "credential; prompted for, not echoed, on a terminal), 'env:NAME' from environment variable "
                      "NAME. A literal VALUE is visible to "
                      "other users in `ps` and in shell history: use it only for throwaway values (and a value that "
                      "is '-' or starts with 'env:' literally goes in --credentials-file)."),
    click.option("--credentials-file", metavar="PATH", default=None,
                 help="credentials from a file ('-': stdin): a JSON object of strings, or KEY=VALUE lines "
                      "(# comments); -c values override it"),
    click.option("--custom-mapping", "-m", multiple=True, help="NAME=JSONPATH custom mapping"),
    click.option("--check", is_flag=True,
                 help="then test the connection: one cheap read through the gateway (collections list); "
                      "exit 1 with the typed error if it fails (the connection stays saved)"),
]


def _registry() -> ConnectorRegistry:
    from unigate.plugins.registry import ConnectorRegistry

    return ConnectorRegistry.load()


def _check(store: ConnectionStore, registry: ConnectorRegistry, connection: Connection) -> None:
    from unigate.app import build_gateway
    from unigate.connection_check import check_connection

    ok, sentence = check_connection(build_gateway(_settings(), _secret_key(), store=store, registry=registry),
                                    connection)
    if not ok:
        raise click.ClickException(f"{sentence}. The connection is saved: change it with "
                                   f"`unigate vault connection-update {connection.id}`")
    click.echo(sentence, err=True)


def _with_connection_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_connection_options):
        fn = option(fn)
    return fn


@vault.command("connection-create")
@click.argument("app_id")
@click.argument("consumer_id")
@click.argument("service_id")
@_with_connection_options
def connection_create(app_id: str, consumer_id: str, service_id: str, setting: tuple[str, ...],
                      credential: tuple[str, ...], credentials_file: str | None,
                      custom_mapping: tuple[str, ...], check: bool) -> None:
    """Connect a consumer to a service. The settings and credentials are checked against the
    connector (`unigate connectors show SERVICE` lists them). Credentials: -c KEY=- (stdin),
    -c KEY=env:NAME or --credentials-file keep them out of the process list."""
    from unigate.vault.validation import check_connection_config, check_service, credential_warnings, secret_settings

    registry = _registry()
    with _vault_errors():
        check_service(registry, service_id)  # before reading a secret from stdin
    credentials = _credentials(credential, credentials_file)
    settings = _pairs(setting, "--setting")
    store = _store()
    store.secret_settings = secret_settings(registry)
    with _vault_errors():
        store.require_consumer(app_id, consumer_id, to_connect=True)
        check_connection_config(registry, service_id, settings, credentials)
        connection = store.create_connection(
            app_id, consumer_id, service_id, settings=settings,
            credentials=credentials, custom_mappings=_pairs(custom_mapping, "--custom-mapping"))
    _echo(connection.public_view())
    for warning in credential_warnings(registry, service_id, credentials):
        click.echo(warning.replace("CONNECTION_ID", connection.id), err=True)
    if check:
        _check(store, registry, connection)


@vault.command("connection-update")
@click.argument("connection_id")
@_with_connection_options
@click.option("--enable/--disable", default=None)
def connection_update(connection_id: str, setting: tuple[str, ...], credential: tuple[str, ...],
                      credentials_file: str | None, custom_mapping: tuple[str, ...], check: bool,
                      enable: bool | None) -> None:
    """Update a connection; given settings/credentials are merged into the current ones
    (credentials as for connection-create) and the result is checked against the connector."""
    from unigate.vault.validation import check_connection_config, secret_settings

    store = _store()
    with _vault_errors():
        store.get_connection(connection_id)  # an unknown id before reading a secret from stdin
    credentials = _credentials(credential, credentials_file)
    registry = _registry()
    store.secret_settings = secret_settings(registry)
    settings, mappings = _pairs(setting, "--setting"), _pairs(custom_mapping, "--custom-mapping")

    def change(stored: Connection) -> Connection:  # merged into the connection as stored at the write
        new = replace(stored, settings={**stored.settings, **settings}, credentials={**stored.credentials, **credentials},
                      custom_mappings={**stored.custom_mappings, **mappings},
                      enabled=stored.enabled if enable is None else enable)
        check_connection_config(registry, stored.service_id, new.settings, new.credentials)
        return new

    with _vault_errors():
        connection = store.modify_connection(connection_id, change)
    _echo(connection.public_view())
    if check:
        _check(store, registry, connection)


@vault.command("connection-list")
@click.option("--app-id", default=None)
def connection_list(app_id: str | None) -> None:
    store = _store()
    with _vault_errors():
        if app_id is not None:
            store.require_app(app_id)
        connections = store.list_connections(app_id)
    _echo([c.public_view() for c in connections])


@vault.command("connection-delete")
@click.argument("connection_id")
def connection_delete(connection_id: str) -> None:
    with _vault_errors():
        _store().delete_connection(connection_id)
    _echo({"deleted": connection_id})


@vault.command("audit")
@click.option("--app-id", default=None, help="only this app's records")
@click.option("--consumer-id", default=None, help="only this consumer's records (with --app-id)")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
def vault_audit(app_id: str | None, consumer_id: str | None, limit: int, as_json: bool) -> None:
    """The vault's audit trail, newest first: who changed what, when (no secret is recorded: settings
    declared secret and credentials appear by name only). Changes through the Vault API are the
    app's (api:<app id>, with the id of its API key), the CLI's the host user's (host:<user>)."""
    for record in _store().audit_trail(app_id=app_id, consumer_id=consumer_id, limit=limit):
        if as_json:
            click.echo(orjson.dumps(record).decode())
            continue
        who = record["actor"] + (f" key {record['key_id']}" if record["key_id"] else "")
        where = " ".join(f"{k}={record[k]}" for k in ("app_id", "consumer_id", "service_id") if record[k])
        click.echo(f"{record['ts']} {record['action']} {record['target']} by {who}"
                   + (f" [{where}]" if where else "") + (f" {orjson.dumps(record['changes']).decode()}"
                                                         if record["changes"] else ""))


# -- OAuth2 clients (unigate.oauth): an app's client id and secret at a connector's provider ------------
@vault.group("oauth-client")
def oauth_client() -> None:
    """An app's OAuth client (id, secret, allowed redirect URIs) for a connector declaring `oauth2`.
    The secret is stored encrypted and never printed."""


def _oauth_connector(service_id: str) -> None:
    connector = _registry().get(service_id)
    if connector is None or connector.spec.connection.oauth2 is None:
        raise click.ClickException(f"{service_id!r} is not an installed connector declaring `oauth2` "
                                   "(`unigate connectors` lists them)")


@oauth_client.command("set")
@click.argument("app_id")
@click.argument("service_id")
@click.option("--client-id", help="The client id the provider gave the app (kept if omitted).")
@click.option("--client-secret", metavar="VALUE|-|env:NAME",
              help="The client secret: `-` reads it from stdin (a terminal: not echoed), `env:NAME` from that "
                   "environment variable (kept if omitted).")
@click.option("--redirect-uri", "redirect_uris", multiple=True,
              help="A URI the app's users may be sent back to after authorizing (repeat; the first is the default; "
                   "replaces the stored list).")
@click.option("--scope", "scopes", multiple=True, help="A scope to ask for instead of the manifest's (repeat).")
def oauth_client_set(app_id: str, service_id: str, client_id: str | None, client_secret: str | None,
                     redirect_uris: tuple[str, ...], scopes: tuple[str, ...]) -> None:
    """Create or change APP_ID's OAuth client for SERVICE_ID."""
    _oauth_connector(service_id)
    secret = _credentials((f"client_secret={client_secret}",), None)["client_secret"] if client_secret else None
    with _vault_errors():
        store = _store()
        current = store.oauth_client(app_id, service_id)
        chosen_id = client_id or (current.client_id if current else None)
        if chosen_id is None:
            raise click.BadParameter("a new OAuth client needs its --client-id", param_hint="--client-id")
        client = store.set_oauth_client(app_id, service_id, chosen_id, secret,
                                        redirect_uris=list(redirect_uris) if redirect_uris else None,
                                        scopes=list(scopes) if scopes else None)
    _echo(client.public_view())


@oauth_client.command("show")
@click.argument("app_id")
@click.argument("service_id", required=False)
def oauth_client_show(app_id: str, service_id: str | None) -> None:
    """APP_ID's OAuth clients (or its one for SERVICE_ID), secrets left out."""
    with _vault_errors():
        store = _store()
        store.require_app(app_id)
        clients = store.oauth_clients(app_id)
    found = [c.public_view() for c in clients if service_id in (None, c.service_id)]
    if service_id is not None and not found:
        raise click.ClickException(f"app {app_id!r} has no OAuth client for {service_id}")
    _echo(found[0] if service_id is not None else found)


@oauth_client.command("delete")
@click.argument("app_id")
@click.argument("service_id")
def oauth_client_delete(app_id: str, service_id: str) -> None:
    """Remove APP_ID's OAuth client for SERVICE_ID (its connections keep their tokens until they expire)."""
    with _vault_errors():
        _store().delete_oauth_client(app_id, service_id)
    click.echo(f"deleted the {service_id} OAuth client of app {app_id}", err=True)


@contextmanager
def _vault_errors() -> Iterator[None]:
    try:
        yield
    except (VaultError, SecretKeyError, DatabaseUnavailableError) as exc:
        raise click.ClickException(str(exc)) from None


def _add_webhook_commands() -> None:
    from unigate.webhooks.cli import webhooks, worker

    main.add_command(webhooks)
    main.add_command(worker)


_add_webhook_commands()


if __name__ == "__main__":
    main()
