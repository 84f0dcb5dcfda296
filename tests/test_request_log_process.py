"""The request log's writer process (``UNIGATE_REQUEST_LOG_WRITER=process``, the served default): the
gateway hands each record to a child process that redacts and writes it, so the writing never holds the
request path's interpreter lock. What the log stores is the same as the thread writer's; the child is a
process of the gateway's own, started again if it dies, told the database on its stdin, never in its
command line. On SQLite and PostgreSQL (``database``)."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from unigate.db import schema
from unigate.downstream.models import RawCall
from unigate.downstream.redact import REDACTED, Redactor
from unigate.observability import metrics
from unigate.observability.requestlog import RESPAWN_EVERY, RequestLog, RequestRecord
from unigate.settings import Settings
from unigate.testing.connector import ConnectorUnderTest
from unigate.testing.databases import raw_connection
from unigate_connectors.agentsmesh import simulator as agentsmesh

SECRET = "s3cret-token-value-0042"
TICKETS = f"/issue-tracking/collections/{agentsmesh.MAIN_REPOSITORY_ID}/tickets"


def record(n: int, **fields: Any) -> RequestRecord:
    call = RawCall("tickets_one", "GET", "https://tracker.example/issues/1", [("token", SECRET)], 200, {"id": 1}, 2.5,
                   {"Authorization": f"Bearer {SECRET}"}, None,
                   httpx.Headers({"content-type": "application/json", "x-echo": SECRET}),
                   f'{{"id": 1, "echo": "{SECRET}"}}'.encode(), 31, 0, None, time.time())
    base: dict[str, Any] = {"request_id": f"r{n}", "app_id": "a", "consumer_id": "c", "service_id": "s",
                            "operation": "tickets.one", "method": "GET", "path": "/p", "status_code": 200,
                            "started": time.time(), "duration_ms": 3.0, "calls": [call], "redactor": Redactor([SECRET])}
    return RequestRecord(**{**base, **fields})


def stored(database: Path | str) -> list[dict[str, Any]]:
    with raw_connection(database) as conn:
        return [dict(r._mapping) for r in conn.execute(select(schema.request_log).order_by(schema.request_log.c.seq))]


@pytest.fixture
def log(database: Path | str) -> Iterator[RequestLog]:
    log = RequestLog(database, writer="process", interval=0.01)
    yield log
    log.close()


def writer_pid(log: RequestLog) -> int:
    pid = log._process.pid if log._process is not None else None
    assert pid is not None, "no writer process was started"
    return pid


def test_records_are_written_by_a_child_process_in_order_with_secrets_redacted(
        log: RequestLog, database: Path | str) -> None:
    for n in range(300):  # several batches, several INSERT statements
        log.record(record(n))
    assert log.flush()
    pid = writer_pid(log)
    assert pid != os.getpid() and Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[1] == str(os.getpid())
    rows = stored(database)
    assert [r["id"] for r in rows] == [f"r{n}" for n in range(300)] and log.written == 300 and log.dropped == 0
    assert SECRET not in str(rows) and REDACTED in rows[0]["calls"]


def test_the_database_reaches_the_child_on_its_pipe_never_in_its_command_line(
        log: RequestLog, database: Path | str) -> None:
    log.record(record(0))
    assert log.flush()
    command = Path(f"/proc/{writer_pid(log)}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    assert command.endswith("-m unigate.observability.logchild ")
    assert str(database) not in command


def wait_dead(log: RequestLog) -> None:
    deadline = time.monotonic() + 10
    while log._process is not None and log._process.alive():
        assert time.monotonic() < deadline, "the writer process did not end"
        time.sleep(0.01)


def dropped_total() -> float:
    return metrics.REGISTRY.get_sample_value("unigate_request_log_dropped_total") or 0.0


def test_a_writer_process_that_dies_is_started_again(log: RequestLog, database: Path | str) -> None:
    log.record(record(0))
    assert log.flush()
    first = writer_pid(log)
    os.kill(first, signal.SIGKILL)
    wait_dead(log)
    time.sleep(RESPAWN_EVERY)
    for n in range(1, 21):
        log.record(record(n))
    assert log.flush()
    assert writer_pid(log) != first
    assert [r["id"] for r in stored(database)] == [f"r{n}" for n in range(21)] and log.dropped == 0


def test_what_a_dying_writer_process_had_not_written_is_counted_dropped(
        log: RequestLog, database: Path | str, caplog: pytest.LogCaptureFixture) -> None:
    log.record(record(0))
    assert log.flush()
    pid, before = writer_pid(log), dropped_total()
    os.kill(pid, signal.SIGSTOP)  # it takes the next records off its pipe, and never answers
    for n in range(1, 11):
        log.record(record(n))
    assert not log.flush(timeout=0.5)
    with caplog.at_level(logging.WARNING, logger="unigate.requestlog"):
        os.kill(pid, signal.SIGKILL)
        wait_dead(log)
        assert log.flush()  # what flush waits for is written or counted dropped
        log._report_drops()
    assert log.dropped == 10 and dropped_total() - before == 10
    assert [r["id"] for r in stored(database)] == ["r0"]
    assert "10 requests not logged" in caplog.text and "its writer process stopped" in caplog.text


def test_ctrl_c_to_the_process_group_leaves_the_writer_to_the_gateway(log: RequestLog, database: Path | str) -> None:
    log.record(record(0))
    assert log.flush()
    pid = writer_pid(log)
    os.kill(pid, signal.SIGINT)
    log.record(record(1))
    assert log.flush()
    assert writer_pid(log) == pid and [r["id"] for r in stored(database)] == ["r0", "r1"]


def test_closing_the_log_writes_what_is_queued_and_ends_the_child(database: Path | str) -> None:
    log = RequestLog(database, writer="process", interval=60)  # the feeder wakes only when flushed or closed
    for n in range(20):
        log.record(record(n))
    log.close()
    assert len(stored(database)) == 20
    process = log._process
    assert process is not None and not process.alive()


def test_a_request_through_the_served_gateway_is_logged_by_its_writer_process(
        tmp_path: Path, database: Path | str) -> None:
    tracker = ConnectorUnderTest.start(tmp_path, "agentsmesh", settings={"request_log_writer": "process"},
                                       database=database)
    try:
        with tracker.client() as client:
            answer = client.get(TICKETS, params={"limit": 2})
        assert answer.status_code == 200
        request_log = tracker.harness.gateway.request_log
        assert request_log.flush() and request_log.writer == "process"
        writer_pid(request_log)
        rows = [r for r in stored(database) if r["id"] == answer.headers["request-id"]]
        assert len(rows) == 1 and rows[0]["status_code"] == 200 and agentsmesh.DEFAULT_API_KEY not in rows[0]["calls"]
    finally:
        tracker.stop()


def test_the_writer_setting_takes_process_or_thread_and_refuses_anything_else() -> None:
    assert Settings.from_env({}).request_log_writer == "process"
    assert Settings.from_env({"UNIGATE_REQUEST_LOG_WRITER": " Thread "}).request_log_writer == "thread"
    with pytest.raises(ValueError, match="UNIGATE_REQUEST_LOG_WRITER must be process or thread, not 'fork'"):
        Settings.from_env({"UNIGATE_REQUEST_LOG_WRITER": "fork"})
