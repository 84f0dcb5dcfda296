#!/usr/bin/env bash
# Starts a real Roundup issue tracker (classic schema, SQLite) on loopback for integration tests.
# Idempotent: installs Roundup into a venv if missing, creates the tracker once, starts it if it
# is not running, waits until its REST API answers. Prints KEY=VALUE lines on stdout.
# Also writes them to $UNIGATE_TRACKERS_DIR/roundup.env, where the live tests and the sandbox find them.
# Env: UNIGATE_TRACKERS_DIR (default: .trackers in the repository), ROUNDUP_PORT (default 8917).
set -euo pipefail
trackers=$(realpath -m "${UNIGATE_TRACKERS_DIR:-$(dirname "$0")/../../../.trackers}")
dir=$trackers/roundup
port=${ROUNDUP_PORT:-8917}
base="http://localhost:$port/demo"
mkdir -p "$dir"
# The admin password: generated once and kept in the tracker dir (like Redmine's api_key), so it is
# a unique string the cassette scrubber can remove without touching the username "admin".
[ -s "$dir/admin_password" ] || (umask 077; python3 -c 'import secrets; print("rt-" + secrets.token_hex(12))' >"$dir/admin_password")
pw=$(cat "$dir/admin_password")
if [ ! -x "$dir/venv/bin/roundup-admin" ]; then
  python3 -m venv "$dir/venv" >&2
  "$dir/venv/bin/pip" install -q 'roundup>=2.4,<3' >&2
fi
if [ ! -f "$dir/home/config.ini" ]; then
  rm -rf "$dir/home"
  "$dir/venv/bin/roundup-admin" -i "$dir/home" install classic sqlite >&2
  sed -i "s#^web = .*#web = $base/#; s#^allowed_api_origins =.*#allowed_api_origins = *#; s#^backend = .*#backend = sqlite#; s%^#domain = NO DEFAULT%domain = localhost%; s%^#host = NO DEFAULT%host = localhost%" "$dir/home/config.ini"
  grep -q "^web = $base/" "$dir/home/config.ini" || sed -i "0,/^\[tracker\]/s##[tracker]\nweb = $base/#" "$dir/home/config.ini"
  echo y | "$dir/venv/bin/roundup-admin" -i "$dir/home" initialise "$pw" >&2
  echo "$pw" >"$dir/home/.unigate_admin_password"
fi
# a tracker created before the password was generated (or with another one): set it (idempotent)
if [ "$(cat "$dir/home/.unigate_admin_password" 2>/dev/null)" != "$pw" ]; then
  "$dir/venv/bin/roundup-admin" -i "$dir/home" set user1 password="$pw" >&2
  echo "$pw" >"$dir/home/.unigate_admin_password"
fi
cat > "$dir/serve.py" <<'PY'
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server
from roundup.cgi.wsgi_handler import RequestDispatcher
app = RequestDispatcher(sys.argv[1])
def mounted(environ, start_response):  # the tracker lives under /demo/
    path = environ.get("PATH_INFO", "")
    if path.startswith("/demo"):
        environ["SCRIPT_NAME"], environ["PATH_INFO"] = "/demo", path[5:] or "/"
    return app(environ, start_response)
class Quiet(WSGIRequestHandler):
    def log_message(self, *args): pass
make_server("127.0.0.1", int(sys.argv[2]), mounted, handler_class=Quiet).serve_forever()
PY
auth=(-u "admin:$pw" -H "X-Requested-With: rest" -H "Referer: $base/" -H "Origin: http://localhost:$port")
if ! curl -sf "${auth[@]}" "$base/rest/data/issue" >/dev/null 2>&1; then
  nohup "$dir/venv/bin/python" "$dir/serve.py" "$dir/home" "$port" >"$dir/server.log" 2>&1 &
  echo $! >"$dir/server.pid"
  for _ in $(seq 1 60); do curl -sf "${auth[@]}" "$base/rest/data/issue" >/dev/null 2>&1 && break; sleep 0.5; done
fi
curl -sf "${auth[@]}" "$base/rest/data/issue" >/dev/null || { echo "roundup did not answer; see $dir/server.log" >&2; exit 1; }
{
  echo "ROUNDUP_BASE_URL=$base"
  echo "ROUNDUP_REST_URL=$base/rest/data"
  echo "ROUNDUP_USER=admin"
  echo "ROUNDUP_PASSWORD=$pw"
  echo "ROUNDUP_REQUIRED_HEADERS=X-Requested-With: rest; Referer: $base/; Origin: http://localhost:$port"
} | tee "$trackers/roundup.env.tmp"
mv "$trackers/roundup.env.tmp" "$trackers/roundup.env"
