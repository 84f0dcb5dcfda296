"""Running big: ``unigate worker --engine procrastinate`` processes poll and deliver through a Postgres queue.

Needs a Postgres (``UNIGATE_TEST_PG_DSN``, default the local ``test`` database); each test works in a
schema of its own, dropped after. Skipped, saying so, where no Postgres answers.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psycopg  # the test extra installs the worker extra's procrastinate and psycopg
import pytest

from unigate.testing.cli import running_cli
from unigate.webhooks import events as ev

from .conftest import Receiver, fast_env, start_setup, wait_for

DSN = os.environ.get("UNIGATE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def queue_dsn() -> Iterator[str]:
    schema = f"unigate_test_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.fail(f"no Postgres at {DSN} ({exc}): the test command needs the machine's PostgreSQL "
                    f"(127.0.0.1:5432, trust auth, database test) or UNIGATE_TEST_PG_DSN")
    admin.execute(f"CREATE SCHEMA {schema}")
    yield f"{DSN}?options=-csearch_path%3D{schema}"
    admin.execute(f"DROP SCHEMA {schema} CASCADE")
    admin.close()


def test_two_procrastinate_workers_deliver_each_event_once(tmp_path: Path, receiver: Receiver,
                                                           queue_dsn: str, database: Path | str) -> None:
    setup = start_setup(tmp_path, database=database, webhooks=False)          # the gateway serves; only the workers poll
    connection = setup.harness.store.list_connections("test-app")[0]
    env = {**os.environ, "UNIGATE_DATABASE": str(setup.harness.gateway.settings.database),
           "UNIGATE_SECRET_KEY": setup.harness.secret_key, "UNIGATE_WORKER_DSN": queue_dsn,
           **fast_env(), "UNIGATE_WEBHOOK_POLL_INTERVAL": "1"}
    try:
        setup.subscribe(receiver, "hook")
        with ExitStack() as workers:
            for _ in range(2):
                workers.enter_context(running_cli("worker", "--engine", "procrastinate", env=env, ready="unigate worker"))
            store = setup.harness.gateway.webhook_store
            wait_for(lambda: store.poll_state(connection.id, "project_456").known, 30)
            created = []
            with setup.tickets() as client:
                for n in range(3):
                    created.append(client.post(setup.tickets_path, json={"subject": f"Queued {n}"}).json()["data"]["id"])
            delivered = wait_for(lambda: d if len(d := receiver.delivered("hook")) == 3 else None, 30)
        assert sorted(d["body"]["payload"]["entity_id"] for d in delivered) == sorted(created)
        assert len(receiver.received) == 3 and all(d["verified"] for d in delivered)
        assert {d["headers"][ev.EVENT_TYPE_HEADER] for d in delivered} == {ev.CREATED}
    finally:
        setup.harness.stop()
        setup.simulator.stop()
