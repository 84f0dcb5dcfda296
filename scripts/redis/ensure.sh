#!/usr/bin/env bash
# Redis for the rate-limit tests (tests/support/redis_budgets.py): reachable at UNIGATE_TEST_REDIS_URL's
# host and port (default 127.0.0.1:6379). Started here when it is installed but not running (as a
# daemon that stays up: it is the machine's); an error, not a skip, when it can be neither reached nor started.
set -euo pipefail
url="${UNIGATE_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
hostport="${url#redis://}"; hostport="${hostport%%/*}"; hostport="${hostport##*@}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$host" ] && port=6379

ping() { python3 - "$host" "$port" <<'PY'
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2) as s:
        s.sendall(b"PING\r\n"); sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PY
}

ping && exit 0
if command -v redis-server >/dev/null 2>&1; then
    echo "redis: not answering on $host:$port; starting redis-server" >&2
    redis-server --bind "$host" --port "$port" --daemonize yes --save '' --appendonly no >/dev/null
    for _ in $(seq 50); do ping && exit 0; sleep 0.1; done
fi
echo "redis: nothing answers on $host:$port and redis-server could not be started (install redis-server, or set UNIGATE_TEST_REDIS_URL)" >&2
exit 1
