"""Dispatch: a resolved connection + a unified request -> the connector's result.

Picks the connector for ``connection.service_id``, checks the connection has the settings and
credentials the connector declares, builds the downstream session (base URL, auth headers, the
manifest's auth scheme component (``unigate.downstream.auth``), redaction of every credential
value), decodes the cursor, runs the operation and encodes the next/previous cursors.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unigate.components import COMPONENTS
from unigate.connection_state import ConnectionState, ConnectionStates
from unigate.connector.base import Connector
from unigate.connector.context import OperationContext, OperationResult, UnifiedRequest
from unigate.cursor import CursorCodec, CursorPosition
from unigate.downstream.auth import ConnectionAuth
from unigate.downstream.client import DownstreamSession
from unigate.downstream.conditional import Validators
from unigate.downstream.limiter import account_key
from unigate.downstream.models import Endpoint, ErrorPaths
from unigate.downstream.pool import ClientPool
from unigate.downstream.redact import Redactor
from unigate.errors import (
    ConnectionSettingsError,
    ConnectorCredentialsError,
    ConnectorNotFoundError,
    ConnectorOperationUnsupportedError,
    UnifiedError,
)
from unigate.mapping.spec import AuthSchemeSpec, SettingSpec
from unigate.mapping.template import TemplateError, compile_template, render_value
from unigate.oauth.client import placement_headers, placement_query
from unigate.oauth.refresh import retryable
from unigate.plugins.registry import ConnectorRegistry
from unigate.vault.models import Connection

if TYPE_CHECKING:
    from unigate.oauth.refresh import TokenManager


@dataclass
class Dispatched:
    result: OperationResult
    session: DownstreamSession
    cursors: dict[str, str | None] | None


class Dispatcher:
    def __init__(self, registry: ConnectorRegistry, pool: ClientPool, codec: CursorCodec,
                 states: ConnectionStates | None = None) -> None:
        self.registry = registry
        self.pool = pool
        self.codec = codec
        self.states = states if states is not None else ConnectionStates()  # per connection revision
        self.tokens: TokenManager | None = None   # OAuth2 token refresh (unigate.oauth), set by build_gateway
        self.account_salt = b""   # the key of tracker accounts' fingerprints (unigate.downstream.limiter), ditto

    def connector(self, service_id: str) -> Connector:
        connector = self.registry.get(service_id)
        if connector is None:
            raise ConnectorNotFoundError("Connector not found", f"no connector is installed for {service_id!r}")
        return connector

    async def dispatch(self, request: UnifiedRequest, connection: Connection) -> Dispatched:
        connector = self.connector(connection.service_id)
        if not connector.supports(request.resource, request.operation):
            raise ConnectorOperationUnsupportedError(
                "Operation not supported",
                f"{connector.spec.name} ({connector.service_id}) does not support {request.resource}.{request.operation}",
            )
        if self.tokens is None or connector.spec.connection.oauth2 is None:
            return await self._dispatch(connector, request, connection)
        connection = await self.tokens.fresh(connector, connection)   # OAuth2: refreshed before expiry
        if not connection.credentials.get("access_token"):   # a key instead (Linear takes either): no refresh
            return await self._dispatch(connector, request, connection)
        try:
            return await self._dispatch(connector, request, connection)
        except ConnectorCredentialsError as error:   # the token was refused: refresh it, retry once
            connection = await self.tokens.refresh(connector, connection, rejected=True)
            if not retryable(error):   # a write of the operation went through: not run twice
                raise
        return await self._dispatch(connector, request, connection)

    async def _dispatch(self, connector: Connector, request: UnifiedRequest, connection: Connection) -> Dispatched:
        state = self.state(connector, connection)
        session = self.session(connector, connection)
        position = CursorPosition()
        if request.operation == "all" and request.cursor:
            position = self.codec.decode(request.cursor, connection.service_id, request.scope)
        ctx = OperationContext(
            request=request, connection=connection, session=session,
            mapping=state.mapping(connector, request.resource, connection.custom_mappings),
            template_context={"settings": state.settings, "credentials": state.credentials, **request.path_params},
            position=position, lookups=state.lookups,
        )
        try:
            result = await connector.execute(ctx)
        except UnifiedError as error:
            error.session = session  # type: ignore[attr-defined]  # its calls: the request log, raw on errors
            raise
        cursors = self._cursors(request, connection, position, result) if request.operation == "all" else None
        return Dispatched(result, session, cursors)

    def state(self, connector: Connector, connection: Connection) -> ConnectionState:
        """The connection's state at its revision: settings and credentials with defaults applied and
        required ones checked, the endpoint rendered, on its first request (``unigate.connection_state``)."""
        state = self.states.get(connection)
        if state is None:
            context = template_context(connector, connection, None)
            endpoint = _endpoint(connector, connection, context, self.pool.limits.max_body)
            identity = {**endpoint.query, **endpoint.auth.fingerprint()} if endpoint.auth else endpoint.query
            account = account_key(connection.service_id, endpoint.base_url, endpoint.headers, identity,
                                  self.account_salt)
            state = self.states.put(connection, ConnectionState(context["settings"], context["credentials"], endpoint,
                                                                account=account))
        return state

    def session(self, connector: Connector, connection: Connection) -> DownstreamSession:
        """A new session of calls to the connection's tracker (one per unified or proxied request)."""
        state = self.state(connector, connection)
        return DownstreamSession(connection.service_id, self.pool.client(connection.service_id), state.endpoint,
                                 slot=self.pool.slot(connection.id, connection.service_id),
                                 limit=self.pool.account_limit(state.account, connection.service_id,
                                                               state.endpoint.rate_limit))

    def _cursors(self, request: UnifiedRequest, connection: Connection, position: CursorPosition,
                 result: OperationResult) -> dict[str, str | None]:
        def enc(p: CursorPosition | None) -> str | None:
            return None if p is None else self.codec.encode(connection.service_id, request.scope, p)

        previous = result.previous
        if previous is None and position.token is None and position.offset > 0:
            previous = CursorPosition(offset=max(0, position.offset - request.limit))
        current = result.current or (position if (position.offset or position.token or position.state) else None)
        return {"previous": enc(previous), "current": enc(current), "next": enc(result.next)}


