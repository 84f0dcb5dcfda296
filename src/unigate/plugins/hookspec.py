"""The connector plugin contract — everything a connector author needs is on this page.

A connector comes in by one of three doors:

- **a directory of manifests**: ``UNIGATE_CONNECTORS_DIR=/etc/unigate/connectors`` — each
  ``*.yaml`` there (or ``<name>/manifest.yaml``) is a connector; no Python, no package;
- **a package whose entry point names its manifest** (YAML-only, shipped as package data)::

    [project.entry-points."unigate.connectors"]
    acme = "unigate_acme:manifest.yaml"

- **a package whose entry point names a plugin module** implementing the hooks below (for
  quirks in Python, a simulator for tests, or components other manifests may use)::

    [project.entry-points."unigate.connectors"]
    acme = "unigate_acme.plugin"

    [tool.setuptools.package-data]
    unigate_acme = ["manifest.yaml"]

    # unigate_acme/plugin.py — a plugin imports from unigate.kit only
    from unigate.kit import ConnectorDefinition, hookimpl, packaged_mapping

    @hookimpl
    def unigate_connectors():
        return [ConnectorDefinition(service_id="acme", mapping=packaged_mapping("unigate_acme", "manifest.yaml"))]

    @hookimpl
    def register_transforms():          # optional: components any manifest may name
        return {"acme_state": AcmeState()}

The mapping file (reference: docs/mapping-files.md) declares the base URL, auth headers, error
body paths, and per resource (collections, tickets, comments, users, tags) the downstream
endpoint of each operation (all, one, add, update, delete) and the fields in both directions.
A conventional REST tracker needs nothing more. Operations a file does not declare answer
``ConnectorOperationUnsupportedError``; filters and sorts it does not declare answer
``UnsupportedFiltersError`` / ``UnsupportedSortFieldError``.

For what YAML cannot say, register a named component (see ``register_*`` below) the manifest
refers to; for the genuinely procedural, subclass :class:`unigate.kit.Connector` and pass it as
``connector_class``. Declare an operation's own implementation with ``@implements``::

    @implements("tickets.update", calls=("tickets_close",))   # calls beyond the manifest's
    async def tickets_update(self, ctx: OperationContext) -> OperationResult: ...

Inside:

- the context carries the author's tools: ``ctx.path(template)`` and ``ctx.query({...})`` render
  a downstream path (each value one encoded segment) and query from templates; ``await
  ctx.page(fetch, pagination, records)`` is one page at the request's cursor and limit (cursors
  stay exact); ``raise ctx.not_found("Ticket", detail)`` is the typed 404; ``ctx.targeted(call_id)``
  whether a body pass_through asks for a call;
- ``await self.run_declared(ctx)`` runs the declarative implementation (then adjust its result);
- ``await ctx.call(call_id, method, path, params=..., body=..., headers=...)`` makes one
  downstream call with auth, body pass_through for that ``call_id``, raw capture and typed errors
  included (``headers`` add to the connection's for this call, e.g. ``If-Match``);
  ``await self.call_declared(ctx, self.operation(resource, operation))`` makes the declared one;
- ``await self.lookup(ctx, call_id, path, records)`` reads a reference list (statuses, keywords)
  once per connection per 5 minutes (``self.forget(ctx, call_id)`` after changing one);
- ``self.map_records(ctx, records)`` maps downstream records; ``self.downstream_body(ctx, op)``
  maps the request body (only the fields present); ``await self.run_calls(ctx, calls)`` runs
  several writes and reports which were applied if one fails; ``ctx.targeted(call_id)`` says
  whether a body pass_through asks for a call even when no mapped field changed.

Name every downstream call with a stable ``call_id``; ``unigate connectors readme`` writes the
table of them into the connector's README:
clients target calls with ``pass_through[].operation_id``.

Testing: give the definition a ``sandbox`` (a simulator of the tracker), then in your tests run
the connector acceptance suite, driven by what your manifest declares::

    from unigate.testing import ConnectorAcceptance

    class TestAcmeAcceptance(ConnectorAcceptance):
        service_id = "acme"

and for what is particular to your tracker ``tracker, sim, harness, client =
unigate.testing.connector_fixtures("acme")`` runs a real gateway in front of the simulator,
``test_faults = injected_fault_tests("/issue-tracking/collections/main/tickets")`` checks the
shared fault contract, and ``with unigate.testing.cassettes.recorded_client(tmp_path, "acme",
"lifecycle") as client:`` replays ``cassettes/lifecycle.yaml`` beside the test module offline.
For a tracker whose real server you can run locally, give a ``live`` profile instead or as well:
``live, client = unigate.testing.live_fixtures("acme")`` (or ``tracker = "live"`` on the
acceptance class) runs the same tests against the server when it is running and from cassettes
when it is not. ``unigate new-connector acme`` scaffolds all of this; the guide is docs/plugins.md.

Loading rules: a plugin that fails to import, whose hook raises, or whose mapping file is
invalid is reported (at start-up and by ``unigate connectors``) and skipped; the gateway serves
the other connectors. A broken *built-in* connector (module under ``unigate_connectors``) stops
the gateway from starting, because that is our bug. Two plugins claiming one ``service_id``:
the first loaded wins and the second is reported.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from unigate.connector.base import Connector

PROJECT = "unigate"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclass(frozen=True)
class SandboxProfile:
    """How ``unigate sandbox`` runs this connector against a local simulator.

    ``create_app()`` returns the simulator's ASGI app; ``settings`` and ``credentials`` are the
    connection to create for the demo consumer, where ``{url}`` is replaced by the simulator's
    base URL. ``curl_path`` is an example path for the printed curl command.
    """

    create_app: Callable[[], ASGIApp]
    settings: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, Any] = field(default_factory=dict)
    curl_path: str = "/issue-tracking/collections"

    def connection(self, url: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """(settings, credentials) of a connection to the simulator served at ``url``."""

        def render(values: dict[str, Any]) -> dict[str, Any]:
            return {k: v.replace("{url}", url) if isinstance(v, str) else v for k, v in values.items()}

        return render(self.settings), render(self.credentials)


@dataclass(frozen=True)
class LiveProfile:
    """How to reach a real server of this tracker, for live tests and ``unigate sandbox``.

    The server is described by environment variables ``<env_prefix>_*`` (``REDMINE_BASE_URL``,
    ``REDMINE_API_KEY``...), taken from the process environment or else from
    ``<trackers dir>/<name>.env`` (``KEY=VALUE`` lines, as ``connectors/*/tracker/start.sh`` write
    them; the directory is ``$UNIGATE_TRACKERS_DIR`` or ``./.trackers``). ``settings`` and
    ``credentials`` are templates over those variables (``{"base_url": "{REDMINE_BASE_URL}"}``).
    ``secret_vars`` never reach a cassette; ``{<env_prefix>_BASE_URL}`` must answer a TCP connect
    for the server to count as running.
    """

    env_prefix: str
    settings: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, Any] = field(default_factory=dict)
    secret_vars: tuple[str, ...] = ()
    curl_path: str = "/issue-tracking/collections"

    @property
    def name(self) -> str:
        return self.env_prefix.lower()

    def environment(self) -> dict[str, str]:
        """The server's variables: the process environment over the trackers dir's env file."""
        directory = Path(os.environ.get("UNIGATE_TRACKERS_DIR", ".trackers"))
        values: dict[str, str] = {}
        env_file = directory / f"{self.name}.env"
        if env_file.is_file():
            for line in env_file.read_text().splitlines():
                key, sep, value = line.partition("=")
                if sep and key.startswith(self.env_prefix + "_"):
                    values[key.strip()] = value.strip()
        values.update({k: v for k, v in os.environ.items() if k.startswith(self.env_prefix + "_")})
        return values

    def running(self, env: Mapping[str, str] | None = None) -> bool:
        """Whether the server the environment describes accepts connections (0.5 s budget)."""
        env = self.environment() if env is None else env
        url = env.get(f"{self.env_prefix}_BASE_URL")
        if not url:
            return False
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        try:
            with socket.create_connection((parts.hostname or "localhost", parts.port or 80), timeout=0.5):
                return True
        except OSError:
            return False

    def connection(self, env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(settings, credentials) of a connection to the server ``env`` describes."""

        def render(values: dict[str, Any]) -> dict[str, Any]:
            return {k: v.format_map(env) if isinstance(v, str) else v for k, v in values.items()}

        return render(self.settings), render(self.credentials)


@dataclass(frozen=True)
class ConnectorDefinition:
    """What a plugin registers: one per tracker.

    ``service_id`` must equal the mapping file's; it is the ``x-apideck-service-id`` clients use.
    ``mapping`` is the path of the mapping file (or its parsed ``dict``).
    ``connector_class`` defaults to the purely declarative :class:`unigate.connector.Connector`.
    ``sandbox`` (optional) returns a :class:`SandboxProfile`, so ``unigate sandbox`` and the
    recorded tests can run the connector against a simulator; it is called only by them, so a
    production gateway never imports simulator code. ``live`` (optional) describes a real server
    of the tracker (:class:`LiveProfile`): ``unigate.testing.live_fixtures`` runs the connector's
    live tests against it, or replays them from cassettes when it is not running, and
    ``unigate sandbox`` connects the demo consumer to it when it is running.
    """

    service_id: str
    mapping: Path | dict[str, Any]
    connector_class: type[Connector] | None = None
    sandbox: Callable[[], SandboxProfile] | None = None
    live: LiveProfile | None = None


def packaged_mapping(package: str, name: str) -> Path:
    """The path of a mapping file shipped as package data (``packaged_mapping("unigate_acme", "acme.yaml")``)."""
    return Path(str(files(package).joinpath(name)))


@hookspec
def unigate_connectors() -> list[ConnectorDefinition]:  # type: ignore[empty-body]
    """Return the connectors this plugin provides.

    Called once at start-up. Must be cheap and side-effect free: no network, no threads.
    """


# -- components (datasette-style register_* hooks) -------------------------------------------------
# Each returns ``{name: component}``; the components join the one registry (unigate.components)
# every manifest may name, whichever package registered them. A name taken twice fails the
# second plugin's load (reported, skipped). Called once at start-up, before any manifest is read.

@hookspec
def register_transforms() -> dict[str, Any]:  # type: ignore[empty-body]
    """Field transforms a manifest names with ``transform: <name>``."""


@hookspec
def register_record_preparers() -> dict[str, Any]:  # type: ignore[empty-body]
    """Record preparation steps a manifest names with ``prepare: [<name>]``."""


@hookspec
def register_paginators() -> dict[str, Any]:  # type: ignore[empty-body]
    """Paginators a manifest names with ``pagination: {style: <name>}``."""


@hookspec
def register_request_builders() -> dict[str, Any]:  # type: ignore[empty-body]
    """Request builders a manifest names with ``request: {style: <name>}``."""


@hookspec
def register_auth_schemes() -> dict[str, Any]:  # type: ignore[empty-body]
    """Auth schemes a manifest names with ``http.auth: {scheme: <name>, options: {...}}``: each a
    :class:`unigate.kit.AuthScheme`, called as ``scheme(request, credentials, options)`` before every
    attempt of every downstream call to set headers or query parameters on the
    :class:`unigate.kit.AuthRequest` (a signature over its method, path, query and body)."""


@hookspec
def register_webhook_handlers() -> dict[str, Any]:  # type: ignore[empty-body]
    """Native webhook handlers by service id: ``{service_id: handler}``, each an object with
    ``verify(headers, body, connection) -> bool`` and ``normalise(headers, body, connection) ->
    list[InboundEvent]`` (:class:`unigate.webhooks.inbound.WebhookHandler`). The tracker POSTs to
    ``/webhooks/inbound/{service_id}/{connection_id}``; verified events reach the app's subscribers
    as the poller's do."""
