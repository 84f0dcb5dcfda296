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
    # 3: the request log (unigate.observability.requestlog): one row per unified or proxy request, its
    # downstream calls as JSON; written by the log's own connection. `apps.request_log` turns it off per
    # app. `vault_generation` counts changes to apps, consumers and connections (triggers, whichever
    # process writes), so the store's read cache survives commits that touch only the log.
    """
    CREATE TABLE request_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        ts REAL NOT NULL,
        app_id TEXT NOT NULL,
        consumer_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        service_name TEXT NOT NULL,
        unified_api TEXT NOT NULL,
        operation TEXT NOT NULL,
        http_method TEXT NOT NULL,
        path TEXT NOT NULL,
        base_url TEXT NOT NULL,
        source_ip TEXT,
        status_code INTEGER NOT NULL,
        error_type TEXT,
        error_message TEXT,
        execution_ms REAL NOT NULL,
        downstream_ms REAL NOT NULL,
        calls TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX request_log_app ON request_log (app_id, consumer_id, seq);
    CREATE INDEX request_log_ts ON request_log (ts);
    ALTER TABLE apps ADD COLUMN request_log INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE vault_generation (n INTEGER NOT NULL);
    INSERT INTO vault_generation (n) VALUES (0);
    CREATE TRIGGER apps_ins AFTER INSERT ON apps BEGIN UPDATE vault_generation SET n = n + 1; END;
    CREATE TRIGGER apps_upd AFTER UPDATE ON apps BEGIN UPDATE vault_generation SET n = n + 1; END;
    CREATE TRIGGER apps_del AFTER DELETE ON apps BEGIN UPDATE vault_generation SET n = n + 1; END;
    CREATE TRIGGER consumers_ins AFTER INSERT ON consumers BEGIN UPDATE vault_generation SET n = n + 1; END;
    CREATE TRIGGER consumers_upd AFTER UPDATE ON consumers BEGIN UPDATE vault_generation SET n = n + 1; END;
    CREATE TRIGGER consumers_del AFTER DELETE ON consumers BEGIN UPDATE vault_generation SET n = n + 1; END;
    CREATE TRIGGER connections_ins AFTER INSERT ON connections BEGIN UPDATE vault_generation SET n = n + 1; END;
    CREATE TRIGGER connections_upd AFTER UPDATE ON connections BEGIN UPDATE vault_generation SET n = n + 1; END;
    CREATE TRIGGER connections_del AFTER DELETE ON connections BEGIN UPDATE vault_generation SET n = n + 1; END;
    CREATE TRIGGER vault_meta_ins AFTER INSERT ON vault_meta BEGIN UPDATE vault_generation SET n = n + 1; END;
    CREATE TRIGGER vault_meta_upd AFTER UPDATE ON vault_meta BEGIN UPDATE vault_generation SET n = n + 1; END;
    """,
    # 4: apps.strict: the app's writes that a tracker cannot store as sent are refused (400) instead of
    # answered with meta.warnings (`unigate vault app-update --strict`; a request's x-unigate-strict wins)
    """
    ALTER TABLE apps ADD COLUMN strict INTEGER NOT NULL DEFAULT 0;
    """,
    # 5: the Vault API (unigate.vault_api). `vault_audit`: one row per change to the vault, whoever made it
    # (an app through the API, the operator through the CLI): who, when, what changed (field names and
    # non-secret values; credentials by name only). `connection_status`: what the Vault API reports beside a
    # connection (its metadata, and the state a validation or an OAuth flow last left it in: `invalid`,
    # `authorized`), deleted with it. `consumers.updated_at`: the consumer's `modified`.
    """
    CREATE TABLE vault_audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        ts TEXT NOT NULL,
        actor TEXT NOT NULL,
        key_id TEXT,
        app_id TEXT,
        consumer_id TEXT,
        service_id TEXT,
        target TEXT NOT NULL,
        action TEXT NOT NULL,
        changes TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX vault_audit_app ON vault_audit (app_id, seq);
    CREATE TABLE connection_status (
        connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
        metadata TEXT NOT NULL DEFAULT '{}',
        state TEXT,
        state_detail TEXT,
        checked_at TEXT
    );
    ALTER TABLE consumers ADD COLUMN updated_at TEXT;
    """,
    # 6: OAuth2 (unigate.oauth). `oauth_clients`: an app's OAuth client at one connector's provider (client id,
    # the secret sealed with the master key, the redirect URIs the app allows, scopes overriding the manifest's).
    # `oauth_flows`: authorizations under way, one row per redirect to the provider (the PKCE verifier sealed,
    # the redirect URI to return to); the callback deletes its row, so a state is used once.
    """
    CREATE TABLE oauth_clients (
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        service_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        client_secret BLOB NOT NULL,
        redirect_uris TEXT NOT NULL DEFAULT '[]',
        scopes TEXT,
        updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        PRIMARY KEY (app_id, service_id)
    );
    CREATE TABLE oauth_flows (
        id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        consumer_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        redirect_uri TEXT NOT NULL,
        callback_uri TEXT NOT NULL,
        verifier BLOB NOT NULL,
        expires_at REAL NOT NULL
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
            for statement in statements(MIGRATIONS[version]):
                db.execute(statement)
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (version + 1,))


def statements(script: str) -> list[str]:
    """The statements of ``script``: split at ``;`` where a statement is complete (a trigger's body
    holds ``;`` of its own)."""
    out, pending = [], ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                out.append(pending.strip())
            pending = ""
    if pending.strip(" \n;"):
        out.append(pending.strip())
    return out
