"""The request log's writer process (``UNIGATE_REQUEST_LOG_WRITER=process``, the default).

Why a process: the writer's work (redacting, capping, JSON, SQL: ~20-40 µs a request, more than the 5 %
of a GET one request the log may cost) done by a thread of the gateway's own process holds the
interpreter lock the request path needs, and slows it by more than its own CPU (lock hand-overs, caches).
In a child process it runs beside the gateway; the request path pays only for handing over what the
request already has (:func:`to_wire`, ~3 µs), and the log's feeding thread for pickling it (~3 µs).

The wire, on the child's stdin: frames of a 4-byte big-endian length and a pickle. The first frame is
the configuration (:class:`WriterConfig`); each next one is ``(records, retain_now)``. After each frame
the child answers one line on its stdout, ``"<records handled> <rows written>"``. At EOF on stdin it
has written everything and exits. Its own log lines go to the gateway's stderr. The database URL
(with any password) travels on the pipe, never in the command line.

Only the gateway process ever starts the child (:class:`WriterProcess`, used by
``unigate.observability.requestlog.RequestLog``); the child runs ``unigate.observability.logchild``.
"""

from __future__ import annotations

import logging
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import IO, Any

log = logging.getLogger("unigate.requestlog")

_LENGTH = struct.Struct(">I")
Wire = tuple[Any, ...]   # one RequestRecord as sent to the child (see to_wire)


@dataclass(frozen=True)
class WriterConfig:
    """What the child needs to write as the gateway's own log would."""

    database: str
    retention_days: float
    max_rows: int
    body_cap: int
    log_level: str = "INFO"
    log_format: str = "text"


# -- the record on the wire ----------------------------------------------------------------------
def to_wire(record: Any) -> Wire:
    """``record`` (a RequestRecord) as plain tuples: no parsed body, response headers as their raw
    (name, value) pairs. Called on the request path, so kept to a tuple per call."""
    calls = tuple((c.call_id, c.method, c.url, c.query, c.status_code, c.duration_ms, c.request_headers,
                   c.request_body, None if c.response_headers is None else list(c.response_headers.raw),
                   c.response_excerpt, c.response_size, c.retries, c.error, c.started_at) for c in record.calls)
    return (record.request_id, record.app_id, record.consumer_id, record.service_id, record.operation,
            record.method, record.path, record.status_code, record.started, record.duration_ms,
            record.unified_api, record.error_type, record.error_message, calls, record.redactor,
            record.service_name, record.base_url, record.source_ip)


# -- framing -------------------------------------------------------------------------------------
def write_frame(stream: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any | None:
    """The next frame's value, or None at EOF (or a frame cut short: the gateway is gone)."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    data = stream.read(size)
    return pickle.loads(data) if len(data) == size else None


# -- the gateway's side --------------------------------------------------------------------------
class WriterProcess:
    """The child as the gateway sees it: start it, send it batches, count what it says it did.

    ``send`` is called from one thread only (the log's feeding thread); a reader thread takes the
    child's answers and passes each to ``on_ack(records handled, rows written)``. When the child ends,
    the records it was sent and never answered for are passed to ``on_lost(records)``."""

    def __init__(self, config: WriterConfig, on_ack: Callable[[int, int], None],
                 on_lost: Callable[[int], None]) -> None:
        self.config = config
        self._on_ack, self._on_lost = on_ack, on_lost
        self._child: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._count = threading.Lock()  # sent and answered, as the child ends
        self._sent = 0
        self._answered = 0

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    def alive(self) -> bool:
        return self._child is not None and self._child.poll() is None

    def start(self) -> None:
        """Start the child (its configuration is its first frame)."""
        child = subprocess.Popen([sys.executable, "-m", "unigate.observability.logchild"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        assert child.stdin is not None and child.stdout is not None
        write_frame(child.stdin, asdict(self.config))
        self._child = child
        self._reader = threading.Thread(target=self._read_acks, args=(child.stdout,),
                                        name="unigate-request-log-acks", daemon=True)
        self._reader.start()

    def send(self, records: list[Wire], retain_now: bool) -> bool:
        """Hand ``records`` to the child; False if it is gone (they are lost: the caller counts them)."""
        child = self._child
        if child is None or child.stdin is None:
            return False
        with self._count:  # the reader, at the child's end, counts what was sent and not answered
            try:
                write_frame(child.stdin, (records, retain_now))
            except (OSError, ValueError):  # a broken pipe; ValueError: the pipe was closed
                return False
            self._sent += len(records)
        return True

    def close(self, timeout: float) -> None:
        """EOF to the child, which writes what it has and exits; killed if it takes over ``timeout``."""
        child, self._child = self._child, None
        if child is None:
            return
        try:
            if child.stdin is not None:
                child.stdin.close()
        except OSError:
            pass
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("request log: the writer process did not finish in %.0f s and was stopped", timeout)
            child.kill()
            child.wait()
        if self._reader is not None:
            self._reader.join(timeout)

    def _read_acks(self, stdout: IO[bytes]) -> None:
        for line in stdout:
            handled, _, written = line.decode("ascii", "replace").partition(" ")
            if handled.isdigit() and written.strip().isdigit():
                self._answered += int(handled)
                self._on_ack(int(handled), int(written))
        stdout.close()
        with self._count:
            lost, self._sent = self._sent - self._answered, self._answered
        if lost > 0:
            self._on_lost(lost)
