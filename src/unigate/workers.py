"""``unigate serve --workers N``: each worker process builds its own gateway from the environment.

uvicorn's supervisor binds the socket once and starts N worker processes; each imports this module
and calls :func:`worker_app`. Nothing is shared in memory: the workers share the vault database, and
what must agree across them agrees through it (see docs/deploying.md, "Many processes"):

- a connection changed through one worker is seen by the others on their next request (the vault's
  cache is dropped when the database changed: ``unigate.vault.store``);
- cursors are signed with a key derived from the secret key, so any worker opens another's cursor;
- an OAuth refresh takes a lease row in the vault, so one process refreshes a connection at a time
  (``unigate.oauth.refresh``);
- the webhook poller and dispatcher run in the holder of the ``webhooks-leader`` lease only.
"""

from __future__ import annotations

from unigate.app import GatewayApp, build_gateway, create_app
from unigate.observability import metrics
from unigate.observability.logs import configure
from unigate.settings import Settings
from unigate.vault.crypto import load_secret_key

APP = "unigate.workers:worker_app"   # what uvicorn imports in each worker


def worker_app() -> GatewayApp:
    """One worker's application, built as ``unigate serve`` builds it (the parent process has already
    checked the settings, the key and the connectors, so a failure here is unexpected)."""
    settings = Settings.from_env()
    configure(settings.log_level, settings.log_format)
    metrics.enabled = settings.metrics
    return create_app(build_gateway(settings, load_secret_key()), settle_heap=True)
