"""The request log: what reached the tracker, redacted and capped; retention; off per app and globally;
raw=true on errors; the queue drops its oldest records rather than block; `unigate logs`. On SQLite and
PostgreSQL (``database``/``module_database``: each test module and backend a database of its own)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from unigate.cli import main
from unigate.db import schema
from unigate.downstream.client import RawCall
from unigate.downstream.redact import REDACTED, Redactor
from unigate.observability import metrics
from unigate.observability.requestlog import BODY_CAP, LogFilter, RequestLog, RequestRecord, exchange
from unigate.testing.connector import ConnectorUnderTest
from unigate.testing.databases import raw_connection
from unigate.testing.harness import APP_ID, CONSUMER_ID
from unigate_connectors.agentsmesh import simulator as agentsmesh

KEY = agentsmesh.DEFAULT_API_KEY
TICKETS = f"/issue-tracking/collections/{agentsmesh.MAIN_REPOSITORY_ID}/tickets"


def start(tmp: Path, database: Path | str, **settings: Any) -> ConnectorUnderTest:
    return ConnectorUnderTest.start(tmp, "agentsmesh", settings=settings, database=database)


@pytest.fixture(scope="module")
def tracker(tmp_path_factory: pytest.TempPathFactory, module_database: Path | str) -> Iterator[ConnectorUnderTest]:
    t = start(tmp_path_factory.mktemp("requestlog"), module_database)
    yield t
    t.stop()


def stored(database: Path | str) -> list[dict[str, Any]]:
    """The request log as stored, oldest first (read from the database directly, not through the gateway)."""
    with raw_connection(database) as conn:
        return [dict(r._mapping) for r in conn.execute(select(schema.request_log).order_by(schema.request_log.c.seq))]


def rows(tracker: ConnectorUnderTest) -> list[dict[str, Any]]:
    assert tracker.harness.gateway.request_log.flush()
    return stored(tracker.harness.gateway.settings.database)


def row_of(tracker: ConnectorUnderTest, request_id: str) -> dict[str, Any]:
    found = [r for r in rows(tracker) if r["id"] == request_id]
    assert len(found) == 1, f"request {request_id} logged {len(found)} times"
    return found[0]


def test_a_failing_write_logs_the_exact_body_the_tracker_received_with_secrets_redacted(
        tracker: ConnectorUnderTest) -> None:
    sim = tracker.simulator
    assert sim is not None
    with tracker.client() as client:
        sim.fault(method="POST", path="/tickets$", status=500, body={"error": f"cannot store {KEY}"})
        response = client.post(TICKETS, json={"subject": f"pasted my key {KEY} here", "description": "x"},
                               headers={"x-apideck-service-id": "agentsmesh"})
    assert response.status_code == 502
    received = sim.requests()[-1]
    assert received["method"] == "POST" and KEY in received["body"]["title"]

    row = row_of(tracker, response.headers["request-id"])
    assert (row["app_id"], row["consumer_id"], row["service_id"]) == (APP_ID, CONSUMER_ID, "agentsmesh")
    assert (row["operation"], row["http_method"], row["path"]) == ("tickets.add", "POST", TICKETS)
    assert (row["status_code"], row["error_type"]) == (502, "ConnectorExecutionError")
    assert row["error_message"] == f"agentsmesh answered 500: cannot store {REDACTED}"
    assert KEY not in str(row)
    [call] = orjson.loads(row["calls"])
    expected_body = orjson.dumps(received["body"]).decode().replace(KEY, REDACTED)
    assert call["request"]["body"] == expected_body
    assert call["method"] == "POST" and call["url"] == f"{sim.url}{received['path']}"
    assert call["request"]["headers"]["x-api-key"] == REDACTED
    assert call["request"]["headers"]["content-type"] == "application/json"
    assert call["response"]["status_code"] == 500
    assert call["response"]["body"] == orjson.dumps({"error": f"cannot store {REDACTED}"}).decode()
    assert call["response"]["headers"]["content-type"] == "application/json"
    assert call["retries"] == 0 and call["duration_ms"] > 0
    assert row["downstream_ms"] == pytest.approx(call["duration_ms"], abs=0.01)
    assert row["execution_ms"] >= row["downstream_ms"]


def test_bodies_are_capped_and_say_so(tracker: ConnectorUnderTest) -> None:
    sim = tracker.simulator
    assert sim is not None
    description = "d" * (3 * BODY_CAP)
    with tracker.client() as client:
        response = client.post(TICKETS, json={"subject": "big", "description": description})
    assert response.status_code == 201
    sent = orjson.dumps(sim.requests()[-1]["body"])
    [call] = orjson.loads(row_of(tracker, response.headers["request-id"])["calls"])
    assert call["request"]["body"] == sent[:BODY_CAP].decode()
    assert call["request"]["body_truncated"] is True
    assert call["response"]["status_code"] == 201


def test_a_retried_read_records_its_retries(tracker: ConnectorUnderTest) -> None:
    sim = tracker.simulator
    assert sim is not None
    with tracker.client() as client:
        sim.fault(method="GET", path="/tickets/AM-7$", status=503, times=1)
        response = client.get(f"{TICKETS}/AM-7")
    assert response.status_code == 200
    assert len([r for r in sim.requests() if r["path"].endswith("/tickets/AM-7")]) == 2
    [call] = orjson.loads(row_of(tracker, response.headers["request-id"])["calls"])
    assert (call["retries"], call["response"]["status_code"]) == (1, 200)
    assert orjson.loads(call["response"]["body"])["ticket"]["slug"] == "AM-7"


def test_raw_on_an_error_returns_each_call_request_and_response(tracker: ConnectorUnderTest) -> None:
    sim = tracker.simulator
    assert sim is not None
    with tracker.client() as client:  # an update reads the ticket first (collection_check), then PUTs it
        sim.fault(method="PUT", path="/tickets/AM-7$", status=422, body={"message": f"bad status for {KEY}"})
        response = client.patch(f"{TICKETS}/AM-7?raw=true", json={"subject": "renamed"})
        sim.fault(method="PUT", path="/tickets/AM-7$", status=422, body={"message": "bad"})
        plain = client.patch(f"{TICKETS}/AM-7?raw=false", json={"subject": "renamed"})
    assert response.status_code == 422 and plain.status_code == 422
    assert "_raw" not in plain.json()
    body = response.json()
    assert body["type_name"] == "ConnectorExecutionError"
    received = [r for r in sim.requests() if r["path"].endswith("/tickets/AM-7")][:2]
    read, write = body["_raw"]["calls"]
    assert [read["method"], write["method"]] == [r["method"] for r in received] == ["GET", "PUT"]
    assert read["response"]["status_code"] == 200 and read["request"]["body"] is None
    assert orjson.loads(read["response"]["body"])["ticket"]["slug"] == "AM-7"
    assert write["request"]["body"] == orjson.dumps(received[1]["body"]).decode()
    assert write["request"]["headers"]["x-api-key"] == REDACTED
    assert write["response"]["status_code"] == 422
    assert orjson.loads(write["response"]["body"]) == {"message": f"bad status for {REDACTED}"}
    assert KEY not in response.text


def test_a_request_without_a_connection_is_logged_after_the_key_was_accepted(tracker: ConnectorUnderTest) -> None:
    harness = tracker.harness
    with httpx.Client(base_url=harness.server.url, timeout=30) as anon:
        unknown = anon.get(TICKETS, headers={**harness.headers(), "x-apideck-consumer-id": "nobody"})
        wrong_key = anon.get(TICKETS, headers={**harness.headers(), "authorization": "Bearer wrong"})
    assert unknown.status_code == 404 and wrong_key.status_code == 401
    row = row_of(tracker, unknown.headers["request-id"])
    assert (row["consumer_id"], row["service_id"], row["status_code"]) == ("nobody", "", 404)
    assert row["calls"] == "[]"
    assert not [r for r in rows(tracker) if r["id"] == wrong_key.headers["request-id"]]


def test_retention_keeps_the_newest_rows(tmp_path: Path, database: Path | str) -> None:
    tracker = start(tmp_path, database, log_max_rows=3)
    try:
        with tracker.client() as client:
            ids = [client.get(f"{TICKETS}/AM-7").headers["request-id"] for _ in range(5)]
        assert [r["id"] for r in rows(tracker)] == ids[-3:]
    finally:
        tracker.stop()


def test_retention_deletes_rows_older_than_the_retention_days(tmp_path: Path, database: Path | str) -> None:
    tracker = start(tmp_path, database, log_retention_days=1.0)
    try:
        with tracker.client() as client:
            old = [client.get(f"{TICKETS}/AM-7").headers["request-id"] for _ in range(2)]
            assert [r["id"] for r in rows(tracker)] == old
            with raw_connection(database) as conn:  # the two rows age by 25 hours
                conn.execute(update(schema.request_log).values(ts=schema.request_log.c.ts - 25 * 3600))
            recent = client.get(f"{TICKETS}/AM-7").headers["request-id"]
        assert [r["id"] for r in rows(tracker)] == [recent]
    finally:
        tracker.stop()


def cli(tracker: ConnectorUnderTest, *args: str) -> Any:
    env = {"UNIGATE_DATABASE": str(tracker.harness.gateway.settings.database),
           "UNIGATE_SECRET_KEY": tracker.harness.secret_key}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_logging_turned_off_for_an_app_records_nothing_of_it(tmp_path: Path, database: Path | str) -> None:
    tracker = start(tmp_path, database)
    try:
        off = cli(tracker, "vault", "app-update", APP_ID, "--no-logs")
        assert off.exit_code == 0, off.output
        assert orjson.loads(off.stdout)["logs"] is False
        with tracker.client() as client:
            unlogged = client.get(f"{TICKETS}/AM-7").headers["request-id"]
            assert rows(tracker) == []
            assert cli(tracker, "vault", "app-update", APP_ID, "--logs").exit_code == 0
            logged = client.get(f"{TICKETS}/AM-7").headers["request-id"]
        assert [r["id"] for r in rows(tracker)] == [logged]
        assert unlogged != logged
        missing = cli(tracker, "vault", "app-update", "no-such-app", "--no-logs")
        assert missing.exit_code == 1 and "no app 'no-such-app'" in missing.output
    finally:
        tracker.stop()


def test_logging_turned_off_globally_records_nothing(tmp_path: Path, database: Path | str) -> None:
    tracker = start(tmp_path, database, request_log=False)
    try:
        with tracker.client() as client:
            assert client.get(f"{TICKETS}/AM-7").status_code == 200
            listed = client.get("/vault/logs")
        assert listed.status_code == 200 and listed.json()["data"] == []
        assert rows(tracker) == []
        assert tracker.harness.gateway.request_log.enabled is False
    finally:
        tracker.stop()


def record(n: int, **fields: Any) -> RequestRecord:
    """Request ``r<n>`` of app ``a`` as the gateway records it, ``fields`` changed."""
    base: dict[str, Any] = {"request_id": f"r{n}", "app_id": "a", "consumer_id": "c", "service_id": "s",
                            "operation": "tickets.one", "method": "GET", "path": "/p", "status_code": 200,
                            "started": time.time(), "duration_ms": 1.0}
    return RequestRecord(**{**base, **fields})


def test_a_full_queue_drops_its_oldest_records_and_counts_them(database: Path | str) -> None:
    log = RequestLog(database, queue_size=3, interval=60)  # the writer wakes only when flushed
    for n in range(10):
        log.record(record(n))
    assert log.dropped == 7
    assert log.flush()
    log.close()
    assert [r["id"] for r in stored(database)] == ["r7", "r8", "r9"]


def test_a_batch_larger_than_one_statement_is_stored_whole_and_in_order(database: Path | str) -> None:
    log = RequestLog(database, interval=60)
    for n in range(200):  # 128 + 64 + 8 rows: three INSERT statements of one transaction
        log.record(record(n, status_code=200 + n % 3, error_message=None if n % 2 else f"message {n}"))
    assert log.flush()
    log.close()
    found = stored(database)
    assert [r["id"] for r in found] == [f"r{n}" for n in range(200)] and log.written == 200
    assert [(r["status_code"], r["error_message"]) for r in found[:2]] == [(200, "message 0"), (201, None)]


def test_the_log_reads_back_one_consumers_rows_newest_first_with_filters_and_a_cursor(database: Path | str) -> None:
    log, then = RequestLog(database, interval=60), time.time() - 60
    for n in range(6):
        log.record(record(n, consumer_id="c" if n % 2 == 0 else "other", path=f"/Tickets/{n}", started=then + n))
    assert log.flush()
    mine = LogFilter(app_id="a", consumer_id="c")
    assert [r["id"] for r in log.query(mine, 10)] == ["r4", "r2", "r0"]
    first = log.query(mine, 1)[0]
    assert [r["id"] for r in log.query(LogFilter(app_id="a", consumer_id="c", before_seq=first["seq"]), 10)] == ["r2", "r0"]
    assert [r["id"] for r in log.query(LogFilter(app_id="a", after_seq=first["seq"] - 2), 10)] == ["r3", "r4", "r5"]
    assert [r["id"] for r in log.query(LogFilter(app_id="a", path="tickets/2"), 10)] == ["r2"]  # any case
    assert [r["id"] for r in log.query(LogFilter(app_id="a", path="/tickets/_", path_match_mode="STARTS_WITH"), 10)] == []
    assert [r["id"] for r in log.query(LogFilter(app_id="a", start=then + 1, end=then + 2), 10)] == ["r2", "r1"]
    assert log.query(LogFilter(app_id="b"), 10) == []
    log.close()


def test_a_follower_of_two_writing_gateways_misses_no_row(database: Path | str) -> None:
    """Rows are committed in seq order whatever the number of writers, so reading on from the last seq seen
    (``unigate logs --follow``) never skips a row another process commits later."""
    writers = [RequestLog(database, interval=0.001) for _ in range(2)]
    follower, seen = RequestLog(database, enabled=False), []

    def write(log: RequestLog, name: str) -> None:
        for n in range(400):
            log.record(record(n, request_id=f"{name}-{n}"))
            if n % 20 == 0:
                time.sleep(0.002)
        assert log.flush()
        log.close()

    threads = [threading.Thread(target=write, args=(log, name)) for log, name in zip(writers, "ab", strict=True)]
    for thread in threads:
        thread.start()
    last, finished = 0, False
    while not finished:
        finished = not any(t.is_alive() for t in threads)  # then one more read takes what is left
        rows = follower.query(LogFilter(app_id="a", after_seq=last), 1000)
        seen += [r["id"] for r in rows]
        last = rows[-1]["seq"] if rows else last
    follower.close()
    assert sorted(seen) == sorted(r["id"] for r in stored(database)) and len(seen) == 800


def test_dropped_records_are_counted_in_metrics_and_said_in_the_gateway_log(
        database: Path | str, caplog: pytest.LogCaptureFixture) -> None:
    dropped_before = metrics.REGISTRY.get_sample_value("unigate_request_log_dropped_total") or 0.0
    log = RequestLog(database, queue_size=2, interval=60)  # the writer wakes only when flushed
    with caplog.at_level(logging.WARNING, logger="unigate.requestlog"):
        for n in range(5):
            log.record(record(n))
        assert log.flush()
        log.close()
    assert metrics.REGISTRY.get_sample_value("unigate_request_log_dropped_total") == dropped_before + 3
    warnings = [r.getMessage() for r in caplog.records if r.name == "unigate.requestlog"]
    assert len(warnings) == 1
    assert warnings[0].startswith("request log: 3 requests not logged (3 since the gateway started)")


@pytest.mark.parametrize("body", [
    b'{"a": "' + b"x" * 9000 + b'"}',                                   # no secret: cut at the cap
    b"y" * (BODY_CAP - 10) + KEY.encode() + b"z" * 3000,                # a secret across the cap
    (KEY.encode() + b" ") * 400,                                        # redactions pull text forward
    "é€".encode() * 3000 + KEY.encode(),                               # multi-byte text, secret past the cap
])
def test_a_body_is_redacted_before_it_is_cut_however_little_of_it_is_read(body: bytes) -> None:
    call = RawCall("c", "GET", "http://tracker/x", [], 500, None, 1.0, response_excerpt=body)
    redactor = Redactor([KEY])
    whole = redactor.text(body.decode("utf-8", "replace")).encode()[:BODY_CAP].decode("utf-8", "ignore")
    logged = exchange(call, redactor)["response"]
    assert logged["body"] == whole
    assert KEY not in logged["body"] and logged["body_truncated"] is True


def test_unigate_logs_prints_the_newest_requests_and_follows(tmp_path: Path, database: Path | str) -> None:
    tracker = start(tmp_path, database)
    tracker.connect("other-consumer")
    try:
        with tracker.client() as client:
            ids = [client.get(f"{TICKETS}/AM-{n}").headers["request-id"] for n in (1, 2, 3)]
        with tracker.harness.client(consumer_id="other-consumer") as other:
            other_id = other.get(f"{TICKETS}/AM-4").headers["request-id"]
        assert tracker.harness.gateway.request_log.flush()

        listed = cli(tracker, "logs", "--consumer", CONSUMER_ID, "--limit", "2", "--calls")
        assert listed.exit_code == 0, listed.output
        lines = listed.stdout.splitlines()
        assert [line.split()[1] for line in lines if not line.startswith(" ")] == ids[1:]
        assert f"{APP_ID} {CONSUMER_ID} agentsmesh tickets.one GET {TICKETS}/AM-2 -> 200" in lines[0]
        assert lines[1].strip().startswith(f"tickets_one GET {tracker.simulator.url}")  # type: ignore[union-attr]
        assert lines[1].rstrip().split()[-1].endswith("ms") and "-> 200" in lines[1]

        by_service = cli(tracker, "logs", "--service", "codimir")
        assert by_service.exit_code == 0 and by_service.stdout == ""
        as_json = cli(tracker, "logs", "--json", "--limit", "1")
        [entry] = [orjson.loads(line) for line in as_json.stdout.splitlines()]
        assert (entry["id"], entry["consumer_id"], entry["app_id"]) == (other_id, "other-consumer", APP_ID)
        assert entry["unigate"]["calls"][0]["request"]["headers"]["x-api-key"] == REDACTED

        env = {**os.environ, "UNIGATE_DATABASE": str(tracker.harness.gateway.settings.database)}
        follower = subprocess.Popen([sys.executable, "-m", "unigate.cli", "logs", "--follow", "--limit", "1",
                                     "--interval", "0.1"], env=env, stdout=subprocess.PIPE, text=True)
        try:
            assert follower.stdout is not None
            assert follower.stdout.readline().split()[1] == other_id
            with tracker.client() as client:
                new_id = client.get(f"{TICKETS}/AM-5").headers["request-id"]
            assert tracker.harness.gateway.request_log.flush()
            assert follower.stdout.readline().split()[1] == new_id
        finally:
            follower.terminate()
            follower.wait(10)
    finally:
        tracker.stop()


def test_unigate_logs_on_a_database_it_cannot_reach_says_so_in_one_sentence() -> None:
    result = CliRunner().invoke(main, ["logs"], env={"UNIGATE_DATABASE": "postgresql://postgres:hunter2@127.0.0.1:1/x"})
    assert result.exit_code == 1
    assert "cannot use the database postgresql" in result.output and "hunter2" not in result.output


def test_a_proxied_request_is_logged_with_its_downstream_call_and_no_credential(
        tracker: ConnectorUnderTest) -> None:
    with tracker.client() as client:
        response = client.get("/proxy", headers={"x-apideck-service-id": "agentsmesh",
                                                 "x-apideck-downstream-url": "/repositories?limit=1"})
    assert response.status_code == 200
    row = row_of(tracker, response.headers["request-id"])
    assert (row["operation"], row["http_method"], row["path"], row["status_code"]) == ("proxy.get", "GET", "/proxy",
                                                                                       200)
    [call] = orjson.loads(row["calls"])
    assert (call["call_id"], call["method"], call["response"]["status_code"]) == ("proxy", "GET", 200)
    assert call["url"].endswith("/repositories?limit=1") and KEY not in str(row)


def test_a_refused_proxy_request_is_logged_with_its_error(tracker: ConnectorUnderTest) -> None:
    with tracker.client() as client:
        response = client.get("/proxy", headers={"x-apideck-service-id": "agentsmesh",
                                                 "x-apideck-downstream-url": "http://elsewhere.example/x"})
    assert response.status_code == 400
    row = row_of(tracker, response.headers["request-id"])
    assert (row["operation"], row["status_code"], row["error_type"]) == ("proxy.get", 400, "RequestValidationError")
    assert orjson.loads(row["calls"]) == []
