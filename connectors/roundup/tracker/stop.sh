#!/usr/bin/env bash
# Stops the Roundup tracker that start.sh started (by its pidfile).
trackers=$(realpath -m "${UNIGATE_TRACKERS_DIR:-$(dirname "$0")/../../../.trackers}")
dir=$trackers/roundup
[ -f "$dir/server.pid" ] && kill "$(cat "$dir/server.pid")" 2>/dev/null; rm -f "$dir/server.pid"
rm -f "$trackers/roundup.env"
