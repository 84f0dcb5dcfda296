"""``GET /ready``: whether this process can serve requests now, and if not, why.

``/health`` says the process is alive, and answers 503 with the first failed check's sentence too (a
key rotated away is mended only by a restart with the new key). ``/ready`` is what a load balancer or an orchestrator's readiness probe asks
before sending traffic: ``200 {"status": "ready"}`` when the vault database answers and this process's
secret key is the vault's; otherwise ``503 {"status": "not_ready", "checks": {...}}`` with a reason per
failed check, so an operator reads whether the database or the key is wrong. No secret is named: a
database error is reported by its class and first line, which hold no password.
"""

from __future__ import annotations

import asyncio
from typing import Any

from unigate.vault.store import ConnectionStore

TIMEOUT = 2.0   # seconds the database has to answer before it counts as unreachable
OK = "ok"
KEY_ROTATED = ("the vault's secret key is not this process's (rotated by `unigate vault rotate-key`?): restart "
               "the gateway with the vault's key (UNIGATE_SECRET_KEY / UNIGATE_SECRET_KEY_FILE)")


def _database_gone(store: ConnectionStore) -> str | None:
    """A SQLite vault whose file was removed (or whose volume is no longer mounted) since it was opened."""
    path = store.database.path
    if path is None or store.database.is_memory or path.exists():
        return None
    return f"the vault database file {path} is gone (removed, or its volume unmounted)"


def _probe(store: ConnectionStore) -> dict[str, str]:
    """The checks, run in a thread: the database (a read of the vault) and the key (that read's result)."""
    gone = _database_gone(store)
    if gone is not None:
        return {"database": gone, "secret_key": "unknown: the database cannot be read"}
    try:
        matches = store.key_matches()
    except Exception as exc:  # noqa: BLE001 - any failure to read the vault is the answer
        first = (str(exc).splitlines() or [""])[0][:200]
        return {"database": f"the vault database cannot be read: {type(exc).__name__}: {first}",
                "secret_key": "unknown: the database cannot be read"}
    return {"database": OK, "secret_key": OK if matches else KEY_ROTATED}


async def readiness(store: ConnectionStore) -> tuple[int, dict[str, Any]]:
    """The status code and body of ``/ready``."""
    try:
        checks = await asyncio.wait_for(asyncio.to_thread(_probe, store), TIMEOUT)
    except TimeoutError:
        checks = {"database": f"the vault database did not answer within {TIMEOUT:g}s",
                  "secret_key": "unknown: the database cannot be read"}
    ready = all(value == OK for value in checks.values())
    return (200, {"status": "ready", "checks": checks}) if ready else (503, {"status": "not_ready", "checks": checks})
