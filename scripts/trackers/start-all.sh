#!/usr/bin/env bash
# Starts the real trackers the live tests run against (`make test` calls this before pytest): each
# connector that has one ships its recipe as connectors/<name>/tracker/{start,stop}.sh.
# As root (CI): every tracker (Redmine, Roundup), and any failing to start fails the run.
# Otherwise: the trackers whose recipe needs no root (Roundup; Redmine's installs Debian packages);
# if one does not start, its tests replay from their cassettes. UNIGATE_LIVE_TRACKERS=off starts
# nothing: every live test replays.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
connectors=$(cd "$here/../../connectors" && pwd)
trackers=$(realpath -m "${UNIGATE_TRACKERS_DIR:-$here/../../.trackers}")
mkdir -p "$trackers"
if [ "${UNIGATE_LIVE_TRACKERS:-auto}" = off ]; then
  echo "live trackers: off; the live tests replay their cassettes" >&2; exit 0
fi
start() {  # start <name>: quiet unless it fails
  local t0=$SECONDS
  if "$connectors/$1/tracker/start.sh" >/dev/null 2>"$trackers/$1-start.log"; then
    echo "live trackers: $1 up in $((SECONDS - t0)) s" >&2
  else
    echo "live trackers: $1 failed to start; last lines of $trackers/$1-start.log:" >&2
    tail -n 20 "$trackers/$1-start.log" >&2; return 1
  fi
}
needs_root() { grep -q '^# needs: root' "$connectors/$1/tracker/start.sh"; }
status=0
for recipe in "$connectors"/*/tracker/start.sh; do
  name=$(basename "$(dirname "$(dirname "$recipe")")")
  if [ "$(id -u)" = 0 ]; then
    start "$name" || status=1
  elif needs_root "$name"; then
    echo "live trackers: not root, so no $name (its recipe installs Debian packages); its tests replay" >&2
  else
    start "$name" || echo "live trackers: $name's tests replay from their cassettes" >&2
  fi
done
exit $status
