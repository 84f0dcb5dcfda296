#!/usr/bin/env bash
# needs: root
# Starts a real Redmine 5 (Debian's package, SQLite, Thin) on loopback for integration tests.
# Idempotent: installs Redmine if missing, loads Redmine's default data (trackers, statuses,
# priorities, roles) if it is missing, enables the REST API, creates an admin API key, a public
# project "demo" (all trackers, members admin and dana, issue categories Backend and Frontend), a
# public project "paging" (only the paging tests write to it) and an issue custom field "Customer";
# starts the server if it is not running, waits until it answers. Prints KEY=VALUE lines on stdout.
# Needs root (apt).
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
# Seed version: bump it when the seed below changes, so an existing server gets the new data too.
seed_version=3
if [ "$(cat "$state/seeded" 2>/dev/null)" != "$seed_version" ]; then
  rm -f /var/lib/redmine/Gemfile.lock; bundle install --local --quiet >&2   # pick up thin
  # Trackers, statuses, priorities, roles, workflows: Debian's postinst usually loads them; a database
  # created otherwise has none, and then no issue can be created.
  if [ "$(bundle exec rails runner 'print Tracker.count' 2>/dev/null | tail -1)" = "0" ]; then
    bundle exec rake redmine:load_default_data REDMINE_LANG=en >&2
  fi
  UNIGATE_API_KEY="$key" bundle exec rails runner '
    Setting.rest_api_enabled = "1"
    admin = User.find_by_login("admin"); admin.must_change_passwd = false; admin.save!
    token = Token.find_or_create_by!(user_id: admin.id, action: "api") { |t| t.value = ENV["UNIGATE_API_KEY"] }
    token.update_column(:value, ENV["UNIGATE_API_KEY"])
    demo = Project.find_by_identifier("demo") || Project.create!(name: "Demo", identifier: "demo", is_public: true,
      tracker_ids: Tracker.pluck(:id), enabled_module_names: %w[issue_tracking])
    demo.trackers = Tracker.all if demo.trackers.empty?               # created before the default data
    demo.enabled_module_names = (demo.enabled_module_names | %w[issue_tracking]); demo.save!
    cf = IssueCustomField.find_by_name("Customer") || IssueCustomField.create!(name: "Customer",
      field_format: "string", is_for_all: true, tracker_ids: Tracker.pluck(:id))
    cf.trackers = Tracker.all if cf.trackers.empty?
    # a project member to assign issues to (users = memberships; filter by assignee)
    dev = User.find_by_login("dana") || User.new(firstname: "Dana", lastname: "Developer", mail: "dana@example.net")
    if dev.new_record?
      dev.login = "dana"; dev.password = dev.password_confirmation = "dana-password-1"; dev.save!
    end
    role = Role.find_by_name("Developer") || Role.givable.where(assignable: true).first
    unless Member.where(project_id: demo.id, user_id: dev.id).exists?
      Member.create!(project: demo, principal: dev, role_ids: [role.id])
    end
    unless Member.where(project_id: demo.id, user_id: admin.id).exists?
      Member.create!(project: demo, principal: admin, role_ids: [(Role.find_by_name("Manager") || role).id])
    end
    # a project only the paging tests write to, so its size stays what they make it
    Project.find_by_identifier("paging") || Project.create!(name: "Paging", identifier: "paging", is_public: true,
      tracker_ids: Tracker.pluck(:id), enabled_module_names: %w[issue_tracking])
    # issue categories: the connector serves them as tags
    %w[Backend Frontend].each { |name| IssueCategory.find_or_create_by!(project_id: demo.id, name: name) }
  ' >&2
  echo "$seed_version" >"$state/seeded"
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
