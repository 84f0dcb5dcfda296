"""``ConnectionStore``: the embedded SQLite vault, with a read cache that stays correct.

Lookups on the request path (app by id + key, a consumer's connections) are cached in memory and
the cache is dropped whenever the database changes: our own writes bump a counter, and other
processes' commits (the CLI, another gateway worker) change SQLite's ``PRAGMA data_version``.
The cache is bounded (least recently used entries go first) and holds only what exists: an
unknown app id or a consumer without connections is looked up again rather than remembered, so
requests naming made-up ids cannot fill memory.

The vault file is created readable by its owner only (0600; SQLite gives its ``-wal`` and
``-shm`` files the database file's mode). Opening the vault checks the secret key against a
check value sealed into it (``vault_meta.key_check``): a wrong or rotated-away key is refused
with ``WrongSecretKeyError`` before anything is read or written. A vault without a check value
(new, or from before it existed) adopts the key if the key opens every stored credential.

Every change is recorded in ``vault_audit`` in the transaction that makes it (``unigate.vault.audit``:
who, when, what changed, never a secret). A connection is changed by ``modify_connection``, which
reads it, applies the change and writes it in one write transaction, so concurrent partial updates
(the Vault API's requests, the CLI, another worker) never lose one another's writes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import sqlite3
import stat
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from unigate.vault.audit import current_actor, diff_names, diff_values
from unigate.vault.crypto import SecretBox, WrongSecretKeyError
from unigate.vault.migrations import migrate
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


def _create_private(path: Path) -> None:
    """Create the vault file 0600 before SQLite opens it (SQLite gives -wal/-shm the same mode)."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("the vault %s is accessible to other users (mode %o); chmod 600 it", path, mode)
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


