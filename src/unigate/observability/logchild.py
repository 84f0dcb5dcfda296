"""The request log's writer process itself: ``python -m unigate.observability.logchild``, started by
``unigate.observability.logwriter.WriterProcess`` (the wire is described there). It reads its
configuration, then batches of records; writes each as the gateway's own log would
(``RequestLog.write_batch``: redaction, caps, retention); answers each with one line on its stdout.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from typing import IO

from unigate.downstream.models import RawCall
from unigate.observability.logs import configure
from unigate.observability.logwriter import Wire, WriterConfig, read_frame
from unigate.observability.requestlog import RequestLog, RequestRecord


def from_wire(wire: Wire) -> RequestRecord:
    """The RequestRecord ``logwriter.to_wire`` made ``wire`` of."""
    (request_id, app_id, consumer_id, service_id, operation, method, path, status_code, started, duration_ms,
     unified_api, error_type, error_message, calls, redactor, service_name, base_url, source_ip) = wire
    return RequestRecord(
        request_id, app_id, consumer_id, service_id, operation, method, path, status_code, started, duration_ms,
        unified_api, error_type, error_message,
        [RawCall(c[0], c[1], c[2], c[3], c[4], None, *c[5:]) for c in calls], redactor,
        service_name, base_url, source_ip)


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """Write every batch read from ``stdin``; answer each on ``stdout`` ("<records handled> <rows written>")."""
    first = read_frame(stdin)
    if first is None:
        return
    config = WriterConfig(**first)
    configure(config.log_level, config.log_format)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the gateway has already migrated the database
    writer = RequestLog(config.database, retention_days=config.retention_days, max_rows=config.max_rows,
                        body_cap=config.body_cap)
    try:
        while (frame := read_frame(stdin)) is not None:
            records, retain_now = frame
            written = writer.write_batch([from_wire(r) for r in records], retain_now=retain_now)
            stdout.write(f"{len(records)} {written}\n".encode())
            stdout.flush()
    finally:
        writer.close()


def main() -> None:
    # Ctrl-C reaches the whole process group: the gateway decides when the log ends (EOF on stdin)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(sys.stdin.buffer, sys.stdout.buffer)
    os._exit(0)  # everything is written and answered; skip the interpreter's teardown


if __name__ == "__main__":
    main()
