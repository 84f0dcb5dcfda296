"""``ConnectionStore``: the vault, on SQLite or PostgreSQL (``unigate.db``), with a read cache that stays correct.

Lookups on the request path (app by id + key, a consumer's connections) are cached in memory and
the cache is dropped whenever the vault changes: our own writes drop it, and other processes'
changes (the CLI, another gateway worker, another replica) move ``vault_generation`` (triggers). On
SQLite the generation is read only after ``PRAGMA data_version`` says another connection committed; on
PostgreSQL it is read on every lookup, so a change made anywhere is seen by the next request.
The cache is bounded (least recently used entries go first) and holds only what exists: an
unknown app id or a consumer without connections is looked up again rather than remembered, so
requests naming made-up ids cannot fill memory.

An SQLite vault file is created readable by its owner only (0600; SQLite gives its ``-wal`` and
``-shm`` files the database file's mode). Opening the vault checks the secret key against a
check value sealed into it (``vault_meta.key_check``): a wrong or rotated-away key is refused
with ``WrongSecretKeyError`` before anything is read or written. A vault without a check value
(new, or from before it existed) adopts the key if the key opens every stored credential.

Every change is recorded in ``vault_audit`` in the transaction that makes it (``unigate.vault.audit``:
who, when, what changed, never a secret). A connection is changed by ``modify_connection``, which
reads it (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write lock is taken up front), applies the
change and writes it in one write transaction, so concurrent partial updates (the Vault API's requests,
the CLI, another worker or replica) never lose one another's writes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.engine import Connection as SAConnection
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql import Executable

from unigate.db import is_sqlite, open_database, parse_database, transaction, upsert
from unigate.db.migrate import current as current_revision
from unigate.db.schema import (
    apps,
    connection_status,
    connections,
    consumers,
    oauth_clients,
    oauth_flows,
    request_log,
    utc_now,
    utc_now_ms,
    vault_audit,
    vault_generation,
    vault_meta,
    webhook_subscriptions,
)
from unigate.vault.audit import current_actor, diff_names, diff_values
from unigate.vault.crypto import SecretBox, WrongSecretKeyError
from unigate.vault.models import App, Connection, ConnectionStatus, Consumer, ConsumerRecord, OAuthClient, OAuthFlow

CustomMappingValidator = Callable[[dict[str, str]], None]

log = logging.getLogger("unigate.vault")

CACHE_ENTRIES = 10_000  # lookups kept in memory; least recently used go first
REVOKED_KEY_HASH = "-" * 64  # an api_key_hash no key hashes to (sha256 hex is [0-9a-f]{64})


class VaultError(ValueError):
    """A vault write was refused; the message says why."""


class RevisionConflictError(VaultError):
    """A connection change named a revision the connection is no longer at (someone changed it since)."""

    def __init__(self, message: str, current: int) -> None:
        super().__init__(message)
        self.current = current


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_api_key() -> str:
    return "ugk_" + secrets.token_urlsafe(32)


class LRUCache:
    """A dict bounded to ``max_entries``; reading or writing an entry makes it the newest."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Any:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


_CONNECTION_COLUMNS = (connections.c.id, connections.c.app_id, connections.c.consumer_id, connections.c.service_id,
                       connections.c.unified_api, connections.c.enabled, connections.c.settings,
                       connections.c.credentials, connections.c.custom_mappings, connections.c.revision)
_CONSUMER_COLUMNS = (consumers.c.app_id, consumers.c.id, consumers.c.metadata, consumers.c.created_at,
                     func.coalesce(consumers.c.updated_at, consumers.c.created_at))
_KEY_CHECK = select(vault_meta.c.value).where(vault_meta.c.name == "key_check")