class ConnectionStore:
    def __init__(
        self,
        path: str | Path,
        box: SecretBox,
        *,
        validate_custom_mappings: CustomMappingValidator | None = None,
        cache_entries: int = CACHE_ENTRIES,
    ) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            _create_private(Path(self.path))
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._lock = threading.RLock()
            self._box = box
            self._validate_custom_mappings = validate_custom_mappings
            # service id -> names of its settings declared `secret` (their values stay out of the audit trail)
            self.secret_settings: Callable[[str], frozenset[str]] = lambda service_id: frozenset()
            self.schema_version = migrate(self._db)
            self._cache = LRUCache(cache_entries)
            self._seen_version: int | None = None
            self._seen_generation: int | None = None
            self._check_key()
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    @property
    def cached_entries(self) -> int:
        """How many lookups the cache holds (bounded by ``cache_entries``)."""
        return len(self._cache)

    # -- the secret key ------------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction (BEGIN IMMEDIATE): all of it is committed or none of it. Inside
        another, it is part of that one."""
        with self._lock:
            if self._db.in_transaction:
                yield
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._cache.clear()

    def _wrong_key(self) -> WrongSecretKeyError:
        return WrongSecretKeyError(
            f"the secret key does not match the vault {self.path}: stored credentials cannot be decrypted "
            "with this secret key. Use the key the vault was created with, or the one it was last rotated "
            "to (`unigate vault rotate-key`); refusing to use the vault with this key"
        )

    def _verify_key(self) -> None:
        """In a transaction: raise unless this store's key is the vault's key."""
        row = self._db.execute("SELECT value FROM vault_meta WHERE name = 'key_check'").fetchone()
        if row is None or not self._box.opens(row[0]):
            raise self._wrong_key()

    def _check_key(self) -> None:
        row = self._db.execute("SELECT value FROM vault_meta WHERE name = 'key_check'").fetchone()
        if row is None:
            with self._transaction():  # adopt the key, once, if it opens what is stored
                if self._db.execute("SELECT 1 FROM vault_meta WHERE name = 'key_check'").fetchone() is None:
                    for (token,) in self._db.execute("SELECT credentials FROM connections"):
                        if not self._box.can_open(token):
                            raise self._wrong_key()
                    self._db.execute("INSERT INTO vault_meta (name, value) VALUES ('key_check', ?)",
                                     (self._box.check_value(),))
            row = self._db.execute("SELECT value FROM vault_meta WHERE name = 'key_check'").fetchone()
        if not self._box.opens(row[0]):
            raise self._wrong_key()

    def key_matches(self) -> bool:
        """Whether this store's key is still the vault's (false after another process rotated it)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM vault_meta WHERE name = 'key_check'").fetchone()
        return row is not None and self._box.opens(row[0])

    def derive_key(self, purpose: str) -> bytes:
        """A 32-byte key for ``purpose`` derived from the vault's secret key (the connect page's sessions)."""
        return self._box.derive(purpose)

    def rotate_key(self, new_box: SecretBox) -> int:
        """Re-encrypt every credential and the check value with ``new_box``'s key, in one
        transaction (on any failure nothing changes). Returns the number of connections."""
        with self._transaction():
            self._verify_key()
            rows = self._db.execute("SELECT id, credentials FROM connections").fetchall()
            for connection_id, token in rows:
                try:
                    sealed = self._box.reseal(token, new_box)
                except WrongSecretKeyError:
                    raise WrongSecretKeyError(f"the credentials of connection {connection_id} cannot be decrypted "
                                              "with the current key; nothing was changed") from None
                self._db.execute("UPDATE connections SET credentials = ? WHERE id = ?", (sealed, connection_id))
            self._reseal_oauth(new_box)
            for sub_id, token in self._db.execute("SELECT id, secret FROM webhook_subscriptions").fetchall():
                self._db.execute("UPDATE webhook_subscriptions SET secret = ? WHERE id = ?",  # unigate.webhooks
                                 (self._box.reseal(token, new_box), sub_id))
            self._db.execute("UPDATE vault_meta SET value = ? WHERE name = 'key_check'", (new_box.check_value(),))
            self._audit("vault.key_rotated", "vault", changes={"connections_resealed": len(rows)})
        self._box = new_box
        return len(rows)

    # -- cache ---------------------------------------------------------------------------------
    def _fresh_cache(self) -> LRUCache:
        """The cache, emptied if another connection (the CLI, another worker) committed since."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._seen_version:
            self._seen_version = version
            # a commit elsewhere; the cache goes only if it changed the vault, not just the request log
            generation = self._db.execute("SELECT n FROM vault_generation").fetchone()[0]
            if generation != self._seen_generation:
                self._cache.clear()
                self._seen_generation = generation
        return self._cache

    def _write(self, sql: str, params: tuple[Any, ...], *, sealed: bool = False,
               audit: dict[str, Any] | None = None) -> sqlite3.Cursor:
        """Run one write; ``sealed`` (it stores credentials): only if our key is still the vault's,
        so a process holding a rotated-away key cannot store rows no one else can read. ``audit``:
        the keywords of its audit record, written in the same transaction if a row changed."""
        with self._lock:
            try:
                with self._transaction():
                    if sealed:
                        self._verify_key()
                    cursor = self._db.execute(sql, params)
                    if audit is not None and cursor.rowcount:
                        self._audit(**audit)
            except sqlite3.IntegrityError as exc:
                raise VaultError(str(exc)) from exc
            self._cache.clear()
            return cursor

    # -- apps ----------------------------------------------------------------------------------
    def create_app(self, name: str, app_id: str | None = None, api_key: str | None = None, *,
                   strict: bool = False) -> tuple[App, str]:
        """Create an app; returns it with its API key, which is stored only as a hash. ``strict``: its
        writes a tracker cannot store as sent are refused instead of warned about."""
        app_id = app_id or secrets.token_urlsafe(18)
        api_key = api_key or new_api_key()
        try:
            self._write("INSERT INTO apps (id, name, api_key_hash, strict) VALUES (?, ?, ?, ?)",
                        (app_id, name, hash_api_key(api_key), int(strict)),
                        audit={"action": "app.created", "target": app_id, "app_id": app_id,
                               "changes": {"name": {"to": name}, "strict": {"to": strict}}})
        except VaultError:
            if self.app_exists(app_id):
                raise VaultError(f"an app with id {app_id!r} already exists; choose another id") from None
            raise
        return App(app_id, name, strict), api_key

    def app_exists(self, app_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM apps WHERE id = ?", (app_id,)).fetchone() is not None

    def require_app(self, app_id: str) -> None:
        """Raise ``VaultError`` with a sentence unless the app exists."""
        if not self.app_exists(app_id):
            raise VaultError(_no_app(app_id))

    def require_consumer(self, app_id: str, consumer_id: str, *, to_connect: bool = False) -> None:
        """Raise ``VaultError`` with a sentence unless the app and its consumer exist
        (``to_connect``: the sentence says how to create the consumer)."""
        self.require_app(app_id)
        if self._db.execute("SELECT 1 FROM consumers WHERE app_id = ? AND id = ?",
                            (app_id, consumer_id)).fetchone() is None:
            hint = (f"create it with `unigate vault consumer-create {app_id} {consumer_id}`" if to_connect
                    else f"`unigate vault consumer-list {app_id}` lists them")
            raise VaultError(f"app {app_id!r} has no consumer {consumer_id!r}; {hint}")

    def delete_app(self, app_id: str) -> tuple[int, int]:
        """Delete an app with its consumers and their connections, in one transaction.
        Returns (consumers, connections) deleted."""
        with self._transaction():
            self.require_app(app_id)
            consumers = self._db.execute("SELECT COUNT(*) FROM consumers WHERE app_id = ?", (app_id,)).fetchone()[0]
            connections = self._db.execute("SELECT COUNT(*) FROM connections WHERE app_id = ?",
                                           (app_id,)).fetchone()[0]
            self._db.execute("DELETE FROM connections WHERE app_id = ?", (app_id,))
            self._db.execute("DELETE FROM consumers WHERE app_id = ?", (app_id,))
            self._db.execute("DELETE FROM apps WHERE id = ?", (app_id,))
            self._audit("app.deleted", app_id, app_id=app_id,
                        changes={"consumers_deleted": consumers, "connections_deleted": connections})
        return consumers, connections

    def rotate_api_key(self, app_id: str) -> str:
        """Give the app a new API key (returned, stored only as a hash); the old one stops working."""
        api_key = new_api_key()
        if self._write("UPDATE apps SET api_key_hash = ? WHERE id = ?", (hash_api_key(api_key), app_id),
                       audit={"action": "app.api_key_rotated", "target": app_id, "app_id": app_id}).rowcount != 1:
            raise VaultError(f"no app {app_id!r}")
        return api_key

    def revoke_api_key(self, app_id: str) -> None:
        """Make the app's API key stop working, with no replacement (``rotate_api_key`` issues one)."""
        if self._write("UPDATE apps SET api_key_hash = ? WHERE id = ?", (REVOKED_KEY_HASH, app_id),
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
            row = self._db.execute("SELECT id, name, api_key_hash, strict FROM apps WHERE id = ?",
                                   (app_id,)).fetchone()
            if row is not None:  # unknown ids are not remembered
                cache.put(key, row)
        candidate = hash_api_key(api_key)
        expected = row[2] if row else hash_api_key("")  # compare anyway: no timing hint
        if row is None or not hmac.compare_digest(candidate, expected):
            return None
        return App(row[0], row[1], bool(row[3]))

    def set_strict(self, app_id: str, strict: bool) -> None:
        """Refuse this app's writes a tracker cannot store as sent, or answer them with meta.warnings
        (``unigate vault app-update --[no-]strict``; a request's ``x-unigate-strict`` header wins)."""
        self._set_app_flag("strict", app_id, strict)

    def _set_app_flag(self, column: str, app_id: str, value: bool) -> None:
        if self._write(f"UPDATE apps SET {column} = ? WHERE id = ?", (int(value), app_id),
                       audit={"action": "app.updated", "target": app_id, "app_id": app_id,
                              "changes": {column: {"to": value}}}).rowcount != 1:
            raise VaultError(_no_app(app_id))

    def get_app(self, app_id: str) -> App:
        row = self._db.execute("SELECT id, name, strict FROM apps WHERE id = ?", (app_id,)).fetchone()
        if row is None:
            raise VaultError(_no_app(app_id))
        return App(row[0], row[1], bool(row[2]))

    def set_request_log(self, app_id: str, enabled: bool) -> None:
        """Record this app's requests in the request log, or not (``unigate vault app-update --[no-]logs``)."""
        self._set_app_flag("request_log", app_id, enabled)

    def request_log_enabled(self, app_id: str) -> bool:
        row = self._db.execute("SELECT request_log FROM apps WHERE id = ?", (app_id,)).fetchone()
        if row is None:
            raise VaultError(_no_app(app_id))
        return bool(row[0])

    def list_apps(self) -> list[App]:
        return [App(r[0], r[1], bool(r[2])) for r in self._db.execute("SELECT id, name, strict FROM apps ORDER BY id")]

    # -- consumers -----------------------------------------------------------------------------
    def create_consumer(self, app_id: str, consumer_id: str, metadata: dict[str, Any] | None = None) -> Consumer:
        try:
            self._write(
                "INSERT INTO consumers (app_id, id, metadata) VALUES (?, ?, ?)",
                (app_id, consumer_id, orjson.dumps(metadata or {}).decode()),
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
            connections = self._db.execute("SELECT COUNT(*) FROM connections WHERE app_id = ? AND consumer_id = ?",
                                           (app_id, consumer_id)).fetchone()[0]
            self._db.execute("DELETE FROM connections WHERE app_id = ? AND consumer_id = ?", (app_id, consumer_id))
            self._db.execute("DELETE FROM consumers WHERE app_id = ? AND id = ?", (app_id, consumer_id))
            self._audit("consumer.deleted", consumer_id, app_id=app_id, consumer_id=consumer_id,
                        changes={"connections_deleted": connections})
        return connections

    def list_consumers(self, app_id: str) -> list[Consumer]:
        rows = self._db.execute("SELECT app_id, id, metadata FROM consumers WHERE app_id = ? ORDER BY id", (app_id,))
        return [Consumer(r[0], r[1], orjson.loads(r[2])) for r in rows]

    def consumer_exists(self, app_id: str, consumer_id: str) -> bool:
        with self._lock:
            cache = self._fresh_cache()
            key = ("consumer", app_id, consumer_id)
            if cache.get(key) is None:
                if self._db.execute("SELECT 1 FROM consumers WHERE app_id = ? AND id = ?",
                                    (app_id, consumer_id)).fetchone() is None:
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
                "INSERT INTO connections (id, app_id, consumer_id, service_id, unified_api, enabled, settings,"
                " credentials, custom_mappings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    connection_id, app_id, consumer_id, service_id, unified_api, int(enabled),
                    orjson.dumps(settings or {}).decode(), self._box.seal(credentials or {}),
                    orjson.dumps(custom_mappings).decode(),
                ),
                sealed=True,
                audit={"action": "connection.created", "target": connection_id, "app_id": app_id,
                       "consumer_id": consumer_id, "service_id": service_id,
                       "changes": self._connection_changes(service_id, {}, {}, {}, None, settings or {},
                                                           credentials or {}, custom_mappings, enabled)},
            )
        except VaultError:
            self.require_consumer(app_id, consumer_id, to_connect=True)
            existing = self._db.execute(
                "SELECT id FROM connections WHERE app_id = ? AND consumer_id = ? AND unified_api = ? AND service_id = ?",
                (app_id, consumer_id, unified_api, service_id)).fetchone()
            if existing is not None:
                raise VaultError(f"consumer {consumer_id!r} of app {app_id!r} is already connected to {service_id} "
                                 f"(connection {existing[0]}); change it with `unigate vault connection-update "
                                 f"{existing[0]}`") from None
            raise
        return self.get_connection(connection_id)

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
            current = self._db.execute("SELECT app_id, consumer_id, service_id FROM connections WHERE id = ?",
                                       (connection_id,)).fetchone()
            if current is None:
                raise VaultError(f"there is no connection {connection_id!r} (`unigate vault connection-list` lists them)")
            self._db.execute("DELETE FROM connections WHERE id = ?", (connection_id,))
            self._audit("connection.deleted", connection_id, app_id=current[0], consumer_id=current[1],
                        service_id=current[2])

    def get_connection(self, connection_id: str) -> Connection:
        row = self._db.execute(f"SELECT {_CONNECTION_COLUMNS} FROM connections WHERE id = ?", (connection_id,)).fetchone()
        if row is None:
            raise VaultError(f"there is no connection {connection_id!r} (`unigate vault connection-list` lists them)")
        return self._connection(row)

    def connections_of(self, app_id: str, consumer_id: str, unified_api: str = "issue-tracking") -> list[Connection]:
        """A consumer's connections for one unified API (cached; credentials decrypted once)."""
        with self._lock:
            return self._connections(self._fresh_cache(), app_id, consumer_id, unified_api)

    def _connections(self, cache: LRUCache, app_id: str, consumer_id: str, unified_api: str) -> list[Connection]:
        key = ("connections", app_id, consumer_id, unified_api)
        connections = cache.get(key)
        if connections is None:
            rows = self._db.execute(
                f"SELECT {_CONNECTION_COLUMNS} FROM connections WHERE app_id = ? AND consumer_id = ?"
                " AND unified_api = ? ORDER BY service_id",
                (app_id, consumer_id, unified_api),
            ).fetchall()
            connections = [self._connection(r) for r in rows]
            if connections:  # a consumer id without connections is not remembered
                cache.put(key, connections)
        return list(connections)

    def list_connections(self, app_id: str | None = None) -> list[Connection]:
        sql = f"SELECT {_CONNECTION_COLUMNS} FROM connections"
        rows = self._db.execute(sql + (" WHERE app_id = ?" if app_id else "") + " ORDER BY app_id, consumer_id, service_id",
                                (app_id,) if app_id else ()).fetchall()
        return [self._connection(r) for r in rows]

    def _connection(self, row: tuple[Any, ...]) -> Connection:
        return Connection(
            id=row[0], app_id=row[1], consumer_id=row[2], service_id=row[3], unified_api=row[4],
            enabled=bool(row[5]), settings=orjson.loads(row[6]), credentials=self._box.open(row[7]),
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
        self._db.execute(
            "INSERT INTO vault_audit (ts, actor, key_id, app_id, consumer_id, service_id, target, action, changes)"
            " VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?, ?, ?, ?, ?, ?, ?, ?)",
            (actor.label, actor.key_id, app_id, consumer_id, service_id, target, action,
             orjson.dumps(changes or {}).decode()))

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
        """Change a connection in one write transaction: ``change`` gets the connection as stored now and
        returns it as it should be (or raises ``VaultError``); ``metadata`` replaces its metadata. Two
        changes never interleave, so a partial update never loses another's write; ``expected_revision``
        (the revision the caller read) refuses the change with ``RevisionConflictError`` if it moved on."""
        with self._transaction():
            self._verify_key()
            current = self.get_connection(connection_id)
            if expected_revision is not None and current.revision != expected_revision:
                raise RevisionConflictError(f"connection {connection_id} is at revision {current.revision}, not "
                                            f"{expected_revision}: it changed since it was read", current.revision)
            new = change(current)
            if new == current and (metadata is None or metadata == self.connection_status(connection_id).metadata):
                return current  # nothing to change: no write, no record, the revision stays
            self._check_custom_mappings(new.custom_mappings)
            self._db.execute(
                "UPDATE connections SET settings = ?, credentials = ?, custom_mappings = ?, enabled = ?,"
                " revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
                (orjson.dumps(new.settings).decode(), self._box.seal(new.credentials),
                 orjson.dumps(new.custom_mappings).decode(), int(new.enabled), connection_id))
            changes = self._connection_changes(current.service_id, current.settings, current.credentials,
                                               current.custom_mappings, current.enabled, new.settings,
                                               new.credentials, new.custom_mappings, new.enabled)
            if (new.settings, new.credentials) != (current.settings, current.credentials):
                # a state a validation recorded (invalid) was about the old configuration
                self._db.execute("UPDATE connection_status SET state = NULL, state_detail = NULL WHERE connection_id = ?"
                                 " AND state = 'invalid'", (connection_id,))
            if metadata is not None:
                old = self.connection_status(connection_id).metadata
                self._put_status(connection_id, "metadata", orjson.dumps(metadata).decode())
                if old != metadata:
                    changes["metadata"] = diff_values(old, metadata)
            self._audit("connection.updated", connection_id, app_id=current.app_id, consumer_id=current.consumer_id,
                        service_id=current.service_id, changes=changes)
        return self.get_connection(connection_id)

    def _put_status(self, connection_id: str, column: str, value: Any) -> None:
        self._db.execute(f"INSERT INTO connection_status (connection_id, {column}) VALUES (?, ?) "
                         f"ON CONFLICT (connection_id) DO UPDATE SET {column} = excluded.{column}", (connection_id, value))

    def find_connection(self, app_id: str, consumer_id: str, service_id: str,
                        unified_api: str = "issue-tracking") -> Connection | None:
        """A consumer's connection to one service, read from the database (never a cached copy)."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_CONNECTION_COLUMNS} FROM connections WHERE app_id = ? AND consumer_id = ?"
                " AND unified_api = ? AND service_id = ?", (app_id, consumer_id, unified_api, service_id)).fetchone()
            return self._connection(row) if row is not None else None

    def connection_status(self, connection_id: str) -> ConnectionStatus:
        with self._lock:
            row = self._db.execute(
                "SELECT c.created_at, c.updated_at, s.metadata, s.state, s.state_detail, s.checked_at FROM connections c"
                " LEFT JOIN connection_status s ON s.connection_id = c.id WHERE c.id = ?", (connection_id,)).fetchone()
        if row is None:
            raise VaultError(f"there is no connection {connection_id!r}")
        return ConnectionStatus(orjson.loads(row[2] or "{}"), row[0], row[1], row[3], row[4], row[5])

    def set_connection_state(self, connection_id: str, state: str | None, detail: str | None = None) -> None:
        """Record the state a validation (or an OAuth flow) found the connection in (None: as configured)."""
        with self._transaction():
            old = self.connection_status(connection_id)
            self._db.execute(
                "INSERT INTO connection_status (connection_id, state, state_detail, checked_at) VALUES (?, ?, ?,"
                " strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) ON CONFLICT (connection_id) DO UPDATE SET state ="
                " excluded.state, state_detail = excluded.state_detail, checked_at = excluded.checked_at",
                (connection_id, state, detail))
            if old.state != state:
                row = self._db.execute("SELECT app_id, consumer_id, service_id FROM connections WHERE id = ?",
                                       (connection_id,)).fetchone()
                self._audit("connection.state_changed", connection_id, app_id=row[0], consumer_id=row[1],
                            service_id=row[2], changes={"state": {"from": old.state, "to": state}})

    # consumers as the Vault API shows them
    def consumer_record(self, app_id: str, consumer_id: str) -> ConsumerRecord | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_CONSUMER_COLUMNS} FROM consumers WHERE app_id = ? AND id = ?",
                                   (app_id, consumer_id)).fetchone()
        return _consumer_record(row) if row is not None else None

    def consumer_records(self, app_id: str, *, after: str | None = None, limit: int = 20, prefix: str | None = None,
                         search: str | None = None) -> list[ConsumerRecord]:
        """An app's consumers in id order, after ``after``; ``prefix``: ids starting with it; ``search``: a
        substring of the id or of the metadata's values (case-insensitive)."""
        sql = f"SELECT {_CONSUMER_COLUMNS} FROM consumers WHERE app_id = ?"
        params: list[Any] = [app_id]
        if after is not None:
            sql, params = sql + " AND id > ?", [*params, after]
        if prefix:
            sql, params = sql + " AND substr(id, 1, ?) = ?", [*params, len(prefix), prefix]
        if search:
            sql += " AND (instr(lower(id), ?) > 0 OR instr(lower(metadata), ?) > 0)"
            params += [search.lower(), search.lower()]
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id LIMIT ?", (*params, limit)).fetchall()
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
            current = self.consumer_record(app_id, consumer_id)
            if current is None:
                raise VaultError(f"app {app_id!r} has no consumer {consumer_id!r}")
            merged = {k: v for k, v in {**current.metadata, **metadata}.items() if v is not None}
            self._db.execute("UPDATE consumers SET metadata = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
                             " WHERE app_id = ? AND id = ?", (orjson.dumps(merged).decode(), app_id, consumer_id))
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
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM request_log WHERE app_id = ? AND consumer_id = ?",
                                        (app_id, consumer_id)).fetchone()[0])

    def audit_trail(self, *, app_id: str | None = None, consumer_id: str | None = None, before_seq: int | None = None,
                    limit: int = 100) -> list[dict[str, Any]]:
        """Audit records, newest first; ``app_id``/``consumer_id`` narrow them, ``before_seq`` pages on."""
        sql = "SELECT seq, ts, actor, key_id, app_id, consumer_id, service_id, target, action, changes FROM vault_audit" \
              " WHERE 1 = 1"
        params: list[Any] = []
        for column, value in (("app_id", app_id), ("consumer_id", consumer_id)):
            if value is not None:
                sql, params = sql + f" AND {column} = ?", [*params, value]
        if before_seq is not None:
            sql, params = sql + " AND seq < ?", [*params, before_seq]
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY seq DESC LIMIT ?", (*params, limit)).fetchall()
        names = ("seq", "ts", "actor", "key_id", "app_id", "consumer_id", "service_id", "target", "action", "changes")
        return [{**dict(zip(names, r, strict=True)), "changes": orjson.loads(r[9])} for r in rows]


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
            self._db.execute(
                "INSERT INTO oauth_clients (app_id, service_id, client_id, client_secret, redirect_uris, scopes)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (app_id, service_id) DO UPDATE SET client_id ="
                " excluded.client_id, client_secret = excluded.client_secret, redirect_uris = excluded.redirect_uris,"
                " scopes = excluded.scopes, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
                (app_id, service_id, client_id, self._box.seal({"client_secret": secret}), orjson.dumps(uris).decode(),
                 None if chosen is None else orjson.dumps(chosen).decode()))
            changes = {"client_id": {"to": client_id}, "redirect_uris": {"to": uris}, "scopes": {"to": chosen}}
            if client_secret is not None:
                changes["client_secret"] = {"to": REDACTED_SECRET}
            self._audit("oauth_client.set", f"{app_id}/{service_id}", app_id=app_id, service_id=service_id,
                        changes=changes)
        client = self.oauth_client(app_id, service_id)
        assert client is not None
        return client

    def oauth_client(self, app_id: str, service_id: str) -> OAuthClient | None:
        with self._lock:
            row = self._db.execute("SELECT client_id, client_secret, redirect_uris, scopes FROM oauth_clients"
                                   " WHERE app_id = ? AND service_id = ?", (app_id, service_id)).fetchone()
        if row is None:
            return None
        return OAuthClient(app_id, service_id, row[0], self._box.open(row[1])["client_secret"],
                           tuple(orjson.loads(row[2])), None if row[3] is None else tuple(orjson.loads(row[3])))

    def oauth_clients(self, app_id: str) -> list[OAuthClient]:
        with self._lock:
            services = [r[0] for r in self._db.execute(
                "SELECT service_id FROM oauth_clients WHERE app_id = ? ORDER BY service_id", (app_id,))]
        return [c for c in (self.oauth_client(app_id, s) for s in services) if c is not None]

    def delete_oauth_client(self, app_id: str, service_id: str) -> None:
        if self._write("DELETE FROM oauth_clients WHERE app_id = ? AND service_id = ?", (app_id, service_id),
                       audit={"action": "oauth_client.deleted", "target": f"{app_id}/{service_id}", "app_id": app_id,
                              "service_id": service_id}).rowcount != 1:
            raise VaultError(f"app {app_id!r} has no OAuth client for {service_id}")

    def add_oauth_flow(self, flow: OAuthFlow) -> None:
        """Record an authorization under way (expired ones are deleted on the way)."""
        with self._transaction():
            self._verify_key()
            self._db.execute("DELETE FROM oauth_flows WHERE expires_at < ?", (time.time(),))
            self._db.execute(
                "INSERT INTO oauth_flows (id, app_id, consumer_id, service_id, redirect_uri, callback_uri, verifier,"
                " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (flow.id, flow.app_id, flow.consumer_id, flow.service_id, flow.redirect_uri, flow.callback_uri,
                 self._box.seal({"verifier": flow.verifier}), flow.expires_at))

    def take_oauth_flow(self, flow_id: str) -> OAuthFlow | None:
        """The authorization under way with this id, deleted as it is read: a second take (a replayed
        state) finds nothing, whichever process took it first."""
        with self._transaction():
            row = self._db.execute(
                "DELETE FROM oauth_flows WHERE id = ? RETURNING id, app_id, consumer_id, service_id, redirect_uri,"
                " callback_uri, verifier, expires_at", (flow_id,)).fetchone()
        if row is None:
            return None
        return OAuthFlow(row[0], row[1], row[2], row[3], row[4], row[5], self._box.open(row[6])["verifier"], row[7])

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

    def _reseal_oauth(self, new_box: SecretBox) -> None:
        """In ``rotate_key``'s transaction: OAuth client secrets and verifiers sealed with ``new_box``."""
        for table, key_column, column in (("oauth_clients", "app_id || '/' || service_id", "client_secret"),
                                          ("oauth_flows", "id", "verifier")):
            for key, token in self._db.execute(f"SELECT {key_column}, {column} FROM {table}").fetchall():
                self._db.execute(f"UPDATE {table} SET {column} = ? WHERE {key_column} = ?",
                                 (self._box.reseal(token, new_box), key))


class _AlreadyRefreshed(VaultError):
    def __init__(self, connection: Connection) -> None:
        super().__init__("the connection's tokens were refreshed by another process")
        self.connection = connection


REDACTED_SECRET = "[secret]"


_CONNECTION_COLUMNS = "id, app_id, consumer_id, service_id, unified_api, enabled, settings, credentials, custom_mappings, revision"


def _no_app(app_id: str) -> str:
    return f"there is no app {app_id!r} (`unigate vault app-list` lists them)"

_CONSUMER_COLUMNS = "app_id, id, metadata, created_at, COALESCE(updated_at, created_at)"


def _consumer_record(row: tuple[Any, ...]) -> ConsumerRecord:
    return ConsumerRecord(row[0], row[1], orjson.loads(row[2]), row[3], row[4])