def _endpoint(connector: Connector, connection: Connection, context: dict[str, Any], max_body: int) -> Endpoint:
    """What a connection's calls share: rendered once per connection revision."""
    http = connector.spec.http
    try:
        base_url = compile_template(http.base_url).render(context)
        oauth2 = connector.spec.connection.oauth2
        token = str(context["credentials"].get("access_token", "")) if oauth2 is not None else ""
        # where calls carry the access token; a connector taking a key or OAuth (Linear) declares the
        # key's header too: a connection without a token sends that one
        placed = placement_headers(oauth2, token) if oauth2 is not None and (
            token or oauth2.placement.query or oauth2.placement.header not in http.headers) else {}
        headers = {k: str(compile_template(v).render(context)) for k, v in http.headers.items() if k not in placed}
        query = {k: str(compile_template(v).render(context)) for k, v in http.query.items()}
        basic = None
        if http.basic_auth is not None:
            user = compile_template(http.basic_auth.username).render(context)
            password = compile_template(http.basic_auth.password).render(context)
            basic = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
        if oauth2 is not None and (placed or oauth2.placement.query):
            headers, query = {**headers, **placed}, {**query, **placement_query(oauth2, token)}
    except TemplateError as exc:
        raise ConnectionSettingsError("Connection settings incomplete", str(exc)) from None
    secrets = [str(v) for v in connection.credentials.values() if isinstance(v, (str, int)) and v != ""]
    secrets += [basic] if basic else []
    secrets += [str(connection.settings[k]) for k, s in connector.spec.connection.settings.items()
                if s.secret and connection.settings.get(k)]
    return Endpoint(base_url, headers, query, _timeout(connection, http.timeout),
                    ErrorPaths(http.errors.message, http.errors.code, http.errors.detail, http.errors.statuses), Redactor(secrets),
                    _max_body(connection, max_body), http.rate_limit,
                    Validators() if http.conditional else None, _auth(http.auth, context))


def _auth(auth: AuthSchemeSpec | None, context: dict[str, Any]) -> ConnectionAuth | None:
    """``http.auth``: the named scheme with the connection's credentials and its options rendered."""
    if auth is None:
        return None
    try:
        options = render_value(auth.options, context)
    except TemplateError as exc:
        raise ConnectionSettingsError("Connection settings incomplete", str(exc)) from None
    return ConnectionAuth(auth.scheme, COMPONENTS.get("auth", auth.scheme), context["credentials"], options)


def _timeout(connection: Connection, default: float) -> float:
    """A connection may lower or raise the downstream timeout with its ``timeout`` setting."""
    try:
        timeout = float(connection.settings.get("timeout", default))
    except (TypeError, ValueError):
        timeout = 0.0
    if not 0 < timeout < math.inf:  # also refuses NaN
        raise ConnectionSettingsError("Invalid connection setting", "timeout must be a positive number of seconds")
    return timeout


def _max_body(connection: Connection, default: int) -> int:
    """A connection may lower or raise the largest answer read from its tracker (``max_response_bytes``)."""
    value = connection.settings.get("max_response_bytes", default)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConnectionSettingsError("Invalid connection setting",
                                      "max_response_bytes must be a positive whole number of bytes")
    return value


def template_context(connector: Connector, connection: Connection, request: UnifiedRequest | None) -> dict[str, Any]:
    declared = connector.spec.connection
    settings = _with_defaults("settings", declared.settings, connection.settings, connector.service_id)
    credentials = _with_defaults("credentials", declared.credentials, connection.credentials, connector.service_id)
    return {"settings": settings, "credentials": credentials, **(request.path_params if request else {})}


def _with_defaults(kind: str, declared: dict[str, SettingSpec], given: dict[str, Any], service_id: str) -> dict[str, Any]:
    values = {k: s.default for k, s in declared.items() if s.default is not None}
    values.update({k: v for k, v in given.items() if v is not None and v != ""})
    missing = sorted(k for k, s in declared.items() if s.required and k not in values)
    if missing:
        raise ConnectionSettingsError(
            "Connection settings incomplete",
            f"the {service_id} connection lacks required {kind}: {', '.join(missing)}; "
            f"set them with `unigate vault connection-update`",
        )
    return values
