#!/usr/bin/env bash
# Starts the real trackers the live tests run against (`make test` calls this before pytest).
# As root (CI): Redmine and Roundup, and either failing to start fails the run.
# Otherwise: Roundup only (Redmine's recipe needs apt); if it does not start, its tests replay from
# their cassettes. UNIGATE_LIVE_TRACKERS=off starts nothing: every live test replays.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
trackers=$(realpath -m "${UNIGATE_TRACKERS_DIR:-$here/../../.trackers}")
mkdir -p "$trackers"
if [ "${UNIGATE_LIVE_TRACKERS:-auto}" = off ]; then
  echo "live trackers: off; the live tests replay their cassettes" >&2; exit 0
fi
start() {  # start <name>: quiet unless it fails
  local t0=$SECONDS
  if "$here/$1/start.sh" >/dev/null 2>"$trackers/$1-start.log"; then
    echo "live trackers: $1 up in $((SECONDS - t0)) s" >&2
  else
    echo "live trackers: $1 failed to start; last lines of $trackers/$1-start.log:" >&2
    tail -n 20 "$trackers/$1-start.log" >&2; return 1
  fi
}
if [ "$(id -u)" = 0 ]; then
  status=0
  start redmine || status=1
  start roundup || status=1
  exit $status
fi
echo "live trackers: not root, so no Redmine (its recipe installs Debian packages); its tests replay" >&2
start roundup || echo "live trackers: Roundup's tests replay from their cassettes" >&2
exit 0
