"""``ConnectionStore``: the embedded SQLite vault, with a read cache that stays correct.

Lookups on the request path (app by id + key, a consumer's connections) are cached in memory and
the cache is dropped whenever the database changes: our own writes bump a counter, and other
processes' commits (the CLI, another gateway worker) change SQLite's ``PRAGMA data_version``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any, Callable

import orjson

from unigate.vault.crypto import SecretBox
from unigate.vault.migrations import migrate
from unigate.vault.models import App, Connection, Consumer

CustomMappingValidator = Callable[[dict[str, str]], None]


class VaultError(ValueError):
    """A vault write was refused; the message says why."""


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class ConnectionStore:
    def __init__(
        self,
        path: str | Path,
        box: SecretBox,
        *,
        validate_custom_mappings: CustomMappingValidator | None = None,
    ) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._lock = threading.RLock()
        self._box = box
        self._validate_custom_mappings = validate_custom_mappings
        self.schema_version = migrate(self._db)
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._seen_version: int | None = None

    def close(self) -> None:
        self._db.close()

    # -- cache ---------------------------------------------------------------------------------
    def _fresh_cache(self) -> dict[tuple[Any, ...], Any]:
        """The cache, emptied if another connection (the CLI, another worker) committed since."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._seen_version:
            self._cache.clear()
            self._seen_version = version
        return self._cache

    def _write(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        with self._lock:
            try:
                cursor = self._db.execute(sql, params)
            except sqlite3.IntegrityError as exc:
                raise VaultError(str(exc)) from exc
            self._cache.clear()
            return cursor

    # -- apps ----------------------------------------------------------------------------------
    def create_app(self, name: str, app_id: str | None = None, api_key: str | None = None) -> tuple[App, str]:
        """Create an app; returns it with its API key, which is stored only as a hash."""
        app_id = app_id or secrets.token_urlsafe(18)
        api_key = api_key or "ugk_" + secrets.token_urlsafe(32)
        self._write("INSERT INTO apps (id, name, api_key_hash) VALUES (?, ?, ?)", (app_id, name, hash_api_key(api_key)))
        return App(app_id, name), api_key

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

    def _authenticate(self, cache: dict[tuple[Any, ...], Any], app_id: str, api_key: str) -> App | None:
        key = ("app", app_id)
        if key not in cache:
            cache[key] = self._db.execute("SELECT id, name, api_key_hash FROM apps WHERE id = ?", (app_id,)).fetchone()
        row = cache[key]
        candidate = hash_api_key(api_key)
        expected = row[2] if row else hash_api_key("")  # compare anyway: no timing hint
        if row is None or not hmac.compare_digest(candidate, expected):
            return None
        return App(row[0], row[1])

    def list_apps(self) -> list[App]:
        return [App(r[0], r[1]) for r in self._db.execute("SELECT id, name FROM apps ORDER BY id")]

    # -- consumers -----------------------------------------------------------------------------
    def create_consumer(self, app_id: str, consumer_id: str, metadata: dict[str, Any] | None = None) -> Consumer:
        self._write(
            "INSERT INTO consumers (app_id, id, metadata) VALUES (?, ?, ?)",
            (app_id, consumer_id, orjson.dumps(metadata or {}).decode()),
        )
        return Consumer(app_id, consumer_id, metadata or {})

    def list_consumers(self, app_id: str) -> list[Consumer]:
        rows = self._db.execute("SELECT app_id, id, metadata FROM consumers WHERE app_id = ? ORDER BY id", (app_id,))
        return [Consumer(r[0], r[1], orjson.loads(r[2])) for r in rows]

    def consumer_exists(self, app_id: str, consumer_id: str) -> bool:
        with self._lock:
            cache = self._fresh_cache()
            key = ("consumer", app_id, consumer_id)
            if key not in cache:
                cache[key] = self._db.execute(
                    "SELECT 1 FROM consumers WHERE app_id = ? AND id = ?", (app_id, consumer_id)
                ).fetchone() is not None
            return bool(cache[key])

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
        self._write(
            "INSERT INTO connections (id, app_id, consumer_id, service_id, unified_api, enabled, settings,"
            " credentials, custom_mappings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                connection_id, app_id, consumer_id, service_id, unified_api, int(enabled),
                orjson.dumps(settings or {}).decode(), self._box.seal(credentials or {}),
                orjson.dumps(custom_mappings).decode(),
            ),
        )
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
        current = self.get_connection(connection_id)
        if custom_mappings is not None:
            self._check_custom_mappings(custom_mappings)
        self._write(
            "UPDATE connections SET settings = ?, credentials = ?, custom_mappings = ?, enabled = ?,"
            " revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
            (
                orjson.dumps(current.settings if settings is None else settings).decode(),
                self._box.seal(current.credentials if credentials is None else credentials),
                orjson.dumps(current.custom_mappings if custom_mappings is None else custom_mappings).decode(),
                int(current.enabled if enabled is None else enabled),
                connection_id,
            ),
        )
        return self.get_connection(connection_id)

    def delete_connection(self, connection_id: str) -> None:
        self._write("DELETE FROM connections WHERE id = ?", (connection_id,))

    def get_connection(self, connection_id: str) -> Connection:
        row = self._db.execute(f"SELECT {_CONNECTION_COLUMNS} FROM connections WHERE id = ?", (connection_id,)).fetchone()
        if row is None:
            raise VaultError(f"no connection {connection_id!r}")
        return self._connection(row)

    def connections_of(self, app_id: str, consumer_id: str, unified_api: str = "issue-tracking") -> list[Connection]:
        """A consumer's connections for one unified API (cached; credentials decrypted once)."""
        with self._lock:
            return self._connections(self._fresh_cache(), app_id, consumer_id, unified_api)

    def _connections(self, cache: dict[tuple[Any, ...], Any], app_id: str, consumer_id: str,
                     unified_api: str) -> list[Connection]:
        key = ("connections", app_id, consumer_id, unified_api)
        if key not in cache:
            rows = self._db.execute(
                f"SELECT {_CONNECTION_COLUMNS} FROM connections WHERE app_id = ? AND consumer_id = ?"
                " AND unified_api = ? ORDER BY service_id",
                (app_id, consumer_id, unified_api),
            ).fetchall()
            cache[key] = [self._connection(r) for r in rows]
        return list(cache[key])

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


_CONNECTION_COLUMNS = "id, app_id, consumer_id, service_id, unified_api, enabled, settings, credentials, custom_mappings, revision"
