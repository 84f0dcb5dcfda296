"""Versioned schema of the SQLite vault. Append a migration; never edit a released one."""

from __future__ import annotations

import sqlite3

MIGRATIONS: list[str] = [
    # 1: apps, consumers, connections
    """
    CREATE TABLE apps (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        api_key_hash TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    CREATE TABLE consumers (
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        metadata TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        PRIMARY KEY (app_id, id)
    );
    CREATE TABLE connections (
        id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL,
        consumer_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        unified_api TEXT NOT NULL DEFAULT 'issue-tracking',
        enabled INTEGER NOT NULL DEFAULT 1,
        settings TEXT NOT NULL DEFAULT '{}',
        credentials BLOB NOT NULL,
        custom_mappings TEXT NOT NULL DEFAULT '{}',
        revision INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        FOREIGN KEY (app_id, consumer_id) REFERENCES consumers(app_id, id) ON DELETE CASCADE,
        UNIQUE (app_id, consumer_id, unified_api, service_id)
    );
    """,
    # 2: vault metadata; `key_check` holds a known token sealed with the master key, so a wrong or
    # rotated-away key is refused when the vault is opened instead of failing every request
    """
    CREATE TABLE vault_meta (
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL
    );
    """,
]


def current_version(db: sqlite3.Connection) -> int:
    db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(db: sqlite3.Connection) -> int:
    """Apply pending migrations, each in its own transaction. Returns the resulting version.

    Each step re-reads the version inside a write transaction, so two processes opening a new
    vault at once (the gateway and the CLI) do not both apply a migration.
    """
    while True:
        with db:
            db.execute("BEGIN IMMEDIATE")
            version = current_version(db)
            if version > len(MIGRATIONS):
                raise RuntimeError(
                    f"the vault is at schema version {version}, newer than this unigate knows "
                    f"({len(MIGRATIONS)}); upgrade unigate"
                )
            if version == len(MIGRATIONS):
                return version
            for statement in filter(str.strip, MIGRATIONS[version].split(";")):
                db.execute(statement)
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (version + 1,))
