#!/usr/bin/env bash
# Stops the trackers start-all.sh started (`make test` calls this after pytest).
here=$(cd "$(dirname "$0")" && pwd)
"$here/redmine/stop.sh" 2>/dev/null
"$here/roundup/stop.sh" 2>/dev/null
exit 0
