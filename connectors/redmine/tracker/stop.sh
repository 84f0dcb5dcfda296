#!/usr/bin/env bash
# Stops the Redmine server that start.sh started (by its pidfile).
state=/var/lib/redmine/unigate-test
trackers=$(realpath -m "${UNIGATE_TRACKERS_DIR:-$(dirname "$0")/../../../.trackers}")
[ -f "$state/server.pid" ] && kill "$(cat "$state/server.pid")" 2>/dev/null; rm -f "$state/server.pid"
rm -f "$trackers/redmine.env"