class ConnectionStore:
    def __init__(
        self,
        path: str | Path,
        box: SecretBox,
        *,
        validate_custom_mappings: CustomMappingValidator | None = None,
        cache_entries: int = CACHE_ENTRIES,
    ) -> None:
        self.path = str(path)  # UNIGATE_DATABASE as given (a PostgreSQL URL may hold a password: never shown)
        self.database = parse_database(path)
        self._engine = open_database(self.database)
        self._db = self._engine.connect()  # the store's one connection (SQLite's data_version is per connection)
        try:
            self.schema_revision = current_revision(self._db)
            self._sqlite = is_sqlite(self._db)
            self._lock = threading.RLock()
            self._depth = 0  # transactions open on self._db (inner ones join the outer one)
            self._box = box
            self._validate_custom_mappings = validate_custom_mappings
            # service id -> names of its settings declared `secret` (their values stay out of the audit trail)
            self.secret_settings: Callable[[str], frozenset[str]] = lambda service_id: frozenset()
            self._cache = LRUCache(cache_entries)
            self._seen_version: int | None = None
            self._seen_generation: int | None = None
            self._check_key()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._db.close()
        self._engine.dispose()

    @property
    def cached_entries(self) -> int:
        """How many lookups the cache holds (bounded by ``cache_entries``)."""
        return len(self._cache)

    def _run(self, statement: Executable) -> CursorResult[*tuple[Any, ...]]:
        """Execute on the store's connection. Outside a transaction (a lone read), a connection the server
        dropped (a restart, a failover) is replaced and the read made once more on the new one."""
        with self._lock:
            try:
                return self._live().execute(statement)
            except DBAPIError as exc:
                if self._depth or not exc.connection_invalidated:
                    raise
                return self._live().execute(statement)

    def _live(self) -> SAConnection:
        """The store's connection, ready for a statement: after the server dropped it, the failed (autocommit)
        transaction is cleared so that the next statement connects again."""
        if self._db.invalidated and not self._depth:
            self._db.rollback()
        return self._db

    def _row(self, statement: Executable) -> Sequence[Any] | None:
        return self._run(statement).first()

    # -- transactions and the secret key -------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction (SQLite ``BEGIN IMMEDIATE``, PostgreSQL ``BEGIN``): all of it is committed or
        none of it. Inside another, it is part of that one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            connection = self._live()
            self._depth = 1
            try:
                with transaction(connection):
                    yield
            finally:
                self._depth = 0
                self._cache.clear()

    def _wrong_key(self) -> WrongSecretKeyError:
        return WrongSecretKeyError(
            f"the secret key does not match the vault {self.database}: stored credentials cannot be decrypted "
            "with this secret key. Use the key the vault was created with, or the one it was last rotated "
            "to (`unigate vault rotate-key`); refusing to use the vault with this key"
        )

    def _verify_key(self) -> None:
        """In a transaction: raise unless this store's key is the vault's key."""
        if not self.key_matches():
            raise self._wrong_key()

    def _check_key(self) -> None:
        if self._row(_KEY_CHECK) is None:
            with self._transaction():  # adopt the key, once, if it opens what is stored
                if self._row(_KEY_CHECK) is None:
                    for (token,) in self._run(select(connections.c.credentials)).all():
                        if not self._box.can_open(token):
                            raise self._wrong_key()
                    self._run(upsert(self._db, vault_meta).values(name="key_check", value=self._box.check_value())
                              .on_conflict_do_nothing())
        self._verify_key()

    def key_matches(self) -> bool:
        """Whether this store's key is still the vault's (false after another process rotated it)."""
        row = self._row(_KEY_CHECK)
        return row is not None and self._box.opens(row[0])

    def derive_key(self, purpose: str) -> bytes:
        """A 32-byte key for ``purpose`` derived from the vault's secret key (the connect page's sessions)."""
        return self._box.derive(purpose)

    def rotate_key(self, new_box: SecretBox) -> int:
        """Re-encrypt every credential and the check value with ``new_box``'s key, in one
        transaction (on any failure nothing changes). Returns the number of connections."""
        with self._transaction():
            self._verify_key()
            rows = self._run(select(connections.c.id, connections.c.credentials).with_for_update()).all()
            for connection_id, token in rows:
                try:
                    sealed = self._box.reseal(token, new_box)
                except WrongSecretKeyError:
                    raise WrongSecretKeyError(f"the credentials of connection {connection_id} cannot be decrypted "
                                              "with the current key; nothing was changed") from None
                self._run(update(connections).where(connections.c.id == connection_id).values(credentials=sealed))
            self._reseal(new_box)
            self._run(update(vault_meta).where(vault_meta.c.name == "key_check").values(value=new_box.check_value()))
            self._audit("vault.key_rotated", "vault", changes={"connections_resealed": len(rows)})
        self._box = new_box
        return len(rows)

    def _reseal(self, new_box: SecretBox) -> None:
        """In ``rotate_key``'s transaction: OAuth client secrets, flow verifiers and webhook signing secrets
        sealed with ``new_box``."""
        sealed = ((oauth_clients, (oauth_clients.c.app_id, oauth_clients.c.service_id), "client_secret"),
                  (oauth_flows, (oauth_flows.c.id,), "verifier"),
                  (webhook_subscriptions, (webhook_subscriptions.c.id,), "secret"))
        for table, keys, column in sealed:
            for row in self._run(select(*keys, table.c[column])).all():
                where = [key == value for key, value in zip(keys, row, strict=False)]
                self._run(update(table).where(*where).values({column: self._box.reseal(row[-1], new_box)}))

    # -- cache ---------------------------------------------------------------------------------
    def _fresh_cache(self) -> LRUCache:
        """The cache, emptied if another connection (the CLI, another worker, another replica) changed the
        vault since. SQLite: only when ``data_version`` says another connection committed is the generation
        read; PostgreSQL: the generation is read on every lookup (one indexed single-row read)."""
        if self._sqlite:
            version = self._data_version()
            if version == self._seen_version:
                return self._cache
            self._seen_version = version
        # a commit elsewhere; the cache goes only if it changed the vault, not just the request log
        generation = self._run(select(vault_generation.c.n)).scalar()
        if generation != self._seen_generation:
            self._cache.clear()
            self._seen_generation = generation
        return self._cache

    def _data_version(self) -> int:
        """SQLite's ``PRAGMA data_version`` on the store's connection, read through the driver itself: it is
        read on every lookup, and a statement through SQLAlchemy (a compiled statement, a cursor result)
        cost ~20 times the read (docs/benchmarks.md)."""
        with self._lock:
            driver = self._live().connection.dbapi_connection
            assert driver is not None
            cursor = driver.execute("PRAGMA data_version")
            try:
                return int(cursor.fetchone()[0])
            finally:
                cursor.close()  # no statement left open on the connection (a BEGIN IMMEDIATE would then fail)

    def _write(self, statement: Executable, *, sealed: bool = False,
               audit: dict[str, Any] | None = None) -> CursorResult[*tuple[Any, ...]]:
        """Run one write; ``sealed`` (it stores credentials): only if our key is still the vault's,
        so a process holding a rotated-away key cannot store rows no one else can read. ``audit``:
        the keywords of its audit record, written in the same transaction if a row changed. A
        constraint it breaks is a ``VaultError`` (inside a larger transaction, only this write is undone)."""
        with self._lock, self._transaction(), self._savepoint():
            if sealed:
                self._verify_key()
            cursor = self._run(statement)
            if audit is not None and cursor.rowcount:
                self._audit(**audit)
        self._cache.clear()
        return cursor

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        """Around one write inside a transaction: a constraint error undoes that write only (PostgreSQL would
        otherwise abort the whole transaction) and becomes a ``VaultError``."""
        self._db.exec_driver_sql("SAVEPOINT vault_write")
        try:
            yield
        except IntegrityError as exc:
            self._db.exec_driver_sql("ROLLBACK TO SAVEPOINT vault_write")
            raise VaultError(str(exc.orig).strip()) from exc
        self._db.exec_driver_sql("RELEASE SAVEPOINT vault_write")

    # -- apps ----------------------------------------------------------------------------------
    def create_app(self, name: str, app_id: str | None = None, api_key: str | None = None, *,
                   strict: bool = False, services: Sequence[str] | None = None) -> tuple[App, str]:
        """Create an app; returns it with its API key, which is stored only as a hash. ``strict``: its
        writes a tracker cannot store as sent are refused instead of warned about. ``services``: the
        connectors it offers its consumers (None: every installed one)."""
        app_id = app_id or secrets.token_urlsafe(18)
        api_key = api_key or new_api_key()
        chosen = _services(services)
        changes: dict[str, Any] = {"name": {"to": name}, "strict": {"to": strict}}
        if chosen is not None:
            changes["services"] = {"to": list(chosen)}
        try:
            self._write(insert(apps).values(id=app_id, name=name, api_key_hash=hash_api_key(api_key),
                                            strict=int(strict), services=_services_column(chosen)),
                        audit={"action": "app.created", "target": app_id, "app_id": app_id, "changes": changes})
        except VaultError:
            if self.app_exists(app_id):
                raise VaultError(f"an app with id {app_id!r} already exists; choose another id") from None
            raise
        return App(app_id, name, strict, chosen), api_key

    def app_exists(self, app_id: str) -> bool:
        return self._row(select(apps.c.id).where(apps.c.id == app_id)) is not None

    def require_app(self, app_id: str) -> None:
        """Raise ``VaultError`` with a sentence unless the app exists."""
        if not self.app_exists(app_id):
            raise VaultError(_no_app(app_id))

    def require_consumer(self, app_id: str, consumer_id: str, *, to_connect: bool = False) -> None:
        """Raise ``VaultError`` with a sentence unless the app and its consumer exist
        (``to_connect``: the sentence says how to create the consumer)."""
        self.require_app(app_id)
        if self._row(select(consumers.c.id).where(*_consumer_is(app_id, consumer_id))) is None:
            hint = (f"create it with `unigate vault consumer-create {app_id} {consumer_id}`" if to_connect
                    else f"`unigate vault consumer-list {app_id}` lists them")
            raise VaultError(f"app {app_id!r} has no consumer {consumer_id!r}; {hint}")

    def _count(self, *where: ColumnElement[bool]) -> int:
        return int(self._run(select(func.count()).select_from(connections).where(*where)).scalar_one())

    def delete_app(self, app_id: str) -> tuple[int, int]:
        """Delete an app with its consumers and their connections, in one transaction.
        Returns (consumers, connections) deleted."""
        with self._transaction():
            self.require_app(app_id)
            consumer_count = int(self._run(select(func.count()).select_from(consumers)
                                           .where(consumers.c.app_id == app_id)).scalar_one())
            connection_count = self._count(connections.c.app_id == app_id)
            self._run(delete(connections).where(connections.c.app_id == app_id))
            self._run(delete(consumers).where(consumers.c.app_id == app_id))
            self._run(delete(apps).where(apps.c.id == app_id))
            self._audit("app.deleted", app_id, app_id=app_id,
                        changes={"consumers_deleted": consumer_count, "connections_deleted": connection_count})
        return consumer_count, connection_count

    def rotate_api_key(self, app_id: str) -> str:
        """Give the app a new API key (returned, stored only as a hash); the old one stops working."""
        api_key = new_api_key()
        if self._write(update(apps).where(apps.c.id == app_id).values(api_key_hash=hash_api_key(api_key)),
                       audit={"action": "app.api_key_rotated", "target": app_id, "app_id": app_id}).rowcount != 1:
            raise VaultError(f"no app {app_id!r}")
        return api_key

    def revoke_api_key(self, app_id: str) -> None:
        """Make the app's API key stop working, with no replacement (``rotate_api_key`` issues one)."""
        if self._write(update(apps).where(apps.c.id == app_id).values(api_key_hash=REVOKED_KEY_HASH),
                       audit={"action": "app.api_key_revoked", "target": app_id, "app_id": app_id}).rowcount != 1:
            raise VaultError(f"no app {app_id!r}")

    def authenticate(self, app_id: str, api_key: str) -> App | None:
        """The app if ``api_key`` is its key, else None (constant-time comparison)."""
        with self._lock:
            return self._authenticate(self._fresh_cache(), app_id, api_key)

    def lookup(self, app_id: str, api_key: str, consumer_id: str,
               unified_api: str = "issue-tracking") -> tuple[App | None, list[Connection]]:
        """A request's vault work in one step (one freshness check): the app, if the key is its
        key, and then the consumer's connections for the unified API."""
        with self._lock:
            cache = self._fresh_cache()
            app = self._authenticate(cache, app_id, api_key)
            if app is None or not consumer_id:
                return app, []
            return app, self._connections(cache, app_id, consumer_id, unified_api)

    def _authenticate(self, cache: LRUCache, app_id: str, api_key: str) -> App | None:
        key = ("app", app_id)
        row = cache.get(key)
        if row is None:
            row = self._row(select(apps.c.api_key_hash, *_APP_COLUMNS).where(apps.c.id == app_id))
            if row is not None:  # unknown ids are not remembered
                cache.put(key, tuple(row))
        candidate = hash_api_key(api_key)
        expected = row[0] if row else hash_api_key("")  # compare anyway: no timing hint
        if row is None or not hmac.compare_digest(candidate, expected):
            return None
        return _app(row[1:])

    def set_strict(self, app_id: str, strict: bool) -> None:
        """Refuse this app's writes a tracker cannot store as sent, or answer them with meta.warnings
        (``unigate vault app-update --[no-]strict``; a request's ``x-unigate-strict`` header wins)."""
        self._set_app_flag("strict", app_id, strict)

    def _set_app_flag(self, column: str, app_id: str, value: bool) -> None:
        if self._write(update(apps).where(apps.c.id == app_id).values({column: int(value)}),
                       audit={"action": "app.updated", "target": app_id, "app_id": app_id,
                              "changes": {column: {"to": value}}}).rowcount != 1:
            raise VaultError(_no_app(app_id))

    def get_app(self, app_id: str) -> App:
        row = self._row(select(*_APP_COLUMNS).where(apps.c.id == app_id))
        if row is None:
            raise VaultError(_no_app(app_id))
        return _app(row)

    def set_services(self, app_id: str, services: Sequence[str] | None) -> App:
        """The connectors the app offers its consumers (None: every installed one): the Vault API and the
        connect page list only these, and the unified API refuses the others
        (``unigate vault app-update --services``)."""
        with self._transaction():
            before = self.get_app(app_id)
            chosen = _services(services)
            if chosen != before.services:
                self._write(update(apps).where(apps.c.id == app_id).values(services=_services_column(chosen)),
                            audit={"action": "app.updated", "target": app_id, "app_id": app_id, "changes": {
                                "services": {"from": _shown(before.services), "to": _shown(chosen)}}})
        return replace(before, services=chosen)

    def set_request_log(self, app_id: str, enabled: bool) -> None:
        """Record this app's requests in the request log, or not (``unigate vault app-update --[no-]logs``)."""
        self._set_app_flag("request_log", app_id, enabled)

    def request_log_enabled(self, app_id: str) -> bool:
        row = self._row(select(apps.c.request_log).where(apps.c.id == app_id))
        if row is None:
            raise VaultError(_no_app(app_id))
        return bool(row[0])

    def list_apps(self) -> list[App]:
        rows = self._run(select(*_APP_COLUMNS).order_by(apps.c.id)).all()
        return [_app(r) for r in rows]

    # -- consumers -----------------------------------------------------------------------------
    def create_consumer(self, app_id: str, consumer_id: str, metadata: dict[str, Any] | None = None) -> Consumer:
        try:
            self._write(
                insert(consumers).values(app_id=app_id, id=consumer_id, metadata=orjson.dumps(metadata or {}).decode()),
                audit={"action": "consumer.created", "target": consumer_id, "app_id": app_id,
                       "consumer_id": consumer_id, "changes": {"metadata": diff_values({}, metadata or {})}},
            )
        except VaultError:
            self.require_app(app_id)
            if self.consumer_exists(app_id, consumer_id):
                raise VaultError(f"app {app_id!r} already has a consumer {consumer_id!r}") from None
            raise
        return Consumer(app_id, consumer_id, metadata or {})

    def delete_consumer(self, app_id: str, consumer_id: str) -> int:
        """Delete a consumer with its connections, in one transaction. Returns the connections deleted."""
        with self._transaction():
            self.require_consumer(app_id, consumer_id)
            of_consumer = (connections.c.app_id == app_id, connections.c.consumer_id == consumer_id)
            count = self._count(*of_consumer)
            self._run(delete(connections).where(*of_consumer))
            self._run(delete(consumers).where(*_consumer_is(app_id, consumer_id)))
            self._audit("consumer.deleted", consumer_id, app_id=app_id, consumer_id=consumer_id,
                        changes={"connections_deleted": count})
        return count

    def list_consumers(self, app_id: str) -> list[Consumer]:
        rows = self._run(select(consumers.c.app_id, consumers.c.id, consumers.c.metadata)
                         .where(consumers.c.app_id == app_id).order_by(consumers.c.id)).all()
        return [Consumer(r[0], r[1], orjson.loads(r[2])) for r in rows]

    def consumer_exists(self, app_id: str, consumer_id: str) -> bool:
        with self._lock:
            cache = self._fresh_cache()
            key = ("consumer", app_id, consumer_id)
            if cache.get(key) is None:
                if self._row(select(consumers.c.id).where(*_consumer_is(app_id, consumer_id))) is None:
                    return False  # not remembered
                cache.put(key, True)
            return True

    # -- connections ---------------------------------------------------------------------------
    def create_connection(
        self,
        app_id: str,
        consumer_id: str,
        service_id: str,
        *,
        settings: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        custom_mappings: dict[str, str] | None = None,
        enabled: bool = True,
        unified_api: str = "issue-tracking",
    ) -> Connection:
        custom_mappings = custom_mappings or {}
        self._check_custom_mappings(custom_mappings)
        connection_id = str(uuid.uuid4())
        try:
            self._write(
                insert(connections).values(
                    id=connection_id, app_id=app_id, consumer_id=consumer_id, service_id=service_id,
                    unified_api=unified_api, enabled=int(enabled), settings=orjson.dumps(settings or {}).decode(),
                    credentials=self._box.seal(credentials or {}), custom_mappings=orjson.dumps(custom_mappings).decode()),
                sealed=True,
                audit={"action": "connection.created", "target": connection_id, "app_id": app_id,
                       "consumer_id": consumer_id, "service_id": service_id,
                       "changes": self._connection_changes(service_id, {}, {}, {}, None, settings or {},
                                                           credentials or {}, custom_mappings, enabled)},
            )
        except VaultError:
            self._explain_refused_connection(app_id, consumer_id, service_id, unified_api)
            raise
        return self.get_connection(connection_id)

    def _explain_refused_connection(self, app_id: str, consumer_id: str, service_id: str, unified_api: str) -> None:
        """After a refused insert: raise the sentence saying why (no consumer; already connected)."""
        self.require_consumer(app_id, consumer_id, to_connect=True)
        existing = self._row(select(connections.c.id).where(
            connections.c.app_id == app_id, connections.c.consumer_id == consumer_id,
            connections.c.unified_api == unified_api, connections.c.service_id == service_id))
        if existing is not None:
            raise VaultError(f"consumer {consumer_id!r} of app {app_id!r} is already connected to {service_id} "
                             f"(connection {existing[0]}); change it with `unigate vault connection-update "
                             f"{existing[0]}`") from None

    def update_connection(
        self,
        connection_id: str,
        *,
        settings: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        custom_mappings: dict[str, str] | None = None,
        enabled: bool | None = None,
    ) -> Connection:
        """Replace the given parts of a connection (None: keep), in one transaction."""
        def change(current: Connection) -> Connection:
            return replace(current, settings=current.settings if settings is None else settings,
                           credentials=current.credentials if credentials is None else credentials,
                           custom_mappings=current.custom_mappings if custom_mappings is None else custom_mappings,
                           enabled=current.enabled if enabled is None else enabled)

        return self.modify_connection(connection_id, change)

    def delete_connection(self, connection_id: str) -> None:
        with self._transaction():
            current = self._row(select(connections.c.app_id, connections.c.consumer_id, connections.c.service_id)
                                .where(connections.c.id == connection_id).with_for_update())
            if current is None:
                raise VaultError(_no_connection(connection_id))
            self._run(delete(connections).where(connections.c.id == connection_id))
            self._audit("connection.deleted", connection_id, app_id=current[0], consumer_id=current[1],
                        service_id=current[2])

    def get_connection(self, connection_id: str, *, for_update: bool = False) -> Connection:
        """The connection as stored (``for_update``: in a transaction, locked until it ends)."""
        query = select(*_CONNECTION_COLUMNS).where(connections.c.id == connection_id)
        row = self._row(query.with_for_update() if for_update else query)
        if row is None:
            raise VaultError(_no_connection(connection_id))
        return self._connection(row)

    def connections_of(self, app_id: str, consumer_id: str, unified_api: str = "issue-tracking") -> list[Connection]:
        """A consumer's connections for one unified API (cached; credentials decrypted once)."""
        with self._lock:
            return self._connections(self._fresh_cache(), app_id, consumer_id, unified_api)

    def _connections(self, cache: LRUCache, app_id: str, consumer_id: str, unified_api: str) -> list[Connection]:
        key = ("connections", app_id, consumer_id, unified_api)
        found = cache.get(key)
        if found is None:
            rows = self._run(select(*_CONNECTION_COLUMNS).where(
                connections.c.app_id == app_id, connections.c.consumer_id == consumer_id,
                connections.c.unified_api == unified_api).order_by(connections.c.service_id)).all()
            found = [self._connection(r) for r in rows]
            if found:  # a consumer id without connections is not remembered
                cache.put(key, found)
        return list(found)

    def list_connections(self, app_id: str | None = None) -> list[Connection]:
        query = select(*_CONNECTION_COLUMNS)
        if app_id:
            query = query.where(connections.c.app_id == app_id)
        rows = self._run(query.order_by(connections.c.app_id, connections.c.consumer_id, connections.c.service_id)).all()
        return [self._connection(r) for r in rows]

    def _connection(self, row: Sequence[Any]) -> Connection:
        return Connection(
            id=row[0], app_id=row[1], consumer_id=row[2], service_id=row[3], unified_api=row[4],
            enabled=bool(row[5]), settings=orjson.loads(row[6]), credentials=self._box.open(bytes(row[7])),
            custom_mappings=orjson.loads(row[8]), revision=row[9],
        )

    def _check_custom_mappings(self, custom_mappings: dict[str, str]) -> None:
        if not isinstance(custom_mappings, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in custom_mappings.items()
        ):
            raise VaultError("custom_mappings must be an object of {name: JSONPath string}")
        if self._validate_custom_mappings is not None:
            self._validate_custom_mappings(custom_mappings)

    # -- the Vault API (unigate.vault_api) and the audit trail (unigate.vault.audit) ---------------
    def _audit(self, action: str, target: str, *, app_id: str | None = None, consumer_id: str | None = None,
               service_id: str | None = None, changes: dict[str, Any] | None = None) -> None:
        """Record one change as the current actor's; call inside the transaction making it."""
        actor = current_actor()
        self._run(insert(vault_audit).values(
            ts=utc_now_ms(), actor=actor.label, key_id=actor.key_id, app_id=app_id, consumer_id=consumer_id,
            service_id=service_id, target=target, action=action, changes=orjson.dumps(changes or {}).decode()))

    def _connection_changes(self, service_id: str, old_settings: dict[str, Any], old_credentials: dict[str, Any],
                            old_mappings: dict[str, str], old_enabled: bool | None, settings: dict[str, Any],
                            credentials: dict[str, Any], mappings: dict[str, str], enabled: bool) -> dict[str, Any]:
        """What changed on a connection, secrets left out (settings by value unless secret, credentials by name)."""
        changes: dict[str, Any] = {
            "settings": diff_values(old_settings, settings, self.secret_settings(service_id)),
            "credentials": diff_names(old_credentials, credentials),
            "custom_mappings": diff_values(old_mappings, mappings),
        }
        if old_enabled != enabled:
            changes["enabled"] = {"to": enabled} if old_enabled is None else {"from": old_enabled, "to": enabled}
        return {k: v for k, v in changes.items() if v}

    def modify_connection(self, connection_id: str, change: Callable[[Connection], Connection], *,
                          expected_revision: int | None = None, metadata: dict[str, Any] | None = None) -> Connection:
        """Change a connection in one write transaction: ``change`` gets the connection as stored now (its row
        locked: ``SELECT ... FOR UPDATE`` on PostgreSQL, the write lock on SQLite) and returns it as it should be
        (or raises ``VaultError``); ``metadata`` replaces its metadata. Two changes never interleave, so a
        partial update never loses another's write; ``expected_revision`` (the revision the caller read)
        refuses the change with ``RevisionConflictError`` if it moved on."""
        with self._transaction():
            self._verify_key()
            current = self.get_connection(connection_id, for_update=True)
            if expected_revision is not None and current.revision != expected_revision:
                raise RevisionConflictError(f"connection {connection_id} is at revision {current.revision}, not "
                                            f"{expected_revision}: it changed since it was read", current.revision)
            new = change(current)
            if new == current and (metadata is None or metadata == self.connection_status(connection_id).metadata):
                return current  # nothing to change: no write, no record, the revision stays
            self._check_custom_mappings(new.custom_mappings)
            self._store_connection(new)
            changes = self._connection_changes(current.service_id, current.settings, current.credentials,
                                               current.custom_mappings, current.enabled, new.settings,
                                               new.credentials, new.custom_mappings, new.enabled)
            if (new.settings, new.credentials) != (current.settings, current.credentials):
                # a state a validation recorded (invalid) was about the old configuration
                self._run(update(connection_status).where(connection_status.c.connection_id == connection_id,
                                                          connection_status.c.state == "invalid")
                          .values(state=None, state_detail=None))
            if metadata is not None:
                self._replace_metadata(connection_id, metadata, changes)
            self._audit("connection.updated", connection_id, app_id=current.app_id, consumer_id=current.consumer_id,
                        service_id=current.service_id, changes=changes)
        return self.get_connection(connection_id)

    def _store_connection(self, new: Connection) -> None:
        self._run(update(connections).where(connections.c.id == new.id).values(
            settings=orjson.dumps(new.settings).decode(), credentials=self._box.seal(new.credentials),
            custom_mappings=orjson.dumps(new.custom_mappings).decode(), enabled=int(new.enabled),
            revision=connections.c.revision + 1, updated_at=utc_now()))

    def _replace_metadata(self, connection_id: str, metadata: dict[str, Any], changes: dict[str, Any]) -> None:
        old = self.connection_status(connection_id).metadata
        self._put_status(connection_id, metadata=orjson.dumps(metadata).decode())
        if old != metadata:
            changes["metadata"] = diff_values(old, metadata)

    def _put_status(self, connection_id: str, **values: Any) -> None:
        self._run(upsert(self._db, connection_status).values(connection_id=connection_id, **values)
                  .on_conflict_do_update(index_elements=[connection_status.c.connection_id], set_=values))

    def find_connection(self, app_id: str, consumer_id: str, service_id: str,
                        unified_api: str = "issue-tracking") -> Connection | None:
        """A consumer's connection to one service, read from the database (never a cached copy)."""
        row = self._row(select(*_CONNECTION_COLUMNS).where(
            connections.c.app_id == app_id, connections.c.consumer_id == consumer_id,
            connections.c.unified_api == unified_api, connections.c.service_id == service_id))
        return self._connection(row) if row is not None else None

    def connection_status(self, connection_id: str) -> ConnectionStatus:
        s = connection_status.c
        row = self._row(select(connections.c.created_at, connections.c.updated_at, s.metadata, s.state, s.state_detail,
                               s.checked_at).select_from(connections.outerjoin(
                                   connection_status, s.connection_id == connections.c.id))
                        .where(connections.c.id == connection_id))
        if row is None:
            raise VaultError(f"there is no connection {connection_id!r}")
        return ConnectionStatus(orjson.loads(row[2] or "{}"), row[0], row[1], row[3], row[4], row[5])

    def set_connection_state(self, connection_id: str, state: str | None, detail: str | None = None) -> None:
        """Record the state a validation (or an OAuth flow) found the connection in (None: as configured)."""
        with self._transaction():
            old = self.connection_status(connection_id)
            self._put_status(connection_id, state=state, state_detail=detail, checked_at=utc_now())
            if old.state != state:
                row = self._row(select(connections.c.app_id, connections.c.consumer_id, connections.c.service_id)
                                .where(connections.c.id == connection_id))
                assert row is not None
                self._audit("connection.state_changed", connection_id, app_id=row[0], consumer_id=row[1],
                            service_id=row[2], changes={"state": {"from": old.state, "to": state}})

    # consumers as the Vault API shows them
    def consumer_record(self, app_id: str, consumer_id: str) -> ConsumerRecord | None:
        row = self._row(select(*_CONSUMER_COLUMNS).where(*_consumer_is(app_id, consumer_id)))
        return _consumer_record(row) if row is not None else None

    def consumer_records(self, app_id: str, *, after: str | None = None, limit: int = 20, prefix: str | None = None,
                         search: str | None = None) -> list[ConsumerRecord]:
        """An app's consumers in id order, after ``after``; ``prefix``: ids starting with it; ``search``: a
        substring of the id or of the metadata's values (case-insensitive)."""
        query = select(*_CONSUMER_COLUMNS).where(consumers.c.app_id == app_id)
        if after is not None:
            query = query.where(consumers.c.id > after)
        if prefix:
            query = query.where(func.substr(consumers.c.id, 1, len(prefix)) == prefix)
        if search:
            needle = search.lower()
            query = query.where(func.lower(consumers.c.id).contains(needle, autoescape=True)
                                | func.lower(consumers.c.metadata).contains(needle, autoescape=True))
        rows = self._run(query.order_by(consumers.c.id).limit(limit)).all()
        return [_consumer_record(r) for r in rows]

    def upsert_consumer(self, app_id: str, consumer_id: str,
                        metadata: dict[str, Any] | None = None) -> tuple[ConsumerRecord, bool]:
        """The consumer, created if new (True) or with ``metadata`` merged in if given (False)."""
        with self._transaction():
            if self.consumer_record(app_id, consumer_id) is None:
                self.create_consumer(app_id, consumer_id, metadata)
                created = True
            else:
                created = False
                if metadata:
                    self.update_consumer(app_id, consumer_id, metadata)
        record = self.consumer_record(app_id, consumer_id)
        assert record is not None
        return record, created

    def update_consumer(self, app_id: str, consumer_id: str, metadata: dict[str, Any]) -> ConsumerRecord:
        """Merge ``metadata`` into the consumer's (a null value removes its key)."""
        with self._transaction():
            row = self._row(select(*_CONSUMER_COLUMNS).where(*_consumer_is(app_id, consumer_id)).with_for_update())
            if row is None:
                raise VaultError(f"app {app_id!r} has no consumer {consumer_id!r}")
            current = _consumer_record(row)
            merged = {k: v for k, v in {**current.metadata, **metadata}.items() if v is not None}
            self._run(update(consumers).where(*_consumer_is(app_id, consumer_id))
                      .values(metadata=orjson.dumps(merged).decode(), updated_at=utc_now_ms()))
            self._audit("consumer.updated", consumer_id, app_id=app_id, consumer_id=consumer_id,
                        changes={"metadata": diff_values(current.metadata, merged)})
        record = self.consumer_record(app_id, consumer_id)
        assert record is not None
        return record

    def transaction(self) -> AbstractContextManager[None]:
        """One write transaction around several store calls (each joins it): all or nothing."""
        return self._transaction()

    def consumer_request_count(self, app_id: str, consumer_id: str) -> int:
        """How many of the consumer's requests the request log holds (``aggregated_request_count``)."""
        return int(self._run(select(func.count()).select_from(request_log).where(
            request_log.c.app_id == app_id, request_log.c.consumer_id == consumer_id)).scalar_one())

    def audit_trail(self, *, app_id: str | None = None, consumer_id: str | None = None, before_seq: int | None = None,
                    limit: int = 100) -> list[dict[str, Any]]:
        """Audit records, newest first; ``app_id``/``consumer_id`` narrow them, ``before_seq`` pages on."""
        a = vault_audit.c
        query = select(a.seq, a.ts, a.actor, a.key_id, a.app_id, a.consumer_id, a.service_id, a.target, a.action,
                       a.changes)
        for column, value in ((a.app_id, app_id), (a.consumer_id, consumer_id)):
            if value is not None:
                query = query.where(column == value)
        if before_seq is not None:
            query = query.where(a.seq < before_seq)
        rows = self._run(query.order_by(a.seq.desc()).limit(limit)).all()
        names = ("seq", "ts", "actor", "key_id", "app_id", "consumer_id", "service_id", "target", "action")
        return [{**dict(zip(names, row, strict=False)), "changes": orjson.loads(row[9])} for row in rows]

    # -- OAuth2 (unigate.oauth): app OAuth clients, authorizations under way, tokens --------------------
    def set_oauth_client(self, app_id: str, service_id: str, client_id: str, client_secret: str | None = None, *,
                         redirect_uris: list[str] | None = None, scopes: list[str] | None = None) -> OAuthClient:
        """Create or change the app's OAuth client for ``service_id`` (the secret sealed; None: keep the
        stored one, which a new client must give; ``redirect_uris``/``scopes`` None: keep)."""
        with self._transaction():
            self._verify_key()
            self.require_app(app_id)
            current = self.oauth_client(app_id, service_id)
            if client_secret is None and current is None:
                raise VaultError(f"the {service_id} OAuth client of app {app_id!r} needs a client secret")
            secret = client_secret if client_secret is not None else current.client_secret  # type: ignore[union-attr]
            uris = list(redirect_uris if redirect_uris is not None else (current.redirect_uris if current else ()))
            kept = current.scopes if current else None
            chosen = scopes if scopes is not None else (list(kept) if kept is not None else None)
            values = {"client_id": client_id, "client_secret": self._box.seal({"client_secret": secret}),
                      "redirect_uris": orjson.dumps(uris).decode(),
                      "scopes": None if chosen is None else orjson.dumps(chosen).decode(), "updated_at": utc_now()}
            self._run(upsert(self._db, oauth_clients).values(app_id=app_id, service_id=service_id, **values)
                      .on_conflict_do_update(index_elements=[oauth_clients.c.app_id, oauth_clients.c.service_id],
                                             set_=values))
            changes = {"client_id": {"to": client_id}, "redirect_uris": {"to": uris}, "scopes": {"to": chosen}}
            if client_secret is not None:
                changes["client_secret"] = {"to": REDACTED_SECRET}
            self._audit("oauth_client.set", f"{app_id}/{service_id}", app_id=app_id, service_id=service_id,
                        changes=changes)
        client = self.oauth_client(app_id, service_id)
        assert client is not None
        return client

    def oauth_client(self, app_id: str, service_id: str) -> OAuthClient | None:
        o = oauth_clients.c
        row = self._row(select(o.client_id, o.client_secret, o.redirect_uris, o.scopes)
                        .where(o.app_id == app_id, o.service_id == service_id))
        if row is None:
            return None
        return OAuthClient(app_id, service_id, row[0], self._box.open(bytes(row[1]))["client_secret"],
                           tuple(orjson.loads(row[2])), None if row[3] is None else tuple(orjson.loads(row[3])))

    def oauth_clients(self, app_id: str) -> list[OAuthClient]:
        services = self._run(select(oauth_clients.c.service_id).where(oauth_clients.c.app_id == app_id)
                             .order_by(oauth_clients.c.service_id)).scalars().all()
        return [c for c in (self.oauth_client(app_id, s) for s in services) if c is not None]

    def delete_oauth_client(self, app_id: str, service_id: str) -> None:
        if self._write(delete(oauth_clients).where(oauth_clients.c.app_id == app_id,
                                                   oauth_clients.c.service_id == service_id),
                       audit={"action": "oauth_client.deleted", "target": f"{app_id}/{service_id}", "app_id": app_id,
                              "service_id": service_id}).rowcount != 1:
            raise VaultError(f"app {app_id!r} has no OAuth client for {service_id}")

    def add_oauth_flow(self, flow: OAuthFlow) -> None:
        """Record an authorization under way (expired ones are deleted on the way)."""
        with self._transaction():
            self._verify_key()
            self._run(delete(oauth_flows).where(oauth_flows.c.expires_at < time.time()))
            self._run(insert(oauth_flows).values(
                id=flow.id, app_id=flow.app_id, consumer_id=flow.consumer_id, service_id=flow.service_id,
                redirect_uri=flow.redirect_uri, callback_uri=flow.callback_uri,
                verifier=self._box.seal({"verifier": flow.verifier}), expires_at=flow.expires_at))

    def take_oauth_flow(self, flow_id: str) -> OAuthFlow | None:
        """The authorization under way with this id, deleted as it is read: a second take (a replayed
        state) finds nothing, whichever process took it first."""
        f = oauth_flows.c
        with self._transaction():
            row = self._row(delete(oauth_flows).where(f.id == flow_id).returning(
                f.id, f.app_id, f.consumer_id, f.service_id, f.redirect_uri, f.callback_uri, f.verifier, f.expires_at))
        if row is None:
            return None
        return OAuthFlow(row[0], row[1], row[2], row[3], row[4], row[5], self._box.open(bytes(row[6]))["verifier"],
                         row[7])

    def authorize_connection(self, app_id: str, consumer_id: str, service_id: str, credentials: dict[str, Any],
                             settings: dict[str, Any]) -> Connection:
        """Store an OAuth authorization: the consumer's connection to ``service_id`` (created, with the
        consumer, if new) gets these tokens as its credentials and ``settings`` merged into its settings,
        and is marked ``authorized``; all in one transaction."""
        with self._transaction():
            self.upsert_consumer(app_id, consumer_id)
            found = self.find_connection(app_id, consumer_id, service_id)
            if found is None:
                connection = self.create_connection(app_id, consumer_id, service_id, settings=settings,
                                                    credentials=credentials)
            else:
                connection = self.modify_connection(found.id, lambda c: replace(
                    c, credentials=credentials, settings={**c.settings, **settings}))
            self.set_connection_state(connection.id, "authorized")
        return connection

    def replace_tokens(self, connection_id: str, previous_access_token: str | None,
                       tokens: dict[str, Any]) -> Connection:
        """Store refreshed tokens, unless the connection's access token is no longer ``previous_access_token``
        (another process refreshed it first: the stored connection is answered unchanged)."""
        def change(current: Connection) -> Connection:
            if current.credentials.get("access_token") != previous_access_token:
                raise _AlreadyRefreshed(current)
            return replace(current, credentials={**current.credentials, **tokens})

        try:
            return self.modify_connection(connection_id, change)
        except _AlreadyRefreshed as done:
            return done.connection


