#!/usr/bin/env bash
# Makes sure the test PostgreSQL answers (`make test` runs this before pytest): UNIGATE_TEST_POSTGRES, default
# postgresql://postgres@127.0.0.1:5432/test, the server our machines and CI run. Answering: nothing to do.
# Installed but stopped: started (Debian's pg_ctlcluster for the cluster on that port, else `service
# postgresql start`), as root or through sudo -n. Still no answer: says so and exits 1; the vault, API and
# sync tests that run on PostgreSQL then fail naming the server (they are never skipped).
set -uo pipefail
url=${UNIGATE_TEST_POSTGRES:-postgresql://postgres@127.0.0.1:5432/test}
python=${PYTHON:-$(dirname "$0")/../../.venv/bin/python}
answers() {
  "$python" - "$url" <<'PY' 2>/dev/null
import sys, psycopg
psycopg.connect(sys.argv[1], connect_timeout=3).close()
PY
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
answers && exit 0
url_part() {  # url_part port|shown
  "$python" -c 'import sys; from sqlalchemy.engine import make_url; u = make_url(sys.argv[1])
print(u.port or 5432 if sys.argv[2] == "port" else u.render_as_string(hide_password=True))' "$url" "$1"
}
port=$(url_part port)
tried=0
if command -v pg_lsclusters >/dev/null 2>&1; then
  while read -r version cluster cport status _; do
    if [ "$cport" = "$port" ] && [ "$status" != online ]; then
      echo "postgres: starting cluster $version/$cluster on port $port" >&2
      as_root pg_ctlcluster "$version" "$cluster" start >&2 && tried=1
    fi
  done < <(pg_lsclusters --no-header 2>/dev/null)
elif command -v service >/dev/null 2>&1 && [ -e /etc/init.d/postgresql ]; then
  echo "postgres: starting the postgresql service" >&2
  as_root service postgresql start >&2 && tried=1
fi
for _ in $(seq 1 $((tried ? 30 : 1))); do
  answers && { echo "postgres: up at port $port" >&2; exit 0; }
  sleep 1
done
echo "postgres: no PostgreSQL answers at $(url_part shown) (UNIGATE_TEST_POSTGRES) and none could be started here;" \
     "the tests on PostgreSQL will fail. Install and start PostgreSQL, or point UNIGATE_TEST_POSTGRES at one." >&2
exit 1
