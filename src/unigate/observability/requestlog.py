"""The request log: every unified (and proxy) request with its downstream calls, in the vault database.

**Recording** (``RequestLog.record``) costs the request a deque append: the record holds references
to what the request already has (its ``RawCall`` list, the session's ``Redactor``); nothing is
redacted or written on the request path. A background thread drains the queue every ``interval``
seconds, in batches. **Where the batches are written** is the ``writer``:

- ``"process"`` (``UNIGATE_REQUEST_LOG_WRITER``, the default for a gateway built from its settings): the
  thread pickles each batch to a child process (``unigate.observability.logwriter``), which writes it as
  below; the request path pays only for :func:`~unigate.observability.logwriter.to_wire`. A child that
  dies is started again (at most every ``RESPAWN_EVERY`` seconds); the records it had not written are
  counted as dropped.
- ``"thread"``: the thread writes them itself (tests, the CLI, embedded use: no process to start).

Either way the batch goes through a database connection of the writer's own: it redacts (the connection's
credential values, and header names that carry credentials), caps bodies at ``body_cap`` bytes,
skips apps whose log is off (``apps.request_log``, ``unigate vault app-update --no-logs``), inserts
(``STATEMENT_ROWS`` rows an INSERT statement: a quarter of the CPU of a statement per row), and applies
retention (rows older than ``UNIGATE_LOG_RETENTION_DAYS``, beyond the newest
``UNIGATE_LOG_MAX_ROWS``). The queue is bounded: when it is full the oldest record is dropped and
counted (``dropped``, ``unigate_request_log_dropped_total``) and the writer says so in the gateway's log (a
warning at most every ``DROP_REPORT_EVERY`` seconds); a request never waits for the log.
``close()`` (the gateway's shutdown) writes what is queued.

**Writing**: ``unigate.observability.hooks.answered`` builds a ``RequestRecord`` for each unified or
proxied request (``operation="proxy.<method>"`` for the Proxy API) and passes it to ``record``.

**Reading**: ``query()`` (``GET /vault/logs``, ``unigate logs``), newest first, always scoped to one app.

**Backends**: the table is ``unigate.db.schema.request_log`` on SQLite or PostgreSQL (``UNIGATE_DATABASE``).
A batch is one transaction: a few multi-row INSERTs on SQLite, one pipelined executemany on PostgreSQL
(``STATEMENT_ROWS``); retention is the same two DELETEs on both.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import orjson
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from unigate.db import DatabaseURL, is_sqlite, open_database, schema, transaction
from unigate.downstream.models import RawCall
from unigate.downstream.redact import REDACTED, SENSITIVE_PARAMS, Redactor
from unigate.observability import metrics
from unigate.observability.logwriter import Wire, WriterConfig, WriterProcess, to_wire

log = logging.getLogger("unigate.requestlog")

BODY_CAP = 8 * 1024        # bytes of a request or response body kept in the log
QUEUE_SIZE = 10_000        # records waiting to be written; past it the oldest are dropped
BATCH = 500                # records per transaction
INTERVAL = 0.25            # seconds between drains
DROP_REPORT_EVERY = 10.0   # seconds between warnings that records were dropped
RESPAWN_EVERY = 1.0        # seconds at least between two starts of the writer process
WRITERS = ("process", "thread")
OK_EXCERPT = 2 * 1024      # bytes of a successful answer's body kept (a failed one's: BODY_CAP); raw=true has it all
_NO_SECRETS = Redactor([])
# header names whose values are credentials whatever they hold (the values are also redacted by value)
_SECRET_HEADER = re.compile("auth|token|key|secret|cookie|password|session|signature")
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")  # what quote_plus leaves as it is
_UNRESERVED_QUERY = re.compile(r"[A-Za-z0-9_.~=&-]*")
_HEADER_NAMES: dict[str | bytes, tuple[str, bool]] = {}  # name as sent or received -> _header_name(name)
_ISO_SECOND: list[tuple[int, str]] = [(-1, "")]  # the last whole second _iso formatted, and its text
_COLUMNS_WRITTEN = ("id", "ts", "app_id", "consumer_id", "service_id", "service_name", "unified_api", "operation",
                    "http_method", "path", "base_url", "source_ip", "status_code", "error_type", "error_message",
                    "execution_ms", "downstream_ms", "calls")
# Rows are inserted by statements of many rows each (``INSERT ... VALUES (...), (...), ...``):
# ``executemany`` (a statement per row) cost SQLite ~4x the CPU per row (sqlite_sequence read and
# written per statement, cursors opened per statement), and gave the GIL back and took it again for
# every row, each time waiting for the request path's thread (docs/benchmarks.md, "Request log").
# Statements hold STATEMENT_ROWS rows or a power of two fewer, so a handful of SQL texts are
# compiled once and reused whatever the batch size. They go to the driver as they are, without SQLAlchemy
# compiling each. PostgreSQL (psycopg 3) is the other way round: a batch is one executemany of the one-row
# INSERT, which psycopg pipelines (one round trip, one prepared statement); measured there, multi-row
# statements cost ~1.8x its CPU per row and SQLAlchemy's executemany ~1.2x (ad hoc, 10,000 rows in batches
# of 500, medians of 3 rounds, 2 cores at load ~11).
STATEMENT_ROWS = 64
# PostgreSQL: the writers of every gateway process take turns (a transaction-scoped advisory lock), so rows
# are committed in seq order and a reader following new rows (after_seq: `unigate logs --follow`) never
# passes a seq whose row another process has yet to commit. SQLite's BEGIN IMMEDIATE already does this.
_WRITERS_LOCK = f"SELECT pg_advisory_xact_lock({0x756E6C67})"  # "unlg"


@functools.cache
def _insert(rows: int, mark: str) -> str:
    """The INSERT of ``rows`` rows with placeholder ``mark`` (the same str each time: hashed once for the
    statement cache)."""
    one = "(" + ", ".join([mark] * len(_COLUMNS_WRITTEN)) + ")"
    return f"INSERT INTO request_log ({', '.join(_COLUMNS_WRITTEN)}) VALUES " + ", ".join([one] * rows)


def _statements(rows: list[tuple[Any, ...]]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """``rows`` as SQLite INSERT statements and their parameters, in order."""
    start = 0
    while start < len(rows):
        size = STATEMENT_ROWS
        while size > len(rows) - start:
            size //= 2
        yield _insert(size, "?"), tuple([value for row in rows[start:start + size] for value in row])
        start += size

# (resource, operation) -> the spec's operationId and summary (Log.operation)
OPERATIONS: dict[str, tuple[str, str]] = {
    "collections.all": ("collectionsAll", "List Collections"),
    "collections.one": ("collectionsOne", "Get Collection"),
    "tickets.all": ("collectionTicketsAll", "List Tickets"),
    "tickets.add": ("collectionTicketsAdd", "Create Ticket"),
    "tickets.one": ("collectionTicketsOne", "Get Ticket"),
    "tickets.update": ("collectionTicketsUpdate", "Update Ticket"),
    "tickets.delete": ("collectionTicketsDelete", "Delete Ticket"),
    "comments.all": ("collectionTicketCommentsAll", "List Comments"),
    "comments.add": ("collectionTicketCommentsAdd", "Create Comment"),
    "comments.one": ("collectionTicketCommentsOne", "Get Comment"),
    "comments.update": ("collectionTicketCommentsUpdate", "Update Comment"),
    "comments.delete": ("collectionTicketCommentsDelete", "Delete Comment"),
    "users.all": ("collectionUsersAll", "List Users"),
    "users.one": ("collectionUsersOne", "Get user"),
    "tags.all": ("collectionTagsAll", "List Tags"),
}


@dataclass(slots=True)
class RequestRecord:
    """One request as recorded; ``calls`` and ``redactor`` are redacted and capped by the writer."""

    request_id: str
    app_id: str
    consumer_id: str
    service_id: str
    operation: str            # resource.operation (tickets.add), or proxy.<method>
    method: str
    path: str
    status_code: int
    started: float            # time.time() when the request arrived
    duration_ms: float        # the whole request, as the gateway answered it
    unified_api: str = "issue-tracking"
    error_type: str | None = None
    error_message: str | None = None
    calls: Sequence[RawCall] = ()
    redactor: Redactor | None = None
    service_name: str = ""
    base_url: str = ""
    source_ip: str | None = None


class RequestLog:
    def __init__(self, database: Engine | DatabaseURL | str | Path, *, enabled: bool = True,
                 retention_days: float = 14.0, max_rows: int = 100_000, queue_size: int = QUEUE_SIZE,
                 body_cap: int = BODY_CAP, interval: float = INTERVAL, writer: str = "thread",
                 log_settings: tuple[str, str] = ("INFO", "text")) -> None:
        """On ``database``: an engine the caller owns (the gateway's), or ``UNIGATE_DATABASE``'s value
        (an engine of the log's own, opened when first needed, disposed by :meth:`close`). ``writer``:
        ``"thread"`` or ``"process"`` (see the module's doc); ``log_settings``: the writer process's log
        level and format."""
        if writer not in WRITERS:
            raise ValueError(f"UNIGATE_REQUEST_LOG_WRITER must be process or thread, not {writer!r}")
        self.writer = writer
        self._log_settings = log_settings
        self._url = (database.url.render_as_string(hide_password=False) if isinstance(database, Engine)
                     else str(database))  # the writer process's database (the pipe carries it, never argv)
        self._engine = database if isinstance(database, Engine) else None
        self.database = database if isinstance(database, DatabaseURL | str) else str(
            database.url if isinstance(database, Engine) else database)
        self.enabled = enabled and str(self.database) not in (":memory:", "sqlite:///:memory:")
        self.retention_days = retention_days
        self.max_rows = max_rows
        self.body_cap = body_cap
        self.interval = interval
        self.dropped = 0
        self.written = 0
        self._queue: deque[RequestRecord | Wire] = deque(maxlen=queue_size)
        self._wake = threading.Event()
        self._enqueued = 0   # records queued (the request path's count)
        self._done = 0       # records taken off the queue and handled (the writer's count)
        self._stop = False
        self._retain_due = False
        self._last_retention = 0.0     # time.monotonic() of the last retention by age
        self._reported_drops = 0       # self.dropped when the last warning said so
        self._reported_at = -DROP_REPORT_EVERY
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._conn: Connection | None = None  # the writer thread's
        self._owned = False                   # the engine is the log's own (disposed by close)
        self._process: WriterProcess | None = None  # writer "process": the child, started with the thread
        self._spawned_at = -RESPAWN_EVERY

    @property
    def engine(self) -> Engine:
        """The database the log is written to and read from."""
        with self._start_lock:
            if self._engine is None:
                self._engine = open_database(self.database)
                self._owned = True
            return self._engine

    def query(self, flt: LogFilter, limit: int) -> list[dict[str, Any]]:
        """Stored rows matching ``flt`` (see :func:`query`)."""
        with self.engine.connect() as conn:
            return query(conn, flt, limit)

    # -- the request path ------------------------------------------------------------------------
    def record(self, entry: RequestRecord) -> None:
        """Queue ``entry`` for the writer; never blocks (a full queue drops its oldest record)."""
        if not self.enabled:
            return
        queue = self._queue
        if len(queue) == queue.maxlen:
            self.dropped += 1
            metrics.LOG_DROPPED.inc()
        if self.writer == "process":
            queue.append(to_wire(entry))
        else:  # held until written: the parsed bodies would be work for every garbage collection
            entry.calls = [_unparsed(c) for c in entry.calls]
            queue.append(entry)
        self._enqueued += 1
        if self._thread is None:
            self._start()

    # -- lifecycle -------------------------------------------------------------------------------
    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stop:
                self._thread = threading.Thread(target=self._run, name="unigate-request-log", daemon=True)
                self._thread.start()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued before this call is written; False if it took over ``timeout``."""
        target = self._enqueued
        self._retain_due = True  # age retention too, not just every few seconds
        deadline = time.monotonic() + timeout
        while self._done + self.dropped < target:
            if self._thread is None or not self._thread.is_alive() or time.monotonic() > deadline:
                return False
            self._wake.set()
            time.sleep(0.002)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop the writer (the gateway's shutdown)."""
        self.flush(timeout)
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        else:
            self._disconnect()  # write_batch called directly (the writer process)
        if self._process is not None:
            self._process.close(timeout)
        if self._owned and self._engine is not None:
            self._engine.dispose()

    # -- the writer thread -----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                self._wake.wait(self.interval)
                self._wake.clear()
                self._drain()
                self._report_drops()
                metrics.LOG_QUEUE.set(len(self._queue))
                if self._stop:
                    return
        finally:
            self._disconnect()

    def _connection(self) -> Connection:
        """The writer's connection, held across batches (opened again after an error)."""
        if self._conn is None:
            self._conn = self.engine.connect()
            if is_sqlite(self._conn):  # WAL: durable at checkpoints, consistent always (this connection only)
                self._conn.exec_driver_sql("PRAGMA synchronous = NORMAL")
        return self._conn

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except SQLAlchemyError:
                log.debug("request log: closing a broken connection failed", exc_info=True)

    def _drain(self) -> None:
        """Hand what is queued to the writer, ``BATCH`` records at a time."""
        while self._queue:
            batch: list[Any] = []
            while self._queue and len(batch) < BATCH:
                batch.append(self._queue.popleft())
            if self.writer == "process":
                self._hand_over(batch)
            else:
                self.write_batch(batch)
                self._done += len(batch)  # after retention: what flush() waited for is written and retained

    def write_batch(self, batch: list[RequestRecord], *, retain_now: bool = False) -> int:
        """Write ``batch`` in one transaction, then apply retention (by age too if ``retain_now``); the
        rows written (0 if the database failed: logged, never raised)."""
        self._retain_due = self._retain_due or retain_now
        try:
            written = self._write(self._connection(), batch)
        except Exception:  # the log must never take the gateway down
            log.exception("could not write %d request log records", len(batch))
            self._disconnect()
            return 0
        self._retain_after_batch()
        return written

    # -- the writer process ----------------------------------------------------------------------
    def _hand_over(self, batch: list[Any]) -> None:
        retain, self._retain_due = self._retain_due, False
        process = self._writer_process()
        if process is None or not process.send(batch, retain):
            self._lost(len(batch))

    def _writer_process(self) -> WriterProcess | None:
        """The running child, started (again) if it is not, at most every ``RESPAWN_EVERY`` seconds."""
        process = self._process
        if process is not None and process.alive():
            return process
        now = time.monotonic()
        if now - self._spawned_at < RESPAWN_EVERY:
            return None
        self._spawned_at = now
        if process is not None:
            log.warning("request log: the writer process stopped; starting another")
            process.close(0)
        config = WriterConfig(self._url, self.retention_days, self.max_rows, self.body_cap, *self._log_settings)
        self._process = process = WriterProcess(config, self._acked, self._lost)
        try:
            process.start()
        except OSError:
            log.exception("request log: could not start the writer process")
            return None
        return process

    def _acked(self, handled: int, written: int) -> None:
        """The writer process handled ``handled`` records, ``written`` of them stored (its reader thread)."""
        self.written += written
        metrics.LOG_WRITTEN.inc(written)
        self._done += handled

    def _lost(self, records: int) -> None:
        """``records`` never reached the database (the writer process was gone): counted as dropped."""
        self.dropped += records
        metrics.LOG_DROPPED.inc(records)

    def _report_drops(self) -> None:
        """Say in the gateway's log that records were dropped (at most every DROP_REPORT_EVERY seconds)."""
        dropped, now = self.dropped, time.monotonic()
        if dropped == self._reported_drops or now - self._reported_at < DROP_REPORT_EVERY:
            return
        log.warning("request log: %d requests not logged (%d since the gateway started): its queue of %d was "
                    "full (the writer cannot keep up with this load) or its writer process stopped before writing "
                    "them (unigate_request_log_dropped_total)", dropped - self._reported_drops, dropped,
                    self._queue.maxlen)
        self._reported_drops, self._reported_at = dropped, now

    def _write(self, conn: Connection, batch: list[RequestRecord]) -> int:
        off = set(conn.execute(_LOGS_OFF).scalars())
        rows = [self._row(r) for r in batch if r.app_id not in off]
        if not rows:
            return 0
        with transaction(conn):  # a few statements for the batch: the database works through each without the GIL
            if is_sqlite(conn):
                for sql, params in _statements(rows):
                    conn.exec_driver_sql(sql, params)
            else:  # psycopg 3 sends an executemany as one pipeline: one round trip, the statement prepared once
                conn.exec_driver_sql(_WRITERS_LOCK)
                conn.exec_driver_sql(_insert(1, "%s"), rows)
        self.written += len(rows)
        metrics.LOG_WRITTEN.inc(len(rows))
        return len(rows)

    def _row(self, r: RequestRecord) -> tuple[Any, ...]:
        redactor = r.redactor or _NO_SECRETS
        calls = [self.call_entry(c, redactor) for c in r.calls]
        downstream = sum(c.duration_ms for c in r.calls)
        message = redactor.text(r.error_message) if r.error_message else None
        return (r.request_id, r.started, r.app_id, r.consumer_id, r.service_id, r.service_name or r.service_id,
                r.unified_api, r.operation, r.method, r.path, r.base_url, r.source_ip, r.status_code, r.error_type,
                message, r.duration_ms, downstream, orjson.dumps(calls).decode())

    def call_entry(self, call: RawCall, redactor: Redactor) -> dict[str, Any]:
        """One downstream call as logged: secrets redacted, bodies capped at ``body_cap`` bytes."""
        return exchange(call, redactor, self.body_cap)

    def _retain_after_batch(self) -> None:
        """Retention by count after each batch, by age at most every few seconds (or when flushed)."""
        self._retain(self._retain_rows)
        now = time.monotonic()
        if now - self._last_retention > 5.0 or self._retain_due:
            self._last_retention, self._retain_due = now, False
            self._retain(self._retain_age)

    def _retain(self, rule: Callable[[Connection], None]) -> None:
        """Apply a retention rule on the writer's connection; a failure is logged, never raised."""
        try:
            rule(self._connection())
        except SQLAlchemyError:
            log.exception("request log retention failed")
            self._disconnect()

    def _retain_rows(self, conn: Connection) -> None:
        """Keep the newest ``max_rows`` (after each batch: cheap, seq is the primary key)."""
        # rows are deleted from the old end only (by age or count), so seq has no gaps past the oldest
        newest = select(func.max(_LOG.c.seq)).scalar_subquery()
        conn.execute(delete(_LOG).where(_LOG.c.seq <= newest - max(0, self.max_rows)))

    def _retain_age(self, conn: Connection) -> None:
        """Delete rows older than ``retention_days`` (at most every few seconds)."""
        if self.retention_days > 0:
            conn.execute(delete(_LOG).where(_LOG.c.ts < time.time() - self.retention_days * 86400))


def _unparsed(call: RawCall) -> RawCall:
    """The call without its parsed body (the log keeps the body's bytes): a page of parsed tickets
    waiting in the queue would be work for every garbage collection until it is written."""
    if call.body is None:
        return call
    return RawCall(call.call_id, call.method, call.url, call.query, call.status_code, None, call.duration_ms,
                   call.request_headers, call.request_body, call.response_headers, call.response_excerpt,
                   call.response_size, call.retries, call.error, call.started_at)


def exchange(call: RawCall, redactor: Redactor, body_cap: int = BODY_CAP) -> dict[str, Any]:
    """A downstream call's request and response, secrets redacted, bodies capped (the log, and
    ``_raw`` of an error)."""
    entry: dict[str, Any] = {
        "call_id": call.call_id, "method": call.method, "url": _url(call, redactor),
        "started_at": _iso(call.started_at) if call.started_at else None,
        "duration_ms": round(call.duration_ms, 3), "retries": call.retries,
        "request": {"headers": _headers(call.request_headers, redactor),
                    **_body(call.request_body, None, redactor, body_cap)},
        "response": None,
    }
    if call.error:
        entry["error"] = call.error
    if call.status_code is not None:
        cap = min(body_cap, OK_EXCERPT) if call.status_code < 300 else body_cap
        entry["response"] = {"status_code": call.status_code,
                             "headers": _headers(call.response_headers, redactor),
                             **_body(call.response_excerpt, call.response_size, redactor, cap)}
    return entry


def _url(call: RawCall, redactor: Redactor) -> str:
    """``redactor.url(call.full_url)``, without parsing back the URL the client just built."""
    url = redactor.text(call.url)
    if not call.query:
        return url
    plain = "&".join(f"{k}={v}" for k, v in call.query)
    # the common case: no secret, no parameter named like one, nothing to quote: the query as it is
    if (plain.count("=") == len(call.query) and plain.count("&") == len(call.query) - 1
            and _UNRESERVED_QUERY.fullmatch(plain) and redactor.text(plain) == plain
            and SENSITIVE_PARAMS.isdisjoint(k.lower() for k, _ in call.query)):
        return f"{url}?{plain}"
    return url + "?" + "&".join(
        f"{_quoted(redactor.text(k))}={REDACTED if k.lower() in SENSITIVE_PARAMS else _quoted(redactor.text(v))}"
        for k, v in call.query)


def _quoted(text: str) -> str:
    """``quote_plus(text)``; most query keys and values need no quoting, and checking is cheaper."""
    return text if _UNRESERVED.fullmatch(text) else quote_plus(text)


def _headers(headers: Any, redactor: Redactor) -> dict[str, str]:
    if not headers:
        return {}
    # httpx.Headers' .raw, or that list as the writer process gets it: (name, value) bytes as received
    raw = headers if isinstance(headers, list) else getattr(headers, "raw", None)
    out: dict[str, str] = {}
    for name, value in raw if raw is not None else headers.items():
        lower, secret = _HEADER_NAMES.get(name) or _header_name(name)
        shown = REDACTED if secret else redactor.text(value.decode("latin-1") if raw is not None else value)
        out[lower] = f"{out[lower]}, {shown}" if lower in out else shown
    return out


def _header_name(name: str | bytes) -> tuple[str, bool]:
    """A header's name in lower case, and whether its value is a credential whatever it holds."""
    lower = (name.decode("latin-1") if isinstance(name, bytes) else name).lower()
    if len(_HEADER_NAMES) > 4096:  # names come from trackers: the cache stays bounded
        _HEADER_NAMES.clear()
    known = _HEADER_NAMES[name] = (lower, _SECRET_HEADER.search(lower) is not None)
    return known


def _body(data: bytes | None, size: int | None, redactor: Redactor, cap: int) -> dict[str, Any]:
    if data is None:
        return {"body": None}
    size = len(data) if size is None else size
    text = _redacted_head(data, redactor, cap)  # redacted before cut: no half secret survives
    encoded = text.encode()
    truncated = size > cap or len(encoded) > cap
    if len(encoded) > cap:
        text = encoded[:cap].decode("utf-8", "ignore")
    out: dict[str, Any] = {"body": text}
    if truncated:
        out["body_truncated"] = True
        out["body_size"] = size
    return out


def _redacted_head(data: bytes, redactor: Redactor, cap: int) -> str:
    """``data`` decoded and redacted, exact in its first ``cap`` bytes; past them it may be cut.

    Only the first ``cap`` bytes are kept, so only a head reaching one longest secret past them is
    decoded and redacted (a 2 KB excerpt of a 9 KB capture costs a quarter). That head's first ``cap``
    bytes are those of the whole body redacted, unless a redaction in it moved later text forward:
    then the whole body is redacted, as before."""
    longest = max(len(s) for s in (*redactor.secrets[:1], *redactor.short_secrets[:1], ""))  # longest first
    reach = cap + 4 * longest + 4  # 4: the most UTF-8 bytes a character takes
    if len(data) <= reach:
        return redactor.text(data.decode("utf-8", "replace"))
    head = data[:reach].decode("utf-8", "replace")
    redacted = redactor.text(head)
    return redacted if redacted == head else redactor.text(data.decode("utf-8", "replace"))


def _iso(ts: float) -> str:
    second = int(ts)
    last = _ISO_SECOND[0]  # one read: another thread may replace it
    if last[0] != second:  # most calls of a batch fall in the same second: format it once
        last = _ISO_SECOND[0] = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{last[1]}.{int(ts * 1000) % 1000:03d}Z"


# -- reading ----------------------------------------------------------------------------------------
_LOG = schema.request_log
_LOGS_OFF = select(schema.apps.c.id).where(schema.apps.c.request_log == 0)
_READ = tuple(_LOG.c[name] for name in ("seq", *_COLUMNS_WRITTEN))
_PATH_PATTERNS = {"EXACT": "{}", "STARTS_WITH": "{}%", "ENDS_WITH": "%{}"}  # else CONTAINS: %{}%


@dataclass
class LogFilter:
    app_id: str | None = None                 # None: every app (the CLI only)
    consumer_id: str | None = None
    service_id: str | None = None
    status_codes: list[int] = field(default_factory=list)
    http_methods: list[str] = field(default_factory=list)
    path: str | None = None
    path_match_mode: str = "CONTAINS"
    start: float | None = None
    end: float | None = None
    exclude_unified_apis: list[str] = field(default_factory=list)
    before_seq: int | None = None             # newest first: rows older than this (the cursor)
    after_seq: int | None = None              # rows newer than this, oldest first (--follow)


def query(conn: Connection, flt: LogFilter, limit: int) -> list[dict[str, Any]]:
    """Rows matching ``flt``, newest first (oldest first after ``flt.after_seq``), at most ``limit``."""
    order = _LOG.c.seq.asc() if flt.after_seq is not None else _LOG.c.seq.desc()
    statement = select(*_READ).where(*_conditions(flt)).order_by(order).limit(limit)
    return [dict(row._mapping) for row in conn.execute(statement)]


def _conditions(flt: LogFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [_LOG.c[column] == value for column, value in (
        ("app_id", flt.app_id), ("consumer_id", flt.consumer_id), ("service_id", flt.service_id)) if value is not None]
    if flt.status_codes:
        where.append(_LOG.c.status_code.in_(flt.status_codes))
    if flt.http_methods:
        where.append(_LOG.c.http_method.in_([m.upper() for m in flt.http_methods]))
    if flt.path:  # case-insensitive on both backends (SQLite's LIKE is; PostgreSQL's ILIKE)
        escaped = flt.path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = _PATH_PATTERNS.get(flt.path_match_mode, "%{}%").format(escaped)
        where.append(_LOG.c.path.ilike(pattern, escape="\\"))
    if flt.start is not None:
        where.append(_LOG.c.ts >= flt.start)
    if flt.end is not None:
        where.append(_LOG.c.ts <= flt.end)
    if flt.exclude_unified_apis:
        where.append(_LOG.c.unified_api.not_in(flt.exclude_unified_apis))
    if flt.before_seq is not None:
        where.append(_LOG.c.seq < flt.before_seq)
    if flt.after_seq is not None:
        where.append(_LOG.c.seq > flt.after_seq)
    return where


def apideck_log(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as Apideck's ``Log`` (vault.yml; no property beyond the schema's)."""
    operation = OPERATIONS.get(row["operation"], (row["operation"], row["operation"]))
    execution = row["execution_ms"]
    downstream = row["downstream_ms"]
    return {
        "api_style": "REST",
        "base_url": row["base_url"],
        "child_request": False,
        "consumer_id": row["consumer_id"],
        "duration": round(downstream, 3),
        "error_message": row["error_message"],
        "execution": round(execution),
        "has_children": False,
        "http_method": row["http_method"],
        "id": row["id"],
        "latency": round(max(0.0, execution - downstream), 3),
        "operation": {"id": operation[0], "name": operation[1]},
        "parent_id": None,
        "path": row["path"],
        "sandbox": False,
        "service": {"id": row["service_id"], "name": row["service_name"]},
        "source_ip": row["source_ip"],
        "status_code": row["status_code"],
        "success": 0 < row["status_code"] < 400,   # 0: no answer (a webhook receiver that did not reply)
        "timestamp": _iso(row["ts"]),
        "unified_api": row["unified_api"],
    }


def details(row: dict[str, Any]) -> dict[str, Any]:
    """What ``Log`` has no place for: the operation as unigate names it, the error type, the calls."""
    return {"id": row["id"], "operation": row["operation"], "error_type": row["error_type"],
            "calls": orjson.loads(row["calls"])}


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"log:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The position a cursor names, or None if it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    prefix, _, number = text.partition(":")
    if prefix != "log" or not number.isascii() or not number.isdigit() or len(number) > 18:
        return None
    return int(number)
