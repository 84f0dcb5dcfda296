"""Keeping OAuth2 connections' access tokens fresh: before expiry, and once after a downstream 401.

``TokenManager.fresh`` is called before a connection's operation: an access token expiring within the
manifest's ``refresh_skew`` is refreshed first. ``TokenManager.refresh(..., rejected=True)`` is called
when the tracker answered 401: the operation is then retried once with the new token.

Single flight, across processes: refreshes of one connection wait on one lock (:class:`RefreshLocks`:
an ``asyncio.Lock`` per connection in this process, then, when the gateway has a shared database, the
lease ``oauth-refresh:<connection id>`` in its ``webhook_leases`` table, so that one process of all
those sharing the vault refreshes at a time). Whoever gets the lock re-reads the connection from the
vault: if its access token is no longer the one that expired or was refused, another request (or
another process) has refreshed it already and that token is used; only otherwise is the token endpoint
called. The store writes the new tokens only if the stored access token is still the old one
(``ConnectionStore.replace_tokens``), so two processes never overwrite each other's refresh.

A lease rather than a lock held in a transaction: the token endpoint may take seconds, and SQLite's
write lock would stop every other write meanwhile. The lease runs out after ``LEASE_TTL`` (longer
than the token endpoint's timeout), so a process that dies while refreshing holds no one up for longer.

A refresh the provider refuses (the refresh token revoked or expired: ``invalid_grant``), or a
connection with no refresh token, marks the connection ``invalid`` and answers
``ConnectorCredentialsError``; a token endpoint that cannot be reached answers
``ConnectorExecutionError`` 502 and leaves the connection as it is.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from unigate.connector.base import Connector
from unigate.errors import ConnectorCredentialsError, ConnectorExecutionError
from unigate.mapping.spec import OAuth2Spec
from unigate.oauth.client import TIMEOUT, TokenClient, TokenEndpointError
from unigate.oauth.flow import OAuthFlows, oauth_actor
from unigate.vault.audit import acting_as
from unigate.vault.models import Connection

MAX_LOCKS = 10_000


LEASE_TTL = TIMEOUT + 15.0   # seconds a refresh lease is held at most (a dead holder's runs out)
LEASE_POLL = 0.05            # seconds between a waiter's attempts to take the lease (jittered)


class Leases(Protocol):
    """Named, expiring leases in the shared database (``unigate.webhooks.store.WebhookStore``)."""

    def acquire(self, name: str, owner: str, ttl: float) -> bool: ...
    def release_lease(self, name: str, owner: str) -> None: ...


class RefreshLocks:
    """One ``asyncio.Lock`` per connection id (bounded: idle locks of old connections are dropped), and
    with ``leases`` a lease per connection that other processes sharing the database respect."""

    def __init__(self, leases: Leases | None = None, *, ttl: float = LEASE_TTL) -> None:
        self._locks: OrderedDict[str, asyncio.Lock] = OrderedDict()
        self.leases = leases
        self.ttl = ttl
        self.owner = f"{os.getpid()}-{os.urandom(6).hex()}"

    def lock(self, connection_id: str) -> asyncio.Lock:
        lock = self._locks.get(connection_id)
        if lock is None:
            lock = self._locks[connection_id] = asyncio.Lock()
            while len(self._locks) > MAX_LOCKS:
                oldest, candidate = next(iter(self._locks.items()))
                if candidate.locked():
                    break
                del self._locks[oldest]
        self._locks.move_to_end(connection_id)
        return lock

    @asynccontextmanager
    async def hold(self, connection_id: str) -> AsyncIterator[None]:
        """This process's lock of the connection, then (with leases) the processes' lease on it."""
        async with self.lock(connection_id):
            if self.leases is None:
                yield
                return
            name = f"oauth-refresh:{connection_id}"
            await self._take(name)
            try:
                yield
            finally:
                await asyncio.to_thread(self.leases.release_lease, name, self.owner)

    async def _take(self, name: str) -> None:
        """Wait until the lease is ours (another process's runs out after ``ttl`` at the latest)."""
        assert self.leases is not None
        while not await asyncio.to_thread(self.leases.acquire, name, self.owner, self.ttl):
            await asyncio.sleep(LEASE_POLL * (0.5 + random.random()))


class TokenManager:
    def __init__(self, flows: OAuthFlows, tokens: TokenClient, locks: RefreshLocks | None = None, *,
                 clock: Any = time.time) -> None:
        self.flows = flows
        self.tokens = tokens
        self.locks = locks or RefreshLocks()
        self.clock = clock
        self.refreshes = 0   # token endpoint refresh calls made (observability, tests)

    def expiring(self, spec: OAuth2Spec, connection: Connection) -> bool:
        expires_at = connection.credentials.get("expires_at")
        return isinstance(expires_at, (int, float)) and expires_at - spec.refresh_skew <= self.clock()

    async def fresh(self, connector: Connector, connection: Connection) -> Connection:
        """The connection with an access token that does not expire within the skew."""
        spec = connector.spec.connection.oauth2
        if spec is None:
            return connection
        if not connection.credentials.get("access_token"):
            if any(connection.credentials.get(name) for name in connector.spec.connection.credentials):
                return connection   # a connector taking a key or OAuth (Linear): this one has a key
            raise ConnectorCredentialsError("Connection not authorized", f"the {connection.service_id} connection "
                                            "has no OAuth2 token yet: send the consumer to its authorize_url")
        if not self.expiring(spec, connection):
            return connection
        return await self.refresh(connector, connection)

    async def refresh(self, connector: Connector, connection: Connection, *, rejected: bool = False) -> Connection:
        """Refresh the connection's tokens (``rejected``: the tracker refused its access token), once
        for all the requests waiting on it."""
        spec = connector.spec.connection.oauth2
        assert spec is not None
        seen = connection.credentials.get("access_token")
        async with self.locks.hold(connection.id):
            current = await asyncio.to_thread(self.flows.store.get_connection, connection.id)
            token = current.credentials.get("access_token")
            if token != seen and token and not self.expiring(spec, current):
                return current   # refreshed meanwhile, by another request or process
            if not rejected and not self.expiring(spec, current):
                return current
            return await self._refresh(connector, spec, current)

    async def _refresh(self, connector: Connector, spec: OAuth2Spec, current: Connection) -> Connection:
        refresh_token = current.credentials.get("refresh_token")
        client = self.flows.store.oauth_client(current.app_id, current.service_id)
        if not refresh_token or client is None:
            reason = "no refresh token" if not refresh_token else "the app's OAuth client was removed"
            raise await self._invalid(current, f"its access token was refused and it cannot be refreshed ({reason})")
        token_url = self.flows.endpoint(connector, current.app_id, current.consumer_id, spec.token_url)
        self.refreshes += 1
        try:
            tokens = await self.tokens.refresh(spec, client, token_url, str(refresh_token))
        except TokenEndpointError as exc:
            if not exc.refused:
                raise ConnectorExecutionError("Token refresh failed", exc.message, status_code=502) from None
            raise await self._invalid(current, f"the token refresh was refused: {exc.message}") from None
        with acting_as(oauth_actor(current.app_id, current.consumer_id)):
            return await asyncio.to_thread(self.flows.store.replace_tokens, current.id,
                                           current.credentials.get("access_token"), tokens.credentials())

    async def _invalid(self, connection: Connection, reason: str) -> ConnectorCredentialsError:
        with acting_as(oauth_actor(connection.app_id, connection.consumer_id)):
            await asyncio.to_thread(self.flows.store.set_connection_state, connection.id, "invalid", reason[:500])
        return ConnectorCredentialsError(
            "Connection needs re-authorization",
            f"the {connection.service_id} connection is invalid: {reason}; send the consumer to its authorize_url")


def retryable(error: Exception) -> bool:
    """Whether an operation refused with ``error`` (a 401) may be run again after a refresh: not if one of
    its calls already changed something (a write answered 2xx/3xx before a later call was refused)."""
    if getattr(error, "partly_applied", False):   # unigate.connector.base.partly_applied
        return False
    session = getattr(error, "session", None)
    calls = getattr(session, "calls", None) or []
    return not any(c.method != "GET" and c.status_code is not None and c.status_code < 400 for c in calls)
