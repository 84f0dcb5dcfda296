"""The legacy versioned schema of the SQLite vault (``schema_version`` 1..7), frozen: the schema now moves by
Alembic revisions (``unigate.db.migrate``), which bring a vault made by these to version 7 and stamp it.
Never edit or append to this list."""

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
    # 7: webhooks (unigate.webhooks). `webhook_subscriptions`: an app's subscriptions (Apideck's Webhook API),
    # the signing secret sealed with the master key. `webhook_watermarks` and `webhook_fingerprints`: what the
    # virtual-webhook poller has seen per connection and collection (the newest updated_at, and a hash of each
    # unified record), so a restart detects nothing twice. `webhook_outbox`: one row per event per
    # subscription, claimed with a lease, `delivered_at` set after the receiver's 2xx; `dead_at` set after 24 h
    # of failures (the dead-letter list; `unigate webhooks replay` requeues). `webhook_leases`: named leases
    # (the embedded runner's leader).
    """
    CREATE TABLE webhook_subscriptions (
        id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        description TEXT,
        unified_api TEXT NOT NULL,
        status TEXT NOT NULL,
        disabled_reason TEXT,
        delivery_url TEXT NOT NULL,
        events TEXT NOT NULL,
        secret BLOB NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX webhook_subscriptions_app ON webhook_subscriptions (app_id, id);
    CREATE TABLE webhook_watermarks (
        connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        collection_id TEXT NOT NULL,
        watermark TEXT,
        cycles INTEGER NOT NULL DEFAULT 0,
        polled_at REAL,
        PRIMARY KEY (connection_id, collection_id)
    );
    CREATE TABLE webhook_fingerprints (
        connection_id TEXT NOT NULL,
        collection_id TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        PRIMARY KEY (connection_id, collection_id, entity_id),
        FOREIGN KEY (connection_id, collection_id) REFERENCES webhook_watermarks(connection_id, collection_id)
            ON DELETE CASCADE
    ) WITHOUT ROWID;
    CREATE TABLE webhook_outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
        idempotency_key TEXT NOT NULL UNIQUE,
        event_type TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        lease_owner TEXT,
        lease_until REAL,
        delivered_at REAL,
        dead_at REAL,
        last_status INTEGER,
        last_error TEXT
    );
    CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
    CREATE INDEX webhook_outbox_dead ON webhook_outbox (subscription_id, dead_at) WHERE dead_at IS NOT NULL;
    CREATE TABLE webhook_leases (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        until REAL NOT NULL
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
    vault at once (the gateway and the CLI) do not both apply a migration. A vault under Alembic
    (``unigate.db.migrate``) is left to it.
    """
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'").fetchone():
        return len(MIGRATIONS)
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