class _AlreadyRefreshed(VaultError):
    def __init__(self, connection: Connection) -> None:
        super().__init__("the connection's tokens were refreshed by another process")
        self.connection = connection


REDACTED_SECRET = "[secret]"


def _no_app(app_id: str) -> str:
    return f"there is no app {app_id!r} (`unigate vault app-list` lists them)"


def _no_connection(connection_id: str) -> str:
    return f"there is no connection {connection_id!r} (`unigate vault connection-list` lists them)"


_APP_COLUMNS = (apps.c.id, apps.c.name, apps.c.strict, apps.c.services)


def _app(row: Sequence[Any]) -> App:
    """An ``App`` from the ``_APP_COLUMNS`` of its row."""
    return App(row[0], row[1], bool(row[2]), None if row[3] is None else tuple(orjson.loads(row[3])))


def _services(services: Sequence[str] | None) -> tuple[str, ...] | None:
    """Services as stored: each once, sorted (None: every installed connector)."""
    return None if services is None else tuple(sorted(set(services)))


def _services_column(services: tuple[str, ...] | None) -> str | None:
    return None if services is None else orjson.dumps(list(services)).decode()


def _shown(services: tuple[str, ...] | None) -> list[str] | str:
    """Services as the audit trail and the CLI show them: the list, or ``all``."""
    return "all" if services is None else list(services)


def _consumer_is(app_id: str, consumer_id: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return consumers.c.app_id == app_id, consumers.c.id == consumer_id


def _consumer_record(row: Sequence[Any]) -> ConsumerRecord:
    return ConsumerRecord(row[0], row[1], orjson.loads(row[2]), row[3], row[4])
