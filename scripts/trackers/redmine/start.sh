#!/usr/bin/env bash
# Starts a real Redmine 5 (Debian's package, SQLite, Thin) on loopback for integration tests.
# Idempotent: installs Redmine if missing, enables the REST API, creates an admin API key, a public
# project "demo" with all trackers and an issue custom field "Customer", starts the server if it is
# not running, waits until it answers. Prints KEY=VALUE lines on stdout. Needs root (apt).
# Also writes them to $UNIGATE_TRACKERS_DIR/redmine.env, where the live tests and the sandbox find them.
# Env: REDMINE_PORT (default 3100), UNIGATE_TRACKERS_DIR (default: .trackers in the repository).
set -euo pipefail
port=${REDMINE_PORT:-3100}
base="http://127.0.0.1:$port"
state=/var/lib/redmine/unigate-test
trackers=$(realpath -m "${UNIGATE_TRACKERS_DIR:-$(dirname "$0")/../../../.trackers}")
# Ruby 3.1 ships bundler 2.3.27 as its default gem, which fails on Debian's --local bundle; Debian's
# own ruby-bundler (2.3.15) works.
export BUNDLER_VERSION=2.3.15 REDMINE_INSTANCE=default RAILS_ENV=production
if ! dpkg-query -W -f='${Status}' redmine 2>/dev/null | grep -q "ok installed" || ! command -v thin >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  echo "redmine redmine/instances/default/database-type select sqlite3" | debconf-set-selections
  apt-get install -y -q redmine redmine-sqlite thin >&2 || true   # postinst fails with the default bundler
  dpkg --configure -a >&2                                          # ... and succeeds with BUNDLER_VERSION set
fi
mkdir -p "$state"
[ -s "$state/api_key" ] || head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$state/api_key"
key=$(cat "$state/api_key")
cd /usr/share/redmine
if [ ! -f "$state/seeded" ]; then
  rm -f /var/lib/redmine/Gemfile.lock; bundle install --local --quiet >&2   # pick up thin
  UNIGATE_API_KEY="$key" bundle exec rails runner '
    Setting.rest_api_enabled = "1"
    admin = User.find_by_login("admin"); admin.must_change_passwd = false; admin.save!
    token = Token.find_or_create_by!(user_id: admin.id, action: "api") { |t| t.value = ENV["UNIGATE_API_KEY"] }
    token.update_column(:value, ENV["UNIGATE_API_KEY"])
    Project.find_by_identifier("demo") || Project.create!(name: "Demo", identifier: "demo", is_public: true,
      tracker_ids: Tracker.pluck(:id), enabled_module_names: %w[issue_tracking])
    IssueCustomField.find_by_name("Customer") || IssueCustomField.create!(name: "Customer", field_format: "string",
      is_for_all: true, tracker_ids: Tracker.pluck(:id))
  ' >&2
  touch "$state/seeded"
fi
if ! curl -sf -H "X-Redmine-API-Key: $key" "$base/projects.json" >/dev/null 2>&1; then
  nohup bundle exec rails server -b 127.0.0.1 -p "$port" -e production >"$state/server.log" 2>&1 &
  echo $! >"$state/server.pid"
  for _ in $(seq 1 90); do curl -sf -H "X-Redmine-API-Key: $key" "$base/projects.json" >/dev/null 2>&1 && break; sleep 1; done
fi
curl -sf -H "X-Redmine-API-Key: $key" "$base/projects.json" >/dev/null || { echo "redmine did not answer; see $state/server.log" >&2; exit 1; }
mkdir -p "$trackers"
{
  echo "REDMINE_BASE_URL=$base"
  echo "REDMINE_API_KEY=$key"
  echo "REDMINE_PROJECT=demo"
} | tee "$trackers/redmine.env.tmp"
mv "$trackers/redmine.env.tmp" "$trackers/redmine.env"
